package hostednumbers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/wire"
)

// path names a field of the create body lazily: the string is only built
// when there is a problem to report, so validating a large valid order
// allocates almost nothing. item and number are -1 where they do not apply.
type path struct {
	item, number int
	field        string
}

func topLevel(field string) path { return path{item: -1, number: -1, field: field} }

func (p path) withField(f string) path { p.field = f; return p }

func (p path) String() string {
	var b strings.Builder
	if p.item >= 0 {
		b.WriteString("request_items[")
		b.WriteString(strconv.Itoa(p.item))
		b.WriteByte(']')
		if p.number >= 0 {
			b.WriteString(".numbers[")
			b.WriteString(strconv.Itoa(p.number))
			b.WriteByte(']')
		}
	}
	if p.field != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.field)
	}
	return b.String()
}

type validator struct {
	problems []FieldError
}

func (v *validator) add(p path, msg string) {
	v.problems = append(v.problems, FieldError{Field: p.String(), Message: msg})
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *validator) friendlyName(p path, s string) {
	if n := utf8.RuneCountInString(s); n > 128 {
		v.add(p, fmt.Sprintf("is %d characters long; at most 128 are allowed", n))
	} else if !utf8.ValidString(s) {
		v.add(p, "is not valid UTF-8")
	}
}

func (v *validator) email(p path, s string) {
	if s != "" && !format.Email(s) {
		v.add(p, fmt.Sprintf("%s is not an e-mail address", quoteShort(s)))
	}
}

func (v *validator) phone(p path, s string) {
	if !format.E164(s) {
		v.add(p, fmt.Sprintf("%s is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", quoteShort(s)))
	}
}

func (v *validator) sid(p path, s, prefix string) {
	if s != "" && !format.SID(s, prefix) {
		v.add(p, fmt.Sprintf("%s is not a SID (%s and 32 hex digits)", quoteShort(s), prefix))
	}
}

func (v *validator) url(p path, s string) {
	if s == "" || wire.PlainHTTPURL(s) { // what url.Parse accepts, without its allocation
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.add(p, fmt.Sprintf("%s is not an absolute http or https URL", quoteShort(s)))
	}
}

func (v *validator) method(p path, s string) {
	if s != "" && s != http.MethodGet && s != http.MethodPost {
		v.add(p, fmt.Sprintf("%s is not GET or POST", quoteShort(s)))
	}
}

// checkContext is the one nil-context rule of every entry point: a nil
// context.Context is bad input, reported as a *ValidationError naming
// "ctx" (so it matches ErrInvalidInput) before anything is sent, never a
// panic.
func checkContext(ctx context.Context) error {
	if ctx == nil {
		return &ValidationError{Problems: []FieldError{{Field: "ctx", Message: "is nil; pass context.Background() or a request's context"}}}
	}
	return nil
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

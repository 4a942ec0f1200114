package hostednumbers

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors to branch on with errors.Is. An *APIError matches the one
// its HTTP status belongs to.
var (
	// ErrNotFound: the API answered 404: the SID the call names (a bulk
	// hosting request, a hosted number order, an authorisation document, a
	// bulk eligibility check) does not exist in the client's account, or
	// no longer does.
	ErrNotFound = errors.New("hostednumbers: not found")
	// ErrUnauthorized: the API answered 401 or 403 (bad or insufficient
	// credentials).
	ErrUnauthorized = errors.New("hostednumbers: unauthorized")
	// ErrRateLimited: the API answered 429, after every retry the policy
	// allowed.
	ErrRateLimited = errors.New("hostednumbers: rate limited")
	// ErrServer: the API (or a proxy in front of it) answered 5xx.
	ErrServer = errors.New("hostednumbers: server error")
	// ErrInvalidInput: a *ValidationError; nothing was sent.
	ErrInvalidInput = errors.New("hostednumbers: invalid input")
	// ErrResponseTooLarge: a response body exceeded the client's size cap.
	ErrResponseTooLarge = errors.New("hostednumbers: response body too large")

	// ErrNotApplied matches an error from a call that changes something
	// (a create, an update, a cancel, a delete) when there is positive
	// evidence that Twilio has nothing from it: nothing left the process
	// (invalid input, configuration or call options, a nil context, a
	// context done before the attempt reached the transport, a typed
	// failure to connect, resolve the name or verify the certificate
	// before any of the request was written or its body read, or, through
	// net/http's own *http.Transport, the SDK's or one given with
	// WithHTTPClient, a dial, TLS handshake or proxy CONNECT that failed or
	// stalled before the transport had a connection for the request,
	// whatever the error), or Twilio refused it (429 or any other 4xx).
	// Safe to send again once the cause is fixed.
	ErrNotApplied = errors.New("hostednumbers: not applied")
	// ErrNotCreated is ErrNotApplied, the same value, under the name it
	// had when only creates carried outcomes; errors.Is matches either.
	//
	// Deprecated: use ErrNotApplied, which reads right on an update, a
	// cancel and a delete too.
	ErrNotCreated = ErrNotApplied
	// ErrOutcomeUnknown matches an error from a call that changes something
	// whenever ErrNotApplied's evidence is missing: the request may have
	// been processed. That covers a connection that failed after a send
	// began, any HTTP/2 stream reset or GOAWAY (REFUSED_STREAM included:
	// its text is not evidence, a server can write it), the attempt timing
	// out or the context ending once the transport had a connection for
	// the request, a transport that sent without reporting through
	// net/http's trace hooks, an untyped failure to connect through a
	// transport other than *http.Transport (a wrapper around one: the SDK
	// cannot see what else it does), a transport that broke the
	// RoundTripper contract, a 5xx, and a 2xx whose body could not be
	// used. For a create, find out what Twilio has
	// (BulkHostedNumberOrders.Reconcile) before sending the same numbers
	// again.
	ErrOutcomeUnknown = errors.New("hostednumbers: outcome unknown")
)

// outcomeError is an error of a call that changes something, with the
// answer to "may it have happened?": ErrNotApplied or ErrOutcomeUnknown.
// errors.Is and errors.As see both the cause and the outcome.
type outcomeError struct {
	err     error
	outcome error
}

func (e *outcomeError) Error() string {
	var decodeErr *DecodeError
	if errors.Is(e.outcome, ErrOutcomeUnknown) && !errors.As(e.err, &decodeErr) {
		return e.err.Error() + " (outcome unknown: it may have been processed; check before sending it again)"
	}
	return e.err.Error()
}

func (e *outcomeError) Unwrap() []error { return []error{e.err, e.outcome} }

// withOutcome marks err with its outcome, once.
func withOutcome(err, outcome error) error {
	if err == nil || errors.Is(err, ErrNotApplied) || errors.Is(err, ErrOutcomeUnknown) {
		return err
	}
	return &outcomeError{err: err, outcome: outcome}
}

// APIError is a non-2xx answer from the API, with Twilio's error document
// decoded when there was one.
type APIError struct {
	// HTTPStatus is the status code of the HTTP response.
	HTTPStatus int
	// Code is Twilio's error code (20404, 20429, …), 0 if the body had none.
	Code int
	// Message is Twilio's error message.
	Message string
	// MoreInfo links to Twilio's page for Code.
	MoreInfo string
	// Status is the status the error document itself states.
	Status int
	// Details holds the error document's details object, if any.
	Details map[string]any
	// RequestID is the response's Twilio-Request-Id header; quote it to
	// Twilio support.
	RequestID string
	// RetryAfter is the wait the server asked for with Retry-After (on 429
	// and 503), zero if it asked for none.
	RetryAfter time.Duration
	// Body is a short, whitespace-folded excerpt of a body that was not a
	// Twilio error document (an HTML page from a proxy, say), redacted
	// before it was cut.
	Body string
	// ServerDate is the response's Date header: the server's clock when it
	// answered, in whole seconds. Zero if absent or unreadable.
	ServerDate time.Time
}

// Error reads like "429 Too Many Requests (code 20429): Too Many Requests
// (Twilio-Request-Id RQ…)".
func (e *APIError) Error() string {
	if e == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	if text := http.StatusText(e.HTTPStatus); text != "" {
		b.WriteByte(' ')
		b.WriteString(text)
	}
	if e.Code != 0 {
		b.WriteString(" (code ")
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteByte(')')
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	case e.Body != "":
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	if e.RequestID != "" {
		b.WriteString(" (Twilio-Request-Id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and the other sentinels work.
func (e *APIError) Is(target error) bool {
	if e == nil {
		return false
	}
	switch target {
	case ErrNotFound:
		return e.HTTPStatus == http.StatusNotFound
	case ErrUnauthorized:
		return e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == http.StatusForbidden
	case ErrRateLimited:
		return e.HTTPStatus == http.StatusTooManyRequests
	case ErrServer:
		return e.HTTPStatus >= 500
	}
	return false
}

// DecodeError is a successful HTTP status whose body could not be used: it
// was not the JSON the API documents, was cut short or too large, or named
// no valid bulk hosting SID. For a create, Accepted reports true: Twilio
// queued the numbers, so check the account (RequestID helps Twilio support)
// before sending the same numbers again.
type DecodeError struct {
	// HTTPStatus is the (2xx) status of the response.
	HTTPStatus int
	// RequestID is the response's Twilio-Request-Id header.
	RequestID string
	// Err says what was wrong with the body.
	Err error
}

// Accepted reports whether the server accepted the request, which it did
// whenever the status was 2xx.
func (e *DecodeError) Accepted() bool {
	return e != nil && e.HTTPStatus >= 200 && e.HTTPStatus < 300
}

// Error says the request was accepted (or succeeded), with its status and
// request ID, and why the body could not be used.
func (e *DecodeError) Error() string {
	if e == nil {
		return "<nil>"
	}
	var b strings.Builder
	if e.HTTPStatus == http.StatusAccepted {
		b.WriteString("request was accepted (")
	} else {
		b.WriteString("request succeeded (")
	}
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	if text := http.StatusText(e.HTTPStatus); text != "" {
		b.WriteByte(' ')
		b.WriteString(text)
	}
	if e.RequestID != "" {
		b.WriteString(", Twilio-Request-Id ")
		b.WriteString(e.RequestID)
	}
	b.WriteString(") but its response could not be decoded")
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.HTTPStatus == http.StatusAccepted {
		b.WriteString("; the order may exist: check before submitting the same numbers again")
	}
	return b.String()
}

// Unwrap returns the underlying decoding problem.
func (e *DecodeError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// FieldError is one problem with one input field.
type FieldError struct {
	// Field is the path of the field, such as
	// request_items[2].numbers[7].phone_number, or the name of a setting
	// or environment variable.
	Field string
	// Message says what is wrong with it.
	Message string
}

// String reads "field: message".
func (f FieldError) String() string { return f.Field + ": " + f.Message }

// ValidationError lists every problem found with an input before anything
// was sent. errors.Is(err, ErrInvalidInput) matches it.
type ValidationError struct {
	// Problems are the problems found, in the order of the fields.
	Problems []FieldError
}

// Error lists every problem, "field: message", separated by semicolons.
func (e *ValidationError) Error() string {
	if e == nil {
		return "<nil>"
	}
	if len(e.Problems) == 0 {
		return "invalid input"
	}
	var b strings.Builder
	if len(e.Problems) > 1 {
		b.WriteString(strconv.Itoa(len(e.Problems)))
		b.WriteString(" problems: ")
	}
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidInput) match.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidInput }

// Field returns the problem reported for the field with this path, if any.
func (e *ValidationError) Field(path string) (FieldError, bool) {
	if e == nil {
		return FieldError{}, false
	}
	for _, p := range e.Problems {
		if p.Field == path {
			return p, true
		}
	}
	return FieldError{}, false
}

// bodyExcerpt folds the white space of a non-JSON error body, removes
// echoed credentials, and only then cuts it to a readable length, at a
// character boundary.
func bodyExcerpt(body []byte, redact func(string) string) string {
	const max = 200
	if len(body) > 8*max {
		body = body[:8*max]
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if redact != nil {
		s = redact(s)
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// redactPiece is the shortest piece of a secret the redactor removes: no
// run of this many characters of a secret survives in any text it cleans,
// even when the text holds only a cut piece of the secret.
const redactPiece = 8

// redactor removes credentials that a server echoed (some proxies' error
// pages print the request, Authorization header included) from text about
// to reach an error or a log record: the secret itself and the
// basic-auth base64 forms, and any piece of them of redactPiece
// characters or more, so that cutting a text (an excerpt, a decoder
// quoting a value) before or after redacting cannot leave a usable part.
type redactor struct {
	whole  *strings.Replacer   // every form, whole
	forms  []string            // the forms whole replaces, to look for first
	pieces map[string]struct{} // every distinctive redactPiece-long piece of every form
}

// newRedactor returns a redactor for the secret (an auth token or API key
// secret) and the user name it is sent with. A secret shorter than
// redactPiece is removed only inside its base64 forms: alone, it would
// mangle ordinary words. For the same reason a piece made of fewer than
// minDistinct different characters ("00000000") is removed only as part
// of a whole form: such runs occur in ordinary text (request IDs), and a
// random secret's pieces are hardly ever that plain.
func newRedactor(user, secret string) *redactor {
	pair := []byte(user + ":" + secret)
	forms := []string{
		base64.StdEncoding.EncodeToString(pair),
		base64.URLEncoding.EncodeToString(pair),
		secret,
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)),
	}
	r := &redactor{pieces: map[string]struct{}{}}
	var pairs []string
	for _, f := range forms { // padded: its pieces include the unpadded form's
		if len(f) < redactPiece {
			continue
		}
		pairs = append(pairs, f, "[redacted]")
		r.forms = append(r.forms, f)
		for i := 0; i+redactPiece <= len(f); i++ {
			if piece := f[i : i+redactPiece]; distinct(piece) >= minDistinct {
				r.pieces[piece] = struct{}{}
			}
		}
	}
	r.whole = strings.NewReplacer(pairs...)
	return r
}

// minDistinct is how many different characters a piece of a secret needs
// to be removed on its own.
const minDistinct = 4

func distinct(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

// redact replaces every run of text covered by pieces of a secret with
// "[redacted]".
func (r *redactor) redact(s string) string {
	if r == nil || len(s) < redactPiece {
		return s
	}
	// A Replacer of long strings allocates its result even when it
	// replaces nothing, which is nearly always: run it only when a form
	// is there to replace.
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = r.whole.Replace(s)
			break
		}
	}
	var b strings.Builder
	written, runEnd, inRun := 0, 0, false
	for i := 0; i+redactPiece <= len(s); i++ {
		if _, ok := r.pieces[s[i:i+redactPiece]]; !ok {
			continue
		}
		if !inRun || i > runEnd {
			if !inRun {
				b.Grow(len(s))
			}
			b.WriteString(s[written:i])
			b.WriteString("[redacted]")
			inRun = true
		}
		runEnd = i + redactPiece
		written = runEnd
	}
	if !inRun {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

// maxKeptValue is the longest header value (a Twilio-Request-Id) kept in a
// Response, an error or a log record.
const maxKeptValue = 128

// keptValue is a header value as the SDK keeps it: redacted, then cut.
func keptValue(redact func(string) string, v string) string {
	if redact != nil {
		v = redact(v)
	}
	if len(v) > maxKeptValue {
		cut := maxKeptValue
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	return v
}

// redactedError is an error whose text held a credential: only the
// redacted text survives, with the sentinels callers branch on. The
// original chain is dropped, since unwrapping it would reach the secret.
type redactedError struct {
	msg       string
	sentinels []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.sentinels }

// keptSentinels are the errors a redacted error still matches when its
// original did.
var keptSentinels = []error{
	context.Canceled, context.DeadlineExceeded, ErrAttemptTimeout,
	ErrResponseTooLarge, io.ErrUnexpectedEOF, io.EOF,
}

// redactErr returns err unchanged when its text holds no credential, else
// a redactedError.
func redactErr(redact func(string) string, err error) error {
	if err == nil || redact == nil {
		return err
	}
	msg := err.Error()
	clean := redact(msg)
	if clean == msg {
		return err
	}
	e := &redactedError{msg: clean}
	for _, s := range keptSentinels {
		if errors.Is(err, s) {
			e.sentinels = append(e.sentinels, s)
		}
	}
	return e
}

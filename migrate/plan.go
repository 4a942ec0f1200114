package migrate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"

	"github.com/hostednumbers/hostednumbers-go"
)

// MaxBatchSize is the most numbers one bulk hosting request may hold:
// Twilio's limit of 1000 number requests.
const MaxBatchSize = 1000

// maxPlanProblems is how many problems a PlanError lists; the others
// are counted in PlanError.More.
const maxPlanProblems = 1000

// PlanProblem is one thing wrong with a plan, and where.
type PlanProblem struct {
	// Index is the number's position in the input, from 0; Batch and
	// Position (from 1) are where the plan puts it; Line is its line in
	// the input (NumberState.Line), 0 if not known. Index is -1 for a
	// problem that is not about one number (the contact, the batch size,
	// an empty plan).
	Index, Batch, Position, Line int
	// PhoneNumber is the number the problem is about, if any.
	PhoneNumber string
	// Field names what is wrong: "phone_number", "contact.email",
	// "batch_size", "numbers"…
	Field string
	// Message says what is wrong with it.
	Message string
}

func (p PlanProblem) String() string {
	var b strings.Builder
	switch {
	case p.Index < 0:
		b.WriteString(p.Field)
	default:
		fmt.Fprintf(&b, "number %d", p.Index+1)
		if p.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", p.Line)
		}
		if p.Field != "" && p.Field != "phone_number" {
			b.WriteString(" " + p.Field)
		}
	}
	b.WriteString(": " + p.Message)
	return b.String()
}

// PlanError is a plan the engine refuses before it stores anything: each
// problem with its place. Twilio would refuse such a create, or host a
// number twice.
type PlanError struct {
	Problems []PlanProblem
	// More counts the problems left out of Problems.
	More int
}

func (e *PlanError) Error() string {
	n := len(e.Problems) + e.More
	var b strings.Builder
	fmt.Fprintf(&b, "migrate: %d problem%s with the plan; nothing was recorded", n, plural(n))
	for i, p := range e.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", n-5)
			break
		}
		b.WriteString("; " + p.String())
	}
	return b.String()
}

type planChecker struct {
	problems []PlanProblem
	more     int
}

func (c *planChecker) add(p PlanProblem) {
	if len(c.problems) >= maxPlanProblems {
		c.more++
		return
	}
	c.problems = append(c.problems, p)
}

func (c *planChecker) err() error {
	if len(c.problems) == 0 && c.more == 0 {
		return nil
	}
	return &PlanError{Problems: c.problems, More: c.more}
}

// Validate checks what every request of the migration needs: the
// contact's email and address SID (and its other settings, if given)
// and a batch size from 1 to MaxBatchSize. It returns a *PlanError, or
// nil.
func (m *Meta) Validate() error {
	c := &planChecker{}
	c.meta(m)
	return c.err()
}

func (c *planChecker) meta(m *Meta) {
	if m.BatchSize < 1 || m.BatchSize > MaxBatchSize {
		c.add(PlanProblem{Index: -1, Field: "batch_size", Message: fmt.Sprintf("is %d; it must be from 1 to %d", m.BatchSize, MaxBatchSize)})
	}
	if m.Contact.Email == "" {
		c.add(PlanProblem{Index: -1, Field: "contact.email", Message: "is required: every request names the owner's e-mail address"})
	}
	if m.Contact.AddressSID == "" {
		c.add(PlanProblem{Index: -1, Field: "contact.address_sid", Message: "is required: every request names the address (AD…) of the numbers"})
	}
	// The SDK's own check of a create, with a number that is valid.
	err := m.Contact.Params([]hostednumbers.Number{{PhoneNumber: "+15555550100"}}).Validate()
	var ve *hostednumbers.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			c.add(PlanProblem{Index: -1, Field: "contact." + contactField(p.Field), Message: p.Message})
		}
	}
}

// contactField names a create's field after Contact's.
func contactField(field string) string {
	field = strings.TrimPrefix(field, "request_items[0].")
	switch field {
	case "contact_phone_number":
		return "contact_phone"
	}
	return field
}

// planned cuts numbers into batches of size, checking the whole plan as
// it goes: every number in E.164, none twice, size from 1 to
// MaxBatchSize, at least one number (unless it is an addition to a
// migration) and, when contact is given, every create valid as the SDK
// checks it. The batches are yielded as they
// fill; if anything is wrong, the sequence ends with a *PlanError (a
// Store's Start then records nothing).
// place is where a number first appeared in a plan, in 8 bytes: its
// position in the input plus one in the high 32 bits, its line in the low
// 32; zero in either half when it does not fit (or there is no line).
type place uint64

func newPlace(index, line int) place {
	var p place
	if index >= 0 && index < math.MaxUint32 {
		p = place(index+1) << 32
	}
	if line > 0 && line <= math.MaxUint32 {
		p |= place(line)
	}
	return p
}

// index returns the position, from 0, if it was kept.
func (p place) index() (int, bool) {
	i := int(p >> 32)
	return i - 1, i > 0
}

// line returns the line, if there was one and it was kept.
func (p place) line() (int, bool) {
	l := int(p & math.MaxUint32)
	return l, l > 0
}

func planned(numbers iter.Seq2[NumberState, error], size int, contact *Contact, addition bool) iter.Seq2[[]NumberState, error] {
	return func(yield func([]NumberState, error) bool) {
		c := &planChecker{}
		if size < 1 || size > MaxBatchSize {
			c.add(PlanProblem{Index: -1, Field: "batch_size", Message: fmt.Sprintf("is %d; it must be from 1 to %d", size, MaxBatchSize)})
			yield(nil, c.err())
			return
		}
		// seen holds the place of every number so far, by numberKey: a
		// million numbers take about 36 MiB in it (53 MiB with two ints
		// a place), the most a plan holds.
		seen := make(map[uint64]place)
		batch := make([]NumberState, 0, size)
		index, batches := 0, 0
		flush := func() bool {
			if len(batch) == 0 {
				return true
			}
			batches++
			if contact != nil {
				c.batch(contact, batch, batches, index-len(batch))
			}
			if len(c.problems) > 0 || c.more > 0 {
				batch = batch[:0] // nothing will be recorded: keep checking
				return true
			}
			ok := yield(batch, nil)
			batch = make([]NumberState, 0, size)
			return ok
		}
		for n, err := range numbers {
			if err != nil {
				yield(nil, err)
				return
			}
			p := n.PhoneNumber()
			at := PlanProblem{Index: index, Batch: batches + 1, Position: len(batch) + 1, Line: n.Line, PhoneNumber: p, Field: "phone_number"}
			switch key := numberKey(p); {
			case !validE164(p):
				at.Message = fmt.Sprintf("%q is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", shortText(p))
				c.add(at)
			default:
				if first, dup := seen[key]; dup {
					at.Message = p + " is listed twice"
					if i, ok := first.index(); ok {
						at.Message += fmt.Sprintf("; first as number %d", i+1)
					}
					if l, ok := first.line(); ok {
						at.Message += fmt.Sprintf(" (line %d)", l)
					}
					c.add(at)
				} else {
					seen[key] = newPlace(index, n.Line)
				}
			}
			batch = append(batch, n)
			index++
			if len(batch) == size && !flush() {
				return
			}
		}
		if !flush() {
			return
		}
		if index == 0 && !addition {
			c.add(PlanProblem{Index: -1, Field: "numbers", Message: "the plan has no number"})
		}
		if err := c.err(); err != nil {
			yield(nil, err)
		}
	}
}

// batch checks one batch's create as the SDK would before sending it.
func (c *planChecker) batch(contact *Contact, batch []NumberState, index, first int) {
	settings := make([]hostednumbers.Number, len(batch))
	for i := range batch {
		settings[i] = batch[i].Number
	}
	err := contact.Params(settings).Validate()
	var ve *hostednumbers.ValidationError
	if !errors.As(err, &ve) {
		return
	}
	for _, p := range ve.Problems {
		j, field, ok := numberField(p.Field)
		if !ok {
			if strings.HasPrefix(p.Field, "request_items[0].") || !strings.Contains(p.Field, "[") {
				continue // the contact's: Meta.Validate reports those once
			}
			c.add(PlanProblem{Index: -1, Batch: index, Field: p.Field, Message: p.Message})
			continue
		}
		if field == "phone_number" {
			continue // checked above, with positions in the whole plan
		}
		n := &batch[j]
		c.add(PlanProblem{Index: first + j, Batch: index, Position: j + 1, Line: n.Line, PhoneNumber: n.PhoneNumber(), Field: field, Message: p.Message})
	}
}

// numberField reads "request_items[0].numbers[J].FIELD".
func numberField(field string) (j int, rest string, ok bool) {
	const prefix = "request_items[0].numbers["
	if !strings.HasPrefix(field, prefix) {
		return 0, "", false
	}
	tail := field[len(prefix):]
	end := strings.IndexByte(tail, ']')
	if end < 0 {
		return 0, "", false
	}
	j, err := strconv.Atoi(tail[:end])
	if err != nil {
		return 0, "", false
	}
	return j, strings.TrimPrefix(tail[end+1:], "."), true
}

// validE164 is the SDK's E.164 rule: + and 1 to 15 digits, the first not 0.
func validE164(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func shortText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Start validates a migration's plan, all of it, and records it in store:
// meta (see Meta.Validate), then numbers cut into batches of
// meta.BatchSize (see Batches), each create checked as the SDK checks it
// before sending. Anything wrong is a *PlanError listing each problem
// with its place, and nothing is recorded. A store that already holds a
// migration answers ErrExists.
func Start(ctx context.Context, store Store, meta Meta, numbers iter.Seq2[NumberState, error]) error {
	c := &planChecker{}
	c.meta(&meta)
	if err := c.err(); err != nil {
		return err
	}
	return store.Start(ctx, meta, planned(numbers, meta.BatchSize, &meta.Contact, false))
}

package preflight

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/hostednumbers/hostednumbers-go"
)

// Checker is a migrate.Checker over Run: before the engine first sends a
// batch, it checks the batch's numbers with Twilio's bulk eligibility
// check (in chunks of at most hostednumbers.MaxEligibilityNumbers),
// recording each check in Store, and refuses every number that is not
// ELIGIBLE, with Twilio's reason and next step (RefusalReason). A number
// whose result is recorded is not checked again; a check whose request ID
// is recorded is waited for, never created again.
//
// Its fields are read at each Check; set them before the first. It is
// safe for concurrent use, and a migrate.ConcurrentChecker: the engine
// checks several upcoming batches at once, each Check a Run over the
// batch's numbers. Runs of different numbers share a Store at once (each
// waits only for the pending checks that hold its own numbers), so Store
// must be safe for concurrent use, as every Store of this module is
// (MemoryStore, FileStore, migrate/logstore, migrate/pgstore).
type Checker struct {
	API   API
	Store Store
	// Options are Run's. When Name is set, each check's FriendlyName is
	// Name(batch) instead of Options.FriendlyName.
	Options Options
	Name    func(batch int) string

	mu     sync.Mutex
	forget map[string]bool
}

// CheckError is the failure of a Checker's check: the check could not be
// created or finished, so nothing of the batch is to be sent; checking
// again resumes it.
type CheckError struct{ Err error }

func (e *CheckError) Error() string { return "eligibility check: " + e.Err.Error() }

func (e *CheckError) Unwrap() error { return e.Err }

// Forget makes the recorded results of phoneNumbers not count: the next
// Check of each checks it afresh (its cause may be fixed), and its new
// result counts from then on.
func (c *Checker) Forget(phoneNumbers ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forget == nil {
		c.forget = make(map[string]bool, len(phoneNumbers))
	}
	for _, p := range phoneNumbers {
		c.forget[p] = true
	}
}

// CheckConcurrently implements migrate.ConcurrentChecker: Check may be
// called for several batches at once (their numbers differ: a number is
// in one batch), provided Store is safe for concurrent use.
func (c *Checker) CheckConcurrently() bool { return true }

// Check implements migrate.Checker: it returns each refused number with
// why. An error (a *CheckError) refuses the whole batch.
func (c *Checker) Check(ctx context.Context, batch int, numbers []hostednumbers.Number) (map[string]string, error) {
	in := make([]Number, len(numbers))
	for i, n := range numbers {
		in[i] = Number{PhoneNumber: n.PhoneNumber}
	}
	opts := c.Options
	if c.Name != nil {
		opts.FriendlyName = c.Name(batch)
	}
	store := c.Store
	c.mu.Lock()
	if len(c.forget) > 0 {
		forget := make(map[string]bool, len(in))
		for _, n := range in {
			if c.forget[n.PhoneNumber] {
				forget[n.PhoneNumber] = true
			}
		}
		if len(forget) > 0 {
			store = &forgetfulStore{Store: c.Store, forget: forget}
		}
	}
	c.mu.Unlock()
	res, err := Run(ctx, c.API, store, in, opts)
	if err != nil {
		return nil, &CheckError{Err: err}
	}
	refused := make(map[string]string)
	for _, r := range res.Excluded() {
		refused[r.PhoneNumber] = RefusalReason(r)
	}
	c.mu.Lock()
	for _, n := range in {
		delete(c.forget, n.PhoneNumber) // checked afresh: its new result counts from now on
	}
	c.mu.Unlock()
	return refused, nil
}

// RefusalReason says why a number whose result is not ELIGIBLE is not
// submitted: Twilio's status and sub-status, reason and next step, and the
// check that said so.
func RefusalReason(r NumberResult) string {
	var b strings.Builder
	switch r.Status {
	case StatusIneligible:
		b.WriteString("not eligible")
		if r.SubStatus != "" {
			fmt.Fprintf(&b, " (%s)", r.SubStatus)
		}
		if r.Reason != "" {
			fmt.Fprintf(&b, ": %s", r.Reason)
		}
	case StatusUnknown:
		status := string(r.RawStatus)
		if status == "" {
			status = "none"
		}
		fmt.Fprintf(&b, "eligibility unknown: the check answered status %q", status)
		if r.SubStatus != "" {
			fmt.Fprintf(&b, " (%s)", r.SubStatus)
		}
		if r.Reason != "" {
			fmt.Fprintf(&b, ": %s", r.Reason)
		}
		b.WriteString("; not submitted on a guess")
	default:
		b.WriteString("eligibility not checked: the eligibility check gave no result for it; not submitted blind")
	}
	if r.NextStep != "" {
		fmt.Fprintf(&b, "; next step: %s", r.NextStep)
	}
	if r.RequestID != "" {
		fmt.Fprintf(&b, " (eligibility check %s)", r.RequestID)
	}
	return b.String()
}

// forgetfulStore is a Store that does not return the recorded results of
// the numbers in forget, so that Run checks them again (and records their
// new results).
type forgetfulStore struct {
	Store
	forget map[string]bool
}

// Results implements Store.
func (s *forgetfulStore) Results(ctx context.Context, phoneNumbers []string) (map[string]NumberResult, error) {
	out, err := s.Store.Results(ctx, phoneNumbers)
	if err != nil {
		return nil, err
	}
	for p := range out {
		if s.forget[p] {
			delete(out, p)
		}
	}
	return out, nil
}

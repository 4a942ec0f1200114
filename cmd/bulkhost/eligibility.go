package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// eligibilitySuffix is added to the journal's path to name the file of
// its eligibility checks.
const eligibilitySuffix = ".eligibility"

// stepAfterEligibilityRecorded is the step a crash test may stop at right
// after a bulk eligibility check's request ID (EC…) was recorded, before
// anything waits for it.
const stepAfterEligibilityRecorded = "after-eligibility-recorded"

// eligibilityChecker is bulkhost's migrate.Checker: before a batch is
// first sent, it checks the batch's numbers with Twilio's bulk eligibility
// check (preflight.Run, in chunks of at most
// hostednumbers.MaxEligibilityNumbers), recording each check in store, and
// refuses every number that is not ELIGIBLE, with Twilio's reason and
// next step. A number whose result is recorded is not checked again; a
// check whose request ID is recorded is waited for, never created again.
type eligibilityChecker struct {
	api   preflight.API
	store preflight.Store
	opts  preflight.Options
	// forget are the numbers whose recorded result does not count: the
	// ones -resubmit check-failed marked to be sent again, which are
	// checked afresh.
	forget map[string]bool
}

var _ migrate.Checker = (*eligibilityChecker)(nil)

// Check implements migrate.Checker. An error (the check could not be
// created or finished) refuses the whole batch: nothing of it is sent,
// and the next run resumes the check.
func (e *eligibilityChecker) Check(ctx context.Context, batch int, numbers []hostednumbers.Number) (map[string]string, error) {
	in := make([]preflight.Number, len(numbers))
	for i, n := range numbers {
		in[i] = preflight.Number{PhoneNumber: n.PhoneNumber}
	}
	opts := e.opts
	opts.FriendlyName = fmt.Sprintf("bulkhost batch %d", batch)
	store := e.store
	if len(e.forget) > 0 {
		store = &forgetfulStore{Store: e.store, forget: e.forget}
	}
	res, err := preflight.Run(ctx, e.api, store, in, opts)
	if err != nil {
		return nil, &eligibilityError{err: err}
	}
	refused := make(map[string]string)
	for _, r := range res.Excluded() {
		refused[r.PhoneNumber] = refusalReason(r)
	}
	for _, n := range in {
		delete(e.forget, n.PhoneNumber) // checked afresh: its new result counts from now on
	}
	return refused, nil
}

// eligibilityError is the failure of an eligibility check: nothing of
// the batch was sent.
type eligibilityError struct{ err error }

func (e *eligibilityError) Error() string {
	return "eligibility check: " + e.err.Error() + "; nothing of the batch was sent: run again to finish the check, or pass -skip-eligibility if the numbers were checked already"
}

func (e *eligibilityError) Unwrap() error { return e.err }

// refusalReason says why a number the check did not call eligible is not
// submitted: Twilio's status and sub-status, reason and next step.
func refusalReason(r preflight.NumberResult) string {
	var b strings.Builder
	switch r.Status {
	case preflight.StatusIneligible:
		b.WriteString("not eligible")
		if r.SubStatus != "" {
			fmt.Fprintf(&b, " (%s)", r.SubStatus)
		}
		if r.Reason != "" {
			fmt.Fprintf(&b, ": %s", r.Reason)
		}
	case preflight.StatusUnknown:
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

// forgetfulStore is a preflight.Store that does not return the recorded
// results of the numbers in forget, so that preflight.Run checks them
// again (and records their new results).
type forgetfulStore struct {
	preflight.Store
	forget map[string]bool
}

// Results implements preflight.Store.
func (s *forgetfulStore) Results(ctx context.Context, phoneNumbers []string) (map[string]preflight.NumberResult, error) {
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

// openEligibility opens the file of the journal's eligibility checks,
// next to the journal (whose lock the caller holds, which covers it), and
// returns the checker over it.
func (m *migration) openEligibility() (*preflight.FileStore, *eligibilityChecker, error) {
	path := m.path + eligibilitySuffix
	st, err := preflight.OpenFileStore(path)
	if err != nil {
		return nil, nil, fmt.Errorf("the eligibility checks' file %s: %w", path, err)
	}
	c := m.c
	checker := &eligibilityChecker{
		api:   m.client.Eligibility,
		store: st,
		opts: preflight.Options{
			Wait: &hostednumbers.EligibilityWaitOptions{PollInterval: m.cfg.poll, MaxPollInterval: m.cfg.maxPoll},
			OnEvent: func(ev preflight.Event) {
				m.eligibilityEvent(ev)
				if ev.Kind == preflight.EventCreated {
					c.checkpoint(stepAfterEligibilityRecorded)
				}
			},
		},
	}
	return st, checker, nil
}

// eligibilityEvent tells of a step of the eligibility check.
func (m *migration) eligibilityEvent(ev preflight.Event) {
	w := m.c.stderr
	if m.track != nil {
		m.track.p.clear()
		defer m.track.tick(context.Background(), false)
	}
	routine := ev.Kind == preflight.EventCreated || ev.Kind == preflight.EventFinished && ev.Ineligible+ev.Unknown+ev.NotAnswered == 0
	if routine && !m.routine {
		return // counted by the progress line
	}
	switch ev.Kind {
	case preflight.EventResuming:
		fmt.Fprintf(w, "bulkhost: eligibility check %s of %d number%s was recorded by an earlier run: waiting for it, not checking again.\n", ev.RequestID, ev.Numbers, plural(ev.Numbers))
	case preflight.EventCreated:
		fmt.Fprintf(w, "bulkhost: checking the eligibility of %d number%s before submitting them: eligibility check %s.\n", ev.Numbers, plural(ev.Numbers), ev.RequestID)
	case preflight.EventCreateFailed:
		what := "not retried"
		if ev.Retry {
			what = "trying again"
		}
		fmt.Fprintf(w, "bulkhost: creating the eligibility check of %d number%s (attempt %d) failed: %v; %s.\n", ev.Numbers, plural(ev.Numbers), ev.Attempt, ev.Err, what)
	case preflight.EventFinished:
		fmt.Fprintf(w, "bulkhost: eligibility check %s: %d eligible, %d not eligible, %d unknown, %d not answered.\n", ev.RequestID, ev.Eligible, ev.Ineligible, ev.Unknown, ev.NotAnswered)
	case preflight.EventForgotten:
		fmt.Fprintf(w, "bulkhost: eligibility check %s is unknown to Twilio now: its %d number%s are checked again.\n", ev.RequestID, ev.Numbers, plural(ev.Numbers))
	}
}

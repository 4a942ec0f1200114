package main

import (
	"context"
	"fmt"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// eligibilitySuffix is added to the journal's path to name the file of
// its eligibility checks.
const eligibilitySuffix = ".eligibility"

// stepAfterEligibilityRecorded is the step a crash test may stop at right
// after a bulk eligibility check's request ID (EC…) was recorded, before
// anything waits for it.
const stepAfterEligibilityRecorded = "after-eligibility-recorded"

// eligibilityError words a failed eligibility check for the operator:
// nothing of the batch was sent.
type eligibilityError struct{ err *preflight.CheckError }

func (e *eligibilityError) Error() string {
	return e.err.Error() + "; nothing of the batch was sent: run again to finish the check, or pass -skip-eligibility if the numbers were checked already"
}

func (e *eligibilityError) Unwrap() error { return e.err }

// openEligibility opens the file of the journal's eligibility checks,
// next to the journal (whose lock the caller holds, which covers it), and
// returns the checker over it: before a batch is first sent, its numbers
// are checked with Twilio's bulk eligibility check, and the ones not
// ELIGIBLE are refused with Twilio's reason and next step.
//
// A database (-state postgres://…) has no file next to it: its checks
// are kept in this process's memory (the file is nil): a process that
// stops mid-check leaves the check to be made again by the next one,
// which is harmless, since a check sends no number.
func (m *migration) openEligibility() (*preflight.FileStore, *preflight.Checker, error) {
	var (
		file  *preflight.FileStore
		store preflight.Store
	)
	if m.store.shared {
		store = preflight.NewMemoryStore()
	} else {
		path := m.path + eligibilitySuffix
		st, err := preflight.OpenFileStore(path)
		if err != nil {
			return nil, nil, fmt.Errorf("the eligibility checks' file %s: %w", path, err)
		}
		file, store = st, st
	}
	c := m.c
	checker := &preflight.Checker{
		API:   m.client.Eligibility,
		Store: store,
		Name:  func(batch int) string { return fmt.Sprintf("bulkhost batch %d", batch) },
		Options: preflight.Options{
			Wait: &hostednumbers.EligibilityWaitOptions{PollInterval: m.cfg.poll, MaxPollInterval: m.cfg.maxPoll},
			OnEvent: func(ev preflight.Event) {
				m.eligibilityEvent(ev)
				if ev.Kind == preflight.EventCreated {
					c.checkpoint(stepAfterEligibilityRecorded)
				}
			},
		},
	}
	return file, checker, nil
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

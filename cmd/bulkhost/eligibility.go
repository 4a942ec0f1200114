package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// eligibilitySuffix is added to the journal's path to name the file of
// its eligibility checks: kept by bulkhost 0.3.0 for every journal, and
// now only for a journal whose store does not keep them itself.
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

// openEligibility returns the checker of the migration: before a batch
// is first sent, its numbers are checked with Twilio's bulk eligibility
// check, and the ones not ELIGIBLE are refused with Twilio's reason and
// next step. The checks are recorded in the journal's store when it keeps
// them (a preflight.Store, as the journal file is), after the checks of a
// journal made by 0.3.0, in its <journal>.eligibility file, are imported
// into it (see importEligibility); otherwise in the file
// <journal>.eligibility, which the journal's lock covers. The closer,
// when not nil, is to be closed with the migration. A database
// (-state postgres://…) keeps the checks itself, and has no file of an
// earlier version to import.
func (m *migration) openEligibility(ctx context.Context) (io.Closer, *preflight.Checker, error) {
	var closer io.Closer
	store, ok := m.store.Store.(preflight.Store)
	if ok && !m.store.shared {
		if err := m.importEligibility(ctx, store); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case ok:
	case m.store.shared:
		// A database that does not keep checks: they are kept in this
		// process's memory; a process that stops mid-check leaves the
		// check to be made again, which is harmless (a check sends no
		// number).
		store = preflight.NewMemoryStore()
	default:
		path := m.path + eligibilitySuffix
		st, err := preflight.OpenFileStore(path)
		if err != nil {
			return nil, nil, fmt.Errorf("the eligibility checks' file %s: %w", path, err)
		}
		store, closer = st, st
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
	return closer, checker, nil
}

// importedSuffix is added to the name of a journal's eligibility file
// once its checks are imported into the journal.
const importedSuffix = ".imported"

// importEligibility imports into store, once, the checks recorded in the
// <journal>.eligibility file that bulkhost 0.3.0 kept next to its
// journal, then renames the file <journal>.eligibility.imported (kept, as
// a copy of what was imported; nothing reads it again). The journal's
// lock, held by the caller, covers the file.
//
// Every result is imported (grouped by the check that answered it: one
// check recorded and ended with its results), then every pending check,
// then the file is renamed: a crash in the middle leaves the file where
// it was, and the next run imports it again, which records the same
// results again and skips the checks the store already holds, so nothing
// is lost and nothing is checked twice.
func (m *migration) importEligibility(ctx context.Context, store preflight.Store) error {
	path := m.path + eligibilitySuffix
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	old, err := preflight.OpenFileStore(path)
	if err != nil {
		return fmt.Errorf("the eligibility checks' file of an earlier bulkhost, %s: %w", path, err)
	}
	n, err := copyChecks(ctx, m.store, old, store)
	if cerr := old.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("importing the eligibility checks of %s into the journal (run again to finish: nothing is lost): %w", path, err)
	}
	if err := os.Rename(path, path+importedSuffix); err != nil {
		return fmt.Errorf("importing the eligibility checks of %s: they are in the journal, but the file could not be renamed: %w", path, err)
	}
	_ = os.Remove(path + ".lock") // the old file's lock, held by nobody now: best effort
	fmt.Fprintf(m.c.stderr, "bulkhost: the eligibility checks of %s (%d result%s, %d check%s pending) are now in the journal; the file is renamed %s.\n",
		path, n.results, plural(n.results), n.pending, plural(n.pending), filepath.Base(path+importedSuffix))
	return nil
}

// copied counts what copyChecks imported.
type copied struct{ results, pending int }

// copyChecks records in dst the result of every number of the journal st
// that src has one for, then every check src holds pending that dst does
// not. See importEligibility.
func copyChecks(ctx context.Context, st migrate.Store, src, dst preflight.Store) (copied, error) {
	var n copied
	meta, err := st.Meta(ctx)
	if err != nil {
		return n, err
	}
	pending, err := dst.PendingChecks(ctx)
	if err != nil {
		return n, err
	}
	inDst := make(map[string]bool, len(pending))
	for _, c := range pending {
		inDst[c.RequestID] = true
	}
	for i := 1; i <= meta.Batches; i++ {
		numbers, err := st.Numbers(ctx, i)
		if err != nil {
			return n, err
		}
		phones := make([]string, len(numbers))
		for k := range numbers {
			phones[k] = numbers[k].PhoneNumber()
		}
		results, err := src.Results(ctx, phones)
		if err != nil {
			return n, err
		}
		// One check recorded and ended per check that answered, in the
		// order of the batch's numbers.
		var order []string
		byCheck := make(map[string][]preflight.NumberResult)
		for _, p := range phones {
			r, ok := results[p]
			if !ok {
				continue
			}
			id := r.RequestID
			if !format.SID(id, "EC") {
				id = importID
			}
			if _, seen := byCheck[id]; !seen {
				order = append(order, id)
			}
			byCheck[id] = append(byCheck[id], r)
		}
		for _, id := range order {
			rs := byCheck[id]
			if !inDst[id] {
				c := preflight.Check{RequestID: id, PhoneNumbers: make([]string, len(rs))}
				for k := range rs {
					c.PhoneNumbers[k] = rs[k].PhoneNumber
				}
				if err := dst.RecordCheck(ctx, c); err != nil {
					return n, err
				}
			}
			if err := dst.RecordResults(ctx, id, rs); err != nil {
				return n, err
			}
			delete(inDst, id)
			n.results += len(rs)
		}
	}
	old, err := src.PendingChecks(ctx)
	if err != nil {
		return n, err
	}
	for _, c := range old {
		if inDst[c.RequestID] {
			continue // imported by a run that stopped before the rename
		}
		if err := dst.RecordCheck(ctx, c); err != nil {
			return n, err
		}
		n.pending++
	}
	return n, nil
}

// importID stands for the check of an imported result that names none:
// the results are recorded under it, and it ends at once.
const importID = "EC" + "00000000000000000000000000000000"

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

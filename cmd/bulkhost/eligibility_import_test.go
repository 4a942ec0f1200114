package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// oldJournal makes, for the numbers of sixNumbers in batches of 2, what
// bulkhost 0.3.0 left after it checked batch 1 and created batch 2's
// check, then stopped: a journal with nothing sent, and next to it the
// <journal>.eligibility file holding batch 1's results (+14155550101
// refused with a reason the fake server would not give: only the file
// says so) and batch 2's check pending (known to the fake server). It
// returns the CSV's path, the run's arguments and the pending check.
func oldJournal(t *testing.T, h *harness) (string, []string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	csvPath := writeCSV(t, sixNumbers)
	args := checkedArgs(csvPath, "-wait", "-poll", "1ms", "-batch-size", "2")
	// A run whose checks all fail writes the journal, and nothing else.
	h.srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Path: eligibilityBulk, Status: http.StatusBadRequest, Count: 100})
	require.Equal(t, exitError, h.run(args...))
	h.srv.Reset()
	journalPath := csvPath + journalSuffix
	js, err := logstore.Open(journalPath, logstore.Options{})
	require.NoError(t, err)
	pending, err := js.PendingChecks(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)
	require.NoError(t, js.Close())

	b, err := h.srv.Client().Eligibility.CreateBulk(ctx, &hostednumbers.EligibilityParams{PhoneNumbers: []hostednumbers.EligibilityNumber{
		{PhoneNumber: "+14155550102"}, {PhoneNumber: "+14155550103"}}})
	require.NoError(t, err)
	old, err := preflight.OpenFileStore(journalPath + eligibilitySuffix)
	require.NoError(t, err)
	first := "EC" + "1234567890abcdef1234567890abcdef"
	require.NoError(t, old.RecordCheck(ctx, preflight.Check{RequestID: first, PhoneNumbers: []string{"+14155550101", "+14155550109"}}))
	require.NoError(t, old.RecordResults(ctx, first, []preflight.NumberResult{
		{PhoneNumber: "+14155550101", Status: preflight.StatusIneligible, RawStatus: hostednumbers.EligibilityStatusIneligible, Reason: "recorded by 0.3.0", NextStep: "FROM_THE_OLD_FILE", RequestID: first},
		{PhoneNumber: "+14155550109", Status: preflight.StatusEligible, RawStatus: hostednumbers.EligibilityStatusEligible, RequestID: first},
	}))
	require.NoError(t, old.RecordCheck(ctx, preflight.Check{RequestID: b.RequestID, PhoneNumbers: []string{"+14155550102", "+14155550103"}}))
	require.NoError(t, old.Close())
	return csvPath, args, b.RequestID
}

// A journal of bulkhost 0.3.0 with its <journal>.eligibility file: the
// file's checks are imported into the journal once, the file renamed
// <journal>.eligibility.imported; its results count (a number it refused
// is never sent, one it found eligible is not checked again) and its
// pending check is waited for, not created again.
func TestImportsTheEligibilityFileOfAnEarlierVersion(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	csvPath, args, pendingID := oldJournal(t, h)
	journalPath := csvPath + journalSuffix
	before := len(requestsTo(h.srv, http.MethodPost, eligibilityBulk))

	require.Equal(t, exitFailures, h.run(args...), "refused numbers need action")
	assert.Contains(t, h.stderr.String(), "are now in the journal; the file is renamed "+filepath.Base(journalPath)+".eligibility.imported")
	assert.Contains(t, h.stderr.String(), "was recorded by an earlier run: waiting for it, not checking again")
	checks := checkedNumbers(t, h.srv)[before:]
	assert.Equal(t, [][]string{{"+14155550119", "+14155550129"}}, checks, "only batch 3 is checked: batch 1's results and batch 2's check came from the file")
	assertNeverSubmitted(t, h.srv, "+14155550101", "+14155550119", "+14155550129")
	assertOneOrderEach(t, h.srv, "+14155550109", "+14155550102", "+14155550103")
	assert.Contains(t, h.stdout.String(), "recorded by 0.3.0; next step: FROM_THE_OLD_FILE")

	_, err := os.Stat(journalPath + eligibilitySuffix)
	require.ErrorIs(t, err, os.ErrNotExist, "renamed")
	_, err = os.Stat(journalPath + eligibilitySuffix + importedSuffix)
	require.NoError(t, err, "kept under its new name")
	_, err = os.Stat(journalPath + eligibilitySuffix + ".lock")
	require.ErrorIs(t, err, os.ErrNotExist, "the old file's lock is removed")

	js, err := logstore.Open(journalPath, logstore.Options{})
	require.NoError(t, err)
	got, err := js.Results(context.Background(), []string{"+14155550101", "+14155550102"})
	require.NoError(t, err)
	require.NoError(t, js.Close())
	assert.Equal(t, "recorded by 0.3.0", got["+14155550101"].Reason, "the journal holds the imported result")
	assert.Equal(t, pendingID, got["+14155550102"].RequestID, "and the resumed check's")

	// Run again: nothing imported, checked or sent again.
	h.stderr.Reset()
	checksNow, creates := len(checkedNumbers(t, h.srv)), len(requestsTo(h.srv, http.MethodPost, createsPath))
	require.Equal(t, exitFailures, h.run(args...))
	assert.NotContains(t, h.stderr.String(), "are now in the journal")
	assert.Len(t, checkedNumbers(t, h.srv), checksNow)
	assert.Len(t, requestsTo(h.srv, http.MethodPost, createsPath), creates)
}

// failingStore is a preflight.Store whose recording fails after ok
// records, as a crash in the middle of an import would stop it.
type failingStore struct {
	preflight.Store
	ok int
}

var errStopped = errors.New("stopped")

func (f *failingStore) RecordCheck(ctx context.Context, c preflight.Check) error {
	if f.ok == 0 {
		return errStopped
	}
	f.ok--
	return f.Store.RecordCheck(ctx, c)
}

func (f *failingStore) RecordResults(ctx context.Context, id string, rs []preflight.NumberResult) error {
	if f.ok == 0 {
		return errStopped
	}
	f.ok--
	return f.Store.RecordResults(ctx, id, rs)
}

// An import stopped after any record (a crash) is harmless: the old file
// stays, and an import again ends with every result and every pending
// check in the journal, each pending check once.
func TestImportStoppedMidwayIsHarmless(t *testing.T) {
	for stopAfter := range 4 { // the import makes 3 records, then renames the file
		t.Run(fmt.Sprintf("after %d records", stopAfter), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h := newHarness(t)
			csvPath, _, pendingID := oldJournal(t, h)
			journalPath := csvPath + journalSuffix
			js, err := logstore.Open(journalPath, logstore.Options{})
			require.NoError(t, err)
			defer func() { _ = js.Close() }()
			m := &migration{c: &cli{stderr: &h.stderr}, store: &journal{Store: js, path: js.Path()}, path: js.Path()}

			if stopAfter < 3 {
				err = m.importEligibility(ctx, &failingStore{Store: js, ok: stopAfter})
				require.ErrorIs(t, err, errStopped)
				assert.Contains(t, err.Error(), "run again to finish: nothing is lost")
			} else {
				// Every record made, stopped before the rename.
				old, err := preflight.OpenFileStore(journalPath + eligibilitySuffix)
				require.NoError(t, err)
				_, err = copyChecks(ctx, js, old, js)
				require.NoError(t, err)
				require.NoError(t, old.Close())
			}
			_, err = os.Stat(journalPath + eligibilitySuffix)
			require.NoError(t, err, "the old file stays until the import is done")

			require.NoError(t, m.importEligibility(ctx, js))
			pending, err := js.PendingChecks(ctx)
			require.NoError(t, err)
			assert.Equal(t, []preflight.Check{{RequestID: pendingID, PhoneNumbers: []string{"+14155550102", "+14155550103"}}}, pending)
			got, err := js.Results(ctx, []string{"+14155550101", "+14155550109", "+14155550102"})
			require.NoError(t, err)
			assert.Len(t, got, 2)
			assert.Equal(t, preflight.StatusIneligible, got["+14155550101"].Status)
			assert.Equal(t, preflight.StatusEligible, got["+14155550109"].Status)
			_, err = os.Stat(journalPath + eligibilitySuffix)
			require.ErrorIs(t, err, os.ErrNotExist)
		})
	}
}

// A damaged eligibility file of an earlier bulkhost is refused, named,
// and left as it is; nothing is sent.
func TestDamagedEligibilityFileIsRefused(t *testing.T) {
	h := newHarness(t)
	csvPath, args, _ := oldJournal(t, h)
	path := csvPath + journalSuffix + eligibilitySuffix
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)/2] ^= 0x20
	require.NoError(t, os.WriteFile(path, damaged, 0o600)) //nolint:gosec // the test's own temporary file
	h.stderr.Reset()
	require.Equal(t, exitError, h.run(args...))
	assert.Contains(t, h.stderr.String(), "the eligibility checks' file of an earlier bulkhost, "+path)
	assert.Contains(t, h.stderr.String(), "nothing was submitted")
	assert.Empty(t, requestsTo(h.srv, http.MethodPost, createsPath))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, damaged, after, "left as it is")
}

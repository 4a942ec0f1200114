package logstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/internal/faultfs"
	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

func ecID(n int) string { return fmt.Sprintf("EC%032x", n) }

func checkPhones(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("+1415%07d", 5550000+i))
	}
	return out
}

func results(id string, ps []string, reason string) []preflight.NumberResult {
	out := make([]preflight.NumberResult, len(ps))
	for i, p := range ps {
		out[i] = preflight.NumberResult{PhoneNumber: p, Status: preflight.StatusIneligible, RawStatus: "INELIGIBLE",
			SubStatus: "ALREADY_IN_TWILIO", Reason: reason, NextStep: "CONTACT_SUPPORT", RequestID: id}
	}
	return out
}

func reopen(t *testing.T, st *logstore.Store, path string) *logstore.Store {
	t.Helper()
	require.NoError(t, st.Close())
	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// The checks live in the migration's log: a store opened again knows
// every pending check and every result, and the migration as before.
func TestChecksSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 10, 5)
	require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: checkPhones(0, 5)}))
	require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: ecID(2), PhoneNumbers: checkPhones(5, 10)}))
	want := results(ecID(1), checkPhones(0, 4), "in Twilio «already»")
	require.NoError(t, st.RecordResults(ctx, ecID(1), want))
	b, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	b.State = migrate.StateSending
	require.NoError(t, st.SaveBatch(ctx, &b, nil))

	st = reopen(t, st, path)
	pending, err := st.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Equal(t, []preflight.Check{{RequestID: ecID(2), PhoneNumbers: checkPhones(5, 10)}}, pending)
	got, err := st.Results(ctx, checkPhones(0, 10))
	require.NoError(t, err)
	require.Len(t, got, 4)
	for _, r := range want {
		assert.Equal(t, r, got[r.PhoneNumber])
	}
	b, err = st.Batch(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, migrate.StateSending, b.State)
	require.NoError(t, st.RecordResults(ctx, ecID(2), nil), "the reopened store ends the check it knows")
}

// Before a migration is started, nothing is recorded: the checks are the
// migration's. Reads find nothing.
func TestChecksNeedAMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	err = st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: checkPhones(0, 1)})
	require.ErrorIs(t, err, migrate.ErrNoMigration)
	require.Error(t, st.RecordResults(ctx, ecID(1), nil))
	pending, err := st.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
	got, err := st.Results(ctx, checkPhones(0, 1))
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "nothing written")
}

// Compaction, automatic or asked for, and AddBatches keep the pending
// checks (in order) and every number's newest result, and drop what is
// dead: ended checks and results replaced since.
func TestChecksSurviveCompaction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 10, 5)
	ps := checkPhones(0, 300)
	require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1000), PhoneNumbers: checkPhones(300, 310)}))
	var sizes []int64
	for round := range 20 {
		id := ecID(round + 1)
		require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: id, PhoneNumbers: ps}))
		require.NoError(t, st.RecordResults(ctx, id, results(id, ps, fmt.Sprintf("round %d", round))))
		sizes = append(sizes, st.Size())
	}
	require.NoError(t, st.CompactionError())
	shrank := false
	for i := 1; i < len(sizes); i++ {
		shrank = shrank || sizes[i] < sizes[i-1]
	}
	assert.True(t, shrank, "the log was compacted on its own as results were replaced: sizes %v", sizes)
	require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1001), PhoneNumbers: checkPhones(310, 311)}))

	verify := func(st *logstore.Store, what string) {
		t.Helper()
		pending, err := st.PendingChecks(ctx)
		require.NoError(t, err)
		assert.Equal(t, []preflight.Check{
			{RequestID: ecID(1000), PhoneNumbers: checkPhones(300, 310)},
			{RequestID: ecID(1001), PhoneNumbers: checkPhones(310, 311)},
		}, pending, what)
		got, err := st.Results(ctx, ps)
		require.NoError(t, err)
		require.Len(t, got, len(ps), what)
		for _, r := range results(ecID(20), ps, "round 19") {
			require.Equal(t, r, got[r.PhoneNumber], what)
		}
	}
	verify(st, "after automatic compactions")
	st = reopen(t, st, path)
	verify(st, "reopened after automatic compactions")
	require.NoError(t, st.Compact(ctx))
	lines := len(strings.Split(strings.TrimSpace(readFile(t, path)), "\n"))
	// header, 2 plans, 2 saves, 2 checks, 1 kept, meta
	assert.Equal(t, 9, lines, "a compacted log holds the live state only")
	st = reopen(t, st, path)
	verify(st, "reopened after Compact")
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	require.NoError(t, st.AddBatches(ctx, meta, migrate.Batches(func(yield func(migrate.NumberState, error) bool) {
		for n, err := range numbers(12) {
			if err != nil {
				yield(n, err)
				return
			}
			if n.PhoneNumber() >= checkPhones(10, 11)[0] && !yield(n, nil) {
				return
			}
		}
	}, 5)))
	st = reopen(t, st, path)
	verify(st, "reopened after AddBatches")
	require.NoError(t, st.RecordResults(ctx, ecID(1000), nil), "a kept check is pending")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// A check's results and its end are one record: a crash (a write cut
// short) at any write of RecordResults leaves, once the store is opened
// again, either the check pending and no result, or the results and the
// check ended; never one without the other.
func TestRecordResultsIsAtomic(t *testing.T) {
	ctx := context.Background()
	for k := 1; k <= 3; k++ {
		t.Run(fmt.Sprintf("crash at write %d", k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.log")
			var mu sync.Mutex
			armed, writes := false, 0
			fsys := &faultfs.FS{Crash: true, Partial: true, Fail: func(op, _ string) error {
				mu.Lock()
				defer mu.Unlock()
				if !armed || op != "write" {
					return nil
				}
				writes++
				if writes == k {
					return errors.New("killed")
				}
				return nil
			}}
			st := started(t, path, logstore.Options{FS: fsys}, 4, 2)
			ps := checkPhones(0, 4)
			require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: ps}))
			mu.Lock()
			armed = true
			mu.Unlock()
			err := st.RecordResults(ctx, ecID(1), results(ecID(1), ps, "why"))
			_ = st.Close()

			st, rerr := logstore.Open(path, logstore.Options{})
			require.NoError(t, rerr)
			defer func() { _ = st.Close() }()
			pending, rerr := st.PendingChecks(ctx)
			require.NoError(t, rerr)
			got, rerr := st.Results(ctx, ps)
			require.NoError(t, rerr)
			switch {
			case len(pending) == 1 && len(got) == 0:
				require.Error(t, err, "RecordResults said recorded, and the record is lost")
			case len(pending) == 0 && len(got) == len(ps):
			default:
				t.Fatalf("after a crash in RecordResults: %d pending, %d results; want the check pending and no result, or ended with its results", len(pending), len(got))
			}
		})
	}
}

// After a write or a sync of a check's record fails, the store fails
// closed (every call, reads too, is refused), and the store opened again
// does not find the record.
func TestCheckRecordsFailClosed(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		op  string
		err error
	}{{"write", syscall.ENOSPC}, {"sync", syscall.EIO}} {
		t.Run(tc.op, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.log")
			fsys := &faultfs.FS{FailOp: tc.op, FailAt: 2, FailErr: tc.err, Partial: true}
			st := started(t, path, logstore.Options{FS: fsys}, 3, 2)
			err := st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: checkPhones(0, 2)})
			require.ErrorIs(t, err, tc.err)
			err = st.RecordCheck(ctx, preflight.Check{RequestID: ecID(2), PhoneNumbers: checkPhones(0, 2)})
			require.ErrorIs(t, err, logstore.ErrFailed)
			_, err = st.PendingChecks(ctx)
			require.ErrorIs(t, err, logstore.ErrFailed)
			_, err = st.Results(ctx, checkPhones(0, 2))
			require.ErrorIs(t, err, logstore.ErrFailed)
			require.ErrorIs(t, st.RecordResults(ctx, ecID(1), nil), logstore.ErrFailed)
			require.NoError(t, st.Close())

			st, err = logstore.Open(path, logstore.Options{})
			require.NoError(t, err)
			defer func() { _ = st.Close() }()
			pending, err := st.PendingChecks(ctx)
			require.NoError(t, err)
			assert.Empty(t, pending, "the failed record is not found")
			require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: checkPhones(0, 2)}), "the store opened again records")
		})
	}
}

// A check record that contradicts the log is damage: the store is
// refused and the file left as it is.
func TestCheckRecordsDamage(t *testing.T) {
	ctx := context.Background()
	for name, line := range map[string]string{
		"results of a check never recorded": `{"k":"results","ec":{"id":"` + ecID(9) + `"},"er":[{"p":"+14155550000","s":"eligible"}]}`,
		"a check recorded twice":            `{"k":"check","ec":{"id":"` + ecID(1) + `","p":["+14155550000"]}}`,
		"a check without numbers":           `{"k":"check","ec":{"id":"` + ecID(2) + `"}}`,
		"a check with a bad ID":             `{"k":"check","ec":{"id":"EC12","p":["+14155550000"]}}`,
		"a result with a bad status":        `{"k":"kept","er":[{"p":"+14155550000","s":"ELIGIBLE"}]}`,
		"a member of a newer writer":        `{"k":"check","ec":{"id":"` + ecID(3) + `","p":["+14155550000"],"x":1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.log")
			st := started(t, path, logstore.Options{}, 3, 2)
			require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: checkPhones(0, 2)}))
			require.NoError(t, st.Close())
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.Write(recordlog.Frame([]byte(line)))
			require.NoError(t, err)
			require.NoError(t, f.Close())
			before := readFile(t, path)
			_, err = logstore.Open(path, logstore.Options{})
			var se *logstore.Error
			require.ErrorAs(t, err, &se)
			assert.Contains(t, err.Error(), "is damaged at line")
			assert.Equal(t, before, readFile(t, path), "left as it is")
		})
	}
}

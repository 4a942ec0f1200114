package logstore_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/faultfs"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

func numbers(n int) iter.Seq2[migrate.NumberState, error] {
	return func(yield func(migrate.NumberState, error) bool) {
		for i := range n {
			ns := migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: fmt.Sprintf("+1415%07d", 5550000+i)}, Line: i + 2}
			ns.Number.FriendlyName = fmt.Sprintf("Line %d", i)
			if !yield(ns, nil) {
				return
			}
		}
	}
}

func started(t *testing.T, path string, o logstore.Options, n, size int) *logstore.Store {
	t.Helper()
	st, err := logstore.Open(path, o)
	require.NoError(t, err)
	meta := migrate.Meta{Input: migrate.Input{Name: "in.csv", SHA256: strings.Repeat("ab", 32)}, BatchSize: size}
	require.NoError(t, st.Start(context.Background(), meta, migrate.Batches(numbers(n), size)))
	return st
}

func TestStartSaveAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 5, 2)
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, meta.Batches)
	assert.Equal(t, 5, meta.Input.Numbers)

	b, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, migrate.StatePlanned, b.State)
	assert.Equal(t, 2, b.Size)
	b.State = migrate.StateAccepted
	b.BulkHostingSIDs = []string{"BH0123456789abcdef0123456789abcdef"}
	ns, err := st.Numbers(ctx, 2)
	require.NoError(t, err)
	require.Len(t, ns, 2)
	reason := "not eligible"
	ns[1].Status, ns[1].FailureReason, ns[1].HostingOrderSID = "failed", &reason, "HR0123456789abcdef0123456789abcdef"
	require.NoError(t, st.SaveBatch(ctx, &b, ns[1:]))
	assert.Equal(t, int64(1), b.Version)

	// A save over an older version is refused and writes nothing.
	size := st.Size()
	stale := b
	stale.Version = 0
	assert.ErrorIs(t, st.SaveBatch(ctx, &stale, nil), migrate.ErrConflict)
	assert.Equal(t, size, st.Size())
	require.NoError(t, st.Close())

	st, err = logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	got, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, migrate.StateAccepted, got.State)
	assert.Equal(t, int64(1), got.Version)
	gotNs, err := st.Numbers(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "Line 3", gotNs[1].Number.FriendlyName, "the settings are kept")
	assert.Equal(t, "failed", gotNs[1].Status)
	require.NotNil(t, gotNs[1].FailureReason)
	assert.Equal(t, reason, *gotNs[1].FailureReason)
	assert.Empty(t, gotNs[0].Status)
	assert.ErrorIs(t, st.Start(ctx, migrate.Meta{}, migrate.Batches(numbers(1), 1)), migrate.ErrExists)
}

// A step is one appended line: it writes what changed, not the store.
func TestSaveWritesWhatChanged(t *testing.T) {
	ctx := context.Background()
	st := started(t, filepath.Join(t.TempDir(), "m.log"), logstore.Options{}, 10000, 1000)
	defer func() { _ = st.Close() }()
	before := st.Written()
	b, err := st.Batch(ctx, 7)
	require.NoError(t, err)
	b.State = migrate.StateSending
	require.NoError(t, st.SaveBatch(ctx, &b, nil))
	assert.Less(t, st.Written()-before, int64(1024), "a state change is a short record")
	assert.Less(t, st.Written()-before, st.Size()/100)
}

// Starting writes a temporary file, syncs it, closes it, renames it over
// the store and syncs the directory; a save appends and syncs.
func TestWriteStepsInOrder(t *testing.T) {
	fsys := &faultfs.FS{}
	st := started(t, filepath.Join(t.TempDir(), "m.log"), logstore.Options{FS: fsys}, 3, 2)
	defer func() { _ = st.Close() }()
	assert.Equal(t, []string{"open", "create-temp", "write", "sync", "close", "rename", "sync-dir", "open"}, fsys.Steps(), "looks for a store, then starts one")
	fsys.Reset()
	b, err := st.Batch(context.Background(), 1)
	require.NoError(t, err)
	b.State = migrate.StateSending
	require.NoError(t, st.SaveBatch(context.Background(), &b, nil))
	assert.Equal(t, []string{"write", "sync"}, fsys.Steps())
}

// A crash at any step of the start leaves no store, or a whole one; a
// stale temporary file is removed by the next Open.
func TestCrashDuringStart(t *testing.T) {
	for _, op := range []string{"write", "sync", "close", "rename", "sync-dir"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "m.log")
			st, err := logstore.Open(path, logstore.Options{FS: &faultfs.FS{FailOp: op, FailAt: 1, FailErr: errors.New("killed"), Crash: true, Partial: true}})
			require.NoError(t, err)
			err = st.Start(context.Background(), migrate.Meta{BatchSize: 2}, migrate.Batches(numbers(3), 2))
			require.Error(t, err)
			require.NoError(t, st.Close())

			st, err = logstore.Open(path, logstore.Options{})
			require.NoError(t, err, "the store opens after a crash at %s", op)
			defer func() { _ = st.Close() }()
			_, err = st.Meta(context.Background())
			if op == "sync-dir" {
				assert.NoError(t, err, "renamed: the store is whole")
			} else {
				assert.ErrorIs(t, err, migrate.ErrNoMigration, "no store, not half of one")
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				assert.False(t, strings.Contains(e.Name(), ".tmp-"), "stale temporary file %s removed", e.Name())
			}
		})
	}
}

// A save whose write or sync fails is not recorded, and the store fails
// closed: every later call is refused until it is opened again (a failed
// fsync may have lost what the page cache held). One cut short by a crash
// is dropped when the store is opened again.
func TestFailedAndTornAppends(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		op    string
		err   error
		crash bool
	}{
		{"write", syscall.ENOSPC, false},
		{"sync", syscall.EIO, false},
		{"write", errors.New("killed"), true},
	} {
		t.Run(fmt.Sprintf("%s crash=%v", tc.op, tc.crash), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.log")
			// The start writes once and syncs once: fail the next.
			fsys := &faultfs.FS{FailOp: tc.op, FailAt: 2, FailErr: tc.err, Crash: tc.crash, Partial: true}
			st := started(t, path, logstore.Options{FS: fsys}, 3, 2)
			size := st.Size()
			b, err := st.Batch(ctx, 1)
			require.NoError(t, err)
			b.State = migrate.StateSending
			require.Error(t, st.SaveBatch(ctx, &b, nil))
			assert.Equal(t, int64(0), b.Version, "not saved")
			if !tc.crash {
				info, err := os.Stat(path)
				require.NoError(t, err)
				assert.Equal(t, size, info.Size(), "the failed record is cut off")
				require.ErrorIs(t, st.SaveBatch(ctx, &b, nil), logstore.ErrFailed, "no save after a failed one")
				_, err = st.Batch(ctx, 1)
				require.ErrorIs(t, err, logstore.ErrFailed, "no read either")
				_, err = st.Numbers(ctx, 1)
				require.ErrorIs(t, err, logstore.ErrFailed)
				_, err = st.Meta(ctx)
				require.ErrorIs(t, err, logstore.ErrFailed)
			}
			require.NoError(t, st.Close())

			st, err = logstore.Open(path, logstore.Options{})
			require.NoError(t, err)
			defer func() { _ = st.Close() }()
			got, err := st.Batch(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, migrate.StatePlanned, got.State, "the failed record is not found")
			require.NoError(t, st.SaveBatch(ctx, &got, nil), "the store opened again saves")
		})
	}
}

// Damage before the last record is refused, and the file left alone.
func TestDamageIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 3, 2)
	require.NoError(t, st.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	i := strings.Index(string(data), "Line 1")
	damaged := append([]byte(nil), data...)
	damaged[i] = 'X'
	require.NoError(t, os.WriteFile(path, damaged, 0o600)) //nolint:gosec // the test's own temporary file
	_, err = logstore.Open(path, logstore.Options{})
	var se *logstore.Error
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "is damaged at line 2")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, damaged, after)

	// A journal of an earlier bulkhost is named as such.
	require.NoError(t, os.WriteFile(path, []byte(`{"format": 2, "tool": "bulkhost"}`), 0o600))
	_, err = logstore.Open(path, logstore.Options{})
	var old *logstore.OldJournalError
	require.ErrorAs(t, err, &old)
	assert.Equal(t, 2, old.Format)
}

// Compaction keeps every state and shrinks the file; the bytes written
// stay a small multiple of the final store.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 800, 200)
	for round := range 12 {
		for i := 1; i <= 4; i++ {
			b, err := st.Batch(ctx, i)
			require.NoError(t, err)
			ns, err := st.Numbers(ctx, i)
			require.NoError(t, err)
			for k := range ns {
				ns[k].Status = fmt.Sprintf("s%d", round)
				ns[k].Checked = time.Unix(int64(round), 0).UTC()
			}
			require.NoError(t, st.SaveBatch(ctx, &b, ns))
		}
	}
	require.NoError(t, st.Compact(ctx))
	final := st.Size()
	written := st.Written()
	require.NoError(t, st.Close())
	t.Logf("final %d bytes, written %d (%.1fx)", final, written, float64(written)/float64(final))
	assert.Less(t, written, 16*final, "twelve full rewrites of every number cost about twelve stores, not one store per save")

	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	ns, err := st.Numbers(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, "s11", ns[199].Status)
	b, err := st.Batch(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, int64(12), b.Version)
}

// One store, one lock, whatever the path: a second Open is refused while
// the first is open, through a symbolic link too.
func TestLockAndSymlink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "real.log")
	link := filepath.Join(dir, "link.log")
	require.NoError(t, os.Symlink("real.log", link))
	st := started(t, link, logstore.Options{}, 2, 2)
	assert.Equal(t, path, st.Path())
	_, err := logstore.Open(path, logstore.Options{})
	assert.ErrorIs(t, err, logstore.ErrLocked)
	require.NoError(t, st.Close())
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "still a link")
	st, err = logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
}

// AddBatches appends batches and records the new meta, all or nothing;
// what was there is kept.
func TestAddBatches(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 3, 2)
	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	b.State = migrate.StateAccepted
	require.NoError(t, st.SaveBatch(ctx, &b, nil))
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	meta.Input = migrate.Input{Name: "in2.csv", SHA256: strings.Repeat("cd", 32), Numbers: 5}
	boom := errors.New("boom")
	failing := func(yield func([]migrate.NumberState, error) bool) { yield(nil, boom) }
	require.ErrorIs(t, st.AddBatches(ctx, meta, failing), boom)
	same, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, same.Batches, "nothing recorded")

	more := migrate.Batches(func(yield func(migrate.NumberState, error) bool) {
		for _, p := range []string{"+14155559001", "+14155559002"} {
			if !yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: p}}, nil) {
				return
			}
		}
	}, 2)
	require.NoError(t, st.AddBatches(ctx, meta, more))
	require.NoError(t, st.Close())
	st, err = logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	got, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, got.Batches)
	assert.Equal(t, "in2.csv", got.Input.Name)
	first, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, migrate.StateAccepted, first.State, "the earlier batches are kept")
	ns, err := st.Numbers(ctx, 3)
	require.NoError(t, err)
	require.Len(t, ns, 2)
	assert.Equal(t, "+14155559002", ns[1].PhoneNumber())
}

package preflight

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/internal/faultfs"
	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
)

func seamCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ecID(n int) string { return fmt.Sprintf("EC%032x", n) }

func openWatched(t *testing.T, path string, fsys *faultfs.FS) *FileStore {
	t.Helper()
	var fs recordlog.FS
	if fsys != nil {
		fs = fsys
	}
	s, err := openFileStore(path, fs)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A new file is created atomically and its directory synced before
// OpenFileStore returns; each record is written, then synced, and only
// then enters the index and the method returns.
func TestFileStoreSyncsBeforeReturning(t *testing.T) {
	ctx := seamCtx(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "preflight.jsonl")
	check := Check{RequestID: ecID(1), PhoneNumbers: []string{"+14155550101"}}
	var s *FileStore
	var atSync struct {
		onDisk  bool
		indexed bool
	}
	watch := false
	fsys := &faultfs.FS{Fail: func(op, name string) error {
		if watch && op == "sync" {
			data, err := os.ReadFile(path)
			assert.NoError(t, err)
			atSync.onDisk = bytes.Contains(data, []byte(check.RequestID))
			atSync.indexed = s.indexLocked(check.RequestID) >= 0 // the caller holds s.mu
		}
		return nil
	}}
	s = openWatched(t, path, fsys)
	assert.Equal(t, []string{"open", "create-temp", "write", "sync", "close", "rename", "sync-dir", "open"}, fsys.Steps(),
		"a file just created is written aside, synced, renamed and made durable in its directory")

	fsys.Reset()
	watch = true
	require.NoError(t, s.RecordCheck(ctx, check))
	assert.Equal(t, []string{"write", "sync"}, fsys.Steps())
	assert.True(t, atSync.onDisk, "written before the sync")
	assert.False(t, atSync.indexed, "indexed only once synced")
	watch = false

	fsys.Reset()
	require.NoError(t, s.RecordResults(ctx, check.RequestID, []NumberResult{{PhoneNumber: "+14155550101", Status: StatusEligible, RequestID: check.RequestID}}))
	assert.Equal(t, []string{"write", "sync"}, fsys.Steps(), "results and the end of the check: one write")

	// What was acknowledged survives a power cut.
	require.NoError(t, s.Close())
	require.NoError(t, fsys.PowerCut())
	again := openWatched(t, path, &faultfs.FS{})
	pending, err := again.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
	res, err := again.Results(ctx, []string{"+14155550101"})
	require.NoError(t, err)
	assert.Len(t, res, 1)
}

// A failed sync (or write) reports the record as not recorded; the store
// then fails closed, refusing every call, reads too, until it is opened
// again; the reopened store finds every acknowledged record, and the
// failed one not at all (cut off, or lost by the power cut).
func TestFileStoreFailedAppend(t *testing.T) {
	for _, tt := range []struct {
		name    string
		op      string
		err     error
		partial bool
	}{
		{"sync fails", "sync", syscall.EIO, false},
		{"write fails", "write", syscall.ENOSPC, false},
		{"short write", "write", syscall.EIO, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := seamCtx(t)
			path := filepath.Join(t.TempDir(), "preflight.jsonl")
			// The creation writes and syncs once; the first check the
			// second time; fail the third.
			fsys := &faultfs.FS{FailOp: tt.op, FailAt: 3, FailErr: tt.err, Partial: tt.partial}
			s := openWatched(t, path, fsys)
			require.NoError(t, s.RecordCheck(ctx, Check{RequestID: ecID(1), PhoneNumbers: []string{"+14155550101"}}))

			err := s.RecordCheck(ctx, Check{RequestID: ecID(2), PhoneNumbers: []string{"+14155550102"}})
			require.Error(t, err)
			require.ErrorIs(t, err, tt.err)
			require.ErrorIs(t, err, ErrFailed)
			assert.Contains(t, err.Error(), ecID(2))
			err = s.RecordResults(ctx, ecID(1), nil)
			require.ErrorIs(t, err, ErrFailed, "failed closed until reopened")
			assert.Contains(t, err.Error(), "close and open the store again")
			_, err = s.PendingChecks(ctx)
			require.ErrorIs(t, err, ErrFailed, "reads too: the page cache is not the disk")
			_, err = s.Results(ctx, []string{"+14155550101"})
			require.ErrorIs(t, err, ErrFailed)
			require.NoError(t, s.Close())

			require.NoError(t, fsys.PowerCut())
			again, err := OpenFileStore(path)
			require.NoError(t, err)
			t.Cleanup(func() { _ = again.Close() })
			pending, err := again.PendingChecks(ctx)
			require.NoError(t, err)
			ids := make([]string, len(pending))
			for i, c := range pending {
				ids[i] = c.RequestID
			}
			assert.Equal(t, []string{ecID(1)}, ids)
			require.NoError(t, again.RecordResults(ctx, ecID(1), nil), "the reopened store appends")
		})
	}
}

// Opening where the file cannot be created (a read-only directory, as a
// non-root process sees it) or the directory cannot be synced fails with
// the path named and the cause kept, and leaves no file.
func TestFileStoreOpenFailsThroughSeam(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "preflight.jsonl")
	_, err := openFileStore(path, &faultfs.FS{FailOp: "create-temp", FailAt: 1, FailErr: syscall.EROFS})
	require.ErrorIs(t, err, syscall.EROFS)
	assert.Contains(t, err.Error(), path)
	_, err = openFileStore(path, &faultfs.FS{FailOp: "create-temp", FailAt: 1, FailErr: os.ErrPermission})
	require.ErrorIs(t, err, os.ErrPermission)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)

	fsys := &faultfs.FS{FailOp: "sync-dir", FailAt: 1, FailErr: syscall.EIO}
	_, err = openFileStore(path, fsys)
	require.ErrorIs(t, err, syscall.EIO)
	assert.Contains(t, err.Error(), path)
	require.NoError(t, fsys.PowerCut())
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "never made durable")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() != "preflight.jsonl.lock" }), "no file left but the lock")
}

func TestResultIndex_SharesResultsAndKeepsTheNewest(t *testing.T) {
	x := newResultIndex()
	for i := range 10000 {
		x.set(NumberResult{PhoneNumber: fmt.Sprintf("+1415%07d", i), Status: StatusEligible, RawStatus: "ELIGIBLE", RequestID: "EC1"})
	}
	if n := x.x.Shared(); n != 1 {
		t.Fatalf("10000 eligible numbers of one check: %d distinct results, want 1", n)
	}
	r, ok := x.get("+14150000042")
	if !ok || r.PhoneNumber != "+14150000042" || r.Status != StatusEligible || r.RequestID != "EC1" {
		t.Fatalf("get = %+v, %v", r, ok)
	}
	newer := NumberResult{PhoneNumber: "+14150000042", Status: StatusIneligible, RawStatus: "INELIGIBLE", Reason: "R", RequestID: "EC2"}
	x.set(newer)
	if r, _ := x.get("+14150000042"); r != newer {
		t.Fatalf("the newest result wins: got %+v", r)
	}
	if r, _ := x.get("+14150000043"); r.Status != StatusEligible {
		t.Fatalf("another number keeps its own result: %+v", r)
	}
	odd := NumberResult{PhoneNumber: "4150000042", Status: StatusIneligible, RawStatus: "INELIGIBLE", SubStatus: "NUMBER_FORMAT_INELIGIBLE"}
	x.set(odd)
	if r, ok := x.get("4150000042"); !ok || r != odd {
		t.Fatalf("a number that is not E.164 is kept by its text: %+v, %v", r, ok)
	}
	if _, ok := x.get("+4150000042"); ok {
		t.Fatal("+4150000042 is another number")
	}
	if _, ok := x.get("+014150000042"); ok {
		t.Fatal("a leading zero is not E.164")
	}
}

// recheck records, round after round, a check of the same numbers and
// its results, in s and in m; the last round's check is left pending.
func recheck(ctx context.Context, t *testing.T, s *FileStore, m *MemoryStore, rounds int, sizes *[]int64) {
	t.Helper()
	phones := make([]string, 100)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1415555%04d", i)
	}
	for round := range rounds {
		id := ecID(round + 1)
		check := Check{RequestID: id, PhoneNumbers: phones}
		require.NoError(t, s.RecordCheck(ctx, check))
		require.NoError(t, m.RecordCheck(ctx, check))
		if sizes != nil {
			*sizes = append(*sizes, s.log.Size())
		}
		if round == rounds-1 {
			return
		}
		results := make([]NumberResult, len(phones))
		for i, p := range phones {
			results[i] = NumberResult{PhoneNumber: p, Status: StatusEligible, RawStatus: "ELIGIBLE", Reason: fmt.Sprintf("round %d", round), RequestID: id}
		}
		require.NoError(t, s.RecordResults(ctx, id, results))
		require.NoError(t, m.RecordResults(ctx, id, results))
		if sizes != nil {
			*sizes = append(*sizes, s.log.Size())
		}
	}
}

func sameAs(ctx context.Context, t *testing.T, s *FileStore, m *MemoryStore) {
	t.Helper()
	want, err := m.PendingChecks(ctx)
	require.NoError(t, err)
	got, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	phones := make([]string, 101)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1415555%04d", i)
	}
	wantR, err := m.Results(ctx, phones)
	require.NoError(t, err)
	gotR, err := s.Results(ctx, phones)
	require.NoError(t, err)
	assert.Equal(t, wantR, gotR)
}

// The file is compacted once more than half of it is dead (the records
// of ended checks, results replaced since): pending checks and the newest
// results are kept, in this run and after a reopen.
func TestFileStoreCompacts(t *testing.T) {
	ctx := seamCtx(t)
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	s := openWatched(t, path, nil)
	m := NewMemoryStore()
	// A check pending through every compaction.
	long := Check{RequestID: ecID(999), PhoneNumbers: []string{"+14155559999"}}
	require.NoError(t, s.RecordCheck(ctx, long))
	require.NoError(t, m.RecordCheck(ctx, long))
	// A result never recorded again: only compactions carry it.
	once := Check{RequestID: ecID(998), PhoneNumbers: []string{"+14155550100"}}
	onceResult := []NumberResult{{PhoneNumber: "+14155550100", Status: StatusIneligible, SubStatus: "ALREADY_IN_TWILIO", RequestID: once.RequestID}}
	for _, st := range []Store{s, m} {
		require.NoError(t, st.RecordCheck(ctx, once))
		require.NoError(t, st.RecordResults(ctx, once.RequestID, onceResult))
	}
	var sizes []int64
	recheck(ctx, t, s, m, 40, &sizes)
	compactions := 0
	var largest int64
	for i := 1; i < len(sizes); i++ {
		if sizes[i] < sizes[i-1] {
			compactions++
		}
		largest = max(largest, sizes[i])
	}
	t.Logf("%d records, %d compactions, the file at most %d bytes, at the end %d", len(sizes), compactions, largest, s.log.Size())
	assert.GreaterOrEqual(t, compactions, 2)
	assert.Less(t, largest, int64(minCompactBytes)+20<<10, "never much over the threshold")
	require.NoError(t, s.CompactionError())
	sameAs(ctx, t, s, m)
	require.NoError(t, s.Close())
	again := openWatched(t, path, nil)
	sameAs(ctx, t, again, m)
}

// No room to compact fails no record: each is recorded and returns nil,
// compaction is tried again only once the file grew by another live
// state, and happens once there is room.
func TestFileStoreNoRoomToCompact(t *testing.T) {
	ctx := seamCtx(t)
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	full := false
	fsys := &faultfs.FS{Fail: func(op, name string) error {
		if full && op == "write" && strings.Contains(name, ".tmp-") {
			return syscall.ENOSPC
		}
		return nil
	}}
	s := openWatched(t, path, fsys)
	full = true
	fsys.Reset()
	m := NewMemoryStore()
	recheck(ctx, t, s, m, 40, nil)
	require.ErrorIs(t, s.CompactionError(), syscall.ENOSPC)
	tries := 0
	for _, step := range fsys.Steps() {
		if step == "create-temp" {
			tries++
		}
	}
	size := s.log.Size()
	t.Logf("a file of %d bytes, %d compactions tried", size, tries)
	// Each try waits for the file to grow by half since the last one.
	bound := 1 + int(math.Ceil(math.Log(float64(size)/minCompactBytes)/math.Log(1.5)))
	assert.LessOrEqual(t, tries, bound, "tried again only as the file grows by half, not at every record")
	sameAs(ctx, t, s, m)

	full = false
	phones := make([]string, 100)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1415555%04d", i)
	}
	for n := 1000; n < 1100 && s.CompactionError() != nil; n++ {
		c := Check{RequestID: ecID(n), PhoneNumbers: phones}
		require.NoError(t, s.RecordCheck(ctx, c))
		require.NoError(t, m.RecordCheck(ctx, c))
		results := make([]NumberResult, len(phones))
		for i, p := range phones {
			results[i] = NumberResult{PhoneNumber: p, Status: StatusIneligible, Reason: fmt.Sprintf("round %d", n), RequestID: c.RequestID}
		}
		require.NoError(t, s.RecordResults(ctx, c.RequestID, results))
		require.NoError(t, m.RecordResults(ctx, c.RequestID, results))
	}
	require.NoError(t, s.CompactionError())
	assert.Less(t, s.log.Size(), size/2, "compacted once there was room")
	require.NoError(t, s.Close())
	sameAs(ctx, t, openWatched(t, path, nil), m)
}

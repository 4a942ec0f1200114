package preflight

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seamCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ecID(n int) string { return fmt.Sprintf("EC%032x", n) }

// watchedFile wraps the real file: it logs every write and sync, knows
// how many bytes were written and how many of them a sync covered, and
// fails a write or a sync when told.
type watchedFile struct {
	storeFile
	mu        sync.Mutex
	ops       []string
	written   int
	synced    int
	failWrite error
	shortBy   int
	failSync  error
	onSync    func()
}

func (w *watchedFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ops = append(w.ops, "write")
	if w.failWrite != nil {
		return 0, w.failWrite
	}
	n, err := w.storeFile.Write(p[:len(p)-w.shortBy])
	w.written += n
	return n, err
}

func (w *watchedFile) Sync() error {
	w.mu.Lock()
	w.ops = append(w.ops, "sync")
	onSync := w.onSync
	w.mu.Unlock()
	if onSync != nil {
		onSync()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failSync != nil {
		return w.failSync // the kernel may or may not have written it
	}
	if err := w.storeFile.Sync(); err != nil {
		return err
	}
	w.synced = w.written
	return nil
}

func (w *watchedFile) state() (ops []string, written, synced int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ops...), w.written, w.synced
}

// watchedFS opens real files through watchedFile and logs directory
// syncs; it fails opening or syncing the directory when told.
type watchedFS struct {
	file        *watchedFile
	failOpen    error
	failDirSync error
	dirSyncs    []string
}

func (fs *watchedFS) openFile(path string) (storeFile, error) {
	if fs.failOpen != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: fs.failOpen}
	}
	f, err := osFileSystem{}.openFile(path)
	if err != nil {
		return nil, err
	}
	fs.file = &watchedFile{storeFile: f}
	return fs.file, nil
}

func (fs *watchedFS) syncDir(dir string) error {
	fs.dirSyncs = append(fs.dirSyncs, dir)
	if fs.failDirSync != nil {
		return fs.failDirSync
	}
	return osFileSystem{}.syncDir(dir)
}

func openWatched(t *testing.T, path string) (*FileStore, *watchedFS) {
	t.Helper()
	fs := &watchedFS{}
	s, err := openFileStore(path, fs)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, fs
}

// A new file's header is synced, and so is its directory, before
// OpenFileStore returns; each record is written, then synced, and only
// then enters the index and the method returns.
func TestFileStoreSyncsBeforeReturning(t *testing.T) {
	ctx := seamCtx(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "preflight.jsonl")
	s, fs := openWatched(t, path)
	ops, written, synced := fs.file.state()
	assert.Equal(t, []string{"write", "sync"}, ops, "the header")
	assert.Equal(t, written, synced)
	assert.Equal(t, []string{dir}, fs.dirSyncs, "a file just created is made durable in its directory")

	check := Check{RequestID: ecID(1), PhoneNumbers: []string{"+14155550101"}}
	var atSync struct {
		onDisk  bool
		indexed bool
	}
	fs.file.onSync = func() {
		data, err := os.ReadFile(path)
		assert.NoError(t, err)
		atSync.onDisk = bytes.Contains(data, []byte(check.RequestID))
		atSync.indexed = s.indexLocked(check.RequestID) >= 0 // the caller holds s.mu
	}
	require.NoError(t, s.RecordCheck(ctx, check))
	ops, written, synced = fs.file.state()
	assert.Equal(t, []string{"write", "sync", "write", "sync"}, ops)
	assert.Equal(t, written, synced, "every byte written is synced before RecordCheck returns")
	assert.True(t, atSync.onDisk, "written before the sync")
	assert.False(t, atSync.indexed, "indexed only once synced")

	fs.file.onSync = nil
	require.NoError(t, s.RecordResults(ctx, check.RequestID, []NumberResult{{PhoneNumber: "+14155550101", Status: StatusEligible, RequestID: check.RequestID}}))
	ops, written, synced = fs.file.state()
	assert.Equal(t, []string{"write", "sync", "write", "sync", "write", "sync"}, ops, "results and the end of the check: one write")
	assert.Equal(t, written, synced)
}

// A failed sync (or write) reports the record as not recorded and leaves
// the index as it was; the store then refuses every record until it is
// opened again, and the reopened store finds the record whole or not at
// all.
func TestFileStoreFailedAppend(t *testing.T) {
	eio := &os.PathError{Op: "sync", Path: "x", Err: syscall.EIO}
	for _, tt := range []struct {
		name  string
		fail  func(*watchedFile)
		found bool // the record reached the file
	}{
		{"sync fails", func(w *watchedFile) { w.failSync = eio }, true},
		{"write fails", func(w *watchedFile) { w.failWrite = syscall.ENOSPC }, false},
		{"short write", func(w *watchedFile) { w.shortBy = 7 }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := seamCtx(t)
			path := filepath.Join(t.TempDir(), "preflight.jsonl")
			s, fs := openWatched(t, path)
			require.NoError(t, s.RecordCheck(ctx, Check{RequestID: ecID(1), PhoneNumbers: []string{"+14155550101"}}))

			tt.fail(fs.file)
			err := s.RecordCheck(ctx, Check{RequestID: ecID(2), PhoneNumbers: []string{"+14155550102"}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), ecID(2))
			err = s.RecordResults(ctx, ecID(1), nil)
			require.Error(t, err, "broken until reopened")
			assert.Contains(t, err.Error(), "close and open the store again")
			pending, perr := s.PendingChecks(ctx)
			require.NoError(t, perr, "reads still answer")
			require.Len(t, pending, 1, "the failed record is not in the index")
			assert.Equal(t, ecID(1), pending[0].RequestID)
			if tt.name == "sync fails" {
				require.ErrorIs(t, err, syscall.EIO)
			}
			require.NoError(t, s.Close())

			again, err := OpenFileStore(path)
			require.NoError(t, err)
			t.Cleanup(func() { _ = again.Close() })
			pending, err = again.PendingChecks(ctx)
			require.NoError(t, err)
			ids := make([]string, len(pending))
			for i, c := range pending {
				ids[i] = c.RequestID
			}
			if tt.found {
				assert.Equal(t, []string{ecID(1), ecID(2)}, ids)
			} else {
				assert.Equal(t, []string{ecID(1)}, ids)
			}
			require.NoError(t, again.RecordResults(ctx, ecID(1), nil), "the reopened store appends")
		})
	}
}

// Opening where the file cannot be created (a read-only directory, as a
// non-root process sees it) or the directory cannot be synced fails with
// the path named and the cause kept.
func TestFileStoreOpenFailsThroughSeam(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "preflight.jsonl")
	_, err := openFileStore(path, &watchedFS{failOpen: syscall.EROFS})
	require.ErrorIs(t, err, syscall.EROFS)
	assert.Contains(t, err.Error(), path)
	_, err = openFileStore(path, &watchedFS{failOpen: syscall.EACCES})
	require.ErrorIs(t, err, os.ErrPermission)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)

	boom := errors.New("directory sync failed")
	_, err = openFileStore(path, &watchedFS{failDirSync: boom})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "sync directory "+dir)
}

func TestResultIndex_SharesResultsAndKeepsTheNewest(t *testing.T) {
	x := newResultIndex()
	for i := range 10000 {
		x.set(NumberResult{PhoneNumber: fmt.Sprintf("+1415%07d", i), Status: StatusEligible, RawStatus: "ELIGIBLE", RequestID: "EC1"})
	}
	if len(x.shapes) != 1 {
		t.Fatalf("10000 eligible numbers of one check: %d shapes, want 1", len(x.shapes))
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

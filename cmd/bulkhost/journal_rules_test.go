package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// recordingFS is the operating system's file system with every step the
// journal takes recorded, and any step made to fail. A failing step can
// also stand for a crash: then nothing is cleaned up after it, as a killed
// process cleans nothing up.
type recordingFS struct {
	mu  sync.Mutex
	ops []string
	// fail makes the n-th (1-based, counting from the first) occurrence of
	// the step named failOp fail with failErr; 0 never.
	failOp  string
	failAt  int
	failErr error
	seen    map[string]int
	// crash leaves everything as it is once a step has failed: Remove
	// does nothing, as a killed process removes nothing.
	crash   bool
	crashed bool
	// partial makes a failing write write half of its data first.
	partial bool
}

func (r *recordingFS) step(op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
	if r.seen == nil {
		r.seen = make(map[string]int)
	}
	r.seen[op]++
	if op == r.failOp && r.seen[op] == r.failAt {
		r.crashed = r.crash
		return fmt.Errorf("%s: %w", op, r.failErr)
	}
	return nil
}

func (r *recordingFS) steps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...)
}

func (r *recordingFS) CreateTemp(dir, pattern string) (tempFile, error) {
	if err := r.step("create-temp"); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &recordingFile{f: f, fs: r}, nil
}

func (r *recordingFS) Rename(oldpath, newpath string) error {
	if err := r.step("rename"); err != nil {
		return err
	}
	return os.Rename(oldpath, newpath)
}

func (r *recordingFS) Remove(name string) error {
	r.mu.Lock()
	crashed := r.crashed
	r.ops = append(r.ops, "remove")
	r.mu.Unlock()
	if crashed {
		return nil
	}
	return os.Remove(name)
}

func (r *recordingFS) SyncDir(dir string) error {
	if err := r.step("sync-dir"); err != nil {
		return err
	}
	return syncDir(dir)
}

type recordingFile struct {
	f  *os.File
	fs *recordingFS
}

func (f *recordingFile) Name() string { return f.f.Name() }

func (f *recordingFile) Write(p []byte) (int, error) {
	if err := f.fs.step("write"); err != nil {
		if f.fs.partial {
			n, _ := f.f.Write(p[:len(p)/2])
			return n, err
		}
		return 0, err
	}
	return f.f.Write(p)
}

func (f *recordingFile) Sync() error {
	if err := f.fs.step("sync"); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *recordingFile) Close() error {
	if err := f.fs.step("close"); err != nil {
		_ = f.f.Close()
		return err
	}
	return f.f.Close()
}

// The journal's data reaches the disk before it replaces the old journal,
// and the replacement reaches the disk before the step it records: write
// the temporary file, sync it, close it, rename it over the journal, sync
// the directory. Nothing else, in no other order.
func TestJournalWriteStepsInOrder(t *testing.T) {
	dir := t.TempDir()
	fsys := &recordingFS{}
	j := testJournal(t, filepath.Join(dir, "j.json"))
	j.fs = fsys
	require.NoError(t, j.save())
	assert.Equal(t, []string{"create-temp", "write", "sync", "close", "rename", "sync-dir"}, fsys.steps())
	got, err := loadJournal(j.path, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, batchStates(j), batchStates(got))
}

// A crash at any step of a save leaves the old journal, whole, in place
// (the new one only once the rename is done); a crash after a temporary
// file was written leaves it behind, and the next run removes it.
func TestJournalCrashAtEveryStepLeavesAWholeJournal(t *testing.T) {
	for _, op := range []string{"create-temp", "write", "sync", "close", "rename", "sync-dir"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "j.json")
			j := testJournal(t, path)
			require.NoError(t, j.save())
			old, err := os.ReadFile(path)
			require.NoError(t, err)

			j.fs = &recordingFS{failOp: op, failAt: 1, failErr: errors.New("killed"), crash: true, partial: true}
			j.Batches[0].State = stateSending
			require.Error(t, j.save())

			got, err := loadJournal(path, nil, time.Now)
			require.NoError(t, err, "the journal on disk is whole after a crash at %s", op)
			now, err := os.ReadFile(path)
			require.NoError(t, err)
			if op == "sync-dir" {
				// Renamed: the new journal is in place.
				assert.Equal(t, stateSending, got.Batches[0].State)
			} else {
				assert.Equal(t, old, now, "the old journal, byte for byte")
			}

			require.NoError(t, removeStaleTemps(path))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "stale temporary files are removed")
			assert.Equal(t, "j.json", entries[0].Name())
		})
	}
}

// When "sending" cannot be recorded (a full disk, a read-only directory),
// the create is not sent: the journal would not know of it.
func TestNoCreateWhenSendingCannotBeSaved(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   string
		err  error
		want string
	}{
		{"full disk", "write", syscall.ENOSPC, "no space left on device"},
		{"read-only directory", "create-temp", syscall.EROFS, "read-only file system"},
		{"sync fails", "sync", syscall.EIO, "input/output error"},
		{"rename fails", "rename", syscall.EACCES, "permission denied"},
		{"directory sync fails", "sync-dir", syscall.EIO, "input/output error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			// The first save writes the new journal; the second records
			// batch 1 as "sending".
			h.fs = &recordingFS{failOp: tc.op, failAt: 2, failErr: tc.err}
			csvPath := writeCSV(t, threeNumbers)
			require.Equal(t, exitError, h.run(submitArgs(csvPath, "-wait")...))
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Zero(t, countMethod(h.srv, "POST"), "no create without its journal entry")
			j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
			require.NoError(t, err)
			if tc.op == "sync-dir" {
				// Renamed but maybe not durable: the journal may say
				// "sending" for a create that never went out, which the
				// next run checks with Twilio before sending it.
				assert.Equal(t, []batchState{stateSending}, batchStates(j))
			} else {
				assert.Equal(t, []batchState{statePlanned}, batchStates(j))
				assert.Empty(t, j.Batches[0].Attempts)
			}

			// With the disk fixed, the same command goes on.
			h.fs = nil
			require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-wait", "-poll", "1ms", "-settle", "100ms")...))
			assert.Equal(t, 1, countMethod(h.srv, "POST"))
		})
	}
}

// The journal's lock is held from the start of a run to its end: while
// the create is in flight and while the numbers are followed, another run
// on the same journal is refused.
func TestLockHeldForTheWholeRun(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, fivePlain)
	path := csvPath + journalSuffix
	var checked []string
	h.checkpoint = func(step string) {
		if step != stepAfterSending && step != stepAfterAnswer && step != stepMidWait {
			return
		}
		unlock, err := lockJournal(path)
		if err == nil {
			unlock()
			checked = append(checked, step+": NOT LOCKED")
			return
		}
		checked = append(checked, step+": locked")
	}
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2", "-wait", "-poll", "1ms")...))
	require.NotEmpty(t, checked)
	for _, c := range checked {
		assert.True(t, strings.HasSuffix(c, ": locked"), c)
	}
	assert.Contains(t, checked, stepMidWait+": locked")
	// Released at the end.
	unlock, err := lockJournal(path)
	require.NoError(t, err)
	unlock()
}

// A journal named through a symbolic link is the link's target: it is
// locked, read and written there, the link stays a link, and a run through
// the target resumes the same migration.
func TestJournalThroughSymlink(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, threeNumbers)
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	require.NoError(t, os.Symlink("real.json", link)) // relative, to a file not created yet

	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-state", link)...))
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&os.ModeSymlink, "the link is still a link")
	j, err := loadJournal(target, nil, time.Now)
	require.NoError(t, err)
	require.NotNil(t, j, "the journal is the link's target")
	assert.Equal(t, []batchState{stateAccepted}, batchStates(j))

	// Through the target: the same migration, nothing sent again.
	h.stderr.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-state", target)...))
	assert.Contains(t, h.stderr.String(), "resuming from journal "+target)
	assert.Equal(t, 1, countMethod(h.srv, "POST"))

	// One lock for both names.
	unlock, err := lockJournal(target)
	require.NoError(t, err)
	defer unlock()
	h.stderr.Reset()
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-state", link)...))
	assert.Contains(t, h.stderr.String(), "is in use by another bulkhost run")

	// A directory reached through a link resolves too.
	linkedDir := filepath.Join(t.TempDir(), "dirlink")
	require.NoError(t, os.Symlink(dir, linkedDir))
	got, err := resolvePath(filepath.Join(linkedDir, "link.json"))
	require.NoError(t, err)
	assert.Equal(t, target, got)
}

func TestResolvePathLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, os.Symlink(b, a))
	require.NoError(t, os.Symlink(a, b))
	_, err := resolvePath(a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "too many levels of symbolic links")
}

// A journal whose numbers are not the input's (edited by hand, say) is
// refused with what differs, and nothing is sent.
func TestJournalNumbersMustMatchTheInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(j *journal)
		want string
	}{
		{"no batches", func(j *journal) { j.Batches = nil; j.Input.Numbers = 0 },
			"3 numbers of the input are not in it (+14155550101, +14155550102, +14155550103)"},
		{"a number not in the input", func(j *journal) { j.Batches[0].Numbers[2].PhoneNumber = "+14155550199" },
			"1 number of the input is not in it (+14155550103); 1 number in it is not in the input (+14155550199)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			csvPath := writeCSV(t, threeNumbers)
			path := csvPath + journalSuffix
			require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-dry-run")...))
			// A journal for this input, planned but not sent, then edited.
			in := readTestInput(t, csvPath)
			j := newJournal(path, nil, in.id, []string{"+14155550101", "+14155550102", "+14155550103"}, []int{2, 3, 4}, 1000, time.Now)
			tc.edit(j)
			require.NoError(t, j.save())
			before, err := os.ReadFile(path)
			require.NoError(t, err)

			h.stderr.Reset()
			require.Equal(t, exitError, h.run(submitArgs(csvPath)...))
			assert.Contains(t, h.stderr.String(), "does not hold the numbers of")
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Contains(t, h.stderr.String(), "restore it from a backup, or name a new journal with -state")
			assert.Empty(t, h.srv.Requests())
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, before, after, "left as it was")
		})
	}
}

func readTestInput(t *testing.T, csvPath string) *input {
	t.Helper()
	c := &cli{getenv: func(string) string { return "" }}
	in := c.readInput(t.Context(), &config{csvPath: csvPath, email: "owner@example.com", addressSID: addressSID})
	require.Empty(t, in.problems)
	return in
}

// A run with other contact flags than the migration was started with is
// refused, naming each flag that differs.
func TestContactFlagsMustMatchTheJournal(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, fivePlain)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST"}) // batch 1 goes through
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 400})
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-batch-size", "2", "-contact-title", "CTO")...))
	posts := countMethod(h.srv, "POST")

	h.stderr.Reset()
	require.Equal(t, exitError, h.run(append(submitArgs(csvPath, "-batch-size", "2"), "-email", "new@example.com")...))
	errOut := h.stderr.String()
	assert.Contains(t, errOut, `-email: the journal was started with "owner@example.com", this run has "new@example.com"`)
	assert.Contains(t, errOut, `-contact-title: the journal was started with "CTO", this run has ""`)
	assert.Contains(t, errOut, "Run with the flags the migration was started with")
	assert.Equal(t, posts, countMethod(h.srv, "POST"), "nothing sent")

	h.stderr.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2", "-contact-title", "CTO")...))
	assertOneOrderEach(t, h.srv, fivePhones...)
}

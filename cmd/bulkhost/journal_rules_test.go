package main

import (
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
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/internal/faultfs"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// When "sending" cannot be recorded (a full disk, a read-only directory),
// the create is not sent: the journal would not know of it.
func TestNoCreateWhenSendingCannotBeSaved(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   string
		at   int
		err  error
		want string
		// journal is whether the journal exists after the failure.
		journal bool
	}{
		// The journal is started with one write and one sync of a new
		// file; recording batch 1 as "sending" appends with the second.
		{"full disk", "write", 2, syscall.ENOSPC, "no space left on device", true},
		{"sync fails", "sync", 2, syscall.EIO, "input/output error", true},
		{"read-only directory", "create-temp", 1, syscall.EROFS, "read-only file system", false},
		{"directory sync fails at the start", "sync-dir", 1, syscall.EIO, "input/output error", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.fs = &faultfs.FS{FailOp: tc.op, FailAt: tc.at, FailErr: tc.err}
			csvPath := writeCSV(t, threeNumbers)
			require.Equal(t, exitError, h.run(submitArgs(csvPath, "-wait")...))
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Zero(t, countMethod(h.srv, "POST"), "no create without its journal entry")
			j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
			require.NoError(t, err)
			if tc.journal {
				require.NotNil(t, j)
				assert.Equal(t, []batchState{statePlanned}, batchStates(j), "the failed record was undone")
				assert.Empty(t, j.Batches[0].Attempts)
			} else if j != nil {
				assert.Equal(t, []batchState{statePlanned}, batchStates(j))
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
		unlock, err := lockStore(t, path)
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
	unlock, err := lockStore(t, path)
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
	unlock, err := lockStore(t, target)
	require.NoError(t, err)
	defer unlock()
	h.stderr.Reset()
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-state", link)...))
	assert.Contains(t, h.stderr.String(), "is in use by another bulkhost run")

	// A directory reached through a link resolves too.
	linkedDir := filepath.Join(t.TempDir(), "dirlink")
	require.NoError(t, os.Symlink(dir, linkedDir))
	got, err := logstore.ResolvePath(filepath.Join(linkedDir, "link.json"))
	require.NoError(t, err)
	assert.Equal(t, target, got)
}

func TestResolvePathLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, os.Symlink(b, a))
	require.NoError(t, os.Symlink(a, b))
	_, err := logstore.ResolvePath(a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "too many levels of symbolic links")
}

// A journal whose numbers are not the input's (edited by hand, say) is
// refused with what differs, and nothing is sent.
func TestJournalNumbersMustMatchTheInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		numbers []string
		want    string
	}{
		{"no batches", nil,
			"3 numbers of the input are not in it (+14155550101, +14155550102, +14155550103)"},
		{"a number not in the input", []string{"+14155550101", "+14155550102", "+14155550199"},
			"1 number of the input is not in it (+14155550103); 1 number in it is not in the input (+14155550199)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			csvPath := writeCSV(t, threeNumbers)
			path := csvPath + journalSuffix
			// A journal with this input's digest and contact, but other
			// numbers, as a hand edit would leave it.
			in := readTestInput(t, csvPath)
			st, err := logstore.Open(path, logstore.Options{})
			require.NoError(t, err)
			var numbers []migrate.NumberState
			for i, p := range tc.numbers {
				numbers = append(numbers, migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: p}, Line: i + 2})
			}
			meta := migrate.Meta{App: appMark(false), Input: in.id, BatchSize: 1000,
				Contact: migrate.Contact{Email: "owner@example.com", AddressSID: addressSID}}
			// Not through migrate.Batches, which refuses an empty plan:
			// this is a hand edit.
			batches := func(yield func([]migrate.NumberState, error) bool) {
				if len(numbers) > 0 {
					yield(numbers, nil)
				}
			}
			require.NoError(t, st.Start(t.Context(), meta, batches))
			require.NoError(t, st.Close())
			before, err := os.ReadFile(path)
			require.NoError(t, err)

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

// lockStore takes the lock of the journal at path as another run would.
func lockStore(t *testing.T, path string) (func(), error) {
	t.Helper()
	st, err := logstore.Open(path, logstore.Options{})
	if err != nil {
		return nil, err
	}
	return func() { _ = st.Close() }, nil
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

func numberSeq(numbers []migrate.NumberState) iter.Seq2[migrate.NumberState, error] {
	return func(yield func(migrate.NumberState, error) bool) {
		for _, n := range numbers {
			if !yield(n, nil) {
				return
			}
		}
	}
}

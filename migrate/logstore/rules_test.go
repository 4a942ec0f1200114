package logstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// saveAll saves batch index with every number changed (round names the
// change), and returns the batch's new version.
func saveAll(t *testing.T, st *logstore.Store, index, round int) int64 {
	t.Helper()
	ctx := context.Background()
	b, err := st.Batch(ctx, index)
	require.NoError(t, err)
	ns, err := st.Numbers(ctx, index)
	require.NoError(t, err)
	for k := range ns {
		ns[k].Status = fmt.Sprintf("status-%d", round)
		ns[k].HostingOrderSID = fmt.Sprintf("HR%032x", round*100000+k)
		ns[k].Checked = time.Unix(int64(round), 0).UTC()
	}
	b.Counts = map[string]int{fmt.Sprintf("status-%d", round): len(ns)}
	require.NoError(t, st.SaveBatch(ctx, &b, ns), "round %d", round)
	return b.Version
}

// Compaction happens across runs too: 20 short runs of a few saves each
// leave the file within twice its live state.
func TestCompactionAcrossShortRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 600, 150)
	require.NoError(t, st.Close())
	compacted := 0
	var largest int64 // the largest file a run left
	for run := range 20 {
		st, err := logstore.Open(path, logstore.Options{})
		require.NoError(t, err)
		for i := range 3 {
			before := st.Size()
			saveAll(t, st, 1+(run*3+i)%4, run*3+i)
			if st.Size() < before {
				compacted++
			}
		}
		largest = max(largest, st.Size())
		require.NoError(t, st.Close())
	}
	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	require.NoError(t, st.Compact(context.Background()))
	live := st.Size()
	t.Logf("20 runs: the largest file a run left %d bytes, live state %d (%.2fx), compacted %d times", largest, live, float64(largest)/float64(live), compacted)
	assert.LessOrEqual(t, largest, 2*live, "every run leaves the file within twice the live state")
	assert.GreaterOrEqual(t, compacted, 3, "compacted again and again, across runs")
	ns, err := st.Numbers(context.Background(), 4)
	require.NoError(t, err)
	assert.Equal(t, "status-59", ns[149].Status, "the last save of batch 4")
}

// No room to compact fails no step: the save that triggered it is
// recorded and returns nil, the migration goes on, and the compaction is
// not tried again at every step, only once the log has grown by another
// live state; once there is room, it happens.
func TestNoRoomToCompact(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	fsys := &faultfs.FS{}
	st := started(t, path, logstore.Options{FS: fsys}, 600, 150)
	full := true
	fsys.Fail = func(op, name string) error {
		if full && op == "write" && strings.Contains(name, ".tmp-") {
			return syscall.ENOSPC
		}
		return nil
	}
	fsys.Reset()
	start := st.Size() // a log just started is its live state
	var versions [5]int64
	for round := range 24 {
		index := 1 + round%4
		versions[index] = saveAll(t, st, index, round)
	}
	tries := 0
	for _, s := range fsys.Steps() {
		if s == "create-temp" {
			tries++
		}
	}
	require.ErrorIs(t, st.CompactionError(), syscall.ENOSPC, "the failed compaction is kept")
	assert.Positive(t, tries, "compaction was due")
	grown := st.Size() - start
	t.Logf("%d saves appended %d bytes to a log of %d; %d compactions tried", 24, grown, start, tries)
	assert.LessOrEqual(t, int64(tries), 1+grown/start, "tried again only once the log grew by another live state, not at every save")

	full = false
	for round := 24; round < 48 && st.CompactionError() != nil; round++ {
		index := 1 + round%4
		versions[index] = saveAll(t, st, index, round)
	}
	require.NoError(t, st.CompactionError(), "compacted once there was room")
	require.NoError(t, st.Close())

	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	for index := 1; index <= 4; index++ {
		b, err := st.Batch(ctx, index)
		require.NoError(t, err)
		assert.Equal(t, versions[index], b.Version, "batch %d: every save is recorded", index)
	}
}

// A failed directory sync after a compaction's rename fails the store
// closed: the save before it is recorded (in the old file and the new
// one), but nothing is built on a new file that may not be there after a
// power cut.
func TestFailedDirectorySyncInCompaction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	fsys := &faultfs.FS{}
	st := started(t, path, logstore.Options{FS: fsys}, 600, 150)
	failing := true
	fsys.Fail = func(op, _ string) error {
		if failing && op == "sync-dir" {
			return syscall.EIO
		}
		return nil
	}
	fsys.Reset()
	var acked int64
	round := 0
	for ; round < 40 && !slices.Contains(fsys.Steps(), "sync-dir"); round++ {
		acked = saveAll(t, st, 1, round)
	}
	require.Contains(t, fsys.Steps(), "sync-dir", "a compaction was tried")
	failing = false

	b, err := st.Batch(ctx, 1)
	require.ErrorIs(t, err, logstore.ErrFailed, "failed closed")
	b.Version = acked
	require.ErrorIs(t, st.SaveBatch(ctx, &b, nil), logstore.ErrFailed, "no step acknowledged on a rename that may be lost")
	require.NoError(t, st.Close())

	require.NoError(t, fsys.PowerCut())
	st, err = logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	got, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, acked, got.Version, "every acknowledged save is found after a power cut")
	ns, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("status-%d", round-1), ns[0].Status)
}

// lines returns the store file's lines.
func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	ls := strings.SplitAfter(string(data), "\n")
	return ls[:len(ls)-1]
}

func write(t *testing.T, path string, ls []string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(ls, "")), 0o600))
}

// Versions increase by one along the log: a save record removed from
// the middle, or two swapped, is damage, refused.
func TestVersionsAlongTheLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 3, 2)
	for range 3 {
		b, err := st.Batch(ctx, 1)
		require.NoError(t, err)
		b.Attempts = append(b.Attempts, migrate.Attempt{Kind: "reconcile", Numbers: len(b.Attempts)})
		require.NoError(t, st.SaveBatch(ctx, &b, nil))
	}
	require.NoError(t, st.Close())
	whole := lines(t, path)
	n := len(whole) // header, plan 1, save 1, plan 2, save 2, meta, then versions 1, 2, 3
	require.Equal(t, 9, n)

	for _, tc := range []struct {
		name string
		ls   []string
		line int
		msg  string
	}{
		{"a record removed", slices.Delete(slices.Clone(whole), n-2, n-1), n - 1, "goes from version 1 to 3"},
		{"two records swapped", append(slices.Clone(whole[:n-2]), whole[n-1], whole[n-2]), n - 1, "goes from version 1 to 3"},
		{"a record twice", append(slices.Clone(whole), whole[n-1]), n + 1, "goes from version 3 to 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(t, path, tc.ls)
			_, err := logstore.Open(path, logstore.Options{})
			var se *logstore.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.line, se.Line)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	write(t, path, whole)
	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
}

// A complete last line (with its newline) that fails its checksum is
// damage: refused, not cut off.
func TestDamagedLastLineIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 3, 2)
	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	b.State = migrate.StateSending
	require.NoError(t, st.SaveBatch(ctx, &b, nil))
	require.NoError(t, st.Close())
	ls := lines(t, path)
	last := len(ls) - 1
	ls[last] = strings.Replace(ls[last], "sending", "planned", 1)
	write(t, path, ls)
	damaged, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = logstore.Open(path, logstore.Options{})
	var se *logstore.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, last+1, se.Line)
	assert.Equal(t, int64(len(strings.Join(ls[:last], ""))), se.Offset)
	assert.Contains(t, err.Error(), "checksum does not match")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, damaged, after, "not cut off")
}

// reframe rewrites line i of the file through edit, with a right
// checksum: what a newer writer would have written.
func reframe(t *testing.T, path string, i int, edit func(string) string) {
	t.Helper()
	ls := lines(t, path)
	data := edit(strings.TrimSuffix(ls[i][9:], "\n"))
	ls[i] = string(recordlog.Frame([]byte(data)))
	write(t, path, ls)
}

// A member written by a newer version is never silently dropped: in a
// record, a batch or the meta it is refused, naming it; in a number's
// settings it is kept (the SDK's Number keeps members it does not know)
// and survives compaction.
func TestMembersOfANewerWriter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		line int
		edit func(string) string
	}{
		{"record", 2, func(s string) string { return strings.Replace(s, `{"k":`, `{"priority":1,"k":`, 1) }},
		{"batch", 3, func(s string) string { return strings.Replace(s, `"state":`, `"claimed_by":"w1","state":`, 1) }},
		{"meta", 6, func(s string) string { return strings.Replace(s, `"batch_size":`, `"tenant":"t1","batch_size":`, 1) }},
		{"number state", 2, func(s string) string { return strings.Replace(s, `"line":`, `"carrier":"x","line":`, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.log")
			st := started(t, path, logstore.Options{}, 3, 2)
			require.NoError(t, st.Close())
			reframe(t, path, tc.line-1, tc.edit)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			_, err = logstore.Open(path, logstore.Options{})
			var se *logstore.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.line, se.Line)
			assert.Contains(t, err.Error(), "unknown field")
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, before, after, "left as it is")
		})
	}

	t.Run("number settings", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.log")
		st := started(t, path, logstore.Options{}, 3, 2)
		require.NoError(t, st.Close())
		reframe(t, path, 1, func(s string) string {
			return strings.Replace(s, `"phone_number":`, `"future_option":"on","phone_number":`, 1)
		})
		st, err := logstore.Open(path, logstore.Options{})
		require.NoError(t, err)
		defer func() { _ = st.Close() }()
		require.NoError(t, st.Compact(ctx))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.Contains(data, []byte(`"future_option":"on"`)), "kept through compaction")
		ns, err := st.Numbers(ctx, 1)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"future_option": "on"}, ns[0].Number.Extra)
	})
}

// A second Open of a store is refused with ErrLocked while the first is
// open, in the same process too.
func TestSecondOpenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 1, 1)
	defer func() { _ = st.Close() }()
	_, err := logstore.Open(path, logstore.Options{})
	require.ErrorIs(t, err, logstore.ErrLocked)
	require.True(t, errors.Is(err, recordlog.ErrLocked))
}

// A journal written by the released format-1 writer (testdata, with the
// meta members of that release) still opens and reads the same: a change
// of the types that drops a member must keep reading it.
func TestReadsReleasedFormat1(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("testdata", "format1.log"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "m.log")
	require.NoError(t, os.WriteFile(path, data, 0o600)) //nolint:gosec // the test's own temporary file
	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, meta.Batches)
	assert.Equal(t, 3, meta.Input.Numbers)
	assert.Equal(t, "owner@example.com", meta.Contact.Email)
	assert.JSONEq(t, `{"tool":"bulkhost","demo":true}`, string(meta.App), "the release's tool is the program's data now")
	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, migrate.StateAccepted, b.State)
	assert.Equal(t, int64(2), b.Version)
	assert.Equal(t, []string{"BH0123456789abcdef0123456789abcdef"}, b.BulkHostingSIDs)
	ns, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "completed", ns[0].Status)
	assert.Equal(t, "HR0123456789abcdef0123456789abcdef", ns[0].HostingOrderSID)
	assert.Empty(t, ns[1].Status)
	b.State = migrate.StateAccepted
	require.NoError(t, st.SaveBatch(ctx, &b, nil), "and it goes on")
	require.NoError(t, st.Compact(ctx))
	meta, err = st.Meta(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"tool":"bulkhost","demo":true}`, string(meta.App), "and a compaction keeps it")
}

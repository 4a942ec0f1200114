package recordlog_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/internal/faultfs"
	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
)

// opened is a log and the records its Open read.
type opened struct {
	log     *recordlog.Log
	records []recordlog.Record
}

func open(t *testing.T, path string, o recordlog.Options) (*opened, error) {
	t.Helper()
	out := &opened{}
	if o.Name == "" {
		o.Name, o.Version = "test-log", 2
	}
	o.Load = func(r recordlog.Record) error {
		r.Data = bytes.Clone(r.Data)
		out.records = append(out.records, r)
		return nil
	}
	l, err := recordlog.Open(path, o)
	if err != nil {
		return nil, err
	}
	out.log = l
	t.Cleanup(func() { _ = l.Close() })
	return out, nil
}

func mustOpen(t *testing.T, path string, o recordlog.Options) *opened {
	t.Helper()
	o.Create = true
	op, err := open(t, path, o)
	require.NoError(t, err)
	return op
}

func payloads(op *opened) []string {
	var out []string
	for _, r := range op.records {
		out = append(out, string(r.Data))
	}
	return out
}

// withRecords is a log at a new path holding n records {"n":i}.
func withRecords(t *testing.T, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.log")
	op := mustOpen(t, path, recordlog.Options{})
	for i := range n {
		_, err := op.log.Append(fmt.Appendf(nil, `{"n":%d}`, i))
		require.NoError(t, err)
	}
	require.NoError(t, op.log.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return path, data
}

// One framing: a header naming the format and version, then a line per
// record (checksum, space, payload, newline); what is appended reads back
// in order, with its line and place.
func TestFramingAndReadBack(t *testing.T) {
	path, data := withRecords(t, 3)
	lines := strings.SplitAfter(string(data), "\n")
	require.Len(t, lines, 5) // and an empty rest
	assert.Equal(t, string(recordlog.Frame([]byte(`{"k":"header","store":"test-log","format":2}`))), lines[0])
	assert.Equal(t, fmt.Sprintf("%08x {\"n\":1}\n", crc32c(`{"n":1}`)), lines[2])

	op := mustOpen(t, path, recordlog.Options{})
	assert.Equal(t, []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}, payloads(op))
	assert.Equal(t, 2, op.records[0].Line)
	assert.Equal(t, 2, op.log.Version())
	assert.Equal(t, int64(len(data)), op.log.Size())
	got, err := op.log.Read(op.records[1].Span)
	require.NoError(t, err)
	assert.Equal(t, `{"n":1}`, string(got))
	sp, err := op.log.Append([]byte(`{"n":3}`))
	require.NoError(t, err)
	assert.Equal(t, recordlog.Span{Off: int64(len(data)), N: int64(len(lines[2]))}, sp)
	_, err = op.log.Append([]byte("two\nlines"))
	require.ErrorContains(t, err, "may not hold a newline")
	_, err = op.log.Read(recordlog.Span{Off: 3, N: 20})
	require.Error(t, err, "not a record's place")
}

// The torn-tail rule: a last line without its newline is cut off; the
// next append starts where the last whole record ended.
func TestTornTailIsCut(t *testing.T) {
	for _, tear := range []struct {
		name string
		add  string
	}{
		{"one byte", "0"},
		{"the checksum", fmt.Sprintf("%08x", crc32c(`{"n":9}`))},
		{"all but the newline", fmt.Sprintf("%08x {\"n\":9}", crc32c(`{"n":9}`))},
		{"garbage", "\x00\x00\x00zz"},
	} {
		t.Run(tear.name, func(t *testing.T) {
			path, whole := withRecords(t, 2)
			require.NoError(t, os.WriteFile(path, append(bytes.Clone(whole), tear.add...), 0o600))
			op := mustOpen(t, path, recordlog.Options{})
			assert.Equal(t, []string{`{"n":0}`, `{"n":1}`}, payloads(op))
			assert.Equal(t, int64(len(whole)), op.log.Size())
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, whole, after, "cut back to the last whole record")
		})
	}
}

// A complete line, newline included, that fails its checksum is damage,
// the last line too: refused with its line and offset, the file untouched.
func TestCompleteBadLineIsDamage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(lines []string) []string
		line   int
	}{
		{"last line, a digit changed", func(l []string) []string { l[3] = strings.Replace(l[3], "2", "7", 1); return l }, 4},
		{"last line, zeros and a newline", func(l []string) []string { l[3] = strings.Repeat("\x00", len(l[3])-1) + "\n"; return l }, 4},
		{"middle line", func(l []string) []string { l[2] = strings.Replace(l[2], "1", "5", 1); return l }, 3},
		{"an empty line", func(l []string) []string { l[1] = "\n"; return l }, 2},
		{"a bad checksum digit", func(l []string) []string { l[1] = "g" + l[1][1:]; return l }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, whole := withRecords(t, 3)
			lines := tc.damage(strings.SplitAfter(string(whole), "\n")[:4])
			damaged := []byte(strings.Join(lines, ""))
			require.NoError(t, os.WriteFile(path, damaged, 0o600))
			_, err := open(t, path, recordlog.Options{Create: true})
			var de *recordlog.DamageError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.line, de.Line)
			assert.Equal(t, int64(len(strings.Join(lines[:tc.line-1], ""))), de.Offset)
			assert.Contains(t, err.Error(), fmt.Sprintf("line %d (byte %d)", tc.line, de.Offset))
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, damaged, after, "never overwritten")
		})
	}
}

// The header names the format: another format, a newer version or no
// header at all is refused and left alone; a file of no log can be
// converted by its owner; a header cut short (or an empty file) is a log
// never written to.
func TestHeader(t *testing.T) {
	path, whole := withRecords(t, 1)
	_, err := open(t, path, recordlog.Options{Name: "other-log", Version: 1})
	var fe *recordlog.FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "test-log", fe.Name)
	_, err = open(t, path, recordlog.Options{Name: "test-log", Version: 1})
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, err.Error(), "newer version (log format 2")

	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.json")
	content := []byte(`{"format": 2, "tool": "bulkhost"}`)
	require.NoError(t, os.WriteFile(foreign, content, 0o600))
	_, err = open(t, foreign, recordlog.Options{Create: true})
	require.ErrorAs(t, err, &fe)
	after, err := os.ReadFile(foreign)
	require.NoError(t, err)
	assert.Equal(t, content, after, "a file of no log is never cut nor overwritten")

	refuse := errors.New("an old journal")
	_, err = open(t, foreign, recordlog.Options{Foreign: func(io.Reader) ([][]byte, error) { return nil, refuse }})
	require.ErrorIs(t, err, refuse)

	op, err := open(t, foreign, recordlog.Options{Foreign: func(r io.Reader) ([][]byte, error) {
		all, err := io.ReadAll(r)
		return [][]byte{[]byte(`{"was":` + string(all) + `}`)}, err
	}})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"was":{"format": 2, "tool": "bulkhost"}}`}, payloads(op), "converted, and read as a log")
	require.NoError(t, op.log.Close())
	op = mustOpen(t, foreign, recordlog.Options{})
	assert.Len(t, op.records, 1, "the conversion is on the disk")

	header := whole[:bytes.IndexByte(whole, '\n')+1]
	for _, n := range []int{0, 1, len(header) / 2, len(header) - 1} {
		half := filepath.Join(dir, fmt.Sprintf("half-%d.log", n))
		require.NoError(t, os.WriteFile(half, header[:n], 0o600))
		op := mustOpen(t, half, recordlog.Options{})
		assert.Empty(t, op.records)
		data, err := os.ReadFile(half)
		require.NoError(t, err)
		assert.Equal(t, header, data, "a new header, whole")
	}
}

// One lock: a second Open of the same log is refused, through a symbolic
// link too, until the first is closed.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "test.log")
	require.NoError(t, os.Symlink("test.log", filepath.Join(dir, "link.log")))
	op := mustOpen(t, filepath.Join(dir, "link.log"), recordlog.Options{})
	assert.Equal(t, path, op.log.Path())
	_, err := open(t, path, recordlog.Options{})
	require.ErrorIs(t, err, recordlog.ErrLocked)
	assert.Contains(t, err.Error(), path+".lock")
	require.NoError(t, op.log.Close())
	require.ErrorIs(t, op.log.Close(), os.ErrClosed)
	_, err = op.log.Append([]byte(`{}`))
	require.ErrorIs(t, err, os.ErrClosed)
	mustOpen(t, path, recordlog.Options{})
}

// A log created by Open is made durable: written to a temporary file,
// synced, renamed, and its directory synced; a power cut right after
// finds it.
func TestCreateSyncsTheDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "test.log")
	fsys := &faultfs.FS{}
	op := mustOpen(t, path, recordlog.Options{FS: fsys})
	assert.Equal(t, []string{"open", "create-temp", "write", "sync", "close", "rename", "sync-dir", "open"}, fsys.Steps())
	_, err := op.log.Append([]byte(`{"n":0}`))
	require.NoError(t, err)
	require.NoError(t, op.log.Close())
	require.NoError(t, fsys.PowerCut())
	op = mustOpen(t, path, recordlog.Options{})
	assert.Equal(t, []string{`{"n":0}`}, payloads(op))

	// Without the directory sync, a power cut loses the new file.
	lost := filepath.Join(dir, "lost.log")
	fsys = &faultfs.FS{FailOp: "sync-dir", FailAt: 1, FailErr: syscall.EIO}
	_, err = open(t, lost, recordlog.Options{FS: fsys, Create: true})
	require.ErrorIs(t, err, syscall.EIO)
	require.ErrorIs(t, err, recordlog.ErrFailed)
	require.NoError(t, fsys.PowerCut())
	_, err = os.Stat(lost)
	require.ErrorIs(t, err, os.ErrNotExist, "the model of what is durable")
}

// A log a killed run renamed into place without the directory sync after
// it is made durable by the next Open before anything is built on it: a
// power cut then keeps what the next run acknowledged.
func TestOpenSyncsTheDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.log")
	fsys := &faultfs.FS{}
	op := mustOpen(t, path, recordlog.Options{FS: fsys})
	_, err := op.log.Append([]byte(`{"n":0}`))
	require.NoError(t, err)
	fsys.Fail = func(step, _ string) error {
		if step == "sync-dir" {
			return errors.New("killed")
		}
		return nil
	}
	require.Error(t, op.log.Rewrite(func(w *recordlog.Writer) error {
		_, err := w.Append([]byte(`{"n":"0, compacted"}`))
		return err
	}))
	require.NoError(t, op.log.Close()) // the run dies
	fsys.Fail = nil

	fsys.Reset()
	next := mustOpen(t, path, recordlog.Options{FS: fsys})
	assert.Equal(t, []string{`{"n":"0, compacted"}`}, payloads(next), "the renamed file")
	assert.Contains(t, fsys.Steps(), "sync-dir")
	_, err = next.log.Append([]byte(`{"n":1}`))
	require.NoError(t, err)
	require.NoError(t, next.log.Close())

	require.NoError(t, fsys.PowerCut())
	after := mustOpen(t, path, recordlog.Options{})
	assert.Equal(t, []string{`{"n":"0, compacted"}`, `{"n":1}`}, payloads(after), "what the second run acknowledged survives")
}

// Failing closed: after a write or a sync of the log fails, every later
// call is refused (reads too) until the log is opened again, and the
// reopened log holds every acknowledged record.
func TestFailsClosedAfterAFailedWriteOrSync(t *testing.T) {
	for _, tc := range []struct {
		op      string
		err     error
		partial bool
	}{
		{"sync", syscall.EIO, false},
		{"write", syscall.ENOSPC, false},
		{"write", syscall.EIO, true},
	} {
		t.Run(fmt.Sprintf("%s %v partial=%v", tc.op, tc.err, tc.partial), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "test.log")
			// The creation writes and syncs once; the first append is the
			// second of each.
			fsys := &faultfs.FS{FailOp: tc.op, FailAt: 3, FailErr: tc.err, Partial: tc.partial}
			op := mustOpen(t, path, recordlog.Options{FS: fsys})
			first, err := op.log.Append([]byte(`{"n":0}`))
			require.NoError(t, err)
			_, err = op.log.Append([]byte(`{"n":1}`))
			require.ErrorIs(t, err, tc.err)
			require.ErrorIs(t, err, recordlog.ErrFailed)

			_, err = op.log.Append([]byte(`{"n":2}`))
			require.ErrorIs(t, err, recordlog.ErrFailed, "no append after a failure")
			_, err = op.log.Read(first)
			require.ErrorIs(t, err, recordlog.ErrFailed, "no read either: the page cache is not the disk")
			require.ErrorIs(t, op.log.Rewrite(func(*recordlog.Writer) error { return nil }), recordlog.ErrFailed)
			require.ErrorIs(t, op.log.Err(), recordlog.ErrFailed)
			require.NoError(t, op.log.Close())

			require.NoError(t, fsys.PowerCut())
			again := mustOpen(t, path, recordlog.Options{})
			assert.Equal(t, []string{`{"n":0}`}, payloads(again), "what was acknowledged, nothing else")
			_, err = again.log.Append([]byte(`{"n":3}`))
			require.NoError(t, err, "the log opened again appends")
		})
	}
}

// A record whose sync failed is cut off as best the log can, so even
// without a power cut the reopened log does not find it.
func TestFailedRecordIsCutOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.log")
	fsys := &faultfs.FS{FailOp: "sync", FailAt: 2, FailErr: syscall.EIO}
	op := mustOpen(t, path, recordlog.Options{FS: fsys})
	_, err := op.log.Append([]byte(`{"n":0}`))
	require.Error(t, err)
	require.NoError(t, op.log.Close())
	again := mustOpen(t, path, recordlog.Options{})
	assert.Empty(t, again.records)
}

// The atomic rewrite: a failure before the rename leaves the log as it
// was, and usable, with no temporary file; a failed directory sync after
// it fails closed, and a power cut then finds the old log or the new one,
// whole.
func TestRewrite(t *testing.T) {
	for _, tc := range []struct {
		op     string
		closed bool
	}{
		{"create-temp", false}, {"write", false}, {"sync", false}, {"close", false}, {"rename", false}, {"sync-dir", true},
	} {
		t.Run(tc.op, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "test.log")
			fsys := &faultfs.FS{}
			op := mustOpen(t, path, recordlog.Options{FS: fsys})
			_, err := op.log.Append([]byte(`{"n":0}`))
			require.NoError(t, err)
			fsys.Fail = func(op, name string) error {
				if op == tc.op && (op == "sync-dir" || op == "create-temp" || op == "rename" || strings.Contains(name, ".tmp-")) {
					return syscall.ENOSPC
				}
				return nil
			}
			err = op.log.Rewrite(func(w *recordlog.Writer) error {
				_, err := w.Append([]byte(`{"compacted":true}`))
				return err
			})
			require.ErrorIs(t, err, syscall.ENOSPC)
			fsys.Fail = nil
			entries, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			for _, e := range entries {
				assert.NotContains(t, e.Name(), ".tmp-", "no temporary file is left")
			}
			if tc.closed {
				require.ErrorIs(t, err, recordlog.ErrFailed)
				_, err = op.log.Append([]byte(`{"n":1}`))
				require.ErrorIs(t, err, recordlog.ErrFailed, "nothing is built on a rename that may not be durable")
			} else {
				_, err = op.log.Append([]byte(`{"n":1}`))
				require.NoError(t, err, "the log as it was, usable")
			}
			require.NoError(t, op.log.Close())
			require.NoError(t, fsys.PowerCut())
			again := mustOpen(t, path, recordlog.Options{})
			if tc.closed {
				assert.Equal(t, []string{`{"n":0}`}, payloads(again), "the old log: the rename was not durable")
			} else {
				assert.Equal(t, []string{`{"n":0}`, `{"n":1}`}, payloads(again))
			}
		})
	}

	// A rewrite that succeeds replaces the log; its spans are the new ones.
	path := filepath.Join(t.TempDir(), "test.log")
	op := mustOpen(t, path, recordlog.Options{})
	_, err := op.log.Append([]byte(`{"n":0}`))
	require.NoError(t, err)
	var sp recordlog.Span
	require.NoError(t, op.log.Rewrite(func(w *recordlog.Writer) error {
		var err error
		sp, err = w.Append([]byte(`{"compacted":true}`))
		return err
	}))
	got, err := op.log.Read(sp)
	require.NoError(t, err)
	assert.Equal(t, `{"compacted":true}`, string(got))
	assert.Equal(t, sp.Off+sp.N, op.log.Size())
	assert.Positive(t, op.log.Written())
}

// Temporary files a killed rewrite left are removed by Open.
func TestStaleTemporaryFilesRemoved(t *testing.T) {
	path, _ := withRecords(t, 1)
	stale := filepath.Join(filepath.Dir(path), ".test.log.tmp-123")
	require.NoError(t, os.WriteFile(stale, []byte("half"), 0o600))
	mustOpen(t, path, recordlog.Options{})
	_, err := os.Stat(stale)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// An owner's Load error refuses the log as it is.
func TestLoadRefuses(t *testing.T) {
	path, whole := withRecords(t, 2)
	bad := errors.New("a record that contradicts the ones before it")
	_, err := recordlog.Open(path, recordlog.Options{Name: "test-log", Version: 2, Load: func(r recordlog.Record) error {
		if r.Line == 3 {
			return bad
		}
		return nil
	}})
	require.ErrorIs(t, err, bad)
	after, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, whole, after)
	mustOpen(t, path, recordlog.Options{}) // and the lock was released
}

func crc32c(s string) uint32 {
	line := recordlog.Frame([]byte(s))
	var sum uint32
	_, _ = fmt.Sscanf(string(line[:8]), "%08x", &sum)
	return sum
}

// The child of TestSurvivesSIGKILL appends records as fast as it can and
// prints the number of each once acknowledged, until it is killed.
func appendChild(path string, from int) {
	l, err := recordlog.Open(path, recordlog.Options{Name: "test-log", Version: 2, Create: true})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	pad := strings.Repeat("x", 3000) // records over a page: a kill can land mid-write
	for n := from; ; n++ {
		if _, err := l.Append(fmt.Appendf(nil, `{"n":%d,"pad":%q}`, n, pad)); err != nil {
			fmt.Println("append:", err)
			os.Exit(2)
		}
		fmt.Println(n)
	}
}

// A process killed with SIGKILL while it appends leaves a log the next
// Open accepts, holding every record it acknowledged, in order.
func TestSurvivesSIGKILL(t *testing.T) {
	if path := os.Getenv("RECORDLOG_CHILD"); path != "" {
		var from int
		_, _ = fmt.Sscan(os.Getenv("RECORDLOG_FROM"), &from)
		appendChild(path, from)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "test.log")
	acked := -1
	from := 0
	for round, wait := range []int{1, 5, 20, 60} {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSurvivesSIGKILL$") //nolint:gosec // this test binary, run again as the child
		cmd.Env = append(os.Environ(), "RECORDLOG_CHILD="+path, fmt.Sprintf("RECORDLOG_FROM=%d", from))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		for seen := 0; seen < wait && sc.Scan(); seen++ {
			var n int
			_, err := fmt.Sscan(sc.Text(), &n)
			require.NoError(t, err, "round %d: child: %s", round, sc.Text())
			acked = n
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait() // killed: its error says so
		require.NoError(t, ctx.Err(), "round %d: timed out", round)

		var ns []int
		l, err := recordlog.Open(path, recordlog.Options{Name: "test-log", Version: 2, Load: func(r recordlog.Record) error {
			var n int
			_, err := fmt.Sscanf(string(r.Data), `{"n":%d,`, &n)
			ns = append(ns, n)
			return err
		}})
		require.NoError(t, err, "round %d: the log is accepted after SIGKILL", round)
		require.NotEmpty(t, ns)
		for i := 1; i < len(ns); i++ {
			require.Equal(t, ns[i-1]+1, ns[i], "round %d: in order, none missing", round)
		}
		assert.GreaterOrEqual(t, ns[len(ns)-1], acked, "round %d: every acknowledged record is there", round)
		from = ns[len(ns)-1] + 1
		require.NoError(t, l.Close())
	}
}

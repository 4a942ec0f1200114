package preflight_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// storeContract is what every Store must do: the same checks as
// TestMemoryStoreContract, over the interface.
func storeContract(t *testing.T, s preflight.Store) {
	t.Helper()
	ctx := testCtx(t)
	a, b := requestID(1), requestID(2)

	results, err := s.Results(ctx, []string{"+14155550100"})
	require.NoError(t, err)
	assert.Empty(t, results)

	require.ErrorContains(t, s.RecordCheck(ctx, preflight.Check{RequestID: "EC123", PhoneNumbers: []string{"+14155550100"}}), "is not EC and 32 hex digits")
	require.ErrorContains(t, s.RecordCheck(ctx, preflight.Check{RequestID: a}), "no phone numbers")
	phones := []string{"+14155550100", "+14155550101"}
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: a, PhoneNumbers: phones}))
	require.ErrorContains(t, s.RecordCheck(ctx, preflight.Check{RequestID: a, PhoneNumbers: phones}), "already pending")
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: b, PhoneNumbers: []string{"+14155550102"}}))
	phones[0] = "+19999999999" // the store keeps its own copy

	pending, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 2, "oldest first")
	assert.Equal(t, preflight.Check{RequestID: a, PhoneNumbers: []string{"+14155550100", "+14155550101"}}, pending[0])
	assert.Equal(t, b, pending[1].RequestID)
	pending[0].PhoneNumbers[0] = "+18888888888" // and returns copies
	again, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Equal(t, "+14155550100", again[0].PhoneNumbers[0])

	eligible := preflight.NumberResult{PhoneNumber: "+14155550100", Status: preflight.StatusEligible, RawStatus: "ELIGIBLE", RequestID: a}
	require.ErrorContains(t, s.RecordResults(ctx, requestID(3), nil), "no such pending check")
	require.ErrorContains(t, s.RecordResults(ctx, a, []preflight.NumberResult{eligible, {PhoneNumber: "+14155550101", Status: "maybe"}}), "invalid status")
	require.ErrorContains(t, s.RecordResults(ctx, a, []preflight.NumberResult{{Status: preflight.StatusEligible}}), "no phone number")
	results, err = s.Results(ctx, []string{"+14155550100"})
	require.NoError(t, err)
	assert.Empty(t, results, "a refused RecordResults records nothing")

	require.NoError(t, s.RecordResults(ctx, a, []preflight.NumberResult{eligible}))
	pending, err = s.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, b, pending[0].RequestID)
	require.ErrorContains(t, s.RecordResults(ctx, a, nil), "no such pending check", "ended once")

	results, err = s.Results(ctx, []string{"+14155550100", "+14155550101", "+14155550102"})
	require.NoError(t, err)
	assert.Equal(t, map[string]preflight.NumberResult{"+14155550100": eligible}, results)

	// A later result replaces an earlier one; a check without results
	// keeps what was recorded.
	c := requestID(4)
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: c, PhoneNumbers: []string{"+14155550100"}}))
	newer := preflight.NumberResult{PhoneNumber: "+14155550100", Status: preflight.StatusIneligible, RawStatus: "INELIGIBLE", SubStatus: "ALREADY_IN_TWILIO", Reason: "R", NextStep: "N", RequestID: c}
	require.NoError(t, s.RecordResults(ctx, c, []preflight.NumberResult{newer}))
	require.NoError(t, s.RecordResults(ctx, b, nil))
	results, err = s.Results(ctx, []string{"+14155550100", "+14155550102"})
	require.NoError(t, err)
	assert.Equal(t, map[string]preflight.NumberResult{"+14155550100": newer}, results)
	pending, err = s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
}

func TestStoreContract(t *testing.T) {
	t.Run("MemoryStore", func(t *testing.T) { storeContract(t, preflight.NewMemoryStore()) })
	t.Run("FileStore", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "preflight.jsonl")
		s := openStore(t, path)
		storeContract(t, s)
		require.NoError(t, s.Close())

		// Everything the contract recorded reads back the same.
		ctx := testCtx(t)
		s = openStore(t, path)
		assert.Zero(t, s.TornBytes())
		pending, err := s.PendingChecks(ctx)
		require.NoError(t, err)
		assert.Empty(t, pending)
		results, err := s.Results(ctx, []string{"+14155550100", "+14155550101", "+14155550102"})
		require.NoError(t, err)
		assert.Equal(t, map[string]preflight.NumberResult{"+14155550100": {
			PhoneNumber: "+14155550100", Status: preflight.StatusIneligible, RawStatus: "INELIGIBLE", SubStatus: "ALREADY_IN_TWILIO",
			Reason: "R", NextStep: "N", RequestID: requestID(4),
		}}, results)
	})
}

// openStore opens a FileStore and closes it at the end of the test (a
// second Close is harmless there).
func openStore(t *testing.T, path string) *preflight.FileStore {
	t.Helper()
	s, err := preflight.OpenFileStore(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestFileStoreCreatesFile0600WithHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	s := openStore(t, path)
	assert.Equal(t, path, s.Path())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 1, bytes.Count(data, []byte("\n")))
	assert.Contains(t, string(data), `{"k":"header","store":"hostednumbers-go/preflight","format":2}`)
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Close(), os.ErrClosed)
	_, err = s.PendingChecks(testCtx(t))
	require.ErrorIs(t, err, os.ErrClosed)
	require.ErrorIs(t, s.RecordCheck(testCtx(t), preflight.Check{RequestID: requestID(1), PhoneNumbers: []string{"+14155550100"}}), os.ErrClosed)
}

// A pending check stays pending and results survive across Close and
// OpenFileStore, in order; a results record ends its check for good.
func TestFileStorePersistsAcrossReopen(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	s := openStore(t, path)
	for i := 1; i <= 3; i++ {
		require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(i), PhoneNumbers: []string{fmt.Sprintf("+1415555010%d", i)}}))
	}
	r2 := preflight.NumberResult{PhoneNumber: "+14155550102", Status: preflight.StatusUnknown, RawStatus: "MAYBE", RequestID: requestID(2)}
	require.NoError(t, s.RecordResults(ctx, requestID(2), []preflight.NumberResult{r2}))
	require.NoError(t, s.Close())

	s = openStore(t, path)
	pending, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Equal(t, []preflight.Check{
		{RequestID: requestID(1), PhoneNumbers: []string{"+14155550101"}},
		{RequestID: requestID(3), PhoneNumbers: []string{"+14155550103"}},
	}, pending, "oldest first")
	results, err := s.Results(ctx, []string{"+14155550101", "+14155550102"})
	require.NoError(t, err)
	assert.Equal(t, map[string]preflight.NumberResult{"+14155550102": r2}, results)
	require.ErrorContains(t, s.RecordResults(ctx, requestID(2), nil), "no such pending check")

	// The reopened store goes on appending.
	require.NoError(t, s.RecordResults(ctx, requestID(1), nil))
	require.NoError(t, s.Close())
	s = openStore(t, path)
	pending, err = s.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, requestID(3), pending[0].RequestID)
}

// recordTwo writes a file holding a header, check 1 (pending) and check 2
// (pending), and returns its bytes.
func recordTwo(t *testing.T, path string) []byte {
	t.Helper()
	ctx := testCtx(t)
	s, err := preflight.OpenFileStore(path)
	require.NoError(t, err)
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(1), PhoneNumbers: []string{"+14155550101"}}))
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(2), PhoneNumbers: []string{"+14155550102"}}))
	require.NoError(t, s.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 3, bytes.Count(data, []byte("\n")))
	return data
}

// A crash in the middle of an append leaves a partial last line: it is
// ignored, cut off, and the next append starts where the last whole
// record ended.
func TestFileStoreIgnoresTornLastLine(t *testing.T) {
	for _, tt := range []struct {
		name string
		tear func(whole []byte, last int) []byte // last: where the last line starts
	}{
		{"cut mid-line", func(w []byte, last int) []byte { return w[:last+(len(w)-last)/2] }},
		{"cut before its newline", func(w []byte, last int) []byte { return w[:len(w)-1] }},
		{"one byte of it", func(w []byte, last int) []byte { return w[:last+1] }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			path := filepath.Join(t.TempDir(), "preflight.jsonl")
			whole := recordTwo(t, path)
			last := bytes.LastIndexByte(whole[:len(whole)-1], '\n') + 1
			torn := tt.tear(whole, last)
			require.NoError(t, os.WriteFile(path, torn, 0o600))

			s := openStore(t, path)
			assert.Equal(t, int64(len(torn)-last), s.TornBytes())
			pending, err := s.PendingChecks(ctx)
			require.NoError(t, err)
			require.Len(t, pending, 1, "the torn check is not recorded")
			assert.Equal(t, requestID(1), pending[0].RequestID)
			cut, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, whole[:last], cut, "cut back to the last whole record")

			// The next append overwrites the torn bytes.
			require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(3), PhoneNumbers: []string{"+14155550103"}}))
			require.NoError(t, s.Close())
			s = openStore(t, path)
			assert.Zero(t, s.TornBytes())
			pending, err = s.PendingChecks(ctx)
			require.NoError(t, err)
			require.Len(t, pending, 2)
			assert.Equal(t, []string{requestID(1), requestID(3)}, []string{pending[0].RequestID, pending[1].RequestID})
		})
	}
}

// A damaged complete line (newline included), the last one too, is
// refused with its number, and the file is left untouched: only a last
// line without its newline is a torn append.
func TestFileStoreRefusesDamagedMiddleLine(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(lines [][]byte)
		line   int
		reason string
	}{
		{"flipped digit", func(l [][]byte) { l[1] = bytes.Replace(l[1], []byte("+14155550101"), []byte("+14155550109"), 1) }, 2, "checksum does not match"},
		{"last line, flipped digit", func(l [][]byte) { l[2] = bytes.Replace(l[2], []byte("+14155550102"), []byte("+14155550109"), 1) }, 3, "checksum does not match"},
		{"last line, zeros and its newline", func(l [][]byte) { l[2] = append(make([]byte, len(l[2])-1), '\n') }, 3, "damaged record"},
		{"not JSON", func(l [][]byte) { l[1] = []byte("garbage\n") }, 2, "damaged record"},
		{"empty line", func(l [][]byte) { l[1] = []byte("\n") }, 2, "damaged record"},
		{"header", func(l [][]byte) { l[0] = bytes.Replace(l[0], []byte("header"), []byte("HEADER"), 1) }, 1, "not a preflight store file"},
		{"another log's header", func(l [][]byte) {
			l[0] = recordlogFrame(`{"k":"header","store":"hostednumbers-migrate-log","format":1}`)
		}, 1, "not a preflight store file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "preflight.jsonl")
			whole := recordTwo(t, path)
			lines := bytes.SplitAfter(whole, []byte("\n"))[:3]
			tt.damage(lines)
			damaged := bytes.Join(lines, nil)
			require.NoError(t, os.WriteFile(path, damaged, 0o600))

			_, err := preflight.OpenFileStore(path)
			var ce *preflight.CorruptFileError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.line, ce.Line)
			assert.Equal(t, path, ce.Path)
			assert.Contains(t, err.Error(), fmt.Sprintf("line %d: ", tt.line))
			assert.Contains(t, err.Error(), tt.reason)
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, damaged, after, "never overwritten")
		})
	}
}

// A record whose checksum is right but that contradicts the ones before
// it (a results record for a check never recorded, the same check twice)
// is refused, even as the last line: it is not torn.
func TestFileStoreRefusesContradictingRecord(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jsonl")
	recordTwo(t, a)
	s := openStore(t, a)
	require.NoError(t, s.RecordResults(ctx, requestID(1), nil))
	require.NoError(t, s.Close())
	data, err := os.ReadFile(a)
	require.NoError(t, err)
	lines := bytes.SplitAfter(data, []byte("\n"))[:4]

	// Without check 1's record, its results record ends nothing.
	b := filepath.Join(dir, "b.jsonl")
	require.NoError(t, os.WriteFile(b, bytes.Join([][]byte{lines[0], lines[2], lines[3]}, nil), 0o600)) //nolint:gosec // a file in the test's temporary directory
	_, err = preflight.OpenFileStore(b)
	var ce *preflight.CorruptFileError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 3, ce.Line)
	assert.Contains(t, err.Error(), "no such pending check")

	// Check 2 recorded twice.
	c := filepath.Join(dir, "c.jsonl")
	require.NoError(t, os.WriteFile(c, bytes.Join([][]byte{lines[0], lines[2], lines[2]}, nil), 0o600)) //nolint:gosec // a file in the test's temporary directory
	_, err = preflight.OpenFileStore(c)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 3, ce.Line)
	assert.Contains(t, err.Error(), "already pending")
}

// A file that is not a store's is never used nor overwritten, even when
// it is one short line; a part of the header (a crash while creating the
// file) is finished.
func TestFileStoreForeignAndHalfCreatedFiles(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{
		`{"input":{"name":"numbers.csv","sha256":"ab"}}` + "\n",
		`{"input":`,
		"x",
	} {
		path := filepath.Join(dir, "foreign.json")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		_, err := preflight.OpenFileStore(path)
		var ce *preflight.CorruptFileError
		require.ErrorAs(t, err, &ce, "%q", content)
		assert.Equal(t, 1, ce.Line)
		after, rerr := os.ReadFile(path)
		require.NoError(t, rerr)
		assert.Equal(t, content, string(after))
	}

	// A header cut short: the file is new, nothing was recorded in it.
	path := filepath.Join(dir, "half.jsonl")
	s := openStore(t, path)
	require.NoError(t, s.Close())
	header, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, n := range []int{0, 1, len(header) / 2, len(header) - 1} {
		require.NoError(t, os.WriteFile(path, header[:n], 0o600)) //nolint:gosec // a file in the test's temporary directory
		s = openStore(t, path)
		assert.Equal(t, int64(n), s.TornBytes())
		require.NoError(t, s.RecordCheck(testCtx(t), preflight.Check{RequestID: requestID(1), PhoneNumbers: []string{"+14155550101"}}))
		require.NoError(t, s.Close())
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(data, header), "the header is whole again")
		assert.Equal(t, 2, bytes.Count(data, []byte("\n")))
	}
}

func TestFileStoreVersionRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	s := openStore(t, path)
	require.NoError(t, s.Close())
	// A header of version 3 with a right checksum: written by a newer
	// package.
	require.NoError(t, os.WriteFile(path, recordlogFrame(`{"k":"header","store":"hostednumbers-go/preflight","format":3}`), 0o600))
	_, err := preflight.OpenFileStore(path)
	var ce *preflight.CorruptFileError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "format version 3")
}

// recordlogFrame is line as the file frames it: its CRC-32C in eight hex
// digits, a space, the line, a newline.
func recordlogFrame(line string) []byte {
	return []byte(fmt.Sprintf("%08x %s\n", crc32c(line), line))
}

// v1Line is a record as format 1 framed it.
func v1Line(record string) string {
	return fmt.Sprintf(`{"crc32c":"%08x","record":%s}`+"\n", crc32c(record), record)
}

// A file of format 1 (an earlier version of this package) is converted
// on open, atomically: its records kept, a torn last line dropped, the
// file written in the current framing; damage in it is refused and the
// file left as it is.
func TestFileStoreConvertsFormat1(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "preflight.jsonl")
	a, b := requestID(1), requestID(2)
	header := v1Line(`{"kind":"header","format":"hostednumbers-go/preflight","version":1}`)
	v1 := header +
		v1Line(`{"kind":"check","request_id":"`+a+`","phone_numbers":["+14155550101"]}`) +
		v1Line(`{"kind":"check","request_id":"`+b+`","phone_numbers":["+14155550102"]}`) +
		v1Line(`{"kind":"results","request_id":"`+a+`","results":[{"phone_number":"+14155550101","status":"eligible","request_id":"`+a+`"}]}`) +
		`{"crc32c":"0000`
	require.NoError(t, os.WriteFile(path, []byte(v1), 0o600))
	s := openStore(t, path)
	pending, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, b, pending[0].RequestID)
	res, err := s.Results(ctx, []string{"+14155550101"})
	require.NoError(t, err)
	assert.Equal(t, preflight.StatusEligible, res["+14155550101"].Status)
	require.NoError(t, s.RecordResults(ctx, b, nil))
	require.NoError(t, s.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, recordlogFrame(`{"k":"header","store":"hostednumbers-go/preflight","format":2}`)), "converted")
	assert.Equal(t, 5, bytes.Count(data, []byte("\n")))
	s = openStore(t, path)
	pending, err = s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)

	damaged := header + `{"crc32c":"00000000","record":{"kind":"check"}}` + "\n" + v1Line(`{"kind":"check","request_id":"`+a+`","phone_numbers":["+14155550101"]}`)
	other := filepath.Join(dir, "damaged.jsonl")
	require.NoError(t, os.WriteFile(other, []byte(damaged), 0o600))
	_, err = preflight.OpenFileStore(other)
	var ce *preflight.CorruptFileError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 2, ce.Line)
	after, err := os.ReadFile(other)
	require.NoError(t, err)
	assert.Equal(t, damaged, string(after))
}

// One FileStore per file: a second open, in this process or another, is
// refused with ErrLocked until the first is closed.
func TestFileStoreLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	s := openStore(t, path)
	_, err := preflight.OpenFileStore(path)
	require.ErrorIs(t, err, preflight.ErrLocked)
	assert.Contains(t, err.Error(), path)
	require.NoError(t, s.Close())
	openStore(t, path)
}

func TestFileStoreRefusesInvalidUTF8(t *testing.T) {
	ctx := testCtx(t)
	s := openStore(t, filepath.Join(t.TempDir(), "preflight.jsonl"))
	require.ErrorContains(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(1), PhoneNumbers: []string{"+1415\xff"}}), "phone_numbers[0] is not valid UTF-8")
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(1), PhoneNumbers: []string{"+14155550101"}}))
	require.ErrorContains(t, s.RecordResults(ctx, requestID(1), []preflight.NumberResult{{PhoneNumber: "+14155550101", Status: preflight.StatusIneligible, Reason: "\xfe"}}), "not valid UTF-8")
	pending, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Len(t, pending, 1)
}

func TestFileStoreContextEnded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	s := openStore(t, path)
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := s.Results(ctx, nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.PendingChecks(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(1), PhoneNumbers: []string{"+14155550100"}}), context.Canceled)
	require.NoError(t, s.RecordCheck(testCtx(t), preflight.Check{RequestID: requestID(2), PhoneNumbers: []string{"+14155550100"}}))
	require.ErrorIs(t, s.RecordResults(ctx, requestID(2), nil), context.Canceled)
	require.NoError(t, s.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 2, bytes.Count(data, []byte("\n")), "nothing written once ctx ended")
	assert.NotContains(t, string(data), requestID(1))
}

// Many goroutines record and read at once (run with -race); every record
// reads back after reopening.
func TestFileStoreConcurrentUse(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	s := openStore(t, path)
	const workers, perWorker = 4, 10
	recordConcurrently(ctx, t, s, workers, perWorker)
	require.NoError(t, s.Close())
	s = openStore(t, path)
	assertAllRecorded(ctx, t, s, workers*perWorker)
}

// Run against the fake with a FileStore, "crashed" once the check is
// recorded; a new FileStore on the same file resumes: no second bulk
// check, and the results are right.
func TestRunResumesFromFileStore(t *testing.T) {
	for _, tt := range []struct {
		name  string
		crash func(ctx context.Context, s preflight.Store, opts *preflight.Options) (context.Context, preflight.Store)
	}{
		{"ctx ends during the wait", func(ctx context.Context, s preflight.Store, opts *preflight.Options) (context.Context, preflight.Store) {
			stopped, stop := context.WithCancel(ctx)
			opts.OnEvent = func(e preflight.Event) {
				if e.Kind == preflight.EventCreated {
					stop()
				}
			}
			return stopped, s
		}},
		{"store fails after recording", func(ctx context.Context, s preflight.Store, _ *preflight.Options) (context.Context, preflight.Store) {
			return ctx, &faultyStore{Store: s, failAfterRecordCheck: errors.New("killed")}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv, client := newFake(t)
			path := filepath.Join(t.TempDir(), "preflight.jsonl")
			numbers := makeNumbers(25)

			first := openStore(t, path)
			opts := fastOptions()
			runCtx, store := tt.crash(ctx, first, &opts)
			res, err := preflight.Run(runCtx, client.Eligibility, store, numbers, opts)
			require.Error(t, err)
			assert.Equal(t, 25, res.Count(preflight.StatusNotChecked))
			require.Len(t, bulkCreates(t, srv), 1)
			require.NoError(t, first.Close()) // the process died: its lock is released, nothing is written

			second := openStore(t, path)
			pending, err := second.PendingChecks(ctx)
			require.NoError(t, err)
			require.Len(t, pending, 1)
			assert.Equal(t, phonesOf(numbers), pending[0].PhoneNumbers)

			res, err = preflight.Run(ctx, client.Eligibility, second, numbers, fastOptions())
			require.NoError(t, err)
			assert.Len(t, bulkCreates(t, srv), 1, "no second POST to "+bulkPath)
			assert.Equal(t, 1, res.Resumed)
			assert.Zero(t, res.Created)
			assert.Equal(t, 23, res.Count(preflight.StatusEligible))
			for _, n := range res.Numbers {
				assert.Equal(t, strings.HasSuffix(n.PhoneNumber, "9"), n.Status == preflight.StatusIneligible, n.PhoneNumber)
				assert.Equal(t, pending[0].RequestID, n.RequestID)
			}
			require.NoError(t, second.Close())

			// A third store answers everything from the file: no request.
			before := len(srv.Requests())
			third := openStore(t, path)
			again, err := preflight.Run(ctx, client.Eligibility, third, numbers, fastOptions())
			require.NoError(t, err)
			assert.Equal(t, res.Numbers, again.Numbers)
			assert.Len(t, srv.Requests(), before)
		})
	}
}

// A file in a directory that cannot be written: OpenFileStore fails and
// names the path (root writes anyway; see the internal test for the
// same refusal through the seam).
func TestFileStoreReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories; TestFileStoreOpenFailsThroughSeam covers the refusal")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.Mkdir(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) }) //nolint:gosec // a directory: writable again so that TempDir can remove it
	path := filepath.Join(dir, "preflight.jsonl")
	_, err := preflight.OpenFileStore(path)
	require.ErrorIs(t, err, os.ErrPermission)
	assert.Contains(t, err.Error(), path)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// crc32c is the checksum each line carries of its record.
func crc32c(s string) uint32 { return crc32.Checksum([]byte(s), crc32.MakeTable(crc32.Castagnoli)) }

// The child of TestFileStoreSurvivesSIGKILL: it records checks and
// results in the store named by the environment, as fast as it can, and
// prints each one once recorded, until it is killed.
func fileStoreChild(path string, from int) {
	ctx := context.Background()
	s, err := preflight.OpenFileStore(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	for n := from; ; n++ {
		id := requestID(n)
		phone := fmt.Sprintf("+1415%07d", n)
		if err := s.RecordCheck(ctx, preflight.Check{RequestID: id, PhoneNumbers: []string{phone}}); err != nil {
			fmt.Println("record check:", err)
			os.Exit(2)
		}
		fmt.Println("check", n)
		if n%2 == 0 {
			continue // left pending
		}
		if err := s.RecordResults(ctx, id, []preflight.NumberResult{{PhoneNumber: phone, Status: preflight.StatusEligible, RequestID: id}}); err != nil {
			fmt.Println("record results:", err)
			os.Exit(2)
		}
		fmt.Println("results", n)
	}
}

// A process killed (SIGKILL) at any moment while it records leaves a file
// the next OpenFileStore accepts, holding every record the process was
// told was recorded.
func TestFileStoreSurvivesSIGKILL(t *testing.T) {
	if path := os.Getenv("PREFLIGHT_FILESTORE_CHILD"); path != "" {
		var from int
		_, _ = fmt.Sscan(os.Getenv("PREFLIGHT_FILESTORE_FROM"), &from)
		fileStoreChild(path, from)
		return
	}
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "preflight.jsonl")
	acked := map[string]bool{} // checks acknowledged
	resulted := map[int]bool{} // results acknowledged
	from := 1
	for round, kills := range []int{0, 1, 3, 10, 25, 40} {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFileStoreSurvivesSIGKILL$") //nolint:gosec // this test binary, run again as the child
		cmd.Env = append(os.Environ(), "PREFLIGHT_FILESTORE_CHILD="+path, fmt.Sprintf("PREFLIGHT_FILESTORE_FROM=%d", from))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		seen := 0
		for seen < kills && sc.Scan() {
			var n int
			switch line := sc.Text(); {
			case strings.HasPrefix(line, "check "):
				_, _ = fmt.Sscan(strings.TrimPrefix(line, "check "), &n)
				acked[requestID(n)] = true
				from = max(from, n+1)
			case strings.HasPrefix(line, "results "):
				_, _ = fmt.Sscan(strings.TrimPrefix(line, "results "), &n)
				resulted[n] = true
			default:
				t.Fatalf("round %d: child: %s", round, line)
			}
			seen++
		}
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait() // killed: its error says so
		require.NoError(t, ctx.Err(), "round %d: timed out", round)
		// Records the child made after its last line read are unknown here:
		// skip past any number it may have used.
		from += 1000

		s, err := preflight.OpenFileStore(path)
		require.NoError(t, err, "round %d: the file is accepted after SIGKILL", round)
		pending, err := s.PendingChecks(ctx)
		require.NoError(t, err)
		isPending := map[string]bool{}
		for _, c := range pending {
			isPending[c.RequestID] = true
		}
		for id := range acked {
			var n int
			_, _ = fmt.Sscanf(id, "EC%x", &n)
			phone := fmt.Sprintf("+1415%07d", n)
			res, err := s.Results(ctx, []string{phone})
			require.NoError(t, err)
			if resulted[n] {
				assert.Contains(t, res, phone, "round %d: acknowledged results of %s", round, id)
				assert.False(t, isPending[id], "round %d: %s ended", round, id)
			} else {
				assert.True(t, isPending[id] || len(res) == 1, "round %d: acknowledged check %s is recorded", round, id)
			}
		}
		require.NoError(t, s.Close())
	}
	assert.NotEmpty(t, acked)
}

// Keep the pre-flight check's progress in a file next to the migration's
// journal: a Run killed at any moment resumes from it.
func ExampleOpenFileStore() {
	srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	dir, err := os.MkdirTemp("", "preflight-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	store, err := preflight.OpenFileStore(filepath.Join(dir, "preflight.jsonl"))
	if err != nil {
		log.Fatal(err) // a *CorruptFileError names the line it refuses
	}
	defer func() { _ = store.Close() }()

	numbers := []preflight.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550109"}}
	res, err := preflight.Run(ctx, client.Eligibility, store, numbers, preflight.Options{
		Wait: &hostednumbers.EligibilityWaitOptions{PollInterval: 5 * time.Millisecond},
	})
	if err != nil {
		log.Fatal(err) // open the same file and run again to resume
	}
	fmt.Println("submit:", res.Submittable(), "excluded:", len(res.Excluded()))
	// Output:
	// submit: [+14155550101] excluded: 1
}

package preflight

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"os"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/phoneindex"
	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
)

// FileStore is a durable Store in one append-only file, a record log
// (the module's internal/recordlog, shared with migrate/logstore): a
// header naming the format and its version, then one record per line,
// each line the CRC-32C of its JSON record (eight hex digits), a space,
// the record and a newline. Every append is synced (fsync) before the
// method that made it returns nil. It answers reads from an index in
// memory, rebuilt by OpenFileStore.
//
// A crash (SIGKILL, power loss) in the middle of an append leaves at most
// one last line without its newline, which OpenFileStore cuts off
// (TornBytes says how much): that record was never reported as recorded.
// A complete line (newline included) that is damaged, wherever it is, is
// refused with a *CorruptFileError naming it; the file is then left as it
// is, never skipped over nor rewritten.
//
// After a write or a sync fails, what the disk holds is unknown (after a
// failed fsync the kernel may drop the pages it could not write), so the
// FileStore fails closed: it refuses every later call, reads included
// (errors wrapping ErrFailed), and never builds on what only the page
// cache held. Close it and open the file again: the record that failed is
// then either found whole (and counts, which Run handles: a pending check
// is waited for, results end it) or not at all.
//
// One FileStore at a time may use a file: OpenFileStore takes an
// exclusive lock (flock(2) on the path with ".lock" added) held until
// Close, and a second open, in this process or another, is refused with
// an error wrapping ErrLocked. A file is created atomically (a temporary
// file synced, renamed, its directory synced). The file grows with every
// check (a few hundred bytes per number checked) and is compacted, as the
// migration's log is, when more than half of it is dead (the records of
// ended checks, results replaced since): the pending checks and the newest
// results are written to a new file, atomically. A compaction that fails
// (a full disk) fails nothing: the record before it is recorded, and the
// next attempt waits until the file has grown by half.
// A file written by an earlier version of this package (format 1, each
// record wrapped in a JSON line) is converted on open, atomically.
//
// A FileStore is safe for concurrent use.
type FileStore struct {
	path string
	log  *recordlog.Log
	torn int64

	mu      sync.Mutex
	closed  bool
	pending []Check
	// pendingN is the length of each pending check's record, and dead
	// the bytes of the file a compaction would drop: the records of ended
	// checks and the results replaced since.
	pendingN    map[string]int64
	dead        int64
	nextCompact int64
	compactErr  error
	// results is the newest result of each number, kept compact for
	// migrations of millions of numbers: a number is a key of a few bytes
	// naming a shared result without its phone number (every number one
	// check found eligible shares one).
	results resultIndex
}

var _ Store = (*FileStore)(nil)

// ErrLocked is wrapped by OpenFileStore's error when another FileStore,
// in this process or another, holds the file.
var ErrLocked = recordlog.ErrLocked

// ErrFailed is wrapped by every answer of a FileStore that failed closed:
// a write or a sync of its file failed. Close it and open the file again.
var ErrFailed = recordlog.ErrFailed

// The header of every FileStore file: its format and version.
const (
	fileFormat  = "hostednumbers-go/preflight"
	fileVersion = 2
)

// The kinds of record.
const (
	kindHeader  = "header"
	kindCheck   = "check"
	kindResults = "results"
	// kindKept is results without a check: a compaction's record of the
	// results its file held.
	kindKept = "kept"
)

// minCompactBytes is the smallest file compaction bothers with;
// keptPerRecord is how many results one kept record holds.
const (
	minCompactBytes = 64 << 10
	keptPerRecord   = 1000
)

// fileRecord is one record: a check (RecordCheck) or the results that end
// a check (RecordResults).
type fileRecord struct {
	Kind         string       `json:"kind"`
	Format       string       `json:"format,omitempty"`
	Version      int          `json:"version,omitempty"`
	RequestID    string       `json:"request_id,omitempty"`
	PhoneNumbers []string     `json:"phone_numbers,omitempty"`
	Results      []fileResult `json:"results,omitempty"`
}

// fileResult is a NumberResult as the file keeps it.
type fileResult struct {
	PhoneNumber string `json:"phone_number"`
	Status      Status `json:"status"`
	RawStatus   string `json:"raw_status,omitempty"`
	SubStatus   string `json:"sub_status,omitempty"`
	Reason      string `json:"reason,omitempty"`
	NextStep    string `json:"next_step,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
}

// CorruptFileError is OpenFileStore's error for a file it refuses: a
// complete line that is damaged (a crash leaves only a last line without
// its newline), a record that contradicts the ones before it, or a file
// that is not a FileStore's. The file is left as it is.
type CorruptFileError struct {
	// Path is the file.
	Path string
	// Line is the 1-based number of the line refused.
	Line int
	// Reason says what is wrong with it.
	Reason string
}

func (e *CorruptFileError) Error() string {
	return fmt.Sprintf("preflight: file store %s: line %d: %s; the file is left as it is", e.Path, e.Line, e.Reason)
}

// OpenFileStore opens the FileStore kept in the file at path, creating the
// file (mode 0600, atomically, its directory synced) if it does not exist,
// and locks it until Close. It reads every record back and cuts off a
// partial last line left by a crash during an append (see TornBytes). It
// returns a *CorruptFileError for a file it will not use, and an error
// wrapping ErrLocked for a file another FileStore holds. Close the
// FileStore when done.
func OpenFileStore(path string) (*FileStore, error) {
	return openFileStore(path, nil)
}

func openFileStore(path string, fsys recordlog.FS) (*FileStore, error) {
	s := &FileStore{path: path, results: newResultIndex(), pendingN: make(map[string]int64)}
	log, err := recordlog.Open(path, recordlog.Options{
		FS: fsys, Name: fileFormat, Version: fileVersion, Create: true,
		Foreign: func(r io.Reader) ([][]byte, error) { return convertV1(path, r) },
		Load: func(rec recordlog.Record) error {
			var fr fileRecord
			if err := json.Unmarshal(rec.Data, &fr); err != nil {
				return &CorruptFileError{Path: path, Line: rec.Line, Reason: "damaged record (record does not decode: " + err.Error() + ")"}
			}
			if reason := s.apply(&fr, rec.Span.N); reason != "" {
				return &CorruptFileError{Path: path, Line: rec.Line, Reason: reason}
			}
			return nil
		},
	})
	if err != nil {
		var de *recordlog.DamageError
		var fe *recordlog.FormatError
		switch {
		case errors.As(err, &de):
			return nil, &CorruptFileError{Path: path, Line: de.Line, Reason: "damaged record (" + de.Reason + ")"}
		case errors.As(err, &fe) && fe.Name == fileFormat:
			return nil, &CorruptFileError{Path: path, Line: 1, Reason: fmt.Sprintf("format version %d; this package reads version %d and older", fe.Version, fileVersion)}
		case errors.As(err, &fe):
			return nil, &CorruptFileError{Path: path, Line: 1, Reason: "not a preflight store file (line 1 is not its header); refusing to use or overwrite it"}
		}
		return nil, fmt.Errorf("preflight: file store %s: open: %w", path, err)
	}
	s.log, s.torn = log, log.TornBytes()
	return s, nil
}

// convertV1 reads a file of format 1 (each record wrapped in a JSON line
// carrying its CRC-32C) and returns its records, or refuses it.
func convertV1(path string, r io.Reader) ([][]byte, error) {
	br := bufio.NewReader(r)
	var lines [][]byte
	var tail []byte
	for {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			tail = b
			break
		}
		if err != nil {
			return nil, fmt.Errorf("preflight: file store %s: read: %w", path, err)
		}
		lines = append(lines, b)
	}
	if len(lines) == 0 {
		if len(tail) > 0 && bytes.HasPrefix(v1HeaderLine, tail) {
			return nil, nil // a format 1 header cut short: nothing was recorded
		}
		return nil, &CorruptFileError{Path: path, Line: 1, Reason: "not a preflight store file (no header line); refusing to use or overwrite it"}
	}
	h, err := decodeV1(bytes.TrimSuffix(lines[0], []byte("\n")))
	if err != nil || h.Kind != kindHeader || h.Format != fileFormat {
		return nil, &CorruptFileError{Path: path, Line: 1, Reason: "not a preflight store file (line 1 is not its header); refusing to use or overwrite it"}
	}
	if h.Version != 1 {
		return nil, &CorruptFileError{Path: path, Line: 1, Reason: fmt.Sprintf("format version %d; this package reads version %d and older", h.Version, fileVersion)}
	}
	var out [][]byte
	for i := 1; i < len(lines); i++ {
		var l v1Line
		if err := json.Unmarshal(bytes.TrimSuffix(lines[i], []byte("\n")), &l); err != nil || l.CRC != fmt.Sprintf("%08x", crc32.Checksum(l.Record, castagnoli)) {
			if i == len(lines)-1 && len(tail) == 0 {
				break // format 1's rule: its last line, an append a crash cut short
			}
			return nil, &CorruptFileError{Path: path, Line: i + 1, Reason: "damaged record (format 1)"}
		}
		out = append(out, []byte(l.Record))
	}
	return out, nil
}

// v1Line is a line of format 1: a record and its CRC-32C.
type v1Line struct {
	CRC    string          `json:"crc32c"`
	Record json.RawMessage `json:"record"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// v1HeaderLine is the first line of a format 1 file.
var v1HeaderLine = func() []byte {
	rec := `{"kind":"header","format":"hostednumbers-go/preflight","version":1}`
	return []byte(fmt.Sprintf(`{"crc32c":"%08x","record":%s}`+"\n", crc32.Checksum([]byte(rec), castagnoli), rec))
}()

func decodeV1(line []byte) (*fileRecord, error) {
	var l v1Line
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, err
	}
	if l.CRC != fmt.Sprintf("%08x", crc32.Checksum(l.Record, castagnoli)) {
		return nil, errors.New("checksum mismatch")
	}
	var rec fileRecord
	if err := json.Unmarshal(l.Record, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// apply adds a whole record read from the file to the index, or says why
// it contradicts the records before it.
func (s *FileStore) apply(rec *fileRecord, n int64) string {
	switch rec.Kind {
	case kindCheck:
		if msg := checkProblem(Check{RequestID: rec.RequestID, PhoneNumbers: rec.PhoneNumbers}); msg != "" {
			return "check record: " + msg
		}
		if s.indexLocked(rec.RequestID) >= 0 {
			return "check record: " + rec.RequestID + " is already pending"
		}
		s.addPendingLocked(Check{RequestID: rec.RequestID, PhoneNumbers: rec.PhoneNumbers}, n)
	case kindResults, kindKept:
		results := make([]NumberResult, len(rec.Results))
		for i, r := range rec.Results {
			results[i] = NumberResult{
				PhoneNumber: r.PhoneNumber, Status: r.Status,
				RawStatus: hostednumbers.EligibilityStatus(r.RawStatus), SubStatus: hostednumbers.EligibilitySubStatus(r.SubStatus),
				Reason: r.Reason, NextStep: r.NextStep, RequestID: r.RequestID,
			}
		}
		if msg := resultsProblem(results); msg != "" {
			return "results record of " + rec.RequestID + ": " + msg
		}
		if rec.Kind == kindKept {
			s.setResultsLocked(results)
			return ""
		}
		i := s.indexLocked(rec.RequestID)
		if i < 0 {
			return "results record of " + rec.RequestID + ": no such pending check"
		}
		s.endLocked(i, results)
	default:
		return fmt.Sprintf("record of unknown kind %.20q", rec.Kind)
	}
	return ""
}

// checkProblem says what is wrong with a check to record, or "".
func checkProblem(c Check) string {
	if !format.SID(c.RequestID, "EC") {
		return fmt.Sprintf("request ID %q is not EC and 32 hex digits", c.RequestID)
	}
	if len(c.PhoneNumbers) == 0 {
		return "no phone numbers"
	}
	for i, p := range c.PhoneNumbers {
		if !utf8.ValidString(p) {
			return "phone_numbers[" + strconv.Itoa(i) + "] is not valid UTF-8"
		}
	}
	return ""
}

// resultsProblem says what is wrong with results to record, or "".
func resultsProblem(results []NumberResult) string {
	for i := range results {
		r := &results[i]
		if !r.Status.Valid() || r.PhoneNumber == "" {
			return fmt.Sprintf("results[%d] has no phone number or an invalid status %q", i, r.Status)
		}
		for _, v := range []string{r.PhoneNumber, string(r.RawStatus), string(r.SubStatus), r.Reason, r.NextStep, r.RequestID} {
			if !utf8.ValidString(v) {
				return fmt.Sprintf("results[%d] has a field that is not valid UTF-8", i)
			}
		}
	}
	return ""
}

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// TornBytes returns how many bytes of a partial last line OpenFileStore
// found and cut off: 0 when the file ended with a whole record. A partial
// line is an append that a crash cut short; it was never reported as
// recorded, so nothing recorded is lost.
func (s *FileStore) TornBytes() int64 { return s.torn }

// Close closes the file. Every later call of a method fails.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("preflight: file store %s: close: %w", s.path, os.ErrClosed)
	}
	s.closed = true
	if err := s.log.Close(); err != nil {
		return fmt.Errorf("preflight: file store %s: close: %w", s.path, err)
	}
	return nil
}

// Results implements Store.
func (s *FileStore) Results(ctx context.Context, phoneNumbers []string) (map[string]NumberResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("preflight: file store %s: read results: %w", s.path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.readable(); err != nil {
		return nil, fmt.Errorf("preflight: file store %s: read results: %w", s.path, err)
	}
	out := make(map[string]NumberResult)
	for _, p := range phoneNumbers {
		if r, ok := s.results.get(p); ok {
			out[p] = r
		}
	}
	return out, nil
}

// PendingChecks implements Store. The checks returned are copies.
func (s *FileStore) PendingChecks(ctx context.Context) ([]Check, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("preflight: file store %s: read pending checks: %w", s.path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.readable(); err != nil {
		return nil, fmt.Errorf("preflight: file store %s: read pending checks: %w", s.path, err)
	}
	out := make([]Check, len(s.pending))
	for i, c := range s.pending {
		out[i] = Check{RequestID: c.RequestID, PhoneNumbers: slices.Clone(c.PhoneNumbers)}
	}
	return out, nil
}

// RecordCheck implements Store: it appends the check to the file and syncs
// it before it returns nil. It refuses a request ID that is not EC… or is
// already pending, a check without numbers and a number that is not valid
// UTF-8, recording nothing then.
func (s *FileStore) RecordCheck(ctx context.Context, check Check) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("preflight: file store %s: record check: %w", s.path, err)
	}
	if msg := checkProblem(check); msg != "" {
		if format.SID(check.RequestID, "EC") {
			return fmt.Errorf("preflight: file store %s: record check %s: %s", s.path, check.RequestID, msg)
		}
		return fmt.Errorf("preflight: file store %s: record check: %s", s.path, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.indexLocked(check.RequestID) >= 0 {
		return fmt.Errorf("preflight: file store %s: record check %s: already pending", s.path, check.RequestID)
	}
	phones := slices.Clone(check.PhoneNumbers)
	sp, err := s.appendLocked(ctx, &fileRecord{Kind: kindCheck, RequestID: check.RequestID, PhoneNumbers: phones})
	if err != nil {
		return fmt.Errorf("preflight: file store %s: record check %s: %w", s.path, check.RequestID, err)
	}
	s.addPendingLocked(Check{RequestID: check.RequestID, PhoneNumbers: phones}, sp.N)
	s.maybeCompactLocked()
	return nil
}

// RecordResults implements Store: it appends one record holding the
// check's ID and every result, and syncs it before it returns nil, so the
// results are recorded and the check ended at once or not at all. It
// refuses a request ID that is not pending and a result whose status is
// not a valid Status (or that has no phone number, or a field that is not
// valid UTF-8), recording nothing then.
func (s *FileStore) RecordResults(ctx context.Context, requestID string, results []NumberResult) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("preflight: file store %s: record results of %s: %w", s.path, requestID, err)
	}
	if msg := resultsProblem(results); msg != "" {
		return fmt.Errorf("preflight: file store %s: record results of %s: %s", s.path, requestID, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.indexLocked(requestID)
	if i < 0 {
		return fmt.Errorf("preflight: file store %s: record results of %s: no such pending check", s.path, requestID)
	}
	rec := &fileRecord{Kind: kindResults, RequestID: requestID, Results: make([]fileResult, len(results))}
	for j, r := range results {
		rec.Results[j] = toFileResult(r)
	}
	if _, err := s.appendLocked(ctx, rec); err != nil {
		return fmt.Errorf("preflight: file store %s: record results of %s: %w", s.path, requestID, err)
	}
	s.endLocked(i, results)
	s.maybeCompactLocked()
	return nil
}

// readable refuses reads once the store is closed or failed closed.
func (s *FileStore) readable() error {
	if s.closed {
		return os.ErrClosed
	}
	if err := s.log.Err(); err != nil {
		return fmt.Errorf("%w; close and open the store again", err)
	}
	return nil
}

// appendLocked writes rec as one line and syncs the file. Any failure to
// write or sync fails the store closed (see FileStore).
func (s *FileStore) appendLocked(ctx context.Context, rec *fileRecord) (recordlog.Span, error) {
	if err := s.readable(); err != nil {
		return recordlog.Span{}, err
	}
	if err := ctx.Err(); err != nil {
		return recordlog.Span{}, err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return recordlog.Span{}, fmt.Errorf("encode: %w", err)
	}
	sp, err := s.log.Append(data)
	if err != nil {
		return recordlog.Span{}, fmt.Errorf("%w; close and open the store again", err)
	}
	return sp, nil
}

func toFileResult(r NumberResult) fileResult {
	return fileResult{
		PhoneNumber: r.PhoneNumber, Status: r.Status, RawStatus: string(r.RawStatus), SubStatus: string(r.SubStatus),
		Reason: r.Reason, NextStep: r.NextStep, RequestID: r.RequestID,
	}
}

// addPendingLocked adds a check whose record is n bytes long.
func (s *FileStore) addPendingLocked(c Check, n int64) {
	s.pending = append(s.pending, c)
	s.pendingN[c.RequestID] = n
}

// setResultsLocked records results, counting the bytes of the results
// they replace as dead.
func (s *FileStore) setResultsLocked(results []NumberResult) {
	for _, r := range results {
		if old, ok := s.results.get(r.PhoneNumber); ok {
			if data, err := json.Marshal(toFileResult(old)); err == nil {
				s.dead += int64(len(data)) + 1
			}
		}
		s.results.set(r)
	}
}

// CompactionError is why the last compaction failed, or nil if it
// succeeded (or none was tried). The records before it are recorded.
func (s *FileStore) CompactionError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compactErr
}

// maybeCompactLocked compacts the file once more than half of it is
// dead. A failure is kept (CompactionError), not returned: the record
// before it is recorded. The next attempt waits until the file has grown
// by half, so a full disk never makes every record rewrite the file.
func (s *FileStore) maybeCompactLocked() {
	size := s.log.Size()
	if size < minCompactBytes || 2*s.dead <= size || size < s.nextCompact {
		return
	}
	if err := s.compactLocked(); err != nil {
		s.compactErr = err
		s.nextCompact = size + size/2
		return
	}
	s.compactErr, s.nextCompact = nil, 0
}

// compactLocked rewrites the file with the pending checks, oldest first,
// and the newest result of each number.
func (s *FileStore) compactLocked() error {
	pendingN := make(map[string]int64, len(s.pending))
	err := s.log.Rewrite(func(w *recordlog.Writer) error {
		for _, c := range s.pending {
			data, err := json.Marshal(&fileRecord{Kind: kindCheck, RequestID: c.RequestID, PhoneNumbers: c.PhoneNumbers})
			if err != nil {
				return err
			}
			sp, err := w.Append(data)
			if err != nil {
				return err
			}
			pendingN[c.RequestID] = sp.N
		}
		kept := make([]fileResult, 0, keptPerRecord)
		flush := func() error {
			if len(kept) == 0 {
				return nil
			}
			data, err := json.Marshal(&fileRecord{Kind: kindKept, Results: kept})
			if err != nil {
				return err
			}
			kept = kept[:0]
			_, err = w.Append(data)
			return err
		}
		for r := range s.results.all() {
			kept = append(kept, toFileResult(r))
			if len(kept) == keptPerRecord {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		return err
	}
	s.pendingN, s.dead = pendingN, 0
	return nil
}

// endLocked records results and ends the pending check at index i.
func (s *FileStore) endLocked(i int, results []NumberResult) {
	s.setResultsLocked(results)
	id := s.pending[i].RequestID
	s.dead += s.pendingN[id]
	delete(s.pendingN, id)
	s.pending = slices.Delete(s.pending, i, i+1)
}

func (s *FileStore) indexLocked(requestID string) int {
	return slices.IndexFunc(s.pending, func(c Check) bool { return c.RequestID == requestID })
}

// resultIndex maps phone numbers to their results in about 15 bytes a
// number (internal/phoneindex): an E.164 number is its digits as a
// uint64, in sorted arrays (others, which a check may echo, are kept by
// their text), and each distinct result without its phone number is
// stored once.
type resultIndex struct {
	x *phoneindex.Index[NumberResult]
}

func newResultIndex() resultIndex {
	return resultIndex{x: phoneindex.New[NumberResult]()}
}

func (x *resultIndex) set(r NumberResult) {
	phone := r.PhoneNumber
	r.PhoneNumber = ""
	x.x.Set(phone, r)
}

// all yields every number's result.
func (x *resultIndex) all() iter.Seq[NumberResult] {
	return func(yield func(NumberResult) bool) {
		for phone, r := range x.x.All() {
			r.PhoneNumber = phone
			if !yield(r) {
				return
			}
		}
	}
}

func (x *resultIndex) get(phone string) (NumberResult, bool) {
	r, ok := x.x.Get(phone)
	if ok {
		r.PhoneNumber = phone
	}
	return r, ok
}

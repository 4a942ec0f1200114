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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// FileStore is a durable Store in one append-only file: one record per
// line, each line a JSON object carrying a CRC-32C of its record, every
// append synced (fsync) before the method that made it returns nil. It
// answers reads from an index in memory, rebuilt by OpenFileStore.
//
// A crash (SIGKILL, power loss) in the middle of an append leaves at most
// one partial last line, which OpenFileStore ignores and cuts off
// (TornBytes says how much): that record was never reported as recorded.
// A damaged line anywhere else is refused with a *CorruptFileError naming
// it; the file is then left as it is, never skipped over nor rewritten.
//
// After a write or a sync fails, the end of the file is uncertain (the
// record may or may not be on disk), so the FileStore refuses every later
// record; reads still answer what was recorded. Close it and open the file
// again: the record that failed is then either found whole (and counts,
// which Run handles: a pending check is waited for, results end it) or
// cut off as torn.
//
// One FileStore at a time may use a file: two processes appending to the
// same file would interleave their records. Hold the migration's lock
// around it, as Run's documentation asks. The file grows with every check
// and is never compacted: a few hundred bytes per number checked.
//
// A FileStore is safe for concurrent use.
type FileStore struct {
	path string
	// f is the open file, read at open and appended to since: the seam
	// through which tests make a write or a sync fail.
	f    storeFile
	torn int64

	mu sync.Mutex
	// end is the size of the file's whole records: where the next
	// append starts.
	end int64
	// broken is the error of a failed write or sync, after which nothing
	// more is appended.
	broken  error
	closed  bool
	pending []Check
	// results is the newest result of each number, kept compact for
	// migrations of millions of numbers: a number is a key of a few bytes
	// naming a shared result without its phone number (every number one
	// check found eligible shares one).
	results resultIndex
}

var _ Store = (*FileStore)(nil)

// storeFile is what a FileStore needs of its file.
type storeFile interface {
	io.ReadWriteCloser
	Sync() error
	Truncate(size int64) error
}

// fileSystem opens a FileStore's file and syncs its directory: the seam
// through which tests watch and fail both.
type fileSystem interface {
	openFile(path string) (storeFile, error)
	syncDir(dir string) error
}

type osFileSystem struct{}

func (osFileSystem) openFile(path string) (storeFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600) //nolint:gosec // the store's own file, named by the caller
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFileSystem) syncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // the store's own directory, named by the caller
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // opened read-only to sync; the sync's error is checked
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// The first line of every FileStore file.
const (
	fileFormat  = "hostednumbers-go/preflight"
	fileVersion = 1
)

// headerLine is the exact first line of a FileStore file.
var headerLine = mustEncodeLine(&fileRecord{Kind: kindHeader, Format: fileFormat, Version: fileVersion})

// The kinds of record.
const (
	kindHeader  = "header"
	kindCheck   = "check"
	kindResults = "results"
)

// fileLine is one line of the file: a record and the CRC-32C (Castagnoli)
// of its bytes, in eight hex digits.
type fileLine struct {
	CRC    string          `json:"crc32c"`
	Record json.RawMessage `json:"record"`
}

// fileRecord is one record: the header, a check (RecordCheck) or the
// results that end a check (RecordResults).
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

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeLine(rec *fileRecord) ([]byte, error) {
	payload, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	line, err := json.Marshal(fileLine{CRC: fmt.Sprintf("%08x", crc32.Checksum(payload, castagnoli)), Record: payload})
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

func mustEncodeLine(rec *fileRecord) []byte {
	line, err := encodeLine(rec)
	if err != nil {
		panic(err)
	}
	return line
}

// decodeLine returns the record of one whole line (without its newline),
// or why it is damaged.
func decodeLine(line []byte) (*fileRecord, error) {
	var l fileLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, fmt.Errorf("not a record line: %w", err)
	}
	if l.CRC != fmt.Sprintf("%08x", crc32.Checksum(l.Record, castagnoli)) {
		return nil, errors.New("checksum mismatch")
	}
	var rec fileRecord
	if err := json.Unmarshal(l.Record, &rec); err != nil {
		return nil, fmt.Errorf("record does not decode: %w", err)
	}
	return &rec, nil
}

// CorruptFileError is OpenFileStore's error for a file it refuses: a line
// that is damaged and is not the last one (a crash damages only the last),
// a record that contradicts the ones before it, or a file that is not a
// FileStore's. The file is left as it is.
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
// file (mode 0600) if it does not exist. It reads every record back,
// ignores and cuts off a partial last line left by a crash during an
// append (see TornBytes), and syncs the file's directory, so that a file
// just created survives a crash. It returns a *CorruptFileError for a file
// it will not use. Close the FileStore when done.
func OpenFileStore(path string) (*FileStore, error) {
	return openFileStore(path, osFileSystem{})
}

func openFileStore(path string, fsys fileSystem) (*FileStore, error) {
	f, err := fsys.openFile(path)
	if err != nil {
		return nil, fmt.Errorf("preflight: file store %s: open: %w", path, err)
	}
	s := &FileStore{path: path, f: f, results: newResultIndex()}
	if err := s.load(fsys); err != nil {
		_ = f.Close() // already failing with the error that matters
		return nil, err
	}
	return s, nil
}

// load reads the file, rebuilds the index and repairs a torn end.
func (s *FileStore) load(fsys fileSystem) error {
	r := bufio.NewReader(s.f)
	var lines [][]byte
	var tail []byte
	for {
		b, err := r.ReadBytes('\n')
		if err == io.EOF {
			tail = b
			break
		}
		if err != nil {
			return fmt.Errorf("preflight: file store %s: read: %w", s.path, err)
		}
		lines = append(lines, b)
	}

	if len(lines) == 0 {
		// A new file, or one whose creation a crash cut short: nothing
		// but a part of the header.
		if !bytes.HasPrefix(headerLine, tail) {
			return &CorruptFileError{Path: s.path, Line: 1, Reason: "not a preflight store file (no header line); refusing to use or overwrite it"}
		}
		if len(tail) > 0 {
			if err := s.f.Truncate(0); err != nil {
				return fmt.Errorf("preflight: file store %s: cut off a partial header: %w", s.path, err)
			}
			s.torn = int64(len(tail))
		}
		if _, err := s.f.Write(headerLine); err != nil {
			return fmt.Errorf("preflight: file store %s: write header: %w", s.path, err)
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("preflight: file store %s: sync header: %w", s.path, err)
		}
		s.end = int64(len(headerLine))
		return s.syncDir(fsys)
	}

	if h, err := decodeLine(bytes.TrimSuffix(lines[0], []byte("\n"))); err != nil || h.Kind != kindHeader || h.Format != fileFormat {
		return &CorruptFileError{Path: s.path, Line: 1, Reason: "not a preflight store file (line 1 is not its header); refusing to use or overwrite it"}
	} else if h.Version != fileVersion {
		return &CorruptFileError{Path: s.path, Line: 1, Reason: fmt.Sprintf("format version %d; this package reads version %d", h.Version, fileVersion)}
	}
	s.end = int64(len(lines[0]))

	for i := 1; i < len(lines); i++ {
		n := i + 1
		rec, err := decodeLine(bytes.TrimSuffix(lines[i], []byte("\n")))
		if err != nil {
			if i == len(lines)-1 && len(tail) == 0 {
				// The last line: an append a crash cut short (its newline
				// may have reached the disk before the rest did).
				tail = lines[i]
				break
			}
			return &CorruptFileError{Path: s.path, Line: n, Reason: "damaged record (" + err.Error() + ")"}
		}
		if reason := s.apply(rec); reason != "" {
			return &CorruptFileError{Path: s.path, Line: n, Reason: reason}
		}
		s.end += int64(len(lines[i]))
	}

	if len(tail) > 0 {
		if err := s.f.Truncate(s.end); err != nil {
			return fmt.Errorf("preflight: file store %s: cut off the partial last line: %w", s.path, err)
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("preflight: file store %s: sync after cutting off the partial last line: %w", s.path, err)
		}
		s.torn = int64(len(tail))
	}
	return s.syncDir(fsys)
}

func (s *FileStore) syncDir(fsys fileSystem) error {
	dir := filepath.Dir(s.path)
	if err := fsys.syncDir(dir); err != nil {
		return fmt.Errorf("preflight: file store %s: sync directory %s: %w", s.path, dir, err)
	}
	return nil
}

// apply adds a whole record read from the file to the index, or says why
// it contradicts the records before it.
func (s *FileStore) apply(rec *fileRecord) string {
	switch rec.Kind {
	case kindCheck:
		if msg := checkProblem(Check{RequestID: rec.RequestID, PhoneNumbers: rec.PhoneNumbers}); msg != "" {
			return "check record: " + msg
		}
		if s.indexLocked(rec.RequestID) >= 0 {
			return "check record: " + rec.RequestID + " is already pending"
		}
		s.pending = append(s.pending, Check{RequestID: rec.RequestID, PhoneNumbers: rec.PhoneNumbers})
	case kindResults:
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
	if err := s.f.Close(); err != nil {
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
	if s.closed {
		return nil, fmt.Errorf("preflight: file store %s: read results: %w", s.path, os.ErrClosed)
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
	if s.closed {
		return nil, fmt.Errorf("preflight: file store %s: read pending checks: %w", s.path, os.ErrClosed)
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
	if err := s.appendLocked(ctx, &fileRecord{Kind: kindCheck, RequestID: check.RequestID, PhoneNumbers: phones}); err != nil {
		return fmt.Errorf("preflight: file store %s: record check %s: %w", s.path, check.RequestID, err)
	}
	s.pending = append(s.pending, Check{RequestID: check.RequestID, PhoneNumbers: phones})
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
		rec.Results[j] = fileResult{
			PhoneNumber: r.PhoneNumber, Status: r.Status, RawStatus: string(r.RawStatus), SubStatus: string(r.SubStatus),
			Reason: r.Reason, NextStep: r.NextStep, RequestID: r.RequestID,
		}
	}
	if err := s.appendLocked(ctx, rec); err != nil {
		return fmt.Errorf("preflight: file store %s: record results of %s: %w", s.path, requestID, err)
	}
	s.endLocked(i, results)
	return nil
}

// appendLocked writes rec as one line and syncs the file. Any failure to
// write or sync breaks the store (see FileStore).
func (s *FileStore) appendLocked(ctx context.Context, rec *fileRecord) error {
	if s.closed {
		return os.ErrClosed
	}
	if s.broken != nil {
		return fmt.Errorf("an earlier append failed, the end of the file is uncertain; close and open the store again: %w", s.broken)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	line, err := encodeLine(rec)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	n, err := s.f.Write(line)
	if err == nil && n != len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.broken = fmt.Errorf("write: %w", err)
		return s.broken
	}
	if err := s.f.Sync(); err != nil {
		s.broken = fmt.Errorf("sync: %w", err)
		return s.broken
	}
	s.end += int64(len(line))
	return nil
}

// endLocked records results and ends the pending check at index i.
func (s *FileStore) endLocked(i int, results []NumberResult) {
	for _, r := range results {
		s.results.set(r)
	}
	s.pending = slices.Delete(s.pending, i, i+1)
}

func (s *FileStore) indexLocked(requestID string) int {
	return slices.IndexFunc(s.pending, func(c Check) bool { return c.RequestID == requestID })
}

// resultIndex maps phone numbers to their results in about 20 bytes a
// number: an E.164 number is its digits as a uint64 (others, which a check
// may echo, are kept by their text), and each distinct result without its
// phone number is stored once.
type resultIndex struct {
	byDigits map[uint64]uint32
	byText   map[string]uint32
	shapes   []NumberResult
	shapeOf  map[NumberResult]uint32
}

func newResultIndex() resultIndex {
	return resultIndex{byDigits: make(map[uint64]uint32), byText: make(map[string]uint32), shapeOf: make(map[NumberResult]uint32)}
}

// e164Digits is an E.164 number's digits as one number, and false for
// anything else (the leading digit is never 0, so no two differ only in
// leading zeros).
func e164Digits(phone string) (uint64, bool) {
	if len(phone) < 2 || len(phone) > 16 || phone[0] != '+' || phone[1] == '0' {
		return 0, false
	}
	var n uint64
	for i := 1; i < len(phone); i++ {
		c := phone[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func (x *resultIndex) set(r NumberResult) {
	phone := r.PhoneNumber
	r.PhoneNumber = ""
	id, ok := x.shapeOf[r]
	if !ok {
		id = uint32(len(x.shapes)) //nolint:gosec // at most one shape per result recorded, far below 2^32
		x.shapes = append(x.shapes, r)
		x.shapeOf[r] = id
	}
	if d, ok := e164Digits(phone); ok {
		x.byDigits[d] = id
	} else {
		x.byText[phone] = id
	}
}

func (x *resultIndex) get(phone string) (NumberResult, bool) {
	var id uint32
	var ok bool
	if d, isE164 := e164Digits(phone); isE164 {
		id, ok = x.byDigits[d]
	} else {
		id, ok = x.byText[phone]
	}
	if !ok {
		return NumberResult{}, false
	}
	r := x.shapes[id]
	r.PhoneNumber = phone
	return r, true
}

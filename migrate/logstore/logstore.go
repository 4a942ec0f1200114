// Package logstore is a migrate.Store in one local file, an append-only
// log with compaction: no database, no setup, no dependency.
//
// The file is a sequence of lines, each a record: the CRC-32C of its JSON
// (eight hex digits), a space, the JSON, a newline. A migration starts as
// one plan record per batch (its numbers and their settings), one record
// per batch, and a meta record, written to a temporary file that is
// synced, renamed into place, and whose directory is synced. Each later
// step appends one record, the batch's new state with only the numbers
// that changed, and syncs the file before SaveBatch returns: a step's
// bytes follow what changed, not the size of the migration. A record is
// one line with its checksum, so a step is recorded whole or not at all:
// a line cut short by a crash fails its checksum and is dropped when the
// store is opened (its step was never acknowledged), while damage
// anywhere else is refused.
//
// When the appended records outgrow the rest of the file, the store is
// compacted: each batch's numbers are merged into one plan record, written
// to a new file the same way as at the start. Compaction copies the live
// state once each time the log doubles, so the bytes written stay within a
// small multiple of the final file, and no step costs more as the
// migration grows.
//
// In memory the store keeps, per batch, its latest state and where its
// records are; numbers are read from the file when a batch is read, so
// memory follows the number of batches, not of numbers.
//
// Open takes an exclusive lock (flock(2), on the path with ".lock" added,
// after every symbolic link is resolved) that is held until Close, and
// removes temporary files a killed run left behind.
package logstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Format is the version of the file's layout this package writes.
const Format = 1

// storeName is the header record's "store" member.
const storeName = "hostednumbers-migrate-log"

// minCompactBytes is the smallest file compaction bothers with.
const minCompactBytes = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FS is what the store needs of the file system. OS is the real one;
// tests replace it to watch the order of the steps and to make any of
// them fail.
type FS interface {
	CreateTemp(dir, pattern string) (File, error)
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// SyncDir makes the renames in dir durable.
	SyncDir(dir string) error
}

// File is an open file of the store; *os.File is one.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	Name() string
	Sync() error
	Truncate(size int64) error
	Close() error
}

// OS is the operating system's file system.
type OS struct{}

// CreateTemp is os.CreateTemp.
func (OS) CreateTemp(dir, pattern string) (File, error) { return os.CreateTemp(dir, pattern) }

// OpenFile is os.OpenFile.
func (OS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	return os.OpenFile(name, flag, perm) //nolint:gosec // the store's own file, named by its owner
}

// Rename is os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove is os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// SyncDir opens dir and syncs it.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // the store's own directory
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // opened read-only to sync; the sync's error is checked
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// Options configure Open.
type Options struct {
	// FS is the file system; nil means OS.
	FS FS
}

// Error is a store file that cannot be used as it is; the file is left
// untouched.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// OldJournalError is a file written by an earlier bulkhost, a single JSON
// document (Format is its "format" member).
type OldJournalError struct {
	Path   string
	Format int
}

func (e *OldJournalError) Error() string {
	return fmt.Sprintf("%s: is a journal of an earlier bulkhost (journal format %d, one JSON document), not a migration log", e.Path, e.Format)
}

// span is where a record is in the file.
type span struct{ off, n int64 }

type entry struct {
	b      migrate.Batch
	plan   span
	deltas []span
}

// Store is a migrate.Store in one file. It is safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	path   string
	fs     FS
	unlock func()
	f      File // open for reading and appending; nil before Start
	size   int64
	base   int64 // size after the last Start or compaction
	meta   *migrate.Meta
	ents   []*entry
	broken error // set when a failed append could not be undone
	// Written counts every byte the store has written, compactions and
	// starts included.
	written int64
}

var _ migrate.Store = (*Store)(nil)

// Open opens the store at path, creating nothing until Start: path with
// every symbolic link resolved (the file's own name included, even a
// link to a file not created yet), locked until Close. A store that is
// damaged, is not a migration log, or was written by a newer version is
// an *Error (or *OldJournalError) and is left as it is.
func Open(path string, o Options) (*Store, error) {
	fsys := o.FS
	if fsys == nil {
		fsys = OS{}
	}
	resolved, err := ResolvePath(path)
	if err != nil {
		return nil, &Error{path, err.Error()}
	}
	unlock, err := lock(resolved)
	if err != nil {
		return nil, err
	}
	s := &Store{path: resolved, fs: fsys, unlock: unlock}
	if err := s.removeStaleTemps(); err != nil {
		unlock()
		return nil, err
	}
	if err := s.load(); err != nil {
		if s.f != nil {
			_ = s.f.Close()
		}
		unlock()
		return nil, err
	}
	return s, nil
}

// Path is the store's file, symbolic links resolved.
func (s *Store) Path() string { return s.path }

// Written is how many bytes the store has written since Open.
func (s *Store) Written() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

// Size is the store file's size.
func (s *Store) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Close releases the file and the lock.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
	return err
}

func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeStaleTemps removes the temporary files a killed run left next to
// the store. The caller holds the lock, so no other run is writing one.
func (s *Store) removeStaleTemps() error {
	dir := filepath.Dir(s.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	prefix := tempPrefix(s.path)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			if err := s.fs.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("removing the stale temporary file %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// record is one line of the log.
type record struct {
	Kind    string                `json:"k"`
	Store   string                `json:"store,omitempty"`
	Format  int                   `json:"format,omitempty"`
	Batch   int                   `json:"b,omitempty"`
	Meta    *migrate.Meta         `json:"meta,omitempty"`
	State   *migrate.Batch        `json:"batch,omitempty"`
	Numbers []migrate.NumberState `json:"n,omitempty"`
	Changes []delta               `json:"d,omitempty"`
}

// delta is a number's new state in a save record, without its settings.
type delta struct {
	Phone              string  `json:"p"`
	BulkHostingSID     string  `json:"bh,omitempty"`
	HostingOrderSID    string  `json:"hr,omitempty"`
	Status             string  `json:"s,omitempty"`
	FailureReason      *string `json:"fr,omitempty"`
	NextStep           *string `json:"ns,omitempty"`
	SigningDocumentSID string  `json:"px,omitempty"`
	LOAStatus          string  `json:"loa,omitempty"`
	Withdrawn          bool    `json:"w,omitempty"`
	Resubmit           bool    `json:"r,omitempty"`
	Checked            string  `json:"c,omitempty"`
}

func toDelta(n *migrate.NumberState) delta {
	d := delta{Phone: n.PhoneNumber(), BulkHostingSID: n.BulkHostingSID, HostingOrderSID: n.HostingOrderSID, Status: n.Status,
		FailureReason: n.FailureReason, NextStep: n.NextStep, SigningDocumentSID: n.SigningDocumentSID, LOAStatus: n.LOAStatus,
		Withdrawn: n.Withdrawn, Resubmit: n.Resubmit}
	if !n.Checked.IsZero() {
		d.Checked = n.Checked.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
	}
	return d
}

func (d *delta) apply(n *migrate.NumberState) error {
	n.BulkHostingSID, n.HostingOrderSID, n.Status = d.BulkHostingSID, d.HostingOrderSID, d.Status
	n.FailureReason, n.NextStep, n.SigningDocumentSID, n.LOAStatus = d.FailureReason, d.NextStep, d.SigningDocumentSID, d.LOAStatus
	n.Withdrawn, n.Resubmit = d.Withdrawn, d.Resubmit
	if d.Checked != "" {
		return n.Checked.UnmarshalText([]byte(d.Checked))
	}
	return nil
}

// line encodes a record as one line of the log.
func line(r *record) ([]byte, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(data)+10)
	out = fmt.Appendf(out, "%08x ", crc32.Checksum(data, castagnoli))
	out = append(out, data...)
	return append(out, '\n'), nil
}

// parseLine checks a line's checksum and returns its JSON.
func parseLine(l []byte) ([]byte, bool) {
	if len(l) < 10 || l[8] != ' ' || l[len(l)-1] != '\n' {
		return nil, false
	}
	var sum uint32
	if _, err := fmt.Sscanf(string(l[:8]), "%08x", &sum); err != nil {
		return nil, false
	}
	data := l[9 : len(l)-1]
	return data, crc32.Checksum(data, castagnoli) == sum
}

// load reads the file, if there is one, and indexes it.
func (s *Store) load() error {
	f, err := s.fs.OpenFile(s.path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{s.path, fmt.Sprintf("cannot be opened: %v", err)}
	}
	s.f = f
	r := bufio.NewReaderSize(f, 256<<10)
	var off int64
	lineNo := 0
	for {
		l, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return &Error{s.path, fmt.Sprintf("cannot be read: %v", err)}
		}
		if len(l) == 0 {
			break
		}
		lineNo++
		if lineNo == 1 && l[0] == '{' {
			var head struct {
				Format int `json:"format"`
			}
			_ = json.Unmarshal(bytes.TrimSpace(l), &head) // best effort: the format only names the version
			return &OldJournalError{Path: s.path, Format: head.Format}
		}
		data, ok := parseLine(l)
		if !ok {
			rest, _ := io.ReadAll(r)
			if len(bytes.TrimSpace(rest)) == 0 && lineNo > 1 {
				// The last record, cut short by a crash: its step was
				// never acknowledged. Drop it.
				if err := f.Truncate(off); err != nil {
					return &Error{s.path, fmt.Sprintf("cannot drop its last, incomplete record: %v", err)}
				}
				if err := f.Sync(); err != nil {
					return &Error{s.path, fmt.Sprintf("cannot drop its last, incomplete record: %v", err)}
				}
				break
			}
			return &Error{s.path, fmt.Sprintf("is damaged at line %d (byte %d): its checksum does not match; it is not used, and not overwritten", lineNo, off)}
		}
		if err := s.apply(data, span{off, int64(len(l))}, lineNo); err != nil {
			return err
		}
		off += int64(len(l))
	}
	s.size, s.base = off, off
	if s.meta == nil {
		if off == 0 {
			// An empty file: a start that never finished.
			return nil
		}
		return &Error{s.path, "is damaged: it has no meta record"}
	}
	if len(s.ents) != s.meta.Batches {
		return &Error{s.path, fmt.Sprintf("is damaged: it has %d batches, its meta record says %d", len(s.ents), s.meta.Batches)}
	}
	for i, e := range s.ents {
		if e == nil || e.plan.n == 0 {
			return &Error{s.path, fmt.Sprintf("is damaged: batch %d has no plan record", i+1)}
		}
	}
	return nil
}

// apply indexes one record.
func (s *Store) apply(data []byte, at span, lineNo int) error {
	var r record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return &Error{s.path, fmt.Sprintf("is damaged at line %d: %v", lineNo, err)}
	}
	damaged := func(msg string) error { return &Error{s.path, fmt.Sprintf("is damaged at line %d: %s", lineNo, msg)} }
	switch r.Kind {
	case "header":
		if lineNo != 1 || r.Store != storeName {
			return damaged("a header where none belongs")
		}
		if r.Format > Format {
			return &Error{s.path, fmt.Sprintf("was written by a newer version (log format %d; this one reads format %d and older): use the newer version; it is not overwritten", r.Format, Format)}
		}
		return nil
	case "meta":
		if r.Meta == nil {
			return damaged("a meta record without meta")
		}
		m := *r.Meta
		s.meta = &m
		return nil
	}
	if lineNo == 1 {
		return &Error{s.path, "is not a migration log (it has no header record)"}
	}
	if r.Batch < 1 || r.Batch > len(s.ents)+1 {
		return damaged(fmt.Sprintf("batch %d out of order", r.Batch))
	}
	if r.Batch == len(s.ents)+1 {
		s.ents = append(s.ents, &entry{})
	}
	e := s.ents[r.Batch-1]
	switch r.Kind {
	case "plan":
		e.plan, e.deltas = at, nil
	case "save":
		if r.State == nil || r.State.Index != r.Batch || !r.State.State.Known() {
			return damaged(fmt.Sprintf("an unusable state of batch %d", r.Batch))
		}
		e.b = *r.State
		if len(r.Changes) > 0 {
			e.deltas = append(e.deltas, at)
		}
	default:
		return damaged(fmt.Sprintf("unknown record %q", r.Kind))
	}
	return nil
}

func (s *Store) usable() error {
	if s.broken != nil {
		return fmt.Errorf("%s: a write failed and could not be undone (%w): open the store again", s.path, s.broken)
	}
	return nil
}

// Meta returns the migration's description, or migrate.ErrNoMigration.
func (s *Store) Meta(ctx context.Context) (migrate.Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return migrate.Meta{}, migrate.ErrNoMigration
	}
	return *s.meta, ctx.Err()
}

// Batch returns batch index without its numbers.
func (s *Store) Batch(ctx context.Context, index int) (migrate.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > len(s.ents) {
		return migrate.Batch{}, fmt.Errorf("%s: there is no batch %d", s.path, index)
	}
	return cloneBatch(s.ents[index-1].b), ctx.Err()
}

func cloneBatch(b migrate.Batch) migrate.Batch {
	out := b
	out.BulkHostingSIDs = append([]string(nil), b.BulkHostingSIDs...)
	out.Attempts = append([]migrate.Attempt(nil), b.Attempts...)
	if b.Doubt != nil {
		d := *b.Doubt
		out.Doubt = &d
	}
	if b.Counts != nil {
		out.Counts = make(map[string]int, len(b.Counts))
		for k, v := range b.Counts {
			out.Counts[k] = v
		}
	}
	return out
}

func (s *Store) readRecord(at span) (*record, error) {
	buf := make([]byte, at.n)
	if _, err := s.f.ReadAt(buf, at.off); err != nil {
		return nil, fmt.Errorf("%s: reading a record: %w", s.path, err)
	}
	data, ok := parseLine(buf)
	if !ok {
		return nil, &Error{s.path, fmt.Sprintf("is damaged at byte %d: a record's checksum does not match", at.off)}
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, &Error{s.path, fmt.Sprintf("is damaged at byte %d: %v", at.off, err)}
	}
	return &r, nil
}

// Numbers returns the numbers of batch index, in order.
func (s *Store) Numbers(ctx context.Context, index int) ([]migrate.NumberState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.numbersLocked(index)
}

func (s *Store) numbersLocked(index int) ([]migrate.NumberState, error) {
	if index < 1 || index > len(s.ents) {
		return nil, fmt.Errorf("%s: there is no batch %d", s.path, index)
	}
	e := s.ents[index-1]
	plan, err := s.readRecord(e.plan)
	if err != nil {
		return nil, err
	}
	numbers := plan.Numbers
	if len(e.deltas) > 0 {
		byPhone := make(map[string]int, len(numbers))
		for i := range numbers {
			byPhone[numbers[i].PhoneNumber()] = i
		}
		for _, at := range e.deltas {
			r, err := s.readRecord(at)
			if err != nil {
				return nil, err
			}
			for k := range r.Changes {
				d := &r.Changes[k]
				i, ok := byPhone[d.Phone]
				if !ok {
					return nil, &Error{s.path, fmt.Sprintf("is damaged: batch %d records %s, which it does not hold", index, d.Phone)}
				}
				if err := d.apply(&numbers[i]); err != nil {
					return nil, &Error{s.path, fmt.Sprintf("is damaged: batch %d: %v", index, err)}
				}
			}
		}
	}
	return numbers, nil
}

// Start records a new migration, all or nothing, in a new file.
func (s *Store) Start(ctx context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta != nil {
		return migrate.ErrExists
	}
	var ents []*entry
	n := 0
	size, err := s.rewrite(func(w *countingWriter) error {
		var err error
		if ents, n, err = planBatches(ctx, w, ents, batches); err != nil {
			return err
		}
		meta.Batches = len(ents)
		if meta.Input.Numbers == 0 {
			meta.Input.Numbers = n
		}
		_, werr := w.record(&record{Kind: "meta", Meta: &meta})
		return werr
	})
	if err != nil {
		return err
	}
	s.meta, s.ents, s.size, s.base = &meta, ents, size, size
	return nil
}

// planBatches writes each batch of batches as planned (its numbers, then
// its state), numbered after ents, and returns ents with them and how many
// numbers they hold.
func planBatches(ctx context.Context, w *countingWriter, ents []*entry, batches iter.Seq2[[]migrate.NumberState, error]) ([]*entry, int, error) {
	n := 0
	for numbers, err := range batches {
		if err != nil {
			return nil, 0, err
		}
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		e := &entry{b: migrate.Batch{Index: len(ents) + 1, State: migrate.StatePlanned, Size: len(numbers)}}
		if e.plan, err = w.record(&record{Kind: "plan", Batch: e.b.Index, Numbers: numbers}); err != nil {
			return nil, 0, err
		}
		if _, err = w.record(&record{Kind: "save", Batch: e.b.Index, State: &e.b}); err != nil {
			return nil, 0, err
		}
		ents = append(ents, e)
		n += len(numbers)
	}
	return ents, n, nil
}

// countingWriter writes records to a new file and says where each is.
type countingWriter struct {
	w   *bufio.Writer
	off int64
}

func (c *countingWriter) record(r *record) (span, error) {
	l, err := line(r)
	if err != nil {
		return span{}, err
	}
	if _, err := c.w.Write(l); err != nil {
		return span{}, err
	}
	at := span{c.off, int64(len(l))}
	c.off += int64(len(l))
	return at, nil
}

// rewrite writes a whole new file with fill, atomically and durably: to a
// temporary file in the same directory, synced, renamed over the store,
// then the directory synced. It then reopens the store on the new file.
func (s *Store) rewrite(fill func(*countingWriter) error) (size int64, err error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	dir := filepath.Dir(s.path)
	f, err := s.fs.CreateTemp(dir, tempPrefix(s.path)+"*")
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close()
			}
			_ = s.fs.Remove(tmp) // already failing: the first error is the one to report
		}
	}()
	cw := &countingWriter{w: bufio.NewWriterSize(f, 256<<10)}
	if _, err = cw.record(&record{Kind: "header", Store: storeName, Format: Format}); err != nil {
		return 0, err
	}
	if err = fill(cw); err != nil {
		return 0, err
	}
	if err = cw.w.Flush(); err != nil {
		return 0, fmt.Errorf("%s: %w", s.path, err)
	}
	s.written += cw.off
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("%s: %w", s.path, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("%s: %w", s.path, err)
	}
	if err = s.fs.Rename(tmp, s.path); err != nil {
		return 0, fmt.Errorf("%s: %w", s.path, err)
	}
	if err = s.fs.SyncDir(dir); err != nil {
		// Renamed, but maybe not durably: the old file may come back
		// after a power cut. Nothing more may be recorded on top.
		s.broken = err
		return 0, fmt.Errorf("%s: %w", s.path, err)
	}
	nf, err := s.fs.OpenFile(s.path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		s.broken = err
		return 0, fmt.Errorf("%s: %w", s.path, err)
	}
	if s.f != nil {
		_ = s.f.Close() // the replaced file; only read until now
	}
	s.f = nf
	return cw.off, nil
}

// SaveBatch records b and the changed numbers in one appended record,
// synced before it returns, if the stored batch's version is b.Version.
func (s *Store) SaveBatch(ctx context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	if b.Index < 1 || b.Index > len(s.ents) {
		return fmt.Errorf("%s: there is no batch %d", s.path, b.Index)
	}
	e := s.ents[b.Index-1]
	if e.b.Version != b.Version {
		return migrate.ErrConflict
	}
	next := cloneBatch(*b)
	next.Version++
	r := &record{Kind: "save", Batch: b.Index, State: &next}
	for i := range changed {
		r.Changes = append(r.Changes, toDelta(&changed[i]))
	}
	l, err := line(r)
	if err != nil {
		return fmt.Errorf("%s: encoding: %w", s.path, err)
	}
	if err := s.append(l); err != nil {
		return err
	}
	at := span{s.size, int64(len(l))}
	s.size += int64(len(l))
	e.b = next
	if len(r.Changes) > 0 {
		e.deltas = append(e.deltas, at)
	}
	b.Version = next.Version
	if s.size-s.base > s.base && s.size > minCompactBytes {
		if err := s.compactLocked(ctx); err != nil {
			return fmt.Errorf("%s: compacting (the step is recorded): %w", s.path, err)
		}
	}
	return nil
}

// append writes one line at the end of the file and syncs it. If that
// fails, the file is cut back to what it was.
func (s *Store) append(l []byte) error {
	if _, err := s.f.Write(l); err != nil {
		return s.undo(err)
	}
	s.written += int64(len(l))
	if err := s.f.Sync(); err != nil {
		return s.undo(err)
	}
	return nil
}

func (s *Store) undo(cause error) error {
	if err := s.f.Truncate(s.size); err != nil {
		s.broken = err
	} else if err := s.f.Sync(); err != nil {
		s.broken = err
	}
	return fmt.Errorf("%s: %w", s.path, cause)
}

// Compact rewrites the store with each batch's numbers merged into one
// record. SaveBatch does it by itself when the log has doubled.
func (s *Store) Compact(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	return s.compactLocked(ctx)
}

func (s *Store) compactLocked(ctx context.Context) error {
	return s.rewriteAll(ctx, *s.meta, nil)
}

// AddBatches records meta and appends batches, all or nothing: the store
// is rewritten (compacted) with them, as at the start.
func (s *Store) AddBatches(ctx context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	return s.rewriteAll(ctx, meta, batches)
}

// rewriteAll writes the store anew: every batch with its numbers merged,
// then the batches of extra, then meta.
func (s *Store) rewriteAll(ctx context.Context, meta migrate.Meta, extra iter.Seq2[[]migrate.NumberState, error]) error {
	ents := make([]*entry, len(s.ents))
	size, err := s.rewrite(func(w *countingWriter) error {
		for i, old := range s.ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			numbers, err := s.numbersLocked(i + 1)
			if err != nil {
				return err
			}
			e := &entry{b: old.b}
			if e.plan, err = w.record(&record{Kind: "plan", Batch: i + 1, Numbers: numbers}); err != nil {
				return err
			}
			b := old.b
			if _, err = w.record(&record{Kind: "save", Batch: i + 1, State: &b}); err != nil {
				return err
			}
			ents[i] = e
		}
		total := 0
		for _, e := range ents {
			total += e.b.Size
		}
		if extra != nil {
			var added int
			var err error
			if ents, added, err = planBatches(ctx, w, ents, extra); err != nil {
				return err
			}
			total += added
		}
		meta.Batches = len(ents)
		if meta.Input.Numbers == 0 {
			meta.Input.Numbers = total
		}
		_, err := w.record(&record{Kind: "meta", Meta: &meta})
		return err
	})
	if err != nil {
		return err
	}
	s.ents, s.size, s.base, s.meta = ents, size, size, &meta
	return nil
}

// ResolvePath returns path with every symbolic link resolved, the file
// itself included when it is a link (even one to a file not created yet),
// so that every name of one store is locked, read and written as one
// file: a link is never replaced by a regular file.
func ResolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for range 40 {
		dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
		if err != nil {
			return "", err
		}
		abs = filepath.Join(dir, filepath.Base(abs))
		st, err := os.Lstat(abs)
		if errors.Is(err, fs.ErrNotExist) {
			return abs, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&os.ModeSymlink == 0 {
			return abs, nil
		}
		target, err := os.Readlink(abs)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		abs = target
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// Package logstore is a migrate.Store in one local file, an append-only
// log with compaction: no database, no setup, no dependency. It passes
// the store contract (migrate/storetest).
//
// The file is a record log (the module's internal/recordlog, shared with
// preflight.FileStore): a header naming the format and its version, then
// one record a line, each line the CRC-32C of its JSON (eight hex digits),
// a space, the JSON and a newline. A migration starts as one plan record
// per batch (its numbers and their settings), one save record per batch,
// and a meta record, written to a temporary file that is synced, renamed
// into place, and whose directory is synced. Each later step appends one
// record, the batch's new state with only the numbers that changed, and
// syncs the file before SaveBatch returns: a step's bytes follow what
// changed, not the size of the migration.
//
// The rules of the file, each enforced when it is opened:
//   - A last line without its newline is a step a crash cut short (never
//     acknowledged): it is cut off. A complete line that fails its
//     checksum is damage, wherever it is: the store is refused with an
//     *Error naming the line and its byte offset, and the file is left as
//     it is.
//   - A batch's versions increase by one along the log, from its plan
//     record on: a record removed from the middle of the log, or two
//     records swapped, is refused as damage.
//   - A member the store does not know (written by a newer version) is
//     refused as damage, naming it: nothing of a record is silently
//     dropped, and so never lost by a compaction either.
//   - After a write or a sync of the file fails, the store fails closed:
//     every later call returns an error wrapping ErrFailed (reads too), and
//     the store must be opened again, from the disk. It never builds on
//     what only the page cache held.
//
// When the file outgrows twice its live state (as a compaction would
// write it; at least 64 KiB), the store is compacted, in this run or a
// later one: each batch's numbers are merged into one plan record, written
// to a new file the same way as at the start. Compaction copies the live
// state once each time the log doubles, so the bytes written stay within
// a small multiple of the final file and no step costs more as the
// migration grows. A compaction that fails (a full disk) fails no step:
// the step it followed is recorded, the log goes on as it is, and the
// next attempt waits until the log has grown by half
// (CompactionError says why it failed). A failed directory sync after
// the rename fails the store closed, as a failed write does.
//
// In memory the store keeps, per batch, its latest state and where its
// records are; numbers are read from the file when a batch is read, so
// memory follows the number of batches, not of numbers.
//
// Open takes an exclusive lock (flock(2), on the path with ".lock" added,
// after every symbolic link is resolved) that is held until Close, and
// removes temporary files a killed run left behind.
//
// # Eligibility checks
//
// The store is also a preflight.Store: the eligibility checks of the
// migration (migrate/preflight) are kept in its log, so that one file
// holds the whole migration. A check created is a check record (its
// request ID and numbers); its results and its end are one results
// record, so that a crash leaves either the check pending or its results
// recorded, never one without the other. Each is synced before the call
// returns, and the rules above apply to them: a record that contradicts
// the ones before it (results of a check not pending, a check recorded
// twice) is damage. A compaction (and AddBatches) writes the pending
// checks, oldest first, and every number's newest result (kept records of
// 1000 results), and drops ended checks and results replaced since.
// Checks are recorded once the migration is started: before, RecordCheck
// is migrate.ErrNoMigration. In memory the store keeps the pending checks
// and each number's newest result in about 14 bytes a number (an E.164
// number's digits in a sorted array, each distinct result stored once).
// A file with check records is refused as damage by a version of this
// package that predates them.
//
// # Claims
//
// The store is a migrate.ClaimStore, so that the engine has one code path
// for one worker or many: the lock makes its process the only one, and
// its claims are between that process's goroutines. They follow every
// rule of the contract all the same. Each claim, renewal and release
// appends a claim record (the batch, the worker, the fencing token and
// Expires), synced before it returns, and a compaction keeps each
// batch's last claim: a store opened after a crash knows every claim the
// dead run was answered, with its last Expires, and its next tokens are
// greater. Claims expire by Options.Clock (time.Now by default). A file
// with claim records is refused as damage by a version of this package
// that predates claims. Start and AddBatches refuse a number the
// migration would hold twice (migrate.ErrDuplicate), with a transient
// 16 bytes a number.
package logstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Format is the version of the file's layout this package writes.
const Format = 1

// storeName is the header record's "store" member.
const storeName = "hostednumbers-migrate-log"

// minCompactBytes is the smallest file compaction bothers with.
const minCompactBytes = 64 << 10

// FS is what the store needs of the file system. OS is the real one;
// tests replace it to watch the order of the steps and to make any of
// them fail.
type FS = recordlog.FS

// File is an open file of the store; *os.File is one.
type File = recordlog.File

// OS is the operating system's file system.
type OS = recordlog.OS

// ErrLocked is Open's answer when another process (or another Open in
// this one) holds the store.
var ErrLocked = recordlog.ErrLocked

// ErrFailed is wrapped by every answer of a store that failed closed: a
// write or a sync of its file failed, so what the disk holds is unknown.
// Close the store and open it again.
var ErrFailed = recordlog.ErrFailed

// Options configure Open.
type Options struct {
	// FS is the file system; nil means OS.
	FS FS
	// Clock is the store's clock, by which its claims expire; nil means
	// time.Now. Tests give a fake one.
	Clock func() time.Time
}

// Error is a store file that cannot be used as it is; the file is left
// untouched.
type Error struct {
	Path string
	Msg  string
	// Line and Offset locate the damage (the header is line 1), when the
	// error is about one line; Line is 0 otherwise.
	Line   int
	Offset int64
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

type entry struct {
	b      migrate.Batch
	plan   recordlog.Span
	deltas []recordlog.Span
	// saved is whether a save record followed the plan record: the
	// versions of the batch's later saves follow on from it.
	saved bool
	// stateN is the length of the batch's state as a compaction writes it.
	stateN int64
	// lease is the batch's last claim (the zero Lease if none), leaseN
	// the length of its claim record.
	lease  migrate.Lease
	leaseN int64
}

// Store is a migrate.Store in one file. It is safe for concurrent use.
type Store struct {
	mu    sync.Mutex
	log   *recordlog.Log
	meta  *migrate.Meta
	metaN int64
	ents  []*entry
	// nextCompact is the size below which no compaction is tried again
	// after one failed.
	nextCompact int64
	compactErr  error
	// phones holds the phone numbers of the batches read last, by
	// index, for SaveBatch to check its numbers against.
	phones map[int]phoneSet
	now    func() time.Time
	// locked is when Open took the lock (see ExclusiveSince).
	locked time.Time
	// checks is the eligibility checks' records (preflight.Store).
	checks checks
}

var _ migrate.ClaimStore = (*Store)(nil)

// Open opens the store at path, creating nothing until Start: path with
// every symbolic link resolved (the file's own name included, even a
// link to a file not created yet), locked until Close. A store that is
// damaged, is not a migration log, or was written by a newer version is
// an *Error (or *OldJournalError) and is left as it is; one in use is
// ErrLocked.
func Open(path string, o Options) (*Store, error) {
	resolved, err := ResolvePath(path)
	if err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	s := &Store{now: o.Clock}
	if s.now == nil {
		s.now = time.Now
	}
	log, err := recordlog.Open(resolved, recordlog.Options{
		FS: o.FS, Name: storeName, Version: Format,
		Foreign: func(r io.Reader) ([][]byte, error) { return nil, foreign(resolved, r) },
		Load:    func(rec recordlog.Record) error { return s.apply(resolved, rec) },
	})
	if err != nil {
		return nil, storeError(err)
	}
	s.log, s.locked = log, s.now()
	if err := s.check(); err != nil {
		_ = log.Close() // refused: nothing was written
		return nil, err
	}
	return s, nil
}

// storeError turns recordlog's refusals into this package's *Error.
func storeError(err error) error {
	var de *recordlog.DamageError
	var fe *recordlog.FormatError
	switch {
	case errors.As(err, &de):
		return &Error{Path: de.Path, Msg: strings.TrimPrefix(de.Error(), de.Path+": "), Line: de.Line, Offset: de.Offset}
	case errors.As(err, &fe):
		return &Error{Path: fe.Path, Msg: fe.Reason}
	}
	return err
}

// foreign names a file that is not a migration log.
func foreign(path string, r io.Reader) error {
	first, _ := bufio.NewReader(io.LimitReader(r, 1<<20)).ReadBytes('\n') // best effort: only to name the file
	if len(first) > 0 && first[0] == '{' {
		var head struct {
			Format int `json:"format"`
		}
		_ = json.Unmarshal(bytes.TrimSpace(first), &head) // best effort: the format only names the version
		return &OldJournalError{Path: path, Format: head.Format}
	}
	return &Error{Path: path, Msg: "is not a migration log (it has no header record); it is not used, and not overwritten"}
}

// Path is the store's file, symbolic links resolved.
func (s *Store) Path() string { return s.log.Path() }

// Written is how many bytes the store has written since Open.
func (s *Store) Written() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Written()
}

// Size is the store file's size.
func (s *Store) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Size()
}

// CompactionError is why the last automatic compaction failed, or nil if
// it succeeded (or none was tried). The steps it followed are recorded.
func (s *Store) CompactionError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compactErr
}

// Close releases the file and the lock. It writes nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Close()
}

// record is one line of the log after the header.
type record struct {
	Kind    string                `json:"k"`
	Batch   int                   `json:"b,omitempty"`
	Meta    *migrate.Meta         `json:"meta,omitempty"`
	State   *migrate.Batch        `json:"batch,omitempty"`
	Numbers []migrate.NumberState `json:"n,omitempty"`
	Changes []delta               `json:"d,omitempty"`
	Lease   *leaseDoc             `json:"l,omitempty"`
	Check   *checkDoc             `json:"ec,omitempty"`
	Results []resultDoc           `json:"er,omitempty"`
}

// leaseDoc is a batch's claim in a claim record.
type leaseDoc struct {
	Worker  string    `json:"w"`
	Token   int64     `json:"t"`
	Expires time.Time `json:"e"`
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

// decode reads a record's JSON, refusing a member it does not know: a
// newer writer's member is never silently dropped.
func decode(data []byte) (*record, error) {
	var r record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		if strings.Contains(err.Error(), "unknown field") {
			return nil, fmt.Errorf("%w (written by a newer version? it is not dropped)", err)
		}
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return &r, nil
}

func encode(r *record) ([]byte, error) { return json.Marshal(r) }

// stateLen is the length of b's save record as a compaction writes it.
func stateLen(b *migrate.Batch) int64 {
	data, err := encode(&record{Kind: "save", Batch: b.Index, State: b})
	if err != nil {
		return 0
	}
	return int64(len(data)) + 10
}

// apply indexes one record read by Open.
func (s *Store) apply(path string, rec recordlog.Record) error {
	damaged := func(msg string) error {
		return &Error{Path: path, Msg: fmt.Sprintf("is damaged at line %d (byte %d): %s; it is not used, and not overwritten", rec.Line, rec.Span.Off, msg), Line: rec.Line, Offset: rec.Span.Off}
	}
	r, err := decode(rec.Data)
	if err != nil {
		return damaged(err.Error())
	}
	switch r.Kind {
	case "meta":
		if r.Meta == nil {
			return damaged("a meta record without meta")
		}
		m := *r.Meta
		s.meta, s.metaN = &m, rec.Span.N
		return nil
	case "plan", "save", "claim":
	case kindCheck, kindResults, kindKept:
		if msg := s.applyCheck(r, rec.Span.N); msg != "" {
			return damaged(msg)
		}
		return nil
	default:
		return damaged(fmt.Sprintf("unknown record %q", r.Kind))
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
		if e.plan.N != 0 {
			return damaged(fmt.Sprintf("a second plan record of batch %d", r.Batch))
		}
		e.plan = rec.Span
	case "save":
		switch {
		case e.plan.N == 0:
			return damaged(fmt.Sprintf("a state of batch %d before its plan record", r.Batch))
		case r.State == nil || r.State.Index != r.Batch || !r.State.State.Known() || r.State.Version < 0:
			return damaged(fmt.Sprintf("an unusable state of batch %d", r.Batch))
		case e.saved && r.State.Version != e.b.Version+1:
			return damaged(fmt.Sprintf("batch %d goes from version %d to %d: a record is missing or out of order", r.Batch, e.b.Version, r.State.Version))
		}
		e.b, e.saved, e.stateN = *r.State, true, stateLen(r.State)
		if len(r.Changes) > 0 {
			e.deltas = append(e.deltas, rec.Span)
		}
	case "claim":
		switch {
		case e.plan.N == 0:
			return damaged(fmt.Sprintf("a claim of batch %d before its plan record", r.Batch))
		case r.Lease == nil || r.Lease.Token < 1 || r.Lease.Worker == "":
			return damaged(fmt.Sprintf("an unusable claim of batch %d", r.Batch))
		case r.Lease.Token < e.lease.Token:
			return damaged(fmt.Sprintf("batch %d goes from claim %d back to %d: a record is out of order", r.Batch, e.lease.Token, r.Lease.Token))
		}
		e.lease = migrate.Lease{Batch: r.Batch, Worker: r.Lease.Worker, Token: r.Lease.Token, Expires: r.Lease.Expires}
		e.leaseN = rec.Span.N
	}
	return nil
}

// check verifies what Open read as a whole.
func (s *Store) check() error {
	path := s.log.Path()
	if s.meta == nil {
		if len(s.ents) == 0 && len(s.checks.pending) == 0 && s.checks.results == nil {
			// No file, or a start that never finished.
			return nil
		}
		return &Error{Path: path, Msg: "is damaged: it has no meta record"}
	}
	if len(s.ents) != s.meta.Batches {
		return &Error{Path: path, Msg: fmt.Sprintf("is damaged: it has %d batches, its meta record says %d", len(s.ents), s.meta.Batches)}
	}
	for i, e := range s.ents {
		if e.plan.N == 0 || !e.saved {
			return &Error{Path: path, Msg: fmt.Sprintf("is damaged: batch %d has no plan record or no state", i+1)}
		}
	}
	return nil
}

// live is the size of the log as a compaction would write it, less what
// the numbers' changes add to their plan records.
func (s *Store) live() int64 {
	n := s.metaN + 64 + s.checks.live() // the header
	for _, e := range s.ents {
		n += e.plan.N + e.stateN + e.leaseN
	}
	return n
}

// usable refuses every call once ctx ended or the log failed closed.
func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.log.Err()
}

func (s *Store) noBatch(index int) error {
	return fmt.Errorf("%s: %w: %d", s.log.Path(), migrate.ErrNoBatch, index)
}

// entryLocked returns batch index's entry, once the store is usable for
// ctx. s.mu is held.
func (s *Store) entryLocked(ctx context.Context, index int) (*entry, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	if index < 1 || index > len(s.ents) {
		return nil, s.noBatch(index)
	}
	return s.ents[index-1], nil
}

// Meta returns the migration's description, or migrate.ErrNoMigration.
func (s *Store) Meta(ctx context.Context) (migrate.Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return migrate.Meta{}, err
	}
	if s.meta == nil {
		return migrate.Meta{}, migrate.ErrNoMigration
	}
	return *s.meta, nil
}

// Batch returns batch index without its numbers.
func (s *Store) Batch(ctx context.Context, index int) (migrate.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(ctx, index)
	if err != nil {
		return migrate.Batch{}, err
	}
	return cloneBatch(e.b), nil
}

func cloneBatch(b migrate.Batch) migrate.Batch {
	out := b
	out.BulkHostingSIDs = append([]string(nil), b.BulkHostingSIDs...)
	out.Attempts = append([]migrate.Attempt(nil), b.Attempts...)
	if b.Doubt != nil {
		d := *b.Doubt
		d.Looked = append([]string(nil), d.Looked...)
		d.Missing = append([]string(nil), d.Missing...)
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

func (s *Store) readRecord(at recordlog.Span) (*record, error) {
	data, err := s.log.Read(at)
	if err != nil {
		return nil, storeError(err)
	}
	r, err := decode(data)
	if err != nil {
		return nil, &Error{Path: s.log.Path(), Msg: fmt.Sprintf("is damaged at byte %d: %v", at.Off, err), Offset: at.Off}
	}
	return r, nil
}

// Numbers returns the numbers of batch index, in order.
func (s *Store) Numbers(ctx context.Context, index int) ([]migrate.NumberState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	return s.numbersLocked(index)
}

func (s *Store) numbersLocked(index int) ([]migrate.NumberState, error) {
	if index < 1 || index > len(s.ents) {
		return nil, s.noBatch(index)
	}
	e := s.ents[index-1]
	plan, err := s.readRecord(e.plan)
	if err != nil {
		return nil, err
	}
	numbers := plan.Numbers
	s.remember(index, e.plan, numbers)
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
					return nil, &Error{Path: s.log.Path(), Msg: fmt.Sprintf("is damaged: batch %d records %s, which it does not hold", index, d.Phone), Offset: at.Off}
				}
				if err := d.apply(&numbers[i]); err != nil {
					return nil, &Error{Path: s.log.Path(), Msg: fmt.Sprintf("is damaged: batch %d: %v", index, err), Offset: at.Off}
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
	if err := s.usable(ctx); err != nil {
		return err
	}
	if s.meta != nil {
		return migrate.ErrExists
	}
	var ents []*entry
	var metaN int64
	err := s.log.Rewrite(func(w *recordlog.Writer) error {
		var n int
		var err error
		seen := newPhoneHashes(meta.Input.Numbers)
		if ents, n, err = planBatches(ctx, w, ents, seen, batches); err != nil {
			return err
		}
		if err := seen.check(s.log.Path()); err != nil {
			return err
		}
		meta.Batches = len(ents)
		if meta.Input.Numbers == 0 {
			meta.Input.Numbers = n
		}
		metaN, err = writeRecord(w, &record{Kind: "meta", Meta: &meta})
		return err
	})
	if err != nil {
		return err
	}
	s.meta, s.metaN, s.ents = &meta, metaN, ents
	return nil
}

func writeRecord(w *recordlog.Writer, r *record) (int64, error) {
	data, err := encode(r)
	if err != nil {
		return 0, err
	}
	at, err := w.Append(data)
	return at.N, err
}

// planBatches writes each batch of batches as planned (its numbers, then
// its state), numbered after ents, and returns ents with them and how many
// numbers they hold.
func planBatches(ctx context.Context, w *recordlog.Writer, ents []*entry, seen *phoneHashes, batches iter.Seq2[[]migrate.NumberState, error]) ([]*entry, int, error) {
	n := 0
	for numbers, err := range batches {
		if err != nil {
			return nil, 0, err
		}
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		e := &entry{b: migrate.Batch{Index: len(ents) + 1, State: migrate.StatePlanned, Size: len(numbers)}, saved: true}
		seen.add(numbers)
		data, err := encode(&record{Kind: "plan", Batch: e.b.Index, Numbers: numbers})
		if err != nil {
			return nil, 0, err
		}
		if e.plan, err = w.Append(data); err != nil {
			return nil, 0, err
		}
		if e.stateN, err = writeRecord(w, &record{Kind: "save", Batch: e.b.Index, State: &e.b}); err != nil {
			return nil, 0, err
		}
		ents = append(ents, e)
		n += len(numbers)
	}
	return ents, n, nil
}

// SaveBatch records b and the changed numbers in one appended record,
// synced before it returns, if the stored batch's version is b.Version.
// An error means the step is not recorded, unless the store failed
// closed (ErrFailed): then it is unknown until the store is opened again.
// A compaction that follows a recorded step never makes it fail.
func (s *Store) SaveBatch(ctx context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	if b.Index < 1 || b.Index > len(s.ents) {
		return s.noBatch(b.Index)
	}
	e := s.ents[b.Index-1]
	if s.held(e) {
		return fmt.Errorf("%s: batch %d: %w (%w)", s.log.Path(), b.Index, migrate.ErrClaimed, migrate.ErrConflict)
	}
	return s.save(ctx, e, b, changed)
}

// save is SaveBatch once the claims allow it.
func (s *Store) save(ctx context.Context, e *entry, b *migrate.Batch, changed []migrate.NumberState) error {
	if e.b.Version != b.Version {
		return migrate.ErrConflict
	}
	if !b.State.Known() {
		return fmt.Errorf("%s: batch %d: unknown state %q", s.log.Path(), b.Index, b.State)
	}
	if len(changed) > 0 {
		if err := s.ofBatch(e, b.Index, changed); err != nil {
			return err
		}
	}
	next := cloneBatch(*b)
	next.Version++
	r := &record{Kind: "save", Batch: b.Index, State: &next}
	for i := range changed {
		r.Changes = append(r.Changes, toDelta(&changed[i]))
	}
	data, err := encode(r)
	if err != nil {
		return fmt.Errorf("%s: encoding: %w", s.log.Path(), err)
	}
	at, err := s.log.Append(data)
	if err != nil {
		return err
	}
	e.b, e.stateN = next, stateLen(&next)
	if len(r.Changes) > 0 {
		e.deltas = append(e.deltas, at)
	}
	b.Version = next.Version
	s.maybeCompact(ctx)
	return nil
}

// phoneSet is the phone numbers of a batch, as its plan record at plan
// holds them.
type phoneSet struct {
	plan recordlog.Span
	in   map[string]bool
}

// maxPhoneSets is how many batches' phone numbers the store keeps at
// most: the few batches being worked on, not the migration.
const maxPhoneSets = 8

// remember keeps the phone numbers of the batch whose plan is at plan.
func (s *Store) remember(index int, plan recordlog.Span, numbers []migrate.NumberState) map[string]bool {
	in := make(map[string]bool, len(numbers))
	for i := range numbers {
		in[numbers[i].PhoneNumber()] = true
	}
	if s.phones == nil {
		s.phones = make(map[int]phoneSet, maxPhoneSets)
	}
	if _, ok := s.phones[index]; !ok && len(s.phones) >= maxPhoneSets {
		for k := range s.phones {
			delete(s.phones, k)
			break
		}
	}
	s.phones[index] = phoneSet{plan: plan, in: in}
	return in
}

// ofBatch refuses numbers that are not of batch index.
func (s *Store) ofBatch(e *entry, index int, changed []migrate.NumberState) error {
	ps, ok := s.phones[index]
	in := ps.in
	if !ok || ps.plan != e.plan {
		plan, err := s.readRecord(e.plan)
		if err != nil {
			return err
		}
		in = s.remember(index, e.plan, plan.Numbers)
	}
	for i := range changed {
		if !in[changed[i].PhoneNumber()] {
			return fmt.Errorf("%s: batch %d does not hold %s (changed[%d]): nothing was recorded", s.log.Path(), index, changed[i].PhoneNumber(), i)
		}
	}
	return nil
}

// maybeCompact compacts the log once it is twice its live state. A
// failure is kept (CompactionError), not returned: the step before it is
// recorded. The next attempt waits until the log has grown by half (or by
// another live state, if more), so a full disk never makes every step
// rewrite the file.
func (s *Store) maybeCompact(ctx context.Context) {
	size, live := s.log.Size(), s.live()
	if size < minCompactBytes || size <= 2*live || size < s.nextCompact {
		return
	}
	if err := s.rewriteAll(ctx, *s.meta, nil); err != nil {
		s.compactErr = err
		s.nextCompact = size + max(live, size/2)
		return
	}
	s.compactErr, s.nextCompact = nil, 0
}

// Compact rewrites the store with each batch's numbers merged into one
// record. SaveBatch does it by itself when the log has doubled.
func (s *Store) Compact(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	return s.rewriteAll(ctx, *s.meta, nil)
}

// AddBatches records meta and appends batches, all or nothing: the store
// is rewritten (compacted) with them, as at the start.
func (s *Store) AddBatches(ctx context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	return s.rewriteAll(ctx, meta, batches)
}

// AddBatchesIf is AddBatches if the migration has batches batches;
// otherwise it is migrate.ErrConflict and records nothing.
func (s *Store) AddBatchesIf(ctx context.Context, batches int, meta migrate.Meta, add iter.Seq2[[]migrate.NumberState, error]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	if s.meta.Batches != batches {
		return fmt.Errorf("%s: the migration has %d batches, not %d: %w", s.log.Path(), s.meta.Batches, batches, migrate.ErrConflict)
	}
	return s.rewriteAll(ctx, meta, add)
}

// rewriteAll writes the store anew: every batch with its numbers merged,
// then the batches of extra, then meta.
func (s *Store) rewriteAll(ctx context.Context, meta migrate.Meta, extra iter.Seq2[[]migrate.NumberState, error]) error {
	ents := make([]*entry, len(s.ents))
	var metaN int64
	var pending []pendingCheck
	var seen *phoneHashes
	if extra != nil {
		seen = newPhoneHashes(max(s.meta.Input.Numbers, meta.Input.Numbers))
	}
	err := s.log.Rewrite(func(w *recordlog.Writer) error {
		total := 0
		for i, old := range s.ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			numbers, err := s.numbersLocked(i + 1)
			if err != nil {
				return err
			}
			e := &entry{b: old.b, saved: true, lease: old.lease}
			seen.add(numbers)
			data, err := encode(&record{Kind: "plan", Batch: i + 1, Numbers: numbers})
			if err != nil {
				return err
			}
			if e.plan, err = w.Append(data); err != nil {
				return err
			}
			b := old.b
			if e.stateN, err = writeRecord(w, &record{Kind: "save", Batch: i + 1, State: &b}); err != nil {
				return err
			}
			if e.lease.Held() {
				if e.leaseN, err = writeRecord(w, claimRecord(e.lease)); err != nil {
					return err
				}
			}
			ents[i] = e
			total += len(numbers)
		}
		if extra != nil {
			var added int
			var err error
			if ents, added, err = planBatches(ctx, w, ents, seen, extra); err != nil {
				return err
			}
			if err := seen.check(s.log.Path()); err != nil {
				return err
			}
			total += added
		}
		var err error
		if pending, err = s.writeChecks(ctx, w); err != nil {
			return err
		}
		meta.Batches = len(ents)
		if meta.Input.Numbers == 0 {
			meta.Input.Numbers = total
		}
		metaN, err = writeRecord(w, &record{Kind: "meta", Meta: &meta})
		return err
	})
	if err != nil {
		return err
	}
	s.ents, s.meta, s.metaN = ents, &meta, metaN
	s.checks.pending, s.checks.pendingN = pending, 0
	for _, p := range pending {
		s.checks.pendingN += p.n
	}
	return nil
}

// ResolvePath returns path with every symbolic link resolved, the file
// itself included when it is a link (even one to a file not created yet),
// so that every name of one store is locked, read and written as one
// file: a link is never replaced by a regular file.
func ResolvePath(path string) (string, error) { return recordlog.ResolvePath(path) }

// phoneHashes are the numbers of a migration as 128-bit hashes
// (FNV-1a), 16 bytes a number, to find a number held twice: two distinct
// numbers share a hash with a chance of about 10^-27 at a million
// numbers. A nil *phoneHashes checks nothing.
type phoneHashes struct {
	hs [][16]byte
}

// newPhoneHashes returns a set with room for about n numbers.
func newPhoneHashes(n int) *phoneHashes {
	return &phoneHashes{hs: make([][16]byte, 0, min(max(n, 0), 1<<22))}
}

func (p *phoneHashes) add(numbers []migrate.NumberState) {
	if p == nil {
		return
	}
	h := fnv.New128a()
	for i := range numbers {
		h.Reset()
		_, _ = h.Write([]byte(numbers[i].PhoneNumber())) // a hash's Write never fails
		var e [16]byte
		h.Sum(e[:0])
		p.hs = append(p.hs, e)
	}
}

// check refuses a number held twice.
func (p *phoneHashes) check(path string) error {
	if p == nil {
		return nil
	}
	slices.SortFunc(p.hs, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	for i := 1; i < len(p.hs); i++ {
		if p.hs[i] == p.hs[i-1] {
			return fmt.Errorf("%s: a number is in the migration twice (twice in the numbers given, or given and held already): nothing was recorded: %w", path, migrate.ErrDuplicate)
		}
	}
	p.hs = nil
	return nil
}

// claimRecord is the record of a batch's claim.
func claimRecord(l migrate.Lease) *record {
	return &record{Kind: "claim", Batch: l.Batch, Lease: &leaseDoc{Worker: l.Worker, Token: l.Token, Expires: l.Expires.UTC()}}
}

// held reports whether a live claim holds e's batch.
func (s *Store) held(e *entry) bool {
	return e.lease.Held() && s.now().Before(e.lease.Expires)
}

// setLease records l as its batch's claim, synced before it returns: a
// reopened store knows every claim it answered, and so every Expires a
// create in flight may have counted on.
func (s *Store) setLease(ctx context.Context, e *entry, l migrate.Lease) error {
	data, err := encode(claimRecord(l))
	if err != nil {
		return fmt.Errorf("%s: encoding: %w", s.log.Path(), err)
	}
	at, err := s.log.Append(data)
	if err != nil {
		return err
	}
	e.lease, e.leaseN = l, at.N
	s.maybeCompact(ctx)
	return nil
}

// holder returns the entry of l's batch if l is its live claim.
func (s *Store) holder(l migrate.Lease) (*entry, error) {
	if l.Batch < 1 || l.Batch > len(s.ents) {
		return nil, s.noBatch(l.Batch)
	}
	e := s.ents[l.Batch-1]
	if !s.held(e) || e.lease.Token != l.Token || e.lease.Worker != l.Worker {
		return nil, fmt.Errorf("%s: batch %d, claim %d of %s: %w", s.log.Path(), l.Batch, l.Token, l.Worker, migrate.ErrLeaseLost)
	}
	return e, nil
}

// claim takes e's batch for worker.
func (s *Store) claim(ctx context.Context, e *entry, worker string, ttl time.Duration) (migrate.Claimed, error) {
	prev := e.lease
	l := migrate.Lease{Batch: e.b.Index, Worker: worker, Token: prev.Token + 1, Expires: s.now().Add(ttl)}
	if err := s.setLease(ctx, e, l); err != nil {
		return migrate.Claimed{}, err
	}
	return migrate.Claimed{Lease: l, Batch: cloneBatch(e.b), Previous: prev}, nil
}

// Claim claims batch index for worker, for ttl (see migrate.ClaimStore).
// The claim is recorded, and synced, before it returns.
func (s *Store) Claim(ctx context.Context, worker string, ttl time.Duration, index int) (migrate.Claimed, error) {
	if err := migrate.CheckClaim(worker, ttl); err != nil {
		return migrate.Claimed{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(ctx, index)
	if err != nil {
		return migrate.Claimed{}, err
	}
	if s.held(e) {
		return migrate.Claimed{}, fmt.Errorf("%s: batch %d is held by %s until %s: %w", s.log.Path(), index, e.lease.Worker, e.lease.Expires.UTC().Format(time.RFC3339), migrate.ErrClaimed)
	}
	return s.claim(ctx, e, worker, ttl)
}

// ClaimNext claims the first batch in states that no live claim holds
// (see migrate.ClaimStore).
func (s *Store) ClaimNext(ctx context.Context, worker string, ttl time.Duration, states ...migrate.BatchState) (migrate.Claimed, bool, error) {
	if err := migrate.CheckClaim(worker, ttl, states...); err != nil {
		return migrate.Claimed{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return migrate.Claimed{}, false, err
	}
	for _, e := range s.ents {
		if s.held(e) || !migrate.InStates(e.b.State, states...) {
			continue
		}
		c, err := s.claim(ctx, e, worker, ttl)
		return c, err == nil, err
	}
	return migrate.Claimed{}, false, nil
}

// Renew extends the live claim l to ttl from now.
func (s *Store) Renew(ctx context.Context, l migrate.Lease, ttl time.Duration) (migrate.Lease, error) {
	if err := migrate.CheckClaim(l.Worker, ttl); err != nil {
		return l, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return l, err
	}
	e, err := s.holder(l)
	if err != nil {
		return l, err
	}
	next := e.lease
	next.Expires = s.now().Add(ttl)
	if err := s.setLease(ctx, e, next); err != nil {
		return l, err
	}
	return next, nil
}

// Release ends the live claim l now.
func (s *Store) Release(ctx context.Context, l migrate.Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	e, err := s.holder(l)
	if err != nil {
		return err
	}
	next := e.lease
	next.Expires = s.now()
	return s.setLease(ctx, e, next)
}

// SaveClaimed is SaveBatch under the live claim l.
func (s *Store) SaveClaimed(ctx context.Context, l migrate.Lease, b *migrate.Batch, changed []migrate.NumberState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	if b.Index != l.Batch {
		return fmt.Errorf("%s: batch %d saved under the claim of batch %d: nothing was recorded", s.log.Path(), b.Index, l.Batch)
	}
	e, err := s.holder(l)
	if err != nil {
		return err
	}
	return s.save(ctx, e, b, changed)
}

// LeaseOf returns batch index's last claim.
func (s *Store) LeaseOf(ctx context.Context, index int) (migrate.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(ctx, index)
	if err != nil {
		return migrate.Lease{}, err
	}
	return e.lease, nil
}

// Pending returns up to limit batches after index after, in states.
func (s *Store) Pending(ctx context.Context, after, limit int, states ...migrate.BatchState) ([]migrate.Batch, error) {
	if err := migrate.CheckPending(limit, states...); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	var out []migrate.Batch
	for i := max(after, 0); i < len(s.ents) && len(out) < limit; i++ {
		if migrate.InStates(s.ents[i].b.State, states...) {
			out = append(out, cloneBatch(s.ents[i].b))
		}
	}
	return out, nil
}

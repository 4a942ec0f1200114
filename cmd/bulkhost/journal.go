package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// journalFormat is the version of the journal's layout this bulkhost
// writes. A journal with a higher number comes from a newer bulkhost and is
// refused rather than misread or overwritten.
const journalFormat = 2

// oldestJournalFormat is the oldest layout this bulkhost still reads:
// format 1 had no contact flags and no record of the doubt about a batch.
const oldestJournalFormat = 1

// journalTool is the journal's "tool" member: it tells a bulkhost journal
// from any other JSON file that -state may name by mistake.
const journalTool = "bulkhost"

// batchState is where a batch is on its way to Twilio.
type batchState string

// The states of a batch. A batch moves planned -> sending -> accepted,
// rejected or outcome_unknown; rejected and planned batches are submitted
// on the next run, sending and outcome_unknown ones are reconciled first.
const (
	statePlanned  batchState = "planned"         // not sent yet
	stateSending  batchState = "sending"         // a create is (or was, when it crashed) in flight
	stateAccepted batchState = "accepted"        // Twilio has every number of the batch
	stateRejected batchState = "rejected"        // Twilio certainly made nothing: safe to submit again
	stateUnknown  batchState = "outcome_unknown" // a create may have been processed: reconcile first
)

func (s batchState) known() bool {
	switch s {
	case statePlanned, stateSending, stateAccepted, stateRejected, stateUnknown:
		return true
	}
	return false
}

// journal is the state file of one migration: the input it was made for,
// its batches, and what is known of every number. It is written whole,
// atomically and durably, before each step it records.
type journal struct {
	Format    int          `json:"format"`
	Tool      string       `json:"tool"`
	Input     journalInput `json:"input"`
	BatchSize int          `json:"batch_size"`
	// Demo marks a journal of the demo, whose fake server lives only as
	// long as one run: such a journal is refused by -live runs.
	Demo    bool      `json:"demo,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Contact is what the flags said about the owner and the requests when
	// the migration started; a later run with other values is refused.
	// Journals of format 1 have none: the next run records its own.
	Contact *journalContact `json:"contact,omitempty"`
	Batches []*batch        `json:"batches"`

	path  string                  // where it lives (symbolic links resolved)
	fs    fileSystem              // how it is written
	index map[string]*numberState // phone number -> its state
	batch map[string]*batch       // phone number -> its batch
	now   func() time.Time
}

// journalContact is the contact flags a migration was started with.
type journalContact struct {
	Email             string `json:"email"`
	AddressSID        string `json:"address_sid"`
	ContactPhone      string `json:"contact_phone,omitempty"`
	ContactTitle      string `json:"contact_title,omitempty"`
	FriendlyName      string `json:"friendly_name,omitempty"`
	NotificationEmail string `json:"notification_email,omitempty"`
}

// differences lists, as "-flag: was X, now Y", each flag that differs.
func (c journalContact) differences(now journalContact) []string {
	var out []string
	for _, f := range []struct{ name, was, now string }{
		{"email", c.Email, now.Email},
		{"address-sid", c.AddressSID, now.AddressSID},
		{"contact-phone", c.ContactPhone, now.ContactPhone},
		{"contact-title", c.ContactTitle, now.ContactTitle},
		{"friendly-name", c.FriendlyName, now.FriendlyName},
		{"notification-email", c.NotificationEmail, now.NotificationEmail},
	} {
		if f.was != f.now {
			out = append(out, fmt.Sprintf("-%s: the journal was started with %q, this run has %q", f.name, f.was, f.now))
		}
	}
	return out
}

// journalInput identifies the input a journal was made for.
type journalInput struct {
	Name    string `json:"name"`
	SHA256  string `json:"sha256"`
	Numbers int    `json:"numbers"`
}

// batch is one bulk hosting request's worth of numbers.
type batch struct {
	Index int        `json:"index"` // 1-based
	State batchState `json:"state"`
	// BulkHostingSIDs are the requests holding the batch's numbers: one,
	// unless a resume found some numbers hosted and submitted the rest.
	BulkHostingSIDs []string       `json:"bulk_hosting_sids,omitempty"`
	Attempts        []attempt      `json:"attempts,omitempty"`
	Numbers         []*numberState `json:"numbers"`
	// Doubt is the last inconclusive look at a batch whose create may or
	// may not have been processed (state sending or outcome_unknown).
	Doubt *doubt `json:"doubt,omitempty"`
}

// doubt is what the last look at a batch in doubt found: not enough for a
// verdict. It is kept so that the next look, in this run or a later one,
// can be the second of the two that "none created" needs.
type doubt struct {
	// LookedAt is when the look started, by this machine's clock.
	LookedAt time.Time `json:"looked_at"`
	// Looked are the numbers looked for, Missing those with no order.
	Looked  []string `json:"looked"`
	Missing []string `json:"missing"`
	// RetryAt is when to look again; WindowClosesAt is when Twilio can no
	// longer be processing the create (by this machine's clock).
	RetryAt        time.Time `json:"retry_at"`
	WindowClosesAt time.Time `json:"window_closes_at"`
	Reason         string    `json:"reason"`
}

// conclusiveAt is the earliest time a look can settle the doubt when
// Twilio has still not made any order: after the window, a gap after the
// last look.
func (d *doubt) conclusiveAt() time.Time {
	if d.RetryAt.After(d.WindowClosesAt) {
		return d.RetryAt
	}
	return d.WindowClosesAt
}

// attempt is one step taken for a batch: a create sent, or a
// reconciliation after an uncertain one (or, in the demo, a request
// re-created on a new fake server).
type attempt struct {
	Kind string `json:"kind"` // "create", "reconcile" (or "demo-restore", the demo only)
	// Started is when the step began: for a create, its send time (taken
	// just before the request goes out), the lower bound of the dates of
	// the orders it can have made.
	Started time.Time `json:"started"`
	// Ended is when the step returned: for a create, the latest time it
	// may have reached Twilio. It is zero while the step is in flight,
	// and stays zero if the process died during it.
	Ended time.Time `json:"ended,omitzero"`
	// AttemptTimeout is a create's -attempt-timeout: with the send time,
	// it bounds when a create left in flight by a dead run may have
	// reached Twilio.
	AttemptTimeout duration `json:"attempt_timeout,omitzero"`
	// Settle is a create's -settle: how long after it may have reached
	// Twilio its orders may still appear.
	Settle duration `json:"settle,omitzero"`
	// ServerClockOffset is Twilio's clock minus this machine's, measured
	// from the Date header of the step's answer(s), when there was one.
	ServerClockOffset *duration `json:"server_clock_offset,omitempty"`
	Numbers           int       `json:"numbers"`
	Outcome           string    `json:"outcome,omitempty"`
	BulkHostingSID    string    `json:"bulk_hosting_sid,omitempty"`
	RequestID         string    `json:"request_id,omitempty"`
	Error             string    `json:"error,omitempty"`
}

// numberState is the last known state of one number.
type numberState struct {
	PhoneNumber        string  `json:"phone_number"`
	Line               int     `json:"line"`
	BulkHostingSID     string  `json:"bulk_hosting_sid,omitempty"`
	HostingOrderSID    string  `json:"hosting_order_sid,omitempty"`
	Status             string  `json:"status,omitempty"`
	FailureReason      *string `json:"failure_reason,omitempty"`
	NextStep           *string `json:"next_step,omitempty"`
	SigningDocumentSID string  `json:"signing_document_sid,omitempty"`
	LOAStatus          string  `json:"loa_status,omitempty"`
	// Checked is when a refresh last found the number changed.
	Checked time.Time `json:"checked,omitzero"`
}

// duration is a time.Duration written as Go writes it ("1m30s").
type duration time.Duration

func (d duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// hasOrder reports whether Twilio is known to hold an order for the number.
func (n *numberState) hasOrder() bool { return n.HostingOrderSID != "" || n.BulkHostingSID != "" }

// journalError is a journal bulkhost refuses to use. The file is left as
// it is.
type journalError struct {
	path string
	msg  string
}

func (e *journalError) Error() string { return "journal " + e.path + ": " + e.msg }

// newJournal plans a migration: the numbers in input order, in batches of
// batchSize.
func newJournal(path string, fsys fileSystem, in journalInput, phones []string, lines []int, batchSize int, now func() time.Time) *journal {
	j := &journal{
		Format:    journalFormat,
		Tool:      journalTool,
		Input:     in,
		BatchSize: batchSize,
		path:      path,
		fs:        fsys,
		now:       now,
	}
	t := now().UTC()
	j.Created, j.Updated = t, t
	for start := 0; start < len(phones); start += batchSize {
		end := min(start+batchSize, len(phones))
		b := &batch{Index: len(j.Batches) + 1, State: statePlanned, Numbers: make([]*numberState, 0, end-start)}
		for i := start; i < end; i++ {
			b.Numbers = append(b.Numbers, &numberState{PhoneNumber: phones[i], Line: lines[i]})
		}
		j.Batches = append(j.Batches, b)
	}
	j.reindex()
	return j
}

func (j *journal) reindex() {
	j.index = make(map[string]*numberState, j.Input.Numbers)
	j.batch = make(map[string]*batch, j.Input.Numbers)
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			j.index[n.PhoneNumber] = n
			j.batch[n.PhoneNumber] = b
		}
	}
}

// loadJournal reads the journal at path. It returns nil and no error when
// there is none. A journal that cannot be trusted (damaged, not
// bulkhost's, from a newer bulkhost) is a *journalError.
func loadJournal(path string, fsys fileSystem, now func() time.Time) (*journal, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the journal the operator named with -state
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &journalError{path, fmt.Sprintf("cannot be read: %v", err)}
	}
	refuse := func(why string) error {
		return &journalError{path, why + "; bulkhost does not overwrite it: move it away to start a new migration, or name another file with -state"}
	}
	var head struct {
		Format *int    `json:"format"`
		Tool   *string `json:"tool"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, refuse(fmt.Sprintf("is damaged or not a bulkhost journal (%v)", err))
	}
	if head.Tool == nil || *head.Tool != journalTool || head.Format == nil {
		return nil, refuse(`is not a bulkhost journal (it has no "tool": "bulkhost" and "format" members)`)
	}
	if *head.Format > journalFormat {
		return nil, &journalError{path, fmt.Sprintf("was written by a newer bulkhost (journal format %d; this bulkhost reads format %d and older): "+
			"run the newer bulkhost, or name another file with -state; bulkhost does not overwrite it", *head.Format, journalFormat)}
	}
	if *head.Format < oldestJournalFormat {
		return nil, refuse(fmt.Sprintf("is damaged: format %d", *head.Format))
	}
	j := &journal{path: path, fs: fsys, now: now}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(j); err != nil {
		return nil, refuse(fmt.Sprintf("is damaged (%v)", err))
	}
	if msg := j.check(); msg != "" {
		return nil, refuse("is damaged (" + msg + ")")
	}
	j.reindex()
	return j, nil
}

// check returns what is inconsistent in a decoded journal, "" if nothing.
func (j *journal) check() string {
	if len(j.Input.SHA256) != 64 {
		return "input.sha256 is not a SHA-256 digest"
	}
	if j.BatchSize < 1 {
		return "batch_size is not positive"
	}
	seen := make(map[string]bool, j.Input.Numbers)
	for i, b := range j.Batches {
		if b == nil {
			return fmt.Sprintf("batch %d is null", i+1)
		}
		if b.Index != i+1 {
			return fmt.Sprintf("batch %d has index %d", i+1, b.Index)
		}
		if !b.State.known() {
			return fmt.Sprintf("batch %d: unknown state %q", b.Index, b.State)
		}
		if len(b.Numbers) == 0 {
			return fmt.Sprintf("batch %d has no numbers", b.Index)
		}
		for _, sid := range b.BulkHostingSIDs {
			if !format.SID(sid, "BH") {
				return fmt.Sprintf("batch %d: %q is not a bulk hosting SID", b.Index, sid)
			}
		}
		if d := b.Doubt; d != nil {
			if b.State != stateSending && b.State != stateUnknown {
				return fmt.Sprintf("batch %d is %s but has a doubt recorded", b.Index, b.State)
			}
			if d.LookedAt.IsZero() || d.RetryAt.IsZero() || d.WindowClosesAt.IsZero() {
				return fmt.Sprintf("batch %d: its doubt lacks a time", b.Index)
			}
		}
		if b.State == stateAccepted && len(b.BulkHostingSIDs) == 0 {
			return fmt.Sprintf("batch %d is accepted but names no bulk hosting SID", b.Index)
		}
		for _, n := range b.Numbers {
			if n == nil || !format.E164(n.PhoneNumber) {
				return fmt.Sprintf("batch %d holds something that is not a phone number", b.Index)
			}
			if seen[n.PhoneNumber] {
				return fmt.Sprintf("%s is in the journal twice", n.PhoneNumber)
			}
			seen[n.PhoneNumber] = true
			if n.BulkHostingSID != "" && !format.SID(n.BulkHostingSID, "BH") ||
				n.HostingOrderSID != "" && !format.SID(n.HostingOrderSID, "HR") ||
				n.SigningDocumentSID != "" && !format.SID(n.SigningDocumentSID, "PX") {
				return fmt.Sprintf("%s: a SID of the wrong shape", n.PhoneNumber)
			}
		}
	}
	if len(seen) != j.Input.Numbers {
		return fmt.Sprintf("it lists %d numbers, input.numbers says %d", len(seen), j.Input.Numbers)
	}
	return ""
}

// matches returns an error unless the journal was made for the input in.
func (j *journal) matches(in journalInput) error {
	if j.Input.SHA256 == in.SHA256 {
		return nil
	}
	return &journalError{j.path, fmt.Sprintf("was made for another input (%s, %d numbers, sha256 %.12s…), not for %s (%d numbers, sha256 %.12s…); "+
		"bulkhost does not overwrite it: run with the input it was made for, or name a new journal for this input with -state "+
		"(and leave the numbers this journal already submitted out of it: Twilio has them)",
		j.Input.Name, j.Input.Numbers, j.Input.SHA256, in.Name, in.Numbers, in.SHA256)}
}

// matchesNumbers returns an error unless the journal holds exactly the
// input's phone numbers: a journal edited by hand (or by a bug) must not
// send a number the input does not have, nor leave one out.
func (j *journal) matchesNumbers(phones []string) error {
	inInput := make(map[string]bool, len(phones))
	var notInJournal []string
	for _, p := range phones {
		inInput[p] = true
		if j.index[p] == nil {
			notInJournal = append(notInJournal, p)
		}
	}
	var notInInput []string
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			if !inInput[n.PhoneNumber] {
				notInInput = append(notInInput, n.PhoneNumber)
			}
		}
	}
	if len(notInJournal) == 0 && len(notInInput) == 0 {
		return nil
	}
	var what []string
	if len(notInJournal) > 0 {
		what = append(what, fmt.Sprintf("%d number%s of the input %s not in it (%s)", len(notInJournal), plural(len(notInJournal)), pluralVerb(len(notInJournal)), sample(notInJournal)))
	}
	if len(notInInput) > 0 {
		what = append(what, fmt.Sprintf("%d number%s in it %s not in the input (%s)", len(notInInput), plural(len(notInInput)), pluralVerb(len(notInInput)), sample(notInInput)))
	}
	return &journalError{j.path, fmt.Sprintf("does not hold the numbers of %s although it was made for this input: %s; it has been changed since bulkhost wrote it. "+
		"bulkhost does not overwrite it: restore it from a backup, or name a new journal with -state for the numbers not submitted yet",
		j.Input.Name, strings.Join(what, "; "))}
}

// matchesContact returns an error unless the contact flags are those the
// migration was started with (a journal without them takes c).
func (j *journal) matchesContact(c journalContact) error {
	if j.Contact == nil {
		j.Contact = &c
		return nil
	}
	diff := j.Contact.differences(c)
	if len(diff) == 0 {
		return nil
	}
	return &journalError{j.path, fmt.Sprintf("was started with other contact flags: %s. "+
		"Run with the flags the migration was started with, so that every batch goes out the same; "+
		"or, to use the new ones, name a new journal with -state for the numbers not submitted yet", strings.Join(diff, "; "))}
}

// sample lists the first few of list, with "…" if there are more.
func sample(list []string) string {
	const show = 3
	if len(list) <= show {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:show], ", ") + ", …"
}

// save writes the journal atomically and durably.
func (j *journal) save() error {
	j.Updated = j.now().UTC()
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("journal %s: encoding: %w", j.path, err)
	}
	if err := writeFileDurable(j.fsys(), j.path, append(data, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

func (j *journal) fsys() fileSystem {
	if j.fs == nil {
		return osFS{}
	}
	return j.fs
}

// fileSystem is what the journal needs of the disk. osFS is the real one;
// tests replace it to watch the order of the steps and to make any of
// them fail.
type fileSystem interface {
	// CreateTemp creates a new file in dir, as os.CreateTemp does.
	CreateTemp(dir, pattern string) (tempFile, error)
	// Rename replaces newpath with oldpath, atomically.
	Rename(oldpath, newpath string) error
	// Remove removes a file.
	Remove(name string) error
	// SyncDir makes the renames in dir durable.
	SyncDir(dir string) error
}

// tempFile is the temporary file a journal is written to.
type tempFile interface {
	Name() string
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// osFS is the file system of the operating system.
type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(oldpath, newpath string) error             { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                         { return os.Remove(name) }
func (osFS) SyncDir(dir string) error                         { return syncDir(dir) }

// writeFileDurable replaces path with data so that, whatever happens, path
// holds either its old content or all of data: the data goes to a temporary
// file in the same directory, which is synced, renamed over path, and then
// the directory is synced so that the rename itself survives a crash.
func writeFileDurable(fsys fileSystem, path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := fsys.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			// Already failing: the first error is the one to report, and
			// the temporary file must not be left behind.
			if !closed {
				_ = f.Close()
			}
			_ = fsys.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	closed = true
	if err = f.Close(); err != nil {
		return err
	}
	if err = fsys.Rename(tmp, path); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}

// tempPrefix is how the temporary files of the journal at path begin.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeStaleTemps removes the temporary files a killed run left next to
// the journal at path (between writing one and renaming it). The caller
// holds the journal's lock, so no other run is writing one.
func removeStaleTemps(path string) error {
	stale, err := filepath.Glob(filepath.Join(filepath.Dir(path), globEscape(tempPrefix(path))+"*"))
	if err != nil {
		return err
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the stale temporary file %s: %w", f, err)
		}
	}
	return nil
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// resolvePath returns path with every symbolic link resolved, the file
// itself included when it is a link (even one to a file not created yet),
// so that every name of one journal is locked, read and written as one
// file: a link is never replaced by a regular file.
func resolvePath(path string) (string, error) {
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

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // the journal's own directory, named by the operator
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // opened read-only to sync; the sync's error is checked
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

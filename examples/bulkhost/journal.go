package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// journalFormat is the version of the journal's layout this bulkhost
// writes. A journal with a higher number comes from a newer bulkhost and is
// refused rather than misread or overwritten.
const journalFormat = 1

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
	Batches []*batch  `json:"batches"`

	path  string                  // where it lives
	index map[string]*numberState // phone number -> its state
	batch map[string]*batch       // phone number -> its batch
	now   func() time.Time
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
}

// attempt is one step taken for a batch: a create sent, or a
// reconciliation after an uncertain one (or, in the demo, a request
// re-created on a new fake server).
type attempt struct {
	Kind    string    `json:"kind"` // "create", "reconcile" (or "demo-restore", the demo only)
	Started time.Time `json:"started"`
	// Ended is zero while the step is in flight, and stays zero if the
	// process died during it.
	Ended          time.Time `json:"ended,omitzero"`
	Numbers        int       `json:"numbers"`
	Outcome        string    `json:"outcome,omitempty"`
	BulkHostingSID string    `json:"bulk_hosting_sid,omitempty"`
	RequestID      string    `json:"request_id,omitempty"`
	Error          string    `json:"error,omitempty"`
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
func newJournal(path string, in journalInput, phones []string, lines []int, batchSize int, now func() time.Time) *journal {
	j := &journal{
		Format:    journalFormat,
		Tool:      journalTool,
		Input:     in,
		BatchSize: batchSize,
		path:      path,
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
func loadJournal(path string, now func() time.Time) (*journal, error) {
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
	if *head.Format < 1 {
		return nil, refuse(fmt.Sprintf("is damaged: format %d", *head.Format))
	}
	j := &journal{path: path, now: now}
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

// save writes the journal atomically and durably.
func (j *journal) save() error {
	j.Updated = j.now().UTC()
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("journal %s: encoding: %w", j.path, err)
	}
	if err := writeFileDurable(j.path, append(data, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// writeFileDurable replaces path with data so that, whatever happens, path
// holds either its old content or all of data: the data goes to a temporary
// file in the same directory, which is synced, renamed over path, and then
// the directory is synced so that the rename itself survives a crash.
func writeFileDurable(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			// Already failing: the first error is the one to report, and
			// the temporary file must not be left behind.
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
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

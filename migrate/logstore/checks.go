package logstore

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/phoneindex"
	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

var _ preflight.Store = (*Store)(nil)

// The kinds of the eligibility checks' records.
const (
	kindCheck   = "check"   // a check created (RecordCheck)
	kindResults = "results" // a check's results, which end it (RecordResults)
	kindKept    = "kept"    // results without a check: a compaction's copy
)

// keptPerRecord is how many results one kept record holds.
const keptPerRecord = 1000

// checkDoc is an eligibility check in a check or results record.
type checkDoc struct {
	ID     string   `json:"id,omitempty"`
	Phones []string `json:"p,omitempty"`
}

// resultDoc is a number's eligibility result in a results or kept record.
type resultDoc struct {
	Phone     string           `json:"p"`
	Status    preflight.Status `json:"s"`
	RawStatus string           `json:"rs,omitempty"`
	SubStatus string           `json:"ss,omitempty"`
	Reason    string           `json:"r,omitempty"`
	NextStep  string           `json:"ns,omitempty"`
	RequestID string           `json:"id,omitempty"`
}

func toResultDoc(r *preflight.NumberResult) resultDoc {
	return resultDoc{Phone: r.PhoneNumber, Status: r.Status, RawStatus: string(r.RawStatus), SubStatus: string(r.SubStatus),
		Reason: r.Reason, NextStep: r.NextStep, RequestID: r.RequestID}
}

func (d *resultDoc) result() preflight.NumberResult {
	return preflight.NumberResult{PhoneNumber: d.Phone, Status: d.Status, RawStatus: hostednumbers.EligibilityStatus(d.RawStatus),
		SubStatus: hostednumbers.EligibilitySubStatus(d.SubStatus), Reason: d.Reason, NextStep: d.NextStep, RequestID: d.RequestID}
}

// resultLen is about the length of r in a kept record: its members'
// text and their names (escaping aside), for the compaction's estimate
// of the live state.
func resultLen(r *preflight.NumberResult) int64 {
	n := int64(len(`{"p":"","s":""},`) + len(r.PhoneNumber) + len(r.Status))
	for _, v := range []string{string(r.RawStatus), string(r.SubStatus), r.Reason, r.NextStep, r.RequestID} {
		if v != "" {
			n += int64(len(v) + len(`,"ns":""`))
		}
	}
	return n
}

// pendingCheck is a check recorded and not ended, and the length of its
// record.
type pendingCheck struct {
	c preflight.Check
	n int64
}

// checks is the eligibility checks' state in memory: the pending checks,
// oldest first, and the newest result of each number, a few bytes a
// number (internal/phoneindex: an E.164 number's digits as a uint64, each
// distinct result without its phone number stored once).
type checks struct {
	pending []pendingCheck
	results *phoneindex.Index[preflight.NumberResult]
	// resultsN is about the length of the results as a compaction writes
	// them; pendingN the length of the pending checks' records.
	resultsN, pendingN int64
}

func (c *checks) index(id string) int {
	return slices.IndexFunc(c.pending, func(p pendingCheck) bool { return p.c.RequestID == id })
}

func (c *checks) add(check preflight.Check, n int64) {
	c.pending = append(c.pending, pendingCheck{c: check, n: n})
	c.pendingN += n
}

// set records results as the newest of their numbers.
func (c *checks) set(results []preflight.NumberResult) {
	if c.results == nil {
		c.results = phoneindex.New[preflight.NumberResult]()
	}
	for i := range results {
		r := results[i]
		if old, ok := c.results.Get(r.PhoneNumber); ok {
			old.PhoneNumber = r.PhoneNumber
			c.resultsN -= resultLen(&old)
		}
		c.resultsN += resultLen(&r)
		phone := r.PhoneNumber
		r.PhoneNumber = ""
		c.results.Set(phone, r)
	}
}

// end records results and ends the pending check at i.
func (c *checks) end(i int, results []preflight.NumberResult) {
	c.set(results)
	c.pendingN -= c.pending[i].n
	c.pending = slices.Delete(c.pending, i, i+1)
}

func (c *checks) get(phone string) (preflight.NumberResult, bool) {
	if c.results == nil {
		return preflight.NumberResult{}, false
	}
	r, ok := c.results.Get(phone)
	if ok {
		r.PhoneNumber = phone
	}
	return r, ok
}

// live is about the length of the checks' records as a compaction
// writes them.
func (c *checks) live() int64 {
	n := c.pendingN + c.resultsN
	if c.results != nil {
		n += int64(c.results.Len()/keptPerRecord+1) * 32
	}
	return n
}

// checkProblem says what is wrong with a check to record, or "".
func checkProblem(c *preflight.Check) string {
	if !format.SID(c.RequestID, "EC") {
		return fmt.Sprintf("request ID %.40q is not EC and 32 hex digits", c.RequestID)
	}
	if len(c.PhoneNumbers) == 0 {
		return "no phone numbers"
	}
	for i, p := range c.PhoneNumbers {
		if p == "" || !utf8.ValidString(p) {
			return fmt.Sprintf("phone_numbers[%d] is empty or not valid UTF-8", i)
		}
	}
	return ""
}

// resultsProblem says what is wrong with results to record, or "".
func resultsProblem(results []preflight.NumberResult) string {
	for i := range results {
		r := &results[i]
		if !r.Status.Valid() || r.PhoneNumber == "" {
			return fmt.Sprintf("results[%d] has no phone number or an invalid status %.20q", i, r.Status)
		}
		for _, v := range []string{r.PhoneNumber, string(r.RawStatus), string(r.SubStatus), r.Reason, r.NextStep, r.RequestID} {
			if !utf8.ValidString(v) {
				return fmt.Sprintf("results[%d] has a field that is not valid UTF-8", i)
			}
		}
	}
	return ""
}

// applyCheck indexes a check, results or kept record read by Open, or
// says why it contradicts the records before it.
func (s *Store) applyCheck(r *record, n int64) string {
	switch r.Kind {
	case kindCheck:
		if r.Check == nil {
			return "a check record without its check"
		}
		c := preflight.Check{RequestID: r.Check.ID, PhoneNumbers: r.Check.Phones}
		if msg := checkProblem(&c); msg != "" {
			return "an unusable eligibility check: " + msg
		}
		if s.checks.index(c.RequestID) >= 0 {
			return "eligibility check " + c.RequestID + " recorded twice"
		}
		s.checks.add(c, n)
		return ""
	case kindResults, kindKept:
		results := make([]preflight.NumberResult, len(r.Results))
		for i := range r.Results {
			results[i] = r.Results[i].result()
		}
		if msg := resultsProblem(results); msg != "" {
			return "unusable eligibility results: " + msg
		}
		if r.Kind == kindKept {
			s.checks.set(results)
			return ""
		}
		if r.Check == nil {
			return "a results record without its check"
		}
		i := s.checks.index(r.Check.ID)
		if i < 0 {
			return fmt.Sprintf("results of eligibility check %.40q, which is not pending", r.Check.ID)
		}
		s.checks.end(i, results)
		return ""
	}
	return fmt.Sprintf("unknown record %q", r.Kind)
}

// writeChecks writes the pending checks, oldest first, and every
// number's newest result to a rewrite of the log, and returns the
// pending checks with the lengths of their new records.
func (s *Store) writeChecks(ctx context.Context, w *recordlog.Writer) ([]pendingCheck, error) {
	pending := make([]pendingCheck, len(s.checks.pending))
	for i, p := range s.checks.pending {
		n, err := writeRecord(w, &record{Kind: kindCheck, Check: &checkDoc{ID: p.c.RequestID, Phones: p.c.PhoneNumbers}})
		if err != nil {
			return nil, err
		}
		pending[i] = pendingCheck{c: p.c, n: n}
	}
	if s.checks.results == nil {
		return pending, nil
	}
	kept := make([]resultDoc, 0, keptPerRecord)
	flush := func() error {
		if len(kept) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := writeRecord(w, &record{Kind: kindKept, Results: kept})
		kept = kept[:0]
		return err
	}
	for phone, r := range s.checks.results.All() {
		r.PhoneNumber = phone
		kept = append(kept, toResultDoc(&r))
		if len(kept) == keptPerRecord {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	return pending, flush()
}

// Results returns the recorded eligibility result of each of
// phoneNumbers that has one (preflight.Store). A store without a
// migration has none.
func (s *Store) Results(ctx context.Context, phoneNumbers []string) (map[string]preflight.NumberResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("%s: read eligibility results: %w", s.log.Path(), err)
	}
	out := make(map[string]preflight.NumberResult)
	for _, p := range phoneNumbers {
		if r, ok := s.checks.get(p); ok {
			out[p] = r
		}
	}
	return out, nil
}

// PendingChecks returns the eligibility checks recorded and not ended,
// oldest first (preflight.Store). The checks returned are copies.
func (s *Store) PendingChecks(ctx context.Context) ([]preflight.Check, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("%s: read pending eligibility checks: %w", s.log.Path(), err)
	}
	out := make([]preflight.Check, len(s.checks.pending))
	for i, p := range s.checks.pending {
		out[i] = preflight.Check{RequestID: p.c.RequestID, PhoneNumbers: slices.Clone(p.c.PhoneNumbers)}
	}
	return out, nil
}

// RecordCheck appends a check record and syncs it before it returns nil
// (preflight.Store). It refuses a request ID that is not EC and 32 hex
// digits or is already pending, a check without numbers, and a store
// without a migration (migrate.ErrNoMigration: the checks are the
// migration's), recording nothing then.
func (s *Store) RecordCheck(ctx context.Context, check preflight.Check) error {
	if msg := checkProblem(&check); msg != "" {
		return fmt.Errorf("logstore: record eligibility check: %s", msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path := s.log.Path()
	if err := s.usable(ctx); err != nil {
		return fmt.Errorf("%s: record eligibility check %s: %w", path, check.RequestID, err)
	}
	if s.meta == nil {
		return fmt.Errorf("%s: record eligibility check %s: %w", path, check.RequestID, migrate.ErrNoMigration)
	}
	if s.checks.index(check.RequestID) >= 0 {
		return fmt.Errorf("%s: record eligibility check %s: already pending", path, check.RequestID)
	}
	c := preflight.Check{RequestID: check.RequestID, PhoneNumbers: slices.Clone(check.PhoneNumbers)}
	data, err := encode(&record{Kind: kindCheck, Check: &checkDoc{ID: c.RequestID, Phones: c.PhoneNumbers}})
	if err != nil {
		return fmt.Errorf("%s: record eligibility check %s: encoding: %w", path, c.RequestID, err)
	}
	at, err := s.log.Append(data)
	if err != nil {
		return fmt.Errorf("%s: record eligibility check %s: %w", path, c.RequestID, err)
	}
	s.checks.add(c, at.N)
	s.maybeCompact(ctx)
	return nil
}

// RecordResults appends one record holding the check's request ID and
// every result, synced before it returns nil, so that the results are
// recorded and the check ended at once or not at all (preflight.Store).
// It refuses a check that is not pending and a result without a phone
// number or with an invalid status, recording nothing then.
func (s *Store) RecordResults(ctx context.Context, requestID string, results []preflight.NumberResult) error {
	if msg := resultsProblem(results); msg != "" {
		return fmt.Errorf("logstore: record results of eligibility check %.40q: %s", requestID, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path := s.log.Path()
	if err := s.usable(ctx); err != nil {
		return fmt.Errorf("%s: record results of eligibility check %.40q: %w", path, requestID, err)
	}
	i := s.checks.index(requestID)
	if i < 0 {
		return fmt.Errorf("%s: record results of eligibility check %.40q: no such pending check", path, requestID)
	}
	r := &record{Kind: kindResults, Check: &checkDoc{ID: requestID}, Results: make([]resultDoc, len(results))}
	for j := range results {
		r.Results[j] = toResultDoc(&results[j])
	}
	data, err := encode(r)
	if err != nil {
		return fmt.Errorf("%s: record results of eligibility check %s: encoding: %w", path, requestID, err)
	}
	if _, err := s.log.Append(data); err != nil {
		return fmt.Errorf("%s: record results of eligibility check %s: %w", path, requestID, err)
	}
	s.checks.end(i, results)
	s.maybeCompact(ctx)
	return nil
}

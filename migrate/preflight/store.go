package preflight

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// Check is a bulk eligibility check that was created and whose results
// are not recorded yet: what a Store keeps between RecordCheck and
// RecordResults, so that a Run after a crash waits for it instead of
// creating it again.
type Check struct {
	// RequestID is the bulk check's ID: EC and 32 hex digits.
	RequestID string
	// PhoneNumbers are the numbers the check was created for.
	PhoneNumbers []string
}

// Store is where Run keeps its progress. Every method that records must
// make what it records durable before it returns nil: Run creates a bulk
// check, records it, and only then waits for it, so that a crash after
// the create is followed by a wait, not by a second check.
//
// The interface is shaped for a database: a table of pending checks (one
// row per check, or per check and number) and a table of results (one row
// per phone number, the newest result winning). A Run calls the methods
// from one goroutine at a time, but Runs of different numbers may share
// a Store at once (a Checker runs one per batch, several batches at
// once): each waits only for the pending checks that hold its own
// numbers, so a Store used so must be safe for concurrent use, and must
// lose no record of one Run to another's. Two Runs of the same numbers at
// once would both wait for the same pending checks (and the second to
// record a check's results is refused): the engine never checks one
// batch twice at once.
//
// Every Store of this module follows these rules, checked by the
// contract suite migrate/storetest.RunChecks: MemoryStore, FileStore, and
// the migration stores migrate/logstore and migrate/pgstore, which keep
// the checks with the migration's own records.
type Store interface {
	// Results returns the recorded result of each of phoneNumbers that
	// has one, keyed by phone number; a number without a recorded result
	// is absent from the map (it is "not yet checked").
	Results(ctx context.Context, phoneNumbers []string) (map[string]NumberResult, error)
	// PendingChecks returns every check recorded by RecordCheck that
	// RecordResults has not ended, oldest first.
	PendingChecks(ctx context.Context) ([]Check, error)
	// RecordCheck records a created check, durably once it returns nil.
	// It is called before anything waits for the check.
	RecordCheck(ctx context.Context, check Check) error
	// RecordResults records the results of the pending check requestID
	// and ends it (PendingChecks no longer lists it), in one atomic,
	// durable step. results may cover fewer numbers than the check
	// (none, for a check the API no longer knows): a number without a
	// result keeps its earlier one, if any, or stays not checked. A
	// result replaces an earlier result for the same number.
	RecordResults(ctx context.Context, requestID string, results []NumberResult) error
}

// MemoryStore is a Store held in memory: for tests, and for callers that
// need no resume. It is NOT durable: everything it holds is lost with the
// process, so a crash during the check means checking again (harmless, see
// the package documentation). It is safe for concurrent use. The zero
// value is ready to use.
type MemoryStore struct {
	mu      sync.Mutex
	pending []Check
	results map[string]NumberResult
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return new(MemoryStore) }

// Results implements Store.
func (m *MemoryStore) Results(ctx context.Context, phoneNumbers []string) (map[string]NumberResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("preflight: memory store: read results: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]NumberResult)
	for _, p := range phoneNumbers {
		if r, ok := m.results[p]; ok {
			out[p] = r
		}
	}
	return out, nil
}

// PendingChecks implements Store. The checks returned are copies.
func (m *MemoryStore) PendingChecks(ctx context.Context) ([]Check, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("preflight: memory store: read pending checks: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Check, len(m.pending))
	for i, c := range m.pending {
		out[i] = Check{RequestID: c.RequestID, PhoneNumbers: slices.Clone(c.PhoneNumbers)}
	}
	return out, nil
}

// RecordCheck implements Store. It refuses a request ID that is not EC…
// or is already pending, and a check without numbers.
func (m *MemoryStore) RecordCheck(ctx context.Context, check Check) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("preflight: memory store: record check: %w", err)
	}
	if !format.SID(check.RequestID, "EC") {
		return fmt.Errorf("preflight: memory store: record check: request ID %q is not EC and 32 hex digits", check.RequestID)
	}
	if len(check.PhoneNumbers) == 0 {
		return fmt.Errorf("preflight: memory store: record check %s: no phone numbers", check.RequestID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.indexLocked(check.RequestID) >= 0 {
		return fmt.Errorf("preflight: memory store: record check %s: already pending", check.RequestID)
	}
	m.pending = append(m.pending, Check{RequestID: check.RequestID, PhoneNumbers: slices.Clone(check.PhoneNumbers)})
	return nil
}

// RecordResults implements Store. It refuses a request ID that is not
// pending and a result whose status is not a valid Status, recording
// nothing then.
func (m *MemoryStore) RecordResults(ctx context.Context, requestID string, results []NumberResult) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("preflight: memory store: record results of %s: %w", requestID, err)
	}
	for i := range results {
		if !results[i].Status.Valid() || results[i].PhoneNumber == "" {
			return fmt.Errorf("preflight: memory store: record results of %s: results[%d] has no phone number or an invalid status %q", requestID, i, results[i].Status)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.indexLocked(requestID)
	if i < 0 {
		return fmt.Errorf("preflight: memory store: record results of %s: no such pending check", requestID)
	}
	if m.results == nil {
		m.results = make(map[string]NumberResult)
	}
	for _, r := range results {
		m.results[r.PhoneNumber] = r
	}
	m.pending = slices.Delete(m.pending, i, i+1)
	return nil
}

func (m *MemoryStore) indexLocked(requestID string) int {
	return slices.IndexFunc(m.pending, func(c Check) bool { return c.RequestID == requestID })
}

package preflight_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

const bulkPath = "/v1/HostedNumber/Eligibility/Bulk"

// testCtx is the deadline of every test: a regression fails, it does not
// hang.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastOptions poll every few milliseconds and retry creates at once.
func fastOptions() preflight.Options {
	return preflight.Options{
		Wait:       &hn.EligibilityWaitOptions{PollInterval: 2 * time.Millisecond, MaxPollInterval: 10 * time.Millisecond},
		RetryDelay: time.Millisecond,
	}
}

// newFake starts the fake server, where numbers ending in 9 are already
// in Twilio, and returns it with a client that does not retry (so that
// the faults a test injects reach Run).
func newFake(t *testing.T, opts ...hostednumberstest.Option) (*hostednumberstest.Server, *hn.Client) {
	t.Helper()
	all := append([]hostednumberstest.Option{hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9"))}, opts...)
	srv := hostednumberstest.NewServer(all...)
	t.Cleanup(srv.Close)
	return srv, srv.Client(hn.WithMaxRetries(0))
}

// bulkCreates returns the numbers listed by each POST to the bulk check
// endpoint the server received, faulted or not, in order.
func bulkCreates(t *testing.T, srv *hostednumberstest.Server) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range srv.Requests() {
		if r.Method != "POST" || r.Path != bulkPath {
			continue
		}
		var p hn.EligibilityParams
		require.NoError(t, json.Unmarshal(r.Body, &p))
		phones := make([]string, len(p.PhoneNumbers))
		for i, n := range p.PhoneNumbers {
			phones[i] = n.PhoneNumber
		}
		out = append(out, phones)
	}
	return out
}

// makeNumbers returns n distinct numbers; every tenth one ends in 9.
func makeNumbers(n int) []preflight.Number {
	out := make([]preflight.Number, n)
	for i := range out {
		out[i] = preflight.Number{PhoneNumber: fmt.Sprintf("+1415555%04d", i)}
	}
	return out
}

func phonesOf(numbers []preflight.Number) []string {
	out := make([]string, len(numbers))
	for i, n := range numbers {
		out[i] = n.PhoneNumber
	}
	return out
}

// events collects Run's events; safe to read after Run returns.
type events struct {
	mu   sync.Mutex
	list []preflight.Event
}

func (e *events) add(ev preflight.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) of(kind preflight.EventKind) []preflight.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []preflight.Event
	for _, ev := range e.list {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// faultyStore wraps a Store and fails (or panics) as a crashing process
// would: after RecordCheck has recorded, or before RecordResults records.
type faultyStore struct {
	preflight.Store
	failAfterRecordCheck   error
	panicAfterRecordCheck  bool
	failBeforeRecordResult error
}

func (s *faultyStore) RecordCheck(ctx context.Context, c preflight.Check) error {
	if err := s.Store.RecordCheck(ctx, c); err != nil {
		return err
	}
	if s.panicAfterRecordCheck {
		panic("crash after recording " + c.RequestID)
	}
	return s.failAfterRecordCheck
}

func (s *faultyStore) RecordResults(ctx context.Context, id string, rs []preflight.NumberResult) error {
	if s.failBeforeRecordResult != nil {
		return s.failBeforeRecordResult
	}
	return s.Store.RecordResults(ctx, id, rs)
}

// mockAPI is a hostednumbers.EligibilityAPI in memory: CreateBulk answers
// with create (or a QUEUED check that decide finishes), FetchBulk with
// fetch (or the finished check). It counts calls.
type mockAPI struct {
	mu      sync.Mutex
	create  func(call int, p *hn.EligibilityParams) (*hn.BulkEligibility, error)
	decide  func(phone string) hn.EligibilityResult
	checks  map[string]*hn.BulkEligibility
	creates int
	fetches int
}

var _ hn.EligibilityAPI = (*mockAPI)(nil)

func requestID(n int) string { return fmt.Sprintf("EC%032x", n) }

func (m *mockAPI) Check(context.Context, *hn.EligibilityParams, ...hn.CallOption) (*hn.Eligibility, error) {
	return nil, fmt.Errorf("mockAPI: Check is not used: %w", hn.ErrNotApplied)
}

func (m *mockAPI) CreateBulk(ctx context.Context, p *hn.EligibilityParams, _ ...hn.CallOption) (*hn.BulkEligibility, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates++
	if m.create != nil {
		if b, err := m.create(m.creates, p); b != nil || err != nil {
			return b, err
		}
	}
	id := requestID(m.creates)
	done := &hn.BulkEligibility{RequestID: id, Status: hn.BulkEligibilityStatusSuccessful}
	for _, n := range p.PhoneNumbers {
		r := hn.EligibilityResult{PhoneNumber: n.PhoneNumber, Status: hn.EligibilityStatusEligible}
		if m.decide != nil {
			r = m.decide(n.PhoneNumber)
		}
		done.Results = append(done.Results, r)
	}
	if m.checks == nil {
		m.checks = make(map[string]*hn.BulkEligibility)
	}
	m.checks[id] = done
	return &hn.BulkEligibility{RequestID: id, Status: hn.BulkEligibilityStatusQueued}, nil
}

func (m *mockAPI) FetchBulk(ctx context.Context, id string, _ ...hn.CallOption) (*hn.BulkEligibility, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fetches++
	b, ok := m.checks[id]
	if !ok {
		return nil, &hn.APIError{HTTPStatus: 404, Code: 20404, Message: "not found"}
	}
	return b, nil
}

func (m *mockAPI) WaitBulk(ctx context.Context, id string, opts *hn.EligibilityWaitOptions, callOpts ...hn.CallOption) (*hn.BulkEligibility, error) {
	return hn.WaitForBulkEligibility(ctx, m, id, opts, callOpts...)
}

func (m *mockAPI) counts() (creates, fetches int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.creates, m.fetches
}

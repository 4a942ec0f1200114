package downstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/examples/downstream"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// mockOrders is a hand-written mock of hostednumbers.BulkHostedNumberOrdersAPI.
// Create answers created (or createErr). Fetch walks through snapshots,
// repeating the last one as a request stuck in a stage would, or answers
// fetchErr once they run out. Wait is the SDK's own polling loop,
// hostednumbers.WaitForBulkOrder, over the mocked Fetch: OnSnapshot, the
// poll interval and the error rules are the real ones.
type mockOrders struct {
	mu        sync.Mutex
	created   *hostednumbers.BulkHostedNumberOrder
	createErr error
	snapshots []*hostednumbers.BulkHostedNumberOrder
	fetchErr  error
	creates   []*hostednumbers.CreateBulkHostedNumberOrderParams
	fetches   int
	// hosted, if set, is what Reconcile and WaitForReconcile list.
	hosted hostednumbers.HostedNumberOrderLister
}

func (m *mockOrders) Create(_ context.Context, params *hostednumbers.CreateBulkHostedNumberOrderParams, _ ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates = append(m.creates, params)
	return m.created, m.createErr
}

func (m *mockOrders) Fetch(_ context.Context, sid string, _ *hostednumbers.FetchBulkHostedNumberOrderParams, _ ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fetches++
	switch {
	case m.fetches <= len(m.snapshots):
		return m.snapshots[m.fetches-1], nil
	case m.fetchErr != nil:
		return nil, m.fetchErr
	case len(m.snapshots) > 0:
		return m.snapshots[len(m.snapshots)-1], nil
	}
	return nil, fmt.Errorf("mock: fetch %s: %w", sid, hostednumbers.ErrNotFound)
}

func (m *mockOrders) Wait(ctx context.Context, sid string, wait *hostednumbers.WaitOptions, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	return hostednumbers.WaitForBulkOrder(ctx, m, sid, wait, opts...)
}

// Reconcile and WaitForReconcile are the SDK's own, over hosted.
func (m *mockOrders) Reconcile(ctx context.Context, params *hostednumbers.ReconcileParams, opts ...hostednumbers.CallOption) (*hostednumbers.Reconciliation, error) {
	return hostednumbers.Reconcile(ctx, m.hosted, params, opts...)
}

func (m *mockOrders) WaitForReconcile(ctx context.Context, params *hostednumbers.ReconcileParams, opts ...hostednumbers.CallOption) (*hostednumbers.Reconciliation, error) {
	return hostednumbers.WaitForReconcile(ctx, m.hosted, params, opts...)
}

var _ hostednumbers.BulkHostedNumberOrdersAPI = (*mockOrders)(nil)

var numbers = []string{"+14155550101", "+14155550109", "+14155550102"}

// fastPolling makes Wait poll every millisecond (the default is 2 s).
var fastPolling = &hostednumbers.WaitOptions{PollInterval: time.Millisecond, MaxPollInterval: 5 * time.Millisecond}

// states returns the order of numbers, built by the test kit, in each stage.
func states(nums ...string) (queued, inProgress, processed *hostednumbers.BulkHostedNumberOrder) {
	spec := hostednumberstest.BulkOrderSpec{Numbers: nums, Outcome: hostednumberstest.FailNumbersEndingIn("9")}
	queued = spec.Order()
	spec.Status = hostednumbers.RequestStatusInProgress
	inProgress = spec.Order()
	spec.Status = hostednumbers.RequestStatusProcessed
	processed = spec.Order()
	return queued, inProgress, processed
}

func TestMockMigrateReportsEveryNumber(t *testing.T) {
	queued, inProgress, processed := states(numbers...)
	mock := &mockOrders{created: queued, snapshots: []*hostednumbers.BulkHostedNumberOrder{inProgress, processed}}
	var progress []string
	m := &downstream.Migrator{
		Orders:     mock,
		OwnerEmail: "owner@example.com",
		Wait:       fastPolling,
		OnProgress: func(s hostednumbers.RequestStatus, counts map[hostednumbers.OrderStatus]int) {
			progress = append(progress, fmt.Sprint(s, " ", counts))
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	report, err := m.Migrate(ctx, numbers)
	require.NoError(t, err)
	assert.Equal(t, &downstream.Report{
		BulkHostingSID: hostednumberstest.ExampleBulkHostingSID,
		Status:         hostednumbers.RequestStatusProcessed,
		// PROCESSED: the orders are made; the numbers wait for their LOA.
		InProgress: map[hostednumbers.OrderStatus][]string{hostednumbers.OrderStatusPendingLOA: {"+14155550101", "+14155550102"}},
		Failed: []downstream.FailedNumber{{
			PhoneNumber: "+14155550109", Status: hostednumbers.OrderStatusFailed,
			Reason: hostednumberstest.DefaultFailureReason, NextStep: hostednumberstest.DefaultNextStep,
		}},
		Snapshots: 2,
	}, report)
	assert.Equal(t, []string{"IN_PROGRESS map[received:3]", "PROCESSED map[failed:1 pending-loa:2]"}, progress)

	require.Len(t, mock.creates, 1)
	items := mock.creates[0].RequestItems
	require.Len(t, items, 1)
	assert.Equal(t, "owner@example.com", items[0].Email)
	var sent []string
	for _, n := range items[0].Numbers {
		sent = append(sent, n.PhoneNumber)
	}
	assert.Equal(t, numbers, sent)
}

func TestMockMigrateRefusesInvalidInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t.Run("no numbers", func(t *testing.T) {
		mock := &mockOrders{}
		_, err := (&downstream.Migrator{Orders: mock}).Migrate(ctx, nil)
		assert.ErrorIs(t, err, downstream.ErrInvalidRequest)
		assert.Empty(t, mock.creates, "nothing submitted")
	})
	t.Run("refused by the SDK", func(t *testing.T) {
		invalid := &hostednumbers.ValidationError{Problems: []hostednumbers.FieldError{
			{Field: "request_items[0].numbers[0].phone_number", Message: "must be E.164"},
		}}
		mock := &mockOrders{createErr: fmt.Errorf("hostednumbers: create bulk order: %w", invalid)}
		_, err := (&downstream.Migrator{Orders: mock}).Migrate(ctx, []string{"555"})
		require.ErrorIs(t, err, downstream.ErrInvalidRequest)
		var got *hostednumbers.ValidationError
		require.ErrorAs(t, err, &got)
		assert.Equal(t, "request_items[0].numbers[0].phone_number", got.Problems[0].Field)
	})
}

func TestMockMigrateKeepsTheSIDWhenWaitingFails(t *testing.T) {
	queued, inProgress, _ := states(numbers...)
	t.Run("stuck until the deadline", func(t *testing.T) {
		mock := &mockOrders{created: queued, snapshots: []*hostednumbers.BulkHostedNumberOrder{inProgress}}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		report, err := (&downstream.Migrator{Orders: mock, Wait: fastPolling}).Migrate(ctx, numbers)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotNil(t, report)
		assert.Equal(t, hostednumberstest.ExampleBulkHostingSID, report.BulkHostingSID)
		assert.Equal(t, hostednumbers.RequestStatusInProgress, report.Status)
		assert.Equal(t, map[hostednumbers.OrderStatus][]string{hostednumbers.OrderStatusReceived: numbers}, report.InProgress)
		assert.Greater(t, report.Snapshots, 1, "the real loop polled again")
		assert.Contains(t, err.Error(), report.BulkHostingSID)
	})
	t.Run("the order disappears", func(t *testing.T) {
		mock := &mockOrders{created: queued, snapshots: []*hostednumbers.BulkHostedNumberOrder{inProgress},
			fetchErr: hostednumberstest.NewAPIError(404, 20404, "The requested resource was not found")}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		report, err := (&downstream.Migrator{Orders: mock, Wait: fastPolling}).Migrate(ctx, numbers)
		var apiErr *hostednumbers.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 2, mock.fetches, "a 404 is not polled again")
		assert.Equal(t, 1, report.Snapshots)
	})
	t.Run("transient failures are polled through", func(t *testing.T) {
		_, _, processed := states(numbers...)
		mock := &flakyOrders{mockOrders: mockOrders{created: queued,
			snapshots: []*hostednumbers.BulkHostedNumberOrder{inProgress, processed}}, failEvery: 2}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		report, err := (&downstream.Migrator{Orders: mock, Wait: fastPolling}).Migrate(ctx, numbers)
		require.NoError(t, err)
		assert.Equal(t, hostednumbers.RequestStatusProcessed, report.Status)
		assert.Equal(t, 2, report.Snapshots)
	})
}

// flakyOrders fails every failEvery-th fetch with a 503, as a flaky
// network would after the client's own retries.
type flakyOrders struct {
	mockOrders
	failEvery int
	calls     int
}

func (f *flakyOrders) Fetch(ctx context.Context, sid string, p *hostednumbers.FetchBulkHostedNumberOrderParams, _ ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls%f.failEvery == 1
	f.mu.Unlock()
	if fail {
		// Exactly what the client returns for a 503 (Twilio documents no
		// code for it), wrapped as a fetch's error is.
		return nil, fmt.Errorf("hostednumbers: fetch bulk order %s: %w", sid, hostednumberstest.NewAPIError(503, 0, "Service Unavailable"))
	}
	return f.mockOrders.Fetch(ctx, sid, p)
}

func (f *flakyOrders) Wait(ctx context.Context, sid string, wait *hostednumbers.WaitOptions, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	return hostednumbers.WaitForBulkOrder(ctx, f, sid, wait, opts...)
}

// post sends body to the migrator's handler and returns the answer.
func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/migrations", strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMockHandlerStatuses(t *testing.T) {
	queued, _, processed := states(numbers...)
	tests := []struct {
		name       string
		mock       *mockOrders
		body       string
		wantStatus int
		wantBody   string
	}{
		{"processed", &mockOrders{created: queued, snapshots: []*hostednumbers.BulkHostedNumberOrder{processed}},
			`{"numbers":["+14155550101","+14155550109","+14155550102"]}`, 200, `"in_progress":{"pending-loa":["+14155550101","+14155550102"]}`},
		{"bad JSON", &mockOrders{}, `{"numbers":`, 400, "bad JSON"},
		{"no numbers", &mockOrders{}, `{"numbers":[]}`, 400, "no numbers"},
		// Shaped exactly like the client's refused create: an APIError
		// with ErrNotApplied.
		{"Twilio refuses", &mockOrders{createErr: hostednumberstest.NotAppliedError(hostednumberstest.OpCreateBulkOrder,
			hostednumberstest.NewAPIError(400, 20001, "Invalid parameter: request_items[0].numbers[0].phone_number"))},
			`{"numbers":["+14155550101"]}`, 502, "submit migration"},
		{"waiting ran out of time", &mockOrders{created: queued, fetchErr: context.DeadlineExceeded},
			`{"numbers":["+14155550101"]}`, 504, "wait for " + queued.BulkHostingSID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(t, &downstream.Migrator{Orders: tt.mock, Wait: fastPolling}, tt.body)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Contains(t, rec.Body.String(), tt.wantBody)
			if rec.Code == 200 {
				var report downstream.Report
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &report))
				assert.Equal(t, queued.BulkHostingSID, report.BulkHostingSID)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		rec := httptest.NewRecorder()
		(&downstream.Migrator{}).ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/migrations", nil))
		assert.Equal(t, 405, rec.Code)
		assert.Equal(t, "POST", rec.Header().Get("Allow"))
	})
	assert.True(t, errors.Is(fmt.Errorf("x: %w", downstream.ErrInvalidRequest), downstream.ErrInvalidRequest))
}

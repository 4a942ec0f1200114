package downstream_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/examples/downstream"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// mockHostedOrders is a hand-written mock of
// hostednumbers.HostedNumberOrdersAPI over a list of orders that shows
// them only from the visibleFrom-th listing on (a lagging list). Its List
// pages them two at a time with hostednumberstest.Pages, filtering by
// PhoneNumber, and its All is the first page's All: the two agree by
// construction.
type mockHostedOrders struct {
	mu          sync.Mutex
	orders      []hostednumbers.HostedNumberOrder
	visibleFrom int
	lists       int
}

func (m *mockHostedOrders) List(_ context.Context, p *hostednumbers.ListHostedNumberOrdersParams, _ ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	var items []hostednumbers.HostedNumberOrder
	if m.lists >= m.visibleFrom {
		for _, o := range m.orders {
			if p == nil || p.PhoneNumber == "" || p.PhoneNumber == o.PhoneNumber {
				items = append(items, o)
			}
		}
	}
	return hostednumberstest.Pages(items, 2), nil
}

func (m *mockHostedOrders) All(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, opts ...hostednumbers.CallOption) iter.Seq2[*hostednumbers.HostedNumberOrder, error] {
	page, err := m.List(ctx, p, opts...)
	if err != nil {
		return hostednumberstest.Seq[hostednumbers.HostedNumberOrder](nil, err)
	}
	return page.All(ctx, opts...)
}

func (m *mockHostedOrders) Fetch(context.Context, string, ...hostednumbers.CallOption) (*hostednumbers.HostedNumberOrder, error) {
	return nil, fmt.Errorf("mock: fetch: %w", hostednumbers.ErrNotFound)
}

func (m *mockHostedOrders) Update(context.Context, string, *hostednumbers.UpdateHostedNumberOrderParams, ...hostednumbers.CallOption) (*hostednumbers.HostedNumberOrder, error) {
	return nil, errors.New("mock: update is not used")
}

func (m *mockHostedOrders) Cancel(context.Context, string, ...hostednumbers.CallOption) error {
	return errors.New("mock: cancel is not used")
}

func (m *mockHostedOrders) Create(context.Context, *hostednumbers.CreateHostedNumberOrderParams, ...hostednumbers.CallOption) (*hostednumbers.HostedNumberOrder, error) {
	return nil, errors.New("mock: create is not used")
}

var _ hostednumbers.HostedNumberOrdersAPI = (*mockHostedOrders)(nil)

// hostedOrdersOf builds the hosted number orders a PROCESSED request of
// numbers made, with the test kit.
func hostedOrdersOf(t *testing.T, processed *hostednumbers.BulkHostedNumberOrder) []hostednumbers.HostedNumberOrder {
	t.Helper()
	var out []hostednumbers.HostedNumberOrder
	for i, o := range processed.Orders() {
		out = append(out, *hostednumberstest.HostedNumberOrderSpec{
			SID: fmt.Sprintf("HR%032x", i+1), PhoneNumber: o.PhoneNumber, Status: o.Status,
			BulkHostingSID: processed.BulkHostingSID, Created: time.Now().UTC(),
		}.Order())
	}
	return out
}

func TestMockLostAnswerIsRecoveredThroughTheInterfacesAlone(t *testing.T) {
	queued, inProgress, processed := states(numbers...)
	orders := &mockOrders{
		createErr: fmt.Errorf("mock: connection reset: %w", hostednumbers.ErrOutcomeUnknown),
		snapshots: []*hostednumbers.BulkHostedNumberOrder{queued, inProgress, processed},
	}
	// The orders show from the third listing on: the first looks find
	// nothing, and the Migrator must not submit again meanwhile.
	hosted := &mockHostedOrders{orders: hostedOrdersOf(t, processed), visibleFrom: 3 * len(numbers)}
	m := &downstream.Migrator{
		Orders: orders, HostedOrders: hosted, OwnerEmail: "owner@example.com", Wait: fastPolling,
		ConfirmGap: time.Millisecond,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	report, err := m.Migrate(ctx, numbers)
	require.NoError(t, err)
	assert.Len(t, orders.creates, 1, "the lost create is adopted, never sent again")
	assert.Equal(t, processed.BulkHostingSID, report.BulkHostingSID)
	assert.Equal(t, hostednumbers.RequestStatusProcessed, report.Status)
	assert.GreaterOrEqual(t, hosted.lists, 3*len(numbers), "looked again until the orders showed")

	// Follow pages through the hosted number orders (two a page).
	followed, err := m.Follow(ctx, report.BulkHostingSID)
	require.NoError(t, err)
	assert.Equal(t, []string{"+14155550109"}, phonesOf(followed.Failed))
	assert.ElementsMatch(t, []string{"+14155550101", "+14155550102"}, followed.InProgress[hostednumbers.OrderStatusPendingLOA])
}

func TestMockLostAnswerNeverMadeIsSubmittedAgainOnlyAfterTheWindow(t *testing.T) {
	queued, _, processed := states(numbers...)
	orders := &mockOrders{
		createErr: fmt.Errorf("mock: gateway timeout: %w", hostednumbers.ErrOutcomeUnknown),
		snapshots: []*hostednumbers.BulkHostedNumberOrder{queued, processed},
	}
	hosted := &mockHostedOrders{}
	m := &downstream.Migrator{
		Orders: orders, HostedOrders: hosted, OwnerEmail: "owner@example.com", Wait: fastPolling,
		ProcessingWindow: 50 * time.Millisecond, ConfirmGap: 10 * time.Millisecond,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := m.Migrate(ctx, numbers)
	// The mock's second Create fails the same way: what matters is when
	// it was sent.
	require.ErrorIs(t, err, hostednumbers.ErrOutcomeUnknown)
	assert.Len(t, orders.creates, 2, "submitted again once none was made, once")
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "not before the processing window had passed")
	assert.GreaterOrEqual(t, hosted.lists, 2*len(numbers), "two empty looks first")
}

func TestFakeLostAnswerIsRecoveredByTheMigratorWithOneCreate(t *testing.T) {
	srv := newFake(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	m := &downstream.Migrator{
		Orders: client.BulkHostedNumberOrders, HostedOrders: client.HostedNumberOrders,
		OwnerEmail: "owner@example.com", Wait: hostednumberstest.FastWaitOptions(), ConfirmGap: 10 * time.Millisecond,
	}
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	report, err := m.Migrate(ctx, numbers)
	require.NoError(t, err)
	posts := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			posts++
		}
	}
	assert.Equal(t, 1, posts, "one create: the lost one, adopted")
	require.Len(t, srv.Orders(), 1)
	assert.Equal(t, srv.Orders()[0].BulkHostingSID, report.BulkHostingSID)

	// The numbers go on after PROCESSED; their hosted number orders say
	// where they are. Follow until every number has its final status.
	var followed *downstream.Report
	for {
		followed, err = m.Follow(ctx, report.BulkHostingSID)
		require.NoError(t, err)
		if len(followed.InProgress) == 0 {
			break
		}
		require.NoError(t, ctx.Err(), "the numbers never reached their outcome")
		time.Sleep(10 * time.Millisecond)
	}
	assert.ElementsMatch(t, []string{"+14155550101", "+14155550102"}, followed.Completed)
	assert.Equal(t, []string{"+14155550109"}, phonesOf(followed.Failed))
	assert.Equal(t, hostednumberstest.DefaultFailureReason, followed.Failed[0].Reason)
}

func phonesOf(failed []downstream.FailedNumber) []string {
	var out []string
	for _, f := range failed {
		out = append(out, f.PhoneNumber)
	}
	return out
}

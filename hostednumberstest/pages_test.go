package hostednumberstest_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func pagesCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func numbered(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// walk follows Next from page and returns each page's items and Meta.Page.
func walk(t *testing.T, page *hostednumbers.Page[int]) (items [][]int, numbers []int) {
	t.Helper()
	for steps := 0; page != nil; steps++ {
		require.Less(t, steps, 1000, "Next must end")
		items = append(items, page.Items)
		numbers = append(numbers, page.Meta.Page)
		assert.Equal(t, "items", page.Meta.Key)
		var err error
		hasNext := page.HasNext()
		page, err = page.Next(pagesCtx(t))
		require.NoError(t, err)
		assert.Equal(t, hasNext, page != nil, "HasNext says whether Next gives a page")
	}
	return items, numbers
}

func TestPages_SplitsASliceIntoPagesOfTheSize(t *testing.T) {
	tests := []struct {
		n, size int
		want    [][]int
	}{
		{5, 2, [][]int{{0, 1}, {2, 3}, {4}}},
		{4, 2, [][]int{{0, 1}, {2, 3}}},
		{3, 3, [][]int{{0, 1, 2}}},
		{3, 10, [][]int{{0, 1, 2}}},
		{1, 1, [][]int{{0}}},
		{0, 2, [][]int{{}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d by %d", tt.n, tt.size), func(t *testing.T) {
			items, numbers := walk(t, hostednumberstest.Pages(numbered(tt.n), tt.size))
			assert.Equal(t, tt.want, items)
			for i := range numbers {
				assert.Equal(t, i, numbers[i])
			}
			var all []int
			for v, err := range hostednumberstest.Pages(numbered(tt.n), tt.size).All(pagesCtx(t)) {
				require.NoError(t, err)
				all = append(all, *v)
			}
			assert.Len(t, all, tt.n)
			if tt.n > 0 {
				assert.Equal(t, numbered(tt.n), all)
			}
		})
	}
}

func TestPages_ZeroOrNegativeSizeIsTheAPIDefault(t *testing.T) {
	for _, size := range []int{0, -1} {
		page := hostednumberstest.Pages(numbered(120), size)
		assert.Equal(t, hostednumberstest.DefaultPageSize, page.Meta.PageSize)
		items, _ := walk(t, page)
		require.Len(t, items, 3)
		assert.Len(t, items[0], 50)
		assert.Len(t, items[2], 20)
	}
	items, _ := walk(t, hostednumberstest.Pages[int](nil, 0))
	require.Len(t, items, 1, "nil items: one empty page")
	assert.Empty(t, items[0])
}

func TestPages_AppendingToAPageDoesNotReachTheNext(t *testing.T) {
	src := numbered(4)
	page := hostednumberstest.Pages(src, 2)
	_ = append(page.Items, 99)
	next, err := page.Next(pagesCtx(t))
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, next.Items)
	assert.Equal(t, numbered(4), src)
}

func TestPages_AllStopsOnBreakAndOnACancelledContext(t *testing.T) {
	var seen []int
	for v, err := range hostednumberstest.Pages(numbered(10), 3).All(pagesCtx(t)) {
		require.NoError(t, err)
		seen = append(seen, *v)
		if *v == 4 {
			break
		}
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4}, seen)

	ctx, cancel := context.WithCancel(pagesCtx(t))
	defer cancel()
	var errs []error
	seen = nil
	for v, err := range hostednumberstest.Pages(numbered(10), 3).All(ctx) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen = append(seen, *v)
		cancel()
	}
	assert.Equal(t, []int{0, 1, 2}, seen, "the page in hand is yielded, the next is not built")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
}

func TestSeq_YieldsItemsThenTheErrorOnce(t *testing.T) {
	boom := errors.New("page 3 failed")
	var got []int
	var errs []error
	for v, err := range hostednumberstest.Seq([]int{1, 2}, boom) {
		if err != nil {
			errs = append(errs, err)
			assert.Zero(t, v)
			continue
		}
		got = append(got, *v)
	}
	assert.Equal(t, []int{1, 2}, got)
	assert.Equal(t, []error{boom}, errs)

	got = nil
	for v, err := range hostednumberstest.Seq([]int{1, 2, 3}, nil) {
		require.NoError(t, err)
		got = append(got, *v)
		if *v == 2 {
			break
		}
	}
	assert.Equal(t, []int{1, 2}, got)

	n := 0
	for _, err := range hostednumberstest.Seq[int](nil, nil) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
}

// orderMock is a hand-written mock of HostedNumberOrdersAPI whose List and
// All are built on Pages, so they agree.
type orderMock struct {
	hostednumbers.HostedNumberOrdersAPI // the calls the test does not use
	orders                              []hostednumbers.HostedNumberOrder
	listErr                             error
}

func (m *orderMock) List(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, _ ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	if m.listErr != nil {
		return nil, m.listErr
	}
	var keep []hostednumbers.HostedNumberOrder
	for _, o := range m.orders {
		if p == nil || p.Status == "" || o.Status == p.Status {
			keep = append(keep, o)
		}
	}
	size := 0
	if p != nil {
		size = p.PageSize
	}
	return hostednumberstest.Pages(keep, size), nil
}

func (m *orderMock) All(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, _ ...hostednumbers.CallOption) iter.Seq2[*hostednumbers.HostedNumberOrder, error] {
	page, err := m.List(ctx, p)
	if err != nil {
		return hostednumberstest.Seq[hostednumbers.HostedNumberOrder](nil, err)
	}
	return page.All(ctx)
}

func TestPages_AMocksListAndAllAgree(t *testing.T) {
	var orders []hostednumbers.HostedNumberOrder
	for i := range 7 {
		status := hostednumbers.OrderStatusReceived
		if i%3 == 0 {
			status = hostednumbers.OrderStatusPendingLOA
		}
		orders = append(orders, hostednumbers.HostedNumberOrder{SID: fmt.Sprintf("HR%032x", i), Status: status})
	}
	var api hostednumbers.HostedNumberOrdersAPI = &orderMock{orders: orders}
	ctx := pagesCtx(t)
	for _, params := range []*hostednumbers.ListHostedNumberOrdersParams{
		nil, {PageSize: 2}, {PageSize: 3, Status: hostednumbers.OrderStatusPendingLOA}, {PageSize: 1, Status: hostednumbers.OrderStatusCompleted},
	} {
		var viaNext []string
		page, err := api.List(ctx, params)
		require.NoError(t, err)
		for page != nil {
			for _, o := range page.Items {
				viaNext = append(viaNext, o.SID)
			}
			page, err = page.Next(ctx)
			require.NoError(t, err)
		}
		var viaAll []string
		for o, err := range api.All(ctx, params) {
			require.NoError(t, err)
			viaAll = append(viaAll, o.SID)
		}
		assert.Equal(t, viaNext, viaAll, "params %+v", params)
	}

	failing := &orderMock{listErr: errors.New("list failed")}
	var errs []error
	for _, err := range failing.All(ctx, nil) {
		errs = append(errs, err)
	}
	assert.Equal(t, []error{failing.listErr}, errs)
}

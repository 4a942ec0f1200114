package hostednumbers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// chain builds pages of sizes with NewPage, counting calls of each next.
func chain(sizes []int, calls *int, fail error) *hn.Page[string] {
	var build func(k, start int) *hn.Page[string]
	build = func(k, start int) *hn.Page[string] {
		items := make([]string, sizes[k])
		for i := range items {
			items[i] = fmt.Sprint("item-", start+i)
		}
		var next func(context.Context, ...hn.CallOption) (*hn.Page[string], error)
		if k+1 < len(sizes) {
			next = func(ctx context.Context, _ ...hn.CallOption) (*hn.Page[string], error) {
				*calls++
				if fail != nil && k+1 == len(sizes)-1 {
					return nil, fail
				}
				return build(k+1, start+sizes[k]), nil
			}
		}
		return hn.NewPage(items, next)
	}
	return build(0, 0)
}

func TestNewPage_NextAndAllFollowTheNextFunction(t *testing.T) {
	calls := 0
	page := chain([]int{2, 0, 1}, &calls, nil)
	var got []string
	for page != nil {
		got = append(got, page.Items...)
		var err error
		page, err = page.Next(rsCtx(t))
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"item-0", "item-1", "item-2"}, got)
	assert.Equal(t, 2, calls)

	calls = 0
	got = nil
	for v, err := range chain([]int{2, 0, 1}, &calls, nil).All(rsCtx(t)) {
		require.NoError(t, err)
		got = append(got, *v)
	}
	assert.Equal(t, []string{"item-0", "item-1", "item-2"}, got)
	assert.Equal(t, 2, calls)
}

func TestNewPage_BreakStopsBeforeTheNextPage(t *testing.T) {
	calls := 0
	for v, err := range chain([]int{2, 2}, &calls, nil).All(rsCtx(t)) {
		require.NoError(t, err)
		if *v == "item-1" {
			break
		}
	}
	assert.Zero(t, calls, "the second page is never asked for")
}

func TestNewPage_AFailingNextIsYieldedOnceAndEnds(t *testing.T) {
	boom := errors.New("second page failed")
	calls := 0
	var items []string
	var errs []error
	for v, err := range chain([]int{1, 1}, &calls, boom).All(rsCtx(t)) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, *v)
	}
	assert.Equal(t, []string{"item-0"}, items)
	assert.Equal(t, []error{boom}, errs)
}

func TestNewPage_LastPageAndHasNext(t *testing.T) {
	last := hn.NewPage([]int{1}, nil)
	last.Meta.NextPageURL = hn.NullString{String: "https://numbers.twilio.com/v2/HostedNumber/Orders?Page=1", Valid: true}
	assert.False(t, last.HasNext(), "a made page has a next page only through its function")
	next, err := last.Next(rsCtx(t))
	assert.NoError(t, err)
	assert.Nil(t, next)

	first := hn.NewPage([]int{0}, func(context.Context, ...hn.CallOption) (*hn.Page[int], error) { return last, nil })
	assert.True(t, first.HasNext())
	//nolint:staticcheck // a nil context must be an error, not a panic
	_, err = first.Next(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nil context.Context")

	empty := hn.NewPage[int](nil, nil)
	n := 0
	for _, err := range empty.All(rsCtx(t)) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
}

func TestPageAll_YieldsPointersIntoItemsAndNilWithAnError(t *testing.T) {
	boom := errors.New("second page failed")
	calls := 0
	first := chain([]int{2, 1}, &calls, boom)
	var seen []*string
	for v, err := range first.All(rsCtx(t)) {
		if err != nil {
			assert.Nil(t, v, "an error comes with a nil item")
			assert.Equal(t, boom, err)
			continue
		}
		seen = append(seen, v)
	}
	require.Len(t, seen, 2)
	assert.Same(t, &first.Items[0], seen[0], "a pointer into the page, not a copy")
	assert.Same(t, &first.Items[1], seen[1])
}

package hostednumbers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// emptyPagesServer names a new page every time, never with an item, or
// with one item on the pages listed in withItem.
func emptyPagesServer(t *testing.T, withItem map[int64]bool) (*atomic.Int64, *hn.Client) {
	t.Helper()
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := pages.Add(1)
		items := []map[string]any{}
		if withItem[n] {
			items = append(items, map[string]any{"sid": fmt.Sprintf("HR%032x", n), "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phone_number": "+14155550101", "status": "received"})
		}
		var next any = fmt.Sprintf("http://%s/v2/HostedNumber/Orders?PageToken=t%d", r.Host, n)
		if n >= 40 {
			next = nil
		}
		body, _ := json.Marshal(map[string]any{"items": items, "meta": map[string]any{
			"key": "items", "page": n - 1, "page_size": 50, "next_page_url": next,
			"url": fmt.Sprintf("http://%s%s", r.Host, r.URL.RequestURI()),
		}})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	client, err := hn.NewClient(hn.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "f00dfacef00dfacef00dfacef00dface"), hn.WithBaseURL(srv.URL))
	require.NoError(t, err)
	return &pages, client
}

func TestAll_EndlessEmptyPagesStopTheLoop(t *testing.T) {
	pages, client := emptyPagesServer(t, nil)
	var errs []error
	items := 0
	for o, err := range client.HostedNumberOrders.All(ruleCtx(t), nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_ = o
		items++
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], hn.ErrPageLoop)
	assert.Contains(t, errs[0].Error(), "without an item")
	assert.Zero(t, items)
	assert.EqualValues(t, 11, pages.Load(), "ten empty pages are followed, the eleventh ends it")
}

func TestAll_EmptyPagesBetweenItemsAreFollowed(t *testing.T) {
	// Items on pages 1, 10, 19, 28 and 37: never more than ten empty pages in a
	// row, so the listing is followed to its end (page 40).
	pages, client := emptyPagesServer(t, map[int64]bool{1: true, 10: true, 19: true, 28: true, 37: true})
	items := 0
	for _, err := range client.HostedNumberOrders.All(ruleCtx(t), nil) {
		require.NoError(t, err)
		items++
	}
	assert.Equal(t, 5, items)
	assert.EqualValues(t, 40, pages.Load())
}

package hostednumbers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// Paging ends at the first page a listing has already fetched, whatever
// the pages' meta.url say; every test counts the requests server-side.

// loopPages serves pages by the value of the Page query parameter: pages[k]
// gives page k's next_page_url and meta.url (relative to the server, ""
// for none) and whether it holds an item.
type loopPage struct {
	next, self string
	item       bool
}

func loopServer(t *testing.T, pages map[string]loopPage) (*rsRecorder, *hn.Client) {
	t.Helper()
	var srv *rsRecorder
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Query().Get("Page")]
		if !ok {
			rsJSON(w, 404, []byte(`{"code":20404,"message":"no such page","status":404}`))
			return
		}
		abs := func(s string) string {
			if s == "" || strings.Contains(s, "://") {
				return s
			}
			return srv.URL + s
		}
		self := abs(p.self)
		if self == "" {
			self = srv.URL + r.URL.RequestURI()
		}
		var items []map[string]any
		if p.item {
			items = append(items, rsOrderItem(t, rsSID("HR", srv.count()), "+14155550101", nil))
		}
		rsJSON(w, 200, rsPage(t, self, abs(p.next), 0, items))
	})
	return srv, client
}

// drain runs All to its end (or 50 steps, a loop the test then reports)
// and returns the items and errors it yielded.
func drain(t *testing.T, seq func(yield func(*hn.HostedNumberOrder, error) bool)) (items int, errs []error) {
	t.Helper()
	steps := 0
	for _, err := range seq {
		steps++
		require.Less(t, steps, 50, "the iteration must end")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items++
	}
	return items, errs
}

func requireLoopError(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, hn.ErrPageLoop)
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de, "the page that named the loop is unusable")
	assert.Equal(t, 200, de.HTTPStatus)
	assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", de.RequestID)
	assert.Contains(t, err.Error(), "hostednumbers: list hosted number orders: page ", "the error names the listing")
	assert.Contains(t, err.Error(), "paging stopped")
}

func TestPaging_TwoPagesNamingEachOtherStopAtTheFirstRepeat(t *testing.T) {
	srv, client := loopServer(t, map[string]loopPage{
		"":  {next: "/v2/HostedNumber/Orders?Page=1", item: true},
		"1": {next: "/v2/HostedNumber/Orders", item: true},
	})
	items, errs := drain(t, client.HostedNumberOrders.All(rsCtx(t), nil))
	assert.Equal(t, 2, items)
	require.Len(t, errs, 1)
	requireLoopError(t, errs[0])
	assert.Contains(t, errs[0].Error(), "page 2: request succeeded (200 OK, Twilio-Request-Id RQ0123456789abcdef0123456789abcdef) but its response could not be decoded: next_page_url of page 1 leads back to page 0 of this listing: paging stopped")
	assert.Equal(t, 2, srv.count(), "no page is fetched twice")
}

func TestPaging_EmptyPagesInACycleEndWithoutTheCallersHelp(t *testing.T) {
	srv, client := loopServer(t, map[string]loopPage{
		"":  {next: "/v2/HostedNumber/Orders?Page=1"},
		"1": {next: "/v2/HostedNumber/Orders?Page=2"},
		"2": {next: "/v2/HostedNumber/Orders?Page=1"},
	})
	items, errs := drain(t, client.HostedNumberOrders.All(rsCtx(t), nil))
	assert.Zero(t, items)
	require.Len(t, errs, 1)
	requireLoopError(t, errs[0])
	assert.Contains(t, errs[0].Error(), "next_page_url of page 2 leads back to page 1 of this listing")
	assert.Equal(t, 3, srv.count())
}

func TestPaging_MetaURLCannotHideARepeat(t *testing.T) {
	// Each page claims to be somewhere else than the URL it was fetched
	// by, so comparing next_page_url with meta.url never sees the loop.
	cases := map[string]string{
		"the same URL":                  "/v2/HostedNumber/Orders?Page=1",
		"query parameters reordered":    "/v2/HostedNumber/Orders?Extra=x&Page=1",
		"scheme and host in upper case": "HTTP://127.0.0.1:PORT/v2/HostedNumber/Orders?Page=1",
		"escapes in path and query":     "/v2/%48ostedNumber/Orders?%50age=%31",
		"a fragment":                    "/v2/HostedNumber/Orders?Page=1#again",
	}
	for name, again := range cases {
		t.Run(name, func(t *testing.T) {
			first := "/v2/HostedNumber/Orders?Page=1"
			if strings.Contains(again, "Extra") {
				first = "/v2/HostedNumber/Orders?Page=1&Extra=x"
			}
			var srv *rsRecorder
			pages := map[string]loopPage{
				"":  {next: first, self: "/v2/HostedNumber/Orders?Page=0", item: true},
				"1": {next: "/v2/HostedNumber/Orders?Page=2", self: "/v2/Elsewhere?Page=1", item: true},
				"2": {self: "/v2/Elsewhere?Page=2", item: true},
			}
			p := pages["2"]
			p.next = again
			pages["2"] = p
			srv, client := loopServer(t, pages)
			if strings.Contains(again, "PORT") {
				p.next = strings.Replace(again, "HTTP://127.0.0.1:PORT", strings.ToUpper(srv.URL), 1)
				pages["2"] = p
			}
			items, errs := drain(t, client.HostedNumberOrders.All(rsCtx(t), nil))
			assert.Equal(t, 3, items)
			require.Len(t, errs, 1, "requests: %v", srv.requests())
			requireLoopError(t, errs[0])
			assert.Contains(t, errs[0].Error(), "next_page_url of page 2 leads back to page 1 of this listing")
			assert.Equal(t, 3, srv.count())
		})
	}
}

func TestPaging_AFirstPageNamingItselfUnderAnotherMetaURLIsOneRequest(t *testing.T) {
	srv, client := loopServer(t, map[string]loopPage{
		"": {next: "/v2/HostedNumber/Orders?PageSize=2", self: "/v2/HostedNumber/Orders?Page=0", item: true},
	})
	page, err := client.HostedNumberOrders.List(rsCtx(t), &hn.ListHostedNumberOrdersParams{PageSize: 2})
	require.NoError(t, err)
	next, err := page.Next(rsCtx(t))
	assert.Nil(t, next)
	requireLoopError(t, err)
	assert.Contains(t, err.Error(), "next_page_url of page 0 leads back to page 0 of this listing")
	assert.Equal(t, 1, srv.count())
}

func TestPaging_NextByHandStopsAtTheRepeatToo(t *testing.T) {
	srv, client := loopServer(t, map[string]loopPage{
		"":  {next: "/v2/HostedNumber/Orders?Page=1"},
		"1": {next: "/v2/HostedNumber/Orders?Page=2"},
		"2": {next: "/v2/HostedNumber/Orders?Page=1"},
	})
	ctx := rsCtx(t)
	page, err := client.HostedNumberOrders.List(ctx, nil)
	require.NoError(t, err)
	var loopErr error
	for steps := 0; page != nil; steps++ {
		require.Less(t, steps, 10, "the loop must end")
		page, loopErr = page.Next(ctx)
	}
	requireLoopError(t, loopErr)
	assert.Equal(t, 3, srv.count())
}

func TestPaging_WalkingAgainIsNotALoop(t *testing.T) {
	srv, client := loopServer(t, map[string]loopPage{
		"":  {next: "/v2/HostedNumber/Orders?Page=1", item: true},
		"1": {next: "/v2/HostedNumber/Orders?Page=2", item: true},
		"2": {item: true},
	})
	ctx := rsCtx(t)
	first, err := client.HostedNumberOrders.List(ctx, nil)
	require.NoError(t, err)

	// Next twice on the same page fetches the same page twice.
	second, err := first.Next(ctx)
	require.NoError(t, err)
	again, err := first.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, second.Meta.URL, again.Meta.URL)
	third, err := again.Next(ctx)
	require.NoError(t, err)
	last, err := third.Next(ctx)
	require.NoError(t, err)
	assert.Nil(t, last)

	// All from the first page, twice, and then from the second page.
	for _, from := range []struct {
		page  *hn.Page[hn.HostedNumberOrder]
		items int
	}{{first, 3}, {first, 3}, {second, 2}} {
		items, errs := drain(t, from.page.All(ctx))
		assert.Empty(t, errs)
		assert.Equal(t, from.items, items)
	}
	// List, Next three times, then All: two pages, two pages, one page.
	assert.Equal(t, 1+3+2+2+1, srv.count())
}

func TestNext_AnotherHostOnTheSameSchemeAndPortIsRefused(t *testing.T) {
	// The base URL is http://127.0.0.1:port; localhost on the same port is
	// the same scheme and port on another host: only the host comparison
	// stops the credentials going there.
	var srv *rsRecorder
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Page") == "1" {
			rsJSON(w, 200, rsPage(t, "http://"+r.Host+r.URL.RequestURI(), "", 1, nil))
			return
		}
		next := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/v2/HostedNumber/Orders?Page=1"
		rsJSON(w, 200, rsPage(t, srv.URL+r.URL.RequestURI(), next, 0,
			[]map[string]any{rsOrderItem(t, rsSID("HR", 1), "+14155550101", nil)}))
	})
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)
	items, errs := drain(t, client.HostedNumberOrders.All(rsCtx(t), nil))
	assert.Equal(t, 1, items)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], hn.ErrForeignNextPage)
	assert.Contains(t, errs[0].Error(), `next_page_url is on "http://localhost:`)
	assert.Equal(t, 1, srv.count(), "nothing is sent to the other host")
	for _, r := range srv.requests() {
		assert.NotContains(t, r.Header.Get("Host"), "localhost")
	}
}

func TestPageLoopError_IsNotAForeignPage(t *testing.T) {
	srv, client := loopServer(t, map[string]loopPage{"": {next: "/v2/HostedNumber/Orders"}})
	_, errs := drain(t, client.HostedNumberOrders.All(rsCtx(t), nil))
	require.Len(t, errs, 1)
	assert.False(t, errors.Is(errs[0], hn.ErrForeignNextPage))
	assert.False(t, errors.Is(errs[0], context.DeadlineExceeded))
	assert.Equal(t, 1, srv.count())
}

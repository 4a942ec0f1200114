package hostednumbers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// rsFixture reads a response example of Twilio's OpenAPI description, copied
// into testdata/spec-examples/.
func rsFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "spec-examples", name))
	require.NoError(t, err)
	return b
}

// rsRecorder is an httptest server that records every request it gets
// (method, path, raw query, body, headers) and answers with handle.
type rsRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []rsRequest
}

type rsRequest struct {
	Method, Path, RawQuery, Body string
	Header                       http.Header
}

func (r *rsRecorder) requests() []rsRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rsRequest(nil), r.reqs...)
}

func (r *rsRecorder) count() int { return len(r.requests()) }

// rsServe starts a recording server that answers with handle, and a client
// for it with fast retries.
func rsServe(t testing.TB, handle http.HandlerFunc, opts ...hn.Option) (*rsRecorder, *hn.Client) {
	t.Helper()
	rec := &rsRecorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body strings.Builder
		if r.Body != nil {
			b := make([]byte, 4096)
			for {
				n, err := r.Body.Read(b)
				body.Write(b[:n])
				if err != nil {
					break
				}
			}
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, rsRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: body.String(), Header: r.Header.Clone()})
		rec.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec, rsClient(t, rec.URL, opts...)
}

// rsClient is a client for a loopback test server, with fast retries.
func rsClient(t testing.TB, baseURL string, opts ...hn.Option) *hn.Client {
	t.Helper()
	base := []hn.Option{
		hn.WithCredentials(testAccountSID, testAuthToken),
		hn.WithBaseURL(baseURL),
		hn.WithRetryBackoff(time.Millisecond, 2*time.Millisecond),
	}
	c, err := hn.NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// rsJSON answers with status and body, and a Twilio-Request-Id.
func rsJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Twilio-Request-Id", "RQ0123456789abcdef0123456789abcdef")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// rsSID builds a SID with prefix from a number, so that test SIDs are valid
// and distinct.
func rsSID(prefix string, n int) string { return fmt.Sprintf("%s%032x", prefix, n) }

// rsOrderItem is the spec example's hosted number order with its sid and
// phone number replaced (and more members, if given).
func rsOrderItem(t testing.TB, sid, phone string, more map[string]any) map[string]any {
	t.Helper()
	var item map[string]any
	require.NoError(t, json.Unmarshal(rsFixture(t, "FetchHostedNumberOrder_200_fetch.json"), &item))
	item["sid"], item["phone_number"] = sid, phone
	item["url"] = "https://numbers.twilio.com/v2/HostedNumber/Orders/" + sid
	for k, v := range more {
		item[k] = v
	}
	return item
}

// rsPage renders a list page the way the API does.
func rsPage(t testing.TB, pageURL, nextURL string, page int, items []map[string]any) []byte {
	t.Helper()
	var next any
	if nextURL != "" {
		next = nextURL
	}
	if items == nil {
		items = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{
		"meta": map[string]any{
			"first_page_url": pageURL, "key": "items", "next_page_url": next, "page": page,
			"page_size": 2, "previous_page_url": nil, "url": pageURL,
		},
		"items": items,
	})
	require.NoError(t, err)
	return b
}

// rsPager serves pages of hosted number orders: page k (0-based) holds
// sizes[k] orders, numbered on from the previous pages, and names the next
// page with an opaque PageToken the client must send back unchanged.
func rsPager(t testing.TB, srvURL func() string, sizes ...int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page := 0
		if tok := r.URL.Query().Get("PageToken"); tok != "" {
			_, err := fmt.Sscanf(tok, "PT+%d/x", &page)
			if err != nil {
				rsJSON(w, 400, []byte(`{"code":20001,"message":"bad PageToken","status":400}`))
				return
			}
		}
		start := 0
		for _, n := range sizes[:page] {
			start += n
		}
		items := make([]map[string]any, sizes[page])
		for i := range items {
			items[i] = rsOrderItem(t, rsSID("HR", start+i), fmt.Sprintf("+1415555%04d", start+i), nil)
		}
		self := srvURL() + r.URL.RequestURI()
		next := ""
		if page+1 < len(sizes) {
			next = srvURL() + "/v2/HostedNumber/Orders?PageSize=2&Page=" + fmt.Sprint(page+1) + "&PageToken=PT%2B" + fmt.Sprint(page+1) + "%2Fx"
		}
		rsJSON(w, 200, rsPage(t, self, next, page, items))
	}
}

func rsSIDs(orders []hn.HostedNumberOrder) []string {
	out := make([]string, len(orders))
	for i, o := range orders {
		out[i] = o.SID
	}
	return out
}

func TestAll_FollowsNextPageURLExactlyAcrossThreePages(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, rsPager(t, func() string { return srv.URL }, 2, 2, 1))

	var got []hn.HostedNumberOrder
	for o, err := range client.HostedNumberOrders.All(rsCtx(t), &hn.ListHostedNumberOrdersParams{PageSize: 2}) {
		require.NoError(t, err)
		got = append(got, *o)
	}

	assert.Equal(t, []string{rsSID("HR", 0), rsSID("HR", 1), rsSID("HR", 2), rsSID("HR", 3), rsSID("HR", 4)}, rsSIDs(got))
	reqs := srv.requests()
	require.Len(t, reqs, 3, "one request per page, none after the last")
	assert.Equal(t, "PageSize=2", reqs[0].RawQuery)
	// The next pages are requested exactly as the API named them: the
	// escaped token is not decoded, re-encoded or reordered.
	assert.Equal(t, "PageSize=2&Page=1&PageToken=PT%2B1%2Fx", reqs[1].RawQuery)
	assert.Equal(t, "PageSize=2&Page=2&PageToken=PT%2B2%2Fx", reqs[2].RawQuery)
	for _, r := range reqs {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/v2/HostedNumber/Orders", r.Path)
		assert.NotEmpty(t, r.Header.Get("Authorization"), "every page is authenticated")
	}
	for _, o := range got {
		require.NotNil(t, o.LastResponse, "listed items carry their page's response")
		assert.Equal(t, 200, o.LastResponse.StatusCode)
	}
}

func TestAll_BreakStopsWithoutFetchingTheNextPage(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, rsPager(t, func() string { return srv.URL }, 2, 2, 2, 2))

	seen := 0
	for _, err := range client.HostedNumberOrders.All(rsCtx(t), nil) {
		require.NoError(t, err)
		seen++
		if seen == 5 { // the first item of the third page
			break
		}
	}

	assert.Equal(t, 5, seen)
	reqs := srv.requests()
	assert.Len(t, reqs, 3, "the fourth page is never requested")
	for _, r := range reqs {
		assert.NotContains(t, r.RawQuery, "Page=3")
	}
}

func TestAll_FetchesEachPageOnlyWhenTheLoopReachesIt(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, rsPager(t, func() string { return srv.URL }, 2, 2, 1))

	seq := client.HostedNumberOrders.All(rsCtx(t), nil)
	assert.Equal(t, 0, srv.count(), "All sends nothing until the loop starts")

	var counts []int
	for _, err := range seq {
		require.NoError(t, err)
		counts = append(counts, srv.count())
	}
	assert.Equal(t, []int{1, 1, 2, 2, 3}, counts, "requests seen by the server when each item was yielded")
}

func TestPage_NextWalksThePagesAndEndsWithNil(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, rsPager(t, func() string { return srv.URL }, 2, 2, 1))
	ctx := rsCtx(t)

	page, err := client.HostedNumberOrders.List(ctx, &hn.ListHostedNumberOrdersParams{PageSize: 2})
	require.NoError(t, err)
	var sizes, numbers []int
	for page != nil {
		sizes = append(sizes, len(page.Items))
		numbers = append(numbers, page.Meta.Page)
		assert.Equal(t, page.Meta.NextPageURL.Valid, page.HasNext())
		page, err = page.Next(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, []int{2, 2, 1}, sizes)
	assert.Equal(t, []int{0, 1, 2}, numbers)
	assert.Equal(t, 3, srv.count())
}

func TestPage_AllContinuesFromThePage(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, rsPager(t, func() string { return srv.URL }, 2, 1))
	page, err := client.HostedNumberOrders.List(rsCtx(t), nil)
	require.NoError(t, err)

	var got []hn.HostedNumberOrder
	for o, err := range page.All(rsCtx(t)) {
		require.NoError(t, err)
		got = append(got, *o)
	}
	assert.Equal(t, []string{rsSID("HR", 0), rsSID("HR", 1), rsSID("HR", 2)}, rsSIDs(got))
	assert.Equal(t, 2, srv.count(), "the page in hand is not fetched again")
}

func TestNext_ForeignNextPageURLIsRefusedWithoutSending(t *testing.T) {
	var foreignHits int
	var mu sync.Mutex
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreignHits++
		mu.Unlock()
		rsJSON(w, 200, rsPage(t, "x", "", 1, nil))
	}))
	defer foreign.Close()

	cases := []struct {
		name string
		next func(own string) string
	}{
		{"another host", func(string) string { return "https://api.attacker.example/v2/HostedNumber/Orders?Page=1" }},
		{"another port on the same host", func(string) string { return foreign.URL + "/v2/HostedNumber/Orders?Page=1" }},
		{"another scheme", func(own string) string {
			return strings.Replace(own, "http://", "https://", 1) + "/v2/HostedNumber/Orders?Page=1"
		}},
		{"user information", func(own string) string {
			return strings.Replace(own, "http://", "http://user:pass@", 1) + "/v2/HostedNumber/Orders?Page=1"
		}},
		{"scheme-relative host", func(string) string { return "//api.attacker.example/v2/HostedNumber/Orders?Page=1" }},
		{"not a path", func(string) string { return "Orders?Page=1" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var srv *rsRecorder
			srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
				rsJSON(w, 200, rsPage(t, srv.URL+r.URL.RequestURI(), tc.next(srv.URL), 0,
					[]map[string]any{rsOrderItem(t, rsSID("HR", 1), "+14155550101", nil)}))
			})

			var items int
			var iterErr error
			for _, err := range client.HostedNumberOrders.All(rsCtx(t), nil) {
				if err != nil {
					iterErr = err
					continue
				}
				items++
			}

			assert.Equal(t, 1, items, "the first page's items are still yielded")
			require.ErrorIs(t, iterErr, hn.ErrForeignNextPage)
			assert.Contains(t, iterErr.Error(), "hostednumbers: list hosted number orders: page 1:")
			assert.Contains(t, iterErr.Error(), "next page not followed: next_page_url ")
			assert.NotContains(t, iterErr.Error(), "pass", "user information is never quoted")
			assert.Equal(t, 1, srv.count(), "nothing more is sent to the API")
			mu.Lock()
			assert.Zero(t, foreignHits, "nothing is sent to the foreign origin")
			mu.Unlock()
		})
	}
}

func TestNext_PathOnlyNextPageURLIsResolvedOnTheBaseURL(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Page") == "1" {
			rsJSON(w, 200, rsPage(t, r.URL.RequestURI(), "", 1, []map[string]any{rsOrderItem(t, rsSID("HR", 2), "+14155550102", nil)}))
			return
		}
		rsJSON(w, 200, rsPage(t, r.URL.RequestURI(), "/v2/HostedNumber/Orders?Page=1&PageToken=abc", 0,
			[]map[string]any{rsOrderItem(t, rsSID("HR", 1), "+14155550101", nil)}))
	})
	var sids []string
	for o, err := range client.HostedNumberOrders.All(rsCtx(t), nil) {
		require.NoError(t, err)
		sids = append(sids, o.SID)
	}
	assert.Equal(t, []string{rsSID("HR", 1), rsSID("HR", 2)}, sids)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "Page=1&PageToken=abc", reqs[1].RawQuery)
}

func TestNext_NextPageURLNamingTheSamePageIsAnErrorNotALoop(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		self := srv.URL + "/v2/HostedNumber/Orders?Page=0"
		rsJSON(w, 200, rsPage(t, self, self, 0, []map[string]any{rsOrderItem(t, rsSID("HR", 1), "+14155550101", nil)}))
	})
	var errs []error
	n := 0
	for _, err := range client.HostedNumberOrders.All(rsCtx(t), nil) {
		if err != nil {
			errs = append(errs, err)
		}
		n++
		require.Less(t, n, 10, "iteration must end")
	}
	require.Len(t, errs, 1)
	var de *hn.DecodeError
	assert.ErrorAs(t, errs[0], &de)
	assert.Equal(t, 1, srv.count())
}

func TestAll_FailedPageIsYieldedOnceAndEndsTheLoop(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Page") == "1" {
			rsJSON(w, 404, []byte(`{"code":20404,"message":"page gone","status":404}`))
			return
		}
		rsJSON(w, 200, rsPage(t, srv.URL+r.URL.RequestURI(), srv.URL+"/v2/HostedNumber/Orders?Page=1", 0,
			[]map[string]any{rsOrderItem(t, rsSID("HR", 1), "+14155550101", nil)}))
	})

	var items int
	var errs []error
	for o, err := range client.HostedNumberOrders.All(rsCtx(t), nil) {
		if err != nil {
			errs = append(errs, err)
			assert.Nil(t, o, "an error comes with a nil item")
			continue
		}
		items++
	}
	assert.Equal(t, 1, items)
	require.Len(t, errs, 1)
	var apiErr *hn.APIError
	require.ErrorAs(t, errs[0], &apiErr)
	assert.Equal(t, 404, apiErr.HTTPStatus)
	assert.ErrorIs(t, errs[0], hn.ErrNotFound)
	assert.Contains(t, errs[0].Error(), "hostednumbers: list hosted number orders: next page: 404")
	assert.Equal(t, 2, srv.count())
}

func TestList_UnusablePagesAreDecodeErrors(t *testing.T) {
	cases := map[string]string{
		"no meta":           `{"items":[]}`,
		"not JSON":          `<html>oops</html>`,
		"items not a list":  `{"meta":{"key":"items"},"items":{}}`,
		"item without sid":  `{"meta":{"key":"items"},"items":[{"phone_number":"+14155550101"}]}`,
		"item with bad sid": `{"meta":{"key":"items"},"items":[{"sid":"HR../../Accounts"}]}`,
		"key names nothing": `{"meta":{"key":"orders"},"items":[]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 200, []byte(body)) })
			page, err := client.HostedNumberOrders.List(rsCtx(t), nil)
			assert.Nil(t, page)
			var de *hn.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, 200, de.HTTPStatus)
			assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", de.RequestID)
		})
	}
}

func TestList_ItemsUnderTheMemberMetaKeyNames(t *testing.T) {
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, []byte(`{"meta":{"key":"orders","next_page_url":null},"orders":[{"sid":"`+rsSID("HR", 7)+`","status":"received"}]}`))
	})
	page, err := client.HostedNumberOrders.List(rsCtx(t), nil)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, rsSID("HR", 7), page.Items[0].SID)
	assert.False(t, page.HasNext())
	next, err := page.Next(rsCtx(t))
	assert.NoError(t, err)
	assert.Nil(t, next)
}

func TestPage_NextOnAPageNotFromAClientIsAnError(t *testing.T) {
	p := &hn.Page[hn.HostedNumberOrder]{Meta: hn.PageMeta{NextPageURL: hn.NullString{String: "https://numbers.twilio.com/x", Valid: true}}}
	_, err := p.Next(rsCtx(t))
	require.Error(t, err)
	var nilPage *hn.Page[hn.HostedNumberOrder]
	assert.False(t, nilPage.HasNext())
}

func TestAll_CancelledContextEndsTheLoopWithTheContextError(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, rsPager(t, func() string { return srv.URL }, 1, 1, 1))
	ctx, cancel := context.WithCancel(rsCtx(t))
	defer cancel()
	var errs []error
	items := 0
	for _, err := range client.HostedNumberOrders.All(ctx, nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items++
		cancel()
	}
	assert.Equal(t, 1, items)
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], context.Canceled), "got %v", errs[0])
	assert.Equal(t, 1, srv.count())
}

// rsRoundTrip is an http.RoundTripper made of a function.
type rsRoundTrip func(*http.Request) (*http.Response, error)

func (f rsRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNext_DefaultPortsCountAsTheSameOrigin(t *testing.T) {
	var urls []string
	var mu sync.Mutex
	transport := rsRoundTrip(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		urls = append(urls, r.URL.String())
		mu.Unlock()
		next := ""
		switch r.URL.Query().Get("Page") {
		case "":
			next = "https://NUMBERS.twilio.com:443/v2/HostedNumber/Orders?Page=1"
		case "1":
			next = "http://numbers.twilio.com/v2/HostedNumber/Orders?Page=2"
		}
		rec := httptest.NewRecorder()
		rsJSON(rec, 200, rsPage(t, r.URL.String(), next, 0, []map[string]any{rsOrderItem(t, rsSID("HR", len(urls)), "+14155550101", nil)}))
		return rec.Result(), nil
	})
	client, err := hn.NewClient(hn.WithCredentials(testAccountSID, testAuthToken), hn.WithHTTPClient(&http.Client{Transport: transport}))
	require.NoError(t, err)

	var items int
	var errs []error
	for _, err := range client.HostedNumberOrders.All(rsCtx(t), nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items++
	}
	assert.Equal(t, 2, items)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], hn.ErrForeignNextPage, "plain http is another origin than https")
	assert.Contains(t, errs[0].Error(), `next_page_url is on "http://numbers.twilio.com", not the client's API origin https://numbers.twilio.com`)
	assert.Equal(t, []string{
		"https://numbers.twilio.com/v2/HostedNumber/Orders",
		"https://NUMBERS.twilio.com:443/v2/HostedNumber/Orders?Page=1",
	}, urls, "the next page is requested exactly as given")
}

func TestList_NullBodyIsADecodeError(t *testing.T) {
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 200, []byte(`null`)) })
	_, err := client.HostedNumberOrders.List(rsCtx(t), nil)
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de)
}

// rsCtx is a context that ends the test's calls if a regression makes them
// hang, so that it fails fast instead.
func rsCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

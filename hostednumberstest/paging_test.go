package hostednumberstest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// fiveNumbers creates one bulk order of five numbers and returns them.
func fiveNumbers(t *testing.T, srv *hostednumberstest.Server) []string {
	t.Helper()
	numbers := []string{"+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"}
	create(t, srv.Client(), numbersParams(numbers...))
	return numbers
}

func TestPagesFollowNextPageURLToTheEnd(t *testing.T) {
	// Immediate: pages over orders listed at once.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2))
	numbers := fiveNumbers(t, srv)

	orders, metas := allPages[hostednumbers.HostedNumberOrder](t, srv, ordersPath)
	assert.Equal(t, numbers, phones(orders), "every order once, in order")
	require.Len(t, metas, 3)
	for i, m := range metas {
		assert.Equal(t, "items", m.Key)
		assert.Equal(t, i, m.Page)
		assert.Equal(t, 2, m.PageSize)
		assert.Equal(t, srv.URL+ordersPath+"?PageSize=2&Page=0", m.FirstPageURL)
		if i < 2 {
			require.NotNil(t, m.NextPageURL, "page %d", i)
			assert.True(t, strings.HasPrefix(*m.NextPageURL, srv.URL+ordersPath+"?"), "absolute, on the server's own address: %s", *m.NextPageURL)
			next, err := url.Parse(*m.NextPageURL)
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint(i+1), next.Query().Get("Page"))
			assert.Regexp(t, `^PA[0-9a-f]+$`, next.Query().Get("PageToken"))
		} else {
			assert.Nil(t, m.NextPageURL, "null on the last page")
		}
		if i == 0 {
			assert.Nil(t, m.PreviousPageURL, "null on the first page")
		} else {
			require.NotNil(t, m.PreviousPageURL)
			assert.Equal(t, *metas[i-1].NextPageURL, m.URL, "url is the address the page was fetched from")
		}
	}

	// previous_page_url leads back to the same items.
	last := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, *metas[1].NextPageURL)
	prev := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, *last.Meta.PreviousPageURL)
	assert.Equal(t, numbers[2:4], phones(prev.Items))
	assert.Equal(t, 1, prev.Meta.Page)
	first := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, *prev.Meta.PreviousPageURL)
	assert.Equal(t, numbers[:2], phones(first.Items))
	assert.Nil(t, first.Meta.PreviousPageURL)
}

func TestPageSizeOfTheRequestWins(t *testing.T) {
	tests := []struct {
		query     string
		wantPages []int // items per page
	}{
		{"PageSize=1", []int{1, 1, 1, 1, 1}},
		{"PageSize=3", []int{3, 2}},
		{"PageSize=5", []int{5}},
		{"PageSize=1000", []int{5}},
		{"", []int{2, 2, 1}}, // WithPageSize(2)
	}
	// Immediate: pages over orders listed at once.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2))
	fiveNumbers(t, srv)
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var sizes []int
			next := srv.URL + ordersPath + "?" + tt.query
			for next != "" {
				p := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, next)
				sizes = append(sizes, len(p.Items))
				next = ""
				if p.Meta.NextPageURL != nil {
					next = *p.Meta.NextPageURL
				}
				require.Less(t, len(sizes), 10)
			}
			assert.Equal(t, tt.wantPages, sizes)
		})
	}
}

func TestDefaultPageSizeIsTwilios(t *testing.T) {
	srv := newServer(t)
	p := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, ordersPath)
	assert.Equal(t, hostednumberstest.DefaultPageSize, p.Meta.PageSize)
	assert.Equal(t, 50, hostednumberstest.DefaultPageSize)
	assert.Empty(t, p.Items)
	assert.NotNil(t, p.Items, "an empty array, not null")
	assert.Nil(t, p.Meta.NextPageURL)
}

func TestPageParameterWithoutTokenCountsFromTheStart(t *testing.T) {
	// Immediate: pages over orders listed at once.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2))
	numbers := fiveNumbers(t, srv)
	tests := []struct {
		page     int
		want     []string
		wantNext bool
	}{
		{0, numbers[0:2], true},
		{1, numbers[2:4], true},
		{2, numbers[4:5], false},
		{3, nil, false},
		{1 << 40, nil, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.page), func(t *testing.T) {
			p := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, fmt.Sprintf("%s?Page=%d", ordersPath, tt.page))
			assert.Equal(t, tt.want, nilIfEmpty(phones(p.Items)))
			assert.Equal(t, tt.page, p.Meta.Page)
			assert.Equal(t, tt.wantNext, p.Meta.NextPageURL != nil)
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestNextPageKeepsFiltersAndSurvivesChanges(t *testing.T) {
	// Immediate: pages over orders listed at once, changing them between pages.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2))
	numbers := fiveNumbers(t, srv)
	create(t, srv.Client(), numbersParams("+14155550101")) // a second order for the first number

	first := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, ordersPath+"?Status=received&FriendlyName=")
	require.NotNil(t, first.Meta.NextPageURL)
	next, err := url.Parse(*first.Meta.NextPageURL)
	require.NoError(t, err)
	assert.Equal(t, "received", next.Query().Get("Status"), "filters carried over")
	assert.Equal(t, numbers[:2], phones(first.Items))

	// An order of the first page is canceled and a new one made before the
	// next page is read: the next page neither skips nor repeats.
	resp, _ := authed(t, "DELETE", srv.URL+ordersPath+"/"+first.Items[1].SID, "", "")
	require.Equal(t, 204, resp.StatusCode)
	create(t, srv.Client(), numbersParams("+14155550199"))
	second := getJSON[page[hostednumbers.HostedNumberOrder]](t, srv, *first.Meta.NextPageURL)
	assert.Equal(t, numbers[2:4], phones(second.Items))

	byNumber, metas := allPages[hostednumbers.HostedNumberOrder](t, srv, ordersPath+"?PhoneNumber=%2B14155550101&PageSize=1")
	assert.Len(t, byNumber, 2)
	require.Len(t, metas, 2)
	assert.Contains(t, *metas[0].NextPageURL, "PhoneNumber=%2B14155550101")
}

func TestSDKListsEveryOrderAcrossPages(t *testing.T) {
	// Immediate: pages over orders listed at once.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2))
	client := srv.Client()
	numbers := fiveNumbers(t, srv)
	bh := srv.Orders()[0].BulkHostingSID

	var got []string
	for o, err := range client.HostedNumberOrders.All(t.Context(), nil) {
		require.NoError(t, err)
		assert.Equal(t, bh, o.BulkHostingRequestSID.String)
		got = append(got, o.PhoneNumber)
	}
	assert.Equal(t, numbers, got)
	assert.Equal(t, 3, countMethod(srv, "GET"), "three pages")

	// break stops without fetching further pages.
	gets := countMethod(srv, "GET")
	for _, err := range client.HostedNumberOrders.All(t.Context(), nil) {
		require.NoError(t, err)
		break
	}
	assert.Equal(t, gets+1, countMethod(srv, "GET"))
}

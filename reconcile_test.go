package hostednumbers_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// rsStore is an account's hosted number orders, served by
// GET /v2/HostedNumber/Orders?PhoneNumber=… with paging.
type rsStore struct {
	t        testing.TB
	mu       sync.Mutex
	orders   map[string][]map[string]any // by phone number
	pageSize int
	answer   map[string]func(http.ResponseWriter) // a scripted answer for one number
	srvURL   string
	lookups  map[string]int // requests per number
}

func newRSStore(t testing.TB) *rsStore {
	return &rsStore{t: t, orders: map[string][]map[string]any{}, pageSize: 50, answer: map[string]func(http.ResponseWriter){}, lookups: map[string]int{}}
}

var rsSIDCounter atomic.Int64

// add gives phone an order in bulk request bulkSID ("" for none), created
// at created.
func (s *rsStore) add(phone, bulkSID string, created time.Time) {
	var bulk any
	if bulkSID != "" {
		bulk = bulkSID
	}
	item := rsOrderItem(s.t, rsSID("HR", int(rsSIDCounter.Add(1))), phone, map[string]any{
		"bulk_hosting_request_sid": bulk,
		"status":                   "pending-loa",
		"date_created":             created.UTC().Format(time.RFC3339),
	})
	s.mu.Lock()
	s.orders[phone] = append(s.orders[phone], item)
	s.mu.Unlock()
}

func (s *rsStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/v2/HostedNumber/Orders" {
		rsJSON(w, 405, []byte(`{"code":20004,"message":"method not allowed","status":405}`))
		return
	}
	q := r.URL.Query()
	phone := q.Get("PhoneNumber")
	page, _ := strconv.Atoi(q.Get("Page"))
	s.mu.Lock()
	s.lookups[phone]++
	answer := s.answer[phone]
	all := s.orders[phone]
	s.mu.Unlock()
	if answer != nil {
		answer(w)
		return
	}
	start, end := min(page*s.pageSize, len(all)), min((page+1)*s.pageSize, len(all))
	next := ""
	if end < len(all) {
		next = fmt.Sprintf("%s/v2/HostedNumber/Orders?PhoneNumber=%s&PageSize=%d&Page=%d", s.srvURL, "%2B"+phone[1:], s.pageSize, page+1)
	}
	rsJSON(w, 200, rsPage(s.t, s.srvURL+r.URL.RequestURI(), next, page, all[start:end]))
}

func (s *rsStore) lookupsOf(phone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups[phone]
}

// rsReconcileServer serves store and returns a client for it.
func rsReconcileServer(t testing.TB, store *rsStore, opts ...hn.Option) (*rsRecorder, *hn.Client) {
	srv, client := rsServe(t, store.ServeHTTP, opts...)
	store.srvURL = srv.URL
	return srv, client
}

// rsSettled completes p as for a create sent two hours ago: the processing
// window has passed, and two looks a nanosecond apart are enough to confirm
// a number missing, so WaitForReconcile reaches a verdict at once.
func rsSettled(p hn.ReconcileParams) *hn.ReconcileParams {
	if p.SentAt.IsZero() {
		p.SentAt = time.Now().Add(-2 * time.Hour)
	}
	p.ConfirmGap = time.Nanosecond
	return &p
}

func rsNumbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1415556%04d", i)
	}
	return out
}

func rsOrderCounts(r *hn.Reconciliation) []int {
	out := make([]int, len(r.Numbers))
	for i, n := range r.Numbers {
		out[i] = len(n.Orders)
	}
	return out
}

const (
	rsBH1 = "BH11111111111111111111111111111111"
	rsBH2 = "BH22222222222222222222222222222222"
	rsBH0 = "BH00000000000000000000000000000000"
)

func TestReconcile_Verdicts(t *testing.T) {
	now := time.Now().UTC()
	numbers := rsNumbers(3)
	cases := []struct {
		name        string
		orders      func(s *rsStore)
		verdict     hn.ReconcileVerdict
		bulkSID     string
		missing     []string
		bulkSIDs    []string
		orderCounts []int
	}{
		{
			name:        "none created",
			orders:      func(*rsStore) {},
			verdict:     hn.ReconcileNoneCreated,
			missing:     numbers,
			orderCounts: []int{0, 0, 0},
		},
		{
			name: "all in one bulk request",
			orders: func(s *rsStore) {
				for _, n := range numbers {
					s.add(n, rsBH1, now)
				}
			},
			verdict:     hn.ReconcileAllInOne,
			bulkSID:     rsBH1,
			bulkSIDs:    []string{rsBH1},
			orderCounts: []int{1, 1, 1},
		},
		{
			name: "partial: one number missing",
			orders: func(s *rsStore) {
				s.add(numbers[0], rsBH1, now)
				s.add(numbers[2], rsBH1, now)
			},
			verdict:     hn.ReconcilePartial,
			missing:     []string{numbers[1]},
			bulkSIDs:    []string{rsBH1},
			orderCounts: []int{1, 0, 1},
		},
		{
			name: "spread over several bulk requests",
			orders: func(s *rsStore) {
				s.add(numbers[0], rsBH2, now)
				s.add(numbers[1], rsBH1, now)
				s.add(numbers[2], rsBH2, now)
			},
			verdict:     hn.ReconcilePartial,
			bulkSIDs:    []string{rsBH1, rsBH2},
			orderCounts: []int{1, 1, 1},
		},
		{
			name: "a number in two bulk requests",
			orders: func(s *rsStore) {
				for _, n := range numbers {
					s.add(n, rsBH1, now)
				}
				s.add(numbers[1], rsBH2, now)
			},
			verdict:     hn.ReconcilePartial,
			bulkSIDs:    []string{rsBH1, rsBH2},
			orderCounts: []int{1, 2, 1},
		},
		{
			name: "an order made without a bulk request",
			orders: func(s *rsStore) {
				s.add(numbers[0], rsBH1, now)
				s.add(numbers[1], "", now)
				s.add(numbers[2], rsBH1, now)
			},
			verdict:     hn.ReconcilePartial,
			bulkSIDs:    []string{rsBH1},
			orderCounts: []int{1, 1, 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newRSStore(t)
			tc.orders(store)
			srv, client := rsReconcileServer(t, store)

			r, err := client.BulkHostedNumberOrders.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: numbers}))
			require.NoError(t, err)

			assert.Equal(t, tc.verdict, r.Verdict)
			assert.Equal(t, tc.bulkSID, r.BulkHostingSID)
			assert.Equal(t, tc.missing, r.Missing)
			assert.Equal(t, tc.bulkSIDs, r.BulkHostingSIDs)
			assert.Equal(t, tc.orderCounts, rsOrderCounts(r))
			require.Len(t, r.Numbers, len(numbers))
			for i, n := range r.Numbers {
				assert.Equal(t, numbers[i], n.PhoneNumber, "results keep the input order")
				for _, o := range n.Orders {
					assert.Equal(t, numbers[i], o.PhoneNumber)
				}
			}
			reqs := srv.requests()
			// One lookup per number, and a second look (confirming a number
			// missing) lists only the numbers the first found without one.
			assert.Len(t, reqs, len(numbers)+len(tc.missing), "one lookup per number, then one per missing number, nothing else")
			for _, req := range reqs {
				assert.Equal(t, http.MethodGet, req.Method, "Reconcile never creates anything")
			}
		})
	}
}

func TestReconcile_SinceIgnoresOlderOrders(t *testing.T) {
	since := time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Add(700 * time.Millisecond)
	numbers := rsNumbers(3)
	store := newRSStore(t)
	// Last year's orders for the same numbers, in another bulk request.
	for _, n := range numbers {
		store.add(n, rsBH0, since.AddDate(-1, 0, 0))
	}
	store.add(numbers[0], rsBH1, since.Add(time.Minute))
	// date_created has whole seconds: an order made in the same second as
	// Since (but shown as earlier) is this create's.
	store.add(numbers[1], rsBH1, since.Truncate(time.Second))
	_, client := rsReconcileServer(t, store)
	ctx := rsCtx(t)

	r, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, rsSettled(hn.ReconcileParams{PhoneNumbers: numbers, SentAt: since}))
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePartial, r.Verdict)
	assert.Equal(t, []string{numbers[2]}, r.Missing, "only last year's order exists for it")
	assert.Equal(t, []string{rsBH1}, r.BulkHostingSIDs)
	assert.Equal(t, []int{1, 1, 0}, rsOrderCounts(r))

	older, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, rsSettled(hn.ReconcileParams{PhoneNumbers: numbers, SentAt: since.AddDate(-2, 0, 0)}))
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2, 1}, rsOrderCounts(older), "sent before every order: every order counts")
	assert.Equal(t, []string{rsBH0, rsBH1}, older.BulkHostingSIDs)
	assert.Equal(t, hn.ReconcilePartial, older.Verdict)

	// The earlier attempt, known from the caller's records, is kept apart
	// whatever its date.
	known, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, rsSettled(hn.ReconcileParams{
		PhoneNumbers: numbers, SentAt: since.AddDate(-2, 0, 0), KnownBulkHostingSIDs: []string{rsBH0},
	}))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 0}, rsOrderCounts(known))
	for i, n := range known.Numbers {
		require.Len(t, n.KnownOrders, 1, numbers[i])
		assert.Equal(t, rsBH0, n.KnownOrders[0].BulkHostingRequestSID.String)
	}
	assert.Equal(t, []string{rsBH1}, known.BulkHostingSIDs)
	assert.Equal(t, []string{numbers[2]}, known.Missing)

	two, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, rsSettled(hn.ReconcileParams{PhoneNumbers: numbers[:2], SentAt: since}))
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, two.Verdict)
	assert.Equal(t, rsBH1, two.BulkHostingSID)
}

func TestReconcile_OrderWithoutDateIsCountedEvenWithSince(t *testing.T) {
	store := newRSStore(t)
	store.add("+14155550101", rsBH1, time.Now())
	store.orders["+14155550101"][0]["date_created"] = nil
	_, client := rsReconcileServer(t, store)
	r, err := client.BulkHostedNumberOrders.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{
		PhoneNumbers: []string{"+14155550101"}, SentAt: time.Now().Add(-time.Minute),
	}))
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict, "an undated order may be this create's; ignoring it could host the number twice")
}

func TestReconcile_FollowsEveryPageOfOneNumber(t *testing.T) {
	store := newRSStore(t)
	store.pageSize = 2
	for range 5 {
		store.add("+14155550101", rsBH1, time.Now())
	}
	_, client := rsReconcileServer(t, store)
	r, err := client.BulkHostedNumberOrders.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: []string{"+14155550101"}}))
	require.NoError(t, err)
	assert.Equal(t, []int{5}, rsOrderCounts(r))
	assert.Equal(t, 3, store.lookupsOf("+14155550101"))
}

func TestReconcile_OrdersOfOtherNumbersAreIgnored(t *testing.T) {
	// A server (or proxy) that drops the PhoneNumber filter answers with
	// every order; only the number's own count.
	store := newRSStore(t)
	store.add("+14155550101", rsBH1, time.Now())
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsPage(t, "u", "", 0, store.orders["+14155550101"]))
	})
	r, err := client.BulkHostedNumberOrders.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: []string{"+14155550101", "+14155550102"}}))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0}, rsOrderCounts(r))
	assert.Equal(t, []string{"+14155550102"}, r.Missing)
}

func TestReconcile_TakesTheNumbersOfACreate(t *testing.T) {
	store := newRSStore(t)
	params := specParams()
	params.RequestItems = append(params.RequestItems, hn.RequestItem{Email: "b@example.com", Numbers: []hn.Number{{PhoneNumber: "+14155550199"}}})
	for _, n := range []string{"+14155550101", "+14155550102", "+14155550199"} {
		store.add(n, rsBH1, time.Now())
	}
	srv, client := rsReconcileServer(t, store)
	r, err := client.BulkHostedNumberOrders.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{Create: params}))
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict)
	assert.Equal(t, rsBH1, r.BulkHostingSID)
	var got []string
	for _, n := range r.Numbers {
		got = append(got, n.PhoneNumber)
	}
	assert.Equal(t, []string{"+14155550101", "+14155550102", "+14155550199"}, got)
	assert.Len(t, srv.requests(), 3)
}

func TestReconcile_InvalidInputNamesTheFieldAndSendsNothing(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 500, nil) })
	twoItems := &hn.CreateBulkHostedNumberOrderParams{RequestItems: []hn.RequestItem{
		{Numbers: []hn.Number{{PhoneNumber: "+14155550101"}}},
		{Numbers: []hn.Number{{PhoneNumber: "bad"}, {PhoneNumber: "+14155550101"}}},
	}}
	cases := []struct {
		name   string
		params *hn.ReconcileParams
		fields []string
	}{
		{"nil params", nil, []string{"phone_numbers"}},
		{"no numbers", &hn.ReconcileParams{}, []string{"phone_numbers"}},
		{"not E.164", &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101", "4155550102"}}, []string{"phone_numbers[1]"}},
		{"listed twice", &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101", "+14155550102", "+14155550101"}}, []string{"phone_numbers[2]"}},
		{"negative concurrency", &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, Concurrency: -1}, []string{"concurrency"}},
		{"concurrency above the maximum", &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, Concurrency: hn.MaxReconcileConcurrency + 1}, []string{"concurrency"}},
		{"sent_at in the future", &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, SentAt: time.Now().Add(time.Hour)}, []string{"sent_at"}},
		{"both numbers and create", &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, Create: specParams()}, []string{"create"}},
		{"create without numbers", &hn.ReconcileParams{Create: &hn.CreateBulkHostedNumberOrderParams{}}, []string{"create"}},
		{"create with a bad and a repeated number", &hn.ReconcileParams{Create: twoItems},
			[]string{"create.request_items[1].numbers[0].phone_number", "create.request_items[1].numbers[1].phone_number"}},
	}
	sent := time.Now().Add(-time.Minute)
	cases = append(cases,
		struct {
			name   string
			params *hn.ReconcileParams
			fields []string
		}{"no sent_at: no lower bound", &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, SentAt: time.Time{}}, []string{"sent_at"}},
		struct {
			name   string
			params *hn.ReconcileParams
			fields []string
		}{"returned before sent, negative window and gap, bad known SID, previous of other numbers", &hn.ReconcileParams{
			PhoneNumbers: []string{"+14155550101"}, SentAt: sent, ReturnedAt: sent.Add(-time.Second),
			ProcessingWindow: -1, ConfirmGap: -1, KnownBulkHostingSIDs: []string{rsBH1, "BHnope"},
			Previous: &hn.Reconciliation{Numbers: []hn.ReconciledNumber{{PhoneNumber: "+14155550102"}}},
		}, []string{"returned_at", "processing_window", "confirm_gap", "known_bulk_hosting_sids[1]", "previous"}},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.params != nil && tc.params.SentAt.IsZero() && tc.name != "no sent_at: no lower bound" {
				tc.params.SentAt = sent
			}
			r, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), tc.params)
			assert.Nil(t, r)
			ve := rsRequireValidation(t, err, tc.fields...)
			assert.Contains(t, err.Error(), "hostednumbers: reconcile: ")
			assert.Equal(t, ve, errors.Unwrap(err))
		})
	}
	var dup *hn.ValidationError
	require.ErrorAs(t, (&hn.ReconcileParams{Create: twoItems}).Validate(), &dup)
	require.NotNil(t, dup)
	fe, ok := dup.Field("create.request_items[1].numbers[1].phone_number")
	require.True(t, ok)
	assert.Contains(t, fe.Message, "first at create.request_items[0].numbers[0].phone_number")
	assert.NoError(t, (&hn.ReconcileParams{PhoneNumbers: []string{"+1"}, Concurrency: hn.MaxReconcileConcurrency, SentAt: time.Now()}).Validate())
	_, err := hn.Reconcile(rsCtx(t), nil, &hn.ReconcileParams{PhoneNumbers: []string{"+1"}, SentAt: sent})
	_ = rsRequireValidation(t, err, "orders")
	//nolint:staticcheck // a nil context is what is tested
	_, err = client.BulkHostedNumberOrders.Reconcile(nil, &hn.ReconcileParams{PhoneNumbers: []string{"+1"}, SentAt: sent})
	_ = rsRequireValidation(t, err, "ctx")
	assert.Zero(t, srv.count(), "no invalid input reaches the network")
}

func TestReconcile_LookupErrorsNameTheNumberAndGiveNoVerdict(t *testing.T) {
	numbers := rsNumbers(6)
	cases := []struct {
		name     string
		answer   func(http.ResponseWriter)
		attempts int
		check    func(t *testing.T, err error)
	}{
		{
			name: "server error after the retries",
			answer: func(w http.ResponseWriter) {
				rsJSON(w, 503, []byte(`{"code":20503,"message":"unavailable","status":503}`))
			},
			// The client's retry policy applies (1 + WithMaxRetries(2)), and
			// WaitForReconcile looks again after a transient failure, up
			// to DefaultMaxConsecutiveErrors looks in a row.
			attempts: 3 * hn.DefaultMaxConsecutiveErrors,
			check: func(t *testing.T, err error) {
				var apiErr *hn.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 503, apiErr.HTTPStatus)
				assert.ErrorIs(t, err, hn.ErrServer)
			},
		},
		{
			name:     "unauthorized, not retried",
			answer:   func(w http.ResponseWriter) { rsJSON(w, 401, []byte(`{"code":20003,"message":"auth","status":401}`)) },
			attempts: 1,
			check:    func(t *testing.T, err error) { assert.ErrorIs(t, err, hn.ErrUnauthorized) },
		},
		{
			name:     "unusable answer",
			answer:   func(w http.ResponseWriter) { rsJSON(w, 200, []byte(`{"items":[]}`)) },
			attempts: 1,
			check: func(t *testing.T, err error) {
				var de *hn.DecodeError
				assert.ErrorAs(t, err, &de)
			},
		},
		{
			name: "next page on a foreign host",
			answer: func(w http.ResponseWriter) {
				rsJSON(w, 200, rsPage(t, "u", "https://elsewhere.example/v2/HostedNumber/Orders?Page=1", 0, nil))
			},
			attempts: 1,
			check:    func(t *testing.T, err error) { assert.ErrorIs(t, err, hn.ErrForeignNextPage) },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newRSStore(t)
			bad := numbers[3]
			store.answer[bad] = tc.answer
			_, client := rsReconcileServer(t, store, hn.WithMaxRetries(2), hn.WithWaitPollInterval(time.Millisecond, 2*time.Millisecond))

			r, err := client.BulkHostedNumberOrders.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: numbers, Concurrency: 2}))
			assert.Nil(t, r, "no verdict without every answer")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "hostednumbers: reconcile: look up "+bad+": ")
			tc.check(t, err)
			assert.Equal(t, tc.attempts, store.lookupsOf(bad))
		})
	}
}

// rsGate holds the first n requests until n are in flight together (or a
// deadline passes), then lets everything through. Go's transport may dial a
// spare connection when a request that is waiting for its own dial is
// handed a connection another request just freed; holding the first wave
// until every worker has its connection takes that startup race out of
// the connection count, while an implementation that sends more than n
// requests at once still shows up in it.
type rsGate struct {
	n       int32
	arrived atomic.Int32
	open    chan struct{}
	once    sync.Once
}

func (g *rsGate) wait() {
	if g.arrived.Add(1) == g.n {
		g.once.Do(func() { close(g.open) })
	}
	select {
	case <-g.open:
	case <-time.After(5 * time.Second):
	}
}

func TestReconcile_ThousandNumbersNeverExceedTheConcurrency(t *testing.T) {
	const concurrency = 4
	numbers := rsNumbers(1000)
	store := newRSStore(t)
	for i, n := range numbers {
		store.add(n, rsBH1, time.Now())
		if i%250 == 0 {
			store.add(n, rsBH1, time.Now()) // some numbers have two orders
		}
	}
	var inFlight, maxInFlight, newConns, closedConns atomic.Int32
	gate := &rsGate{n: concurrency, open: make(chan struct{})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); cur > m && !maxInFlight.CompareAndSwap(m, cur); m = maxInFlight.Load() {
		}
		gate.wait()
		store.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			newConns.Add(1)
		case http.StateClosed:
			closedConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	store.srvURL = srv.URL
	client := rsClient(t, srv.URL)
	defer client.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(rsCtx(t), 30*time.Second)
	defer cancel()
	r, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, rsSettled(hn.ReconcileParams{PhoneNumbers: numbers, Concurrency: concurrency}))
	require.NoError(t, err)
	// Connections are counted as the server sees them open. net/http
	// gives up a connection instead of reusing it when its goroutines fall
	// 50ms behind (a starved CPU, as in a parallel -race run on two
	// cores), and dials a replacement; the server sees that close a little
	// later. So: once the closes have arrived, no more connections are
	// open than the concurrency, and hardly any were closed on the way (a
	// client that did not reuse connections would close hundreds).
	open := func() int32 { return newConns.Load() - closedConns.Load() }
	assert.Eventually(t, func() bool { return open() <= concurrency }, 3*time.Second, 10*time.Millisecond,
		"connections open after the run: %d", open())
	assert.LessOrEqual(t, closedConns.Load(), int32(3), "connections closed during the run: they are not being reused")

	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict)
	require.Len(t, r.Numbers, len(numbers))
	for i, n := range r.Numbers {
		require.Equal(t, numbers[i], n.PhoneNumber, "input order")
		want := 1
		if i%250 == 0 {
			want = 2
		}
		require.Len(t, n.Orders, want, n.PhoneNumber)
	}
	assert.LessOrEqual(t, maxInFlight.Load(), int32(concurrency), "requests in flight at once")
	assert.Equal(t, int32(concurrency), maxInFlight.Load(), "the lookups do run concurrently")
}

func TestReconcile_DefaultConcurrencyIsFour(t *testing.T) {
	numbers := rsNumbers(40)
	var inFlight, maxInFlight atomic.Int32
	store := newRSStore(t)
	gate := &rsGate{n: hn.DefaultReconcileConcurrency, open: make(chan struct{})}
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); cur > m && !maxInFlight.CompareAndSwap(m, cur); m = maxInFlight.Load() {
		}
		gate.wait()
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		store.ServeHTTP(w, r)
	})
	store.srvURL = srv.URL
	r, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: numbers}))
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict, "one empty look after the window is not enough")
	assert.Equal(t, numbers, r.Missing, "input order despite random answer times")
	assert.Equal(t, int32(hn.DefaultReconcileConcurrency), maxInFlight.Load())
	assert.Len(t, srv.requests(), len(numbers))
}

func TestReconcile_FewerNumbersThanConcurrencyStartsNoIdleWorkers(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	store := newRSStore(t)
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); cur > m && !maxInFlight.CompareAndSwap(m, cur); m = maxInFlight.Load() {
		}
		store.ServeHTTP(w, r)
	})
	store.srvURL = srv.URL
	_, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: rsNumbers(2), Concurrency: 16}))
	require.NoError(t, err)
	assert.LessOrEqual(t, maxInFlight.Load(), int32(2))
	assert.Len(t, srv.requests(), 2)
}

func TestReconcile_CancellationStopsEveryLookupAndLeavesNoGoroutine(t *testing.T) {
	const concurrency = 3
	arrived := make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	client := rsClient(t, srv.URL)
	runtime.GC()
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(rsCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, rsSettled(hn.ReconcileParams{PhoneNumbers: rsNumbers(50), Concurrency: concurrency}))
		done <- err
	}()
	for range concurrency {
		select {
		case <-arrived:
		case <-time.After(5 * time.Second):
			t.Fatal("the lookups never reached the server")
		}
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, "hostednumbers: reconcile: context canceled", err.Error())
	case <-time.After(5 * time.Second):
		t.Fatal("Reconcile did not return after its context was cancelled")
	}
	assert.Len(t, arrived, 0, "no lookup starts after the cancellation")

	client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "Reconcile leaves no goroutine behind")
}

func TestReconcile_AFailedLookupStopsTheOthers(t *testing.T) {
	numbers := rsNumbers(200)
	store := newRSStore(t)
	var cancelled atomic.Int32
	otherArrived := make(chan struct{})
	var arrivedOnce sync.Once
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	// The failing lookup answers only once the other lookup in flight has
	// reached the server, and that one is held until the client gives it
	// up: the failure must cancel it and start no new lookup, however the
	// goroutines are scheduled. (A lookup that is never cancelled holds
	// the call until rsCtx's deadline, and the test fails.)
	held := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("PhoneNumber") == numbers[0] {
				select {
				case <-otherArrived:
				case <-r.Context().Done():
					return
				}
			} else {
				arrivedOnce.Do(func() { close(otherArrived) })
				select {
				case <-r.Context().Done():
					cancelled.Add(1)
					return
				case <-release:
				}
			}
			next(w, r)
		}
	}
	store.answer[numbers[0]] = func(w http.ResponseWriter) { rsJSON(w, 404, []byte(`{"code":20404,"message":"gone","status":404}`)) }
	srv, client := rsServe(t, held(store.ServeHTTP), hn.WithMaxRetries(0))
	store.srvURL = srv.URL
	_, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: numbers, Concurrency: 2}))
	require.ErrorIs(t, err, hn.ErrNotFound)
	assert.Contains(t, err.Error(), numbers[0], "the error names the number")
	assert.Len(t, srv.requests(), 2, "no lookup started after the failure")
	assert.Eventually(t, func() bool { return cancelled.Load() == 1 }, 5*time.Second, 5*time.Millisecond, "the other lookup in flight was cancelled")
}

// A second look lists only the numbers the first found without an order:
// for 1000 numbers with one missing, 1000 listings and then 1, not 2000.
func TestReconcile_ASecondLookListsOnlyTheMissingNumbers(t *testing.T) {
	numbers := rsNumbers(1000)
	missing := numbers[617]
	store := newRSStore(t)
	created := time.Now().UTC()
	for _, n := range numbers {
		if n != missing {
			store.add(n, rsBH1, created)
		}
	}
	srv, client := rsReconcileServer(t, store)
	params := rsSettled(hn.ReconcileParams{PhoneNumbers: numbers, Concurrency: 16})

	first, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, first.Verdict, "one missing number needs a second look")
	assert.Equal(t, []string{missing}, first.Missing)
	assert.Equal(t, 1000, srv.count(), "the first look lists every number once")

	// Every order found disappears from the listings: a number found once
	// counts as created, whatever a later listing shows, and is not listed
	// again.
	store.mu.Lock()
	store.orders = map[string][]map[string]any{}
	store.mu.Unlock()

	params.Previous = first
	second, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, 1001, srv.count(), "the second look lists only the missing number")
	assert.Equal(t, 2, store.lookupsOf(missing))
	assert.Equal(t, 1, store.lookupsOf(numbers[0]))
	reqs := srv.requests()
	assert.Equal(t, "PhoneNumber=%2B1415556"+missing[8:], reqs[len(reqs)-1].RawQuery)

	assert.Equal(t, hn.ReconcilePartial, second.Verdict)
	assert.Equal(t, []string{missing}, second.Missing)
	assert.Equal(t, []string{rsBH1}, second.BulkHostingSIDs, "the carried orders' bulk request")
	require.Len(t, second.Numbers, 1000)
	for i, n := range second.Numbers {
		assert.Equal(t, numbers[i], n.PhoneNumber)
		if n.PhoneNumber == missing {
			assert.Empty(t, n.Orders)
			continue
		}
		require.Len(t, n.Orders, 1, "%s keeps the order the first look found", n.PhoneNumber)
		assert.Equal(t, first.Numbers[i].Orders[0].SID, n.Orders[0].SID)
	}
	assert.Equal(t, first.ClockMeasured, second.ClockMeasured)

	// WaitForReconcile takes its looks the same way.
	store2 := newRSStore(t)
	for _, n := range numbers[:10] {
		if n != numbers[3] {
			store2.add(n, rsBH1, created)
		}
	}
	srv2, client2 := rsReconcileServer(t, store2)
	r, err := client2.BulkHostedNumberOrders.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: numbers[:10]}))
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePartial, r.Verdict)
	assert.Equal(t, 11, srv2.count(), "10 listings, then 1")
	assert.Equal(t, 2, store2.lookupsOf(numbers[3]))
}

// A previous look that found every number needs no listing at all; its
// verdict and its clock stand.
func TestReconcile_APreviousLookThatFoundEveryNumberListsNothing(t *testing.T) {
	numbers := rsNumbers(3)
	store := newRSStore(t)
	for _, n := range numbers {
		store.add(n, rsBH1, time.Now().UTC())
	}
	srv, client := rsReconcileServer(t, store)
	params := rsSettled(hn.ReconcileParams{PhoneNumbers: numbers})
	first, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), params)
	require.NoError(t, err)
	require.Equal(t, hn.ReconcileAllInOne, first.Verdict)
	params.Previous = first
	again, err := client.BulkHostedNumberOrders.Reconcile(rsCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.count(), "nothing is listed again")
	assert.Equal(t, hn.ReconcileAllInOne, again.Verdict)
	assert.Equal(t, rsBH1, again.BulkHostingSID)
	assert.Equal(t, first.ClockOffset, again.ClockOffset)
	assert.Equal(t, first.ClockMeasured, again.ClockMeasured)
}

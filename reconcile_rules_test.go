package hostednumbers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// These tests pin each rule by which Reconcile turns what it finds into a
// verdict, against an account server whose clock and spelling can differ
// from ours.

// ruleOrder is one hosted number order the rule server holds.
type ruleOrder struct {
	phone   string // as the server spells it
	bulk    string // BH…, or "" for none
	created time.Time
}

// ruleServer serves GET /v2/HostedNumber/Orders?PhoneNumber=… from its
// orders, with its clock offset from ours by skew (its Date header and
// every date_created follow it).
type ruleServer struct {
	mu      sync.Mutex
	orders  []ruleOrder
	skew    time.Duration
	noDate  bool
	lookups atomic.Int64
	// dateSkew, if set for a number's digits, replaces skew in the Date
	// header of the answers about that number (not in date_created): an
	// answer that is wrong about Twilio's clock.
	dateSkew map[string]time.Duration
}

func (s *ruleServer) add(phone, bulk string, created time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = append(s.orders, ruleOrder{phone: phone, bulk: bulk, created: created})
}

// addNow gives phone an order made now by the server's clock.
func (s *ruleServer) addNow(phone, bulk string) {
	s.add(phone, bulk, time.Now().Add(s.skew))
}

func (s *ruleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.lookups.Add(1)
	want := digitsOf(r.URL.Query().Get("PhoneNumber"))
	s.mu.Lock()
	var items []map[string]any
	for i, o := range s.orders {
		if digitsOf(o.phone) != want {
			continue
		}
		var bulk any
		if o.bulk != "" {
			bulk = o.bulk
		}
		items = append(items, map[string]any{
			"sid":                      fmt.Sprintf("HR%032x", i+1),
			"account_sid":              "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"phone_number":             o.phone,
			"status":                   "received",
			"bulk_hosting_request_sid": bulk,
			"date_created":             o.created.UTC().Format(time.RFC3339),
		})
	}
	skew, noDate := s.skew, s.noDate
	if d, ok := s.dateSkew[want]; ok {
		skew = d
	}
	s.mu.Unlock()
	if items == nil {
		items = []map[string]any{}
	}
	body, _ := json.Marshal(map[string]any{
		"items": items,
		"meta": map[string]any{
			"first_page_url": "https://numbers.twilio.com/v2/HostedNumber/Orders?PageSize=50&Page=0",
			"key":            "items", "next_page_url": nil, "page": 0, "page_size": 50, "previous_page_url": nil,
			"url": "https://numbers.twilio.com/v2/HostedNumber/Orders?PageSize=50&Page=0",
		},
	})
	if noDate {
		w.Header()["Date"] = nil // net/http adds none then
	} else {
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func digitsOf(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func newRuleServer(t *testing.T, skew time.Duration) (*ruleServer, *hn.Client) {
	t.Helper()
	s := &ruleServer{skew: skew}
	return s, loopbackClient(t, s)
}

// loopbackClient serves h on a loopback server for the test's lifetime and
// returns a client for it that retries after 1 to 5 ms.
func loopbackClient(t *testing.T, h http.Handler) *hn.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client, err := hn.NewClient(
		hn.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "f00dfacef00dfacef00dfacef00dface"),
		hn.WithBaseURL(srv.URL), hn.WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	return client
}

func ruleCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const (
	ruleBH  = "BH11111111111111111111111111111111"
	ruleOld = "BH99999999999999999999999999999999"
)

var ruleNumbers = []string{"+16285550001", "+16285550002"}

func TestReconcileRule_WithinTheWindowNothingFoundIsNotYet(t *testing.T) {
	_, client := newRuleServer(t, 0)
	sent := time.Now().Add(-time.Second)
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{
		PhoneNumbers: ruleNumbers, SentAt: sent, ReturnedAt: sent, ProcessingWindow: time.Hour, ConfirmGap: time.Minute,
	})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)
	assert.Equal(t, ruleNumbers, r.Missing)
	assert.Equal(t, sent.Add(time.Hour), r.WindowClosesAt)
	assert.Equal(t, r.LookedAt.Add(time.Minute), r.RetryAt, "look again a gap later: orders may appear any moment")
	assert.Contains(t, r.Reason, "may still be processing")

	// A window ending sooner than the gap: look again when it ends.
	r, err = client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{
		PhoneNumbers: ruleNumbers, SentAt: sent, ReturnedAt: sent, ProcessingWindow: 10 * time.Second, ConfirmGap: time.Minute,
	})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)
	assert.Equal(t, sent.Add(10*time.Second), r.RetryAt)
}

func TestReconcileRule_TheWindowStartsWhenTheCreateMayLastHaveReachedTwilio(t *testing.T) {
	_, client := newRuleServer(t, 0)
	// Sent 50 minutes ago: with the default per-attempt limit (30 s) and
	// window (30 min) it would be over, but the create returned only 10
	// minutes ago, so Twilio may have received it until then.
	sent := time.Now().Add(-50 * time.Minute)
	returned := time.Now().Add(-10 * time.Minute)
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent, ReturnedAt: returned})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)
	assert.Equal(t, returned.Add(hn.DefaultProcessingWindow), r.WindowClosesAt)

	// Without ReturnedAt: sent plus the client's per-attempt limit.
	limited, err := hn.NewClient(hn.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "f00dfacef00dfacef00dfacef00dface"),
		hn.WithBaseURL(client.BaseURL()), hn.WithTimeout(20*time.Minute))
	require.NoError(t, err)
	r, err = limited.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
	require.NoError(t, err)
	assert.Equal(t, sent.Add(20*time.Minute+hn.DefaultProcessingWindow), r.WindowClosesAt)
	assert.Equal(t, hn.ReconcilePending, r.Verdict, "the window is still open with a 20 minute attempt limit")

	r, err = client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
	require.NoError(t, err)
	assert.Equal(t, sent.Add(hn.DefaultTimeout+hn.DefaultProcessingWindow), r.WindowClosesAt)
}

func TestReconcileRule_AfterTheWindowOneEmptyLookIsNotEnoughTwoAre(t *testing.T) {
	s, client := newRuleServer(t, 0)
	sent := time.Now().Add(-2 * time.Hour)
	params := &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent, ReturnedAt: sent, ConfirmGap: 30 * time.Millisecond}
	first, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, first.Verdict, "one empty look after the window")
	assert.Equal(t, first.LookedAt.Add(30*time.Millisecond), first.RetryAt)
	assert.Contains(t, first.Reason, "second look")

	// Looking again too soon does not count as the second look.
	params.Previous = first
	early, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), params)
	require.NoError(t, err)
	if early.LookedAt.Sub(first.LookedAt) < 30*time.Millisecond {
		assert.Equal(t, hn.ReconcilePending, early.Verdict, "two looks less than ConfirmGap apart")
		assert.Equal(t, first.RetryAt, early.RetryAt)
	}

	time.Sleep(time.Until(first.RetryAt))
	second, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileNoneCreated, second.Verdict, "two empty looks a gap apart, after the window")
	assert.Equal(t, ruleNumbers, second.Missing)

	// A previous look from inside the window does not count either.
	inWindow := *first
	inWindow.LookedAt = sent.Add(time.Minute)
	params.Previous = &inWindow
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)

	// An order that appears between the looks ends the doubt for its number:
	// the other is confirmed missing only if it was missing both times.
	s.addNow(ruleNumbers[0], ruleBH)
	params.Previous = first
	r, err = client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePartial, r.Verdict)
	assert.Equal(t, []string{ruleNumbers[1]}, r.Missing)
	assert.Equal(t, []string{ruleBH}, r.BulkHostingSIDs)

	// A number found at the first look and gone at the second is not
	// confirmed missing: it needs a look of its own.
	found := *first
	found.Missing = []string{ruleNumbers[0]}
	params.Previous = &found
	s.mu.Lock()
	s.orders = nil
	s.mu.Unlock()
	r, err = client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)
}

func TestReconcileRule_PartialWithMissingNumbersWaitsForTheWindowToo(t *testing.T) {
	s, client := newRuleServer(t, 0)
	s.addNow(ruleNumbers[0], ruleBH)
	sent := time.Now().Add(-time.Second)
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict, "the missing number may still be processed: no resubmission yet")
	assert.Equal(t, []string{ruleNumbers[1]}, r.Missing)

	// Every number found: positive evidence needs no window.
	s.addNow(ruleNumbers[1], ruleBH)
	r, err = client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict)
	assert.Equal(t, ruleBH, r.BulkHostingSID)
}

func TestReconcileRule_KnownBulkRequestsAreReportedButNeverTakenForThisCreate(t *testing.T) {
	s, client := newRuleServer(t, 0)
	// An earlier attempt, made after SentAt by the numbers' dates (the
	// caller's clock slack), whose request the caller recorded.
	sent := time.Now().Add(-2 * time.Hour)
	for _, n := range ruleNumbers {
		s.add(n, ruleOld, sent.Add(time.Second))
	}
	params := &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent, KnownBulkHostingSIDs: []string{ruleOld}, ConfirmGap: time.Nanosecond}
	r, err := client.BulkHostedNumberOrders.WaitForReconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileNoneCreated, r.Verdict, "the known attempt's orders are not this create's")
	assert.Empty(t, r.BulkHostingSIDs)
	for _, n := range r.Numbers {
		assert.Empty(t, n.Orders)
		require.Len(t, n.KnownOrders, 1)
		assert.Equal(t, ruleOld, n.KnownOrders[0].BulkHostingRequestSID.String)
	}

	// Without telling Reconcile, the same orders look like this create's.
	params.KnownBulkHostingSIDs = nil
	r, err = client.BulkHostedNumberOrders.WaitForReconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict)

	// Known SIDs compare without regard to the hex digits' case.
	params.KnownBulkHostingSIDs = []string{"BH" + "ABCDEF0123456789abcdef0123456789"}
	s.add(ruleNumbers[0], "BHabcdef0123456789abcdef0123456789", sent.Add(time.Second))
	r, err = client.BulkHostedNumberOrders.WaitForReconcile(ruleCtx(t), params)
	require.NoError(t, err)
	assert.Len(t, r.Numbers[0].KnownOrders, 1)
}

func TestReconcileRule_NumbersSpelledDifferentlyAreFound(t *testing.T) {
	s, client := newRuleServer(t, 0)
	s.addNow("+1 628-555-0001", ruleBH)
	s.addNow("+1 (628) 5550002", ruleBH)
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: time.Now().Add(-time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict, "the API's spelling of a number is not another number")
	assert.Empty(t, r.Missing)
	assert.Equal(t, "+1 628-555-0001", r.Numbers[0].Orders[0].PhoneNumber)

	// Other numbers sharing a prefix are still other numbers.
	r, err = client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: []string{"+162855500012"}, SentAt: time.Now().Add(-time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, []string{"+162855500012"}, r.Missing)
}

// TestReconcileRule_ClockSkewOfTenMinutesEitherWayGivesNoWrongVerdict runs a
// lost create against a server whose clock is ten minutes ahead of or
// behind ours: the create's orders are found (no "not created" that would
// resubmit them), an earlier attempt's are not taken for them, and a
// re-run is never refused for a time "in the future".
func TestReconcileRule_ClockSkewOfTenMinutesEitherWayGivesNoWrongVerdict(t *testing.T) {
	for _, skew := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			s, client := newRuleServer(t, skew)
			sent := time.Now()
			// An earlier attempt a minute before, by the server's clock.
			s.add(ruleNumbers[1], ruleOld, sent.Add(skew-time.Minute))
			// This create's orders, a second after it was sent, by the
			// server's clock.
			for _, n := range ruleNumbers {
				s.add(n, ruleBH, sent.Add(skew+time.Second))
			}
			r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
			require.NoError(t, err)
			assert.True(t, r.ClockMeasured)
			assert.InDelta(t, skew.Seconds(), r.ClockOffset.Seconds(), 2)
			assert.Equal(t, hn.ReconcileAllInOne, r.Verdict)
			assert.Equal(t, ruleBH, r.BulkHostingSID)
			assert.Len(t, r.Numbers[1].Orders, 1, "the earlier attempt is older by Twilio's clock")
		})
	}
}

func TestReconcileRule_SkewWithoutADateHeaderIsAbsorbedBySlack(t *testing.T) {
	s, client := newRuleServer(t, -9*time.Minute)
	s.noDate = true
	sent := time.Now()
	for _, n := range ruleNumbers {
		s.add(n, ruleBH, sent.Add(-9*time.Minute+time.Second))
	}
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
	require.NoError(t, err)
	assert.False(t, r.ClockMeasured)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict, "orders dated nine minutes 'before' the create by an unmeasured clock still count")
}

func TestReconcileRule_ALookCostsOneListingPerNumber(t *testing.T) {
	s, client := newRuleServer(t, 0)
	numbers := make([]string, 1000)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1628555%04d", i)
	}
	sent := time.Now().Add(-time.Second)
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: numbers, SentAt: sent, Concurrency: 16})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)
	assert.EqualValues(t, 1000, s.lookups.Load(), "a look at a batch of 1000 is 1000 listings of one page")
}

func TestWaitForReconcile_StopsWithTheLastPendingResultWhenTheContextEnds(t *testing.T) {
	_, client := newRuleServer(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	sent := time.Now()
	r, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, r)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)
	assert.Contains(t, err.Error(), "still pending")
}

func TestReconcile_WorksOverAMockedLister(t *testing.T) {
	lister := listerFunc(func(_ context.Context, p *hn.ListHostedNumberOrdersParams) (*hn.Page[hn.HostedNumberOrder], error) {
		return &hn.Page[hn.HostedNumberOrder]{Items: []hn.HostedNumberOrder{{
			SID: "HR" + "00000000000000000000000000000001", PhoneNumber: p.PhoneNumber,
			BulkHostingRequestSID: hn.NullString{String: ruleBH, Valid: true},
		}}}, nil
	})
	r, err := hn.Reconcile(ruleCtx(t), lister, &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: time.Now()})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict)
	assert.False(t, r.ClockMeasured, "a mock's pages carry no Date header")
}

type listerFunc func(context.Context, *hn.ListHostedNumberOrdersParams) (*hn.Page[hn.HostedNumberOrder], error)

func (f listerFunc) List(ctx context.Context, p *hn.ListHostedNumberOrdersParams, _ ...hn.CallOption) (*hn.Page[hn.HostedNumberOrder], error) {
	return f(ctx, p)
}

func TestReconcile_ALookupThatNeverEndsFailsWithoutAVerdict(t *testing.T) {
	// A server that ignores the filter and names a new page every time
	// (each page holds another number's order): the lookup gives up after
	// a bounded number of pages instead of listing until the deadline.
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := pages.Add(1)
		body, _ := json.Marshal(map[string]any{
			"items": []map[string]any{{
				"sid": fmt.Sprintf("HR%032x", n), "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				"phone_number": "+19995550000", "status": "received",
			}},
			"meta": map[string]any{
				"key": "items", "page": n, "page_size": 1,
				"url":           fmt.Sprintf("http://%s/v2/HostedNumber/Orders?Page=%d", r.Host, n),
				"next_page_url": fmt.Sprintf("http://%s/v2/HostedNumber/Orders?Page=%d", r.Host, n+1),
			},
		})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	client, err := hn.NewClient(hn.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "f00dfacef00dfacef00dfacef00dface"), hn.WithBaseURL(srv.URL))
	require.NoError(t, err)
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers[:1], SentAt: time.Now().Add(-time.Hour)})
	require.Error(t, err)
	assert.Nil(t, r, "no verdict without the whole list")
	assert.Contains(t, err.Error(), "PhoneNumber filter")
	assert.EqualValues(t, 101, pages.Load(), "bounded: 100 pages, then one more to learn there is another")
}

func TestWaitForReconcile_OverAMockedListerLooksAgainUntilTheOrdersShow(t *testing.T) {
	// The orders show from the third look on, as a lagging list would.
	var looks atomic.Int64
	lister := listerFunc(func(_ context.Context, p *hn.ListHostedNumberOrdersParams) (*hn.Page[hn.HostedNumberOrder], error) {
		if p.PhoneNumber == ruleNumbers[0] && looks.Add(1) < 3 {
			return &hn.Page[hn.HostedNumberOrder]{}, nil
		}
		if p.PhoneNumber != ruleNumbers[0] && looks.Load() < 3 {
			return &hn.Page[hn.HostedNumberOrder]{}, nil
		}
		return &hn.Page[hn.HostedNumberOrder]{Items: []hn.HostedNumberOrder{{
			SID: "HR" + "00000000000000000000000000000002", PhoneNumber: p.PhoneNumber,
			BulkHostingRequestSID: hn.NullString{String: ruleBH, Valid: true},
		}}}, nil
	})
	r, err := hn.WaitForReconcile(ruleCtx(t), lister, &hn.ReconcileParams{
		PhoneNumbers: ruleNumbers, SentAt: time.Now(), ConfirmGap: time.Millisecond, Concurrency: 1,
	})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict)
	assert.GreaterOrEqual(t, looks.Load(), int64(3), "pending looks came first")

	_, err = hn.WaitForReconcile(ruleCtx(t), lister, nil)
	require.ErrorIs(t, err, hn.ErrInvalidInput)
}

// Answers that disagree about Twilio's clock: the offset that keeps the
// most orders wins, never one that makes this create's own orders look
// older than its send.
func TestReconcileRule_DisagreeingDateHeadersKeepTheOffsetThatKeepsMoreOrders(t *testing.T) {
	s, client := newRuleServer(t, 0)
	s.dateSkew = map[string]time.Duration{digitsOf(ruleNumbers[1]): 10 * time.Minute}
	sent := time.Now()
	for _, n := range ruleNumbers {
		s.add(n, ruleBH, sent.Add(time.Second))
	}
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent, Concurrency: 1})
	require.NoError(t, err)
	assert.InDelta(t, 0, r.ClockOffset.Seconds(), 2)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict, r.Reason)
	assert.Empty(t, r.Missing)
}

// ReconcileParams.Now is the clock of every time Reconcile reads or
// reports, and the one Twilio's clock is measured against.
func TestReconcileRule_NowIsTheClockOfEveryTime(t *testing.T) {
	s, client := newRuleServer(t, 0)
	ahead := time.Now().Add(time.Hour)
	now := func() time.Time { return ahead }
	s.add(ruleNumbers[0], ruleBH, time.Now().Add(-40*time.Minute)) // 9 minutes before the send, by Twilio's clock
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: ahead.Add(-31 * time.Minute), Now: now})
	require.NoError(t, err)
	assert.Equal(t, ahead, r.LookedAt)
	assert.Equal(t, hn.ReconcilePending, r.Verdict)
	assert.Equal(t, ahead.Add(hn.DefaultConfirmGap), r.RetryAt, "the second look a gap after this one, by the given clock")
	assert.InDelta(t, (-time.Hour).Seconds(), r.ClockOffset.Seconds(), 2, "Twilio's clock measured against the given one")
	assert.Empty(t, r.Numbers[0].Orders, "an order made before the send, by Twilio's clock, is not this create's")
}

// The measured clock's slack: Date headers and date_created have whole
// seconds, so with Twilio's clock measured, an order dated a second
// before the send by it still counts as this create's.
func TestReconcileRule_AMeasuredClockKeepsASlackOfSeconds(t *testing.T) {
	s, client := newRuleServer(t, 0)
	sent := time.Now()
	for _, n := range ruleNumbers {
		s.add(n, ruleBH, sent.Add(-2*time.Second))
	}
	r, err := client.BulkHostedNumberOrders.Reconcile(ruleCtx(t), &hn.ReconcileParams{PhoneNumbers: ruleNumbers, SentAt: sent})
	require.NoError(t, err)
	require.True(t, r.ClockMeasured)
	assert.Equal(t, hn.ReconcileAllInOne, r.Verdict, r.Reason)
}

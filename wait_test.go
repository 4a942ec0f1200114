package hostednumbers

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/internal/poll"
)

// waitScript answers fetches from a list of steps: a status code (503,
// 429 with its Retry-After) or an order status. It records arrival times.
type waitScript struct {
	mu       sync.Mutex
	steps    []string
	arrivals []time.Time
}

func (s *waitScript) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.arrivals = append(s.arrivals, time.Now())
		step := "PROCESSED"
		if len(s.steps) > 0 {
			step, s.steps = s.steps[0], s.steps[1:]
		}
		s.mu.Unlock()
		switch {
		case step == "503":
			rtStatus(t, 503)(w, r)
		case strings.HasPrefix(step, "429"):
			if after := strings.TrimPrefix(step, "429:"); after != step {
				w.Header().Set("Retry-After", after)
			}
			rtStatus(t, 429)(w, r)
		default:
			ctWrite(w, 200, []byte(`{"bulk_hosting_sid":"`+ctBulkSID+`","request_status":"`+step+`","total_count":0,"results":[]}`))
		}
	}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWait_ASuccessResetsTheFailureCount(t *testing.T) {
	script := &waitScript{steps: []string{"503", "503", "IN_PROGRESS", "503", "503", "PROCESSED"}}
	srv := newRTServer(t, script.handler(t))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	order, err := c.BulkHostedNumberOrders.Wait(waitCtx(t), ctBulkSID, &WaitOptions{PollInterval: time.Millisecond, MaxConsecutiveErrors: 3})
	require.NoError(t, err, "two failures, a success, two failures: never three in a row")
	assert.Equal(t, RequestStatusProcessed, order.RequestStatus)
	assert.Equal(t, 6, srv.seen(http.MethodGet))
}

func TestWait_GivesUpAfterMaxConsecutiveErrors(t *testing.T) {
	script := &waitScript{steps: []string{"IN_PROGRESS", "503", "503", "503", "PROCESSED"}}
	srv := newRTServer(t, script.handler(t))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	last, err := c.BulkHostedNumberOrders.Wait(waitCtx(t), ctBulkSID, &WaitOptions{PollInterval: time.Millisecond, MaxConsecutiveErrors: 3})
	require.ErrorIs(t, err, ErrServer)
	assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: wait for bulk order "+ctBulkSID+": "), err.Error())
	require.NotNil(t, last)
	assert.Equal(t, RequestStatusInProgress, last.RequestStatus, "the last state seen comes with the error")
	assert.Equal(t, 4, srv.seen(http.MethodGet))
}

func TestWait_HonoursRetryAfterOfA429(t *testing.T) {
	script := &waitScript{steps: []string{"429:1", "PROCESSED"}}
	srv := newRTServer(t, script.handler(t))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	_, err := c.BulkHostedNumberOrders.Wait(waitCtx(t), ctBulkSID, &WaitOptions{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	script.mu.Lock()
	defer script.mu.Unlock()
	require.Len(t, script.arrivals, 2)
	assert.GreaterOrEqual(t, script.arrivals[1].Sub(script.arrivals[0]), 900*time.Millisecond, "the next poll waited for Retry-After: 1")
}

func TestWait_RateLimitsDoNotCountAsFailures(t *testing.T) {
	script := &waitScript{steps: []string{"429:0", "429:0", "429", "429:0", "PROCESSED"}}
	srv := newRTServer(t, script.handler(t))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	order, err := c.BulkHostedNumberOrders.Wait(waitCtx(t), ctBulkSID, &WaitOptions{PollInterval: time.Millisecond, MaxConsecutiveErrors: 2})
	require.NoError(t, err)
	assert.Equal(t, RequestStatusProcessed, order.RequestStatus)
	assert.Equal(t, 5, srv.seen(http.MethodGet))
}

// fetchMock is a hand-written mock of the one call Wait needs.
type fetchMock struct {
	answers []func() (*BulkHostedNumberOrder, error)
	calls   int
}

func (m *fetchMock) Fetch(ctx context.Context, sid string, _ *FetchBulkHostedNumberOrderParams, _ ...CallOption) (*BulkHostedNumberOrder, error) {
	if m.calls >= len(m.answers) {
		return &BulkHostedNumberOrder{BulkHostingSID: sid, RequestStatus: RequestStatusProcessed}, nil
	}
	m.calls++
	return m.answers[m.calls-1]()
}

func mockOrder(status RequestStatus) func() (*BulkHostedNumberOrder, error) {
	return func() (*BulkHostedNumberOrder, error) {
		return &BulkHostedNumberOrder{BulkHostingSID: ctBulkSID, RequestStatus: status}, nil
	}
}

func TestWaitForBulkOrder_RunsTheRealLoopOverAMockedFetch(t *testing.T) {
	m := &fetchMock{answers: []func() (*BulkHostedNumberOrder, error){
		mockOrder(RequestStatusQueued),
		func() (*BulkHostedNumberOrder, error) { return nil, &APIError{HTTPStatus: 503} },
		mockOrder(RequestStatusInProgress),
		mockOrder(RequestStatusProcessed),
	}}
	var seen []RequestStatus
	order, err := WaitForBulkOrder(waitCtx(t), m, ctBulkSID, &WaitOptions{
		PollInterval: time.Millisecond,
		OnSnapshot:   func(o *BulkHostedNumberOrder) { seen = append(seen, o.RequestStatus) },
	})
	require.NoError(t, err)
	assert.Equal(t, RequestStatusProcessed, order.RequestStatus)
	assert.Equal(t, 4, m.calls, "the transient 503 was polled through")
	assert.Equal(t, []RequestStatus{RequestStatusQueued, RequestStatusInProgress, RequestStatusProcessed}, seen)
}

func TestWaitForBulkOrder_RefusesWrongAnswersAndInputs(t *testing.T) {
	wrongSID := &fetchMock{answers: []func() (*BulkHostedNumberOrder, error){func() (*BulkHostedNumberOrder, error) {
		return &BulkHostedNumberOrder{BulkHostingSID: "BHbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", RequestStatus: RequestStatusProcessed}, nil
	}}}
	_, err := WaitForBulkOrder(waitCtx(t), wrongSID, ctBulkSID, &WaitOptions{PollInterval: time.Millisecond})
	var decodeErr *DecodeError
	require.ErrorAs(t, err, &decodeErr)
	assert.Equal(t, 1, wrongSID.calls, "not polled again")

	nothing := &fetchMock{answers: []func() (*BulkHostedNumberOrder, error){func() (*BulkHostedNumberOrder, error) { return nil, nil }}}
	_, err = WaitForBulkOrder(waitCtx(t), nothing, ctBulkSID, nil)
	require.ErrorAs(t, err, &decodeErr)

	_, err = WaitForBulkOrder(waitCtx(t), nil, ctBulkSID, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = WaitForBulkOrder(waitCtx(t), &fetchMock{}, "BH../../x", nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestWaitForBulkOrder_OverTheServiceIsWait(t *testing.T) {
	script := &waitScript{steps: []string{"QUEUED", "503"}}
	srv := newRTServer(t, script.handler(t))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	_, err := WaitForBulkOrder(waitCtx(t), c.BulkHostedNumberOrders, ctBulkSID, &WaitOptions{PollInterval: time.Millisecond, MaxConsecutiveErrors: 1})
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "hostednumbers:"), "one prefix, not Wait's and Fetch's: %v", err)
}

func TestPollWait_IsTheIntervalOrRetryAfterPlusAtMostAFifth(t *testing.T) {
	tests := []struct {
		interval, retryAfter time.Duration
		r                    float64
		want                 time.Duration
	}{
		{10 * time.Second, 0, 0, 10 * time.Second},
		{10 * time.Second, 0, 0.5, 11 * time.Second},
		{10 * time.Second, 0, 0.25, 10500 * time.Millisecond},
		{10 * time.Second, 30 * time.Second, 0, 30 * time.Second},
		{10 * time.Second, 30 * time.Second, 0.5, 33 * time.Second},
		{10 * time.Second, 5 * time.Second, 0, 10 * time.Second},
		{time.Nanosecond, 0, 0.99, time.Nanosecond},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, poll.Wait(tt.interval, tt.retryAfter, tt.r, poll.DefaultJitter), "poll.Wait(%v, %v, %v)", tt.interval, tt.retryAfter, tt.r)
	}
	// The bound: whatever r in [0, 1) is drawn, less than a fifth more.
	for _, r := range []float64{0, 0.1, 0.5, 0.9, 0.999999} {
		got := poll.Wait(time.Minute, 0, r, poll.DefaultJitter)
		assert.GreaterOrEqual(t, got, time.Minute)
		assert.Less(t, got, time.Minute+12*time.Second)
	}
}

// fakeClock records the waits Wait asks for and draws jitter from a list;
// it never sleeps.
type fakeClock struct {
	draws []float64
	waits []time.Duration
	// onWait, if set, is called with the number of waits so far.
	onWait func(n int)
}

func (c *fakeClock) clock() poll.Clock {
	return poll.Clock{
		Jitter: func() float64 {
			r := c.draws[len(c.waits)%len(c.draws)]
			return r
		},
		Sleep: func(ctx context.Context, d time.Duration) error {
			c.waits = append(c.waits, d)
			if c.onWait != nil {
				c.onWait(len(c.waits))
			}
			return ctx.Err()
		},
	}
}

// scripted answers fetches from a list of statuses (or errors), then
// PROCESSED.
func scripted(answers ...any) (func(context.Context, string, *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error), *int) {
	calls := 0
	return func(_ context.Context, sid string, _ *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
		calls++
		if calls > len(answers) {
			return &BulkHostedNumberOrder{BulkHostingSID: sid, RequestStatus: RequestStatusProcessed}, nil
		}
		switch a := answers[calls-1].(type) {
		case error:
			return nil, a
		case RequestStatus:
			return &BulkHostedNumberOrder{BulkHostingSID: sid, RequestStatus: a}, nil
		}
		panic("bad script")
	}, &calls
}

func TestWait_WaitsAreTheBackoffWithTheDrawnJitter(t *testing.T) {
	fc := &fakeClock{draws: []float64{0, 0.5, 0.99, 0.25, 0.75, 0.1}}
	fetch, calls := scripted(RequestStatusQueued, RequestStatusQueued,
		&APIError{HTTPStatus: 429, RetryAfter: time.Second}, RequestStatusInProgress, RequestStatusInProgress, RequestStatusInProgress)
	order, err := waitWith(waitCtx(t), ctBulkSID, &WaitOptions{PollInterval: 10 * time.Millisecond, MaxPollInterval: 40 * time.Millisecond}, fetch, fc.clock())
	require.NoError(t, err)
	assert.Equal(t, RequestStatusProcessed, order.RequestStatus)
	assert.Equal(t, 7, *calls)
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	assert.Equal(t, []time.Duration{
		ms(10),                   // 10 ms, jitter 0
		ms(20 + 0.5*0.2*20),      // 20 ms, half the jitter
		ms(1000 + 0.99*0.2*1000), // the 429's Retry-After, with its jitter
		ms(40 + 0.25*0.2*40),     // capped at 40 ms
		ms(40 + 0.75*0.2*40),
		ms(40 + 0.1*0.2*40),
	}, fc.waits)
}

func TestWait_DefaultWaitsAreJittered(t *testing.T) {
	// The real clock's jitter: waits of many orders must not be in step.
	// Draw the jitter a Wait would use many times: not all the same, and
	// every one within the bound.
	c := poll.RealClock()
	seen := map[time.Duration]bool{}
	for range 50 {
		d := poll.Wait(DefaultPollInterval, 0, c.Jitter(), poll.DefaultJitter)
		assert.GreaterOrEqual(t, d, DefaultPollInterval)
		assert.Less(t, d, DefaultPollInterval+DefaultPollInterval/5)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 1, "the jitter varies")
}

func TestWait_UnknownStatusKeepsPollingIsReportedAndNamedWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(waitCtx(t))
	defer cancel()
	fc := &fakeClock{draws: []float64{0}, onWait: func(n int) {
		if n == 4 {
			cancel()
		}
	}}
	fetch, calls := scripted(RequestStatusQueued, RequestStatus("PAUSED"), RequestStatus("PAUSED"), RequestStatus("PAUSED"), RequestStatus("PAUSED"))
	var seen []RequestStatus
	last, err := waitWith(ctx, ctBulkSID, &WaitOptions{
		PollInterval: time.Millisecond,
		OnSnapshot:   func(o *BulkHostedNumberOrder) { seen = append(seen, o.RequestStatus) },
	}, fetch, fc.clock())
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), `the last request_status, "PAUSED", is not one the SDK knows`)
	require.NotNil(t, last)
	assert.Equal(t, RequestStatus("PAUSED"), last.RequestStatus)
	assert.Equal(t, []RequestStatus{"QUEUED", "PAUSED", "PAUSED", "PAUSED"}, seen, "every unknown state reaches OnSnapshot")
	assert.Equal(t, 4, *calls, "an unknown status is polled again, until the context ends")

	// A known status at the end says nothing of the sort.
	ctx2, cancel2 := context.WithCancel(waitCtx(t))
	defer cancel2()
	fc = &fakeClock{draws: []float64{0}, onWait: func(int) { cancel2() }}
	fetch, _ = scripted(RequestStatusInProgress)
	_, err = waitWith(ctx2, ctBulkSID, nil, fetch, fc.clock())
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "not one the SDK knows")
}

func TestWait_DoneDecidesWhenTheWaitIsOver(t *testing.T) {
	var order []string
	fetch, calls := scripted(RequestStatusQueued, RequestStatus("FAILED"), RequestStatusInProgress)
	fc := &fakeClock{draws: []float64{0}}
	got, err := waitWith(waitCtx(t), ctBulkSID, &WaitOptions{
		PollInterval: time.Millisecond,
		OnSnapshot:   func(o *BulkHostedNumberOrder) { order = append(order, "snapshot "+string(o.RequestStatus)) },
		Done: func(o *BulkHostedNumberOrder) bool {
			order = append(order, "done? "+string(o.RequestStatus))
			return o.RequestStatus.Finished() || !o.RequestStatus.Known()
		},
	}, fetch, fc.clock())
	require.NoError(t, err)
	assert.Equal(t, RequestStatus("FAILED"), got.RequestStatus, "the first state Done accepts is returned")
	assert.Equal(t, 2, *calls)
	assert.Equal(t, []string{"snapshot QUEUED", "done? QUEUED", "snapshot FAILED", "done? FAILED"}, order, "Done runs after OnSnapshot")
	assert.Len(t, fc.waits, 1)

	// Done can also end the wait before PROCESSED on a known status.
	fetch, calls = scripted(RequestStatusQueued, RequestStatusInProgress)
	got, err = waitWith(waitCtx(t), ctBulkSID, &WaitOptions{
		PollInterval: time.Millisecond,
		Done:         func(o *BulkHostedNumberOrder) bool { return o.RequestStatus == RequestStatusInProgress },
	}, fetch, (&fakeClock{draws: []float64{0}}).clock())
	require.NoError(t, err)
	assert.Equal(t, RequestStatusInProgress, got.RequestStatus)
	assert.Equal(t, 2, *calls)
}

func TestWait_DoneOverTheServiceAndAMock(t *testing.T) {
	// Through the public entry points, against a loopback server and a
	// mocked Fetch.
	script := &waitScript{steps: []string{"QUEUED", "CANCELED", "PROCESSED"}}
	srv := newRTServer(t, script.handler(t))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	isCanceled := func(o *BulkHostedNumberOrder) bool {
		return o.RequestStatus == "CANCELED" || o.RequestStatus.Finished()
	}
	order, err := c.BulkHostedNumberOrders.Wait(waitCtx(t), ctBulkSID, &WaitOptions{PollInterval: time.Millisecond, Done: isCanceled})
	require.NoError(t, err)
	assert.Equal(t, RequestStatus("CANCELED"), order.RequestStatus)
	assert.Equal(t, 2, srv.seen(http.MethodGet))

	m := &fetchMock{answers: []func() (*BulkHostedNumberOrder, error){mockOrder("CANCELED")}}
	order, err = WaitForBulkOrder(waitCtx(t), m, ctBulkSID, &WaitOptions{PollInterval: time.Millisecond, Done: isCanceled})
	require.NoError(t, err)
	assert.Equal(t, RequestStatus("CANCELED"), order.RequestStatus)
	assert.Equal(t, 1, m.calls)
}

func TestWaitBulk_WaitsAreTheBackoffWithTheDrawnJitterLikeWait(t *testing.T) {
	fc := &fakeClock{draws: []float64{0.5, 0, 0.99}}
	answers := []any{BulkEligibilityStatusQueued, &APIError{HTTPStatus: 429, RetryAfter: time.Second}, BulkEligibilityStatusInProgress, BulkEligibilityStatusSuccessful}
	calls := 0
	fetch := func(_ context.Context, id string) (*BulkEligibility, error) {
		a := answers[min(calls, len(answers)-1)]
		calls++
		if err, ok := a.(error); ok {
			return nil, err
		}
		return &BulkEligibility{RequestID: id, Status: a.(BulkEligibilityStatus)}, nil
	}
	got, err := waitForBulkEligibilityWith(waitCtx(t), "ECaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		&EligibilityWaitOptions{PollInterval: 10 * time.Millisecond, MaxPollInterval: 40 * time.Millisecond}, fetch, fc.clock())
	require.NoError(t, err)
	assert.Equal(t, BulkEligibilityStatusSuccessful, got.Status)
	assert.Equal(t, 4, calls)
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	assert.Equal(t, []time.Duration{
		ms(10 + 0.5*0.2*10),  // 10 ms, half the jitter
		ms(1000),             // the 429's Retry-After, no jitter drawn
		ms(40 + 0.99*0.2*40), // 40 ms (doubled twice, the cap), nearly all of it
	}, fc.waits)
}

// reconcileScript is a HostedNumberOrderLister whose answers, one per
// List, are errors or the orders to list.
type reconcileScript struct {
	answers []any
	calls   int
}

func (s *reconcileScript) List(_ context.Context, p *ListHostedNumberOrdersParams, _ ...CallOption) (*Page[HostedNumberOrder], error) {
	a := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	if err, ok := a.(error); ok {
		return nil, err
	}
	var items []HostedNumberOrder
	if bulk, ok := a.(string); ok {
		items = []HostedNumberOrder{{SID: "HR00000000000000000000000000000001", PhoneNumber: p.PhoneNumber,
			BulkHostingRequestSID: NullString{String: bulk, Valid: true}}}
	}
	return NewPage(items, nil), nil
}

func TestWaitForReconcile_RunsThePollLoop(t *testing.T) {
	const bulk = "BH11111111111111111111111111111111"
	lister := &reconcileScript{answers: []any{
		&APIError{HTTPStatus: 503, Code: 20503},                  // transient: the interval
		&APIError{HTTPStatus: 429, RetryAfter: 10 * time.Second}, // throttled: its Retry-After
		nil,  // no order yet: pending, look again at RetryAt
		bulk, // found
	}}
	fc := &fakeClock{draws: []float64{0, 0, 0.5}}
	params := &ReconcileParams{PhoneNumbers: []string{"+14155550101"}, SentAt: time.Now().Add(-2 * time.Hour), ConfirmGap: time.Minute}
	r, err := waitForReconcile(waitCtx(t), lister, params, DefaultTimeout, (&WaitOptions{}).withDefaults(), fc.clock(), nil)
	require.NoError(t, err)
	assert.Equal(t, ReconcileAllInOne, r.Verdict)
	assert.Equal(t, bulk, r.BulkHostingSID)
	assert.Equal(t, 4, lister.calls)
	require.Len(t, fc.waits, 3)
	assert.Equal(t, DefaultPollInterval, fc.waits[0], "after a transient failure, the poll interval")
	assert.Equal(t, 10*time.Second, fc.waits[1], "after a 429, its Retry-After (longer than the doubled interval)")
	// After a pending look: until its RetryAt, a ConfirmGap after the look,
	// with half of the jitter drawn.
	assert.InDelta(t, float64(time.Minute+6*time.Second), float64(fc.waits[2]), float64(time.Second), "%v", fc.waits[2])

	// Transient failures in a row end it, with the last pending result.
	lister = &reconcileScript{answers: []any{nil, &APIError{HTTPStatus: 503, Code: 20503}}}
	fc = &fakeClock{draws: []float64{0}}
	r, err = waitForReconcile(waitCtx(t), lister, params, DefaultTimeout, (&WaitOptions{}).withDefaults(), fc.clock(), nil)
	require.ErrorIs(t, err, ErrServer)
	assert.Contains(t, err.Error(), "hostednumbers: reconcile: look up +14155550101: ")
	require.NotNil(t, r)
	assert.Equal(t, ReconcilePending, r.Verdict)
	assert.Equal(t, 1+DefaultMaxConsecutiveErrors, lister.calls)

	// A pending result waits at least 10ms, whatever RetryAt says.
	lister = &reconcileScript{answers: []any{nil, bulk}}
	fc = &fakeClock{draws: []float64{0}}
	short := *params
	short.ConfirmGap = time.Nanosecond
	r, err = waitForReconcile(waitCtx(t), lister, &short, DefaultTimeout, (&WaitOptions{}).withDefaults(), fc.clock(), nil)
	require.NoError(t, err)
	assert.Equal(t, ReconcileAllInOne, r.Verdict)
	assert.Equal(t, []time.Duration{minReconcileInterval}, fc.waits)
}

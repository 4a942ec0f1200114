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

func (m *fetchMock) Fetch(ctx context.Context, sid string, _ *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
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

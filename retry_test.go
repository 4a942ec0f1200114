package hostednumbers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rtServer is a test server that counts the requests it receives per
// method, reads each request body in full, and then lets fail answer.
type rtServer struct {
	*httptest.Server
	gets, posts atomic.Int32
}

func newRTServer(t testing.TB, fail http.HandlerFunc) *rtServer {
	t.Helper()
	s := &rtServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.Method {
		case http.MethodGet:
			s.gets.Add(1)
		case http.MethodPost:
			s.posts.Add(1)
		}
		fail(w, r)
	}))
	// Hijacked and timed-out connections make the server log; that is
	// expected here.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *rtServer) seen(method string) int {
	if method == http.MethodPost {
		return int(s.posts.Load())
	}
	return int(s.gets.Load())
}

// rtStatus answers with status and, where testdata has one, its error
// fixture (the 502 one is a proxy's HTML page).
func rtStatus(t testing.TB, status int) http.HandlerFunc {
	var body []byte
	switch status {
	case 400, 401, 404, 429:
		body = ctFixture(t, fmt.Sprintf("error_%d.json", status))
	case 502:
		body = ctFixture(t, "error_502.html")
	default:
		body = []byte(fmt.Sprintf(`{"code":%d,"message":"%s","status":%d}`, 20000+status, http.StatusText(status), status))
	}
	return func(w http.ResponseWriter, r *http.Request) { ctWrite(w, status, body) }
}

// rtDrop closes the connection after the request was read, without
// answering. With reset it sends a TCP RST instead of a FIN.
func rtDrop(reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// rtHang answers only when the client has gone (or after 5s).
func rtHang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// rtCall makes one Fetch (GET) or Create (POST).
func rtCall(ctx context.Context, c *Client, method string) error {
	if method == http.MethodPost {
		_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
		return err
	}
	_, err := c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
	return err
}

var rtMethods = []string{http.MethodGet, http.MethodPost}

// TestRetryPolicy_RequestsSentPerFailure is the retry matrix: for each
// failure, how many requests a GET (Fetch) and a POST (Create) put on the
// wire with WithMaxRetries(2). A GET is retried on 429, 5xx gateway
// trouble and connection failures; a POST only when the server cannot have
// processed it.
func TestRetryPolicy_RequestsSentPerFailure(t *testing.T) {
	const maxRetries = 2
	const all = 1 + maxRetries
	type failure struct {
		name      string
		handler   func(t *testing.T) http.HandlerFunc // nil: nothing listens
		status    int                                 // the APIError status, 0 for a transport error
		get, post int                                 // requests the server sees
		timeout   time.Duration
	}
	status := func(code int) func(t *testing.T) http.HandlerFunc {
		return func(t *testing.T) http.HandlerFunc { return rtStatus(t, code) }
	}
	failures := []failure{
		{name: "429", handler: status(429), status: 429, get: all, post: all},
		{name: "500", handler: status(500), status: 500, get: all, post: 1},
		{name: "502", handler: status(502), status: 502, get: all, post: 1},
		{name: "503", handler: status(503), status: 503, get: all, post: 1},
		{name: "504", handler: status(504), status: 504, get: all, post: 1},
		{name: "501", handler: status(501), status: 501, get: 1, post: 1},
		{name: "400", handler: status(400), status: 400, get: 1, post: 1},
		{name: "401", handler: status(401), status: 401, get: 1, post: 1},
		{name: "404", handler: status(404), status: 404, get: 1, post: 1},
		{name: "connection dropped after the request was read", handler: func(*testing.T) http.HandlerFunc { return rtDrop(false) }, get: all, post: 1},
		{name: "connection reset after the request was read", handler: func(*testing.T) http.HandlerFunc { return rtDrop(true) }, get: all, post: 1},
		{name: "per-attempt timeout", handler: func(*testing.T) http.HandlerFunc { return rtHang }, get: all, post: 1, timeout: 50 * time.Millisecond},
		{name: "connection refused", get: 0, post: 0},
	}
	for _, f := range failures {
		for _, method := range rtMethods {
			want := f.get
			if method == http.MethodPost {
				want = f.post
			}
			t.Run(fmt.Sprintf("%s %s: %s", method, f.name, rtTimes(want)), func(t *testing.T) {
				var srv *rtServer
				var base string
				if f.handler != nil {
					srv = newRTServer(t, f.handler(t))
					base = srv.URL
				} else {
					base = ctClosedPortURL(t)
				}
				opts := []Option{WithMaxRetries(maxRetries)}
				if f.timeout > 0 {
					opts = append(opts, WithTimeout(f.timeout))
				}
				c := ctClient(t, base, opts...)

				var dials atomic.Int32
				ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
					ConnectStart: func(string, string) { dials.Add(1) },
				})
				err := rtCall(ctx, c, method)
				require.Error(t, err)
				assert.NotContains(t, err.Error(), "giving up", "the caller gets the failure itself")

				if srv != nil {
					assert.Equal(t, want, srv.seen(method), "requests the server saw")
					other := http.MethodPost
					if method == http.MethodPost {
						other = http.MethodGet
					}
					assert.Zero(t, srv.seen(other))
				}

				var apiErr *APIError
				switch {
				case f.status != 0:
					require.ErrorAs(t, err, &apiErr)
					assert.Equal(t, f.status, apiErr.HTTPStatus)
					assert.Equal(t, ctRequestID, apiErr.RequestID)
				case f.handler == nil:
					assert.False(t, errors.As(err, &apiErr))
					assert.ErrorIs(t, err, syscall.ECONNREFUSED)
					var opErr *net.OpError
					require.ErrorAs(t, err, &opErr)
					assert.Equal(t, "dial", opErr.Op)
					// Nothing can have reached a server: even the POST is
					// retried, one dial per attempt.
					assert.Equal(t, int32(all), dials.Load(), "dial attempts")
				case f.timeout > 0:
					assert.False(t, errors.As(err, &apiErr))
					var netErr net.Error
					require.ErrorAs(t, err, &netErr)
					assert.True(t, netErr.Timeout(), "%v", err)
				default:
					assert.False(t, errors.As(err, &apiErr), "%v", err)
				}
			})
		}
	}
}

func rtTimes(n int) string {
	switch n {
	case 0:
		return "never reaches the server"
	case 1:
		return "sent once"
	}
	return fmt.Sprintf("sent %d times", n)
}

func TestCreate_PostIsNeverResentAfterServerError(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := newRTServer(t, rtStatus(t, status))
			c := ctClient(t, srv.URL, WithMaxRetries(5))
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			require.ErrorIs(t, err, ErrServer)
			assert.Equal(t, 1, srv.seen(http.MethodPost))
		})
	}
}

func TestRetry_ExhaustedRetriesReturnTheLastResponseAsAPIError(t *testing.T) {
	var n atomic.Int32
	tooMany := ctFixture(t, "error_429.json")
	srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		w.Header().Set("Twilio-Request-Id", fmt.Sprintf("RQ%032d", i))
		if i < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"code":20503,"message":"Service Unavailable","status":503}`))
			return
		}
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write(tooMany)
	})
	c := ctClient(t, srv.URL, WithMaxRetries(2))

	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.Error(t, err)
	assert.Equal(t, 3, srv.seen(http.MethodGet))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.HTTPStatus)
	assert.Equal(t, 20429, apiErr.Code)
	assert.Equal(t, "Too Many Requests", apiErr.Message)
	assert.Equal(t, "https://www.twilio.com/docs/errors/20429", apiErr.MoreInfo)
	assert.Equal(t, 429, apiErr.Status)
	assert.Equal(t, fmt.Sprintf("RQ%032d", 3), apiErr.RequestID, "the last response's request ID")
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.NotErrorIs(t, err, ErrServer)
	assert.NotContains(t, err.Error(), "giving up")
	assert.Contains(t, err.Error(), "429 Too Many Requests (code 20429): Too Many Requests")

	// The same for a create refused with 429 every time.
	postSrv := newRTServer(t, rtStatus(t, 429))
	c = ctClient(t, postSrv.URL, WithMaxRetries(2))
	_, err = c.BulkHostedNumberOrders.Create(context.Background(), nil)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 20429, apiErr.Code)
	assert.Equal(t, 3, postSrv.seen(http.MethodPost))
}

func TestRetry_GETRecoversFrom503(t *testing.T) {
	var n atomic.Int32
	var auth sync.Map
	fetched := ctFixture(t, "fetch_200.json")
	srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
		auth.Store(n.Add(1), r.Header.Get("Authorization"))
		if n.Load() == 1 {
			ctWrite(w, http.StatusServiceUnavailable, []byte(`{"code":20503,"message":"Service Unavailable","status":503}`))
			return
		}
		ctWrite(w, http.StatusOK, fetched)
	})
	c := ctClient(t, srv.URL)

	order, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)
	assert.Equal(t, ctBulkSID, order.BulkHostingSID)
	assert.Equal(t, 2, srv.seen(http.MethodGet))
	for i := int32(1); i <= 2; i++ {
		v, _ := auth.Load(i)
		assert.Equal(t, "Basic "+ctBasicAuth(ctAccountSID, ctAuthToken), v, "attempt %d is authenticated", i)
	}
}

func TestRetry_POSTResentAfter429CarriesTheSameBody(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	created := ctFixture(t, "create_202.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			ctWrite(w, http.StatusTooManyRequests, ctFixture(t, "error_429.json"))
			return
		}
		ctWrite(w, http.StatusAccepted, created)
	}))
	defer srv.Close()
	c := ctClient(t, srv.URL)

	order, err := c.BulkHostedNumberOrders.Create(context.Background(), &CreateBulkHostedNumberOrderParams{
		FriendlyName: "Spring migration",
		RequestItems: []RequestItem{{
			Email:      "owner@example.com",
			AddressSID: "AD0123456789abcdef0123456789abcdef",
			Numbers:    []Number{{PhoneNumber: "+14155550101"}},
		}},
	})
	require.NoError(t, err)
	assert.Equal(t, ctBulkSID, order.BulkHostingSID)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 2)
	assert.Contains(t, string(bodies[0]), "+14155550101")
	assert.Equal(t, string(bodies[0]), string(bodies[1]), "the retry resends the whole body")
}

func TestRetryAfter_SecondsAreWaitedOut(t *testing.T) {
	t.Parallel() // it mostly sleeps
	var mu sync.Mutex
	var arrivals []time.Time
	fetched := ctFixture(t, "fetch_200.json")
	srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		n := len(arrivals)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			ctWrite(w, http.StatusTooManyRequests, ctFixture(t, "error_429.json"))
			return
		}
		ctWrite(w, http.StatusOK, fetched)
	})
	// The backoff alone would retry within 5ms.
	c := ctClient(t, srv.URL)

	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, arrivals, 2)
	assert.GreaterOrEqual(t, arrivals[1].Sub(arrivals[0]), 900*time.Millisecond, "Retry-After: 1 was honoured")
}

func TestRetryAfter_PastHTTPDateWaitsTheMinimumBackoff(t *testing.T) {
	var n atomic.Int32
	created := ctFixture(t, "create_202.json")
	srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat))
			ctWrite(w, http.StatusTooManyRequests, ctFixture(t, "error_429.json"))
			return
		}
		ctWrite(w, http.StatusAccepted, created)
	})
	// A date in the past must not produce back-to-back sends: the wait is
	// the minimum backoff, not zero and not the (longer) maximum.
	c := ctClient(t, srv.URL, WithRetryBackoff(300*time.Millisecond, 10*time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.seen(http.MethodPost))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "the retry waited the minimum backoff")
}

func TestRetryAfter_BeyondTheCapReturnsTheErrorAtOnce(t *testing.T) {
	tests := []struct {
		name          string
		method        string
		status        int
		retryAfter    func() string
		maxRetryAfter time.Duration
		wantMin       time.Duration
		wantMax       time.Duration
	}{
		{"POST 429 seconds", http.MethodPost, 429, func() string { return "120" }, 10 * time.Second, 120 * time.Second, 120 * time.Second},
		{"GET 429 seconds", http.MethodGet, 429, func() string { return "120" }, 10 * time.Second, 120 * time.Second, 120 * time.Second},
		{"GET 503 seconds", http.MethodGet, 503, func() string { return "61" }, DefaultMaxRetryAfter, 61 * time.Second, 61 * time.Second},
		{
			"POST 429 HTTP date", http.MethodPost, 429,
			func() string { return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) },
			DefaultMaxRetryAfter, 59 * time.Minute, time.Hour + time.Second,
		},
		{
			"GET 429 HTTP date beyond a short cap", http.MethodGet, 429,
			func() string { return time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat) },
			time.Second, 3 * time.Second, 6 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ctFixture(t, "error_429.json")
			if tt.status != 429 {
				body = []byte(`{"code":20503,"message":"Service Unavailable","status":503}`)
			}
			srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tt.retryAfter())
				ctWrite(w, tt.status, body)
			})
			c := ctClient(t, srv.URL, WithMaxRetryAfter(tt.maxRetryAfter))

			// The deadline makes a client that ignores MaxRetryAfter fail
			// fast instead of hanging in the Retry-After wait.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			err := rtCall(ctx, c, tt.method)
			assert.Less(t, time.Since(start), 2*time.Second, "returned at once")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.HTTPStatus)
			assert.GreaterOrEqual(t, apiErr.RetryAfter, tt.wantMin)
			assert.LessOrEqual(t, apiErr.RetryAfter, tt.wantMax)
			assert.Equal(t, 1, srv.seen(tt.method), "not retried")
		})
	}
}

func TestRetry_ContextEndedDuringBackoffReturnsPromptly(t *testing.T) {
	type ending struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}
	endings := []ending{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	failures := map[string]int{http.MethodGet: 503, http.MethodPost: 429}
	for _, method := range rtMethods {
		for _, e := range endings {
			t.Run(fmt.Sprintf("%s %d %s", method, failures[method], e.name), func(t *testing.T) {
				srv := newRTServer(t, rtStatus(t, failures[method]))
				c := ctClient(t, srv.URL, WithRetryBackoff(10*time.Second, 10*time.Second))
				ctx, cancel := e.ctx()
				defer cancel()

				start := time.Now()
				err := rtCall(ctx, c, method)
				elapsed := time.Since(start)
				require.ErrorIs(t, err, e.want)
				assert.Less(t, elapsed, 2*time.Second)
				assert.Equal(t, 1, srv.seen(method))
			})
		}
	}
}

func TestRetry_ContextCancelledDuringARequestIsNotRetried(t *testing.T) {
	for _, method := range rtMethods {
		t.Run(method, func(t *testing.T) {
			srv := newRTServer(t, rtHang)
			c := ctClient(t, srv.URL, WithMaxRetries(5))
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)

			start := time.Now()
			err := rtCall(ctx, c, method)
			require.ErrorIs(t, err, context.Canceled)
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.Equal(t, 1, srv.seen(method))
		})
	}
}

func TestRetry_ZeroMaxRetriesSendsOnce(t *testing.T) {
	srv := newRTServer(t, rtStatus(t, 429))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	for _, method := range rtMethods {
		err := rtCall(context.Background(), c, method)
		require.ErrorIs(t, err, ErrRateLimited)
		assert.Equal(t, 1, srv.seen(method), method)
	}
}

// --- the same promises through an httpmock transport ---------------------

const rtMockBulkURL = DefaultBaseURL + ctBulkPath

func rtMockClient(t *testing.T, maxRetries int) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	c, err := NewClient(
		WithCredentials(ctAccountSID, ctAuthToken),
		WithHTTPClient(&http.Client{Transport: mock}),
		WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
		WithMaxRetries(maxRetries),
	)
	require.NoError(t, err)
	return c, mock
}

func TestRetry_WithHTTPMockTransport(t *testing.T) {
	getKey := "GET " + rtMockBulkURL + "/" + ctBulkSID
	postKey := "POST " + rtMockBulkURL
	unavailable := `{"code":20503,"message":"Service Unavailable","status":503}`

	t.Run("POST 500 is sent once", func(t *testing.T) {
		c, mock := rtMockClient(t, 3)
		mock.RegisterResponder(http.MethodPost, rtMockBulkURL, httpmock.NewStringResponder(500, `{"code":20500,"message":"Internal Server Error","status":500}`))
		_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
		require.ErrorIs(t, err, ErrServer)
		assert.Equal(t, 1, mock.GetCallCountInfo()[postKey])
		assert.Equal(t, 1, mock.GetTotalCallCount())
	})
	t.Run("GET 503, 503, 200 succeeds on the third call", func(t *testing.T) {
		c, mock := rtMockClient(t, 3)
		mock.RegisterResponder(http.MethodGet, rtMockBulkURL+"/"+ctBulkSID,
			httpmock.NewStringResponder(503, unavailable).
				Then(httpmock.NewStringResponder(503, unavailable)).
				Then(httpmock.NewBytesResponder(200, ctFixture(t, "fetch_200.json"))))
		order, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
		require.NoError(t, err)
		assert.Equal(t, ctBulkSID, order.BulkHostingSID)
		assert.Equal(t, 3, mock.GetCallCountInfo()[getKey])
	})
	t.Run("GET with a responder sequence", func(t *testing.T) {
		c, mock := rtMockClient(t, 3)
		mock.RegisterResponder(http.MethodGet, rtMockBulkURL+"/"+ctBulkSID, httpmock.ResponderFromMultipleResponses([]*http.Response{
			httpmock.NewStringResponse(503, unavailable),
			httpmock.NewBytesResponse(502, ctFixture(t, "error_502.html")),
			httpmock.NewBytesResponse(200, ctFixture(t, "fetch_200.json")),
		}, t.Log))
		_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
		require.NoError(t, err)
		assert.Equal(t, 3, mock.GetCallCountInfo()[getKey])
	})
	t.Run("POST 429 is retried until retries run out", func(t *testing.T) {
		c, mock := rtMockClient(t, 2)
		mock.RegisterResponder(http.MethodPost, rtMockBulkURL, httpmock.NewBytesResponder(429, ctFixture(t, "error_429.json")))
		_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 20429, apiErr.Code)
		assert.ErrorIs(t, err, ErrRateLimited)
		assert.Equal(t, 3, mock.GetCallCountInfo()[postKey])
	})
	t.Run("POST 429 then 202 succeeds", func(t *testing.T) {
		c, mock := rtMockClient(t, 2)
		mock.RegisterResponder(http.MethodPost, rtMockBulkURL,
			httpmock.NewBytesResponder(429, ctFixture(t, "error_429.json")).
				Then(httpmock.NewBytesResponder(202, ctFixture(t, "create_202.json"))))
		order, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, RequestStatusQueued, order.RequestStatus)
		assert.Equal(t, 2, mock.GetCallCountInfo()[postKey])
	})
	t.Run("GET 404 is sent once", func(t *testing.T) {
		c, mock := rtMockClient(t, 3)
		mock.RegisterResponder(http.MethodGet, rtMockBulkURL+"/"+ctBulkSID, httpmock.NewBytesResponder(404, ctFixture(t, "error_404.json")))
		_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
		require.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, 1, mock.GetCallCountInfo()[getKey])
	})
	t.Run("a transport error is retried for GET only", func(t *testing.T) {
		c, mock := rtMockClient(t, 2)
		boom := errors.New("connection reset by a mock")
		mock.RegisterResponder(http.MethodGet, rtMockBulkURL+"/"+ctBulkSID, httpmock.NewErrorResponder(boom))
		mock.RegisterResponder(http.MethodPost, rtMockBulkURL, httpmock.NewErrorResponder(boom))
		_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
		require.ErrorIs(t, err, boom)
		_, err = c.BulkHostedNumberOrders.Create(context.Background(), nil)
		require.ErrorIs(t, err, boom)
		assert.Equal(t, 3, mock.GetCallCountInfo()[getKey])
		assert.Equal(t, 1, mock.GetCallCountInfo()[postKey])
	})
	t.Run("a dial failure is retried for POST too", func(t *testing.T) {
		c, mock := rtMockClient(t, 2)
		refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		mock.RegisterResponder(http.MethodPost, rtMockBulkURL, httpmock.NewErrorResponder(refused))
		_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Equal(t, 3, mock.GetCallCountInfo()[postKey])
	})
	t.Run("the mock sees the credentials and the body", func(t *testing.T) {
		c, mock := rtMockClient(t, 0)
		var auth string
		var body []byte
		mock.RegisterResponder(http.MethodPost, rtMockBulkURL, func(r *http.Request) (*http.Response, error) {
			auth = r.Header.Get("Authorization")
			body, _ = io.ReadAll(r.Body)
			return httpmock.NewBytesResponse(202, ctFixture(t, "create_202.json")), nil
		})
		_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, "Basic "+ctBasicAuth(ctAccountSID, ctAuthToken), auth)
		assert.Equal(t, "{}", string(bytes.TrimSpace(body)))
	})
}

// A 202 that arrives just as the caller's context ends must not be turned
// into a bare context error: the numbers were accepted, and a caller told
// "context canceled" would reasonably submit them again.
func TestCreate_AcceptedResponseIsNotDiscardedWhenTheContextEndsAsItArrives(t *testing.T) {
	created := ctFixture(t, "create_202.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		cancel() // the context ends after the server answered
		return &http.Response{
			StatusCode: http.StatusAccepted,
			Header:     http.Header{"Content-Type": {"application/json"}, "Twilio-Request-Id": {ctRequestID}},
			Body:       io.NopCloser(bytes.NewReader(created)),
			Request:    r,
		}, nil
	})
	c := ctClient(t, DefaultBaseURL, WithHTTPClient(&http.Client{Transport: rt}))

	order, err := c.BulkHostedNumberOrders.Create(ctx, nil)
	assert.Equal(t, int32(1), calls.Load())
	var de *DecodeError
	switch {
	case err == nil:
		assert.Equal(t, ctBulkSID, order.BulkHostingSID)
	case errors.As(err, &de):
		assert.True(t, de.Accepted(), "%v", err)
	default:
		t.Errorf("the 202 was discarded: %v", err)
	}
}

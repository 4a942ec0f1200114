package hostednumbers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawServer is a loopback HTTP/1 server written on the bare connection, so
// that it can answer in ways net/http's server never would. It counts the
// requests it read, per method; answer gets each request with its index
// on the connection (0 for the first) and writes whatever it likes, or
// returns false to close the connection without a word.
type rawServer struct {
	URL   string
	posts atomic.Int32
	gets  atomic.Int32
}

func newRawServer(t *testing.T, answer func(conn net.Conn, req *http.Request, n int) bool) *rawServer {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{URL: "http://" + ln.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open[conn] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(open, conn)
					mu.Unlock()
					_ = conn.Close()
				}()
				_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
				r := bufio.NewReader(conn)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if req.Method == http.MethodPost {
						s.posts.Add(1)
					} else {
						s.gets.Add(1)
					}
					if !answer(conn, req, n) {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *rawServer) requests() int { return int(s.posts.Load() + s.gets.Load()) }

func hostileCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// exactlyOneOutcome asserts that err matches exactly one of the create
// outcomes, the one wanted.
func exactlyOneOutcome(t *testing.T, err error, want error) {
	t.Helper()
	require.Error(t, err)
	isNot, isUnknown := errors.Is(err, ErrNotApplied), errors.Is(err, ErrOutcomeUnknown)
	assert.NotEqual(t, isNot, isUnknown, "exactly one outcome: %v", err)
	assert.ErrorIs(t, err, want)
}

// refusedStreamWords are what net/http's HTTP/2 transport writes for a
// refused stream; a server can put the same words anywhere net/http quotes.
const refusedStreamWords = "stream error: stream ID 1; REFUSED_STREAM; x"

// TestCreate_ServerWordedRefusedStreamIsNotEvidence_HTTP1: a malformed
// Content-Length whose value reads like a refused HTTP/2 stream. net/http
// quotes the value in its error; the create must not be resent (it was
// retried up to 4 times and called not created when the policy read the
// text).
func TestCreate_ServerWordedRefusedStreamIsNotEvidence_HTTP1(t *testing.T) {
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ int) bool {
		fmt.Fprintf(conn, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n{}", refusedStreamWords)
		return false
	})
	c := ctClient(t, srv.URL, WithMaxRetries(3))
	ctx := hostileCtx(t, 10*time.Second)

	_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
	exactlyOneOutcome(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "REFUSED_STREAM", "the words did reach the error")
	assert.Equal(t, int32(1), srv.posts.Load(), "creates the server read")

	// A fetch is idempotent: retried within its budget, no more.
	_, err = c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
	require.Error(t, err)
	assert.Equal(t, int32(4), srv.gets.Load(), "WithMaxRetries(3) allows four sends")
}

// TestCreate_ServerWordedRefusedStreamIsNotEvidence_HTTP2: a GOAWAY that
// covers the stream, with an error code and debug data reading like a
// refused stream, then the connection closes. net/http quotes the debug
// data in the stream's error.
func TestCreate_ServerWordedRefusedStreamIsNotEvidence_HTTP2(t *testing.T) {
	for _, transport := range h2Transports {
		t.Run(transport, func(t *testing.T) {
			srv := newH2Server(t, h2Action{goAway: true, lastStream: 1, reset: h2CodeInternal, debug: refusedStreamWords, closeAfter: true})
			c := h2Client(t, srv, transport, WithMaxRetries(3))
			ctx := hostileCtx(t, 10*time.Second)

			_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			exactlyOneOutcome(t, err, ErrOutcomeUnknown)
			assert.Contains(t, err.Error(), "REFUSED_STREAM", "the debug data did reach the error")
			assert.Equal(t, int64(1), srv.streams.Load(), "request streams the server saw")
			assert.NoError(t, ctx.Err())
		})
	}
}

// hooklessTransport runs each request under a context of its own, as some
// wrappers (and an HTTP/3 RoundTripper) do: net/http's trace hooks on the
// SDK's context never fire. It reads the body itself and sends a copy.
type hooklessTransport struct {
	inner http.RoundTripper
	// after, if set, replaces the outcome of a send that was made.
	after func(resp *http.Response, err error) (*http.Response, error)
}

func (h *hooklessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	out := req.Clone(context.Background())
	out.Body, out.GetBody = io.NopCloser(bytes.NewReader(body)), nil
	out.ContentLength = int64(len(body))
	resp, err := h.inner.RoundTrip(out)
	if h.after != nil {
		return h.after(resp, err)
	}
	return resp, err
}

// TestCreate_ATransportWithoutTraceHooksThatLosesTheAnswerIsOutcomeUnknown:
// "no write seen" is not "not written". The wrapper sends the create and
// loses the answer; the SDK saw no hook fire, yet the create may exist.
func TestCreate_ATransportWithoutTraceHooksThatLosesTheAnswerIsOutcomeUnknown(t *testing.T) {
	t.Run("connection dropped after the request", func(t *testing.T) {
		srv := newRawServer(t, func(net.Conn, *http.Request, int) bool { return false })
		inner := &http.Transport{}
		t.Cleanup(inner.CloseIdleConnections)
		c := ctClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: &hooklessTransport{inner: inner}}), WithMaxRetries(3))
		_, err := c.BulkHostedNumberOrders.Create(hostileCtx(t, 10*time.Second), nil)
		exactlyOneOutcome(t, err, ErrOutcomeUnknown)
		assert.Equal(t, int32(1), srv.posts.Load())
	})
	t.Run("sent, then a typed dial error from a resend", func(t *testing.T) {
		srv := newRawServer(t, func(net.Conn, *http.Request, int) bool { return false })
		inner := &http.Transport{}
		t.Cleanup(inner.CloseIdleConnections)
		dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		ht := &hooklessTransport{inner: inner, after: func(resp *http.Response, _ error) (*http.Response, error) {
			if resp != nil {
				_ = resp.Body.Close()
			}
			return nil, dialErr
		}}
		c := ctClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: ht}), WithMaxRetries(3))
		_, err := c.BulkHostedNumberOrders.Create(hostileCtx(t, 10*time.Second), nil)
		exactlyOneOutcome(t, err, ErrOutcomeUnknown)
		assert.Equal(t, int32(1), srv.posts.Load(), "the body was read: no resend on a dial error")
	})
	t.Run("a typed dial error before the body was read is not created", func(t *testing.T) {
		dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		var sends atomic.Int32
		rt := roundTripFunc(func(*http.Request) (*http.Response, error) { sends.Add(1); return nil, dialErr })
		c := ctClient(t, "http://127.0.0.1:1", WithHTTPClient(&http.Client{Transport: rt}), WithMaxRetries(2))
		_, err := c.BulkHostedNumberOrders.Create(hostileCtx(t, 10*time.Second), nil)
		exactlyOneOutcome(t, err, ErrNotApplied)
		assert.Equal(t, int32(3), sends.Load(), "evidence that nothing left: retried")
	})
	t.Run("a success still works", func(t *testing.T) {
		created := ctFixture(t, "create_202.json")
		srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ int) bool {
			fmt.Fprintf(conn, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(created), created)
			return true
		})
		inner := &http.Transport{}
		t.Cleanup(inner.CloseIdleConnections)
		c := ctClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: &hooklessTransport{inner: inner}}))
		order, err := c.BulkHostedNumberOrders.Create(hostileCtx(t, 10*time.Second), nil)
		require.NoError(t, err)
		assert.Equal(t, 1, order.LastResponse.Attempts)
	})
}

// sideRequestTransport fetches a "token" with the request's own context
// before it forwards the request, as an auth middleware does.
type sideRequestTransport struct {
	inner    http.RoundTripper
	tokenURL string
	sides    atomic.Int32
}

func (s *sideRequestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	side, err := http.NewRequestWithContext(req.Context(), http.MethodGet, s.tokenURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.inner.RoundTrip(side)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	s.sides.Add(1)
	return s.inner.RoundTrip(req)
}

// TestResendGuard_ASideRequestOnTheRequestContextIsNotAResend: the guard
// counts the attempt's own request only. A transport that makes a side
// request with the request's context before forwarding it works, for a
// create and a fetch, on HTTP/1 and HTTP/2, on new and reused connections.
func TestResendGuard_ASideRequestOnTheRequestContextIsNotAResend(t *testing.T) {
	created, fetched := ctFixture(t, "create_202.json"), ctFixture(t, "fetch_200.json")
	t.Run("HTTP/1", func(t *testing.T) {
		srv := newRawServer(t, func(conn net.Conn, req *http.Request, _ int) bool {
			body := fetched
			status := "200 OK"
			switch {
			case req.URL.Path == "/token":
				body = []byte(`{"token":"t"}`)
			case req.Method == http.MethodPost:
				body, status = created, "202 Accepted"
			}
			fmt.Fprintf(conn, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", status, len(body), body)
			return true
		})
		inner := &http.Transport{}
		t.Cleanup(inner.CloseIdleConnections)
		st := &sideRequestTransport{inner: inner, tokenURL: srv.URL + "/token"}
		c := ctClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: st}))
		ctx := hostileCtx(t, 10*time.Second)
		for i := 1; i <= 3; i++ {
			order, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			require.NoError(t, err, "create %d", i)
			assert.Equal(t, 1, order.LastResponse.Attempts)
			_, err = c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
			require.NoError(t, err, "fetch %d", i)
		}
		assert.Equal(t, int32(3), srv.posts.Load(), "one create per call")
		assert.Equal(t, int32(6), st.sides.Load())
	})
	t.Run("HTTP/2", func(t *testing.T) {
		srv := newH2Server(t, h2Action{status: "202", body: string(created)})
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.roots}, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		st := &sideRequestTransport{inner: tr, tokenURL: srv.URL + "/token"}
		c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(srv.URL),
			WithHTTPClient(&http.Client{Transport: st}), WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
		require.NoError(t, err)
		ctx := hostileCtx(t, 10*time.Second)
		for i := 1; i <= 3; i++ {
			order, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			require.NoError(t, err, "create %d", i)
			assert.Equal(t, 1, order.LastResponse.Attempts)
		}
		assert.Equal(t, int64(6), srv.streams.Load(), "three side requests and three creates")
	})
}

// bufferingResender is a user's retry middleware: it reads the body once,
// then sends copies until one gets an answer, with the request's context
// (so net/http's trace hooks fire for every copy).
type bufferingResender struct {
	inner http.RoundTripper
	tries int
}

func (b *bufferingResender) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
	}
	var lastErr error
	for try := 0; try < b.tries; try++ {
		out := req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
		resp, err := b.inner.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// dropReused answers the first request on each connection with a 503 and
// drops every later one after reading it: the reused-connection race that
// makes net/http replay a request.
func dropReused(conn net.Conn, _ *http.Request, n int) bool {
	if n > 0 {
		return false
	}
	body := `{"code":20503,"message":"busy","status":503}`
	fmt.Fprintf(conn, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return true
}

// TestResendGuard_HTTP1StaysWithinTheBudgetEveryRound loops enough rounds
// to see a race of a few percent: a fetch on reused connections that drop
// sends at most WithMaxRetries+1 times (net/http replays such a GET by
// itself when it may), a create through a buffering resender exactly once.
func TestResendGuard_HTTP1StaysWithinTheBudgetEveryRound(t *testing.T) {
	const rounds = 200
	ctx := hostileCtx(t, 60*time.Second)

	t.Run("fetch on reused connections that drop", func(t *testing.T) {
		srv := newRawServer(t, dropReused)
		c := ctClient(t, srv.URL, WithMaxRetries(3), WithRetryBackoff(0, 0))
		t.Cleanup(c.CloseIdleConnections)
		for round := 0; round < rounds && ctx.Err() == nil; round++ {
			before := srv.gets.Load()
			_, err := c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
			require.Error(t, err)
			sent := srv.gets.Load() - before
			require.LessOrEqual(t, sent, int32(4), "round %d: WithMaxRetries(3) allows four sends", round)
		}
		require.NoError(t, ctx.Err(), "the rounds ended in time")
	})
	for _, method := range rtMethods {
		t.Run("buffering resender/"+method, func(t *testing.T) {
			srv := newRawServer(t, func(net.Conn, *http.Request, int) bool { return false })
			inner := &http.Transport{}
			t.Cleanup(inner.CloseIdleConnections)
			c := ctClient(t, srv.URL, WithMaxRetries(3), WithRetryBackoff(0, 0),
				WithHTTPClient(&http.Client{Transport: &bufferingResender{inner: inner, tries: 3}}))
			for round := 0; round < rounds && ctx.Err() == nil; round++ {
				before := srv.requests()
				err := rtCall(ctx, c, method)
				require.Error(t, err)
				sent := srv.requests() - before
				if method == http.MethodPost {
					require.Equal(t, 1, sent, "round %d: a create leaves once", round)
					exactlyOneOutcome(t, err, ErrOutcomeUnknown)
				} else {
					require.LessOrEqual(t, sent, 4, "round %d: one send per attempt", round)
				}
			}
			require.NoError(t, ctx.Err(), "the rounds ended in time")
		})
	}
}

// TestResendGuard_HTTP2BufferingResenderSendsOnce: the same middleware
// over HTTP/2, where the stream is reset after the request arrived.
func TestResendGuard_HTTP2BufferingResenderSendsOnce(t *testing.T) {
	srv := newH2Server(t, h2Action{reset: h2CodeInternal})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.roots}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(srv.URL), WithMaxRetries(2),
		WithHTTPClient(&http.Client{Transport: &bufferingResender{inner: tr, tries: 3}}), WithRetryBackoff(0, 0))
	require.NoError(t, err)
	ctx := hostileCtx(t, 30*time.Second)
	for round := 0; round < 50; round++ {
		before := srv.streams.Load()
		_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
		exactlyOneOutcome(t, err, ErrOutcomeUnknown)
		require.Equal(t, int64(1), srv.streams.Load()-before, "round %d", round)
		before = srv.streams.Load()
		_, err = c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
		require.Error(t, err)
		require.LessOrEqual(t, srv.streams.Load()-before, int64(3), "round %d: WithMaxRetries(2)", round)
	}
}

// TestRoundTripper_AnyResultIsSafe: a transport that breaks the
// RoundTripper contract gets a typed error, never a panic, and its
// response body, if any, is closed.
func TestRoundTripper_AnyResultIsSafe(t *testing.T) {
	newBody := func(closed *atomic.Int32, s string) io.ReadCloser {
		return struct {
			io.Reader
			io.Closer
		}{strings.NewReader(s), closerFunc(func() error { closed.Add(1); return nil })}
	}
	cases := []struct {
		name       string
		rt         func(closed *atomic.Int32) roundTripFunc
		wantCreate error
		closes     int32
	}{
		{"nil response, nil error", func(*atomic.Int32) roundTripFunc {
			return func(*http.Request) (*http.Response, error) { return nil, nil }
		}, ErrOutcomeUnknown, 0},
		{"response with a nil body", func(*atomic.Int32) roundTripFunc {
			return func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{}}, nil
			}
		}, ErrOutcomeUnknown, 0},
		{"429 with a nil body", func(*atomic.Int32) roundTripFunc {
			return func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}, nil
			}
		}, ErrNotApplied, 0},
		{"error with a response", func(closed *atomic.Int32) roundTripFunc {
			return func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{}, Body: newBody(closed, "{}")}, errors.New("broken")
			}
		}, ErrOutcomeUnknown, 1},
		{"error with a response without a body", func(*atomic.Int32) roundTripFunc {
			return func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusAccepted}, errors.New("broken")
			}
		}, ErrOutcomeUnknown, 0},
		{"response with a nil header", func(closed *atomic.Int32) roundTripFunc {
			return func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusAccepted, Body: newBody(closed, "{}")}, nil
			}
		}, ErrOutcomeUnknown, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var closed atomic.Int32
			c := ctClient(t, "http://127.0.0.1:1", WithHTTPClient(&http.Client{Transport: tc.rt(&closed)}), WithMaxRetries(0))
			ctx := hostileCtx(t, 10*time.Second)
			require.NotPanics(t, func() {
				_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
				exactlyOneOutcome(t, err, tc.wantCreate)
				_, err = c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrNotApplied)
			})
			assert.Equal(t, 2*tc.closes, closed.Load(), "response bodies closed")
		})
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// TestOnceBody_ReadPathGuardsTheRewind: a transport that reads the body
// with plain Read calls (no WriteTo) and then asks for a fresh copy is
// refused; before any read it gets one, itself guarded.
func TestOnceBody_ReadPathGuardsTheRewind(t *testing.T) {
	var rewound, refused atomic.Int32
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		fresh, err := req.GetBody() // nothing read yet: allowed
		if err != nil {
			return nil, err
		}
		_ = fresh.Close()
		rewound.Add(1)
		buf := make([]byte, 7)
		for {
			if _, err := req.Body.Read(buf); err != nil {
				break
			}
		}
		if _, err := req.GetBody(); errors.Is(err, errResendRefused) {
			refused.Add(1)
		}
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset")}
	})
	c := ctClient(t, "http://127.0.0.1:1", WithHTTPClient(&http.Client{Transport: rt}), WithMaxRetries(0))
	_, err := c.BulkHostedNumberOrders.Create(hostileCtx(t, 10*time.Second), nil)
	exactlyOneOutcome(t, err, ErrOutcomeUnknown)
	assert.Equal(t, int32(1), rewound.Load())
	assert.Equal(t, int32(1), refused.Load(), "a body read with Read cannot be rewound")
}

// TestAttemptTimeout_CoversTheBody: a server that sends the headers and
// then stalls mid-body must not hang the call: the per-attempt limit ends
// it with ErrAttemptTimeout, long before the caller's deadline.
func TestAttemptTimeout_CoversTheBody(t *testing.T) {
	release := make(chan struct{})
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ int) bool {
		fmt.Fprintf(conn, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"sid\":")
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return false
	})
	t.Cleanup(func() { close(release) }) // runs before the server's cleanup
	c := ctClient(t, srv.URL, WithTimeout(150*time.Millisecond), WithMaxRetries(0))
	ctx := hostileCtx(t, 5*time.Second)
	_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
	exactlyOneOutcome(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, ErrAttemptTimeout)
	assert.NoError(t, ctx.Err(), "the attempt limit ended the call, not the caller's deadline")
	_, err = c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
	assert.ErrorIs(t, err, ErrAttemptTimeout)
	assert.NoError(t, ctx.Err())
}

// countingTransport counts the response body bytes the transport handed
// to the SDK.
type countingTransport struct {
	inner http.RoundTripper
	read  atomic.Int64
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.RoundTrip(req)
	if resp != nil {
		resp.Body = countingBody{resp.Body, &c.read}
	}
	return resp, err
}

// TestMaxResponseBytes_EnforcedWhileReading: an endless body is read up to
// the cap and one byte more, never further, whatever its declared length
// and compression.
func TestMaxResponseBytes_EnforcedWhileReading(t *testing.T) {
	const limit = 64 << 10
	for _, tc := range []struct {
		name   string
		header string
	}{
		{"unknown length", "Transfer-Encoding: chunked\r\n"},
		{"declared length far above the cap", fmt.Sprintf("Content-Length: %d\r\n", 1<<30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wrote atomic.Int64
			srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ int) bool {
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s\r\n", tc.header)
				chunk := bytes.Repeat([]byte("a"), 32<<10)
				chunked := strings.Contains(tc.header, "chunked")
				for i := 0; i < 4096; i++ { // up to 128 MiB, 2048 times the cap
					var err error
					if chunked {
						_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
					} else {
						_, err = conn.Write(chunk)
					}
					if err != nil {
						return false
					}
					wrote.Add(int64(len(chunk)))
				}
				return false
			})
			ct := &countingTransport{inner: &http.Transport{}}
			c := ctClient(t, srv.URL, WithMaxResponseBytes(limit), WithMaxRetries(0), WithHTTPClient(&http.Client{Transport: ct}))
			_, err := c.BulkHostedNumberOrders.Fetch(hostileCtx(t, 20*time.Second), ctBulkSID, nil)
			require.ErrorIs(t, err, ErrResponseTooLarge)
			assert.LessOrEqual(t, ct.read.Load(), int64(limit+1), "body bytes read")
			assert.Greater(t, ct.read.Load(), int64(limit), "the cap was reached")
		})
	}
}

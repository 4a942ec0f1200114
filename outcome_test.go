package hostednumbers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// h2Client returns a client of srv whose transport trusts srv's
// certificate. transport "default" is the SDK's own transport (only its
// roots changed); "user" is an HTTP/2 transport the caller passes in with
// WithHTTPClient.
func h2Client(t *testing.T, srv *h2Server, transport string, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(srv.URL), WithRetryBackoff(time.Millisecond, 2*time.Millisecond)}
	if transport == "user" {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.roots}}
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP2(true)
		base = append(base, WithHTTPClient(&http.Client{Transport: tr}))
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	if transport == "default" {
		tr, ok := c.transport.(*http.Transport)
		require.True(t, ok)
		require.True(t, tr.ForceAttemptHTTP2, "the default transport offers HTTP/2")
		tr.TLSClientConfig = &tls.Config{RootCAs: srv.roots}
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

var h2Transports = []string{"default", "user"}

var h2ResetCodes = []struct {
	name string
	code uint32
}{
	{"PROTOCOL_ERROR", h2CodeProtocol},
	{"INTERNAL_ERROR", h2CodeInternal},
	{"FLOW_CONTROL_ERROR", h2CodeFlowControl},
	{"STREAM_CLOSED", h2CodeStreamClosed},
	{"CANCEL", h2CodeCancel},
	{"ENHANCE_YOUR_CALM", h2CodeEnhanceCalm},
	{"REFUSED_STREAM", h2CodeRefusedStream},
}

// TestCreate_HTTP2NeverResendsAPostBelowThePolicy resets every create
// stream after the whole request arrived, with each error code, and counts
// the request streams the server saw. net/http's HTTP/2 transport resends
// such a POST by itself (thousands of times for PROTOCOL_ERROR); the SDK
// must let it leave the process once.
func TestCreate_HTTP2NeverResendsAPostBelowThePolicy(t *testing.T) {
	for _, transport := range h2Transports {
		for _, rc := range h2ResetCodes {
			t.Run(transport+"/"+rc.name, func(t *testing.T) {
				srv := newH2Server(t, h2Action{reset: rc.code})
				c := h2Client(t, srv, transport)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()

				order, err := c.BulkHostedNumberOrders.Create(ctx, nil)
				require.Error(t, err)
				assert.Nil(t, order)
				assert.Equal(t, int64(1), srv.streams.Load(), "request streams the server saw")
				assert.NoError(t, ctx.Err(), "the call ended by itself, not at the deadline")
				// The transport's resend was refused, so the SDK cannot
				// tell a REFUSED_STREAM from the others: outcome unknown
				// for all, the answer that never hosts a number twice.
				assert.ErrorIs(t, err, ErrOutcomeUnknown)
				assert.NotErrorIs(t, err, ErrNotApplied)
				assert.NotContains(t, err.Error(), ctAuthToken)
			})
		}
	}
}

func TestCreate_HTTP2GoAwayAfterTheStreamIsNotResent(t *testing.T) {
	for _, transport := range h2Transports {
		t.Run(transport, func(t *testing.T) {
			srv := newH2Server(t, h2Action{goAway: true, lastStream: 0})
			c := h2Client(t, srv, transport)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			require.Error(t, err)
			assert.Equal(t, int64(1), srv.streams.Load(), "request streams the server saw")
			assert.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.NoError(t, ctx.Err())
		})
	}
}

// TestFetch_HTTP2ResendsStayWithinTheRetryBudget: a GET may be resent, but
// by the SDK's policy only, so one call sends at most MaxRetries+1 times
// however long its context allows.
func TestFetch_HTTP2ResendsStayWithinTheRetryBudget(t *testing.T) {
	for _, transport := range h2Transports {
		for _, rc := range []struct {
			name string
			code uint32
		}{{"PROTOCOL_ERROR", h2CodeProtocol}, {"REFUSED_STREAM", h2CodeRefusedStream}, {"INTERNAL_ERROR", h2CodeInternal}} {
			t.Run(transport+"/"+rc.name, func(t *testing.T) {
				srv := newH2Server(t, h2Action{reset: rc.code})
				c := h2Client(t, srv, transport, WithMaxRetries(2))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()

				_, err := c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
				require.Error(t, err)
				assert.Equal(t, int64(3), srv.streams.Load(), "MaxRetries(2) allows three sends")
				assert.NoError(t, ctx.Err())
			})
		}
	}
}

// TestHTTP2_SuccessIsOneStreamWithMetadata shows the resend guard does not
// get in the way of a normal exchange, and that metadata arrives.
func TestHTTP2_SuccessIsOneStreamWithMetadata(t *testing.T) {
	for _, transport := range h2Transports {
		t.Run(transport, func(t *testing.T) {
			srv := newH2Server(t, h2Action{status: "202", body: string(ctFixture(t, "create_202.json"))})
			c := h2Client(t, srv, transport)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for i := 1; i <= 3; i++ {
				order, err := c.BulkHostedNumberOrders.Create(ctx, nil)
				require.NoError(t, err)
				require.NotNil(t, order.LastResponse)
				assert.Equal(t, http.StatusAccepted, order.LastResponse.StatusCode)
				assert.Equal(t, 1, order.LastResponse.Attempts)
				assert.Equal(t, int64(i), srv.streams.Load())
			}
			assert.Equal(t, int64(1), srv.conns.Load(), "one HTTP/2 connection carried every request")
		})
	}
}

// TestHTTP1_ResetAfterTheBodyIsNotResent: an HTTP/1 connection that was
// reused and then dropped after the request arrived; net/http would resend
// a replayable request on a reused connection, the SDK must not.
func TestHTTP1_ReusedConnectionDroppedAfterTheRequestIsNotResent(t *testing.T) {
	created := ctFixture(t, "create_202.json")
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var requests atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer func() { _ = conn.Close() }()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(conn)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					requests.Add(1)
					if n > 0 { // the second request on the connection: drop it
						return
					}
					fmt.Fprintf(conn, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(created), created)
				}
			}(conn)
		}
	}()
	c := ctClient(t, "http://"+ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err = c.BulkHostedNumberOrders.Create(ctx, nil)
	require.NoError(t, err)
	_, err = c.BulkHostedNumberOrders.Create(ctx, nil)
	require.Error(t, err)
	assert.Equal(t, int32(2), requests.Load(), "the second create arrived once")
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
}

// TestCreate_EveryErrorSaysWhetherTheOrderMayExist drives every fault the
// SDK can meet and checks the classification: each error matches exactly
// one of ErrNotApplied and ErrOutcomeUnknown.
func TestCreate_EveryErrorSaysWhetherTheOrderMayExist(t *testing.T) {
	type result struct{ notCreated bool }
	notCreated, unknown := result{true}, result{false}
	created := ctFixture(t, "create_202.json")
	tests := []struct {
		name   string
		call   func(t *testing.T) error
		want   result
		extraf func(t *testing.T, err error)
	}{
		{"invalid params", func(t *testing.T) error {
			c := ctClient(t, ctClosedPortURL(t))
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), &CreateBulkHostedNumberOrderParams{NotificationEmail: "not an address"})
			return err
		}, notCreated, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrInvalidInput) }},
		{"nil context", func(t *testing.T) error {
			c := ctClient(t, ctClosedPortURL(t))
			_, err := c.BulkHostedNumberOrders.Create(nil, nil) //nolint:staticcheck // a nil context is the case under test
			return err
		}, notCreated, nil},
		{"context done before sending", func(t *testing.T) error {
			srv := newRTServer(t, rtStatus(t, 202))
			c := ctClient(t, srv.URL)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			assert.Equal(t, 0, srv.seen(http.MethodPost))
			return err
		}, notCreated, func(t *testing.T, err error) { assert.ErrorIs(t, err, context.Canceled) }},
		{"connection refused", func(t *testing.T) error {
			c := ctClient(t, ctClosedPortURL(t), WithMaxRetries(1))
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, notCreated, nil},
		{"DNS failure", func(t *testing.T) error {
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "numbers.example.invalid", IsNotFound: true}}
			}}
			c := ctClient(t, "http://localhost:1", WithHTTPClient(&http.Client{Transport: tr}), WithMaxRetries(0))
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, notCreated, nil},
		{"TLS handshake failure", func(t *testing.T) error {
			srv := newH2Server(t, h2Action{status: "202", body: string(created)})
			c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(srv.URL))
			require.NoError(t, err) // the SDK's transport does not trust the test certificate
			_, err = c.BulkHostedNumberOrders.Create(context.Background(), nil)
			assert.Equal(t, int64(0), srv.streams.Load())
			return err
		}, notCreated, nil},
		{"429 after every retry", func(t *testing.T) error {
			srv := newRTServer(t, rtStatus(t, 429))
			c := ctClient(t, srv.URL, WithMaxRetries(1))
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			assert.Equal(t, 2, srv.seen(http.MethodPost))
			return err
		}, notCreated, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrRateLimited) }},
		{"429 then the context ends during the backoff", func(t *testing.T) error {
			srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "2")
				rtStatus(t, 429)(w, r)
			})
			c := ctClient(t, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			return err
		}, notCreated, nil},
		{"400", func(t *testing.T) error {
			srv := newRTServer(t, rtStatus(t, 400))
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, notCreated, nil},
		{"401", func(t *testing.T) error {
			srv := newRTServer(t, rtStatus(t, 401))
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, notCreated, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrUnauthorized) }},
		{"500", func(t *testing.T) error {
			srv := newRTServer(t, rtStatus(t, 500))
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			assert.Equal(t, 1, srv.seen(http.MethodPost))
			return err
		}, unknown, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrServer) }},
		{"502 HTML from a proxy", func(t *testing.T) error {
			srv := newRTServer(t, rtStatus(t, 502))
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, unknown, nil},
		{"503", func(t *testing.T) error {
			srv := newRTServer(t, rtStatus(t, 503))
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, unknown, nil},
		{"connection closed after the body arrived", func(t *testing.T) error {
			srv := newRTServer(t, rtDrop(false))
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			assert.Equal(t, 1, srv.seen(http.MethodPost))
			return err
		}, unknown, nil},
		{"connection reset after the body arrived", func(t *testing.T) error {
			srv := newRTServer(t, rtDrop(true))
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			assert.Equal(t, 1, srv.seen(http.MethodPost))
			return err
		}, unknown, nil},
		{"per-attempt timeout while waiting for the answer", func(t *testing.T) error {
			srv := newRTServer(t, rtHang)
			c := ctClient(t, srv.URL, WithTimeout(100*time.Millisecond))
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			assert.Equal(t, 1, srv.seen(http.MethodPost))
			return err
		}, unknown, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrAttemptTimeout)
			assert.Contains(t, err.Error(), "attempt timed out after 100ms")
			assert.Contains(t, err.Error(), "WithTimeout")
		}},
		{"context cancelled while waiting for the answer", func(t *testing.T) error {
			srv := newRTServer(t, rtHang)
			c := ctClient(t, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			return err
		}, unknown, func(t *testing.T, err error) { assert.ErrorIs(t, err, context.DeadlineExceeded) }},
		{"202 with a body that is not JSON", func(t *testing.T) error {
			srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) { ctWrite(w, 202, []byte("<html>ok</html>")) })
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, unknown, func(t *testing.T, err error) {
			var decodeErr *DecodeError
			require.ErrorAs(t, err, &decodeErr)
			assert.True(t, decodeErr.Accepted())
		}},
		{"202 cut short", func(t *testing.T) error {
			srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "4000")
				w.WriteHeader(202)
				_, _ = w.Write(created[:20])
			})
			c := ctClient(t, srv.URL)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, unknown, nil},
		{"HTTP/2 PROTOCOL_ERROR after the request", func(t *testing.T) error {
			srv := newH2Server(t, h2Action{reset: h2CodeProtocol})
			_, err := h2Client(t, srv, "default").BulkHostedNumberOrders.Create(context.Background(), nil)
			return err
		}, unknown, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t)
			require.Error(t, err)
			isNot, isUnknown := errors.Is(err, ErrNotApplied), errors.Is(err, ErrOutcomeUnknown)
			assert.NotEqual(t, isNot, isUnknown, "exactly one of ErrNotApplied and ErrOutcomeUnknown: %v", err)
			assert.Equal(t, tt.want.notCreated, isNot, "ErrNotApplied for %v", err)
			assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: create bulk order"), err.Error())
			if tt.extraf != nil {
				tt.extraf(t, err)
			}
		})
	}
}

func TestFetch_ErrorsCarryNoCreateOutcome(t *testing.T) {
	srv := newRTServer(t, rtStatus(t, 503))
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNotApplied)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
}

func TestResponseMetadata_OnEverySuccess(t *testing.T) {
	var n atomic.Int32
	created, fetched := ctFixture(t, "create_202.json"), ctFixture(t, "fetch_200.json")
	srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Twilio-Concurrent-Requests", "3")
		if r.Method == http.MethodPost && n.Add(1) == 1 {
			rtStatus(t, 429)(w, r)
			return
		}
		if r.Method == http.MethodPost {
			ctWrite(w, 202, created)
			return
		}
		ctWrite(w, 200, fetched)
	})
	c := ctClient(t, srv.URL)
	order, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
	require.NoError(t, err)
	meta := order.LastResponse
	require.NotNil(t, meta)
	assert.Equal(t, 202, meta.StatusCode)
	assert.Equal(t, ctRequestID, meta.RequestID)
	assert.Equal(t, "3", meta.Header.Get("Twilio-Concurrent-Requests"))
	assert.Equal(t, 2, meta.Attempts, "one 429, then accepted")
	assert.Positive(t, meta.Elapsed)

	fetchedOrder, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)
	require.NotNil(t, fetchedOrder.LastResponse)
	assert.Equal(t, 200, fetchedOrder.LastResponse.StatusCode)
	assert.Equal(t, 1, fetchedOrder.LastResponse.Attempts)

	out, err := json.Marshal(order)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "LastResponse")
	assert.NotContains(t, string(out), ctRequestID, "metadata is not part of the order's JSON")
}

// TestEchoedCredentials_NeverReachErrorsOrLogs: some proxies echo the
// request in their error page.
func TestEchoedCredentials_NeverReachErrorsOrLogs(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte(ctAccountSID + ":" + ctAuthToken))
	bodies := map[string]func(r *http.Request) (int, string){
		"HTML page echoing the header": func(r *http.Request) (int, string) {
			return 502, "<html><body>Bad gateway. Request headers: Authorization: " + r.Header.Get("Authorization") + "</body></html>"
		},
		"JSON message with the token": func(r *http.Request) (int, string) {
			return 400, `{"code":20001,"message":"bad token ` + ctAuthToken + `","more_info":"https://x.test/?auth=` + encoded + `","status":400,"details":{"echo":"` + r.Header.Get("Authorization") + `","list":["` + ctAuthToken + `"]}}`
		},
		"unpadded and URL-safe base64": func(r *http.Request) (int, string) {
			return 400, "<p>" + strings.TrimRight(encoded, "=") + " " + base64.URLEncoding.EncodeToString([]byte(ctAccountSID+":"+ctAuthToken)) + "</p>"
		},
		"accepted with the token in the SID": func(r *http.Request) (int, string) {
			return 202, `{"bulk_hosting_sid":"` + ctAuthToken + `","request_status":"QUEUED"}`
		},
	}
	for name, answer := range bodies {
		t.Run(name, func(t *testing.T) {
			srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
				status, body := answer(r)
				ctWrite(w, status, []byte(body))
			})
			var logs bytes.Buffer
			c := ctClient(t, srv.URL, WithMaxRetries(0), WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			require.Error(t, err)
			text := fmt.Sprintf("%v %+v %#v %s", err, err, err, logs.String())
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				text += fmt.Sprintf(" %#v %v", *apiErr, apiErr.Details)
			}
			for _, secret := range []string{ctAuthToken, encoded, strings.TrimRight(encoded, "=")} {
				assert.NotContains(t, text, secret)
			}
			assert.Contains(t, text, "[redacted]")
		})
	}
}

func TestZeroValueErrorsFormatSafely(t *testing.T) {
	values := []error{
		&DecodeError{}, (*DecodeError)(nil), &APIError{}, (*APIError)(nil),
		&ValidationError{}, (*ValidationError)(nil), &outcomeError{err: errors.New("x"), outcome: ErrNotApplied},
	}
	for _, v := range values {
		assert.NotPanics(t, func() {
			_ = v.Error()
			_ = fmt.Sprintf("%v %+v %s", v, v, v)
			_ = errors.Is(v, ErrNotFound)
		}, "%T", v)
	}
	assert.Contains(t, (&DecodeError{}).Error(), "could not be decoded")
	assert.False(t, (*DecodeError)(nil).Accepted())
	assert.NoError(t, (*DecodeError)(nil).Unwrap())
	_, ok := (*ValidationError)(nil).Field("x")
	assert.False(t, ok)
	assert.Equal(t, ": ", FieldError{}.String())
}

func TestNilContext_ReturnsAnErrorEverywhere(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		ctWrite(w, http.StatusNotFound, ctFixture(t, "error_404.json"))
	}))
	t.Cleanup(srv.Close)
	c := ctClient(t, srv.URL)
	var nilCtx context.Context
	const hr, px = "HR0123456789abcdef0123456789abcdef", "PX0123456789abcdef0123456789abcdef"
	calls := map[string]func() error{
		"BulkHostedNumberOrders.Create": func() error { _, err := c.BulkHostedNumberOrders.Create(nilCtx, nil); return err },
		"BulkHostedNumberOrders.Fetch":  func() error { _, err := c.BulkHostedNumberOrders.Fetch(nilCtx, ctBulkSID, nil); return err },
		"HostedNumberOrders.List":       func() error { _, err := c.HostedNumberOrders.List(nilCtx, nil); return err },
		"HostedNumberOrders.Fetch":      func() error { _, err := c.HostedNumberOrders.Fetch(nilCtx, hr); return err },
		"HostedNumberOrders.Update": func() error {
			_, err := c.HostedNumberOrders.Update(nilCtx, hr, &UpdateHostedNumberOrderParams{Status: OrderStatusPendingVerification})
			return err
		},
		"HostedNumberOrders.Cancel":                  func() error { return c.HostedNumberOrders.Cancel(nilCtx, hr) },
		"AuthorizationDocuments.List":                func() error { _, err := c.AuthorizationDocuments.List(nilCtx, nil); return err },
		"AuthorizationDocuments.Fetch":               func() error { _, err := c.AuthorizationDocuments.Fetch(nilCtx, px); return err },
		"AuthorizationDocuments.ListDependentOrders": func() error { _, err := c.AuthorizationDocuments.ListDependentOrders(nilCtx, px, nil); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = call() })
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidInput)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			_, ok := ve.Field("ctx")
			assert.True(t, ok, "the problem names ctx: %v", err)
			if strings.Contains(name, "Create") || strings.Contains(name, "Update") || strings.Contains(name, "Cancel") {
				assert.ErrorIs(t, err, ErrNotApplied)
			}
		})
	}
	assert.NotPanics(t, func() {
		_, err := c.BulkHostedNumberOrders.Wait(nilCtx, ctBulkSID, nil)
		assert.ErrorContains(t, err, "nil context")
	})
	// do itself, under every entry point: the same error for a direct call.
	_, err := c.do(nilCtx, request{method: http.MethodPost, path: "/x"}, nil, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.ErrorIs(t, err, ErrNotApplied)
	_, err = c.do(nilCtx, request{method: http.MethodGet, path: "/x"}, nil, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.NotErrorIs(t, err, ErrNotApplied)
	assert.Zero(t, hits.Load(), "nothing was sent")
}

func TestBodyExcerpt_CutsAtACharacterBoundary(t *testing.T) {
	for pad := 195; pad <= 200; pad++ {
		body := strings.Repeat("a", pad) + strings.Repeat("€", 10)
		got := bodyExcerpt([]byte(body), nil)
		assert.True(t, utf8.ValidString(got), "pad %d: %q", pad, got)
		assert.True(t, strings.HasSuffix(got, "…"))
		assert.LessOrEqual(t, len(got), 200+len("…"))
	}
}

func TestFetch_OrderStatusCannotInjectParameters(t *testing.T) {
	var query atomic.Value
	srv := newRTServer(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Query())
		ctWrite(w, 200, ctFixture(t, "fetch_200.json"))
	})
	c := ctClient(t, srv.URL)
	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, &FetchBulkHostedNumberOrderParams{OrderStatus: "failed&PageSize=1000"})
	require.NoError(t, err)
	q := query.Load().(url.Values)
	assert.Equal(t, []string{"failed&PageSize=1000"}, q["OrderStatus"])
	assert.NotContains(t, q, "PageSize")
}

func TestFetch_AnswerAboutAnotherOrderIsADecodeError(t *testing.T) {
	srv := ctAPIServer(t) // always answers with BHaaaa…
	c := ctClient(t, srv.URL)
	const other = "BHbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), other, nil)
	var decodeErr *DecodeError
	require.ErrorAs(t, err, &decodeErr)
	assert.Contains(t, err.Error(), other)
	assert.Equal(t, ctRequestID, decodeErr.RequestID)

	_, err = c.BulkHostedNumberOrders.Wait(context.Background(), other, &WaitOptions{PollInterval: time.Millisecond})
	require.ErrorAs(t, err, &decodeErr)
	assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: wait for bulk order "+other), err.Error())
}

// retryingTransport stands for a user's RoundTripper that resends a
// failed request by itself, rewinding the body with GetBody, as some
// retry middlewares do. It counts what it "sent".
type retryingTransport struct{ sends atomic.Int32 }

func (rt *retryingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for try := 0; try < 5; try++ {
		if try > 0 {
			if req.GetBody == nil {
				return nil, errors.New("cannot rewind")
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		if req.Body != nil {
			_, _ = io.Copy(io.Discard, req.Body)
		}
		rt.sends.Add(1)
	}
	return nil, errors.New("connection reset by peer")
}

func TestCreate_AUserTransportThatRetriesCannotResendAPost(t *testing.T) {
	rt := &retryingTransport{}
	c := ctClient(t, "http://127.0.0.1:1", WithHTTPClient(&http.Client{Transport: rt}))
	_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
	require.Error(t, err)
	assert.Equal(t, int32(1), rt.sends.Load(), "the body could be sent once only")
}

func TestAttemptTimeout_IsADeadlineNotTheCallersContext(t *testing.T) {
	srv := newRTServer(t, rtHang)
	c := ctClient(t, srv.URL, WithTimeout(50*time.Millisecond), WithMaxRetries(1))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrAttemptTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "like net/http's own timeouts")
	assert.NoError(t, ctx.Err(), "the caller's context is untouched")
	assert.Equal(t, 2, srv.seen(http.MethodGet), "a GET that timed out is retried")
}

func TestOrderHelpers_AreNilReceiverSafe(t *testing.T) {
	var order *BulkHostedNumberOrder
	assert.NotPanics(t, func() {
		assert.Empty(t, order.Orders())
		assert.Empty(t, order.OrdersByStatus())
		assert.Empty(t, order.Failed())
		assert.Empty(t, order.CountsByStatus())
	})
}

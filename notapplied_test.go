package hostednumbers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// phaseServer is a loopback TCP server that stops every connection at one
// phase of its opening (the TLS handshake, a proxy's CONNECT): it hands
// each accepted connection to stop, which reads what it likes and answers,
// stalls until the connection is closed, or closes it. It records every
// byte it read from each connection, and, for a proxy, every byte that
// arrived after the CONNECT request's head.
type phaseServer struct {
	addr  string
	conns atomic.Int32

	mu           sync.Mutex
	read         []*bytes.Buffer // per connection, in accept order
	afterConnect int             // bytes read after a CONNECT head, all connections
}

type phaseStop func(s *phaseServer, conn net.Conn, in *bufio.Reader)

func newPhaseServer(t *testing.T, stop phaseStop) *phaseServer {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &phaseServer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	open := map[net.Conn]bool{}
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range open {
			_ = c.Close()
		}
		s.mu.Unlock()
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
			s.conns.Add(1)
			rec := &bytes.Buffer{}
			s.mu.Lock()
			open[conn] = true
			s.read = append(s.read, rec)
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					s.mu.Lock()
					delete(open, conn)
					s.mu.Unlock()
					_ = conn.Close()
				}()
				_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
				stop(s, conn, bufio.NewReader(&recordingReader{r: conn, s: s, buf: rec}))
			}()
		}
	}()
	return s
}

// recordingReader keeps what a phaseServer read from a connection.
type recordingReader struct {
	r   io.Reader
	s   *phaseServer
	buf *bytes.Buffer
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.s.mu.Lock()
	r.buf.Write(p[:n])
	r.s.mu.Unlock()
	return n, err
}

// received returns a copy of what each connection sent.
func (s *phaseServer) received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.read))
	for i, b := range s.read {
		out[i] = bytes.Clone(b.Bytes())
	}
	return out
}

// stallTLS reads the client's hello and never answers.
func stallTLS(_ *phaseServer, _ net.Conn, in *bufio.Reader) { _, _ = io.Copy(io.Discard, in) }

// notTLS answers the client's hello with plain HTTP, as a server on the
// wrong port or a captive portal does, and closes.
func notTLS(_ *phaseServer, conn net.Conn, in *bufio.Reader) {
	if _, err := in.Peek(5); err != nil {
		return
	}
	_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

// alertTLS refuses the handshake with a fatal handshake_failure alert, as a
// server that shares no cipher suite or protocol version does.
func alertTLS(_ *phaseServer, conn net.Conn, in *bufio.Reader) {
	if _, err := in.Peek(5); err != nil {
		return
	}
	_, _ = conn.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
}

// proxyRefusing answers every CONNECT with 502 Bad Gateway, then records
// whatever else the client sends until it closes.
func proxyRefusing(s *phaseServer, conn net.Conn, in *bufio.Reader) {
	if !readConnect(s, in) {
		return
	}
	_, _ = io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
	countAfterConnect(s, in)
}

// proxyStalling reads the CONNECT and never answers.
func proxyStalling(s *phaseServer, _ net.Conn, in *bufio.Reader) {
	if readConnect(s, in) {
		countAfterConnect(s, in)
	}
}

func readConnect(s *phaseServer, in *bufio.Reader) bool {
	req, err := http.ReadRequest(in)
	if err != nil || req.Method != http.MethodConnect {
		s.mu.Lock()
		s.afterConnect = -1 // not a CONNECT: the test sees it
		s.mu.Unlock()
		return false
	}
	return true
}

func countAfterConnect(s *phaseServer, in *bufio.Reader) {
	n, _ := io.Copy(io.Discard, in)
	s.mu.Lock()
	s.afterConnect += int(n)
	s.mu.Unlock()
}

// phaseClient returns a client whose base URL is base, through the SDK's
// own transport ("sdk", with tune applied to it as a caller cannot, to
// point it at a loopback proxy or shorten its handshake limit) or through
// an *http.Transport of the caller's ("user", tune applied before it is
// given with WithHTTPClient).
func phaseClient(t *testing.T, transport, base string, tune func(*http.Transport), opts ...Option) *Client {
	t.Helper()
	all := []Option{WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(base),
		WithRetryBackoff(time.Millisecond, 2*time.Millisecond), WithMaxRetries(2)}
	var user *http.Transport
	if transport == "user" {
		user = &http.Transport{TLSHandshakeTimeout: 10 * time.Second}
		if tune != nil {
			tune(user)
		}
		all = append(all, WithHTTPClient(&http.Client{Transport: user}))
	}
	c, err := NewClient(append(all, opts...)...)
	require.NoError(t, err)
	if transport == "sdk" {
		tr, ok := c.transport.(*http.Transport)
		require.True(t, ok, "the SDK's own transport is an *http.Transport")
		if tune != nil {
			tune(tr)
		}
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func viaProxy(addr string) func(*http.Transport) {
	u := &url.URL{Scheme: "http", Host: addr}
	return func(tr *http.Transport) { tr.Proxy = http.ProxyURL(u) }
}

// offTheWire is a base URL no test can reach except through a loopback
// proxy: the proxy is asked for it and refuses or stalls.
const offTheWire = "https://numbers.example.test"

// TestNotApplied_AConnectionThatNeverOpened: a create whose connection
// failed or stalled before it was open (TLS handshake, proxy CONNECT) is
// ErrNotApplied, on the SDK's transport and on the caller's own
// *http.Transport, whatever the error says; the retry policy may resend
// it (and a fetch) within the budget, and nothing of the request reached
// the server or the proxy.
func TestNotApplied_AConnectionThatNeverOpened(t *testing.T) {
	cases := []struct {
		name string
		stop phaseStop
		// proxy: the server is a proxy in front of offTheWire; otherwise
		// it is the API's host itself.
		proxy bool
		// tune and opts shorten the limit that ends a stalled phase.
		tune func(*http.Transport)
		opts []Option
		// wantErr is what the error is, beyond ErrNotApplied.
		wantErr func(t *testing.T, err error)
	}{
		{name: "TLS handshake stalls, the per-attempt limit ends it", stop: stallTLS,
			opts: []Option{WithTimeout(150 * time.Millisecond)},
			wantErr: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, ErrAttemptTimeout)
			}},
		{name: "TLS handshake stalls, the transport's handshake limit ends it", stop: stallTLS,
			tune: func(tr *http.Transport) { tr.TLSHandshakeTimeout = 150 * time.Millisecond },
			wantErr: func(t *testing.T, err error) {
				assert.ErrorContains(t, err, "TLS handshake timeout")
				assert.NotErrorIs(t, err, ErrAttemptTimeout)
			}},
		{name: "TLS handshake answered in plain HTTP", stop: notTLS,
			wantErr: func(t *testing.T, err error) {
				var rh tls.RecordHeaderError
				assert.ErrorAs(t, err, &rh)
			}},
		{name: "TLS handshake refused with an alert", stop: alertTLS,
			wantErr: func(t *testing.T, err error) {
				var op *net.OpError
				require.ErrorAs(t, err, &op)
				assert.Equal(t, "remote error", op.Op)
			}},
		{name: "proxy refuses the CONNECT with 502", stop: proxyRefusing, proxy: true,
			wantErr: func(t *testing.T, err error) {
				assert.ErrorContains(t, err, "Bad Gateway")
			}},
		{name: "proxy stalls the CONNECT", stop: proxyStalling, proxy: true,
			opts: []Option{WithTimeout(150 * time.Millisecond)},
			wantErr: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, ErrAttemptTimeout)
			}},
	}
	for _, transport := range []string{"sdk", "user"} {
		for _, tc := range cases {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				srv := newPhaseServer(t, tc.stop)
				base, tune := "https://"+srv.addr, tc.tune
				if tc.proxy {
					base = offTheWire
					tune = func(tr *http.Transport) {
						viaProxy(srv.addr)(tr)
						if tc.tune != nil {
							tc.tune(tr)
						}
					}
				}
				c := phaseClient(t, transport, base, tune, tc.opts...)
				ctx := hostileCtx(t, 15*time.Second)

				_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
				exactlyOneOutcome(t, err, ErrNotApplied)
				assert.Equal(t, OutcomeNotApplied, OutcomeOf(err))
				assert.NoError(t, ctx.Err(), "the call ended by itself")
				tc.wantErr(t, err)
				assert.Equal(t, int32(3), srv.conns.Load(), "provably never sent: resent within WithMaxRetries(2)")

				_, err = c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
				require.Error(t, err)
				assert.Equal(t, int32(6), srv.conns.Load(), "a fetch is retried the same way")

				assertNothingOfTheRequest(t, srv, tc.proxy)
			})
		}
	}
}

// TestNotApplied_ADialThatFailsOrStalls: a dial refused, or one that
// neither succeeds nor fails before the per-attempt limit, is ErrNotApplied
// on the SDK's transport and on the caller's *http.Transport, and is
// resent within the budget.
func TestNotApplied_ADialThatFailsOrStalls(t *testing.T) {
	for _, transport := range []string{"sdk", "user"} {
		for _, tc := range []struct {
			name    string
			base    func(t *testing.T) string
			wantErr error
		}{
			{"refused", func(t *testing.T) string { return "https://" + strings.TrimPrefix(ctClosedPortURL(t), "http://") }, nil},
			{"stalled", func(t *testing.T) string { return "https://" + stalledListenerAddr(t) }, ErrAttemptTimeout},
		} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				base := tc.base(t)
				var attempts atomic.Int32
				hooks := Hooks{OnAttempt: func(context.Context, AttemptInfo) { attempts.Add(1) }}
				c := phaseClient(t, transport, base, nil, WithTimeout(150*time.Millisecond), WithHooks(hooks))
				ctx := hostileCtx(t, 15*time.Second)
				_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
				exactlyOneOutcome(t, err, ErrNotApplied)
				if tc.wantErr != nil {
					assert.ErrorIs(t, err, tc.wantErr)
				}
				assert.NoError(t, ctx.Err())
				assert.Equal(t, int32(3), attempts.Load(), "provably never sent: resent within WithMaxRetries(2)")
			})
		}
	}
}

// assertNothingOfTheRequest checks that the server read only a TLS
// ClientHello on each connection, or the proxy only a CONNECT head.
func assertNothingOfTheRequest(t *testing.T, srv *phaseServer, proxy bool) {
	t.Helper()
	got := srv.received()
	require.NotEmpty(t, got)
	for i, b := range got {
		if proxy {
			assert.True(t, bytes.HasPrefix(b, []byte("CONNECT numbers.example.test:443 HTTP/1.1\r\n")), "connection %d: %q", i, b)
			continue
		}
		require.NotEmpty(t, b, "connection %d", i)
		assert.Equal(t, byte(0x16), b[0], "connection %d: a TLS handshake record, nothing else", i)
		assert.NotContains(t, string(b), "/v2/", "connection %d", i)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Zero(t, srv.afterConnect, "bytes the proxy read after the CONNECT head")
}

// passThrough is a caller's RoundTripper around an *http.Transport that
// only forwards, as a tracing or metrics wrapper does. The SDK cannot see
// what such a wrapper does besides, so net/http's trace reports through it
// are no evidence.
type passThrough struct{ inner http.RoundTripper }

func (p passThrough) RoundTrip(req *http.Request) (*http.Response, error) {
	return p.inner.RoundTrip(req)
}

// TestNotApplied_NeedsEvidenceFromNetHTTPItself: the same failures through
// a wrapper, or from a transport that reports nothing through the trace,
// stay ErrOutcomeUnknown and are not resent, whatever the error says.
func TestNotApplied_NeedsEvidenceFromNetHTTPItself(t *testing.T) {
	t.Run("a wrapper around an *http.Transport", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			stop  phaseStop
			proxy bool
		}{
			{"TLS handshake answered in plain HTTP", notTLS, false},
			{"proxy refuses the CONNECT", proxyRefusing, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				srv := newPhaseServer(t, tc.stop)
				inner := &http.Transport{}
				base := "https://" + srv.addr
				if tc.proxy {
					base = offTheWire
					viaProxy(srv.addr)(inner)
				}
				t.Cleanup(inner.CloseIdleConnections)
				c := phaseClient(t, "wrapped", base, nil, WithHTTPClient(&http.Client{Transport: passThrough{inner}}))
				_, err := c.BulkHostedNumberOrders.Create(hostileCtx(t, 10*time.Second), nil)
				exactlyOneOutcome(t, err, ErrOutcomeUnknown)
				assert.Equal(t, int32(1), srv.conns.Load(), "not resent")
			})
		}
	})
	t.Run("a transport that reports nothing", func(t *testing.T) {
		for _, fake := range []error{
			tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"},
			errors.New("net/http: TLS handshake timeout"),
			errors.New("proxyconnect tcp: Bad Gateway"),
			errors.New("dial tcp 127.0.0.1:443: connect: connection refused"),
			context.DeadlineExceeded,
		} {
			t.Run(fake.Error(), func(t *testing.T) {
				var calls atomic.Int32
				rt := roundTripFunc(func(*http.Request) (*http.Response, error) { calls.Add(1); return nil, fake })
				c := phaseClient(t, "wrapped", offTheWire, nil, WithHTTPClient(&http.Client{Transport: rt}))
				_, err := c.BulkHostedNumberOrders.Create(hostileCtx(t, 10*time.Second), nil)
				exactlyOneOutcome(t, err, ErrOutcomeUnknown)
				assert.Equal(t, int32(1), calls.Load(), "not resent")
			})
		}
	})
}

// TestNotApplied_NotOnceTheRequestHadAConnection: through the same proxy
// machinery, a tunnel that opens and a request that is written, then a
// call that ends (its context cancelled once the create has arrived)
// before the answer comes, is ErrOutcomeUnknown and sent once.
func TestNotApplied_NotOnceTheRequestHadAConnection(t *testing.T) {
	var posts atomic.Int32
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPost {
			posts.Add(1)
			select {
			case arrived <- struct{}{}:
			default:
			}
		}
		select { // never answers before the test ends
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(api.Close)
	t.Cleanup(func() { close(release) })
	tunnel := newPhaseServer(t, func(s *phaseServer, conn net.Conn, in *bufio.Reader) {
		if !readConnect(s, in) {
			return
		}
		up, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", api.Listener.Addr().String())
		if err != nil {
			return
		}
		defer func() { _ = up.Close() }()
		_ = up.SetDeadline(time.Now().Add(20 * time.Second))
		_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() {
			_, _ = io.Copy(up, in)
			_ = up.Close() // the client went: so does the upstream side
		}()
		_, _ = io.Copy(conn, up)
	})
	roots := api.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for _, transport := range []string{"sdk", "user"} {
		t.Run(transport, func(t *testing.T) {
			before := posts.Load()
			c := phaseClient(t, transport, "https://"+api.Listener.Addr().String(), func(tr *http.Transport) {
				viaProxy(tunnel.addr)(tr)
				tr.TLSClientConfig = &tls.Config{RootCAs: roots}
			})
			ctx, cancel := context.WithCancel(hostileCtx(t, 10*time.Second))
			defer cancel()
			go func() {
				select {
				case <-arrived:
					cancel()
				case <-ctx.Done():
				}
			}()
			_, err := c.BulkHostedNumberOrders.Create(ctx, nil)
			exactlyOneOutcome(t, err, ErrOutcomeUnknown)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, int32(1), posts.Load()-before, "the create arrived once and was not resent")
		})
	}
}

// TestAttemptGuard_WhatCountsAsNotSent drives the guard's trace hooks in
// the orders a transport reports them and checks the evidence each
// leaves, for net/http's own transport and for any other.
func TestAttemptGuard_WhatCountsAsNotSent(t *testing.T) {
	untyped := errors.New("Bad Gateway")
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name     string
		report   func(tr *httptrace.ClientTrace, body *atomic.Bool)
		hasBody  bool
		err      error
		netHTTP  bool
		wantSent bool // true: no evidence (outcome unknown)
	}{
		{"asked for a connection, never had one", func(tr *httptrace.ClientTrace, _ *atomic.Bool) { tr.GetConn("h:443") }, true, untyped, true, false},
		{"the same through another transport", func(tr *httptrace.ClientTrace, _ *atomic.Bool) { tr.GetConn("h:443") }, true, untyped, false, true},
		{"had a connection, headers not reported", func(tr *httptrace.ClientTrace, _ *atomic.Bool) {
			tr.GetConn("h:443")
			tr.GotConn(httptrace.GotConnInfo{})
		}, true, untyped, true, true},
		{"headers written", func(tr *httptrace.ClientTrace, _ *atomic.Bool) {
			tr.GetConn("h:443")
			tr.WroteHeaders()
		}, true, untyped, true, true},
		{"body read", func(tr *httptrace.ClientTrace, body *atomic.Bool) {
			tr.GetConn("h:443")
			body.Store(true)
		}, true, untyped, true, true},
		{"reported nothing", func(*httptrace.ClientTrace, *atomic.Bool) {}, true, untyped, true, true},
		{"typed dial failure, any transport", func(*httptrace.ClientTrace, *atomic.Bool) {}, true, dial, false, false},
		{"typed dial failure after the headers", func(tr *httptrace.ClientTrace, _ *atomic.Bool) { tr.WroteHeaders() }, true, dial, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &attemptGuard{cancel: func(error) {}}
			tc.report(g.hooks(&httptrace.ClientTrace{}), &g.touched)
			assert.Equal(t, !tc.wantSent, g.notSent(tc.err, tc.hasBody, tc.netHTTP))
		})
	}
}

// TestRedactor_APlainSecretIsRemovedWhole: a secret whose pieces are all
// too plain to remove alone (fewer than minDistinct characters in every
// redactPiece-long run) is still removed wherever it appears whole, as
// are its base64 forms, while text without any comes back as it was.
func TestRedactor_APlainSecretIsRemovedWhole(t *testing.T) {
	const secret = "abcabcabcabcabcabcabcabcabcabcab"
	r := newRedactor(ctAccountSID, secret)
	for i := 0; i+redactPiece <= len(secret); i++ {
		require.NotContains(t, r.pieces, secret[i:i+redactPiece], "every piece of the secret is too plain to count alone")
	}
	for _, form := range []string{secret, secretB64(secret), secretB64(ctAccountSID + ":" + secret)} {
		got := r.redact("echo: " + form + " (end)")
		assert.Equal(t, "echo: [redacted] (end)", got)
	}
	const plain = "RQ0123456789abcdef0123456789abcdef, abcabc"
	assert.Equal(t, plain, r.redact(plain))
}

func secretB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

package hostednumbers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/retry"
)

// ErrAttemptTimeout matches an error caused by the per-attempt time limit
// (WithTimeout, DefaultTimeout): one attempt of a request took too long,
// as opposed to the caller's context ending.
var ErrAttemptTimeout = errors.New("hostednumbers: attempt timed out")

// attemptTimeoutError says which limit ended an attempt and how to change it.
type attemptTimeoutError struct{ limit time.Duration }

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("attempt timed out after %s (the per-attempt limit, set with WithTimeout or WithCallTimeout)", e.limit)
}

// Is makes errors.Is match ErrAttemptTimeout, and context.DeadlineExceeded
// as net/http's own timeouts do: the attempt's deadline passed.
func (e *attemptTimeoutError) Is(target error) bool {
	return target == ErrAttemptTimeout || target == context.DeadlineExceeded
}

// Timeout reports true, as net.Error's Timeout does for a deadline.
func (e *attemptTimeoutError) Timeout() bool { return true }

// errResendRefused is what the transport below the client gets when it
// tries to send an attempt a second time on its own, and, wrapped in
// resendRefusedError, what the attempt then fails with.
var errResendRefused = errors.New("hostednumbers: the HTTP transport tried to send the request again by itself; refused, only the SDK's retry policy resends")

// errNoResponse is what an attempt fails with when the transport below
// the client breaks the RoundTripper contract by returning neither a
// response nor an error. The request may have been sent.
var errNoResponse = errors.New("hostednumbers: the HTTP transport returned neither a response nor an error")

// onceTransport is the client's own layer over the transport that sends
// requests (the default one, or the one of a WithHTTPClient client). Each
// RoundTrip is one attempt of the SDK's retry policy, and it makes sure
// that attempt leaves the process at most once, and says so only with
// evidence:
//
//   - Every attempt goes down with a request net/http will not replay:
//     its Body is never nil (an empty one for a request without a body)
//     and a GET has no GetBody, so net/http's HTTP/1 transport, whose
//     replay after a dropped reused connection needs either, and its
//     HTTP/2 transport, which needs a nil Body or a GetBody to resend
//     after a stream reset or GOAWAY, give the error back instead. A
//     request with a body keeps a GetBody that hands out a fresh body
//     only while nothing of the first one has been read (on the Read and
//     the WriteTo path alike), which is what net/http's own resends of a
//     request it never wrote need.
//   - A transport of the caller's that resends by itself (a retry
//     middleware that buffered the body) is stopped by the trace hooks of
//     the attempt's context: once the attempt's own request has been
//     written (its headers written and its body read), another connection
//     taken for the attempt is refused: the attempt's context is
//     cancelled, and an HTTP/1 connection is closed on the spot, so that
//     nothing reaches it whatever net/http's writer goroutine does (an
//     HTTP/2 connection, shared with other requests, is not closed: its
//     transport checks the context before it writes a stream's headers).
//     Connections taken before the request was written (a side request on
//     the same context, fetching a token, say) do not count.
//   - An attempt's error is marked retry.NotSent only on positive
//     evidence that nothing of it left the process (see notSent): the
//     context was done before the transport was called; or neither the
//     request's headers were reported written nor its body read, and the
//     error is a typed dial, name resolution or certificate failure, or
//     the transport is net/http's own *http.Transport, which reported
//     through the trace that it was getting a connection for the request
//     (GetConn) and never that it had one (GotConn): a failed or stalled
//     dial, TLS handshake or proxy CONNECT. A transport that does not
//     report through the trace (one that sends under a context of its
//     own, an HTTP/3 transport) thus gets an outcome-unknown answer for
//     anything but a typed connection failure before it read the body.
//
// It hides the transport's CloseIdleConnections: retryablehttp closes idle
// connections whenever a request gives up, which would empty a pool that
// other goroutines are using (Client.CloseIdleConnections still reaches it).
//
// It also applies the per-attempt time limit as a context deadline that
// lasts until the body is closed, which net/http handles without the extra
// goroutines and timer that http.Client.Timeout costs over a transport it
// does not know, and it records the server's clock from each answer's Date
// header.
type onceTransport struct {
	rt http.RoundTripper
	// netHTTP says rt is net/http's own *http.Transport, whose trace
	// reports are evidence of what it did not send (see notSent).
	netHTTP bool
	timeout time.Duration
	logger  *slog.Logger
	redact  func(string) string
	clock   *serverClock
}

func (t *onceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	parent := req.Context()
	if err := parent.Err(); err != nil {
		// Done before the transport was called: nothing can have left.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		retry.ObserveStatus(parent, 0)
		retry.MarkUnprocessed(parent)
		err = retry.NotSent(err)
		t.logAttempt(parent, req, nil, start, err)
		t.hookAttempt(parent, nil, start, err)
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(parent)
	var timer *time.Timer
	limit := t.timeout
	if call := callFrom(parent); call != nil && call.settings.timeoutSet {
		limit = call.settings.timeout // WithCallTimeout
	}
	if limit > 0 {
		timer = time.AfterFunc(limit, func() { cancel(&attemptTimeoutError{limit: limit}) })
	}
	a := &attempt{guard: attemptGuard{cancel: cancel}}
	g := &a.guard
	ctx = httptrace.WithClientTrace(ctx, g.hooks(&a.trace))
	out := req.WithContext(ctx)
	hasBody := req.Body != nil && req.Body != http.NoBody
	if p, ok := req.Body.(*payload); ok {
		// The SDK's own body: each attempt reads it through a reader of
		// its own, held in the attempt, so nothing of an earlier attempt
		// (whose body net/http may still be closing) is ever rewound.
		a.mem.Reset(p.data)
		p.hold()
		a.body = onceBody{rc: &a.mem, touched: &g.touched, p: p}
		out.Body, out.ContentLength = &a.body, int64(len(p.data))
		out.GetBody = func() (io.ReadCloser, error) {
			if g.touched.Load() {
				return nil, errResendRefused
			}
			fresh := &onceBody{rc: &memReader{}, touched: &g.touched, p: p}
			fresh.rc.(*memReader).Reset(p.data)
			p.hold()
			return fresh, nil
		}
	} else if hasBody {
		a.body = onceBody{rc: req.Body, touched: &g.touched}
		out.Body = &a.body
		getBody := req.GetBody
		out.GetBody = func() (io.ReadCloser, error) {
			if g.touched.Load() || getBody == nil {
				return nil, errResendRefused
			}
			fresh, err := getBody()
			if err != nil {
				return nil, err
			}
			return &onceBody{rc: fresh, touched: &g.touched}, nil
		}
	} else {
		// Never nil and never http.NoBody, with no GetBody: net/http does
		// not replay such a request. It sends no body for it (HTTP/1
		// copies an empty one; HTTP/2 ends the stream with an empty DATA
		// frame).
		a.body = onceBody{rc: emptyBody{}, touched: &g.touched}
		out.Body, out.GetBody, out.ContentLength = &a.body, nil, 0
		if bodilessMethod(req.Method) {
			// Said to be sent as is, so that net/http's HTTP/1 writer
			// neither sends it chunked nor probes it first for a byte (a
			// goroutine and a timer per request): a GET or DELETE then
			// goes out with neither Content-Length nor Transfer-Encoding,
			// which is a request without a body, as net/http would send
			// one whose Body is nil. HTTP/2 ignores the field.
			out.TransferEncoding = identityEncoding
		}
	}

	resp, err := t.rt.RoundTrip(out)
	arrived := time.Now()
	switch {
	case err != nil && resp != nil:
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		resp = nil
	case err == nil && resp == nil:
		err = errNoResponse
	}
	if err != nil {
		if timer != nil {
			timer.Stop()
		}
		err = attemptError(ctx, parent, err)
		cancel(nil)
		retry.ObserveStatus(parent, 0)
		if g.notSent(err, hasBody, t.netHTTP) {
			retry.MarkUnprocessed(parent)
			err = retry.NotSent(err)
		}
		t.logAttempt(parent, req, nil, start, err)
		t.hookAttempt(parent, nil, start, err)
		return nil, err
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	if t.clock != nil {
		t.clock.observe(resp.Header, arrived)
	}
	retry.ObserveStatus(parent, resp.StatusCode)
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		retry.MarkUnprocessed(parent) // refused by the server
	}
	t.logAttempt(parent, req, resp, start, nil)
	t.hookAttempt(parent, resp, start, nil)
	a.resp = attemptBody{rc: resp.Body, ctx: ctx, parent: parent, cancel: cancel, timer: timer}
	resp.Body = &a.resp
	return resp, nil
}

// attempt is what one attempt needs that outlives a call frame, in one
// allocation: the guard and its trace hooks, the request body handed down
// (with the reader of the SDK's own body, a payload) and the response body
// handed up.
type attempt struct {
	guard attemptGuard
	trace httptrace.ClientTrace
	mem   memReader
	body  onceBody
	resp  attemptBody
}

// attemptGuard watches one attempt through net/http's trace hooks.
type attemptGuard struct {
	cancel  context.CancelCauseFunc
	touched atomic.Bool // some of the request body was read

	mu           sync.Mutex
	gettingConn  bool // the transport reported getting a connection (GetConn)
	gotConnSeen  bool // the transport reported a connection handed over (GotConn)
	wroteHeaders bool // the transport reported request headers written
}

// hooks sets the guard's hooks in tr and returns it.
func (g *attemptGuard) hooks(tr *httptrace.ClientTrace) *httptrace.ClientTrace {
	tr.GetConn = func(string) {
		g.mu.Lock()
		g.gettingConn = true
		g.mu.Unlock()
	}
	tr.GotConn = g.gotConn
	tr.WroteHeaders = func() {
		g.mu.Lock()
		g.wroteHeaders = true
		g.mu.Unlock()
	}
	return tr
}

// gotConn records a connection handed over, and refuses one taken after
// the attempt's own request was written: that is a resend.
func (g *attemptGuard) gotConn(info httptrace.GotConnInfo) {
	g.mu.Lock()
	g.gotConnSeen = true
	sent := g.wroteHeaders && g.touched.Load()
	g.mu.Unlock()
	if !sent {
		return
	}
	g.cancel(errResendRefused)
	if info.Conn != nil && !sharedConn(info.Conn) {
		// HTTP/1: the writer goroutine may already hold the request;
		// a closed connection takes nothing from it.
		_ = info.Conn.Close()
	}
}

// sharedConn reports whether conn carries HTTP/2, whose streams belong to
// other requests too.
func sharedConn(conn net.Conn) bool {
	tc, ok := conn.(interface{ ConnectionState() tls.ConnectionState })
	return ok && tc.ConnectionState().NegotiatedProtocol == "h2"
}

// notSent reports positive evidence that nothing of the attempt, which
// failed with err, left the process. It is asked once the transport's
// RoundTrip has returned. netHTTP says the transport is net/http's own
// *http.Transport.
//
// Nothing counts once the transport reported the request's headers
// written or read any of its body. Before that, the evidence is one of:
//
//   - err is a typed failure to connect, resolve the name or verify the
//     server's certificate, whatever the transport;
//   - the transport is net/http's *http.Transport, it reported GetConn
//     for the request and never GotConn. That transport writes a request
//     only on a connection it reported with GotConn (HTTP/1 in getConn,
//     HTTP/2 in its RoundTrip, each time it takes one, before the write
//     starts), on the goroutine that called RoundTrip, so once RoundTrip
//     has returned without one, nothing of the request was or will be
//     written: the dial, the TLS handshake or the proxy's CONNECT failed
//     or was still under way when the attempt ended, whatever the error
//     says (a timeout, the proxy's status text). A dial it goes on with
//     in the background only fills its pool. For any other transport
//     this is no evidence: a wrapper may take connections on the
//     request's context for requests of its own, then send this one
//     outside the trace's sight; nor is the error of a handshake such a
//     wrapper reported, which may be a shared value (io.EOF) that a later
//     failure returns too.
//
// The error's text never counts.
func (g *attemptGuard) notSent(err error, hasBody, netHTTP bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.wroteHeaders || (hasBody && g.touched.Load()) {
		return false
	}
	if retry.ConnectFailure(err) || retry.HandshakeFailure(err) {
		return true
	}
	return netHTTP && g.gettingConn && !g.gotConnSeen
}

// identityEncoding is the Request.TransferEncoding that tells net/http to
// send a body as is, without chunking it. Never modified.
var identityEncoding = []string{"identity"}

// bodilessMethod reports whether net/http's HTTP/1 writer would probe a
// request of this method with an unknown-length body for a first byte
// before sending it (the methods that usually have no body), rather than
// send it chunked.
func bodilessMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// emptyBody is the body of a request that has none.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

// WriteTo writes nothing, without the copy buffer that io.Copy would
// otherwise take from the connection's ReadFrom.
func (emptyBody) WriteTo(io.Writer) (int64, error) { return 0, nil }

// attemptError explains an attempt that failed because of the attempt's
// own context (its time limit, or a refused resend) rather than the
// caller's: the caller's context is unchanged in those cases.
func attemptError(ctx, parent context.Context, err error) error {
	if parent.Err() != nil || err == nil {
		return err
	}
	cause := context.Cause(ctx)
	var limit *attemptTimeoutError
	switch {
	case errors.As(cause, &limit):
		return cause
	case errors.Is(err, errResendRefused), errors.Is(cause, errResendRefused):
		return &resendRefusedError{}
	}
	return err
}

// resendRefusedError is an attempt that failed after it was sent, whose
// transport then wanted to send it again. It does not unwrap: the context
// cancellation that stopped the resend is the SDK's, not the caller's.
type resendRefusedError struct{}

func (e *resendRefusedError) Error() string {
	return "the request was sent, then the exchange failed and the HTTP transport tried to send it again by itself; " +
		"that resend was refused (only the SDK's retry policy resends)"
}

// logAttempt writes one record per attempt, at Debug: attempt number,
// status, request id and latency (to the response headers).
func (t *onceTransport) logAttempt(ctx context.Context, req *http.Request, resp *http.Response, start time.Time, err error) {
	if t.logger == nil || !t.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("attempt", retry.Attempts(ctx)),
		slog.Duration("latency", time.Since(start)),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.String("request_id", keptValue(t.redact, resp.Header.Get("Twilio-Request-Id"))))
	}
	if err != nil {
		msg := err.Error()
		if t.redact != nil {
			msg = t.redact(msg)
		}
		attrs = append(attrs, slog.String("error", msg))
	}
	t.logger.LogAttrs(ctx, slog.LevelDebug, "hostednumbers: attempt", attrs...)
}

// hookAttempt gives the client's OnAttempt hook one attempt of the call
// in ctx.
func (t *onceTransport) hookAttempt(ctx context.Context, resp *http.Response, start time.Time, err error) {
	call := callFrom(ctx)
	if call == nil || call.client.hooks.OnAttempt == nil {
		return
	}
	a := AttemptInfo{Attempt: retry.Attempts(ctx), Latency: time.Since(start), Err: err}
	if resp != nil {
		a.StatusCode, a.RequestID = resp.StatusCode, keptValue(t.redact, resp.Header.Get("Twilio-Request-Id"))
	}
	call.client.hookAttempt(ctx, a)
}

// onceBody records whether the transport has read any of the request body.
//
// Over a payload (p set) it also tells the payload when the transport is
// done with it: once it is closed and no Read or WriteTo is under way,
// whichever comes last, it releases its reference, exactly once. A read
// that starts after Close fails with errBodyClosed and touches nothing. A
// transport may close a body on another goroutine while a read is under
// way (HTTP/2 does when it abandons a request), so Close never waits for
// a read, and a pooled buffer is never given back under one.
type onceBody struct {
	rc      io.ReadCloser
	touched *atomic.Bool
	p       *payload
	// state counts the reads under way, with bodyClosed and
	// bodyReleased set as the body is closed and its reference released.
	state atomic.Int32
}

const (
	bodyClosed   = 1 << 29
	bodyReleased = 1 << 30
)

// errBodyClosed is what a read of a payload's body after its Close gets.
var errBodyClosed = errors.New("hostednumbers: request body read after it was closed")

// enter begins a read; false: the body is closed, read nothing.
func (b *onceBody) enter() bool {
	if b.p == nil {
		return true
	}
	if b.state.Add(1)&bodyClosed != 0 {
		b.exit()
		return false
	}
	return true
}

// exit ends a read begun with enter.
func (b *onceBody) exit() {
	if b.p != nil && b.state.Add(-1) == bodyClosed {
		b.finish()
	}
}

// finish releases the payload reference once the body is closed and no
// read is under way; only the first call that finds it so does.
func (b *onceBody) finish() {
	if b.state.CompareAndSwap(bodyClosed, bodyClosed|bodyReleased) {
		b.p.release()
	}
}

func (b *onceBody) Read(p []byte) (int, error) {
	if !b.enter() {
		return 0, errBodyClosed
	}
	defer b.exit()
	b.touched.Store(true)
	return b.rc.Read(p)
}

func (b *onceBody) Close() error {
	err := b.rc.Close()
	if b.p == nil {
		return err
	}
	for {
		s := b.state.Load()
		if s&bodyClosed != 0 {
			return err
		}
		if b.state.CompareAndSwap(s, s|bodyClosed) {
			if s == 0 {
				b.finish()
			}
			return err
		}
	}
}

// WriteTo keeps the body's own WriteTo (an in-memory body writes itself in
// one call) visible to net/http, which would otherwise copy it through a
// 32 KiB buffer of its own.
func (b *onceBody) WriteTo(w io.Writer) (int64, error) {
	if !b.enter() {
		return 0, errBodyClosed
	}
	defer b.exit()
	b.touched.Store(true)
	if wt, ok := b.rc.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{b.rc})
}

// attemptBody ends the attempt's context and time limit when the response
// body is closed, and reports a time limit hit while reading as such.
type attemptBody struct {
	rc          io.ReadCloser
	ctx, parent context.Context
	cancel      context.CancelCauseFunc
	timer       *time.Timer // the attempt's time limit, nil without one
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = attemptError(b.ctx, b.parent, err)
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.rc.Close()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.cancel(nil)
	return err
}

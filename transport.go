package hostednumbers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
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
	return fmt.Sprintf("attempt timed out after %s (the per-attempt limit, set with WithTimeout)", e.limit)
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

// onceTransport is the client's own layer over the transport that sends
// requests (the default one, or the one of a WithHTTPClient client). Each
// RoundTrip is one attempt of the SDK's retry policy, and it makes sure
// that attempt leaves the process at most once:
//
//   - net/http's HTTP/2 transport resends a request by itself after some
//     stream resets (PROTOCOL_ERROR, REFUSED_STREAM) and GOAWAYs, and its
//     HTTP/1 transport after some connection reuse races, rewinding the
//     body with Request.GetBody. Here GetBody only hands out a fresh body
//     while nothing of the first one has been read; once the transport
//     has read the body, a rewind fails and the transport returns an error
//     instead of resending.
//   - a request without a body needs no rewind, so every attempt also
//     counts the connections the transport takes for it (the GotConn trace
//     hook, which both transports call right before they write a request):
//     at the second one the attempt's context is cancelled, so the
//     transport gives up before writing anything more.
//
// It hides the transport's CloseIdleConnections: retryablehttp closes idle
// connections whenever a request gives up, which would empty a pool that
// other goroutines are using (Client.CloseIdleConnections still reaches it).
//
// It also applies the per-attempt time limit as a context deadline that
// lasts until the body is closed, which net/http handles without the extra
// goroutines and timer that http.Client.Timeout costs over a transport it
// does not know.
type onceTransport struct {
	rt      http.RoundTripper
	timeout time.Duration
	logger  *slog.Logger
}

func (t *onceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	parent := req.Context()
	ctx, cancel := context.WithCancelCause(parent)
	var stop func() bool
	if t.timeout > 0 {
		limit := t.timeout
		stop = time.AfterFunc(limit, func() { cancel(&attemptTimeoutError{limit: limit}) }).Stop
	}
	var conns atomic.Int32
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) {
			if conns.Add(1) > 1 {
				cancel(errResendRefused)
			}
		},
	})
	out := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		b := &onceBody{rc: req.Body}
		out.Body = b
		getBody := req.GetBody
		out.GetBody = func() (io.ReadCloser, error) {
			if b.touched.Load() || getBody == nil {
				return nil, errResendRefused
			}
			return getBody()
		}
	}

	resp, err := t.rt.RoundTrip(out)
	if err != nil {
		if stop != nil {
			stop()
		}
		err = attemptError(ctx, parent, err)
		cancel(nil)
		retry.ObserveStatus(parent, 0)
		t.logAttempt(parent, req, nil, start, err)
		return nil, err
	}
	retry.ObserveStatus(parent, resp.StatusCode)
	t.logAttempt(parent, req, resp, start, nil)
	resp.Body = &attemptBody{rc: resp.Body, ctx: ctx, parent: parent, cancel: cancel, stop: stop}
	return resp, nil
}

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
		attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.String("request_id", resp.Header.Get("Twilio-Request-Id")))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	t.logger.LogAttrs(ctx, slog.LevelDebug, "hostednumbers: attempt", attrs...)
}

// onceBody records whether the transport has read any of the request body.
type onceBody struct {
	rc      io.ReadCloser
	touched atomic.Bool
}

func (b *onceBody) Read(p []byte) (int, error) {
	b.touched.Store(true)
	return b.rc.Read(p)
}

func (b *onceBody) Close() error { return b.rc.Close() }

// WriteTo keeps the body's own WriteTo (an in-memory body writes itself in
// one call) visible to net/http, which would otherwise copy it through a
// 32 KiB buffer of its own.
func (b *onceBody) WriteTo(w io.Writer) (int64, error) {
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
	stop        func() bool
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
	if b.stop != nil {
		b.stop()
	}
	b.cancel(nil)
	return err
}

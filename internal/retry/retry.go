// Package retry is the one place that decides whether a request may be sent
// again and how long to wait first. The client plugs it into
// retryablehttp; nothing else in the module makes that decision.
//
// The rule it enforces: an idempotent GET may be retried on transport
// errors and on 429, 500, 502, 503 and 504. Anything else, a POST above
// all, is retried only on positive evidence that the server cannot have
// processed it: a 429 (refused before processing), or a transport error
// the client's transport layer marked with NotSent because it knows that
// no byte of the request left the process (a dial, name lookup, TLS
// handshake or proxy CONNECT that failed or stalled before the transport
// had a connection for the request, or a context that was done before
// the transport was called). Evidence is typed: no
// decision is taken from the text of an error, which a server can word
// (a GOAWAY's debug data, a header value net/http quotes). A POST is
// therefore never resent after a timeout, a reset, any HTTP/2 stream
// error (REFUSED_STREAM included: net/http reports it as an unexported
// type, so it cannot be told apart from words a server chose), or any 5xx,
// because Twilio offers no idempotency key and a resent create could host
// the same numbers twice. The client's transport makes sure no layer below
// this policy resends anything.
package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Policy is the retry decision and backoff that retryablehttp asks for.
// retryablehttp itself holds the attempt limit and the backoff bounds it
// passes to Backoff.
type Policy struct {
	// MaxRetryAfter caps how long a server's Retry-After may make the client
	// wait. A longer Retry-After ends the retries, so the caller gets the
	// 429 at once and can schedule the work itself.
	MaxRetryAfter time.Duration
}

// tracker records the attempts of one logical request.
type tracker struct {
	method string
	// maxRetries is how many times this request may be resent.
	maxRetries int
	attempts   atomic.Int32
	// unprocessed says the latest attempt certainly was not processed:
	// nothing of it left the process, or the server refused it (4xx).
	unprocessed atomic.Bool
	// lastStatus is the status of the last attempt that got a response,
	// 0 when it failed without one; it names the cause of a retry in logs.
	lastStatus atomic.Int32
}

type trackerKey struct{}

// Track returns a context for one logical request (all its attempts) that
// records what is known about each attempt. The request may be resent at
// most maxRetries times (0: sent once), whatever limit the HTTP client
// driving the attempts holds; a negative maxRetries counts as 0.
func Track(ctx context.Context, method string, maxRetries int) context.Context {
	return context.WithValue(ctx, trackerKey{}, &tracker{method: method, maxRetries: max(maxRetries, 0)})
}

// BeginAttempt marks the start of a new attempt of the request tracked in
// ctx: nothing is known about it yet.
func BeginAttempt(ctx context.Context) {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		t.unprocessed.Store(false)
		t.attempts.Add(1)
	}
}

// MarkUnprocessed records positive evidence that the latest attempt of the
// request tracked in ctx was not processed: NotSent evidence, or a 4xx.
func MarkUnprocessed(ctx context.Context) {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		t.unprocessed.Store(true)
	}
}

// Unprocessed reports whether the latest attempt of the request tracked in
// ctx is known not to have been processed (MarkUnprocessed), or no attempt
// began at all. A context without a tracker reports false, the safe answer.
func Unprocessed(ctx context.Context) bool {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		return t.attempts.Load() == 0 || t.unprocessed.Load()
	}
	return false
}

// ObserveStatus records the status of the attempt in flight (0 for an
// attempt that ended without a response).
func ObserveStatus(ctx context.Context, status int) {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		t.lastStatus.Store(int32(min(max(status, 0), 999))) // an HTTP status has three digits
	}
}

// LastStatus returns the status ObserveStatus last recorded.
func LastStatus(ctx context.Context) int {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		return int(t.lastStatus.Load())
	}
	return 0
}

// Attempts returns how many attempts of the request tracked in ctx began.
func Attempts(ctx context.Context) int {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		return int(t.attempts.Load())
	}
	return 0
}

// notSentError carries the transport layer's evidence that no byte of an
// attempt left the process. Only this package makes one (NotSent), so no
// server and no user transport can forge it.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// NotSent marks err, the error of one attempt, as positive evidence that
// nothing of the attempt left the process. The caller (the client's
// transport layer) is responsible for that claim.
func NotSent(err error) error {
	if err == nil || IsNotSent(err) {
		return err
	}
	return &notSentError{err: err}
}

// IsNotSent reports whether err carries NotSent evidence.
func IsNotSent(err error) bool {
	var ns *notSentError
	return errors.As(err, &ns)
}

// idempotent reports whether the method may be repeated without effect.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// RetryableStatus reports whether a response with this status may be
// retried for the given method.
func RetryableStatus(method string, status int) bool {
	if status == http.StatusTooManyRequests {
		return true
	}
	if !idempotent(method) {
		return false
	}
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// RetryableError reports whether a transport error may be retried for the
// given method. An idempotent method is retried on any error another
// attempt may fix. Any other method is retried only when err carries
// NotSent evidence and written is false; written true says the request
// may have reached a connection, whatever the error claims. Errors
// another attempt cannot fix (a certificate the client does not trust)
// end the retries for every method.
func RetryableError(method string, err error, written bool) bool {
	// A cancelled caller context is final; the caller's own deadline is
	// caught by CheckRetry before this is asked. A per-attempt timeout of
	// the HTTP client is an ordinary transport error below.
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if permanentTransportError(err) {
		return false
	}
	if idempotent(method) {
		return true
	}
	return !written && IsNotSent(err)
}

// ConnectFailure reports whether err is a typed failure to reach the
// server at all: a dial that failed (refused, unreachable, timed out,
// through a proxy too) or a name that did not resolve. Only the types
// count, never the text.
func ConnectFailure(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect")
}

// HandshakeFailure reports whether err is a typed failure to verify the
// server's certificate, which only a TLS handshake produces.
func HandshakeFailure(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalidCert      x509.CertificateInvalidError
		hostname         x509.HostnameError
		verify           *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &invalidCert) ||
		errors.As(err, &hostname) || errors.As(err, &verify)
}

// permanentTransportError reports errors that another attempt cannot fix.
// Text is consulted here only to stop retrying, the safe direction.
func permanentTransportError(err error) bool {
	if HandshakeFailure(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol scheme") || strings.Contains(msg, "stopped after")
}

// Retryable is the whole decision for one finished attempt.
func (p Policy) Retryable(ctx context.Context, resp *http.Response, err error) bool {
	t, _ := ctx.Value(trackerKey{}).(*tracker)
	method := http.MethodPost // unknown requests are treated as unsafe to resend
	if t != nil {
		method = t.method
		if int(t.attempts.Load()) > t.maxRetries {
			return false // this request's retries are used up
		}
	}
	if err != nil {
		return RetryableError(method, err, false)
	}
	if resp == nil || !RetryableStatus(method, resp.StatusCode) {
		return false
	}
	if d, ok := After(resp, time.Now()); ok && d > p.MaxRetryAfter {
		return false
	}
	return true
}

// CheckRetry has the signature retryablehttp expects. A cancelled or
// expired context ends the request with the context's error, unless a
// response that is final (a success, or an error not worth retrying) has
// already arrived: that one is returned, so that a create the server
// accepted is never reported as a bare context error.
func (p Policy) CheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry := p.Retryable(ctx, resp, err)
	if ctxErr := ctx.Err(); ctxErr != nil && (retry || err != nil || resp == nil) {
		return false, ctxErr
	}
	return retry, nil
}

// Backoff has the signature retryablehttp expects: Wait at the current
// time with a random jitter.
func (p Policy) Backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	return Wait(min, max, attempt, resp, time.Now(), rand.Float64())
}

// Wait is the wait before retry number attempt+1, at time now, with jitter
// a number in [0, 1). A Retry-After header on the response wins (it is
// within MaxRetryAfter, or CheckRetry would have stopped), but never
// shortens the wait below min: "Retry-After: 0", a date in the past or an
// unreadable value must not produce back-to-back sends. Otherwise the wait
// is Exponential's. No path returns less than min.
func Wait(min, max time.Duration, attempt int, resp *http.Response, now time.Time, jitter float64) time.Duration {
	if d, ok := After(resp, now); ok {
		return maxDuration(d, min)
	}
	return Exponential(min, max, attempt, jitter)
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// Exponential returns the jittered wait before retry number attempt+1.
// The base is min·2^attempt bounded by max; the wait is spread by jitter
// (a number in [0, 1)) over the upper half of the base, [base/2, base),
// but never starts below min: while the base is still min, the spread is
// [min, 1.5·min) instead (bounded by max). So every wait is at least min
// and at most max, and many clients retrying at once spread out.
func Exponential(minWait, maxWait time.Duration, attempt int, jitter float64) time.Duration {
	minWait = max(minWait, 0)
	maxWait = max(maxWait, minWait)
	d := minWait
	for i := 0; i < attempt && d < maxWait; i++ {
		if d > maxWait/2 { // doubling would pass max, or overflow
			d = maxWait
			break
		}
		d *= 2
	}
	d = min(d, maxWait)
	lo, hi := max(d/2, minWait), d
	if hi <= lo {
		hi = min(lo+lo/2, maxWait)
	}
	jitter = min(max(jitter, 0), 1)
	return lo + time.Duration(jitter*float64(hi-lo))
}

// After reads a response's Retry-After header, in delay-seconds or
// HTTP-date form, as a duration from now. A date in the past is zero.
func After(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	return ParseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// MaxRetryAfterValue is the longest wait ParseRetryAfter reports: longer
// values, in either form, and digit strings too long for an integer are
// capped to it.
const MaxRetryAfterValue = 365 * 24 * time.Hour

// ParseRetryAfter parses a Retry-After value, in delay-seconds or HTTP-date
// form, as a duration from now, at most MaxRetryAfterValue.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if allDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(MaxRetryAfterValue/time.Second) {
			return MaxRetryAfterValue, true // too large for an int64: huge
		}
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := when.Sub(now)
	switch {
	case d <= 0:
		return 0, true
	case d > MaxRetryAfterValue:
		return MaxRetryAfterValue, true
	}
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

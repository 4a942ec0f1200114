// Package retry is the one place that decides whether a request may be sent
// again and how long to wait first. The client plugs it into
// retryablehttp; nothing else in the module makes that decision.
//
// The rule it enforces: an idempotent GET may be retried on connection
// errors and on 429, 500, 502, 503 and 504. Anything else, a POST above all,
// is retried only when the server cannot have processed it: a 429 (refused
// before processing), an HTTP/2 stream the server refused (REFUSED_STREAM,
// which RFC 9113 section 8.7 defines as unprocessed), or a connection
// failure that happened before a single byte of the request was written
// (refused, DNS). A POST is never resent after a timeout, a reset once the
// request was written, or any 5xx, because Twilio offers no idempotency key
// and a resent create could host the same numbers twice. The client's
// transport makes sure no layer below this policy resends anything.
package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
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

// tracker records, for the attempt in flight, whether any part of the
// request may have reached the server.
type tracker struct {
	method   string
	wrote    atomic.Bool
	attempts atomic.Int32
	// lastStatus is the status of the last attempt that got a response,
	// 0 when it failed without one; it names the cause of a retry in logs.
	lastStatus atomic.Int32
}

type trackerKey struct{}

// Track returns a context for one logical request (all its attempts) that
// records whether the request headers were written to a connection. The
// httptrace hooks it installs compose with any trace already in ctx.
func Track(ctx context.Context, method string) context.Context {
	t := &tracker{method: method}
	ctx = context.WithValue(ctx, trackerKey{}, t)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { t.wrote.Store(true) },
	})
}

// BeginAttempt marks the start of a new attempt of the request tracked in
// ctx: nothing of it has been written yet.
func BeginAttempt(ctx context.Context) {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		t.wrote.Store(false)
		t.attempts.Add(1)
	}
}

// Written reports whether the headers of the latest attempt of the request
// tracked in ctx were written to a connection: from then on the server may
// have the request. A context without a tracker reports true, the safe
// answer.
func Written(ctx context.Context) bool {
	if t, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		return t.wrote.Load()
	}
	return true
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
// given method. written says whether the request headers reached a
// connection; it only matters for methods that are not idempotent.
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
	if idempotent(method) || RefusedStream(err) {
		return true
	}
	return !written && connectFailure(err)
}

// RefusedStream reports whether err is an HTTP/2 stream reset with
// REFUSED_STREAM: the server guarantees it did not process the request
// (RFC 9113, section 8.7). Both net/http's bundled HTTP/2 and
// golang.org/x/net/http2 spell the error "stream error: stream ID n;
// REFUSED_STREAM; ...".
func RefusedStream(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "stream error: stream ID ") && strings.Contains(msg, "; REFUSED_STREAM;")
}

// connectFailure reports whether err is a failure to reach the server at all:
// a dial that failed (refused, unreachable, timed out) or a name that did not
// resolve. No request byte can have been sent in either case.
func connectFailure(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect")
}

// permanentTransportError reports errors that another attempt cannot fix.
func permanentTransportError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalidCert      x509.CertificateInvalidError
		hostname         x509.HostnameError
		verify           *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &invalidCert) ||
		errors.As(err, &hostname) || errors.As(err, &verify) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol scheme") || strings.Contains(msg, "stopped after")
}

// Retryable is the whole decision for one finished attempt.
func (p Policy) Retryable(ctx context.Context, resp *http.Response, err error) bool {
	t, _ := ctx.Value(trackerKey{}).(*tracker)
	method, written := http.MethodPost, true // unknown requests are treated as unsafe to resend
	if t != nil {
		method, written = t.method, t.wrote.Load()
	}
	if err != nil {
		return RetryableError(method, err, written)
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

// Backoff has the signature retryablehttp expects. A Retry-After header on
// the response wins (it is within MaxRetryAfter, or CheckRetry would have
// stopped), but never shortens the wait below min: "Retry-After: 0", a
// date in the past or an unreadable value must not produce back-to-back
// sends. Otherwise the wait doubles from min with each attempt, bounded by
// max, and half of it is random so that many clients spread out.
func (p Policy) Backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := After(resp, time.Now()); ok {
		return maxDuration(d, min)
	}
	if resp != nil && resp.Header.Get("Retry-After") != "" {
		return maxDuration(Exponential(min, max, attempt, rand.Float64()), min)
	}
	return Exponential(min, max, attempt, rand.Float64())
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// Exponential returns the jittered wait before retry number attempt+1:
// min·2^attempt bounded by max, of which the upper half is scaled by
// jitter (a number in [0, 1)).
func Exponential(min, max time.Duration, attempt int, jitter float64) time.Duration {
	if min <= 0 {
		return 0
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		if d > max/2 { // doubling would pass max, or overflow
			d = max
			break
		}
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(jitter*float64(d-half))
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

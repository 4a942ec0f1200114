package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var now = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"one second", "1", time.Second, true},
		{"zero seconds", "0", 0, true},
		{"surrounding space", "  5 ", 5 * time.Second, true},
		{"huge seconds are capped at a year", "99999999999", 365 * 24 * time.Hour, true},
		{"beyond int64 is capped at a year too", "99999999999999999999999", 365 * 24 * time.Hour, true},
		{"HTTP date years ahead is capped at a year", now.AddDate(30, 0, 0).Format(http.TimeFormat), 365 * 24 * time.Hour, true},
		{"HTTP date in the future", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"RFC 850 date", now.Add(time.Hour).Format(time.RFC850), time.Hour, true},
		{"ANSI C date", now.Add(2 * time.Minute).Format(time.ANSIC), 2 * time.Minute, true},
		{"HTTP date now", now.Format(http.TimeFormat), 0, true},
		{"HTTP date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"empty", "", 0, false},
		{"blank", "   ", 0, false},
		{"negative", "-1", 0, false},
		{"fraction", "1.5", 0, false},
		{"unit suffix", "10s", 0, false},
		{"garbage", "soon", 0, false},
		{"RFC 3339 is not an HTTP date", now.Add(time.Hour).Format(time.RFC3339), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.value, now)
			assert.Equal(t, tt.wantOK, ok, "ok for %q", tt.value)
			assert.Equal(t, tt.want, got, "duration for %q", tt.value)
		})
	}
}

func TestRetryAfter_ReadsTheResponseHeader(t *testing.T) {
	d, ok := After(nil, now)
	assert.False(t, ok)
	assert.Zero(t, d)

	resp := &http.Response{Header: http.Header{}}
	_, ok = After(resp, now)
	assert.False(t, ok, "no header")

	resp.Header.Set("Retry-After", "7")
	d, ok = After(resp, now)
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
}

func TestExponential(t *testing.T) {
	const min, max = 100 * time.Millisecond, 2 * time.Second
	tests := []struct {
		name    string
		min     time.Duration
		max     time.Duration
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{"first wait no jitter is half of min", min, max, 0, 0, 50 * time.Millisecond},
		{"first wait full jitter approaches min", min, max, 0, 0.999999, 99999950 * time.Nanosecond},
		{"first wait half jitter", min, max, 0, 0.5, 75 * time.Millisecond},
		{"second wait doubles", min, max, 1, 0, 100 * time.Millisecond},
		{"third wait doubles again", min, max, 2, 0, 200 * time.Millisecond},
		{"fifth wait", min, max, 4, 0, 800 * time.Millisecond},
		{"capped at max", min, max, 5, 0, time.Second},
		{"capped at max with jitter", min, max, 5, 0.999999, 1999999000 * time.Nanosecond},
		{"far attempt stays capped", min, max, 1000, 0, time.Second},
		{"zero min disables waiting", 0, max, 3, 0.5, 0},
		{"negative min disables waiting", -time.Second, max, 3, 0.5, 0},
		{"min above max uses max", 5 * time.Second, max, 0, 0, time.Second},
		{"min equal to max", max, max, 3, 0, time.Second},
		{"uncapped max does not overflow", time.Second, math.MaxInt64, 40, 0, math.MaxInt64 / 2},
		{"huge max does not overflow", time.Second, math.MaxInt64 - 1, 100, 0, (math.MaxInt64 - 1) / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Exponential(tt.min, tt.max, tt.attempt, tt.jitter))
		})
	}
}

func TestExponential_JitterStaysWithinUpperHalf(t *testing.T) {
	const min, max = 100 * time.Millisecond, 3 * time.Second
	for attempt := 0; attempt < 10; attempt++ {
		base := min << attempt
		if base > max {
			base = max
		}
		for _, jitter := range []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999999} {
			got := Exponential(min, max, attempt, jitter)
			assert.GreaterOrEqual(t, got, base/2, "attempt %d jitter %v", attempt, jitter)
			assert.Less(t, got, base+1, "attempt %d jitter %v", attempt, jitter)
		}
		assert.Less(t, Exponential(min, max, attempt, 0.25), Exponential(min, max, attempt, 0.75),
			"more jitter waits longer (attempt %d)", attempt)
	}
}

func TestExponential_NeverNegativeAndMonotonicInAttempt(t *testing.T) {
	for _, max := range []time.Duration{time.Second, time.Hour, 1 << 62, math.MaxInt64} {
		prev := time.Duration(0)
		for attempt := 0; attempt < 200; attempt++ {
			got := Exponential(time.Millisecond, max, attempt, 0)
			require.GreaterOrEqual(t, got, prev, "max %v attempt %d", max, attempt)
			require.LessOrEqual(t, got, max, "max %v attempt %d", max, attempt)
			prev = got
		}
	}
}

func TestPolicyBackoff(t *testing.T) {
	p := Policy{MaxRetryAfter: time.Minute}
	const minWait, maxWait = 100 * time.Millisecond, time.Second

	t.Run("without response uses jittered exponential backoff", func(t *testing.T) {
		for i := 0; i < 50; i++ {
			d := p.Backoff(minWait, maxWait, 2, nil)
			assert.GreaterOrEqual(t, d, 200*time.Millisecond)
			assert.Less(t, d, 400*time.Millisecond)
		}
	})
	t.Run("response without Retry-After uses backoff", func(t *testing.T) {
		resp := &http.Response{StatusCode: 503, Header: http.Header{}}
		d := p.Backoff(minWait, maxWait, 0, resp)
		assert.GreaterOrEqual(t, d, 50*time.Millisecond)
		assert.Less(t, d, 100*time.Millisecond)
	})
	t.Run("Retry-After seconds wins", func(t *testing.T) {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3"}}}
		assert.Equal(t, 3*time.Second, p.Backoff(minWait, maxWait, 0, resp))
	})
	t.Run("Retry-After in the past waits the minimum backoff", func(t *testing.T) {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)}}}
		assert.Equal(t, minWait, p.Backoff(minWait, maxWait, 2, resp))
	})
	t.Run("Retry-After 0 waits the minimum backoff", func(t *testing.T) {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"0"}}}
		assert.Equal(t, minWait, p.Backoff(minWait, maxWait, 0, resp))
	})
	t.Run("garbage Retry-After falls back to backoff, at least the minimum", func(t *testing.T) {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"later"}}}
		for i := 0; i < 50; i++ {
			d := p.Backoff(minWait, maxWait, 0, resp)
			assert.GreaterOrEqual(t, d, minWait)
			assert.Less(t, d, 2*minWait)
		}
	})
	t.Run("huge Retry-After ends the retries instead of waiting", func(t *testing.T) {
		for _, v := range []string{"99999999999999999999999", time.Now().AddDate(50, 0, 0).UTC().Format(http.TimeFormat)} {
			resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {v}}}
			retry, err := p.CheckRetry(Track(context.Background(), http.MethodGet), resp, nil)
			assert.NoError(t, err)
			assert.False(t, retry, "Retry-After %q is past MaxRetryAfter", v)
		}
	})
}

func TestRefusedStream(t *testing.T) {
	refused := errors.New(`Post "https://numbers.twilio.com/v2/HostedNumber/Orders/Bulk": stream error: stream ID 3; REFUSED_STREAM; received from peer`)
	assert.True(t, RefusedStream(refused))
	assert.True(t, RetryableError(http.MethodPost, refused, true), "an unprocessed stream may be sent again, even a POST")
	for _, msg := range []string{
		"stream error: stream ID 3; PROTOCOL_ERROR; received from peer",
		"stream error: stream ID 3; INTERNAL_ERROR; received from peer",
		"REFUSED_STREAM",
		"connection reset by peer",
	} {
		err := errors.New(msg)
		assert.False(t, RefusedStream(err), msg)
		assert.False(t, RetryableError(http.MethodPost, err, true), "a POST is not resent after %q", msg)
	}
}

func TestTracker_WrittenAndStatus(t *testing.T) {
	assert.True(t, Written(context.Background()), "without a tracker the safe answer is: written")
	ctx := Track(context.Background(), http.MethodPost)
	BeginAttempt(ctx)
	assert.False(t, Written(ctx))
	ObserveStatus(ctx, 429)
	assert.Equal(t, 429, LastStatus(ctx))
	assert.Equal(t, 0, LastStatus(context.Background()))
	ObserveStatus(context.Background(), 500) // no tracker: nothing to record, no panic
}

func TestRetryableStatus(t *testing.T) {
	retriedForGET := map[int]bool{429: true, 500: true, 502: true, 503: true, 504: true}
	statuses := []int{200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 422, 425, 429, 500, 501, 502, 503, 504, 505, 507, 511, 520}
	for _, status := range statuses {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			assert.Equal(t, retriedForGET[status], RetryableStatus(http.MethodGet, status), "GET")
			assert.Equal(t, retriedForGET[status], RetryableStatus(http.MethodHead, status), "HEAD")
			// Only a 429 is refused before processing: nothing else may
			// resend a create.
			for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, ""} {
				assert.Equal(t, status == 429, RetryableStatus(method, status), method)
			}
		})
	}
}

// errorCases are transport errors with the decision expected for an
// idempotent GET, and for a POST before and after its headers were written.
var errorCases = []struct {
	name                            string
	err                             error
	get, postUnwritten, postWritten bool
}{
	{"nil", nil, false, false, false},
	{
		"connection refused",
		&url.Error{Op: "Post", URL: "https://numbers.twilio.com", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}},
		true, true, false,
	},
	{
		"dial timeout",
		&net.OpError{Op: "dial", Net: "tcp", Err: &timeoutErr{}},
		true, true, false,
	},
	{
		"DNS failure",
		&url.Error{Op: "Post", URL: "https://numbers.twilio.com", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "numbers.twilio.com", IsNotFound: true}}},
		true, true, false,
	},
	{
		"bare DNS error",
		&net.DNSError{Err: "server misbehaving", Name: "numbers.twilio.com", IsTemporary: true},
		true, true, false,
	},
	{
		"proxy connect failure",
		&net.OpError{Op: "proxyconnect", Net: "tcp", Err: syscall.ECONNREFUSED},
		true, true, false,
	},
	{
		"reset after write",
		&url.Error{Op: "Post", URL: "https://numbers.twilio.com", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}},
		true, false, false,
	},
	{
		"broken pipe while writing",
		&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)},
		true, false, false,
	},
	{
		"server closed the connection",
		&url.Error{Op: "Get", URL: "https://numbers.twilio.com", Err: io.EOF},
		true, false, false,
	},
	{
		"unexpected EOF",
		io.ErrUnexpectedEOF,
		true, false, false,
	},
	{
		"per-attempt timeout",
		&url.Error{Op: "Post", URL: "https://numbers.twilio.com", Err: context.DeadlineExceeded},
		true, false, false,
	},
	{
		"caller cancelled",
		context.Canceled,
		false, false, false,
	},
	{
		"caller cancelled wrapped",
		&url.Error{Op: "Get", URL: "https://numbers.twilio.com", Err: fmt.Errorf("read: %w", context.Canceled)},
		false, false, false,
	},
	{
		"unknown certificate authority",
		&url.Error{Op: "Get", URL: "https://numbers.twilio.com", Err: x509.UnknownAuthorityError{}},
		false, false, false,
	},
	{
		"invalid certificate",
		x509.CertificateInvalidError{Reason: x509.Expired},
		false, false, false,
	},
	{
		"certificate for another host",
		x509.HostnameError{Certificate: &x509.Certificate{}, Host: "numbers.twilio.com"},
		false, false, false,
	},
	{
		"TLS verification error",
		&url.Error{Op: "Get", URL: "https://numbers.twilio.com", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}},
		false, false, false,
	},
	{
		// Only the verification error's own type says this is permanent:
		// its cause is none of the x509 types checked alongside it.
		"TLS verification error with a custom cause",
		&url.Error{Op: "Get", URL: "https://numbers.twilio.com", Err: &tls.CertificateVerificationError{Err: errors.New("pinned key mismatch")}},
		false, false, false,
	},
	{
		"unsupported scheme",
		&url.Error{Op: "Get", URL: "ftp://numbers.twilio.com", Err: errors.New(`unsupported protocol scheme "ftp"`)},
		false, false, false,
	},
	{
		"too many redirects",
		&url.Error{Op: "Get", URL: "https://numbers.twilio.com", Err: errors.New("stopped after 10 redirects")},
		false, false, false,
	},
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

func TestRetryableError(t *testing.T) {
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.get, RetryableError(http.MethodGet, tt.err, true), "GET (written)")
			assert.Equal(t, tt.get, RetryableError(http.MethodGet, tt.err, false), "GET (not written)")
			assert.Equal(t, tt.postUnwritten, RetryableError(http.MethodPost, tt.err, false), "POST before writing")
			assert.Equal(t, tt.postWritten, RetryableError(http.MethodPost, tt.err, true), "POST after writing")
		})
	}
}

func TestTrack_CountsAttempts(t *testing.T) {
	assert.Equal(t, 0, Attempts(context.Background()), "untracked context")
	assert.NotPanics(t, func() { BeginAttempt(context.Background()) })

	ctx := Track(context.Background(), http.MethodGet)
	assert.Equal(t, 0, Attempts(ctx))
	for i := 1; i <= 3; i++ {
		BeginAttempt(ctx)
		assert.Equal(t, i, Attempts(ctx))
	}
	// Attempts of a derived context belong to the same request.
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	BeginAttempt(child)
	assert.Equal(t, 4, Attempts(ctx))

	// A second Track starts a new request.
	assert.Equal(t, 0, Attempts(Track(ctx, http.MethodGet)))
}

func TestTrack_RecordsWrittenHeadersPerAttempt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()

	p := Policy{}
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

	ctx := Track(context.Background(), http.MethodPost)
	BeginAttempt(ctx)
	assert.True(t, p.Retryable(ctx, nil, dialErr), "nothing written yet: a dial failure may be retried")

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()

	assert.False(t, p.Retryable(ctx, resp, nil), "POST 500 is never retried")
	assert.False(t, p.Retryable(ctx, nil, io.EOF), "headers were written: no retry")
	assert.False(t, p.Retryable(ctx, nil, dialErr), "headers were written in this attempt")

	BeginAttempt(ctx)
	assert.True(t, p.Retryable(ctx, nil, dialErr), "a new attempt starts with nothing written")
}

func TestTrack_ComposesWithCallerTrace(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	var callerSawHeaders, callerSawConn bool
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteHeaders: func() { callerSawHeaders = true },
		GotConn:      func(httptrace.GotConnInfo) { callerSawConn = true },
	})
	ctx = Track(ctx, http.MethodPost)
	BeginAttempt(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()

	assert.True(t, callerSawHeaders, "caller's WroteHeaders hook still runs")
	assert.True(t, callerSawConn, "caller's other hooks still run")
	tr, ok := ctx.Value(trackerKey{}).(*tracker)
	require.True(t, ok)
	assert.True(t, tr.wrote.Load(), "tracker saw the headers written")
}

func TestPolicyRetryable(t *testing.T) {
	p := Policy{MaxRetryAfter: 10 * time.Second}
	respWith := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tracked := func(method string) context.Context {
		ctx := Track(context.Background(), method)
		BeginAttempt(ctx)
		return ctx
	}

	tests := []struct {
		name string
		ctx  context.Context
		resp *http.Response
		err  error
		want bool
	}{
		{"GET 503", tracked(http.MethodGet), respWith(503, ""), nil, true},
		{"GET 200", tracked(http.MethodGet), respWith(200, ""), nil, false},
		{"GET 404", tracked(http.MethodGet), respWith(404, ""), nil, false},
		{"GET 501", tracked(http.MethodGet), respWith(501, ""), nil, false},
		{"GET 503 with short Retry-After", tracked(http.MethodGet), respWith(503, "5"), nil, true},
		{"GET 503 with Retry-After beyond the cap", tracked(http.MethodGet), respWith(503, "11"), nil, false},
		{"POST 429", tracked(http.MethodPost), respWith(429, ""), nil, true},
		{"POST 429 with Retry-After at the cap", tracked(http.MethodPost), respWith(429, "10"), nil, true},
		{"POST 429 with Retry-After beyond the cap", tracked(http.MethodPost), respWith(429, "11"), nil, false},
		{"POST 429 with far HTTP date", tracked(http.MethodPost), respWith(429, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)), nil, false},
		{"POST 429 with past HTTP date", tracked(http.MethodPost), respWith(429, time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)), nil, true},
		{"POST 500", tracked(http.MethodPost), respWith(500, ""), nil, false},
		{"POST 503", tracked(http.MethodPost), respWith(503, ""), nil, false},
		{"POST dial error before writing", tracked(http.MethodPost), nil, dialErr, true},
		{"nil response and nil error", tracked(http.MethodGet), nil, nil, false},
		// A context the client did not track is treated as an unsafe
		// request whose headers may have been written.
		{"untracked 429", context.Background(), respWith(429, ""), nil, true},
		{"untracked 503", context.Background(), respWith(503, ""), nil, false},
		{"untracked dial error", context.Background(), nil, dialErr, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Retryable(tt.ctx, tt.resp, tt.err))
		})
	}
}

func TestPolicyCheckRetry_EndsOnContextError(t *testing.T) {
	p := Policy{MaxRetryAfter: time.Minute}
	resp := &http.Response{StatusCode: 503, Header: http.Header{}}

	ctx := Track(context.Background(), http.MethodGet)
	retry, err := p.CheckRetry(ctx, resp, nil)
	assert.True(t, retry)
	assert.NoError(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	retry, err = p.CheckRetry(cancelled, resp, nil)
	assert.False(t, retry)
	assert.ErrorIs(t, err, context.Canceled)

	expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	retry, err = p.CheckRetry(expired, nil, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED})
	assert.False(t, retry)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestPolicyCheckRetry_KeepsAFinalResponseThatArrivedAsTheContextEnded(t *testing.T) {
	p := Policy{MaxRetryAfter: time.Minute}
	ctx, cancel := context.WithCancel(Track(context.Background(), http.MethodPost))
	cancel()
	for _, status := range []int{200, 202, 400, 404, 500} {
		retry, err := p.CheckRetry(ctx, &http.Response{StatusCode: status, Header: http.Header{}}, nil)
		assert.False(t, retry, "%d", status)
		assert.NoError(t, err, "a %d that arrived is the answer", status)
	}
	// A response that would be retried is not: the context's error ends it.
	retry, err := p.CheckRetry(ctx, &http.Response{StatusCode: 429, Header: http.Header{}}, nil)
	assert.False(t, retry)
	assert.ErrorIs(t, err, context.Canceled)
	// Neither response nor error: the context's error.
	retry, err = p.CheckRetry(ctx, nil, nil)
	assert.False(t, retry)
	assert.ErrorIs(t, err, context.Canceled)
}

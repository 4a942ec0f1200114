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
		{"first wait no jitter is min", min, max, 0, 0, 100 * time.Millisecond},
		{"first wait full jitter approaches 1.5 min", min, max, 0, 0.999999, 149999950 * time.Nanosecond},
		{"first wait half jitter", min, max, 0, 0.5, 125 * time.Millisecond},
		{"second wait doubles", min, max, 1, 0, 100 * time.Millisecond},
		{"third wait doubles again", min, max, 2, 0, 200 * time.Millisecond},
		{"fifth wait", min, max, 4, 0, 800 * time.Millisecond},
		{"capped at max", min, max, 5, 0, time.Second},
		{"capped at max with jitter", min, max, 5, 0.999999, 1999999000 * time.Nanosecond},
		{"far attempt stays capped", min, max, 1000, 0, time.Second},
		{"zero min disables waiting", 0, max, 3, 0.5, 0},
		{"negative min disables waiting", -time.Second, max, 3, 0.5, 0},
		{"min above max waits min", 5 * time.Second, max, 0, 0, 5 * time.Second},
		{"min equal to max", max, max, 3, 0, max},
		{"min equal to max with jitter", max, max, 0, 0.9, max},
		{"uncapped max does not overflow", time.Second, math.MaxInt64, 40, 0, math.MaxInt64 / 2},
		{"huge max does not overflow", time.Second, math.MaxInt64 - 1, 100, 0, (math.MaxInt64 - 1) / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Exponential(tt.min, tt.max, tt.attempt, tt.jitter))
		})
	}
}

func TestExponential_JitterStaysWithinUpperHalfAndNeverBelowMin(t *testing.T) {
	const min, max = 100 * time.Millisecond, 3 * time.Second
	for attempt := 0; attempt < 10; attempt++ {
		base := min << attempt
		if base > max {
			base = max
		}
		lo, hi := base/2, base
		if attempt == 0 {
			lo, hi = min, min+min/2
		}
		for _, jitter := range []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999999} {
			got := Exponential(min, max, attempt, jitter)
			assert.GreaterOrEqual(t, got, min, "attempt %d jitter %v", attempt, jitter)
			assert.GreaterOrEqual(t, got, lo, "attempt %d jitter %v", attempt, jitter)
			assert.LessOrEqual(t, got, hi, "attempt %d jitter %v", attempt, jitter)
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
	t.Run("response without Retry-After uses backoff, at least the minimum", func(t *testing.T) {
		resp := &http.Response{StatusCode: 503, Header: http.Header{}}
		d := p.Backoff(minWait, maxWait, 0, resp)
		assert.GreaterOrEqual(t, d, minWait)
		assert.Less(t, d, minWait+minWait/2)
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
			retry, err := p.CheckRetry(Track(context.Background(), http.MethodGet, 3), resp, nil)
			assert.NoError(t, err)
			assert.False(t, retry, "Retry-After %q is past MaxRetryAfter", v)
		}
	})
}

// TestWait_NeverBelowTheMinimum computes every wait the policy can choose,
// with the jitter at its extremes and a fixed clock, for a 429 with and
// without Retry-After: none is shorter than the minimum backoff.
func TestWait_NeverBelowTheMinimum(t *testing.T) {
	const minWait, maxWait = 500 * time.Millisecond, 15 * time.Second
	responses := map[string]*http.Response{
		"no response":                 nil,
		"429 without Retry-After":     {StatusCode: 429, Header: http.Header{}},
		"503 without Retry-After":     {StatusCode: 503, Header: http.Header{}},
		"429 Retry-After 0":           {StatusCode: 429, Header: http.Header{"Retry-After": {"0"}}},
		"429 Retry-After in the past": {StatusCode: 429, Header: http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}},
		"429 Retry-After unreadable":  {StatusCode: 429, Header: http.Header{"Retry-After": {"soon"}}},
		"429 Retry-After 1":           {StatusCode: 429, Header: http.Header{"Retry-After": {"1"}}},
	}
	for name, resp := range responses {
		for attempt := 0; attempt < 12; attempt++ {
			for _, jitter := range []float64{0, 1e-9, 0.25, 0.5, 0.999999999} {
				got := Wait(minWait, maxWait, attempt, resp, now, jitter)
				require.GreaterOrEqual(t, got, minWait, "%s, attempt %d, jitter %v", name, attempt, jitter)
			}
		}
	}
	assert.Equal(t, time.Second, Wait(minWait, maxWait, 0, responses["429 Retry-After 1"], now, 0), "a Retry-After above the minimum wins")
	// The random policy draws from the same rule: sample it.
	p := Policy{MaxRetryAfter: time.Minute}
	for i := 0; i < 1000; i++ {
		require.GreaterOrEqual(t, p.Backoff(minWait, maxWait, i%3, responses["429 without Retry-After"]), minWait)
	}
}

// TestRetryableError_ServerWordedTextNeverMakesAPostRetryable: a refused
// HTTP/2 stream used to be recognised by its text, which a server can
// write (GOAWAY debug data, a malformed header net/http quotes). No text,
// however worded, makes a POST retryable; only the transport layer's
// NotSent evidence does, whatever the error's text.
func TestRetryableError_ServerWordedTextNeverMakesAPostRetryable(t *testing.T) {
	for _, msg := range []string{
		`Post "https://numbers.twilio.com/v2/HostedNumber/Orders/Bulk": stream error: stream ID 3; REFUSED_STREAM; received from peer`,
		`http2: server sent GOAWAY and closed the connection; LastStreamID=0, ErrCode=NO_ERROR, debug="stream error: stream ID 1; REFUSED_STREAM; x"`,
		`net/http: HTTP/1.x transport connection broken: bad Content-Length "stream error: stream ID 1; REFUSED_STREAM; x"`,
		"dial tcp 127.0.0.1:443: connect: connection refused",
		"lookup numbers.twilio.com: no such host",
	} {
		err := errors.New(msg)
		assert.False(t, RetryableError(http.MethodPost, err, false), "a POST is not resent after %q", msg)
		assert.False(t, IsNotSent(err), "text is never evidence: %q", msg)
		assert.True(t, RetryableError(http.MethodPost, NotSent(err), false), "the transport's evidence decides, not the text: %q", msg)
		assert.False(t, RetryableError(http.MethodPost, NotSent(err), true), "written overrides the evidence")
		assert.True(t, RetryableError(http.MethodGet, err, true), "a GET may be")
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	assert.False(t, RetryableError(http.MethodPost, dial, false), "a typed dial error without the transport's evidence")
	assert.True(t, RetryableError(http.MethodPost, NotSent(dial), false))
	assert.False(t, RetryableError(http.MethodPost, NotSent(dial), true), "written overrides the evidence")
	assert.True(t, IsNotSent(fmt.Errorf("wrapped: %w", NotSent(dial))))
	marked := NotSent(dial)
	assert.Same(t, marked, NotSent(marked), "marked once")
	assert.NoError(t, NotSent(nil))
	assert.Equal(t, dial.Error(), NotSent(dial).Error())
}

func TestTracker_UnprocessedAndStatus(t *testing.T) {
	assert.False(t, Unprocessed(context.Background()), "without a tracker the safe answer is: may be processed")
	MarkUnprocessed(context.Background()) // no tracker: no panic
	ctx := Track(context.Background(), http.MethodPost, 3)
	assert.True(t, Unprocessed(ctx), "no attempt began: nothing was sent")
	BeginAttempt(ctx)
	assert.False(t, Unprocessed(ctx), "an attempt began: no evidence yet")
	MarkUnprocessed(ctx)
	assert.True(t, Unprocessed(ctx))
	BeginAttempt(ctx)
	assert.False(t, Unprocessed(ctx), "evidence is per attempt")
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
// idempotent GET, for a POST whose attempt the transport layer marked
// NotSent (it had evidence that nothing left the process, whatever the
// error: a per-attempt timeout or an EOF while connecting), and for a POST
// after its headers were written.
var errorCases = []struct {
	name                          string
	err                           error
	get, postNotSent, postWritten bool
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
		true, true, false,
	},
	{
		"broken pipe while writing",
		&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)},
		true, true, false,
	},
	{
		"server closed the connection",
		&url.Error{Op: "Get", URL: "https://numbers.twilio.com", Err: io.EOF},
		true, true, false,
	},
	{
		"unexpected EOF",
		io.ErrUnexpectedEOF,
		true, true, false,
	},
	{
		"per-attempt timeout",
		&url.Error{Op: "Post", URL: "https://numbers.twilio.com", Err: context.DeadlineExceeded},
		true, true, false,
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
			assert.Equal(t, tt.postNotSent, RetryableError(http.MethodPost, NotSent(tt.err), false), "POST with the transport's not-sent evidence")
			assert.False(t, RetryableError(http.MethodPost, tt.err, false), "POST without evidence")
			assert.Equal(t, tt.postWritten, RetryableError(http.MethodPost, tt.err, true), "POST after writing")
		})
	}
}

func TestTrack_CountsAttempts(t *testing.T) {
	assert.Equal(t, 0, Attempts(context.Background()), "untracked context")
	assert.NotPanics(t, func() { BeginAttempt(context.Background()) })

	ctx := Track(context.Background(), http.MethodGet, 3)
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
	assert.Equal(t, 0, Attempts(Track(ctx, http.MethodGet, 3)))
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
		ctx := Track(context.Background(), method, 3)
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
		{"POST dial error with the transport's evidence", tracked(http.MethodPost), nil, NotSent(dialErr), true},
		{"POST dial error without evidence", tracked(http.MethodPost), nil, dialErr, false},
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

	ctx := Track(context.Background(), http.MethodGet, 3)
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
	ctx, cancel := context.WithCancel(Track(context.Background(), http.MethodPost, 3))
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

func TestRetryableStopsAtTheRequestsOwnLimit(t *testing.T) {
	p := Policy{MaxRetryAfter: time.Minute}
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}}
	for _, maxRetries := range []int{-1, 0, 1, 2} {
		ctx := Track(context.Background(), http.MethodGet, maxRetries)
		var retried int
		for attempt := 1; attempt <= 5; attempt++ {
			BeginAttempt(ctx)
			if !p.Retryable(ctx, resp, nil) {
				break
			}
			retried++
		}
		assert.Equal(t, max(maxRetries, 0), retried, "maxRetries %d", maxRetries)
	}
}

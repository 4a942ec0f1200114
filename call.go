package hostednumbers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// CallOption changes one call from the client's defaults: how often it may
// be resent (WithCallMaxRetries), its per-attempt time limit
// (WithCallTimeout), extra request headers (WithCallHeader) and a tag for
// observability (WithCallTag). Every method of every service and
// interface takes them as its last, variadic parameter; a nil CallOption
// is ignored. Invalid call options are reported, all at once, in a
// *ValidationError before anything is sent (for a call that changes
// something, with ErrNotApplied).
type CallOption interface {
	applyCall(*callSettings)
}

type callOptionFunc func(*callSettings)

func (f callOptionFunc) applyCall(s *callSettings) { f(s) }

// callSettings are the settings of one call, after its CallOptions.
type callSettings struct {
	maxRetries    int
	maxRetriesSet bool
	timeout       time.Duration
	timeoutSet    bool
	header        http.Header
	tag           string
	problems      []FieldError
}

// WithCallMaxRetries sets how many times this call's request may be resent
// (0: sent once), instead of the client's WithMaxRetries. The retry policy
// still decides whether a failure may be retried at all: a create is
// resent only on evidence that Twilio has nothing from it, whatever n
// says. n must not be negative.
func WithCallMaxRetries(n int) CallOption {
	return callOptionFunc(func(s *callSettings) {
		if n < 0 {
			s.problems = append(s.problems, FieldError{Field: "call_max_retries", Message: "must not be negative"})
			return
		}
		s.maxRetries, s.maxRetriesSet = n, true
	})
}

// WithCallTimeout bounds each attempt of this call's request (connect to
// last body byte) instead of the client's WithTimeout; 0 removes the
// per-attempt limit. It applies within the SDK's own transport layer, so
// the Timeout of an http.Client given with WithHTTPClient (without
// WithTimeout) still bounds the attempt as well. The caller's context
// bounds the call as a whole. d must not be negative.
func WithCallTimeout(d time.Duration) CallOption {
	return callOptionFunc(func(s *callSettings) {
		if d < 0 {
			s.problems = append(s.problems, FieldError{Field: "call_timeout", Message: "must not be negative"})
			return
		}
		s.timeout, s.timeoutSet = d, true
	})
}

// reservedHeaders are the request headers the SDK or net/http sets itself;
// WithCallHeader refuses them.
var reservedHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true,
	"Content-Type": true, "Content-Length": true, "Content-Encoding": true,
	"Transfer-Encoding": true, "Te": true, "Trailer": true,
	"User-Agent": true, "Accept": true, "Accept-Encoding": true,
	"Host": true, "Connection": true, "Keep-Alive": true, "Upgrade": true,
	"Proxy-Connection": true, "Expect": true,
}

// WithCallHeader adds a request header to every attempt of this call (a
// correlation id for a proxy, say); several values of one name are sent
// in the order given. Headers the SDK or net/http owns (Authorization,
// Proxy-Authorization, Cookie, Content-Type, Content-Length,
// Content-Encoding, Transfer-Encoding, TE, Trailer, User-Agent, Accept,
// Accept-Encoding, Host, Connection, Keep-Alive, Upgrade,
// Proxy-Connection, Expect) are refused, as are names that are not HTTP
// tokens and values with control characters other than tab (CR and LF
// above all). A refused header's value is never quoted in the error.
func WithCallHeader(name, value string) CallOption {
	return callOptionFunc(func(s *callSettings) {
		switch {
		case !isToken(name):
			s.problems = append(s.problems, FieldError{Field: "call_header", Message: "name must be a non-empty HTTP token"})
			return
		case reservedHeaders[textproto.CanonicalMIMEHeaderKey(name)]:
			s.problems = append(s.problems, FieldError{Field: "call_header",
				Message: fmt.Sprintf("%s is set by the SDK and cannot be given per call", textproto.CanonicalMIMEHeaderKey(name))})
			return
		case strings.ContainsFunc(value, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }):
			s.problems = append(s.problems, FieldError{Field: "call_header",
				Message: fmt.Sprintf("value of %s must not contain control characters (CR, LF, …)", textproto.CanonicalMIMEHeaderKey(name))})
			return
		}
		if s.header == nil {
			s.header = http.Header{}
		}
		s.header.Add(name, value)
	})
}

// MaxCallTagLength is the longest tag WithCallTag accepts, in bytes.
const MaxCallTagLength = 128

// WithCallTag labels this call for observability: the tag is given to
// the client's Hooks (CallInfo.Tag) and logged with the call's records.
// It is never sent to Twilio. It must be printable ASCII, at most
// MaxCallTagLength bytes; keep it to a few values (a feature, a job name)
// if it becomes a metric attribute.
func WithCallTag(tag string) CallOption {
	return callOptionFunc(func(s *callSettings) {
		if len(tag) > MaxCallTagLength || strings.ContainsFunc(tag, isControlOrNonASCII) {
			s.problems = append(s.problems, FieldError{Field: "call_tag",
				Message: fmt.Sprintf("must be printable ASCII of at most %d bytes", MaxCallTagLength)})
			return
		}
		s.tag = tag
	})
}

// isToken reports whether s is an HTTP token (RFC 9110), as a header name
// must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// resolveCall applies opts over the client's defaults.
func (c *Client) resolveCall(opts []CallOption) (callSettings, error) {
	s := callSettings{maxRetries: c.maxRetries}
	for _, o := range opts {
		if o != nil {
			o.applyCall(&s)
		}
	}
	if len(s.problems) > 0 {
		return s, &ValidationError{Problems: s.problems}
	}
	return s, nil
}

// Hooks observe every call a client makes: one OnCallStart, one
// OnAttempt per attempt, one OnCallEnd, in that order, on the goroutine
// that made the call (OnAttempt on the goroutine net/http's transport
// runs the attempt on, which is that one for the SDK's transports). Every
// field is optional. They are enough to build an OpenTelemetry span per
// call with its attempts as events, and metrics of calls and attempts:
// see examples/otel.
//
// A call reaches the hooks once it is about to send its first attempt: a
// call refused before that (invalid input or call options, a nil
// context) returns its *ValidationError without reaching them.
//
// Hooks see no credentials: errors are redacted as the call's own error
// is, and request ids as the Response carries them. A hook that panics
// does not break the call: the panic is recovered and logged (at Error,
// to the client's WithLogger logger, if any) and the call goes on as if
// the hook had returned (OnCallStart's context is then the call's own).
// Hooks must be safe for concurrent use: calls run at once on many
// goroutines.
type Hooks struct {
	// OnCallStart runs before the first attempt. The context it returns
	// (nil: the call's own) is the one the call's attempts run in, so a
	// tracer can put the call's span in it and a RoundTripper that traces
	// attempts (otelhttp) nests its spans under it; OnAttempt and
	// OnCallEnd get it too.
	OnCallStart func(ctx context.Context, call CallInfo) context.Context
	// OnAttempt runs when an attempt has its answer's headers, or has
	// failed.
	OnAttempt func(ctx context.Context, attempt AttemptInfo)
	// OnCallEnd runs once the call has its result (for a call that returns
	// data, after the body was read and decoded).
	OnCallEnd func(ctx context.Context, end CallEnd)
}

// CallInfo names one call.
type CallInfo struct {
	// Operation says what the call does, in the words its errors start
	// with: "create bulk order", "fetch hosted number order", "list hosted
	// number orders", …
	Operation string
	// Method is the HTTP method: GET, POST or DELETE.
	Method string
	// Path is the path template, with a placeholder for each SID
	// ("/v2/HostedNumber/Orders/{Sid}"), so that it can be a metric
	// attribute or a span name; the next pages of a list have their
	// list's path. The SIDs the call is about are in the request's URL,
	// which a RoundTripper sees.
	Path string
	// Tag is the call's WithCallTag, empty without one.
	Tag string
}

// AttemptInfo describes one attempt of a call.
type AttemptInfo struct {
	// Call is the call the attempt belongs to.
	Call CallInfo
	// Attempt counts the call's attempts from 1.
	Attempt int
	// StatusCode is the HTTP status of the answer, 0 if the attempt failed
	// without one.
	StatusCode int
	// RequestID is the answer's Twilio-Request-Id, empty without one.
	RequestID string
	// Latency is the time from the start of the attempt to the answer's
	// headers, or to the attempt's failure.
	Latency time.Duration
	// Err is the attempt's failure without an answer (redacted), nil if
	// an answer came, whatever its status.
	Err error
}

// CallEnd describes the end of a call.
type CallEnd struct {
	// Call is the call that ended.
	Call CallInfo
	// Outcome is the call's outcome label; see Outcome.
	Outcome Outcome
	// StatusCode is the HTTP status of the final answer, 0 without one.
	StatusCode int
	// RequestID is the final answer's Twilio-Request-Id, empty without
	// one.
	RequestID string
	// Attempts is how many attempts began.
	Attempts int
	// Duration is the time from OnCallStart to the end of the call.
	Duration time.Duration
	// Err is the call's error (redacted), without the operation prefix
	// the method adds; nil on success.
	Err error
}

// Outcome labels the result of a call for metrics and spans: a small,
// fixed set of values.
type Outcome string

// The outcome labels. A call that changes something (POST, DELETE) that
// fails is OutcomeNotApplied or OutcomeUnknown; a read that fails has the
// label of its kind of error.
const (
	// OutcomeOK: the call succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeNotApplied: a call that changes something failed, with
	// evidence that Twilio has nothing from it (the error matches
	// ErrNotApplied).
	OutcomeNotApplied Outcome = "not_applied"
	// OutcomeUnknown: a call that changes something failed, and it may
	// have been processed (the error matches ErrOutcomeUnknown).
	OutcomeUnknown Outcome = "outcome_unknown"
	// OutcomeInvalidInput: a read refused before anything was sent.
	OutcomeInvalidInput Outcome = "invalid_input"
	// OutcomeNotFound: a read answered 404.
	OutcomeNotFound Outcome = "not_found"
	// OutcomeUnauthorized: a read answered 401 or 403.
	OutcomeUnauthorized Outcome = "unauthorized"
	// OutcomeRateLimited: a read answered 429 after every retry.
	OutcomeRateLimited Outcome = "rate_limited"
	// OutcomeServerError: a read answered 5xx after every retry.
	OutcomeServerError Outcome = "server_error"
	// OutcomeAPIError: a read answered another non-2xx status.
	OutcomeAPIError Outcome = "api_error"
	// OutcomeDecodeError: a read was answered 2xx with a body the SDK
	// could not use.
	OutcomeDecodeError Outcome = "decode_error"
	// OutcomeCanceled: the caller's context was cancelled.
	OutcomeCanceled Outcome = "canceled"
	// OutcomeTimeout: the caller's deadline or the per-attempt limit
	// passed.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeTransportError: the request failed without an answer for
	// another reason (connection refused, reset, TLS, …).
	OutcomeTransportError Outcome = "transport_error"
)

// OutcomeOf returns the outcome label of an error any method of this
// package returned (nil: OutcomeOK), as the Hooks get it: for code that
// observes calls through a mock or a wrapper rather than the hooks.
func OutcomeOf(err error) Outcome {
	var (
		apiErr    *APIError
		decodeErr *DecodeError
	)
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrOutcomeUnknown):
		return OutcomeUnknown
	case errors.Is(err, ErrNotApplied):
		return OutcomeNotApplied
	case errors.Is(err, ErrInvalidInput):
		return OutcomeInvalidInput
	case errors.As(err, &apiErr):
		switch {
		case errors.Is(err, ErrNotFound):
			return OutcomeNotFound
		case errors.Is(err, ErrUnauthorized):
			return OutcomeUnauthorized
		case errors.Is(err, ErrRateLimited):
			return OutcomeRateLimited
		case errors.Is(err, ErrServer):
			return OutcomeServerError
		}
		return OutcomeAPIError
	case errors.As(err, &decodeErr):
		return OutcomeDecodeError
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrAttemptTimeout):
		return OutcomeTimeout
	}
	return OutcomeTransportError
}

// callState is one call as do runs it; it travels in the context of its
// attempts, where the transport layer finds it.
type callState struct {
	client   *Client
	info     CallInfo
	settings callSettings
}

type callKey struct{}

func withCall(ctx context.Context, s *callState) context.Context {
	return context.WithValue(ctx, callKey{}, s)
}

func callFrom(ctx context.Context) *callState {
	s, _ := ctx.Value(callKey{}).(*callState)
	return s
}

// hookStart runs OnCallStart and returns the context the call runs in.
func (c *Client) hookStart(ctx context.Context, s *callState) context.Context {
	if c.hooks.OnCallStart == nil {
		return ctx
	}
	out := ctx
	c.runHook(ctx, "OnCallStart", func() {
		if derived := c.hooks.OnCallStart(ctx, s.info); derived != nil {
			out = derived
		}
	})
	return out
}

// hookAttempt runs OnAttempt for an attempt of the call in ctx.
func (c *Client) hookAttempt(ctx context.Context, a AttemptInfo) {
	s := callFrom(ctx)
	if c.hooks.OnAttempt == nil || s == nil {
		return
	}
	a.Call = s.info
	a.Err = redactErr(c.redact, a.Err)
	c.runHook(ctx, "OnAttempt", func() { c.hooks.OnAttempt(ctx, a) })
}

// hookEnd runs OnCallEnd.
func (c *Client) hookEnd(ctx context.Context, s *callState, meta *Response, attempts int, start time.Time, err error) {
	if c.hooks.OnCallEnd == nil {
		return
	}
	end := CallEnd{Call: s.info, Outcome: OutcomeOf(err), Attempts: attempts, Duration: time.Since(start), Err: redactErr(c.redact, err)}
	var (
		apiErr    *APIError
		decodeErr *DecodeError
	)
	switch {
	case meta != nil:
		end.StatusCode, end.RequestID = meta.StatusCode, meta.RequestID
	case errors.As(err, &apiErr):
		end.StatusCode, end.RequestID = apiErr.HTTPStatus, apiErr.RequestID
	case errors.As(err, &decodeErr):
		end.StatusCode, end.RequestID = decodeErr.HTTPStatus, decodeErr.RequestID
	}
	c.runHook(ctx, "OnCallEnd", func() { c.hooks.OnCallEnd(ctx, end) })
}

// runHook runs a hook, recovering a panic: the call goes on.
func (c *Client) runHook(ctx context.Context, name string, f func()) {
	defer func() {
		if v := recover(); v != nil && c.logger != nil {
			c.logger.LogAttrs(ctx, slog.LevelError, "hostednumbers: hook panicked; the call goes on",
				slog.String("hook", name), slog.String("panic", c.redact(fmt.Sprint(v))))
		}
	}()
	f()
}

package hostednumbers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

const callTestSID = "BH0123456789abcdef0123456789abcdef"

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func oneNumberCreate() *hn.CreateBulkHostedNumberOrderParams {
	return &hn.CreateBulkHostedNumberOrderParams{RequestItems: []hn.RequestItem{{
		Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
		Numbers: []hn.Number{{PhoneNumber: "+14155550101"}},
	}}}
}

// requestsTo counts the requests the fake received with this method.
func requestsTo(srv *hostednumberstest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

func TestCallMaxRetries_OverridesTheClientsLimitBothWays(t *testing.T) {
	tests := []struct {
		name      string
		client    int
		call      []hn.CallOption
		wantSends int
	}{
		{"client default", 2, nil, 3},
		{"none for this call", 2, []hn.CallOption{hn.WithCallMaxRetries(0)}, 1},
		{"more than the client allows", 1, []hn.CallOption{hn.WithCallMaxRetries(4)}, 5},
		{"the last option wins", 1, []hn.CallOption{hn.WithCallMaxRetries(4), hn.WithCallMaxRetries(1)}, 2},
		{"a nil option is ignored", 1, []hn.CallOption{nil}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostednumberstest.NewServer()
			defer srv.Close()
			srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable, Count: 20})
			client := srv.Client(hn.WithMaxRetries(tt.client))

			_, err := client.BulkHostedNumberOrders.Fetch(callCtx(t), callTestSID, nil, tt.call...)
			require.ErrorIs(t, err, hn.ErrServer)
			assert.Equal(t, tt.wantSends, requestsTo(srv, http.MethodGet))
		})
	}
}

func TestCallMaxRetries_ACreateIsStillResentOnlyWithEvidence(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()

	// 503 on a create: never resent, whatever the call allows.
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusServiceUnavailable, Count: 5})
	_, err := client.BulkHostedNumberOrders.Create(callCtx(t), oneNumberCreate(), hn.WithCallMaxRetries(4))
	require.ErrorIs(t, err, hn.ErrOutcomeUnknown)
	assert.Equal(t, 1, requestsTo(srv, http.MethodPost))

	// 429: resent as the call allows, and no more.
	srv.Reset()
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusTooManyRequests, Count: 5})
	_, err = client.BulkHostedNumberOrders.Create(callCtx(t), oneNumberCreate(), hn.WithCallMaxRetries(0))
	require.ErrorIs(t, err, hn.ErrNotApplied)
	assert.Equal(t, 1, requestsTo(srv, http.MethodPost))
}

func TestCallTimeout_BoundsEachAttemptOfThisCallOnly(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client(hn.WithTimeout(5 * time.Second))
	order := create(t, client)

	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Latency: 5 * time.Second})
	_, err := client.BulkHostedNumberOrders.Fetch(callCtx(t), order.BulkHostingSID, nil, hn.WithCallTimeout(50*time.Millisecond), hn.WithCallMaxRetries(0))
	require.ErrorIs(t, err, hn.ErrAttemptTimeout)
	assert.Contains(t, err.Error(), "50ms")

	// Zero lifts the client's limit for this call.
	short := srv.Client(hn.WithTimeout(20 * time.Millisecond))
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Latency: 150 * time.Millisecond})
	got, err := short.BulkHostedNumberOrders.Fetch(callCtx(t), order.BulkHostingSID, nil, hn.WithCallTimeout(0), hn.WithCallMaxRetries(0))
	require.NoError(t, err)
	assert.Equal(t, order.BulkHostingSID, got.BulkHostingSID)
}

func create(t *testing.T, client *hn.Client) *hn.BulkHostedNumberOrder {
	t.Helper()
	order, err := client.BulkHostedNumberOrders.Create(callCtx(t), oneNumberCreate())
	require.NoError(t, err)
	return order
}

func TestCallHeader_SentOnEveryAttempt(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable})

	_, err := client.HostedNumberOrders.List(callCtx(t), nil,
		hn.WithCallHeader("X-Correlation-Id", "abc-123"), hn.WithCallHeader("x-correlation-id", "second"),
		hn.WithCallHeader("X-Empty", ""))
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 2, "a 503, then the retry")
	for _, r := range reqs {
		assert.Equal(t, []string{"abc-123", "second"}, r.Header.Values("X-Correlation-Id"))
		assert.Equal(t, []string{""}, r.Header.Values("X-Empty"))
		assert.True(t, r.Authorized, "the SDK's own headers are untouched")
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
	}
}

func TestCallOptions_InvalidOnesAreRefusedBeforeAnyRequest(t *testing.T) {
	const secret = "s3cr3t-value-0123456789"
	tests := []struct {
		name  string
		opt   hn.CallOption
		field string
	}{
		{"Authorization", hn.WithCallHeader("authorization", "Basic "+secret), "call_header"},
		{"Content-Type", hn.WithCallHeader("Content-Type", "text/plain"), "call_header"},
		{"User-Agent", hn.WithCallHeader("User-Agent", "me"), "call_header"},
		{"Accept", hn.WithCallHeader("ACCEPT", "*/*"), "call_header"},
		{"Host", hn.WithCallHeader("Host", "evil.example"), "call_header"},
		{"Content-Length", hn.WithCallHeader("Content-Length", "0"), "call_header"},
		{"Transfer-Encoding", hn.WithCallHeader("Transfer-Encoding", "chunked"), "call_header"},
		{"Cookie", hn.WithCallHeader("Cookie", secret), "call_header"},
		{"CR LF in a value", hn.WithCallHeader("X-Id", secret+"\r\nAuthorization: x"), "call_header"},
		{"LF alone", hn.WithCallHeader("X-Id", secret+"\nx"), "call_header"},
		{"NUL", hn.WithCallHeader("X-Id", secret+"\x00"), "call_header"},
		{"name with a space", hn.WithCallHeader("X Id", "v"), "call_header"},
		{"name with a colon", hn.WithCallHeader("X-Id:", "v"), "call_header"},
		{"empty name", hn.WithCallHeader("", "v"), "call_header"},
		{"negative retries", hn.WithCallMaxRetries(-1), "call_max_retries"},
		{"negative timeout", hn.WithCallTimeout(-time.Second), "call_timeout"},
		{"tag with a newline", hn.WithCallTag("a\nb"), "call_tag"},
		{"tag too long", hn.WithCallTag(strings.Repeat("t", hn.MaxCallTagLength+1)), "call_tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostednumberstest.NewServer()
			defer srv.Close()
			var hooked int
			client := srv.Client(hn.WithHooks(hn.Hooks{OnCallStart: func(ctx context.Context, _ hn.CallInfo) context.Context {
				hooked++
				return ctx
			}}))
			calls := map[string]func() error{
				"fetch": func() error {
					_, err := client.BulkHostedNumberOrders.Fetch(callCtx(t), callTestSID, nil, tt.opt)
					return err
				},
				"create": func() error {
					_, err := client.BulkHostedNumberOrders.Create(callCtx(t), oneNumberCreate(), tt.opt)
					return err
				},
				"cancel": func() error {
					return client.HostedNumberOrders.Cancel(callCtx(t), "HR0123456789abcdef0123456789abcdef", tt.opt)
				},
			}
			for name, call := range calls {
				err := call()
				var ve *hn.ValidationError
				require.ErrorAs(t, err, &ve, name)
				require.Len(t, ve.Problems, 1, name)
				assert.Equal(t, tt.field, ve.Problems[0].Field, name)
				assert.ErrorIs(t, err, hn.ErrInvalidInput, name)
				assert.NotContains(t, err.Error(), secret, "a refused value is never quoted")
				if name != "fetch" {
					assert.ErrorIs(t, err, hn.ErrNotApplied, name)
				}
			}
			assert.Empty(t, srv.Requests(), "nothing was sent")
			assert.Zero(t, hooked, "a refused call does not reach the hooks")
		})
	}
}

// hookLog records every hook call, safely across goroutines.
type hookLog struct {
	mu       sync.Mutex
	starts   []hn.CallInfo
	attempts []hn.AttemptInfo
	ends     []hn.CallEnd
	ctxSeen  []any // the value under spanKey each hook and the transport saw
}

type spanKey struct{}

func (l *hookLog) hooks() hn.Hooks {
	return hn.Hooks{
		OnCallStart: func(ctx context.Context, call hn.CallInfo) context.Context {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.starts = append(l.starts, call)
			return context.WithValue(ctx, spanKey{}, fmt.Sprintf("span-%d", len(l.starts)))
		},
		OnAttempt: func(ctx context.Context, a hn.AttemptInfo) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.attempts = append(l.attempts, a)
			l.ctxSeen = append(l.ctxSeen, ctx.Value(spanKey{}))
		},
		OnCallEnd: func(ctx context.Context, e hn.CallEnd) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.ends = append(l.ends, e)
			l.ctxSeen = append(l.ctxSeen, ctx.Value(spanKey{}))
		},
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHooks_ARetriedFetchIsOneCallWithTwoAttempts(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	var log hookLog
	var transportSaw []any
	var mu sync.Mutex
	wrap := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		transportSaw = append(transportSaw, r.Context().Value(spanKey{}))
		mu.Unlock()
		return srv.Transport().RoundTrip(r)
	})
	client := srv.Client(hn.WithHooks(log.hooks()), hn.WithHTTPClient(&http.Client{Transport: wrap}))
	order := create(t, client)
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable})

	got, err := client.BulkHostedNumberOrders.Fetch(callCtx(t), order.BulkHostingSID, nil, hn.WithCallTag("nightly"))
	require.NoError(t, err)

	require.Len(t, log.starts, 2)
	assert.Equal(t, hn.CallInfo{Operation: "create bulk order", Method: "POST", Path: "/v2/HostedNumber/Orders/Bulk"}, log.starts[0])
	assert.Equal(t, hn.CallInfo{Operation: "fetch bulk order", Method: "GET", Path: "/v2/HostedNumber/Orders/Bulk/{Sid}", Tag: "nightly"}, log.starts[1])

	require.Len(t, log.attempts, 3)
	first, second := log.attempts[1], log.attempts[2]
	assert.Equal(t, log.starts[1], first.Call)
	assert.Equal(t, []int{1, 2}, []int{first.Attempt, second.Attempt})
	assert.Equal(t, []int{503, 200}, []int{first.StatusCode, second.StatusCode})
	assert.NotEmpty(t, first.RequestID)
	assert.Equal(t, got.LastResponse.RequestID, second.RequestID)
	assert.NotEqual(t, first.RequestID, second.RequestID)
	assert.NoError(t, first.Err, "an answer, whatever its status, is not an attempt error")
	assert.Positive(t, second.Latency)

	require.Len(t, log.ends, 2)
	end := log.ends[1]
	assert.Equal(t, hn.OutcomeOK, end.Outcome)
	assert.Equal(t, 200, end.StatusCode)
	assert.Equal(t, got.LastResponse.RequestID, end.RequestID)
	assert.Equal(t, 2, end.Attempts)
	assert.Equal(t, got.LastResponse.Attempts, end.Attempts)
	assert.Positive(t, end.Duration)
	assert.NoError(t, end.Err)

	assert.Equal(t, []any{"span-1", "span-1", "span-2", "span-2", "span-2"}, log.ctxSeen, "attempts and ends run in OnCallStart's context")
	assert.Equal(t, []any{"span-1", "span-2", "span-2"}, transportSaw, "so does the caller's transport")
}

func TestHooks_OutcomeLabelsOfChangesAndReads(t *testing.T) {
	tests := []struct {
		name     string
		fault    hostednumberstest.Fault
		call     func(ctx context.Context, c *hn.Client) error
		outcome  hn.Outcome
		status   int
		attempts int
	}{
		{"create whose answer was lost", hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true},
			func(ctx context.Context, c *hn.Client) error {
				_, err := c.BulkHostedNumberOrders.Create(ctx, oneNumberCreate())
				return err
			}, hn.OutcomeUnknown, 0, 1},
		{"create refused", hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusBadRequest},
			func(ctx context.Context, c *hn.Client) error {
				_, err := c.BulkHostedNumberOrders.Create(ctx, oneNumberCreate())
				return err
			}, hn.OutcomeNotApplied, 400, 1},
		{"cancel refused", hostednumberstest.Fault{Method: http.MethodDelete, Status: http.StatusConflict},
			func(ctx context.Context, c *hn.Client) error {
				return c.HostedNumberOrders.Cancel(ctx, "HR0123456789abcdef0123456789abcdef")
			}, hn.OutcomeNotApplied, 409, 1},
		{"delete after a 500", hostednumberstest.Fault{Method: http.MethodDelete, Status: http.StatusInternalServerError},
			func(ctx context.Context, c *hn.Client) error {
				return c.AuthorizationDocuments.Delete(ctx, "PX0123456789abcdef0123456789abcdef")
			}, hn.OutcomeUnknown, 500, 1},
		{"fetch of nothing", hostednumberstest.Fault{},
			func(ctx context.Context, c *hn.Client) error {
				_, err := c.HostedNumberOrders.Fetch(ctx, "HR0123456789abcdef0123456789abcdef")
				return err
			}, hn.OutcomeNotFound, 404, 1},
		{"list that keeps failing", hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusBadGateway, Count: 10},
			func(ctx context.Context, c *hn.Client) error {
				_, err := c.AuthorizationDocuments.List(ctx, nil, hn.WithCallMaxRetries(2))
				return err
			}, hn.OutcomeServerError, 502, 3},
		{"eligibility check rate limited", hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusTooManyRequests, Count: 10},
			func(ctx context.Context, c *hn.Client) error {
				_, err := c.Eligibility.Check(ctx, &hn.EligibilityParams{PhoneNumbers: []hn.EligibilityNumber{{PhoneNumber: "+14155550101"}}}, hn.WithCallMaxRetries(1))
				return err
			}, hn.OutcomeNotApplied, 429, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostednumberstest.NewServer()
			defer srv.Close()
			if tt.fault != (hostednumberstest.Fault{}) {
				srv.InjectFault(tt.fault)
			}
			var log hookLog
			client := srv.Client(hn.WithHooks(log.hooks()))
			err := tt.call(callCtx(t), client)
			require.Error(t, err)
			require.Len(t, log.ends, 1)
			end := log.ends[0]
			assert.Equal(t, tt.outcome, end.Outcome, "%v", err)
			assert.Equal(t, tt.outcome, hn.OutcomeOf(err), "OutcomeOf agrees with the hooks")
			assert.Equal(t, tt.status, end.StatusCode)
			assert.Equal(t, tt.attempts, end.Attempts)
			assert.Len(t, log.attempts, tt.attempts)
			require.Error(t, end.Err)
			assert.True(t, strings.HasSuffix(err.Error(), end.Err.Error()), "the call's error less its prefix: %q vs %q", err, end.Err)
		})
	}
}

func TestHooks_PagesAreCallsOfTheirListingWithItsOptions(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing(), hostednumberstest.WithPageSize(1))
	defer srv.Close()
	seed := srv.Client()
	params := oneNumberCreate()
	params.RequestItems[0].Numbers = append(params.RequestItems[0].Numbers, hn.Number{PhoneNumber: "+14155550102"}, hn.Number{PhoneNumber: "+14155550103"})
	order, err := seed.BulkHostedNumberOrders.Create(callCtx(t), params)
	require.NoError(t, err)
	_, err = seed.BulkHostedNumberOrders.Wait(callCtx(t), order.BulkHostingSID, nil)
	require.NoError(t, err)

	var log hookLog
	client := srv.Client(hn.WithHooks(log.hooks()))
	var n int
	for _, err := range client.HostedNumberOrders.All(callCtx(t), nil, hn.WithCallTag("sweep"), hn.WithCallHeader("X-Job", "7")) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 3, n)
	require.Len(t, log.starts, 3, "one call per page")
	for _, s := range log.starts {
		assert.Equal(t, hn.CallInfo{Operation: "list hosted number orders", Method: "GET", Path: "/v2/HostedNumber/Orders", Tag: "sweep"}, s)
	}
	var lists int
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && r.Path == "/v2/HostedNumber/Orders" && r.Header.Get("X-Job") == "7" {
			lists++
		}
	}
	assert.Equal(t, 3, lists, "the header went with every page")

	// Next with options of its own uses those instead.
	page, err := client.HostedNumberOrders.List(callCtx(t), nil, hn.WithCallTag("first"))
	require.NoError(t, err)
	_, err = page.Next(callCtx(t), hn.WithCallTag("second"))
	require.NoError(t, err)
	assert.Equal(t, "first", log.starts[3].Tag)
	assert.Equal(t, "second", log.starts[4].Tag)
}

func TestHooks_SeeNoCredentials(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	var token string
	echo := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		user, pass, _ := r.BasicAuth()
		token = pass
		return nil, fmt.Errorf("proxy refused %s:%s with header %q", user, pass, r.Header.Get("Authorization"))
	})
	var log hookLog
	var buf bytes.Buffer
	client, err := hn.NewClient(append(hostednumberstest.FastRetryOptions(),
		hn.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken), hn.WithBaseURL(srv.URL),
		hn.WithHTTPClient(&http.Client{Transport: echo}), hn.WithHooks(log.hooks()),
		hn.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))...)
	require.NoError(t, err)

	_, err = client.HostedNumberOrders.Fetch(callCtx(t), "HR0123456789abcdef0123456789abcdef", hn.WithCallMaxRetries(1))
	require.Error(t, err)
	require.NotEmpty(t, token)
	require.Len(t, log.attempts, 2)
	require.Len(t, log.ends, 1)
	for _, a := range log.attempts {
		require.Error(t, a.Err)
		assert.NotContains(t, a.Err.Error(), token)
		assert.Contains(t, a.Err.Error(), "[redacted]")
	}
	assert.NotContains(t, log.ends[0].Err.Error(), token)
	assert.Contains(t, log.ends[0].Err.Error(), "[redacted]")
	assert.Equal(t, hn.OutcomeTransportError, log.ends[0].Outcome)
	assert.NotContains(t, buf.String(), token)
}

func TestHooks_APanickingHookDoesNotBreakTheCall(t *testing.T) {
	for _, which := range []string{"OnCallStart", "OnAttempt", "OnCallEnd"} {
		t.Run(which, func(t *testing.T) {
			srv := hostednumberstest.NewServer()
			defer srv.Close()
			boom := func() { panic("hook bug " + hostednumberstest.AuthToken) }
			h := hn.Hooks{}
			switch which {
			case "OnCallStart":
				h.OnCallStart = func(context.Context, hn.CallInfo) context.Context { boom(); return nil }
			case "OnAttempt":
				h.OnAttempt = func(context.Context, hn.AttemptInfo) { boom() }
			case "OnCallEnd":
				h.OnCallEnd = func(context.Context, hn.CallEnd) { boom() }
			}
			var buf bytes.Buffer
			var mu sync.Mutex
			client := srv.Client(hn.WithHooks(h), hn.WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))))

			order, err := client.BulkHostedNumberOrders.Create(callCtx(t), oneNumberCreate())
			require.NoError(t, err, "the call goes on")
			assert.Equal(t, 1, requestsTo(srv, http.MethodPost), "sent once")
			assert.Len(t, srv.Orders(), 1)
			assert.Equal(t, order.BulkHostingSID, srv.Orders()[0].BulkHostingSID)

			// A failing create keeps its outcome label too.
			srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
			_, err = client.BulkHostedNumberOrders.Create(callCtx(t), oneNumberCreate())
			require.ErrorIs(t, err, hn.ErrOutcomeUnknown)
			assert.Equal(t, 2, requestsTo(srv, http.MethodPost), "never resent")

			mu.Lock()
			logged := buf.String()
			mu.Unlock()
			assert.Contains(t, logged, "hook panicked")
			assert.Contains(t, logged, "hook="+which)
			assert.NotContains(t, logged, hostednumberstest.AuthToken, "the panic value is redacted")
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestHooks_ConcurrentCallsEachGetTheirOwn(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	var log hookLog
	client := srv.Client(hn.WithHooks(log.hooks()))
	order := create(t, client)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.BulkHostedNumberOrders.Fetch(callCtx(t), order.BulkHostingSID, nil, hn.WithCallTag(fmt.Sprint("g", i)))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	log.mu.Lock()
	defer log.mu.Unlock()
	require.Len(t, log.ends, 9)
	tags := map[string]bool{}
	for _, e := range log.ends[1:] {
		assert.Equal(t, hn.OutcomeOK, e.Outcome)
		assert.Equal(t, 1, e.Attempts)
		tags[e.Call.Tag] = true
	}
	assert.Len(t, tags, 8)
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		err  error
		want hn.Outcome
	}{
		{nil, hn.OutcomeOK},
		{&hn.ValidationError{}, hn.OutcomeInvalidInput},
		{&hn.APIError{HTTPStatus: 404}, hn.OutcomeNotFound},
		{&hn.APIError{HTTPStatus: 403}, hn.OutcomeUnauthorized},
		{&hn.APIError{HTTPStatus: 429}, hn.OutcomeRateLimited},
		{&hn.APIError{HTTPStatus: 503}, hn.OutcomeServerError},
		{&hn.APIError{HTTPStatus: 409}, hn.OutcomeAPIError},
		{&hn.DecodeError{HTTPStatus: 200, Err: errors.New("x")}, hn.OutcomeDecodeError},
		{fmt.Errorf("wrapped: %w", context.Canceled), hn.OutcomeCanceled},
		{context.DeadlineExceeded, hn.OutcomeTimeout},
		{hn.ErrAttemptTimeout, hn.OutcomeTimeout},
		{errors.New("connection reset"), hn.OutcomeTransportError},
		{fmt.Errorf("x: %w", hn.ErrNotCreated), hn.OutcomeNotApplied}, //nolint:staticcheck // the deprecated name still matches
		{errors.Join(&hn.APIError{HTTPStatus: 500}, hn.ErrOutcomeUnknown), hn.OutcomeUnknown},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, hn.OutcomeOf(tt.err), "%v", tt.err)
	}
	assert.Same(t, hn.ErrNotCreated, hn.ErrNotApplied, "one value under two names") //nolint:staticcheck // the deprecated name is kept
}

func TestWaitPollInterval_ClientDefaultsForNilOptions(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	// srv.Client polls every few milliseconds: three stages well within a
	// deadline shorter than one default interval (2s).
	client := srv.Client()
	order := create(t, client)
	ctx, cancel := context.WithTimeout(context.Background(), hn.DefaultPollInterval-100*time.Millisecond)
	defer cancel()
	done, err := client.BulkHostedNumberOrders.Wait(ctx, order.BulkHostingSID, nil)
	require.NoError(t, err)
	assert.True(t, done.RequestStatus.Finished())

	// A slow client interval is used by nil options, and explicit ones win.
	slow := srv.Client(hn.WithWaitPollInterval(time.Hour, time.Hour))
	order = create(t, slow)
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	_, err = slow.BulkHostedNumberOrders.Wait(short, order.BulkHostingSID, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = slow.BulkHostedNumberOrders.Wait(callCtx(t), order.BulkHostingSID, hostednumberstest.FastWaitOptions())
	require.NoError(t, err)

	_, err = hn.NewClient(hn.WithCredentials("AC0123456789abcdef0123456789abcdef", "token"), hn.WithWaitPollInterval(0, time.Second))
	var ve *hn.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "wait_poll_interval", ve.Problems[0].Field)
	_, err = hn.NewClient(hn.WithCredentials("AC0123456789abcdef0123456789abcdef", "token"), hn.WithWaitPollInterval(time.Second, time.Millisecond))
	require.ErrorAs(t, err, &ve)
}

func TestCallOptions_ReachWaitAndReconcile(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	var log hookLog
	client := srv.Client(hn.WithHooks(log.hooks()))
	order := create(t, client)
	_, err := client.BulkHostedNumberOrders.Wait(callCtx(t), order.BulkHostingSID, nil, hn.WithCallTag("wait"))
	require.NoError(t, err)
	_, err = hn.WaitForBulkOrder(callCtx(t), client.BulkHostedNumberOrders, order.BulkHostingSID, nil, hn.WithCallTag("wait-fn"))
	require.NoError(t, err)
	_, err = hn.Reconcile(callCtx(t), client.HostedNumberOrders, &hn.ReconcileParams{
		PhoneNumbers: []string{"+14155550101"}, SentAt: time.Now().Add(-time.Minute),
	}, hn.WithCallTag("reconcile"))
	require.NoError(t, err)
	_, err = client.BulkHostedNumberOrders.Reconcile(callCtx(t), &hn.ReconcileParams{
		PhoneNumbers: []string{"+14155550101"}, SentAt: time.Now().Add(-time.Minute),
	}, hn.WithCallTag("reconcile-svc"))
	require.NoError(t, err)

	byTag := map[string]string{}
	for _, s := range log.starts[1:] {
		byTag[s.Tag] = s.Operation
	}
	assert.Equal(t, map[string]string{
		"wait": "fetch bulk order", "wait-fn": "fetch bulk order",
		"reconcile": "list hosted number orders", "reconcile-svc": "list hosted number orders",
	}, byTag)
}

func TestWaitPollInterval_WaitBulkToo(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	params := &hn.EligibilityParams{PhoneNumbers: []hn.EligibilityNumber{{PhoneNumber: "+14155550101"}}}

	slow := srv.Client(hn.WithWaitPollInterval(time.Hour, time.Hour))
	check, err := slow.Eligibility.CreateBulk(callCtx(t), params)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = slow.Eligibility.WaitBulk(short, check.RequestID, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded, "nil options poll at the client's hour")
	done, err := slow.Eligibility.WaitBulk(callCtx(t), check.RequestID,
		&hn.EligibilityWaitOptions{PollInterval: 5 * time.Millisecond}, hn.WithCallTag("explicit"))
	require.NoError(t, err, "an explicit interval wins")
	assert.True(t, done.Finished())

	fast := srv.Client()
	check, err = fast.Eligibility.CreateBulk(callCtx(t), params)
	require.NoError(t, err)
	ctx, cancelFast := context.WithTimeout(context.Background(), hn.DefaultPollInterval-100*time.Millisecond)
	defer cancelFast()
	done, err = fast.Eligibility.WaitBulk(ctx, check.RequestID, nil)
	require.NoError(t, err)
	assert.True(t, done.Finished())
}

package hostednumbers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/retry"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.4.0"

// Defaults for every setting an Option can change.
const (
	// DefaultBaseURL is Twilio's Numbers API in its default region.
	DefaultBaseURL = "https://numbers.twilio.com"
	// DefaultMaxRetries is how many times a request may be resent.
	DefaultMaxRetries = 3
	// DefaultMinRetryWait and DefaultMaxRetryWait bound the backoff.
	DefaultMinRetryWait = 500 * time.Millisecond
	DefaultMaxRetryWait = 15 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After the client waits out
	// by itself; a longer one returns the 429 to the caller at once.
	DefaultMaxRetryAfter = 60 * time.Second
	// DefaultTimeout bounds each attempt of a request (connect to last body
	// byte). The caller's context bounds the request as a whole.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponseBytes caps how much of a response body is read.
	DefaultMaxResponseBytes = 8 << 20
	// DefaultMaxIdleConnsPerHost is how many idle connections the default
	// transport keeps to the API, so that a busy service reuses them
	// instead of opening a new TLS connection for most requests.
	DefaultMaxIdleConnsPerHost = 64
)

// Client talks to the Bulk Hosted Number Orders API. It is safe for
// concurrent use by many goroutines; create one and share it.
type Client struct {
	// BulkHostedNumberOrders creates, fetches and waits for bulk hosting
	// requests.
	BulkHostedNumberOrders *BulkHostedNumberOrdersService
	// HostedNumberOrders lists, fetches, updates and cancels the hosted
	// number orders (one per phone number) that bulk requests make.
	HostedNumberOrders *HostedNumberOrdersService
	// AuthorizationDocuments lists and fetches the authorisation documents
	// (LOAs) owners sign, and the orders each one authorises.
	AuthorizationDocuments *AuthorizationDocumentsService
	// Eligibility says whether numbers can be hosted before hosting them
	// (the Hosted Number Eligibility API, public beta).
	Eligibility *EligibilityService

	baseURL          string
	accountSID       string
	authorization    func() []string     // the Authorization header; see newClient
	redact           func(string) string // removes credentials echoed by a server
	userAgent        []string
	jsonType         []string
	logger           *slog.Logger
	maxResponseBytes int64
	http             *retryablehttp.Client
	transport        http.RoundTripper
	bufs             bodyBuffers
	clock            serverClock
	hooks            Hooks
	maxRetries       int
	// maxRetryWait and maxRetryAfter are the longest waits between two
	// attempts: the backoff's and a server's Retry-After.
	maxRetryWait, maxRetryAfter time.Duration
	pollInterval                time.Duration
	maxPollInterval             time.Duration
	reconcile                   reconcileTiming
}

// Option configures a Client; the WithX functions of this package make
// them. A nil Option is ignored.
type Option interface {
	applyOption(*settings) error
}

// optionFunc is the Option every WithX function returns.
type optionFunc func(*settings) error

func (f optionFunc) applyOption(s *settings) error { return f(s) }

type credentialSource int

const (
	fromOptions credentialSource = iota
	fromEnvironment
)

type settings struct {
	accountSID, username, password string
	credentials                    credentialSource
	apiKey                         bool
	baseURL                        string
	region, edge                   string
	regionFromEnv                  bool
	httpClient                     *http.Client
	maxRetries                     int
	minWait, maxWait               time.Duration
	maxRetryAfter                  time.Duration
	timeout                        time.Duration
	timeoutSet                     bool
	userAgentSuffix                string
	logger                         *slog.Logger
	maxResponseBytes               int64
	hooks                          Hooks
	pollInterval, maxPollInterval  time.Duration
	reconcile                      reconcileTiming
}

// WithCredentials authenticates with an account SID (AC…) and its auth token.
func WithCredentials(accountSID, authToken string) Option {
	return optionFunc(func(s *settings) error {
		s.accountSID, s.username, s.password = accountSID, accountSID, authToken
		s.credentials, s.apiKey = fromOptions, false
		return nil
	})
}

// WithAPIKey authenticates with an API key SID (SK…) and its secret, on
// behalf of the account (AC…) the key belongs to.
func WithAPIKey(keySID, keySecret, accountSID string) Option {
	return optionFunc(func(s *settings) error {
		s.accountSID, s.username, s.password = accountSID, keySID, keySecret
		s.credentials, s.apiKey = fromOptions, true
		return nil
	})
}

// WithBaseURL sends requests to rawURL instead of DefaultBaseURL: a proxy,
// or a test server. Plain http is accepted only for loopback hosts, so
// credentials never cross a network in clear text. It takes precedence
// over a region and edge from the environment.
func WithBaseURL(rawURL string) Option {
	return optionFunc(func(s *settings) error { s.baseURL = rawURL; return nil })
}

// WithRegion selects the Twilio region (au1, ie1, …):
// https://numbers.{region}.twilio.com.
func WithRegion(region string) Option {
	return optionFunc(func(s *settings) error { s.region, s.regionFromEnv = region, false; return nil })
}

// WithEdge selects the Twilio edge location (sydney, dublin, …). Without a
// region the edge uses us1: https://numbers.{edge}.us1.twilio.com.
func WithEdge(edge string) Option {
	return optionFunc(func(s *settings) error { s.edge, s.regionFromEnv = edge, false; return nil })
}

// WithHTTPClient sends requests through hc's transport (proxies, tracing,
// custom TLS, a mock) and keeps its timeout (unless WithTimeout is given)
// and cookie jar. A nil transport means http.DefaultTransport. The client never follows
// redirects, whatever hc says, because a followed POST could be resent. The
// SDK's resend guard wraps hc's transport: a request that transport already
// wrote is not let out again (see "The retry guarantee" in docs/sdk.md).
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(s *settings) error {
		if hc == nil {
			return &ValidationError{Problems: []FieldError{{Field: "http_client", Message: "is nil"}}}
		}
		s.httpClient = hc
		return nil
	})
}

// WithMaxRetries sets how many times a request may be resent (0 disables
// retries). Whether a given failure may be retried at all is fixed by the
// retry policy described in the package documentation.
func WithMaxRetries(n int) Option {
	return optionFunc(func(s *settings) error { s.maxRetries = n; return nil })
}

// WithRetryBackoff bounds the exponential backoff between attempts.
func WithRetryBackoff(minWait, maxWait time.Duration) Option {
	return optionFunc(func(s *settings) error { s.minWait, s.maxWait = minWait, maxWait; return nil })
}

// WithMaxRetryAfter sets the longest Retry-After the client waits out on
// its own before retrying; a longer one ends the retries with the 429.
func WithMaxRetryAfter(d time.Duration) Option {
	return optionFunc(func(s *settings) error { s.maxRetryAfter = d; return nil })
}

// WithTimeout bounds each attempt of a request. Zero means no per-attempt
// limit; the caller's context still bounds the whole request.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(s *settings) error { s.timeout, s.timeoutSet = d, true; return nil })
}

// WithUserAgentSuffix appends a product token (myservice/1.2) to the
// User-Agent header.
func WithUserAgentSuffix(suffix string) Option {
	return optionFunc(func(s *settings) error { s.userAgentSuffix = suffix; return nil })
}

// WithLogger logs each request's outcome (at Debug) and each retry (at
// Info) to l. Records carry the method, path, status, Twilio-Request-Id,
// attempt count and duration, never credentials. Without it the client is
// silent.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) error { s.logger = l; return nil })
}

// WithMaxResponseBytes caps how much of a response body the client reads;
// a longer body is an error wrapping ErrResponseTooLarge.
func WithMaxResponseBytes(n int64) Option {
	return optionFunc(func(s *settings) error { s.maxResponseBytes = n; return nil })
}

// WithHooks observes every call the client makes with h: see Hooks. A
// later WithHooks replaces an earlier one.
func WithHooks(h Hooks) Option {
	return optionFunc(func(s *settings) error { s.hooks = h; return nil })
}

// WithWaitPollInterval sets the polling of the client's Wait and WaitBulk
// when their options (nil included) leave PollInterval or MaxPollInterval
// zero: the first wait is
// interval, doubling up to maxInterval. The defaults are
// DefaultPollInterval and DefaultMaxPollInterval; hostednumberstest's
// Server.Client sets a few milliseconds, so that a test's Wait(ctx, sid,
// nil) is fast too. It needs 0 < interval <= maxInterval.
func WithWaitPollInterval(interval, maxInterval time.Duration) Option {
	return optionFunc(func(s *settings) error { s.pollInterval, s.maxPollInterval = interval, maxInterval; return nil })
}

func defaultSettings() settings {
	return settings{
		maxRetries:       DefaultMaxRetries,
		minWait:          DefaultMinRetryWait,
		maxWait:          DefaultMaxRetryWait,
		maxRetryAfter:    DefaultMaxRetryAfter,
		timeout:          DefaultTimeout,
		maxResponseBytes: DefaultMaxResponseBytes,
		pollInterval:     DefaultPollInterval,
		maxPollInterval:  DefaultMaxPollInterval,
		reconcile:        defaultReconcileTiming(),
	}
}

// NewClient returns a Client configured by opts. Credentials are required
// (WithCredentials or WithAPIKey); every problem with the configuration is
// reported at once in a *ValidationError, which never quotes a secret.
func NewClient(opts ...Option) (*Client, error) {
	s := defaultSettings()
	return newClient(&s, opts)
}

// NewClientFromEnv is NewClient with credentials, region and edge read
// from the environment variables Twilio's own tools use:
// TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with
// TWILIO_API_SECRET (and TWILIO_ACCOUNT_SID); TWILIO_REGION; TWILIO_EDGE.
// Options override the environment; WithEnv reads it through another
// function than os.Getenv.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	getenv := envLookup(opts)
	s := defaultSettings()
	s.credentials = fromEnvironment
	s.accountSID = getenv("TWILIO_ACCOUNT_SID")
	if key := getenv("TWILIO_API_KEY"); key != "" {
		s.apiKey, s.username, s.password = true, key, getenv("TWILIO_API_SECRET")
	} else {
		s.username, s.password = s.accountSID, getenv("TWILIO_AUTH_TOKEN")
	}
	s.region, s.edge, s.regionFromEnv = getenv("TWILIO_REGION"), getenv("TWILIO_EDGE"), true
	return newClient(&s, opts)
}

func newClient(s *settings, opts []Option) (*Client, error) {
	v := configValidator{}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.applyOption(s); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				v.problems = append(v.problems, ve.Problems...)
				continue
			}
			return nil, fmt.Errorf("hostednumbers: new client: %w", err)
		}
	}
	v.credentials(s)
	base := v.baseURL(s)
	v.check(s.maxRetries >= 0, "max_retries", "must not be negative")
	v.check(s.minWait >= 0 && s.maxWait >= s.minWait, "retry_backoff", "needs 0 <= min <= max")
	v.check(s.maxRetryAfter >= 0, "max_retry_after", "must not be negative")
	v.check(s.timeout >= 0, "timeout", "must not be negative")
	v.check(s.maxResponseBytes > 0, "max_response_bytes", "must be positive")
	v.check(s.pollInterval > 0 && s.maxPollInterval >= s.pollInterval, "wait_poll_interval", "needs 0 < interval <= max")
	v.check(s.reconcile.valid(), "reconcile_timing", "needs a positive window and gap")
	v.check(!strings.ContainsFunc(s.userAgentSuffix, isControlOrNonASCII), "user_agent_suffix", "must be printable ASCII")
	if err := v.err(); err != nil {
		return nil, fmt.Errorf("hostednumbers: new client: %w", err)
	}

	c := &Client{}
	rt, hc := httpClientFor(s, c)
	ua := "hostednumbers-go/" + Version + " (" + runtime.GOOS + " " + runtime.GOARCH + ") go/" + strings.TrimPrefix(runtime.Version(), "go")
	if s.userAgentSuffix != "" {
		ua += " " + s.userAgentSuffix
	}
	policy := retry.Policy{MaxRetryAfter: s.maxRetryAfter}
	c.baseURL, c.accountSID = base, s.accountSID
	c.userAgent, c.jsonType = []string{ua}, []string{"application/json"}
	c.logger, c.maxResponseBytes, c.transport = s.logger, s.maxResponseBytes, rt
	c.hooks, c.maxRetries = s.hooks, s.maxRetries
	c.maxRetryWait, c.maxRetryAfter = s.maxWait, s.maxRetryAfter
	c.pollInterval, c.maxPollInterval = s.pollInterval, s.maxPollInterval
	c.reconcile = s.reconcile
	// The header sits behind a func: fmt prints a func as an address
	// whatever the verb, so no formatting of a Client (even a copied
	// value) can reach it.
	encoded := base64.StdEncoding.EncodeToString([]byte(s.username + ":" + s.password))
	auth := []string{"Basic " + encoded}
	c.authorization = func() []string { return auth }
	// A proxy's error page may echo the request, Authorization included:
	// the secret, in clear or in base64, whole or cut, never reaches an
	// error or a log (see redactor).
	c.redact = newRedactor(s.username, s.password).redact
	c.http = &retryablehttp.Client{
		HTTPClient: hc,
		// Each request's own limit (WithMaxRetries, WithCallMaxRetries)
		// is enforced by the retry policy, which knows the request.
		RetryMax:       math.MaxInt32,
		RetryWaitMin:   s.minWait,
		RetryWaitMax:   s.maxWait,
		CheckRetry:     policy.CheckRetry,
		Backoff:        policy.Backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: c.beforeAttempt,
		// Logger stays nil: retryablehttp's default logger writes to stderr.
	}
	c.BulkHostedNumberOrders = &BulkHostedNumberOrdersService{client: c}
	c.HostedNumberOrders = &HostedNumberOrdersService{client: c}
	c.AuthorizationDocuments = &AuthorizationDocumentsService{client: c}
	c.Eligibility = &EligibilityService{client: c}
	return c, nil
}

// httpClientFor returns the transport to send through and the http.Client
// that retryablehttp drives, whose transport is the client's onceTransport
// over it. The per-attempt limit is onceTransport's, except for a
// WithHTTPClient client without WithTimeout, which keeps its own Timeout.
func httpClientFor(s *settings, c *Client) (http.RoundTripper, *http.Client) {
	var hc http.Client
	if s.httpClient != nil {
		hc = *s.httpClient
	}
	rt := hc.Transport
	if rt == nil {
		if s.httpClient != nil {
			rt = http.DefaultTransport
		} else {
			rt = newTransport()
		}
	}
	_, netHTTP := rt.(*http.Transport)
	once := &onceTransport{rt: rt, netHTTP: netHTTP, logger: s.logger, clock: &c.clock,
		redact: func(v string) string { return c.redact(v) }}
	if s.httpClient == nil || s.timeoutSet {
		once.timeout, hc.Timeout = s.timeout, 0
	}
	hc.Transport = once
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return rt, &hc
}

// newTransport is http.DefaultTransport's configuration with a connection
// pool sized for a service that sends many concurrent requests to one host.
func newTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * DefaultMaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   DefaultMaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// CloseIdleConnections closes the idle connections of the client's
// transport, for a service that is shutting down.
func (c *Client) CloseIdleConnections() {
	if ci, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// AccountSID returns the account the client acts for.
func (c *Client) AccountSID() string { return c.accountSID }

// BaseURL returns the API address the client sends requests to.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("hostednumbers.Client{BaseURL: %q, AccountSID: %q, Credentials: [redacted]}", c.baseURL, c.accountSID)
}

// Format prints String for every verb (%v, %+v, %#v, %s), so that no
// formatting of a Client can reach its credentials.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs the client as String does.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

type configValidator struct{ validator }

func (v *configValidator) check(ok bool, field, msg string) {
	if !ok {
		v.problems = append(v.problems, FieldError{Field: field, Message: msg})
	}
}

func (v *configValidator) credentials(s *settings) {
	names := [3]string{"account_sid", "auth_token", ""}
	if s.apiKey {
		names = [3]string{"account_sid", "api_secret", "api_key"}
	}
	if s.credentials == fromEnvironment {
		names = [3]string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", ""}
		if s.apiKey {
			names = [3]string{"TWILIO_ACCOUNT_SID", "TWILIO_API_SECRET", "TWILIO_API_KEY"}
		}
	}
	if s.credentials == fromOptions && s.accountSID == "" && s.password == "" && s.username == "" {
		v.check(false, "credentials", "none given: use WithCredentials or WithAPIKey")
		return
	}
	// Values are never quoted: a token pasted into the wrong argument must
	// not end up in an error message.
	switch {
	case s.accountSID == "":
		v.check(false, names[0], "is not set")
	case !format.SID(s.accountSID, "AC"):
		v.check(false, names[0], "must be AC followed by 32 hex digits")
	}
	if s.apiKey {
		switch {
		case s.username == "":
			v.check(false, names[2], "is not set")
		case !format.SID(s.username, "SK"):
			v.check(false, names[2], "must be SK followed by 32 hex digits")
		}
	}
	switch {
	case s.password == "":
		v.check(false, names[1], "is not set")
	case strings.ContainsFunc(s.password, isControlOrSpace):
		v.check(false, names[1], "must not contain spaces or control characters")
	}
}

// baseURL resolves and checks the API address.
func (v *configValidator) baseURL(s *settings) string {
	if s.baseURL != "" {
		if (s.region != "" || s.edge != "") && !s.regionFromEnv {
			v.check(false, "base_url", "cannot be combined with a region or edge")
		}
		u, err := url.Parse(s.baseURL)
		switch {
		case err != nil:
			// url's error quotes the URL, which may hold a password.
			v.check(false, "base_url", "is not a valid URL")
		case u.User != nil:
			v.check(false, "base_url", "must not carry user information; use WithCredentials or WithAPIKey")
		case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
			v.check(false, "base_url", "must be an absolute https URL")
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			v.check(false, "base_url", "plain http is allowed for loopback hosts only; credentials would travel in clear text")
		case u.RawQuery != "" || u.Fragment != "":
			v.check(false, "base_url", "must not have a query or fragment")
		default:
			return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
		}
		return ""
	}
	regionField, edgeField := "region", "edge"
	if s.regionFromEnv {
		regionField, edgeField = "TWILIO_REGION", "TWILIO_EDGE"
	}
	for _, part := range [2]struct{ name, value string }{{regionField, s.region}, {edgeField, s.edge}} {
		v.check(part.value == "" || !strings.ContainsFunc(part.value, notHostLabel), part.name, "must be lower-case letters, digits and hyphens")
	}
	switch {
	case s.region == "" && s.edge == "":
		return DefaultBaseURL
	case s.edge == "":
		return "https://numbers." + s.region + ".twilio.com"
	case s.region == "":
		return "https://numbers." + s.edge + ".us1.twilio.com"
	default:
		return "https://numbers." + s.edge + "." + s.region + ".twilio.com"
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isControlOrNonASCII(r rune) bool { return r < 0x20 || r >= 0x7f }
func isControlOrSpace(r rune) bool    { return r <= 0x20 || r == 0x7f }
func notHostLabel(r rune) bool {
	return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-'
}

// beforeAttempt runs before every attempt of every request.
func (c *Client) beforeAttempt(_ retryablehttp.Logger, req *http.Request, attempt int) {
	retry.BeginAttempt(req.Context())
	if attempt > 0 && c.logger != nil {
		c.logger.LogAttrs(req.Context(), slog.LevelInfo, "hostednumbers: retrying request",
			slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.Int("attempt", attempt+1),
			slog.Int("after_status", retry.LastStatus(req.Context())))
	}
}

// Response is what the SDK knows about the HTTP exchange behind a result:
// every value a call returns carries one as LastResponse (never part of its
// JSON), and an *APIError carries the same facts as its own fields. Quote
// RequestID to Twilio support.
type Response struct {
	// StatusCode is the HTTP status of the final response.
	StatusCode int
	// RequestID is the response's Twilio-Request-Id header.
	RequestID string
	// Header holds the final response's headers.
	Header http.Header
	// Attempts is how many times the request was sent (1 without retries).
	Attempts int
	// Elapsed is the time from the first attempt to the end of the body.
	Elapsed time.Duration
	// ServerDate is the final response's Date header: the server's clock
	// when it answered, in whole seconds. Zero if the header was absent or
	// unreadable.
	ServerDate time.Time
}

// request is one API call as do sends it.
type request struct {
	// op names the call ("create bulk order"); template is its path with
	// placeholders for SIDs. Both are for the hooks (CallInfo).
	op, template string
	method       string
	// path is appended to the client's base URL, query after a '?'.
	path, query string
	// rawURL, when set, is the whole URL instead (a next_page_url the API
	// gave); the caller has checked it is on the client's own origin.
	rawURL string
	// body is sent with contentType; nil sends no body.
	body        []byte
	contentType []string
	// bodyBuf, when set, is the buffer of the client's pool that body is
	// in: it goes back to the pool once no attempt can read it.
	bodyBuf *[]byte
}

// do sends one API request with the retry policy, reads the body through
// the size cap, and either decodes a 2xx body into out (out nil: the body
// is read and dropped, as for a 204) or returns an *APIError. opts are the
// call's CallOptions; the hooks see the call from its first attempt to
// its result. The returned error is not yet prefixed with the operation.
func (c *Client) do(ctx context.Context, r request, out any, opts []CallOption) (*Response, error) {
	write := r.method != http.MethodGet
	if err := checkContext(ctx); err != nil {
		if write {
			err = withOutcome(err, ErrNotApplied)
		}
		return nil, err
	}
	cs, err := c.resolveCall(opts)
	if err != nil {
		if write {
			err = withOutcome(err, ErrNotApplied)
		}
		return nil, err
	}
	call := &callState{client: c, settings: cs,
		info: CallInfo{Operation: r.op, Method: r.method, Path: r.template, Tag: cs.tag}}
	start := time.Now()
	ctx = c.hookStart(ctx, call)
	ctx = retry.Track(withCall(ctx, call), r.method, cs.maxRetries)
	meta, err := c.send(ctx, r, out, &cs)
	if err != nil && write {
		err = withOutcome(err, outcomeOf(ctx, err))
	}
	c.hookEnd(ctx, call, meta, retry.Attempts(ctx), start, err)
	return meta, err
}

// errNilContext is returned, never panicked, for a nil context.Context.
var errNilContext = errors.New("nil context.Context; pass context.Background() or a request's context")

// outcomeOf answers "may the request have been processed?" for a failed
// call that changes something. ctx is do's, which carries the tracker of
// the request's attempts. ErrNotApplied needs positive evidence: input
// refused before sending, a 4xx answer, or the transport layer's typed
// evidence that nothing of the latest attempt left the process (a POST is
// retried only after an attempt with such evidence, so the latest attempt
// speaks for all of them). Anything else is ErrOutcomeUnknown.
func outcomeOf(ctx context.Context, err error) error {
	var (
		apiErr    *APIError
		decodeErr *DecodeError
		valErr    *ValidationError
	)
	switch {
	case errors.As(err, &apiErr):
		if apiErr.HTTPStatus >= 400 && apiErr.HTTPStatus < 500 {
			return ErrNotApplied // refused: 429 before any processing, other 4xx as invalid
		}
		return ErrOutcomeUnknown // 5xx, or a 3xx that was not followed
	case errors.As(err, &decodeErr):
		return ErrOutcomeUnknown // accepted, answer unusable
	case errors.As(err, &valErr):
		return ErrNotApplied
	case retry.Unprocessed(ctx):
		// The latest attempt left nothing, or was refused (4xx) and the
		// call then ended, its context during the wait before a retry.
		return ErrNotApplied
	}
	return ErrOutcomeUnknown
}

// send is do without the outcome: one API request, all its attempts, in
// a context that retry.Track made.
func (c *Client) send(ctx context.Context, r request, out any, cs *callSettings) (*Response, error) {
	start := time.Now()
	u := r.rawURL
	if u == "" {
		u = c.baseURL + r.path
		if r.query != "" {
			u += "?" + r.query
		}
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, u, nil)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		// Not given to retryablehttp: onceTransport reads the body anew
		// for each attempt (see payload).
		p := setPayload(req.Request, r.body, r.bodyBuf, &c.bufs)
		defer p.release()
	}
	req.Header["Authorization"] = c.authorization()
	req.Header["User-Agent"] = c.userAgent
	req.Header["Accept"] = c.jsonType
	if r.body != nil {
		req.Header["Content-Type"] = c.jsonType
		if r.contentType != nil {
			req.Header["Content-Type"] = r.contentType
		}
	}
	for name, values := range cs.header {
		req.Header[name] = values // canonical names, none of the above
	}
	logPath := req.URL.Path

	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		err = redactErr(c.redact, err)
		c.log(ctx, slog.LevelWarn, r.method, logPath, nil, start, err)
		return nil, err
	}
	c.redactHeader(resp.Header)
	meta := &Response{StatusCode: resp.StatusCode, RequestID: keptValue(c.redact, resp.Header.Get("Twilio-Request-Id")), Header: resp.Header}
	meta.ServerDate, _ = serverDate(resp.Header)
	err = c.readResponse(resp, meta, out)
	meta.Attempts, meta.Elapsed = retry.Attempts(ctx), time.Since(start)
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelWarn
	}
	c.log(ctx, level, r.method, logPath, meta, start, err)
	if err != nil {
		return nil, err
	}
	return meta, nil
}

func (c *Client) readResponse(resp *http.Response, r *Response, out any) error {
	buf := c.bufs.get(resp.ContentLength)
	defer func() { c.bufs.put(buf) }() // buf may be replaced by a larger one
	body, readErr := c.bufs.readBody(resp.Body, &buf, resp.ContentLength, c.maxResponseBytes)
	_ = resp.Body.Close() // read to the end or the cap; nothing to learn from closing
	tooLarge := int64(len(body)) > c.maxResponseBytes
	if tooLarge {
		body = body[:c.maxResponseBytes]
	}

	if r.StatusCode < 200 || r.StatusCode > 299 {
		return c.redactAPIError(newAPIError(resp, r, body, c.redact))
	}
	fail := func(err error) error {
		return &DecodeError{HTTPStatus: r.StatusCode, RequestID: r.RequestID, Err: redactErr(c.redact, err)}
	}
	switch {
	case tooLarge:
		return fail(fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, c.maxResponseBytes))
	case readErr != nil:
		return fail(fmt.Errorf("reading body: %w", readErr))
	}
	if out == nil {
		return nil
	}
	if err := decodeBody(body, out); err != nil {
		return fail(err)
	}
	if v, ok := out.(interface{ check() error }); ok {
		if err := v.check(); err != nil {
			return fail(err)
		}
	}
	return nil
}

func newAPIError(resp *http.Response, r *Response, body []byte, redact func(string) string) *APIError {
	e := &APIError{HTTPStatus: r.StatusCode, RequestID: r.RequestID, ServerDate: r.ServerDate}
	if d, ok := retry.After(resp, time.Now()); ok {
		e.RetryAfter = d
	}
	var doc struct {
		Code     int            `json:"code"`
		Message  string         `json:"message"`
		MoreInfo string         `json:"more_info"`
		Status   int            `json:"status"`
		Details  map[string]any `json:"details"`
	}
	if json.Unmarshal(body, &doc) == nil && (doc.Code != 0 || doc.Message != "") {
		e.Code, e.Message, e.MoreInfo, e.Status, e.Details = doc.Code, doc.Message, doc.MoreInfo, doc.Status, doc.Details
	} else {
		e.Body = bodyExcerpt(body, redact)
	}
	return e
}

// redactAPIError removes echoed credentials from every text of e.
func (c *Client) redactAPIError(e *APIError) *APIError {
	e.Message, e.MoreInfo, e.Body = c.redact(e.Message), c.redact(e.MoreInfo), c.redact(e.Body)
	if e.Details != nil {
		e.Details, _ = c.redactValue(e.Details).(map[string]any)
	}
	return e
}

func (c *Client) redactValue(v any) any {
	switch v := v.(type) {
	case string:
		return c.redact(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[c.redact(k)] = c.redactValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = c.redactValue(x)
		}
		return out
	}
	return v
}

// redactHeader removes echoed credentials from every header value kept.
func (c *Client) redactHeader(h http.Header) {
	for k, vs := range h {
		for i, v := range vs {
			if clean := c.redact(v); clean != v {
				h[k][i] = clean
			}
		}
	}
}

func (c *Client) log(ctx context.Context, level slog.Level, method, path string, r *Response, start time.Time, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("attempts", retry.Attempts(ctx)),
		slog.Duration("duration", time.Since(start)),
	}
	if call := callFrom(ctx); call != nil && call.info.Tag != "" {
		attrs = append(attrs, slog.String("tag", call.info.Tag))
	}
	if r != nil {
		attrs = append(attrs, slog.Int("status", r.StatusCode), slog.String("request_id", r.RequestID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.redact(err.Error())))
	}
	c.logger.LogAttrs(ctx, level, "hostednumbers: request", attrs...)
}

// ClockOffset returns the server's clock minus the local clock, as last
// measured: the Date header of the latest answer that had a readable one,
// minus the local time when that answer's headers arrived. ok is false
// until some answer had a usable Date header. Date has whole seconds (the
// server truncates its clock) and the answer took some time to arrive, so
// the true offset lies within about a second above the value returned:
// compare server times with a second of slack. Safe for concurrent use.
func (c *Client) ClockOffset() (offset time.Duration, ok bool) {
	return c.clock.get()
}

// serverClock holds the latest server-minus-local clock offset.
type serverClock struct {
	mu     sync.Mutex
	at     time.Time // local time the measured answer's headers arrived
	offset time.Duration
	ok     bool
}

// observe measures the offset from an answer's headers that arrived at
// local time arrived, unless a later answer was measured already.
func (s *serverClock) observe(h http.Header, arrived time.Time) {
	date, ok := serverDate(h)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ok && arrived.Before(s.at) {
		return
	}
	s.at, s.offset, s.ok = arrived, date.Sub(arrived.Round(0)), true
}

func (s *serverClock) get() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset, s.ok
}

// serverDate reads a Date header (any HTTP date form).
func serverDate(h http.Header) (time.Time, bool) {
	v := h.Get("Date")
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

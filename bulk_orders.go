package hostednumbers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/poll"
	"github.com/hostednumbers/hostednumbers-go/internal/retry"
)

const bulkOrdersPath = "/v2/HostedNumber/Orders/Bulk"

// BulkHostedNumberOrdersAPI is what BulkHostedNumberOrdersService does, as
// an interface: depend on it, and swap in a mock or a client of
// hostednumberstest's fake server in tests.
type BulkHostedNumberOrdersAPI interface {
	// Create submits a bulk hosting request.
	Create(ctx context.Context, params *CreateBulkHostedNumberOrderParams, opts ...CallOption) (*BulkHostedNumberOrder, error)
	// Fetch returns the current state of a bulk hosting request.
	Fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams, opts ...CallOption) (*BulkHostedNumberOrder, error)
	// Wait polls a bulk hosting request until it is processed; opts apply
	// to each fetch.
	Wait(ctx context.Context, sid string, wait *WaitOptions, opts ...CallOption) (*BulkHostedNumberOrder, error)
	// Reconcile finds out, in one look, what Twilio made of a create
	// whose outcome is unknown. A mock can answer it with the function
	// Reconcile over its own HostedNumberOrderLister.
	Reconcile(ctx context.Context, params *ReconcileParams, opts ...CallOption) (*Reconciliation, error)
	// WaitForReconcile looks until Reconcile has a verdict. A mock can
	// answer it with the function WaitForReconcile.
	WaitForReconcile(ctx context.Context, params *ReconcileParams, opts ...CallOption) (*Reconciliation, error)
}

var _ BulkHostedNumberOrdersAPI = (*BulkHostedNumberOrdersService)(nil)

// BulkHostedNumberOrdersService is the bulk hosting resource,
// /v2/HostedNumber/Orders/Bulk. Reach it as Client.BulkHostedNumberOrders.
type BulkHostedNumberOrdersService struct {
	client *Client
}

// Create submits a bulk hosting request: POST /v2/HostedNumber/Orders/Bulk.
// params are validated first; any problem returns a *ValidationError and
// nothing is sent. nil params send {}.
//
// Create leaves the process at most once per attempt, whatever the
// transport, and is never resent once the server may have processed it
// (see the package documentation), so an error never means "maybe created
// twice". Every error answers "may this order exist?": it matches exactly
// one of ErrNotApplied (safe to submit again once the cause is fixed) and
// ErrOutcomeUnknown (find out with Reconcile before submitting again).
func (s *BulkHostedNumberOrdersService) Create(ctx context.Context, params *CreateBulkHostedNumberOrderParams, opts ...CallOption) (*BulkHostedNumberOrder, error) {
	body := []byte("{}")
	var buf *[]byte // the pooled buffer body is encoded into
	if params != nil {
		if err := params.Validate(); err != nil {
			return nil, fmt.Errorf("hostednumbers: create bulk order: %w", withOutcome(err, ErrNotApplied))
		}
		buf = s.client.bufs.requestBuffer(params.sizeHint())
		var err error
		if body, err = params.appendJSON(*buf); err != nil {
			s.client.bufs.putRequest(buf)
			return nil, fmt.Errorf("hostednumbers: create bulk order: %w", withOutcome(err, ErrNotApplied))
		}
		*buf = body // appendJSON may have outgrown it
	}
	var w bulkOrderWire
	meta, err := s.client.do(ctx, request{op: "create bulk order", template: bulkOrdersPath,
		method: http.MethodPost, path: bulkOrdersPath, body: body, bodyBuf: buf}, &w, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: create bulk order: %w", err)
	}
	order := w.BulkHostedNumberOrder
	order.LastResponse = meta
	return &order, nil
}

// Fetch returns a bulk hosting request with its results:
// GET /v2/HostedNumber/Orders/Bulk/{sid}. The sid must be BH followed by 32
// hex digits; anything else returns a *ValidationError without a request.
// A request that does not exist returns an error matching ErrNotFound.
func (s *BulkHostedNumberOrdersService) Fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams, opts ...CallOption) (*BulkHostedNumberOrder, error) {
	if err := checkBulkHostingSID(sid); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk order: %w", err)
	}
	order, err := s.fetch(ctx, sid, params, opts...)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk order %s: %w", sid, err)
	}
	return order, nil
}

// fetch is Fetch for a checked SID, with errors not yet prefixed.
func (s *BulkHostedNumberOrdersService) fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams, opts ...CallOption) (*BulkHostedNumberOrder, error) {
	var query string
	if params != nil && params.OrderStatus != "" {
		query = "OrderStatus=" + url.QueryEscape(string(ParseOrderStatus(string(params.OrderStatus))))
	}
	var w bulkOrderWire
	meta, err := s.client.do(ctx, request{op: "fetch bulk order", template: bulkOrdersPath + "/{Sid}",
		method: http.MethodGet, path: bulkOrdersPath + "/" + sid, query: query}, &w, opts)
	if err != nil {
		return nil, err
	}
	order := w.BulkHostedNumberOrder
	order.LastResponse = meta
	if err := checkFetchedSID(&order, sid); err != nil {
		return nil, err
	}
	return &order, nil
}

// checkFetchedSID refuses an answer about another bulk hosting request
// than the one asked for (a misrouting proxy, a mock returning the wrong
// fixture): following it would report another order's numbers.
func checkFetchedSID(order *BulkHostedNumberOrder, sid string) error {
	return checkAnswerSID("bulk order", order.BulkHostingSID, sid, "BH", order.LastResponse)
}

// checkAnswerSID refuses an answer whose SID (got) is not the one asked
// for (want), with a *DecodeError carrying meta's status and request ID.
// The two-letter prefix must match exactly and the 32 hex digits without
// regard to case: the API's SID patterns (^BH[0-9a-fA-F]{32}$ and the
// like) allow either case, and Twilio answers in lower case whatever case
// the request used.
func checkAnswerSID(what, got, want, prefix string, meta *Response) error {
	if format.SameSID(got, want, prefix) {
		return nil
	}
	e := &DecodeError{HTTPStatus: http.StatusOK, Err: fmt.Errorf("the answer is about %s %s, not %s", what, quoteShort(got), want)}
	if meta != nil {
		e.HTTPStatus, e.RequestID = meta.StatusCode, meta.RequestID
	}
	return e
}

// checkBulkHostingSID stops a malformed or hostile SID (../../Accounts,
// BH…?x=1, BH…%2F..) before it can become part of a URL.
func checkBulkHostingSID(sid string) error {
	if format.SID(sid, "BH") {
		return nil
	}
	return &ValidationError{Problems: []FieldError{{
		Field:   "sid",
		Message: quoteShort(sid) + " is not a bulk hosting SID (BH and 32 hex digits)",
	}}}
}

// check is run on every decoded order: without a valid SID the order
// cannot be followed, so the response is unusable.
func (o *BulkHostedNumberOrder) check() error {
	if !format.SID(o.BulkHostingSID, "BH") {
		return fmt.Errorf("bulk_hosting_sid %s is not BH followed by 32 hex digits", quoteShort(o.BulkHostingSID))
	}
	return nil
}

// Defaults for WaitOptions.
const (
	DefaultPollInterval         = 2 * time.Second
	DefaultMaxPollInterval      = time.Minute
	DefaultMaxConsecutiveErrors = 3
)

// WaitOptions tune Wait. The zero value (or nil) uses the defaults.
//
// Between two fetches Wait waits the current interval plus a random
// jitter of up to a fifth of it (so the waits of many orders started
// together drift apart instead of hitting the API in step), and never
// less than a 429's Retry-After: with the defaults, 2 to 2.4 s, then 4 to
// 4.8 s, doubling up to 60 to 72 s.
//
// A request_status the SDK does not know (RequestStatus.Known is false)
// is not an error and does not end the wait: with the default Done, Wait
// keeps polling (OnSnapshot sees each such state) until the status is
// PROCESSED or ctx ends; the error it then returns says that the last
// status was unknown. Set Done to end the wait on other states.
type WaitOptions struct {
	// PollInterval is the wait before the second fetch; each later wait
	// doubles, up to MaxPollInterval. Default DefaultPollInterval.
	PollInterval time.Duration
	// MaxPollInterval bounds the interval between fetches, before the
	// jitter is added. Default DefaultMaxPollInterval.
	MaxPollInterval time.Duration
	// MaxConsecutiveErrors: once this many fetches in a row have failed
	// with a transient error (429, 5xx, connection trouble, each after the
	// client's own retries), Wait gives up with the last one. Default
	// DefaultMaxConsecutiveErrors.
	MaxConsecutiveErrors int
	// OnSnapshot, if set, is called with every successfully fetched state,
	// on the goroutine that called Wait, before Wait checks whether the
	// order is done: use it for progress displays, and to see statuses
	// the SDK does not know.
	OnSnapshot func(*BulkHostedNumberOrder)
	// Done, if set, decides when the wait is over: Wait returns the first
	// fetched state for which it reports true. It is called on the
	// goroutine that called Wait, after OnSnapshot. Default: the request
	// status is PROCESSED (RequestStatus.Finished).
	Done func(*BulkHostedNumberOrder) bool
}

func (o *WaitOptions) withDefaults() WaitOptions {
	var w WaitOptions
	if o != nil {
		w = *o
	}
	if w.PollInterval <= 0 {
		w.PollInterval = DefaultPollInterval
	}
	if w.MaxPollInterval <= 0 {
		w.MaxPollInterval = DefaultMaxPollInterval
	}
	if w.MaxPollInterval < w.PollInterval {
		w.MaxPollInterval = w.PollInterval
	}
	if w.MaxConsecutiveErrors <= 0 {
		w.MaxConsecutiveErrors = DefaultMaxConsecutiveErrors
	}
	return w
}

// BulkHostedNumberOrderFetcher is the one call Wait needs, in the manner
// of aws-sdk-go-v2's one-method client interfaces: a test that mocks Fetch
// alone still runs the real polling loop through WaitForBulkOrder.
// *BulkHostedNumberOrdersService and every BulkHostedNumberOrdersAPI
// implement it.
type BulkHostedNumberOrderFetcher interface {
	// Fetch returns the current state of a bulk hosting request.
	Fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams, opts ...CallOption) (*BulkHostedNumberOrder, error)
}

var _ BulkHostedNumberOrderFetcher = BulkHostedNumberOrdersAPI(nil)

// Wait fetches the bulk hosting request until its status is PROCESSED (or
// until opts.Done reports true) and returns that final state, waiting
// between fetches as WaitOptions describes (backoff with jitter). A status
// the SDK does not know keeps it polling. It ends early when ctx ends, or
// when a fetch
// fails with an error that polling again cannot fix (404, 401/403, a bad
// response, an answer about another SID); transient failures are retried
// as the client's policy allows and then polled through, up to
// MaxConsecutiveErrors in a row. A 429 is waited out as its Retry-After
// asks (never polling sooner) and does not count as a failure. On an
// error, Wait also returns the last state it saw, if any; errors read
// "hostednumbers: wait for bulk order BH…: …". It starts no goroutines.
// Zero PollInterval and MaxPollInterval (and a nil wait) take the
// client's WithWaitPollInterval. opts apply to every fetch.
func (s *BulkHostedNumberOrdersService) Wait(ctx context.Context, sid string, wait *WaitOptions, opts ...CallOption) (*BulkHostedNumberOrder, error) {
	w := s.client.waitOptions(wait)
	return waitFor(ctx, sid, &w, func(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
		return s.fetch(ctx, sid, params, opts...)
	})
}

// waitOptions fills wait's zero intervals with the client's.
func (c *Client) waitOptions(wait *WaitOptions) WaitOptions {
	var w WaitOptions
	if wait != nil {
		w = *wait
	}
	if w.PollInterval <= 0 {
		w.PollInterval = c.pollInterval
	}
	if w.MaxPollInterval <= 0 {
		w.MaxPollInterval = max(c.maxPollInterval, w.PollInterval)
	}
	return w
}

// WaitForBulkOrder is Wait over any implementation of Fetch: the loop,
// backoff, Retry-After handling and error rules are the same. Errors from
// f are wrapped, so the prefix of f's own errors appears after Wait's.
// opts are passed to every Fetch. Given the client's own service, it is
// that service's Wait, with the client's poll intervals; otherwise zero
// intervals mean DefaultPollInterval and DefaultMaxPollInterval.
func WaitForBulkOrder(ctx context.Context, f BulkHostedNumberOrderFetcher, sid string, wait *WaitOptions, opts ...CallOption) (*BulkHostedNumberOrder, error) {
	if f == nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk order: %w",
			&ValidationError{Problems: []FieldError{{Field: "fetcher", Message: "is nil"}}})
	}
	if svc, ok := f.(*BulkHostedNumberOrdersService); ok && svc != nil {
		return svc.Wait(ctx, sid, wait, opts...)
	}
	return waitFor(ctx, sid, wait, func(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
		order, err := f.Fetch(ctx, sid, params, opts...)
		if err == nil && order == nil {
			err = &DecodeError{HTTPStatus: http.StatusOK, Err: errors.New("Fetch returned neither an order nor an error")}
		}
		if err == nil {
			err = checkFetchedSID(order, sid)
		}
		return order, err
	})
}

func waitFor(ctx context.Context, sid string, opts *WaitOptions, fetch func(context.Context, string, *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error)) (*BulkHostedNumberOrder, error) {
	return waitWith(ctx, sid, opts, fetch, poll.RealClock())
}

// waitWith is waitFor on a clock.
func waitWith(ctx context.Context, sid string, opts *WaitOptions, fetch func(context.Context, string, *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error), clock poll.Clock) (*BulkHostedNumberOrder, error) {
	if ctx == nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk order: %w", errNilContext)
	}
	if err := checkBulkHostingSID(sid); err != nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk order: %w", err)
	}
	w := opts.withDefaults()
	done := w.Done
	if done == nil {
		done = func(o *BulkHostedNumberOrder) bool { return o.RequestStatus.Finished() }
	}
	last, err := poll.Loop[*BulkHostedNumberOrder]{
		Settings: w.pollSettings(),
		Clock:    clock,
		Fetch:    func(ctx context.Context) (*BulkHostedNumberOrder, error) { return fetch(ctx, sid, nil) },
		Done: func(o *BulkHostedNumberOrder) bool {
			if w.OnSnapshot != nil {
				w.OnSnapshot(o)
			}
			return done(o)
		},
		Classify: classifyPoll,
	}.Run(ctx)
	switch {
	case err == nil:
		return last, nil
	case last != nil && !last.RequestStatus.Known() && errors.Is(err, ctx.Err()):
		return last, fmt.Errorf("hostednumbers: wait for bulk order %s: %w (the last request_status, %s, is not one the SDK knows; WaitOptions.Done decides when such a request is done)",
			sid, err, quoteShort(string(last.RequestStatus)))
	}
	return last, fmt.Errorf("hostednumbers: wait for bulk order %s: %w", sid, err)
}

// pollSettings are the loop's settings for o (already defaulted).
func (o *WaitOptions) pollSettings() poll.Settings {
	return poll.Settings{Interval: o.PollInterval, MaxInterval: o.MaxPollInterval,
		MaxFailures: o.MaxConsecutiveErrors, Jitter: poll.DefaultJitter}
}

// classifyPoll tells the poll loop what a failed fetch means: a 429 is
// waited out for at least its Retry-After and not counted; an error the
// retry policy would retry on a GET is transient; anything else (a next
// page on another origin among them: the SDK refused to follow it, and
// would again) is final.
func classifyPoll(err error) (poll.Kind, time.Duration) {
	var apiErr *APIError
	switch {
	case errors.Is(err, ErrForeignNextPage):
		return poll.Final, 0
	case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusTooManyRequests:
		// Rate limited: the server said when to come back. It is not a
		// failure of what is polled, so it does not count towards
		// MaxConsecutiveErrors.
		return poll.Throttled, apiErr.RetryAfter
	case transient(err):
		return poll.Transient, 0
	}
	return poll.Final, 0
}

// transient reports whether a failed fetch is worth polling again: the
// same classification the retry policy applies to a GET.
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return retry.RetryableStatus(http.MethodGet, apiErr.HTTPStatus)
	}
	var decodeErr *DecodeError
	var validationErr *ValidationError
	if errors.As(err, &decodeErr) || errors.As(err, &validationErr) {
		return false
	}
	return retry.RetryableError(http.MethodGet, err, true)
}

// BulkHostedNumberOrder is a bulk hosting request as the API returns it from
// Create (202, usually without results) and Fetch (200, with results).
type BulkHostedNumberOrder struct {
	// BulkHostingSID identifies the request: BH and 32 hex digits.
	BulkHostingSID string `json:"bulk_hosting_sid"`
	// RequestStatus is QUEUED, IN_PROGRESS or PROCESSED.
	RequestStatus RequestStatus `json:"request_status"`
	// FriendlyName is the label the request was created with.
	FriendlyName NullString `json:"friendly_name"`
	// NotificationEmail receives Twilio's notices about the request.
	NotificationEmail NullString `json:"notification_email"`
	// DateCreated is when the request was accepted.
	DateCreated NullTime `json:"date_created"`
	// DateCompleted is when processing finished; not Valid until then.
	DateCompleted NullTime `json:"date_completed"`
	// URL is the request's own API address.
	URL NullString `json:"url"`
	// TotalCount is the number of phone numbers in the request.
	TotalCount int `json:"total_count"`
	// Results groups the hosted number orders by status.
	Results []ResultGroup `json:"results"`
	// LastResponse describes the HTTP exchange that returned this value;
	// nil for a value not returned by a call.
	LastResponse *Response `json:"-"`
}

// ResultGroup is one group of Results: the hosted number orders that share
// a status.
type ResultGroup struct {
	// OrderStatus is the status every order in the group has.
	OrderStatus OrderStatus `json:"order_status"`
	// RawOrderStatus is OrderStatus exactly as the server spelled it.
	RawOrderStatus string `json:"-"`
	// Count is the number of orders in the group as the server counts
	// them; it arrives as a JSON string or number.
	Count int `json:"count"`
	// GetMoreInfo is the server's pointer to more information, if any.
	GetMoreInfo NullString `json:"get_more_info"`
	// Orders are the hosted number orders in the group.
	Orders []BulkOrderResult `json:"orders"`
}

// bulkOrderWire is what the client decodes a response into: the order,
// read in one pass by decodeJSON (bulk_orders_decode.go) instead of
// through encoding/json, then checked.
type bulkOrderWire struct {
	BulkHostedNumberOrder
}

// check checks the order; the client runs it on every decoded response.
func (w *bulkOrderWire) check() error {
	return w.BulkHostedNumberOrder.check()
}

// parseCount reads count as the published example sends it ("2"), as a
// plain number (2), or absent/null (0). Anything else is an error.
func parseCount(raw json.RawMessage) (int, error) {
	s := string(raw)
	if s == "" || s == "null" {
		return 0, nil
	}
	if s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("count: want a non-negative whole number or a string holding one, got %s", excerpt(raw))
	}
	return n, nil
}

// BulkOrderResult is the result for one phone number of a bulk request:
// a summary of the hosted number order (HR…) Twilio made for it. The
// order itself, with every detail, is HostedNumberOrdersService.Fetch's.
type BulkOrderResult struct {
	// Status is the status of the group the order came in.
	Status OrderStatus `json:"-"`
	// HostingOrderSID identifies the hosted number order: HR and 32 hex digits.
	HostingOrderSID string `json:"hosting_order_sid"`
	// PhoneNumber is the number being hosted, in E.164 form.
	PhoneNumber string `json:"phone_number"`
	// AccountSID is the account the number is hosted on.
	AccountSID string `json:"account_sid"`
	// FailureReason says why the order failed, when it did.
	FailureReason NullString `json:"failure_reason"`
	// NextStep says what to do about a failed or stuck order.
	NextStep NullString `json:"next_step"`
	// URL is the hosted number order's API address.
	URL string `json:"url"`
	// Email is the owner's e-mail address.
	Email string `json:"email"`
	// SigningDocumentSID identifies the authorisation document (PX…), once
	// there is one.
	SigningDocumentSID NullString `json:"signing_document_sid"`
}

// results returns the result groups; none for a nil order, so that the
// helpers below are safe to call on a nil *BulkHostedNumberOrder (a Wait
// that failed before its first answer returns one).
func (o *BulkHostedNumberOrder) results() []ResultGroup {
	if o == nil {
		return nil
	}
	return o.Results
}

// Orders returns every hosted number order of every group, in the order the
// server listed them, each carrying its group's status. A nil order has none.
func (o *BulkHostedNumberOrder) Orders() []BulkOrderResult {
	results := o.results()
	n := 0
	for i := range results {
		n += len(results[i].Orders)
	}
	out := make([]BulkOrderResult, 0, n)
	for i := range results {
		g := &results[i]
		for _, ord := range g.Orders {
			ord.Status = g.OrderStatus
			out = append(out, ord)
		}
	}
	return out
}

// OrdersByStatus returns the hosted number orders keyed by status. Groups
// whose statuses differ only in spelling are merged.
func (o *BulkHostedNumberOrder) OrdersByStatus() map[OrderStatus][]BulkOrderResult {
	out := make(map[OrderStatus][]BulkOrderResult, len(o.results()))
	for _, ord := range o.Orders() {
		out[ord.Status] = append(out[ord.Status], ord)
	}
	return out
}

// Failed returns the orders whose status is failed or action-required: the
// ones a person has to look at, each with its FailureReason and NextStep.
func (o *BulkHostedNumberOrder) Failed() []BulkOrderResult {
	var out []BulkOrderResult
	for _, ord := range o.Orders() {
		if ord.Status == OrderStatusFailed || ord.Status == OrderStatusActionRequired {
			out = append(out, ord)
		}
	}
	return out
}

// CountsByStatus returns how many orders have each status, by the server's
// group counts (or the number of orders listed, where a group has no count).
func (o *BulkHostedNumberOrder) CountsByStatus() map[OrderStatus]int {
	results := o.results()
	out := make(map[OrderStatus]int, len(results))
	for i := range results {
		g := &results[i]
		n := g.Count
		if n == 0 {
			n = len(g.Orders)
		}
		out[g.OrderStatus] += n
	}
	return out
}

package hostednumbers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/retry"
	"github.com/hostednumbers/hostednumbers-go/internal/wire"
)

const bulkOrdersPath = "/v2/HostedNumber/Orders/Bulk"

// BulkHostedNumberOrdersAPI is what BulkHostedNumberOrdersService does, as
// an interface: depend on it, and swap in a mock or a client of
// hostednumberstest's fake server in tests.
type BulkHostedNumberOrdersAPI interface {
	// Create submits a bulk hosting request.
	Create(ctx context.Context, params *CreateBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error)
	// Fetch returns the current state of a bulk hosting request.
	Fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error)
	// Wait polls a bulk hosting request until it is processed.
	Wait(ctx context.Context, sid string, opts *WaitOptions) (*BulkHostedNumberOrder, error)
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
// one of ErrNotCreated (safe to submit again once the cause is fixed) and
// ErrOutcomeUnknown (find out with Reconcile before submitting again).
func (s *BulkHostedNumberOrdersService) Create(ctx context.Context, params *CreateBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
	body := []byte("{}")
	if params != nil {
		if err := params.Validate(); err != nil {
			return nil, fmt.Errorf("hostednumbers: create bulk order: %w", withOutcome(err, ErrNotCreated))
		}
		var err error
		if body, err = params.appendJSON(make([]byte, 0, params.sizeHint())); err != nil {
			return nil, fmt.Errorf("hostednumbers: create bulk order: %w", withOutcome(err, ErrNotCreated))
		}
	}
	var w bulkOrderWire
	meta, err := s.client.do(ctx, request{method: http.MethodPost, path: bulkOrdersPath, body: body}, &w)
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
func (s *BulkHostedNumberOrdersService) Fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
	if err := checkBulkHostingSID(sid); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk order: %w", err)
	}
	order, err := s.fetch(ctx, sid, params)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk order %s: %w", sid, err)
	}
	return order, nil
}

// fetch is Fetch for a checked SID, with errors not yet prefixed.
func (s *BulkHostedNumberOrdersService) fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
	var query string
	if params != nil && params.OrderStatus != "" {
		query = "OrderStatus=" + url.QueryEscape(string(params.OrderStatus))
	}
	var w bulkOrderWire
	meta, err := s.client.do(ctx, request{method: http.MethodGet, path: bulkOrdersPath + "/" + sid, query: query}, &w)
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

// pollJitter is the largest jitter Wait adds to a wait, as a fraction of
// it.
const pollJitter = 0.2

// pollWait is the wait before the next fetch: the interval, or the
// server's Retry-After if longer, plus jitter (r in [0, 1)) times
// pollJitter of it.
func pollWait(interval, retryAfter time.Duration, r float64) time.Duration {
	base := max(interval, retryAfter)
	return base + time.Duration(r*pollJitter*float64(base))
}

// waitClock is how Wait waits: jitter draws from [0, 1), sleep waits d or
// until ctx ends. Tests replace both to check the waits without a clock.
type waitClock struct {
	jitter func() float64
	sleep  func(ctx context.Context, d time.Duration) error
}

// realClock waits on one timer, reused for every wait of one Wait.
func realClock() waitClock {
	var timer *time.Timer
	return waitClock{
		jitter: rand.Float64,
		sleep: func(ctx context.Context, d time.Duration) error {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case <-timer.C:
				return nil
			}
		},
	}
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
	Fetch(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error)
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
func (s *BulkHostedNumberOrdersService) Wait(ctx context.Context, sid string, opts *WaitOptions) (*BulkHostedNumberOrder, error) {
	return waitFor(ctx, sid, opts, s.fetch)
}

// WaitForBulkOrder is Wait over any implementation of Fetch: the loop,
// backoff, Retry-After handling and error rules are the same. Errors from
// f are wrapped, so the prefix of f's own errors appears after Wait's.
func WaitForBulkOrder(ctx context.Context, f BulkHostedNumberOrderFetcher, sid string, opts *WaitOptions) (*BulkHostedNumberOrder, error) {
	if f == nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk order: %w",
			&ValidationError{Problems: []FieldError{{Field: "fetcher", Message: "is nil"}}})
	}
	if svc, ok := f.(*BulkHostedNumberOrdersService); ok && svc != nil {
		return svc.Wait(ctx, sid, opts)
	}
	return waitFor(ctx, sid, opts, func(ctx context.Context, sid string, params *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
		order, err := f.Fetch(ctx, sid, params)
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
	return waitWith(ctx, sid, opts, fetch, realClock())
}

// waitWith is waitFor on a clock.
func waitWith(ctx context.Context, sid string, opts *WaitOptions, fetch func(context.Context, string, *FetchBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error), clock waitClock) (*BulkHostedNumberOrder, error) {
	if ctx == nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk order: %w", errNilContext)
	}
	if err := checkBulkHostingSID(sid); err != nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk order: %w", err)
	}
	var last *BulkHostedNumberOrder
	fail := func(err error) error {
		if last != nil && !last.RequestStatus.Known() && errors.Is(err, ctx.Err()) {
			return fmt.Errorf("hostednumbers: wait for bulk order %s: %w (the last request_status, %s, is not one the SDK knows; WaitOptions.Done decides when such a request is done)",
				sid, err, quoteShort(string(last.RequestStatus)))
		}
		return fmt.Errorf("hostednumbers: wait for bulk order %s: %w", sid, err)
	}
	w := opts.withDefaults()
	done := w.Done
	if done == nil {
		done = func(o *BulkHostedNumberOrder) bool { return o.RequestStatus.Finished() }
	}
	interval := w.PollInterval
	failures := 0
	for {
		var retryAfter time.Duration
		order, err := fetch(ctx, sid, nil)
		var apiErr *APIError
		switch {
		case err == nil:
			failures = 0
			last = order
			if w.OnSnapshot != nil {
				w.OnSnapshot(order)
			}
			if done(order) {
				return order, nil
			}
		case ctx.Err() != nil:
			return last, fail(ctx.Err())
		case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusTooManyRequests:
			// Rate limited: the server said when to come back. It is not
			// a failure of the order, so it does not count towards
			// MaxConsecutiveErrors.
			retryAfter = apiErr.RetryAfter
		case !transient(err):
			return last, fail(err)
		default:
			failures++
			if failures >= w.MaxConsecutiveErrors {
				return last, fail(err)
			}
		}
		if err := clock.sleep(ctx, pollWait(interval, retryAfter, clock.jitter())); err != nil {
			return last, fail(err)
		}
		interval = min(2*interval, w.MaxPollInterval)
	}
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

// CreateBulkHostedNumberOrderParams is the body of a create request. Every
// string field is optional unless its doc says otherwise; an empty string
// means "not set" and is not sent. A nil *CreateBulkHostedNumberOrderParams
// sends {}, as the published example does.
type CreateBulkHostedNumberOrderParams struct {
	// FriendlyName labels the whole request; at most 128 characters.
	FriendlyName string `json:"friendly_name,omitempty"`
	// NotificationEmail receives Twilio's notices about the request.
	NotificationEmail string `json:"notification_email,omitempty"`
	// RequestItems group the numbers by owner, address and contact.
	RequestItems []RequestItem `json:"request_items,omitempty"`
	// Extra adds members this SDK does not model yet to the top-level
	// object. A member with the name of a typed field that is set is
	// dropped: typed fields always win.
	Extra map[string]any `json:"-"`
}

// HostingOptions are the per-order settings known from the single hosted
// number order resource that a request item or a single number may carry.
type HostingOptions struct {
	// FriendlyName labels the hosted number order; at most 128 characters.
	FriendlyName string `json:"friendly_name,omitempty"`
	// CCEmails are copied on the authorisation e-mails.
	CCEmails []string `json:"cc_emails,omitempty"`
	// SMSURL, SMSMethod, SMSFallbackURL and SMSFallbackMethod configure
	// incoming SMS for the number once hosted. URLs are absolute http(s);
	// methods are GET or POST.
	SMSURL            string `json:"sms_url,omitempty"`
	SMSMethod         string `json:"sms_method,omitempty"`
	SMSFallbackURL    string `json:"sms_fallback_url,omitempty"`
	SMSFallbackMethod string `json:"sms_fallback_method,omitempty"`
	// StatusCallbackURL and StatusCallbackMethod receive status changes of
	// the hosted number order.
	StatusCallbackURL    string `json:"status_callback_url,omitempty"`
	StatusCallbackMethod string `json:"status_callback_method,omitempty"`
	// SMSApplicationSID (AP…) handles incoming SMS instead of SMSURL.
	SMSApplicationSID string `json:"sms_application_sid,omitempty"`
	// AccountSID (AC…) hosts the number on a subaccount.
	AccountSID string `json:"account_sid,omitempty"`
}

// RequestItem groups the numbers that share one owner, address and
// authorised contact.
type RequestItem struct {
	// Email is the owner's e-mail address, where the authorisation
	// document is sent.
	Email string `json:"email,omitempty"`
	// AddressSID (AD…) is the address the numbers are registered at.
	AddressSID string `json:"address_sid,omitempty"`
	// ContactPhoneNumber is the authorised contact's number, in E.164 form.
	ContactPhoneNumber string `json:"contact_phone_number,omitempty"`
	// ContactTitle is the authorised contact's job title.
	ContactTitle string `json:"contact_title,omitempty"`
	// HostingOptions apply to every number of the item.
	HostingOptions
	// Numbers are the phone numbers to host; at least one is required.
	Numbers []Number `json:"numbers,omitempty"`
	// Extra adds members this SDK does not model yet to the item.
	Extra map[string]any `json:"-"`
}

// Number is one phone number to host, with settings of its own.
type Number struct {
	// PhoneNumber is required, in E.164 form (+14155550101).
	PhoneNumber string `json:"phone_number,omitempty"`
	// HostingOptions apply to this number only.
	HostingOptions
	// Extra adds members this SDK does not model yet to the number.
	Extra map[string]any `json:"-"`
}

// FetchBulkHostedNumberOrderParams are the optional parameters of Fetch.
type FetchBulkHostedNumberOrderParams struct {
	// OrderStatus, when set, keeps only the result groups with that hosted
	// number order status. It is sent exactly as given.
	OrderStatus OrderStatus
}

// Validate checks everything the SDK can check without the network and
// returns a *ValidationError that lists every problem with its path, or nil.
// Create calls it before sending anything.
func (p *CreateBulkHostedNumberOrderParams) Validate() error {
	if p == nil {
		return nil
	}
	v := validator{}
	v.friendlyName(topLevel("friendly_name"), p.FriendlyName)
	v.email(topLevel("notification_email"), p.NotificationEmail)
	v.extra(topLevel(""), p.Extra)
	// seen holds only the numbers listed more than once (nil when there
	// are none, the usual case), each with where it was first listed.
	seen := duplicateNumbers(p.RequestItems)
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		at := func(field string) path { return path{item: i, number: -1, field: field} }
		v.email(at("email"), it.Email)
		v.sid(at("address_sid"), it.AddressSID, "AD")
		if it.ContactPhoneNumber != "" {
			v.phone(at("contact_phone_number"), it.ContactPhoneNumber)
		}
		v.options(path{item: i, number: -1}, &it.HostingOptions)
		v.extra(at(""), it.Extra)
		if len(it.Numbers) == 0 {
			v.add(at("numbers"), "must list at least one phone number")
		}
		for j := range it.Numbers {
			n := &it.Numbers[j]
			np := path{item: i, number: j, field: "phone_number"}
			switch {
			case n.PhoneNumber == "":
				v.add(np, "is required")
			case !format.E164(n.PhoneNumber):
				v.add(np, fmt.Sprintf("%s is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", quoteShort(n.PhoneNumber)))
			case seen != nil:
				key := e164Key(n.PhoneNumber)
				if first, dup := seen[key]; dup && first.item >= 0 {
					at := path{item: int(first.item), number: int(first.number)}
					v.add(np, fmt.Sprintf("%s is listed twice; first at %s", n.PhoneNumber, at))
				} else if dup {
					seen[key] = numberAt{int32(i), int32(j)}
				}
			}
			v.options(path{item: i, number: j}, &n.HostingOptions)
			v.extra(np.withField(""), n.Extra)
		}
	}
	return v.err()
}

// numberAt is where a phone number was first listed.
type numberAt struct{ item, number int32 }

// e164Key returns the digits of a valid E.164 number as an integer.
func e164Key(s string) uint64 {
	var k uint64
	for i := 1; i < len(s); i++ {
		k = k*10 + uint64(s[i]-'0')
	}
	return k
}

func countNumbers(items []RequestItem) int {
	n := 0
	for i := range items {
		n += len(items[i].Numbers)
	}
	return n
}

// duplicateNumbers returns the valid E.164 numbers listed more than once,
// keyed by e164Key and each marked not yet seen ({-1, -1}), or nil when
// every number is listed once. It sorts the keys in a scratch slice instead
// of building a map of every number: a map entry is made only for a
// duplicate.
func duplicateNumbers(items []RequestItem) map[uint64]numberAt {
	n := countNumbers(items)
	if n < 2 {
		return nil
	}
	keys := make([]uint64, 0, n)
	for i := range items {
		for j := range items[i].Numbers {
			if s := items[i].Numbers[j].PhoneNumber; format.E164(s) {
				keys = append(keys, e164Key(s))
			}
		}
	}
	slices.Sort(keys)
	var dups map[uint64]numberAt
	for k := 1; k < len(keys); k++ {
		if keys[k] == keys[k-1] {
			if dups == nil {
				dups = make(map[uint64]numberAt)
			}
			dups[keys[k]] = numberAt{-1, -1}
		}
	}
	return dups
}

func (v *validator) options(p path, o *HostingOptions) {
	v.friendlyName(p.withField("friendly_name"), o.FriendlyName)
	for k, e := range o.CCEmails {
		if !format.Email(e) {
			v.add(p.withField("cc_emails["+strconv.Itoa(k)+"]"), fmt.Sprintf("%s is not an e-mail address", quoteShort(e)))
		}
	}
	v.url(p.withField("sms_url"), o.SMSURL)
	v.method(p.withField("sms_method"), o.SMSMethod)
	v.url(p.withField("sms_fallback_url"), o.SMSFallbackURL)
	v.method(p.withField("sms_fallback_method"), o.SMSFallbackMethod)
	v.url(p.withField("status_callback_url"), o.StatusCallbackURL)
	v.method(p.withField("status_callback_method"), o.StatusCallbackMethod)
	v.sid(p.withField("sms_application_sid"), o.SMSApplicationSID, "AP")
	v.sid(p.withField("account_sid"), o.AccountSID, "AC")
}

func (v *validator) extra(p path, extra map[string]any) {
	if len(extra) == 0 {
		return // ranging over a nil map still sets up an iterator
	}
	for k := range extra {
		if k == "" {
			v.add(p.withField("extra"), "has an empty member name")
		}
	}
}

// isHostingMember reports whether name is a member HostingOptions models.
func isHostingMember(name string) bool {
	switch name {
	case "friendly_name", "cc_emails", "sms_url", "sms_method", "sms_fallback_url",
		"sms_fallback_method", "status_callback_url", "status_callback_method",
		"sms_application_sid", "account_sid":
		return true
	}
	return false
}

func isTopMember(name string) bool {
	return name == "friendly_name" || name == "notification_email" || name == "request_items"
}

func isItemMember(name string) bool {
	switch name {
	case "email", "address_sid", "contact_phone_number", "contact_title", "numbers":
		return true
	}
	return isHostingMember(name)
}

func isNumberMember(name string) bool { return name == "phone_number" || isHostingMember(name) }

// MarshalJSON encodes the body as the API expects it: only the fields that
// are set, with Extra members merged in where no typed field of the same
// name is set. It writes straight into one buffer sized up front.
func (p CreateBulkHostedNumberOrderParams) MarshalJSON() ([]byte, error) {
	return p.appendJSON(make([]byte, 0, p.sizeHint()))
}

// sizeHint estimates the encoded size so that encoding allocates once.
func (p *CreateBulkHostedNumberOrderParams) sizeHint() int {
	n := 64 + len(p.FriendlyName) + len(p.NotificationEmail)
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		n += 160 + len(it.Email) + len(it.AddressSID) + len(it.ContactPhoneNumber) + len(it.ContactTitle) + it.sizeHint()
		for j := range it.Numbers {
			n += 20 + len(it.Numbers[j].PhoneNumber) + it.Numbers[j].sizeHint()
		}
	}
	return n
}

func (o *HostingOptions) sizeHint() int {
	n := 0
	add := func(s string) {
		if s != "" {
			n += len(s) + 28
		}
	}
	add(o.FriendlyName)
	add(o.SMSURL)
	add(o.SMSMethod)
	add(o.SMSFallbackURL)
	add(o.SMSFallbackMethod)
	add(o.StatusCallbackURL)
	add(o.StatusCallbackMethod)
	add(o.SMSApplicationSID)
	add(o.AccountSID)
	for _, e := range o.CCEmails {
		n += len(e) + 16
	}
	return n
}

func (p *CreateBulkHostedNumberOrderParams) appendJSON(dst []byte) ([]byte, error) {
	var set memberSet
	dst = append(dst, '{')
	dst = set.appendString(dst, "friendly_name", p.FriendlyName)
	dst = set.appendString(dst, "notification_email", p.NotificationEmail)
	if len(p.RequestItems) > 0 {
		dst = set.appendKey(dst, "request_items")
		dst = append(dst, '[')
		for i := range p.RequestItems {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = p.RequestItems[i].appendJSON(dst, i); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	dst, err := set.appendExtra(dst, p.Extra, topLevel(""))
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// MarshalJSON encodes the item as it appears inside request_items.
func (it RequestItem) MarshalJSON() ([]byte, error) { return it.appendJSON(nil, 0) }

func (it *RequestItem) appendJSON(dst []byte, i int) ([]byte, error) {
	var set memberSet
	dst = append(dst, '{')
	dst = set.appendString(dst, "email", it.Email)
	dst = set.appendString(dst, "address_sid", it.AddressSID)
	dst = set.appendString(dst, "contact_phone_number", it.ContactPhoneNumber)
	dst = set.appendString(dst, "contact_title", it.ContactTitle)
	dst = it.HostingOptions.appendJSON(dst, &set)
	if len(it.Numbers) > 0 {
		dst = set.appendKey(dst, "numbers")
		dst = append(dst, '[')
		for j := range it.Numbers {
			if j > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = it.Numbers[j].appendJSON(dst, i, j); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	dst, err := set.appendExtra(dst, it.Extra, path{item: i, number: -1})
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// MarshalJSON encodes the number as it appears inside numbers.
func (n Number) MarshalJSON() ([]byte, error) { return n.appendJSON(nil, 0, 0) }

func (n *Number) appendJSON(dst []byte, i, j int) ([]byte, error) {
	var set memberSet
	dst = append(dst, '{')
	dst = set.appendString(dst, "phone_number", n.PhoneNumber)
	dst = n.HostingOptions.appendJSON(dst, &set)
	dst, err := set.appendExtra(dst, n.Extra, path{item: i, number: j})
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

func (o *HostingOptions) appendJSON(dst []byte, set *memberSet) []byte {
	dst = set.appendString(dst, "friendly_name", o.FriendlyName)
	if len(o.CCEmails) > 0 {
		dst = set.appendKey(dst, "cc_emails")
		dst = append(dst, '[')
		for k, e := range o.CCEmails {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = wire.AppendString(dst, e)
		}
		dst = append(dst, ']')
	}
	dst = set.appendString(dst, "sms_url", o.SMSURL)
	dst = set.appendString(dst, "sms_method", o.SMSMethod)
	dst = set.appendString(dst, "sms_fallback_url", o.SMSFallbackURL)
	dst = set.appendString(dst, "sms_fallback_method", o.SMSFallbackMethod)
	dst = set.appendString(dst, "status_callback_url", o.StatusCallbackURL)
	dst = set.appendString(dst, "status_callback_method", o.StatusCallbackMethod)
	dst = set.appendString(dst, "sms_application_sid", o.SMSApplicationSID)
	return set.appendString(dst, "account_sid", o.AccountSID)
}

// memberSet remembers which members of one object were written from typed
// fields, so Extra cannot write them a second time.
type memberSet struct {
	names [16]string
	n     int
}

func (s *memberSet) appendKey(dst []byte, name string) []byte {
	if s.n < len(s.names) {
		s.names[s.n] = name
		s.n++
	}
	return wire.AppendKey(dst, name)
}

func (s *memberSet) appendString(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	return wire.AppendString(s.appendKey(dst, name), value)
}

func (s *memberSet) has(name string) bool {
	for _, n := range s.names[:s.n] {
		if n == name {
			return true
		}
	}
	return false
}

// appendExtra merges extra into the object being written, in sorted member
// order so the body is the same on every call.
func (s *memberSet) appendExtra(dst []byte, extra map[string]any, at path) ([]byte, error) {
	if len(extra) == 0 {
		return dst, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !s.has(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		raw, err := json.Marshal(extra[k])
		if err != nil {
			return nil, &ValidationError{Problems: []FieldError{{
				Field:   at.withField(k).String(),
				Message: "extra member cannot be encoded as JSON: " + err.Error(),
			}}}
		}
		dst = wire.AppendKey(dst, k)
		dst = append(dst, raw...)
	}
	return dst, nil
}

// UnmarshalJSON decodes a create body, keeping members the SDK does not
// model in Extra. The fake server in hostednumberstest reads requests with it.
func (p *CreateBulkHostedNumberOrderParams) UnmarshalJSON(data []byte) error {
	type plain CreateBulkHostedNumberOrderParams
	*p = CreateBulkHostedNumberOrderParams{} // no leftovers from a reused value
	if err := json.Unmarshal(data, (*plain)(p)); err != nil {
		return err
	}
	var err error
	p.Extra, err = unknownMembers(data, isTopMember)
	return err
}

// UnmarshalJSON decodes a request item, keeping unmodelled members in Extra.
func (it *RequestItem) UnmarshalJSON(data []byte) error {
	type plain RequestItem
	*it = RequestItem{}
	if err := json.Unmarshal(data, (*plain)(it)); err != nil {
		return err
	}
	var err error
	it.Extra, err = unknownMembers(data, isItemMember)
	return err
}

// UnmarshalJSON decodes a number, keeping unmodelled members in Extra.
func (n *Number) UnmarshalJSON(data []byte) error {
	type plain Number
	*n = Number{}
	if err := json.Unmarshal(data, (*plain)(n)); err != nil {
		return err
	}
	var err error
	n.Extra, err = unknownMembers(data, isNumberMember)
	return err
}

// unknownMembers returns the members of the JSON object data whose names
// known does not accept, numbers kept as json.Number so they re-encode
// unchanged.
func unknownMembers(data []byte, known func(string) bool) (map[string]any, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	var extra map[string]any
	for name, raw := range members {
		if known(name) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if extra == nil {
			extra = make(map[string]any)
		}
		extra[name] = v
	}
	return extra, nil
}

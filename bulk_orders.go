package hostednumbers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/retry"
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
// Create is never resent once the server may have processed it (see the
// package documentation), so an error never means "maybe created twice".
// A *DecodeError whose Accepted method reports true means the numbers were
// accepted even though the answer could not be read.
func (s *BulkHostedNumberOrdersService) Create(ctx context.Context, params *CreateBulkHostedNumberOrderParams) (*BulkHostedNumberOrder, error) {
	body := []byte("{}")
	if params != nil {
		if err := params.Validate(); err != nil {
			return nil, fmt.Errorf("hostednumbers: create bulk order: %w", err)
		}
		var err error
		if body, err = params.appendJSON(make([]byte, 0, params.sizeHint())); err != nil {
			return nil, fmt.Errorf("hostednumbers: create bulk order: %w", err)
		}
	}
	var w bulkOrderWire
	if err := s.client.do(ctx, http.MethodPost, bulkOrdersPath, "", body, &w); err != nil {
		return nil, fmt.Errorf("hostednumbers: create bulk order: %w", err)
	}
	order := w.BulkHostedNumberOrder
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
	var query string
	if params != nil && params.OrderStatus != "" {
		query = "OrderStatus=" + url.QueryEscape(string(params.OrderStatus))
	}
	var w bulkOrderWire
	if err := s.client.do(ctx, http.MethodGet, bulkOrdersPath+"/"+sid, query, nil, &w); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk order %s: %w", sid, err)
	}
	order := w.BulkHostedNumberOrder
	return &order, nil
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
type WaitOptions struct {
	// PollInterval is the wait before the second fetch; each later wait
	// doubles, up to MaxPollInterval. Default DefaultPollInterval.
	PollInterval time.Duration
	// MaxPollInterval bounds the wait between fetches. Default
	// DefaultMaxPollInterval.
	MaxPollInterval time.Duration
	// MaxConsecutiveErrors: once this many fetches in a row have failed
	// with a transient error (429, 5xx, connection trouble, each after the
	// client's own retries), Wait gives up with the last one. Default
	// DefaultMaxConsecutiveErrors.
	MaxConsecutiveErrors int
	// OnSnapshot, if set, is called with every successfully fetched state,
	// on the goroutine that called Wait, before Wait checks whether the
	// order is finished: use it for progress displays.
	OnSnapshot func(*BulkHostedNumberOrder)
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

// Wait fetches the bulk hosting request until its status is PROCESSED and
// returns that final state. It ends early when ctx ends, or when a fetch
// fails with an error that polling again cannot fix (404, 401/403, a bad
// response); transient failures are retried as the client's policy allows
// and then polled through, up to MaxConsecutiveErrors in a row. On an
// error, Wait also returns the last state it saw, if any. It starts no
// goroutines.
func (s *BulkHostedNumberOrdersService) Wait(ctx context.Context, sid string, opts *WaitOptions) (*BulkHostedNumberOrder, error) {
	if err := checkBulkHostingSID(sid); err != nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk order: %w", err)
	}
	w := opts.withDefaults()
	interval := w.PollInterval
	var last *BulkHostedNumberOrder
	failures := 0
	var timer *time.Timer
	for {
		order, err := s.Fetch(ctx, sid, nil)
		switch {
		case err == nil:
			failures = 0
			last = order
			if w.OnSnapshot != nil {
				w.OnSnapshot(order)
			}
			if order.RequestStatus.Finished() {
				return order, nil
			}
		case ctx.Err() != nil:
			return last, fmt.Errorf("hostednumbers: wait for bulk order %s: %w", sid, ctx.Err())
		case !transient(err):
			return last, err
		default:
			failures++
			if failures >= w.MaxConsecutiveErrors {
				return last, err
			}
		}
		if timer == nil {
			timer = time.NewTimer(interval)
			defer timer.Stop()
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("hostednumbers: wait for bulk order %s: %w", sid, ctx.Err())
		case <-timer.C:
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

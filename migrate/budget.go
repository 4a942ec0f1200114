package migrate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"sync"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// budget is the migration's budget of requests in flight: each request
// to Twilio the engine makes holds one of its slots while it is in
// flight. Twilio's concurrency limit is per account and shared with the
// account's other traffic, so the budget is small by default.
//
// It also holds the creates after a rate limit: a create takes its slot,
// then waits, without it, until the hold has passed, so that no create
// leaves while Twilio asked to wait, not even one that was waiting for
// a slot when the rate limit came.
type budget struct {
	slots chan struct{}
	clock Clock

	mu   sync.Mutex
	hold time.Time
}

func newBudget(n int, clock Clock) *budget {
	return &budget{slots: make(chan struct{}, n), clock: clock}
}

// acquire takes a slot, or returns ctx's error if ctx ends first.
func (b *budget) acquire(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives a slot back.
func (b *budget) release() { <-b.slots }

// holdCreates holds every create until t.
func (b *budget) holdCreates(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hold = later(b.hold, t)
}

// acquireCreate takes a slot for a create once no rate limit holds the
// creates, or returns ctx's error.
func (b *budget) acquireCreate(ctx context.Context) error {
	for {
		if err := b.acquire(ctx); err != nil {
			return err
		}
		b.mu.Lock()
		hold := b.hold
		b.mu.Unlock()
		now := b.clock.Now()
		if !now.Before(hold) {
			return nil
		}
		b.release()
		if err := b.clock.Sleep(ctx, hold.Sub(now)); err != nil {
			return err
		}
	}
}

// limited returns api with every call it makes held within b.
func limited(api API, b *budget) API {
	api.BulkHostedNumberOrders = limitedBulk{api.BulkHostedNumberOrders, b}
	api.HostedNumberOrders = limitedOrders{api.HostedNumberOrders, b}
	api.AuthorizationDocuments = limitedDocuments{api.AuthorizationDocuments, b}
	return api
}

// call runs f within b.
func call[T any](ctx context.Context, b *budget, f func() (T, error)) (T, error) {
	if err := b.acquire(ctx); err != nil {
		var zero T
		return zero, err
	}
	defer b.release()
	return f()
}

// seq holds a slot of b while the sequence works (fetches its pages), and
// not while the caller handles an item: a caller that makes calls of its
// own between items cannot deadlock the budget.
func seq[T any](ctx context.Context, b *budget, s iter.Seq2[*T, error]) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		if err := b.acquire(ctx); err != nil {
			yield(nil, err)
			return
		}
		held := true
		defer func() {
			if held {
				b.release()
			}
		}()
		for v, err := range s {
			b.release()
			held = false
			if !yield(v, err) {
				return
			}
			if err := b.acquire(ctx); err != nil {
				yield(nil, err)
				return
			}
			held = true
		}
	}
}

type limitedBulk struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	b *budget
}

func (l limitedBulk) Create(ctx context.Context, p *hostednumbers.CreateBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	if err := l.b.acquireCreate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: create not sent: %w: %w", hostednumbers.ErrNotApplied, err)
	}
	defer l.b.release()
	o, err := l.BulkHostedNumberOrdersAPI.Create(ctx, p, opts...)
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusTooManyRequests {
		// Hold the creates before the slot is given back, so that none
		// waiting for it leaves; the engine then sets the full wait.
		wait := apiErr.RetryAfter
		if wait <= 0 {
			wait = DefaultRateLimitWait / 2 // the least of rateLimitWait's
		}
		l.b.holdCreates(l.b.clock.Now().Add(wait))
	}
	return o, err
}

func (l limitedBulk) Fetch(ctx context.Context, sid string, p *hostednumbers.FetchBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	return call(ctx, l.b, func() (*hostednumbers.BulkHostedNumberOrder, error) {
		return l.BulkHostedNumberOrdersAPI.Fetch(ctx, sid, p, opts...)
	})
}

type limitedOrders struct {
	hostednumbers.HostedNumberOrdersAPI
	b *budget
}

func (l limitedOrders) List(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, opts ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	return call(ctx, l.b, func() (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
		return l.HostedNumberOrdersAPI.List(ctx, p, opts...)
	})
}

func (l limitedOrders) All(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, opts ...hostednumbers.CallOption) iter.Seq2[*hostednumbers.HostedNumberOrder, error] {
	return seq(ctx, l.b, l.HostedNumberOrdersAPI.All(ctx, p, opts...))
}

func (l limitedOrders) Fetch(ctx context.Context, sid string, opts ...hostednumbers.CallOption) (*hostednumbers.HostedNumberOrder, error) {
	return call(ctx, l.b, func() (*hostednumbers.HostedNumberOrder, error) {
		return l.HostedNumberOrdersAPI.Fetch(ctx, sid, opts...)
	})
}

type limitedDocuments struct {
	hostednumbers.AuthorizationDocumentsAPI
	b *budget
}

func (l limitedDocuments) Fetch(ctx context.Context, sid string, opts ...hostednumbers.CallOption) (*hostednumbers.AuthorizationDocument, error) {
	return call(ctx, l.b, func() (*hostednumbers.AuthorizationDocument, error) {
		return l.AuthorizationDocumentsAPI.Fetch(ctx, sid, opts...)
	})
}

func (l limitedDocuments) ListDependentOrders(ctx context.Context, doc string, p *hostednumbers.ListDependentHostedNumberOrdersParams, opts ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	return call(ctx, l.b, func() (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
		return l.AuthorizationDocumentsAPI.ListDependentOrders(ctx, doc, p, opts...)
	})
}

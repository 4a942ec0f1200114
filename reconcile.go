package hostednumbers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/poll"
)

// Reconcile settings.
const (
	// DefaultReconcileConcurrency is how many lookups Reconcile runs at
	// once when ReconcileParams.Concurrency is 0.
	DefaultReconcileConcurrency = 4
	// MaxReconcileConcurrency is the largest Concurrency Reconcile accepts:
	// Twilio limits concurrent requests per account, and more lookups at
	// once would only earn 429s.
	MaxReconcileConcurrency = 64

	// DefaultProcessingWindow is how long after a create may last have
	// reached Twilio Reconcile allows Twilio to make its hosted number
	// orders, when ReconcileParams.ProcessingWindow is 0. Twilio answers a
	// bulk create with 202 QUEUED and makes the orders later, from a queue,
	// and documents no bound on how long that takes; a request that reached
	// it is processed even if its client has gone. Until the window has
	// passed, finding no order proves nothing. Thirty minutes is chosen to
	// be far longer than any processing delay we know of, because the two
	// mistakes cost very differently: waiting too long delays a resubmit by
	// minutes, resubmitting too early hosts the numbers twice.
	DefaultProcessingWindow = 30 * time.Minute

	// DefaultConfirmGap is the least time between the two looks that must
	// both find no order before Reconcile says a number was not created,
	// when ReconcileParams.ConfirmGap is 0: long enough for a list that
	// shows an order a little after it was made (Twilio's lists may lag)
	// to catch up.
	DefaultConfirmGap = time.Minute

	// measuredClockSlack is how much earlier than SentAt, in Twilio's time,
	// an order may be dated and still count as this create's, when the
	// lookups measured Twilio's clock: Date headers and date_created have
	// whole seconds, and the two clocks were read at slightly different
	// moments.
	measuredClockSlack = 5 * time.Second
	// unmeasuredClockSlack replaces it when no answer carried a usable Date
	// header (a mock, a proxy that strips it): the clocks may then differ
	// by any amount, and ten minutes either way is what Reconcile promises
	// to absorb.
	unmeasuredClockSlack = 10 * time.Minute

	// maxLookupPages bounds one number's listing: a number has a handful
	// of orders, a page holds up to 50, so more pages than this means a
	// server that ignores the PhoneNumber filter (or keeps naming new
	// pages); the lookup then fails, and Reconcile gives no verdict,
	// instead of listing for as long as the server likes.
	maxLookupPages = 100

	// minReconcileInterval is the least time WaitForReconcile waits
	// between two looks, whatever RetryAt says, so that a tiny ConfirmGap
	// cannot turn it into a busy loop of listings.
	minReconcileInterval = 10 * time.Millisecond
)

// HostedNumberOrderLister is the one method Reconcile needs: list hosted
// number orders, one page at a time. HostedNumberOrdersAPI has it, so the
// client's HostedNumberOrders service, a mock of that interface, or any
// type with this method can be reconciled against.
type HostedNumberOrderLister interface {
	List(ctx context.Context, params *ListHostedNumberOrdersParams, opts ...CallOption) (*Page[HostedNumberOrder], error)
}

var _ HostedNumberOrderLister = HostedNumberOrdersAPI(nil)

// ReconcileParams name the phone numbers of a create whose outcome is
// unknown, when it was sent, and how to look for them.
type ReconcileParams struct {
	// PhoneNumbers are the numbers to look for, in E.164 form, each once.
	// Give either PhoneNumbers or Create.
	PhoneNumbers []string
	// Create is the create whose outcome is unknown; its numbers are looked
	// for, in the order of its request items.
	Create *CreateBulkHostedNumberOrderParams

	// SentAt is when the create was sent, by your clock: take time.Now()
	// just before calling Create (or before its first attempt, if you
	// retried it yourself). Required. Orders dated earlier (in Twilio's
	// time, which Reconcile measures from the Date header of the answers to
	// its lookups) are taken for an earlier attempt's and ignored, with a
	// slack of a few seconds when Twilio's clock was measured and of ten
	// minutes when it was not. It must not be in the future.
	SentAt time.Time
	// ReturnedAt is when Create returned its error, by your clock: Twilio
	// may have received the create until then, not later. Zero means
	// SentAt plus the per-attempt time limit (the client's WithTimeout for
	// the Reconcile method, DefaultTimeout for the function), an upper bound
	// of the same moment for a create that was sent once. A create sent
	// with WithCallTimeout (or one whose attempt had no limit) must give
	// ReturnedAt: the default does not know that call's limit.
	ReturnedAt time.Time
	// ProcessingWindow is how long after ReturnedAt Twilio may still make
	// the create's hosted number orders. While it lasts, a number with no
	// order is not a verdict: Reconcile says ReconcilePending and when to
	// look again. 0 means DefaultProcessingWindow.
	ProcessingWindow time.Duration
	// ConfirmGap is the least time between the two looks, both after the
	// window, that must find no order for a number before Reconcile reports
	// it missing. 0 means DefaultConfirmGap.
	ConfirmGap time.Duration
	// Previous is the result of the last Reconcile of the same numbers
	// (with the same params), as it returned it; pass it back when looking
	// again, so that its look can count as the first of the two, and so
	// that only the numbers it found without an order are listed again:
	// the others keep the orders it found. WaitForReconcile does this for
	// you.
	Previous *Reconciliation
	// KnownBulkHostingSIDs are bulk requests (BH…) you already know for
	// these numbers: earlier attempts, from your own records. Their orders
	// are reported (ReconciledNumber.KnownOrders) but never taken for this
	// create's.
	KnownBulkHostingSIDs []string

	// Now is the clock SentAt, ReturnedAt, LookedAt, RetryAt and
	// WindowClosesAt are read by, and that Twilio's clock is measured
	// against; nil means time.Now. A program whose times come from its
	// own clock (a test clock, say) passes that clock here.
	Now func() time.Time

	// Concurrency is how many lookups run at once: Reconcile starts that
	// many goroutines (fewer for fewer numbers) and never has more requests
	// in flight, so the client's connection pool serves them on as many
	// connections. (Go's transport can dial one spare connection when a
	// dial loses a race with a connection another lookup just freed; a
	// transport with MaxConnsPerHost set, given through WithHTTPClient, is
	// a hard cap.) 0 means DefaultReconcileConcurrency; at most
	// MaxReconcileConcurrency.
	Concurrency int
}

// ReconcileVerdict is what Reconcile concluded about the numbers.
type ReconcileVerdict string

// The verdicts of Reconcile, each with what to do next.
const (
	// ReconcilePending: not known yet. Some numbers have no order, and
	// Twilio may still make them: the processing window is open, or no two
	// looks after it, Reconciliation.ConfirmGap apart, have both found
	// nothing. Submit nothing; look again at Reconciliation.RetryAt with
	// Previous set to this result (WaitForReconcile does both).
	ReconcilePending ReconcileVerdict = "pending"
	// ReconcileNoneCreated: no number has an order, the processing window
	// has passed, and two looks apart have both found none. Twilio did not
	// process the create; it is safe to submit it again.
	ReconcileNoneCreated ReconcileVerdict = "none-created"
	// ReconcileAllInOne: every number has an order, all in the one bulk
	// request Reconciliation.BulkHostingSID. The create went through: fetch
	// that request (or Wait for it); do not submit again.
	ReconcileAllInOne ReconcileVerdict = "all-in-one"
	// ReconcilePartial: the orders are spread over several bulk requests
	// or were made without one, or some numbers have orders and the others
	// (Reconciliation.Missing) were confirmed missing as for
	// ReconcileNoneCreated. Submit only Missing, and look at
	// BulkHostingSIDs.
	ReconcilePartial ReconcileVerdict = "partial"
)

// Reconciliation is what Twilio has for the numbers of a create.
type Reconciliation struct {
	// Verdict is the conclusion; see the ReconcileVerdict constants.
	Verdict ReconcileVerdict
	// Reason says in a sentence why the verdict is what it is; for
	// ReconcilePending, what is still awaited.
	Reason string
	// RetryAt is when to look again, by your clock; set for
	// ReconcilePending only. While the processing window is open it is a
	// ConfirmGap after this look (an order found then ends the doubt
	// early); a verdict that allows a resubmission is possible only after
	// WindowClosesAt.
	RetryAt time.Time
	// LookedAt is when this look started, by your clock.
	LookedAt time.Time
	// WindowClosesAt is when the processing window ends, by your clock.
	WindowClosesAt time.Time
	// ClockOffset is Twilio's clock minus yours, as measured from the Date
	// header of the lookups' answers (whole seconds); ClockMeasured is
	// false when no answer had one.
	ClockOffset   time.Duration
	ClockMeasured bool
	// BulkHostingSID is the bulk request (BH…) holding every number; set
	// for ReconcileAllInOne only.
	BulkHostingSID string
	// Numbers has one entry per number looked for, in the input order,
	// with the orders found for it.
	Numbers []ReconciledNumber
	// Missing are the numbers with no order of this create, in the input
	// order: confirmed missing unless the verdict is ReconcilePending.
	Missing []string
	// BulkHostingSIDs are the distinct bulk requests this create's orders
	// belong to, sorted; the known ones (KnownBulkHostingSIDs) are not
	// among them.
	BulkHostingSIDs []string
}

// ReconciledNumber is one number Reconcile looked for and the hosted
// number orders Twilio has for it.
type ReconciledNumber struct {
	// PhoneNumber is the number, as given.
	PhoneNumber string
	// Orders are the orders that may be this create's (dated at or after
	// SentAt, less the clock slack, and not in a known bulk request), in
	// the order the API listed them; empty if none.
	Orders []HostedNumberOrder
	// KnownOrders are its orders in the bulk requests of
	// KnownBulkHostingSIDs.
	KnownOrders []HostedNumberOrder
}

// Reconcile finds out what Twilio made of a create whose outcome is
// unknown (an error matching ErrOutcomeUnknown); see the function
// Reconcile, which it calls with the client's hosted number orders, its
// per-attempt time limit, and its WithReconcileTiming window and gap where
// params leave them zero.
func (s *BulkHostedNumberOrdersService) Reconcile(ctx context.Context, params *ReconcileParams, opts ...CallOption) (*Reconciliation, error) {
	return reconcileWith(ctx, &HostedNumberOrdersService{client: s.client}, s.client.reconcile.apply(params), s.client.attemptLimit(), opts)
}

// WaitForReconcile is the function WaitForReconcile with the client's
// hosted number orders, per-attempt time limit, poll intervals
// (WithWaitPollInterval) and WithReconcileTiming window and gap where
// params leave them zero.
func (s *BulkHostedNumberOrdersService) WaitForReconcile(ctx context.Context, params *ReconcileParams, opts ...CallOption) (*Reconciliation, error) {
	w := s.client.waitOptions(nil)
	return waitForReconcile(ctx, &HostedNumberOrdersService{client: s.client}, s.client.reconcile.apply(params), s.client.attemptLimit(),
		w.withDefaults(), poll.RealClock(), opts)
}

// Reconcile finds out what Twilio made of a create whose outcome is
// unknown (a timeout, a dropped connection, an error matching
// ErrOutcomeUnknown): for each number, the hosted number orders that
// exist, their status and bulk request, and one verdict. It lists the
// orders of each number (List with PhoneNumber, following every page),
// with at most Concurrency lookups at once, and never creates anything.
// The first look lists every number once; a look given Previous lists only
// the numbers Previous found without an order (a number found once counts
// as created, and keeps the orders Previous found for it).
//
// It never gives a verdict that could lead to a resubmission while Twilio
// may still make the orders: while the processing window is open, or until
// two looks after it (ConfirmGap apart) have found no order for a number,
// it answers ReconcilePending with RetryAt. Phone numbers are compared by
// their digits, whatever spelling the API lists; dates are compared in
// Twilio's time.
//
// params are validated first (numbers in E.164, none twice, at least one;
// SentAt set and not in the future; Concurrency in range; Previous about
// the same numbers); a problem, or a nil ctx, returns a *ValidationError
// and nothing is sent. If a lookup fails, Reconcile stops the others and
// returns the error, naming the number: without every answer there is no
// safe verdict. When ctx ends, every lookup stops and Reconcile returns
// once they have.
//
// opts are passed to every List and Next of the lookups: a tag, a header,
// their own retries.
func Reconcile(ctx context.Context, orders HostedNumberOrderLister, params *ReconcileParams, opts ...CallOption) (*Reconciliation, error) {
	return reconcileWith(ctx, orders, params, DefaultTimeout, opts)
}

// WaitForReconcile calls Reconcile until its verdict is not
// ReconcilePending, passing each result back as Previous (so each look
// lists only the numbers still missing). It runs the loop of
// BulkHostedNumberOrdersService.Wait: after a pending result it waits
// until its RetryAt (at least 10ms), plus a jitter of up to a fifth of
// that wait; a look that fails with a 429 is taken again once its
// Retry-After has passed, one that fails transiently (a 5xx, a dropped
// connection, after the client's own retries) after the poll interval
// (DefaultPollInterval, doubling up to DefaultMaxPollInterval), up to
// DefaultMaxConsecutiveErrors in a row. It returns the first other
// verdict; on an error (one that looking again cannot fix, too many in a
// row, or the end of ctx) it also returns the last pending result, if any.
func WaitForReconcile(ctx context.Context, orders HostedNumberOrderLister, params *ReconcileParams, opts ...CallOption) (*Reconciliation, error) {
	return waitForReconcile(ctx, orders, params, DefaultTimeout, (&WaitOptions{}).withDefaults(), poll.RealClock(), opts)
}

func waitForReconcile(ctx context.Context, orders HostedNumberOrderLister, params *ReconcileParams, limit time.Duration, w WaitOptions, clock poll.Clock, opts []CallOption) (*Reconciliation, error) {
	if params == nil {
		return reconcileWith(ctx, orders, params, limit, opts)
	}
	p := *params
	last, err := poll.Loop[*Reconciliation]{
		Settings: w.pollSettings(),
		Clock:    clock,
		Fetch: func(ctx context.Context) (*Reconciliation, error) {
			return reconcileWith(ctx, orders, &p, limit, opts)
		},
		Done: func(r *Reconciliation) bool {
			p.Previous = r
			return r.Verdict != ReconcilePending
		},
		Schedule: func(r *Reconciliation) time.Duration {
			return max(r.RetryAt.Sub(p.now()), minReconcileInterval)
		},
		Classify: classifyPoll,
	}.Run(ctx)
	switch {
	case err == nil:
		return last, nil
	case ctx.Err() == nil || !errors.Is(err, ctx.Err()):
		return last, err // a look's own error, which names the number
	case last != nil:
		return last, fmt.Errorf("hostednumbers: reconcile: still pending (%s): %w", last.Reason, err)
	}
	return nil, fmt.Errorf("hostednumbers: reconcile: %w", err)
}

func reconcileWith(ctx context.Context, orders HostedNumberOrderLister, params *ReconcileParams, limit time.Duration, opts []CallOption) (*Reconciliation, error) {
	if err := checkContext(ctx); err != nil {
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", err)
	}
	lookedAt := params.now()
	numbers, err := params.numbers(lookedAt)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", err)
	}
	if orders == nil {
		v := validator{}
		v.add(topLevel("orders"), "is nil; pass the client's HostedNumberOrders or a HostedNumberOrderLister")
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", v.err())
	}
	// A number the previous look found with an order of this create counts
	// as created: its orders are kept, and only the numbers it found
	// without one are listed again.
	looks := make([]look, len(numbers))
	var pending []string
	var at []int
	for i, n := range numbers {
		if prev := params.Previous; prev != nil && len(prev.Numbers[i].Orders) > 0 {
			looks[i].carried = &prev.Numbers[i]
			continue
		}
		pending = append(pending, n)
		at = append(at, i)
	}
	if len(pending) > 0 {
		found, err := lookAll(ctx, orders, pending, params.Concurrency, params.now, opts)
		if err != nil {
			return nil, err
		}
		for j, i := range at {
			looks[i] = found[j]
		}
	}
	return params.conclude(numbers, looks, lookedAt, limit), nil
}

// look is what one listing found for one number: every order whose phone
// number has the same digits, and the clock offset its answers showed; or,
// for a number not listed again, what the previous look found (carried).
type look struct {
	orders   []HostedNumberOrder
	offset   time.Duration
	measured bool
	carried  *ReconciledNumber
}

// lookAll lists the orders of every number, at most concurrency at once.
func lookAll(ctx context.Context, orders HostedNumberOrderLister, numbers []string, concurrency int, now func() time.Time, opts []CallOption) ([]look, error) {
	workers := concurrency
	if workers == 0 {
		workers = DefaultReconcileConcurrency
	}
	workers = min(workers, len(numbers))
	found := make([]look, len(numbers))
	lookupCtx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		next      atomic.Int64
		completed atomic.Int64
		wg        sync.WaitGroup
		failOnce  sync.Once
		failure   error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lookupCtx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(numbers) {
					return
				}
				l, err := lookupNumber(lookupCtx, orders, numbers[i], now, opts)
				if err != nil {
					failOnce.Do(func() {
						failure = fmt.Errorf("look up %s: %w", numbers[i], err)
						stop()
					})
					return
				}
				found[i] = l
				completed.Add(1)
			}
		}()
	}
	wg.Wait()
	switch {
	case int(completed.Load()) == len(numbers):
		return found, nil
	case ctx.Err() != nil:
		// The lookups' own errors are only the echo of this one.
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", ctx.Err())
	case failure != nil:
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", failure)
	}
	return nil, fmt.Errorf("hostednumbers: reconcile: %d of %d lookups did not finish", len(numbers)-int(completed.Load()), len(numbers))
}

// lookupNumber lists every order for one number, across pages, keeping the
// ones whose phone number has the same digits (a server may spell it
// +1 628-555-0001, or ignore the filter), and measures Twilio's clock from
// the last page's Date header.
func lookupNumber(ctx context.Context, orders HostedNumberOrderLister, number string, now func() time.Time, opts []CallOption) (look, error) {
	var l look
	want := phoneDigits(number)
	page, err := orders.List(ctx, &ListHostedNumberOrdersParams{PhoneNumber: number}, opts...)
	for pages := 1; ; pages++ {
		if err != nil {
			return look{}, err
		}
		if page == nil {
			return l, nil
		}
		if pages > maxLookupPages {
			// A bad answer, not a passing fault: looking again would list
			// the same pages.
			e := &DecodeError{HTTPStatus: http.StatusOK, Err: fmt.Errorf("more than %d pages of orders for one number: the server may be ignoring the PhoneNumber filter; no verdict without the whole list", maxLookupPages)}
			if page.LastResponse != nil {
				e.HTTPStatus, e.RequestID = page.LastResponse.StatusCode, page.LastResponse.RequestID
			}
			return look{}, e
		}
		if off, ok := serverClockOffset(page.LastResponse, now()); ok {
			l.offset, l.measured = off, true
		}
		for _, o := range page.Items {
			if phoneDigits(o.PhoneNumber) == want {
				l.orders = append(l.orders, o)
			}
		}
		page, err = page.Next(ctx, opts...)
	}
}

// serverClockOffset is Twilio's clock minus ours, from the Date header of
// an answer, read at now, when the answer's headers arrived
// (approximately: at the end of its exchange, by Response.Elapsed, which
// for a list page is short).
func serverClockOffset(r *Response, now time.Time) (time.Duration, bool) {
	if r == nil || r.Header == nil {
		return 0, false
	}
	d, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return 0, false
	}
	return d.Sub(now), true
}

// now reads the params' clock.
func (p *ReconcileParams) now() time.Time {
	if p != nil && p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// phoneDigits is the canonical form Reconcile compares phone numbers in:
// their digits only, so +1 628-555-0001, +1 (628) 5550001 and
// +16285550001 are the same number.
func phoneDigits(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// conclude works out the verdict from the orders found for each number.
func (p *ReconcileParams) conclude(numbers []string, looks []look, lookedAt time.Time, limit time.Duration) *Reconciliation {
	r := &Reconciliation{LookedAt: lookedAt, Numbers: make([]ReconciledNumber, len(numbers))}
	listed := false
	for _, l := range looks {
		listed = listed || l.carried == nil
		// When answers disagree about Twilio's clock, the smallest offset
		// wins: it puts the bound earliest, so it keeps the most orders.
		// Taking a real order for an earlier attempt's would send its
		// number again; taking an earlier attempt's for this one's only
		// holds a number back for a person to look at.
		if l.measured && (!r.ClockMeasured || l.offset < r.ClockOffset) {
			r.ClockOffset, r.ClockMeasured = l.offset, true
		}
	}
	if !listed && p.Previous != nil {
		// Nothing was listed: Twilio's clock is as the previous look saw it.
		r.ClockOffset, r.ClockMeasured = p.Previous.ClockOffset, p.Previous.ClockMeasured
	}
	slack := unmeasuredClockSlack
	if r.ClockMeasured {
		// Whole seconds: an offset of 0.9 s reads as 0 or 1.
		slack = measuredClockSlack
		r.ClockOffset = r.ClockOffset.Round(time.Second)
	}
	bound := p.SentAt.Add(r.ClockOffset - slack).Truncate(time.Second) // Twilio's time
	known := make(map[string]bool, len(p.KnownBulkHostingSIDs))
	for _, sid := range p.KnownBulkHostingSIDs {
		known[strings.ToLower(sid)] = true
	}

	bulk := make(map[string]struct{})
	withoutBulk := false
	for i, n := range numbers {
		rn := ReconciledNumber{PhoneNumber: n}
		if c := looks[i].carried; c != nil {
			rn.Orders, rn.KnownOrders = c.Orders, c.KnownOrders
			for _, o := range rn.Orders {
				if sid := o.BulkHostingRequestSID; sid.Valid && sid.String != "" {
					bulk[sid.String] = struct{}{}
				} else {
					withoutBulk = true
				}
			}
			r.Numbers[i] = rn
			continue
		}
		for _, o := range looks[i].orders {
			sid := o.BulkHostingRequestSID
			switch {
			case sid.Valid && known[strings.ToLower(sid.String)]:
				rn.KnownOrders = append(rn.KnownOrders, o)
			case o.DateCreated.Valid && o.DateCreated.Time.Before(bound):
				// An earlier attempt's order. One without a date cannot be
				// shown to be older, so it counts: wrongly ignoring an
				// order leads to hosting a number twice.
			default:
				rn.Orders = append(rn.Orders, o)
				if sid.Valid && sid.String != "" {
					bulk[sid.String] = struct{}{}
				} else {
					withoutBulk = true
				}
			}
		}
		if len(rn.Orders) == 0 {
			r.Missing = append(r.Missing, n)
		}
		r.Numbers[i] = rn
	}
	for sid := range bulk {
		r.BulkHostingSIDs = append(r.BulkHostingSIDs, sid)
	}
	slices.Sort(r.BulkHostingSIDs)

	returned := p.ReturnedAt
	if returned.IsZero() {
		returned = p.SentAt.Add(limit)
	}
	window := p.ProcessingWindow
	if window == 0 {
		window = DefaultProcessingWindow
	}
	gap := p.ConfirmGap
	if gap == 0 {
		gap = DefaultConfirmGap
	}
	r.WindowClosesAt = returned.Add(window)

	if len(r.Missing) == 0 {
		if len(r.BulkHostingSIDs) == 1 && !withoutBulk {
			r.Verdict, r.BulkHostingSID = ReconcileAllInOne, r.BulkHostingSIDs[0]
			r.Reason = "every number has an order in " + r.BulkHostingSID
		} else {
			r.Verdict = ReconcilePartial
			r.Reason = "every number has an order, but not all in one bulk request"
		}
		return r
	}
	if lookedAt.Before(r.WindowClosesAt) {
		// Orders may appear at any moment: look again a gap later (a
		// found order ends the doubt early), and never later than the
		// window's end.
		r.Verdict, r.RetryAt = ReconcilePending, minTime(lookedAt.Add(gap), r.WindowClosesAt)
		r.Reason = fmt.Sprintf("%d of %d numbers have no order yet, and Twilio may still be processing the create until %s",
			len(r.Missing), len(numbers), r.WindowClosesAt.Format(time.RFC3339))
		return r
	}
	// After the window: a number is missing only if the previous look, also
	// after the window and at least gap earlier, found nothing for it either.
	prev := p.Previous
	usable := prev != nil && !prev.LookedAt.Before(r.WindowClosesAt) && lookedAt.Sub(prev.LookedAt) >= gap
	if usable {
		wasMissing := make(map[string]bool, len(prev.Missing))
		for _, n := range prev.Missing {
			wasMissing[n] = true
		}
		for _, n := range r.Missing {
			if !wasMissing[n] {
				usable = false
				break
			}
		}
	}
	if !usable {
		r.Verdict = ReconcilePending
		r.RetryAt = lookedAt.Add(gap)
		if prev != nil && !prev.LookedAt.Before(r.WindowClosesAt) && lookedAt.Sub(prev.LookedAt) < gap {
			r.RetryAt = prev.LookedAt.Add(gap)
		}
		r.Reason = fmt.Sprintf("%d of %d numbers have no order; a second look at %s confirms it (a list may show an order late)",
			len(r.Missing), len(numbers), r.RetryAt.Format(time.RFC3339))
		return r
	}
	if len(r.Missing) == len(numbers) {
		r.Verdict = ReconcileNoneCreated
		r.Reason = "no number has an order, after the processing window and in two looks"
	} else {
		r.Verdict = ReconcilePartial
		r.Reason = fmt.Sprintf("%d of %d numbers have no order, after the processing window and in two looks", len(r.Missing), len(numbers))
	}
	return r
}

// Validate checks the params and returns a *ValidationError that lists
// each problem, or nil. Reconcile calls it before sending anything.
func (p *ReconcileParams) Validate() error {
	_, err := p.numbers(p.now())
	return err
}

// numbers validates the params and returns the numbers to look for, in
// input order.
func (p *ReconcileParams) numbers(now time.Time) ([]string, error) {
	v := validator{}
	if p == nil {
		v.add(topLevel("phone_numbers"), "must list at least one phone number (or give create)")
		return nil, v.err()
	}
	var numbers, fields []string
	switch {
	case len(p.PhoneNumbers) > 0 && p.Create != nil:
		v.add(topLevel("create"), "cannot be combined with phone_numbers; give one of them")
	case p.Create != nil:
		for i := range p.Create.RequestItems {
			for j, n := range p.Create.RequestItems[i].Numbers {
				numbers = append(numbers, n.PhoneNumber)
				fields = append(fields, "create."+path{item: i, number: j, field: "phone_number"}.String())
			}
		}
		if len(numbers) == 0 {
			v.add(topLevel("create"), "has no phone number to look for")
		}
	default:
		numbers = p.PhoneNumbers
		for i := range numbers {
			fields = append(fields, "phone_numbers["+strconv.Itoa(i)+"]")
		}
		if len(numbers) == 0 {
			v.add(topLevel("phone_numbers"), "must list at least one phone number (or give create)")
		}
	}
	seen := make(map[string]int, len(numbers))
	for i, n := range numbers {
		switch first, dup := seen[n]; {
		case !format.E164(n):
			v.add(topLevel(fields[i]), fmt.Sprintf("%s is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", quoteShort(n)))
		case dup:
			v.add(topLevel(fields[i]), fmt.Sprintf("%s is listed twice; first at %s", n, fields[first]))
		default:
			seen[n] = i
		}
	}
	switch {
	case p.Concurrency < 0:
		v.add(topLevel("concurrency"), fmt.Sprintf("is %d; it must not be negative (0 means %d)", p.Concurrency, DefaultReconcileConcurrency))
	case p.Concurrency > MaxReconcileConcurrency:
		v.add(topLevel("concurrency"), fmt.Sprintf("is %d; at most %d lookups may run at once", p.Concurrency, MaxReconcileConcurrency))
	}
	switch {
	case p.SentAt.IsZero():
		v.add(topLevel("sent_at"), "is not set: give the time the create was sent (without a lower bound every order ever made would count)")
	case p.SentAt.After(now):
		v.add(topLevel("sent_at"), fmt.Sprintf("is %s after now by this machine's clock; give the time the create was sent, by the same clock (did the clock change?)",
			p.SentAt.Sub(now).Round(time.Second)))
	}
	if !p.ReturnedAt.IsZero() && !p.SentAt.IsZero() && p.ReturnedAt.Before(p.SentAt) {
		v.add(topLevel("returned_at"), "is before sent_at")
	}
	if p.ProcessingWindow < 0 {
		v.add(topLevel("processing_window"), "must not be negative (0 means the default)")
	}
	if p.ConfirmGap < 0 {
		v.add(topLevel("confirm_gap"), "must not be negative (0 means the default)")
	}
	for i, sid := range p.KnownBulkHostingSIDs {
		v.sid(topLevel("known_bulk_hosting_sids["+strconv.Itoa(i)+"]"), sid, "BH")
	}
	if prev := p.Previous; prev != nil && !samePhones(prev.Numbers, numbers) {
		v.add(topLevel("previous"), "is the result of a reconciliation of other numbers; pass the result of the same numbers' last look, or nil")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return numbers, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func samePhones(prev []ReconciledNumber, numbers []string) bool {
	if len(prev) != len(numbers) {
		return false
	}
	for i := range prev {
		if prev[i].PhoneNumber != numbers[i] {
			return false
		}
	}
	return true
}

// attemptLimit is the client's per-attempt time limit: its WithTimeout (or
// the limit of the http.Client given with WithHTTPClient), DefaultTimeout
// when it has none, since an attempt without a limit cannot be bounded
// from here (give ReconcileParams.ReturnedAt then).
func (c *Client) attemptLimit() time.Duration {
	hc := c.http.HTTPClient
	if ot, ok := hc.Transport.(*onceTransport); ok && ot.timeout > 0 {
		return ot.timeout
	}
	if hc.Timeout > 0 {
		return hc.Timeout
	}
	return DefaultTimeout
}

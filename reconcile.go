package hostednumbers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
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
)

// ReconcileParams name the phone numbers of a create whose outcome is
// unknown, and how to look for them.
type ReconcileParams struct {
	// PhoneNumbers are the numbers to look for, in E.164 form, each once.
	// Give either PhoneNumbers or Create.
	PhoneNumbers []string
	// Create is the create whose outcome is unknown; its numbers are looked
	// for, in the order of its request items.
	Create *CreateBulkHostedNumberOrderParams
	// Since, when set, ignores orders whose date_created is before it, so
	// that an order from an earlier attempt (a number hosted, cancelled and
	// resubmitted last year) is not taken for this create's. Take it from
	// your clock a little before the create: a minute is plenty to absorb a
	// difference between your clock and Twilio's. date_created has whole
	// seconds, so Since is compared at whole seconds. It must not be in the
	// future.
	Since time.Time
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
	// ReconcileNoneCreated: no number has an order. Twilio did not process
	// the create; it is safe to submit it again.
	ReconcileNoneCreated ReconcileVerdict = "none-created"
	// ReconcileAllInOne: every number has an order, all in the one bulk
	// request Reconciliation.BulkHostingSID. The create went through: fetch
	// that request (or Wait for it); do not submit again.
	ReconcileAllInOne ReconcileVerdict = "all-in-one"
	// ReconcilePartial: some numbers have orders and some do not, or the
	// orders are spread over several bulk requests or were made without
	// one. Submit only Reconciliation.Missing, and look at
	// BulkHostingSIDs.
	ReconcilePartial ReconcileVerdict = "partial"
)

// Reconciliation is what Twilio has for the numbers of a create.
type Reconciliation struct {
	// Verdict is the conclusion; see the ReconcileVerdict constants.
	Verdict ReconcileVerdict
	// BulkHostingSID is the bulk request (BH…) holding every number; set
	// for ReconcileAllInOne only.
	BulkHostingSID string
	// Numbers has one entry per number looked for, in the input order,
	// with the orders found for it.
	Numbers []ReconciledNumber
	// Missing are the numbers with no order, in the input order.
	Missing []string
	// BulkHostingSIDs are the distinct bulk requests the orders found
	// belong to, sorted.
	BulkHostingSIDs []string
}

// ReconciledNumber is one number Reconcile looked for and the hosted
// number orders Twilio has for it (created at or after Since).
type ReconciledNumber struct {
	// PhoneNumber is the number, as given.
	PhoneNumber string
	// Orders are its orders in the order the API listed them; empty if
	// none.
	Orders []HostedNumberOrder
}

// Reconcile finds out what Twilio made of a create whose outcome is
// unknown (a timeout, a dropped connection, an error matching
// ErrOutcomeUnknown): for each number, the hosted number orders that
// exist, their status and bulk request, and one verdict. It lists the
// orders of each number (GET /v2/HostedNumber/Orders?PhoneNumber=…,
// following every page) with at most Concurrency lookups at once, through
// the client's retry policy; it never creates anything.
//
// params are validated first (numbers in E.164, none twice, at least one;
// Concurrency in range; Since not in the future); a problem returns a
// *ValidationError and nothing is sent. If a lookup fails, Reconcile stops
// the others and returns the error, naming the number: without every
// answer there is no safe verdict. When ctx ends, every lookup stops and
// Reconcile returns once they have.
func (s *BulkHostedNumberOrdersService) Reconcile(ctx context.Context, params *ReconcileParams) (*Reconciliation, error) {
	numbers, err := params.numbers()
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", err)
	}
	workers := params.Concurrency
	if workers == 0 {
		workers = DefaultReconcileConcurrency
	}
	workers = min(workers, len(numbers))
	since := params.Since.Truncate(time.Second)
	orders := &HostedNumberOrdersService{client: s.client}

	found := make([][]HostedNumberOrder, len(numbers))
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
				list, err := lookupNumber(lookupCtx, orders, numbers[i], since)
				if err != nil {
					failOnce.Do(func() {
						failure = fmt.Errorf("look up %s: %w", numbers[i], err)
						stop()
					})
					return
				}
				found[i] = list
				completed.Add(1)
			}
		}()
	}
	wg.Wait()
	switch {
	case int(completed.Load()) == len(numbers):
		return reconcile(numbers, found), nil
	case ctx.Err() != nil:
		// The lookups' own errors are only the echo of this one.
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", ctx.Err())
	case failure != nil:
		return nil, fmt.Errorf("hostednumbers: reconcile: %w", failure)
	}
	return nil, fmt.Errorf("hostednumbers: reconcile: %d of %d lookups did not finish", len(numbers)-int(completed.Load()), len(numbers))
}

// lookupNumber lists every order for one number, across pages, keeping the
// ones for exactly that number created at or after since.
func lookupNumber(ctx context.Context, orders *HostedNumberOrdersService, number string, since time.Time) ([]HostedNumberOrder, error) {
	var out []HostedNumberOrder
	for o, err := range orders.All(ctx, &ListHostedNumberOrdersParams{PhoneNumber: number}) {
		if err != nil {
			return nil, err
		}
		if o.PhoneNumber != number {
			continue // a server that ignored the filter
		}
		// An order without a date cannot be shown to be older: count it,
		// since wrongly ignoring an order leads to hosting a number twice.
		if !since.IsZero() && o.DateCreated.Valid && o.DateCreated.Time.Before(since) {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// reconcile works out the verdict from the orders found for each number.
func reconcile(numbers []string, found [][]HostedNumberOrder) *Reconciliation {
	r := &Reconciliation{Numbers: make([]ReconciledNumber, len(numbers))}
	bulk := make(map[string]struct{})
	withoutBulk := false
	for i, n := range numbers {
		r.Numbers[i] = ReconciledNumber{PhoneNumber: n, Orders: found[i]}
		if len(found[i]) == 0 {
			r.Missing = append(r.Missing, n)
		}
		for _, o := range found[i] {
			if o.BulkHostingRequestSID.Valid && o.BulkHostingRequestSID.String != "" {
				bulk[o.BulkHostingRequestSID.String] = struct{}{}
			} else {
				withoutBulk = true
			}
		}
	}
	for sid := range bulk {
		r.BulkHostingSIDs = append(r.BulkHostingSIDs, sid)
	}
	slices.Sort(r.BulkHostingSIDs)
	switch {
	case len(r.Missing) == len(numbers):
		r.Verdict = ReconcileNoneCreated
	case len(r.Missing) == 0 && len(r.BulkHostingSIDs) == 1 && !withoutBulk:
		r.Verdict, r.BulkHostingSID = ReconcileAllInOne, r.BulkHostingSIDs[0]
	default:
		r.Verdict = ReconcilePartial
	}
	return r
}

// Validate checks the params and returns a *ValidationError that lists
// each problem, or nil. Reconcile calls it before sending anything.
func (p *ReconcileParams) Validate() error {
	_, err := p.numbers()
	return err
}

// numbers validates the params and returns the numbers to look for, in
// input order.
func (p *ReconcileParams) numbers() ([]string, error) {
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
	if p.Since.After(time.Now()) {
		v.add(topLevel("since"), "is in the future: every order would be ignored")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return numbers, nil
}

package migrate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/poll"
)

// Progress sums a migration up from its batches' counts.
type Progress struct {
	Batches, Numbers int
	// Counts is the number of numbers in each report status.
	Counts map[string]int
	// States is the number of batches in each state.
	States map[BatchState]int
	// Settled is true when following can change no number any more.
	Settled bool
}

// batchCounts are the counts of b, worked out from its state when it was
// never saved with its numbers.
func batchCounts(b *Batch) map[string]int {
	if b.Counts != nil {
		return b.Counts
	}
	status := StatusNotSubmitted
	switch {
	case b.State == StateRejected:
		status = StatusRejected
	case b.State.InDoubt():
		status = StatusUnknown
	case b.State == StateAccepted:
		status = StatusSubmitted
	}
	return map[string]int{status: b.Size}
}

func countsFinal(counts map[string]int) bool {
	for s, n := range counts {
		if n > 0 && !Final(s) {
			return false
		}
	}
	return true
}

// Summarize reads the progress of the migration in store from its
// batches, without reading their numbers.
func Summarize(ctx context.Context, store Store) (Progress, error) {
	meta, err := store.Meta(ctx)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Batches: meta.Batches, Numbers: meta.Input.Numbers, Counts: make(map[string]int), States: make(map[BatchState]int), Settled: true}
	for i := 1; i <= meta.Batches; i++ {
		b, err := store.Batch(ctx, i)
		if err != nil {
			return p, err
		}
		p.States[b.State]++
		c := batchCounts(&b)
		for s, n := range c {
			if n > 0 {
				p.Counts[s] += n
			}
		}
		p.Settled = p.Settled && countsFinal(c)
	}
	return p, nil
}

// Refresh asks Twilio once about every number of the migration that it
// holds and that can still change, and records what changed: a bulk
// request's results give each number its hosted number order (HR…) once
// the request is processed; from then on each number is followed by its
// hosted number order, whose status is the authority (a bulk request's
// PROCESSED means the orders exist, not that the numbers are hosted), and
// each authorisation document (LOA) by its own status. Batches whose
// numbers are all final are skipped without being read.
//
// Under claims (see Options.Worker), the workers share the refreshes:
// each batch is claimed before it is refreshed and saved under the
// claim; a batch another worker holds is left to it, and so is one
// whose last claim was another worker's and ended since this pass began
// (by the store's clock: the pass's first claim), as it was just
// refreshed or submitted, so that two workers do not both refresh it in
// one pass. A claim lost or a conflict leaves the batch to the other
// worker: it fails no refresh.
func (m *Migrator) Refresh(ctx context.Context) (Progress, error) {
	if m.cs != nil {
		if err := m.refreshClaimed(ctx); err != nil {
			return Progress{}, err
		}
		return Summarize(ctx, m.o.Store)
	}
	meta, err := m.o.Store.Meta(ctx)
	if err != nil {
		return Progress{}, err
	}
	for i := 1; i <= meta.Batches; i++ {
		if err := m.refreshBatch(ctx, i); err != nil {
			return Progress{}, err
		}
	}
	return Summarize(ctx, m.o.Store)
}

// Follow refreshes until following can change no number any more
// (Progress.Settled), waiting Poll between refreshes (doubling up to
// MaxPoll), each wait plus a jitter of up to a fifth of it: the SDK's own
// poll loop, the one Wait, WaitBulk and WaitForReconcile run. A refresh
// refused with a 429 is taken again once its Retry-After has passed, not
// counted as a failure; other transient errors (5xx, the network) are
// tried again up to hostednumbers.DefaultMaxConsecutiveErrors times in a
// row. Without Options.Wait it refreshes once. On an error it returns the
// last progress a refresh gave.
func (m *Migrator) Follow(ctx context.Context) (Progress, error) {
	return poll.Loop[Progress]{
		Settings: poll.Settings{Interval: m.o.Poll, MaxInterval: m.o.MaxPoll,
			MaxFailures: hostednumbers.DefaultMaxConsecutiveErrors, Jitter: poll.DefaultJitter},
		Clock: poll.Clock{Jitter: rand.Float64, Sleep: func(ctx context.Context, d time.Duration) error {
			m.o.checkpoint(stepMidWait)
			return m.o.Clock.Sleep(ctx, d)
		}},
		Fetch: func(ctx context.Context) (Progress, error) {
			p, err := m.Refresh(ctx)
			if err == nil {
				m.o.OnEvent(Event{Kind: EventRefreshed, Counts: p.Counts, Settled: p.Settled})
			}
			return p, err
		},
		Done: func(p Progress) bool { return p.Settled || !m.o.Wait },
		Classify: func(err error) (poll.Kind, time.Duration) {
			if !m.o.Wait || !Transient(err) {
				return poll.Final, 0
			}
			var apiErr *hostednumbers.APIError
			if errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusTooManyRequests {
				return poll.Throttled, apiErr.RetryAfter
			}
			return poll.Transient, 0
		},
	}.Run(ctx)
}

// Transient reports whether a failed refresh is worth trying again.
func Transient(err error) bool {
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatus == http.StatusTooManyRequests || apiErr.HTTPStatus >= 500
	}
	var decodeErr *hostednumbers.DecodeError
	var validationErr *hostednumbers.ValidationError
	var stepErr *StepError
	return !errors.As(err, &decodeErr) && !errors.As(err, &validationErr) && !errors.As(err, &stepErr) && !errors.Is(err, context.Canceled)
}

// nullable keeps a failure reason or next step, "" as none: Twilio sends
// "" on an order that has not failed.
func nullable(s hostednumbers.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	v := s.String
	return &v
}

func sameString(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// update applies what Twilio said about one number and reports whether
// anything changed.
func update(n *NumberState, hr, status string, reason, next *string, doc hostednumbers.NullString) bool {
	changed := false
	if hr != "" && n.HostingOrderSID != hr {
		n.HostingOrderSID, changed = hr, true
	}
	if status != "" && n.Status != status {
		n.Status, changed = status, true
	}
	if !sameString(n.FailureReason, reason) {
		n.FailureReason, changed = reason, true
	}
	if !sameString(n.NextStep, next) {
		n.NextStep, changed = next, true
	}
	if doc.Valid && doc.String != "" && n.SigningDocumentSID != doc.String {
		n.SigningDocumentSID, changed = doc.String, true
	}
	return changed
}

// refreshClaimed is one refresh pass under claims: it pages through the
// batches whose numbers can still change, claims each, and refreshes it
// under the claim.
func (m *Migrator) refreshClaimed(ctx context.Context) error {
	var began time.Time // by the store's clock: the pass's first claim
	for after := 0; ; {
		page, err := m.cs.Pending(ctx, after, claimPage)
		if err != nil {
			return err
		}
		for k := range page {
			after = page[k].Index
			if countsFinal(batchCounts(&page[k])) {
				continue // nothing of it can change: not even claimed
			}
			if !began.IsZero() {
				// Another worker's claim that ended since this pass
				// began (or is live): it had the batch in this pass.
				// Looked at without a claim, so that skipping a batch
				// leaves no claim of this worker's for the others to
				// skip in turn.
				last, err := m.cs.LeaseOf(ctx, page[k].Index)
				if err != nil {
					return err
				}
				if last.Held() && last.Worker != m.o.Worker && !last.Expires.Before(began) {
					continue
				}
			}
			h, b, bctx, err := m.claimBatch(ctx, page[k].Index)
			if err != nil {
				if leaseTrouble(ctx, ctx, err) {
					continue // another worker's for now
				}
				return err
			}
			if began.IsZero() {
				began = h.storeAt
			}
			err = m.refreshOf(bctx, b)
			trouble := err != nil && leaseTrouble(ctx, bctx, err)
			h.end(ctx)
			if err != nil && !trouble {
				return err
			}
		}
		if len(page) < claimPage {
			return nil
		}
	}
}

// refreshBatch refreshes the numbers of one batch and records what
// changed.
func (m *Migrator) refreshBatch(ctx context.Context, index int) error {
	b, err := m.o.Store.Batch(ctx, index)
	if err != nil {
		return err
	}
	return m.refreshOf(ctx, b)
}

// refreshOf refreshes the numbers of b, as read, and records what
// changed.
func (m *Migrator) refreshOf(ctx context.Context, b Batch) error {
	index := b.Index
	if countsFinal(batchCounts(&b)) {
		return nil // nothing of it can change (or nothing is at Twilio)
	}
	numbers, err := m.o.Store.Numbers(ctx, index)
	if err != nil {
		return err
	}
	now := m.o.Clock.Now().UTC()
	changed := make([]bool, len(numbers))
	fresh := make([]bool, len(numbers)) // updated from a bulk request in this pass
	byPhone := make(map[string]int, len(numbers))
	for i := range numbers {
		byPhone[numbers[i].PhoneNumber()] = i
	}

	// Numbers Twilio holds in a bulk request whose orders are not known
	// yet: their request's results name them.
	var bulk []string
	for i := range numbers {
		n := &numbers[i]
		if n.BulkHostingSID != "" && n.HostingOrderSID == "" && !n.Withdrawn {
			bulk = appendNew(bulk, n.BulkHostingSID)
		}
	}
	for _, sid := range bulk {
		order, err := m.o.Client.BulkHostedNumberOrders.Fetch(ctx, sid, nil)
		if err != nil {
			return err
		}
		listed := make(map[int]bool)
		for _, r := range order.Orders() {
			i, ok := byPhone[r.PhoneNumber]
			if !ok || numbers[i].BulkHostingSID != sid || numbers[i].HostingOrderSID != "" {
				continue // not a number this batch sent in this request
			}
			listed[i] = true
			if update(&numbers[i], r.HostingOrderSID, string(r.Status), nullable(r.FailureReason), nullable(r.NextStep), r.SigningDocumentSID) {
				changed[i], fresh[i] = true, true
			}
		}
		if order.RequestStatus != hostednumbers.RequestStatusProcessed {
			continue
		}
		for i := range numbers {
			n := &numbers[i]
			if n.BulkHostingSID == sid && n.HostingOrderSID == "" && !n.Withdrawn && !listed[i] && n.Status != StatusCanceled {
				// Processed, and the number is not in it: its order was
				// cancelled.
				n.Status, n.FailureReason, n.NextStep = StatusCanceled, nil, nil
				changed[i], fresh[i] = true, true
			}
		}
	}

	// Numbers with an order that can still change: their order.
	var follow []int
	for i := range numbers {
		n := &numbers[i]
		if n.HostingOrderSID != "" && !fresh[i] && !Final(NumberStatus(b.State, n)) {
			follow = append(follow, i)
		}
	}
	// The orders of a document several numbers share are listed a page
	// (up to 1000) at a time; only the numbers the lists do not answer
	// for are fetched one by one.
	listed, err := m.listByDocument(ctx, numbers, follow)
	if err != nil {
		return err
	}
	follow = slices.DeleteFunc(follow, func(i int) bool {
		o := listed[numbers[i].HostingOrderSID]
		if o != nil && update(&numbers[i], "", string(o.Status), nullable(o.FailureReason), nullable(o.NextStep), o.SigningDocumentSID) {
			changed[i] = true
		}
		return o != nil
	})
	orders, err := fetchAll(ctx, m.o.Concurrency, follow, func(ctx context.Context, i int) (*hostednumbers.HostedNumberOrder, error) {
		o, err := m.o.Client.HostedNumberOrders.Fetch(ctx, numbers[i].HostingOrderSID)
		if errors.Is(err, hostednumbers.ErrNotFound) {
			// Cancelled at Twilio: that is an answer.
			return &hostednumbers.HostedNumberOrder{SID: numbers[i].HostingOrderSID, Status: hostednumbers.OrderStatus(StatusCanceled)}, nil
		}
		return o, err
	})
	if err != nil {
		return err
	}
	for k, i := range follow {
		o := orders[k]
		if update(&numbers[i], "", string(o.Status), nullable(o.FailureReason), nullable(o.NextStep), o.SigningDocumentSID) {
			changed[i] = true
		}
	}

	// Authorisation documents whose status can still change.
	var docs []string
	for i := range numbers {
		d := numbers[i].SigningDocumentSID
		if d == "" {
			continue
		}
		switch hostednumbers.AuthorizationDocumentStatus(numbers[i].LOAStatus) {
		case hostednumbers.AuthorizationDocumentStatusSigned, hostednumbers.AuthorizationDocumentStatusCanceled, hostednumbers.AuthorizationDocumentStatusFailed:
			continue // final
		}
		docs = appendNew(docs, d)
	}
	docIdx := make([]int, len(docs))
	for i := range docIdx {
		docIdx[i] = i
	}
	got, err := fetchAll(ctx, m.o.Concurrency, docIdx, func(ctx context.Context, i int) (*hostednumbers.AuthorizationDocument, error) {
		d, err := m.o.Client.AuthorizationDocuments.Fetch(ctx, docs[i])
		if errors.Is(err, hostednumbers.ErrNotFound) {
			return nil, nil // deleted: found again through the orders below
		}
		return d, err
	})
	if err != nil {
		return err
	}
	loa := make(map[string]string, len(docs))
	var gone []string
	for k, d := range docs {
		if got[k] == nil {
			gone = append(gone, d)
			continue
		}
		loa[d] = string(got[k].Status)
		if got[k].Status == hostednumbers.AuthorizationDocumentStatusCanceled {
			gone = append(gone, d) // cancelled, perhaps re-issued: ask the orders
		}
	}
	if len(gone) > 0 {
		if err := m.reissued(ctx, numbers, gone, loa, changed); err != nil {
			return err
		}
	}
	for i := range numbers {
		if s, ok := loa[numbers[i].SigningDocumentSID]; ok && numbers[i].LOAStatus != s {
			numbers[i].LOAStatus, changed[i] = s, true
		}
	}

	var out []NumberState
	for i := range numbers {
		if changed[i] {
			numbers[i].Checked = now
			out = append(out, numbers[i])
		}
	}
	counts := countNumbers(b.State, numbers)
	if len(out) == 0 && equalCounts(counts, b.Counts) {
		return nil
	}
	b.Counts = counts
	if err := m.saveBatch(ctx, &b, out); err != nil {
		return fmt.Errorf("recording the refresh of batch %d: %w", index, err)
	}
	return nil
}

// listByDocument lists, a page of up to 1000 at a time, the orders of
// each authorisation document that two or more of the numbers of follow
// share (the numbers of one bulk request share one), and returns those
// orders by SID. A document Twilio no longer has answers for none of its
// numbers: they are fetched one by one.
func (m *Migrator) listByDocument(ctx context.Context, numbers []NumberState, follow []int) (map[string]*hostednumbers.HostedNumberOrder, error) {
	byDoc := make(map[string]int)
	for _, i := range follow {
		if d := numbers[i].SigningDocumentSID; d != "" {
			byDoc[d]++
		}
	}
	out := make(map[string]*hostednumbers.HostedNumberOrder)
	want := make(map[string]bool, len(follow))
	for _, i := range follow {
		want[numbers[i].HostingOrderSID] = true
	}
	for doc, n := range byDoc {
		if n < 2 {
			continue // one fetch costs no more than a list
		}
		page, err := m.o.Client.AuthorizationDocuments.ListDependentOrders(ctx, doc, &hostednumbers.ListDependentHostedNumberOrdersParams{PageSize: 1000})
		for err == nil {
			for k := range page.Items {
				if o := &page.Items[k]; want[o.SID] {
					out[o.SID] = o
				}
			}
			if !page.HasNext() {
				break
			}
			page, err = call(ctx, m.budget, func() (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) { return page.Next(ctx) })
		}
		if err != nil && !errors.Is(err, hostednumbers.ErrNotFound) {
			return nil, fmt.Errorf("listing the orders of authorisation document %s: %w", doc, err)
		}
	}
	return out, nil
}

// reissued finds the current authorisation document of the numbers whose
// document is gone or cancelled (deleted, re-issued) through their
// orders, and puts the status of each in loa: a new document's own, or
// canceled when the order names no other.
func (m *Migrator) reissued(ctx context.Context, numbers []NumberState, gone []string, loa map[string]string, changed []bool) error {
	var idx []int
	for i := range numbers {
		if slices.Contains(gone, numbers[i].SigningDocumentSID) && numbers[i].HostingOrderSID != "" {
			idx = append(idx, i)
		}
	}
	orders, err := fetchAll(ctx, m.o.Concurrency, idx, func(ctx context.Context, i int) (*hostednumbers.HostedNumberOrder, error) {
		o, err := m.o.Client.HostedNumberOrders.Fetch(ctx, numbers[i].HostingOrderSID)
		if errors.Is(err, hostednumbers.ErrNotFound) {
			return &hostednumbers.HostedNumberOrder{}, nil
		}
		return o, err
	})
	if err != nil {
		return err
	}
	for k, i := range idx {
		n := &numbers[i]
		doc := orders[k].SigningDocumentSID
		if !doc.Valid || doc.String == "" || slices.Contains(gone, doc.String) {
			if n.LOAStatus != string(hostednumbers.AuthorizationDocumentStatusCanceled) {
				n.LOAStatus, changed[i] = string(hostednumbers.AuthorizationDocumentStatusCanceled), true
			}
			continue
		}
		n.SigningDocumentSID, changed[i] = doc.String, true
		if _, ok := loa[doc.String]; ok {
			continue
		}
		d, err := m.o.Client.AuthorizationDocuments.Fetch(ctx, doc.String)
		if err != nil {
			return err
		}
		loa[doc.String] = string(d.Status)
	}
	for _, d := range gone {
		if _, ok := loa[d]; !ok {
			loa[d] = string(hostednumbers.AuthorizationDocumentStatusCanceled) // numbers without an order
		}
	}
	return nil
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// fetchAll calls fetch for each of items, at most concurrency at once,
// and returns the results in order; the first error stops the others.
func fetchAll[T any](ctx context.Context, concurrency int, items []int, fetch func(context.Context, int) (*T, error)) ([]*T, error) {
	out := make([]*T, len(items))
	if len(items) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan int)
	for range min(concurrency, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				v, err := fetch(ctx, items[k])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				out[k] = v
				mu.Unlock()
			}
		}()
	}
feed:
	for k := range items {
		select {
		case work <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

package migrate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// legacyInFlight is how long after its send time a create recorded by
// an earlier version (with only its per-attempt limit) may have reached
// Twilio at the latest: every attempt the SDK's defaults allow, with the
// longest waits between them.
func legacyInFlight(attemptTimeout time.Duration) time.Duration {
	l := hostednumbers.DefaultCallLimits
	l.AttemptTimeout = attemptTimeout
	return l.Longest()
}

// ConfirmGap is the time between the two looks that must both find no
// order before a number counts as not created, for a window: the SDK's
// default, or the window itself when that is shorter (a short settle, as
// in a demo or a test).
func ConfirmGap(window time.Duration) time.Duration {
	return min(hostednumbers.DefaultConfirmGap, window)
}

// reachedBy is the latest time the create a may have reached Twilio: when
// it returned, or, for a create left in flight by a run that died, its
// send time plus the longest its client may take over it, or, if that is
// earlier: under claims (ctx carries the claim the look runs under), when
// the claim this one replaced ended, for a create sent under a claim
// (whose deadline was within it, and every later claim ends later);
// without claims, when this process took the store for itself if the
// store proves that (Exclusive). Under claims ExclusiveSince proves
// nothing: other workers share the store, and their creates are bounded
// by their claims, never by when this worker started.
func (m *Migrator) reachedBy(ctx context.Context, a *Attempt) time.Time {
	if !a.Ended.IsZero() {
		return a.Ended
	}
	inFlight := time.Duration(a.InFlight)
	if inFlight <= 0 {
		limit := time.Duration(a.AttemptTimeout)
		if limit <= 0 {
			limit = hostednumbers.DefaultTimeout
		}
		inFlight = legacyInFlight(limit)
	}
	bound := a.Started.Add(inFlight)
	if h := heldOf(ctx); h != nil {
		if a.Claim != 0 && !h.prevEnd.IsZero() && h.prevEnd.Before(bound) {
			bound = h.prevEnd
		}
		return bound
	}
	if ex, ok := m.o.Store.(Exclusive); ok {
		// Only a create sent before this process took the store was sent
		// by a run that has ended.
		if since := ex.ExclusiveSince(); since.After(a.Started) && since.Before(bound) {
			bound = since
		}
	}
	return bound
}

// reconcile looks at a batch whose create may or may not have been
// processed. settled is false while Twilio's answer is not conclusive:
// the doubt is recorded (with when to look again) and nothing is to be
// sent. Once it is conclusive, pending are the numbers that still need
// submitting: all of them when Twilio has none, the missing ones when it
// has some, none when it has them all (their bulk request is then
// adopted). b is updated to what was saved.
//
// An order a look finds is recorded at once, whatever the verdict: a
// number seen with an order is created, even if a later (lagging) list
// does not show it. A doubt keeps its earliest look after the window, so
// that a look that comes too early to confirm it does not move the
// confirmation later.
func (m *Migrator) reconcile(ctx context.Context, b *Batch, res *SubmitResult) (pending []NumberState, settled bool, err error) {
	all, err := m.o.Store.Numbers(ctx, b.Index)
	if err != nil {
		return nil, false, err
	}
	waiting := toSend(all)
	last := b.lastCreate()
	if len(waiting) == 0 || last == nil {
		// Nothing left to look for, or no create was ever sent: nothing
		// to settle.
		b.State, b.Doubt = StateAccepted, nil
		if len(waiting) > 0 {
			b.State = StatePlanned
		}
		b.BulkHostingSIDs = withBulkOf(b.BulkHostingSIDs, all)
		return waiting, true, m.save(ctx, b, all, nil)
	}
	phones := make([]string, len(waiting))
	for i := range waiting {
		phones[i] = waiting[i].PhoneNumber()
	}
	// The window the create was sent with.
	window := time.Duration(last.Settle)
	if window <= 0 {
		window = m.o.Settle
	}
	gap := ConfirmGap(window)
	params := &hostednumbers.ReconcileParams{
		PhoneNumbers:         phones,
		SentAt:               last.Started,
		ReturnedAt:           m.reachedBy(ctx, last),
		ProcessingWindow:     window,
		ConfirmGap:           gap,
		KnownBulkHostingSIDs: slices.Clone(b.BulkHostingSIDs),
		Now:                  m.o.Clock.Now,
	}
	if params.ReturnedAt.Before(params.SentAt) {
		params.ReturnedAt = params.SentAt
	}
	params.Previous = previousLook(b.Doubt, phones)
	if b.Doubt == nil {
		m.o.OnEvent(Event{Kind: EventLooking, Batch: b.Index, Numbers: len(waiting), State: b.State,
			Message: fmt.Sprintf("batch %d was %s: asking Twilio which of its %d number%s it already has", b.Index, doubtHow(b.State), len(waiting), plural(len(waiting)))})
	}
	a := Attempt{Kind: "reconcile", Started: m.o.Clock.Now().UTC(), Numbers: len(waiting)}
	rec, err := hostednumbers.Reconcile(ctx, m.o.Client.HostedNumberOrders, params)
	a.Ended = m.o.Clock.Now().UTC()
	if err != nil {
		return nil, false, err
	}
	if rec.ClockMeasured {
		off := Duration(rec.ClockOffset)
		a.ServerClockOffset = &off
	}
	// Every order found counts, pending or not.
	var changed []NumberState
	foundAny := make(map[string]bool)
	for _, rn := range rec.Numbers {
		if len(rn.Orders) == 0 {
			continue
		}
		k := slices.IndexFunc(waiting, func(n NumberState) bool { return n.PhoneNumber() == rn.PhoneNumber })
		if k < 0 {
			continue
		}
		n := waiting[k]
		if len(rn.Orders) > 1 {
			m.o.OnEvent(Event{Kind: EventWarning, Batch: b.Index, PhoneNumber: n.PhoneNumber(), HostingOrderSID: rn.Orders[0].SID,
				Message: fmt.Sprintf("warning: %s has %d hosted number orders; following %s", n.PhoneNumber(), len(rn.Orders), rn.Orders[0].SID)})
		}
		o := rn.Orders[0]
		n.HostingOrderSID = o.SID
		if o.BulkHostingRequestSID.Valid && o.BulkHostingRequestSID.String != "" {
			n.BulkHostingSID = o.BulkHostingRequestSID.String
		}
		n.Status = string(o.Status)
		changed = append(changed, n)
		foundAny[n.PhoneNumber()] = true
	}
	if last.Outcome == OutcomeAcceptedUnread && len(changed) < len(waiting) && rec.Verdict != hostednumbers.ReconcilePending {
		// Twilio accepted the create: it will make its orders, however
		// late. Absence proves nothing here; only the orders end it.
		rec.Verdict, rec.RetryAt = hostednumbers.ReconcilePending, rec.LookedAt.Add(gap)
		rec.Reason = fmt.Sprintf("Twilio accepted the create but its answer could not be read; %d of %d numbers have no order yet, and it is never sent again: looking until they appear", len(waiting)-len(changed), len(waiting))
	}
	if rec.Verdict == hostednumbers.ReconcilePending {
		a.Outcome = "not known yet: " + rec.Reason
		b.Attempts = append(b.Attempts, a)
		d := &Doubt{LookedAt: rec.LookedAt.UTC(), Missing: rec.Missing,
			RetryAt: rec.RetryAt.UTC(), WindowClosesAt: rec.WindowClosesAt.UTC(), ConfirmGap: Duration(gap), Reason: rec.Reason,
			Accepted: last.Outcome == OutcomeAcceptedUnread}
		if prev := params.Previous; prev != nil && !prev.LookedAt.Before(rec.WindowClosesAt) && rec.LookedAt.Sub(prev.LookedAt) < gap {
			// Too early to confirm the earlier look after the window:
			// that one still counts, and this one does not replace it.
			d.LookedAt, d.Missing = prev.LookedAt.UTC(), intersect(rec.Missing, prev.Missing)
		}
		for _, p := range phones {
			if !foundAny[p] {
				d.Looked = append(d.Looked, p)
			}
		}
		b.Doubt = d
		if err := m.save(ctx, b, merge(all, changed), changed); err != nil {
			return nil, false, err
		}
		m.o.OnEvent(Event{Kind: EventPending, Batch: b.Index, At: rec.RetryAt, Found: len(changed), Missing: len(waiting) - len(changed), Accepted: d.Accepted,
			Message: fmt.Sprintf("batch %d: not known yet (%s); looking again at %s", b.Index, rec.Reason, clockTime(rec.RetryAt))})
		return nil, false, nil
	}
	var missing []NumberState
	for _, n := range waiting {
		if !foundAny[n.PhoneNumber()] {
			missing = append(missing, n)
		}
	}
	// The create's numbers found, in this look or an earlier one.
	sent := max(last.Numbers, len(waiting))
	ev := Event{Kind: EventSettled, Batch: b.Index, Found: sent - len(missing), Missing: len(missing)}
	switch {
	case len(missing) == sent:
		a.Outcome = "none created: submitting again"
	case len(missing) > 0:
		a.Outcome = fmt.Sprintf("%d of %d found: submitting the other %d", sent-len(missing), sent, len(missing))
	case rec.Verdict == hostednumbers.ReconcileAllInOne:
		a.Outcome, a.BulkHostingSID = "all found in "+rec.BulkHostingSID+": adopted, nothing sent again", rec.BulkHostingSID
		ev.BulkHostingSID = rec.BulkHostingSID
		if res != nil {
			res.Adopted++
		}
	default:
		a.Outcome = fmt.Sprintf("all %d found, in %d bulk requests: nothing sent again", sent, len(rec.BulkHostingSIDs))
	}
	b.Attempts = append(b.Attempts, a)
	b.Doubt = nil
	if len(missing) == 0 {
		b.State = StateAccepted
	} else {
		// Settled: Twilio certainly has none of the missing numbers,
		// which are to be submitted as if never sent.
		b.State = StatePlanned
	}
	now := merge(all, changed)
	b.BulkHostingSIDs = withBulkOf(b.BulkHostingSIDs, now)
	if err := m.save(ctx, b, now, changed); err != nil {
		return nil, false, err
	}
	ev.Message = fmt.Sprintf("batch %d: %s", b.Index, a.Outcome)
	m.o.OnEvent(ev)
	return missing, true, nil
}

// previousLook is the look of a doubt as Reconcile takes it back, for the
// numbers still looked for, or nil if the doubt was about others.
func previousLook(d *Doubt, phones []string) *hostednumbers.Reconciliation {
	if d == nil {
		return nil
	}
	for _, p := range phones {
		if !slices.Contains(d.Looked, p) {
			return nil
		}
	}
	prev := &hostednumbers.Reconciliation{LookedAt: d.LookedAt, Missing: intersect(d.Missing, phones),
		Numbers: make([]hostednumbers.ReconciledNumber, len(phones))}
	for i, p := range phones {
		prev.Numbers[i].PhoneNumber = p
	}
	return prev
}

// intersect returns the members of a that are in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// withBulkOf adds the bulk requests of numbers to list.
func withBulkOf(list []string, numbers []NumberState) []string {
	for i := range numbers {
		if sid := numbers[i].BulkHostingSID; sid != "" {
			list = appendNew(list, sid)
		}
	}
	return list
}

func doubtHow(s BatchState) string {
	if s == StateSending {
		return "left in flight by an earlier run"
	}
	return "sent without a readable answer"
}

// clockTime is t as a person reads it on a clock, rounded up to the next
// second: a run started at the time printed is never early.
func clockTime(t time.Time) string {
	return ceilSecond(t).Local().Format(time.TimeOnly)
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	r := t.Truncate(time.Second)
	if r.Before(t) {
		r = r.Add(time.Second)
	}
	return r
}

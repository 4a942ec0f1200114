package migrate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// InFlightBound is how long after its send time a create may have reached
// Twilio at the latest, when the run that sent it died before it
// returned: every attempt the SDK may make (a create is resent only when
// Twilio cannot have processed it, but the last one may start late), with
// the longest waits between them.
func InFlightBound(attemptTimeout time.Duration) time.Duration {
	return time.Duration(hostednumbers.DefaultMaxRetries+1)*attemptTimeout +
		hostednumbers.DefaultMaxRetries*hostednumbers.DefaultMaxRetryAfter
}

// ConfirmGap is the time between the two looks that must both find no
// order before a number counts as not created, for a window: the SDK's
// default, or the window itself when that is shorter (a short settle, as
// in a demo or a test).
func ConfirmGap(window time.Duration) time.Duration {
	return min(hostednumbers.DefaultConfirmGap, window)
}

// reconcile looks at a batch whose create may or may not have been
// processed. settled is false while Twilio's answer is not conclusive:
// the doubt is recorded (with when to look again) and nothing is to be
// sent. Once it is conclusive, pending are the numbers that still need
// submitting: all of them when Twilio has none, the missing ones when it
// has some, none when it has them all (their bulk request is then
// adopted). b is updated to what was saved.
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
		return waiting, true, m.save(ctx, b, all, nil)
	}
	phones := make([]string, len(waiting))
	for i := range waiting {
		phones[i] = waiting[i].PhoneNumber()
	}
	// The window the create was sent with, unless this run names one.
	window := time.Duration(last.Settle)
	if window <= 0 || m.o.SettleOverride {
		window = m.o.Settle
	}
	returned := last.Ended
	if returned.IsZero() {
		// The run that sent it died before it returned: it cannot have
		// reached Twilio after that run ended (before this one started),
		// nor after the longest the SDK may take over it.
		limit := time.Duration(last.AttemptTimeout)
		if limit <= 0 {
			limit = hostednumbers.DefaultTimeout
		}
		returned = last.Started.Add(InFlightBound(limit))
		if m.o.RunStarted.Before(returned) {
			returned = m.o.RunStarted
		}
		if returned.Before(last.Started) {
			returned = last.Started
		}
	}
	params := &hostednumbers.ReconcileParams{
		PhoneNumbers:         phones,
		SentAt:               last.Started,
		ReturnedAt:           returned,
		ProcessingWindow:     window,
		ConfirmGap:           ConfirmGap(window),
		KnownBulkHostingSIDs: slices.Clone(b.BulkHostingSIDs),
		Now:                  m.o.Clock.Now,
	}
	if d := b.Doubt; d != nil && slices.Equal(d.Looked, phones) {
		prev := &hostednumbers.Reconciliation{LookedAt: d.LookedAt, Missing: d.Missing, Numbers: make([]hostednumbers.ReconciledNumber, len(phones))}
		for i, p := range phones {
			prev.Numbers[i].PhoneNumber = p
		}
		params.Previous = prev
	}
	if b.Doubt == nil {
		how := "left in flight by an earlier run"
		if b.State == StateUnknown {
			how = "sent without a readable answer"
		}
		m.o.OnEvent(Event{Kind: EventLooking, Batch: b.Index,
			Message: fmt.Sprintf("batch %d was %s: asking Twilio which of its %d number%s it already has", b.Index, how, len(waiting), plural(len(waiting)))})
	}
	a := Attempt{Kind: "reconcile", Started: m.o.Clock.Now().UTC(), Numbers: len(waiting)}
	rec, err := m.o.Client.BulkHostedNumberOrders.Reconcile(ctx, params)
	a.Ended = m.o.Clock.Now().UTC()
	if err != nil {
		return nil, false, err
	}
	if rec.ClockMeasured {
		off := Duration(rec.ClockOffset)
		a.ServerClockOffset = &off
	}
	if rec.Verdict == hostednumbers.ReconcilePending {
		a.Outcome = "not known yet: " + rec.Reason
		b.Attempts = append(b.Attempts, a)
		b.Doubt = &Doubt{LookedAt: rec.LookedAt.UTC(), Looked: phones, Missing: rec.Missing,
			RetryAt: rec.RetryAt.UTC(), WindowClosesAt: rec.WindowClosesAt.UTC(), Reason: rec.Reason}
		if err := m.save(ctx, b, all, nil); err != nil {
			return nil, false, err
		}
		m.o.OnEvent(Event{Kind: EventPending, Batch: b.Index, At: rec.RetryAt,
			Message: fmt.Sprintf("batch %d: not known yet (%s); looking again at %s", b.Index, rec.Reason, rec.RetryAt.Local().Format(time.TimeOnly))})
		return nil, false, nil
	}
	found := make(map[string][]hostednumbers.HostedNumberOrder, len(rec.Numbers))
	for _, rn := range rec.Numbers {
		found[rn.PhoneNumber] = rn.Orders
	}
	var missing, changed []NumberState
	for _, n := range waiting {
		orders := found[n.PhoneNumber()]
		if len(orders) == 0 {
			missing = append(missing, n)
			continue
		}
		if len(orders) > 1 {
			m.o.OnEvent(Event{Kind: EventWarning, Batch: b.Index,
				Message: fmt.Sprintf("warning: %s has %d hosted number orders; following %s", n.PhoneNumber(), len(orders), orders[0].SID)})
		}
		o := orders[0]
		n.HostingOrderSID = o.SID
		if o.BulkHostingRequestSID.Valid && o.BulkHostingRequestSID.String != "" {
			n.BulkHostingSID = o.BulkHostingRequestSID.String
			b.BulkHostingSIDs = appendNew(b.BulkHostingSIDs, n.BulkHostingSID)
		}
		n.Status = string(o.Status)
		changed = append(changed, n)
	}
	ev := Event{Kind: EventSettled, Batch: b.Index}
	switch rec.Verdict {
	case hostednumbers.ReconcileNoneCreated:
		a.Outcome = "none created: submitting again"
	case hostednumbers.ReconcileAllInOne:
		a.Outcome, a.BulkHostingSID = "all found in "+rec.BulkHostingSID+": adopted, nothing sent again", rec.BulkHostingSID
		ev.BulkHostingSID = rec.BulkHostingSID
		if res != nil {
			res.Adopted++
		}
	default:
		a.Outcome = fmt.Sprintf("%d of %d found: submitting the other %d", len(waiting)-len(missing), len(waiting), len(missing))
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
	if err := m.save(ctx, b, merge(all, changed), changed); err != nil {
		return nil, false, err
	}
	ev.Message = fmt.Sprintf("batch %d: %s", b.Index, a.Outcome)
	m.o.OnEvent(ev)
	return missing, true, nil
}

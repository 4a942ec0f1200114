package hostednumbers

import "time"

// WithReconcileTiming sets the ProcessingWindow and ConfirmGap that the
// client's BulkHostedNumberOrders.Reconcile and WaitForReconcile use when
// their ReconcileParams leave them zero: how long after a create Twilio
// may still make its orders, and the least time between the two looks
// that must both find a number missing. The defaults are
// DefaultProcessingWindow and DefaultConfirmGap, chosen for Twilio, whose
// processing time is not documented; both must be positive. Shorten them
// only for a server whose processing time you know, such as
// hostednumberstest's fake, whose Server.Client sets them to its own time
// scale. The package functions Reconcile and WaitForReconcile, which have
// no client, keep the defaults.
func WithReconcileTiming(window, gap time.Duration) Option {
	return optionFunc(func(s *settings) error {
		s.reconcile = reconcileTiming{window: window, gap: gap}
		return nil
	})
}

// reconcileTiming is a client's default processing window and confirm
// gap for Reconcile.
type reconcileTiming struct {
	window, gap time.Duration
}

func defaultReconcileTiming() reconcileTiming {
	return reconcileTiming{window: DefaultProcessingWindow, gap: DefaultConfirmGap}
}

func (t reconcileTiming) valid() bool { return t.window > 0 && t.gap > 0 }

// apply returns p with the client's window and gap where p leaves them
// zero: a copy, so the caller's params are not changed.
func (t reconcileTiming) apply(p *ReconcileParams) *ReconcileParams {
	if p == nil || (p.ProcessingWindow != 0 && p.ConfirmGap != 0) {
		return p
	}
	q := *p
	if q.ProcessingWindow == 0 {
		q.ProcessingWindow = t.window
	}
	if q.ConfirmGap == 0 {
		q.ConfirmGap = t.gap
	}
	return &q
}

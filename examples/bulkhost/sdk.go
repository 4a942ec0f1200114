package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// notCreated reports whether a failed create certainly made nothing, so
// that its numbers may be submitted again as they are. Every error from
// Create matches exactly one of hostednumbers.ErrNotCreated and
// hostednumbers.ErrOutcomeUnknown; the latter makes the batch "outcome
// unknown", reconciled before anything is sent again.
func notCreated(err error) bool { return errors.Is(err, hostednumbers.ErrNotCreated) }

// verdict is what a reconciliation found.
type verdict int

const (
	noneCreated verdict = iota // Twilio has none of the numbers: submit them
	allInOne                   // every number is in one bulk request: adopt it
	partial                    // some are hosted (or spread out): submit only the missing
)

// reconciled is the outcome of reconciling some numbers with Twilio.
type reconciled struct {
	verdict verdict
	bulkSID string                                       // for allInOne
	orders  map[string][]hostednumbers.HostedNumberOrder // phone -> its orders
	missing []string
}

// reconcile asks Twilio (the SDK's Reconcile) which of phones already
// have a hosted number order created at or after since.
func reconcile(ctx context.Context, client *hostednumbers.Client, phones []string, since time.Time) (*reconciled, error) {
	rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{PhoneNumbers: phones, SentAt: since})
	if err != nil {
		return nil, err
	}
	r := &reconciled{bulkSID: rec.BulkHostingSID, missing: rec.Missing, orders: make(map[string][]hostednumbers.HostedNumberOrder, len(rec.Numbers))}
	for _, n := range rec.Numbers {
		r.orders[n.PhoneNumber] = n.Orders
	}
	switch rec.Verdict {
	case hostednumbers.ReconcilePending:
		return nil, fmt.Errorf("not known yet: %s; run again after %s", rec.Reason, rec.RetryAt.Format(time.RFC3339))
	case hostednumbers.ReconcileNoneCreated:
		r.verdict = noneCreated
	case hostednumbers.ReconcileAllInOne:
		r.verdict = allInOne
	default:
		r.verdict = partial
	}
	return r, nil
}

// fetchHostedOrder returns the hosted number order with this HR… SID.
func fetchHostedOrder(ctx context.Context, client *hostednumbers.Client, sid string) (*hostednumbers.HostedNumberOrder, error) {
	return client.HostedNumberOrders.Fetch(ctx, sid)
}

// fetchLOAStatus returns the status of the authorisation document PX….
func fetchLOAStatus(ctx context.Context, client *hostednumbers.Client, sid string) (string, error) {
	d, err := client.AuthorizationDocuments.Fetch(ctx, sid)
	if err != nil {
		return "", err
	}
	return string(d.Status), nil
}

package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// notCreated reports whether a failed create certainly made nothing, so
// that its numbers may be submitted again as they are.
func notCreated(err error) bool {
	var ve *hostednumbers.ValidationError
	if errors.As(err, &ve) {
		return true
	}
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatus >= 400 && apiErr.HTTPStatus < 500 && apiErr.HTTPStatus != http.StatusRequestTimeout
	}
	return false
}

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

// reconcile asks Twilio which of phones already have a hosted number
// order created at or after since.
func reconcile(ctx context.Context, client *hostednumbers.Client, phones []string, since time.Time) (*reconciled, error) {
	r := &reconciled{orders: make(map[string][]hostednumbers.HostedNumberOrder)}
	sids := make(map[string]bool)
	orphan := false
	for _, p := range phones {
		for o, err := range client.HostedNumberOrders.All(ctx, &hostednumbers.ListHostedNumberOrdersParams{PhoneNumber: p}) {
			if err != nil {
				return nil, err
			}
			if o.DateCreated.Valid && o.DateCreated.Time.Before(since) {
				continue
			}
			r.orders[p] = append(r.orders[p], o)
			if o.BulkHostingRequestSID.Valid && o.BulkHostingRequestSID.String != "" {
				sids[o.BulkHostingRequestSID.String] = true
			} else {
				orphan = true
			}
		}
		if len(r.orders[p]) == 0 {
			r.missing = append(r.missing, p)
		}
	}
	switch {
	case len(r.missing) == len(phones):
		r.verdict = noneCreated
	case len(r.missing) == 0 && len(sids) == 1 && !orphan:
		r.verdict = allInOne
		for sid := range sids {
			r.bulkSID = sid
		}
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

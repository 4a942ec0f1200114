package main

import (
	"context"
	"errors"

	"github.com/hostednumbers/hostednumbers-go"
)

// notCreated reports whether a failed create certainly made nothing, so
// that its numbers may be submitted again as they are. Every error from
// Create matches exactly one of hostednumbers.ErrNotCreated and
// hostednumbers.ErrOutcomeUnknown; the latter makes the batch "outcome
// unknown", reconciled before anything is sent again.
func notCreated(err error) bool { return errors.Is(err, hostednumbers.ErrNotCreated) }

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

package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// specLister is a mocked HostedNumberOrderLister that lists the given
// orders for their own phone numbers.
type specLister struct {
	orders []hostednumbers.HostedNumberOrder
}

func (l specLister) List(_ context.Context, p *hostednumbers.ListHostedNumberOrdersParams, _ ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	var items []hostednumbers.HostedNumberOrder
	for _, o := range l.orders {
		if p == nil || p.PhoneNumber == "" || o.PhoneNumber == p.PhoneNumber {
			items = append(items, o)
		}
	}
	return hostednumbers.NewPage(items, nil), nil
}

func TestBuiltOrdersAreDatedNowSoReconcileCountsThem(t *testing.T) {
	sentAt := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	// A single order, as a mock's List returns it after the create.
	single := hostednumberstest.HostedNumberOrderSpec{PhoneNumber: "+14155550101",
		BulkHostingSID: hostednumberstest.ExampleBulkHostingSID, Status: hostednumbers.OrderStatusPendingLOA}.Order()
	assert.WithinDuration(t, time.Now(), single.DateCreated.Time, 2*time.Second, "dated now")
	rec, err := hostednumbers.Reconcile(ctx, specLister{orders: []hostednumbers.HostedNumberOrder{*single}},
		&hostednumbers.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, SentAt: sentAt, ReturnedAt: time.Now()})
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.ReconcileAllInOne, rec.Verdict, rec.Reason)
	assert.Equal(t, hostednumberstest.ExampleBulkHostingSID, rec.BulkHostingSID)

	// A bulk request's orders, in every state the builder makes.
	for _, status := range []hostednumbers.RequestStatus{hostednumbers.RequestStatusInProgress, hostednumbers.RequestStatusProcessed} {
		spec := hostednumberstest.BulkOrderSpec{Status: status, Numbers: []string{"+14155550101", "+14155550102"}}
		order := spec.Order()
		assert.WithinDuration(t, time.Now(), order.DateCreated.Time, 2*time.Second, "%s: dated now", status)
		var orders []hostednumbers.HostedNumberOrder
		for _, raw := range spec.HostedNumberOrdersJSON() {
			var o hostednumbers.HostedNumberOrder
			require.NoError(t, json.Unmarshal(raw, &o))
			orders = append(orders, o)
		}
		rec, err := hostednumbers.Reconcile(ctx, specLister{orders: orders},
			&hostednumbers.ReconcileParams{PhoneNumbers: spec.Numbers, SentAt: sentAt, ReturnedAt: time.Now()})
		require.NoError(t, err)
		assert.Equal(t, hostednumbers.ReconcileAllInOne, rec.Verdict, "%s: %s", status, rec.Reason)
		assert.Empty(t, rec.Missing, status)
	}

	// A fixed Created still gives the same document on every run.
	fixed := time.Date(2026, time.January, 2, 15, 4, 5, 0, time.UTC)
	a := hostednumberstest.HostedNumberOrderSpec{Created: fixed}.JSON()
	b := hostednumberstest.HostedNumberOrderSpec{Created: fixed}.JSON()
	assert.Equal(t, string(a), string(b))
	assert.Contains(t, string(a), `"date_created":"2026-01-02T15:04:05Z"`)
}

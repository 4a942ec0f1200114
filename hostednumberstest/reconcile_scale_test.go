package hostednumberstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestReconcileTimingFollowsTheServersDelays(t *testing.T) {
	srv := newServer(t)
	// Defaults: 50ms queued + 50ms in progress + 50ms abandoned + 30ms
	// list lag, twice.
	assert.Equal(t, 360*time.Millisecond, srv.ReconcileWindow())
	assert.Equal(t, 60*time.Millisecond, srv.ConfirmGap())

	slow := newServer(t, hostednumberstest.WithProcessingDelay(time.Second, 2*time.Second),
		hostednumberstest.WithListLag(500*time.Millisecond), hostednumberstest.WithAbandonedCreateDelay(0))
	assert.Equal(t, 7*time.Second, slow.ReconcileWindow(), "every delay a create can take to show counts")
	assert.Equal(t, time.Second, slow.ConfirmGap())

	// Orders made at the create and listed at once: only the floors and
	// the abandoned create's delay remain.
	immediate := newImmediateServer(t, hostednumberstest.WithAbandonedCreateDelay(0))
	assert.Equal(t, 50*time.Millisecond, immediate.ReconcileWindow())
	assert.Equal(t, 10*time.Millisecond, immediate.ConfirmGap())
}

// A create whose answer was lost settles against srv.Client() in the
// fake's time, with ReconcileParams that leave the window and the gap to
// the client, as production code does.
func TestClientSettlesReconcileOnTheFakesTimeScale(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("none created", func(t *testing.T) {
		srv := newServer(t)
		client := srv.Client()
		params := numbersParams("+14155550101", "+14155550102")
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", DropConnection: true})
		sentAt := time.Now()
		_, err := client.BulkHostedNumberOrders.Create(ctx, params)
		require.ErrorIs(t, err, hostednumbers.ErrOutcomeUnknown)
		returnedAt := time.Now()

		rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: sentAt, ReturnedAt: returnedAt})
		require.NoError(t, err)
		require.Equal(t, hostednumbers.ReconcilePending, rec.Verdict, "the window is open")
		require.Equal(t, returnedAt.Add(srv.ReconcileWindow()), rec.WindowClosesAt, "the fake's window, not Twilio's 30 minutes")

		rec, err = client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: sentAt, ReturnedAt: returnedAt})
		require.NoError(t, err)
		assert.Equal(t, hostednumbers.ReconcileNoneCreated, rec.Verdict)
		assert.Equal(t, []string{"+14155550101", "+14155550102"}, rec.Missing)
		assert.Empty(t, srv.Orders())
	})
	t.Run("processed, answer lost", func(t *testing.T) {
		srv := newServer(t)
		client := srv.Client()
		params := numbersParams("+14155550101", "+14155550102")
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
		sentAt := time.Now()
		_, err := client.BulkHostedNumberOrders.Create(ctx, params)
		require.ErrorIs(t, err, hostednumbers.ErrOutcomeUnknown)
		rec, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: sentAt, ReturnedAt: time.Now()})
		require.NoError(t, err)
		assert.Equal(t, hostednumbers.ReconcileAllInOne, rec.Verdict, rec.Reason)
		assert.Equal(t, srv.Requests()[0].CreatedSID, rec.BulkHostingSID)
	})
	t.Run("params and options still win", func(t *testing.T) {
		srv := newServer(t)
		returnedAt := time.Now()
		p := &hostednumbers.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, SentAt: returnedAt, ReturnedAt: returnedAt,
			ProcessingWindow: time.Hour}
		rec, err := srv.Client().BulkHostedNumberOrders.Reconcile(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, returnedAt.Add(time.Hour), rec.WindowClosesAt)
		assert.Equal(t, time.Hour, p.ProcessingWindow, "the caller's params are not changed")
		assert.Zero(t, p.ConfirmGap, "the caller's params are not changed")

		rec, err = srv.Client(hostednumbers.WithReconcileTiming(2*time.Hour, time.Minute)).BulkHostedNumberOrders.Reconcile(ctx,
			&hostednumbers.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, SentAt: returnedAt, ReturnedAt: returnedAt})
		require.NoError(t, err)
		assert.Equal(t, returnedAt.Add(2*time.Hour), rec.WindowClosesAt)
		assert.Equal(t, minTime(rec.LookedAt.Add(time.Minute), rec.WindowClosesAt), rec.RetryAt)
	})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

package migrate

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func outcomes(m map[string]hostednumbers.OrderStatus) hostednumberstest.Option {
	return hostednumberstest.WithOutcome(func(p string) hostednumberstest.Outcome {
		if s, ok := m[p]; ok {
			return hostednumberstest.Outcome{Status: s, FailureReason: "because", NextStep: "ask"}
		}
		return hostednumberstest.Outcome{}
	})
}

// liveOrders counts each number's orders at the fake that are neither
// failed nor cancelled.
func (e *env) liveOrders() map[string]int {
	out := make(map[string]int)
	for _, o := range e.srv.HostedNumberOrders() {
		if o.Status != hostednumbers.OrderStatusFailed {
			out[o.PhoneNumber]++
		}
	}
	return out
}

// Rule 1: an action-required order is live: Follow keeps following it,
// and Resubmit holds its number back, with its order, instead of hosting
// it twice.
func TestRuleResubmitHoldsANumberWhoseOrderIsLive(t *testing.T) {
	p := phones(3)
	e := newEnv(t, 3, 3, []hostednumberstest.Option{outcomes(map[string]hostednumbers.OrderStatus{p[1]: hostednumbers.OrderStatusActionRequired})})
	m := e.migrator(func(o *Options) { o.Wait = false })
	_, err := m.Submit(e.ctx)
	require.NoError(t, err)
	e.clock.advance(time.Hour)
	_, err = m.Refresh(e.ctx)
	require.NoError(t, err)
	progress, err := m.Follow(e.ctx)
	require.NoError(t, err)
	assert.False(t, progress.Settled, "action-required is followed: Twilio support moves it on")
	require.Equal(t, "action-required", e.statuses()[p[1]])

	res, err := m.Resubmit(e.ctx, "action-required")
	require.NoError(t, err)
	assert.Zero(t, res.Marked)
	require.Len(t, res.Held, 1)
	h := res.Held[0]
	assert.Equal(t, p[1], h.PhoneNumber)
	assert.Equal(t, e.store.all()[p[1]].HostingOrderSID, h.HostingOrderSID)
	assert.Equal(t, "action-required", h.OrderStatus)
	assert.Equal(t, HoldWait, h.Action)
	_, err = m.Submit(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, e.creates(), "nothing sent again")
}

// extraOrders is the fake's order list with more orders in it.
type extraOrders struct {
	hostednumbers.HostedNumberOrdersAPI
	extra []hostednumbers.HostedNumberOrder
}

func (x *extraOrders) All(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, opts ...hostednumbers.CallOption) iter.Seq2[*hostednumbers.HostedNumberOrder, error] {
	return func(yield func(*hostednumbers.HostedNumberOrder, error) bool) {
		for o, err := range x.HostedNumberOrdersAPI.All(ctx, p, opts...) {
			if !yield(o, err) || err != nil {
				return
			}
		}
		for i := range x.extra {
			if x.extra[i].PhoneNumber == p.PhoneNumber && !yield(&x.extra[i], nil) {
				return
			}
		}
	}
}

// Rule 1: a failed number that Twilio still holds in a live order (made
// elsewhere, still received) is held back with "cancel it first"; once
// that order is gone, it is sent again.
func TestRuleResubmitSendsOnlyOnceEveryOrderIsFailedOrGone(t *testing.T) {
	p := phones(2)
	e := newEnv(t, 2, 2, []hostednumberstest.Option{outcomes(map[string]hostednumbers.OrderStatus{p[0]: hostednumbers.OrderStatusFailed})})
	e.untilFinished(2, nil)
	require.Equal(t, "failed", e.statuses()[p[0]])
	other := &extraOrders{HostedNumberOrdersAPI: e.client.HostedNumberOrders,
		extra: []hostednumbers.HostedNumberOrder{{SID: "HR0123456789abcdef0123456789abcdef", PhoneNumber: p[0], Status: hostednumbers.OrderStatusReceived}}}
	e.opts.Client.HostedNumberOrders = other

	m := e.migrator(nil)
	res, err := m.Resubmit(e.ctx, "failed")
	require.NoError(t, err)
	assert.Zero(t, res.Marked)
	require.Len(t, res.Held, 1)
	assert.Equal(t, Held{PhoneNumber: p[0], Batch: 1, HostingOrderSID: "HR0123456789abcdef0123456789abcdef", OrderStatus: "received", Action: HoldCancelFirst}, res.Held[0])

	other.extra = nil // cancelled
	res, err = m.Resubmit(e.ctx, "failed")
	require.NoError(t, err)
	assert.Equal(t, 1, res.Marked)
	assert.Empty(t, res.Held)
	e.untilFinished(2, nil)
	require.Equal(t, 2, e.creates())
	last := e.srv.Requests()
	var bodies []string
	for _, r := range last {
		if r.Method == "POST" {
			bodies = append(bodies, string(r.Body))
		}
	}
	assert.Contains(t, bodies[1], p[0])
	assert.NotContains(t, bodies[1], p[1], "only the failed number is sent again")
}

// Rule 1: a number of a batch still in doubt is never cleared by
// Resubmit: the create in doubt may hold it.
func TestRuleResubmitNeverClearsABatchInDoubt(t *testing.T) {
	p := phones(2)
	e := newEnv(t, 2, 2, nil)
	e.opts.Check = refuse{p[1]: "not eligible"}
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true, ProcessDelay: time.Hour})
	require.Equal(t, []int{1}, e.submitOnce().InDoubt)
	require.Equal(t, StatusCheckFailed, e.statuses()[p[1]])

	res, err := e.migrator(nil).Resubmit(e.ctx, StatusCheckFailed)
	require.NoError(t, err)
	assert.Zero(t, res.Marked)
	require.Len(t, res.Held, 1)
	assert.Equal(t, HoldWait, res.Held[0].Action)
	assert.True(t, e.batch(1).State.InDoubt())

	e.opts.Check = nil
	e.untilFinished(3, nil)
	assert.Equal(t, map[string]int{p[0]: 1}, e.liveOrders(), "the create in doubt is found, not sent twice")
}

// refuse is a Checker that refuses the numbers it names.
type refuse map[string]string

func (r refuse) Check(_ context.Context, _ int, numbers []hostednumbers.Number) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range numbers {
		if why, ok := r[n.PhoneNumber]; ok {
			out[n.PhoneNumber] = why
		}
	}
	return out, nil
}

func TestResubmitRefusesStatusesItCannotSend(t *testing.T) {
	e := newEnv(t, 1, 1, nil)
	_, err := e.migrator(nil).Resubmit(e.ctx, "completed")
	var ve *hostednumbers.ValidationError
	require.ErrorAs(t, err, &ve)
	_, err = e.migrator(nil).Resubmit(e.ctx)
	require.ErrorAs(t, err, &ve)
}

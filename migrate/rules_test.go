package migrate

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// submitOnce runs one Submit without Wait and returns its result.
func (e *env) submitOnce() *SubmitResult {
	e.t.Helper()
	res, err := e.migrator(func(o *Options) { o.Wait = false }).Submit(e.ctx)
	require.NoError(e.t, err)
	return res
}

// setClock moves the clock to t (it only moves forward).
func (e *env) setClock(t time.Time) {
	e.clock.advance(t.Sub(e.clock.Now()))
}

// Rule 7: a doubt keeps its earliest look after the window; a look that
// comes too early to confirm it does not replace it, and a run at the
// time printed (rounded up) settles.
func TestRuleADoubtKeepsItsEarliestQualifyingLook(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500}) // nothing made
	res := e.submitOnce()
	require.Equal(t, []int{1}, res.InDoubt)
	d := e.batch(1).Doubt
	require.NotNil(t, d)
	assert.Equal(t, d.WindowClosesAt.Add(time.Minute), res.ConclusiveAt, "no look after the window yet: its end and a gap")

	// A run at the window's end makes the first look after it, and is
	// stopped (Ctrl-C) while it waits for the second.
	e.setClock(d.WindowClosesAt)
	ctx, cancel := context.WithCancel(e.ctx)
	e.clock.onSleep = cancel
	_, err := e.migrator(func(o *Options) { o.Wait = false }).Submit(ctx)
	require.ErrorIs(t, err, context.Canceled)
	e.clock.onSleep = nil
	first := e.batch(1).Doubt
	require.True(t, first.counts(), "the first look after the window")

	e.setClock(first.LookedAt.Add(30 * time.Second)) // too early for the second
	res = e.submitOnce()
	require.Equal(t, []int{1}, res.InDoubt)
	assert.Equal(t, first.LookedAt, e.batch(1).Doubt.LookedAt, "the early look does not replace the first")
	assert.Equal(t, first.LookedAt.Add(time.Minute), res.ConclusiveAt)

	e.setClock(ceilSecond(res.ConclusiveAt)) // the time printed
	res = e.submitOnce()
	assert.Empty(t, res.InDoubt, "a run at the time printed settles")
	assert.Equal(t, 1, res.Submitted)
	e.assertOncePerNumber()
}

// settledAt is when the look that settled batch 1 as none created began.
func (e *env) settledAt() time.Time {
	e.t.Helper()
	b := e.batch(1)
	require.Equal(e.t, StateAccepted, b.State)
	for _, a := range b.Attempts {
		if a.Kind == "reconcile" && a.Outcome == "none created: submitting again" {
			return a.Started
		}
	}
	e.t.Fatalf("no look settled it: %+v", b.Attempts)
	return time.Time{}
}

// Rule 7: the earliest time Submit names is exact: a run started then
// settles (waiting the gap for the second look if it must), and no look
// settles before it.
func TestRuleConclusiveAtIsWhenARunSettles(t *testing.T) {
	for _, wait := range []bool{false, true} {
		t.Run(map[bool]string{false: "without wait", true: "with wait"}[wait], func(t *testing.T) {
			e := newEnv(t, 2, 2, nil)
			e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
			at := e.submitOnce().ConclusiveAt
			require.False(t, at.IsZero())
			if !wait {
				e.setClock(at)
			}
			res, err := e.migrator(func(o *Options) { o.Wait = wait }).Submit(e.ctx)
			require.NoError(t, err)
			assert.Empty(t, res.InDoubt)
			settled := e.settledAt()
			assert.False(t, settled.Before(at), "settled at %v, before %v", settled, at)
			if wait {
				assert.Less(t, settled.Sub(at), time.Second, "settled at %v, well after %v", settled, at)
			}
		})
	}
}

func TestCeilSecondRoundsUp(t *testing.T) {
	base := time.Date(2026, 1, 2, 13, 22, 11, 0, time.UTC)
	assert.Equal(t, base, ceilSecond(base))
	assert.Equal(t, base.Add(time.Second), ceilSecond(base.Add(time.Nanosecond)))
	assert.Equal(t, base.Add(time.Second), ceilSecond(base.Add(999*time.Millisecond)))
}

// hidingOrders is the fake's order list with some answers missing an
// order, as a lagging list shows it: hide says, for a phone number and
// the count of its lists so far (from 1), whether to hide its orders.
type hidingOrders struct {
	hostednumbers.HostedNumberOrdersAPI
	mu    sync.Mutex
	lists map[string]int
	hide  func(phone string, list int) bool
}

func (h *hidingOrders) List(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, opts ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	page, err := h.HostedNumberOrdersAPI.List(ctx, p, opts...)
	if err != nil || p == nil || p.PhoneNumber == "" {
		return page, err
	}
	h.mu.Lock()
	h.lists[p.PhoneNumber]++
	n := h.lists[p.PhoneNumber]
	h.mu.Unlock()
	if h.hide(p.PhoneNumber, n) {
		cp := *page
		cp.Items = nil
		return &cp, nil
	}
	return page, nil
}

// Rule 3: an order seen in any look of a doubt counts, even when a later
// (lagging) list misses it.
func TestRuleAnOrderSeenOnceCounts(t *testing.T) {
	e := newEnv(t, 2, 2, []hostednumberstest.Option{hostednumberstest.WithListLag(0), hostednumberstest.WithProcessingDelay(0, 0)})
	a, b := e.phones[0], e.phones[1]
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
	// The first look (at once) sees a's order and not b's; every later
	// one sees b's and not a's.
	switchAt := e.clock.Now().Add(30 * time.Second)
	hide := &hidingOrders{HostedNumberOrdersAPI: e.client.HostedNumberOrders, lists: map[string]int{},
		hide: func(phone string, _ int) bool {
			if e.clock.Now().Before(switchAt) {
				return phone == b
			}
			return phone == a
		}}
	e.opts.Client.HostedNumberOrders = hide
	e.untilFinished(3, nil)
	e.assertOncePerNumber()
	assert.Equal(t, 1, e.creates())
}

// Rule 4 in the engine: Twilio's clock 10 minutes off either way never
// makes a real order look older than the send (the crash matrix runs the
// skew in every mode; this pins the offset the looks measured).
func TestRuleTheLooksMeasureTwilioClock(t *testing.T) {
	e := newEnv(t, 2, 2, []hostednumberstest.Option{hostednumberstest.WithClockOffset(-10 * time.Minute)})
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
	e.untilFinished(3, nil)
	e.assertOncePerNumber()
	var measured *Duration
	for _, at := range e.batch(1).Attempts {
		if at.Kind == "reconcile" {
			measured = at.ServerClockOffset
		}
	}
	require.NotNil(t, measured)
	assert.InDelta(t, (-10 * time.Minute).Seconds(), time.Duration(*measured).Seconds(), 2)
}

// Rule 2: a 2xx whose body cannot be read is an acceptance: it is never
// sent again, however long its orders take to appear.
func TestRuleAnUnreadableAcceptanceIsNeverSentAgain(t *testing.T) {
	e := newEnv(t, 2, 2, []hostednumberstest.Option{hostednumberstest.WithProcessingDelay(time.Hour, time.Minute)})
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 202, Body: `{"sid": "BH`})
	res := e.submitOnce()
	require.Equal(t, []int{1}, res.InDoubt)
	b := e.batch(1)
	assert.Equal(t, OutcomeAcceptedUnread, b.lastCreate().Outcome)
	var inDoubt *Event
	for i := range e.events {
		if e.events[i].Kind == EventInDoubt {
			inDoubt = &e.events[i]
		}
	}
	require.NotNil(t, inDoubt)
	assert.True(t, inDoubt.Accepted)
	assert.Contains(t, inDoubt.Message, "never sent again")

	e.setClock(b.Doubt.WindowClosesAt.Add(10 * time.Minute)) // two looks would settle any other doubt
	require.Equal(t, []int{1}, e.submitOnce().InDoubt)
	e.clock.advance(5 * time.Minute)
	res = e.submitOnce()
	require.Equal(t, []int{1}, res.InDoubt, "only its orders end the doubt")
	require.True(t, e.batch(1).Doubt.Accepted)
	assert.Equal(t, 1, e.creates())

	e.untilFinished(3, nil) // waits, looking, until the orders appear
	assert.Equal(t, 1, e.creates())
	e.assertOncePerNumber()
}

// exclusiveStore is a memStore that proves when this process took it.
type exclusiveStore struct {
	*memStore
	since time.Time
}

func (s exclusiveStore) ExclusiveSince() time.Time { return s.since }

// inFlightEnv leaves batch 1 "sending" as a run killed before its create
// returned leaves it, and returns its send time and the in-flight bound
// recorded.
func inFlightEnv(t *testing.T) (*env, time.Time, time.Duration) {
	// A client whose call may take 4×1m + 3×1m = 7 minutes.
	e := newEnv(t, 2, 2, []hostednumberstest.Option{hostednumberstest.WithProcessingDelay(110*time.Second, time.Second), hostednumberstest.WithListLag(0)},
		hostednumbers.WithTimeout(time.Minute), hostednumbers.WithMaxRetryAfter(time.Minute))
	_, wasKilled := e.run(func(o *Options) { withCheckpoint(o, killAt(stepAfterSending, 1)) })
	require.True(t, wasKilled)
	b := e.batch(1)
	last := b.lastCreate()
	require.NotNil(t, last)
	require.True(t, last.Ended.IsZero())
	return e, last.Started, time.Duration(last.InFlight)
}

// lateCreate sends batch 1's create now, as the killed run's last attempt
// would have reached Twilio.
func (e *env) lateCreate() {
	e.t.Helper()
	meta, err := e.store.Meta(e.ctx)
	require.NoError(e.t, err)
	var numbers []hostednumbers.Number
	for _, p := range e.phones[:2] {
		numbers = append(numbers, hostednumbers.Number{PhoneNumber: p})
	}
	_, err = e.client.BulkHostedNumberOrders.Create(e.ctx, meta.Contact.Params(numbers))
	require.NoError(e.t, err)
}

// Rule 6: a create left in flight may have reached Twilio until its send
// time plus the longest its client may take (every attempt, every wait),
// read from the client: its orders, made then and processed late, are
// found, and nothing is sent again.
func TestRuleACreateLeftInFlightIsBoundedByItsClient(t *testing.T) {
	e, sent, inFlight := inFlightEnv(t)
	assert.Equal(t, 7*time.Minute, inFlight, "4 attempts of a minute, 3 waits of a minute")
	e.setClock(sent.Add(inFlight - 10*time.Second))
	e.lateCreate() // its orders exist 110s later, after 7m40s
	e.setClock(sent.Add(inFlight - 5*time.Second))
	e.untilFinished(3, nil)
	assert.Equal(t, 1, e.creates(), "the late create was found, not sent again")
	e.assertOncePerNumber()
}

// Rule 6: a store that proves the earlier run had ended (Exclusive)
// bounds the create by that time instead: it is settled without waiting
// out the client's longest call.
func TestRuleAnExclusiveStoreBoundsALeftCreateByItsStart(t *testing.T) {
	e, sent, inFlight := inFlightEnv(t)
	e.opts.Store = exclusiveStore{e.store, sent.Add(time.Minute)}
	e.setClock(sent.Add(2 * time.Minute))
	e.untilFinished(2, nil)
	b := e.batch(1)
	require.Equal(t, StateAccepted, b.State)
	var resent time.Time
	for _, a := range b.Attempts {
		if a.Kind == "create" && !a.Started.Equal(sent) {
			resent = a.Started
		}
	}
	require.False(t, resent.IsZero())
	assert.Less(t, resent.Sub(sent), inFlight, "settled from the store's proof, not the client's bound")
	assert.GreaterOrEqual(t, resent.Sub(sent), time.Minute+2*time.Minute, "the window from the store's proof, and two looks")
	e.assertOncePerNumber()
}

// A rate limit holds this batch and every later one until Twilio's
// Retry-After has passed, by the clock.
func TestRuleARateLimitWaitsForRetryAfter(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	e.opts.Concurrency = 1 // one batch at a time, in order
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 429, RetryAfter: "120"})
	res, err := e.migrator(nil).Submit(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Submitted)
	b1, b2 := e.batch(1), e.batch(2)
	require.Len(t, b1.Attempts, 2)
	limited, again := b1.Attempts[0], b1.Attempts[1]
	require.NotNil(t, limited.Reason)
	assert.True(t, limited.Reason.RateLimited)
	assert.Equal(t, Duration(120*time.Second), limited.Reason.RetryAfter)
	assert.GreaterOrEqual(t, again.Started.Sub(limited.Ended), 120*time.Second, "the same batch again after Retry-After")
	assert.GreaterOrEqual(t, b2.Attempts[0].Started.Sub(limited.Ended), 120*time.Second, "no later batch before")
	var ev *Event
	for i := range e.events {
		if e.events[i].Kind == EventRateLimited {
			ev = &e.events[i]
		}
	}
	require.NotNil(t, ev)
	assert.Equal(t, limited.Ended.Add(120*time.Second), ev.At)
}

// A create's outcome that cannot be recorded stops the migration: the
// next batch is not sent on a state the store does not hold.
func TestRuleAFailedSaveOfAnOutcomeStops(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	e.opts.Concurrency = 1 // one batch at a time, in order
	e.store.failSave = func(b *Batch, _ []NumberState) error {
		if b.Index == 1 && b.State == StateAccepted {
			return errInjected
		}
		return nil
	}
	_, err := e.migrator(nil).Submit(e.ctx)
	var se *StepError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, errInjected)
	assert.Equal(t, 1, se.Batch)
	assert.Contains(t, se.What, "was accepted as BH")
	assert.Equal(t, 1, e.creates(), "batch 2 is not sent")
	assert.Equal(t, StateSending, e.batch(1).State, "the store holds what it was told last")

	// The next run settles batch 1 from Twilio, without sending it again.
	e.store.failSave = nil
	e.untilFinished(2, nil)
	assert.Equal(t, 2, e.creates())
	e.assertOncePerNumber()
}

// The window a create was sent with is the one its doubt waits out, even
// when a later run is given a shorter one.
func TestRuleTheRecordedWindowWinsOnResume(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
	_, err := e.migrator(func(o *Options) { o.Wait, o.Settle = false, time.Hour }).Submit(e.ctx)
	require.NoError(t, err)
	b := e.batch(1)
	sent := b.lastCreate()
	require.Equal(t, Duration(time.Hour), sent.Settle)

	e.clock.advance(10 * time.Minute)
	res, err := e.migrator(func(o *Options) { o.Wait, o.Settle = false, time.Minute }).Submit(e.ctx)
	require.NoError(t, err)
	require.Equal(t, []int{1}, res.InDoubt)
	assert.Equal(t, sent.Ended.Add(time.Hour), e.batch(1).Doubt.WindowClosesAt)
	assert.Equal(t, 1, e.creates())
}

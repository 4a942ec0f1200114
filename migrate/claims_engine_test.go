package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// createAttempts counts the creates recorded on batch i.
func (e *env) createAttempts(i int) int {
	n := 0
	for _, a := range e.batch(i).Attempts {
		if a.Kind == "create" {
			n++
		}
	}
	return n
}

// waitFor waits for ch to close, or fails the test at the env's deadline.
func (e *env) waitFor(ch <-chan struct{}, what string) {
	e.t.Helper()
	select {
	case <-ch:
	case <-e.ctx.Done():
		e.t.Fatalf("gave up waiting for %s", what)
	}
}

// Three Migrators, each its own worker, share one migration in one
// store, at once: every number gets exactly one order, every batch one
// create, every run finishes without an error, and the work is shared.
func TestWorkersShareAMigration(t *testing.T) {
	const workers, batches = 3, 30
	e := newEnv(t, 2*batches, 2, nil)
	st := newClaimMem(e.store, time.Now)
	e.opts.Store, e.opts.OnEvent, e.opts.Concurrency = st, nil, 1
	e.opts.Poll, e.opts.MaxPoll = 5*time.Millisecond, 50*time.Millisecond
	type outcome struct {
		res *SubmitResult
		p   Progress
		err error
	}
	out := make([]outcome, workers)
	var wg sync.WaitGroup
	for w := range workers {
		m := e.migrator(func(o *Options) { o.Worker = fmt.Sprintf("worker-%d", w) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := m.Submit(e.ctx)
			var p Progress
			if err == nil {
				p, err = m.Follow(e.ctx)
			}
			out[w] = outcome{res, p, err}
		}()
	}
	wg.Wait()
	submitted, busy := 0, 0
	for w, o := range out {
		require.NoError(t, o.err, "worker %d", w)
		assert.Empty(t, o.res.InDoubt, "worker %d", w)
		assert.Empty(t, o.res.HeldElsewhere, "worker %d", w)
		assert.True(t, o.p.Settled, "worker %d", w)
		submitted += o.res.Submitted
		if o.res.Submitted > 0 {
			busy++
		}
	}
	assert.Equal(t, batches, submitted)
	assert.GreaterOrEqual(t, busy, 2, "the workers shared the batches")
	assert.Equal(t, batches, e.creates(), "one create per batch")
	for i := 1; i <= batches; i++ {
		assert.Equal(t, 1, e.createAttempts(i), "batch %d", i)
		assert.Equal(t, StateAccepted, e.batch(i).State, "batch %d", i)
	}
	e.assertOncePerNumber()
	for p, s := range e.statuses() {
		assert.Equal(t, "completed", s, p)
	}
}

// stuckCreate holds a worker's create until the test lets it go, then
// sends it, and then, if kill is set, kills the worker before it can
// record the answer.
type stuckCreate struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	sent    chan struct{} // closed when the create arrives
	release chan struct{} // closed by the test to let it go
	kill    bool
	once    sync.Once
}

func newStuckCreate(api hostednumbers.BulkHostedNumberOrdersAPI, kill bool) *stuckCreate {
	return &stuckCreate{BulkHostedNumberOrdersAPI: api, sent: make(chan struct{}), release: make(chan struct{}), kill: kill}
}

func (s *stuckCreate) Create(ctx context.Context, p *hostednumbers.CreateBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	s.once.Do(func() { close(s.sent) })
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	o, err := s.BulkHostedNumberOrdersAPI.Create(context.WithoutCancel(ctx), p, opts...)
	if s.kill {
		panic(killed{"in the create"})
	}
	return o, err
}

// The scenario: worker A's create is in flight longer than the
// settle window. Worker B neither sends it again nor looks at it while
// A holds it: it reports it held elsewhere and fails nothing. Once A has
// sent it, B finds the batch done.
func TestACreateInFlightIsNotSentAgainByAnotherWorker(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	st := newClaimMem(e.store, e.clock.Now)
	e.opts.Store, e.opts.OnEvent, e.opts.Wait = st, nil, false
	stuck := newStuckCreate(e.opts.Client.BulkHostedNumberOrders, false)
	a := e.migrator(func(o *Options) { o.Worker, o.Concurrency, o.Client.BulkHostedNumberOrders = "A", 1, stuck })
	aDone := make(chan struct{})
	var aRes *SubmitResult
	var aErr error
	go func() {
		defer close(aDone)
		aRes, aErr = a.Submit(e.ctx)
	}()
	e.waitFor(stuck.sent, "A's create")
	e.clock.advance(e.opts.Settle + time.Minute) // past the settle window, within A's claim

	b := e.migrator(func(o *Options) { o.Worker = "B" })
	res, err := b.Submit(e.ctx)
	require.NoError(t, err, "a batch held by another worker fails no run")
	assert.Equal(t, []int{1}, res.HeldElsewhere)
	assert.Empty(t, res.InDoubt)
	assert.Equal(t, 1, res.Submitted, "B did batch 2")
	assert.Equal(t, 1, e.creates(), "B sent batch 2 only")
	assert.Equal(t, StateSending, e.batch(1).State, "B did not touch batch 1")
	_, err = b.Refresh(e.ctx)
	require.NoError(t, err)

	close(stuck.release)
	e.waitFor(aDone, "A's submit")
	require.NoError(t, aErr)
	assert.Empty(t, aRes.HeldElsewhere, "B had done batch 2 when A came to it")
	assert.Zero(t, aRes.Submitted-1, "A submitted batch 1 only")
	e.run(func(o *Options) { o.Worker = "B" })
	assert.Equal(t, 2, e.creates())
	assert.Equal(t, 1, e.createAttempts(1))
	assert.Equal(t, 1, e.createAttempts(2))
	e.assertOncePerNumber()
}

// Worker A dies with its create in flight; Twilio gets it late and makes
// its orders later still, within the processing window of when the
// create may have reached it. B waits for A's claim to expire, then
// settles the batch as a doubt whose bound comes from the create's own
// limits and A's claim, never from when B started: it finds the orders
// and sends nothing again.
func TestADeadWorkersCreateIsSettledFromItsClaim(t *testing.T) {
	e := newEnv(t, 2, 2, []hostednumberstest.Option{hostednumberstest.WithProcessingDelay(9*time.Minute, 30*time.Second)})
	st := newClaimMem(e.store, e.clock.Now)
	e.opts.Store, e.opts.OnEvent, e.opts.Settle = st, nil, 10*time.Minute
	stuck := newStuckCreate(e.opts.Client.BulkHostedNumberOrders, true)
	a := e.migrator(func(o *Options) { o.Worker, o.Client.BulkHostedNumberOrders = "A", stuck })
	t0 := e.clock.Now()
	aDone := make(chan struct{})
	var aKilled bool
	go func() {
		defer close(aDone)
		aKilled = runOnce(func() { _, _ = a.Submit(e.ctx) })
	}()
	e.waitFor(stuck.sent, "A's create")

	e.clock.advance(time.Minute) // B starts after A sent its create
	b := e.migrator(func(o *Options) { o.Worker = "B" })
	bNoWait, err := New(b.Options(func(o *Options) { o.Wait = false }))
	require.NoError(t, err)
	r, err := bNoWait.Submit(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{1}, r.HeldElsewhere)
	assert.Zero(t, e.creates())

	// The create reaches Twilio late, within its own limits, and A dies.
	e.clock.advance(3*time.Minute + 50*time.Second)
	close(stuck.release)
	e.waitFor(aDone, "A's death")
	require.True(t, aKilled)
	require.Equal(t, 1, e.creates())
	lease, err := st.LeaseOf(e.ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "A", lease.Worker)
	assert.Equal(t, StateSending, e.batch(1).State)
	assert.Equal(t, lease.Token, e.batch(1).Attempts[0].Claim, "the create records the claim it was sent under")

	r, err = bNoWait.Submit(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{1}, r.HeldElsewhere, "A's claim has not expired yet")

	e.clock.advance(lease.Expires.Sub(e.clock.Now()) + time.Second)
	r, err = b.Submit(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, r.InDoubt)
	assert.Empty(t, r.HeldElsewhere)
	assert.Equal(t, 1, r.Adopted, "B found A's create and adopted it")
	assert.Equal(t, 1, e.creates(), "nothing was sent again")
	assert.Equal(t, StateAccepted, e.batch(1).State)
	var looks []Attempt
	for _, at := range e.batch(1).Attempts {
		if at.Kind == "reconcile" {
			looks = append(looks, at)
		}
	}
	require.NotEmpty(t, looks)
	assert.False(t, looks[0].Started.Before(lease.Expires), "B looked only once A's claim had expired")
	assert.True(t, t0.Add(5*time.Minute).Before(lease.Expires), "the create's limits bound it before the claim did")
	e.assertOncePerNumber()
}

// A claim lost while the batch is worked on (here during its check)
// stops the work at once; the worker records nothing more of the batch,
// sends nothing, and moves on to the next batch; the run does not fail.
func TestALostClaimMovesTheWorkerOn(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	clk := &storeClock{}
	st := newClaimMem(e.store, clk.Now)
	checking := make(chan struct{})
	var once sync.Once
	check := checkFunc(func(ctx context.Context, batch int, _ []hostednumbers.Number) (map[string]string, error) {
		if batch != 1 {
			return nil, nil
		}
		once.Do(func() { close(checking) })
		<-ctx.Done() // a long check, ended by the lost claim
		return nil, ctx.Err()
	})
	m := e.migrator(func(o *Options) {
		o.Store, o.OnEvent, o.Wait, o.Concurrency, o.Check = st, nil, false, 1, check
		o.Worker, o.ClaimTTL = "A", time.Second
		o.Client.Limits = hostednumbers.CallLimits{AttemptTimeout: 100 * time.Millisecond}
	})
	done := make(chan struct{})
	var res *SubmitResult
	var err error
	go func() {
		defer close(done)
		res, err = m.Submit(e.ctx)
	}()
	e.waitFor(checking, "the check of batch 1")
	clk.advance(time.Hour) // A's claim expires; another worker takes the batch
	st.steal(1, "B")
	version := e.batch(1).Version
	e.waitFor(done, "the submit")
	require.NoError(t, err, "a lost claim fails no run")
	assert.Equal(t, []int{1}, res.HeldElsewhere)
	assert.Equal(t, 1, res.Submitted)
	assert.Equal(t, version, e.batch(1).Version, "nothing saved after the claim was lost")
	assert.Equal(t, StatePlanned, e.batch(1).State)
	assert.Equal(t, StateAccepted, e.batch(2).State)
	assert.Equal(t, 1, e.creates())
}

type checkFunc func(ctx context.Context, batch int, numbers []hostednumbers.Number) (map[string]string, error)

func (f checkFunc) Check(ctx context.Context, batch int, numbers []hostednumbers.Number) (map[string]string, error) {
	return f(ctx, batch, numbers)
}

// deadlineCreate records the deadline a create runs with and whether
// the worker's claim was still live when it returned.
type deadlineCreate struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	st      *claimMem
	onStart func()

	mu           sync.Mutex
	deadline     time.Time
	hasDeadline  bool
	liveAtReturn bool
	expires      time.Time
}

func (d *deadlineCreate) Create(ctx context.Context, _ *hostednumbers.CreateBulkHostedNumberOrderParams, _ ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	dl, ok := ctx.Deadline()
	l, _ := d.st.LeaseOf(context.Background(), 1)
	d.onStart()
	select { // stuck: Twilio never answers
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deadline, d.hasDeadline, d.expires = dl, ok, l.Expires
	d.liveAtReturn = d.st.now().Before(l.Expires)
	return nil, fmt.Errorf("stuck create: %w", ctx.Err())
}

// A create runs with a deadline within its claim: stuck, with the
// store unreachable so the claim cannot be renewed, it is given up
// before the claim expires, and the run goes on.
func TestACreateRunsWithinItsClaim(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	st := newClaimMem(e.store, time.Now)
	create := &deadlineCreate{BulkHostedNumberOrdersAPI: e.opts.Client.BulkHostedNumberOrders, st: st}
	create.onStart = func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.onRenew = func(Lease) error { return errors.New("the store is unreachable") }
	}
	m := e.migrator(func(o *Options) {
		o.Store, o.OnEvent, o.Wait = st, nil, false
		o.Worker, o.ClaimTTL = "A", time.Second
		o.Client.BulkHostedNumberOrders = create
		o.Client.Limits = hostednumbers.CallLimits{AttemptTimeout: 100 * time.Millisecond}
	})
	_, err := m.Submit(e.ctx)
	require.NoError(t, err)
	create.mu.Lock()
	defer create.mu.Unlock()
	require.True(t, create.hasDeadline, "the create has a deadline")
	assert.True(t, create.deadline.Before(create.expires), "its deadline %v is within the claim (expires %v)", create.deadline, create.expires)
	assert.True(t, create.liveAtReturn, "the create was given up before its claim expired")
	assert.True(t, e.batch(1).State.InDoubt(), "a create given up is in doubt")
}

// A store that proves a single owner (Exclusive, as the file store)
// takes no claims: the engine works as it does on a plain Store.
func TestNoClaimsOnAnExclusiveStore(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	st := exclusiveClaimMem{newClaimMem(e.store, time.Now)}
	e.opts.Store = st
	finished, _ := e.run(nil)
	require.True(t, finished)
	assert.Empty(t, st.claims)
	e.assertOncePerNumber()
}

type exclusiveClaimMem struct{ *claimMem }

func (exclusiveClaimMem) ExclusiveSince() time.Time { return time.Now() }

// Refreshes are shared: a batch another worker holds is left to it, and
// the others are refreshed under a claim each.
func TestRefreshLeavesAHeldBatch(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	st := newClaimMem(e.store, time.Now)
	e.opts.Store, e.opts.OnEvent = st, nil
	m := e.migrator(func(o *Options) { o.Worker = "A" })
	res, err := m.Submit(e.ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Submitted)
	e.clock.advance(time.Hour) // Twilio made the orders
	_, err = st.Claim(e.ctx, "B", time.Hour, 1)
	require.NoError(t, err)
	v1, v2 := e.batch(1).Version, e.batch(2).Version
	_, err = m.Refresh(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, v1, e.batch(1).Version, "B's batch is left to B")
	assert.Greater(t, e.batch(2).Version, v2, "batch 2 was refreshed")
	l, err := st.LeaseOf(e.ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "A", l.Worker)
	assert.False(t, time.Now().Before(l.Expires), "released")
}

// Worker and ClaimTTL are checked, and have defaults.
func TestClaimOptions(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	fieldsOf := func(o Options) []string {
		_, err := New(o)
		var v *hostednumbers.ValidationError
		if !errors.As(err, &v) {
			return nil
		}
		var out []string
		for _, p := range v.Problems {
			out = append(out, p.Field)
		}
		return out
	}
	o := e.opts
	o.ClaimTTL = time.Minute
	assert.Equal(t, []string{"claim_ttl"}, fieldsOf(o), "a minute is shorter than a create with the default limits")
	o.ClaimTTL = -time.Second
	assert.Equal(t, []string{"claim_ttl"}, fieldsOf(o))
	o.ClaimTTL, o.Worker = 0, "bad\x00name"
	assert.Equal(t, []string{"worker"}, fieldsOf(o))

	a, b := e.migrator(nil), e.migrator(nil)
	assert.NotEmpty(t, a.Options(nil).Worker)
	assert.NotEqual(t, a.Options(nil).Worker, b.Options(nil).Worker, "each Migrator is a worker of its own")
	assert.Equal(t, DefaultClaimTTL, a.Options(nil).ClaimTTL)
	assert.GreaterOrEqual(t, DefaultClaimTTL*8/10, hostednumbers.DefaultCallLimits.Longest(), "the default covers a create")
	long := e.migrator(func(o *Options) {
		o.Client.Limits = hostednumbers.CallLimits{MaxRetries: 9, AttemptTimeout: time.Minute}
	})
	assert.GreaterOrEqual(t, long.Options(nil).ClaimTTL*8/10, 10*time.Minute, "a default that covers longer limits")
}

// A worker renews its claim while it works: a check that outlasts the
// claim's ttl ends with the claim still held, and the batch is sent.
func TestAClaimIsRenewedWhileTheWorkGoesOn(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	st := newClaimMem(e.store, time.Now)
	renewed := make(chan struct{})
	var renewals int
	var fourth time.Time
	st.onRenew = func(l Lease) error {
		if renewals++; renewals == 4 {
			fourth = time.Now()
			close(renewed)
		}
		return nil
	}
	var first Lease
	check := checkFunc(func(ctx context.Context, _ int, _ []hostednumbers.Number) (map[string]string, error) {
		first, _ = st.LeaseOf(ctx, 1)
		select { // longer than the claim's ttl: four renewals
		case <-renewed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return nil, nil
	})
	m := e.migrator(func(o *Options) {
		o.Store, o.OnEvent, o.Wait, o.Check = st, nil, false, check
		o.Worker, o.ClaimTTL = "A", time.Second
		o.Client.Limits = hostednumbers.CallLimits{AttemptTimeout: 100 * time.Millisecond}
	})
	res, err := m.Submit(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, res.HeldElsewhere)
	assert.Equal(t, 1, res.Submitted)
	assert.Equal(t, StateAccepted, e.batch(1).State)
	last, err := st.LeaseOf(e.ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, first.Token, last.Token, "one claim throughout, renewed")
	assert.True(t, fourth.After(first.Expires), "the work went on past the claim's first expiry, and its saves were taken")
}

// With Wait, a worker that lost a batch's claim comes back for it once
// the other worker lets it go, and sends it.
func TestALostBatchIsDoneLaterWithWait(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	clk := &storeClock{}
	st := newClaimMem(e.store, clk.Now)
	checking := make(chan struct{})
	var once sync.Once
	check := checkFunc(func(ctx context.Context, batch int, _ []hostednumbers.Number) (map[string]string, error) {
		first := false
		if batch == 1 {
			once.Do(func() { first = true; close(checking) })
		}
		if !first {
			return nil, nil
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	m := e.migrator(func(o *Options) {
		o.Store, o.OnEvent, o.Concurrency, o.Check = st, nil, 1, check
		o.Worker, o.ClaimTTL, o.Poll = "A", time.Second, 10*time.Millisecond
		o.Client.Limits = hostednumbers.CallLimits{AttemptTimeout: 100 * time.Millisecond}
	})
	done := make(chan struct{})
	var res *SubmitResult
	var err error
	go func() {
		defer close(done)
		res, err = m.Submit(e.ctx)
	}()
	e.waitFor(checking, "the check of batch 1")
	clk.advance(time.Hour)
	st.steal(1, "B")
	for e.batch(2).State != StateAccepted { // A goes on with batch 2
		select {
		case <-e.ctx.Done():
			t.Fatal("batch 2 was never sent")
		case <-time.After(5 * time.Millisecond):
		}
	}
	l, lerr := st.LeaseOf(e.ctx, 1)
	require.NoError(t, lerr)
	require.NoError(t, st.Release(e.ctx, l)) // B is done with batch 1 (and did nothing)
	e.waitFor(done, "the submit")
	require.NoError(t, err)
	assert.Empty(t, res.HeldElsewhere)
	assert.Equal(t, 2, res.Submitted)
	assert.Equal(t, StateAccepted, e.batch(1).State)
	assert.Equal(t, 2, e.creates())
}

// fetchHook calls hook before the first bulk fetch.
type fetchHook struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	once sync.Once
	hook func()
}

func (f *fetchHook) Fetch(ctx context.Context, sid string, p *hostednumbers.FetchBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	f.once.Do(f.hook)
	return f.BulkHostedNumberOrdersAPI.Fetch(ctx, sid, p, opts...)
}

// A batch another worker had during this refresh pass (it refreshed it)
// is not refreshed again in the pass.
func TestRefreshSkipsABatchAnotherWorkerHadInThePass(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	st := newClaimMem(e.store, time.Now)
	e.opts.Store, e.opts.OnEvent = st, nil
	res, err := e.migrator(func(o *Options) { o.Worker = "A" }).Submit(e.ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Submitted)
	e.clock.advance(time.Hour) // Twilio made the orders
	hook := &fetchHook{BulkHostedNumberOrdersAPI: e.opts.Client.BulkHostedNumberOrders, hook: func() {
		// While A refreshes batch 1, B refreshes batch 2.
		c, err := st.Claim(e.ctx, "B", time.Hour, 2)
		if assert.NoError(t, err) {
			assert.NoError(t, st.Release(e.ctx, c.Lease))
		}
	}}
	m := e.migrator(func(o *Options) { o.Worker, o.Client.BulkHostedNumberOrders = "A", hook })
	v1, v2 := e.batch(1).Version, e.batch(2).Version
	_, err = m.Refresh(e.ctx)
	require.NoError(t, err)
	assert.Greater(t, e.batch(1).Version, v1, "A refreshed batch 1")
	assert.Equal(t, v2, e.batch(2).Version, "A left batch 2, which B had in this pass")
	l, err := st.LeaseOf(e.ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "B", l.Worker, "A did not even keep a claim on it")

	// The next pass refreshes it.
	_, err = m.Refresh(e.ctx)
	require.NoError(t, err)
	assert.Greater(t, e.batch(2).Version, v2)
}

// A run stopped (Ctrl-C) while it works under a claim returns the
// context's error, sends nothing more, and releases its claims.
func TestAStoppedRunReleasesItsClaims(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	st := newClaimMem(e.store, time.Now)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	check := checkFunc(func(ctx context.Context, _ int, _ []hostednumbers.Number) (map[string]string, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	m := e.migrator(func(o *Options) { o.Store, o.OnEvent, o.Check, o.Worker = st, nil, check, "A" })
	_, err := m.Submit(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, e.creates())
	for i := 1; i <= 2; i++ {
		l, err := st.LeaseOf(e.ctx, i)
		require.NoError(t, err)
		assert.False(t, l.Held() && time.Now().Before(l.Expires), "batch %d's claim is released", i)
		assert.Equal(t, StatePlanned, e.batch(i).State)
	}
}

// A create starts only if what is left of its claim, once renewed,
// covers every attempt the client may make: a renewal that comes back
// late (a slow store) leaves too little, and the batch is left for
// later, nothing recorded and nothing sent.
func TestACreateStartsOnlyWithEnoughOfItsClaim(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	st := newClaimMem(e.store, time.Now)
	var once sync.Once
	st.onRenew = func(Lease) error {
		once.Do(func() { time.Sleep(50 * time.Millisecond) }) // the renewal before the create
		return nil
	}
	m := e.migrator(func(o *Options) {
		o.Store, o.OnEvent, o.Wait, o.Worker = st, nil, false, "A"
		// A create may take 2.399 s: a claim of 3 s covers it, with
		// hardly a millisecond to spare.
		o.Client.Limits = hostednumbers.CallLimits{AttemptTimeout: 2399 * time.Millisecond}
		o.ClaimTTL = 3 * time.Second
	})
	res, err := m.Submit(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{1}, res.HeldElsewhere)
	assert.Zero(t, e.creates())
	assert.Equal(t, StatePlanned, e.batch(1).State)
	assert.Empty(t, e.batch(1).Attempts)
}

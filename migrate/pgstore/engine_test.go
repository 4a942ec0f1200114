package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// assertOneOrderPerNumber checks that the fake holds exactly one hosted
// number order for each of the first n numbers, and no other.
func assertOneOrderPerNumber(t *testing.T, srv *hostednumberstest.Server, n int) {
	t.Helper()
	orders := map[string]int{}
	for _, o := range srv.HostedNumberOrders() {
		orders[o.PhoneNumber]++
	}
	want := map[string]int{}
	for i := range n {
		want[phone(i)] = 1
	}
	assert.Equal(t, want, orders)
}

// The engine runs a whole migration on the PostgreSQL store: every number
// is submitted once and followed to the end.
func TestEngineRunsAMigration(t *testing.T) {
	ctx := testCtx(t)
	srv := hostednumberstest.NewServer() // its default stages take milliseconds
	defer srv.Close()
	const n, size = 25, 10
	st := started(t, n, size)
	m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: st, Wait: true, Poll: 10 * time.Millisecond})
	require.NoError(t, err)
	res, err := m.Submit(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Submitted)
	assert.Empty(t, res.InDoubt)
	p, err := m.Follow(ctx)
	require.NoError(t, err)
	assert.True(t, p.Settled)
	assert.Equal(t, map[string]int{"completed": n}, p.Counts)
	assert.Equal(t, map[migrate.BatchState]int{migrate.StateAccepted: 3}, p.States)
	assertOneOrderPerNumber(t, srv, n)
	assert.Len(t, srv.Orders(), 3, "one bulk request per batch")

	// What the engine recorded reads back from the database.
	other := open(t, pgstore.Options{Schema: st.Schema()})
	p2, err := migrate.Summarize(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, p.Counts, p2.Counts)
	for i := 1; i <= 3; i++ {
		b, err := other.Batch(ctx, i)
		require.NoError(t, err)
		assert.Len(t, b.BulkHostingSIDs, 1)
		assert.Positive(t, b.Version)
		ns, err := other.Numbers(ctx, i)
		require.NoError(t, err)
		for _, x := range ns {
			assert.Equal(t, "completed", x.Status)
			assert.NotEmpty(t, x.HostingOrderSID)
		}
	}
}

// crash is what a run panics with to stop where a killed process would
// stop.
type crash struct{ step string }

// The steps a run is stopped at.
const (
	afterSending = "after-sending" // "sending" recorded, the create not sent
	afterAnswer  = "after-answer"  // the create answered, its answer not recorded
)

// killAfterAnswer stops the run once a create has its answer, before the
// engine records it, when kill says so.
type killAfterAnswer struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	kill func() bool
}

func (k killAfterAnswer) Create(ctx context.Context, params *hostednumbers.CreateBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	o, err := k.BulkHostedNumberOrdersAPI.Create(ctx, params, opts...)
	if k.kill() {
		panic(crash{afterAnswer})
	}
	return o, err
}

// A run killed after recording "sending" (the create not sent), or after
// the create was processed (its answer not recorded), is resumed by
// another process on the same database: the batch in doubt is settled,
// never sent twice, and the migration ends with one order per number.
func TestEngineResumesAfterACrash(t *testing.T) {
	for _, step := range []string{afterSending, afterAnswer} {
		t.Run(step, func(t *testing.T) {
			ctx := testCtx(t)
			srv := hostednumberstest.NewServer() // its default stages take milliseconds
			defer srv.Close()
			const n, size = 30, 10
			st := started(t, n, size)
			creates := 0
			// The killed run's creates cannot outlast 100ms: the store
			// cannot prove the run has ended, so the next run bounds a
			// create it left in flight by the longest its client may take.
			api := migrate.ClientAPI(srv.Client(hostednumbers.WithTimeout(100*time.Millisecond),
				hostednumbers.WithMaxRetries(0), hostednumbers.WithMaxRetryAfter(0)))
			api.BulkHostedNumberOrders = killAfterAnswer{api.BulkHostedNumberOrders, func() bool { return step == afterAnswer && creates == 2 }}
			// One batch at a time, in order: the second create is batch 2's.
			// A killed worker's claim holds its batch until it expires: a
			// short one, so that the next process does not wait long.
			killed, err := migrate.New(migrate.Options{Client: api, Store: st, Settle: 200 * time.Millisecond, Concurrency: 1, ClaimTTL: time.Second,
				OnEvent: func(ev migrate.Event) {
					if ev.Kind != migrate.EventSending {
						return
					}
					creates++
					if step == afterSending && creates == 2 {
						panic(crash{afterSending})
					}
				}})
			require.NoError(t, err)
			func() {
				defer func() {
					r := recover()
					require.Equal(t, crash{step}, r, "the run stops at %s of batch 2", step)
				}()
				_, _ = killed.Submit(ctx)
			}()
			b2, err := st.Batch(ctx, 2)
			require.NoError(t, err)
			require.Equal(t, migrate.StateSending, b2.State, "recorded before the create")
			require.NoError(t, st.Close())

			// Another process, on its own connections.
			resumed := open(t, pgstore.Options{Schema: st.Schema()})
			m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: resumed, Wait: true,
				Settle: 200 * time.Millisecond, Poll: 10 * time.Millisecond})
			require.NoError(t, err)
			res, err := m.Submit(ctx)
			require.NoError(t, err)
			assert.Empty(t, res.InDoubt)
			p, err := m.Follow(ctx)
			require.NoError(t, err)
			assert.Equal(t, map[string]int{"completed": n}, p.Counts, fmt.Sprint(p))
			assertOneOrderPerNumber(t, srv, n)
			assert.Len(t, srv.Orders(), 3, "batch 2's create was made once")
		})
	}
}

// Several engines, each on its own connections, run one migration at
// once, as several machines do: none fails on a conflict, every batch is
// sent once and never looked at as a doubt (no worker reconciles a batch
// another is sending), and every number gets one order.
func TestEnginesShareAMigration(t *testing.T) {
	ctx := testCtx(t)
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	const n, size, workers = 200, 10, 3
	// What one engine alone reads of the store to submit it all.
	alone := &counted{ClaimStore: started(t, n, size)}
	srvAlone := hostednumberstest.NewServer()
	defer srvAlone.Close()
	m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srvAlone.Client()), Store: alone, Wait: true})
	require.NoError(t, err)
	_, err = m.Submit(ctx)
	require.NoError(t, err)
	st := started(t, n, size)
	var reads atomic.Int64
	type outcome struct {
		res *migrate.SubmitResult
		p   migrate.Progress
		err error
	}
	out := make([]outcome, workers)
	var wg sync.WaitGroup
	for w := range workers {
		store := &counted{ClaimStore: open(t, pgstore.Options{Schema: st.Schema()})}
		m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: store,
			Worker: fmt.Sprintf("engine-%d", w), Wait: true, Concurrency: 2, Poll: 10 * time.Millisecond})
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := m.Submit(ctx)
			reads.Add(store.reads.Load())
			var p migrate.Progress
			if err == nil {
				p, err = m.Follow(ctx)
			}
			out[w] = outcome{res, p, err}
		}()
	}
	wg.Wait()
	submitted := 0
	for w, o := range out {
		require.NoError(t, o.err, "engine %d", w)
		assert.Empty(t, o.res.InDoubt)
		assert.Empty(t, o.res.HeldElsewhere)
		assert.Equal(t, map[string]int{"completed": n}, o.p.Counts)
		submitted += o.res.Submitted
	}
	assert.Equal(t, n/size, submitted)
	t.Logf("store reads to submit: %d by one engine alone, %d by %d engines together", alone.reads.Load(), reads.Load(), workers)
	assert.LessOrEqual(t, reads.Load(), 2*alone.reads.Load(),
		"the engines together read the store about as often as one alone (no run restarts from batch 1)")
	assert.Len(t, srv.Orders(), n/size, "one bulk request per batch")
	assertOneOrderPerNumber(t, srv, n)
	for i := 1; i <= n/size; i++ {
		b, err := st.Batch(ctx, i)
		require.NoError(t, err)
		kinds := map[string]int{}
		for _, a := range b.Attempts {
			kinds[a.Kind]++
		}
		assert.Equal(t, map[string]int{"create": 1}, kinds, "batch %d: one create, no look at a doubt", i)
	}
}

// heldCreate holds the creates until the test lets them go.
type heldCreate struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	sent    chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *heldCreate) Create(ctx context.Context, params *hostednumbers.CreateBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	h.once.Do(func() { close(h.sent) })
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return h.BulkHostedNumberOrdersAPI.Create(ctx, params, opts...)
}

// A create in flight longer than the settle window is its worker's:
// another engine neither looks at it nor sends it again, and says it
// held it elsewhere; once it is sent, the migration ends with one order
// per number.
func TestAnEngineLeavesACreateInFlightToItsWorker(t *testing.T) {
	ctx := testCtx(t)
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	const n, size = 20, 10
	st := started(t, n, size)
	const settle = 50 * time.Millisecond
	held := &heldCreate{sent: make(chan struct{}), release: make(chan struct{})}
	api := migrate.ClientAPI(srv.Client())
	held.BulkHostedNumberOrdersAPI = api.BulkHostedNumberOrders
	api.BulkHostedNumberOrders = held
	a, err := migrate.New(migrate.Options{Client: api, Store: st, Worker: "A", Settle: settle, Concurrency: 1})
	require.NoError(t, err)
	aDone := make(chan error, 1)
	go func() {
		_, err := a.Submit(ctx)
		aDone <- err
	}()
	select {
	case <-held.sent:
	case <-ctx.Done():
		t.Fatal("A's create never started")
	}
	time.Sleep(4 * settle) // the create stays in flight past the settle window

	b, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: open(t, pgstore.Options{Schema: st.Schema()}),
		Worker: "B", Settle: settle})
	require.NoError(t, err)
	res, err := b.Submit(ctx)
	require.NoError(t, err, "a batch another engine holds fails no run")
	assert.Equal(t, []int{1}, res.HeldElsewhere)
	assert.Empty(t, res.InDoubt)
	b1, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, migrate.StateSending, b1.State)
	assert.Len(t, b1.Attempts, 1, "B did not look at A's batch")

	close(held.release)
	select {
	case err := <-aDone:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("A's submit never returned")
	}
	b = mustNew(t, b.Options(func(o *migrate.Options) { o.Wait, o.Poll = true, 10*time.Millisecond }))
	res, err = b.Submit(ctx)
	require.NoError(t, err)
	assert.Empty(t, res.InDoubt)
	_, err = b.Follow(ctx)
	require.NoError(t, err)
	assert.Len(t, srv.Orders(), n/size)
	assertOneOrderPerNumber(t, srv, n)
}

func mustNew(t *testing.T, o migrate.Options) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(o)
	require.NoError(t, err)
	return m
}

// counted counts the reads of a store: its batches, numbers and pages of
// batches.
type counted struct {
	migrate.ClaimStore
	reads atomic.Int64
}

func (c *counted) Batch(ctx context.Context, index int) (migrate.Batch, error) {
	c.reads.Add(1)
	return c.ClaimStore.Batch(ctx, index)
}

func (c *counted) Numbers(ctx context.Context, index int) ([]migrate.NumberState, error) {
	c.reads.Add(1)
	return c.ClaimStore.Numbers(ctx, index)
}

func (c *counted) Pending(ctx context.Context, after, limit int, states ...migrate.BatchState) ([]migrate.Batch, error) {
	c.reads.Add(1)
	return c.ClaimStore.Pending(ctx, after, limit, states...)
}

// Three engines share a migration, and one is killed (as SIGKILL would
// leave it: its claim neither renewed nor released) right after Twilio
// answered its second create: the others wait for its claim to expire,
// settle that batch from it, and finish the migration exactly once.
func TestEnginesFinishAfterOneIsKilled(t *testing.T) {
	ctx := testCtx(t)
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	const n, size, workers = 120, 10, 3
	st := started(t, n, size)
	var creates atomic.Int64
	api := migrate.ClientAPI(srv.Client(hostednumbers.WithTimeout(500*time.Millisecond),
		hostednumbers.WithMaxRetries(0), hostednumbers.WithMaxRetryAfter(0)))
	first := make(chan struct{}) // the killed engine's first create is answered
	api.BulkHostedNumberOrders = killAfterAnswer{api.BulkHostedNumberOrders, func() bool {
		n := creates.Add(1)
		if n == 1 {
			close(first)
		}
		return n == 2
	}}
	killed, err := migrate.New(migrate.Options{Client: api, Store: open(t, pgstore.Options{Schema: st.Schema()}), Worker: "killed",
		Settle: 200 * time.Millisecond, Concurrency: 1, ClaimTTL: time.Second, Wait: true})
	require.NoError(t, err)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	wg.Add(workers)
	go func() {
		defer wg.Done()
		defer func() { assert.Equal(t, crash{afterAnswer}, recover()) }()
		_, _ = killed.Submit(ctx)
	}()
	select { // so that it has work left for its second create
	case <-first:
	case <-ctx.Done():
		t.Fatal("the first create was never answered")
	}
	for w := 1; w < workers; w++ {
		m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: open(t, pgstore.Options{Schema: st.Schema()}),
			Worker: fmt.Sprintf("engine-%d", w), Settle: 200 * time.Millisecond, Wait: true, Concurrency: 1, Poll: 10 * time.Millisecond})
		require.NoError(t, err)
		go func() {
			defer wg.Done()
			res, err := m.Submit(ctx)
			if err == nil && len(res.InDoubt)+len(res.HeldElsewhere) > 0 {
				err = fmt.Errorf("finished with %v in doubt, %v held elsewhere", res.InDoubt, res.HeldElsewhere)
			}
			if err == nil {
				_, err = m.Follow(ctx)
			}
			errs[w] = err
		}()
	}
	wg.Wait()
	for w := 1; w < workers; w++ {
		require.NoError(t, errs[w], "engine %d", w)
	}
	p, err := migrate.Summarize(ctx, st)
	require.NoError(t, err)
	assert.Equal(t, map[migrate.BatchState]int{migrate.StateAccepted: n / size}, p.States)
	assertOneOrderPerNumber(t, srv, n)
	assert.Len(t, srv.Orders(), n/size, "one bulk request per batch, the killed engine's included")
}

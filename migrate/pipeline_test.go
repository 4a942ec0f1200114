package migrate

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// watch sees every call the engine makes through its budget: how many
// are in flight at once, and each create: which batch, whether the
// batch was recorded as sending before it left, whether another create of
// the same batch was in flight.
type watch struct {
	t     *testing.T
	e     *env
	batch map[string]int // phone -> batch
	// onCreate, if set, is called as a create starts, with its batch.
	onCreate func(batch int)

	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	creating    map[int]int // batch -> creates in flight
	creates     map[int]int // batch -> creates sent
	problems    []string
}

func newWatch(e *env) *watch {
	w := &watch{t: e.t, e: e, batch: make(map[string]int), creating: make(map[int]int), creates: make(map[int]int)}
	meta, err := e.store.Meta(e.ctx)
	require.NoError(e.t, err)
	for i := 1; i <= meta.Batches; i++ {
		ns, err := e.store.Numbers(e.ctx, i)
		require.NoError(e.t, err)
		for _, n := range ns {
			w.batch[n.PhoneNumber()] = i
		}
	}
	api := e.opts.Client
	e.opts.Client.BulkHostedNumberOrders = watchedBulk{api.BulkHostedNumberOrders, w}
	e.opts.Client.HostedNumberOrders = watchedOrders{api.HostedNumberOrders, w}
	e.opts.Client.AuthorizationDocuments = watchedDocuments{api.AuthorizationDocuments, w}
	return w
}

func (w *watch) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight++
	w.maxInFlight = max(w.maxInFlight, w.inFlight)
}

func (w *watch) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
}

func (w *watch) problem(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
}

type watchedBulk struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	w *watch
}

func (b watchedBulk) Create(ctx context.Context, p *hostednumbers.CreateBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	w := b.w
	i := w.batch[p.RequestItems[0].Numbers[0].PhoneNumber]
	st, err := w.e.store.Batch(ctx, i)
	if err != nil || st.State != StateSending {
		w.problem("batch %d: a create left while the batch was %s (%v)", i, st.State, err)
	}
	w.mu.Lock()
	if w.creating[i] > 0 {
		w.problems = append(w.problems, fmt.Sprintf("batch %d: two creates in flight at once", i))
	}
	w.creating[i]++
	w.creates[i]++
	hook := w.onCreate
	w.mu.Unlock()
	if hook != nil {
		hook(i)
	}
	w.begin()
	defer w.end()
	defer func() {
		w.mu.Lock()
		w.creating[i]--
		w.mu.Unlock()
	}()
	return b.BulkHostedNumberOrdersAPI.Create(ctx, p, opts...)
}

func (b watchedBulk) Fetch(ctx context.Context, sid string, p *hostednumbers.FetchBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	b.w.begin()
	defer b.w.end()
	return b.BulkHostedNumberOrdersAPI.Fetch(ctx, sid, p, opts...)
}

type watchedOrders struct {
	hostednumbers.HostedNumberOrdersAPI
	w *watch
}

func (o watchedOrders) List(ctx context.Context, p *hostednumbers.ListHostedNumberOrdersParams, opts ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	o.w.begin()
	defer o.w.end()
	return o.HostedNumberOrdersAPI.List(ctx, p, opts...)
}

func (o watchedOrders) Fetch(ctx context.Context, sid string, opts ...hostednumbers.CallOption) (*hostednumbers.HostedNumberOrder, error) {
	o.w.begin()
	defer o.w.end()
	return o.HostedNumberOrdersAPI.Fetch(ctx, sid, opts...)
}

type watchedDocuments struct {
	hostednumbers.AuthorizationDocumentsAPI
	w *watch
}

func (d watchedDocuments) Fetch(ctx context.Context, sid string, opts ...hostednumbers.CallOption) (*hostednumbers.AuthorizationDocument, error) {
	d.w.begin()
	defer d.w.end()
	return d.AuthorizationDocumentsAPI.Fetch(ctx, sid, opts...)
}

func (d watchedDocuments) ListDependentOrders(ctx context.Context, doc string, p *hostednumbers.ListDependentHostedNumberOrdersParams, opts ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
	d.w.begin()
	defer d.w.end()
	return d.AuthorizationDocumentsAPI.ListDependentOrders(ctx, doc, p, opts...)
}

// The pipeline keeps its budget of requests in flight, works on several
// batches at once within it, records each batch as sending before its
// create leaves, and never sends a batch twice or two creates of one
// batch at once.
func TestPipelineKeepsItsBudgetAndSendsEachBatchOnce(t *testing.T) {
	e := newEnv(t, 40, 2, nil)
	e.srv.InjectFault(hostednumberstest.Fault{Latency: 20 * time.Millisecond, Count: 10000})
	e.opts.Concurrency = 3
	w := newWatch(e)
	e.untilFinished(1, nil)
	e.assertOncePerNumber()
	assert.Empty(t, w.problems)
	assert.LessOrEqual(t, w.maxInFlight, 3, "the budget")
	assert.Equal(t, 3, w.maxInFlight, "several batches at once, up to the budget")
	for i := 1; i <= 20; i++ {
		assert.Equal(t, 1, w.creates[i], "batch %d sent once", i)
	}
}

// Checks of upcoming batches run ahead, many at once, and a batch's create
// goes out as soon as its check is done, whatever the batches before it
// are doing: here batch 1's check ends only once batch 5 has been sent,
// and no check ends before six are under way.
func TestPipelineChecksRunAheadAndCreatesGoOutWhenChecked(t *testing.T) {
	e := newEnv(t, 20, 2, nil)
	w := newWatch(e)
	fifthSent := make(chan struct{})
	w.onCreate = func(i int) {
		if i == 5 {
			close(fifthSent)
		}
	}
	c := &barrierChecker{ctx: e.ctx, want: 6, all: make(chan struct{}), wait: map[int]chan struct{}{1: fifthSent}}
	e.opts.Check = c
	res, err := e.migrator(nil).Submit(e.ctx)
	require.NoError(t, err, "a check waited for what a pipeline does and timed out")
	assert.Equal(t, 10, res.Submitted)
	assert.GreaterOrEqual(t, c.most, 6)
	assert.Empty(t, w.problems)
}

// barrierChecker refuses nothing; each check waits until want checks
// have been under way at once, and the check of a batch in wait until its
// channel is closed.
type barrierChecker struct {
	ctx  context.Context
	want int
	wait map[int]chan struct{}

	mu      sync.Mutex
	running int
	most    int
	all     chan struct{}
}

func (c *barrierChecker) CheckConcurrently() bool { return true }

func (c *barrierChecker) Check(ctx context.Context, batch int, _ []hostednumbers.Number) (map[string]string, error) {
	c.mu.Lock()
	c.running++
	first := c.running > c.most
	c.most = max(c.most, c.running)
	if first && c.running == c.want {
		close(c.all) // once: the first time want are under way
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running--
		c.mu.Unlock()
	}()
	for _, ch := range []chan struct{}{c.all, c.wait[batch]} {
		if ch == nil {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.ctx.Done():
			return nil, fmt.Errorf("batch %d: still waiting when the test ended: %w", batch, c.ctx.Err())
		}
	}
	return nil, nil
}

// gateClock is a fastClock whose Sleeps wait for the gate to open.
type gateClock struct {
	*fastClock
	ctx  context.Context
	gate chan struct{}

	mu       sync.Mutex
	sleepers int
	onSleep  func(sleepers int)
}

func (c *gateClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleepers++
	n, hook := c.sleepers, c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	select {
	case <-c.gate:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	return c.fastClock.Sleep(ctx, d)
}

// A 429 on a create holds every create not yet sent until its Retry-After
// has passed, by the clock; creates already in flight are not held back.
func TestPipelineRateLimitHoldsEveryCreate(t *testing.T) {
	const batches = 8
	e := newEnv(t, 2*batches, 2, nil)
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 429, RetryAfter: "120"})
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Latency: 50 * time.Millisecond, Count: 100})
	gc := &gateClock{fastClock: e.clock, ctx: e.ctx, gate: make(chan struct{})}
	e.opts.Clock = gc
	e.opts.Concurrency = 4
	w := newWatch(e)

	var (
		mu       sync.Mutex
		limited  bool
		retryAt  time.Time
		accepted int
		early    []int
	)
	// The gate opens once every batch is either accepted or waiting: a
	// batch the hold did not stop has been sent by then.
	open := func() {
		mu.Lock()
		defer mu.Unlock()
		gc.mu.Lock()
		n := gc.sleepers
		gc.mu.Unlock()
		if limited && n+accepted == batches {
			select {
			case <-gc.gate:
			default:
				close(gc.gate)
			}
		}
	}
	gc.onSleep = func(int) { open() }
	inner := e.opts.Client.BulkHostedNumberOrders
	e.opts.Client.BulkHostedNumberOrders = hookedCreate{inner, func(ctx context.Context, p *hostednumbers.CreateBulkHostedNumberOrderParams) (*hostednumbers.BulkHostedNumberOrder, error) {
		mu.Lock()
		if limited && e.clock.Now().Before(retryAt) {
			early = append(early, w.batch[p.RequestItems[0].Numbers[0].PhoneNumber])
		}
		mu.Unlock()
		o, err := inner.Create(ctx, p)
		mu.Lock()
		switch {
		case err != nil && !limited:
			limited, retryAt = true, e.clock.Now().Add(120*time.Second)
		case err == nil:
			accepted++
		}
		mu.Unlock()
		open()
		return o, err
	}}
	res, err := e.migrator(nil).Submit(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, batches, res.Submitted)
	assert.True(t, limited)
	assert.Empty(t, early, "batches sent while the rate limit held")
	assert.Empty(t, w.problems)
	e.assertOncePerNumber()
}

type hookedCreate struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	create func(context.Context, *hostednumbers.CreateBulkHostedNumberOrderParams) (*hostednumbers.BulkHostedNumberOrder, error)
}

func (h hookedCreate) Create(ctx context.Context, p *hostednumbers.CreateBulkHostedNumberOrderParams, _ ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	return h.create(ctx, p)
}

// Kills in the middle of the pipeline, with several batches at once in
// every step, in the fault modes where answers are lost or late: every
// number still ends with exactly one order.
func TestPipelineCrashMidPipeline(t *testing.T) {
	steps := []struct {
		step string
		n    int
	}{{stepAfterSending, 1}, {stepAfterSending, 4}, {stepAfterSending, 9}, {stepAfterAnswer, 3}, {stepAfterAnswer, 8}}
	for _, mode := range faultModes[:3] {
		for _, at := range steps {
			t.Run(fmt.Sprintf("%s/%s:%d", mode.name, at.step, at.n), func(t *testing.T) {
				e := newEnv(t, 24, 2, mode.opts)
				if mode.createTimeout > 0 {
					e.opts.Client.BulkHostedNumberOrders = createTimeout{e.opts.Client.BulkHostedNumberOrders, mode.createTimeout, e.srv}
				}
				for _, f := range mode.faults {
					e.srv.InjectFault(f)
				}
				w := newWatch(e)
				e.untilFinished(8, func(o *Options) { withCheckpoint(o, killAt(at.step, at.n)) })
				e.assertOncePerNumber()
				for p, s := range e.statuses() {
					assert.Equal(t, "completed", s, p)
				}
				w.mu.Lock()
				defer w.mu.Unlock()
				for _, p := range w.problems {
					if !containsAny(p, "two creates") {
						continue
					}
					t.Error(p)
				}
			})
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

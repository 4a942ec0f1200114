package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// The in-process harness: a store that keeps only what was saved, a
// clock that jumps over waits, and "kills" that stop a run at a step and
// leave the store as the last save left it, as a SIGKILL leaves a
// journal.

// memStore is a Store in memory that copies everything in and out, so
// that nothing a run holds survives it but what it saved.
type memStore struct {
	mu      sync.Mutex
	meta    *Meta
	batches []Batch
	numbers [][]NumberState
	// failSave, if set, is asked before each SaveBatch; an error it
	// returns is SaveBatch's, and nothing is recorded.
	failSave func(b *Batch, changed []NumberState) error
	saves    int
}

var _ Store = (*memStore)(nil)

func clone[T any](v T) T {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

func (s *memStore) Meta(ctx context.Context) (Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return Meta{}, ErrNoMigration
	}
	return clone(*s.meta), ctx.Err()
}

func (s *memStore) plan(batches iter.Seq2[[]NumberState, error]) ([]Batch, [][]NumberState, int, error) {
	var bs []Batch
	var ns [][]NumberState
	count := 0
	for b, err := range batches {
		if err != nil {
			return nil, nil, 0, err
		}
		bs = append(bs, Batch{Index: len(s.batches) + len(bs) + 1, State: StatePlanned, Size: len(b)})
		ns = append(ns, clone(b))
		count += len(b)
	}
	return bs, ns, count, nil
}

func (s *memStore) Start(ctx context.Context, meta Meta, batches iter.Seq2[[]NumberState, error]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta != nil {
		return ErrExists
	}
	bs, ns, count, err := s.plan(batches)
	if err != nil {
		return err
	}
	meta.Batches = len(bs)
	if meta.Input.Numbers == 0 {
		meta.Input.Numbers = count
	}
	s.meta, s.batches, s.numbers = &meta, bs, ns
	return ctx.Err()
}

func (s *memStore) Batch(_ context.Context, index int) (Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > len(s.batches) {
		return Batch{}, fmt.Errorf("no batch %d", index)
	}
	return clone(s.batches[index-1]), nil
}

func (s *memStore) Numbers(_ context.Context, index int) ([]NumberState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > len(s.batches) {
		return nil, fmt.Errorf("no batch %d", index)
	}
	return clone(s.numbers[index-1]), nil
}

func (s *memStore) SaveBatch(ctx context.Context, b *Batch, changed []NumberState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Index < 1 || b.Index > len(s.batches) {
		return fmt.Errorf("no batch %d", b.Index)
	}
	if s.batches[b.Index-1].Version != b.Version {
		return ErrConflict
	}
	if s.failSave != nil {
		if err := s.failSave(b, changed); err != nil {
			return err
		}
	}
	ns := clone(s.numbers[b.Index-1])
	for _, c := range changed {
		k := slices.IndexFunc(ns, func(n NumberState) bool { return n.PhoneNumber() == c.PhoneNumber() })
		if k < 0 {
			return fmt.Errorf("%s is not a number of batch %d", c.PhoneNumber(), b.Index)
		}
		c = clone(c)
		c.Number, c.Line = ns[k].Number, ns[k].Line
		ns[k] = c
	}
	next := clone(*b)
	next.Version++
	s.batches[b.Index-1], s.numbers[b.Index-1] = next, ns
	b.Version = next.Version
	s.saves++
	return nil
}

func (s *memStore) AddBatches(ctx context.Context, meta Meta, batches iter.Seq2[[]NumberState, error]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return ErrNoMigration
	}
	bs, ns, count, err := s.plan(batches)
	if err != nil {
		return err
	}
	meta.Batches = len(s.batches) + len(bs)
	meta.Input.Numbers = s.meta.Input.Numbers + count
	s.meta = &meta
	s.batches = append(s.batches, bs...)
	s.numbers = append(s.numbers, ns...)
	return ctx.Err()
}

func (s *memStore) Close() error { return nil }

// all returns every number of the store, by phone.
func (s *memStore) all() map[string]NumberState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]NumberState)
	for _, ns := range s.numbers {
		for _, n := range ns {
			out[n.PhoneNumber()] = clone(n)
		}
	}
	return out
}

// fastClock is real time plus the waits it skipped: Sleep returns at
// once and moves the clock on by the wait, so settle windows and confirm
// gaps cost nothing, and a server given the same clock processes in the
// same time.
type fastClock struct {
	mu    sync.Mutex
	skip  time.Duration
	slept []time.Duration
	// onSleep, if set, is called as each Sleep begins (a test cancels a
	// run's context there, as Ctrl-C during a wait does).
	onSleep func()
}

func (c *fastClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skip)
}

func (c *fastClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(d)
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return nil
}

func (c *fastClock) advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.skip += d
	c.mu.Unlock()
}

// killed is what a kill panics with.
type killed struct{ step string }

// killAt returns a checkpoint that kills the run at the n-th time it
// reaches step.
func killAt(step string, n int) func(string) {
	seen := 0
	return func(s string) {
		if s != step {
			return
		}
		if seen++; seen == n {
			panic(killed{step})
		}
	}
}

// runOnce runs fn, which a kill may stop; it reports whether it was.
func runOnce(fn func()) (wasKilled bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(killed); !ok {
				panic(r)
			}
			wasKilled = true
		}
	}()
	fn()
	return false
}

const (
	testEmail   = "owner@example.com"
	testAddress = "AD0123456789abcdef0123456789abcdef"
)

// phones returns n phone numbers.
func phones(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1415555%04d", 100+i)
	}
	return out
}

func statesOf(list []string) iter.Seq2[NumberState, error] {
	return func(yield func(NumberState, error) bool) {
		for i, p := range list {
			if !yield(NumberState{Number: hostednumbers.Number{PhoneNumber: p}, Line: i + 2}, nil) {
				return
			}
		}
	}
}

func testMeta(size int) Meta {
	return Meta{BatchSize: size, Contact: Contact{Email: testEmail, AddressSID: testAddress}}
}

// env is one migration against the fake, on a fast clock.
type env struct {
	t      *testing.T
	ctx    context.Context
	clock  *fastClock
	srv    *hostednumberstest.Server
	client *hostednumbers.Client
	store  *memStore
	phones []string
	events []Event
	// opts are the Options of every run, before run's own changes.
	opts Options
}

func newEnv(t *testing.T, n, size int, srvOpts []hostednumberstest.Option, clientOpts ...hostednumbers.Option) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, clock: &fastClock{}, store: &memStore{}, phones: phones(n)}
	e.srv = hostednumberstest.NewServer(append([]hostednumberstest.Option{hostednumberstest.WithClock(e.clock.Now)}, srvOpts...)...)
	t.Cleanup(e.srv.Close)
	e.client = e.srv.Client(clientOpts...)
	require.NoError(t, e.store.Start(ctx, testMeta(size), Batches(statesOf(e.phones), size)))
	e.opts = Options{Client: ClientAPI(e.client), Store: e.store, Clock: e.clock, Settle: 2 * time.Minute, Wait: true,
		Poll: time.Second, MaxPoll: 10 * time.Second, OnEvent: func(ev Event) { e.events = append(e.events, ev) }}
	return e
}

// migrator returns a Migrator with e's options, changed by edit.
func (e *env) migrator(edit func(*Options)) *Migrator {
	e.t.Helper()
	o := e.opts
	if edit != nil {
		edit(&o)
	}
	m, err := New(o)
	require.NoError(e.t, err)
	return m
}

// run is one run of the command's shape: Submit, then Follow. It reports
// whether the migration is finished: nothing in doubt and every number
// final.
func (e *env) run(edit func(*Options)) (finished bool, wasKilled bool) {
	e.t.Helper()
	m := e.migrator(edit)
	var res *SubmitResult
	var p Progress
	var err error
	wasKilled = runOnce(func() {
		res, err = m.Submit(e.ctx)
		if err != nil || len(res.InDoubt) > 0 {
			return
		}
		p, err = m.Follow(e.ctx)
	})
	if wasKilled {
		return false, true
	}
	require.NoError(e.t, err)
	return len(res.InDoubt) == 0 && p.Settled, false
}

// untilFinished runs until the migration finishes, at most runs times,
// the first run killed at step's n-th time (none if step is "").
func (e *env) untilFinished(runs int, first func(*Options)) {
	e.t.Helper()
	for run := 1; ; run++ {
		require.LessOrEqual(e.t, run, runs, "the migration did not finish in %d runs", runs)
		edit := func(*Options) {}
		if run == 1 && first != nil {
			edit = first
		}
		finished, _ := e.run(edit)
		if finished {
			return
		}
	}
}

// assertOncePerNumber checks what the fake holds, once anything still in
// flight there has had time to take effect: exactly one hosted number
// order per number, and no number in two processed bulk requests.
func (e *env) assertOncePerNumber() {
	e.t.Helper()
	e.clock.advance(24 * time.Hour)
	orders := make(map[string][]string)
	for _, o := range e.srv.HostedNumberOrders() {
		orders[o.PhoneNumber] = append(orders[o.PhoneNumber], o.SID)
	}
	for _, p := range e.phones {
		assert.Len(e.t, orders[p], 1, "%s has orders %v", p, orders[p])
	}
	in := make(map[string][]string)
	for _, o := range e.srv.Orders() {
		for _, r := range o.Orders() {
			in[r.PhoneNumber] = append(in[r.PhoneNumber], o.BulkHostingSID)
		}
	}
	for p, sids := range in {
		assert.Len(e.t, sids, 1, "%s is in %v", p, sids)
	}
}

// statuses returns the report status of every number, by phone.
func (e *env) statuses() map[string]string {
	e.t.Helper()
	out := make(map[string]string)
	meta, err := e.store.Meta(e.ctx)
	require.NoError(e.t, err)
	for i := 1; i <= meta.Batches; i++ {
		b, err := e.store.Batch(e.ctx, i)
		require.NoError(e.t, err)
		ns, err := e.store.Numbers(e.ctx, i)
		require.NoError(e.t, err)
		for k := range ns {
			out[ns[k].PhoneNumber()] = NumberStatus(b.State, &ns[k])
		}
	}
	return out
}

func (e *env) batch(i int) Batch {
	e.t.Helper()
	b, err := e.store.Batch(e.ctx, i)
	require.NoError(e.t, err)
	return b
}

func (e *env) creates() int {
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Method == "POST" && r.Path == "/v2/HostedNumber/Orders/Bulk" {
			n++
		}
	}
	return n
}

var errInjected = errors.New("injected store failure")

package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// Changes to a migration several workers share are compare-and-set:
// ApplyInput and Resubmit, run at once with other workers on one store.

func deadline(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// phoneAt is the i-th number of someNumbers.
func phoneAt(i int) string { return fmt.Sprintf("+1415555%04d", 100+i) }

// inputOf is an input of the numbers at the indexes from first to last,
// less those of without.
func inputOf(first, last int, without ...int) func() iter.Seq2[migrate.NumberState, error] {
	skip := make(map[int]bool, len(without))
	for _, i := range without {
		skip[i] = true
	}
	return func() iter.Seq2[migrate.NumberState, error] {
		return func(yield func(migrate.NumberState, error) bool) {
			for i := first; i <= last; i++ {
				if skip[i] {
					continue
				}
				if !yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: phoneAt(i)}}, nil) {
					return
				}
			}
		}
	}
}

// whereIs returns the batches each number of st is in, and the numbers
// withdrawn.
func whereIs(t *testing.T, st migrate.Store) (in map[string][]int, withdrawn []string) {
	t.Helper()
	ctx := deadline(t)
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	in = make(map[string][]int)
	for i := 1; i <= meta.Batches; i++ {
		ns, err := st.Numbers(ctx, i)
		require.NoError(t, err)
		for _, n := range ns {
			in[n.PhoneNumber()] = append(in[n.PhoneNumber()], i)
			if n.Withdrawn {
				withdrawn = append(withdrawn, n.PhoneNumber())
			}
		}
	}
	return in, withdrawn
}

// gated is a ClaimStore whose first n AddBatchesIf calls wait for each
// other: every caller has read the migration before any of them adds,
// so all but one are answered with a conflict.
type gated struct {
	migrate.ClaimStore
	n         int
	mu        sync.Mutex
	arrived   int
	all       chan struct{}
	conflicts atomic.Int64
}

func newGated(st migrate.ClaimStore, n int) *gated {
	return &gated{ClaimStore: st, n: n, all: make(chan struct{})}
}

func (g *gated) AddBatchesIf(ctx context.Context, batches int, meta migrate.Meta, add iter.Seq2[[]migrate.NumberState, error]) error {
	g.mu.Lock()
	if g.arrived++; g.arrived == g.n {
		close(g.all)
	}
	g.mu.Unlock()
	select {
	case <-g.all:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := g.ClaimStore.AddBatchesIf(ctx, batches, meta, add)
	if errors.Is(err, migrate.ErrConflict) {
		g.conflicts.Add(1)
	}
	return err
}

// applyAtOnce runs ApplyInput of in on st from workers goroutines at once,
// and returns the sum of their changes.
func applyAtOnce(t *testing.T, st migrate.Store, workers int, input migrate.Input, in func() iter.Seq2[migrate.NumberState, error]) migrate.InputChanges {
	t.Helper()
	ctx := deadline(t)
	chs := make([]migrate.InputChanges, workers)
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			chs[w], errs[w] = migrate.ApplyInput(ctx, st, input, in)
		}()
	}
	close(start)
	wg.Wait()
	var sum migrate.InputChanges
	for w := range workers {
		require.NoError(t, errs[w], "worker %d", w)
		sum.Added += chs[w].Added
		sum.Withdrawn += chs[w].Withdrawn
		sum.Restored += chs[w].Restored
	}
	return sum
}

// Of ApplyInput calls at once with the same changed input, on one shared
// store, one adds the new numbers; the others read the migration again,
// find them there, and add nothing: every number is in exactly one batch,
// and every call succeeds.
func TestConcurrentApplyInputPutsEveryNumberInOneBatch(t *testing.T) {
	for _, tc := range []struct {
		workers int
		gate    bool
	}{{2, true}, {8, true}, {8, false}} {
		t.Run(fmt.Sprintf("%d workers, gated %v", tc.workers, tc.gate), func(t *testing.T) {
			st := newStore(t, 20, 5) // batches 1 to 4
			var shared migrate.Store = st
			var g *gated
			if tc.gate {
				g = newGated(st, tc.workers)
				shared = g
			}
			// 40 numbers added, number 3 (not submitted) removed.
			input := migrate.Input{Name: "more.csv", SHA256: "cd", Numbers: 59}
			sum := applyAtOnce(t, shared, tc.workers, input, inputOf(0, 59, 3))
			assert.Equal(t, migrate.InputChanges{Added: 40, Withdrawn: 1}, sum, "each change made once, by one of them")
			if g != nil {
				assert.Equal(t, int64(tc.workers-1), g.conflicts.Load(), "all but one read a migration that changed before they added")
			}
			meta, err := st.Meta(deadline(t))
			require.NoError(t, err)
			assert.Equal(t, 4+8, meta.Batches)
			assert.Equal(t, input, meta.Input)
			in, withdrawn := whereIs(t, st)
			require.Len(t, in, 60)
			for i := range 60 {
				assert.Len(t, in[phoneAt(i)], 1, "%s is in batches %v", phoneAt(i), in[phoneAt(i)])
			}
			assert.Equal(t, []string{phoneAt(3)}, withdrawn)

			// Applied again, the same input changes nothing.
			ch, err := migrate.ApplyInput(deadline(t), st, input, inputOf(0, 59, 3))
			require.NoError(t, err)
			assert.Zero(t, ch)
		})
	}
}

// rival is a ClaimStore on which another worker adds a batch of its own
// numbers just before each AddBatchesIf: every one reads a migration
// that has changed.
type rival struct {
	migrate.ClaimStore
	next  int // the index of its next number
	calls int
}

func (r *rival) AddBatchesIf(ctx context.Context, batches int, meta migrate.Meta, add iter.Seq2[[]migrate.NumberState, error]) error {
	r.calls++
	m, err := r.Meta(ctx)
	if err != nil {
		return err
	}
	own := m
	own.Input.Numbers = 0
	if err := r.ClaimStore.AddBatchesIf(ctx, m.Batches, own, migrate.Batches(inputOf(r.next, r.next)(), 1)); err != nil {
		return err
	}
	r.next++
	return r.ClaimStore.AddBatchesIf(ctx, batches, meta, add)
}

// ApplyInput reads again after each conflict, a bounded number of times,
// then stops with an *InputConflictError that matches ErrConflict, having
// added nothing.
func TestApplyInputGivesUpAfterConflictsInARow(t *testing.T) {
	ctx := deadline(t)
	st := newStore(t, 4, 2)
	r := &rival{ClaimStore: st, next: 1000}
	_, err := migrate.ApplyInput(ctx, r, migrate.Input{Name: "more.csv"}, inputOf(0, 7))
	var ice *migrate.InputConflictError
	require.ErrorAs(t, err, &ice)
	assert.ErrorIs(t, err, migrate.ErrConflict)
	assert.NotErrorIs(t, err, migrate.ErrClaimed)
	assert.Equal(t, 10, ice.Attempts)
	assert.Equal(t, 10, r.calls, "one AddBatchesIf per attempt, each over a fresh read")
	assert.Contains(t, err.Error(), "other workers changed the migration meanwhile, 10 times in a row")
	in, _ := whereIs(t, st)
	for i := 4; i <= 7; i++ {
		assert.Empty(t, in[phoneAt(i)], "nothing of the input was added")
	}
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2+10, meta.Batches, "the rival's batches only")
}

// A number to withdraw in a batch another worker holds is not withdrawn:
// ApplyInput stops at once with an *InputConflictError naming the batch
// (matching ErrClaimed), adds nothing, and succeeds once the claim is
// released.
func TestApplyInputStopsAtABatchAnotherWorkerHolds(t *testing.T) {
	ctx := deadline(t)
	st := newStore(t, 10, 5)
	c, err := st.Claim(ctx, "other", time.Minute, 1)
	require.NoError(t, err)
	input := migrate.Input{Name: "changed.csv", Numbers: 14}
	_, err = migrate.ApplyInput(ctx, st, input, inputOf(0, 14, 2))
	var ice *migrate.InputConflictError
	require.ErrorAs(t, err, &ice)
	assert.ErrorIs(t, err, migrate.ErrClaimed)
	assert.Equal(t, 1, ice.Batch)
	assert.Equal(t, 1, ice.Attempts, "a live claim is not tried again and again")
	assert.Contains(t, err.Error(), "batch 1 is held by another worker")
	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, c.Batch, b, "the held batch is unchanged")
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, meta.Batches, "nothing added")

	require.NoError(t, st.Release(ctx, c.Lease))
	ch, err := migrate.ApplyInput(ctx, st, input, inputOf(0, 14, 2))
	require.NoError(t, err)
	assert.Equal(t, migrate.InputChanges{Added: 5, Withdrawn: 1}, ch)
}

// submitsMeanwhile is a store on which another worker submits batch 1
// (accepted, with its bulk request) just before ApplyInput reads it the
// second time, to withdraw from it.
type submitsMeanwhile struct {
	migrate.ClaimStore
	t     *testing.T
	reads int
}

func (s *submitsMeanwhile) Batch(ctx context.Context, index int) (migrate.Batch, error) {
	if index == 1 {
		if s.reads++; s.reads == 2 {
			b, err := s.ClaimStore.Batch(ctx, 1)
			require.NoError(s.t, err)
			ns, err := s.Numbers(ctx, 1)
			require.NoError(s.t, err)
			b.State, b.BulkHostingSIDs = migrate.StateAccepted, []string{"BH0123456789abcdef0123456789abcdef"}
			for k := range ns {
				ns[k].BulkHostingSID = b.BulkHostingSIDs[0]
			}
			require.NoError(s.t, s.SaveBatch(ctx, &b, ns))
		}
	}
	return s.ClaimStore.Batch(ctx, index)
}

// A number that was not submitted when ApplyInput read the migration,
// but was by the time it withdraws it, is not withdrawn: ApplyInput reads
// again and refuses its removal.
func TestApplyInputNeverWithdrawsANumberSubmittedMeanwhile(t *testing.T) {
	ctx := deadline(t)
	st := newStore(t, 4, 2)
	s := &submitsMeanwhile{ClaimStore: st, t: t}
	_, err := migrate.ApplyInput(ctx, s, migrate.Input{Name: "changed.csv"}, inputOf(1, 5))
	var ce *migrate.InputChangeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []string{phoneAt(0)}, ce.RemovedSubmitted)
	in, withdrawn := whereIs(t, st)
	assert.Empty(t, withdrawn)
	assert.Empty(t, in[phoneAt(5)], "nothing added")
}

// failedMigration is a migration of n numbers in batches of size whose
// every number Twilio failed, in a store that claims, and the options of
// its engine.
func failedMigration(t *testing.T, n, size int) (*logstore.Store, migrate.Options) {
	t.Helper()
	ctx := deadline(t)
	srv := hostednumberstest.NewServer(hostednumberstest.WithOutcome(func(string) hostednumberstest.Outcome {
		return hostednumberstest.Outcome{Status: hostednumbers.OrderStatusFailed, FailureReason: "because"}
	}))
	t.Cleanup(srv.Close)
	st := newStore(t, n, size)
	o := migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: st, Wait: true,
		Poll: 10 * time.Millisecond, MaxPoll: 50 * time.Millisecond}
	m, err := migrate.New(o)
	require.NoError(t, err)
	_, err = m.Submit(ctx)
	require.NoError(t, err)
	p, err := m.Follow(ctx)
	require.NoError(t, err)
	require.True(t, p.Settled)
	require.Equal(t, map[string]int{"failed": n}, p.Counts)
	return st, o
}

// numbersOf returns batch i and its numbers.
func numbersOf(t *testing.T, st migrate.Store, i int) (migrate.Batch, []migrate.NumberState) {
	t.Helper()
	b, err := st.Batch(deadline(t), i)
	require.NoError(t, err)
	ns, err := st.Numbers(deadline(t), i)
	require.NoError(t, err)
	return b, ns
}

// Two Resubmit at once, while another worker holds batch 1: the held
// batch is left as it was and reported by both, without a second try
// (the claim lasts); every other number is marked once; nothing fails.
func TestResubmitLeavesABatchAnotherWorkerHolds(t *testing.T) {
	ctx := deadline(t)
	st, o := failedMigration(t, 6, 2)
	c, err := st.Claim(ctx, "other", time.Minute, 1)
	require.NoError(t, err)
	heldB, heldNs := numbersOf(t, st, 1)
	s := &interferes{ClaimStore: st, t: t}
	o.Store = s

	const callers = 2
	results := make([]*migrate.ResubmitResult, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		m, err := migrate.New(o)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = m.Resubmit(ctx, "failed")
		}()
	}
	wg.Wait()
	marked := 0
	for i := range callers {
		require.NoError(t, errs[i])
		marked += results[i].Marked
		assert.Empty(t, results[i].Held)
		assert.Equal(t, []int{1}, results[i].Busy, "caller %d", i)
	}
	assert.Equal(t, 4, marked, "each number of batches 2 and 3 marked once")
	assert.Equal(t, int64(callers), s.saves.Load(), "one try each at the held batch")
	b, ns := numbersOf(t, st, 1)
	assert.Equal(t, heldB, b, "the held batch is unchanged")
	assert.Equal(t, heldNs, ns)
	for _, i := range []int{2, 3} {
		b, ns := numbersOf(t, st, i)
		assert.Equal(t, migrate.StatePlanned, b.State)
		for _, n := range ns {
			assert.True(t, n.Resubmit, "%s", n.PhoneNumber())
		}
	}

	require.NoError(t, st.Release(ctx, c.Lease))
	m, err := migrate.New(o)
	require.NoError(t, err)
	res, err := m.Resubmit(ctx, "failed")
	require.NoError(t, err)
	assert.Equal(t, &migrate.ResubmitResult{Marked: 2}, res)
}

// interferes is a store on which another worker saves batch 1 (with
// change) just before each of the first times SaveBatch of it, so that
// those saves are over a version that is gone. It counts the saves of
// batch 1.
type interferes struct {
	migrate.ClaimStore
	t      *testing.T
	times  int64
	change func(*migrate.Batch)
	saves  atomic.Int64
}

func (s *interferes) SaveBatch(ctx context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	if b.Index == 1 {
		if n := s.saves.Add(1); n <= s.times {
			other, err := s.Batch(ctx, 1)
			require.NoError(s.t, err)
			s.change(&other)
			require.NoError(s.t, s.ClaimStore.SaveBatch(ctx, &other, nil))
		}
	}
	return s.ClaimStore.SaveBatch(ctx, b, changed)
}

// A batch another worker changed while Resubmit looked at Twilio is read
// again and decided afresh: here the other worker sent it again (it is in
// doubt), so its numbers are held back, not marked.
func TestResubmitReadsABatchAgainAfterAConflict(t *testing.T) {
	ctx := deadline(t)
	st, o := failedMigration(t, 4, 2)
	s := &interferes{ClaimStore: st, t: t, times: 1, change: func(b *migrate.Batch) { b.State = migrate.StateSending }}
	o.Store = s
	m, err := migrate.New(o)
	require.NoError(t, err)
	res, err := m.Resubmit(ctx, "failed")
	require.NoError(t, err)
	assert.Equal(t, 2, res.Marked, "batch 2's")
	assert.Empty(t, res.Busy)
	require.Len(t, res.Held, 2, "batch 1's, in doubt when read again")
	for _, h := range res.Held {
		assert.Equal(t, migrate.Held{PhoneNumber: h.PhoneNumber, Batch: 1, Action: migrate.HoldWait}, h)
	}
	assert.Equal(t, int64(1), s.saves.Load(), "nothing saved after the second read")
	b, ns := numbersOf(t, st, 1)
	assert.Equal(t, migrate.StateSending, b.State)
	for _, n := range ns {
		assert.False(t, n.Resubmit, "%s", n.PhoneNumber())
		assert.NotEmpty(t, n.HostingOrderSID, "%s keeps its order", n.PhoneNumber())
	}
}

// A batch that changes under every attempt is reported busy after a few,
// and left as the other worker saved it; the other batches are marked.
func TestResubmitReportsABatchThatKeepsChanging(t *testing.T) {
	ctx := deadline(t)
	st, o := failedMigration(t, 4, 2)
	s := &interferes{ClaimStore: st, t: t, times: 1 << 30, change: func(*migrate.Batch) {}}
	o.Store = s
	m, err := migrate.New(o)
	require.NoError(t, err)
	res, err := m.Resubmit(ctx, "failed")
	require.NoError(t, err)
	assert.Equal(t, &migrate.ResubmitResult{Marked: 2, Busy: []int{1}}, res)
	assert.Equal(t, int64(3), s.saves.Load(), "three attempts")
	b, ns := numbersOf(t, st, 1)
	assert.Equal(t, migrate.StateAccepted, b.State)
	for _, n := range ns {
		assert.False(t, n.Resubmit, "%s", n.PhoneNumber())
	}
}

// cancels is a store whose AddBatchesIf conflicts, as if another worker
// had added batches, and cancels the caller's context: a run stopped
// between attempts.
type cancels struct {
	migrate.ClaimStore
	cancel context.CancelFunc
	calls  int
}

func (c *cancels) AddBatchesIf(context.Context, int, migrate.Meta, iter.Seq2[[]migrate.NumberState, error]) error {
	c.calls++
	c.cancel()
	return fmt.Errorf("another worker added batches: %w", migrate.ErrConflict)
}

// ApplyInput stopped between its attempts stops there, with the context's
// error, and adds nothing.
func TestApplyInputStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(deadline(t))
	st := newStore(t, 4, 2)
	c := &cancels{ClaimStore: st, cancel: cancel}
	_, err := migrate.ApplyInput(ctx, c, migrate.Input{Name: "more.csv"}, inputOf(0, 7))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, c.calls, "no attempt after the stop")
	in, _ := whereIs(t, st)
	assert.Len(t, in, 4)
}

// failsSave is a store whose SaveBatch of batch 1 fails.
type failsSave struct{ migrate.ClaimStore }

var errDisk = errors.New("disk full")

func (f failsSave) SaveBatch(ctx context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	if b.Index == 1 {
		return errDisk
	}
	return f.ClaimStore.SaveBatch(ctx, b, changed)
}

// A store that fails (not a conflict, not a claim) fails Resubmit, naming
// the batch; nothing of the batch is marked.
func TestResubmitFailsOnAStoreFailure(t *testing.T) {
	ctx := deadline(t)
	st, o := failedMigration(t, 4, 2)
	o.Store = failsSave{st}
	m, err := migrate.New(o)
	require.NoError(t, err)
	res, err := m.Resubmit(ctx, "failed")
	require.ErrorIs(t, err, errDisk)
	assert.Contains(t, err.Error(), "batch 1: marking 2 numbers to be sent again")
	assert.Zero(t, res.Marked)
	assert.Empty(t, res.Busy)
	_, ns := numbersOf(t, st, 1)
	for _, n := range ns {
		assert.False(t, n.Resubmit, "%s", n.PhoneNumber())
	}
}

package pgstore_test

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
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// Changes to a migration that several engines share (ApplyInput,
// Resubmit) are compare-and-set, each engine on its own store (pool of
// connections), as separate processes are.

// inputWithout is numbers(0, n) less the number at index without.
func inputWithout(n, without int) func() iter.Seq2[migrate.NumberState, error] {
	return func() iter.Seq2[migrate.NumberState, error] {
		return func(yield func(migrate.NumberState, error) bool) {
			for x, err := range numbers(0, n) {
				if x.PhoneNumber() == phone(without) {
					continue
				}
				if !yield(x, err) {
					return
				}
			}
		}
	}
}

// barrier holds its first n callers until all of them have come.
type barrier struct {
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (b *barrier) wait(ctx context.Context) error {
	b.mu.Lock()
	if b.arrived++; b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gatedStore is a store whose AddBatchesIf waits at a barrier shared
// with other engines' stores: every engine has read the migration before
// any adds. It counts the conflicts.
type gatedStore struct {
	migrate.ClaimStore
	b         *barrier
	conflicts *atomic.Int64
}

func (g gatedStore) AddBatchesIf(ctx context.Context, batches int, meta migrate.Meta, add iter.Seq2[[]migrate.NumberState, error]) error {
	if err := g.b.wait(ctx); err != nil {
		return err
	}
	err := g.ClaimStore.AddBatchesIf(ctx, batches, meta, add)
	if errors.Is(err, migrate.ErrConflict) {
		g.conflicts.Add(1)
	}
	return err
}

// Engines that take in the same changed input at once, each on its own
// store: every new number lands in exactly one batch, each change is made
// by one of them, and none fails.
func TestConcurrentApplyInput(t *testing.T) {
	for _, tc := range []struct {
		engines int
		gate    bool
	}{{2, true}, {8, true}, {8, false}} {
		t.Run(fmt.Sprintf("%d engines, gated %v", tc.engines, tc.gate), func(t *testing.T) {
			ctx := testCtx(t)
			first := started(t, 20, 5) // batches 1 to 4
			b := &barrier{n: tc.engines, all: make(chan struct{})}
			var conflicts atomic.Int64
			sts := make([]migrate.Store, tc.engines)
			for i := range sts {
				st := open(t, pgstore.Options{Schema: first.Schema()})
				sts[i] = st
				if tc.gate {
					sts[i] = gatedStore{ClaimStore: st, b: b, conflicts: &conflicts}
				}
			}
			input := migrate.Input{Name: "more.csv", SHA256: "cd", Numbers: 59}
			chs := make([]migrate.InputChanges, tc.engines)
			errs := make([]error, tc.engines)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range sts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					chs[i], errs[i] = migrate.ApplyInput(ctx, sts[i], input, inputWithout(60, 3))
				}()
			}
			close(start)
			wg.Wait()
			var sum migrate.InputChanges
			for i := range sts {
				require.NoError(t, errs[i], "engine %d", i)
				sum.Added += chs[i].Added
				sum.Withdrawn += chs[i].Withdrawn
				sum.Restored += chs[i].Restored
			}
			assert.Equal(t, migrate.InputChanges{Added: 40, Withdrawn: 1}, sum)
			if tc.gate {
				assert.Equal(t, int64(tc.engines-1), conflicts.Load(), "all but one read a migration that changed before they added")
			}

			meta, err := first.Meta(ctx)
			require.NoError(t, err)
			assert.Equal(t, 4+8, meta.Batches)
			assert.Equal(t, input, meta.Input)
			in := map[string][]int{}
			var withdrawn []string
			for i := 1; i <= meta.Batches; i++ {
				ns, err := first.Numbers(ctx, i)
				require.NoError(t, err)
				for _, n := range ns {
					in[n.PhoneNumber()] = append(in[n.PhoneNumber()], i)
					if n.Withdrawn {
						withdrawn = append(withdrawn, n.PhoneNumber())
					}
				}
			}
			require.Len(t, in, 60)
			for i := range 60 {
				assert.Len(t, in[phone(i)], 1, "%s is in batches %v", phone(i), in[phone(i)])
			}
			assert.Equal(t, []string{phone(3)}, withdrawn)
		})
	}
}

// countsSaves is a store that counts its SaveBatch calls of one batch.
type countsSaves struct {
	migrate.ClaimStore
	batch int
	saves *atomic.Int32
}

func (c countsSaves) SaveBatch(ctx context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	if b.Index == c.batch {
		c.saves.Add(1)
	}
	return c.ClaimStore.SaveBatch(ctx, b, changed)
}

// Engines that resubmit at once, each on its own store, while another
// worker holds batch 1: the held batch is left as it was and reported by
// each, after one try; every other number is marked by exactly one of
// them; none fails. Once the claim is released, its numbers are marked.
func TestConcurrentResubmitAndAClaim(t *testing.T) {
	ctx := testCtx(t)
	srv := hostednumberstest.NewServer(hostednumberstest.WithOutcome(func(string) hostednumberstest.Outcome {
		return hostednumberstest.Outcome{Status: hostednumbers.OrderStatusFailed, FailureReason: "because"}
	}))
	defer srv.Close()
	const n, size, engines = 6, 2, 3
	first := started(t, n, size)
	o := migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: first, Wait: true, Poll: 10 * time.Millisecond, MaxPoll: 50 * time.Millisecond}
	m, err := migrate.New(o)
	require.NoError(t, err)
	_, err = m.Submit(ctx)
	require.NoError(t, err)
	p, err := m.Follow(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"failed": n}, p.Counts)

	holder := open(t, pgstore.Options{Schema: first.Schema()})
	c, err := holder.Claim(ctx, "other", time.Minute, 1)
	require.NoError(t, err)
	heldB, err := first.Batch(ctx, 1)
	require.NoError(t, err)
	heldNs, err := first.Numbers(ctx, 1)
	require.NoError(t, err)

	var saves atomic.Int32
	results := make([]*migrate.ResubmitResult, engines)
	errs := make([]error, engines)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range engines {
		oi := o
		oi.Store = countsSaves{ClaimStore: open(t, pgstore.Options{Schema: first.Schema()}), batch: 1, saves: &saves}
		mi, err := migrate.New(oi)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = mi.Resubmit(ctx, "failed")
		}()
	}
	close(start)
	wg.Wait()
	marked := 0
	for i := range engines {
		require.NoError(t, errs[i], "engine %d", i)
		marked += results[i].Marked
		assert.Empty(t, results[i].Held)
		assert.Equal(t, []int{1}, results[i].Busy, "engine %d", i)
	}
	assert.Equal(t, n-size, marked, "every number of batches 2 and 3, once")
	assert.Equal(t, int32(engines), saves.Load(), "one try each at the held batch")
	b, err := first.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, heldB, b, "the held batch is unchanged")
	ns, err := first.Numbers(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, heldNs, ns)

	require.NoError(t, holder.Release(ctx, c.Lease))
	res, err := m.Resubmit(ctx, "failed")
	require.NoError(t, err)
	assert.Equal(t, &migrate.ResubmitResult{Marked: size}, res)
}

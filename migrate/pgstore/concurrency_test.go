package pgstore_test

import (
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// Workers that all read one version of a batch and all save it: exactly
// one wins each round, whatever store (pool of connections, as another
// process would have) it uses; the others get ErrConflict and record
// nothing.
func TestOneWinnerPerVersion(t *testing.T) {
	ctx := testCtx(t)
	first := started(t, 10, 5)
	const stores, perStore, rounds = 3, 4, 8
	sts := []*pgstore.Store{first}
	for range stores - 1 {
		sts = append(sts, open(t, pgstore.Options{Schema: first.Schema()}))
	}
	for round := range rounds {
		b, err := first.Batch(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, int64(round), b.Version)
		ns, err := first.Numbers(ctx, 1)
		require.NoError(t, err)
		var wins, conflicts atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range stores * perStore {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := b
				mine.State = migrate.StateSending
				mine.Attempts = append(append([]migrate.Attempt(nil), b.Attempts...), migrate.Attempt{Kind: "create", RequestID: fmt.Sprintf("w%d", w)})
				n := ns[w%len(ns)]
				n.Status = fmt.Sprintf("w%d", w)
				<-start
				err := sts[w%stores].SaveBatch(ctx, &mine, []migrate.NumberState{n})
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(w)
					assert.Equal(t, int64(round+1), mine.Version)
				case errors.Is(err, migrate.ErrConflict):
					conflicts.Add(1)
					assert.Equal(t, int64(round), mine.Version)
				default:
					t.Errorf("worker %d: %v", w, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Equal(t, int32(1), wins.Load(), "round %d: exactly one winner", round)
		require.Equal(t, int32(stores*perStore-1), conflicts.Load())

		w := winner.Load().(int)
		got, err := sts[round%stores].Batch(ctx, 1)
		require.NoError(t, err)
		require.Len(t, got.Attempts, round+1)
		assert.Equal(t, fmt.Sprintf("w%d", w), got.Attempts[round].RequestID, "the winner's batch is recorded")
		gotNs, err := sts[round%stores].Numbers(ctx, 1)
		require.NoError(t, err)
		for i := range gotNs {
			if i == w%len(ns) {
				assert.Equal(t, fmt.Sprintf("w%d", w), gotNs[i].Status, "the winner's number is recorded")
			} else {
				assert.Equal(t, ns[i].Status, gotNs[i].Status, "round %d, number %d: no loser's change is recorded", round, i)
			}
		}
	}
}

// Workers that read again after each conflict and save until each has
// made its steps: no step is lost, and the version counts them all.
func TestNoLostUpdates(t *testing.T) {
	ctx := testCtx(t)
	first := started(t, 4, 2)
	other := open(t, pgstore.Options{Schema: first.Schema()})
	const workers, steps = 6, 10
	var wg sync.WaitGroup
	var conflicts atomic.Int32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := first
			if w%2 == 1 {
				st = other
			}
			for done := 0; done < steps; {
				b, err := st.Batch(ctx, 2)
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				b.Attempts = append(b.Attempts, migrate.Attempt{Kind: "reconcile", RequestID: fmt.Sprintf("w%d-%d", w, done)})
				err = st.SaveBatch(ctx, &b, nil)
				switch {
				case err == nil:
					done++
				case errors.Is(err, migrate.ErrConflict):
					conflicts.Add(1)
				default:
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b, err := first.Batch(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, int64(workers*steps), b.Version)
	require.Len(t, b.Attempts, workers*steps, "every step is kept")
	seen := map[string]bool{}
	for _, a := range b.Attempts {
		assert.False(t, seen[a.RequestID], "step %s recorded once", a.RequestID)
		seen[a.RequestID] = true
	}
	t.Logf("%d conflicts for %d saves", conflicts.Load(), workers*steps)
}

// Two Starts of one migration at once: one records it, the other gets
// ErrExists.
func TestConcurrentStarts(t *testing.T) {
	ctx := testCtx(t)
	a := open(t, pgstore.Options{})
	b := open(t, pgstore.Options{Schema: a.Schema()})
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, st := range []*pgstore.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.Start(ctx, testMeta(2), migrate.Batches(numbers(i*100, 6), 2))
		}()
	}
	wg.Wait()
	var ok, exists int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, migrate.ErrExists):
			exists++
		default:
			t.Fatal(err)
		}
	}
	assert.Equal(t, []int{1, 1}, []int{ok, exists})
	meta, err := a.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, meta.Batches)
	assert.Equal(t, 6, meta.Input.Numbers)
}

// Two AddBatches at once run one after the other: batches are numbered
// without a gap or a clash, and a number given to both is added once.
func TestConcurrentAddBatches(t *testing.T) {
	ctx := testCtx(t)
	a := started(t, 2, 2)
	b := open(t, pgstore.Options{Schema: a.Schema()})
	meta, err := a.Meta(ctx)
	require.NoError(t, err)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	// Each input, once its AddBatches reads it, waits a moment for the
	// other to be read too: it cannot be while the first holds the
	// migration, so the wait runs out and the two run one after the other.
	var mu sync.Mutex
	arrived := 0
	both := make(chan struct{})
	meet := func(seq iter.Seq2[[]migrate.NumberState, error]) iter.Seq2[[]migrate.NumberState, error] {
		return func(yield func([]migrate.NumberState, error) bool) {
			mu.Lock()
			if arrived++; arrived == 2 {
				close(both)
			}
			mu.Unlock()
			select {
			case <-both:
			case <-time.After(300 * time.Millisecond):
			}
			seq(yield)
		}
	}
	for i, st := range []*pgstore.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.AddBatches(ctx, meta, meet(migrate.Batches(numbers(10+i*100, 3), 2)))
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	got, err := a.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, got.Batches)
	total := 0
	for i := 1; i <= got.Batches; i++ {
		ns, err := a.Numbers(ctx, i)
		require.NoError(t, err)
		total += len(ns)
	}
	assert.Equal(t, 8, total)

	// The same new numbers from two workers: the second is refused.
	for i, st := range []*pgstore.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.AddBatches(ctx, got, migrate.Batches(numbers(500, 3), 2))
		}()
	}
	wg.Wait()
	var de *pgstore.DuplicateError
	assert.True(t, (errs[0] == nil) != (errs[1] == nil), "one of %v", errs)
	assert.True(t, errors.As(errs[0], &de) || errors.As(errs[1], &de), "the other is a duplicate: %v", errs)
	got2, err := a.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 7, got2.Batches)
}

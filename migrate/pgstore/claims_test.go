package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// Without Options.Clock, claims expire by the database's clock: a
// claim's Expires is the database's now() plus its ttl.
func TestClaimsUseTheDatabaseClock(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 4, 2)
	var before, after time.Time
	require.NoError(t, pool(t).QueryRow(ctx, "SELECT now()").Scan(&before))
	c, err := st.Claim(ctx, "w1", time.Hour, 1)
	require.NoError(t, err)
	require.NoError(t, pool(t).QueryRow(ctx, "SELECT now()").Scan(&after))
	assert.False(t, c.Lease.Expires.Before(before.Add(time.Hour)), "Expires %v before the database's now %v + 1h", c.Lease.Expires, before)
	assert.False(t, c.Lease.Expires.After(after.Add(time.Hour)), "Expires %v after the database's now %v + 1h", c.Lease.Expires, after)
	// A claim made to end in the database's past has expired: another
	// worker takes it, whatever this machine's clock says.
	_, err = pool(t).Exec(ctx, "UPDATE "+st.Schema()+".batches SET claim_expires = now() - interval '1 second' WHERE idx = 1")
	require.NoError(t, err)
	c2, err := st.Claim(ctx, "w2", time.Hour, 1)
	require.NoError(t, err)
	assert.Equal(t, int64(2), c2.Lease.Token)
	b := c.Batch
	b.State = migrate.StateSending
	assert.ErrorIs(t, st.SaveClaimed(ctx, c.Lease, &b, nil), migrate.ErrLeaseLost)
}

// Workers with their own connections (as processes have) share the
// batches through ClaimNext: each batch is claimed by one, none twice,
// all of them done; and a save under each claim counts once.
func TestWorkersShareTheBatches(t *testing.T) {
	ctx := testCtx(t)
	first := started(t, 120, 2) // 60 batches
	const workers = 4
	sts := []*pgstore.Store{first}
	for range workers - 1 {
		sts = append(sts, open(t, pgstore.Options{Schema: first.Schema()}))
	}
	var mu sync.Mutex
	done := map[int]string{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w, st := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			name := fmt.Sprintf("worker-%d", w)
			for {
				c, ok, err := st.ClaimNext(ctx, name, time.Minute, migrate.StatePlanned)
				if err != nil {
					t.Errorf("%s: ClaimNext: %v", name, err)
					return
				}
				if !ok {
					return
				}
				b := c.Batch
				b.State = migrate.StateAccepted
				if err := st.SaveClaimed(ctx, c.Lease, &b, nil); err != nil {
					t.Errorf("%s: SaveClaimed of batch %d: %v", name, b.Index, err)
					return
				}
				if err := st.Release(ctx, c.Lease); err != nil {
					t.Errorf("%s: Release of batch %d: %v", name, b.Index, err)
					return
				}
				mu.Lock()
				if other, dup := done[b.Index]; dup {
					t.Errorf("batch %d done by %s and %s", b.Index, other, name)
				}
				done[b.Index] = name
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Len(t, done, 60)
	left, err := first.Pending(ctx, 0, 100, migrate.StatePlanned)
	require.NoError(t, err)
	assert.Empty(t, left)
	all, err := first.Pending(ctx, 0, 100)
	require.NoError(t, err)
	require.Len(t, all, 60)
	for _, b := range all {
		assert.Equal(t, int64(1), b.Version, "batch %d saved once", b.Index)
		assert.Equal(t, migrate.StateAccepted, b.State)
	}
}

// Two stores on one migration: a live claim made through one keeps the
// other's SaveBatch off the batch.
func TestClaimHoldsAcrossStores(t *testing.T) {
	ctx := testCtx(t)
	a := started(t, 4, 2)
	b := open(t, pgstore.Options{Schema: a.Schema()})
	_, err := a.Claim(ctx, "a", time.Minute, 2)
	require.NoError(t, err)
	bt, err := b.Batch(ctx, 2)
	require.NoError(t, err)
	bt.State = migrate.StateSending
	err = b.SaveBatch(ctx, &bt, nil)
	assert.True(t, errors.Is(err, migrate.ErrClaimed) && errors.Is(err, migrate.ErrConflict), "%v", err)
	_, err = b.Claim(ctx, "b", time.Minute, 2)
	assert.ErrorIs(t, err, migrate.ErrClaimed)
}

// Workers on their own connections claiming one batch at once: one
// wins each round, the others get ErrClaimed, round after round.
func TestOneClaimWinnerAcrossStores(t *testing.T) {
	ctx := testCtx(t)
	first := started(t, 40, 2) // 20 batches
	const stores, perStore = 4, 3
	sts := []*pgstore.Store{first}
	for range stores - 1 {
		sts = append(sts, open(t, pgstore.Options{Schema: first.Schema()}))
	}
	for index := 1; index <= 20; index++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		start := make(chan struct{})
		for s, st := range sts {
			for k := range perStore {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					name := fmt.Sprintf("w%d.%d", s, k)
					c, err := st.Claim(ctx, name, time.Minute, index)
					switch {
					case err == nil:
						mu.Lock()
						winners = append(winners, fmt.Sprintf("%s (token %d)", name, c.Lease.Token))
						mu.Unlock()
					case !errors.Is(err, migrate.ErrClaimed):
						t.Errorf("%s: Claim(%d): %v", name, index, err)
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		require.Len(t, winners, 1, "batch %d: the winners %v", index, winners)
	}
}

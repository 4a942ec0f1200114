package logstore_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/storetest"
)

// A reopened store knows every claim it answered: an expired claim with
// its last Expires (a renewal included), and tokens that go on from it.
func TestClaimsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{Clock: clk.Now}, 6, 2)
	c, err := st.Claim(ctx, "w1", time.Minute, 2)
	require.NoError(t, err)
	clk.Advance(30 * time.Second)
	renewed, err := st.Renew(ctx, c.Lease, time.Minute)
	require.NoError(t, err)
	b := c.Batch
	b.State = migrate.StateSending
	require.NoError(t, st.SaveClaimed(ctx, renewed, &b, nil))
	r, err := st.Claim(ctx, "w1", time.Minute, 3)
	require.NoError(t, err)
	require.NoError(t, st.Release(ctx, r.Lease))
	require.NoError(t, st.Close()) // the process dies with its claim of batch 2 live

	st2, err := logstore.Open(path, logstore.Options{Clock: clk.Now})
	require.NoError(t, err)
	defer func() { _ = st2.Close() }()
	l, err := st2.LeaseOf(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, renewed.Token, l.Token)
	assert.Equal(t, "w1", l.Worker)
	assert.True(t, renewed.Expires.Equal(l.Expires), "the renewed Expires %v, reopened %v", renewed.Expires, l.Expires)
	_, err = st2.Claim(ctx, "w2", time.Minute, 2)
	assert.ErrorIs(t, err, migrate.ErrClaimed, "the claim is still live after a reopen")
	l3, err := st2.LeaseOf(ctx, 3)
	require.NoError(t, err)
	assert.True(t, clk.Now().Equal(l3.Expires), "a released claim's Expires is its release")

	clk.Advance(time.Minute)
	c2, err := st2.Claim(ctx, "w2", time.Minute, 2)
	require.NoError(t, err)
	assert.Greater(t, c2.Lease.Token, renewed.Token)
	assert.Equal(t, renewed.Token, c2.Previous.Token)
	assert.True(t, renewed.Expires.Equal(c2.Previous.Expires), "Previous keeps the renewed Expires")
	assert.Equal(t, migrate.StateSending, c2.Batch.State)
}

// Compaction keeps every batch's claim, and a store's claims follow it
// through a compaction made by AddBatches too.
func TestClaimsSurviveCompaction(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{Clock: clk.Now}, 6, 2)
	c, err := st.Claim(ctx, "w1", time.Minute, 1)
	require.NoError(t, err)
	// Many renewals: the log outgrows its live state.
	l := c.Lease
	for range 2000 {
		l, err = st.Renew(ctx, l, time.Minute)
		require.NoError(t, err)
	}
	assert.Less(t, st.Size(), int64(200<<10), "renewals are compacted away")
	require.NoError(t, st.Compact(ctx))
	m, err := st.Meta(ctx)
	require.NoError(t, err)
	m.Input.Numbers = 0
	require.NoError(t, st.AddBatchesIf(ctx, 3, m, migrate.Batches(numbersFrom(100, 2), 2)))
	got, err := st.LeaseOf(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, l, got)
	require.NoError(t, st.Close())

	st2, err := logstore.Open(path, logstore.Options{Clock: clk.Now})
	require.NoError(t, err)
	defer func() { _ = st2.Close() }()
	got, err = st2.LeaseOf(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, l.Token, got.Token)
	assert.True(t, l.Expires.Equal(got.Expires))
	assert.NoError(t, st2.SaveClaimed(ctx, l, &c.Batch, nil), "the holder's claim is still live after the compactions")
	got4, err := st2.LeaseOf(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, migrate.Lease{}, got4)
}

// A claim record whose token goes back is damage: a record out of order.
func TestClaimTokenGoingBackIsDamage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 2, 2)
	c, err := st.Claim(ctx, "w1", time.Minute, 1)
	require.NoError(t, err)
	require.NoError(t, st.Release(ctx, c.Lease))
	_, err = st.Claim(ctx, "w1", time.Minute, 1)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	var claims []int
	for i, l := range lines {
		if strings.Contains(l, `"k":"claim"`) {
			claims = append(claims, i)
		}
	}
	require.Len(t, claims, 3)
	// The claim of token 2 before the release of token 1.
	lines[claims[1]], lines[claims[2]] = lines[claims[2]], lines[claims[1]]
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)) //nolint:gosec // the test's own temporary file
	_, err = logstore.Open(path, logstore.Options{})
	var le *logstore.Error
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Contains(t, le.Msg, "from claim 2 back to 1")
	assert.Equal(t, claims[2]+1, le.Line, "the line of the record that goes back")
}

// A claim record must name a worker and a token.
func TestUnusableClaimIsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.log")
	st := started(t, path, logstore.Options{}, 2, 2)
	require.NoError(t, st.Close())
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(recordlog.Frame([]byte(`{"k":"claim","b":1,"l":{"w":"","t":0,"e":"2026-12-05T12:00:00Z"}}`)))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = logstore.Open(path, logstore.Options{})
	var le *logstore.Error
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Contains(t, le.Msg, "an unusable claim of batch 1")
}

// numbersFrom yields n numbers from the first-th on.
func numbersFrom(first, n int) iter.Seq2[migrate.NumberState, error] {
	return func(yield func(migrate.NumberState, error) bool) {
		for i := range n {
			ns := migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: fmt.Sprintf("+1415%07d", 5550000+first+i)}, Line: first + i + 2}
			if !yield(ns, nil) {
				return
			}
		}
	}
}

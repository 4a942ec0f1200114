package pgstore_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

func ecID(n int) string { return fmt.Sprintf("EC%032x", n) }

func eligibleOf(id string, phones []string, reason string) []preflight.NumberResult {
	out := make([]preflight.NumberResult, len(phones))
	for i, p := range phones {
		out[i] = preflight.NumberResult{PhoneNumber: p, Status: preflight.StatusIneligible, RawStatus: "INELIGIBLE", Reason: reason, RequestID: id}
	}
	return out
}

// Two stores on one migration, each with its own connections (two
// processes), record and end checks at once: no record is lost. Of the
// two ending one check at once, exactly one records its results, and
// only its results are recorded.
func TestChecksFromTwoProcesses(t *testing.T) {
	ctx := testCtx(t)
	a := started(t, 4, 2)
	b := open(t, pgstore.Options{Schema: a.Schema()})
	stores := []*pgstore.Store{a, b}

	const each = 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for w, st := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				n := w*each + k
				id := ecID(n + 1)
				ps := []string{phone(2 * n), phone(2*n + 1)}
				if err := st.RecordCheck(ctx, preflight.Check{RequestID: id, PhoneNumbers: ps}); err != nil {
					errs <- err
					return
				}
				if err := st.RecordResults(ctx, id, eligibleOf(id, ps, "first")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var all []string
	for i := range 2 * each * 2 {
		all = append(all, phone(i))
	}
	got, err := b.Results(ctx, all)
	require.NoError(t, err)
	assert.Len(t, got, len(all), "every result of both")

	for round := range 20 {
		id := ecID(1000 + round)
		ps := []string{phone(0), phone(1)}
		require.NoError(t, a.RecordCheck(ctx, preflight.Check{RequestID: id, PhoneNumbers: ps}))
		var mu sync.Mutex
		var won []int
		var race sync.WaitGroup
		for w, st := range stores {
			race.Add(1)
			go func() {
				defer race.Done()
				if st.RecordResults(ctx, id, eligibleOf(id, ps, fmt.Sprintf("worker %d", w))) == nil {
					mu.Lock()
					won = append(won, w)
					mu.Unlock()
				}
			}()
		}
		race.Wait()
		require.Len(t, won, 1, "round %d: exactly one ends the check", round)
		got, err := a.Results(ctx, ps)
		require.NoError(t, err)
		for _, p := range ps {
			require.Equal(t, fmt.Sprintf("worker %d", won[0]), got[p].Reason, "round %d: the winner's results, only", round)
		}
		pending, err := b.PendingChecks(ctx)
		require.NoError(t, err)
		require.Empty(t, pending)
	}
}

// The checks are the migration's: without one, nothing is recorded, and
// stores of other migrations on one schema do not see each other's.
func TestChecksBelongToTheMigration(t *testing.T) {
	ctx := testCtx(t)
	schema := freshSchema(t)
	none := open(t, pgstore.Options{Schema: schema})
	err := none.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: []string{phone(0)}})
	require.ErrorIs(t, err, migrate.ErrNoMigration)

	a := open(t, pgstore.Options{Schema: schema, Migration: "a"})
	b := open(t, pgstore.Options{Schema: schema, Migration: "b"})
	for _, st := range []*pgstore.Store{a, b} {
		require.NoError(t, st.Start(ctx, testMeta(2), migrate.Batches(numbers(0, 2), 2)))
	}
	require.NoError(t, a.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: []string{phone(0)}}))
	require.NoError(t, b.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: []string{phone(1)}}), "one request ID in two migrations")
	require.NoError(t, a.RecordResults(ctx, ecID(1), eligibleOf(ecID(1), []string{phone(0)}, "a")))
	pending, err := b.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Equal(t, []preflight.Check{{RequestID: ecID(1), PhoneNumbers: []string{phone(1)}}}, pending)
	got, err := b.Results(ctx, []string{phone(0)})
	require.NoError(t, err)
	assert.Empty(t, got, "a's results are not b's")
}

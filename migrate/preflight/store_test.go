package preflight_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
	"github.com/hostednumbers/hostednumbers-go/migrate/storetest"
)

func TestMemoryStoreContract(t *testing.T) {
	var s preflight.MemoryStore // the zero value is ready
	storeContract(t, &s)
}

func TestMemoryStoreContextEnded(t *testing.T) {
	s := preflight.NewMemoryStore()
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := s.Results(ctx, nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.PendingChecks(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.RecordCheck(ctx, preflight.Check{RequestID: requestID(1), PhoneNumbers: []string{"+14155550100"}}), context.Canceled)
	require.ErrorIs(t, s.RecordResults(ctx, requestID(1), nil), context.Canceled)
	pending, err := s.PendingChecks(testCtx(t))
	require.NoError(t, err)
	assert.Empty(t, pending)
}

// Many goroutines record and read at once (run with -race).
func TestMemoryStoreConcurrentUse(t *testing.T) {
	ctx := testCtx(t)
	s := preflight.NewMemoryStore()
	const workers, perWorker = 8, 50
	recordConcurrently(ctx, t, s, workers, perWorker)
	assertAllRecorded(ctx, t, s, workers*perWorker)
}

func TestStatusValid(t *testing.T) {
	for _, s := range []preflight.Status{preflight.StatusEligible, preflight.StatusIneligible, preflight.StatusUnknown, preflight.StatusNotChecked} {
		assert.True(t, s.Valid(), s)
	}
	assert.False(t, preflight.Status("").Valid())
	assert.False(t, preflight.Status("ELIGIBLE").Valid())
	assert.True(t, preflight.NumberResult{Status: preflight.StatusEligible}.Submittable())
	for _, s := range []preflight.Status{preflight.StatusIneligible, preflight.StatusUnknown, preflight.StatusNotChecked, ""} {
		assert.False(t, preflight.NumberResult{Status: s}.Submittable(), s)
	}
}

// recordConcurrently has workers goroutines record and read perWorker
// checks each on s at once (run with -race), check n numbered from 1 for
// number +1415555n, each ended with an eligible result.
func recordConcurrently(ctx context.Context, t *testing.T, s preflight.Store, workers, perWorker int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				n := w*perWorker + i
				id := requestID(n + 1)
				phone := fmt.Sprintf("+1415555%04d", n)
				if err := s.RecordCheck(ctx, preflight.Check{RequestID: id, PhoneNumbers: []string{phone}}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.PendingChecks(ctx); err != nil {
					t.Error(err)
					return
				}
				if err := s.RecordResults(ctx, id, []preflight.NumberResult{{PhoneNumber: phone, Status: preflight.StatusEligible, RequestID: id}}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Results(ctx, []string{phone}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// assertAllRecorded checks that s holds what recordConcurrently recorded
// for n numbers: no check pending, and a result for every number.
func assertAllRecorded(ctx context.Context, t *testing.T, s preflight.Store, n int) {
	t.Helper()
	pending, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
	all := make([]string, n)
	for i := range all {
		all[i] = fmt.Sprintf("+1415555%04d", i)
	}
	results, err := s.Results(ctx, all)
	require.NoError(t, err)
	assert.Len(t, results, n)
}

// MemoryStore follows the contract suite of preflight.Store.
func TestMemoryStoreRunChecks(t *testing.T) {
	storetest.RunChecks(t, func(*testing.T) preflight.Store { return preflight.NewMemoryStore() })
}

// And so does FileStore.
func TestFileStoreRunChecks(t *testing.T) {
	storetest.RunChecks(t, func(t *testing.T) preflight.Store {
		s, err := preflight.OpenFileStore(filepath.Join(t.TempDir(), "checks"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

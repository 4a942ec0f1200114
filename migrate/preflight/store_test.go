package preflight_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

func TestMemoryStoreContract(t *testing.T) {
	ctx := testCtx(t)
	var s preflight.MemoryStore // the zero value is ready
	a, b := requestID(1), requestID(2)

	results, err := s.Results(ctx, []string{"+14155550100"})
	require.NoError(t, err)
	assert.Empty(t, results)

	require.Error(t, s.RecordCheck(ctx, preflight.Check{RequestID: "EC123", PhoneNumbers: []string{"+14155550100"}}), "not an EC SID")
	require.Error(t, s.RecordCheck(ctx, preflight.Check{RequestID: a}), "no numbers")
	phones := []string{"+14155550100", "+14155550101"}
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: a, PhoneNumbers: phones}))
	require.Error(t, s.RecordCheck(ctx, preflight.Check{RequestID: a, PhoneNumbers: phones}), "already pending")
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: b, PhoneNumbers: []string{"+14155550102"}}))
	phones[0] = "+19999999999" // the store keeps its own copy

	pending, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 2, "oldest first")
	assert.Equal(t, preflight.Check{RequestID: a, PhoneNumbers: []string{"+14155550100", "+14155550101"}}, pending[0])
	assert.Equal(t, b, pending[1].RequestID)
	pending[0].PhoneNumbers[0] = "+18888888888" // and returns copies
	again, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Equal(t, "+14155550100", again[0].PhoneNumbers[0])

	eligible := preflight.NumberResult{PhoneNumber: "+14155550100", Status: preflight.StatusEligible, RawStatus: "ELIGIBLE", RequestID: a}
	require.Error(t, s.RecordResults(ctx, requestID(3), nil), "not pending")
	require.Error(t, s.RecordResults(ctx, a, []preflight.NumberResult{eligible, {PhoneNumber: "+14155550101", Status: "maybe"}}), "invalid status")
	require.Error(t, s.RecordResults(ctx, a, []preflight.NumberResult{{Status: preflight.StatusEligible}}), "no phone number")
	results, err = s.Results(ctx, []string{"+14155550100"})
	require.NoError(t, err)
	assert.Empty(t, results, "a refused RecordResults records nothing")

	require.NoError(t, s.RecordResults(ctx, a, []preflight.NumberResult{eligible}))
	pending, err = s.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, b, pending[0].RequestID)
	require.Error(t, s.RecordResults(ctx, a, nil), "ended once")

	results, err = s.Results(ctx, []string{"+14155550100", "+14155550101", "+14155550102"})
	require.NoError(t, err)
	assert.Equal(t, map[string]preflight.NumberResult{"+14155550100": eligible}, results)

	// A later result replaces an earlier one; a check without results
	// keeps what was recorded.
	c := requestID(4)
	require.NoError(t, s.RecordCheck(ctx, preflight.Check{RequestID: c, PhoneNumbers: []string{"+14155550100"}}))
	newer := preflight.NumberResult{PhoneNumber: "+14155550100", Status: preflight.StatusIneligible, RawStatus: "INELIGIBLE", Reason: "R", NextStep: "N", RequestID: c}
	require.NoError(t, s.RecordResults(ctx, c, []preflight.NumberResult{newer}))
	require.NoError(t, s.RecordResults(ctx, b, nil))
	results, err = s.Results(ctx, []string{"+14155550100", "+14155550102"})
	require.NoError(t, err)
	assert.Equal(t, map[string]preflight.NumberResult{"+14155550100": newer}, results)
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
	pending, err := s.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
	all := make([]string, workers*perWorker)
	for n := range all {
		all[n] = fmt.Sprintf("+1415555%04d", n)
	}
	results, err := s.Results(ctx, all)
	require.NoError(t, err)
	assert.Len(t, results, workers*perWorker)
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

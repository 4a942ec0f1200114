package migrate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestApplyInputRefusesRemovingSubmittedOrChangingSettings(t *testing.T) {
	e := newEnv(t, 5, 5, nil)
	e.untilFinished(2, nil)
	changed := e.phones[1:]
	input := func() iter.Seq2[NumberState, error] {
		return func(yield func(NumberState, error) bool) {
			for i, p := range changed {
				n := NumberState{Number: hostednumbers.Number{PhoneNumber: p}, Line: i + 2}
				if i == 0 {
					n.Number.FriendlyName = "renamed"
				}
				if !yield(n, nil) {
					return
				}
			}
		}
	}
	_, err := ApplyInput(e.ctx, e.store, Input{Name: "changed"}, input)
	var ice *InputChangeError
	require.ErrorAs(t, err, &ice)
	assert.Equal(t, []string{e.phones[0]}, ice.RemovedSubmitted)
	assert.Equal(t, []string{e.phones[1]}, ice.ChangedSettings)
	assert.Contains(t, err.Error(), "1 number submitted already is no longer in the input")
	assert.Contains(t, err.Error(), "1 number has other settings")
	many := &InputChangeError{RemovedSubmitted: e.phones, ChangedSettings: e.phones[:2]}
	assert.Contains(t, many.Error(), "5 numbers submitted already are no longer in the input (+14155550100, +14155550101, +14155550102, …)")
	assert.Contains(t, many.Error(), "2 numbers have other settings")
}

func TestApplyInputAddsWithdrawsAndRestores(t *testing.T) {
	e := newEnv(t, 3, 2, nil)
	more := append(append([]string{}, e.phones[:2]...), "+14155550900", "+14155550901", "+14155550902")
	ch, err := ApplyInput(e.ctx, e.store, Input{Name: "more"}, inputOf(more))
	require.NoError(t, err)
	assert.Equal(t, InputChanges{Added: 3, Withdrawn: 1}, ch)
	meta, err := e.store.Meta(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, meta.Batches)
	assert.Equal(t, "more", meta.Input.Name)
	e.phones = more
	e.untilFinished(2, nil)
	e.assertOncePerNumber()
	assert.Equal(t, StatusWithdrawn, e.statuses()[phones(3)[2]])
}

func TestSmallThings(t *testing.T) {
	se := &StepError{What: "submitting batch 2", Batch: 2, Err: errInjected}
	assert.Equal(t, "submitting batch 2: injected store failure", se.Error())
	assert.ErrorIs(t, se, errInjected)
	assert.True(t, StatePlanned.Known())
	assert.False(t, BatchState("other").Known())
	for _, s := range []string{"failed", "action-required", StatusRejected, StatusCheckFailed, StatusCanceled} {
		assert.True(t, NeedsAction(s), s)
	}
	assert.False(t, NeedsAction("completed"))
	assert.False(t, Final("action-required"), "live: followed")
	assert.True(t, Final("failed"))

	var d Duration
	require.NoError(t, d.UnmarshalText([]byte("1m30s")))
	text, err := d.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "1m30s", string(text))
	assert.Error(t, d.UnmarshalText([]byte("soon")))

	for state, want := range map[BatchState]string{StatePlanned: StatusNotSubmitted, StateRejected: StatusRejected,
		StateSending: StatusUnknown, StateAccepted: StatusSubmitted} {
		assert.Equal(t, map[string]int{want: 3}, batchCounts(&Batch{State: state, Size: 3}))
	}
	assert.Equal(t, 4*time.Minute+3*hostednumbers.DefaultMaxRetryAfter, legacyInFlight(time.Minute))

	assert.True(t, Transient(&hostednumbers.APIError{HTTPStatus: 503}))
	assert.True(t, Transient(&hostednumbers.APIError{HTTPStatus: 429}))
	assert.False(t, Transient(&hostednumbers.APIError{HTTPStatus: 404}))
	assert.False(t, Transient(&StepError{Err: errInjected}))
	assert.False(t, Transient(context.Canceled))
	assert.True(t, Transient(errors.New("connection reset")))

	assert.True(t, containsNumber("the number 14155550100 is bad", "+14155550100"))
	assert.False(t, containsNumber("the number 141555501001 is bad", "+14155550100"))
	assert.Equal(t, "[1 2 3 4 5] and 2 more", joinShort([]string{"1", "2", "3", "4", "5", "6", "7"}))
	assert.Equal(t, "", requestIDHint(""))
	assert.Nil(t, serverOffset(nil, time.Now()))
	assert.Nil(t, serverOffset(&hostednumbers.Response{Header: http.Header{"Date": {"yesterday"}}}, time.Now()))
}

func TestNewChecksItsOptions(t *testing.T) {
	_, err := New(Options{Client: API{Limits: hostednumbers.CallLimits{MaxRetries: -1}}, Settle: -1, Poll: -1, Concurrency: 65})
	var ve *hostednumbers.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, f := range []string{"client", "client.limits", "store", "settle", "poll", "concurrency"} {
		assert.Contains(t, err.Error(), f)
	}
	e := newEnv(t, 1, 1, nil)
	m := e.migrator(nil)
	o := m.Options(func(o *Options) { o.Concurrency = 3 })
	assert.Equal(t, 3, o.Concurrency)
	assert.Equal(t, DefaultConcurrency, m.Options(nil).Concurrency)
	assert.Equal(t, hostednumbers.DefaultCallLimits.MaxRetries, m.Options(nil).Client.Limits.MaxRetries)
}

// A create refused with a reason that names numbers is recorded with
// them, and the next run sends the batch again.
func TestARejectionNamesItsNumbers(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 400,
		Body: fmt.Sprintf(`{"code": 21422, "message": "Phone number %s is not valid", "status": 400}`, e.phones[1][1:])})
	res := e.submitOnce()
	assert.Equal(t, []int{1}, res.Rejected)
	b := e.batch(1)
	require.Equal(t, StateRejected, b.State)
	reason := b.Attempts[0].Reason
	require.NotNil(t, reason)
	assert.Equal(t, 21422, reason.Code)
	assert.Equal(t, []string{e.phones[1]}, reason.Numbers)
	assert.Equal(t, StatusRejected, e.statuses()[e.phones[0]])
	e.untilFinished(2, nil)
	e.assertOncePerNumber()
}

// The system clock's Sleep ends with its context.
func TestSystemClockSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, SystemClock{}.Sleep(ctx, time.Hour), context.Canceled)
	assert.NoError(t, SystemClock{}.Sleep(context.Background(), time.Nanosecond))
	assert.NoError(t, SystemClock{}.Sleep(context.Background(), 0))
}

// A batch left in doubt by a journal of an earlier version (its create
// recorded with only its attempt limit) is bounded by the SDK's defaults.
func TestALegacyCreateInFlightIsBounded(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	b := e.batch(1)
	sent := e.clock.Now().UTC()
	b.State = StateSending
	b.Attempts = []Attempt{{Kind: "create", Started: sent, Numbers: 2, AttemptTimeout: Duration(time.Second), Settle: Duration(time.Minute)}}
	require.NoError(t, e.store.SaveBatch(e.ctx, &b, nil))
	res := e.submitOnce()
	require.Equal(t, []int{1}, res.InDoubt)
	assert.Equal(t, sent.Add(legacyInFlight(time.Second)+time.Minute), e.batch(1).Doubt.WindowClosesAt)
}

// ApplyInput stopped between its steps (a save that fails) leaves a
// migration that a second ApplyInput brings to the same end.
func TestApplyInputResumesAfterAStop(t *testing.T) {
	e := newEnv(t, 4, 2, nil)
	changed := []string{e.phones[0], e.phones[2], "+14155550900"} // 2 and 4 withdrawn, one added
	e.store.failSave = func(b *Batch, _ []NumberState) error {
		if b.Index == 2 {
			return errInjected
		}
		return nil
	}
	_, err := ApplyInput(e.ctx, e.store, Input{Name: "changed"}, inputOf(changed))
	require.ErrorIs(t, err, errInjected)
	e.store.failSave = nil
	ch, err := ApplyInput(e.ctx, e.store, Input{Name: "changed"}, inputOf(changed))
	require.NoError(t, err)
	assert.Equal(t, InputChanges{Added: 1, Withdrawn: 1}, ch, "batch 1's withdrawal was recorded by the first")
	st := e.statuses()
	assert.Equal(t, StatusWithdrawn, st[e.phones[1]])
	assert.Equal(t, StatusWithdrawn, st[e.phones[3]])
	assert.Equal(t, StatusNotSubmitted, st["+14155550900"])
	meta, err := e.store.Meta(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, meta.Batches)
}

package migrate_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

func newStore(t *testing.T, n, size int) *logstore.Store {
	t.Helper()
	st, err := logstore.Open(filepath.Join(t.TempDir(), "m.log"), logstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	meta := migrate.Meta{BatchSize: size,
		Contact: migrate.Contact{Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef"}}
	require.NoError(t, st.Start(context.Background(), meta, migrate.Batches(someNumbers(n), size)))
	return st
}

func TestNewChecksOptions(t *testing.T) {
	_, err := migrate.New(migrate.Options{Settle: -1, Concurrency: 65})
	var ve *hostednumbers.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, f := range []string{"client", "store", "settle", "concurrency"} {
		assert.Contains(t, err.Error(), f)
	}
}

func TestBatches(t *testing.T) {
	var sizes []int
	for b, err := range migrate.Batches(someNumbers(2500), 1000) {
		require.NoError(t, err)
		sizes = append(sizes, len(b))
	}
	assert.Equal(t, []int{1000, 1000, 500}, sizes)
	boom := errors.New("boom")
	for _, err := range migrate.Batches(func(yield func(migrate.NumberState, error) bool) { yield(migrate.NumberState{}, boom) }, 10) {
		assert.ErrorIs(t, err, boom)
	}
}

type refuseNines struct{ calls int }

func (r *refuseNines) Check(_ context.Context, _ int, numbers []hostednumbers.Number) (map[string]string, error) {
	r.calls++
	out := map[string]string{}
	for _, n := range numbers {
		if n.PhoneNumber[len(n.PhoneNumber)-1] == '9' {
			out[n.PhoneNumber] = "not eligible"
		}
	}
	return out, nil
}

// The Checker runs before each batch; the numbers it refuses are recorded
// and never sent.
func TestCheckerRefusesNumbersBeforeTheyAreSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	st := newStore(t, 20, 10)
	check := &refuseNines{}
	var events []migrate.Event
	m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: st, Check: check, Wait: true, Poll: 10 * time.Millisecond,
		OnEvent: func(ev migrate.Event) { events = append(events, ev) }})
	require.NoError(t, err)
	res, err := m.Submit(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Submitted)
	assert.Equal(t, 2, check.calls)
	p, err := m.Follow(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"completed": 18, migrate.StatusCheckFailed: 2}, p.Counts)
	assert.True(t, p.Settled)
	for _, o := range srv.HostedNumberOrders() {
		assert.NotEqual(t, byte('9'), o.PhoneNumber[len(o.PhoneNumber)-1], "a refused number is never sent")
	}
	var kinds []migrate.EventKind
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	assert.Contains(t, kinds, migrate.EventChecked)
	assert.Contains(t, kinds, migrate.EventSubmitted)
}

// A save over a batch another worker changed first fails with
// ErrConflict; nothing is sent on a stale read.
func TestConflictingWorkers(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, 4, 2)
	b1, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	b2 := b1
	b1.State = migrate.StateSending
	require.NoError(t, st.SaveBatch(ctx, &b1, nil), "the first worker claims the batch")
	b2.State = migrate.StateSending
	assert.ErrorIs(t, st.SaveBatch(ctx, &b2, nil), migrate.ErrConflict, "the second is refused")
}

// Without Wait, a batch in doubt is returned, with when a run can settle
// it; nothing of it is sent again.
func TestSubmitReturnsDoubts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
	st := newStore(t, 4, 2)
	m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: st, Settle: time.Hour})
	require.NoError(t, err)
	res, err := m.Submit(ctx)
	require.NoError(t, err)
	assert.Len(t, res.InDoubt, 1, "the batch whose create failed")
	assert.Equal(t, 1, res.Submitted, "the other batch went on")
	assert.WithinDuration(t, time.Now().Add(time.Hour), res.ConclusiveAt, time.Minute)
	p, err := migrate.Summarize(ctx, st)
	require.NoError(t, err)
	assert.Equal(t, 1, p.States[migrate.StateUnknown])
	assert.Equal(t, 2, p.Counts[migrate.StatusUnknown])
}

func TestTransient(t *testing.T) {
	assert.True(t, migrate.Transient(&hostednumbers.APIError{HTTPStatus: 503}))
	assert.True(t, migrate.Transient(&hostednumbers.APIError{HTTPStatus: 429}))
	assert.False(t, migrate.Transient(&hostednumbers.APIError{HTTPStatus: 404}))
	assert.False(t, migrate.Transient(context.Canceled))
	assert.True(t, migrate.Transient(errors.New("connection reset")))
}

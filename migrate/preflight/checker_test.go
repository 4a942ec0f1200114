package preflight_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

var _ migrate.Checker = (*preflight.Checker)(nil)

func hnNumbers(phones ...string) []hn.Number {
	out := make([]hn.Number, len(phones))
	for i, p := range phones {
		out[i] = hn.Number{PhoneNumber: p}
	}
	return out
}

// The Checker refuses what the check does not call eligible, with why,
// names each check after its batch, checks a recorded number no more, and
// checks a forgotten one afresh, once.
func TestCheckerRefusesAndRemembers(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	c := &preflight.Checker{API: client.Eligibility, Store: preflight.NewMemoryStore(), Options: fastOptions(),
		Name: func(batch int) string { return "batch " + strconv.Itoa(batch) }}

	refused, err := c.Check(ctx, 1, hnNumbers("+14155550101", "+14155550109"))
	require.NoError(t, err)
	require.Len(t, refused, 1)
	assert.Contains(t, refused["+14155550109"], "not eligible")
	assert.Contains(t, refused["+14155550109"], "(eligibility check EC")
	require.Len(t, srv.BulkEligibilityChecks(), 1)
	assert.Equal(t, "batch 1", srv.BulkEligibilityChecks()[0].FriendlyName.String)

	_, err = c.Check(ctx, 1, hnNumbers("+14155550101", "+14155550109"))
	require.NoError(t, err)
	assert.Len(t, bulkCreates(t, srv), 1, "recorded results are not checked again")

	c.Forget("+14155550109")
	refused, err = c.Check(ctx, 2, hnNumbers("+14155550101", "+14155550109"))
	require.NoError(t, err)
	assert.Contains(t, refused, "+14155550109")
	creates := bulkCreates(t, srv)
	require.Len(t, creates, 2)
	assert.Equal(t, []string{"+14155550109"}, creates[1], "only the forgotten number is checked again")

	_, err = c.Check(ctx, 3, hnNumbers("+14155550109"))
	require.NoError(t, err)
	assert.Len(t, bulkCreates(t, srv), 2, "its new result counts from then on")
}

// A check that cannot be created refuses the whole batch with a
// *CheckError.
func TestCheckerFailureIsCheckError(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: bulkPath, Status: 400})
	c := &preflight.Checker{API: client.Eligibility, Store: preflight.NewMemoryStore(), Options: fastOptions()}
	refused, err := c.Check(ctx, 1, hnNumbers("+14155550101"))
	require.Error(t, err)
	assert.Nil(t, refused)
	var ce *preflight.CheckError
	require.True(t, errors.As(err, &ce), "%T", err)
	assert.Contains(t, err.Error(), "eligibility check: ")
	assert.NotNil(t, errors.Unwrap(err))
}

// Forget and Check may be called at once.
func TestCheckerForgetConcurrently(t *testing.T) {
	ctx := testCtx(t)
	_, client := newFake(t)
	c := &preflight.Checker{API: client.Eligibility, Store: preflight.NewMemoryStore(), Options: fastOptions()}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			phone := "+1415555010" + strconv.Itoa(i)
			c.Forget(phone)
			_, err := c.Check(ctx, i+1, hnNumbers(phone))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
}

func TestRefusalReason(t *testing.T) {
	const ec = "EC0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		r    preflight.NumberResult
		want string
	}{
		{preflight.NumberResult{Status: preflight.StatusIneligible, SubStatus: "ALREADY_IN_TWILIO", Reason: "R", NextStep: "N", RequestID: ec},
			"not eligible (ALREADY_IN_TWILIO): R; next step: N (eligibility check " + ec + ")"},
		{preflight.NumberResult{Status: preflight.StatusIneligible}, "not eligible"},
		{preflight.NumberResult{Status: preflight.StatusUnknown, RequestID: ec},
			`eligibility unknown: the check answered status "none"; not submitted on a guess (eligibility check ` + ec + ")"},
		{preflight.NumberResult{Status: preflight.StatusNotChecked},
			"eligibility not checked: the eligibility check gave no result for it; not submitted blind"},
	} {
		assert.Equal(t, tc.want, preflight.RefusalReason(tc.r))
	}
}

// A Run leaves alone a check pending in its store for other numbers: it
// is another Run's (in flight at once, as a pipelined engine runs them),
// which records its own results. Resuming it here would record them twice.
func TestRunLeavesOtherNumbersPendingChecksToTheirRun(t *testing.T) {
	ctx := testCtx(t)
	_, client := newFake(t)
	store := preflight.NewMemoryStore()
	other, err := client.Eligibility.CreateBulk(ctx, &hn.EligibilityParams{PhoneNumbers: []hn.EligibilityNumber{{PhoneNumber: "+14155550180"}}})
	require.NoError(t, err)
	require.NoError(t, store.RecordCheck(ctx, preflight.Check{RequestID: other.RequestID, PhoneNumbers: []string{"+14155550180"}}))

	res, err := preflight.Run(ctx, client.Eligibility, store, []preflight.Number{{PhoneNumber: "+14155550181"}}, fastOptions())
	require.NoError(t, err)
	assert.Zero(t, res.Resumed, "the other Run's check is not this one's")
	pending, err := store.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1, "still pending, for its own Run to finish")
	assert.Equal(t, other.RequestID, pending[0].RequestID)

	// A Run of its numbers (after a crash, say) resumes it.
	res, err = preflight.Run(ctx, client.Eligibility, store, []preflight.Number{{PhoneNumber: "+14155550180"}}, fastOptions())
	require.NoError(t, err)
	assert.Equal(t, 1, res.Resumed)
	pending, err = store.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
}

var _ migrate.ConcurrentChecker = (*preflight.Checker)(nil)

// Checks of several batches at once, on one store, each record their own
// checks and results: nothing is lost, nothing checked twice, nothing
// left pending. Run with -race.
func TestCheckerConcurrentChecks(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) preflight.Store{
		"memory": func(*testing.T) preflight.Store { return preflight.NewMemoryStore() },
		"file": func(t *testing.T) preflight.Store {
			s, err := preflight.OpenFileStore(t.TempDir() + "/checks")
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			srv, client := newFake(t)
			store := open(t)
			c := &preflight.Checker{API: client.Eligibility, Store: store, Options: fastOptions()}
			require.True(t, c.CheckConcurrently())
			const batches, size = 8, 30
			all := makeNumbers(batches * size)
			refused := make([]map[string]string, batches)
			errs := make([]error, batches)
			var wg sync.WaitGroup
			for b := range batches {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if b%3 == 0 {
						c.Forget(all[b*size].PhoneNumber) // Forget and Check at once
					}
					in := make([]hn.Number, size)
					for i := range in {
						in[i] = hn.Number{PhoneNumber: all[b*size+i].PhoneNumber}
					}
					refused[b], errs[b] = c.Check(ctx, b+1, in)
				}()
			}
			wg.Wait()
			for b := range batches {
				require.NoError(t, errs[b], "batch %d", b+1)
				want := 0
				for i := range size {
					if strings.HasSuffix(all[b*size+i].PhoneNumber, "9") {
						want++
						assert.Contains(t, refused[b], all[b*size+i].PhoneNumber)
					}
				}
				assert.Len(t, refused[b], want, "batch %d", b+1)
			}
			assert.Len(t, bulkCreates(t, srv), batches, "one check per batch, none twice")
			pending, err := store.PendingChecks(ctx)
			require.NoError(t, err)
			assert.Empty(t, pending)
			res, err := store.Results(ctx, phonesOf(all))
			require.NoError(t, err)
			assert.Len(t, res, len(all), "every result recorded")
		})
	}
}

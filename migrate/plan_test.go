package migrate

import (
	"context"
	"iter"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func numbersOf(list ...string) iter.Seq2[NumberState, error] {
	return func(yield func(NumberState, error) bool) {
		for i, p := range list {
			if !yield(NumberState{Number: hostednumbers.Number{PhoneNumber: p}, Line: i + 2}, nil) {
				return
			}
		}
	}
}

// Rule 5: the whole plan is checked before anything is stored, with the
// place of each problem.
func TestRuleStartChecksTheWholePlanFirst(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		meta    Meta
		numbers []string
		want    []PlanProblem
	}{
		{"twice in one batch", testMeta(3), []string{"+14155550100", "+14155550101", "+14155550100"},
			[]PlanProblem{{Index: 2, Batch: 1, Position: 3, Line: 4, PhoneNumber: "+14155550100", Field: "phone_number"}}},
		{"twice across batches", testMeta(2), []string{"+14155550100", "+14155550101", "+14155550102", "+14155550101"},
			[]PlanProblem{{Index: 3, Batch: 2, Position: 2, Line: 5, PhoneNumber: "+14155550101", Field: "phone_number"}}},
		{"not E.164", testMeta(2), []string{"+14155550100", "4155550101"},
			[]PlanProblem{{Index: 1, Batch: 1, Position: 2, Line: 3, PhoneNumber: "4155550101", Field: "phone_number"}}},
		{"batch too big", testMeta(1001), []string{"+14155550100"},
			[]PlanProblem{{Index: -1, Field: "batch_size"}}},
		{"no contact", Meta{BatchSize: 2}, []string{"+14155550100"},
			[]PlanProblem{{Index: -1, Field: "contact.email"}, {Index: -1, Field: "contact.address_sid"}}},
		{"empty", testMeta(2), nil, []PlanProblem{{Index: -1, Field: "numbers"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &memStore{}
			err := Start(ctx, st, tc.meta, numbersOf(tc.numbers...))
			var pe *PlanError
			require.ErrorAs(t, err, &pe)
			require.Len(t, pe.Problems, len(tc.want), "%v", err)
			for i, w := range tc.want {
				got := pe.Problems[i]
				assert.NotEmpty(t, got.Message)
				got.Message = ""
				assert.Equal(t, w, got)
			}
			_, err = st.Meta(ctx)
			assert.ErrorIs(t, err, ErrNoMigration, "nothing recorded")
		})
	}
}

func TestRuleStartRecordsAGoodPlan(t *testing.T) {
	st := &memStore{}
	require.NoError(t, Start(context.Background(), st, testMeta(2), numbersOf(phones(5)...)))
	meta, err := st.Meta(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, meta.Batches)
	assert.Equal(t, 5, meta.Input.Numbers)
}

// Batches alone (for a Store's Start) refuses a number listed twice too,
// and a Store then records nothing.
func TestRuleBatchesRefusesDuplicates(t *testing.T) {
	st := &memStore{}
	err := st.Start(context.Background(), testMeta(2), Batches(numbersOf("+14155550100", "+14155550101", "+14155550100"), 2))
	var pe *PlanError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), "listed twice; first as number 1 (line 2)")
	assert.Nil(t, st.meta)
}

// A number's first place is kept in 8 bytes; a position or line that
// does not fit is left out of the message, never told wrong.
func TestPlacePacksPositionAndLine(t *testing.T) {
	for _, tc := range []struct {
		index, line  int
		wantI, wantL int
		okI, okL     bool
		name         string
	}{
		{0, 2, 0, 2, true, true, "first number, line 2"},
		{999_999, 1_000_001, 999_999, 1_000_001, true, true, "a million"},
		{5, 0, 5, 0, true, false, "no line (not from a file)"},
		{math.MaxUint32 - 1, math.MaxUint32, math.MaxUint32 - 1, math.MaxUint32, true, true, "the largest kept"},
		{math.MaxUint32, math.MaxUint32 + 1, 0, 0, false, false, "beyond 32 bits"},
		{-1, -1, 0, 0, false, false, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlace(tc.index, tc.line)
			i, okI := p.index()
			l, okL := p.line()
			assert.Equal(t, tc.okI, okI)
			assert.Equal(t, tc.okL, okL)
			if okI {
				assert.Equal(t, tc.wantI, i)
			}
			if okL {
				assert.Equal(t, tc.wantL, l)
			}
		})
	}
	// Through Batches: the second of three numbers repeats at position 3,
	// line 4, naming the first's position and line.
	var pe *PlanError
	for _, err := range Batches(numbersOf("+14155550100", "+14155550101", "+14155550101"), 1000) {
		if err != nil {
			require.ErrorAs(t, err, &pe)
		}
	}
	require.NotNil(t, pe)
	require.Len(t, pe.Problems, 1)
	assert.Equal(t, "+14155550101 is listed twice; first as number 2 (line 3)", pe.Problems[0].Message)
	assert.Equal(t, 4, pe.Problems[0].Line)
}

// Rule 5 for ApplyInput: a number twice in the changed input, or a new
// number that is not E.164, is refused before anything is recorded.
func TestRuleApplyInputChecksTheAddedInputFirst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input []string
		field string
	}{
		{"a known number twice", []string{"+14155550100", "+14155550101", "+14155550100"}, "listed twice"},
		{"a new number twice", []string{"+14155550100", "+14155550101", "+14155550200", "+14155550200"}, "listed twice"},
		{"a bad new number", []string{"+14155550100", "+14155550101", "+0123"}, "E.164"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := &memStore{}
			require.NoError(t, Start(ctx, st, testMeta(2), numbersOf("+14155550100", "+14155550101", "+14155550102")))
			saves := st.saves
			_, err := ApplyInput(ctx, st, Input{Name: "changed"}, func() iter.Seq2[NumberState, error] { return numbersOf(tc.input...) })
			var pe *PlanError
			require.ErrorAs(t, err, &pe)
			assert.True(t, strings.Contains(err.Error(), tc.field), "%v", err)
			assert.Equal(t, saves, st.saves, "nothing recorded (+14155550102 is not withdrawn)")
			meta, _ := st.Meta(ctx)
			assert.Equal(t, 2, meta.Batches)
		})
	}
}

// Submit refuses a migration whose contact no create could carry, before
// anything is sent.
func TestRuleSubmitChecksTheMigrationFirst(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	e.store.meta.Contact.Email = "not an email"
	_, err := e.migrator(nil).Submit(e.ctx)
	var pe *PlanError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "contact.email", pe.Problems[0].Field)
	assert.Equal(t, 0, e.creates())
}

// inputOf returns an input of list, for ApplyInput.
func inputOf(list []string) func() iter.Seq2[NumberState, error] {
	return func() iter.Seq2[NumberState, error] { return statesOf(list) }
}

// Rule 10: a number put back into the input after its batch went without
// it is submitted by the next run.
func TestRuleARestoredNumberIsSubmitted(t *testing.T) {
	e := newEnv(t, 3, 3, nil)
	_, err := ApplyInput(e.ctx, e.store, Input{Name: "without"}, inputOf(e.phones[:2]))
	require.NoError(t, err)
	e.untilFinished(2, nil)
	assert.Equal(t, StatusWithdrawn, e.statuses()[e.phones[2]])

	ch, err := ApplyInput(e.ctx, e.store, Input{Name: "with"}, inputOf(e.phones))
	require.NoError(t, err)
	assert.Equal(t, 1, ch.Restored)
	e.untilFinished(2, nil)
	assert.Equal(t, "completed", e.statuses()[e.phones[2]])
	assert.Equal(t, 2, e.creates())
	e.assertOncePerNumber()
}

// A number of a batch in doubt may be at Twilio: removing it from the
// input is refused, and nothing is changed.
func TestRuleApplyInputNeverWithdrawsANumberOfABatchInDoubt(t *testing.T) {
	e := newEnv(t, 2, 2, nil)
	e.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
	require.Equal(t, []int{1}, e.submitOnce().InDoubt)
	saves := e.store.saves
	_, err := ApplyInput(e.ctx, e.store, Input{Name: "fewer"}, inputOf(e.phones[:1]))
	var ice *InputChangeError
	require.ErrorAs(t, err, &ice)
	assert.Equal(t, []string{e.phones[1]}, ice.RemovedSubmitted)
	assert.Equal(t, saves, e.store.saves)
}

func TestContactDifferencesAreTyped(t *testing.T) {
	was := Contact{Email: "a@example.com", AddressSID: testAddress, ContactTitle: "Owner"}
	now := was
	assert.Empty(t, was.Differences(now))
	now.Email, now.ContactTitle, now.NotificationEmail = "b@example.com", "", "n@example.com"
	assert.Equal(t, []Difference{
		{Field: ContactEmail, Was: "a@example.com", Now: "b@example.com"},
		{Field: ContactTitle, Was: "Owner", Now: ""},
		{Field: ContactNotificationEmail, Was: "", Now: "n@example.com"},
	}, was.Differences(now))
}

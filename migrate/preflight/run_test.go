package preflight_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// Numbers the fake says are already in Twilio are excluded with Twilio's
// reason and next step; every other number is submittable; everything is
// recorded in the store.
func TestRunReportsIneligibleWithReasonAndNextStep(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	store := preflight.NewMemoryStore()
	numbers := makeNumbers(25) // +14155550009, …0019 are ineligible
	var ev events
	opts := fastOptions()
	opts.OnEvent = ev.add
	opts.FriendlyName = "spring migration"

	res, err := preflight.Run(ctx, client.Eligibility, store, numbers, opts)
	require.NoError(t, err)
	require.Len(t, res.Numbers, 25)
	assert.Equal(t, 1, res.Created)
	assert.Zero(t, res.Resumed)
	assert.Zero(t, res.LostCreates)

	var wantSubmit []string
	for i, n := range res.Numbers {
		assert.Equal(t, numbers[i].PhoneNumber, n.PhoneNumber, "input order")
		assert.Regexp(t, `^EC[0-9a-f]{32}$`, n.RequestID)
		if strings.HasSuffix(n.PhoneNumber, "9") {
			assert.Equal(t, preflight.StatusIneligible, n.Status, n.PhoneNumber)
			assert.False(t, n.Submittable())
			assert.Equal(t, hn.EligibilityStatusIneligible, n.RawStatus)
			assert.Equal(t, hn.EligibilitySubStatusAlreadyInTwilio, n.SubStatus)
			assert.Equal(t, hostednumberstest.ReasonAlreadyInTwilioNotInUse, n.Reason)
			assert.Equal(t, hostednumberstest.NextStepContactSupportInventory, n.NextStep)
		} else {
			assert.Equal(t, preflight.StatusEligible, n.Status, n.PhoneNumber)
			assert.Empty(t, n.Reason)
			assert.Empty(t, n.NextStep)
			wantSubmit = append(wantSubmit, n.PhoneNumber)
		}
	}
	assert.Equal(t, wantSubmit, res.Submittable())
	excluded := res.Excluded()
	require.Len(t, excluded, 2)
	assert.Equal(t, "+14155550009", excluded[0].PhoneNumber)
	assert.Equal(t, "+14155550019", excluded[1].PhoneNumber)
	assert.Equal(t, 23, res.Count(preflight.StatusEligible))
	assert.Equal(t, 2, res.Count(preflight.StatusIneligible))

	recorded, err := store.Results(ctx, phonesOf(numbers))
	require.NoError(t, err)
	assert.Len(t, recorded, 25)
	assert.Equal(t, excluded[0], recorded["+14155550009"])
	pending, err := store.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)

	checks := srv.BulkEligibilityChecks()
	require.Len(t, checks, 1)
	assert.Equal(t, "spring migration", checks[0].FriendlyName.String)
	created := ev.of(preflight.EventCreated)
	require.Len(t, created, 1)
	assert.Equal(t, checks[0].RequestID, created[0].RequestID)
	assert.Equal(t, preflight.Event{Kind: preflight.EventCreated, RequestID: checks[0].RequestID, Chunk: 1, Chunks: 1, Numbers: 25, Attempt: 1}, created[0])
	finished := ev.of(preflight.EventFinished)
	require.Len(t, finished, 1)
	assert.Equal(t, 23, finished[0].Eligible)
	assert.Equal(t, 2, finished[0].Ineligible)
	assert.Zero(t, finished[0].NotAnswered)
	polled := ev.of(preflight.EventPolled)
	require.NotEmpty(t, polled)
	assert.Equal(t, hn.BulkEligibilityStatusSuccessful, polled[len(polled)-1].BulkStatus)
}

// 2500 numbers in chunks of 1000 make three bulk checks of 1000, 1000 and
// 500 numbers, every number in exactly one; the default chunk size is the
// API's limit; a smaller one splits further.
func TestRunSplitsIntoChunks(t *testing.T) {
	for _, tt := range []struct {
		name      string
		numbers   int
		chunkSize int
		want      []int
	}{
		{"2500 by 1000", 2500, 1000, []int{1000, 1000, 500}},
		{"2500 by default", 2500, 0, []int{1000, 1000, 500}},
		{"exactly 1000", 1000, 0, []int{1000}},
		{"1001", 1001, 0, []int{1000, 1}},
		{"20 by 7", 20, 7, []int{7, 7, 6}},
		{"1 by 1", 1, 1, []int{1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv, client := newFake(t)
			numbers := makeNumbers(tt.numbers)
			opts := fastOptions()
			opts.ChunkSize = tt.chunkSize
			res, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), numbers, opts)
			require.NoError(t, err)

			posts := bulkCreates(t, srv)
			var sizes []int
			var all []string
			for _, p := range posts {
				sizes = append(sizes, len(p))
				all = append(all, p...)
			}
			assert.Equal(t, tt.want, sizes)
			assert.Equal(t, phonesOf(numbers), all, "every number once, in order")
			assert.Equal(t, len(tt.want), res.Created)
			assert.Equal(t, tt.numbers/10, res.Count(preflight.StatusIneligible))
			assert.Zero(t, res.Count(preflight.StatusNotChecked))
		})
	}
}

// A second Run with the same store checks nothing it has results for:
// no request at all when nothing is new, one check of the new numbers
// when some are.
func TestRunChecksOnlyNumbersNotYetChecked(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	store := preflight.NewMemoryStore()
	numbers := makeNumbers(30)

	first, err := preflight.Run(ctx, client.Eligibility, store, numbers[:20], fastOptions())
	require.NoError(t, err)
	before := len(srv.Requests())

	again, err := preflight.Run(ctx, client.Eligibility, store, numbers[:20], fastOptions())
	require.NoError(t, err)
	assert.Equal(t, first.Numbers, again.Numbers)
	assert.Zero(t, again.Created)
	assert.Len(t, srv.Requests(), before, "nothing sent for numbers already checked")

	more, err := preflight.Run(ctx, client.Eligibility, store, numbers, fastOptions())
	require.NoError(t, err)
	posts := bulkCreates(t, srv)
	require.Len(t, posts, 2)
	assert.Equal(t, phonesOf(numbers[20:]), posts[1])
	assert.Equal(t, first.Numbers, more.Numbers[:20])
	assert.Equal(t, 3, more.Count(preflight.StatusIneligible))
}

// A crash after the request ID was recorded and before the results: the
// next Run with the same store waits for that check and makes no second
// one.
func TestRunResumesRecordedCheckAfterCrash(t *testing.T) {
	for _, tt := range []struct {
		name  string
		crash func(*faultyStore)
	}{
		{"store fails after recording", func(s *faultyStore) { s.failAfterRecordCheck = errors.New("disk gone") }},
		{"process panics after recording", func(s *faultyStore) { s.panicAfterRecordCheck = true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv, client := newFake(t)
			store := preflight.NewMemoryStore()
			crashing := &faultyStore{Store: store}
			tt.crash(crashing)
			numbers := makeNumbers(15)

			func() {
				defer func() { _ = recover() }()
				res, err := preflight.Run(ctx, client.Eligibility, crashing, numbers, fastOptions())
				require.Error(t, err)
				assert.Equal(t, 15, res.Count(preflight.StatusNotChecked), "never eligible without an answer")
				assert.Empty(t, res.Submittable())
			}()
			require.Len(t, bulkCreates(t, srv), 1)
			pending, err := store.PendingChecks(ctx)
			require.NoError(t, err)
			require.Len(t, pending, 1)
			assert.Equal(t, phonesOf(numbers), pending[0].PhoneNumbers)

			var ev events
			opts := fastOptions()
			opts.OnEvent = ev.add
			res, err := preflight.Run(ctx, client.Eligibility, store, numbers, opts)
			require.NoError(t, err)
			assert.Len(t, bulkCreates(t, srv), 1, "no second bulk check")
			assert.Equal(t, 1, res.Resumed)
			assert.Zero(t, res.Created)
			assert.Equal(t, 1, res.Count(preflight.StatusIneligible))
			assert.Equal(t, 14, res.Count(preflight.StatusEligible))
			for _, n := range res.Numbers {
				assert.Equal(t, pending[0].RequestID, n.RequestID)
			}
			resumed := ev.of(preflight.EventResuming)
			require.Len(t, resumed, 1)
			assert.Equal(t, pending[0].RequestID, resumed[0].RequestID)
			pending, err = store.PendingChecks(ctx)
			require.NoError(t, err)
			assert.Empty(t, pending)
		})
	}
}

// ctx ends while Run waits: the check stays recorded, Run reports every
// number not checked, and the next Run waits for the same check.
func TestRunWaitEndedByContextLeavesCheckRecorded(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t, hostednumberstest.WithStageDuration(200*time.Millisecond))
	store := preflight.NewMemoryStore()
	numbers := makeNumbers(12)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := fastOptions()
	opts.OnEvent = func(e preflight.Event) {
		if e.Kind == preflight.EventPolled {
			cancel()
		}
	}
	res, err := preflight.Run(runCtx, client.Eligibility, store, numbers, opts)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 12, res.Count(preflight.StatusNotChecked))
	assert.Equal(t, 1, res.Created)
	pending, err := store.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)

	res, err = preflight.Run(ctx, client.Eligibility, store, numbers, fastOptions())
	require.NoError(t, err)
	assert.Len(t, bulkCreates(t, srv), 1, "no second bulk check")
	assert.Equal(t, 1, res.Resumed)
	assert.Equal(t, 11, res.Count(preflight.StatusEligible))
	assert.Equal(t, 1, res.Count(preflight.StatusIneligible))
}

// The store fails to record the results: the check stays pending and the
// next Run fetches it again instead of creating it again.
func TestRunRecordResultsFailureKeepsCheckPending(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	store := preflight.NewMemoryStore()
	numbers := makeNumbers(5)
	boom := errors.New("write failed")

	res, err := preflight.Run(ctx, client.Eligibility, &faultyStore{Store: store, failBeforeRecordResult: boom}, numbers, fastOptions())
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 5, res.Count(preflight.StatusNotChecked))

	res, err = preflight.Run(ctx, client.Eligibility, store, numbers, fastOptions())
	require.NoError(t, err)
	assert.Len(t, bulkCreates(t, srv), 1)
	assert.Equal(t, 1, res.Resumed)
	assert.Equal(t, 5, res.Count(preflight.StatusEligible))
}

// A create refused with 429 (ErrNotApplied) is created again: two POSTs,
// one check on the server, no lost create.
func TestRunCreateNotCreatedIsCreatedAgain(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: bulkPath, Status: 429})
	var ev events
	opts := fastOptions()
	opts.OnEvent = ev.add

	res, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), makeNumbers(10), opts)
	require.NoError(t, err)
	assert.Len(t, bulkCreates(t, srv), 2)
	assert.Len(t, srv.BulkEligibilityChecks(), 1)
	assert.Zero(t, res.LostCreates)
	assert.Equal(t, 1, res.Created)
	assert.Equal(t, 9, res.Count(preflight.StatusEligible))
	failed := ev.of(preflight.EventCreateFailed)
	require.Len(t, failed, 1)
	assert.True(t, failed[0].Retry)
	assert.False(t, failed[0].OutcomeUnknown)
	assert.Equal(t, 1, failed[0].Attempt)
	assert.ErrorIs(t, failed[0].Err, hn.ErrNotApplied)
	assert.Equal(t, 2, ev.of(preflight.EventCreated)[0].Attempt)
}

// A create whose outcome is unknown is created again too (an orphan check
// is harmless), and counted.
func TestRunCreateOutcomeUnknownIsCreatedAgain(t *testing.T) {
	for _, tt := range []struct {
		name    string
		fault   hostednumberstest.Fault
		orphans int
	}{
		{"processed then dropped", hostednumberstest.Fault{Method: "POST", Path: bulkPath, ProcessThenDrop: true}, 1},
		{"connection dropped", hostednumberstest.Fault{Method: "POST", Path: bulkPath, DropConnection: true}, 0},
		{"server error", hostednumberstest.Fault{Method: "POST", Path: bulkPath, Status: 503}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv, client := newFake(t)
			srv.InjectFault(tt.fault)
			var ev events
			opts := fastOptions()
			opts.OnEvent = ev.add
			store := preflight.NewMemoryStore()

			res, err := preflight.Run(ctx, client.Eligibility, store, makeNumbers(10), opts)
			require.NoError(t, err)
			assert.Len(t, bulkCreates(t, srv), 2)
			checks := srv.BulkEligibilityChecks()
			assert.Len(t, checks, 1+tt.orphans)
			assert.Equal(t, 1, res.LostCreates)
			assert.Equal(t, 10, res.Count(preflight.StatusEligible)+res.Count(preflight.StatusIneligible))
			failed := ev.of(preflight.EventCreateFailed)
			require.Len(t, failed, 1)
			assert.True(t, failed[0].OutcomeUnknown)
			assert.True(t, failed[0].Retry)
			assert.ErrorIs(t, failed[0].Err, hn.ErrOutcomeUnknown)
			// The results come from the check that was recorded, never the orphan.
			last := checks[len(checks)-1].RequestID
			for _, n := range res.Numbers {
				assert.Equal(t, last, n.RequestID)
			}
		})
	}
}

// A create that keeps failing stops after CreateAttempts; nothing is
// recorded, every number is not checked, and the next Run creates the
// chunk again. A refusal that trying again cannot fix (400) is not tried
// again.
func TestRunCreateFailsForGood(t *testing.T) {
	t.Run("429 every time", func(t *testing.T) {
		ctx := testCtx(t)
		srv, client := newFake(t)
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: bulkPath, Status: 429, Count: 2})
		store := preflight.NewMemoryStore()
		opts := fastOptions()
		opts.CreateAttempts = 2

		res, err := preflight.Run(ctx, client.Eligibility, store, makeNumbers(10), opts)
		require.ErrorIs(t, err, hn.ErrNotApplied)
		assert.Contains(t, err.Error(), "attempt 2")
		assert.Len(t, bulkCreates(t, srv), 2)
		assert.Equal(t, 10, res.Count(preflight.StatusNotChecked))
		assert.Empty(t, res.Submittable())
		pending, err := store.PendingChecks(ctx)
		require.NoError(t, err)
		assert.Empty(t, pending)

		res, err = preflight.Run(ctx, client.Eligibility, store, makeNumbers(10), opts)
		require.NoError(t, err)
		assert.Len(t, bulkCreates(t, srv), 3)
		assert.Equal(t, 9, res.Count(preflight.StatusEligible))
	})
	t.Run("400 is not tried again", func(t *testing.T) {
		ctx := testCtx(t)
		srv, client := newFake(t)
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: bulkPath, Status: 400, Count: 5})
		var ev events
		opts := fastOptions()
		opts.OnEvent = ev.add
		res, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), makeNumbers(3), opts)
		require.ErrorIs(t, err, hn.ErrNotApplied)
		assert.Len(t, bulkCreates(t, srv), 1)
		assert.Equal(t, 3, res.Count(preflight.StatusNotChecked))
		require.Len(t, ev.of(preflight.EventCreateFailed), 1)
		assert.False(t, ev.of(preflight.EventCreateFailed)[0].Retry)
	})
}

// Once a later chunk's create fails for good, Run creates no further
// chunk but still waits for the checks it created; the next Run checks
// only what is left.
func TestRunLaterChunkFailsEarlierChunksStillFinish(t *testing.T) {
	ctx := testCtx(t)
	refuse := &hn.APIError{HTTPStatus: 400, Code: 21000, Message: "refused"}
	api := &mockAPI{create: func(call int, _ *hn.EligibilityParams) (*hn.BulkEligibility, error) {
		if call == 2 {
			return nil, errors.Join(refuse, hn.ErrNotApplied)
		}
		return nil, nil
	}}
	store := preflight.NewMemoryStore()
	numbers := makeNumbers(25)
	opts := fastOptions()
	opts.ChunkSize = 10

	res, err := preflight.Run(ctx, api, store, numbers, opts)
	require.ErrorIs(t, err, hn.ErrNotApplied)
	assert.Contains(t, err.Error(), "chunk 2 of 3")
	assert.Equal(t, 1, res.Created)
	for i, n := range res.Numbers {
		if i < 10 {
			assert.Equal(t, preflight.StatusEligible, n.Status, n.PhoneNumber)
		} else {
			assert.Equal(t, preflight.StatusNotChecked, n.Status, n.PhoneNumber)
		}
	}
	creates, _ := api.counts()
	assert.Equal(t, 2, creates, "chunk 3 is not created once chunk 2 failed")

	res, err = preflight.Run(ctx, api, store, numbers, opts)
	require.NoError(t, err)
	creates, _ = api.counts()
	assert.Equal(t, 4, creates, "the next Run creates the two chunks left")
	assert.Equal(t, 2, res.Created)
	assert.Equal(t, 25, res.Count(preflight.StatusEligible))
}

// A number the check gave no result for is not checked (never eligible)
// and is checked again by the next Run; an unknown status is not
// submittable and keeps its raw text; results for numbers not asked and
// second results are ignored.
func TestRunUnansweredAndUnknownStatuses(t *testing.T) {
	ctx := testCtx(t)
	numbers := makeNumbers(4) // …0000 answered ELIGIBLE twice (then INELIGIBLE), …0001 MAYBE_LATER, …0002 missing, …0003 no status
	stranger := hn.EligibilityResult{PhoneNumber: "+19995550000", Status: hn.EligibilityStatusEligible}
	api := &mockAPI{}
	api.create = func(call int, p *hn.EligibilityParams) (*hn.BulkEligibility, error) {
		if call > 1 {
			return nil, nil // the default: everything eligible
		}
		id := requestID(call)
		api.checks = map[string]*hn.BulkEligibility{id: {
			RequestID: id, Status: hn.BulkEligibilityStatusComplete,
			Results: hn.EligibilityResults{
				{PhoneNumber: numbers[0].PhoneNumber, Status: hn.EligibilityStatusEligible},
				stranger,
				{PhoneNumber: numbers[1].PhoneNumber, Status: "MAYBE_LATER", SubStatus: "PORTING", NextStep: hn.NullString{String: "WAIT", Valid: true}},
				{PhoneNumber: numbers[0].PhoneNumber, Status: hn.EligibilityStatusIneligible},
				{PhoneNumber: numbers[3].PhoneNumber},
			},
		}}
		return &hn.BulkEligibility{RequestID: id, Status: hn.BulkEligibilityStatusQueued}, nil
	}
	store := preflight.NewMemoryStore()
	var ev events
	opts := fastOptions()
	opts.OnEvent = ev.add

	res, err := preflight.Run(ctx, api, store, numbers, opts)
	require.NoError(t, err)
	got := map[string]preflight.NumberResult{}
	for _, n := range res.Numbers {
		got[n.PhoneNumber] = n
	}
	assert.Equal(t, preflight.StatusEligible, got[numbers[0].PhoneNumber].Status, "the first of two results counts")
	unknown := got[numbers[1].PhoneNumber]
	assert.Equal(t, preflight.StatusUnknown, unknown.Status)
	assert.Equal(t, hn.EligibilityStatus("MAYBE_LATER"), unknown.RawStatus)
	assert.Equal(t, hn.EligibilitySubStatus("PORTING"), unknown.SubStatus)
	assert.Equal(t, "WAIT", unknown.NextStep)
	assert.False(t, unknown.Submittable())
	assert.Equal(t, preflight.StatusNotChecked, got[numbers[2].PhoneNumber].Status)
	assert.Empty(t, got[numbers[2].PhoneNumber].RequestID)
	assert.Equal(t, preflight.StatusUnknown, got[numbers[3].PhoneNumber].Status)
	assert.Equal(t, []string{numbers[0].PhoneNumber}, res.Submittable())
	assert.Len(t, res.Excluded(), 3)

	recorded, err := store.Results(ctx, []string{stranger.PhoneNumber, numbers[2].PhoneNumber})
	require.NoError(t, err)
	assert.Empty(t, recorded, "no result for a number not asked, none for one not answered")
	finished := ev.of(preflight.EventFinished)
	require.Len(t, finished, 1)
	assert.Equal(t, preflight.Event{Kind: preflight.EventFinished, RequestID: requestID(1), Numbers: 4,
		BulkStatus: hn.BulkEligibilityStatusComplete, Eligible: 1, Unknown: 2, NotAnswered: 1}, finished[0])

	res, err = preflight.Run(ctx, api, store, numbers, opts)
	require.NoError(t, err)
	creates, _ := api.counts()
	assert.Equal(t, 2, creates)
	assert.Equal(t, preflight.StatusEligible, res.Numbers[2].Status, "checked again")
	assert.Equal(t, requestID(2), res.Numbers[2].RequestID)
	assert.Equal(t, preflight.StatusUnknown, res.Numbers[1].Status, "a recorded result is kept")
}

// A recorded check the API no longer knows (404) is dropped and its
// numbers are checked again in the same Run.
func TestRunForgetsCheckUnknownToAPI(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	store := preflight.NewMemoryStore()
	numbers := makeNumbers(3)
	ghost := requestID(0xdead)
	require.NoError(t, store.RecordCheck(ctx, preflight.Check{RequestID: ghost, PhoneNumbers: phonesOf(numbers)}))
	var ev events
	opts := fastOptions()
	opts.OnEvent = ev.add

	res, err := preflight.Run(ctx, client.Eligibility, store, numbers, opts)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Forgotten)
	assert.Equal(t, 1, res.Resumed)
	assert.Equal(t, 1, res.Created)
	assert.Len(t, bulkCreates(t, srv), 1)
	assert.Equal(t, 3, res.Count(preflight.StatusEligible))
	forgotten := ev.of(preflight.EventForgotten)
	require.Len(t, forgotten, 1)
	assert.Equal(t, ghost, forgotten[0].RequestID)
	assert.ErrorIs(t, forgotten[0].Err, hn.ErrNotFound)
	pending, err := store.PendingChecks(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
}

// A create that answers without a usable request ID may have made a check
// that cannot be followed: it counts as a lost create and is created
// again.
func TestRunCreateAnswerWithoutRequestID(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    *hn.BulkEligibility
	}{
		{"bad request ID", &hn.BulkEligibility{RequestID: "EC../../x", Status: hn.BulkEligibilityStatusQueued}},
		{"empty answer", &hn.BulkEligibility{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			api := &mockAPI{create: func(call int, _ *hn.EligibilityParams) (*hn.BulkEligibility, error) {
				if call == 1 {
					return tt.b, nil
				}
				return nil, nil
			}}
			res, err := preflight.Run(ctx, api, preflight.NewMemoryStore(), makeNumbers(2), fastOptions())
			require.NoError(t, err)
			assert.Equal(t, 1, res.LostCreates)
			assert.Equal(t, 2, res.Count(preflight.StatusEligible))
			assert.Equal(t, requestID(2), res.Numbers[0].RequestID)
		})
	}
}

// Bad input and bad options are refused with a typed error naming each
// field, before the store is read or anything is sent.
func TestRunValidation(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	store := preflight.NewMemoryStore()
	good := makeNumbers(2)
	for _, tt := range []struct {
		name    string
		api     preflight.API
		store   preflight.Store
		numbers []preflight.Number
		opts    preflight.Options
		fields  []string
	}{
		{"nil api and store", nil, nil, good, preflight.Options{}, []string{"api", "store"}},
		{"bad numbers", client.Eligibility, store, []preflight.Number{
			{PhoneNumber: ""},
			{PhoneNumber: "4155550100"},
			{PhoneNumber: "+14155550101", HostingAccountSID: "AC123"},
			{PhoneNumber: "+14155550101"},
		}, preflight.Options{}, []string{"numbers[0].phone_number", "numbers[1].phone_number", "numbers[2].hosting_account_sid", "numbers[3].phone_number"}},
		{"chunk too large", client.Eligibility, store, good, preflight.Options{ChunkSize: hn.MaxEligibilityNumbers + 1}, []string{"opts.ChunkSize"}},
		{"negative options", client.Eligibility, store, good, preflight.Options{ChunkSize: -1, CreateAttempts: -1, RetryDelay: -time.Second}, []string{"opts.ChunkSize", "opts.CreateAttempts", "opts.RetryDelay"}},
		{"friendly name not UTF-8", client.Eligibility, store, good, preflight.Options{FriendlyName: "\xff"}, []string{"opts.FriendlyName"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := preflight.Run(ctx, tt.api, tt.store, tt.numbers, tt.opts)
			require.ErrorIs(t, err, hn.ErrInvalidInput)
			var ve *hn.ValidationError
			require.ErrorAs(t, err, &ve)
			var fields []string
			for _, p := range ve.Problems {
				fields = append(fields, p.Field)
			}
			assert.Equal(t, tt.fields, fields)
			assert.Zero(t, res.Numbers)
		})
	}
	assert.Empty(t, srv.Requests(), "nothing sent")
}

// No numbers: nothing to check, nothing sent.
func TestRunNoNumbers(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	res, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), nil, fastOptions())
	require.NoError(t, err)
	assert.Empty(t, res.Numbers)
	assert.Empty(t, srv.Requests())
}

// A context already ended: nothing is sent, every number is not checked.
func TestRunContextAlreadyEnded(t *testing.T) {
	srv, client := newFake(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	res, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), makeNumbers(3), fastOptions())
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, res.Count(preflight.StatusNotChecked))
	assert.Empty(t, srv.Requests())
}

// ctx ends while Run waits to create a chunk again: Run returns at once,
// with ctx's error and the create's.
func TestRunContextEndsDuringRetryDelay(t *testing.T) {
	srv, client := newFake(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: bulkPath, Status: 429})
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	opts := fastOptions()
	opts.RetryDelay = time.Hour
	opts.OnEvent = func(e preflight.Event) {
		if e.Kind == preflight.EventCreateFailed {
			cancel()
		}
	}
	res, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), makeNumbers(3), opts)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, hn.ErrNotApplied)
	assert.Equal(t, 3, res.Count(preflight.StatusNotChecked))
	assert.Len(t, bulkCreates(t, srv), 1)
}

// Wait options are passed through: the caller's OnSnapshot sees every
// fetch, as EventPolled does, and the caller's options are not changed.
func TestRunPassesWaitOptionsThrough(t *testing.T) {
	ctx := testCtx(t)
	_, client := newFake(t)
	var snapshots []hn.BulkEligibilityStatus
	var ev events
	wait := &hn.EligibilityWaitOptions{
		PollInterval: time.Millisecond, MaxPollInterval: 5 * time.Millisecond,
		OnSnapshot: func(b *hn.BulkEligibility) { snapshots = append(snapshots, b.Status) },
	}
	keep := *wait
	opts := preflight.Options{Wait: wait, OnEvent: ev.add}
	_, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), makeNumbers(2), opts)
	require.NoError(t, err)
	require.NotEmpty(t, snapshots)
	assert.Equal(t, hn.BulkEligibilityStatusSuccessful, snapshots[len(snapshots)-1])
	var polled []hn.BulkEligibilityStatus
	for _, e := range ev.of(preflight.EventPolled) {
		polled = append(polled, e.BulkStatus)
	}
	assert.Equal(t, snapshots, polled)
	assert.Equal(t, keep.PollInterval, wait.PollInterval)
	assert.Equal(t, keep.MaxPollInterval, wait.MaxPollInterval)
}

// Runs over separate stores may share one client at once.
func TestRunConcurrentRuns(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	numbers := makeNumbers(40)
	errs := make(chan error, 4)
	results := make([]preflight.Result, 4)
	for i := range 4 {
		go func() {
			var err error
			results[i], err = preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), numbers[i*10:(i+1)*10], fastOptions())
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	assert.Len(t, bulkCreates(t, srv), 4)
	var all []string
	for _, r := range results {
		assert.Equal(t, 9, r.Count(preflight.StatusEligible))
		for _, n := range r.Numbers {
			all = append(all, n.PhoneNumber)
		}
	}
	assert.True(t, slices.Equal(phonesOf(numbers), all))
}

// Fetches that keep failing end the wait with an error; the check stays
// recorded and the next Run waits for it without creating another.
func TestRunWaitFailureLeavesCheckRecorded(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Path: bulkPath + "/", Status: 503, Count: 2})
	store := preflight.NewMemoryStore()
	opts := fastOptions()
	opts.Wait.MaxConsecutiveErrors = 2

	res, err := preflight.Run(ctx, client.Eligibility, store, makeNumbers(4), opts)
	require.ErrorIs(t, err, hn.ErrServer)
	assert.Contains(t, err.Error(), "a later Run waits for it")
	assert.Equal(t, 4, res.Count(preflight.StatusNotChecked))
	assert.Zero(t, srv.PendingFaults())
	pending, err := store.PendingChecks(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)

	res, err = preflight.Run(ctx, client.Eligibility, store, makeNumbers(4), opts)
	require.NoError(t, err)
	assert.Len(t, bulkCreates(t, srv), 1)
	assert.Equal(t, 1, res.Resumed)
	assert.Equal(t, 4, res.Count(preflight.StatusEligible))
}

// Each number's hosting account is sent with it; a number without one is
// sent without.
func TestRunSendsHostingAccount(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	const account = "ACfedcba9876543210fedcba9876543210"
	numbers := []preflight.Number{{PhoneNumber: "+14155550100", HostingAccountSID: account}, {PhoneNumber: "+14155550101"}}
	_, err := preflight.Run(ctx, client.Eligibility, preflight.NewMemoryStore(), numbers, fastOptions())
	require.NoError(t, err)
	var sent []hn.EligibilityParams
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == bulkPath {
			var p hn.EligibilityParams
			require.NoError(t, json.Unmarshal(r.Body, &p))
			sent = append(sent, p)
			assert.NotContains(t, string(r.Body), `"hosting_account_sid":""`)
		}
	}
	require.Len(t, sent, 1)
	assert.Equal(t, []hn.EligibilityNumber{{PhoneNumber: "+14155550100", HostingAccountSID: account}, {PhoneNumber: "+14155550101"}}, sent[0].PhoneNumbers)
	checks := srv.BulkEligibilityChecks()
	require.Len(t, checks, 1)
	assert.Equal(t, account, checks[0].Results[0].HostingAccountSID.String)
}

// readFailStore fails its reads.
type readFailStore struct {
	preflight.Store
	results, pending error
}

func (s readFailStore) Results(ctx context.Context, p []string) (map[string]preflight.NumberResult, error) {
	if s.results != nil {
		return nil, s.results
	}
	return s.Store.Results(ctx, p)
}

func (s readFailStore) PendingChecks(ctx context.Context) ([]preflight.Check, error) {
	if s.pending != nil {
		return nil, s.pending
	}
	return s.Store.PendingChecks(ctx)
}

// A store that cannot be read stops Run before anything is sent.
func TestRunStoreReadFails(t *testing.T) {
	ctx := testCtx(t)
	srv, client := newFake(t)
	boom := errors.New("database down")
	for _, s := range []readFailStore{
		{Store: preflight.NewMemoryStore(), results: boom},
		{Store: preflight.NewMemoryStore(), pending: boom},
	} {
		res, err := preflight.Run(ctx, client.Eligibility, s, makeNumbers(2), fastOptions())
		require.ErrorIs(t, err, boom)
		assert.Equal(t, 2, res.Count(preflight.StatusNotChecked))
	}
	assert.Empty(t, srv.Requests())
}

// The OpenAPI spells eligibility in lower case with hyphens, the examples
// in upper case: both are eligible or ineligible alike, and a status in
// neither spelling is unknown, never eligible, whoever builds the answer
// (here a mock, whose answers the SDK's decoder never folds).
func TestRunEligibilityInEitherSpellingAndUnknownNeverEligible(t *testing.T) {
	ctx := testCtx(t)
	numbers := makeNumbers(6)
	statuses := map[string]hn.EligibilityStatus{
		numbers[0].PhoneNumber: "eligible",
		numbers[1].PhoneNumber: "ELIGIBLE",
		numbers[2].PhoneNumber: "ineligible",
		numbers[3].PhoneNumber: "Ineligible",
		numbers[4].PhoneNumber: "eligible-pending-review",
		numbers[5].PhoneNumber: "ELIGIBLE_BY_MANUAL_PROCESS",
	}
	api := &mockAPI{decide: func(phone string) hn.EligibilityResult {
		return hn.EligibilityResult{PhoneNumber: phone, Status: statuses[phone], SubStatus: "already-in-twilio"}
	}}
	res, err := preflight.Run(ctx, api, preflight.NewMemoryStore(), numbers, fastOptions())
	require.NoError(t, err)
	want := []preflight.Status{
		preflight.StatusEligible, preflight.StatusEligible,
		preflight.StatusIneligible, preflight.StatusIneligible,
		preflight.StatusUnknown, preflight.StatusUnknown,
	}
	require.Len(t, res.Numbers, len(want))
	for i, n := range res.Numbers {
		assert.Equal(t, want[i], n.Status, "%s answered %q", n.PhoneNumber, statuses[n.PhoneNumber])
		assert.Equal(t, want[i] == preflight.StatusEligible, n.Submittable(), "%s", n.PhoneNumber)
	}
	assert.Equal(t, hn.EligibilityStatus("eligible-pending-review"), res.Numbers[4].RawStatus, "an unknown status keeps its raw text")
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// RunChecks checks every rule of preflight.Store on the stores open
// returns: the records of the eligibility checks that preflight.Run keeps
// while it checks a migration's numbers. Each call of open must return a
// new, empty store, ready to record checks (a migration store that
// records them only once a migration is started has it started), and
// register with t.Cleanup whatever closing it needs.
//
// The rules, one subtest each:
//   - An empty store has no pending check and no result.
//   - RecordCheck records a check that PendingChecks then lists, with its
//     numbers in order, oldest check first.
//   - RecordCheck refuses a request ID that is not EC and 32 hex digits,
//     one already pending, and a check without numbers, recording
//     nothing.
//   - RecordResults records the results and ends the check in one step:
//     PendingChecks no longer lists it, Results answers every field of
//     each result as recorded, and a number the results leave out keeps
//     its earlier result or stays without one. A newer result replaces an
//     older one. A number that is not E.164 (a check echoes what it was
//     sent) is kept by its text.
//   - RecordResults with no results ends the check (a check the API has
//     forgotten) and records nothing else.
//   - RecordResults refuses a check that is not pending (never recorded,
//     or ended already) and a result without a phone number or with an
//     invalid status, recording nothing: the check stays pending.
//   - What a read returns is the caller's copy.
//   - A context that has ended is refused by every method.
//   - Workers at once: goroutines recording and ending checks of
//     different numbers on one store lose no record, and two
//     preflight.Runs over different numbers at once each record their own
//     checks and results, leaving nothing pending.
func RunChecks(t *testing.T, open func(t *testing.T) preflight.Store) {
	t.Helper()
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, st preflight.Store)
	}{
		{"Empty", testChecksEmpty},
		{"RecordCheck", testRecordCheck},
		{"RecordCheckRefuses", testRecordCheckRefuses},
		{"RecordResults", testRecordResults},
		{"NoResults", testNoResults},
		{"RecordResultsRefuses", testRecordResultsRefuses},
		{"CallerOwnsCopies", testChecksCopies},
		{"ContextEnded", testChecksContext},
		{"WorkersAtOnce", testChecksAtOnce},
		{"RunsAtOnce", testRunsAtOnce},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := open(t)
			if st == nil {
				t.Fatal("open returned a nil store")
			}
			c.fn(t, st)
		})
	}
}

// ecID is the n-th test check's request ID.
func ecID(n int) string { return fmt.Sprintf("EC%032x", n) }

// phones returns the numbers from..to-1.
func phones(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, phone(i))
	}
	return out
}

// eligible returns an ELIGIBLE result of check id for each of ps.
func eligible(id string, ps []string) []preflight.NumberResult {
	out := make([]preflight.NumberResult, len(ps))
	for i, p := range ps {
		out[i] = preflight.NumberResult{PhoneNumber: p, Status: preflight.StatusEligible, RawStatus: hostednumbers.EligibilityStatusEligible, RequestID: id}
	}
	return out
}

func mustPending(ctx context.Context, t *testing.T, st preflight.Store) []preflight.Check {
	t.Helper()
	got, err := st.PendingChecks(ctx)
	if err != nil {
		t.Fatalf("PendingChecks: %v", err)
	}
	return got
}

func mustResults(ctx context.Context, t *testing.T, st preflight.Store, ps []string) map[string]preflight.NumberResult {
	t.Helper()
	got, err := st.Results(ctx, ps)
	if err != nil {
		t.Fatalf("Results: %v", err)
	}
	return got
}

func pendingIDs(cs []preflight.Check) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.RequestID
	}
	return out
}

func testChecksEmpty(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	if got := mustPending(ctx, t, st); len(got) != 0 {
		t.Fatalf("PendingChecks of an empty store = %v, want none", got)
	}
	if got := mustResults(ctx, t, st, phones(0, 3)); len(got) != 0 {
		t.Fatalf("Results of an empty store = %v, want none", got)
	}
	if got := mustResults(ctx, t, st, nil); len(got) != 0 {
		t.Fatalf("Results of no numbers = %v, want none", got)
	}
}

func testRecordCheck(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	checks := []preflight.Check{
		{RequestID: ecID(3), PhoneNumbers: []string{phone(5), phone(1), phone(9)}},
		{RequestID: ecID(1), PhoneNumbers: []string{phone(2)}},
		{RequestID: ecID(2), PhoneNumbers: phones(10, 20)},
	}
	for _, c := range checks {
		if err := st.RecordCheck(ctx, c); err != nil {
			t.Fatalf("RecordCheck %s: %v", c.RequestID, err)
		}
	}
	if got := mustPending(ctx, t, st); !reflect.DeepEqual(got, checks) {
		t.Fatalf("PendingChecks = %v, want %v (oldest first, numbers in order)", got, checks)
	}
	if got := mustResults(ctx, t, st, phones(0, 20)); len(got) != 0 {
		t.Fatalf("a pending check has no results yet: %v", got)
	}
	// Ending the middle one keeps the order of the others.
	if err := st.RecordResults(ctx, ecID(1), eligible(ecID(1), []string{phone(2)})); err != nil {
		t.Fatalf("RecordResults: %v", err)
	}
	if got := pendingIDs(mustPending(ctx, t, st)); !slices.Equal(got, []string{ecID(3), ecID(2)}) {
		t.Fatalf("PendingChecks after ending %s = %v", ecID(1), got)
	}
}

func testRecordCheckRefuses(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	ok := preflight.Check{RequestID: ecID(1), PhoneNumbers: phones(0, 2)}
	if err := st.RecordCheck(ctx, ok); err != nil {
		t.Fatalf("RecordCheck: %v", err)
	}
	for name, c := range map[string]preflight.Check{
		"empty request ID":      {PhoneNumbers: phones(3, 4)},
		"request ID not EC":     {RequestID: "BH" + strings.Repeat("0", 32), PhoneNumbers: phones(3, 4)},
		"request ID too short":  {RequestID: "EC0123", PhoneNumbers: phones(3, 4)},
		"request ID not hex":    {RequestID: "EC" + strings.Repeat("z", 32), PhoneNumbers: phones(3, 4)},
		"no numbers":            {RequestID: ecID(2)},
		"already pending":       {RequestID: ecID(1), PhoneNumbers: phones(3, 4)},
		"already pending, same": ok,
	} {
		if err := st.RecordCheck(ctx, c); err == nil {
			t.Errorf("RecordCheck with %s: no error", name)
		}
	}
	if got := mustPending(ctx, t, st); !reflect.DeepEqual(got, []preflight.Check{ok}) {
		t.Fatalf("a refused check changed the pending checks: %v", got)
	}
}

func testRecordResults(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	first := preflight.Check{RequestID: ecID(1), PhoneNumbers: append(phones(0, 4), "4155550100")}
	if err := st.RecordCheck(ctx, first); err != nil {
		t.Fatalf("RecordCheck: %v", err)
	}
	inel := preflight.NumberResult{PhoneNumber: phone(1), Status: preflight.StatusIneligible, RawStatus: hostednumbers.EligibilityStatusIneligible,
		SubStatus: "ALREADY_IN_TWILIO", Reason: "The number is already in Twilio — «déjà»", NextStep: "CONTACT_SUPPORT", RequestID: ecID(1)}
	unknown := preflight.NumberResult{PhoneNumber: phone(2), Status: preflight.StatusUnknown, RawStatus: "MAYBE", RequestID: ecID(1)}
	echoed := preflight.NumberResult{PhoneNumber: "4155550100", Status: preflight.StatusIneligible, RawStatus: hostednumbers.EligibilityStatusIneligible,
		SubStatus: "NUMBER_FORMAT_INELIGIBLE", RequestID: ecID(1)}
	results := []preflight.NumberResult{eligible(ecID(1), phones(0, 1))[0], inel, unknown, echoed} // phone(3) not answered
	if err := st.RecordResults(ctx, ecID(1), results); err != nil {
		t.Fatalf("RecordResults: %v", err)
	}
	if got := mustPending(ctx, t, st); len(got) != 0 {
		t.Fatalf("RecordResults did not end the check: %v", got)
	}
	want := map[string]preflight.NumberResult{phone(0): results[0], phone(1): inel, phone(2): unknown, "4155550100": echoed}
	if got := mustResults(ctx, t, st, append(phones(0, 5), "4155550100", "+4155550100")); !reflect.DeepEqual(got, want) {
		t.Fatalf("Results = %v\nwant %v", got, want)
	}

	// A second check of some of them: the newer result wins, a number
	// it does not answer for keeps its result.
	second := preflight.Check{RequestID: ecID(2), PhoneNumbers: phones(0, 4)}
	if err := st.RecordCheck(ctx, second); err != nil {
		t.Fatalf("RecordCheck: %v", err)
	}
	newer := eligible(ecID(2), []string{phone(1), phone(3)})
	if err := st.RecordResults(ctx, ecID(2), newer); err != nil {
		t.Fatalf("RecordResults: %v", err)
	}
	want[phone(1)], want[phone(3)] = newer[0], newer[1]
	if got := mustResults(ctx, t, st, append(phones(0, 5), "4155550100")); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a second check, Results = %v\nwant %v", got, want)
	}

	// A full check of a thousand numbers.
	big := phones(1000, 2000)
	if err := st.RecordCheck(ctx, preflight.Check{RequestID: ecID(3), PhoneNumbers: big}); err != nil {
		t.Fatalf("RecordCheck of 1000 numbers: %v", err)
	}
	if err := st.RecordResults(ctx, ecID(3), eligible(ecID(3), big)); err != nil {
		t.Fatalf("RecordResults of 1000 numbers: %v", err)
	}
	if got := mustResults(ctx, t, st, big); len(got) != len(big) || got[big[999]].RequestID != ecID(3) {
		t.Fatalf("Results of 1000 numbers: %d of them", len(got))
	}
}

func testNoResults(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	for i, c := range []preflight.Check{{RequestID: ecID(1), PhoneNumbers: phones(0, 2)}, {RequestID: ecID(2), PhoneNumbers: phones(0, 2)}} {
		if err := st.RecordCheck(ctx, c); err != nil {
			t.Fatalf("RecordCheck: %v", err)
		}
		if i == 0 {
			if err := st.RecordResults(ctx, c.RequestID, eligible(c.RequestID, phones(0, 1))); err != nil {
				t.Fatalf("RecordResults: %v", err)
			}
			continue
		}
		if err := st.RecordResults(ctx, c.RequestID, nil); err != nil {
			t.Fatalf("RecordResults with no results: %v", err)
		}
	}
	if got := mustPending(ctx, t, st); len(got) != 0 {
		t.Fatalf("RecordResults with no results did not end the check: %v", got)
	}
	got := mustResults(ctx, t, st, phones(0, 2))
	if len(got) != 1 || got[phone(0)].RequestID != ecID(1) {
		t.Fatalf("a check ended without results changed the results: %v", got)
	}
}

func testRecordResultsRefuses(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	c := preflight.Check{RequestID: ecID(1), PhoneNumbers: phones(0, 2)}
	if err := st.RecordCheck(ctx, c); err != nil {
		t.Fatalf("RecordCheck: %v", err)
	}
	good := eligible(ecID(1), phones(0, 2))
	for name, rs := range map[string][]preflight.NumberResult{
		"no phone number": {good[0], {Status: preflight.StatusEligible, RequestID: ecID(1)}},
		"invalid status":  {good[0], {PhoneNumber: phone(1), Status: "ELIGIBLE", RequestID: ecID(1)}},
		"no status":       {good[0], {PhoneNumber: phone(1), RequestID: ecID(1)}},
	} {
		if err := st.RecordResults(ctx, ecID(1), rs); err == nil {
			t.Errorf("RecordResults with %s: no error", name)
		}
	}
	if err := st.RecordResults(ctx, ecID(9), good); err == nil {
		t.Error("RecordResults of a check never recorded: no error")
	}
	if got := mustPending(ctx, t, st); !reflect.DeepEqual(got, []preflight.Check{c}) {
		t.Fatalf("a refused RecordResults changed the pending checks: %v", got)
	}
	if got := mustResults(ctx, t, st, phones(0, 2)); len(got) != 0 {
		t.Fatalf("a refused RecordResults recorded results: %v", got)
	}
	if err := st.RecordResults(ctx, ecID(1), good); err != nil {
		t.Fatalf("RecordResults: %v", err)
	}
	if err := st.RecordResults(ctx, ecID(1), eligible(ecID(1), phones(0, 1))); err == nil {
		t.Error("RecordResults of a check ended already: no error")
	}
}

func testChecksCopies(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	ps := phones(0, 3)
	if err := st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: ps}); err != nil {
		t.Fatalf("RecordCheck: %v", err)
	}
	ps[0] = phone(99) // the caller's slice, changed after the call
	got := mustPending(ctx, t, st)
	if len(got) != 1 || !slices.Equal(got[0].PhoneNumbers, phones(0, 3)) {
		t.Fatalf("the store kept the caller's slice: %v", got)
	}
	got[0].PhoneNumbers[1] = phone(98)
	got[0].RequestID = ecID(7)
	if again := mustPending(ctx, t, st); !slices.Equal(again[0].PhoneNumbers, phones(0, 3)) || again[0].RequestID != ecID(1) {
		t.Fatalf("changing what PendingChecks returned changed the store: %v", again)
	}
	rs := eligible(ecID(1), phones(0, 3))
	if err := st.RecordResults(ctx, ecID(1), rs); err != nil {
		t.Fatalf("RecordResults: %v", err)
	}
	rs[0].Status = preflight.StatusIneligible
	res := mustResults(ctx, t, st, phones(0, 3))
	if res[phone(0)].Status != preflight.StatusEligible {
		t.Fatalf("the store kept the caller's results: %v", res[phone(0)])
	}
	delete(res, phone(1))
	if again := mustResults(ctx, t, st, phones(0, 3)); len(again) != 3 {
		t.Fatalf("changing what Results returned changed the store: %v", again)
	}
}

func testChecksContext(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	if err := st.RecordCheck(ctx, preflight.Check{RequestID: ecID(1), PhoneNumbers: phones(0, 1)}); err != nil {
		t.Fatalf("RecordCheck: %v", err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Results(ended, phones(0, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Results with an ended context: %v, want context.Canceled", err)
	}
	if _, err := st.PendingChecks(ended); !errors.Is(err, context.Canceled) {
		t.Errorf("PendingChecks with an ended context: %v, want context.Canceled", err)
	}
	if err := st.RecordCheck(ended, preflight.Check{RequestID: ecID(2), PhoneNumbers: phones(1, 2)}); !errors.Is(err, context.Canceled) {
		t.Errorf("RecordCheck with an ended context: %v, want context.Canceled", err)
	}
	if err := st.RecordResults(ended, ecID(1), eligible(ecID(1), phones(0, 1))); !errors.Is(err, context.Canceled) {
		t.Errorf("RecordResults with an ended context: %v, want context.Canceled", err)
	}
	if got := pendingIDs(mustPending(ctx, t, st)); !slices.Equal(got, []string{ecID(1)}) {
		t.Fatalf("calls with an ended context changed the pending checks: %v", got)
	}
	if got := mustResults(ctx, t, st, phones(0, 2)); len(got) != 0 {
		t.Fatalf("calls with an ended context recorded results: %v", got)
	}
}

func testChecksAtOnce(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	const workers, each, size = 4, 5, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				n := w*each + k
				ps := phones(n*size, (n+1)*size)
				id := ecID(n + 1)
				if err := st.RecordCheck(ctx, preflight.Check{RequestID: id, PhoneNumbers: ps}); err != nil {
					errs <- fmt.Errorf("RecordCheck %s: %w", id, err)
					return
				}
				if k%2 == 1 {
					continue // left pending
				}
				if err := st.RecordResults(ctx, id, eligible(id, ps)); err != nil {
					errs <- fmt.Errorf("RecordResults %s: %w", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var wantPending []string
	for n := range workers * each {
		if n%each%2 == 1 {
			wantPending = append(wantPending, ecID(n+1))
		}
	}
	got := pendingIDs(mustPending(ctx, t, st))
	slices.Sort(got)
	if !slices.Equal(got, wantPending) {
		t.Fatalf("PendingChecks = %v, want %v", got, wantPending)
	}
	res := mustResults(ctx, t, st, phones(0, workers*each*size))
	for n := range workers * each {
		for _, p := range phones(n*size, (n+1)*size) {
			r, ok := res[p]
			if ended := n%each%2 == 0; ended != ok || ok && r.RequestID != ecID(n+1) {
				t.Fatalf("%s: result %+v, %v; want the result of %s: %v", p, r, ok, ecID(n+1), ended)
			}
		}
	}
}

// fakeChecks is a preflight.API whose checks finish at once, each number
// eligible, with request IDs from next.
type fakeChecks struct {
	next    atomic.Int64
	mu      sync.Mutex
	numbers map[string][]string
}

func (f *fakeChecks) CreateBulk(_ context.Context, params *hostednumbers.EligibilityParams, _ ...hostednumbers.CallOption) (*hostednumbers.BulkEligibility, error) {
	id := ecID(int(f.next.Add(1)))
	ps := make([]string, len(params.PhoneNumbers))
	for i, n := range params.PhoneNumbers {
		ps[i] = n.PhoneNumber
	}
	f.mu.Lock()
	f.numbers[id] = ps
	f.mu.Unlock()
	return &hostednumbers.BulkEligibility{RequestID: id, Status: hostednumbers.BulkEligibilityStatusQueued}, nil
}

func (f *fakeChecks) FetchBulk(_ context.Context, requestID string, _ ...hostednumbers.CallOption) (*hostednumbers.BulkEligibility, error) {
	f.mu.Lock()
	ps, ok := f.numbers[requestID]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("fake: no check %s: %w", requestID, hostednumbers.ErrNotFound)
	}
	b := &hostednumbers.BulkEligibility{RequestID: requestID, Status: hostednumbers.BulkEligibilityStatusSuccessful}
	for _, p := range ps {
		b.Results = append(b.Results, hostednumbers.EligibilityResult{PhoneNumber: p, Status: hostednumbers.EligibilityStatusEligible})
	}
	return b, nil
}

func testRunsAtOnce(t *testing.T, st preflight.Store) {
	ctx := ctxOf(t)
	api := &fakeChecks{numbers: make(map[string][]string)}
	const runs, each = 2, 250
	var wg sync.WaitGroup
	results := make([]preflight.Result, runs)
	errs := make([]error, runs)
	for r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var in []preflight.Number
			for _, p := range phones(r*each, (r+1)*each) {
				in = append(in, preflight.Number{PhoneNumber: p})
			}
			results[r], errs[r] = preflight.Run(ctx, api, st, in, preflight.Options{ChunkSize: 50})
		}()
	}
	wg.Wait()
	for r := range runs {
		if errs[r] != nil {
			t.Fatalf("Run %d: %v", r, errs[r])
		}
		if got := len(results[r].Submittable()); got != each || results[r].Created != each/50 {
			t.Fatalf("Run %d: %d eligible of %d, %d checks created; want all eligible, %d checks", r, got, each, results[r].Created, each/50)
		}
	}
	if got := mustPending(ctx, t, st); len(got) != 0 {
		t.Fatalf("Runs at once left checks pending: %v", pendingIDs(got))
	}
	all := phones(0, runs*each)
	res := mustResults(ctx, t, st, all)
	if len(res) != len(all) {
		t.Fatalf("Runs at once: %d results recorded, want %d", len(res), len(all))
	}
	// A third Run over all of them checks nothing again.
	in := make([]preflight.Number, len(all))
	for i, p := range all {
		in[i] = preflight.Number{PhoneNumber: p}
	}
	again, err := preflight.Run(ctx, api, st, in, preflight.Options{})
	if err != nil || again.Created != 0 || len(again.Submittable()) != len(all) {
		t.Fatalf("a Run after them: created %d, %d eligible, %v; want nothing created, all eligible", again.Created, len(again.Submittable()), err)
	}
}

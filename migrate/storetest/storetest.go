// Package storetest is the contract of migrate.Store as a test suite:
// every rule the engine relies on, stated and checked. The stores of this
// module run it (migrate/logstore); run it on your own store, from a test
// of its package:
//
//	func TestStoreContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) migrate.Store {
//			st, err := mystore.Open(ctx, testDatabase(t)) // a new, empty store
//			if err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
//
// Run it with -race: one of the rules is about workers racing on one
// batch.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Run checks every rule of migrate.Store on the stores open returns. Each
// call of open must return a new store holding no migration; Run closes
// it at the end of the subtest (Close is then checked to succeed).
//
// The rules, one subtest each:
//   - Meta of an empty store is ErrNoMigration.
//   - Start records meta and the batches in order: batch i is the i-th
//     slice, Index i, StatePlanned, Size its length, Version 0, and its
//     numbers in their order with every field kept; Meta.Batches is set
//     to the number of batches, Meta.Input.Numbers to the number of
//     numbers when it is 0 (and kept otherwise).
//   - Start is all or nothing: a sequence that yields an error records
//     nothing (Meta is still ErrNoMigration) and Start returns that error.
//   - A second Start is ErrExists and changes nothing.
//   - A batch that does not exist is an error wrapping ErrNoBatch from
//     Batch, Numbers and SaveBatch.
//   - SaveBatch records the batch and its changed numbers (their Number
//     settings are not changed), the others are untouched, and the
//     Version goes up by one in the store and in the *Batch given.
//   - SaveBatch over another version than the stored one is ErrConflict
//     and records nothing.
//   - SaveBatch refuses a changed number that is not of the batch, and
//     records nothing (not even the batch's state).
//   - An ended context makes every method return an error wrapping
//     ctx.Err(), and record nothing.
//   - AddBatches without a migration is ErrNoMigration; with a sequence
//     that fails it records nothing; otherwise it records meta (Batches
//     and, when 0, Input.Numbers set as by Start) and the new batches
//     after the last one, keeping the earlier batches as they were.
//   - What a read returns is the caller's copy: changing it changes
//     nothing in the store.
//   - Workers racing: of many SaveBatch calls made over the same version,
//     exactly one succeeds and the others are ErrConflict; concurrent
//     compare-and-set loops on several batches lose no update.
func Run(t *testing.T, open func(t *testing.T) migrate.Store) {
	t.Helper()
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, st migrate.Store)
	}{
		{"MetaOfEmptyStore", testEmpty},
		{"Start", testStart},
		{"StartKeepsInputNumbers", testStartKeepsCount},
		{"StartAllOrNothing", testStartAllOrNothing},
		{"StartExists", testStartExists},
		{"NoBatch", testNoBatch},
		{"SaveBatch", testSaveBatch},
		{"Conflict", testConflict},
		{"NumberNotOfTheBatch", testNotOfBatch},
		{"ContextEnded", testContext},
		{"AddBatches", testAddBatches},
		{"CallerOwnsCopies", testCopies},
		{"RacingWorkers", testRacing},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := open(t)
			if st == nil {
				t.Fatal("open returned a nil store")
			}
			defer func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			c.fn(t, st)
		})
	}
}

// ctxOf is a context that ends with the test, at the latest after a
// minute: a store that hangs fails instead of stalling the suite.
func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// phone is the n-th test number.
func phone(n int) string { return fmt.Sprintf("+1415555%04d", n) }

// numbers returns the numbers from..to-1, with settings and lines.
func numbers(from, to int) []migrate.NumberState {
	out := make([]migrate.NumberState, 0, to-from)
	for i := from; i < to; i++ {
		n := migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: phone(i)}, Line: i + 2}
		n.Number.FriendlyName = fmt.Sprintf("line %d", i)
		n.Number.CCEmails = []string{fmt.Sprintf("cc%d@example.com", i)}
		out = append(out, n)
	}
	return out
}

// batches yields each slice, then err if it is not nil.
func batches(err error, bs ...[]migrate.NumberState) iter.Seq2[[]migrate.NumberState, error] {
	return func(yield func([]migrate.NumberState, error) bool) {
		for _, b := range bs {
			if !yield(b, nil) {
				return
			}
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

func meta() migrate.Meta {
	return migrate.Meta{
		Input:     migrate.Input{Name: "numbers.csv", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		BatchSize: 3,
		Contact:   migrate.Contact{Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef", FriendlyName: "move"},
		Created:   time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC),
	}
}

// started starts st with batches of 3, 3 and 2 numbers.
func started(t *testing.T, st migrate.Store) [][]migrate.NumberState {
	t.Helper()
	bs := [][]migrate.NumberState{numbers(0, 3), numbers(3, 6), numbers(6, 8)}
	if err := st.Start(ctxOf(t), meta(), batches(nil, bs...)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return bs
}

func mustBatch(t *testing.T, st migrate.Store, i int) migrate.Batch {
	t.Helper()
	b, err := st.Batch(ctxOf(t), i)
	if err != nil {
		t.Fatalf("Batch(%d): %v", i, err)
	}
	return b
}

func mustNumbers(t *testing.T, st migrate.Store, i int) []migrate.NumberState {
	t.Helper()
	ns, err := st.Numbers(ctxOf(t), i)
	if err != nil {
		t.Fatalf("Numbers(%d): %v", i, err)
	}
	return ns
}

func mustMeta(t *testing.T, st migrate.Store) migrate.Meta {
	t.Helper()
	m, err := st.Meta(ctxOf(t))
	if err != nil {
		t.Fatalf("Meta: %v", err)
	}
	return m
}

func equal(t *testing.T, what string, want, got any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s:\nwant %#v\n got %#v", what, want, got)
	}
}

// snapshot is everything a store answers about a started migration.
type snapshot struct {
	meta    migrate.Meta
	batches []migrate.Batch
	numbers [][]migrate.NumberState
}

func snap(t *testing.T, st migrate.Store) snapshot {
	t.Helper()
	s := snapshot{meta: mustMeta(t, st)}
	for i := 1; i <= s.meta.Batches; i++ {
		s.batches = append(s.batches, mustBatch(t, st, i))
		s.numbers = append(s.numbers, mustNumbers(t, st, i))
	}
	return s
}

func unchanged(t *testing.T, st migrate.Store, before snapshot, why string) {
	t.Helper()
	after := snap(t, st)
	equal(t, why+": Meta", before.meta, after.meta)
	equal(t, why+": batches", before.batches, after.batches)
	equal(t, why+": numbers", before.numbers, after.numbers)
}

func testEmpty(t *testing.T, st migrate.Store) {
	if _, err := st.Meta(ctxOf(t)); !errors.Is(err, migrate.ErrNoMigration) {
		t.Errorf("Meta of an empty store: %v, want ErrNoMigration", err)
	}
}

func testStart(t *testing.T, st migrate.Store) {
	bs := started(t, st)
	want := meta()
	want.Batches, want.Input.Numbers = 3, 8
	equal(t, "Meta (Batches and Input.Numbers set by the store)", want, mustMeta(t, st))
	for i, b := range bs {
		equal(t, fmt.Sprintf("batch %d", i+1), migrate.Batch{Index: i + 1, State: migrate.StatePlanned, Size: len(b)}, mustBatch(t, st, i+1))
		equal(t, fmt.Sprintf("numbers of batch %d, in order", i+1), b, mustNumbers(t, st, i+1))
	}
}

func testStartKeepsCount(t *testing.T, st migrate.Store) {
	m := meta()
	m.Input.Numbers = 10 // the input's count: two were not planned
	if err := st.Start(ctxOf(t), m, batches(nil, numbers(0, 8))); err != nil {
		t.Fatalf("Start: %v", err)
	}
	got := mustMeta(t, st)
	equal(t, "Input.Numbers given", 10, got.Input.Numbers)
	equal(t, "Batches", 1, got.Batches)
}

func testStartAllOrNothing(t *testing.T, st migrate.Store) {
	boom := errors.New("the input cannot be read")
	err := st.Start(ctxOf(t), meta(), batches(boom, numbers(0, 3), numbers(3, 6)))
	if !errors.Is(err, boom) {
		t.Fatalf("Start with a failing sequence: %v, want its error", err)
	}
	if _, err := st.Meta(ctxOf(t)); !errors.Is(err, migrate.ErrNoMigration) {
		t.Fatalf("Meta after a failed Start: %v, want ErrNoMigration (nothing recorded)", err)
	}
	if _, err := st.Batch(ctxOf(t), 1); !errors.Is(err, migrate.ErrNoBatch) {
		t.Errorf("Batch(1) after a failed Start: %v, want ErrNoBatch", err)
	}
	started(t, st) // and a Start after it works
	equal(t, "Batches", 3, mustMeta(t, st).Batches)
}

func testStartExists(t *testing.T, st migrate.Store) {
	started(t, st)
	before := snap(t, st)
	m := meta()
	m.Input.Name = "other.csv"
	if err := st.Start(ctxOf(t), m, batches(nil, numbers(20, 21))); !errors.Is(err, migrate.ErrExists) {
		t.Errorf("a second Start: %v, want ErrExists", err)
	}
	unchanged(t, st, before, "after a refused Start")
}

func testNoBatch(t *testing.T, st migrate.Store) {
	started(t, st)
	before := snap(t, st)
	ctx := ctxOf(t)
	for _, i := range []int{0, -1, 4} {
		if _, err := st.Batch(ctx, i); !errors.Is(err, migrate.ErrNoBatch) {
			t.Errorf("Batch(%d): %v, want ErrNoBatch", i, err)
		}
		if _, err := st.Numbers(ctx, i); !errors.Is(err, migrate.ErrNoBatch) {
			t.Errorf("Numbers(%d): %v, want ErrNoBatch", i, err)
		}
		b := migrate.Batch{Index: i, State: migrate.StateSending, Size: 1}
		if err := st.SaveBatch(ctx, &b, nil); !errors.Is(err, migrate.ErrNoBatch) {
			t.Errorf("SaveBatch of batch %d: %v, want ErrNoBatch", i, err)
		}
	}
	unchanged(t, st, before, "after refused calls")
}

func testSaveBatch(t *testing.T, st migrate.Store) {
	bs := started(t, st)
	ctx := ctxOf(t)
	b := mustBatch(t, st, 2)
	offset := migrate.Duration(3 * time.Second)
	b.State = migrate.StateAccepted
	b.BulkHostingSIDs = []string{"BH0123456789abcdef0123456789abcdef"}
	b.Attempts = []migrate.Attempt{{Kind: "create", Started: time.Date(2026, 12, 5, 10, 1, 0, 0, time.UTC), Ended: time.Date(2026, 12, 5, 10, 1, 2, 0, time.UTC),
		AttemptTimeout: migrate.Duration(time.Minute), Settle: migrate.Duration(30 * time.Minute), ServerClockOffset: &offset, Numbers: 3,
		Outcome: "accepted", BulkHostingSID: "BH0123456789abcdef0123456789abcdef", RequestID: "RQ1"}}
	b.Doubt = &migrate.Doubt{LookedAt: time.Date(2026, 12, 5, 10, 2, 0, 0, time.UTC), Looked: []string{phone(3)}, Missing: []string{phone(3)},
		RetryAt: time.Date(2026, 12, 5, 10, 3, 0, 0, time.UTC), WindowClosesAt: time.Date(2026, 12, 5, 10, 31, 0, 0, time.UTC), Reason: "lagging"}
	b.Counts = map[string]int{"submitted": 3}
	reason, next := "not eligible", "call support"
	ns := mustNumbers(t, st, 2)
	ch := ns[1]
	ch.Status, ch.FailureReason, ch.NextStep = "failed", &reason, &next
	ch.BulkHostingSID, ch.HostingOrderSID, ch.SigningDocumentSID, ch.LOAStatus = "BH0123456789abcdef0123456789abcdef", "HR0123456789abcdef0123456789abcdef", "PX0123456789abcdef0123456789abcdef", "signed"
	ch.Resubmit, ch.Checked = true, time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC)
	saved := ch
	ch.Number.FriendlyName = "changed settings are not recorded"
	ch.Line = 99
	if err := st.SaveBatch(ctx, &b, []migrate.NumberState{ch}); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	equal(t, "the Version of the *Batch given", int64(1), b.Version)
	got := mustBatch(t, st, 2)
	want := b
	equal(t, "the batch saved", want, got)
	wantNs := append([]migrate.NumberState(nil), bs[1]...)
	wantNs[1] = saved
	equal(t, "its numbers (the settings and line of a changed number kept)", wantNs, mustNumbers(t, st, 2))
	equal(t, "another batch", migrate.Batch{Index: 1, State: migrate.StatePlanned, Size: 3}, mustBatch(t, st, 1))
	equal(t, "another batch's numbers", bs[0], mustNumbers(t, st, 1))

	// A second save over the new version, with another number.
	got.State = migrate.StateSending
	got.Doubt = nil
	other := wantNs[2]
	other.Withdrawn = true
	if err := st.SaveBatch(ctx, &got, []migrate.NumberState{other}); err != nil {
		t.Fatalf("second SaveBatch: %v", err)
	}
	equal(t, "Version after two saves", int64(2), mustBatch(t, st, 2).Version)
	wantNs[2] = other
	equal(t, "numbers after two saves", wantNs, mustNumbers(t, st, 2))
	equal(t, "Doubt cleared", (*migrate.Doubt)(nil), mustBatch(t, st, 2).Doubt)
}

func testConflict(t *testing.T, st migrate.Store) {
	started(t, st)
	ctx := ctxOf(t)
	b := mustBatch(t, st, 1)
	b.State = migrate.StateSending
	if err := st.SaveBatch(ctx, &b, nil); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	before := snap(t, st)
	for _, v := range []int64{0, 2, 7} {
		stale := mustBatch(t, st, 1)
		stale.Version = v
		stale.State = migrate.StateRejected
		ns := mustNumbers(t, st, 1)
		ns[0].Status = "failed"
		if err := st.SaveBatch(ctx, &stale, ns[:1]); !errors.Is(err, migrate.ErrConflict) {
			t.Errorf("SaveBatch over version %d (stored: 1): %v, want ErrConflict", v, err)
		}
		equal(t, "the *Batch's Version after a conflict", v, stale.Version)
	}
	unchanged(t, st, before, "after conflicts")
}

func testNotOfBatch(t *testing.T, st migrate.Store) {
	started(t, st)
	before := snap(t, st)
	ctx := ctxOf(t)
	for _, stranger := range []migrate.NumberState{numbers(3, 4)[0], numbers(50, 51)[0]} {
		b := mustBatch(t, st, 1)
		b.State = migrate.StateAccepted
		ns := mustNumbers(t, st, 1)
		ns[0].Status = "completed"
		stranger.Status = "completed"
		if err := st.SaveBatch(ctx, &b, []migrate.NumberState{ns[0], stranger}); err == nil {
			t.Errorf("SaveBatch of batch 1 with %s (not of it): no error", stranger.PhoneNumber())
		}
		equal(t, "the *Batch's Version after a refusal", int64(0), b.Version)
	}
	unchanged(t, st, before, "after a refused SaveBatch")
}

func testContext(t *testing.T, st migrate.Store) {
	ctx, cancel := context.WithCancel(ctxOf(t))
	cancel()
	if err := st.Start(ctx, meta(), batches(nil, numbers(0, 3))); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with an ended context: %v, want context.Canceled", err)
	}
	if _, err := st.Meta(ctxOf(t)); !errors.Is(err, migrate.ErrNoMigration) {
		t.Fatalf("Meta after Start with an ended context: %v, want ErrNoMigration", err)
	}
	started(t, st)
	before := snap(t, st)
	if _, err := st.Meta(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Meta: %v, want context.Canceled", err)
	}
	if _, err := st.Batch(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Batch: %v, want context.Canceled", err)
	}
	if _, err := st.Numbers(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Numbers: %v, want context.Canceled", err)
	}
	b := mustBatch(t, st, 1)
	b.State = migrate.StateSending
	ns := mustNumbers(t, st, 1)
	ns[0].Status = "failed"
	if err := st.SaveBatch(ctx, &b, ns[:1]); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveBatch: %v, want context.Canceled", err)
	}
	equal(t, "the *Batch's Version", int64(0), b.Version)
	if err := st.AddBatches(ctx, mustMeta(t, st), batches(nil, numbers(20, 22))); !errors.Is(err, context.Canceled) {
		t.Errorf("AddBatches: %v, want context.Canceled", err)
	}
	// A context that ends while the batches are read.
	ending, stop := context.WithCancel(ctxOf(t))
	defer stop()
	seq := func(yield func([]migrate.NumberState, error) bool) {
		if !yield(numbers(20, 22), nil) {
			return
		}
		stop()
		yield(numbers(22, 24), nil)
	}
	if err := st.AddBatches(ending, mustMeta(t, st), seq); !errors.Is(err, context.Canceled) {
		t.Errorf("AddBatches with a context ending midway: %v, want context.Canceled", err)
	}
	unchanged(t, st, before, "after calls with an ended context")
}

func testAddBatches(t *testing.T, st migrate.Store) {
	ctx := ctxOf(t)
	if err := st.AddBatches(ctx, meta(), batches(nil, numbers(0, 2))); !errors.Is(err, migrate.ErrNoMigration) {
		t.Errorf("AddBatches without a migration: %v, want ErrNoMigration", err)
	}
	started(t, st)
	b := mustBatch(t, st, 1)
	b.State = migrate.StateAccepted
	ns := mustNumbers(t, st, 1)
	ns[2].Status = "completed"
	if err := st.SaveBatch(ctx, &b, ns[2:]); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	before := snap(t, st)

	m := mustMeta(t, st)
	m.Input = migrate.Input{Name: "numbers-2.csv", SHA256: "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"}
	boom := errors.New("the new input cannot be read")
	if err := st.AddBatches(ctx, m, batches(boom, numbers(8, 11))); !errors.Is(err, boom) {
		t.Fatalf("AddBatches with a failing sequence: %v, want its error", err)
	}
	unchanged(t, st, before, "after a failed AddBatches")

	added := [][]migrate.NumberState{numbers(8, 11), numbers(11, 12)}
	if err := st.AddBatches(ctx, m, batches(nil, added...)); err != nil {
		t.Fatalf("AddBatches: %v", err)
	}
	want := m
	want.Batches, want.Input.Numbers = 5, 12
	equal(t, "Meta after AddBatches", want, mustMeta(t, st))
	for i := range 3 {
		equal(t, fmt.Sprintf("batch %d kept", i+1), before.batches[i], mustBatch(t, st, i+1))
		equal(t, fmt.Sprintf("numbers of batch %d kept", i+1), before.numbers[i], mustNumbers(t, st, i+1))
	}
	for i, a := range added {
		equal(t, fmt.Sprintf("added batch %d", i+4), migrate.Batch{Index: i + 4, State: migrate.StatePlanned, Size: len(a)}, mustBatch(t, st, i+4))
		equal(t, fmt.Sprintf("numbers of added batch %d", i+4), a, mustNumbers(t, st, i+4))
	}

	// A given Input.Numbers is kept; meta alone (no batch) is recorded.
	m.Input.Numbers = 40
	m.Contact.FriendlyName = "moved"
	if err := st.AddBatches(ctx, m, batches(nil)); err != nil {
		t.Fatalf("AddBatches without batches: %v", err)
	}
	want = m
	want.Batches = 5
	equal(t, "Meta after AddBatches without batches", want, mustMeta(t, st))
}

func testCopies(t *testing.T, st migrate.Store) {
	started(t, st)
	ctx := ctxOf(t)
	b := mustBatch(t, st, 1)
	b.State = migrate.StateUnknown
	b.Attempts = []migrate.Attempt{{Kind: "create", Numbers: 3}}
	b.BulkHostingSIDs = []string{"BH0123456789abcdef0123456789abcdef"}
	b.Counts = map[string]int{"outcome-unknown": 3}
	b.Doubt = &migrate.Doubt{Looked: []string{phone(0)}, Missing: []string{phone(0)}, Reason: "r"}
	if err := st.SaveBatch(ctx, &b, nil); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	// The caller's batch, changed after the save.
	b.Attempts[0].Kind = "changed"
	b.BulkHostingSIDs[0] = "changed"
	b.Counts["outcome-unknown"] = 99
	b.Doubt.Missing[0] = "changed"
	before := snap(t, st)
	equal(t, "a save is not changed by its caller afterwards", "create", before.batches[0].Attempts[0].Kind)

	got := mustBatch(t, st, 1)
	got.Attempts[0].Kind = "changed"
	got.BulkHostingSIDs[0] = "changed"
	got.Counts["outcome-unknown"] = 99
	got.Doubt.Missing[0] = "changed"
	got.Doubt.Reason = "changed"
	ns := mustNumbers(t, st, 1)
	ns[0].Status = "changed"
	ns[0].Number.CCEmails[0] = "changed"
	unchanged(t, st, before, "after the caller changed what it read")
}

func testRacing(t *testing.T, st migrate.Store) {
	started(t, st)
	ctx := ctxOf(t)

	// Claims: every worker read version 0 and saves "sending".
	const workers = 8
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := st.Batch(ctx, 1)
			if err != nil {
				errs[w] = err
				return
			}
			b.Version = 0
			b.State = migrate.StateSending
			b.Attempts = []migrate.Attempt{{Kind: "create", Numbers: w}}
			errs[w] = st.SaveBatch(ctx, &b, nil)
		}()
	}
	wg.Wait()
	won := -1
	for w, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("workers %d and %d both saved over version 0", won, w)
		case err == nil:
			won = w
		case !errors.Is(err, migrate.ErrConflict):
			t.Errorf("worker %d: %v, want nil or ErrConflict", w, err)
		}
	}
	if won < 0 {
		t.Fatal("no worker saved over version 0")
	}
	b := mustBatch(t, st, 1)
	equal(t, "the winner's save", int64(1), b.Version)
	equal(t, "the winner's attempt", won, b.Attempts[0].Numbers)

	// Compare-and-set loops on batches 2 and 3: no update is lost.
	const rounds = 10
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			index := 2 + w%2
			for range rounds {
				for tries := 0; ; tries++ {
					if tries == 1000 {
						t.Errorf("worker %d: 1000 conflicts in a row on batch %d: SaveBatch never succeeds over the version Batch read", w, index)
						return
					}
					b, err := st.Batch(ctx, index)
					if err != nil {
						t.Errorf("worker %d: Batch: %v", w, err)
						return
					}
					ns, err := st.Numbers(ctx, index)
					if err != nil {
						t.Errorf("worker %d: Numbers: %v", w, err)
						return
					}
					b.Attempts = append(b.Attempts, migrate.Attempt{Kind: "reconcile", Numbers: w})
					ns[0].Status = fmt.Sprintf("seen %d", len(b.Attempts))
					err = st.SaveBatch(ctx, &b, ns[:1])
					if errors.Is(err, migrate.ErrConflict) {
						continue
					}
					if err != nil {
						t.Errorf("worker %d: SaveBatch: %v", w, err)
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	for _, index := range []int{2, 3} {
		b := mustBatch(t, st, index)
		want := workers / 2 * rounds
		equal(t, fmt.Sprintf("batch %d: Version after %d updates", index, want), int64(want), b.Version)
		equal(t, fmt.Sprintf("batch %d: attempts after %d updates", index, want), want, len(b.Attempts))
		equal(t, fmt.Sprintf("batch %d: the last number state", index), fmt.Sprintf("seen %d", want), mustNumbers(t, st, index)[0].Status)
	}
}

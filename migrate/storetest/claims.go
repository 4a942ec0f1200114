package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Clock is the fake clock RunClaims gives its stores: it moves only when
// a test moves it. Its times are whole milliseconds, so that a store
// keeping microseconds (PostgreSQL) answers them exactly.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at a fixed time.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// RunClaims checks every rule of migrate.ClaimStore (and, with Run, of
// migrate.Store) on the stores open returns. Each call of open must
// return a new store holding no migration whose clock is now: every
// expiry the store decides is by now, which the suite moves. RunClaims
// closes each store at the end of its subtest.
//
// The rules, one subtest each:
//   - Arguments: an empty worker, a ttl that is not positive, an unknown
//     state or a limit below 1 is a *hostednumbers.ValidationError
//     naming the field, and records nothing.
//   - Without a migration, Claim and LeaseOf are ErrNoBatch, ClaimNext
//     finds nothing, Pending returns nothing and AddBatchesIf is
//     ErrNoMigration.
//   - Claim returns the lease (the batch, the worker, token 1, Expires
//     now+ttl), the batch as stored and no previous claim; LeaseOf
//     answers it; the batch's document and Version are unchanged; a
//     batch that does not exist is ErrNoBatch.
//   - A live claim is exclusive: another claim of the batch, by any
//     worker (the holder's name too), is ErrClaimed, and changes nothing.
//   - One winner: of workers claiming one batch at once, exactly one
//     gets it; of workers calling ClaimNext at once, each batch goes to
//     one worker.
//   - Tokens: each new claim of a batch (after an expiry, after a
//     release) has a greater token, and Previous is the claim replaced,
//     with its last Expires.
//   - Expiry: at Expires a claim has expired: its holder's SaveClaimed,
//     Renew and Release are ErrLeaseLost and record nothing, before and
//     after another worker claims the batch; the new holder's saves
//     work.
//   - Renew extends a live claim from now, same token; a lost claim
//     (expired, another token, another worker) is ErrLeaseLost.
//   - Release frees the batch at once and sets the claim's Expires to
//     the release's time; the released lease can do nothing more.
//   - SaveClaimed records as SaveBatch does under a live claim; over
//     another version it is ErrConflict; a batch other than the lease's,
//     or a number not of the batch, is refused; none of these records
//     anything.
//   - SaveBatch of a batch under a live claim is refused (ErrClaimed and
//     ErrConflict) and records nothing; once the claim expired it works.
//   - ClaimNext takes the lowest index in the states (none: all) that no
//     live claim holds, expired claims included, and finds nothing when
//     none is left.
//   - Pending returns the batches after an index, in order, in the
//     states, at most limit, claimed ones included.
//   - AddBatchesIf records only over the count of batches given (else
//     ErrConflict, nothing recorded); of many at once, one wins.
//   - Duplicates: Start and AddBatches refuse a number the migration
//     holds or that the input holds twice (ErrDuplicate), recording
//     nothing.
//   - Claims and an ended context: every claim method returns an error
//     wrapping ctx.Err() and records nothing.
func RunClaims(t *testing.T, open func(t *testing.T, now func() time.Time) migrate.ClaimStore) {
	t.Helper()
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, st migrate.ClaimStore, clk *Clock)
	}{
		{"Arguments", testClaimArgs},
		{"NoMigration", testClaimNoMigration},
		{"Claim", testClaim},
		{"Exclusive", testExclusive},
		{"OneWinner", testOneWinner},
		{"ClaimNextRacing", testClaimNextRacing},
		{"Tokens", testTokens},
		{"Expiry", testExpiry},
		{"Renew", testRenew},
		{"Release", testRelease},
		{"SaveClaimed", testSaveClaimed},
		{"SaveBatchOfClaimed", testSaveBatchOfClaimed},
		{"ClaimNext", testClaimNext},
		{"Pending", testPending},
		{"AddBatchesIf", testAddBatchesIf},
		{"AddBatchesIfRacing", testAddBatchesIfRacing},
		{"Duplicates", testDuplicates},
		{"ClaimsContextEnded", testClaimsContext},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := NewClock()
			st := open(t, clk.Now)
			if st == nil {
				t.Fatal("open returned a nil store")
			}
			defer func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			c.fn(t, st, clk)
		})
	}
}

const ttl = time.Minute

func mustClaim(t *testing.T, st migrate.ClaimStore, worker string, index int) migrate.Claimed {
	t.Helper()
	c, err := st.Claim(ctxOf(t), worker, ttl, index)
	if err != nil {
		t.Fatalf("Claim(%s, %d): %v", worker, index, err)
	}
	return c
}

func mustLease(t *testing.T, st migrate.ClaimStore, index int) migrate.Lease {
	t.Helper()
	l, err := st.LeaseOf(ctxOf(t), index)
	if err != nil {
		t.Fatalf("LeaseOf(%d): %v", index, err)
	}
	return l
}

// sameLease compares leases, their times by instant.
func sameLease(t *testing.T, what string, want, got migrate.Lease) {
	t.Helper()
	if want.Batch != got.Batch || want.Worker != got.Worker || want.Token != got.Token || !want.Expires.Equal(got.Expires) {
		t.Errorf("%s:\nwant %+v\n got %+v", what, want, got)
	}
}

// fields returns the fields a *hostednumbers.ValidationError names.
func fields(err error) []string {
	var ve *hostednumbers.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.Field)
	}
	return out
}

func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	for _, f := range fields(err) {
		if f == field {
			return
		}
	}
	t.Errorf("%s: %v, want a *hostednumbers.ValidationError naming %q", what, err, field)
}

func testClaimArgs(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	started(t, st)
	before := snap(t, st)
	ctx := ctxOf(t)
	_, err := st.Claim(ctx, "", ttl, 1)
	wantField(t, "Claim by an empty worker", err, "worker")
	_, err = st.Claim(ctx, "w1", 0, 1)
	wantField(t, "Claim for 0s", err, "ttl")
	_, err = st.Claim(ctx, "w1", -time.Second, 1)
	wantField(t, "Claim for -1s", err, "ttl")
	_, err = st.Claim(ctx, string(make([]byte, migrate.MaxWorkerName+1)), ttl, 1)
	wantField(t, "Claim by a worker named by too long a name", err, "worker")
	_, _, err = st.ClaimNext(ctx, "", ttl)
	wantField(t, "ClaimNext by an empty worker", err, "worker")
	_, _, err = st.ClaimNext(ctx, "w1", ttl, "posted")
	wantField(t, "ClaimNext of an unknown state", err, "states")
	_, _, err = st.ClaimNext(ctx, "w1", 0)
	wantField(t, "ClaimNext for 0s", err, "ttl")
	_, err = st.Pending(ctx, 0, 0)
	wantField(t, "Pending of 0", err, "limit")
	_, err = st.Pending(ctx, 0, 10, "posted")
	wantField(t, "Pending of an unknown state", err, "states")
	c := mustClaim(t, st, "w1", 1)
	_, err = st.Renew(ctx, c.Lease, 0)
	wantField(t, "Renew for 0s", err, "ttl")
	sameLease(t, "the lease after refused calls", c.Lease, mustLease(t, st, 1))
	for i := 2; i <= 3; i++ {
		equal(t, fmt.Sprintf("the lease of batch %d after refused calls", i), migrate.Lease{}, mustLease(t, st, i))
	}
	unchanged(t, st, before, "after refused calls")
}

func testClaimNoMigration(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	ctx := ctxOf(t)
	if _, err := st.Claim(ctx, "w1", ttl, 1); !errors.Is(err, migrate.ErrNoBatch) {
		t.Errorf("Claim without a migration: %v, want ErrNoBatch", err)
	}
	if c, ok, err := st.ClaimNext(ctx, "w1", ttl); err != nil || ok {
		t.Errorf("ClaimNext without a migration: %+v, %v, %v; want nothing", c, ok, err)
	}
	if _, err := st.LeaseOf(ctx, 1); !errors.Is(err, migrate.ErrNoBatch) {
		t.Errorf("LeaseOf without a migration: %v, want ErrNoBatch", err)
	}
	if bs, err := st.Pending(ctx, 0, 10); err != nil || len(bs) != 0 {
		t.Errorf("Pending without a migration: %v, %v; want nothing", bs, err)
	}
	if err := st.AddBatchesIf(ctx, 0, meta(), batches(nil, numbers(0, 2))); !errors.Is(err, migrate.ErrNoMigration) {
		t.Errorf("AddBatchesIf without a migration: %v, want ErrNoMigration", err)
	}
	if _, err := st.Meta(ctx); !errors.Is(err, migrate.ErrNoMigration) {
		t.Errorf("Meta after the calls: %v, want ErrNoMigration", err)
	}
}

func testClaim(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	b := mustBatch(t, st, 2)
	b.State = migrate.StateRejected
	if err := st.SaveBatch(ctx, &b, nil); err != nil {
		t.Fatalf("SaveBatch: %v", err)
	}
	before := snap(t, st)
	c := mustClaim(t, st, "host-a/1", 2)
	want := migrate.Lease{Batch: 2, Worker: "host-a/1", Token: 1, Expires: clk.Now().Add(ttl)}
	sameLease(t, "the lease", want, c.Lease)
	equal(t, "the batch claimed, as stored", b, c.Batch)
	equal(t, "the previous claim of a batch never claimed", migrate.Lease{}, c.Previous)
	sameLease(t, "LeaseOf", want, mustLease(t, st, 2))
	equal(t, "LeaseOf a batch never claimed", migrate.Lease{}, mustLease(t, st, 1))
	unchanged(t, st, before, "after a claim (it records nothing of the batch)")
	for _, i := range []int{0, -1, 4} {
		if _, err := st.Claim(ctx, "host-a/1", ttl, i); !errors.Is(err, migrate.ErrNoBatch) {
			t.Errorf("Claim(%d): %v, want ErrNoBatch", i, err)
		}
		if _, err := st.LeaseOf(ctx, i); !errors.Is(err, migrate.ErrNoBatch) {
			t.Errorf("LeaseOf(%d): %v, want ErrNoBatch", i, err)
		}
	}
	if !c.Lease.Held() || (migrate.Lease{}).Held() {
		t.Error("Held: a claim is held, the zero Lease is not")
	}
}

func testExclusive(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	c := mustClaim(t, st, "w1", 1)
	clk.Advance(ttl - time.Millisecond) // still live
	for _, w := range []string{"w2", "w1"} {
		if got, err := st.Claim(ctx, w, ttl, 1); !errors.Is(err, migrate.ErrClaimed) {
			t.Errorf("Claim by %s of a batch %s holds: %+v, %v; want ErrClaimed", w, "w1", got, err)
		}
	}
	sameLease(t, "the lease after refused claims", c.Lease, mustLease(t, st, 1))
}

func testOneWinner(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	const workers = 8
	var wg sync.WaitGroup
	got := make([]migrate.Claimed, workers)
	errs := make([]error, workers)
	start := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[w], errs[w] = st.Claim(ctx, fmt.Sprintf("w%d", w), ttl, 1)
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for w, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("workers %d and %d both claimed batch 1", won, w)
		case err == nil:
			won = w
		case !errors.Is(err, migrate.ErrClaimed):
			t.Errorf("worker %d: %v, want nil or ErrClaimed", w, err)
		}
	}
	if won < 0 {
		t.Fatal("no worker claimed batch 1")
	}
	sameLease(t, "the winner's lease, as stored", got[won].Lease, mustLease(t, st, 1))
	equal(t, "the winner's token", int64(1), got[won].Lease.Token)
}

func testClaimNextRacing(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	const workers = 8 // for 3 batches
	var wg sync.WaitGroup
	var mu sync.Mutex
	holder := map[int]string{}
	none := 0
	start := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			name := fmt.Sprintf("w%d", w)
			c, ok, err := st.ClaimNext(ctx, name, ttl, migrate.StatePlanned)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("worker %d: ClaimNext: %v", w, err)
			case !ok:
				none++
			case holder[c.Lease.Batch] != "":
				t.Errorf("batch %d claimed by %s and %s", c.Lease.Batch, holder[c.Lease.Batch], name)
			default:
				holder[c.Lease.Batch] = name
				if c.Lease.Worker != name || c.Batch.Index != c.Lease.Batch {
					t.Errorf("worker %s got %+v", name, c)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	equal(t, "workers that found nothing", workers-3, none)
	for i := 1; i <= 3; i++ {
		if holder[i] == "" {
			t.Errorf("batch %d was claimed by no one", i)
			continue
		}
		equal(t, fmt.Sprintf("the holder of batch %d, as stored", i), holder[i], mustLease(t, st, i).Worker)
	}
}

func testTokens(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	a := mustClaim(t, st, "w1", 1)
	clk.Advance(ttl) // a expires
	b := mustClaim(t, st, "w2", 1)
	if b.Lease.Token <= a.Lease.Token {
		t.Errorf("a claim after an expiry has token %d, the one before %d: want greater", b.Lease.Token, a.Lease.Token)
	}
	sameLease(t, "Previous after an expiry", a.Lease, b.Previous)
	clk.Advance(time.Second)
	if err := st.Release(ctx, b.Lease); err != nil {
		t.Fatalf("Release: %v", err)
	}
	released := b.Lease
	released.Expires = clk.Now()
	c := mustClaim(t, st, "w1", 1)
	if c.Lease.Token <= b.Lease.Token {
		t.Errorf("a claim after a release has token %d, the one before %d: want greater", c.Lease.Token, b.Lease.Token)
	}
	sameLease(t, "Previous after a release (Expires is the release's time)", released, c.Previous)
	// Another batch's tokens do not hold this one back.
	clk.Advance(ttl)
	for range 3 {
		d := mustClaim(t, st, "w3", 2)
		if err := st.Release(ctx, d.Lease); err != nil {
			t.Fatalf("Release: %v", err)
		}
	}
	e := mustClaim(t, st, "w3", 1)
	if e.Lease.Token <= c.Lease.Token {
		t.Errorf("token %d after %d", e.Lease.Token, c.Lease.Token)
	}
}

// under is a batch claimed, and set to "sending" under the claim.
func under(t *testing.T, st migrate.ClaimStore, worker string, index int) (migrate.Lease, migrate.Batch) {
	t.Helper()
	c := mustClaim(t, st, worker, index)
	b := c.Batch
	b.State = migrate.StateSending
	b.Attempts = append(b.Attempts, migrate.Attempt{Kind: "create", Numbers: b.Size})
	if err := st.SaveClaimed(ctxOf(t), c.Lease, &b, nil); err != nil {
		t.Fatalf("SaveClaimed: %v", err)
	}
	return c.Lease, b
}

func testExpiry(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	old, b := under(t, st, "w1", 1)
	clk.Advance(ttl) // exactly at Expires: expired
	before := snap(t, st)
	lost := func(when string) {
		t.Helper()
		next := b
		next.State = migrate.StateAccepted
		ns := mustNumbers(t, st, 1)
		ns[0].Status = "received"
		if err := st.SaveClaimed(ctx, old, &next, ns[:1]); !errors.Is(err, migrate.ErrLeaseLost) {
			t.Errorf("SaveClaimed under an expired claim, %s: %v, want ErrLeaseLost", when, err)
		}
		equal(t, "the *Batch's Version after a refused save", b.Version, next.Version)
		if _, err := st.Renew(ctx, old, ttl); !errors.Is(err, migrate.ErrLeaseLost) {
			t.Errorf("Renew of an expired claim, %s: %v, want ErrLeaseLost", when, err)
		}
		if err := st.Release(ctx, old); !errors.Is(err, migrate.ErrLeaseLost) {
			t.Errorf("Release of an expired claim, %s: %v, want ErrLeaseLost", when, err)
		}
	}
	lost("before anyone claimed the batch")
	sameLease(t, "the expired claim, still visible with its Expires", old, mustLease(t, st, 1))
	unchanged(t, st, before, "after refused calls under an expired claim")

	c := mustClaim(t, st, "w2", 1)
	sameLease(t, "Previous: the expired claim", old, c.Previous)
	equal(t, "the batch as the expired holder left it", b, c.Batch)
	lost("after another worker claimed the batch")
	sameLease(t, "the new claim, after the old holder's calls", c.Lease, mustLease(t, st, 1))
	unchanged(t, st, before, "after refused calls under a claim taken over")
	nb := c.Batch
	nb.State = migrate.StateUnknown
	if err := st.SaveClaimed(ctx, c.Lease, &nb, nil); err != nil {
		t.Errorf("SaveClaimed by the new holder: %v", err)
	}
}

func testRenew(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	c := mustClaim(t, st, "w1", 1)
	clk.Advance(50 * time.Second)
	l, err := st.Renew(ctx, c.Lease, ttl)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	want := c.Lease
	want.Expires = clk.Now().Add(ttl)
	sameLease(t, "the renewed lease", want, l)
	sameLease(t, "LeaseOf after Renew", want, mustLease(t, st, 1))
	clk.Advance(20 * time.Second) // past the first Expires
	if _, err := st.Claim(ctx, "w2", ttl, 1); !errors.Is(err, migrate.ErrClaimed) {
		t.Errorf("Claim after the first Expires of a renewed claim: %v, want ErrClaimed", err)
	}
	b := c.Batch
	b.State = migrate.StateSending
	if err := st.SaveClaimed(ctx, l, &b, nil); err != nil {
		t.Errorf("SaveClaimed under the renewed claim: %v", err)
	}
	// The lease as first returned (older Expires, same token) is the claim.
	if err := st.SaveClaimed(ctx, c.Lease, &b, nil); err != nil {
		t.Errorf("SaveClaimed under the lease as claimed (same token): %v", err)
	}
	// Another token, another worker: not the claim.
	for _, bad := range []migrate.Lease{
		{Batch: 1, Worker: "w1", Token: l.Token + 1, Expires: l.Expires},
		{Batch: 1, Worker: "w2", Token: l.Token, Expires: l.Expires},
		{Batch: 2, Worker: "w1", Token: l.Token, Expires: l.Expires},
	} {
		if _, err := st.Renew(ctx, bad, ttl); !errors.Is(err, migrate.ErrLeaseLost) {
			t.Errorf("Renew of %+v: %v, want ErrLeaseLost", bad, err)
		}
	}
	sameLease(t, "the lease after refused renewals", want, mustLease(t, st, 1))
	equal(t, "batch 2 after a refused renewal", migrate.Lease{}, mustLease(t, st, 2))
	// A renewal may shorten a claim: ttl from now.
	l2, err := st.Renew(ctx, l, time.Second)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	sameLease(t, "a renewal for 1s", migrate.Lease{Batch: 1, Worker: "w1", Token: l.Token, Expires: clk.Now().Add(time.Second)}, l2)
	clk.Advance(time.Second)
	if _, err := st.Renew(ctx, l2, ttl); !errors.Is(err, migrate.ErrLeaseLost) {
		t.Errorf("Renew at Expires: %v, want ErrLeaseLost", err)
	}
	if _, err := st.Renew(ctx, migrate.Lease{Batch: 4, Worker: "w1", Token: 1}, ttl); !errors.Is(err, migrate.ErrNoBatch) && !errors.Is(err, migrate.ErrLeaseLost) {
		t.Errorf("Renew of a batch that does not exist: %v, want ErrNoBatch or ErrLeaseLost", err)
	}
}

func testRelease(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	l, b := under(t, st, "w1", 1)
	clk.Advance(10 * time.Second)
	before := snap(t, st)
	if err := st.Release(ctx, l); err != nil {
		t.Fatalf("Release: %v", err)
	}
	unchanged(t, st, before, "after a release (it records nothing of the batch)")
	released := l
	released.Expires = clk.Now()
	sameLease(t, "the released claim", released, mustLease(t, st, 1))
	if err := st.Release(ctx, l); !errors.Is(err, migrate.ErrLeaseLost) {
		t.Errorf("a second Release: %v, want ErrLeaseLost", err)
	}
	if _, err := st.Renew(ctx, l, ttl); !errors.Is(err, migrate.ErrLeaseLost) {
		t.Errorf("Renew after Release: %v, want ErrLeaseLost", err)
	}
	next := b
	next.State = migrate.StateAccepted
	if err := st.SaveClaimed(ctx, l, &next, nil); !errors.Is(err, migrate.ErrLeaseLost) {
		t.Errorf("SaveClaimed after Release: %v, want ErrLeaseLost", err)
	}
	unchanged(t, st, before, "after calls under a released claim")
	// The batch is free at once, for any worker.
	c := mustClaim(t, st, "w2", 1)
	sameLease(t, "Previous: the released claim", released, c.Previous)
	// And a save without a claim works on a released batch.
	if err := st.Release(ctx, c.Lease); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := st.SaveBatch(ctx, &next, nil); err != nil {
		t.Errorf("SaveBatch of a released batch: %v", err)
	}
}

func testSaveClaimed(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	bs := started(t, st)
	ctx := ctxOf(t)
	// A batch saved under another batch's claim, both at version 0.
	c3 := mustClaim(t, st, "w1", 3)
	first := snap(t, st)
	one := mustBatch(t, st, 1)
	one.State = migrate.StateSending
	if err := st.SaveClaimed(ctx, c3.Lease, &one, nil); err == nil || errors.Is(err, migrate.ErrNoBatch) {
		t.Errorf("SaveClaimed of batch 1 under the claim of batch 3: %v, want a refusal", err)
	}
	equal(t, "the *Batch's Version after a refusal", int64(0), one.Version)
	unchanged(t, st, first, "after a save under another batch's claim")

	c := mustClaim(t, st, "w1", 2)
	b := c.Batch
	b.State = migrate.StateAccepted
	b.BulkHostingSIDs = []string{"BH0123456789abcdef0123456789abcdef"}
	ns := mustNumbers(t, st, 2)
	ns[1].Status = "received"
	ns[1].HostingOrderSID = "HR0123456789abcdef0123456789abcdef"
	if err := st.SaveClaimed(ctx, c.Lease, &b, ns[1:2]); err != nil {
		t.Fatalf("SaveClaimed: %v", err)
	}
	equal(t, "the *Batch's Version", int64(1), b.Version)
	equal(t, "the batch saved", b, mustBatch(t, st, 2))
	want := append([]migrate.NumberState(nil), bs[1]...)
	want[1] = ns[1]
	equal(t, "its numbers", want, mustNumbers(t, st, 2))
	sameLease(t, "the lease after a save (kept)", c.Lease, mustLease(t, st, 2))

	before := snap(t, st)
	stale := c.Batch // version 0
	stale.State = migrate.StateRejected
	if err := st.SaveClaimed(ctx, c.Lease, &stale, nil); !errors.Is(err, migrate.ErrConflict) {
		t.Errorf("SaveClaimed over an old version: %v, want ErrConflict", err)
	}
	other := mustBatch(t, st, 1)
	other.State = migrate.StateSending
	if err := st.SaveClaimed(ctx, c.Lease, &other, nil); err == nil || errors.Is(err, migrate.ErrNoBatch) {
		t.Errorf("SaveClaimed of batch 1 under the lease of batch 2: %v, want a refusal", err)
	}
	next := mustBatch(t, st, 2)
	stranger := numbers(0, 1)[0] // of batch 1
	stranger.Status = "received"
	if err := st.SaveClaimed(ctx, c.Lease, &next, []migrate.NumberState{stranger}); err == nil {
		t.Error("SaveClaimed with a number not of the batch: no error")
	}
	equal(t, "the *Batch's Version after a refusal", int64(1), next.Version)
	unchanged(t, st, before, "after refused saves under a claim")
}

func testSaveBatchOfClaimed(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	c := mustClaim(t, st, "w1", 1)
	before := snap(t, st)
	b := mustBatch(t, st, 1)
	b.State = migrate.StateSending
	ns := mustNumbers(t, st, 1)
	ns[0].Withdrawn = true
	err := st.SaveBatch(ctx, &b, ns[:1])
	if !errors.Is(err, migrate.ErrClaimed) || !errors.Is(err, migrate.ErrConflict) {
		t.Errorf("SaveBatch of a claimed batch: %v, want ErrClaimed and ErrConflict", err)
	}
	equal(t, "the *Batch's Version after a refusal", int64(0), b.Version)
	unchanged(t, st, before, "after a refused SaveBatch")
	// Other batches are free.
	b2 := mustBatch(t, st, 2)
	b2.State = migrate.StateSending
	if err := st.SaveBatch(ctx, &b2, nil); err != nil {
		t.Errorf("SaveBatch of an unclaimed batch: %v", err)
	}
	clk.Advance(ttl)
	if err := st.SaveBatch(ctx, &b, ns[:1]); err != nil {
		t.Errorf("SaveBatch once the claim expired: %v", err)
	}
	if err := st.SaveClaimed(ctx, c.Lease, &b, nil); !errors.Is(err, migrate.ErrLeaseLost) {
		t.Errorf("SaveClaimed under the expired claim: %v, want ErrLeaseLost", err)
	}
}

func testClaimNext(t *testing.T, st migrate.ClaimStore, clk *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	if err := st.AddBatches(ctx, mustMeta(t, st), batches(nil, numbers(8, 10), numbers(10, 12))); err != nil {
		t.Fatalf("AddBatches: %v", err)
	}
	// 1 accepted, 2 rejected, 3 planned, 4 sending, 5 planned.
	for i, s := range map[int]migrate.BatchState{1: migrate.StateAccepted, 2: migrate.StateRejected, 4: migrate.StateSending} {
		b := mustBatch(t, st, i)
		b.State = s
		if err := st.SaveBatch(ctx, &b, nil); err != nil {
			t.Fatalf("SaveBatch: %v", err)
		}
	}
	next := func(worker string, states ...migrate.BatchState) int {
		t.Helper()
		c, ok, err := st.ClaimNext(ctx, worker, ttl, states...)
		if err != nil {
			t.Fatalf("ClaimNext(%v): %v", states, err)
		}
		if !ok {
			return 0
		}
		equal(t, "the lease's batch", c.Lease.Batch, c.Batch.Index)
		equal(t, "the lease's worker", worker, c.Lease.Worker)
		if !migrate.InStates(c.Batch.State, states...) {
			t.Errorf("ClaimNext(%v) claimed batch %d, %s", states, c.Batch.Index, c.Batch.State)
		}
		sameLease(t, "the claim, as stored", c.Lease, mustLease(t, st, c.Lease.Batch))
		return c.Lease.Batch
	}
	equal(t, "first planned or rejected", 2, next("w1", migrate.StatePlanned, migrate.StateRejected))
	equal(t, "next planned or rejected", 3, next("w1", migrate.StatePlanned, migrate.StateRejected))
	equal(t, "first in doubt", 4, next("w2", migrate.StateSending, migrate.StateUnknown))
	equal(t, "any state", 1, next("w2"))
	equal(t, "any state, again", 5, next("w2"))
	equal(t, "nothing left", 0, next("w3"))
	equal(t, "nothing accepted left", 0, next("w3", migrate.StateAccepted))
	clk.Advance(ttl)
	equal(t, "an expired claim is claimed again", 2, next("w3", migrate.StateRejected))
	equal(t, "then the next", 3, next("w3", migrate.StatePlanned))
}

func testPending(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	if err := st.AddBatches(ctx, mustMeta(t, st), batches(nil, numbers(8, 10), numbers(10, 12), numbers(12, 13))); err != nil {
		t.Fatalf("AddBatches: %v", err)
	}
	for _, i := range []int{2, 5} {
		b := mustBatch(t, st, i)
		b.State = migrate.StateAccepted
		if err := st.SaveBatch(ctx, &b, nil); err != nil {
			t.Fatalf("SaveBatch: %v", err)
		}
	}
	mustClaim(t, st, "w1", 3) // claimed batches are listed too
	indexes := func(after, limit int, states ...migrate.BatchState) []int {
		t.Helper()
		bs, err := st.Pending(ctx, after, limit, states...)
		if err != nil {
			t.Fatalf("Pending(%d, %d, %v): %v", after, limit, states, err)
		}
		out := []int{}
		for _, b := range bs {
			equal(t, fmt.Sprintf("batch %d as Batch reads it", b.Index), mustBatch(t, st, b.Index), b)
			out = append(out, b.Index)
		}
		return out
	}
	equal(t, "all", []int{1, 2, 3, 4, 5, 6}, indexes(0, 100))
	equal(t, "planned", []int{1, 3, 4, 6}, indexes(0, 100, migrate.StatePlanned))
	equal(t, "planned, 2 at a time", []int{1, 3}, indexes(0, 2, migrate.StatePlanned))
	equal(t, "planned after 3, 2 at a time", []int{4, 6}, indexes(3, 2, migrate.StatePlanned))
	equal(t, "planned after 6", []int{}, indexes(6, 2, migrate.StatePlanned))
	equal(t, "accepted or planned after 1", []int{2, 3}, indexes(1, 2, migrate.StateAccepted, migrate.StatePlanned))
	equal(t, "in doubt", []int{}, indexes(0, 10, migrate.StateSending, migrate.StateUnknown))
	equal(t, "after a negative index", []int{1}, indexes(-5, 1))
	// Paging through all of them, one at a time.
	var paged []int
	for after := 0; ; {
		got := indexes(after, 1)
		if len(got) == 0 {
			break
		}
		paged = append(paged, got...)
		after = got[len(got)-1]
		if len(paged) > 6 {
			t.Fatal("paging does not end")
		}
	}
	equal(t, "paged one at a time", []int{1, 2, 3, 4, 5, 6}, paged)
}

func testAddBatchesIf(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	before := snap(t, st)
	m := mustMeta(t, st)
	m.Input.Name, m.Input.Numbers = "numbers-2.csv", 0 // counted by the store
	for _, n := range []int{0, 2, 4} {
		if err := st.AddBatchesIf(ctx, n, m, batches(nil, numbers(8, 10))); !errors.Is(err, migrate.ErrConflict) {
			t.Errorf("AddBatchesIf over %d batches (stored: 3): %v, want ErrConflict", n, err)
		}
	}
	unchanged(t, st, before, "after refused AddBatchesIf")
	boom := errors.New("the new input cannot be read")
	if err := st.AddBatchesIf(ctx, 3, m, batches(boom, numbers(8, 10))); !errors.Is(err, boom) {
		t.Errorf("AddBatchesIf with a failing sequence: %v, want its error", err)
	}
	unchanged(t, st, before, "after a failed AddBatchesIf")
	if err := st.AddBatchesIf(ctx, 3, m, batches(nil, numbers(8, 10))); err != nil {
		t.Fatalf("AddBatchesIf over 3 batches: %v", err)
	}
	want := m
	want.Batches, want.Input.Numbers = 4, 10
	equal(t, "Meta after AddBatchesIf", want, mustMeta(t, st))
	equal(t, "the added batch", migrate.Batch{Index: 4, State: migrate.StatePlanned, Size: 2}, mustBatch(t, st, 4))
	equal(t, "its numbers", numbers(8, 10), mustNumbers(t, st, 4))
	if err := st.AddBatchesIf(ctx, 3, m, batches(nil, numbers(10, 12))); !errors.Is(err, migrate.ErrConflict) {
		t.Errorf("a second AddBatchesIf over 3 batches: %v, want ErrConflict", err)
	}
	equal(t, "Meta after a refused AddBatchesIf", want, mustMeta(t, st))
}

func testAddBatchesIfRacing(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	started(t, st)
	ctx := ctxOf(t)
	m := mustMeta(t, st)
	const callers = 6
	var wg sync.WaitGroup
	errs := make([]error, callers)
	start := make(chan struct{})
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			mw := m
			mw.Input.Name = fmt.Sprintf("caller-%d.csv", w)
			// The same numbers from every caller: two ApplyInput at once.
			errs[w] = st.AddBatchesIf(ctx, 3, mw, batches(nil, numbers(8, 11), numbers(11, 12)))
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for w, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("callers %d and %d both added batches over 3", won, w)
		case err == nil:
			won = w
		case !errors.Is(err, migrate.ErrConflict) && !errors.Is(err, migrate.ErrDuplicate):
			t.Errorf("caller %d: %v, want nil, ErrConflict or ErrDuplicate", w, err)
		}
	}
	if won < 0 {
		t.Fatal("no caller added its batches")
	}
	got := mustMeta(t, st)
	equal(t, "batches", 5, got.Batches)
	equal(t, "the winner's input", fmt.Sprintf("caller-%d.csv", won), got.Input.Name)
	if _, err := st.Batch(ctx, 6); !errors.Is(err, migrate.ErrNoBatch) {
		t.Errorf("Batch(6): %v, want ErrNoBatch (the numbers added once)", err)
	}
}

func testDuplicates(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	ctx := ctxOf(t)
	twice := numbers(0, 3)
	twice = append(twice, numbers(1, 2)...)
	if err := st.Start(ctx, meta(), batches(nil, numbers(3, 5), twice)); !errors.Is(err, migrate.ErrDuplicate) {
		t.Errorf("Start with a number twice: %v, want ErrDuplicate", err)
	}
	if _, err := st.Meta(ctx); !errors.Is(err, migrate.ErrNoMigration) {
		t.Fatalf("Meta after a refused Start: %v, want ErrNoMigration", err)
	}
	started(t, st)
	before := snap(t, st)
	m := mustMeta(t, st)
	for name, seq := range map[string][][]migrate.NumberState{
		"a number of batch 2":       {numbers(8, 10), numbers(4, 5)},
		"a number twice among new":  {numbers(8, 10), numbers(9, 11)},
		"a number twice in a batch": {append(numbers(8, 10), numbers(8, 9)...)},
	} {
		if err := st.AddBatches(ctx, m, batches(nil, seq...)); !errors.Is(err, migrate.ErrDuplicate) {
			t.Errorf("AddBatches with %s: %v, want ErrDuplicate", name, err)
		}
		if err := st.AddBatchesIf(ctx, 3, m, batches(nil, seq...)); !errors.Is(err, migrate.ErrDuplicate) {
			t.Errorf("AddBatchesIf with %s: %v, want ErrDuplicate", name, err)
		}
	}
	unchanged(t, st, before, "after refused duplicates")
}

func testClaimsContext(t *testing.T, st migrate.ClaimStore, _ *Clock) {
	started(t, st)
	c := mustClaim(t, st, "w1", 1)
	before := snap(t, st)
	ctx, cancel := context.WithCancel(ctxOf(t))
	cancel()
	if _, err := st.Claim(ctx, "w2", ttl, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("Claim: %v, want context.Canceled", err)
	}
	if _, _, err := st.ClaimNext(ctx, "w2", ttl); !errors.Is(err, context.Canceled) {
		t.Errorf("ClaimNext: %v, want context.Canceled", err)
	}
	if _, err := st.Renew(ctx, c.Lease, 2*ttl); !errors.Is(err, context.Canceled) {
		t.Errorf("Renew: %v, want context.Canceled", err)
	}
	if err := st.Release(ctx, c.Lease); !errors.Is(err, context.Canceled) {
		t.Errorf("Release: %v, want context.Canceled", err)
	}
	b := c.Batch
	b.State = migrate.StateSending
	if err := st.SaveClaimed(ctx, c.Lease, &b, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveClaimed: %v, want context.Canceled", err)
	}
	if _, err := st.LeaseOf(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("LeaseOf: %v, want context.Canceled", err)
	}
	if _, err := st.Pending(ctx, 0, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Pending: %v, want context.Canceled", err)
	}
	if err := st.AddBatchesIf(ctx, 3, mustMeta(t, st), batches(nil, numbers(20, 22))); !errors.Is(err, context.Canceled) {
		t.Errorf("AddBatchesIf: %v, want context.Canceled", err)
	}
	unchanged(t, st, before, "after claim calls with an ended context")
	sameLease(t, "the lease", c.Lease, mustLease(t, st, 1))
	for i := 2; i <= 3; i++ {
		equal(t, fmt.Sprintf("the lease of batch %d", i), migrate.Lease{}, mustLease(t, st, i))
	}
}

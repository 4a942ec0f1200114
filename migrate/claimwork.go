package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// DefaultClaimTTL is Options.ClaimTTL when it is 0: how long a claim on
// a batch lasts unless its worker renews it. A create must fit in what
// is left of a claim when it starts (see Options.ClaimTTL): with the
// SDK's default call limits a create may take up to 5 minutes (4
// attempts of 30 s and 3 waits of up to 60 s), and four fifths of 7
// minutes cover that. A worker that dies holds its batches at most this
// long; a live worker renews every third of it, so a renewal may fail
// twice before its claim runs out.
const DefaultClaimTTL = 7 * time.Minute

const (
	// claimMargin divides the ttl into the margin kept between a
	// worker's own deadline and the claim's expiry (the time a request
	// the worker gave up on may still take to arrive), and again between
	// the deadline and a create's attempt limits when it starts.
	claimMargin = 10
	// claimPage is how many batches a worker reads at a time when it
	// looks for work: a migration of any size is paged through.
	claimPage = 64
)

// errClaimExpired is the cause of a batch's work stopped because its
// claim could not be renewed before the worker's deadline.
var errClaimExpired = fmt.Errorf("migrate: the claim on the batch ran out before it could be renewed: %w", ErrLeaseLost)

// claimTTLFor is the shortest claim a create whose attempts may take
// longest fits in: the ttl less its two margins covers it.
func claimTTLFor(longest time.Duration) time.Duration {
	d := longest * claimMargin / (claimMargin - 2)
	return d.Truncate(time.Second) + time.Second
}

// defaultWorker names a worker: this host and process, and a random
// suffix that tells two Migrators of one process apart.
func defaultWorker() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	name := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	if r := []rune(name); len(r) > MaxWorkerName {
		name = string(r[len(r)-MaxWorkerName:])
	}
	return name
}

// checkClaimOptions checks Worker and ClaimTTL against the call limits
// of the creates; it fills in their defaults.
func checkClaimOptions(o *Options, limits hostednumbers.CallLimits) []hostednumbers.FieldError {
	var problems []hostednumbers.FieldError
	need := claimTTLFor(limits.Longest())
	switch {
	case o.ClaimTTL < 0:
		problems = append(problems, hostednumbers.FieldError{Field: "claim_ttl", Message: "must not be negative (0 means the default)"})
	case o.ClaimTTL == 0:
		o.ClaimTTL = max(DefaultClaimTTL, need)
	case o.ClaimTTL < need:
		problems = append(problems, hostednumbers.FieldError{Field: "claim_ttl", Message: fmt.Sprintf(
			"is %v; a create may take %v (client.limits), and it must fit in four fifths of a claim: at least %v", o.ClaimTTL, limits.Longest(), need)})
	}
	if o.Worker == "" {
		o.Worker = defaultWorker()
	}
	if err := CheckClaim(o.Worker, time.Second); err != nil {
		var v *hostednumbers.ValidationError
		if errors.As(err, &v) {
			problems = append(problems, v.Problems...)
		}
	}
	return problems
}

// heldKey is the context key of the claim a batch's work runs under.
type heldKey struct{}

// held is a claim the engine works under: the batch's work runs with a
// context that carries it (every save is then SaveClaimed) and that ends
// at once when the claim is lost. A keeper renews it every third of its
// ttl.
type held struct {
	cs  ClaimStore
	ttl time.Duration
	// previous is the claim this one replaced; prevEnd is when it ended
	// at the latest, by the engine's clock (0 if there was none).
	previous Lease
	prevEnd  time.Time
	// storeAt is when the claim was taken, by the store's clock.
	storeAt time.Time

	mu    sync.Mutex
	lease Lease
	// deadline is this worker's own end of the claim, by this machine's
	// monotonic clock: taken before the claim or renewal was sent, plus
	// the ttl less a margin, so never after the claim's Expires whatever
	// the offset between the clocks.
	deadline time.Time

	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
	ended  sync.Once
}

// heldOf returns the claim ctx's work runs under, or nil.
func heldOf(ctx context.Context) *held {
	h, _ := ctx.Value(heldKey{}).(*held)
	return h
}

func (h *held) current() Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lease
}

func (h *held) margin() time.Duration { return h.ttl / claimMargin }

// claimBatch claims batch index and returns the claim, the batch as it
// was claimed, and the context the batch's work runs with: it ends when
// ctx does, or at once when the claim is lost or runs out. The caller
// ends the claim with end (or abandon).
func (m *Migrator) claimBatch(ctx context.Context, index int) (*held, Batch, context.Context, error) {
	ttl := m.o.ClaimTTL
	sent := time.Now()
	c, err := m.cs.Claim(ctx, m.o.Worker, ttl, index)
	if err != nil {
		return nil, Batch{}, nil, err
	}
	local := m.o.Clock.Now()
	h := &held{cs: m.cs, ttl: ttl, lease: c.Lease, previous: c.Previous, storeAt: c.Lease.Expires.Add(-ttl),
		stop: make(chan struct{}), done: make(chan struct{})}
	h.deadline = sent.Add(ttl - h.margin())
	if c.Previous.Held() {
		// The previous claim ended before this one was taken, by the
		// store's clock; by the engine's, at most that long before the
		// claim's answer came back. No offset between the clocks enters.
		h.prevEnd = local.Add(-max(h.storeAt.Sub(c.Previous.Expires), 0))
	}
	bctx, cancel := context.WithCancelCause(context.WithValue(ctx, heldKey{}, h))
	h.cancel = cancel
	go h.keep(bctx)
	return h, c.Batch, bctx, nil
}

// keep renews the claim every third of its ttl until it is ended, and
// ends the work at once when the claim is lost or its deadline passes
// without a renewal.
func (h *held) keep(ctx context.Context) {
	defer close(h.done)
	every := h.ttl / 3
	next := time.Now().Add(every)
	for {
		h.mu.Lock()
		deadline := h.deadline
		h.mu.Unlock()
		wake := next
		if deadline.Before(wake) {
			wake = deadline
		}
		t := time.NewTimer(time.Until(wake))
		select {
		case <-h.stop:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		h.mu.Lock()
		deadline = h.deadline
		h.mu.Unlock()
		if !time.Now().Before(deadline) {
			h.cancel(errClaimExpired)
			return
		}
		if time.Now().Before(next) {
			continue
		}
		switch err := h.renew(ctx); {
		case err == nil:
			next = time.Now().Add(every)
		case errors.Is(err, ErrLeaseLost):
			h.cancel(err)
			return
		default:
			// The store did not answer: try again sooner; the deadline
			// stands.
			next = time.Now().Add(every / 4)
		}
	}
}

// renew extends the claim by its ttl and moves the deadline on.
func (h *held) renew(ctx context.Context) error {
	l := h.current()
	sent := time.Now()
	nl, err := h.cs.Renew(ctx, l, h.ttl)
	if err != nil {
		return fmt.Errorf("renewing the claim on batch %d: %w", l.Batch, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lease = nl
	if d := sent.Add(h.ttl - h.margin()); d.After(h.deadline) {
		h.deadline = d
	}
	return nil
}

// forCreate renews the claim and returns the deadline a create sent now
// runs under, and the claim's token, or an error (wrapping ErrLeaseLost
// when the claim is lost) if not enough of the claim is left for a
// create that may take longest.
func (h *held) forCreate(ctx context.Context, longest time.Duration) (time.Time, int64, error) {
	if err := h.renew(ctx); err != nil {
		return time.Time{}, 0, err
	}
	h.mu.Lock()
	deadline, token := h.deadline, h.lease.Token
	h.mu.Unlock()
	if left := time.Until(deadline); left < longest+h.margin() {
		return time.Time{}, 0, fmt.Errorf("migrate: %v of the claim is left, less than a create may take (%v): nothing was sent: %w",
			left.Round(time.Millisecond), longest, ErrLeaseLost)
	}
	return deadline, token, nil
}

// end stops the keeper and releases the claim: only once the batch's
// work has returned (a create included), since the release's time bounds
// it. A claim already lost needs no release.
func (h *held) end(ctx context.Context) {
	h.ended.Do(func() {
		close(h.stop)
		<-h.done
		// Released even when the run was stopped, but not waited for
		// long: a claim not released expires by itself.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(h.ttl, 10*time.Second))
		defer cancel()
		_ = h.cs.Release(rctx, h.current()) // lost or unreachable: it expires by itself
		h.cancel(nil)
	})
}

// abandon stops the keeper and leaves the claim to expire: what a worker
// that dies does.
func (h *held) abandon() {
	h.ended.Do(func() {
		close(h.stop)
		<-h.done
		h.cancel(nil)
	})
}

// leaseTrouble reports whether err, from work under the claim of bctx,
// is about the batch being another worker's (a lost claim, a batch held
// or changed by another): the worker moves on, and the run goes on.
func leaseTrouble(ctx, bctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	return errors.Is(err, ErrLeaseLost) || errors.Is(err, ErrClaimed) || errors.Is(err, ErrConflict) ||
		errors.Is(context.Cause(bctx), ErrLeaseLost)
}

// saveBatch records b and changed: under the claim ctx's work runs
// under, if any (SaveClaimed), else with SaveBatch.
func (m *Migrator) saveBatch(ctx context.Context, b *Batch, changed []NumberState) error {
	if h := heldOf(ctx); h != nil {
		return h.cs.SaveClaimed(ctx, h.current(), b, changed)
	}
	return m.o.Store.SaveBatch(ctx, b, changed)
}

// sleepReal waits d by this machine's clock: waiting for other workers,
// who work in real time whatever the migration's Clock.
func sleepReal(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// joined returns a context that ends when a or b does, with a's values.
func joined(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

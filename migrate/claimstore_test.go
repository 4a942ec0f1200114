package migrate

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"
)

// claimMem is the harness's memStore with claims: a ClaimStore in
// memory on a clock of its own (now), as a database's is.
type claimMem struct {
	*memStore
	now func() time.Time

	mu     sync.Mutex
	leases map[int]Lease
	// onRenew, if set, is asked before each Renew; an error it returns
	// is Renew's, and nothing is recorded.
	onRenew func(l Lease) error
	// claims counts the claims taken, by worker.
	claims map[string]int
}

var _ ClaimStore = (*claimMem)(nil)

func newClaimMem(s *memStore, now func() time.Time) *claimMem {
	return &claimMem{memStore: s, now: now, leases: make(map[int]Lease), claims: make(map[string]int)}
}

func (s *claimMem) count() int {
	s.memStore.mu.Lock()
	defer s.memStore.mu.Unlock()
	return len(s.batches)
}

func (s *claimMem) live(index int) bool {
	l := s.leases[index]
	return l.Held() && s.now().Before(l.Expires)
}

func (s *claimMem) current(l Lease) bool {
	have := s.leases[l.Batch]
	return s.live(l.Batch) && have.Token == l.Token && have.Worker == l.Worker
}

func (s *claimMem) SaveBatch(ctx context.Context, b *Batch, changed []NumberState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live(b.Index) {
		return fmt.Errorf("batch %d: %w (%w)", b.Index, ErrClaimed, ErrConflict)
	}
	return s.memStore.SaveBatch(ctx, b, changed)
}

func (s *claimMem) Claim(ctx context.Context, worker string, ttl time.Duration, index int) (Claimed, error) {
	if err := CheckClaim(worker, ttl); err != nil {
		return Claimed{}, err
	}
	if err := ctx.Err(); err != nil {
		return Claimed{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > s.count() {
		return Claimed{}, fmt.Errorf("batch %d: %w", index, ErrNoBatch)
	}
	if s.live(index) {
		return Claimed{}, fmt.Errorf("batch %d held by %s: %w", index, s.leases[index].Worker, ErrClaimed)
	}
	return s.claim(ctx, worker, ttl, index)
}

func (s *claimMem) claim(ctx context.Context, worker string, ttl time.Duration, index int) (Claimed, error) {
	b, err := s.Batch(ctx, index)
	if err != nil {
		return Claimed{}, err
	}
	prev := s.leases[index]
	l := Lease{Batch: index, Worker: worker, Token: prev.Token + 1, Expires: s.now().Add(ttl)}
	s.leases[index] = l
	s.claims[worker]++
	return Claimed{Lease: l, Batch: b, Previous: prev}, nil
}

func (s *claimMem) ClaimNext(ctx context.Context, worker string, ttl time.Duration, states ...BatchState) (Claimed, bool, error) {
	if err := CheckClaim(worker, ttl, states...); err != nil {
		return Claimed{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; i <= s.count(); i++ {
		b, err := s.Batch(ctx, i)
		if err != nil {
			return Claimed{}, false, err
		}
		if s.live(i) || !InStates(b.State, states...) {
			continue
		}
		c, err := s.claim(ctx, worker, ttl, i)
		return c, err == nil, err
	}
	return Claimed{}, false, nil
}

func (s *claimMem) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return l, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onRenew != nil {
		if err := s.onRenew(l); err != nil {
			return l, err
		}
	}
	if !s.current(l) {
		return l, ErrLeaseLost
	}
	l = s.leases[l.Batch]
	l.Expires = s.now().Add(ttl)
	s.leases[l.Batch] = l
	return l, nil
}

func (s *claimMem) Release(ctx context.Context, l Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.current(l) {
		return ErrLeaseLost
	}
	l = s.leases[l.Batch]
	l.Expires = s.now()
	s.leases[l.Batch] = l
	return nil
}

func (s *claimMem) SaveClaimed(ctx context.Context, l Lease, b *Batch, changed []NumberState) error {
	if b.Index != l.Batch {
		return fmt.Errorf("batch %d saved under the claim of batch %d", b.Index, l.Batch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.current(l) {
		return fmt.Errorf("batch %d: %w", b.Index, ErrLeaseLost)
	}
	return s.memStore.SaveBatch(ctx, b, changed)
}

func (s *claimMem) LeaseOf(ctx context.Context, index int) (Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leases[index], ctx.Err()
}

func (s *claimMem) Pending(ctx context.Context, after, limit int, states ...BatchState) ([]Batch, error) {
	if err := CheckPending(limit, states...); err != nil {
		return nil, err
	}
	var out []Batch
	for i := max(after, 0) + 1; i <= s.count() && len(out) < limit; i++ {
		b, err := s.Batch(ctx, i)
		if err != nil {
			return nil, err
		}
		if InStates(b.State, states...) {
			out = append(out, b)
		}
	}
	return out, ctx.Err()
}

func (s *claimMem) AddBatchesIf(ctx context.Context, batches int, meta Meta, add iter.Seq2[[]NumberState, error]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count() != batches {
		return ErrConflict
	}
	return s.AddBatches(ctx, meta, add)
}

// steal ends l's batch's claim, as an expiry does, and gives the batch to
// worker.
func (s *claimMem) steal(index int, worker string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.leases[index]
	s.leases[index] = Lease{Batch: index, Worker: worker, Token: prev.Token + 1, Expires: s.now().Add(time.Hour)}
}

// storeClock is a store's clock: real time plus what a test moved it on.
type storeClock struct {
	mu   sync.Mutex
	skip time.Duration
}

func (c *storeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skip)
}

func (c *storeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skip += d
}

package storetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/storetest"
)

// memStore is a user's store, as small as the contract allows: in
// memory, one mutex, batches kept as JSON so that no caller shares its
// slices or maps.
type memStore struct {
	mu      sync.Mutex
	meta    *migrate.Meta
	batches [][]byte // JSON of migrate.Batch
	numbers [][]migrate.NumberState
	// leases are the batches' last claims, by index - 1; now is the
	// store's clock.
	leases []migrate.Lease
	now    func() time.Time
}

func (s *memStore) Meta(ctx context.Context) (migrate.Meta, error) {
	if err := ctx.Err(); err != nil {
		return migrate.Meta{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return migrate.Meta{}, migrate.ErrNoMigration
	}
	return *s.meta, nil
}

// plan reads batches into new batch documents and numbers, numbered
// after the first ones.
func plan(ctx context.Context, first int, held map[string]bool, batches iter.Seq2[[]migrate.NumberState, error]) ([][]byte, [][]migrate.NumberState, int, error) {
	var docs [][]byte
	var nums [][]migrate.NumberState
	n := 0
	seen := make(map[string]bool)
	for b, err := range batches {
		if err != nil {
			return nil, nil, 0, err
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		for i := range b {
			p := b[i].PhoneNumber()
			if held[p] || seen[p] {
				return nil, nil, 0, fmt.Errorf("batch %d: %s: %w", first+len(docs)+1, p, migrate.ErrDuplicate)
			}
			seen[p] = true
		}
		doc, err := json.Marshal(migrate.Batch{Index: first + len(docs) + 1, State: migrate.StatePlanned, Size: len(b)})
		if err != nil {
			return nil, nil, 0, err
		}
		docs = append(docs, doc)
		nums = append(nums, clone(b))
		n += len(b)
	}
	return docs, nums, n, nil
}

func clone(ns []migrate.NumberState) []migrate.NumberState {
	data, err := json.Marshal(ns)
	if err != nil {
		panic(err)
	}
	var out []migrate.NumberState
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

func (s *memStore) Start(ctx context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta != nil {
		return migrate.ErrExists
	}
	docs, nums, n, err := plan(ctx, 0, nil, batches)
	if err != nil {
		return err
	}
	meta.Batches = len(docs)
	if meta.Input.Numbers == 0 {
		meta.Input.Numbers = n
	}
	s.meta, s.batches, s.numbers, s.leases = &meta, docs, nums, make([]migrate.Lease, len(docs))
	return nil
}

func (s *memStore) Batch(ctx context.Context, index int) (migrate.Batch, error) {
	if err := ctx.Err(); err != nil {
		return migrate.Batch{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > len(s.batches) {
		return migrate.Batch{}, fmt.Errorf("batch %d: %w", index, migrate.ErrNoBatch)
	}
	var b migrate.Batch
	err := json.Unmarshal(s.batches[index-1], &b)
	return b, err
}

func (s *memStore) Numbers(ctx context.Context, index int) ([]migrate.NumberState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > len(s.numbers) {
		return nil, fmt.Errorf("batch %d: %w", index, migrate.ErrNoBatch)
	}
	return clone(s.numbers[index-1]), nil
}

func (s *memStore) SaveBatch(ctx context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Index < 1 || b.Index > len(s.batches) {
		return fmt.Errorf("batch %d: %w", b.Index, migrate.ErrNoBatch)
	}
	if s.live(b.Index) {
		return fmt.Errorf("batch %d: %w (%w)", b.Index, migrate.ErrClaimed, migrate.ErrConflict)
	}
	return s.save(b, changed)
}

// save is SaveBatch once the claims allow it.
func (s *memStore) save(b *migrate.Batch, changed []migrate.NumberState) error {
	var stored migrate.Batch
	if err := json.Unmarshal(s.batches[b.Index-1], &stored); err != nil {
		return err
	}
	if stored.Version != b.Version {
		return migrate.ErrConflict
	}
	nums := clone(s.numbers[b.Index-1])
	at := make(map[string]int, len(nums))
	for i := range nums {
		at[nums[i].PhoneNumber()] = i
	}
	for _, c := range changed {
		i, ok := at[c.PhoneNumber()]
		if !ok {
			return fmt.Errorf("batch %d does not hold %s", b.Index, c.PhoneNumber())
		}
		c.Number, c.Line = nums[i].Number, nums[i].Line
		nums[i] = c
	}
	next := *b
	next.Version++
	doc, err := json.Marshal(next)
	if err != nil {
		return err
	}
	s.batches[b.Index-1], s.numbers[b.Index-1] = doc, nums
	b.Version = next.Version
	return nil
}

func (s *memStore) AddBatches(ctx context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	return s.AddBatchesIf(ctx, -1, meta, batches)
}

// AddBatchesIf is AddBatches if the migration has want batches; -1
// accepts any.
func (s *memStore) AddBatchesIf(ctx context.Context, want int, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	if want >= 0 && want != len(s.batches) {
		return fmt.Errorf("the migration has %d batches, not %d: %w", len(s.batches), want, migrate.ErrConflict)
	}
	held := make(map[string]bool)
	for _, ns := range s.numbers {
		for i := range ns {
			held[ns[i].PhoneNumber()] = true
		}
	}
	docs, nums, n, err := plan(ctx, len(s.batches), held, batches)
	if err != nil {
		return err
	}
	for _, ns := range s.numbers {
		n += len(ns)
	}
	meta.Batches = len(s.batches) + len(docs)
	if meta.Input.Numbers == 0 {
		meta.Input.Numbers = n
	}
	s.meta, s.batches, s.numbers = &meta, append(s.batches, docs...), append(s.numbers, nums...)
	s.leases = append(s.leases, make([]migrate.Lease, len(docs))...)
	return nil
}

func (s *memStore) Close() error { return nil }

// live reports whether a live claim holds batch index (valid).
func (s *memStore) live(index int) bool {
	l := s.leases[index-1]
	return l.Token != 0 && s.now().Before(l.Expires)
}

// current reports whether l is batch l.Batch's live claim.
func (s *memStore) current(l migrate.Lease) bool {
	if l.Batch < 1 || l.Batch > len(s.leases) {
		return false
	}
	have := s.leases[l.Batch-1]
	return s.live(l.Batch) && have.Token == l.Token && have.Worker == l.Worker
}

func (s *memStore) Claim(ctx context.Context, worker string, ttl time.Duration, index int) (migrate.Claimed, error) {
	if err := migrate.CheckClaim(worker, ttl); err != nil {
		return migrate.Claimed{}, err
	}
	if err := ctx.Err(); err != nil {
		return migrate.Claimed{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > len(s.batches) {
		return migrate.Claimed{}, fmt.Errorf("batch %d: %w", index, migrate.ErrNoBatch)
	}
	if s.live(index) {
		return migrate.Claimed{}, fmt.Errorf("batch %d: %w", index, migrate.ErrClaimed)
	}
	return s.claim(worker, ttl, index)
}

func (s *memStore) claim(worker string, ttl time.Duration, index int) (migrate.Claimed, error) {
	var b migrate.Batch
	if err := json.Unmarshal(s.batches[index-1], &b); err != nil {
		return migrate.Claimed{}, err
	}
	prev := s.leases[index-1]
	l := migrate.Lease{Batch: index, Worker: worker, Token: prev.Token + 1, Expires: s.now().Add(ttl)}
	s.leases[index-1] = l
	return migrate.Claimed{Lease: l, Batch: b, Previous: prev}, nil
}

func (s *memStore) ClaimNext(ctx context.Context, worker string, ttl time.Duration, states ...migrate.BatchState) (migrate.Claimed, bool, error) {
	if err := migrate.CheckClaim(worker, ttl, states...); err != nil {
		return migrate.Claimed{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return migrate.Claimed{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.batches {
		var b migrate.Batch
		if err := json.Unmarshal(s.batches[i], &b); err != nil {
			return migrate.Claimed{}, false, err
		}
		if s.live(i+1) || !migrate.InStates(b.State, states...) {
			continue
		}
		c, err := s.claim(worker, ttl, i+1)
		return c, err == nil, err
	}
	return migrate.Claimed{}, false, nil
}

func (s *memStore) Renew(ctx context.Context, l migrate.Lease, ttl time.Duration) (migrate.Lease, error) {
	if err := migrate.CheckClaim(l.Worker, ttl); err != nil {
		return l, err
	}
	if err := ctx.Err(); err != nil {
		return l, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.current(l) {
		return l, migrate.ErrLeaseLost
	}
	l = s.leases[l.Batch-1]
	l.Expires = s.now().Add(ttl)
	s.leases[l.Batch-1] = l
	return l, nil
}

func (s *memStore) Release(ctx context.Context, l migrate.Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.current(l) {
		return migrate.ErrLeaseLost
	}
	s.leases[l.Batch-1].Expires = s.now()
	return nil
}

func (s *memStore) SaveClaimed(ctx context.Context, l migrate.Lease, b *migrate.Batch, changed []migrate.NumberState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Index != l.Batch {
		return fmt.Errorf("batch %d saved under the claim of batch %d", b.Index, l.Batch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Index < 1 || b.Index > len(s.batches) {
		return fmt.Errorf("batch %d: %w", b.Index, migrate.ErrNoBatch)
	}
	if !s.current(l) {
		return migrate.ErrLeaseLost
	}
	return s.save(b, changed)
}

func (s *memStore) LeaseOf(ctx context.Context, index int) (migrate.Lease, error) {
	if err := ctx.Err(); err != nil {
		return migrate.Lease{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if index < 1 || index > len(s.leases) {
		return migrate.Lease{}, fmt.Errorf("batch %d: %w", index, migrate.ErrNoBatch)
	}
	return s.leases[index-1], nil
}

func (s *memStore) Pending(ctx context.Context, after, limit int, states ...migrate.BatchState) ([]migrate.Batch, error) {
	if err := migrate.CheckPending(limit, states...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []migrate.Batch
	for i := max(after, 0); i < len(s.batches) && len(out) < limit; i++ {
		var b migrate.Batch
		if err := json.Unmarshal(s.batches[i], &b); err != nil {
			return nil, err
		}
		if migrate.InStates(b.State, states...) {
			out = append(out, b)
		}
	}
	return out, nil
}

// A store of one's own runs the contract: here, one in memory.
func TestMemoryStoreFollowsTheContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) migrate.Store { return &memStore{now: time.Now} })
}

// And the contract of claims.
func TestMemoryStoreFollowsTheClaimsContract(t *testing.T) {
	storetest.RunClaims(t, func(_ *testing.T, now func() time.Time) migrate.ClaimStore { return &memStore{now: now} })
}

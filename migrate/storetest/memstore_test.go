package storetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sync"
	"testing"

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
func plan(ctx context.Context, first int, batches iter.Seq2[[]migrate.NumberState, error]) ([][]byte, [][]migrate.NumberState, int, error) {
	var docs [][]byte
	var nums [][]migrate.NumberState
	n := 0
	for b, err := range batches {
		if err != nil {
			return nil, nil, 0, err
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
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
	docs, nums, n, err := plan(ctx, 0, batches)
	if err != nil {
		return err
	}
	meta.Batches = len(docs)
	if meta.Input.Numbers == 0 {
		meta.Input.Numbers = n
	}
	s.meta, s.batches, s.numbers = &meta, docs, nums
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
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return migrate.ErrNoMigration
	}
	docs, nums, n, err := plan(ctx, len(s.batches), batches)
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
	return nil
}

func (s *memStore) Close() error { return nil }

// A store of one's own runs the contract: here, one in memory.
func TestMemoryStoreFollowsTheContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) migrate.Store { return &memStore{} })
}

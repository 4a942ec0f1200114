package migrate

import (
	"context"
	"iter"
)

// Store keeps one migration: its Meta, its batches and their numbers.
// Every method is durable when it returns: the engine records each step
// before it takes it ("sending" before the create goes out), so a store
// that acknowledges a write it may lose could host numbers twice.
//
// The interface assumes no single writer in one process. Each batch
// carries a Version; SaveBatch writes only over the version it was given
// and answers ErrConflict otherwise, so several workers can share one
// migration in a database: a worker claims a planned batch by saving it
// as "sending" (one of two claims wins, the other gets ErrConflict and
// moves on), and every later change of the batch is a compare-and-set on
// its row. Numbers belong to exactly one batch and change only with it.
// A SQL implementation is a table of batches (index, state, version,
// document) and one of numbers (batch, position, document), SaveBatch one
// transaction: UPDATE batches … WHERE index = ? AND version = ?, then the
// numbers' rows.
type Store interface {
	// Meta returns the migration's description, or ErrNoMigration.
	Meta(ctx context.Context) (Meta, error)
	// Start records a new migration, all or nothing: meta, then its
	// batches in order (batch i+1 is the i-th slice the sequence yields,
	// each number in its input order). If the sequence yields an error,
	// nothing is recorded and Start returns it. A store that already
	// holds a migration answers ErrExists.
	Start(ctx context.Context, meta Meta, batches iter.Seq2[[]NumberState, error]) error
	// Batch returns batch index (1 to Meta.Batches) without its numbers.
	Batch(ctx context.Context, index int) (Batch, error)
	// Numbers returns the numbers of batch index, in their order.
	Numbers(ctx context.Context, index int) ([]NumberState, error)
	// SaveBatch records b and the states of the numbers in changed
	// (numbers of batch b.Index, matched by phone number; their Number
	// settings are not changed), all or nothing, if the stored batch's
	// Version is b.Version; b.Version is then one more. Otherwise it
	// returns ErrConflict and records nothing.
	SaveBatch(ctx context.Context, b *Batch, changed []NumberState) error
	// AddBatches records meta (a changed input's description, say) and
	// appends batches after the last one, all or nothing, as Start does;
	// meta.Batches and meta.Input.Numbers are set by the store.
	AddBatches(ctx context.Context, meta Meta, batches iter.Seq2[[]NumberState, error]) error
	// Close releases the store.
	Close() error
}

package migrate

import (
	"context"
	"errors"
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
//
// The rules every Store follows (the package migrate/storetest checks
// each; run it on your own store):
//
//   - Context: a method called with a context that has ended returns an
//     error wrapping ctx.Err() and records nothing.
//   - Errors: an error from a method that records (Start, SaveBatch,
//     AddBatches) means it recorded nothing: later reads answer as before
//     the call. The one exception is a store that can no longer tell what
//     is durable (a failed fsync, a commit whose answer was lost): it
//     fails closed, answering every later call with an error, and the
//     step may or may not be found when the store is opened again. A
//     caller never acts on a step whose save returned an error, so either
//     outcome is safe.
//   - Versions: Start (and AddBatches) record each new batch at Version 0,
//     state StatePlanned, Size its number of numbers, Index its place
//     (1-based). Each SaveBatch that succeeds adds one to the batch's
//     Version, in the store and in the *Batch it was given.
//   - A batch that does not exist (index below 1 or above Meta.Batches)
//     is an error wrapping ErrNoBatch from Batch, Numbers and SaveBatch.
//   - SaveBatch refuses, recording nothing, a changed number that is not
//     of the batch.
type Store interface {
	// Meta returns the migration's description, or ErrNoMigration.
	Meta(ctx context.Context) (Meta, error)
	// Start records a new migration, all or nothing: meta, then its
	// batches in order (batch i+1 is the i-th slice the sequence yields,
	// each number in its input order). The store sets meta.Batches to the
	// number of batches and, when meta.Input.Numbers is 0, sets it to the
	// number of numbers. If the sequence yields an error, nothing is
	// recorded and Start returns it. A store that already holds a
	// migration answers ErrExists.
	Start(ctx context.Context, meta Meta, batches iter.Seq2[[]NumberState, error]) error
	// Batch returns batch index (1 to Meta.Batches) without its numbers,
	// or an error wrapping ErrNoBatch. The Batch returned is the caller's
	// own copy.
	Batch(ctx context.Context, index int) (Batch, error)
	// Numbers returns the numbers of batch index, in their order, or an
	// error wrapping ErrNoBatch.
	Numbers(ctx context.Context, index int) ([]NumberState, error)
	// SaveBatch records b and the states of the numbers in changed
	// (numbers of batch b.Index, matched by phone number; their Number
	// settings are not changed), all or nothing, if the stored batch's
	// Version is b.Version; b.Version is then one more. Otherwise it
	// returns ErrConflict and records nothing. A number of changed that
	// is not of the batch is refused, and nothing recorded.
	SaveBatch(ctx context.Context, b *Batch, changed []NumberState) error
	// AddBatches records meta (a changed input's description, say) and
	// appends batches after the last one, all or nothing, as Start does;
	// meta.Batches is set by the store to the number of batches, and
	// meta.Input.Numbers, when 0, to the number of numbers of all of
	// them. The earlier batches are kept as they are. Without a migration
	// it answers ErrNoMigration.
	AddBatches(ctx context.Context, meta Meta, batches iter.Seq2[[]NumberState, error]) error
	// Close releases the store.
	Close() error
}

// ErrNoBatch is wrapped by a Store's answer about a batch index it does
// not hold.
var ErrNoBatch = errors.New("migrate: the store holds no such batch")

package migrate

import (
	"context"
	"errors"
	"iter"
	"time"
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

// ErrDuplicate is wrapped by the answer of Start or AddBatches given a
// number the migration holds already (or twice): a number belongs to one
// batch. Nothing is recorded.
var ErrDuplicate = errors.New("migrate: a number the migration holds already")

// ClaimStore is a Store that several workers share: before a worker
// checks, sends, reconciles or refreshes a batch, it claims it, and the
// claim (a Lease) keeps every other worker off the batch until it expires
// or is released. The engine uses these methods when its Store has them
// (a type assertion), one code path for one worker or many.
//
// The rules every ClaimStore follows (migrate/storetest's RunClaims
// checks each):
//
//   - One clock. A claim is live while the store's clock is before its
//     Expires (at Expires it has expired). Every expiry is decided by the
//     store's one clock, never by the workers' own: a worker whose clock
//     runs ahead would otherwise take live claims. A worker counts its
//     own deadline from just before it sent Claim or Renew, by its
//     monotonic clock (sent + ttl): that deadline is never after Expires,
//     whatever the offset between the clocks, so a holder that stops work
//     at its deadline has stopped before any other worker can claim.
//   - One winner. Of workers claiming one batch at once, one gets it; the
//     others get ErrClaimed (Claim) or another batch (ClaimNext). A live
//     claim is exclusive whatever the worker names: a worker renews its
//     claim, it never claims it again.
//   - Fencing. Every new claim of a batch has a greater Token than every
//     earlier one of it, after an expiry or a release too. SaveClaimed,
//     Renew and Release act only under the batch's live claim (its token,
//     its worker, before its expiry); otherwise they answer ErrLeaseLost
//     and record nothing. An expired claim is lost even if no other
//     worker took the batch: its holder claims it again, with a new
//     token.
//   - A lost claim (ErrLeaseLost), a batch held by another (ErrClaimed) or
//     a conflict (ErrConflict) fails no run: the worker leaves the batch
//     and moves on to other work.
//   - Claimed batches are the holder's: SaveBatch (a save without a
//     claim) of a batch under a live claim is refused with an error
//     matching both ErrClaimed and ErrConflict, and records nothing.
//     Versions still apply under a claim: SaveClaimed over another version
//     is ErrConflict.
//   - The last claim stays: LeaseOf answers a batch's last claim, live,
//     expired or released, with its last Expires (a release sets Expires
//     to the release's time), and Claimed.Previous is the claim a new one
//     replaced. A batch left "sending" by an expired claim had its create
//     in flight at most until that Expires (and the create's own attempt
//     limits): its settle window counts from there, never from another
//     worker's start. A store that is reopened keeps its claims.
//   - Bounded memory. ClaimNext and Pending read the batches in index
//     order and return one, or at most limit: a worker pages through a
//     migration of any size.
//   - Migration-wide changes are compare-and-set: AddBatchesIf records
//     only while Meta.Batches is what its caller read, else ErrConflict;
//     of two concurrent ApplyInput, one adds the batches, the other reads
//     again and finds its numbers there. A number is in one batch only:
//     Start and AddBatches refuse a duplicate (ErrDuplicate).
//   - Claims record nothing of the batch: a claim, renewal or release
//     leaves the batch's document and Version as they were.
//   - Arguments are checked before anything is recorded (CheckClaim,
//     CheckPending): an empty worker name, a ttl that is not positive, an
//     unknown state or a limit below 1 is a *hostednumbers.ValidationError.
//     The rules of Store (contexts, ErrNoBatch, ErrNoMigration) hold for
//     every method.
type ClaimStore interface {
	Store
	// Claim claims batch index for worker, for ttl, if no live claim
	// holds it, and returns the claim. A batch under a live claim is
	// ErrClaimed (whoever holds it, worker itself included); a batch that
	// does not exist, ErrNoBatch.
	Claim(ctx context.Context, worker string, ttl time.Duration, index int) (Claimed, error)
	// ClaimNext claims, for worker and ttl, the batch of lowest index in
	// one of states (no states: any state) that no live claim holds. ok
	// is false, with no error, when there is none (or no migration).
	ClaimNext(ctx context.Context, worker string, ttl time.Duration, states ...BatchState) (c Claimed, ok bool, err error)
	// Renew extends the live claim l to ttl from now (the store's now),
	// and returns it with its new Expires, the same token. A claim that
	// is not live (expired, released, taken) is ErrLeaseLost.
	Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// Release ends the live claim l now: the batch can be claimed at once,
	// and its last claim's Expires is the release's time. Release only
	// after the batch's work has ended (a create returned): the release
	// time bounds it. A claim that is not live is ErrLeaseLost.
	Release(ctx context.Context, l Lease) error
	// SaveClaimed is SaveBatch under the live claim l (b.Index must be
	// l.Batch): it records b and changed as SaveBatch does, if l is still
	// the batch's live claim (else ErrLeaseLost) and the stored version
	// is b.Version (else ErrConflict). An error records nothing.
	SaveClaimed(ctx context.Context, l Lease, b *Batch, changed []NumberState) error
	// LeaseOf returns batch index's last claim: live, expired or
	// released; the zero Lease if it was never claimed.
	LeaseOf(ctx context.Context, index int) (Lease, error)
	// Pending returns up to limit batches, without their numbers, in
	// index order, of index above after and in one of states (no states:
	// any state), claimed or not. Fewer than limit means there are no
	// more; none (and no error) without a migration.
	Pending(ctx context.Context, after, limit int, states ...BatchState) ([]Batch, error)
	// AddBatchesIf is AddBatches if Meta.Batches is still batches (what
	// the caller read); otherwise it is ErrConflict and records nothing.
	AddBatchesIf(ctx context.Context, batches int, meta Meta, add iter.Seq2[[]NumberState, error]) error
}

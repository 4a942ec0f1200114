package migrate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"strconv"
	"strings"
)

// InputChanges is what ApplyInput changed in a migration.
type InputChanges struct {
	// Added numbers were put in new batches; Withdrawn ones, removed from
	// the input before they were submitted, will never be sent; Restored
	// ones, withdrawn earlier, are back.
	Added, Withdrawn, Restored int
}

// InputChangeError is an input that differs from a migration's in a way
// ApplyInput does not allow: a number Twilio has (or may have) removed
// from it, or a number whose settings changed.
type InputChangeError struct {
	// RemovedSubmitted are numbers no longer in the input that were
	// submitted (or may have been).
	RemovedSubmitted []string
	// ChangedSettings are numbers whose settings differ from the
	// migration's.
	ChangedSettings []string
}

func (e *InputChangeError) Error() string {
	var parts []string
	if n := len(e.RemovedSubmitted); n > 0 {
		parts = append(parts, fmt.Sprintf("%d number%s submitted already %s no longer in the input (%s): Twilio has them, so they cannot be taken out", n, plural(n), isAre(n), firstFew(e.RemovedSubmitted)))
	}
	if n := len(e.ChangedSettings); n > 0 {
		parts = append(parts, fmt.Sprintf("%d number%s %s other settings than the migration has (%s): to change a number's settings, remove it from the input and run (it is withdrawn if it was not submitted), then add it back with the new settings", n, plural(n), hasHave(n), firstFew(e.ChangedSettings)))
	}
	return strings.Join(parts, "; ")
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func firstFew(list []string) string {
	const show = 3
	if len(list) <= show {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:show], ", ") + ", …"
}

// numberKey is a phone number as a number, for indexing a million of them.
func numberKey(e164 string) uint64 {
	k, _ := strconv.ParseUint(strings.TrimPrefix(e164, "+"), 10, 64)
	return k<<4 | uint64(len(e164)&0xf) //nolint:gosec // masked: the length keeps +01 and +1 apart
}

func settingsHash(n *NumberState) uint64 {
	h := fnv.New64a()
	data, err := n.Number.MarshalJSON()
	if err != nil {
		data = []byte(n.PhoneNumber())
	}
	_, _ = h.Write(data) // a hash's Write never fails
	return h.Sum64()
}

// maxInputAttempts is how many times ApplyInput reads the migration and
// tries to record the changes, when other workers change it meanwhile.
const maxInputAttempts = 10

// InputConflictError is an ApplyInput that recorded only part of its
// changes, or none, because other workers changed the migration while it
// ran: they kept adding batches or saving the batches it changes
// (Attempts times in a row), or a batch whose numbers it withdraws or
// restores is held by another worker's live claim (Batch). What it
// recorded a later ApplyInput keeps; run it again (once the claim is
// released). It matches ErrConflict, and ErrClaimed for a held batch.
type InputConflictError struct {
	// Attempts is how many times the migration was read and the changes
	// tried.
	Attempts int
	// Batch is the batch held by another worker's claim, or 0.
	Batch int
	// Err is the last conflict.
	Err error
}

func (e *InputConflictError) Error() string {
	if e.Batch != 0 {
		return fmt.Sprintf("migrate: the input was not taken in: batch %d is held by another worker (%v); run again once it is released", e.Batch, e.Err)
	}
	return fmt.Sprintf("migrate: the input was not taken in: other workers changed the migration meanwhile, %d time%s in a row (%v); run again", e.Attempts, plural(e.Attempts), e.Err)
}

// Unwrap returns the last conflict.
func (e *InputConflictError) Unwrap() error { return e.Err }

// errInputMoved is a batch that changed under ApplyInput in a way that
// matters: a number it was to withdraw may have been submitted since.
var errInputMoved = fmt.Errorf("a number to withdraw was submitted meanwhile: %w", ErrConflict)

// mayBeSubmitted reports whether Twilio has, or may have, n of batch b.
func mayBeSubmitted(b *Batch, n *NumberState) bool {
	return n.HasOrder() || b.State.InDoubt() || (b.State == StateAccepted && !n.Withdrawn && n.Status != StatusCheckFailed)
}

// ApplyInput brings a migration to a changed input, as an operator needs
// between runs: numbers added to the input are put in new batches (of
// Meta.BatchSize); numbers removed from it before they were submitted are
// withdrawn (never sent); withdrawn numbers that are back are restored.
// A restored number whose batch was submitted already is sent by the
// next Submit. Anything else, a submitted number removed or a number's
// settings changed, is an *InputChangeError, and nothing is changed; so
// is an input that lists a number twice, or a new number that is not
// E.164 or whose create the SDK would refuse (a *PlanError). numbers
// returns the new input's numbers, in order, each time it is called (it
// is read three times, and again after a conflict); input describes it
// and becomes the migration's.
//
// The steps are recorded so that a crash between them leaves a migration
// a second ApplyInput brings to the same end.
//
// Several workers may share the migration. Every change is a
// compare-and-set: a batch's withdrawals and restorations are saved over
// the version read, and on a ClaimStore the new batches are added only
// while the migration still has the batches read (AddBatchesIf). When
// another worker changed the migration first (an ApplyInput of the same
// input, say), ApplyInput reads it again and works the changes out anew:
// the numbers the other added are no longer new, so every number is put
// in one batch. After a few conflicts in a row, or at a batch another
// worker's live claim holds, it stops with an *InputConflictError; what
// it recorded is kept. On a plain Store the new batches are added with
// AddBatches: it assumes no one else adds batches meanwhile.
func ApplyInput(ctx context.Context, store Store, input Input, numbers func() iter.Seq2[NumberState, error]) (InputChanges, error) {
	var ch InputChanges
	var last error
	for attempt := 1; attempt <= maxInputAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return ch, err
		}
		batch, err := applyInput(ctx, store, input, numbers, &ch)
		switch {
		case err == nil:
			return ch, nil
		case batch != 0 && errors.Is(err, ErrClaimed):
			// A live claim lasts: trying again at once would not help.
			return ch, &InputConflictError{Attempts: attempt, Batch: batch, Err: err}
		case !errors.Is(err, ErrConflict):
			return ch, err
		}
		last = err
	}
	return ch, &InputConflictError{Attempts: maxInputAttempts, Err: last}
}

// applyInput is one attempt of ApplyInput: it reads the migration, works
// the changes out and records them, adding to ch what it recorded. An
// error matching ErrConflict means another worker changed the migration
// meanwhile (batch is the batch it was saving, or 0).
func applyInput(ctx context.Context, store Store, input Input, numbers func() iter.Seq2[NumberState, error], ch *InputChanges) (batch int, err error) {
	meta, err := store.Meta(ctx)
	if err != nil {
		return 0, err
	}
	type known struct {
		hash            uint64
		submitted, seen bool
		withdrawn       bool
	}
	journal := make(map[uint64]known, meta.Input.Numbers)
	for i := 1; i <= meta.Batches; i++ {
		b, err := store.Batch(ctx, i)
		if err != nil {
			return 0, err
		}
		ns, err := store.Numbers(ctx, i)
		if err != nil {
			return 0, err
		}
		for k := range ns {
			n := &ns[k]
			journal[numberKey(n.PhoneNumber())] = known{hash: settingsHash(n), submitted: mayBeSubmitted(&b, n), withdrawn: n.Withdrawn}
		}
	}
	cerr := &InputChangeError{}
	added, index := 0, -1
	dups := &planChecker{}
	firstAt := make(map[uint64]int)
	for n, err := range numbers() {
		if err != nil {
			return 0, err
		}
		index++
		key := numberKey(n.PhoneNumber())
		j, ok := journal[key]
		if !ok {
			added++
			continue
		}
		if j.seen {
			dups.add(PlanProblem{Index: index, Line: n.Line, PhoneNumber: n.PhoneNumber(), Field: "phone_number",
				Message: fmt.Sprintf("%s is listed twice; first as number %d", n.PhoneNumber(), firstAt[key]+1)})
			continue
		}
		firstAt[key] = index
		j.seen = true
		journal[key] = j
		if settingsHash(&n) != j.hash {
			cerr.ChangedSettings = append(cerr.ChangedSettings, n.PhoneNumber())
		}
	}
	// The numbers gone from the input, in the journal's order.
	for i := 1; i <= meta.Batches; i++ {
		ns, err := store.Numbers(ctx, i)
		if err != nil {
			return 0, err
		}
		for k := range ns {
			if j := journal[numberKey(ns[k].PhoneNumber())]; !j.seen && j.submitted {
				cerr.RemovedSubmitted = append(cerr.RemovedSubmitted, ns[k].PhoneNumber())
			}
		}
	}
	if len(cerr.RemovedSubmitted) > 0 || len(cerr.ChangedSettings) > 0 {
		return 0, cerr
	}
	if err := dups.err(); err != nil {
		return 0, err
	}
	// The new numbers, in new batches, with the new input's description:
	// checked, all of them, before anything is recorded.
	fresh := func(yield func(NumberState, error) bool) {
		for n, err := range numbers() {
			if err != nil {
				yield(NumberState{}, err)
				return
			}
			if _, ok := journal[numberKey(n.PhoneNumber())]; ok {
				continue
			}
			if !yield(n, nil) {
				return
			}
		}
	}
	for _, err := range planned(fresh, meta.BatchSize, &meta.Contact, true) {
		if err != nil {
			return 0, err
		}
	}

	// Withdraw and restore, batch by batch, each over the version read:
	// a batch read again here may have moved on since the journal was
	// made, so a number to withdraw is checked again.
	for i := 1; i <= meta.Batches; i++ {
		b, err := store.Batch(ctx, i)
		if err != nil {
			return 0, err
		}
		ns, err := store.Numbers(ctx, i)
		if err != nil {
			return 0, err
		}
		var changed []NumberState
		withdrawn, restored := 0, 0
		for k := range ns {
			j := journal[numberKey(ns[k].PhoneNumber())]
			switch {
			case !j.seen && !ns[k].Withdrawn:
				if mayBeSubmitted(&b, &ns[k]) {
					// Submitted since it was read: read again, and
					// refuse its removal.
					return i, fmt.Errorf("batch %d: %w", i, errInputMoved)
				}
				ns[k].Withdrawn = true
				withdrawn++
				changed = append(changed, ns[k])
			case j.seen && ns[k].Withdrawn:
				ns[k].Withdrawn = false
				restored++
				changed = append(changed, ns[k])
				if b.State == StateAccepted && !ns[k].HasOrder() {
					// Its batch went without it: the next Submit sends it.
					b.State = StatePlanned
				}
			}
		}
		if len(changed) == 0 {
			continue
		}
		b.Counts = countNumbers(b.State, ns)
		if err := store.SaveBatch(ctx, &b, changed); err != nil {
			return i, fmt.Errorf("batch %d: withdrawing and restoring numbers: %w", i, err)
		}
		ch.Withdrawn += withdrawn
		ch.Restored += restored
	}
	if added == 0 && meta.Input == input {
		return 0, nil // nothing to add, and the input is recorded already
	}
	before := meta.Batches
	meta.Input = input
	add := planned(fresh, meta.BatchSize, &meta.Contact, true)
	if cs, ok := store.(ClaimStore); ok {
		// Only over the batches read: the numbers another worker added
		// meanwhile are not new.
		err = cs.AddBatchesIf(ctx, before, meta, add)
	} else {
		err = store.AddBatches(ctx, meta, add)
	}
	if err != nil {
		return 0, fmt.Errorf("adding %d number%s in new batches: %w", added, plural(added), err)
	}
	ch.Added = added
	return 0, nil
}

package migrate

import (
	"context"
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
// is read three times); input describes it and becomes the migration's.
//
// The steps are recorded so that a crash between them leaves a migration
// a second ApplyInput brings to the same end.
func ApplyInput(ctx context.Context, store Store, input Input, numbers func() iter.Seq2[NumberState, error]) (InputChanges, error) {
	var ch InputChanges
	meta, err := store.Meta(ctx)
	if err != nil {
		return ch, err
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
			return ch, err
		}
		ns, err := store.Numbers(ctx, i)
		if err != nil {
			return ch, err
		}
		for k := range ns {
			n := &ns[k]
			submitted := n.HasOrder() || b.State.InDoubt() || (b.State == StateAccepted && !n.Withdrawn && n.Status != StatusCheckFailed)
			journal[numberKey(n.PhoneNumber())] = known{hash: settingsHash(n), submitted: submitted, withdrawn: n.Withdrawn}
		}
	}
	cerr := &InputChangeError{}
	added, index := 0, -1
	dups := &planChecker{}
	firstAt := make(map[uint64]int)
	for n, err := range numbers() {
		if err != nil {
			return ch, err
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
			return ch, err
		}
		for k := range ns {
			if j := journal[numberKey(ns[k].PhoneNumber())]; !j.seen && j.submitted {
				cerr.RemovedSubmitted = append(cerr.RemovedSubmitted, ns[k].PhoneNumber())
			}
		}
	}
	if len(cerr.RemovedSubmitted) > 0 || len(cerr.ChangedSettings) > 0 {
		return ch, cerr
	}
	if err := dups.err(); err != nil {
		return ch, err
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
			return ch, err
		}
	}

	// Withdraw and restore, batch by batch.
	for i := 1; i <= meta.Batches; i++ {
		b, err := store.Batch(ctx, i)
		if err != nil {
			return ch, err
		}
		ns, err := store.Numbers(ctx, i)
		if err != nil {
			return ch, err
		}
		var changed []NumberState
		for k := range ns {
			j := journal[numberKey(ns[k].PhoneNumber())]
			switch {
			case !j.seen && !ns[k].Withdrawn:
				ns[k].Withdrawn = true
				ch.Withdrawn++
				changed = append(changed, ns[k])
			case j.seen && ns[k].Withdrawn:
				ns[k].Withdrawn = false
				ch.Restored++
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
			return ch, err
		}
	}
	meta.Input = input
	if err := store.AddBatches(ctx, meta, planned(fresh, meta.BatchSize, &meta.Contact, true)); err != nil {
		return ch, err
	}
	ch.Added = added
	return ch, nil
}

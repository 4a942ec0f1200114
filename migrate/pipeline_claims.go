package migrate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// unfinished are the states of the batches Submit works on.
var unfinished = []BatchState{StatePlanned, StateSending, StateUnknown, StateRejected}

// heldPoll is how long Submit, with Wait, waits before it looks again at
// batches other workers hold: they may finish them, or die and leave
// them to expire.
func (m *Migrator) heldPoll() time.Duration {
	return max(min(m.o.Poll, m.o.ClaimTTL/4), time.Millisecond)
}

// submitClaimed is Submit under claims: each pass pages through the
// batches still to do (Pending), claims each before it looks at it, and
// works on it as Submit does without claims. A batch another worker
// holds, a claim lost or a conflict moves the worker on; with Wait it
// comes back for them until every batch is accepted, settled or
// rejected, whoever did it.
func (p *pipeline) submitClaimed(ctx context.Context) (*SubmitResult, error) {
	m, res := p.m, p.res
	p.started = m.o.Clock.Now()
	p.held = make(map[int]bool)
	for pass := 0; ; pass++ {
		if m.o.Wait {
			p.held = make(map[int]bool)
		}
		if err := p.claimPass(ctx, pass); err != nil {
			return res, err
		}
		next := p.next
		if !m.o.Wait {
			next = p.confirmNext
		}
		p.mu.Lock()
		others := m.o.Wait && len(p.held) > 0
		p.mu.Unlock()
		if ctx.Err() != nil || (next.IsZero() && !others) {
			break
		}
		if others && (next.IsZero() || m.o.Clock.Now().Add(m.heldPoll()).Before(next)) {
			// Batches other workers hold: they may finish them, or die
			// and leave them to expire.
			if err := sleepReal(ctx, m.heldPoll()); err != nil {
				break
			}
			continue
		}
		m.o.OnEvent(Event{Kind: EventWaiting, At: next, Settle: m.o.Settle,
			Message: fmt.Sprintf("waiting until %s to look at the batches in doubt again (processing window %v)", clockTime(next), m.o.Settle)})
		if err := m.sleepUntil(ctx, next); err != nil {
			break
		}
	}
	slices.Sort(res.Rejected)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for after := 0; ; {
		page, err := m.cs.Pending(ctx, after, claimPage, StateSending, StateUnknown)
		if err != nil {
			return res, &StepError{What: "reading the batches in doubt", Err: err}
		}
		for _, b := range page {
			after = b.Index
			if p.held[b.Index] {
				continue // another worker's, perhaps sending it
			}
			res.InDoubt = append(res.InDoubt, b.Index)
			if b.Doubt != nil {
				res.ConclusiveAt = later(res.ConclusiveAt, b.Doubt.ConclusiveAt())
			}
		}
		if len(page) < claimPage {
			break
		}
	}
	res.HeldElsewhere = slices.Sorted(maps.Keys(p.held))
	return res, nil
}

// rejectedSince reports whether b's last create was refused at or after
// t: by another worker, in this run.
func rejectedSince(b *Batch, t time.Time) bool {
	a := b.lastCreate()
	return b.State == StateRejected && a != nil && a.Outcome == "rejected" && !a.Ended.Before(t)
}

// claimPass is one pass of submitClaimed.
func (p *pipeline) claimPass(ctx context.Context, pass int) error {
	m := p.m
	work, stop, fail := p.begin(ctx)
	defer stop()
	ahead := p.slots()
	var wg sync.WaitGroup
	after := 0
pages:
	for work.Err() == nil {
		page, err := m.cs.Pending(ctx, after, claimPage, unfinished...)
		if err != nil {
			fail(&StepError{What: "reading the batches to submit", Err: err})
			break
		}
		for k := range page {
			pb := &page[k]
			i := pb.Index
			after = i
			if work.Err() != nil {
				break pages
			}
			p.mu.Lock()
			skip := pass > 0 && !m.o.Wait && !p.confirm[i]
			skip = skip || pb.State == StateRejected && (p.created[i] || rejectedSince(pb, p.started))
			if !skip && pb.State.InDoubt() && pb.Doubt != nil && p.looked[i] && m.o.Clock.Now().Before(pb.Doubt.RetryAt) {
				p.next = earliest(p.next, pb.Doubt.RetryAt)
				skip = true
			}
			p.mu.Unlock()
			if skip {
				continue
			}
			select {
			case ahead <- struct{}{}:
			case <-work.Done():
				break pages
			}
			h, b, bctx, err := m.claimBatch(ctx, i)
			if err != nil {
				<-ahead
				if leaseTrouble(ctx, ctx, err) {
					p.mu.Lock()
					p.held[i] = true
					p.mu.Unlock()
					continue
				}
				fail(&StepError{What: fmt.Sprintf("claiming batch %d", i), Batch: i, Err: err})
				break pages
			}
			p.mu.Lock()
			delete(p.held, i)
			p.mu.Unlock()
			if b.State == StateAccepted || rejectedSince(&b, p.started) {
				h.end(ctx)
				<-ahead
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-ahead }()
				panicked := true
				defer func() {
					if panicked {
						// A kill: the claim is left to expire, as a dead
						// process leaves it.
						h.abandon()
						r := recover()
						p.mu.Lock()
						if p.panicked == nil {
							p.panicked = r
						}
						p.mu.Unlock()
						fail(fmt.Errorf("batch %d: a step panicked", b.Index))
					}
				}()
				wctx, cancel := joined(bctx, work)
				err := p.batch(bctx, wctx, &b)
				cancel()
				trouble := err != nil && leaseTrouble(ctx, bctx, err)
				h.end(ctx)
				panicked = false
				switch {
				case trouble:
					p.mu.Lock()
					p.held[b.Index] = true
					delete(p.created, b.Index) // not refused: to be done, by this worker or another
					p.mu.Unlock()
					m.o.OnEvent(Event{Kind: EventWarning, Batch: b.Index, Err: err,
						Message: fmt.Sprintf("batch %d: left to another worker: %v", b.Index, err)})
				case err != nil:
					fail(err)
				}
			}()
		}
		if len(page) < claimPage {
			break
		}
	}
	wg.Wait()
	if p.panicked != nil {
		panic(p.panicked)
	}
	return p.err
}

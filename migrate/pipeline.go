package migrate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// maxRateLimitWait is the longest a create rate limited without a
// Retry-After waits, however many times in a row it was.
const maxRateLimitWait = 5 * time.Minute

// rateLimitWait is how long to wait after a create's rounds-th rate limit
// in a row: Twilio's Retry-After when it gave one, otherwise
// DefaultRateLimitWait doubled for each earlier round (up to
// maxRateLimitWait), with jitter (from half of it to all of it) so that
// the creates held together do not all come back at once.
func rateLimitWait(retryAfter time.Duration, rounds int) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	d := DefaultRateLimitWait
	for r := 1; r < rounds && d < maxRateLimitWait; r++ {
		d *= 2
	}
	d = min(d, maxRateLimitWait)
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter, not a secret
}

// SubmitResult is what Submit did.
type SubmitResult struct {
	// Submitted counts the creates accepted in this run; Adopted the
	// batches in doubt found whole at Twilio.
	Submitted, Adopted int
	// Rejected are the batches Twilio refused in this run (nothing made:
	// the next run submits them again).
	Rejected []int
	// InDoubt are the batches still in doubt when Submit returned
	// (without Wait), but for those of HeldElsewhere. ConclusiveAt is
	// the earliest time a run can settle them all if Twilio never made
	// their orders (the latest of their Doubt.ConclusiveAt): a run
	// started then settles them.
	InDoubt      []int
	ConclusiveAt time.Time
	// HeldElsewhere are the batches, not yet accepted, that other
	// workers held when this worker last tried them, or whose claim it
	// lost (under claims, without Wait): this run did not do them, and
	// its result is not the whole migration's. With Wait, Submit comes
	// back for them until they are done, so it is empty.
	HeldElsewhere []int
}

// add counts what r did into res.
func (res *SubmitResult) add(r *SubmitResult) {
	res.Submitted += r.Submitted
	res.Adopted += r.Adopted
	res.Rejected = append(res.Rejected, r.Rejected...)
}

// pipeline is one Submit: the batches it works on at once, and what they
// share.
type pipeline struct {
	m   *Migrator
	res *SubmitResult

	mu sync.Mutex
	// created are the batches this run has sent a create for; looked
	// the batches in doubt it has looked at.
	created, looked map[int]bool
	// confirm are the batches whose look in this run was the first after
	// the window: even without Wait, the run waits the confirm gap for
	// the second, so that a run at ConclusiveAt settles.
	confirm map[int]bool
	// next is when the next look at a batch in doubt is due, confirmNext
	// the same for the batches of confirm.
	next, confirmNext time.Time
	// hold is when a rate limit on a create has passed: no create leaves
	// before.
	hold time.Time
	// err is the first failure of the pass; panicked what a step
	// panicked with.
	err      error
	panicked any
	stopped  bool

	// Under claims: started is when the run began (a batch another
	// worker found rejected since is done for this run); held the
	// batches other workers held (or this one lost).
	started time.Time
	held    map[int]bool
}

// Submit brings every batch to Twilio: accepted ones are left alone,
// batches in doubt are looked at (and settled once Twilio's answer is
// conclusive), the others checked and submitted. It works on many
// batches at once: the checks of upcoming batches run ahead, each
// batch's create goes out as soon as its check is done, and looks at
// batches in doubt run alongside, all within Options.Concurrency requests
// in flight. Each batch is worked on by one step at a time and recorded
// as sending before its create leaves. A batch in doubt never holds up
// the others. With Wait, Submit then waits out every doubt, looking again
// when each is due; without, it returns them in SubmitResult.InDoubt. A
// rate limit (HTTP 429) on a create holds every create not yet sent until
// Twilio's Retry-After has passed (without one, a wait with jitter that
// doubles with each rate limit in a row). Submit stops at the first
// failure that is not about one batch alone (refused credentials, a store
// that cannot be written, a look that fails): the batches it is working
// on finish their step, no other starts, and it returns the failure as a
// *StepError.
//
// On a ClaimStore (see Options.Worker) it works on a batch only under a
// claim, reading the batches still to do a page at a time: a batch
// another worker holds, a claim lost or a conflict is no failure; the
// worker moves on, and with Wait comes back for such batches until every
// batch is accepted, settled or rejected, whoever did it (without Wait
// it lists them in SubmitResult.HeldElsewhere).
func (m *Migrator) Submit(ctx context.Context) (*SubmitResult, error) {
	meta, err := m.o.Store.Meta(ctx)
	if err != nil {
		return nil, &StepError{What: "reading the migration", Err: err}
	}
	if err := meta.Validate(); err != nil {
		return nil, &StepError{What: "checking the migration", Err: err}
	}
	res := &SubmitResult{}
	p := &pipeline{m: m, res: res, created: make(map[int]bool), looked: make(map[int]bool), confirm: make(map[int]bool)}
	if m.cs != nil {
		return p.submitClaimed(ctx)
	}
	for pass := 0; ; pass++ {
		if err := p.pass(ctx, meta.Batches, pass); err != nil {
			return res, err
		}
		next := p.next
		if !m.o.Wait {
			next = p.confirmNext
		}
		if ctx.Err() != nil || next.IsZero() {
			break
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
	for i := 1; i <= meta.Batches; i++ {
		b, err := m.o.Store.Batch(ctx, i)
		if err != nil {
			return res, &StepError{What: fmt.Sprintf("reading batch %d", i), Batch: i, Err: err}
		}
		if b.State.InDoubt() {
			res.InDoubt = append(res.InDoubt, i)
			if b.Doubt != nil {
				res.ConclusiveAt = later(res.ConclusiveAt, b.Doubt.ConclusiveAt())
			}
		}
	}
	return res, nil
}

// begin starts a pass: work ends when a step fails, and no step starts
// after it; fail records the pass's first failure and ends work.
func (p *pipeline) begin(ctx context.Context) (work context.Context, stop context.CancelFunc, fail func(error)) {
	p.next, p.confirmNext = time.Time{}, time.Time{}
	work, stop = context.WithCancel(ctx)
	fail = func(err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.err == nil {
			p.err = err
		}
		p.stopped = true
		stop()
	}
	return work, stop, fail
}

// slots returns the semaphore of the batches worked on at once: one at a
// time, in order, with a budget of one request.
func (p *pipeline) slots() chan struct{} {
	width := checksAhead * p.m.o.Concurrency
	if p.m.o.Concurrency == 1 {
		width = 1
	}
	return make(chan struct{}, width)
}

// pass works on every batch that needs it once, many at a time, and
// returns the first failure. A panic of a step (a test's kill) stops the
// pass as a failure does and is raised again on the caller's goroutine
// once every step has returned.
func (p *pipeline) pass(ctx context.Context, batches, pass int) error {
	m := p.m
	work, stop, fail := p.begin(ctx)
	defer stop()
	ahead := p.slots()
	var wg sync.WaitGroup
	for i := 1; i <= batches && work.Err() == nil; i++ {
		p.mu.Lock()
		skip := pass > 0 && !m.o.Wait && !p.confirm[i]
		p.mu.Unlock()
		if skip {
			continue
		}
		select {
		case ahead <- struct{}{}:
		case <-work.Done():
			continue
		}
		b, err := m.o.Store.Batch(ctx, i)
		if err != nil {
			<-ahead
			fail(&StepError{What: fmt.Sprintf("reading batch %d", i), Batch: i, Err: err})
			break
		}
		if b.State == StateAccepted {
			<-ahead
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-ahead }()
			defer func() {
				if r := recover(); r != nil {
					p.mu.Lock()
					if p.panicked == nil {
						p.panicked = r
					}
					p.mu.Unlock()
					fail(fmt.Errorf("batch %d: a step panicked", b.Index))
				}
			}()
			if err := p.batch(ctx, work, &b); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	if p.panicked != nil {
		panic(p.panicked)
	}
	return p.err
}

// batch takes b one step on: a look if it is in doubt, then the check and
// the create of what is left to send. ctx is the run's; work ends when
// another step failed, and no request starts after it.
func (p *pipeline) batch(ctx, work context.Context, b *Batch) error {
	m, i := p.m, b.Index
	var pending []NumberState
	p.mu.Lock()
	created := p.created[i]
	p.mu.Unlock()
	switch {
	case b.State.InDoubt():
		// A run looks at each batch in doubt as it starts, then when the
		// last look said to.
		p.mu.Lock()
		due := b.Doubt == nil || !p.looked[i] || !m.o.Clock.Now().Before(b.Doubt.RetryAt)
		if !due {
			p.next = earliest(p.next, b.Doubt.RetryAt)
		} else {
			p.looked[i] = true
			delete(p.confirm, i)
		}
		p.mu.Unlock()
		if !due {
			return nil
		}
		wasCounted := b.Doubt.counts()
		var settled bool
		var err error
		if pending, settled, err = p.reconcile(work, b); err != nil {
			return &StepError{What: fmt.Sprintf("checking batch %d with Twilio", i), Batch: i, Err: err}
		}
		if !settled {
			p.mu.Lock()
			p.next = earliest(p.next, b.Doubt.RetryAt)
			if !wasCounted && b.Doubt.counts() && !b.Doubt.Accepted {
				p.confirm[i] = true
				p.confirmNext = earliest(p.confirmNext, b.Doubt.RetryAt)
			}
			p.mu.Unlock()
			return nil
		}
	case created:
		return nil // refused in this run: the next run tries again
	default:
		numbers, err := m.o.Store.Numbers(ctx, i)
		if err != nil {
			return &StepError{What: fmt.Sprintf("reading batch %d", i), Batch: i, Err: err}
		}
		pending = toSend(numbers)
	}
	if len(pending) == 0 {
		return nil
	}
	p.mu.Lock()
	p.created[i] = true
	p.mu.Unlock()
	pending, err := m.check(work, b, pending)
	if err != nil || len(pending) == 0 {
		return err
	}
	for {
		// A rate limit holds every create until it has passed.
		if err := p.waitHold(work); err != nil {
			return nil // stopped: the failure or the end is the caller's
		}
		var res SubmitResult
		retry, err := m.create(ctx, b, pending, &res)
		p.mu.Lock()
		p.res.add(&res)
		if !retry.IsZero() {
			p.hold = later(p.hold, retry)
			m.budget.holdCreates(retry)
		}
		p.mu.Unlock()
		if err != nil {
			return err
		}
		if retry.IsZero() {
			break
		}
	}
	if b.State.InDoubt() {
		// A first look at once: a create whose answer alone was lost is
		// often found straight away.
		p.mu.Lock()
		p.looked[i] = true
		p.mu.Unlock()
		if _, _, err := p.reconcile(work, b); err != nil {
			return &StepError{What: fmt.Sprintf("checking batch %d with Twilio", i), Batch: i, Err: err}
		}
		if b.State.InDoubt() {
			p.mu.Lock()
			p.next = earliest(p.next, b.Doubt.RetryAt)
			p.mu.Unlock()
		}
	}
	return nil
}

// reconcile is Migrator.reconcile, counting into the run's result.
func (p *pipeline) reconcile(ctx context.Context, b *Batch) ([]NumberState, bool, error) {
	var res SubmitResult
	pending, settled, err := p.m.reconcile(ctx, b, &res)
	p.mu.Lock()
	p.res.add(&res)
	p.mu.Unlock()
	return pending, settled, err
}

// waitHold waits until no rate limit holds the creates, or until ctx
// ends.
func (p *pipeline) waitHold(ctx context.Context) error {
	for {
		p.mu.Lock()
		hold, stopped := p.hold, p.stopped
		p.mu.Unlock()
		if stopped {
			return context.Canceled
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !p.m.o.Clock.Now().Before(hold) {
			return nil
		}
		if err := p.m.sleepUntil(ctx, hold); err != nil {
			return err
		}
	}
}

// oneCheckAtATime calls a Checker that is not a ConcurrentChecker for
// one batch at a time.
type oneCheckAtATime struct {
	mu sync.Mutex
	c  Checker
}

func (o *oneCheckAtATime) Check(ctx context.Context, batch int, numbers []hostednumbers.Number) (map[string]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return o.c.Check(ctx, batch, numbers)
}

// check runs the Checker on the numbers of b still to send, records the
// numbers it refuses, and returns the others.
func (m *Migrator) check(ctx context.Context, b *Batch, pending []NumberState) ([]NumberState, error) {
	if m.o.Check == nil {
		return pending, nil
	}
	numbers := make([]hostednumbers.Number, len(pending))
	for i := range pending {
		numbers[i] = pending[i].Number
	}
	refused, err := m.o.Check.Check(ctx, b.Index, numbers)
	if err != nil {
		return nil, &StepError{What: fmt.Sprintf("checking batch %d before it is sent", b.Index), Batch: b.Index, Err: err}
	}
	if len(refused) == 0 {
		return pending, nil
	}
	var keep, changed []NumberState
	for _, n := range pending {
		if why, ok := refused[n.PhoneNumber()]; ok {
			n.Status, n.FailureReason = StatusCheckFailed, &why
			changed = append(changed, n)
			continue
		}
		keep = append(keep, n)
	}
	all, err := m.o.Store.Numbers(ctx, b.Index)
	if err != nil {
		return nil, &StepError{What: fmt.Sprintf("reading batch %d", b.Index), Batch: b.Index, Err: err}
	}
	if err := m.save(ctx, b, merge(all, changed), changed); err != nil {
		return nil, &StepError{What: fmt.Sprintf("recording the check of batch %d", b.Index), Batch: b.Index, Err: err}
	}
	m.o.OnEvent(Event{Kind: EventChecked, Batch: b.Index,
		Message: fmt.Sprintf("batch %d: %d number%s refused by the check before submitting; %d to send", b.Index, len(changed), plural(len(changed)), len(keep))})
	return keep, nil
}

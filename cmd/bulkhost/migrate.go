package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// journalSuffix is added to the CSV's path to name its journal.
const journalSuffix = ".bulkhost.json"

// Steps a crash test may stop the command at (see envTestCrashAt).
const (
	stepAfterSending = "after-sending" // "sending" is in the journal, the create not sent
	stepAfterAnswer  = "after-answer"  // the create was answered, the journal not yet written
	stepMidWait      = "mid-wait"      // a refresh is recorded, the wait goes on
)

// statePath returns the journal's path for cfg.
func statePath(cfg *config) (string, error) {
	switch {
	case cfg.statePath != "":
		return cfg.statePath, nil
	case cfg.csvPath == "-":
		return "", errors.New("-state: is required when the CSV comes from standard input: name the journal file, and give the same -state to resume")
	case cfg.csvPath != "":
		return cfg.csvPath + journalSuffix, nil
	}
	return "", errors.New("-state: name the journal file")
}

// migration is one run of a submit: its input, journal and client.
type migration struct {
	c      *cli
	cfg    *config
	client *hostednumbers.Client
	j      *journal
	base   *hostednumbers.CreateBulkHostedNumberOrderParams
	byNum  map[string]hostednumbers.Number
	// release unlocks the journal.
	release func()
	// opened is when this run took the journal's lock: any run before it
	// had ended by then.
	opened time.Time
}

// submit is the main job with credentials: read and check the input,
// open or plan its journal, submit what is not submitted yet, and with
// -wait follow every number to the end.
func (c *cli) submit(ctx context.Context, cfg *config) int {
	in, code, ok := c.input(ctx, cfg)
	if !ok {
		return code
	}
	if cfg.dryRun {
		return c.dryRun(cfg, in)
	}
	path, err := statePath(cfg)
	if err != nil {
		c.printProblems("bad command line", []string{err.Error()})
		return exitError
	}
	client, cleanup, err := c.client(cfg, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return exitError
	}
	defer cleanup()
	m, code, ok := c.openMigration(cfg, in, path, client)
	if !ok {
		return code
	}
	defer m.release()
	return m.runAll(ctx)
}

// input reads and checks the input, reporting any problem.
func (c *cli) input(ctx context.Context, cfg *config) (*input, int, bool) {
	in, err := c.readInputCtx(ctx, cfg)
	if err != nil {
		if c.interrupted() {
			fmt.Fprintln(c.stderr, "bulkhost: interrupted while reading the input; nothing was submitted and no journal was written.")
			return nil, exitInterrupted, false
		}
		fmt.Fprintf(c.stderr, "bulkhost: reading the input: %v (-timeout %v)\n", err, cfg.timeout)
		return nil, exitError, false
	}
	if len(in.problems) > 0 {
		return nil, c.reportProblems(in), false
	}
	return in, exitOK, true
}

// dryRun prints the body of every batch's create request.
func (c *cli) dryRun(cfg *config, in *input) int {
	numbers := in.params.RequestItems[0].Numbers
	batches := 0
	for start := 0; start < len(numbers); start += cfg.batchSize {
		p := *in.params
		item := p.RequestItems[0]
		item.Numbers = numbers[start:min(start+cfg.batchSize, len(numbers))]
		p.RequestItems = []hostednumbers.RequestItem{item}
		body, err := p.MarshalJSON()
		if err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: encoding the request: %v\n", err)
			return exitError
		}
		if _, err := c.stdout.Write(append(body, '\n')); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: writing the request: %v\n", err)
			return exitError
		}
		batches++
	}
	fmt.Fprintf(c.stderr, "bulkhost: %d number%s in %s and the flags are valid: %d request%s of at most %d; nothing was submitted (-dry-run).\n",
		len(numbers), plural(len(numbers)), in.name, batches, plural(batches), cfg.batchSize)
	return exitOK
}

// openMigration locks and loads the journal at path, or plans and writes
// a new one. The lock is held until release is called. Every name of the
// journal (a symbolic link, a path through one) is resolved first, so
// that one migration has one journal and one lock whatever path names it.
func (c *cli) openMigration(cfg *config, in *input, path string, client *hostednumbers.Client) (m *migration, code int, ok bool) {
	resolved, err := resolvePath(path)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: journal %s: %v\n", path, err)
		return nil, exitError, false
	}
	path = resolved
	unlock, err := lockJournal(path)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return nil, exitError, false
	}
	opened := c.clock().UTC()
	defer func() {
		if ok {
			m.release = unlock
		} else {
			unlock()
		}
	}()
	if err := removeStaleTemps(path); err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: journal %s: %v\n", path, err)
		return nil, exitError, false
	}
	j, err := loadJournal(path, c.fs, c.clock)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return nil, exitError, false
	}
	phones := make([]string, len(in.list.numbers))
	for i, n := range in.list.numbers {
		phones[i] = n.PhoneNumber
	}
	contact := contactOf(cfg)
	if j != nil {
		if err := j.matches(in.id); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
			return nil, exitError, false
		}
		if j.Demo != cfg.demo {
			what := "the demo's: its fake server is gone with the run that made it"
			if !j.Demo {
				what = "a real migration's: the demo would not find its requests"
			}
			fmt.Fprintf(c.stderr, "bulkhost: journal %s is %s; name another file with -state\n", path, what)
			return nil, exitError, false
		}
		if err := j.matchesNumbers(phones); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
			return nil, exitError, false
		}
		if err := j.matchesContact(contact); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
			return nil, exitError, false
		}
		if cfg.given["batch-size"] && cfg.batchSize != j.BatchSize {
			fmt.Fprintf(c.stderr, "bulkhost: the journal's batches of up to %d numbers stand; -batch-size %d applies to new journals only.\n", j.BatchSize, cfg.batchSize)
		}
		fmt.Fprintf(c.stderr, "bulkhost: resuming from journal %s (%s).\n", path, batchSummary(j))
	} else {
		j = newJournal(path, c.fs, in.id, phones, in.list.lines, cfg.batchSize, c.clock)
		j.Demo = cfg.demo
		j.Contact = &contact
		if err := j.save(); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: %v; nothing was submitted\n", err)
			return nil, exitError, false
		}
		fmt.Fprintf(c.stderr, "bulkhost: journal %s: %d number%s in %d batch%s of up to %d.\n",
			path, len(phones), plural(len(phones)), len(j.Batches), pluralES(len(j.Batches)), j.BatchSize)
	}
	m = &migration{c: c, cfg: cfg, client: client, j: j, base: in.params, opened: opened, byNum: make(map[string]hostednumbers.Number, len(in.list.numbers))}
	for _, n := range in.list.numbers {
		m.byNum[n.PhoneNumber] = n
	}
	return m, exitOK, true
}

// contactOf is the contact flags of cfg, as the journal records them.
func contactOf(cfg *config) journalContact {
	return journalContact{
		Email: cfg.email, AddressSID: cfg.addressSID,
		ContactPhone: cfg.contactPhone, ContactTitle: cfg.contactTitle,
		FriendlyName: cfg.friendlyName, NotificationEmail: cfg.notificationEml,
	}
}

// runAll submits every batch that needs it, settles the batches in doubt,
// then reports or follows.
func (m *migration) runAll(ctx context.Context) int {
	c, cfg := m.c, m.cfg
	code := m.submitBatches(ctx)
	if code == exitInterrupted {
		fmt.Fprintf(c.stderr, "bulkhost: interrupted; the journal %s is up to date: run the same command again to resume.\n", m.j.path)
		return code
	}
	if code != exitOK && code != exitPending {
		fmt.Fprintf(c.stderr, "bulkhost: %s. Run the same command again to resume: accepted batches are kept, uncertain ones are checked with Twilio before anything is sent again.\n", batchSummary(m.j))
		return code
	}
	if code == exitPending {
		// Without -wait: batches in doubt, and when to run again.
		m.explainDoubts()
		if cfg.jsonOut {
			if err := writeStatusJSON(c.stdout, m.j); err != nil {
				fmt.Fprintf(c.stderr, "bulkhost: writing the report: %v\n", err)
				return exitError
			}
		}
		return exitPending
	}
	if !cfg.wait {
		if cfg.jsonOut {
			// -json without -wait: the journal as it stands.
			if err := writeStatusJSON(c.stdout, m.j); err != nil {
				fmt.Fprintf(c.stderr, "bulkhost: writing the report: %v\n", err)
				return exitError
			}
		}
		fmt.Fprintf(c.stderr, "bulkhost: %s.\n", batchSummary(m.j))
		fmt.Fprintf(c.stderr, "bulkhost: follow the numbers with: bulkhost -live -status -state %s -wait\n", m.j.path)
		return exitOK
	}
	return c.followJournal(ctx, m.client, m.j, cfg)
}

// inDoubt reports whether b's create may or may not have been processed.
func inDoubt(b *batch) bool { return b.State == stateSending || b.State == stateUnknown }

// submitBatches brings every batch to Twilio: accepted ones are left
// alone, batches in doubt looked at (and settled once Twilio's answer is
// conclusive), the others submitted. A batch in doubt never holds up the
// others. With -wait it then waits out every doubt, looking again when
// each is due; without, it returns exitPending while any remains. It
// stops at the first failure that is not about one batch alone.
func (m *migration) submitBatches(ctx context.Context) int {
	code := exitOK
	created := make(map[*batch]bool) // batches this run has sent a create for
	looked := make(map[*batch]bool)  // batches in doubt this run has looked at
	for {
		next := time.Time{}
		for _, b := range m.j.Batches {
			if ctx.Err() != nil {
				break
			}
			var pending []*numberState
			switch {
			case b.State == stateAccepted:
				continue
			case inDoubt(b):
				// A run looks at each batch in doubt as it starts, then
				// when the last look said to.
				if b.Doubt != nil && looked[b] && m.c.clock().Before(b.Doubt.RetryAt) {
					next = earliest(next, b.Doubt.RetryAt)
					continue
				}
				var settled bool
				var err error
				looked[b] = true
				if pending, settled, err = m.reconcile(ctx, b); err != nil {
					return m.stepFailed(ctx, fmt.Sprintf("checking batch %d with Twilio", b.Index), err)
				}
				if !settled {
					next = earliest(next, b.Doubt.RetryAt)
					continue
				}
			case created[b]:
				continue // rejected in this run: the next run tries again
			default:
				pending = withoutOrder(b)
			}
			if len(pending) == 0 {
				continue
			}
			created[b] = true
			stop, err := m.create(ctx, b, pending)
			if err != nil {
				c := m.stepFailed(ctx, fmt.Sprintf("submitting batch %d", b.Index), err)
				m.explain(b, err)
				if stop || c == exitInterrupted {
					return c
				}
				if !inDoubt(b) {
					// A batch in doubt is settled below; a refused one
					// waits for the next run.
					code = c
				}
			}
			if inDoubt(b) {
				// A first look at once: a create whose answer alone was lost
				// is often found straight away.
				looked[b] = true
				if _, _, err := m.reconcile(ctx, b); err != nil {
					return m.stepFailed(ctx, fmt.Sprintf("checking batch %d with Twilio", b.Index), err)
				}
				if inDoubt(b) {
					next = earliest(next, b.Doubt.RetryAt)
				}
			}
		}
		if ctx.Err() != nil || next.IsZero() {
			break
		}
		if !m.cfg.wait {
			if code == exitOK {
				code = exitPending
			}
			break
		}
		if err := m.waitUntil(ctx, next); err != nil {
			break
		}
	}
	if m.c.interrupted() {
		return exitInterrupted
	}
	if ctx.Err() != nil {
		fmt.Fprintf(m.c.stderr, "bulkhost: the run took longer than -timeout (%v) allows\n", m.cfg.timeout)
		m.explainDoubts()
		return exitError
	}
	return code
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// waitUntil sleeps until t (by the command's clock) or until ctx ends.
func (m *migration) waitUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(m.c.clock())
	if d <= 0 {
		return ctx.Err()
	}
	fmt.Fprintf(m.c.stderr, "bulkhost: waiting until %s to look at the batches in doubt again (-settle %v).\n", t.Format(time.TimeOnly), m.cfg.settle)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// explainDoubts says, for each batch still in doubt, why, and at what
// time running the command again can settle it.
func (m *migration) explainDoubts() {
	w := m.c.stderr
	var latest time.Time
	for _, b := range m.j.Batches {
		if !inDoubt(b) {
			continue
		}
		if b.Doubt == nil {
			fmt.Fprintf(w, "bulkhost: batch %d is in doubt and has not been looked at yet: run the same command again.\n", b.Index)
			continue
		}
		at := b.Doubt.conclusiveAt()
		latest = later(latest, at)
		fmt.Fprintf(w, "bulkhost: batch %d is in doubt: %s. Nothing is sent again for it until Twilio's answer is conclusive; "+
			"the earliest a run can settle it if Twilio never made its orders is %s (orders that appear earlier settle it earlier).\n",
			b.Index, b.Doubt.Reason, at.Local().Format(time.DateTime))
	}
	if !latest.IsZero() {
		fmt.Fprintf(w, "bulkhost: run the same command again at %s or later (or now with -wait, which waits for it); the other batches are done.\n",
			latest.Local().Format(time.DateTime))
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// explain says what a failed create means for the batch's numbers.
func (m *migration) explain(b *batch, err error) {
	w := m.c.stderr
	var decodeErr *hostednumbers.DecodeError
	switch b.State {
	case stateRejected:
		fmt.Fprintf(w, "bulkhost: Twilio refused batch %d; no bulk hosting request was created, so the next run submits it again.\n", b.Index)
	case stateUnknown:
		if errors.As(err, &decodeErr) && decodeErr.Accepted() {
			fmt.Fprintf(w, "bulkhost: Twilio ACCEPTED batch %d (HTTP %d), but its answer could not be read, so its BH… SID is unknown%s.\n",
				b.Index, decodeErr.HTTPStatus, requestIDHint(decodeErr.RequestID))
		} else {
			fmt.Fprintf(w, "bulkhost: batch %d may have reached Twilio and been processed all the same.\n", b.Index)
		}
		fmt.Fprintln(w, "bulkhost: it is recorded as outcome unknown: bulkhost asks Twilio which of its numbers it has, and sends nothing again until the answer is conclusive.")
	}
}

// stepFailed reports a failed step and returns the exit status for it.
func (m *migration) stepFailed(ctx context.Context, what string, err error) int {
	var je *journalError
	if errors.As(err, &je) || strings.HasPrefix(err.Error(), "journal ") {
		fmt.Fprintf(m.c.stderr, "bulkhost: %s: %v\n", what, err)
		return exitError
	}
	return m.c.printError(ctx, what, err, m.cfg)
}

// withoutOrder returns the numbers of b that Twilio is not known to hold.
func withoutOrder(b *batch) []*numberState {
	var out []*numberState
	for _, n := range b.Numbers {
		if !n.hasOrder() {
			out = append(out, n)
		}
	}
	return out
}

// paramsFor is the create body for some numbers: the input's top-level
// and contact settings, and each number's own settings from the CSV.
func (m *migration) paramsFor(numbers []*numberState) *hostednumbers.CreateBulkHostedNumberOrderParams {
	p := *m.base
	item := p.RequestItems[0]
	item.Numbers = make([]hostednumbers.Number, len(numbers))
	for i, n := range numbers {
		item.Numbers[i] = m.byNum[n.PhoneNumber]
	}
	p.RequestItems = []hostednumbers.RequestItem{item}
	return &p
}

// serverOffset is Twilio's clock minus ours, from the Date header of an
// answer received at received (whole seconds, as the header has).
func serverOffset(r *hostednumbers.Response, received time.Time) *duration {
	if r == nil || r.Header == nil {
		return nil
	}
	t, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return nil
	}
	d := duration(t.Sub(received).Round(time.Second))
	return &d
}

// create submits numbers, all of batch b or the ones a reconciliation
// found missing. "sending" is written to the journal before the request
// goes out and the outcome as soon as it is known. stop reports whether
// the other batches should wait: when the credentials were refused, a
// rate limit holds, the run was stopped, or the journal cannot be written.
func (m *migration) create(ctx context.Context, b *batch, numbers []*numberState) (stop bool, err error) {
	c, j := m.c, m.j
	prev, prevDoubt := b.State, b.Doubt
	b.State, b.Doubt = stateSending, nil
	b.Attempts = append(b.Attempts, attempt{Kind: "create", Started: c.clock().UTC(), Numbers: len(numbers),
		AttemptTimeout: duration(m.cfg.attemptTimeout), Settle: duration(m.cfg.settle)})
	if err := j.save(); err != nil {
		b.State, b.Doubt = prev, prevDoubt
		b.Attempts = b.Attempts[:len(b.Attempts)-1]
		return true, err
	}
	c.checkpoint(stepAfterSending)
	order, err := m.client.BulkHostedNumberOrders.Create(ctx, m.paramsFor(numbers))
	c.checkpoint(stepAfterAnswer)
	a := &b.Attempts[len(b.Attempts)-1]
	a.Ended = c.clock().UTC()
	switch {
	case err == nil:
		sid := order.BulkHostingSID
		a.Outcome, a.BulkHostingSID = "accepted", sid
		if order.LastResponse != nil {
			a.RequestID = order.LastResponse.RequestID
			a.ServerClockOffset = serverOffset(order.LastResponse, a.Ended)
		}
		b.BulkHostingSIDs = appendNew(b.BulkHostingSIDs, sid)
		for _, n := range numbers {
			n.BulkHostingSID = sid
		}
		b.State = stateAccepted
	case notCreated(err) && ctx.Err() != nil:
		// Stopped before anything was sent.
		a.Outcome, a.Error = "not sent", err.Error()
		b.State, b.Doubt = prev, prevDoubt
		stop = true
	case notCreated(err):
		a.Outcome, a.Error, a.RequestID = "rejected", err.Error(), requestIDOf(err)
		b.State = stateRejected
		// Refused credentials or a rate limit would refuse the next batch too.
		stop = errors.Is(err, hostednumbers.ErrUnauthorized) || errors.Is(err, hostednumbers.ErrRateLimited)
	default:
		a.Outcome, a.Error, a.RequestID = "outcome unknown", err.Error(), requestIDOf(err)
		b.State = stateUnknown
		// Stopped by a signal or -timeout: nothing more this run.
		stop = ctx.Err() != nil
	}
	if serr := j.save(); serr != nil {
		if err == nil {
			fmt.Fprintf(c.stderr, "bulkhost: batch %d was accepted as %s, but the journal could not record it: %v\n", b.Index, order.BulkHostingSID, serr)
		}
		return true, serr
	}
	if err != nil {
		return stop, err
	}
	if !m.cfg.jsonOut {
		fmt.Fprintln(c.stdout, order.BulkHostingSID)
	}
	fmt.Fprintf(c.stderr, "bulkhost: batch %d: submitted %d number%s as bulk hosting request %s (%s).\n",
		b.Index, len(numbers), plural(len(numbers)), order.BulkHostingSID, order.RequestStatus)
	return false, nil
}

// inFlightBound is how long after its send time a create may have reached
// Twilio at the latest, when the run that sent it died before it returned:
// every attempt the SDK may make (a create is resent only when Twilio
// cannot have processed it, but the last one may start late) with the
// longest waits between them.
func inFlightBound(attemptTimeout time.Duration) time.Duration {
	return time.Duration(hostednumbers.DefaultMaxRetries+1)*attemptTimeout +
		hostednumbers.DefaultMaxRetries*hostednumbers.DefaultMaxRetryAfter
}

// lastCreate returns the batch's last create: the one in doubt.
func lastCreate(b *batch) *attempt {
	for i := len(b.Attempts) - 1; i >= 0; i-- {
		if b.Attempts[i].Kind == "create" {
			return &b.Attempts[i]
		}
	}
	return nil
}

// reconcile looks at a batch whose create may or may not have been
// processed. settled is false while Twilio's answer is not conclusive: the
// doubt is recorded (with when to look again) and nothing is to be sent.
// Once it is conclusive, pending are the numbers that still need
// submitting: all of them when Twilio has none, the missing ones when it
// has some, none when it has them all (their bulk request is then
// adopted).
func (m *migration) reconcile(ctx context.Context, b *batch) (pending []*numberState, settled bool, err error) {
	c, j := m.c, m.j
	waiting := withoutOrder(b)
	last := lastCreate(b)
	if len(waiting) == 0 || last == nil {
		// Nothing left to look for, or a create that never was (a journal
		// of format 1 saved between the states): nothing to settle.
		b.State, b.Doubt = stateAccepted, nil
		if len(waiting) > 0 {
			b.State = statePlanned
		}
		return waiting, true, j.save()
	}
	phones := make([]string, len(waiting))
	for i, n := range waiting {
		phones[i] = n.PhoneNumber
	}
	// The window the create was sent with, unless this run names one.
	window := time.Duration(last.Settle)
	if window <= 0 || m.cfg.given["settle"] {
		window = m.cfg.settle
	}
	returned := last.Ended
	if returned.IsZero() {
		// The run that sent it died before it returned: it cannot have
		// reached Twilio after that run's lock was released, nor after
		// the longest the SDK may take over it.
		bound := time.Duration(last.AttemptTimeout)
		if bound <= 0 {
			bound = defaultAttemptTimeout
		}
		returned = last.Started.Add(inFlightBound(bound))
		if m.opened.Before(returned) {
			returned = m.opened
		}
		if returned.Before(last.Started) {
			returned = last.Started
		}
	}
	params := &hostednumbers.ReconcileParams{
		PhoneNumbers:         phones,
		SentAt:               last.Started,
		ReturnedAt:           returned,
		ProcessingWindow:     window,
		ConfirmGap:           confirmGap(window),
		KnownBulkHostingSIDs: slices.Clone(b.BulkHostingSIDs),
	}
	if d := b.Doubt; d != nil && slices.Equal(d.Looked, phones) {
		prev := &hostednumbers.Reconciliation{LookedAt: d.LookedAt, Missing: d.Missing, Numbers: make([]hostednumbers.ReconciledNumber, len(phones))}
		for i, p := range phones {
			prev.Numbers[i].PhoneNumber = p
		}
		params.Previous = prev
	}
	if b.Doubt == nil {
		how := "left in flight by an earlier run"
		if b.State == stateUnknown {
			how = "sent without a readable answer"
		}
		fmt.Fprintf(c.stderr, "bulkhost: batch %d was %s: asking Twilio which of its %d number%s it already has.\n",
			b.Index, how, len(waiting), plural(len(waiting)))
	}
	a := attempt{Kind: "reconcile", Started: c.clock().UTC(), Numbers: len(waiting)}
	rec, err := m.client.BulkHostedNumberOrders.Reconcile(ctx, params)
	a.Ended = c.clock().UTC()
	if err != nil {
		return nil, false, err
	}
	if rec.ClockMeasured {
		off := duration(rec.ClockOffset)
		a.ServerClockOffset = &off
	}
	if rec.Verdict == hostednumbers.ReconcilePending {
		a.Outcome = "not known yet: " + rec.Reason
		b.Attempts = append(b.Attempts, a)
		b.Doubt = &doubt{LookedAt: rec.LookedAt.UTC(), Looked: phones, Missing: rec.Missing,
			RetryAt: rec.RetryAt.UTC(), WindowClosesAt: rec.WindowClosesAt.UTC(), Reason: rec.Reason}
		if err := j.save(); err != nil {
			return nil, false, err
		}
		fmt.Fprintf(c.stderr, "bulkhost: batch %d: not known yet (%s); looking again at %s.\n",
			b.Index, rec.Reason, rec.RetryAt.Local().Format(time.TimeOnly))
		return nil, false, nil
	}
	found := make(map[string][]hostednumbers.HostedNumberOrder, len(rec.Numbers))
	for _, rn := range rec.Numbers {
		found[rn.PhoneNumber] = rn.Orders
	}
	var missing []*numberState
	for _, n := range waiting {
		orders := found[n.PhoneNumber]
		if len(orders) == 0 {
			missing = append(missing, n)
			continue
		}
		if len(orders) > 1 {
			fmt.Fprintf(c.stderr, "bulkhost: warning: %s has %d hosted number orders; following %s\n", n.PhoneNumber, len(orders), orders[0].SID)
		}
		o := orders[0]
		n.HostingOrderSID = o.SID
		if o.BulkHostingRequestSID.Valid && o.BulkHostingRequestSID.String != "" {
			n.BulkHostingSID = o.BulkHostingRequestSID.String
			b.BulkHostingSIDs = appendNew(b.BulkHostingSIDs, n.BulkHostingSID)
		}
		n.Status = string(o.Status)
	}
	switch rec.Verdict {
	case hostednumbers.ReconcileNoneCreated:
		a.Outcome = "none created: submitting again"
	case hostednumbers.ReconcileAllInOne:
		a.Outcome, a.BulkHostingSID = "all found in "+rec.BulkHostingSID+": adopted, nothing sent again", rec.BulkHostingSID
		if !m.cfg.jsonOut {
			fmt.Fprintln(c.stdout, rec.BulkHostingSID)
		}
	default:
		a.Outcome = fmt.Sprintf("%d of %d found: submitting the other %d", len(waiting)-len(missing), len(waiting), len(missing))
	}
	b.Attempts = append(b.Attempts, a)
	b.Doubt = nil
	if len(missing) == 0 {
		b.State = stateAccepted
	} else {
		// Settled: Twilio certainly has none of the missing numbers,
		// which are to be submitted as if never sent.
		b.State = statePlanned
	}
	if err := j.save(); err != nil {
		return nil, false, err
	}
	fmt.Fprintf(c.stderr, "bulkhost: batch %d: %s.\n", b.Index, a.Outcome)
	return missing, true, nil
}

// confirmGap is the time between the two looks that must both find no
// order before a number counts as not created: the SDK's default, or the
// window itself when that is shorter (a short -settle, as in the demo or
// tests).
func confirmGap(window time.Duration) time.Duration {
	return min(hostednumbers.DefaultConfirmGap, window)
}

// requestIDOf returns the Twilio-Request-Id an error carries, if any.
func requestIDOf(err error) string {
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) {
		return apiErr.RequestID
	}
	var decodeErr *hostednumbers.DecodeError
	if errors.As(err, &decodeErr) {
		return decodeErr.RequestID
	}
	return ""
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// batchSummary reads like "3 batches: 2 accepted, 1 outcome unknown".
func batchSummary(j *journal) string {
	counts := make(map[batchState]int)
	for _, b := range j.Batches {
		counts[b.State]++
	}
	var parts []string
	for _, s := range []batchState{stateAccepted, stateSending, stateUnknown, stateRejected, statePlanned} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	return fmt.Sprintf("%d batch%s: %s", len(j.Batches), pluralES(len(j.Batches)), strings.Join(parts, ", "))
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// demoScriptedFailures is the exit status a live run of the demo's
// scripted outcome gives: some numbers fail.
const demoScriptedFailures = exitFailures

// demo runs the main job against a fake server in this process: the
// bundled sample (or -csv) in small batches, a lost answer to the second
// create, the same command "run again" to resume from the journal, and
// the numbers followed to the end.
func (c *cli) demo(ctx context.Context, cfg *config) int {
	source := "the bundled sample CSV"
	if cfg.csvPath != "" {
		source = cfg.csvPath
	}
	fmt.Fprintf(c.stderr, "bulkhost: no Twilio credentials in the environment: running the demo against a local fake server with %s.\n"+
		"bulkhost: to use Twilio, set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and pass -live.\n", source)
	in, code, ok := c.input(ctx, cfg)
	if !ok {
		return code
	}
	path := cfg.statePath
	if path == "" {
		dir, err := os.MkdirTemp("", "bulkhost-demo-")
		if err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: making a temporary journal: %v\n", err)
			return exitError
		}
		defer func() { _ = os.RemoveAll(dir) }() // a temporary demo journal; nothing to do if it lingers
		path = filepath.Join(dir, "demo"+journalSuffix)
	}
	newServer := c.newDemoServer
	if newServer == nil {
		newServer = newDemoServer
	}
	srv := newServer()
	defer srv.Close()
	client, cleanup, _ := c.client(cfg, srv)
	defer cleanup()

	m, code, ok := c.openMigration(cfg, in, path, client)
	if !ok {
		return code
	}
	defer m.release()
	if err := m.restoreDemo(ctx); err != nil {
		return m.stepFailed(ctx, "(demo) restoring the fake server's requests", err)
	}
	scripted := len(m.j.Batches) > 1
	for _, b := range m.j.Batches {
		scripted = scripted && b.State == statePlanned
	}
	if scripted {
		// The fake lets the first create through, then makes the second
		// batch's orders and drops the connection: the answer is lost, as
		// in a crash or a network cut. The third create fails with a 500
		// and makes nothing. The first run does not wait: it says when to
		// run again.
		fmt.Fprintln(c.stderr, "bulkhost: (demo) the answer to batch 2 will be lost on the way back, as in a network cut, and batch 3 will get a 500 from Twilio: both are in doubt.")
		srv.InjectFault(hostednumberstest.Fault{Method: "POST"})
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
		wait := cfg.wait
		cfg.wait = false
		code := m.submitBatches(ctx)
		cfg.wait = wait
		if code == exitInterrupted {
			return code
		}
		if code == exitPending {
			m.explainDoubts()
		}
		fmt.Fprintf(c.stderr, "bulkhost: (demo) the first run stopped: %s. Running the same command again, as you would, with -wait (-settle %v in the demo; %v by default):\n",
			batchSummary(m.j), cfg.settle, defaultSettle)
	}
	code = m.runAll(ctx)
	if code == exitInterrupted && cfg.statePath == "" {
		fmt.Fprintln(c.stderr, "bulkhost: (demo) this journal was temporary and is removed now: pass -state FILE to keep it, then run the same command again to resume.")
	}
	if code == exitFailures {
		fmt.Fprintf(c.stderr, "bulkhost: (demo) the numbers ending in 9 failed, as the fake server is scripted to do: a live run would have exited with status %d; the demo ran as designed, so it exits with 0.\n", demoScriptedFailures)
		return exitOK
	}
	if code == exitOK {
		fmt.Fprintln(c.stderr, "bulkhost: (demo) every number completed: a live run would have exited with status 0.")
	}
	return code
}

// demoStage is how long each stage (QUEUED, IN_PROGRESS) of a request
// lasts on the demo's fake server: long enough to watch the progress line,
// and to press Ctrl-C and resume.
const demoStage = 1500 * time.Millisecond

func newDemoServer() *hostednumberstest.Server {
	return hostednumberstest.NewServer(
		hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")),
		hostednumberstest.WithStageDuration(demoStage))
}

// restoreDemo re-creates, on this run's fake server, the requests a
// demo journal names: the fake server of the run that wrote them ended
// with it. The numbers of each request are sent again as one request and
// the journal takes the new SIDs, as if the server had kept them; their
// per-number state is refreshed from there. A real migration never does
// this: Twilio keeps its requests.
func (m *migration) restoreDemo(ctx context.Context) error {
	var restored int
	for _, b := range m.j.Batches {
		for i, old := range b.BulkHostingSIDs {
			var numbers []*numberState
			for _, n := range b.Numbers {
				if n.BulkHostingSID == old {
					numbers = append(numbers, n)
				}
			}
			if len(numbers) == 0 {
				continue
			}
			started := m.c.clock().UTC()
			order, err := m.client.BulkHostedNumberOrders.Create(ctx, m.paramsFor(numbers))
			if err != nil {
				return err
			}
			b.Attempts = append(b.Attempts, attempt{
				Kind: "demo-restore", Started: started, Ended: m.c.clock().UTC(), Numbers: len(numbers),
				Outcome: old + " re-created on a new fake server", BulkHostingSID: order.BulkHostingSID,
			})
			for _, n := range numbers {
				*n = numberState{PhoneNumber: n.PhoneNumber, Line: n.Line, BulkHostingSID: order.BulkHostingSID}
			}
			b.BulkHostingSIDs[i] = order.BulkHostingSID
			restored++
		}
	}
	if restored == 0 {
		return nil
	}
	fmt.Fprintf(m.c.stderr, "bulkhost: (demo) the fake server of the run that wrote this journal ended with it: its %d request%s %s re-created on this run's fake server (with new SIDs), as Twilio would have kept them.\n",
		restored, plural(restored), map[bool]string{true: "is", false: "are"}[restored == 1])
	return m.j.save()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// The batch states, as the journal names them.
type batchState = migrate.BatchState

const (
	statePlanned  = migrate.StatePlanned
	stateSending  = migrate.StateSending
	stateAccepted = migrate.StateAccepted
	stateRejected = migrate.StateRejected
	stateUnknown  = migrate.StateUnknown
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

// migration is one run of a submit: its input, journal and engine.
type migration struct {
	c      *cli
	cfg    *config
	client *hostednumbers.Client
	store  *journal
	eng    *migrate.Migrator
	path   string
	// eligibility holds the eligibility checks (nil with
	// -skip-eligibility), checker runs them.
	eligibility *preflight.FileStore
	checker     *eligibilityChecker
	// track draws the progress of the whole migration; routine says
	// whether each batch's routine steps get a line of their own.
	track   *tracker
	routine bool
	// createErr is the last failed create an event told of.
	createErr *runError
}

// submit is the main job with credentials: read and check the input,
// open or plan its journal, submit what is not submitted yet, and with
// -wait follow every number to the end.
func (c *cli) submit(ctx context.Context, cfg *config) error {
	in, err := c.input(ctx, cfg)
	if err != nil {
		return err
	}
	if cfg.dryRun {
		return c.dryRun(cfg, in)
	}
	path, err := statePath(cfg)
	if err != nil {
		return badCommandLine(err.Error())
	}
	client, cleanup, err := c.client(cfg)
	if err != nil {
		return failed(err)
	}
	defer cleanup()
	m, err := c.openMigration(ctx, cfg, in, path, client)
	if err != nil {
		return err
	}
	defer m.close()
	if cfg.resubmit != "" {
		var statuses []string
		for _, s := range strings.Split(cfg.resubmit, ",") {
			if s = strings.TrimSpace(s); s != "" {
				statuses = append(statuses, s)
			}
		}
		if m.checker != nil && slices.Contains(statuses, migrate.StatusCheckFailed) {
			// Numbers the check refused are checked afresh: their cause
			// may be fixed.
			if m.checker.forget, err = m.numbersIn(ctx, migrate.StatusCheckFailed); err != nil {
				return failf("-resubmit: %v", err)
			}
		}
		res, err := m.eng.Resubmit(ctx, statuses...)
		if err != nil {
			return failf("-resubmit: %v", err)
		}
		n := res.Marked
		fmt.Fprintf(c.stderr, "bulkhost: -resubmit: %d number%s in %s marked to be submitted again.\n", n, plural(n), strings.Join(statuses, ", "))
		printHeld(c.stderr, res.Held)
	}
	return m.runAll(ctx)
}

// printHeld says, for each number -resubmit held back, why and what to
// do (at most 20 lines; the report lists them all).
func printHeld(w io.Writer, held []migrate.Held) {
	if len(held) == 0 {
		return
	}
	fmt.Fprintf(w, "bulkhost: -resubmit: %d number%s held back: Twilio may still host %s from an earlier request, so %s not sent again:\n",
		len(held), plural(len(held)), map[bool]string{true: "it", false: "them"}[len(held) == 1], map[bool]string{true: "it is", false: "they are"}[len(held) == 1])
	const show = 20
	for i, h := range held {
		if i == show {
			fmt.Fprintf(w, "bulkhost:   and %d more\n", len(held)-show)
			break
		}
		var why string
		switch {
		case h.Action == migrate.HoldCancelFirst:
			why = fmt.Sprintf("its order %s is received at Twilio: cancel it first (DELETE /v2/HostedNumber/Orders/%s), then -resubmit again", h.HostingOrderSID, h.HostingOrderSID)
		case h.HostingOrderSID != "" && h.OrderStatus == string(hostednumbers.OrderStatusActionRequired):
			why = fmt.Sprintf("its order %s is action-required, which is live: ask Twilio support to move it on (see its next step), or wait until it completes or fails", h.HostingOrderSID)
		case h.HostingOrderSID != "":
			why = fmt.Sprintf("its order %s is %s at Twilio: wait until it completes or fails", h.HostingOrderSID, h.OrderStatus)
		case h.BulkHostingSID != "":
			why = fmt.Sprintf("bulk request %s, which may hold it, is not processed yet: wait, then -resubmit again", h.BulkHostingSID)
		default:
			why = "its batch is in doubt: run the same command until it is settled, then -resubmit again"
		}
		fmt.Fprintf(w, "bulkhost:   %s (batch %d): %s\n", h.PhoneNumber, h.Batch, why)
	}
}

// input reads and checks the input, reporting any problem.
func (c *cli) input(ctx context.Context, cfg *config) (*input, error) {
	in, err := c.readInputCtx(ctx, cfg)
	if err != nil {
		if c.interrupted() {
			return nil, &runError{code: exitInterrupted, msg: "interrupted while reading the input; nothing was submitted and no journal was written.", err: err}
		}
		return nil, failf("reading the input: %w (-timeout %v)", err, cfg.timeout)
	}
	if len(in.problems) > 0 {
		return nil, c.reportProblems(in)
	}
	return in, nil
}

// dryRun prints the body of every batch's create request: one per line,
// or with -json one document, {"requests": [body, …]}.
func (c *cli) dryRun(cfg *config, in *input) error {
	numbers := in.params.RequestItems[0].Numbers
	batches := 0
	if cfg.jsonOut {
		if _, err := io.WriteString(c.stdout, `{"requests": [`); err != nil {
			return failf("writing the request: %v", err)
		}
		defer func() { _, _ = io.WriteString(c.stdout, "\n]}\n") }() // stdout's own error shows on the next write
	}
	for start := 0; start < len(numbers); start += cfg.batchSize {
		if cfg.jsonOut {
			sep := "\n"
			if batches > 0 {
				sep = ",\n"
			}
			if _, err := io.WriteString(c.stdout, sep); err != nil {
				return failf("writing the request: %v", err)
			}
		}
		p := *in.params
		item := p.RequestItems[0]
		item.Numbers = numbers[start:min(start+cfg.batchSize, len(numbers))]
		p.RequestItems = []hostednumbers.RequestItem{item}
		body, err := p.MarshalJSON()
		if err != nil {
			return failf("encoding the request: %v", err)
		}
		if !cfg.jsonOut {
			body = append(body, '\n')
		}
		if _, err := c.stdout.Write(body); err != nil {
			return failf("writing the request: %v", err)
		}
		batches++
	}
	fmt.Fprintf(c.stderr, "bulkhost: %d number%s in %s and the flags are valid: %d request%s of at most %d; nothing was submitted (-dry-run).\n",
		len(numbers), plural(len(numbers)), in.name, batches, plural(batches), cfg.batchSize)
	return nil
}

// contactFlags names the flag of each contact setting.
var contactFlags = map[migrate.ContactField]string{
	migrate.ContactEmail: "email", migrate.ContactAddressSID: "address-sid",
	migrate.ContactPhone: "contact-phone", migrate.ContactTitle: "contact-title",
	migrate.ContactFriendlyName: "friendly-name", migrate.ContactNotificationEmail: "notification-email",
}

// contactDifferences words each contact setting of now that differs from
// was, after bulkhost's flags.
func contactDifferences(was, now migrate.Contact) []string {
	var out []string
	for _, d := range was.Differences(now) {
		out = append(out, fmt.Sprintf("-%s: the journal was started with %q, this run has %q", contactFlags[d.Field], d.Was, d.Now))
	}
	return out
}

// contactOf is the contact flags of cfg, as the journal records them.
func contactOf(cfg *config) migrate.Contact {
	return migrate.Contact{
		Email: cfg.email, AddressSID: cfg.addressSID,
		ContactPhone: cfg.contactPhone, ContactTitle: cfg.contactTitle,
		FriendlyName: cfg.friendlyName, NotificationEmail: cfg.notificationEml,
	}
}

// openMigration locks and opens the journal at path, or plans and writes
// a new one. The lock is held until close. Every name of the journal (a
// symbolic link, a path through one) is resolved first, so that one
// migration has one journal and one lock whatever path names it.
func (c *cli) openMigration(ctx context.Context, cfg *config, in *input, path string, client *hostednumbers.Client) (m *migration, rerr error) {
	st, err := c.openStore(path)
	if err != nil {
		return nil, failed(err)
	}
	defer func() {
		if rerr != nil {
			_ = st.Close() // refused: nothing was written
		}
	}()
	path = st.path
	contact := contactOf(cfg)
	meta, err := st.Meta(ctx)
	switch {
	case errors.Is(err, migrate.ErrNoMigration):
		meta = migrate.Meta{Input: in.id, BatchSize: cfg.batchSize, Contact: contact, Created: c.clock().UTC(), App: appMark(cfg.demo)}
		if err := st.Start(ctx, meta, migrate.Batches(c.inputNumbers(ctx, in), cfg.batchSize)); err != nil {
			return nil, failf("journal %s: %v; nothing was submitted", path, err)
		}
		meta, _ = st.Meta(ctx)
		fmt.Fprintf(c.stderr, "bulkhost: journal %s: %d number%s in %d batch%s of up to %d.\n",
			path, meta.Input.Numbers, plural(meta.Input.Numbers), meta.Batches, pluralES(meta.Batches), meta.BatchSize)
	case err != nil:
		return nil, failf("journal %s: %v", path, err)
	default:
		if err := c.checkJournal(ctx, st, meta, in, cfg); err != nil {
			return nil, failed(err)
		}
		if cfg.given["batch-size"] && cfg.batchSize != meta.BatchSize {
			fmt.Fprintf(c.stderr, "bulkhost: the journal's batches of up to %d numbers stand; -batch-size %d applies to new journals only.\n", meta.BatchSize, cfg.batchSize)
		}
		p, _ := migrate.Summarize(ctx, st)
		fmt.Fprintf(c.stderr, "bulkhost: resuming from journal %s (%s).\n", path, batchSummary(p))
	}
	m = &migration{c: c, cfg: cfg, client: client, store: st, path: path, routine: meta.Batches <= routineBatches}
	m.track = newTracker(newProgress(c.stderr, c.terminal(c.stderr), cfg.jsonOut), st, c.clock, c.progressEvery)
	var check migrate.Checker
	if !cfg.skipEligibility {
		m.eligibility, m.checker, err = m.openEligibility()
		if err != nil {
			return nil, failf("%v; nothing was submitted (-skip-eligibility submits without checking)", err)
		}
		defer func() {
			if rerr != nil {
				_ = m.eligibility.Close() // refused: nothing was checked
			}
		}()
		check = m.checker
	}
	m.eng, err = migrate.New(migrate.Options{
		Check:  check,
		Client: c.engineAPI(client), Store: st.Store,
		Settle: cfg.settle,
		Wait:   cfg.wait,
		Poll:   cfg.poll, MaxPoll: cfg.maxPoll,
		Clock:   c.engineClock(),
		OnEvent: m.event,
	})
	if err != nil {
		return nil, failed(err)
	}
	return m, nil
}

// inputNumbers yields the input's numbers as the journal records them. A
// streamed input is read again, and must not have changed since it was
// checked.
func (c *cli) inputNumbers(ctx context.Context, in *input) iter.Seq2[migrate.NumberState, error] {
	return func(yield func(migrate.NumberState, error) bool) {
		if !in.streamed {
			for i, n := range in.list.numbers {
				if !yield(migrate.NumberState{Number: n, Line: in.list.lines[i]}, nil) {
					return
				}
			}
			return
		}
		f, err := os.Open(in.path)
		if err != nil {
			yield(migrate.NumberState{}, err)
			return
		}
		defer func() { _ = f.Close() }() // read-only
		br := newBoundedReader(ctx, f, c.inputLimit(), c.lineLimit())
		stopped := false
		scanNumbers(br, make(map[int]bool), func(n hostednumbers.Number, line int) bool {
			if !yield(migrate.NumberState{Number: n, Line: line}, nil) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return
		}
		if br.err != nil && !errors.Is(br.err, io.EOF) {
			yield(migrate.NumberState{}, br.err)
			return
		}
		if d := br.digest(); d != in.id.SHA256 {
			yield(migrate.NumberState{}, fmt.Errorf("%s changed while bulkhost read it (sha256 %.12s… then %.12s…): nothing was recorded; run again once it is written", in.name, in.id.SHA256, d))
		}
	}
}

// checkJournal refuses a journal that is not this migration's: made by
// another tool or for the demo (or not), for another input, with other
// numbers than the input's, or with other contact flags.
func (c *cli) checkJournal(ctx context.Context, st *journal, meta migrate.Meta, in *input, cfg *config) error {
	path := st.path
	app, err := readApp(path, meta)
	if err != nil {
		return err
	}
	if app.Demo != cfg.demo {
		what := "the demo's: its fake server is gone with the run that made it"
		if !app.Demo {
			what = "a real migration's: the demo would not find its requests"
		}
		return fmt.Errorf("journal %s is %s; name another file with -state", path, what)
	}
	if diff := contactDifferences(meta.Contact, contactOf(cfg)); len(diff) > 0 {
		return &journalError{path, fmt.Sprintf("was started with other contact flags: %s. "+
			"Run with the flags the migration was started with, so that every batch goes out the same; "+
			"or, to use the new ones, name a new journal with -state for the numbers not submitted yet", strings.Join(diff, "; "))}
	}
	if meta.Input.SHA256 != in.id.SHA256 {
		// The input changed: numbers added, or removed before they were
		// submitted, are taken in; anything else is refused.
		ch, err := migrate.ApplyInput(ctx, st, in.id, func() iter.Seq2[migrate.NumberState, error] { return c.inputNumbers(ctx, in) })
		var ice *migrate.InputChangeError
		if errors.As(err, &ice) {
			return &journalError{path, fmt.Sprintf("was made for another version of the input (%s, %d numbers, sha256 %.12s…), and %s (%d numbers, sha256 %.12s…) differs from it in ways bulkhost cannot take in: %v. "+
				"bulkhost does not overwrite it: run with the input it was made for, or name a new journal for a new input with -state "+
				"(and leave the numbers this journal already submitted out of it: Twilio has them)",
				meta.Input.Name, meta.Input.Numbers, meta.Input.SHA256, in.id.Name, in.id.Numbers, in.id.SHA256, ice)}
		}
		if err != nil {
			return fmt.Errorf("journal %s: taking in the changed input: %w", path, err)
		}
		fmt.Fprintf(c.stderr, "bulkhost: %s changed since the journal was made: %d number%s added (in new batches), %d withdrawn (removed before they were submitted: never sent), %d restored.\n",
			in.id.Name, ch.Added, plural(ch.Added), ch.Withdrawn, ch.Restored)
		return nil
	}
	return matchNumbers(ctx, st, meta, c.inputNumbers(ctx, in), path)
}

// matchNumbers returns an error unless the journal holds exactly the
// input's phone numbers: a journal edited by hand (or by a bug) must not
// send a number the input does not have, nor leave one out.
func matchNumbers(ctx context.Context, st migrate.Store, meta migrate.Meta, numbers iter.Seq2[migrate.NumberState, error], path string) error {
	// The journal's numbers, then the input's, as numbers: a million of
	// them take a few megabytes.
	inJournal := make(map[uint64]bool, meta.Input.Numbers)
	for i := 1; i <= meta.Batches; i++ {
		ns, err := st.Numbers(ctx, i)
		if err != nil {
			return err
		}
		for k := range ns {
			if !ns[k].Withdrawn {
				inJournal[phoneKey(ns[k].PhoneNumber())] = false
			}
		}
	}
	var notInJournal, notInInput []string
	for n, err := range numbers {
		if err != nil {
			return err
		}
		k := phoneKey(n.PhoneNumber())
		if _, ok := inJournal[k]; !ok {
			notInJournal = append(notInJournal, n.PhoneNumber())
			continue
		}
		inJournal[k] = true
	}
	for i := 1; i <= meta.Batches && len(notInInput) < len(inJournal); i++ {
		ns, err := st.Numbers(ctx, i)
		if err != nil {
			return err
		}
		for k := range ns {
			if !ns[k].Withdrawn && !inJournal[phoneKey(ns[k].PhoneNumber())] {
				notInInput = append(notInInput, ns[k].PhoneNumber())
			}
		}
	}
	if len(notInJournal) == 0 && len(notInInput) == 0 {
		return nil
	}
	var what []string
	if len(notInJournal) > 0 {
		what = append(what, fmt.Sprintf("%d number%s of the input %s not in it (%s)", len(notInJournal), plural(len(notInJournal)), pluralVerb(len(notInJournal)), sample(notInJournal)))
	}
	if len(notInInput) > 0 {
		what = append(what, fmt.Sprintf("%d number%s in it %s not in the input (%s)", len(notInInput), plural(len(notInInput)), pluralVerb(len(notInInput)), sample(notInInput)))
	}
	return &journalError{path, fmt.Sprintf("does not hold the numbers of %s although it was made for this input: %s; it has been changed since bulkhost wrote it. "+
		"bulkhost does not overwrite it: restore it from a backup, or name a new journal with -state for the numbers not submitted yet",
		meta.Input.Name, strings.Join(what, "; "))}
}

// numbersIn returns the phone numbers of the journal whose status is
// status.
func (m *migration) numbersIn(ctx context.Context, status string) (map[string]bool, error) {
	meta, err := m.store.Meta(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool)
	for i := 1; i <= meta.Batches; i++ {
		ns, err := m.store.Numbers(ctx, i)
		if err != nil {
			return nil, err
		}
		for k := range ns {
			if ns[k].Status == status {
				out[ns[k].PhoneNumber()] = true
			}
		}
	}
	return out, nil
}

// sample lists the first few of list, with "…" if there are more.
func sample(list []string) string {
	const show = 3
	if len(list) <= show {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:show], ", ") + ", …"
}

func (m *migration) close() {
	m.c.stats.Written, m.c.stats.Size = m.store.figures()
	if m.eligibility != nil {
		_ = m.eligibility.Close() // every record was synced when made
	}
	_ = m.store.Close() // every step was synced when taken
}

// event prints one step of the engine.
func (m *migration) event(ev migrate.Event) {
	c := m.c
	if m.track != nil {
		m.track.p.clear()
		defer m.track.tick(context.Background(), false)
	}
	switch ev.Kind {
	case migrate.EventSending:
		if c.checkpoint != nil {
			c.checkpoint(stepAfterSending)
		}
		return
	case migrate.EventSubmitted:
		if !m.cfg.jsonOut {
			fmt.Fprintln(c.stdout, ev.BulkHostingSID)
		}
		if !m.routine {
			return // counted by the progress line
		}
	case migrate.EventSettled:
		if ev.BulkHostingSID != "" && !m.cfg.jsonOut {
			fmt.Fprintln(c.stdout, ev.BulkHostingSID)
		}
	case migrate.EventRejected, migrate.EventInDoubt, migrate.EventRateLimited:
		if ev.Err != nil {
			// Told now, where it happens; the run ends with it if it
			// is the last.
			m.createErr = c.apiError(context.Background(), fmt.Sprintf("submitting batch %d", ev.Batch), ev.Err, m.cfg)
			c.printErr(m.createErr)
		}
	case migrate.EventRefreshed:
		return // drawn by the progress display
	}
	fmt.Fprintf(c.stderr, "bulkhost: %s.\n", ev.Message)
	if ev.Kind == migrate.EventInDoubt {
		fmt.Fprintln(c.stderr, "bulkhost: it is recorded as outcome unknown: bulkhost asks Twilio which of its numbers it has, and sends nothing again until the answer is conclusive.")
	}
}

// runAll submits every batch that needs it, settles the batches in
// doubt, then reports or follows.
func (m *migration) runAll(ctx context.Context) error {
	c, cfg := m.c, m.cfg
	m.track.begin(ctx, "submitting")
	res, err := m.eng.Submit(ctx)
	if !m.routine || m.track.drawn {
		m.track.tick(ctx, true) // where the whole stands
	}
	m.track.p.done()
	var failure *runError
	if err != nil {
		failure = m.stepFailed(ctx, err)
		if failure.code == exitInterrupted {
			what := "submitting"
			if se := (*migrate.StepError)(nil); errors.As(err, &se) {
				what = se.What // the step the signal stopped
			}
			return &runError{code: exitInterrupted, err: err,
				msg: fmt.Sprintf("%s: interrupted; the journal %s is up to date: run the same command again to resume", what, m.path)}
		}
	} else if len(res.Rejected) > 0 {
		failure = m.createErr
		if failure == nil {
			failure = failf("%d batch%s rejected", len(res.Rejected), pluralES(len(res.Rejected)))
		}
	}
	if failure != nil {
		p, _ := migrate.Summarize(context.WithoutCancel(ctx), m.store)
		failure.hints = append(failure.hints, fmt.Sprintf("%s. Run the same command again to resume: accepted batches are kept, uncertain ones are checked with Twilio before anything is sent again.", batchSummary(p)))
		return failure
	}
	if len(res.InDoubt) > 0 {
		// Without -wait: batches in doubt, and when to run again.
		m.explainDoubts(ctx)
		if cfg.jsonOut {
			if err := m.writeReport(ctx, true); err != nil {
				return failf("writing the report: %v", err)
			}
		}
		return exitWith(exitPending)
	}
	if !cfg.wait {
		if cfg.jsonOut {
			// -json without -wait: the journal as it stands.
			if err := m.writeReport(ctx, true); err != nil {
				return failf("writing the report: %v", err)
			}
		}
		p, _ := migrate.Summarize(ctx, m.store)
		fmt.Fprintf(c.stderr, "bulkhost: %s.\n", batchSummary(p))
		fmt.Fprintf(c.stderr, "bulkhost: follow the numbers with: bulkhost -live -status -state %s -wait\n", m.path)
		return nil
	}
	return c.followStore(ctx, m.eng, m.store, cfg)
}

// stepFailed reports a failed step and returns the exit status for it.
func (m *migration) stepFailed(ctx context.Context, err error) *runError {
	if m.c.interrupted() {
		return &runError{code: exitInterrupted, err: err}
	}
	var se *migrate.StepError
	if errors.As(err, &se) {
		var ee *eligibilityError
		if !errors.As(se.Err, &ee) && (errors.Is(se.Err, hostednumbers.ErrNotApplied) || errors.Is(se.Err, hostednumbers.ErrOutcomeUnknown)) {
			// A create's failure: the engine's event has told of it.
			if m.createErr != nil {
				return m.createErr
			}
			return &runError{code: exitError, msg: fmt.Sprintf("%s: %v", se.What, se.Err), printed: true, err: err}
		}
		return m.c.apiError(ctx, se.What, se.Err, m.cfg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		re := &runError{code: exitError, msg: fmt.Sprintf("the run took longer than -timeout (%v) allows", m.cfg.timeout), err: err}
		m.c.printErr(re) // before what it leaves in doubt
		m.explainDoubts(context.WithoutCancel(ctx))
		return re
	}
	return m.c.apiError(ctx, "submitting", err, m.cfg)
}

// explainDoubts says, for each batch still in doubt, why, and at what
// time running the command again can settle it.
func (m *migration) explainDoubts(ctx context.Context) {
	w := m.c.stderr
	meta, err := m.store.Meta(ctx)
	if err != nil {
		return
	}
	var latest time.Time
	for i := 1; i <= meta.Batches; i++ {
		b, err := m.store.Batch(ctx, i)
		if err != nil || !b.State.InDoubt() {
			continue
		}
		if b.Doubt == nil {
			fmt.Fprintf(w, "bulkhost: batch %d is in doubt and has not been looked at yet: run the same command again.\n", b.Index)
			continue
		}
		at := b.Doubt.ConclusiveAt()
		if at.After(latest) {
			latest = at
		}
		fmt.Fprintf(w, "bulkhost: batch %d is in doubt: %s. Nothing is sent again for it until Twilio's answer is conclusive; "+
			"the earliest a run can settle it if Twilio never made its orders is %s (orders that appear earlier settle it earlier).\n",
			b.Index, b.Doubt.Reason, clockText(at))
	}
	if !latest.IsZero() {
		fmt.Fprintf(w, "bulkhost: run the same command again at %s or later (or now with -wait, which waits for it); the other batches are done.\n",
			clockText(latest))
	}
}

// clockText is t as a person reads it, rounded up to the second: a run
// started at the time printed is never early.
func clockText(t time.Time) string {
	r := t.Truncate(time.Second)
	if r.Before(t) {
		r = r.Add(time.Second)
	}
	return r.Local().Format(time.DateTime)
}

// batchSummary reads like "3 batches: 2 accepted, 1 outcome unknown".
func batchSummary(p migrate.Progress) string {
	var parts []string
	for _, s := range []batchState{stateAccepted, stateSending, stateUnknown, stateRejected, statePlanned} {
		if p.States[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.States[s], strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	return fmt.Sprintf("%d batch%s: %s", p.Batches, pluralES(p.Batches), strings.Join(parts, ", "))
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// Steps a crash test may stop the command at (see envTestCrashAt).
const (
	stepAfterSending = "after-sending" // "sending" is recorded, the create not sent
	stepAfterAnswer  = "after-answer"  // the create was answered, the answer not yet recorded
	stepMidWait      = "mid-wait"      // a refresh is recorded, the wait goes on
)

// engineAPI is the client's API for the engine, with the crash test's
// step after a create's answer.
func (c *cli) engineAPI(client *hostednumbers.Client) migrate.API {
	api := migrate.ClientAPI(client)
	if c.checkpoint != nil {
		api.BulkHostedNumberOrders = answerHook{api.BulkHostedNumberOrders, c.checkpoint}
	}
	return api
}

// answerHook calls step(stepAfterAnswer) when a create has its answer.
type answerHook struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	step func(string)
}

func (h answerHook) Create(ctx context.Context, params *hostednumbers.CreateBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	o, err := h.BulkHostedNumberOrdersAPI.Create(ctx, params, opts...)
	h.step(stepAfterAnswer)
	return o, err
}

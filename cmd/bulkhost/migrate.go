package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// journalSuffix is added to the CSV's path to name its journal.
const journalSuffix = ".bulkhost.json"

// toolName is the Meta.Tool of bulkhost's migrations.
const toolName = "bulkhost"

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

// journalError is a journal bulkhost refuses to use. The file is left as
// it is.
type journalError struct {
	path string
	msg  string
}

func (e *journalError) Error() string { return "journal " + e.path + ": " + e.msg }

// openStore opens (and locks) the journal at path, explaining a refusal.
func (c *cli) openStore(path string) (*logstore.Store, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		// Every journal starts with a record: an empty file is not one
		// (a journal cut to nothing, or a file made by something else).
		return nil, &journalError{path, "is empty (0 bytes), so it is not a journal: no step was recorded in it, so nothing was submitted with it; " +
			"delete it to start a new migration, or name the right journal with -state; bulkhost does not overwrite it"}
	}
	st, err := logstore.Open(path, logstore.Options{FS: c.fs})
	if err == nil {
		return st, nil
	}
	var old *logstore.OldJournalError
	var bad *logstore.Error
	switch {
	case errors.As(err, &old) && old.Format == 0:
		return nil, &journalError{path, "is not a bulkhost journal (a JSON document with no journal format): name the journal with -state, or another file to start a new migration; bulkhost does not overwrite it"}
	case errors.As(err, &old):
		return nil, &journalError{path, fmt.Sprintf("was written by an earlier bulkhost (journal format %d): finish that migration with the bulkhost that wrote it, or name another file with -state; bulkhost does not overwrite it", old.Format)}
	case errors.As(err, &bad):
		return nil, &journalError{path, strings.TrimPrefix(bad.Msg, "") + "; bulkhost does not overwrite it: move it away to start a new migration, or name another file with -state"}
	case errors.Is(err, logstore.ErrLocked):
		if resolved, rerr := logstore.ResolvePath(path); rerr == nil {
			path = resolved
		}
		return nil, fmt.Errorf("journal %s is in use by another bulkhost run (it holds %s.lock): let that run finish, or stop it, then run again", path, path)
	}
	return nil, fmt.Errorf("journal %s: %w", path, err)
}

// migration is one run of a submit: its input, journal and engine.
type migration struct {
	c      *cli
	cfg    *config
	client *hostednumbers.Client
	store  *logstore.Store
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
	m, code, ok := c.openMigration(ctx, cfg, in, path, client)
	if !ok {
		return code
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
				fmt.Fprintf(c.stderr, "bulkhost: -resubmit: %v\n", err)
				return exitError
			}
		}
		res, err := m.eng.Resubmit(ctx, statuses...)
		if err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: -resubmit: %v\n", err)
			return exitError
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

// dryRun prints the body of every batch's create request: one per line,
// or with -json one document, {"requests": [body, …]}.
func (c *cli) dryRun(cfg *config, in *input) int {
	numbers := in.params.RequestItems[0].Numbers
	batches := 0
	if cfg.jsonOut {
		if _, err := io.WriteString(c.stdout, `{"requests": [`); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: writing the request: %v\n", err)
			return exitError
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
				fmt.Fprintf(c.stderr, "bulkhost: writing the request: %v\n", err)
				return exitError
			}
		}
		p := *in.params
		item := p.RequestItems[0]
		item.Numbers = numbers[start:min(start+cfg.batchSize, len(numbers))]
		p.RequestItems = []hostednumbers.RequestItem{item}
		body, err := p.MarshalJSON()
		if err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: encoding the request: %v\n", err)
			return exitError
		}
		if !cfg.jsonOut {
			body = append(body, '\n')
		}
		if _, err := c.stdout.Write(body); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: writing the request: %v\n", err)
			return exitError
		}
		batches++
	}
	fmt.Fprintf(c.stderr, "bulkhost: %d number%s in %s and the flags are valid: %d request%s of at most %d; nothing was submitted (-dry-run).\n",
		len(numbers), plural(len(numbers)), in.name, batches, plural(batches), cfg.batchSize)
	return exitOK
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
func (c *cli) openMigration(ctx context.Context, cfg *config, in *input, path string, client *hostednumbers.Client) (m *migration, code int, ok bool) {
	st, err := c.openStore(path)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return nil, exitError, false
	}
	opened := c.clock().UTC()
	defer func() {
		if !ok {
			_ = st.Close() // refused: nothing was written
		}
	}()
	path = st.Path()
	contact := contactOf(cfg)
	meta, err := st.Meta(ctx)
	switch {
	case errors.Is(err, migrate.ErrNoMigration):
		meta = migrate.Meta{Tool: toolName, Input: in.id, BatchSize: cfg.batchSize, Contact: contact, Demo: cfg.demo, Created: c.clock().UTC()}
		if err := st.Start(ctx, meta, migrate.Batches(c.inputNumbers(ctx, in), cfg.batchSize)); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: journal %s: %v; nothing was submitted\n", path, err)
			return nil, exitError, false
		}
		meta, _ = st.Meta(ctx)
		fmt.Fprintf(c.stderr, "bulkhost: journal %s: %d number%s in %d batch%s of up to %d.\n",
			path, meta.Input.Numbers, plural(meta.Input.Numbers), meta.Batches, pluralES(meta.Batches), meta.BatchSize)
	case err != nil:
		fmt.Fprintf(c.stderr, "bulkhost: journal %s: %v\n", path, err)
		return nil, exitError, false
	default:
		if err := c.checkJournal(ctx, st, meta, in, cfg); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
			return nil, exitError, false
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
			fmt.Fprintf(c.stderr, "bulkhost: %v; nothing was submitted (-skip-eligibility submits without checking)\n", err)
			return nil, exitError, false
		}
		defer func() {
			if !ok {
				_ = m.eligibility.Close() // refused: nothing was checked
			}
		}()
		check = m.checker
	}
	m.eng, err = migrate.New(migrate.Options{
		Check:  check,
		Client: c.engineAPI(client), Store: lockedStore{st, opened},
		Settle:      cfg.settle,
		Concurrency: cfg.concurrency,
		Wait:        cfg.wait,
		Poll:        cfg.poll, MaxPoll: c.maxPoll(cfg),
		Clock:   c.engineClock(),
		OnEvent: m.event,
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return nil, exitError, false
	}
	return m, exitOK, true
}

func (c *cli) maxPoll(cfg *config) time.Duration {
	if cfg.demo {
		return cfg.poll // the demo polls steadily
	}
	return hostednumbers.DefaultMaxPollInterval
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
func (c *cli) checkJournal(ctx context.Context, st migrate.Store, meta migrate.Meta, in *input, cfg *config) error {
	path := st.(*logstore.Store).Path()
	if meta.Tool != toolName {
		return &journalError{path, fmt.Sprintf("was made by %q, not bulkhost; bulkhost does not overwrite it: name another file with -state", meta.Tool)}
	}
	if meta.Demo != cfg.demo {
		what := "the demo's: its fake server is gone with the run that made it"
		if !meta.Demo {
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
	m.c.stats.Written, m.c.stats.Size = m.store.Written(), m.store.Size()
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
			c.printError(context.Background(), fmt.Sprintf("submitting batch %d", ev.Batch), ev.Err, m.cfg)
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
func (m *migration) runAll(ctx context.Context) int {
	c, cfg := m.c, m.cfg
	m.track.begin(ctx, "submitting")
	res, err := m.eng.Submit(ctx)
	if !m.routine || m.track.drawn {
		m.track.tick(ctx, true) // where the whole stands
	}
	m.track.p.done()
	code := exitOK
	if err != nil {
		code = m.stepFailed(ctx, err)
		if code == exitInterrupted {
			what := "submitting"
			if se := (*migrate.StepError)(nil); errors.As(err, &se) {
				what = se.What // the step the signal stopped
			}
			msg := fmt.Sprintf("%s: interrupted; the journal %s is up to date: run the same command again to resume", what, m.path)
			c.fail(msg, nil)
			fmt.Fprintf(c.stderr, "bulkhost: %s.\n", msg)
			return code
		}
	} else if len(res.Rejected) > 0 {
		code = exitError
	}
	if code != exitOK {
		p, _ := migrate.Summarize(context.WithoutCancel(ctx), m.store)
		fmt.Fprintf(c.stderr, "bulkhost: %s. Run the same command again to resume: accepted batches are kept, uncertain ones are checked with Twilio before anything is sent again.\n", batchSummary(p))
		return code
	}
	if len(res.InDoubt) > 0 {
		// Without -wait: batches in doubt, and when to run again.
		m.explainDoubts(ctx)
		if cfg.jsonOut {
			if err := m.writeReport(ctx, true); err != nil {
				fmt.Fprintf(c.stderr, "bulkhost: writing the report: %v\n", err)
				return exitError
			}
		}
		return exitPending
	}
	if !cfg.wait {
		if cfg.jsonOut {
			// -json without -wait: the journal as it stands.
			if err := m.writeReport(ctx, true); err != nil {
				fmt.Fprintf(c.stderr, "bulkhost: writing the report: %v\n", err)
				return exitError
			}
		}
		p, _ := migrate.Summarize(ctx, m.store)
		fmt.Fprintf(c.stderr, "bulkhost: %s.\n", batchSummary(p))
		fmt.Fprintf(c.stderr, "bulkhost: follow the numbers with: bulkhost -live -status -state %s -wait\n", m.path)
		return exitOK
	}
	return c.followStore(ctx, m.eng, m.store, cfg)
}

// stepFailed reports a failed step and returns the exit status for it.
func (m *migration) stepFailed(ctx context.Context, err error) int {
	if m.c.interrupted() {
		return exitInterrupted
	}
	var se *migrate.StepError
	if errors.As(err, &se) {
		var ee *eligibilityError
		if !errors.As(se.Err, &ee) && (errors.Is(se.Err, hostednumbers.ErrNotApplied) || errors.Is(se.Err, hostednumbers.ErrOutcomeUnknown)) {
			// A create's failure: the engine's event has told of it.
			return exitError
		}
		return m.c.printError(ctx, se.What, se.Err, m.cfg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(m.c.stderr, "bulkhost: the run took longer than -timeout (%v) allows\n", m.cfg.timeout)
		m.explainDoubts(context.WithoutCancel(ctx))
		return exitError
	}
	return m.c.printError(ctx, "submitting", err, m.cfg)
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

// demoScriptedFailures is the exit status a live run of the demo's
// scripted outcome gives: some numbers fail.
const demoScriptedFailures = exitFailures

// demo runs the main job against a fake server in this process: the
// bundled sample (or -csv) in small batches, a lost answer to the second
// create and a 500 for the third, the same command "run again" to settle
// them, and the numbers followed to the end.
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

	m, code, ok := c.openMigration(ctx, cfg, in, path, client)
	if !ok {
		return code
	}
	defer m.close()
	if err := m.restoreDemo(ctx); err != nil {
		return m.c.printError(ctx, "(demo) restoring the fake server's requests", err, cfg)
	}
	p, err := migrate.Summarize(ctx, m.store)
	if err != nil {
		return m.c.printError(ctx, "(demo) reading the journal", err, cfg)
	}
	if p.Batches > 2 && p.States[statePlanned] == p.Batches {
		// The fake lets the first create through, then takes the second
		// and drops the connection: the answer is lost, as in a network
		// cut. The third create fails with a 500 and makes nothing. The
		// first run does not wait: it says when to run again.
		fmt.Fprintln(c.stderr, "bulkhost: (demo) the answer to batch 2 will be lost on the way back, as in a network cut, and batch 3 will get a 500 from Twilio: both are in doubt.")
		const creates = "/v2/HostedNumber/Orders/Bulk" // not the eligibility checks
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: creates})
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: creates, ProcessThenDrop: true})
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: creates, Status: 500})
		first, err := migrate.New(m.eng.Options(func(o *migrate.Options) { o.Wait = false }))
		if err != nil {
			return m.c.printError(ctx, "(demo)", err, cfg)
		}
		res, err := first.Submit(ctx)
		if err != nil {
			if code := m.stepFailed(ctx, err); code == exitInterrupted {
				return code
			}
		} else if len(res.InDoubt) > 0 {
			m.explainDoubts(ctx)
		}
		p, _ := migrate.Summarize(ctx, m.store)
		fmt.Fprintf(c.stderr, "bulkhost: (demo) the first run stopped: %s. Running the same command again, as you would, with -wait (-settle %v in the demo; %v by default):\n",
			batchSummary(p), cfg.settle, defaultSettle)
	}
	code = m.runAll(ctx)
	if code == exitInterrupted && cfg.statePath == "" {
		fmt.Fprintln(c.stderr, "bulkhost: (demo) this journal was temporary and is removed now: pass -state FILE to keep it, then run the same command again to resume.")
	}
	if code == exitFailures {
		what := "the numbers ending in 9 failed"
		if !cfg.skipEligibility {
			what += " and " + demoIneligible + " was not eligible (check-failed: never submitted)"
		}
		fmt.Fprintf(c.stderr, "bulkhost: (demo) %s, as the fake server is scripted to do: a live run would have exited with status %d; the demo ran as designed, so it exits with 0.\n", what, demoScriptedFailures)
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

// demoEligibilityStage is how long each stage (QUEUED, IN_PROGRESS) of a
// bulk eligibility check lasts on the demo's fake server.
const demoEligibilityStage = 300 * time.Millisecond

// demoIneligible is the sample's number the demo's fake server answers as
// not eligible (already in Twilio), so that the demo shows it refused
// with Twilio's reason and next step, and never submitted.
const demoIneligible = "+14155550105"

// demoEligibility is the eligibility script of the demo's fake server.
func demoEligibility(phoneNumber string) hostednumberstest.EligibilityOutcome {
	return hostednumberstest.IneligibleNumbersEndingIn(demoIneligible)(phoneNumber)
}

func newDemoServer() *hostednumberstest.Server {
	return hostednumberstest.NewServer(
		hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")),
		hostednumberstest.WithEligibility(demoEligibility),
		// Eligibility checks take demoEligibilityStage a stage, bulk
		// hosting requests demoStage.
		hostednumberstest.WithStageDuration(demoEligibilityStage),
		hostednumberstest.WithProcessingDelay(demoStage, demoStage))
}

// restoreDemo re-creates, on this run's fake server, the requests a demo
// journal names: the fake server of the run that wrote them ended with
// it. The numbers of each request are sent again as one request and the
// journal takes the new SIDs, as if the server had kept them; their
// per-number state is refreshed from there. A real migration never does
// this: Twilio keeps its requests.
func (m *migration) restoreDemo(ctx context.Context) error {
	meta, err := m.store.Meta(ctx)
	if err != nil {
		return err
	}
	restored := 0
	for i := 1; i <= meta.Batches; i++ {
		b, err := m.store.Batch(ctx, i)
		if err != nil {
			return err
		}
		if len(b.BulkHostingSIDs) == 0 {
			continue
		}
		numbers, err := m.store.Numbers(ctx, i)
		if err != nil {
			return err
		}
		var changed []migrate.NumberState
		for k, old := range b.BulkHostingSIDs {
			var settings []hostednumbers.Number
			var idx []int
			for j := range numbers {
				if numbers[j].BulkHostingSID == old {
					settings = append(settings, numbers[j].Number)
					idx = append(idx, j)
				}
			}
			if len(settings) == 0 {
				continue
			}
			started := m.c.clock().UTC()
			order, err := m.client.BulkHostedNumberOrders.Create(ctx, meta.Contact.Params(settings))
			if err != nil {
				return err
			}
			b.Attempts = append(b.Attempts, migrate.Attempt{
				Kind: "demo-restore", Started: started, Ended: m.c.clock().UTC(), Numbers: len(settings),
				Outcome: old + " re-created on a new fake server", BulkHostingSID: order.BulkHostingSID,
			})
			for _, j := range idx {
				numbers[j] = migrate.NumberState{Number: numbers[j].Number, Line: numbers[j].Line, BulkHostingSID: order.BulkHostingSID}
				changed = append(changed, numbers[j])
			}
			b.BulkHostingSIDs[k] = order.BulkHostingSID
			restored++
		}
		b.Counts = nil
		if err := m.store.SaveBatch(ctx, &b, changed); err != nil {
			return err
		}
	}
	if restored == 0 {
		return nil
	}
	fmt.Fprintf(m.c.stderr, "bulkhost: (demo) the fake server of the run that wrote this journal ended with it: its %d request%s %s re-created on this run's fake server (with new SIDs), as Twilio would have kept them.\n",
		restored, plural(restored), map[bool]string{true: "is", false: "are"}[restored == 1])
	return nil
}

// Steps a crash test may stop the command at (see envTestCrashAt).
const (
	stepAfterSending = "after-sending" // "sending" is recorded, the create not sent
	stepAfterAnswer  = "after-answer"  // the create was answered, the answer not yet recorded
	stepMidWait      = "mid-wait"      // a refresh is recorded, the wait goes on
)

// lockedStore is the journal with the time this process took its lock:
// every earlier run had ended by then (migrate.Exclusive).
type lockedStore struct {
	*logstore.Store
	since time.Time
}

// ExclusiveSince implements migrate.Exclusive.
func (s lockedStore) ExclusiveSince() time.Time { return s.since }

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

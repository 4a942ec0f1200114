package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/csvinput"
	"github.com/hostednumbers/hostednumbers-go/internal/report"
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
	// eligibility is what to close of the eligibility checks' store (nil
	// with -skip-eligibility, and when the journal keeps them); checker
	// runs them.
	eligibility io.Closer
	checker     *preflight.Checker
	// track draws the progress of the whole migration; routine says
	// whether each batch's routine steps get a line of their own.
	track   *tracker
	routine bool
	// createErr is the last failed create an event told of.
	createErr *runError
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
	st, err := c.openStore(ctx, cfg, path)
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
	started := false
	if errors.Is(err, migrate.ErrNoMigration) {
		meta = migrate.Meta{Input: in.id, BatchSize: cfg.batchSize, Contact: contact, Created: c.clock().UTC(), App: appMark(cfg.demo)}
		err = st.Start(ctx, meta, migrate.Batches(c.inputNumbers(ctx, in), cfg.batchSize))
		switch {
		case err == nil:
			started = true
			meta, err = st.Meta(ctx)
			if err != nil {
				return nil, failf("journal %s: %v", path, err)
			}
			fmt.Fprintf(c.stderr, "bulkhost: journal %s: %d number%s in %d batch%s of up to %d.\n",
				path, meta.Input.Numbers, plural(meta.Input.Numbers), meta.Batches, pluralES(meta.Batches), meta.BatchSize)
		case st.shared && errors.Is(err, migrate.ErrExists):
			// Another process sharing the database started the
			// migration first: join it, once it is checked to be this
			// input's, as a resume would.
			fmt.Fprintf(c.stderr, "bulkhost: journal %s: another bulkhost started the migration first: joining it.\n", path)
			meta, err = st.Meta(ctx)
		default:
			return nil, failf("journal %s: %v; nothing was submitted", path, err)
		}
	}
	switch {
	case started:
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
		fmt.Fprintf(c.stderr, "bulkhost: resuming from journal %s (%s).\n", path, report.BatchSummary(p))
	}
	m = &migration{c: c, cfg: cfg, client: client, store: st, path: path, routine: meta.Batches <= routineBatches}
	m.track = newTracker(newProgress(c.stderr, c.terminal(c.stderr), cfg.jsonOut), st, c.clock, c.progressEvery)
	var check migrate.Checker
	if !cfg.skipEligibility {
		m.eligibility, m.checker, err = m.openEligibility(ctx)
		if err != nil {
			return nil, failf("%v; nothing was submitted (-skip-eligibility submits without checking)", err)
		}
		defer func() {
			if rerr != nil && m.eligibility != nil {
				_ = m.eligibility.Close() // refused: nothing was checked
			}
		}()
		check = m.checker
	}
	m.eng, err = migrate.New(migrate.Options{
		Check:  check,
		Client: c.engineAPI(client), Store: st.Store,
		Settle:      cfg.settle,
		Concurrency: cfg.concurrency,
		Worker:      cfg.worker, ClaimTTL: cfg.claimTTL,
		Wait: cfg.wait,
		Poll: cfg.poll, MaxPoll: cfg.maxPoll,
		Clock:   c.engineClock(),
		OnEvent: m.event,
	})
	if err != nil {
		return nil, failed(err)
	}
	return m, nil
}

// checkJournal refuses a journal that is not this migration's: made by
// another tool or for the demo (or not), for another input, with other
// numbers than the input's, or with other contact flags.
func (c *cli) checkJournal(ctx context.Context, st *journal, meta migrate.Meta, in *input, cfg *config) error {
	path := st.path
	app, err := readApp(path, meta, st.another())
	if err != nil {
		return err
	}
	if app.Demo != cfg.demo {
		what := "the demo's: its fake server is gone with the run that made it"
		if !app.Demo {
			what = "a real migration's: the demo would not find its requests"
		}
		return fmt.Errorf("journal %s is %s; %s", path, what, st.another())
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
				inJournal[csvinput.PhoneKey(ns[k].PhoneNumber())] = false
			}
		}
	}
	var notInJournal, notInInput []string
	for n, err := range numbers {
		if err != nil {
			return err
		}
		k := csvinput.PhoneKey(n.PhoneNumber())
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
			if !ns[k].Withdrawn && !inJournal[csvinput.PhoneKey(ns[k].PhoneNumber())] {
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
func (m *migration) numbersIn(ctx context.Context, status string) ([]string, error) {
	meta, err := m.store.Meta(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := 1; i <= meta.Batches; i++ {
		ns, err := m.store.Numbers(ctx, i)
		if err != nil {
			return nil, err
		}
		for k := range ns {
			if ns[k].Status == status {
				out = append(out, ns[k].PhoneNumber())
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

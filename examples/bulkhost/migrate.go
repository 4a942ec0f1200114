package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// journalSuffix is added to the CSV's path to name its journal.
const journalSuffix = ".bulkhost.json"

// reconcileSlack is how long before its first create a batch's numbers'
// orders may be dated and still count as made by it: clocks differ.
const reconcileSlack = time.Minute

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
// a new one. The lock is held until release is called.
func (c *cli) openMigration(cfg *config, in *input, path string, client *hostednumbers.Client) (m *migration, code int, ok bool) {
	unlock, err := lockJournal(path)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return nil, exitError, false
	}
	defer func() {
		if ok {
			m.release = unlock
		} else {
			unlock()
		}
	}()
	j, err := loadJournal(path, c.clock)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return nil, exitError, false
	}
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
		if cfg.given["batch-size"] && cfg.batchSize != j.BatchSize {
			fmt.Fprintf(c.stderr, "bulkhost: the journal's batches of up to %d numbers stand; -batch-size %d applies to new journals only.\n", j.BatchSize, cfg.batchSize)
		}
		fmt.Fprintf(c.stderr, "bulkhost: resuming from journal %s (%s).\n", path, batchSummary(j))
	} else {
		phones := make([]string, len(in.list.numbers))
		for i, n := range in.list.numbers {
			phones[i] = n.PhoneNumber
		}
		j = newJournal(path, in.id, phones, in.list.lines, cfg.batchSize, c.clock)
		j.Demo = cfg.demo
		if err := j.save(); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: %v; nothing was submitted\n", err)
			return nil, exitError, false
		}
		fmt.Fprintf(c.stderr, "bulkhost: journal %s: %d number%s in %d batch%s of up to %d.\n",
			path, len(phones), plural(len(phones)), len(j.Batches), pluralES(len(j.Batches)), j.BatchSize)
	}
	m = &migration{c: c, cfg: cfg, client: client, j: j, base: in.params, byNum: make(map[string]hostednumbers.Number, len(in.list.numbers))}
	for _, n := range in.list.numbers {
		m.byNum[n.PhoneNumber] = n
	}
	return m, exitOK, true
}

// runAll submits every batch that needs it, then reports or follows.
func (m *migration) runAll(ctx context.Context) int {
	c, cfg := m.c, m.cfg
	code := m.submitBatches(ctx)
	if code == exitInterrupted {
		fmt.Fprintf(c.stderr, "bulkhost: interrupted; the journal %s is up to date: run the same command again to resume.\n", m.j.path)
		return code
	}
	if code != exitOK {
		fmt.Fprintf(c.stderr, "bulkhost: %s. Run the same command again to resume: accepted batches are kept, uncertain ones are checked with Twilio before anything is sent again.\n", batchSummary(m.j))
		return code
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

// submitBatches brings every batch to Twilio: accepted ones are left
// alone, uncertain ones reconciled, the others submitted. It stops at the
// first failure that is not about one batch alone.
func (m *migration) submitBatches(ctx context.Context) int {
	code := exitOK
	for _, b := range m.j.Batches {
		if ctx.Err() != nil {
			break
		}
		var pending []*numberState
		switch b.State {
		case stateAccepted:
			continue
		case stateSending, stateUnknown:
			var err error
			if pending, err = m.reconcile(ctx, b); err != nil {
				return m.stepFailed(ctx, fmt.Sprintf("checking batch %d with Twilio", b.Index), err)
			}
		default:
			pending = withoutOrder(b)
		}
		if len(pending) == 0 {
			continue
		}
		stop, err := m.create(ctx, b, pending)
		if err != nil {
			c := m.stepFailed(ctx, fmt.Sprintf("submitting batch %d", b.Index), err)
			m.explain(b, err)
			if stop || c == exitInterrupted {
				return c
			}
			code = c
		}
	}
	if m.c.interrupted() {
		return exitInterrupted
	}
	if ctx.Err() != nil {
		fmt.Fprintf(m.c.stderr, "bulkhost: the run took longer than -timeout (%v) allows\n", m.cfg.timeout)
		return exitError
	}
	return code
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
		fmt.Fprintln(w, "bulkhost: it is recorded as outcome unknown: the next run asks Twilio which of its numbers it has before it sends anything again.")
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

// create submits numbers, all of batch b or the ones a reconciliation
// found missing. "sending" is written to the journal before the request
// goes out and the outcome as soon as it is known. stop reports whether
// the other batches should wait: after an uncertain outcome, or when the
// credentials were refused.
func (m *migration) create(ctx context.Context, b *batch, numbers []*numberState) (stop bool, err error) {
	c, j := m.c, m.j
	prev := b.State
	b.State = stateSending
	b.Attempts = append(b.Attempts, attempt{Kind: "create", Started: c.clock().UTC(), Numbers: len(numbers)})
	if err := j.save(); err != nil {
		b.State = prev
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
		}
		b.BulkHostingSIDs = appendNew(b.BulkHostingSIDs, sid)
		for _, n := range numbers {
			n.BulkHostingSID = sid
		}
		b.State = stateAccepted
	case notCreated(err) && ctx.Err() != nil:
		// Stopped before anything was sent.
		a.Outcome, a.Error = "not sent", err.Error()
		b.State = prev
		stop = true
	case notCreated(err):
		a.Outcome, a.Error, a.RequestID = "rejected", err.Error(), requestIDOf(err)
		b.State = stateRejected
		// Refused credentials or a rate limit would refuse the next batch too.
		stop = errors.Is(err, hostednumbers.ErrUnauthorized) || errors.Is(err, hostednumbers.ErrRateLimited)
	default:
		a.Outcome, a.Error, a.RequestID = "outcome unknown", err.Error(), requestIDOf(err)
		b.State = stateUnknown
		stop = true
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

// reconcile settles a batch whose create may or may not have been
// processed, and returns the numbers that still need submitting: all of
// them when Twilio has none, the missing ones when it has some, none when
// it has them all (their bulk request is then adopted).
func (m *migration) reconcile(ctx context.Context, b *batch) ([]*numberState, error) {
	c, j := m.c, m.j
	pending := withoutOrder(b)
	if len(pending) == 0 {
		b.State = stateAccepted
		return nil, j.save()
	}
	var since time.Time
	for _, a := range b.Attempts {
		if a.Kind == "create" && (since.IsZero() || a.Started.Before(since)) {
			since = a.Started
		}
	}
	if !since.IsZero() {
		since = since.Add(-reconcileSlack)
	}
	phones := make([]string, len(pending))
	for i, n := range pending {
		phones[i] = n.PhoneNumber
	}
	how := "left in flight by an earlier run"
	if b.State == stateUnknown {
		how = "sent without a readable answer"
	}
	fmt.Fprintf(c.stderr, "bulkhost: batch %d was %s: asking Twilio which of its %d number%s it already has.\n",
		b.Index, how, len(pending), plural(len(pending)))
	a := attempt{Kind: "reconcile", Started: c.clock().UTC(), Numbers: len(pending)}
	rec, err := reconcile(ctx, m.client, phones, since)
	a.Ended = c.clock().UTC()
	if err != nil {
		return nil, err
	}
	var missing []*numberState
	for _, n := range pending {
		orders := rec.orders[n.PhoneNumber]
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
	switch rec.verdict {
	case noneCreated:
		a.Outcome = "none created: submitting again"
	case allInOne:
		a.Outcome, a.BulkHostingSID = "all found in "+rec.bulkSID+": adopted, nothing sent again", rec.bulkSID
		if !m.cfg.jsonOut {
			fmt.Fprintln(c.stdout, rec.bulkSID)
		}
	default:
		a.Outcome = fmt.Sprintf("%d of %d found: submitting the other %d", len(pending)-len(missing), len(pending), len(missing))
	}
	b.Attempts = append(b.Attempts, a)
	if len(missing) == 0 {
		b.State = stateAccepted
	}
	if err := j.save(); err != nil {
		return nil, err
	}
	fmt.Fprintf(c.stderr, "bulkhost: batch %d: %s.\n", b.Index, a.Outcome)
	return missing, nil
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
		// in a crash or a network cut.
		fmt.Fprintln(c.stderr, "bulkhost: (demo) the answer to batch 2 will be lost on the way back, as in a crash or a network cut.")
		srv.InjectFault(hostednumberstest.Fault{Method: "POST"})
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
		code := m.submitBatches(ctx)
		if code == exitInterrupted {
			return code
		}
		fmt.Fprintf(c.stderr, "bulkhost: (demo) the first run stopped: %s. Running the same command again, as you would:\n", batchSummary(m.j))
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/report"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

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
	if err := c.checkClaims(cfg, client); err != nil {
		return err
	}
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
			refused, err := m.numbersIn(ctx, migrate.StatusCheckFailed)
			if err != nil {
				return failf("-resubmit: %v", err)
			}
			m.checker.Forget(refused...)
		}
		res, err := m.eng.Resubmit(ctx, statuses...)
		if err != nil {
			return failf("-resubmit: %v", err)
		}
		n := res.Marked
		fmt.Fprintf(c.stderr, "bulkhost: -resubmit: %d number%s in %s marked to be submitted again.\n", n, plural(n), strings.Join(statuses, ", "))
		printHeld(c.stderr, res.Held)
		if len(res.Busy) > 0 {
			fmt.Fprintf(c.stderr, "bulkhost: -resubmit: %s another worker held or was changing: not marked; run -resubmit again once %s free.\n",
				batchList(res.Busy), map[bool]string{true: "it is", false: "they are"}[len(res.Busy) == 1])
		}
	}
	return m.runAll(ctx)
}

// batchList names batches for a message: "batch 4", "batches 2, 5 and 9",
// at most 10 of them and how many more.
func batchList(batches []int) string {
	const show = 10
	words := make([]string, 0, min(len(batches), show))
	for i, b := range batches {
		if i == show {
			break
		}
		words = append(words, strconv.Itoa(b))
	}
	if len(batches) > show {
		return fmt.Sprintf("batches %s and %d more", strings.Join(words, ", "), len(batches)-show)
	}
	switch len(words) {
	case 0:
		return "no batch"
	case 1:
		return "batch " + words[0]
	default:
		return "batches " + strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
	}
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

// runAll submits every batch that needs it, settles the batches in
// doubt, then reports or follows.
func (m *migration) runAll(ctx context.Context) error {
	c, cfg := m.c, m.cfg
	m.track.begin(ctx, "submitting")
	started := c.clock()
	res, err := m.eng.Submit(ctx)
	c.stats.SubmitSeconds = c.clock().Sub(started).Seconds()
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
		failure.hints = append(failure.hints, fmt.Sprintf("%s. Run the same command again to resume: accepted batches are kept, uncertain ones are checked with Twilio before anything is sent again.", report.BatchSummary(p)))
		return failure
	}
	if len(res.HeldElsewhere) > 0 {
		// Without -wait: batches another worker held during the run are
		// its, for now; a run after it (or -wait) finds them done or takes
		// them over once its claims have expired.
		fmt.Fprintf(c.stderr, "bulkhost: %s held by another worker during this run: left to it; run the same command again (or with -wait) to see %s through.\n",
			batchList(res.HeldElsewhere), map[bool]string{true: "it", false: "them"}[len(res.HeldElsewhere) == 1])
	}
	if len(res.InDoubt) > 0 || len(res.HeldElsewhere) > 0 {
		// Without -wait: batches in doubt, and when to run again.
		m.explainDoubts(ctx, res.HeldElsewhere...)
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
		fmt.Fprintf(c.stderr, "bulkhost: %s.\n", report.BatchSummary(p))
		fmt.Fprintf(c.stderr, "bulkhost: follow the numbers with: bulkhost -live -status %s -wait\n", m.store.stateFlags())
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
		var ce *preflight.CheckError
		if errors.As(se.Err, &ce) {
			return m.c.apiError(ctx, se.What, &eligibilityError{ce}, m.cfg)
		}
		if errors.Is(se.Err, hostednumbers.ErrNotApplied) || errors.Is(se.Err, hostednumbers.ErrOutcomeUnknown) {
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
// time running the command again can settle it; the batches of
// heldElsewhere, another worker's for now, are left out.
func (m *migration) explainDoubts(ctx context.Context, heldElsewhere ...int) {
	w := m.c.stderr
	meta, err := m.store.Meta(ctx)
	if err != nil {
		return
	}
	var latest time.Time
	for i := 1; i <= meta.Batches; i++ {
		b, err := m.store.Batch(ctx, i)
		if err != nil || !b.State.InDoubt() || slices.Contains(heldElsewhere, i) {
			continue // another worker's batch is told of with them
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

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

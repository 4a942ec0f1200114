package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// statusMode is -status: refresh every number of the journal, show it,
// and with -wait follow until every submitted number is done.
func (c *cli) statusMode(ctx context.Context, cfg *config) error {
	path, st, err := c.openJournal(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }() // every step was synced when taken
	meta, err := st.Meta(ctx)
	if errors.Is(err, migrate.ErrNoMigration) {
		return failf("-status: there is no journal at %s: submit the numbers first (the same command without -status)", path)
	}
	if err != nil {
		return failf("journal %s: %v", path, err)
	}
	if demoJournal(meta) {
		return failf("journal %s is the demo's: its fake server is gone with the run that made it", st.path)
	}
	client, cleanup, err := c.client(cfg)
	if err != nil {
		return failed(err)
	}
	defer cleanup()
	eng, err := migrate.New(migrate.Options{Client: c.engineAPI(client), Store: st.Store, Wait: cfg.wait, Poll: cfg.poll, Clock: c.engineClock(),
		Worker: cfg.worker, ClaimTTL: cfg.claimTTL})
	if bad := claimFlagsError(err); bad != nil {
		return bad
	}
	if err != nil {
		return failed(err)
	}
	return c.followStore(ctx, eng, st, cfg)
}

// followStore refreshes the journal's numbers from Twilio, with -wait
// until every submitted number is completed or failed, then reports them.
func (c *cli) followStore(ctx context.Context, eng *migrate.Migrator, st *journal, cfg *config) error {
	meta, err := st.Meta(ctx)
	if err != nil {
		return failf("journal %s: %v", st.path, err)
	}
	p := newProgress(c.stderr, c.terminal(c.stderr), cfg.jsonOut)
	track := newTracker(p, st, c.clock, c.progressEvery)
	if cfg.wait {
		p.start(fmt.Sprintf("bulkhost: following the %d number%s of journal %s", meta.Input.Numbers, plural(meta.Input.Numbers), st.path))
		track.begin(ctx, "following")
	}
	// For the benchmarks' figures: the numbers that can still change
	// when each refresh pass begins.
	moving := -1
	if c.getenv(envTestStats) != "" {
		if p, err := migrate.Summarize(ctx, st); err == nil {
			moving = movingNumbers(p.Counts)
		}
	}
	started := c.clock()
	defer func() { c.stats.FollowSeconds = c.clock().Sub(started).Seconds() }()
	eng = mustNew(eng.Options(func(o *migrate.Options) {
		prev := o.OnEvent
		o.OnEvent = func(ev migrate.Event) {
			if ev.Kind == migrate.EventRefreshed {
				c.stats.RefreshPasses++
				if moving >= 0 {
					c.stats.NumbersFollowed += int64(moving)
					moving = movingNumbers(ev.Counts)
				}
				track.tick(ctx, false)
				if !ev.Settled && cfg.wait && c.checkpoint != nil {
					c.checkpoint(stepMidWait) // the wait for the next refresh begins
				}
				return
			}
			p.clear()
			prev(ev)
		}
	}))
	_, err = eng.Follow(ctx)
	track.tick(ctx, true)
	p.done()
	if err != nil {
		what := "refreshing the numbers"
		if ctx.Err() != nil {
			what = "following the numbers"
		}
		failure := c.apiError(ctx, what, err, cfg)
		failure.hints = append(failure.hints, fmt.Sprintf("the journal %s keeps what was known before; follow the numbers again with the same command.", st.path))
		return failure
	}
	return c.report(context.WithoutCancel(ctx), st, cfg)
}

// movingNumbers is the number of numbers in counts whose status can still
// change.
func movingNumbers(counts map[string]int) int {
	n := 0
	for s, k := range counts {
		if !migrate.Final(s) {
			n += k
		}
	}
	return n
}

func mustNew(o migrate.Options) *migrate.Migrator {
	m, err := migrate.New(o)
	if err != nil {
		panic(err) // options of a Migrator New has accepted
	}
	return m
}

// report prints every number of the journal, as a table or JSON, and
// returns the exit status: 0 all completed, 1 some failed or need action,
// 3 some still on their way.
func (c *cli) report(ctx context.Context, st *journal, cfg *config) error {
	m := &migration{c: c, cfg: cfg, store: st, path: st.path}
	if err := m.writeReport(ctx, cfg.jsonOut); err != nil {
		return failf("writing the report: %v", err)
	}
	p, err := migrate.Summarize(ctx, st)
	if err != nil {
		return failf("journal %s: %v", st.path, err)
	}
	action, pending, unsent, canceled := 0, 0, 0, 0
	for s, n := range p.Counts {
		switch {
		case migrate.NeedsAction(s) || s == migrate.StatusCheckFailed:
			action += n
			if s == migrate.StatusCanceled {
				canceled += n
			}
		case s == statusNotSubmitted || s == statusUnknown:
			unsent += n
		case s == migrate.StatusWithdrawn || s == string(hostednumbers.OrderStatusCompleted):
		default:
			pending += n
		}
	}
	// A batch in doubt, planned or refused is not done, whatever its
	// numbers' statuses say (a look may have found some of them).
	open := 0
	for state, n := range p.States {
		if state.InDoubt() || state == migrate.StatePlanned || state == migrate.StateRejected {
			open += n
		}
	}
	if unsent > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s %s not submitted yet (or not known to be): run the submit command again to resume.\n", unsent, plural(unsent), pluralVerb(unsent))
	} else if open > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d batch%s %s in doubt or not submitted yet: run the submit command again to resume.\n", open, pluralES(open), pluralVerb(open))
		unsent = open
	}
	if canceled > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s %s cancelled at Twilio (the order is gone): submit %s again with -resubmit canceled if %s should be hosted.\n",
			canceled, plural(canceled), pluralVerb(canceled), map[bool]string{true: "it", false: "them"}[canceled == 1], map[bool]string{true: "it", false: "they"}[canceled == 1])
	}
	if action > 0 {
		return &runError{code: exitFailures, msg: fmt.Sprintf("%d number%s failed or need%s action: see the DETAIL of each.", action, plural(action), verbS(action))}
	}
	if pending+unsent > 0 {
		if pending > 0 {
			return &runError{code: exitPending, msg: fmt.Sprintf("%d number%s %s still on the way: follow them with bulkhost -live -status %s -wait", pending, plural(pending), pluralVerb(pending), st.stateFlags())}
		}
		return exitWith(exitPending)
	}
	return nil
}

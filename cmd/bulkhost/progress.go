package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Progress of the whole migration.
const (
	// progressEvery is how often a progress line is written off a
	// terminal (a log, a pipe); on a terminal the line is redrawn in
	// place at most every terminalEvery.
	progressEvery = 5 * time.Second
	terminalEvery = 200 * time.Millisecond
	// routineBatches is the most batches a migration may have for the
	// routine line of each batch (submitted, checked) to be printed; a
	// larger one folds them into the progress line.
	routineBatches = 20
)

// tracker draws the progress of the whole migration, counted against the
// whole: batches and numbers at Twilio "… of N" while submitting, numbers
// by status while following, the rate and an estimate of the time left.
type tracker struct {
	p      *progress
	store  migrate.Store
	now    func() time.Time
	every  time.Duration
	phase  string // "submitting" or "following"
	start  time.Time
	base   int // numbers done (submitted or final) when the phase began
	last   time.Time
	drawn  bool
	core   string // the last line drawn, without its rate
	finals func(counts map[string]int) int
}

// newTracker returns a tracker drawing on p. every 0 means the default
// for p's kind of output.
func newTracker(p *progress, store migrate.Store, now func() time.Time, every time.Duration) *tracker {
	if every <= 0 {
		every = progressEvery
		if p.terminal {
			every = terminalEvery
		}
	}
	return &tracker{p: p, store: store, now: now, every: every}
}

// begin starts a phase: "submitting" counts numbers at Twilio,
// "following" numbers whose hosting has ended.
func (t *tracker) begin(ctx context.Context, phase string) {
	t.phase, t.start, t.last, t.drawn = phase, t.now(), time.Time{}, false
	t.finals = atTwilio
	if phase == "following" {
		t.finals = ended
	}
	if pr, err := migrate.Summarize(ctx, t.store); err == nil {
		t.base = t.finals(pr.Counts)
	}
}

// tick redraws the line when it is due (or at once with force).
func (t *tracker) tick(ctx context.Context, force bool) {
	if t.p.quiet || t.phase == "" {
		return
	}
	now := t.now()
	if !force && t.drawn && now.Sub(t.last) < t.every {
		return
	}
	pr, err := migrate.Summarize(context.WithoutCancel(ctx), t.store)
	if err != nil {
		return // a progress line is never worth failing a step
	}
	core, rate := t.line(pr, now)
	if force && t.drawn && core == t.core {
		return // the line on show says it already
	}
	t.last, t.drawn, t.core = now, true, core
	t.p.update(core + rate)
}

// line is the progress line of pr at now: what it counts, and the rate
// with the estimate of the time left.
func (t *tracker) line(pr migrate.Progress, now time.Time) (core, rate string) {
	var b strings.Builder
	done := t.finals(pr.Counts)
	switch t.phase {
	case "submitting":
		accepted := pr.States[migrate.StateAccepted]
		fmt.Fprintf(&b, "submitting: %d of %d batch%s accepted, %d of %d number%s at Twilio",
			accepted, pr.Batches, pluralES(pr.Batches), done, pr.Numbers, plural(pr.Numbers))
		if n := pr.States[migrate.StateSending] + pr.States[migrate.StateUnknown]; n > 0 {
			fmt.Fprintf(&b, ", %d batch%s in doubt", n, pluralES(n))
		}
	default:
		fmt.Fprintf(&b, "following: %d of %d number%s done", done, pr.Numbers, plural(pr.Numbers))
		writeCounts(&b, migrate.CountsInOrder(pr.Counts))
	}
	return b.String(), rateAndETA(done-t.base, pr.Numbers-done, now.Sub(t.start))
}

// rateAndETA says how fast numbers got done in elapsed and, at that
// rate, how long the remaining ones take: "; 120 numbers/min, about 4m
// left". Nothing until a number was done.
func rateAndETA(doneSince, remaining int, elapsed time.Duration) string {
	if doneSince <= 0 || elapsed <= 0 {
		return ""
	}
	perMin := float64(doneSince) / elapsed.Minutes()
	rate := fmt.Sprintf("; %.0f numbers/min", perMin)
	if perMin < 10 {
		rate = fmt.Sprintf("; %.1f numbers/min", perMin)
	}
	if remaining <= 0 {
		return rate
	}
	left := time.Duration(float64(remaining) / perMin * float64(time.Minute))
	return rate + ", about " + roundLeft(left) + " left"
}

// roundLeft writes an estimate as coarsely as it deserves.
func roundLeft(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(10 * time.Minute).String()
}

// atTwilio counts the numbers Twilio holds (or refused on their merits):
// every number that is neither waiting to be sent nor in doubt.
func atTwilio(counts map[string]int) int {
	n := 0
	for s, c := range counts {
		switch s {
		case migrate.StatusNotSubmitted, migrate.StatusUnknown, migrate.StatusRejected:
		default:
			n += c
		}
	}
	return n
}

// ended counts the numbers whose hosting has ended, one way or another.
func ended(counts map[string]int) int {
	n := 0
	for s, c := range counts {
		if s == string(hostednumbers.OrderStatusCompleted) || s == string(hostednumbers.OrderStatusFailed) ||
			s == migrate.StatusCheckFailed || s == migrate.StatusWithdrawn || s == "canceled" {
			n += c
		}
	}
	return n
}

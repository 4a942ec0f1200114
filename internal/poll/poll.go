// Package poll is the module's one polling loop: fetch, decide, wait,
// fetch again. BulkHostedNumberOrdersService.Wait, EligibilityService.WaitBulk
// and WaitForReconcile all run it, so that they back off, add jitter, wait
// out a server's Retry-After and count failures alike.
//
// The wait before each fetch but the first is the current interval (the
// first is Settings.Interval, each later one double the last, up to
// Settings.MaxInterval), or longer when the server asked for it: a
// throttled fetch's Retry-After, or the schedule of the value just
// fetched. A random jitter of up to Settings.Jitter of that wait is added,
// so that many loops started together drift apart instead of polling in
// step. The loop starts no goroutines; its Clock is how it draws jitter
// and sleeps, and tests replace it to check every wait without a clock.
package poll

import (
	"context"
	"math/rand/v2"
	"time"
)

// DefaultJitter is the largest jitter added to a wait, as a fraction of
// it: a fifth.
const DefaultJitter = 0.2

// Clock is how the loop waits: Jitter draws from [0, 1), Sleep waits d or
// until ctx ends, returning ctx's error then.
type Clock struct {
	Jitter func() float64
	Sleep  func(ctx context.Context, d time.Duration) error
}

// RealClock draws jitter from math/rand/v2 and sleeps on one timer, reused
// for every wait of one loop: give each loop its own.
func RealClock() Clock {
	var timer *time.Timer
	return Clock{
		Jitter: rand.Float64,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case <-timer.C:
				return nil
			}
		},
	}
}

// Wait is the wait before the next fetch: interval, or floor if longer,
// plus r (drawn from [0, 1)) times jitter of it.
func Wait(interval, floor time.Duration, r, jitter float64) time.Duration {
	base := max(interval, floor)
	return base + time.Duration(r*jitter*float64(base))
}

// Kind is what a failed fetch means to the loop.
type Kind int

const (
	// Final is an error polling again cannot fix; the loop returns it.
	Final Kind = iota
	// Throttled is a fetch the server refused for now (a 429); the loop
	// waits at least its Retry-After and does not count it as a failure.
	Throttled
	// Transient is an error that may pass (a 5xx, a dropped
	// connection); the loop polls again, up to Settings.MaxFailures in a
	// row.
	Transient
)

// Settings are the loop's knobs. Zero values are not defaulted here: the
// callers document and apply their own defaults.
type Settings struct {
	// Interval is the wait before the second fetch; each later wait
	// doubles, up to MaxInterval.
	Interval, MaxInterval time.Duration
	// MaxFailures is how many transient failures in a row end the loop.
	MaxFailures int
	// Jitter is the largest jitter, as a fraction of the wait
	// (DefaultJitter).
	Jitter float64
}

// Loop polls with Fetch until Done accepts what it fetched.
type Loop[T any] struct {
	Settings
	// Clock waits; RealClock if its funcs are nil.
	Clock Clock
	// Fetch takes one look.
	Fetch func(ctx context.Context) (T, error)
	// Done reports whether v, just fetched, ends the poll. It runs on the
	// goroutine that called Run, once per successful fetch.
	Done func(v T) bool
	// Schedule, if set, says when to fetch again after v (not done): its
	// wait replaces the interval for that wait (a value that names its own
	// next look, such as Reconcile's RetryAt), and the interval still
	// doubles for the waits after failures.
	Schedule func(v T) time.Duration
	// Classify says what a failed fetch means and, for Throttled, the
	// least wait the server asked for.
	Classify func(err error) (Kind, time.Duration)
}

// Run polls until Done reports true, and returns that value. It returns
// early, with the last value fetched (the zero T if none) and an error,
// when ctx ends (ctx's error), when a fetch fails with a Final error (that
// error), or when MaxFailures transient failures come in a row (the last).
func (l Loop[T]) Run(ctx context.Context) (T, error) {
	clock := l.Clock
	if clock.Jitter == nil || clock.Sleep == nil {
		clock = RealClock()
	}
	interval := l.Interval
	failures := 0
	var last T
	for {
		var floor time.Duration
		wait := interval
		v, err := l.Fetch(ctx)
		if err == nil {
			failures = 0
			last = v
			if l.Done(v) {
				return v, nil
			}
			if l.Schedule != nil {
				wait = l.Schedule(v)
			}
		} else {
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			kind, retryAfter := l.Classify(err)
			switch kind {
			case Throttled:
				floor = retryAfter
			case Transient:
				failures++
				if failures >= l.MaxFailures {
					return last, err
				}
			default:
				return last, err
			}
		}
		if err := clock.Sleep(ctx, Wait(wait, floor, clock.Jitter(), l.Jitter)); err != nil {
			return last, err
		}
		interval = min(2*interval, l.MaxInterval)
	}
}

package poll

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a Clock that never sleeps: it records each wait and draws
// jitter from draws in turn.
type recorder struct {
	draws []float64
	waits []time.Duration
	// onWait, if set, runs after each recorded wait with their count.
	onWait func(n int)
}

func (r *recorder) clock() Clock {
	return Clock{
		Jitter: func() float64 { return r.draws[len(r.waits)%len(r.draws)] },
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.waits = append(r.waits, d)
			if r.onWait != nil {
				r.onWait(len(r.waits))
			}
			return ctx.Err()
		},
	}
}

var (
	errTransient = errors.New("transient")
	errFinal     = errors.New("final")
	errThrottled = errors.New("throttled")
)

// step is one scripted fetch: a value, or an error.
type step struct {
	v   int
	err error
}

func script(steps ...step) (func(context.Context) (int, error), *int) {
	calls := 0
	return func(context.Context) (int, error) {
		s := steps[min(calls, len(steps)-1)]
		calls++
		return s.v, s.err
	}, &calls
}

func classify(err error) (Kind, time.Duration) {
	switch {
	case errors.Is(err, errThrottled):
		return Throttled, 5 * time.Second
	case errors.Is(err, errTransient):
		return Transient, 0
	}
	return Final, 0
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func loop(fetch func(context.Context) (int, error), r *recorder) Loop[int] {
	return Loop[int]{
		Settings: Settings{Interval: time.Second, MaxInterval: 4 * time.Second, MaxFailures: 3, Jitter: DefaultJitter},
		Clock:    r.clock(),
		Fetch:    fetch,
		Done:     func(v int) bool { return v == 100 },
		Classify: classify,
	}
}

func TestRun_DoublesUpToTheMaximumWithTheDrawnJitter(t *testing.T) {
	r := &recorder{draws: []float64{0, 0.5, 0.99, 0, 0.25}}
	fetch, calls := script(step{v: 1}, step{v: 2}, step{v: 3}, step{v: 4}, step{v: 5}, step{v: 100})
	got, err := loop(fetch, r).Run(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	assert.Equal(t, 6, *calls)
	s := time.Second
	assert.Equal(t, []time.Duration{
		s,                // 1 s, no jitter
		2*s + s/5,        // 2 s, half of a fifth of it
		4*s + 792*s/1000, // 4 s, 0.99 of a fifth
		4 * s,            // capped at the maximum
		4*s + s/5,        // 4 s, a quarter of a fifth of it
	}, r.waits)
}

func TestRun_ThrottledWaitsItsRetryAfterAndIsNotAFailure(t *testing.T) {
	r := &recorder{draws: []float64{0}}
	// Five throttled fetches in a row: more than MaxFailures, yet not the end.
	fetch, calls := script(step{err: errThrottled}, step{err: errThrottled}, step{err: errThrottled},
		step{err: errThrottled}, step{err: errThrottled}, step{v: 100})
	got, err := loop(fetch, r).Run(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	assert.Equal(t, 6, *calls)
	for i, w := range r.waits {
		assert.Equal(t, 5*time.Second, w, "wait %d: the Retry-After, longer than the interval", i)
	}

	// A Retry-After shorter than the interval does not shorten it.
	r = &recorder{draws: []float64{0.5}}
	l := loop(func(context.Context) (int, error) { return 0, errThrottled }, r)
	l.Interval, l.MaxInterval = 10*time.Second, 10*time.Second
	c, cancel := context.WithCancel(ctx(t))
	r.onWait = func(int) { cancel() }
	_, err = l.Run(c)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []time.Duration{11 * time.Second}, r.waits, "the interval, with its jitter")
}

func TestRun_TransientFailuresInARowEndItAndASuccessResetsTheCount(t *testing.T) {
	r := &recorder{draws: []float64{0}}
	fetch, calls := script(step{err: errTransient}, step{err: errTransient}, step{v: 1},
		step{err: errTransient}, step{err: errTransient}, step{err: errTransient}, step{v: 100})
	got, err := loop(fetch, r).Run(ctx(t))
	require.ErrorIs(t, err, errTransient)
	assert.Equal(t, 1, got, "the last value fetched comes back with the error")
	assert.Equal(t, 6, *calls, "two failures, a success, then three failures in a row")
	assert.Len(t, r.waits, 5)
}

func TestRun_AFinalErrorEndsItAtOnce(t *testing.T) {
	r := &recorder{draws: []float64{0}}
	fetch, calls := script(step{v: 7}, step{err: errFinal}, step{v: 100})
	got, err := loop(fetch, r).Run(ctx(t))
	require.ErrorIs(t, err, errFinal)
	assert.Equal(t, 7, got)
	assert.Equal(t, 2, *calls)
	assert.Len(t, r.waits, 1)
}

func TestRun_ScheduleReplacesTheIntervalAfterASuccess(t *testing.T) {
	r := &recorder{draws: []float64{0.5}}
	fetch, _ := script(step{v: 1}, step{err: errTransient}, step{v: 2}, step{v: 100})
	l := loop(fetch, r)
	l.Schedule = func(v int) time.Duration { return time.Duration(v) * 10 * time.Millisecond }
	got, err := l.Run(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{
		11 * ms,                // the value's schedule, 10 ms, with its jitter
		2*time.Second + 200*ms, // after a failure, the interval (doubled once)
		22 * ms,                // the value's schedule again, 20 ms
	}, r.waits)
}

func TestRun_TheEndOfTheContextEndsItWithTheLastValue(t *testing.T) {
	// While waiting.
	c, cancel := context.WithCancel(ctx(t))
	r := &recorder{draws: []float64{0}, onWait: func(n int) {
		if n == 2 {
			cancel()
		}
	}}
	fetch, calls := script(step{v: 1}, step{v: 2}, step{v: 3})
	got, err := loop(fetch, r).Run(c)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, got)
	assert.Equal(t, 2, *calls)

	// During a fetch that fails because of it: the context's error, not the
	// fetch's, and no failure is counted or waited for.
	c2, cancel2 := context.WithCancel(ctx(t))
	r = &recorder{draws: []float64{0}}
	calls2 := 0
	got, err = loop(func(context.Context) (int, error) {
		calls2++
		if calls2 == 1 {
			return 5, nil
		}
		cancel2()
		return 0, errFinal
	}, r).Run(c2)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, errFinal)
	assert.Equal(t, 5, got)
	assert.Len(t, r.waits, 1)
}

func TestWait_IsTheLongerOfIntervalAndFloorPlusAtMostTheJitter(t *testing.T) {
	for _, tt := range []struct {
		interval, floor time.Duration
		r               float64
		want            time.Duration
	}{
		{10 * time.Second, 0, 0, 10 * time.Second},
		{10 * time.Second, 0, 0.5, 11 * time.Second},
		{10 * time.Second, 30 * time.Second, 0.5, 33 * time.Second},
		{10 * time.Second, 5 * time.Second, 0, 10 * time.Second},
		{time.Nanosecond, 0, 0.99, time.Nanosecond},
	} {
		assert.Equal(t, tt.want, Wait(tt.interval, tt.floor, tt.r, DefaultJitter), "%+v", tt)
	}
	for _, r := range []float64{0, 0.3, 0.999999} {
		got := Wait(time.Minute, 0, r, DefaultJitter)
		assert.GreaterOrEqual(t, got, time.Minute)
		assert.Less(t, got, time.Minute+12*time.Second)
	}
}

func TestRealClock_SleepEndsWithTheContextAndJitterVaries(t *testing.T) {
	c := RealClock()
	done, cancel := context.WithCancel(ctx(t))
	cancel()
	assert.ErrorIs(t, c.Sleep(done, time.Hour), context.Canceled, "an ended context ends an hour's sleep")
	require.NoError(t, c.Sleep(ctx(t), time.Nanosecond), "the timer is reused")
	seen := map[float64]bool{}
	for range 20 {
		j := c.Jitter()
		assert.GreaterOrEqual(t, j, 0.0)
		assert.Less(t, j, 1.0)
		seen[j] = true
	}
	assert.Greater(t, len(seen), 1)
}

func TestRun_NilClockIsTheRealOne(t *testing.T) {
	fetch, calls := script(step{v: 1}, step{v: 100})
	l := loop(fetch, &recorder{})
	l.Clock = Clock{}
	l.Interval, l.MaxInterval = time.Nanosecond, time.Nanosecond
	got, err := l.Run(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	assert.Equal(t, 2, *calls)
}

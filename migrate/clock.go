package migrate

import (
	"context"
	"time"
)

// Clock is the time a migration runs on. The engine reads every time it
// records from Now and makes every wait with Sleep, so a test can run a
// migration, settle windows and all, on a clock of its own (and give the
// same clock to a fake server, hostednumberstest.WithClock, so that
// Twilio's processing follows it too).
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep returns nil once d has passed by the clock, or ctx's error
	// if ctx ends first. It must be safe for concurrent use.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the machine's clock: time.Now and a timer.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d on a timer, or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

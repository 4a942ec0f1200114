package migrate

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// Follow runs the SDK's poll loop: a refresh refused with 429 waits at
// least its Retry-After and is not counted as a failure (more 429s in a
// row than DefaultMaxConsecutiveErrors still end in a finished follow),
// and the waits between refreshes carry a jitter of up to a fifth.
func TestFollowWaitsOutRateLimitsAndJittersItsWaits(t *testing.T) {
	e := newEnv(t, 4, 2, nil, hostednumbers.WithMaxRetries(0))
	m := e.migrator(nil)
	_, err := m.Submit(e.ctx)
	require.NoError(t, err)

	refusals := hostednumbers.DefaultMaxConsecutiveErrors + 2
	e.srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusTooManyRequests,
		RetryAfter: "7", Count: refusals})
	e.clock.mu.Lock()
	e.clock.slept = nil
	e.clock.mu.Unlock()
	p, err := m.Follow(e.ctx)
	require.NoError(t, err, "429s are waited out, never counted as failures")
	assert.True(t, p.Settled)

	e.clock.mu.Lock()
	slept := append([]time.Duration(nil), e.clock.slept...)
	e.clock.mu.Unlock()
	require.GreaterOrEqual(t, len(slept), refusals)
	for _, d := range slept[:refusals] {
		assert.GreaterOrEqual(t, d, 7*time.Second, "a refused refresh waits its Retry-After")
		// The longer of Retry-After and the doubling interval (MaxPoll
		// 10s), plus at most a fifth.
		assert.LessOrEqual(t, d, 12*time.Second)
	}
	jittered := false
	for _, d := range slept {
		if d%time.Second != 0 {
			jittered = true
		}
	}
	assert.True(t, jittered, "the waits carry a jitter: %v", slept)
}

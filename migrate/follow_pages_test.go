package migrate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// A refresh pass lists the orders of each bulk request's authorisation
// document a page at a time instead of fetching each order: at most 0.01
// requests per number and pass, plus a constant per pass.
func TestFollowListsOrdersInPages(t *testing.T) {
	const n, size = 5000, 250
	e := newEnv(t, n, size, []hostednumberstest.Option{hostednumberstest.WithHostingDuration(48 * time.Hour)})
	m := e.migrator(func(o *Options) { o.Wait = false })
	res, err := m.Submit(e.ctx)
	require.NoError(t, err)
	require.Equal(t, n/size, res.Submitted)
	e.clock.advance(time.Hour) // every bulk request processed
	p, err := m.Refresh(e.ctx)
	require.NoError(t, err)
	require.False(t, p.Settled)
	require.Zero(t, p.Counts[StatusSubmitted], "every number has its order: %v", p.Counts)

	before := len(e.srv.Requests())
	p, err = m.Refresh(e.ctx)
	require.NoError(t, err)
	requests := len(e.srv.Requests()) - before
	perNumber := float64(requests) / n
	t.Logf("one refresh pass of %d numbers (%v): %d requests, %.4f per number", n, p.Counts, requests, perNumber)
	assert.LessOrEqual(t, perNumber, 0.01, "requests per number per pass")
	for _, r := range e.srv.Requests()[before:] {
		assert.NotRegexp(t, `^/v2/HostedNumber/Orders/HR`, r.Path, "no order fetched one by one")
	}
}

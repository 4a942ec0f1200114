package hostednumbers_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

func TestCallLimitsAreTheClientsOwn(t *testing.T) {
	creds := hn.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "f00dfacef00dfacef00dfacef00dface")
	c, err := hn.NewClient(creds)
	require.NoError(t, err)
	assert.Equal(t, hn.DefaultCallLimits, c.CallLimits())
	assert.Equal(t, 4*hn.DefaultTimeout+3*hn.DefaultMaxRetryAfter, c.CallLimits().Longest())

	c, err = hn.NewClient(creds, hn.WithMaxRetries(1), hn.WithTimeout(2*time.Second),
		hn.WithRetryBackoff(time.Millisecond, 90*time.Second), hn.WithMaxRetryAfter(5*time.Second))
	require.NoError(t, err)
	l := c.CallLimits()
	assert.Equal(t, hn.CallLimits{MaxRetries: 1, AttemptTimeout: 2 * time.Second, MaxRetryWait: 90 * time.Second, MaxRetryAfter: 5 * time.Second}, l)
	assert.Equal(t, 2*2*time.Second+90*time.Second, l.Longest(), "the longer of the two waits")

	c, err = hn.NewClient(creds, hn.WithHTTPClient(&http.Client{Timeout: 7 * time.Second}))
	require.NoError(t, err)
	assert.Equal(t, 7*time.Second, c.CallLimits().AttemptTimeout, "an http.Client's own limit")
}

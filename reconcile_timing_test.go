package hostednumbers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestWithReconcileTiming_MustBePositive(t *testing.T) {
	for _, tc := range []struct {
		name        string
		window, gap time.Duration
	}{
		{"zero window", 0, time.Second},
		{"zero gap", time.Second, 0},
		{"negative window", -time.Second, time.Second},
		{"negative gap", time.Second, -time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hn.NewClient(hn.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
				hn.WithReconcileTiming(tc.window, tc.gap))
			var ve *hn.ValidationError
			require.ErrorAs(t, err, &ve)
			_, ok := ve.Field("reconcile_timing")
			assert.True(t, ok, "%v", err)
		})
	}
}

func TestWithReconcileTiming_DefaultsAreTwilios(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	returned := time.Now()
	params := &hn.ReconcileParams{PhoneNumbers: []string{"+14155550101"}, SentAt: returned, ReturnedAt: returned}

	// A client built by hand keeps Twilio's window and gap.
	c, err := hn.NewClient(append(hostednumberstest.FastRetryOptions(),
		hn.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken), hn.WithBaseURL(srv.URL))...)
	require.NoError(t, err)
	rec, err := c.BulkHostedNumberOrders.Reconcile(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, returned.Add(hn.DefaultProcessingWindow), rec.WindowClosesAt)
	assert.Equal(t, rec.LookedAt.Add(hn.DefaultConfirmGap), rec.RetryAt)

	// The package function has no client: the defaults, whatever the
	// lister's client says.
	rec, err = hn.Reconcile(ctx, srv.Client().HostedNumberOrders, params)
	require.NoError(t, err)
	assert.Equal(t, returned.Add(hn.DefaultProcessingWindow), rec.WindowClosesAt)

	// A client with the option uses it where params leave them zero.
	c, err = hn.NewClient(append(hostednumberstest.FastRetryOptions(),
		hn.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken), hn.WithBaseURL(srv.URL),
		hn.WithReconcileTiming(time.Minute, time.Second))...)
	require.NoError(t, err)
	rec, err = c.BulkHostedNumberOrders.Reconcile(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, returned.Add(time.Minute), rec.WindowClosesAt)
	assert.Equal(t, rec.LookedAt.Add(time.Second), rec.RetryAt)
	assert.Zero(t, params.ProcessingWindow, "the caller's params are not changed")
}

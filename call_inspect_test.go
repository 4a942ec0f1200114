package hostednumbers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestInspectCallOptions_ReadsBackEachOption(t *testing.T) {
	assert.Equal(t, hn.CallSettings{}, hn.InspectCallOptions(), "no options: the client's defaults")
	assert.Equal(t, hn.CallSettings{}, hn.InspectCallOptions(nil, nil), "nil options are ignored")

	got := hn.InspectCallOptions(
		hn.WithCallTag("nightly"),
		hn.WithCallTimeout(3*time.Second),
		hn.WithCallMaxRetries(0),
		hn.WithCallHeader("x-trace-id", "a"),
		nil,
		hn.WithCallHeader("X-Trace-Id", "b"),
		hn.WithCallHeader("X-Other", "c"),
	)
	assert.Equal(t, hn.CallSettings{
		Tag:     "nightly",
		Timeout: 3 * time.Second, TimeoutSet: true,
		MaxRetries: 0, MaxRetriesSet: true,
		Headers: http.Header{"X-Trace-Id": {"a", "b"}, "X-Other": {"c"}},
	}, got)

	// A later option of the same kind wins; a zero timeout is set, not
	// absent.
	got = hn.InspectCallOptions(hn.WithCallTimeout(time.Second), hn.WithCallTimeout(0),
		hn.WithCallMaxRetries(5), hn.WithCallMaxRetries(2), hn.WithCallTag("a"), hn.WithCallTag("b"))
	assert.Equal(t, hn.CallSettings{Tag: "b", TimeoutSet: true, MaxRetries: 2, MaxRetriesSet: true}, got)

	// Each setting on its own.
	assert.Equal(t, hn.CallSettings{Timeout: time.Minute, TimeoutSet: true}, hn.InspectCallOptions(hn.WithCallTimeout(time.Minute)))
	assert.Equal(t, hn.CallSettings{MaxRetries: 4, MaxRetriesSet: true}, hn.InspectCallOptions(hn.WithCallMaxRetries(4)))
	assert.Equal(t, hn.CallSettings{Headers: http.Header{"X-A": {"1"}}}, hn.InspectCallOptions(hn.WithCallHeader("X-A", "1")))
}

func TestInspectCallOptions_ReportsInvalidOptionsAsACallWould(t *testing.T) {
	opts := []hn.CallOption{
		hn.WithCallTimeout(-time.Second),
		hn.WithCallMaxRetries(-1),
		hn.WithCallHeader("Authorization", "secret-value"),
		hn.WithCallTag("ok"),
	}
	got := hn.InspectCallOptions(opts...)
	require.Error(t, got.Err)
	assert.ErrorIs(t, got.Err, hn.ErrInvalidInput)
	var inspected *hn.ValidationError
	require.ErrorAs(t, got.Err, &inspected)
	assert.Equal(t, "ok", got.Tag, "the valid options are still read back")
	assert.False(t, got.TimeoutSet)
	assert.False(t, got.MaxRetriesSet)
	assert.Nil(t, got.Headers)
	assert.NotContains(t, got.Err.Error(), "secret-value")

	// A real call refuses the same options with the same problems.
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := srv.Client().BulkHostedNumberOrders.Fetch(ctx, callTestSID, nil, opts...)
	var real *hn.ValidationError
	require.ErrorAs(t, err, &real)
	assert.Equal(t, real.Problems, inspected.Problems)
	assert.Empty(t, srv.Requests(), "nothing was sent")
}

func TestInspectCallOptions_AgreesWithWhatACallSends(t *testing.T) {
	var tags []string
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client(hn.WithHooks(hn.Hooks{OnCallStart: func(ctx context.Context, c hn.CallInfo) context.Context {
		tags = append(tags, c.Tag)
		return ctx
	}}))
	opts := []hn.CallOption{hn.WithCallTag("job-7"), hn.WithCallHeader("X-Correlation-Id", "c-1"), hn.WithCallHeader("X-Correlation-Id", "c-2")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := client.BulkHostedNumberOrders.Fetch(ctx, callTestSID, nil, opts...)
	require.ErrorIs(t, err, hn.ErrNotFound)

	got := hn.InspectCallOptions(opts...)
	require.Len(t, srv.Requests(), 1)
	sent := srv.Requests()[0].Header
	for name, values := range got.Headers {
		assert.Equal(t, values, sent.Values(name), name)
	}
	assert.Equal(t, []string{got.Tag}, tags)
}

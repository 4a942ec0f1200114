package hostednumberstest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// sentinels are every error the SDK's errors are matched against.
var sentinels = []error{
	hostednumbers.ErrNotFound, hostednumbers.ErrUnauthorized, hostednumbers.ErrRateLimited,
	hostednumbers.ErrServer, hostednumbers.ErrInvalidInput, hostednumbers.ErrResponseTooLarge,
	hostednumbers.ErrNotApplied, hostednumbers.ErrOutcomeUnknown,
}

// realCreateError makes the fake answer one create with fault and returns
// the SDK's error.
func realCreateError(t *testing.T, fault hostednumberstest.Fault) error {
	t.Helper()
	srv := newServer(t)
	fault.Method = http.MethodPost
	srv.InjectFault(fault)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := srv.Client().BulkHostedNumberOrders.Create(ctx, numbersParams("+14155550101"), hostednumbers.WithCallMaxRetries(0))
	require.Error(t, err)
	return err
}

// assertSameShape checks that a built error and a real one answer every
// question a caller asks alike.
func assertSameShape(t *testing.T, real, built error) {
	t.Helper()
	assert.Equal(t, real.Error(), built.Error())
	for _, s := range sentinels {
		assert.Equal(t, errors.Is(real, s), errors.Is(built, s), "errors.Is %v", s)
	}
	var realAPI, builtAPI *hostednumbers.APIError
	assert.Equal(t, errors.As(real, &realAPI), errors.As(built, &builtAPI), "errors.As *APIError")
	var realDecode, builtDecode *hostednumbers.DecodeError
	assert.Equal(t, errors.As(real, &realDecode), errors.As(built, &builtDecode), "errors.As *DecodeError")
	assert.Equal(t, hostednumbers.OutcomeOf(real), hostednumbers.OutcomeOf(built))
}

// requestIDOf returns the request ID the real error carries, for the
// built one: the only member a mock cannot know.
func requestIDOf(t *testing.T, err error) string {
	t.Helper()
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	return apiErr.RequestID
}

func TestKitErrorsAreShapedLikeTheSDKs(t *testing.T) {
	t.Run("refused: not applied", func(t *testing.T) {
		real := realCreateError(t, hostednumberstest.Fault{Status: 400,
			Body: string(hostednumberstest.ErrorJSON(400, 20001, "Invalid parameter: request_items[0].numbers[0].phone_number"))})
		apiErr := hostednumberstest.NewAPIError(400, 20001, "Invalid parameter: request_items[0].numbers[0].phone_number")
		apiErr.RequestID = requestIDOf(t, real)
		built := hostednumberstest.NotAppliedError(hostednumberstest.OpCreateBulkOrder, apiErr)
		assertSameShape(t, real, built)
		assert.ErrorIs(t, built, hostednumbers.ErrNotApplied)
		assert.Equal(t, hostednumbers.OutcomeNotApplied, hostednumbers.OutcomeOf(built))
		var got *hostednumbers.APIError
		require.ErrorAs(t, built, &got)
		assert.Same(t, apiErr, got)
		var realAPI *hostednumbers.APIError
		require.ErrorAs(t, real, &realAPI)
		assert.Equal(t, realAPI.MoreInfo, got.MoreInfo)
		assert.Equal(t, realAPI.Code, got.Code)
		assert.Equal(t, realAPI.Status, got.Status)
	})
	t.Run("rate limited", func(t *testing.T) {
		real := realCreateError(t, hostednumberstest.Fault{Status: 429, RetryAfter: "2"})
		built := hostednumberstest.RateLimitedError(hostednumberstest.OpCreateBulkOrder, 2*time.Second)
		var apiErr *hostednumbers.APIError
		require.ErrorAs(t, built, &apiErr)
		apiErr.RequestID = requestIDOf(t, real)
		assertSameShape(t, real, built)
		assert.ErrorIs(t, built, hostednumbers.ErrRateLimited)
		assert.ErrorIs(t, built, hostednumbers.ErrNotApplied)
		var realAPI *hostednumbers.APIError
		require.ErrorAs(t, real, &realAPI)
		assert.Equal(t, realAPI.RetryAfter, apiErr.RetryAfter)
		assert.Equal(t, 2*time.Second, apiErr.RetryAfter)
		assert.Equal(t, 20429, apiErr.Code)
	})
	t.Run("5xx: outcome unknown", func(t *testing.T) {
		real := realCreateError(t, hostednumberstest.Fault{Status: 503})
		apiErr := hostednumberstest.NewAPIError(503, 0, "Service Unavailable")
		apiErr.RequestID = requestIDOf(t, real)
		built := hostednumberstest.OutcomeUnknownError(hostednumberstest.OpCreateBulkOrder, apiErr)
		assertSameShape(t, real, built)
		assert.ErrorIs(t, built, hostednumbers.ErrServer)
		assert.ErrorIs(t, built, hostednumbers.ErrOutcomeUnknown)
		assert.Equal(t, hostednumbers.OutcomeUnknown, hostednumbers.OutcomeOf(built))
		assert.Contains(t, built.Error(), "outcome unknown")
	})
	t.Run("2xx with an unusable body: outcome unknown", func(t *testing.T) {
		real := realCreateError(t, hostednumberstest.Fault{Status: 202, Body: "not json"})
		var realDecode *hostednumbers.DecodeError
		require.ErrorAs(t, real, &realDecode)
		decodeErr := hostednumberstest.NewDecodeError(202, realDecode.Err)
		decodeErr.RequestID = realDecode.RequestID
		built := hostednumberstest.OutcomeUnknownError(hostednumberstest.OpCreateBulkOrder, decodeErr)
		assertSameShape(t, real, built)
		assert.True(t, decodeErr.Accepted())
		assert.NotContains(t, built.Error(), "(outcome unknown", "a DecodeError says it in its own words")

		// Without a cause of its own, it still decodes and labels alike.
		plain := hostednumberstest.OutcomeUnknownError(hostednumberstest.OpCreateBulkOrder, hostednumberstest.NewDecodeError(202, nil))
		assert.Equal(t, hostednumbers.OutcomeOf(real), hostednumbers.OutcomeOf(plain))
		assert.ErrorAs(t, plain, &realDecode)
	})
	t.Run("no code: no more_info", func(t *testing.T) {
		e := hostednumberstest.NewAPIError(503, 0, "Service Unavailable")
		assert.Empty(t, e.MoreInfo)
		assert.Equal(t, "https://www.twilio.com/docs/errors/20404", hostednumberstest.NewAPIError(404, 20404, "x").MoreInfo)
	})
	t.Run("a nil cause is a mistake in the test", func(t *testing.T) {
		assert.Panics(t, func() { _ = hostednumberstest.NotAppliedError(hostednumberstest.OpCreateBulkOrder, nil) })
		assert.Panics(t, func() { _ = hostednumberstest.OutcomeUnknownError(hostednumberstest.OpCreateBulkOrder, nil) })
	})
}

// A downstream mock returns the kit's error, and the code under test
// branches on it as it would on the client's.
func TestKitErrorsDriveAMockAsTheClientWould(t *testing.T) {
	mock := &failingCreator{err: hostednumberstest.OutcomeUnknownError(hostednumberstest.OpCreateBulkOrder,
		hostednumberstest.NewAPIError(http.StatusBadGateway, 0, "Bad Gateway"))}
	_, err := mock.Create(t.Context(), nil)
	assert.Equal(t, "reconcile", decide(err))
	mock.err = hostednumberstest.RateLimitedError(hostednumberstest.OpCreateBulkOrder, time.Second)
	_, err = mock.Create(t.Context(), nil)
	assert.Equal(t, "resend later", decide(err))
}

type failingCreator struct{ err error }

func (f *failingCreator) Create(context.Context, *hostednumbers.CreateBulkHostedNumberOrderParams, ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	return nil, f.err
}

// decide is what code under test typically does with a create's error.
func decide(err error) string {
	switch {
	case errors.Is(err, hostednumbers.ErrOutcomeUnknown):
		return "reconcile"
	case errors.Is(err, hostednumbers.ErrRateLimited) && errors.Is(err, hostednumbers.ErrNotApplied):
		return "resend later"
	}
	return "give up"
}

package downstream_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/examples/downstream"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

const (
	createURL = hostednumbers.DefaultBaseURL + "/v2/HostedNumber/Orders/Bulk"
	fetchURL  = createURL + "/" + hostednumberstest.ExampleBulkHostingSID
)

// mockedClient returns a real client whose transport is mock, with the
// fast retry settings the fake's own clients use.
func mockedClient(t *testing.T, mock http.RoundTripper) *hostednumbers.Client {
	t.Helper()
	opts := append(hostednumberstest.FastRetryOptions(),
		hostednumbers.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
		hostednumbers.WithHTTPClient(&http.Client{Transport: mock}))
	client, err := hostednumbers.NewClient(opts...)
	require.NoError(t, err)
	return client
}

func TestHTTPMockMigrateThroughTheRealClient(t *testing.T) {
	spec := hostednumberstest.BulkOrderSpec{Numbers: numbers, Outcome: hostednumberstest.FailNumbersEndingIn("9")}
	inProgress, processed := spec, spec
	inProgress.Status = hostednumbers.RequestStatusInProgress
	processed.Status = hostednumbers.RequestStatusProcessed

	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, createURL, httpmock.NewBytesResponder(http.StatusAccepted, spec.JSON()))
	mock.RegisterResponder(http.MethodGet, fetchURL, httpmock.ResponderFromMultipleResponses([]*http.Response{
		httpmock.NewBytesResponse(http.StatusServiceUnavailable, hostednumberstest.ErrorJSON(503, 0, "Service Unavailable")),
		httpmock.NewBytesResponse(http.StatusOK, inProgress.JSON()),
		httpmock.NewBytesResponse(http.StatusOK, processed.JSON()),
	}))
	m := &downstream.Migrator{
		Orders:     mockedClient(t, mock).BulkHostedNumberOrders,
		OwnerEmail: "owner@example.com",
		Wait:       &hostednumbers.WaitOptions{PollInterval: time.Millisecond},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	report, err := m.Migrate(ctx, numbers)
	require.NoError(t, err)
	assert.Equal(t, hostednumberstest.ExampleBulkHostingSID, report.BulkHostingSID)
	assert.Empty(t, report.Completed, "PROCESSED: made, not hosted yet")
	assert.Equal(t, []string{"+14155550101", "+14155550102"}, report.InProgress[hostednumbers.OrderStatusPendingLOA])
	require.Len(t, report.Failed, 1)
	assert.Equal(t, "+14155550109", report.Failed[0].PhoneNumber)
	assert.Equal(t, 2, report.Snapshots, "the 503 was retried inside one fetch")
	info := mock.GetCallCountInfo()
	assert.Equal(t, 1, info["POST "+createURL])
	assert.Equal(t, 3, info["GET "+fetchURL])
}

func TestHTTPMockTwilioRefusalIsABadGateway(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, createURL,
		httpmock.NewBytesResponder(http.StatusBadRequest, hostednumberstest.ErrorJSON(400, 21422, "Invalid phone number")))
	m := &downstream.Migrator{Orders: mockedClient(t, mock).BulkHostedNumberOrders}

	rec := post(t, m, `{"numbers":["+14155550101"]}`)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.Contains(t, rec.Body.String(), "Invalid phone number")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := m.Migrate(ctx, []string{"+14155550101"})
	var apiErr *hostednumbers.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, 21422, apiErr.Code)
	assert.ErrorIs(t, err, hostednumbers.ErrNotApplied, "a 4xx refusal: safe to fix and resubmit")
	assert.NotContains(t, rec.Body.String(), "reconcile")
	assert.Equal(t, 2, mock.GetCallCountInfo()["POST "+createURL], "one POST per migration, never resent")
}

func TestHTTPMockInvalidNumberNeverReachesTheNetwork(t *testing.T) {
	mock := httpmock.NewMockTransport()
	m := &downstream.Migrator{Orders: mockedClient(t, mock).BulkHostedNumberOrders}
	rec := post(t, m, `{"numbers":["555-0101"]}`)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "request_items[0].numbers[0].phone_number")
	assert.Zero(t, mock.GetTotalCallCount())
}

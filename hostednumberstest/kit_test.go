package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestBulkOrderSpecDefaults(t *testing.T) {
	o := hostednumberstest.BulkOrderSpec{}.Order()
	assert.Equal(t, hostednumberstest.ExampleBulkHostingSID, o.BulkHostingSID)
	assert.Equal(t, hostednumbers.RequestStatusQueued, o.RequestStatus)
	assert.Equal(t, hostednumbers.DefaultBaseURL+bulkPath+"/"+o.BulkHostingSID, o.URL.String)
	assert.True(t, o.DateCreated.Valid)
	assert.False(t, o.DateCompleted.Valid)
	assert.False(t, o.FriendlyName.Valid)
	assert.Zero(t, o.TotalCount)
	assert.Empty(t, o.Results)
	assert.Nil(t, o.LastResponse)
	assert.Equal(t, o, hostednumberstest.BulkOrderSpec{}.Order(), "the same on every call")
}

func TestBulkOrderSpecInEveryState(t *testing.T) {
	numbers := []string{"+14155550101", "+14155550109", "+14155550102"}
	created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		status     hostednumbers.RequestStatus
		wantCounts map[hostednumbers.OrderStatus]int
	}{
		{hostednumbers.RequestStatusQueued, map[hostednumbers.OrderStatus]int{}},
		{hostednumbers.RequestStatusInProgress, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusReceived: 3}},
		// PROCESSED: the orders are made, as in Twilio's example; hosting goes on.
		{hostednumbers.RequestStatusProcessed, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusPendingLOA: 2, hostednumbers.OrderStatusFailed: 1}},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			spec := hostednumberstest.BulkOrderSpec{
				SID:               "BHabcdefabcdefabcdefabcdefabcdef12",
				Status:            tt.status,
				FriendlyName:      "Spring migration",
				NotificationEmail: "ops@example.com",
				Numbers:           numbers,
				Email:             "someone@example.com",
				Outcome:           hostednumberstest.FailNumbersEndingIn("9"),
				Created:           created,
				BaseURL:           "https://numbers.example.test",
			}
			o := spec.Order()
			assert.Equal(t, spec.SID, o.BulkHostingSID)
			assert.Equal(t, tt.status, o.RequestStatus)
			assert.Equal(t, 3, o.TotalCount)
			assert.Equal(t, "Spring migration", o.FriendlyName.String)
			assert.Equal(t, "ops@example.com", o.NotificationEmail.String)
			assert.Equal(t, created, o.DateCreated.Time)
			assert.Equal(t, "https://numbers.example.test"+bulkPath+"/"+spec.SID, o.URL.String)
			assert.Equal(t, tt.wantCounts, o.CountsByStatus())
			assert.Equal(t, tt.status == hostednumbers.RequestStatusProcessed, o.DateCompleted.Valid)
			if o.DateCompleted.Valid {
				assert.Equal(t, created.Add(time.Minute), o.DateCompleted.Time)
				failed := o.Failed()
				require.Len(t, failed, 1)
				assert.Equal(t, "+14155550109", failed[0].PhoneNumber)
				assert.Equal(t, hostednumberstest.DefaultFailureReason, failed[0].FailureReason.String)
			}

			// The JSON is what the server would send, and decodes to Order.
			var fromJSON hostednumbers.BulkHostedNumberOrder
			require.NoError(t, json.Unmarshal(spec.JSON(), &fromJSON))
			assert.Equal(t, o, &fromJSON)
			fixture := decodeObject(t, []byte(mustRead(t, "../testdata/fetch_200.json")))
			assert.ElementsMatch(t, keys(fixture), keys(decodeObject(t, spec.JSON())))

			// The hosted number orders agree with the results.
			var hosted []hostednumbers.HostedNumberOrder
			for _, raw := range spec.HostedNumberOrdersJSON() {
				var h hostednumbers.HostedNumberOrder
				require.NoError(t, json.Unmarshal(raw, &h))
				hosted = append(hosted, h)
			}
			require.Len(t, hosted, 3)
			assert.Equal(t, numbers, phones(hosted))
			for _, h := range hosted {
				assert.Regexp(t, fmt.Sprintf(sidPattern, "HR"), h.SID)
				assert.Equal(t, spec.SID, h.BulkHostingRequestSID.String)
				assert.Equal(t, "someone@example.com", h.Email.String)
				assert.Equal(t, "https://numbers.example.test"+ordersPath+"/"+h.SID, h.URL.String)
				assert.Equal(t, hosted[0].SigningDocumentSID, h.SigningDocumentSID, "one request item, one document")
			}
			for _, r := range o.Orders() {
				h := byPhone(hosted)[r.PhoneNumber]
				assert.Equal(t, h.SID, r.HostingOrderSID)
				want := r.Status
				if tt.status == hostednumbers.RequestStatusProcessed && want == hostednumbers.OrderStatusPendingLOA {
					// The orders, the authority, have moved on to their outcome.
					want = hostednumbers.OrderStatusCompleted
				}
				assert.Equal(t, want, h.Status, r.PhoneNumber)
			}
			if tt.status == hostednumbers.RequestStatusQueued {
				assert.Equal(t, hostednumbers.OrderStatusReceived, hosted[0].Status)
			}
		})
	}
}

func TestBuildersPanicOnMistakesInTheTest(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"bulk SID", func() { hostednumberstest.BulkOrderSpec{SID: "BH123"}.JSON() }, `SID "BH123"`},
		{"bulk SID prefix", func() { hostednumberstest.BulkOrderSpec{SID: "HR0123456789abcdef0123456789abcdef"}.Order() }, "is not BH"},
		{"bulk status", func() { hostednumberstest.BulkOrderSpec{Status: "DONE"}.Order() }, `Status "DONE"`},
		{"hosted SID", func() { hostednumberstest.HostedNumberOrderSpec{SID: "HRxyz"}.JSON() }, `SID "HRxyz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Contains(t, panicMessage(t, tt.f), tt.want)
		})
	}
}

func TestHostedNumberOrderSpec(t *testing.T) {
	fixture := decodeObject(t, []byte(mustRead(t, "testdata/FetchHostedNumberOrder_200_fetch.json")))
	def := hostednumberstest.HostedNumberOrderSpec{}
	assert.ElementsMatch(t, keys(fixture), keys(decodeObject(t, def.JSON())))
	o := def.Order()
	assert.Equal(t, hostednumberstest.ExampleHostedNumberOrderSID, o.SID)
	assert.Equal(t, hostednumberstest.ExamplePhoneNumber, o.PhoneNumber)
	assert.Equal(t, hostednumbers.OrderStatusReceived, o.Status)
	assert.Equal(t, hostednumberstest.AccountSID, o.AccountSID)
	assert.Equal(t, hostednumberstest.ExampleEmail, o.Email.String)
	assert.False(t, o.BulkHostingRequestSID.Valid)
	assert.False(t, o.SigningDocumentSID.Valid)
	assert.Equal(t, hostednumbers.DefaultBaseURL+ordersPath+"/"+o.SID, o.URL.String)

	failed := hostednumberstest.HostedNumberOrderSpec{
		SID:                "HRabcdefabcdefabcdefabcdefabcdef99",
		PhoneNumber:        "+14155550109",
		Status:             "action_required",
		BulkHostingSID:     hostednumberstest.ExampleBulkHostingSID,
		SigningDocumentSID: "PXabcdefabcdefabcdefabcdefabcdef99",
		FailureReason:      "LOA rejected",
		NextStep:           "Sign again",
		FriendlyName:       "Front desk",
	}.Order()
	assert.Equal(t, hostednumbers.OrderStatusActionRequired, failed.Status)
	assert.Equal(t, "LOA rejected", failed.FailureReason.String)
	assert.Equal(t, "Sign again", failed.NextStep.String)
	assert.Equal(t, hostednumberstest.ExampleBulkHostingSID, failed.BulkHostingRequestSID.String)
	assert.Equal(t, "PXabcdefabcdefabcdefabcdefabcdef99", failed.SigningDocumentSID.String)
	assert.Equal(t, "Front desk", failed.FriendlyName.String)

	notFailed := hostednumberstest.HostedNumberOrderSpec{Status: "completed", FailureReason: "ignored"}.Order()
	assert.Equal(t, hostednumbers.NullString{Valid: true}, notFailed.FailureReason, `"" as in Twilio's examples`)
	assert.Equal(t, hostednumbers.NullString{Valid: true}, notFailed.NextStep)
}

func TestListPageAndErrorJSON(t *testing.T) {
	items := hostednumberstest.BulkOrderSpec{Numbers: []string{"+14155550101", "+14155550102"}}.HostedNumberOrdersJSON()
	fixture := decodeObject(t, []byte(mustRead(t, "testdata/ListHostedNumberOrder_200_readFull.json")))
	body := hostednumberstest.ListPageJSON("https://x.test/v2/HostedNumber/Orders?PageSize=2&Page=0", "https://x.test/next", 0, 2, items...)
	got := decodeObject(t, body)
	assert.ElementsMatch(t, keys(fixture), keys(got))
	assert.ElementsMatch(t, keys(fixture["meta"].(map[string]any)), keys(got["meta"].(map[string]any)))

	var p page[hostednumbers.HostedNumberOrder]
	require.NoError(t, json.Unmarshal(body, &p))
	assert.Equal(t, []string{"+14155550101", "+14155550102"}, phones(p.Items))
	assert.Equal(t, "https://x.test/next", *p.Meta.NextPageURL)
	assert.Equal(t, 2, p.Meta.PageSize)
	assert.Equal(t, "items", p.Meta.Key)

	last := decodeObject(t, hostednumberstest.ListPageJSON("https://x.test/p", "", 3, 0))
	meta := last["meta"].(map[string]any)
	assert.Nil(t, meta["next_page_url"])
	assert.Equal(t, json.Number("1"), meta["page_size"])
	assert.Equal(t, json.Number("3"), meta["page"])
	assert.Equal(t, []any{}, last["items"])

	assert.JSONEq(t, `{"code":20404,"message":"Not here","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`,
		string(hostednumberstest.ErrorJSON(404, 20404, "Not here")))
}

// The kit's documents drive the real client through a transport mock.
func TestBuildersWithHTTPMock(t *testing.T) {
	const base = "https://numbers.twilio.com"
	mock := httpmock.NewMockTransport()
	queued := hostednumberstest.BulkOrderSpec{Numbers: []string{"+14155550101", "+14155550109"}}
	processed := queued
	processed.Status = hostednumbers.RequestStatusProcessed
	processed.Outcome = hostednumberstest.FailNumbersEndingIn("9")
	mock.RegisterResponder(http.MethodPost, base+bulkPath, httpmock.NewBytesResponder(http.StatusAccepted, queued.JSON()))
	mock.RegisterResponder(http.MethodGet, base+bulkPath+"/"+hostednumberstest.ExampleBulkHostingSID,
		httpmock.ResponderFromMultipleResponses([]*http.Response{
			httpmock.NewBytesResponse(http.StatusServiceUnavailable, hostednumberstest.ErrorJSON(503, 20503, "Service Unavailable")),
			httpmock.NewBytesResponse(http.StatusOK, processed.JSON()),
		}))
	mock.RegisterResponder(http.MethodGet, base+ordersPath,
		httpmock.NewBytesResponder(http.StatusOK, hostednumberstest.ListPageJSON(base+ordersPath+"?PageSize=50&Page=0", "", 0, 50,
			processed.HostedNumberOrdersJSON()...)))

	opts := append(hostednumberstest.FastRetryOptions(),
		hostednumbers.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
		hostednumbers.WithHTTPClient(&http.Client{Transport: mock}))
	client, err := hostednumbers.NewClient(opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	created, err := client.BulkHostedNumberOrders.Create(ctx, numbersParams("+14155550101", "+14155550109"))
	require.NoError(t, err)
	assert.Equal(t, hostednumberstest.ExampleBulkHostingSID, created.BulkHostingSID)
	done, err := client.BulkHostedNumberOrders.Fetch(ctx, created.BulkHostingSID, nil)
	require.NoError(t, err, "the 503 is retried")
	assert.Equal(t, 2, done.LastResponse.Attempts)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{"pending-loa": 1, "failed": 1}, done.CountsByStatus())
	var listed []string
	for o, err := range client.HostedNumberOrders.All(ctx, nil) {
		require.NoError(t, err)
		listed = append(listed, string(o.Status))
	}
	assert.Equal(t, []string{"completed", "failed"}, listed)
}

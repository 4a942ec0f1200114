package hostednumberstest_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

const (
	ordersPath = "/v2/HostedNumber/Orders"
	docsPath   = "/v2/HostedNumber/AuthorizationDocuments"
	formType   = "application/x-www-form-urlencoded"
	unknownHR  = "HR00000000000000000000000000000000"
	unknownPX  = "PX00000000000000000000000000000000"
)

// pageMeta and page are a Twilio list page, decoded by the test itself.
type pageMeta struct {
	FirstPageURL    string  `json:"first_page_url"`
	Key             string  `json:"key"`
	NextPageURL     *string `json:"next_page_url"`
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
}

type page[T any] struct {
	Items []T      `json:"items"`
	Meta  pageMeta `json:"meta"`
}

// getJSON sends an authenticated GET to rawURL (absolute, or a path on
// srv), requires 200 and decodes the body into a T.
func getJSON[T any](t *testing.T, srv *hostednumberstest.Server, rawURL string) T {
	t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = srv.URL + rawURL
	}
	resp, body := authed(t, "GET", rawURL, "", "")
	require.Equal(t, 200, resp.StatusCode, "GET %s: %s", rawURL, body)
	var out T
	require.NoError(t, json.Unmarshal(body, &out), "body: %s", body)
	return out
}

// allPages follows next_page_url from path to the end and returns every
// item and every page's meta.
func allPages[T any](t *testing.T, srv *hostednumberstest.Server, path string) ([]T, []pageMeta) {
	t.Helper()
	var items []T
	var metas []pageMeta
	next := srv.URL + path
	for i := 0; next != ""; i++ {
		require.Less(t, i, 100, "too many pages")
		p := getJSON[page[T]](t, srv, next)
		items = append(items, p.Items...)
		metas = append(metas, p.Meta)
		next = ""
		if p.Meta.NextPageURL != nil {
			next = *p.Meta.NextPageURL
		}
	}
	return items, metas
}

func listOrders(t *testing.T, srv *hostednumberstest.Server, query string) []hostednumbers.HostedNumberOrder {
	t.Helper()
	items, _ := allPages[hostednumbers.HostedNumberOrder](t, srv, ordersPath+"?"+query)
	return items
}

func byPhone(orders []hostednumbers.HostedNumberOrder) map[string]hostednumbers.HostedNumberOrder {
	out := make(map[string]hostednumbers.HostedNumberOrder, len(orders))
	for _, o := range orders {
		out[o.PhoneNumber] = o
	}
	return out
}

func phones(orders []hostednumbers.HostedNumberOrder) []string {
	out := make([]string, len(orders))
	for i, o := range orders {
		out[i] = o.PhoneNumber
	}
	return out
}

func TestBulkCreateMakesOneOrderPerNumberAndOneDocumentPerItem(t *testing.T) {
	// Immediate: checks every member of the orders as the create made them, listed at once and still received.
	srv := newImmediateServer(t)
	before := time.Now().Add(-time.Second)
	params := sampleParams()
	params.RequestItems[0].ContactTitle = "Head of Telecom"
	params.RequestItems[0].ContactPhoneNumber = "+14155550100"
	params.RequestItems[0].CCEmails = []string{"cc@example.com"}
	params.RequestItems[0].Numbers[1].FriendlyName = "Front desk"
	created := create(t, srv.Client(), params)
	bh := created.BulkHostingSID

	orders := listOrders(t, srv, "")
	require.Len(t, orders, 3)
	assert.Equal(t, []string{"+14155550101", "+14155550109", "+14155550102"}, phones(orders), "creation order")
	first, second, third := orders[0], orders[1], orders[2]

	for _, o := range orders {
		assert.Regexp(t, fmt.Sprintf(sidPattern, "HR"), o.SID)
		assert.Equal(t, hostednumbers.OrderStatusReceived, o.Status, o.PhoneNumber)
		assert.Equal(t, hostednumbers.NullString{String: bh, Valid: true}, o.BulkHostingRequestSID)
		assert.Equal(t, srv.URL+ordersPath+"/"+o.SID, o.URL.String)
		assert.Regexp(t, fmt.Sprintf(sidPattern, "PN"), o.IncomingPhoneNumberSID.String)
		assert.True(t, o.Capabilities.SMS)
		assert.Equal(t, hostednumbers.VerificationTypePhoneCall, o.VerificationType)
		assert.Zero(t, o.VerificationAttempts)
		assert.Equal(t, hostednumbers.NullString{Valid: true}, o.FailureReason, `"" as in Twilio's examples`)
		assert.Equal(t, hostednumbers.NullString{Valid: true}, o.NextStep)
		require.True(t, o.DateCreated.Valid)
		assert.WithinRange(t, o.DateCreated.Time, before, time.Now())
		assert.Equal(t, created.DateCreated, o.DateCreated, "made with the bulk order")
		assert.Equal(t, o.DateCreated, o.DateUpdated)
	}
	// The first item's numbers share its document; the second item has its own.
	assert.Regexp(t, fmt.Sprintf(sidPattern, "PX"), first.SigningDocumentSID.String)
	assert.Equal(t, first.SigningDocumentSID, second.SigningDocumentSID)
	assert.NotEqual(t, first.SigningDocumentSID, third.SigningDocumentSID)
	assert.Equal(t, subAccount, first.AccountSID)
	assert.Equal(t, hostednumberstest.AccountSID, second.AccountSID)
	assert.Equal(t, itemAcct, third.AccountSID)
	assert.Equal(t, "owner@example.com", first.Email.String)
	assert.Equal(t, "second@example.com", third.Email.String)
	assert.Equal(t, addressSID, first.AddressSID.String)
	assert.False(t, third.AddressSID.Valid)
	assert.Equal(t, "Head of Telecom", first.ContactTitle.String)
	assert.Equal(t, "+14155550100", first.ContactPhoneNumber.String)
	assert.False(t, third.ContactTitle.Valid)
	assert.Equal(t, []string{"cc@example.com"}, first.CCEmails)
	assert.Equal(t, []string{}, third.CCEmails, "an empty array, not null")
	assert.False(t, first.FriendlyName.Valid)
	assert.Equal(t, "Front desk", second.FriendlyName.String)

	docs := getJSON[page[hostednumbers.AuthorizationDocument]](t, srv, docsPath).Items
	require.Len(t, docs, 2)
	assert.Equal(t, first.SigningDocumentSID.String, docs[0].SID)
	assert.Equal(t, third.SigningDocumentSID.String, docs[1].SID)
	// Twilio sends a document out for signature when it makes it: its
	// examples of a new document say signing, never opened.
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatusSigning, docs[0].Status)
	assert.Equal(t, "owner@example.com", docs[0].Email.String)
	assert.Equal(t, addressSID, docs[0].AddressSID.String)
	assert.Equal(t, []string{"cc@example.com"}, docs[0].CCEmails)
	assert.Equal(t, srv.URL+docsPath+"/"+docs[0].SID, docs[0].URL.String)
	assert.Equal(t, srv.URL+docsPath+"/"+docs[0].SID+"/DependentHostedNumberOrders", docs[0].Links["dependent_hosted_number_orders"])

	fetched := getJSON[hostednumbers.HostedNumberOrder](t, srv, ordersPath+"/"+second.SID)
	assert.Equal(t, second, fetched)
}

func TestHostedOrderDocumentsHaveEveryMemberOfTheFixtures(t *testing.T) {
	// Immediate: documents rendered at each stage, a fetch at a time.
	srv := newImmediateServer(t)
	sid := create(t, srv.Client(), numbersParams("+14155550101")).BulkHostingSID
	order := srv.HostedNumberOrders()[0]
	doc := srv.AuthorizationDocuments()[0]

	tests := []struct{ fixture, path string }{
		{"FetchHostedNumberOrder_200_fetch.json", ordersPath + "/" + order.SID},
		{"FetchAuthorizationDocument_200_fetch.json", docsPath + "/" + doc.SID},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			want := decodeObject(t, []byte(mustRead(t, "testdata/"+tt.fixture)))
			resp, body := authed(t, "GET", srv.URL+tt.path, "", "")
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Regexp(t, requestIDPattern, resp.Header.Get("Twilio-Request-Id"))
			assert.ElementsMatch(t, keys(want), keys(decodeObject(t, body)))
		})
	}
	listTests := []struct{ fixture, path string }{
		{"ListHostedNumberOrder_200_readFull.json", ordersPath},
		{"ListDependentHostedNumberOrder_200_readFull.json", docsPath + "/" + doc.SID + "/DependentHostedNumberOrders"},
	}
	for _, tt := range listTests {
		t.Run(tt.fixture, func(t *testing.T) {
			want := decodeObject(t, []byte(mustRead(t, "testdata/"+tt.fixture)))
			_, body := authed(t, "GET", srv.URL+tt.path, "", "")
			got := decodeObject(t, body)
			assert.ElementsMatch(t, keys(want), keys(got))
			assert.ElementsMatch(t, keys(want["meta"].(map[string]any)), keys(got["meta"].(map[string]any)))
			wantItem := want["items"].([]any)[0].(map[string]any)
			items := got["items"].([]any)
			require.Len(t, items, 1)
			item := items[0].(map[string]any)
			assert.ElementsMatch(t, keys(wantItem), keys(item))
			assert.Equal(t, sid, item["bulk_hosting_request_sid"])
		})
	}
}

func TestHostedOrdersMoveWithTheirBulkOrder(t *testing.T) {
	// Immediate: follows the orders stage by stage, a fetch at a time.
	srv := newImmediateServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	params := sampleParams() // item 0: …101 (completes), …109 (fails); item 1: …102
	params.RequestItems = append(params.RequestItems, hostednumbers.RequestItem{
		Email: "third@example.com", Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550119"}},
	})
	bh := create(t, client, params).BulkHostingSID

	docStatus := func(phone string) hostednumbers.AuthorizationDocumentStatus {
		t.Helper()
		o := byPhone(srv.HostedNumberOrders())[phone]
		return getJSON[hostednumbers.AuthorizationDocument](t, srv, docsPath+"/"+o.SigningDocumentSID.String).Status
	}
	stages := []struct {
		bulk   hostednumbers.RequestStatus
		orders map[string]hostednumbers.OrderStatus
		docs   map[string]hostednumbers.AuthorizationDocumentStatus // by a number of the document
	}{
		{
			bulk: hostednumbers.RequestStatusQueued,
			orders: map[string]hostednumbers.OrderStatus{
				"+14155550101": "received", "+14155550109": "received", "+14155550102": "received", "+14155550119": "received",
			},
			// Signing from the start, as in Twilio's examples.
			docs: map[string]hostednumbers.AuthorizationDocumentStatus{"+14155550101": "signing", "+14155550102": "signing", "+14155550119": "signing"},
		},
		{
			bulk: hostednumbers.RequestStatusInProgress,
			orders: map[string]hostednumbers.OrderStatus{
				"+14155550101": "pending-loa", "+14155550109": "pending-loa", "+14155550102": "pending-loa", "+14155550119": "pending-loa",
			},
			docs: map[string]hostednumbers.AuthorizationDocumentStatus{"+14155550101": "signing", "+14155550102": "signing", "+14155550119": "signing"},
		},
		{
			bulk: hostednumbers.RequestStatusProcessed,
			orders: map[string]hostednumbers.OrderStatus{
				"+14155550101": "completed", "+14155550109": "failed", "+14155550102": "completed", "+14155550119": "failed",
			},
			// A document with a completed order was signed; one whose
			// only order failed failed.
			docs: map[string]hostednumbers.AuthorizationDocumentStatus{"+14155550101": "signed", "+14155550102": "signed", "+14155550119": "failed"},
		},
	}
	var lastUpdated time.Time
	for i, st := range stages {
		t.Run(string(st.bulk), func(t *testing.T) {
			var bulk *hostednumbers.BulkHostedNumberOrder
			if i == 0 {
				var ok bool
				bulk, ok = srv.Order(bh)
				require.True(t, ok)
			} else {
				bulk = fetch(t, client, bh)
			}
			require.Equal(t, st.bulk, bulk.RequestStatus)

			orders := byPhone(listOrders(t, srv, ""))
			require.Len(t, orders, len(st.orders))
			for phone, want := range st.orders {
				assert.Equal(t, want, orders[phone].Status, phone)
			}
			// What the bulk fetch shows agrees with the orders themselves.
			for _, r := range bulk.Orders() {
				o := orders[r.PhoneNumber]
				assert.Equal(t, o.SID, r.HostingOrderSID)
				assert.Equal(t, o.Status, r.Status, r.PhoneNumber)
				// The results say null where the order says "", as in
				// Twilio's examples.
				assert.Equal(t, o.FailureReason.String, r.FailureReason.String, r.PhoneNumber)
				assert.Equal(t, o.NextStep.String, r.NextStep.String, r.PhoneNumber)
				assert.True(t, o.FailureReason.Valid)
				if r.SigningDocumentSID.Valid {
					assert.Equal(t, o.SigningDocumentSID, r.SigningDocumentSID)
				}
			}
			if st.bulk != hostednumbers.RequestStatusQueued {
				assert.Len(t, bulk.Orders(), 4)
			}
			for phone, want := range st.docs {
				assert.Equal(t, want, docStatus(phone), "document of %s", phone)
			}
			failed := orders["+14155550109"]
			if st.bulk == hostednumbers.RequestStatusProcessed {
				assert.Equal(t, hostednumberstest.DefaultFailureReason, failed.FailureReason.String)
				assert.Equal(t, hostednumberstest.DefaultNextStep, failed.NextStep.String)
			} else {
				assert.Equal(t, hostednumbers.NullString{Valid: true}, failed.FailureReason)
			}
			updated := orders["+14155550101"].DateUpdated.Time
			assert.False(t, updated.Before(lastUpdated), "date_updated never goes back")
			lastUpdated = updated
		})
	}
}

func TestHostedOrdersMoveWithStageDuration(t *testing.T) {
	const stage = 50 * time.Millisecond
	srv := newServer(t, hostednumberstest.WithStageDuration(stage), hostednumberstest.WithHostingDuration(0))
	create(t, srv.Client(), numbersParams("+14155550101"))
	waitFor(t, 3*time.Second, func() bool { return len(srv.HostedNumberOrders()) == 1 })
	assert.Equal(t, hostednumbers.OrderStatusReceived, srv.HostedNumberOrders()[0].Status)
	waitFor(t, 3*time.Second, func() bool {
		return srv.HostedNumberOrders()[0].Status == hostednumbers.OrderStatusCompleted
	})
	o := srv.HostedNumberOrders()[0]
	bulk := srv.Orders()[0]
	assert.Equal(t, hostednumbers.RequestStatusProcessed, bulk.RequestStatus, "no fetch needed: time moves it")
	assert.Equal(t, bulk.DateCompleted, o.DateUpdated, "the order changed when the bulk order completed")
}

func TestCancelOnlyWhileReceived(t *testing.T) {
	// Immediate: cancels while received, then moves the order on with one fetch to see the refusal.
	srv := newImmediateServer(t)
	client := srv.Client()
	bh := create(t, client, numbersParams("+14155550101", "+14155550102")).BulkHostingSID
	orders := srv.HostedNumberOrders()
	require.Len(t, orders, 2)
	keep, cancel := orders[0], orders[1]

	resp, body := authed(t, "DELETE", srv.URL+ordersPath+"/"+cancel.SID, "", "")
	assert.Equal(t, 204, resp.StatusCode)
	assert.Empty(t, body)
	assert.Equal(t, 204, srv.Requests()[len(srv.Requests())-1].Status)

	resp, _ = authed(t, "GET", srv.URL+ordersPath+"/"+cancel.SID, "", "")
	assert.Equal(t, 404, resp.StatusCode, "a canceled order is gone")
	resp, _ = authed(t, "DELETE", srv.URL+ordersPath+"/"+cancel.SID, "", "")
	assert.Equal(t, 404, resp.StatusCode, "and cannot be canceled twice")
	assert.Equal(t, []string{"+14155550101"}, phones(listOrders(t, srv, "")))
	assert.Equal(t, []string{"+14155550101"}, phones(srv.HostedNumberOrders()))

	// The bulk order moves on without it.
	inProgress := fetch(t, client, bh)
	assert.Equal(t, 2, inProgress.TotalCount, "total_count counts what was submitted")
	require.Len(t, inProgress.Orders(), 1)
	assert.Equal(t, keep.SID, inProgress.Orders()[0].HostingOrderSID)

	// Now pending-loa: Twilio refuses.
	resp, body = authed(t, "DELETE", srv.URL+ordersPath+"/"+keep.SID, "", "")
	assert.Equal(t, 400, resp.StatusCode)
	doc := decodeError(t, body)
	assert.Equal(t, 400, doc.Status)
	// Twilio documents no code for this refusal: the fake gives none.
	assert.Zero(t, doc.Code)
	assert.Contains(t, doc.Message, keep.SID)
	assert.Contains(t, doc.Message, "pending-loa")
	assert.Empty(t, doc.MoreInfo)
	assert.Equal(t, hostednumbers.OrderStatusPendingLOA, getJSON[hostednumbers.HostedNumberOrder](t, srv, ordersPath+"/"+keep.SID).Status)

	resp, _ = authed(t, "DELETE", srv.URL+ordersPath+"/"+unknownHR, "", "")
	assert.Equal(t, 404, resp.StatusCode)
}

func TestCancelEveryOrderOfADocumentCancelsIt(t *testing.T) {
	// Immediate: cancels orders while received, which the fetch-driven model keeps them until a fetch.
	srv := newImmediateServer(t)
	create(t, srv.Client(), numbersParams("+14155550101", "+14155550102"))
	for _, o := range srv.HostedNumberOrders() {
		resp, _ := authed(t, "DELETE", srv.URL+ordersPath+"/"+o.SID, "", "")
		require.Equal(t, 204, resp.StatusCode)
	}
	docs := srv.AuthorizationDocuments()
	require.Len(t, docs, 1)
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatus("canceled"), docs[0].Status)
	assert.Empty(t, getJSON[page[json.RawMessage]](t, srv, docsPath+"/"+docs[0].SID+"/DependentHostedNumberOrders").Items)
}

func TestCancelThroughTheSDK(t *testing.T) {
	// Immediate: cancels while received, then moves the order on with one fetch to see the refusal.
	srv := newImmediateServer(t)
	client := srv.Client()
	create(t, client, numbersParams("+14155550101"))
	sid := srv.HostedNumberOrders()[0].SID
	require.NoError(t, client.HostedNumberOrders.Cancel(t.Context(), sid))
	assert.Empty(t, srv.HostedNumberOrders())

	create(t, client, numbersParams("+14155550102"))
	bh := srv.Orders()[1].BulkHostingSID
	fetch(t, client, bh)
	err := client.HostedNumberOrders.Cancel(t.Context(), srv.HostedNumberOrders()[0].SID)
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.HTTPStatus)
	assert.Zero(t, apiErr.Code, "Twilio documents no code for it")
	assert.ErrorIs(t, err, hostednumbers.ErrNotApplied)
}

func TestUpdateSetsStatusAndVerificationCall(t *testing.T) {
	// Immediate: an update pins the status; the bulk order must not move under it between assertions.
	srv := newImmediateServer(t)
	client := srv.Client()
	bh := create(t, client, numbersParams("+14155550101", "+14155550102")).BulkHostingSID
	orders := srv.HostedNumberOrders()
	sid := orders[0].SID

	resp, body := authed(t, "POST", srv.URL+ordersPath+"/"+sid, formType,
		"Status=pending-verification&VerificationCallDelay=15&VerificationCallExtension=789")
	require.Equal(t, 200, resp.StatusCode, "body: %s", body)
	var updated hostednumbers.HostedNumberOrder
	require.NoError(t, json.Unmarshal(body, &updated))
	assert.Equal(t, hostednumbers.OrderStatusPendingVerification, updated.Status)
	assert.Equal(t, 15, updated.VerificationCallDelay)
	assert.Equal(t, hostednumbers.NullString{String: "789", Valid: true}, updated.VerificationCallExtension)
	assert.Equal(t, 1, updated.VerificationAttempts)
	require.Len(t, updated.VerificationCallSIDs, 1)
	assert.Regexp(t, fmt.Sprintf(sidPattern, "CA"), updated.VerificationCallSIDs[0])
	assert.Regexp(t, `^\d{6}$`, updated.VerificationCode.String)
	assert.Equal(t, updated, getJSON[hostednumbers.HostedNumberOrder](t, srv, ordersPath+"/"+sid))

	// The status set by hand stays while the bulk order moves on, and the
	// bulk results show it.
	fetch(t, client, bh)
	done := fetch(t, client, bh)
	require.Equal(t, hostednumbers.RequestStatusProcessed, done.RequestStatus)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{
		hostednumbers.OrderStatusPendingVerification: 1,
		hostednumbers.OrderStatusCompleted:           1,
	}, done.CountsByStatus())
	assert.Equal(t, hostednumbers.OrderStatusPendingVerification, byPhone(srv.HostedNumberOrders())["+14155550101"].Status)

	// A second call: the attempts add up; a status alone keeps the call settings.
	resp, body = authed(t, "POST", srv.URL+ordersPath+"/"+sid, formType, "Status=pending_verification")
	require.Equal(t, 200, resp.StatusCode, "body: %s", body)
	require.NoError(t, json.Unmarshal(body, &updated))
	assert.Equal(t, 2, updated.VerificationAttempts)
	assert.Len(t, updated.VerificationCallSIDs, 2)
	assert.Equal(t, 15, updated.VerificationCallDelay)
}

func TestUpdateThroughTheSDK(t *testing.T) {
	// Immediate: an update pins the status; the bulk order must not move under it between assertions.
	srv := newImmediateServer(t)
	client := srv.Client()
	create(t, client, numbersParams("+14155550101"))
	sid := srv.HostedNumberOrders()[0].SID
	got, err := client.HostedNumberOrders.Update(t.Context(), sid, &hostednumbers.UpdateHostedNumberOrderParams{
		Status: hostednumbers.OrderStatusPendingVerification,
	})
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.OrderStatusPendingVerification, got.Status)
	assert.Equal(t, 1, got.VerificationAttempts)
	last := srv.Requests()[len(srv.Requests())-1]
	assert.Equal(t, "POST", last.Method)
	assert.Equal(t, "pending-verification", mustParseQuery(t, string(last.Body)).Get("Status"))
}

func mustParseQuery(t *testing.T, s string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	require.NoError(t, err)
	return q
}

func TestUpdateRejectsBadForms(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantStatus              int
		wantMessage             string
	}{
		{"no status", formType, "VerificationCallDelay=5", 400, "Invalid parameter Status: is required"},
		{"unknown status", formType, "Status=hosted", 400, `Invalid parameter Status: "hosted" is not a hosted number order status`},
		{"delay too long", formType, "Status=pending-verification&VerificationCallDelay=61", 400, "Invalid parameter VerificationCallDelay"},
		{"delay negative", formType, "Status=pending-verification&VerificationCallDelay=-1", 400, "Invalid parameter VerificationCallDelay"},
		{"delay not a number", formType, "Status=pending-verification&VerificationCallDelay=soon", 400, "Invalid parameter VerificationCallDelay"},
		{"bad form encoding", formType, "Status=%zz", 400, "Invalid form body"},
		{"JSON body", "application/json", `{"Status":"pending-verification"}`, 415, "Unsupported Media Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Immediate: updates an order that must exist right after the create.
			srv := newImmediateServer(t)
			create(t, srv.Client(), numbersParams("+14155550101"))
			before := srv.HostedNumberOrders()[0]
			resp, body := authed(t, "POST", srv.URL+ordersPath+"/"+before.SID, tt.contentType, tt.body)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			doc := decodeError(t, body)
			assert.Equal(t, tt.wantStatus, doc.Status)
			assert.True(t, strings.HasPrefix(doc.Message, tt.wantMessage), "message %q", doc.Message)
			assert.Equal(t, before, srv.HostedNumberOrders()[0], "nothing changed")
		})
	}
	t.Run("unknown order", func(t *testing.T) {
		// Immediate: updates an order that must exist right after the create.
		srv := newImmediateServer(t)
		resp, _ := authed(t, "POST", srv.URL+ordersPath+"/"+unknownHR, formType, "Status=verified")
		assert.Equal(t, 404, resp.StatusCode)
	})
}

func TestListFilters(t *testing.T) {
	// Immediate: status filters checked against states set by fetches, listed at once.
	srv := newImmediateServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	params := numbersParams("+14155550101", "+14155550109", "+14155550102")
	params.RequestItems[0].Numbers[0].FriendlyName = "Front desk"
	params.RequestItems[0].Numbers[2].Extra = map[string]any{"sms_capability": false}
	bh := create(t, client, params).BulkHostingSID
	fetch(t, client, bh)
	fetch(t, client, bh) // PROCESSED: …109 failed, the others completed
	// A second, QUEUED request with the same first number.
	create(t, client, numbersParams("+14155550101"))
	all := srv.HostedNumberOrders()
	require.Len(t, all, 4)
	pn := all[2].IncomingPhoneNumberSID.String

	tests := []struct {
		name  string
		query url.Values
		want  []string // SIDs by index into all
	}{
		{"no filter", nil, []string{all[0].SID, all[1].SID, all[2].SID, all[3].SID}},
		{"status", url.Values{"Status": {"completed"}}, []string{all[0].SID, all[2].SID}},
		{"status failed", url.Values{"Status": {"failed"}}, []string{all[1].SID}},
		{"status received", url.Values{"Status": {"received"}}, []string{all[3].SID}},
		{"status underscore spelling", url.Values{"Status": {"pending_loa"}}, nil},
		{"phone number across requests", url.Values{"PhoneNumber": {"+14155550101"}}, []string{all[0].SID, all[3].SID}},
		{"phone number unknown", url.Values{"PhoneNumber": {"+14155550199"}}, nil},
		{"phone number and status", url.Values{"PhoneNumber": {"+14155550101"}, "Status": {"received"}}, []string{all[3].SID}},
		{"incoming phone number", url.Values{"IncomingPhoneNumberSid": {pn}}, []string{all[2].SID}},
		{"friendly name", url.Values{"FriendlyName": {"Front desk"}}, []string{all[0].SID}},
		{"sms capable", url.Values{"SmsCapability": {"true"}}, []string{all[0].SID, all[1].SID, all[3].SID}},
		{"not sms capable", url.Values{"SmsCapability": {"false"}}, []string{all[2].SID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range listOrders(t, srv, tt.query.Encode()) {
				got = append(got, o.SID)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestListsRejectBadParameters(t *testing.T) {
	// Immediate: one order listed at once beside the bad parameters.
	srv := newImmediateServer(t)
	create(t, srv.Client(), numbersParams("+14155550101"))
	px := srv.AuthorizationDocuments()[0].SID
	dependents := docsPath + "/" + px + "/DependentHostedNumberOrders"
	// The codes are Twilio's: 22111 for a list of hosted number orders
	// filtered on a status that does not exist, 20007 for a page size over
	// 1000, 20001 (invalid parameter) for the rest.
	tests := []struct {
		name, path, query, wantField string
		wantCode                     int
	}{
		{"unknown status", ordersPath, "Status=hosted", "Status", 22111},
		{"sms capability not a boolean", ordersPath, "SmsCapability=maybe", "SmsCapability", 20001},
		{"page size 0", ordersPath, "PageSize=0", "PageSize", 20001},
		{"page size 1001", ordersPath, "PageSize=1001", "PageSize", 20007},
		{"page size not a number", ordersPath, "PageSize=ten", "PageSize", 20001},
		{"negative page", ordersPath, "Page=-1", "Page", 20001},
		{"foreign page token", ordersPath, "PageToken=XX12", "PageToken", 20001},
		{"page token not hex", ordersPath, "PageToken=PAzz", "PageToken", 20001},
		{"document status", docsPath, "Status=lost", "Status", 20001},
		{"document page size", docsPath, "PageSize=5000", "PageSize", 20007},
		{"dependent status outside its seven", dependents, "Status=testing", "Status", 22111},
		{"dependent page size", dependents, "PageSize=0", "PageSize", 20001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := authed(t, "GET", srv.URL+tt.path+"?"+tt.query, "", "")
			assert.Equal(t, 400, resp.StatusCode)
			doc := decodeError(t, body)
			assert.Equal(t, tt.wantCode, doc.Code)
			assert.Equal(t, tt.wantField, doc.Details["field"])
			assert.True(t, strings.HasPrefix(doc.Message, "Invalid parameter "+tt.wantField+":"), doc.Message)
		})
	}
}

func TestDocumentListsFilterAndCrossPages(t *testing.T) {
	// Immediate: document statuses checked stage by stage, a fetch at a time.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2))
	client := srv.Client()
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{}
	for i := range 5 {
		params.RequestItems = append(params.RequestItems, hostednumbers.RequestItem{
			Email:   fmt.Sprintf("owner%d@example.com", i%2),
			Numbers: []hostednumbers.Number{{PhoneNumber: fmt.Sprintf("+1415555020%d", i)}},
		})
	}
	bh := create(t, client, params).BulkHostingSID

	docs, metas := allPages[hostednumbers.AuthorizationDocument](t, srv, docsPath)
	require.Len(t, docs, 5)
	require.Len(t, metas, 3)
	assert.Equal(t, []int{0, 1, 2}, []int{metas[0].Page, metas[1].Page, metas[2].Page})
	byEmail, _ := allPages[hostednumbers.AuthorizationDocument](t, srv, docsPath+"?Email=owner1%40example.com")
	require.Len(t, byEmail, 2)
	for _, d := range byEmail {
		assert.Equal(t, "owner1@example.com", d.Email.String)
	}
	// Documents are signing from the start (Twilio's examples): the fake
	// never shows opened.
	signing, _ := allPages[hostednumbers.AuthorizationDocument](t, srv, docsPath+"?Status=signing")
	assert.Len(t, signing, 5)
	fetch(t, client, bh)
	signing, _ = allPages[hostednumbers.AuthorizationDocument](t, srv, docsPath+"?Status=signing&Email=owner0%40example.com")
	assert.Len(t, signing, 3)
	none, _ := allPages[hostednumbers.AuthorizationDocument](t, srv, docsPath+"?Status=opened")
	assert.Empty(t, none)

	fetched := getJSON[hostednumbers.AuthorizationDocument](t, srv, docsPath+"/"+docs[3].SID)
	assert.Equal(t, docs[3].SID, fetched.SID)
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatus("signing"), fetched.Status)
	resp, _ := authed(t, "GET", srv.URL+docsPath+"/"+unknownPX, "", "")
	assert.Equal(t, 404, resp.StatusCode)
}

func TestDependentOrdersOfADocument(t *testing.T) {
	// Immediate: each fetch moves the orders a stage; the lists are checked at each.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2), hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	params := sampleParams()
	params.RequestItems[0].Numbers = append(params.RequestItems[0].Numbers,
		hostednumbers.Number{PhoneNumber: "+14155550103"}, hostednumbers.Number{PhoneNumber: "+14155550104"})
	bh := create(t, client, params).BulkHostingSID
	docs := srv.AuthorizationDocuments()
	require.Len(t, docs, 2)
	path := docsPath + "/" + docs[0].SID + "/DependentHostedNumberOrders"

	orders, metas := allPages[hostednumbers.HostedNumberOrder](t, srv, path)
	assert.Equal(t, []string{"+14155550101", "+14155550109", "+14155550103", "+14155550104"}, phones(orders))
	require.Len(t, metas, 2)
	assert.Equal(t, srv.URL+path+"?PageSize=2&Page=0", metas[0].URL)
	for _, o := range orders {
		assert.Equal(t, docs[0].SID, o.SigningDocumentSID.String)
		assert.Equal(t, bh, o.BulkHostingRequestSID.String)
		assert.False(t, o.URL.Valid, "this list has no url member")
	}
	fetch(t, client, bh)
	fetch(t, client, bh)
	failed, _ := allPages[hostednumbers.HostedNumberOrder](t, srv, path+"?Status=failed")
	assert.Equal(t, []string{"+14155550109"}, phones(failed))
	one, _ := allPages[hostednumbers.HostedNumberOrder](t, srv, path+"?PhoneNumber=%2B14155550103")
	assert.Equal(t, []string{"+14155550103"}, phones(one))
	other, _ := allPages[hostednumbers.HostedNumberOrder](t, srv, docsPath+"/"+docs[1].SID+"/DependentHostedNumberOrders")
	assert.Equal(t, []string{"+14155550102"}, phones(other))

	resp, _ := authed(t, "GET", srv.URL+docsPath+"/"+unknownPX+"/DependentHostedNumberOrders", "", "")
	assert.Equal(t, 404, resp.StatusCode)
}

func TestNewRoutesAnswerTwilioErrors(t *testing.T) {
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantAllow          string
	}{
		{"PUT on the order list", "PUT", ordersPath, 405, "GET, POST"},
		{"PUT on an order", "PUT", ordersPath + "/" + unknownHR, 405, "GET, POST, DELETE"},
		{"unknown order", "GET", ordersPath + "/" + unknownHR, 404, ""},
		{"malformed order SID", "GET", ordersPath + "/HR..%2F", 404, ""},
		{"nested under an order", "GET", ordersPath + "/" + unknownHR + "/Calls", 404, ""},
		{"PUT on the document list", "PUT", docsPath, 405, "GET, POST"},
		{"POST on a document", "POST", docsPath + "/" + unknownPX, 405, "GET, DELETE"},
		{"POST on dependents", "POST", docsPath + "/" + unknownPX + "/DependentHostedNumberOrders", 405, "GET"},
		{"unknown document member", "GET", docsPath + "/" + unknownPX + "/Other", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			resp, body := authed(t, tt.method, srv.URL+tt.path, "", "")
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantAllow, resp.Header.Get("Allow"))
			assert.Equal(t, tt.wantStatus, decodeError(t, body).Status)
		})
	}
	t.Run("lists need credentials", func(t *testing.T) {
		srv := newServer(t)
		for _, p := range []string{ordersPath, docsPath} {
			resp, _, err := rawRequest(t, "GET", srv.URL+p, "", "")
			require.NoError(t, err)
			assert.Equal(t, 401, resp.StatusCode, p)
		}
	})
}

func TestStatusFilterFoldsSpellings(t *testing.T) {
	// Immediate: the filter is checked against a status set by a fetch.
	srv := newImmediateServer(t)
	client := srv.Client()
	bh := create(t, client, numbersParams("+14155550101", "+14155550102")).BulkHostingSID
	fetch(t, client, bh) // IN_PROGRESS: both pending-loa
	for _, spelling := range []string{"pending-loa", "pending_loa", "PENDING_LOA"} {
		t.Run(spelling, func(t *testing.T) {
			got := listOrders(t, srv, url.Values{"Status": {spelling}}.Encode())
			assert.Equal(t, []string{"+14155550101", "+14155550102"}, phones(got))
			px := got[0].SigningDocumentSID.String
			dependents, _ := allPages[hostednumbers.HostedNumberOrder](t, srv,
				docsPath+"/"+px+"/DependentHostedNumberOrders?"+url.Values{"Status": {spelling}}.Encode())
			assert.Len(t, dependents, 2)
		})
	}
}

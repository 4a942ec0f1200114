package hostednumbers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

const rsDocSID = "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestAuthorizationDocuments_FetchDecodesTheSpecExampleFieldByField(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsFixture(t, "FetchAuthorizationDocument_200_fetch.json"))
	})
	d, err := client.AuthorizationDocuments.Fetch(rsCtx(t), rsDocSID)
	require.NoError(t, err)

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodGet, reqs[0].Method)
	assert.Equal(t, "/v2/HostedNumber/AuthorizationDocuments/"+rsDocSID, reqs[0].Path)
	at := time.Date(2017, 3, 28, 20, 6, 39, 0, time.UTC)
	assert.Equal(t, hn.AuthorizationDocument{
		SID:         rsDocSID,
		AddressSID:  hn.NullString{String: "AD11111111111111111111111111111111", Valid: true},
		Status:      hn.AuthorizationDocumentStatusSigning,
		Email:       hn.NullString{String: "test@twilio.com", Valid: true},
		CCEmails:    []string{"aaa@twilio.com", "bbb@twilio.com"},
		DateCreated: hn.NullTime{Time: at, Valid: true},
		DateUpdated: hn.NullTime{Time: at, Valid: true},
		URL:         hn.NullString{String: "https://numbers.twilio.com/v2/HostedNumber/AuthorizationDocuments/" + rsDocSID, Valid: true},
		Links: map[string]string{
			"dependent_hosted_number_orders": "https://numbers.twilio.com/v2/HostedNumber/AuthorizationDocuments/" + rsDocSID + "/DependentHostedNumberOrders",
		},
		LastResponse: d.LastResponse,
	}, *d)
	require.NotNil(t, d.LastResponse)
	assert.Equal(t, 200, d.LastResponse.StatusCode)
	assert.True(t, d.Status.Unsigned())
}

func TestAuthorizationDocuments_ListDecodesTheSpecExamplesAndSendsFilters(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Status") == "signed" {
			rsJSON(w, 200, rsFixture(t, "ListAuthorizationDocument_200_readEmpty.json"))
			return
		}
		rsJSON(w, 200, rsFixture(t, "ListAuthorizationDocument_200_readFull.json"))
	})
	ctx := rsCtx(t)

	page, err := client.AuthorizationDocuments.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	d := page.Items[0]
	assert.Equal(t, rsDocSID, d.SID)
	assert.Equal(t, "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", d.AddressSID.String)
	assert.Equal(t, "test+hosted@twilio.com", d.Email.String)
	assert.Equal(t, hn.AuthorizationDocumentStatusSigning, d.Status)
	assert.Same(t, page.LastResponse, d.LastResponse)
	assert.False(t, page.HasNext())

	var n int
	for _, err := range client.AuthorizationDocuments.All(ctx, &hn.ListAuthorizationDocumentsParams{
		Email: "test+hosted@twilio.com", Status: hn.AuthorizationDocumentStatusSigned, PageSize: 20,
	}) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/v2/HostedNumber/AuthorizationDocuments", reqs[0].Path)
	assert.Empty(t, reqs[0].RawQuery)
	q, err := url.ParseQuery(reqs[1].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"Email": {"test+hosted@twilio.com"}, "Status": {"signed"}, "PageSize": {"20"}}, q)
}

func TestAuthorizationDocuments_UnknownStatusIsKept(t *testing.T) {
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, []byte(`{"sid":"`+rsDocSID+`","status":"expired"}`))
	})
	d, err := client.AuthorizationDocuments.Fetch(rsCtx(t), rsDocSID)
	require.NoError(t, err)
	assert.Equal(t, hn.AuthorizationDocumentStatus("expired"), d.Status)
	assert.False(t, d.Status.Known())
	assert.False(t, d.Status.Unsigned())
	for _, s := range []hn.AuthorizationDocumentStatus{"opened", "signing", "signed", "canceled", "failed"} {
		assert.True(t, s.Known(), s)
	}
	assert.True(t, hn.AuthorizationDocumentStatusOpened.Unsigned())
	assert.False(t, hn.AuthorizationDocumentStatusSigned.Unsigned())
}

func TestAuthorizationDocuments_DependentOrdersDecodeAndSendEveryFilter(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsFixture(t, "ListDependentHostedNumberOrder_200_readFull.json"))
	})
	page, err := client.AuthorizationDocuments.ListDependentOrders(rsCtx(t), rsDocSID, &hn.ListDependentHostedNumberOrdersParams{
		Status:                 hn.OrderStatusCarrierProcessing,
		PhoneNumber:            "+14153608311",
		IncomingPhoneNumberSID: "PN11111111111111111111111111111111",
		FriendlyName:           "friendly_name",
		PageSize:               5,
	})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	o := page.Items[0]
	assert.Equal(t, rsOrderSID, o.SID)
	assert.Equal(t, hn.OrderStatusReceived, o.Status)
	assert.Equal(t, "PX11111111111111111111111111111111", o.SigningDocumentSID.String)
	assert.Equal(t, "BH11111111111111111111111111111111", o.BulkHostingRequestSID.String)
	assert.Equal(t, "Test", o.NextStep.String)
	assert.False(t, o.URL.Valid, "this list carries no url")

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/v2/HostedNumber/AuthorizationDocuments/"+rsDocSID+"/DependentHostedNumberOrders", reqs[0].Path)
	q, err := url.ParseQuery(reqs[0].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"Status": {"carrier-processing"}, "PhoneNumber": {"+14153608311"}, "IncomingPhoneNumberSid": {"PN11111111111111111111111111111111"},
		"FriendlyName": {"friendly_name"}, "PageSize": {"5"},
	}, q)
}

func TestAuthorizationDocuments_AllDependentOrdersFollowsPagesAndStopsOnBreak(t *testing.T) {
	var srv *rsRecorder
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		page := 0
		_, _ = fmt.Sscan(r.URL.Query().Get("Page"), &page) // no Page: the first
		items := []map[string]any{
			rsOrderItem(t, rsSID("HR", 2*page), fmt.Sprintf("+1415555%04d", 2*page), nil),
			rsOrderItem(t, rsSID("HR", 2*page+1), fmt.Sprintf("+1415555%04d", 2*page+1), nil),
		}
		next := ""
		if page < 4 {
			next = fmt.Sprintf("%s%s?PageSize=2&Page=%d", srv.URL, r.URL.Path, page+1)
		}
		rsJSON(w, 200, rsPage(t, srv.URL+r.URL.RequestURI(), next, page, items))
	})
	ctx := rsCtx(t)

	var all []string
	for o, err := range client.AuthorizationDocuments.AllDependentOrders(ctx, rsDocSID, &hn.ListDependentHostedNumberOrdersParams{PageSize: 2}) {
		require.NoError(t, err)
		all = append(all, o.SID)
	}
	assert.Len(t, all, 10)
	assert.Equal(t, 5, srv.count())

	before := srv.count()
	n := 0
	for _, err := range client.AuthorizationDocuments.AllDependentOrders(ctx, rsDocSID, nil) {
		require.NoError(t, err)
		if n++; n == 6 {
			break
		}
	}
	assert.Equal(t, 3, srv.count()-before, "pages after the break are never requested")
	for _, r := range srv.requests() {
		assert.True(t, strings.HasSuffix(r.Path, "/DependentHostedNumberOrders"))
	}
}

func TestAuthorizationDocuments_InvalidInputNamesTheFieldAndSendsNothing(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 500, nil) })
	ctx := rsCtx(t)

	listCases := []struct {
		name   string
		params hn.ListAuthorizationDocumentsParams
		fields []string
	}{
		{"bad email", hn.ListAuthorizationDocumentsParams{Email: "owner at example.com"}, []string{"email"}},
		{"unknown status", hn.ListAuthorizationDocumentsParams{Status: "pending"}, []string{"status"}},
		{"page size", hn.ListAuthorizationDocumentsParams{PageSize: 1001}, []string{"page_size"}},
		{"all at once", hn.ListAuthorizationDocumentsParams{Email: "x", Status: "x", PageSize: -5}, []string{"email", "status", "page_size"}},
	}
	for _, tc := range listCases {
		t.Run("list/"+tc.name, func(t *testing.T) {
			_, err := client.AuthorizationDocuments.List(ctx, &tc.params)
			_ = rsRequireValidation(t, err, tc.fields...)
			for _, err := range client.AuthorizationDocuments.All(ctx, &tc.params) {
				_ = rsRequireValidation(t, err, tc.fields...)
			}
		})
	}
	depCases := []struct {
		name   string
		params hn.ListDependentHostedNumberOrdersParams
		fields []string
	}{
		{"status outside the seven", hn.ListDependentHostedNumberOrdersParams{Status: hn.OrderStatusTwilioProcessing}, []string{"status"}},
		{"testing is not one of the seven", hn.ListDependentHostedNumberOrdersParams{Status: hn.OrderStatusTesting}, []string{"status"}},
		{"phone", hn.ListDependentHostedNumberOrdersParams{PhoneNumber: "+0123"}, []string{"phone_number"}},
		{"incoming sid", hn.ListDependentHostedNumberOrdersParams{IncomingPhoneNumberSID: "PN123"}, []string{"incoming_phone_number_sid"}},
		{"friendly name", hn.ListDependentHostedNumberOrdersParams{FriendlyName: strings.Repeat("x", 129)}, []string{"friendly_name"}},
		{"page size", hn.ListDependentHostedNumberOrdersParams{PageSize: -1}, []string{"page_size"}},
	}
	for _, tc := range depCases {
		t.Run("dependent/"+tc.name, func(t *testing.T) {
			_, err := client.AuthorizationDocuments.ListDependentOrders(ctx, rsDocSID, &tc.params)
			_ = rsRequireValidation(t, err, tc.fields...)
			for _, err := range client.AuthorizationDocuments.AllDependentOrders(ctx, rsDocSID, &tc.params) {
				_ = rsRequireValidation(t, err, tc.fields...)
			}
		})
	}
	t.Run("dependent/document sid and filter together", func(t *testing.T) {
		_, err := client.AuthorizationDocuments.ListDependentOrders(ctx, rsOrderSID, &hn.ListDependentHostedNumberOrdersParams{PageSize: 0, Status: "x"})
		_ = rsRequireValidation(t, err, "document_sid", "status")
	})
	for name, sid := range map[string]string{
		"order sid": rsOrderSID, "traversal": "PX../../../Accounts/AC0123456789ab", "empty": "", "query": "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?a=1",
	} {
		t.Run("sid/"+name, func(t *testing.T) {
			_, err := client.AuthorizationDocuments.Fetch(ctx, sid)
			_ = rsRequireValidation(t, err, "sid")
			_, err = client.AuthorizationDocuments.ListDependentOrders(ctx, sid, nil)
			_ = rsRequireValidation(t, err, "document_sid")
		})
	}
	assert.Zero(t, srv.count(), "no invalid input reaches the network")
}

func TestAuthorizationDocuments_DocumentWithoutAValidSIDIsADecodeError(t *testing.T) {
	body, err := json.Marshal(map[string]any{"sid": nil, "status": "signed"})
	require.NoError(t, err)
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 200, body) })
	_, err = client.AuthorizationDocuments.Fetch(rsCtx(t), rsDocSID)
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de)
}

package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// The fake decides as Twilio would: these tests pin each rule it takes
// from Twilio's published definitions and error pages.

func rulesCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestEligibilityKnowsExistingOrders(t *testing.T) {
	// Immediate: each fetch moves the orders a stage, checked between.
	srv := newImmediateServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	ctx := rulesCtx(t)
	check := func(numbers ...string) hostednumbers.EligibilityResults {
		t.Helper()
		p := &hostednumbers.EligibilityParams{}
		for _, n := range numbers {
			p.PhoneNumbers = append(p.PhoneNumbers, hostednumbers.EligibilityNumber{PhoneNumber: n})
		}
		got, err := client.Eligibility.Check(ctx, p)
		require.NoError(t, err)
		return got.Results
	}
	numbers := []string{"+14155550101", "+14155550109", "+14155550103", "+14155550104"}
	for _, r := range check(numbers...) {
		assert.Equal(t, hostednumbers.EligibilityStatusEligible, r.Status, "%s has no order yet", r.PhoneNumber)
	}

	bh := create(t, client, numbersParams("+14155550101", "+14155550109", "+14155550103")).BulkHostingSID
	orders := byPhone(srv.HostedNumberOrders())
	require.NoError(t, client.HostedNumberOrders.Cancel(ctx, orders["+14155550103"].SID))

	wantIneligible := func(t *testing.T, r hostednumbers.EligibilityResult, sid string, status hostednumbers.OrderStatus) {
		t.Helper()
		assert.Equal(t, hostednumbers.EligibilityStatusIneligible, r.Status)
		assert.Equal(t, hostednumbers.EligibilitySubStatusAlreadyInTwilio, r.SubStatus)
		assert.Equal(t, hostednumberstest.ExistingOrderReason(sid, status), r.IneligibilityReason.String)
		assert.Contains(t, r.IneligibilityReason.String, sid, "the reason names the order")
		assert.Contains(t, r.IneligibilityReason.String, string(status), "and its status")
		assert.Equal(t, hostednumberstest.NextStepContactSupportInventory, r.NextStep.String)
		assert.Equal(t, hostednumbers.NullString{String: sid, Valid: true}, r.HostingOrderSID)
		assert.Equal(t, hostednumbers.NullString{String: string(status), Valid: true}, r.HostingOrderStatus)
	}

	// While received, both live orders make their numbers ineligible; the
	// canceled one does not.
	results := check(numbers...)
	r, _ := results.Find("+14155550101")
	wantIneligible(t, r, orders["+14155550101"].SID, hostednumbers.OrderStatusReceived)
	r, _ = results.Find("+14155550109")
	wantIneligible(t, r, orders["+14155550109"].SID, hostednumbers.OrderStatusReceived)
	r, _ = results.Find("+14155550103")
	assert.Equal(t, hostednumbers.EligibilityStatusEligible, r.Status, "a canceled order does not count")
	assert.False(t, r.HostingOrderSID.Valid)

	fetch(t, client, bh)
	fetch(t, client, bh) // PROCESSED: ...101 completed, ...109 failed
	results = check(numbers...)
	r, _ = results.Find("+14155550101")
	wantIneligible(t, r, orders["+14155550101"].SID, hostednumbers.OrderStatusCompleted)
	r, _ = results.Find("+14155550109")
	assert.Equal(t, hostednumbers.EligibilityStatusEligible, r.Status, "a failed order does not count")
	r, _ = results.Find("+14155550104")
	assert.Equal(t, hostednumbers.EligibilityStatusEligible, r.Status)

	// The bulk check says the same, and wins over the script.
	srv2 := newImmediateServer(t, hostednumberstest.WithEligibility(func(string) hostednumberstest.EligibilityOutcome {
		return hostednumberstest.EligibilityOutcome{Status: hostednumbers.EligibilityStatusEligible}
	}))
	c2 := srv2.Client()
	create(t, c2, numbersParams("+14155550101"))
	sid := srv2.HostedNumberOrders()[0].SID
	b, err := c2.Eligibility.CreateBulk(ctx, &hostednumbers.EligibilityParams{PhoneNumbers: []hostednumbers.EligibilityNumber{
		{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"},
	}})
	require.NoError(t, err)
	done, err := c2.Eligibility.WaitBulk(ctx, b.RequestID, nil)
	require.NoError(t, err)
	r, ok := done.Results.Find("+14155550101")
	require.True(t, ok)
	wantIneligible(t, r, sid, hostednumbers.OrderStatusReceived)
	r, _ = done.Results.Find("+14155550102")
	assert.Equal(t, hostednumbers.EligibilityStatusEligible, r.Status)
}

func TestDocumentsStartSigningAndADeleteCancelsThem(t *testing.T) {
	// Immediate: the orders stay received until fetched, so the document
	// stays unsigned until the test moves it.
	srv := newImmediateServer(t)
	client := srv.Client()
	ctx := rulesCtx(t)
	create(t, client, numbersParams("+14155550101", "+14155550102"))
	orders := srv.HostedNumberOrders()
	bulkDoc := srv.AuthorizationDocuments()[0]
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatusSigning, bulkDoc.Status, "a bulk request's document is sent for signing at once")

	// A new document for one of them: 201, signing, as Twilio's example.
	form := url.Values{"HostedNumberOrderSids": {orders[0].SID}, "AddressSid": {addressSID},
		"Email": {"owner@example.com"}, "ContactPhoneNumber": {"+14155550100"}}
	resp, body := authed(t, "POST", srv.URL+docsPath, formType, form.Encode())
	require.Equal(t, 201, resp.StatusCode, "body: %s", body)
	var doc hostednumbers.AuthorizationDocument
	require.NoError(t, json.Unmarshal(body, &doc))
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatusSigning, doc.Status)

	// Deleting it cancels it; it stays, for fetches and lists.
	resp, _ = authed(t, "DELETE", srv.URL+docsPath+"/"+doc.SID, "", "")
	require.Equal(t, 204, resp.StatusCode)
	got, err := client.AuthorizationDocuments.Fetch(ctx, doc.SID)
	require.NoError(t, err, "a deleted document can still be fetched")
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatusCanceled, got.Status)
	assert.False(t, got.DateUpdated.Time.Before(got.DateCreated.Time))
	canceled, err := client.AuthorizationDocuments.List(ctx, &hostednumbers.ListAuthorizationDocumentsParams{Status: hostednumbers.AuthorizationDocumentStatusCanceled})
	require.NoError(t, err)
	require.Len(t, canceled.Items, 1)
	assert.Equal(t, doc.SID, canceled.Items[0].SID)
	deps, err := client.AuthorizationDocuments.ListDependentOrders(ctx, doc.SID, nil)
	require.NoError(t, err)
	require.Len(t, deps.Items, 1, "a canceled document still lists its orders")
	assert.Equal(t, orders[0].SID, deps.Items[0].SID)
	order, err := client.HostedNumberOrders.Fetch(ctx, orders[0].SID)
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.OrderStatusReceived, order.Status, "what a canceled LOA does to an order is not documented: nothing")
	require.NoError(t, client.AuthorizationDocuments.Delete(ctx, doc.SID), "canceled is immutable: a second delete changes nothing")
	got, err = client.AuthorizationDocuments.Fetch(ctx, doc.SID)
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatusCanceled, got.Status)

	// A signed document cannot be deleted: Twilio's error 22107.
	bh := srv.Orders()[0].BulkHostingSID
	fetch(t, client, bh)
	fetch(t, client, bh) // PROCESSED: the second order completed, its document signed
	signed, err := client.AuthorizationDocuments.Fetch(ctx, bulkDoc.SID)
	require.NoError(t, err)
	require.Equal(t, hostednumbers.AuthorizationDocumentStatusSigned, signed.Status)
	err = client.AuthorizationDocuments.Delete(ctx, bulkDoc.SID)
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.HTTPStatus)
	assert.Equal(t, 22107, apiErr.Code)
	assert.Equal(t, "https://www.twilio.com/docs/errors/22107", apiErr.MoreInfo)
	assert.ErrorIs(t, err, hostednumbers.ErrNotApplied)
	signed, err = client.AuthorizationDocuments.Fetch(ctx, bulkDoc.SID)
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.AuthorizationDocumentStatusSigned, signed.Status, "the refused delete changed nothing")
}

func TestUpdateAcceptsWhatTwilioAccepts(t *testing.T) {
	// Immediate: the order stays received between the updates.
	srv := newImmediateServer(t)
	client := srv.Client()
	create(t, client, numbersParams("+14155550101"))
	sid := srv.HostedNumberOrders()[0].SID
	// VerificationCallExtension is a string without a pattern in Twilio's
	// definition: * and # (and a pause, w) are accepted.
	for _, ext := range []string{"12*#", "#", "*9", "w123"} {
		resp, body := authed(t, "POST", srv.URL+ordersPath+"/"+sid, formType,
			url.Values{"Status": {"pending-verification"}, "VerificationCallExtension": {ext}}.Encode())
		require.Equal(t, 200, resp.StatusCode, "%s: %s", ext, body)
		var got hostednumbers.HostedNumberOrder
		require.NoError(t, json.Unmarshal(body, &got))
		assert.Equal(t, ext, got.VerificationCallExtension.String)
	}
	got, err := client.HostedNumberOrders.Update(rulesCtx(t), sid, &hostednumbers.UpdateHostedNumberOrderParams{
		Status: hostednumbers.OrderStatusPendingVerification, VerificationCallExtension: "0*1#",
	})
	require.NoError(t, err)
	assert.Equal(t, "0*1#", got.VerificationCallExtension.String)
}

func TestUpdateOfAFinishedOrderIsRefusedWith22112(t *testing.T) {
	// Immediate: two fetches finish the orders.
	srv := newImmediateServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	bh := create(t, client, numbersParams("+14155550101", "+14155550109")).BulkHostingSID
	fetch(t, client, bh)
	fetch(t, client, bh)
	for phone, o := range byPhone(srv.HostedNumberOrders()) {
		_, err := client.HostedNumberOrders.Update(rulesCtx(t), o.SID, &hostednumbers.UpdateHostedNumberOrderParams{
			Status: hostednumbers.OrderStatusPendingVerification,
		})
		var apiErr *hostednumbers.APIError
		require.ErrorAs(t, err, &apiErr, phone)
		assert.Equal(t, 400, apiErr.HTTPStatus, phone)
		assert.Equal(t, 22112, apiErr.Code, phone)
		assert.Contains(t, apiErr.Message, o.SID)
		assert.ErrorIs(t, err, hostednumbers.ErrNotApplied)
		after := byPhone(srv.HostedNumberOrders())[phone]
		assert.Equal(t, o.Status, after.Status, "%s: the refused update changed nothing", phone)
		assert.Zero(t, after.VerificationAttempts, phone)
	}
}

func TestDocumentCreateNamingAnUnknownOrderIsRefusedWith22101(t *testing.T) {
	srv := newServer(t)
	form := url.Values{"HostedNumberOrderSids": {unknownHR}, "AddressSid": {addressSID},
		"Email": {"owner@example.com"}, "ContactPhoneNumber": {"+14155550100"}}
	resp, body := authed(t, "POST", srv.URL+docsPath, formType, form.Encode())
	require.Equal(t, 400, resp.StatusCode)
	doc := decodeError(t, body)
	assert.Equal(t, 22101, doc.Code)
	assert.Equal(t, "HostedNumberOrderSids", doc.Details["field"])
	assert.Empty(t, srv.AuthorizationDocuments())
}

func TestFormCreatesCheckWhatTwilioDefines(t *testing.T) {
	valid := func() url.Values {
		return url.Values{"PhoneNumber": {"+14155550101"}, "ContactPhoneNumber": {"+14155550100"},
			"AddressSid": {addressSID}, "Email": {"owner@example.com"}}
	}
	with := func(k, v string) url.Values {
		f := valid()
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantFields []string
	}{
		{"valid", valid(), 201, nil},
		// Twilio gives Email, CcEmails and ContactTitle no format.
		{"e-mail without a format", with("Email", "owner"), 201, nil},
		{"cc e-mail without a format", with("CcEmails", "cc"), 201, nil},
		{"long contact title", with("ContactTitle", string(make([]byte, 300))), 201, nil},
		{"sms capability false", with("SmsCapability", "false"), 201, nil},
		{"everything required missing", url.Values{}, 400, []string{"PhoneNumber", "ContactPhoneNumber", "AddressSid", "Email"}},
		{"phone number not E.164", with("PhoneNumber", "4155550101"), 400, []string{"PhoneNumber"}},
		{"address SID pattern", with("AddressSid", "AD1"), 400, []string{"AddressSid"}},
		{"account SID pattern", with("AccountSid", "AC1"), 400, []string{"AccountSid"}},
		{"sms method outside its enum", with("SmsMethod", "PUT"), 400, []string{"SmsMethod"}},
		{"sms url not a URI", with("SmsUrl", "no scheme"), 400, []string{"SmsUrl"}},
		{"sms capability not a boolean", with("SmsCapability", "maybe"), 400, []string{"SmsCapability"}},
		{"friendly name over 128 characters", with("FriendlyName", fmt.Sprintf("%0129d", 0)), 400, []string{"FriendlyName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			resp, body := authed(t, "POST", srv.URL+ordersPath, formType, tt.form.Encode())
			require.Equal(t, tt.wantStatus, resp.StatusCode, "body: %s", body)
			if tt.wantStatus != 400 {
				return
			}
			doc := decodeError(t, body)
			assert.Equal(t, 20001, doc.Code)
			problems, _ := doc.Details["problems"].([]any)
			var fields []string
			for _, p := range problems {
				fields = append(fields, p.(map[string]any)["field"].(string))
			}
			assert.Equal(t, tt.wantFields, fields)
		})
	}
}

func TestFaultBodiesCarryOnlyDocumentedCodes(t *testing.T) {
	tests := []struct {
		status   int
		wantCode int
	}{
		{400, 20001}, {401, 20003}, {404, 20404}, {429, 20429},
		{403, 0}, {409, 0}, {500, 0}, {502, 0}, {503, 0}, {504, 0},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := newServer(t)
			srv.InjectFault(hostednumberstest.Fault{Status: tt.status})
			resp, body := authed(t, "GET", srv.URL+bulkPath+"/"+unknownSID, "", "")
			require.Equal(t, tt.status, resp.StatusCode)
			doc := decodeError(t, body)
			assert.Equal(t, tt.wantCode, doc.Code)
			assert.Equal(t, tt.status, doc.Status)
			assert.Equal(t, http.StatusText(tt.status), doc.Message)
			if tt.wantCode == 0 {
				assert.Empty(t, doc.MoreInfo)
				assert.NotContains(t, string(body), `"code"`)
			} else {
				assert.Equal(t, fmt.Sprintf("https://www.twilio.com/docs/errors/%d", tt.wantCode), doc.MoreInfo)
			}
			// The kit's ErrorJSON renders the same document.
			assert.JSONEq(t, string(body), string(hostednumberstest.ErrorJSON(tt.status, tt.wantCode, http.StatusText(tt.status))))
		})
	}
}

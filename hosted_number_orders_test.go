package hostednumbers_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

const rsOrderSID = "HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// rsHostileSIDs are SIDs that must never reach a URL.
var rsHostileSIDs = map[string]string{
	"empty":           "",
	"wrong prefix":    "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"path traversal":  "HR../../Accounts/AC0123456789abcd",
	"query injection": "HRaaaaaaaaaaaaaaaaaaaaaaaaaaaa?x=1",
	"encoded slash":   "HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%2F",
	"too short":       "HRaaaa",
	"lower-case":      "hraaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
}

func rsRequireValidation(t *testing.T, err error, fields ...string) *hn.ValidationError {
	t.Helper()
	require.ErrorIs(t, err, hn.ErrInvalidInput)
	var ve *hn.ValidationError
	require.ErrorAs(t, err, &ve)
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Field)
		assert.NotEmpty(t, p.Message)
	}
	assert.ElementsMatch(t, fields, got, "fields named: %v", ve)
	return ve
}

func TestHostedNumberOrders_FetchDecodesTheSpecExampleFieldByField(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsFixture(t, "FetchHostedNumberOrder_200_fetch.json"))
	})

	o, err := client.HostedNumberOrders.Fetch(rsCtx(t), rsOrderSID)
	require.NoError(t, err)

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodGet, reqs[0].Method)
	assert.Equal(t, "/v2/HostedNumber/Orders/"+rsOrderSID, reqs[0].Path)
	created := time.Date(2017, 3, 28, 20, 6, 39, 0, time.UTC)
	assert.Equal(t, hn.HostedNumberOrder{
		SID:                       rsOrderSID,
		AccountSID:                "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		IncomingPhoneNumberSID:    hn.NullString{String: "PN11111111111111111111111111111111", Valid: true},
		AddressSID:                hn.NullString{String: "AD11111111111111111111111111111111", Valid: true},
		SigningDocumentSID:        hn.NullString{String: "PX11111111111111111111111111111111", Valid: true},
		PhoneNumber:               "+14153608311",
		Capabilities:              hn.Capabilities{SMS: true},
		FriendlyName:              hn.NullString{String: "friendly_name", Valid: true},
		Status:                    hn.OrderStatusReceived,
		FailureReason:             hn.NullString{String: "", Valid: true},
		DateCreated:               hn.NullTime{Time: created, Valid: true},
		DateUpdated:               hn.NullTime{Time: created, Valid: true},
		Email:                     hn.NullString{String: "test@twilio.com", Valid: true},
		CCEmails:                  []string{"aaa@twilio.com", "bbb@twilio.com"},
		URL:                       hn.NullString{String: "https://numbers.twilio.com/v2/HostedNumber/Orders/" + rsOrderSID, Valid: true},
		ContactTitle:              hn.NullString{String: "contact_title_test", Valid: true},
		ContactPhoneNumber:        hn.NullString{String: "+12344444444", Valid: true},
		BulkHostingRequestSID:     hn.NullString{String: "BH11111111111111111111111111111111", Valid: true},
		NextStep:                  hn.NullString{String: "next_step", Valid: true},
		VerificationAttempts:      0,
		VerificationCallSIDs:      []string{},
		VerificationCallDelay:     0,
		VerificationCallExtension: hn.NullString{},
		VerificationCode:          hn.NullString{},
		VerificationType:          hn.VerificationTypePhoneCall,
		LastResponse:              o.LastResponse,
	}, *o)
	require.NotNil(t, o.LastResponse)
	assert.Equal(t, 200, o.LastResponse.StatusCode)
	assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", o.LastResponse.RequestID)
}

func TestHostedNumberOrders_ListDecodesTheSpecExamples(t *testing.T) {
	full, _ := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsFixture(t, "ListHostedNumberOrder_200_readFull.json"))
	})
	client := rsClient(t, full.URL)
	page, err := client.HostedNumberOrders.List(rsCtx(t), nil)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	o := page.Items[0]
	assert.Equal(t, rsOrderSID, o.SID)
	assert.Equal(t, hn.OrderStatusReceived, o.Status)
	assert.Equal(t, "BH11111111111111111111111111111111", o.BulkHostingRequestSID.String)
	assert.Equal(t, "PX11111111111111111111111111111111", o.SigningDocumentSID.String)
	assert.Equal(t, hn.Capabilities{SMS: true}, o.Capabilities)
	assert.Same(t, page.LastResponse, o.LastResponse)
	assert.Equal(t, hn.PageMeta{
		FirstPageURL: "https://numbers.twilio.com/v2/HostedNumber/Orders?PageSize=50&Page=0",
		Key:          "items",
		PageSize:     50,
		URL:          "https://numbers.twilio.com/v2/HostedNumber/Orders?PageSize=50&Page=0",
	}, page.Meta)
	assert.False(t, page.HasNext())

	_, emptyClient := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsFixture(t, "ListHostedNumberOrder_200_readEmpty.json"))
	})
	n := 0
	for _, err := range emptyClient.HostedNumberOrders.All(rsCtx(t), nil) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
}

func TestHostedNumberOrders_ListSendsEveryFilterWithItsAPIName(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsFixture(t, "ListHostedNumberOrder_200_readEmpty.json"))
	})
	no := false
	_, err := client.HostedNumberOrders.List(rsCtx(t), &hn.ListHostedNumberOrdersParams{
		Status:                 "pending_loa",
		SMSCapability:          &no,
		PhoneNumber:            "+19193608000",
		IncomingPhoneNumberSID: "PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		FriendlyName:           "spring & summer",
		PageSize:               1000,
	})
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	q, err := url.ParseQuery(reqs[0].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"Status":                 {"pending-loa"},
		"SmsCapability":          {"false"},
		"PhoneNumber":            {"+19193608000"},
		"IncomingPhoneNumberSid": {"PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"FriendlyName":           {"spring & summer"},
		"PageSize":               {"1000"},
	}, q)
	assert.Contains(t, reqs[0].RawQuery, "PhoneNumber=%2B19193608000", "the plus sign is escaped, not sent as a space")

	_, err = client.HostedNumberOrders.List(rsCtx(t), &hn.ListHostedNumberOrdersParams{})
	require.NoError(t, err)
	assert.Empty(t, srv.requests()[1].RawQuery, "unset filters are not sent")
}

func TestHostedNumberOrders_InvalidInputNamesTheFieldAndSendsNothing(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 500, nil) })
	ctx := rsCtx(t)
	delay := func(n int) *int { return &n }

	listCases := []struct {
		name   string
		params hn.ListHostedNumberOrdersParams
		fields []string
	}{
		{"unknown status", hn.ListHostedNumberOrdersParams{Status: "done"}, []string{"status"}},
		{"phone number not E.164", hn.ListHostedNumberOrdersParams{PhoneNumber: "4155550101"}, []string{"phone_number"}},
		{"phone number with spaces", hn.ListHostedNumberOrdersParams{PhoneNumber: "+1 415 555 0101"}, []string{"phone_number"}},
		{"incoming SID of another kind", hn.ListHostedNumberOrdersParams{IncomingPhoneNumberSID: rsOrderSID}, []string{"incoming_phone_number_sid"}},
		{"friendly name too long", hn.ListHostedNumberOrdersParams{FriendlyName: strings.Repeat("é", 129)}, []string{"friendly_name"}},
		{"page size zero is the default but negative is not", hn.ListHostedNumberOrdersParams{PageSize: -1}, []string{"page_size"}},
		{"page size above 1000", hn.ListHostedNumberOrdersParams{PageSize: 1001}, []string{"page_size"}},
		{"every problem at once", hn.ListHostedNumberOrdersParams{Status: "x", PhoneNumber: "x", IncomingPhoneNumberSID: "x", FriendlyName: strings.Repeat("a", 200), PageSize: 5000},
			[]string{"status", "phone_number", "incoming_phone_number_sid", "friendly_name", "page_size"}},
	}
	for _, tc := range listCases {
		t.Run("list/"+tc.name, func(t *testing.T) {
			_, err := client.HostedNumberOrders.List(ctx, &tc.params)
			_ = rsRequireValidation(t, err, tc.fields...)
			assert.Contains(t, err.Error(), "hostednumbers: list hosted number orders: ")
			for _, err := range client.HostedNumberOrders.All(ctx, &tc.params) {
				_ = rsRequireValidation(t, err, tc.fields...)
			}
		})
	}
	for name, sid := range rsHostileSIDs {
		t.Run("sid/"+name, func(t *testing.T) {
			_, err := client.HostedNumberOrders.Fetch(ctx, sid)
			_ = rsRequireValidation(t, err, "sid")
			err = client.HostedNumberOrders.Cancel(ctx, sid)
			_ = rsRequireValidation(t, err, "sid")
			assert.ErrorIs(t, err, hn.ErrNotApplied)
			_, err = client.HostedNumberOrders.Update(ctx, sid, &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification})
			_ = rsRequireValidation(t, err, "sid")
			assert.ErrorIs(t, err, hn.ErrNotApplied)
		})
	}
	updateCases := []struct {
		name   string
		params *hn.UpdateHostedNumberOrderParams
		fields []string
	}{
		{"nil params", nil, []string{"status"}},
		{"no status", &hn.UpdateHostedNumberOrderParams{VerificationCallDelay: delay(5)}, []string{"status"}},
		{"unknown status", &hn.UpdateHostedNumberOrderParams{Status: "approved"}, []string{"status"}},
		{"delay above 60", &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification, VerificationCallDelay: delay(61)}, []string{"verification_call_delay"}},
		{"negative delay", &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification, VerificationCallDelay: delay(-1)}, []string{"verification_call_delay"}},
		{"extension with letters", &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification, VerificationCallExtension: "12a"}, []string{"verification_call_extension"}},
		{"extension injecting a field", &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification, VerificationCallExtension: "1&Status=completed"}, []string{"verification_call_extension"}},
	}
	for _, tc := range updateCases {
		t.Run("update/"+tc.name, func(t *testing.T) {
			_, err := client.HostedNumberOrders.Update(ctx, rsOrderSID, tc.params)
			_ = rsRequireValidation(t, err, tc.fields...)
		})
	}
	t.Run("update/sid and params together", func(t *testing.T) {
		_, err := client.HostedNumberOrders.Update(ctx, "HR1", &hn.UpdateHostedNumberOrderParams{Status: "x", VerificationCallDelay: delay(99)})
		_ = rsRequireValidation(t, err, "sid", "status", "verification_call_delay")
	})
	assert.Zero(t, srv.count(), "no invalid input reaches the network")
}

func TestHostedNumberOrders_BoundaryInputIsAccepted(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			rsJSON(w, 200, rsFixture(t, "UpdateHostedNumberOrder_200_updateStatus.json"))
			return
		}
		rsJSON(w, 200, rsFixture(t, "ListHostedNumberOrder_200_readEmpty.json"))
	})
	ctx := rsCtx(t)
	for _, p := range []hn.ListHostedNumberOrdersParams{
		{PageSize: 1}, {PageSize: 1000}, {FriendlyName: strings.Repeat("é", 128)}, {PhoneNumber: "+1"},
		{Status: hn.OrderStatusTwilioProcessing}, {Status: "PENDING-LOA"},
	} {
		_, err := client.HostedNumberOrders.List(ctx, &p)
		assert.NoError(t, err, "%+v", p)
	}
	for _, d := range []int{0, 60} {
		_, err := client.HostedNumberOrders.Update(ctx, rsOrderSID, &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification, VerificationCallDelay: &d, VerificationCallExtension: "12*#"})
		assert.NoError(t, err)
	}
	assert.Equal(t, 8, srv.count())
}

func TestHostedNumberOrders_UpdateSendsTheFormTheAPIDefines(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, rsFixture(t, "UpdateHostedNumberOrder_200_updateStatus.json"))
	})
	delay := 15
	o, err := client.HostedNumberOrders.Update(rsCtx(t), rsOrderSID, &hn.UpdateHostedNumberOrderParams{
		Status:                    hn.OrderStatusPendingVerification,
		VerificationCallDelay:     &delay,
		VerificationCallExtension: "789",
	})
	require.NoError(t, err)

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/v2/HostedNumber/Orders/"+rsOrderSID, reqs[0].Path)
	assert.Equal(t, "application/x-www-form-urlencoded", reqs[0].Header.Get("Content-Type"))
	form, err := url.ParseQuery(reqs[0].Body)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"Status": {"pending-verification"}, "VerificationCallDelay": {"15"}, "VerificationCallExtension": {"789"}}, form)

	assert.Equal(t, hn.OrderStatusPendingVerification, o.Status)
	assert.Equal(t, 15, o.VerificationCallDelay)
	assert.Equal(t, hn.NullString{String: "789", Valid: true}, o.VerificationCallExtension)
	assert.Equal(t, hn.NullString{String: "567890", Valid: true}, o.VerificationCode)
	assert.Equal(t, 1, o.VerificationAttempts)
	assert.Equal(t, hn.Capabilities{SMS: true, MMS: true}, o.Capabilities)
	assert.Equal(t, 200, o.LastResponse.StatusCode)

	// Only what was set is sent; a delay of zero, when set, is sent.
	zero := 0
	_, err = client.HostedNumberOrders.Update(rsCtx(t), rsOrderSID, &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification})
	require.NoError(t, err)
	_, err = client.HostedNumberOrders.Update(rsCtx(t), rsOrderSID, &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification, VerificationCallDelay: &zero})
	require.NoError(t, err)
	reqs = srv.requests()
	assert.Equal(t, "Status=pending-verification", reqs[1].Body)
	assert.Equal(t, "Status=pending-verification&VerificationCallDelay=0", reqs[2].Body)
}

func TestHostedNumberOrders_CancelSendsDeleteAndAccepts204(t *testing.T) {
	srv, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	require.NoError(t, client.HostedNumberOrders.Cancel(rsCtx(t), rsOrderSID))
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodDelete, reqs[0].Method)
	assert.Equal(t, "/v2/HostedNumber/Orders/"+rsOrderSID, reqs[0].Path)
	assert.Empty(t, reqs[0].Body)
}

func TestHostedNumberOrders_CancelRefusalIsATypedAPIError(t *testing.T) {
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 400, []byte(`{"code":21422,"message":"Hosted number order can only be cancelled in status received","more_info":"https://www.twilio.com/docs/errors/21422","status":400}`))
	})
	err := client.HostedNumberOrders.Cancel(rsCtx(t), rsOrderSID)
	var apiErr *hn.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.HTTPStatus)
	assert.Equal(t, 21422, apiErr.Code)
	assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", apiErr.RequestID)
	assert.Contains(t, err.Error(), "hostednumbers: cancel hosted number order "+rsOrderSID+": 400 Bad Request (code 21422)")
	assert.False(t, errors.Is(err, hn.ErrNotFound))
	assert.ErrorIs(t, err, hn.ErrNotApplied, "a refusal changed nothing")
	assert.False(t, errors.Is(err, hn.ErrOutcomeUnknown))
}

func TestHostedNumberOrders_CancelWhoseAnswerIsLostHasAnUnknownOutcome(t *testing.T) {
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 500, []byte(`{"code":20500,"message":"internal","status":500}`))
	}, hn.WithMaxRetries(0))
	err := client.HostedNumberOrders.Cancel(rsCtx(t), rsOrderSID)
	assert.ErrorIs(t, err, hn.ErrOutcomeUnknown)
	assert.ErrorIs(t, err, hn.ErrServer)
}

func TestHostedNumberOrders_FetchMissingOrderMatchesErrNotFound(t *testing.T) {
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 404, []byte(`{"code":20404,"message":"not found","status":404}`))
	})
	_, err := client.HostedNumberOrders.Fetch(rsCtx(t), rsOrderSID)
	assert.ErrorIs(t, err, hn.ErrNotFound)
	assert.Contains(t, err.Error(), "hostednumbers: fetch hosted number order "+rsOrderSID+": 404")
}

func TestHostedNumberOrders_StatusesDecodeInEverySpellingAndUnknownOnesAreKept(t *testing.T) {
	cases := []struct {
		raw   any
		want  hn.OrderStatus
		known bool
	}{
		{"pending-loa", hn.OrderStatusPendingLOA, true},
		{"pending_loa", hn.OrderStatusPendingLOA, true},
		{"action-required", hn.OrderStatusActionRequired, true},
		{"awaiting-porting", "awaiting-porting", false},
		{nil, "", false},
	}
	for _, tc := range cases {
		body, err := json.Marshal(rsOrderItem(t, rsOrderSID, "+14155550101", map[string]any{"status": tc.raw, "verification_type": "phone-bill"}))
		require.NoError(t, err)
		_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 200, body) })
		o, err := client.HostedNumberOrders.Fetch(rsCtx(t), rsOrderSID)
		require.NoError(t, err, "status %v", tc.raw)
		assert.Equal(t, tc.want, o.Status)
		assert.Equal(t, tc.known, o.Status.Known())
		assert.Equal(t, hn.VerificationType("phone-bill"), o.VerificationType, "unknown verification types are kept")
	}
}

func TestHostedNumberOrders_NullMembersDecodeAsNotValid(t *testing.T) {
	body, err := json.Marshal(map[string]any{
		"sid": rsOrderSID, "status": "received", "capabilities": nil, "cc_emails": nil, "date_created": nil,
		"bulk_hosting_request_sid": nil, "signing_document_sid": nil, "email": nil, "date_updated": "Tue, 28 Mar 2017 20:06:39 +0000",
	})
	require.NoError(t, err)
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) { rsJSON(w, 200, body) })
	o, err := client.HostedNumberOrders.Fetch(rsCtx(t), rsOrderSID)
	require.NoError(t, err)
	assert.Equal(t, hn.Capabilities{}, o.Capabilities)
	assert.Nil(t, o.CCEmails)
	assert.False(t, o.DateCreated.Valid)
	assert.False(t, o.BulkHostingRequestSID.Valid)
	assert.False(t, o.SigningDocumentSID.Valid)
	assert.False(t, o.Email.Valid)
	assert.Equal(t, time.Date(2017, 3, 28, 20, 6, 39, 0, time.UTC), o.DateUpdated.Time.UTC(), "RFC 2822 dates are accepted")
}

func TestHostedNumberOrders_FetchWithUnusableBodyIsADecodeError(t *testing.T) {
	_, client := rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, []byte(`{"sid":"HR-not-a-sid","status":"received"}`))
	})
	_, err := client.HostedNumberOrders.Fetch(rsCtx(t), rsOrderSID)
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "hosted number order sid")
}

// The services can be replaced by a mock through their interfaces.
var (
	_ hn.HostedNumberOrdersAPI     = (*hn.HostedNumberOrdersService)(nil)
	_ hn.AuthorizationDocumentsAPI = (*hn.AuthorizationDocumentsService)(nil)
)

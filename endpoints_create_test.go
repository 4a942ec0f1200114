package hostednumbers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// epRequest is one request an endpoint test server received.
type epRequest struct {
	method, path, contentType string
	form                      url.Values
}

// epServer answers every request with status and body, and records it.
type epServer struct {
	mu       sync.Mutex
	requests []epRequest
	status   int
	body     []byte
}

func (s *epServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(raw))
	s.mu.Lock()
	s.requests = append(s.requests, epRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"), form})
	status, body := s.status, s.body
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *epServer) got() []epRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]epRequest(nil), s.requests...)
}

func newEPServer(t *testing.T, status int, body []byte) (*epServer, *hn.Client) {
	t.Helper()
	s := &epServer{status: status, body: body}
	return s, loopbackClient(t, s)
}

func epFixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile("testdata/spec-examples/" + name)
	require.NoError(t, err)
	return b
}

func validHROrder() *hn.CreateHostedNumberOrderParams {
	return &hn.CreateHostedNumberOrderParams{
		PhoneNumber: "+14153608311", ContactPhoneNumber: "+12344444444",
		AddressSID: "AD11111111111111111111111111111111", Email: "test@twilio.com",
		CCEmails: []string{"a@example.com", "b@example.com"}, SMSCapability: hn.Bool(true),
		StatusCallbackURL: "https://hooks.example.com/s", StatusCallbackMethod: "POST",
	}
}

func TestHostedNumberOrders_CreateSendsTheFormAndDecodesTheOrder(t *testing.T) {
	s, client := newEPServer(t, http.StatusCreated, epFixture(t, "CreateHostedNumberOrder_201_createWithoutOptionalLoaFields.json"))
	o, err := client.HostedNumberOrders.Create(ruleCtx(t), validHROrder())
	require.NoError(t, err)
	assert.Equal(t, "HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", o.SID)
	assert.Equal(t, hn.OrderStatusReceived, o.Status)
	assert.Equal(t, "BH11111111111111111111111111111111", o.BulkHostingRequestSID.String)
	require.NotNil(t, o.LastResponse)
	assert.Equal(t, http.StatusCreated, o.LastResponse.StatusCode)

	reqs := s.got()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].method)
	assert.Equal(t, "/v2/HostedNumber/Orders", reqs[0].path)
	assert.Equal(t, "application/x-www-form-urlencoded", reqs[0].contentType)
	assert.Equal(t, url.Values{
		"PhoneNumber": {"+14153608311"}, "ContactPhoneNumber": {"+12344444444"},
		"AddressSid": {"AD11111111111111111111111111111111"}, "Email": {"test@twilio.com"},
		"CcEmails": {"a@example.com", "b@example.com"}, "SmsCapability": {"true"},
		"StatusCallbackUrl": {"https://hooks.example.com/s"}, "StatusCallbackMethod": {"POST"},
	}, reqs[0].form, "only what was set, with the API's names")
}

func TestHostedNumberOrders_CreateValidatesEveryFieldBeforeSending(t *testing.T) {
	s, client := newEPServer(t, http.StatusCreated, nil)
	bad := &hn.CreateHostedNumberOrderParams{
		PhoneNumber: "4155550101", ContactPhoneNumber: "", AddressSID: "ADnope", Email: "not-an-email",
		AccountSID: "SK11111111111111111111111111111111", CCEmails: []string{"", "x"},
		SMSURL: "ftp://x", SMSMethod: "PUT", SMSFallbackURL: "/relative", SMSFallbackMethod: "DELETE",
		SMSApplicationSID: "AP1", StatusCallbackURL: "::", StatusCallbackMethod: "get",
	}
	_, err := client.HostedNumberOrders.Create(ruleCtx(t), bad)
	require.ErrorIs(t, err, hn.ErrInvalidInput)
	require.ErrorIs(t, err, hn.ErrNotApplied)
	var ve *hn.ValidationError
	require.ErrorAs(t, err, &ve)
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	assert.ElementsMatch(t, []string{
		"phone_number", "contact_phone_number", "address_sid", "email", "account_sid", "cc_emails[0]", "cc_emails[1]",
		"sms_url", "sms_method", "sms_fallback_url", "sms_fallback_method", "sms_application_sid",
		"status_callback_url", "status_callback_method",
	}, fields)

	_, err = client.HostedNumberOrders.Create(ruleCtx(t), nil)
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.Problems, 4, "the four required fields")
	assert.Empty(t, s.got(), "nothing is sent")
}

func TestCreates_OutcomeLabelsAndAtMostOneSend(t *testing.T) {
	calls := map[string]func(*hn.Client) error{
		"hosted number order": func(c *hn.Client) error {
			_, err := c.HostedNumberOrders.Create(context.Background(), validHROrder())
			return err
		},
		"authorization document": func(c *hn.Client) error {
			_, err := c.AuthorizationDocuments.Create(context.Background(), validLOA())
			return err
		},
		"delete authorization document": func(c *hn.Client) error {
			return c.AuthorizationDocuments.Delete(context.Background(), "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			s, client := newEPServer(t, http.StatusBadRequest, []byte(`{"code":21211,"message":"Invalid","status":400}`))
			err := call(client)
			require.ErrorIs(t, err, hn.ErrNotApplied, "a 400 is a refusal")
			assert.False(t, errors.Is(err, hn.ErrOutcomeUnknown))
			assert.Len(t, s.got(), 1)

			s, client = newEPServer(t, http.StatusInternalServerError, []byte(`{"code":20500,"message":"Internal","status":500}`))
			err = call(client)
			require.ErrorIs(t, err, hn.ErrOutcomeUnknown, "a 5xx may have been processed")
			require.ErrorIs(t, err, hn.ErrServer)
			assert.Len(t, s.got(), 1, "never resent after a 5xx")
		})
	}
}

func validLOA() *hn.CreateAuthorizationDocumentParams {
	return &hn.CreateAuthorizationDocumentParams{
		HostedNumberOrderSIDs: []string{"HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "HRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		AddressSID:            "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		Email:                 "test+hosted@twilio.com",
		ContactPhoneNumber:    "+14155550100",
		ContactTitle:          "Head of Telecom",
		CCEmails:              []string{"test1@twilio.com"},
	}
}

func TestAuthorizationDocuments_CreateSendsTheFormAndDecodesTheDocument(t *testing.T) {
	s, client := newEPServer(t, http.StatusCreated, epFixture(t, "CreateAuthorizationDocument_201_create.json"))
	d, err := client.AuthorizationDocuments.Create(ruleCtx(t), validLOA())
	require.NoError(t, err)
	assert.Equal(t, "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", d.SID)
	assert.Equal(t, hn.AuthorizationDocumentStatusSigning, d.Status)
	assert.Equal(t, []string{"test1@twilio.com", "test2@twilio.com"}, d.CCEmails)
	require.NotNil(t, d.LastResponse)

	reqs := s.got()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/v2/HostedNumber/AuthorizationDocuments", reqs[0].path)
	assert.Equal(t, url.Values{
		"HostedNumberOrderSids": {"HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "HRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		"AddressSid":            {"ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "Email": {"test+hosted@twilio.com"},
		"ContactPhoneNumber": {"+14155550100"}, "ContactTitle": {"Head of Telecom"}, "CcEmails": {"test1@twilio.com"},
	}, reqs[0].form)
}

func TestAuthorizationDocuments_CreateValidatesBeforeSending(t *testing.T) {
	s, client := newEPServer(t, http.StatusCreated, nil)
	_, err := client.AuthorizationDocuments.Create(ruleCtx(t), &hn.CreateAuthorizationDocumentParams{
		HostedNumberOrderSIDs: []string{"HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", "HRAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		AddressSID:            "AD", Email: "", ContactPhoneNumber: "+0123", CCEmails: []string{"nope"},
	})
	var ve *hn.ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, hn.ErrNotApplied)
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	assert.ElementsMatch(t, []string{
		"hosted_number_order_sids[1]", "hosted_number_order_sids[2]", "hosted_number_order_sids[3]",
		"address_sid", "email", "contact_phone_number", "cc_emails[0]",
	}, fields)
	fe, ok := ve.Field("hosted_number_order_sids[2]")
	require.True(t, ok)
	assert.Contains(t, fe.Message, "listed twice", "a SID in upper-case hex is the same order")

	_, err = client.AuthorizationDocuments.Create(ruleCtx(t), &hn.CreateAuthorizationDocumentParams{})
	require.ErrorAs(t, err, &ve)
	_, ok = ve.Field("hosted_number_order_sids")
	assert.True(t, ok)
	_, err = client.AuthorizationDocuments.Create(ruleCtx(t), nil)
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.Problems, 4)
	assert.Empty(t, s.got())
}

func TestAuthorizationDocuments_Delete(t *testing.T) {
	s, client := newEPServer(t, http.StatusNoContent, nil)
	require.NoError(t, client.AuthorizationDocuments.Delete(ruleCtx(t), "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
	reqs := s.got()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodDelete, reqs[0].method)
	assert.Equal(t, "/v2/HostedNumber/AuthorizationDocuments/PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", reqs[0].path)

	for _, bad := range []string{"", "PX../../Accounts", "HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?x=1"} {
		err := client.AuthorizationDocuments.Delete(ruleCtx(t), bad)
		require.ErrorIs(t, err, hn.ErrInvalidInput, bad)
		require.ErrorIs(t, err, hn.ErrNotApplied, bad)
	}
	assert.Len(t, s.got(), 1, "a bad SID never reaches a URL")

	_, client = newEPServer(t, http.StatusNotFound, []byte(`{"code":20404,"message":"not found","status":404}`))
	err := client.AuthorizationDocuments.Delete(ruleCtx(t), "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	require.ErrorIs(t, err, hn.ErrNotFound)
	require.ErrorIs(t, err, hn.ErrNotApplied)
}

// TestFake_NewEndpointsEndToEnd runs the three endpoints through the client
// against the fake: a number hosted on its own moves on by the server's
// clock, a failed LOA is replaced by a new one for the same orders, and a
// deleted document is canceled, as Twilio's DELETE ("Cancel the
// AuthorizationDocument request") leaves it.
func TestFake_NewEndpointsEndToEnd(t *testing.T) {
	// Hosting lasts an hour: the orders wait for their LOA (pending-loa)
	// throughout, so the document stays signing and can be canceled (a
	// signed one cannot).
	srv := hostednumberstest.NewServer(hostednumberstest.WithHostingDuration(time.Hour))
	defer srv.Close()
	client := srv.Client()
	ctx := ruleCtx(t)

	single, err := client.HostedNumberOrders.Create(ctx, validHROrder())
	require.NoError(t, err)
	assert.Equal(t, hn.OrderStatusReceived, single.Status)
	assert.False(t, single.BulkHostingRequestSID.Valid, "made on its own, outside a bulk request")
	assert.Equal(t, "+14153608311", single.PhoneNumber)
	assert.Equal(t, []string{"a@example.com", "b@example.com"}, single.CCEmails)

	// A bulk request's numbers, and a new LOA for two of them.
	bulk, err := client.BulkHostedNumberOrders.Create(ctx, &hn.CreateBulkHostedNumberOrderParams{RequestItems: []hn.RequestItem{{
		Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
		Numbers: []hn.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}},
	}}})
	require.NoError(t, err)
	_, err = client.BulkHostedNumberOrders.Wait(ctx, bulk.BulkHostingSID, nil)
	require.NoError(t, err)
	var sids []string
	for _, o := range srv.HostedNumberOrders() {
		if o.BulkHostingRequestSID.String == bulk.BulkHostingSID {
			sids = append(sids, o.SID)
		}
	}
	require.Len(t, sids, 2)
	loa := validLOA()
	loa.HostedNumberOrderSIDs = append(sids, single.SID)
	doc, err := client.AuthorizationDocuments.Create(ctx, loa)
	require.NoError(t, err)
	assert.Equal(t, "test+hosted@twilio.com", doc.Email.String)
	var deps []string
	for o, err := range client.AuthorizationDocuments.AllDependentOrders(ctx, doc.SID, nil) {
		require.NoError(t, err)
		deps = append(deps, o.SID)
	}
	assert.ElementsMatch(t, loa.HostedNumberOrderSIDs, deps, "the new document holds the orders named")
	fetched, err := client.HostedNumberOrders.Fetch(ctx, single.SID)
	require.NoError(t, err)
	assert.Equal(t, doc.SID, fetched.SigningDocumentSID.String)

	// An order that does not exist is refused, typed, and nothing is made.
	loa.HostedNumberOrderSIDs = []string{"HR" + "ffffffffffffffffffffffffffffffff"}
	_, err = client.AuthorizationDocuments.Create(ctx, loa)
	var apiErr *hn.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.HTTPStatus)
	require.ErrorIs(t, err, hn.ErrNotApplied)

	require.NoError(t, client.AuthorizationDocuments.Delete(ctx, doc.SID))
	canceled, err := client.AuthorizationDocuments.Fetch(ctx, doc.SID)
	require.NoError(t, err, "a deleted document stays, canceled")
	assert.Equal(t, hn.AuthorizationDocumentStatusCanceled, canceled.Status)
	fetched, err = client.HostedNumberOrders.Fetch(ctx, single.SID)
	require.NoError(t, err)
	assert.Equal(t, doc.SID, fetched.SigningDocumentSID.String, "its orders still name it until a new one is made")
	require.NoError(t, client.AuthorizationDocuments.Delete(ctx, doc.SID), "a canceled document is immutable: deleting it again changes nothing")

	// The single order moves on with the server's clock, as a bulk
	// request's orders do.
	for {
		o, err := client.HostedNumberOrders.Fetch(ctx, single.SID)
		require.NoError(t, err)
		if o.Status == hn.OrderStatusPendingLOA {
			break
		}
		require.NoError(t, ctx.Err(), "the single order never moved on; last status %s", o.Status)
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSMSCapability_SendsTrueFalseOrNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		sms  *bool
		want []string // the SmsCapability values sent; nil for none
	}{
		{"unset", nil, nil},
		{"true", hn.Bool(true), []string{"true"}},
		{"false", hn.Bool(false), []string{"false"}},
	} {
		t.Run("create "+tt.name, func(t *testing.T) {
			s, client := newEPServer(t, http.StatusCreated, epFixture(t, "CreateHostedNumberOrder_201_create.json"))
			p := validHROrder()
			p.SMSCapability = tt.sms
			_, err := client.HostedNumberOrders.Create(ruleCtx(t), p)
			require.NoError(t, err)
			reqs := s.got()
			require.Len(t, reqs, 1)
			got, present := reqs[0].form["SmsCapability"]
			assert.Equal(t, tt.want != nil, present, "SmsCapability sent: %v", reqs[0].form)
			assert.Equal(t, tt.want, got)
		})
		t.Run("list "+tt.name, func(t *testing.T) {
			srv, client := rsServe(t, func(w http.ResponseWriter, _ *http.Request) {
				rsJSON(w, http.StatusOK, rsFixture(t, "ListHostedNumberOrder_200_readEmpty.json"))
			})
			_, err := client.HostedNumberOrders.List(rsCtx(t), &hn.ListHostedNumberOrdersParams{SMSCapability: tt.sms})
			require.NoError(t, err)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			q, err := url.ParseQuery(reqs[0].RawQuery)
			require.NoError(t, err)
			got, present := q["SmsCapability"]
			assert.Equal(t, tt.want != nil, present, "SmsCapability sent: %s", reqs[0].RawQuery)
			assert.Equal(t, tt.want, got)
		})
	}
	// Bool returns a fresh pointer each time: setting one field never
	// changes another.
	a, b := hn.Bool(true), hn.Bool(true)
	*a = false
	assert.True(t, *b)
}

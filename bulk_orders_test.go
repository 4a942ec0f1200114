package hostednumbers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

const (
	testAccountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testAuthToken  = "f00dfacef00dfacef00dfacef00dface"
	testBulkSID    = "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	bulkURL        = "https://numbers.twilio.com/v2/HostedNumber/Orders/Bulk"
)

// loadFixture reads a response or request body copied from the API's
// published shapes into testdata/.
func loadFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// newMockClient returns a client whose transport is an httpmock mock, with
// fast retries, so that tests see every request the client would send.
func newMockClient(t testing.TB, opts ...hn.Option) (*hn.Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	base := []hn.Option{
		hn.WithCredentials(testAccountSID, testAuthToken),
		hn.WithHTTPClient(&http.Client{Transport: mock}),
		hn.WithRetryBackoff(time.Millisecond, 2*time.Millisecond),
	}
	c, err := hn.NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c, mock
}

// respond answers with a status, a body and a request ID.
func respond(status int, body []byte) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewBytesResponse(status, body)
		resp.Header.Set("Content-Type", "application/json")
		resp.Header.Set("Twilio-Request-Id", "RQ0123456789abcdef0123456789abcdef")
		return resp, nil
	}
}

// specParams is the create body of SPEC.md and testdata/create_request.json.
func specParams() *hn.CreateBulkHostedNumberOrderParams {
	return &hn.CreateBulkHostedNumberOrderParams{
		FriendlyName:      "Spring migration",
		NotificationEmail: "ops@example.com",
		RequestItems: []hn.RequestItem{{
			Email:              "owner@example.com",
			AddressSID:         "AD0123456789abcdef0123456789abcdef",
			ContactPhoneNumber: "+14155550100",
			ContactTitle:       "Head of Telecom",
			Numbers: []hn.Number{
				{PhoneNumber: "+14155550101", HostingOptions: hn.HostingOptions{StatusCallbackURL: "https://hooks.example.com/hosting"}},
				{PhoneNumber: "+14155550102"},
			},
		}},
	}
}

func TestCreate_SendsTheExactRequest(t *testing.T) {
	client, mock := newMockClient(t)
	var got *http.Request
	var body []byte
	mock.RegisterResponder(http.MethodPost, bulkURL, func(r *http.Request) (*http.Response, error) {
		got = r
		body, _ = io.ReadAll(r.Body)
		return respond(http.StatusAccepted, loadFixture(t, "create_202.json"))(r)
	})

	_, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
	require.NoError(t, err)

	require.NotNil(t, got)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "/v2/HostedNumber/Orders/Bulk", got.URL.Path)
	assert.Empty(t, got.URL.RawQuery)
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Regexp(t, `^hostednumbers-go/`+regexp.QuoteMeta(hn.Version)+` \(\w+ \w+\) go/\S+$`, got.Header.Get("User-Agent"))
	user, pass, ok := got.BasicAuth()
	require.True(t, ok)
	assert.Equal(t, testAccountSID, user)
	assert.Equal(t, testAuthToken, pass)
	assert.JSONEq(t, string(loadFixture(t, "create_request.json")), string(body))
	assert.Equal(t, 1, mock.GetTotalCallCount())
}

func TestCreate_NilParamsSendEmptyObject(t *testing.T) {
	client, mock := newMockClient(t)
	var body []byte
	mock.RegisterResponder(http.MethodPost, bulkURL, func(r *http.Request) (*http.Response, error) {
		body, _ = io.ReadAll(r.Body)
		return respond(http.StatusAccepted, loadFixture(t, "create_202.json"))(r)
	})
	order, err := client.BulkHostedNumberOrders.Create(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(body))
	assert.Equal(t, testBulkSID, order.BulkHostingSID)

	// An empty, non-nil params value sends the same.
	_, err = client.BulkHostedNumberOrders.Create(context.Background(), &hn.CreateBulkHostedNumberOrderParams{})
	require.NoError(t, err)
	assert.Equal(t, "{}", string(body))
}

func TestCreateParams_OnlySetFieldsAreEncoded(t *testing.T) {
	p := &hn.CreateBulkHostedNumberOrderParams{RequestItems: []hn.RequestItem{{
		Numbers: []hn.Number{{PhoneNumber: "+14155550101"}},
	}}}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.Equal(t, `{"request_items":[{"numbers":[{"phone_number":"+14155550101"}]}]}`, string(b))
}

func TestCreateParams_EveryModelledFieldIsEncoded(t *testing.T) {
	opts := hn.HostingOptions{
		FriendlyName:         "Main line",
		CCEmails:             []string{"a@example.com", "b@example.com"},
		SMSURL:               "https://sms.example.com/in",
		SMSMethod:            "POST",
		SMSFallbackURL:       "https://sms.example.com/fallback",
		SMSFallbackMethod:    "GET",
		StatusCallbackURL:    "https://hooks.example.com/status",
		StatusCallbackMethod: "POST",
		SMSApplicationSID:    "AP0123456789abcdef0123456789abcdef",
		AccountSID:           "AC0123456789abcdef0123456789abcdef",
	}
	wantOpts := `"friendly_name":"Main line","cc_emails":["a@example.com","b@example.com"],` +
		`"sms_url":"https://sms.example.com/in","sms_method":"POST",` +
		`"sms_fallback_url":"https://sms.example.com/fallback","sms_fallback_method":"GET",` +
		`"status_callback_url":"https://hooks.example.com/status","status_callback_method":"POST",` +
		`"sms_application_sid":"AP0123456789abcdef0123456789abcdef","account_sid":"AC0123456789abcdef0123456789abcdef"`
	p := hn.CreateBulkHostedNumberOrderParams{RequestItems: []hn.RequestItem{{
		Email: "o@example.com", HostingOptions: opts,
		Numbers: []hn.Number{{PhoneNumber: "+14155550101", HostingOptions: opts}},
	}}}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.Equal(t, `{"request_items":[{"email":"o@example.com",`+wantOpts+`,"numbers":[{"phone_number":"+14155550101",`+wantOpts+`}]}]}`, string(b))
	require.NoError(t, p.Validate())
}

func TestCreateParams_ExtraMembersAreMergedWithoutOverridingTypedFields(t *testing.T) {
	p := hn.CreateBulkHostedNumberOrderParams{
		FriendlyName: "typed",
		Extra:        map[string]any{"friendly_name": "extra", "beta_flag": true, "notification_email": "x@example.com"},
		RequestItems: []hn.RequestItem{{
			Email: "typed@example.com",
			Extra: map[string]any{"email": "extra@example.com", "priority": 3},
			Numbers: []hn.Number{{
				PhoneNumber: "+14155550101",
				Extra:       map[string]any{"phone_number": "+19999999999", "port_in_date": "2026-12-01", "tags": []string{"a", "b"}},
			}},
		}},
	}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"friendly_name": "typed",
		"notification_email": "x@example.com",
		"beta_flag": true,
		"request_items": [{
			"email": "typed@example.com",
			"priority": 3,
			"numbers": [{"phone_number": "+14155550101", "port_in_date": "2026-12-01", "tags": ["a", "b"]}]
		}]
	}`, string(b))

	// The same bytes every time: extra members are written in sorted order.
	for range 5 {
		again, err := json.Marshal(p)
		require.NoError(t, err)
		assert.Equal(t, string(b), string(again))
	}
}

func TestCreateParams_UnmarshalKeepsUnknownMembersInExtra(t *testing.T) {
	var p hn.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(loadFixture(t, "create_request.json"), &p))
	assert.Equal(t, specParams(), &p)

	in := `{"friendly_name":"x","future":{"a":1},"request_items":[{"numbers":[{"phone_number":"+14155550101","big":12345678901234567890}],"item_only":"y"}]}`
	require.NoError(t, json.Unmarshal([]byte(in), &p))
	assert.Equal(t, map[string]any{"future": map[string]any{"a": json.Number("1")}}, p.Extra)
	assert.Equal(t, map[string]any{"item_only": "y"}, p.RequestItems[0].Extra)
	assert.Equal(t, map[string]any{"big": json.Number("12345678901234567890")}, p.RequestItems[0].Numbers[0].Extra)
	out, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, in, string(out))
}

func TestCreate_UnencodableExtraIsAValidationErrorAndNothingIsSent(t *testing.T) {
	client, mock := newMockClient(t)
	p := specParams()
	p.RequestItems[0].Numbers[1].Extra = map[string]any{"callback": func() {}}
	_, err := client.BulkHostedNumberOrders.Create(context.Background(), p)
	var ve *hn.ValidationError
	require.ErrorAs(t, err, &ve)
	_, found := ve.Field("request_items[0].numbers[1].callback")
	assert.True(t, found, "problems: %v", ve.Problems)
	assert.Zero(t, mock.GetTotalCallCount())
}

func TestCreate_Decodes202FixtureFieldByField(t *testing.T) {
	client, mock := newMockClient(t)
	mock.RegisterResponder(http.MethodPost, bulkURL, respond(http.StatusAccepted, loadFixture(t, "create_202.json")))
	order, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
	require.NoError(t, err)

	assert.Equal(t, testBulkSID, order.BulkHostingSID)
	assert.Equal(t, hn.RequestStatusQueued, order.RequestStatus)
	assert.True(t, order.RequestStatus.Known())
	assert.False(t, order.RequestStatus.Finished())
	assert.Equal(t, hn.NullString{String: "test", Valid: true}, order.FriendlyName)
	assert.Equal(t, hn.NullString{String: "test@example.com", Valid: true}, order.NotificationEmail)
	assert.True(t, order.DateCreated.Valid)
	assert.Equal(t, time.Date(2023, 6, 29, 15, 19, 37, 0, time.UTC), order.DateCreated.Time)
	assert.False(t, order.DateCompleted.Valid, "date_completed is null until processed")
	assert.Equal(t, hn.NullString{String: bulkURL + "/" + testBulkSID, Valid: true}, order.URL)
	assert.Equal(t, 4, order.TotalCount)
	assert.NotNil(t, order.Results)
	assert.Empty(t, order.Results)
	assert.Empty(t, order.Orders())
}

// orderJSON is the create fixture with one member replaced.
func orderJSON(t testing.TB, member string, value any) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(loadFixture(t, "create_202.json"), &m))
	m[member] = value
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestCreate_UnknownRequestStatusIsKeptNotAnError(t *testing.T) {
	client, mock := newMockClient(t)
	mock.RegisterResponder(http.MethodPost, bulkURL, respond(http.StatusAccepted, orderJSON(t, "request_status", "VALIDATING")))
	order, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
	require.NoError(t, err, "an accepted order must not turn into an error")
	assert.Equal(t, hn.RequestStatus("VALIDATING"), order.RequestStatus)
	assert.False(t, order.RequestStatus.Known())
	assert.False(t, order.RequestStatus.Finished())
}

func TestCreate_NullsStayDistinguishableFromEmptyStrings(t *testing.T) {
	client, mock := newMockClient(t)
	body := orderJSON(t, "friendly_name", nil)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	m["notification_email"] = ""
	m["date_created"] = nil
	body, _ = json.Marshal(m)
	mock.RegisterResponder(http.MethodPost, bulkURL, respond(http.StatusAccepted, body))
	order, err := client.BulkHostedNumberOrders.Create(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, hn.NullString{}, order.FriendlyName)
	assert.Equal(t, hn.NullString{String: "", Valid: true}, order.NotificationEmail)
	assert.False(t, order.DateCreated.Valid)
}

func TestCreate_AcceptsRFC2822Dates(t *testing.T) {
	want := time.Date(2023, 6, 29, 15, 19, 37, 0, time.UTC)
	for _, date := range []string{
		"Thu, 29 Jun 2023 15:19:37 +0000",
		"Thu, 29 Jun 2023 15:19:37 GMT",
		"Thu, 29 Jun 2023 17:19:37 +0200",
		"2023-06-29T15:19:37Z",
		"2023-06-29T17:19:37+02:00",
	} {
		t.Run(date, func(t *testing.T) {
			client, mock := newMockClient(t)
			mock.RegisterResponder(http.MethodPost, bulkURL, respond(http.StatusAccepted, orderJSON(t, "date_created", date)))
			order, err := client.BulkHostedNumberOrders.Create(context.Background(), nil)
			require.NoError(t, err)
			require.True(t, order.DateCreated.Valid)
			assert.True(t, want.Equal(order.DateCreated.Time), "got %v", order.DateCreated.Time)
		})
	}
}

func TestCreate_UnusableAcceptedBodyIsADecodeErrorThatSaysAccepted(t *testing.T) {
	valid := string(loadFixture(t, "create_202.json"))
	cases := map[string]string{
		"malformed sid":     string(orderJSON(t, "bulk_hosting_sid", "BH123")),
		"sid with a slash":  string(orderJSON(t, "bulk_hosting_sid", "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/..")),
		"missing sid":       `{"request_status":"QUEUED"}`,
		"null sid":          string(orderJSON(t, "bulk_hosting_sid", nil)),
		"bad date":          string(orderJSON(t, "date_created", "yesterday")),
		"date of bad type":  string(orderJSON(t, "date_created", 12)),
		"truncated":         valid[:len(valid)/2],
		"empty":             "",
		"not json":          "<html>accepted</html>",
		"total_count text":  string(orderJSON(t, "total_count", "four")),
		"results of a type": string(orderJSON(t, "results", "none")),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			client, mock := newMockClient(t)
			mock.RegisterResponder(http.MethodPost, bulkURL, respond(http.StatusAccepted, []byte(body)))
			order, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
			require.Error(t, err)
			assert.Nil(t, order)
			var de *hn.DecodeError
			require.ErrorAs(t, err, &de)
			assert.True(t, de.Accepted())
			assert.Equal(t, http.StatusAccepted, de.HTTPStatus)
			assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", de.RequestID)
			assert.Contains(t, err.Error(), "request was accepted (202 Accepted, Twilio-Request-Id RQ0123456789abcdef0123456789abcdef)")
			assert.Contains(t, err.Error(), "check before submitting the same numbers again")
			assert.Equal(t, 1, mock.GetTotalCallCount(), "an accepted create is never resent")
		})
	}
}

func TestCreate_OversizedBodyIsAnErrorNotAnAllocation(t *testing.T) {
	client, mock := newMockClient(t, hn.WithMaxResponseBytes(512))
	huge := orderJSON(t, "friendly_name", strings.Repeat("x", 4096))
	mock.RegisterResponder(http.MethodPost, bulkURL, respond(http.StatusAccepted, huge))
	_, err := client.BulkHostedNumberOrders.Create(context.Background(), nil)
	require.ErrorIs(t, err, hn.ErrResponseTooLarge)
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.Accepted())

	// The error body of a non-2xx answer goes through the same cap.
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, respond(http.StatusBadGateway, []byte("<html>"+strings.Repeat("y", 4096)+"</html>")))
	_, err = client.BulkHostedNumberOrders.Fetch(context.Background(), testBulkSID, nil)
	var apiErr *hn.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.Body), 210)
}

func TestValidation_EveryRuleNamesItsFieldAndNothingIsSent(t *testing.T) {
	valid := func() *hn.CreateBulkHostedNumberOrderParams {
		p := specParams()
		p.RequestItems = append(p.RequestItems, hn.RequestItem{
			Email: "second@example.com",
			Numbers: []hn.Number{
				{PhoneNumber: "+442071838750"},
				{PhoneNumber: "+14155550103"},
			},
		})
		return p
	}
	cases := []struct {
		name  string
		edit  func(p *hn.CreateBulkHostedNumberOrderParams)
		field string
		msg   string
	}{
		{"phone without plus", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[1].Numbers[1].PhoneNumber = "14155550103"
		}, "request_items[1].numbers[1].phone_number", "not an E.164"},
		{"phone starting with 0", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].Numbers[0].PhoneNumber = "+04155550101"
		}, "request_items[0].numbers[0].phone_number", "not an E.164"},
		{"phone too long", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].Numbers[0].PhoneNumber = "+1234567890123456"
		}, "request_items[0].numbers[0].phone_number", "not an E.164"},
		{"phone with spaces", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].Numbers[0].PhoneNumber = "+1 415 555 0101"
		}, "request_items[0].numbers[0].phone_number", "not an E.164"},
		{"phone missing", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[0].Numbers[1].PhoneNumber = "" }, "request_items[0].numbers[1].phone_number", "is required"},
		{"duplicate phone across items", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[1].Numbers[1].PhoneNumber = "+14155550101"
		}, "request_items[1].numbers[1].phone_number", "listed twice; first at request_items[0].numbers[0]"},
		{"contact phone", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[0].ContactPhoneNumber = "415-555-0100" }, "request_items[0].contact_phone_number", "not an E.164"},
		{"item email", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[1].Email = "second.example.com" }, "request_items[1].email", "not an e-mail address"},
		{"notification email", func(p *hn.CreateBulkHostedNumberOrderParams) { p.NotificationEmail = "ops@" }, "notification_email", "not an e-mail address"},
		{"cc email", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].Numbers[0].CCEmails = []string{"ok@example.com", "Name <x@example.com>"}
		}, "request_items[0].numbers[0].cc_emails[1]", "not an e-mail address"},
		{"address sid prefix", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].AddressSID = "AC0123456789abcdef0123456789abcdef"
		}, "request_items[0].address_sid", "AD and 32 hex digits"},
		{"address sid length", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[0].AddressSID = "AD0123" }, "request_items[0].address_sid", "AD and 32 hex digits"},
		{"address sid not hex", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].AddressSID = "AD0123456789abcdef0123456789abcdeg"
		}, "request_items[0].address_sid", "AD and 32 hex digits"},
		{"account sid", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].Numbers[1].AccountSID = "SK0123456789abcdef0123456789abcdef"
		}, "request_items[0].numbers[1].account_sid", "AC and 32 hex digits"},
		{"application sid", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[1].SMSApplicationSID = "APxyz" }, "request_items[1].sms_application_sid", "AP and 32 hex digits"},
		{"friendly name of 129 characters", func(p *hn.CreateBulkHostedNumberOrderParams) { p.FriendlyName = strings.Repeat("a", 129) }, "friendly_name", "129 characters long"},
		{"number friendly name", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[1].Numbers[0].FriendlyName = strings.Repeat("é", 129)
		}, "request_items[1].numbers[0].friendly_name", "129 characters long"},
		{"relative callback url", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].Numbers[0].StatusCallbackURL = "/hosting"
		}, "request_items[0].numbers[0].status_callback_url", "absolute http or https URL"},
		{"ftp sms url", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[0].SMSURL = "ftp://example.com/x" }, "request_items[0].sms_url", "absolute http or https URL"},
		{"fallback url", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[1].Numbers[0].SMSFallbackURL = "https://"
		}, "request_items[1].numbers[0].sms_fallback_url", "absolute http or https URL"},
		{"sms method", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[0].SMSMethod = "PUT" }, "request_items[0].sms_method", "not GET or POST"},
		{"callback method", func(p *hn.CreateBulkHostedNumberOrderParams) {
			p.RequestItems[0].Numbers[1].StatusCallbackMethod = "post"
		}, "request_items[0].numbers[1].status_callback_method", "not GET or POST"},
		{"fallback method", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[1].SMSFallbackMethod = "DELETE" }, "request_items[1].sms_fallback_method", "not GET or POST"},
		{"item without numbers", func(p *hn.CreateBulkHostedNumberOrderParams) { p.RequestItems[1].Numbers = nil }, "request_items[1].numbers", "at least one phone number"},
		{"empty extra member name", func(p *hn.CreateBulkHostedNumberOrderParams) { p.Extra = map[string]any{"": 1} }, "extra", "empty member name"},
	}
	client, mock := newMockClient(t)
	mock.RegisterResponder(http.MethodPost, bulkURL, respond(http.StatusAccepted, loadFixture(t, "create_202.json")))
	require.NoError(t, valid().Validate())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.edit(p)
			_, err := client.BulkHostedNumberOrders.Create(context.Background(), p)
			require.ErrorIs(t, err, hn.ErrInvalidInput)
			var ve *hn.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, 1, "problems: %v", ve.Problems)
			assert.Equal(t, tc.field, ve.Problems[0].Field)
			assert.Contains(t, ve.Problems[0].Message, tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: create bulk order: "+tc.field+": "), err.Error())
		})
	}
	assert.Zero(t, mock.GetTotalCallCount(), "invalid params must never reach the network")
}

func TestValidation_ReportsEveryProblemAtOnce(t *testing.T) {
	p := &hn.CreateBulkHostedNumberOrderParams{
		FriendlyName: strings.Repeat("x", 200),
		RequestItems: []hn.RequestItem{
			{Email: "bad", Numbers: []hn.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "nope"}}},
			{},
			{Numbers: []hn.Number{{PhoneNumber: "+14155550101", HostingOptions: hn.HostingOptions{SMSMethod: "PATCH"}}}},
		},
	}
	err := p.Validate()
	var ve *hn.ValidationError
	require.ErrorAs(t, err, &ve)
	fields := make([]string, 0, len(ve.Problems))
	for _, pr := range ve.Problems {
		fields = append(fields, pr.Field)
	}
	assert.Equal(t, []string{
		"friendly_name",
		"request_items[0].email",
		"request_items[0].numbers[1].phone_number",
		"request_items[1].numbers",
		"request_items[2].numbers[0].phone_number",
		"request_items[2].numbers[0].sms_method",
	}, fields)
	assert.True(t, strings.HasPrefix(err.Error(), "6 problems: friendly_name: is 200 characters long"), err.Error())
}

func TestValidation_FriendlyNameCountsCharactersNotBytes(t *testing.T) {
	p := &hn.CreateBulkHostedNumberOrderParams{FriendlyName: strings.Repeat("ü", 128)} // 256 bytes
	assert.NoError(t, p.Validate())
	p.FriendlyName = strings.Repeat("漢", 128) + "!"
	assert.ErrorIs(t, p.Validate(), hn.ErrInvalidInput)
}

func TestValidation_LargeOrderFindsALateDuplicate(t *testing.T) {
	items := []hn.RequestItem{{Email: "o@example.com"}}
	for i := range 5000 {
		items[0].Numbers = append(items[0].Numbers, hn.Number{PhoneNumber: "+1415" + leftPad(i, 7)})
	}
	p := &hn.CreateBulkHostedNumberOrderParams{RequestItems: items}
	require.NoError(t, p.Validate())
	items[0].Numbers[4999].PhoneNumber = items[0].Numbers[17].PhoneNumber
	var ve *hn.ValidationError
	require.ErrorAs(t, p.Validate(), &ve)
	assert.Equal(t, "request_items[0].numbers[4999].phone_number", ve.Problems[0].Field)
	assert.Contains(t, ve.Problems[0].Message, "first at request_items[0].numbers[17]")
}

func leftPad(n, width int) string {
	s := strings.Repeat("0", width) + itoa(n)
	return s[len(s)-width:]
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestErrors_EveryClassMapsToItsSentinel(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       []byte
		header     http.Header
		sentinel   error
		code       int
		message    string
		wantString string
	}{
		{"400 with details", 400, loadFixture(t, "error_400.json"), nil, nil, 20001, "Invalid parameter: request_items[0].numbers[1].phone_number", "400 Bad Request (code 20001): Invalid parameter"},
		{"401", 401, loadFixture(t, "error_401.json"), nil, hn.ErrUnauthorized, 20003, "Authenticate", "401 Unauthorized (code 20003): Authenticate"},
		{"403", 403, []byte(`{"code":20403,"message":"Forbidden","status":403}`), nil, hn.ErrUnauthorized, 20403, "Forbidden", "403 Forbidden (code 20403)"},
		{"404", 404, loadFixture(t, "error_404.json"), nil, hn.ErrNotFound, 20404, "The requested resource /v2/HostedNumber/Orders/Bulk/BH00000000000000000000000000000000 was not found", "404 Not Found (code 20404)"},
		{"429", 429, loadFixture(t, "error_429.json"), http.Header{"Retry-After": {"3600"}}, hn.ErrRateLimited, 20429, "Too Many Requests", "429 Too Many Requests (code 20429): Too Many Requests"},
		{"500", 500, []byte(`{"code":20500,"message":"Internal Server Error","status":500}`), nil, hn.ErrServer, 20500, "Internal Server Error", "500 Internal Server Error (code 20500)"},
		{"502 html from a proxy", 502, loadFixture(t, "error_502.html"), nil, hn.ErrServer, 0, "", "502 Bad Gateway: <html> <head><title>502 Bad Gateway</title></head>"},
	}
	sentinels := []error{hn.ErrNotFound, hn.ErrUnauthorized, hn.ErrRateLimited, hn.ErrServer, hn.ErrInvalidInput, hn.ErrResponseTooLarge}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, mock := newMockClient(t)
			mock.RegisterResponder(http.MethodPost, bulkURL, func(r *http.Request) (*http.Response, error) {
				resp, _ := respond(tc.status, tc.body)(r)
				for k, v := range tc.header {
					resp.Header[k] = v
				}
				return resp, nil
			})
			_, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
			require.Error(t, err)
			for _, s := range sentinels {
				assert.Equal(t, errors.Is(tc.sentinel, s), errors.Is(err, s), "errors.Is(err, %v)", s)
			}
			var apiErr *hn.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.HTTPStatus)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.message, apiErr.Message)
			assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", apiErr.RequestID)
			assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: create bulk order: "+tc.wantString), err.Error())
			assert.Contains(t, err.Error(), "Twilio-Request-Id RQ0123456789abcdef0123456789abcdef")
		})
	}

	t.Run("details and more_info are reachable", func(t *testing.T) {
		client, mock := newMockClient(t)
		mock.RegisterResponder(http.MethodPost, bulkURL, respond(400, loadFixture(t, "error_400.json")))
		_, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
		var apiErr *hn.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, map[string]any{"field": "request_items[0].numbers[1].phone_number"}, apiErr.Details)
		assert.Equal(t, "https://www.twilio.com/docs/errors/20001", apiErr.MoreInfo)
		assert.Equal(t, 400, apiErr.Status)
		assert.Empty(t, apiErr.Body)
	})

	t.Run("html body is trimmed to a short excerpt", func(t *testing.T) {
		client, mock := newMockClient(t)
		mock.RegisterResponder(http.MethodPost, bulkURL, respond(502, loadFixture(t, "error_502.html")))
		_, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
		var apiErr *hn.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>", apiErr.Body)
		assert.Zero(t, apiErr.Code)
	})

	t.Run("retry-after is reported", func(t *testing.T) {
		client, mock := newMockClient(t)
		mock.RegisterResponder(http.MethodPost, bulkURL, func(r *http.Request) (*http.Response, error) {
			resp, _ := respond(429, loadFixture(t, "error_429.json"))(r)
			resp.Header.Set("Retry-After", "3600")
			return resp, nil
		})
		_, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
		var apiErr *hn.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, time.Hour, apiErr.RetryAfter)
		assert.Equal(t, 1, mock.GetTotalCallCount(), "a Retry-After beyond the cap is returned, not waited out")
	})
}

func TestFetch_SendsPathAndFilterAndDecodesResults(t *testing.T) {
	client, mock := newMockClient(t)
	var got *http.Request
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, func(r *http.Request) (*http.Response, error) {
		got = r
		return respond(200, loadFixture(t, "fetch_200.json"))(r)
	})
	order, err := client.BulkHostedNumberOrders.Fetch(context.Background(), testBulkSID, &hn.FetchBulkHostedNumberOrderParams{OrderStatus: "pending_loa"})
	require.NoError(t, err)

	require.NotNil(t, got)
	assert.Equal(t, http.MethodGet, got.Method)
	assert.Equal(t, "/v2/HostedNumber/Orders/Bulk/"+testBulkSID, got.URL.Path)
	assert.Equal(t, "OrderStatus=pending-loa", got.URL.RawQuery, "the filter is sent in the spelling of the order status enum")
	assert.Empty(t, got.Header.Get("Content-Type"))
	user, _, _ := got.BasicAuth()
	assert.Equal(t, testAccountSID, user)

	assert.Equal(t, hn.RequestStatusProcessed, order.RequestStatus)
	assert.True(t, order.RequestStatus.Finished())
	assert.Equal(t, time.Date(2023, 6, 30, 15, 19, 37, 0, time.UTC), order.DateCompleted.Time)
	require.Len(t, order.Results, 2)

	g := order.Results[0]
	assert.Equal(t, hn.OrderStatusPendingLOA, g.OrderStatus, "pending_loa folds into pending-loa")
	assert.Equal(t, "pending_loa", g.RawOrderStatus)
	assert.Equal(t, 2, g.Count)
	assert.False(t, g.GetMoreInfo.Valid)
	require.Len(t, g.Orders, 2)
	assert.Equal(t, hn.BulkOrderResult{
		Status:             hn.OrderStatusPendingLOA,
		HostingOrderSID:    "HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		PhoneNumber:        "+12222222222",
		AccountSID:         testAccountSID,
		URL:                "https://numbers.twilio.com/v2/HostedNumber/Orders/HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		Email:              "test@example.com",
		SigningDocumentSID: hn.NullString{String: "PXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Valid: true},
	}, g.Orders[0])

	f := order.Results[1]
	assert.Equal(t, hn.OrderStatusFailed, f.OrderStatus)
	assert.True(t, f.GetMoreInfo.Valid)
	assert.Contains(t, f.GetMoreInfo.String, "Hosted Number Eligibility API")
	assert.Equal(t, hn.NullString{String: "test failure-reason", Valid: true}, f.Orders[0].FailureReason)
	assert.Equal(t, hn.NullString{String: "test next-step", Valid: true}, f.Orders[0].NextStep)
	assert.False(t, f.Orders[0].SigningDocumentSID.Valid)
}

func TestFetch_ResultHelpers(t *testing.T) {
	var order hn.BulkHostedNumberOrder
	require.NoError(t, json.Unmarshal(loadFixture(t, "fetch_200.json"), &order))

	all := order.Orders()
	require.Len(t, all, 4)
	phones := make([]string, len(all))
	for i, o := range all {
		phones[i] = o.PhoneNumber
	}
	assert.Equal(t, []string{"+12222222222", "+13333333333", "+14444444444", "+15555555555"}, phones)
	assert.Equal(t, hn.OrderStatusPendingLOA, all[1].Status)
	assert.Equal(t, hn.OrderStatusFailed, all[2].Status)

	by := order.OrdersByStatus()
	assert.Len(t, by, 2)
	assert.Len(t, by[hn.OrderStatusPendingLOA], 2)
	assert.Len(t, by[hn.OrderStatusFailed], 2)

	failed := order.Failed()
	require.Len(t, failed, 2)
	assert.Equal(t, "+14444444444", failed[0].PhoneNumber)
	assert.Equal(t, "test failure-reason", failed[0].FailureReason.String)
	assert.Equal(t, "test next-step", failed[0].NextStep.String)

	assert.Equal(t, map[hn.OrderStatus]int{hn.OrderStatusPendingLOA: 2, hn.OrderStatusFailed: 2}, order.CountsByStatus())
}

func TestFetch_GroupsSpelledBothWaysAreOneStatus(t *testing.T) {
	body := `{"bulk_hosting_sid":"` + testBulkSID + `","request_status":"IN_PROGRESS","results":[
		{"order_status":"pending_loa","count":"1","orders":[{"phone_number":"+12222222222"}]},
		{"order_status":"pending-loa","count":1,"orders":[{"phone_number":"+13333333333"}]},
		{"order_status":"ACTION_REQUIRED","count":null,"orders":[{"phone_number":"+14444444444","failure_reason":"LOA rejected","next_step":"Re-sign"}]},
		{"order_status":"porting_scheduled","orders":[{"phone_number":"+15555555555"}]}
	]}`
	var order hn.BulkHostedNumberOrder
	require.NoError(t, json.Unmarshal([]byte(body), &order))

	assert.Equal(t, []hn.OrderStatus{hn.OrderStatusPendingLOA, hn.OrderStatusPendingLOA, hn.OrderStatusActionRequired, "porting_scheduled"},
		[]hn.OrderStatus{order.Results[0].OrderStatus, order.Results[1].OrderStatus, order.Results[2].OrderStatus, order.Results[3].OrderStatus})
	assert.False(t, order.Results[3].OrderStatus.Known(), "an unknown status is kept, raw, without failing")
	assert.Equal(t, map[hn.OrderStatus]int{hn.OrderStatusPendingLOA: 2, hn.OrderStatusActionRequired: 1, "porting_scheduled": 1}, order.CountsByStatus())
	assert.Len(t, order.OrdersByStatus()[hn.OrderStatusPendingLOA], 2)
	require.Len(t, order.Failed(), 1)
	assert.Equal(t, "LOA rejected", order.Failed()[0].FailureReason.String)
}

func TestParseOrderStatus_FoldsEverySpelling(t *testing.T) {
	for _, s := range []hn.OrderStatus{
		hn.OrderStatusTwilioProcessing, hn.OrderStatusReceived, hn.OrderStatusPendingVerification,
		hn.OrderStatusVerified, hn.OrderStatusPendingLOA, hn.OrderStatusCarrierProcessing,
		hn.OrderStatusTesting, hn.OrderStatusCompleted, hn.OrderStatusFailed, hn.OrderStatusActionRequired,
	} {
		assert.True(t, s.Known(), s)
		assert.Equal(t, s, hn.ParseOrderStatus(string(s)))
		assert.Equal(t, s, hn.ParseOrderStatus(strings.ReplaceAll(string(s), "-", "_")))
		assert.Equal(t, s, hn.ParseOrderStatus(strings.ToUpper(strings.ReplaceAll(string(s), "-", "_"))))
	}
	assert.Equal(t, hn.OrderStatus("Something_New"), hn.ParseOrderStatus("Something_New"))
	assert.False(t, hn.ParseOrderStatus("Something_New").Known())
}

func TestFetch_CountMustBeAWholeNumber(t *testing.T) {
	for _, count := range []string{`"two"`, `-1`, `1.5`, `true`, `{}`, `"1e3"`} {
		t.Run(count, func(t *testing.T) {
			client, mock := newMockClient(t)
			body := `{"bulk_hosting_sid":"` + testBulkSID + `","request_status":"PROCESSED","results":[{"order_status":"completed","count":` + count + `,"orders":[]}]}`
			mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, respond(200, []byte(body)))
			_, err := client.BulkHostedNumberOrders.Fetch(context.Background(), testBulkSID, nil)
			var de *hn.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), "count")
			assert.Contains(t, err.Error(), "request succeeded (200 OK")
		})
	}
}

func TestFetch_HostileOrMalformedSIDNeverReachesAURL(t *testing.T) {
	client, mock := newMockClient(t)
	for _, sid := range []string{
		"",
		"../../Accounts",
		testBulkSID + "?x=1",
		"BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%2F..",
		"BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/..",
		"bhaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"HRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"BHgggggggggggggggggggggggggggggggg",
		testBulkSID + "\n",
	} {
		_, err := client.BulkHostedNumberOrders.Fetch(context.Background(), sid, nil)
		var ve *hn.ValidationError
		require.ErrorAs(t, err, &ve, "sid %q", sid)
		assert.Equal(t, "sid", ve.Problems[0].Field)
		_, err = client.BulkHostedNumberOrders.Wait(context.Background(), sid, nil)
		require.ErrorIs(t, err, hn.ErrInvalidInput, "sid %q", sid)
	}
	assert.Zero(t, mock.GetTotalCallCount())
}

func TestFetch_NotFound(t *testing.T) {
	client, mock := newMockClient(t)
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, respond(404, loadFixture(t, "error_404.json")))
	order, err := client.BulkHostedNumberOrders.Fetch(context.Background(), testBulkSID, nil)
	assert.Nil(t, order)
	require.ErrorIs(t, err, hn.ErrNotFound)
	assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: fetch bulk order "+testBulkSID+": 404 Not Found (code 20404)"), err.Error())
	assert.Equal(t, 1, mock.GetTotalCallCount(), "a 404 is not retried")
}

// sequence answers successive requests with the given responders, then
// repeats the last one.
func sequence(responders ...httpmock.Responder) (httpmock.Responder, *atomic.Int32) {
	var n atomic.Int32
	return func(r *http.Request) (*http.Response, error) {
		i := int(n.Add(1)) - 1
		if i >= len(responders) {
			i = len(responders) - 1
		}
		return responders[i](r)
	}, &n
}

func stage(t testing.TB, status string) httpmock.Responder {
	return respond(200, orderJSON(t, "request_status", status))
}

func TestWait_PollsUntilProcessedAndShowsEverySnapshot(t *testing.T) {
	client, mock := newMockClient(t)
	responder, calls := sequence(stage(t, "QUEUED"), stage(t, "IN_PROGRESS"), stage(t, "IN_PROGRESS"), respond(200, loadFixture(t, "fetch_200.json")))
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, responder)

	var seen []hn.RequestStatus
	order, err := client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{
		PollInterval: time.Millisecond, MaxPollInterval: 4 * time.Millisecond,
		OnSnapshot: func(o *hn.BulkHostedNumberOrder) { seen = append(seen, o.RequestStatus) },
	})
	require.NoError(t, err)
	assert.Equal(t, hn.RequestStatusProcessed, order.RequestStatus)
	assert.Len(t, order.Orders(), 4)
	assert.Equal(t, []hn.RequestStatus{"QUEUED", "IN_PROGRESS", "IN_PROGRESS", "PROCESSED"}, seen)
	assert.EqualValues(t, 4, calls.Load())
}

func TestWait_CancelledMidPollReturnsPromptlyWithLastSnapshot(t *testing.T) {
	client, mock := newMockClient(t)
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, stage(t, "IN_PROGRESS"))
	ctx, cancel := context.WithCancel(context.Background())
	snapshots := make(chan struct{}, 10)
	go func() {
		<-snapshots
		cancel()
	}()
	start := time.Now()
	order, err := client.BulkHostedNumberOrders.Wait(ctx, testBulkSID, &hn.WaitOptions{
		PollInterval: time.Hour,
		OnSnapshot:   func(*hn.BulkHostedNumberOrder) { snapshots <- struct{}{} },
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 5*time.Second, "cancelling ends the wait between polls at once")
	require.NotNil(t, order)
	assert.Equal(t, hn.RequestStatusInProgress, order.RequestStatus)
	assert.Equal(t, 1, mock.GetTotalCallCount())
}

func TestWait_DeadlineEndsTheWait(t *testing.T) {
	client, mock := newMockClient(t)
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, stage(t, "QUEUED"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := client.BulkHostedNumberOrders.Wait(ctx, testBulkSID, &hn.WaitOptions{PollInterval: time.Millisecond, MaxPollInterval: 2 * time.Millisecond})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Greater(t, mock.GetTotalCallCount(), 1)
}

func TestWait_EndsOnPermanentErrors(t *testing.T) {
	cases := map[string]struct {
		status   int
		body     []byte
		sentinel error
	}{
		"404": {404, loadFixture(t, "error_404.json"), hn.ErrNotFound},
		"401": {401, loadFixture(t, "error_401.json"), hn.ErrUnauthorized},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			client, mock := newMockClient(t)
			responder, calls := sequence(stage(t, "QUEUED"), respond(tc.status, tc.body))
			mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, responder)
			order, err := client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{PollInterval: time.Millisecond})
			require.ErrorIs(t, err, tc.sentinel)
			assert.EqualValues(t, 2, calls.Load(), "no retry and no further poll after %s", name)
			require.NotNil(t, order, "the last snapshot comes back with the error")
			assert.Equal(t, hn.RequestStatusQueued, order.RequestStatus)
		})
	}
}

func TestWait_PollsThroughTransientErrorsUpToALimit(t *testing.T) {
	client, mock := newMockClient(t, hn.WithMaxRetries(1))
	unavailable := respond(503, []byte(`{"code":20503,"message":"Service Unavailable","status":503}`))
	// Each failed poll is a request plus one retry: 2 requests.
	responder, calls := sequence(stage(t, "QUEUED"), unavailable, unavailable, stage(t, "IN_PROGRESS"), unavailable, unavailable, respond(200, loadFixture(t, "fetch_200.json")))
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, responder)
	order, err := client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	assert.True(t, order.RequestStatus.Finished())
	assert.EqualValues(t, 7, calls.Load())

	client, mock = newMockClient(t, hn.WithMaxRetries(0))
	responder, calls = sequence(stage(t, "QUEUED"), unavailable)
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, responder)
	_, err = client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{PollInterval: time.Millisecond, MaxConsecutiveErrors: 3})
	require.ErrorIs(t, err, hn.ErrServer)
	assert.EqualValues(t, 4, calls.Load(), "one success, then three failed polls in a row")
}

func TestWait_BacksOffToTheBound(t *testing.T) {
	client, mock := newMockClient(t)
	var times []time.Time
	responder, _ := sequence(stage(t, "QUEUED"), stage(t, "QUEUED"), stage(t, "QUEUED"), stage(t, "QUEUED"), stage(t, "QUEUED"), stage(t, "PROCESSED"))
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, func(r *http.Request) (*http.Response, error) {
		times = append(times, time.Now())
		return responder(r)
	})
	_, err := client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{PollInterval: 10 * time.Millisecond, MaxPollInterval: 40 * time.Millisecond})
	require.NoError(t, err)
	require.Len(t, times, 6)
	// Waits are 10, 20, 40, 40, 40 ms: at least that much, however slow the machine.
	for i, min := range []time.Duration{10, 20, 40, 40, 40} {
		assert.GreaterOrEqual(t, times[i+1].Sub(times[i]), min*time.Millisecond, "wait %d", i)
	}
}

func TestClient_ImplementsTheMockableInterface(t *testing.T) {
	client, _ := newMockClient(t)
	var api hn.BulkHostedNumberOrdersAPI = client.BulkHostedNumberOrders
	assert.NotNil(t, api)
}

func TestNullValues_MarshalRoundTrip(t *testing.T) {
	var order hn.BulkHostedNumberOrder
	require.NoError(t, json.Unmarshal(loadFixture(t, "create_202.json"), &order))
	b, err := json.Marshal(order)
	require.NoError(t, err)
	var again hn.BulkHostedNumberOrder
	require.NoError(t, json.Unmarshal(b, &again))
	assert.Equal(t, order, again)
	assert.Contains(t, string(b), `"date_completed":null`)
	assert.Contains(t, string(b), `"date_created":"2023-06-29T15:19:37Z"`)

	var s hn.NullString
	require.NoError(t, json.Unmarshal([]byte(`"a\"b\u00e9"`), &s))
	assert.Equal(t, hn.NullString{String: `a"bé`, Valid: true}, s)
	assert.Error(t, json.Unmarshal([]byte(`12`), &s))
}

func TestBasicAuthHeaderIsTheOnlyPlaceTheTokenTravels(t *testing.T) {
	client, mock := newMockClient(t)
	var auth string
	mock.RegisterResponder(http.MethodPost, bulkURL, func(r *http.Request) (*http.Response, error) {
		auth = r.Header.Get("Authorization")
		return respond(429, loadFixture(t, "error_429.json"))(r)
	})
	_, err := client.BulkHostedNumberOrders.Create(context.Background(), specParams())
	require.ErrorIs(t, err, hn.ErrRateLimited)
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(testAccountSID+":"+testAuthToken)), auth)
	assert.NotContains(t, err.Error(), testAuthToken)
	assert.NotContains(t, err.Error(), strings.TrimPrefix(auth, "Basic "))
}

func TestOrderStatus_UnmarshalFoldsSpellings(t *testing.T) {
	var got []hn.OrderStatus
	require.NoError(t, json.Unmarshal([]byte(`["pending_loa","Carrier_Processing","completed","brand_new",null]`), &got))
	assert.Equal(t, []hn.OrderStatus{hn.OrderStatusPendingLOA, hn.OrderStatusCarrierProcessing, hn.OrderStatusCompleted, "brand_new", ""}, got)
	var s hn.OrderStatus
	assert.Error(t, json.Unmarshal([]byte(`7`), &s))
}

func TestRequestItemAndNumber_MarshalOnTheirOwn(t *testing.T) {
	item := hn.RequestItem{Email: "o@example.com", Numbers: []hn.Number{{PhoneNumber: "+14155550101", Extra: map[string]any{"x": 1}}}}
	b, err := json.Marshal(item)
	require.NoError(t, err)
	assert.Equal(t, `{"email":"o@example.com","numbers":[{"phone_number":"+14155550101","x":1}]}`, string(b))
	b, err = json.Marshal(item.Numbers[0])
	require.NoError(t, err)
	assert.Equal(t, `{"phone_number":"+14155550101","x":1}`, string(b))

	_, err = json.Marshal(hn.Number{PhoneNumber: "+14155550101", Extra: map[string]any{"bad": make(chan int)}})
	assert.Error(t, err)
	_, err = json.Marshal(hn.RequestItem{Extra: map[string]any{"bad": make(chan int)}})
	assert.Error(t, err)
	_, err = json.Marshal(hn.CreateBulkHostedNumberOrderParams{Extra: map[string]any{"bad": make(chan int)}})
	assert.Error(t, err)
}

func TestCreateParams_UnmarshalRejectsWrongShapes(t *testing.T) {
	for _, in := range []string{`[]`, `{"request_items":{}}`, `{"request_items":[{"numbers":"x"}]}`, `{"request_items":[{"numbers":[7]}]}`, `{"friendly_name":1}`} {
		var p hn.CreateBulkHostedNumberOrderParams
		assert.Error(t, json.Unmarshal([]byte(in), &p), in)
	}
}

func TestValidation_LongBadValuesAreQuotedShort(t *testing.T) {
	long := "+1" + strings.Repeat("é", 60)
	p := &hn.CreateBulkHostedNumberOrderParams{FriendlyName: "bad\xffutf8", RequestItems: []hn.RequestItem{{Numbers: []hn.Number{{PhoneNumber: long}}}}}
	var ve *hn.ValidationError
	require.ErrorAs(t, p.Validate(), &ve)
	pr, ok := ve.Field("request_items[0].numbers[0].phone_number")
	require.True(t, ok)
	assert.Contains(t, pr.Message, "…")
	assert.Less(t, len(pr.Message), len(long)+60)
	pr, ok = ve.Field("friendly_name")
	require.True(t, ok)
	assert.Equal(t, "is not valid UTF-8", pr.Message)
	_, ok = ve.Field("no_such_field")
	assert.False(t, ok)
}

func TestWait_PollsThroughConnectionFailuresButNotBadResponses(t *testing.T) {
	client, mock := newMockClient(t, hn.WithMaxRetries(0))
	responder, calls := sequence(
		func(*http.Request) (*http.Response, error) { return nil, errors.New("connection reset by peer") },
		respond(200, loadFixture(t, "fetch_200.json")),
	)
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, responder)
	order, err := client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	assert.True(t, order.RequestStatus.Finished())
	assert.EqualValues(t, 2, calls.Load())

	client, mock = newMockClient(t)
	responder, calls = sequence(respond(200, []byte(`{"bulk_hosting_sid":"nope"}`)))
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, responder)
	_, err = client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{PollInterval: time.Millisecond})
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de)
	assert.EqualValues(t, 1, calls.Load(), "an unusable answer is not polled again")
}

func TestWait_LeavesNoGoroutineBehind(t *testing.T) {
	client, mock := newMockClient(t)
	responder, _ := sequence(stage(t, "QUEUED"), stage(t, "IN_PROGRESS"), respond(200, loadFixture(t, "fetch_200.json")))
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, responder)
	before := runtime.NumGoroutine()

	_, err := client.BulkHostedNumberOrders.Wait(context.Background(), testBulkSID, &hn.WaitOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	mock.RegisterResponder(http.MethodGet, bulkURL+"/"+testBulkSID, stage(t, "IN_PROGRESS"))
	ctx, cancel := context.WithCancel(context.Background())
	_, err = client.BulkHostedNumberOrders.Wait(ctx, testBulkSID, &hn.WaitOptions{
		PollInterval: time.Hour,
		OnSnapshot:   func(*hn.BulkHostedNumberOrder) { cancel() },
	})
	require.ErrorIs(t, err, context.Canceled)

	// httpmock ends a helper goroutine of its own just after each response,
	// so give the count a moment to settle (testify's Eventually would add
	// goroutines of its own).
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "Wait starts no goroutine that outlives it")
}

// FuzzCreateParams_EncodingRoundTrips checks that whatever strings a caller
// puts in the params, the hand-written encoder produces valid JSON that
// decodes back to the same params.
func FuzzCreateParams_EncodingRoundTrips(f *testing.F) {
	f.Add("Spring migration", "owner@example.com", "+14155550101", "Head of \"Telecom\"", "k")
	f.Add("<script>&</script>", "\u2028\u2029", "\x00\x1f\x7f", "tab\there\nnewline", "")
	f.Fuzz(func(t *testing.T, name, email, phone, title, extraKey string) {
		for _, s := range []string{name, email, phone, title, extraKey} {
			if !utf8.ValidString(s) {
				t.Skip("invalid UTF-8 is replaced by U+FFFD on the wire, as encoding/json does")
			}
		}
		p := hn.CreateBulkHostedNumberOrderParams{
			FriendlyName: name,
			RequestItems: []hn.RequestItem{{
				Email: email, ContactTitle: title,
				HostingOptions: hn.HostingOptions{CCEmails: []string{email, title}},
				Numbers:        []hn.Number{{PhoneNumber: phone, HostingOptions: hn.HostingOptions{FriendlyName: title}}},
			}},
		}
		if extraKey != "" && extraKey != "friendly_name" && extraKey != "notification_email" && extraKey != "request_items" {
			p.Extra = map[string]any{extraKey: name}
		}
		b, err := json.Marshal(p)
		require.NoError(t, err)
		require.True(t, json.Valid(b), "%s", b)
		var back hn.CreateBulkHostedNumberOrderParams
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, p, back)
	})
}

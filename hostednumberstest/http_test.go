package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

const wrongToken = "00000000000000000000000000000000"

func TestRequestsWithoutTheRightCredentialsGet401(t *testing.T) {
	tests := []struct {
		name      string
		creds     []string
		path      string
		wantUser  string
		wantAuthd bool
		want      int
	}{
		{name: "no credentials", path: bulkPath + "/" + unknownSID, want: 401},
		{name: "wrong token", creds: []string{hostednumberstest.AccountSID, wrongToken}, path: bulkPath + "/" + unknownSID, wantUser: hostednumberstest.AccountSID, want: 401},
		{name: "wrong account", creds: []string{"AC99999999999999999999999999999999", hostednumberstest.AuthToken}, path: bulkPath + "/" + unknownSID, wantUser: "AC99999999999999999999999999999999", want: 401},
		{name: "empty password", creds: []string{hostednumberstest.AccountSID, ""}, path: bulkPath + "/" + unknownSID, wantUser: hostednumberstest.AccountSID, want: 401},
		{name: "checked before routing", path: "/no/such/path", want: 401},
		{name: "right credentials", creds: []string{hostednumberstest.AccountSID, hostednumberstest.AuthToken}, path: bulkPath + "/" + unknownSID, wantUser: hostednumberstest.AccountSID, wantAuthd: true, want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			resp, body, err := rawRequest(t, "GET", srv.URL+tt.path, "", "", tt.creds...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			if tt.want == 401 {
				assert.JSONEq(t, `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`, string(body))
				assert.Equal(t, `Basic realm="Twilio API"`, resp.Header.Get("WWW-Authenticate"))
			} else {
				assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
			}
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.wantUser, reqs[0].Username)
			assert.Equal(t, tt.wantAuthd, reqs[0].Authorized)
			assert.Empty(t, reqs[0].Header.Values("Authorization"))
		})
	}
}

func TestClientWithWrongCredentialsGetsErrUnauthorized(t *testing.T) {
	srv := newServer(t)
	client := srv.Client(hostednumbers.WithCredentials(hostednumberstest.AccountSID, wrongToken))

	_, err := client.BulkHostedNumberOrders.Create(context.Background(), numbersParams("+14155550101"))
	require.ErrorIs(t, err, hostednumbers.ErrUnauthorized)
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 401, apiErr.HTTPStatus)
	assert.Equal(t, 20003, apiErr.Code)
	assert.Equal(t, "Authenticate", apiErr.Message)
	reqs := srv.Requests()
	require.Len(t, reqs, 1, "a 401 is not retried")
	assert.Equal(t, reqs[0].RequestID, apiErr.RequestID)
	assert.False(t, reqs[0].Authorized)

	_, err = client.BulkHostedNumberOrders.Fetch(context.Background(), unknownSID, nil)
	assert.ErrorIs(t, err, hostednumbers.ErrUnauthorized, "not ErrNotFound: auth comes first")
}

func TestWithCredentialsChangesWhatTheServerAccepts(t *testing.T) {
	const account, token = "AC22222222222222222222222222222222", "33333333333333333333333333333333"
	// Immediate: checks the answers of a create and a fetch step by step.
	srv := newImmediateServer(t, hostednumberstest.WithCredentials(account, token))

	created := create(t, srv.Client(), numbersParams("+14155550101"))
	assert.Equal(t, account, srv.Requests()[0].Username)
	o := fetch(t, srv.Client(), created.BulkHostingSID)
	assert.Equal(t, account, o.Orders()[0].AccountSID, "numbers default to the server's account")

	defaults, err := hostednumbers.NewClient(
		hostednumbers.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
		hostednumbers.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = defaults.BulkHostedNumberOrders.Fetch(context.Background(), created.BulkHostingSID, nil)
	assert.ErrorIs(t, err, hostednumbers.ErrUnauthorized, "the package credentials no longer work")
}

func TestCreateRejectsBadBodies(t *testing.T) {
	tests := []struct {
		name         string
		contentType  string
		body         string
		wantStatus   int
		wantCode     int
		wantMessage  string // prefix
		wantProblems []string
	}{
		{
			name: "phone number not E.164", contentType: "application/json",
			body:       `{"request_items":[{"numbers":[{"phone_number":"+14155550101"},{"phone_number":"555-0102"}]}]}`,
			wantStatus: 400, wantCode: 20001, wantMessage: "Invalid parameter: request_items[0].numbers[1].phone_number",
			wantProblems: []string{"request_items[0].numbers[1].phone_number"},
		},
		{
			// Only what Twilio's definitions state is checked: a phone
			// number, a SID pattern, a URL, a method (not an e-mail
			// address, nor an item without numbers: see
			// TestCreateAcceptsWhatTwilioAccepts).
			name: "every problem listed", contentType: "application/json",
			body:       `{"notification_email":"not-an-email","request_items":[{"address_sid":"AD1","numbers":[{"phone_number":"12","sms_url":"nowhere","sms_method":"PUT"}]},{"numbers":[]},{"numbers":[{}]}]}`,
			wantStatus: 400, wantCode: 20001, wantMessage: "Invalid parameter: request_items[0].address_sid",
			wantProblems: []string{"request_items[0].address_sid", "request_items[0].numbers[0].phone_number",
				"request_items[0].numbers[0].sms_url", "request_items[0].numbers[0].sms_method", "request_items[2].numbers[0].phone_number"},
		},
		{
			name: "malformed JSON", contentType: "application/json", body: `{"request_items": [`,
			wantStatus: 400, wantCode: 20001, wantMessage: "Invalid JSON",
		},
		{
			name: "wrong member type", contentType: "application/json", body: `{"request_items": "all of them"}`,
			wantStatus: 400, wantCode: 20001, wantMessage: "Invalid JSON",
		},
		{name: "array", contentType: "application/json", body: `[]`, wantStatus: 400, wantCode: 20001, wantMessage: "Invalid JSON"},
		{name: "null", contentType: "application/json", body: `null`, wantStatus: 400, wantCode: 20001, wantMessage: "Invalid JSON"},
		{name: "empty body", contentType: "application/json", body: ``, wantStatus: 400, wantCode: 20001, wantMessage: "Invalid JSON"},
		// Twilio documents no code for these: the fake gives none.
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: `FriendlyName=x`, wantStatus: 415, wantCode: 0, wantMessage: "Unsupported Media Type"},
		{name: "no content type", body: `{}`, wantStatus: 415, wantCode: 0, wantMessage: "Unsupported Media Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			resp, body := authed(t, "POST", srv.URL+bulkPath, tt.contentType, tt.body)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Regexp(t, requestIDPattern, resp.Header.Get("Twilio-Request-Id"))
			doc := decodeError(t, body)
			assert.Equal(t, tt.wantCode, doc.Code)
			assert.Equal(t, tt.wantStatus, doc.Status)
			assert.True(t, strings.HasPrefix(doc.Message, tt.wantMessage), "message %q", doc.Message)
			if tt.wantCode != 0 {
				assert.Equal(t, fmt.Sprintf("https://www.twilio.com/docs/errors/%d", tt.wantCode), doc.MoreInfo)
			} else {
				assert.Empty(t, doc.MoreInfo)
			}
			if tt.wantProblems == nil {
				assert.Nil(t, doc.Details)
				return
			}
			assert.Equal(t, tt.wantProblems[0], doc.Details["field"])
			problems, _ := doc.Details["problems"].([]any)
			require.Len(t, problems, len(tt.wantProblems))
			for i, raw := range problems {
				p := raw.(map[string]any)
				assert.Equal(t, tt.wantProblems[i], p["field"])
				assert.NotEmpty(t, p["message"])
			}
		})
	}
}

func TestCreateValidationProblemsSayWhatIsWrong(t *testing.T) {
	srv := newServer(t)
	resp, body := authed(t, "POST", srv.URL+bulkPath, "application/json",
		`{"request_items":[{"numbers":[{"phone_number":"+0123"}]}]}`)
	require.Equal(t, 400, resp.StatusCode)
	doc := decodeError(t, body)
	problems := doc.Details["problems"].([]any)
	assert.Contains(t, problems[0].(map[string]any)["message"], "E.164")
}

func TestCreateAcceptsWhatTheSchemaAllows(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantTotal               json.Number
	}{
		{"the published example", "application/json", `{}`, "0"},
		{"content type with charset", "application/json; charset=utf-8", `{}`, "0"},
		{"unknown members anywhere", "application/json",
			`{"brand_new":1,"request_items":[{"item_flag":true,"numbers":[{"phone_number":"+14155550101","x":{"y":2}}]}]}`, "1"},
		{"the fixture request", "application/json", mustRead(t, "../testdata/create_request.json"), "2"},
		// Twilio's definitions give e-mail members no format and ask for
		// no number in an item: the SDK checks more before it sends, the
		// fake accepts what Twilio accepts.
		{"e-mail members without a format", "application/json",
			`{"notification_email":"ops","request_items":[{"email":"owner","cc_emails":["cc"],"numbers":[{"phone_number":"+14155550101"}]}]}`, "1"},
		{"an item without numbers", "application/json",
			`{"request_items":[{"numbers":[]},{"numbers":[{"phone_number":"+14155550101"}]}]}`, "1"},
		{"a number listed twice", "application/json",
			`{"request_items":[{"numbers":[{"phone_number":"+14155550101"},{"phone_number":"+14155550101"}]}]}`, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			resp, body := authed(t, "POST", srv.URL+bulkPath, tt.contentType, tt.body)
			require.Equal(t, 202, resp.StatusCode, "body: %s", body)
			got := decodeObject(t, body)
			assert.Equal(t, tt.wantTotal, got["total_count"])
			_, ok := srv.Order(got["bulk_hosting_sid"].(string))
			assert.True(t, ok)
		})
	}
}

func TestRoutesAnswerTwilioErrors(t *testing.T) {
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantCode           int
		wantMessage        string
		wantAllow          string
	}{
		{"unknown path", "GET", "/v2/Somewhere/Else", 404, 20404, "The requested resource /v2/Somewhere/Else was not found", ""},
		{"unknown bulk order", "GET", bulkPath + "/" + unknownSID, 404, 20404, "The requested resource " + bulkPath + "/" + unknownSID + " was not found", ""},
		{"malformed SID", "GET", bulkPath + "/not-a-sid", 404, 20404, "The requested resource " + bulkPath + "/not-a-sid was not found", ""},
		{"nested path", "GET", bulkPath + "/" + unknownSID + "/More", 404, 20404, "The requested resource " + bulkPath + "/" + unknownSID + "/More was not found", ""},
		{"trailing slash", "GET", bulkPath + "/", 404, 20404, "The requested resource " + bulkPath + "/ was not found", ""},
		// Twilio documents no code for a method not allowed: none is given.
		{"GET on the collection", "GET", bulkPath, 405, 0, "Method not allowed", "POST"},
		{"PUT on the collection", "PUT", bulkPath, 405, 0, "Method not allowed", "POST"},
		{"DELETE on an order", "DELETE", bulkPath + "/" + unknownSID, 405, 0, "Method not allowed", "GET"},
		{"POST on an order", "POST", bulkPath + "/" + unknownSID, 405, 0, "Method not allowed", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			resp, body := authed(t, tt.method, srv.URL+tt.path, "", "")
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantAllow, resp.Header.Get("Allow"))
			assert.Regexp(t, requestIDPattern, resp.Header.Get("Twilio-Request-Id"))
			doc := decodeError(t, body)
			want := errorDoc{Code: tt.wantCode, Message: tt.wantMessage, Status: tt.wantStatus}
			if tt.wantCode != 0 {
				want.MoreInfo = fmt.Sprintf("https://www.twilio.com/docs/errors/%d", tt.wantCode)
			}
			assert.Equal(t, want, doc)
		})
	}
}

func TestFetchOfUnknownOrderIsErrNotFound(t *testing.T) {
	srv := newServer(t)
	_, err := srv.Client().BulkHostedNumberOrders.Fetch(context.Background(), unknownSID, nil)
	require.ErrorIs(t, err, hostednumbers.ErrNotFound)
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 20404, apiErr.Code)
	assert.Equal(t, "The requested resource "+bulkPath+"/"+unknownSID+" was not found", apiErr.Message)
	assert.Equal(t, 1, countMethod(srv, "GET"), "a 404 is not retried")
}

func TestRequestsRecordsEveryRequestWithoutSecrets(t *testing.T) {
	srv := newServer(t)
	client := srv.Client()
	params := sampleParams()
	created := create(t, client, params)
	_, err := client.BulkHostedNumberOrders.Fetch(context.Background(), created.BulkHostingSID,
		&hostednumbers.FetchBulkHostedNumberOrderParams{OrderStatus: "pending_loa"})
	require.NoError(t, err)
	resp, _, err := rawRequest(t, "GET", srv.URL+bulkPath+"/"+created.BulkHostingSID, "", "")
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 3)

	post := reqs[0]
	assert.Equal(t, "POST", post.Method)
	assert.Equal(t, bulkPath, post.Path)
	assert.Empty(t, post.Query)
	wantBody, err := json.Marshal(params)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantBody), string(post.Body))
	assert.Equal(t, "application/json", post.Header.Get("Content-Type"))
	assert.Contains(t, post.Header.Get("User-Agent"), "hostednumbers-go/")
	assert.Empty(t, post.Header.Values("Authorization"))
	assert.Equal(t, hostednumberstest.AccountSID, post.Username)
	assert.True(t, post.Authorized)
	assert.False(t, post.Faulted)
	assert.Regexp(t, requestIDPattern, post.RequestID)

	get := reqs[1]
	assert.Equal(t, "GET", get.Method)
	assert.Equal(t, bulkPath+"/"+created.BulkHostingSID, get.Path)
	assert.Equal(t, "pending-loa", get.Query.Get("OrderStatus"), "sent as the order status enum spells it")
	assert.Empty(t, get.Body)
	assert.True(t, get.Authorized)

	anonymous := reqs[2]
	assert.Empty(t, anonymous.Username)
	assert.False(t, anonymous.Authorized)
	assert.Equal(t, resp.Header.Get("Twilio-Request-Id"), anonymous.RequestID)
	assert.NotEqual(t, post.RequestID, get.RequestID)

	for _, r := range reqs {
		for name, values := range r.Header {
			for _, v := range values {
				assert.NotContains(t, v, hostednumberstest.AuthToken, "header %s", name)
			}
		}
	}

	// What Requests returns is a copy.
	reqs[0].Body[0] = 'X'
	reqs[0].Header.Set("Content-Type", "text/plain")
	reqs[1].Query.Set("OrderStatus", "changed")
	again := srv.Requests()
	assert.JSONEq(t, string(wantBody), string(again[0].Body))
	assert.Equal(t, "application/json", again[0].Header.Get("Content-Type"))
	assert.Equal(t, "pending-loa", again[1].Query.Get("OrderStatus"))
}

func TestNewServerPanicsOnInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  hostednumberstest.Option
		want string
	}{
		{"zero fetches per stage", hostednumberstest.WithFetchesPerStage(0), "WithFetchesPerStage(0)"},
		{"negative fetches per stage", hostednumberstest.WithFetchesPerStage(-2), "WithFetchesPerStage(-2)"},
		{"negative stage duration", hostednumberstest.WithStageDuration(-time.Second), "WithStageDuration"},
		{"negative queued delay", hostednumberstest.WithProcessingDelay(-time.Second, 0), "WithProcessingDelay"},
		{"negative in-progress delay", hostednumberstest.WithProcessingDelay(0, -time.Millisecond), "in progress -1ms"},
		{"negative hosting duration", hostednumberstest.WithHostingDuration(-time.Second), "WithHostingDuration -1s"},
		{"negative list lag", hostednumberstest.WithListLag(-time.Second), "WithListLag -1s"},
		{"negative abandoned delay", hostednumberstest.WithAbandonedCreateDelay(-time.Second), "WithAbandonedCreateDelay -1s"},
		{"unknown resubmission", hostednumberstest.WithResubmission(7), "WithResubmission(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := panicMessage(t, func() { hostednumberstest.NewServer(tt.opt).Close() })
			assert.Contains(t, msg, tt.want)
		})
	}
}

func TestNilOptionsAreIgnored(t *testing.T) {
	// Immediate: two fetches reach the outcome, no waiting needed.
	srv := newServer(t, nil, hostednumberstest.WithOutcome(nil), hostednumberstest.WithImmediateProcessing(), nil)
	client := srv.Client(nil)
	sid := create(t, client, numbersParams("+14155550109")).BulkHostingSID
	fetch(t, client, sid)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusCompleted: 1}, fetch(t, client, sid).CountsByStatus())
}

func TestClientPanicsOnInvalidOptionsWithoutSecrets(t *testing.T) {
	const secret = "s3cret token with spaces"
	t.Run("bad server credentials", func(t *testing.T) {
		srv := newServer(t, hostednumberstest.WithCredentials(hostednumberstest.AccountSID, secret))
		msg := panicMessage(t, func() { srv.Client() })
		assert.Contains(t, msg, "hostednumberstest")
		assert.Contains(t, msg, "auth_token")
		assert.NotContains(t, msg, "s3cret")
	})
	t.Run("bad client option", func(t *testing.T) {
		srv := newServer(t)
		msg := panicMessage(t, func() { srv.Client(hostednumbers.WithBaseURL("ftp://example.com")) })
		assert.Contains(t, msg, "base_url")
		assert.NotContains(t, msg, hostednumberstest.AuthToken)
	})
}

func TestClientOptionsOverrideTheDefaults(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 503})
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	_, err := client.BulkHostedNumberOrders.Fetch(context.Background(), unknownSID, nil)
	assert.ErrorIs(t, err, hostednumbers.ErrServer)
	assert.Equal(t, 1, countMethod(srv, "GET"), "retries were switched off")
	assert.Equal(t, srv.URL, client.BaseURL())
	assert.Equal(t, hostednumberstest.AccountSID, client.AccountSID())
}

func TestCloseIsIdempotentAndStopsServing(t *testing.T) {
	srv := hostednumberstest.NewServer()
	client := srv.Client()
	srv.Close()
	srv.Close()
	_, err := client.BulkHostedNumberOrders.Fetch(context.Background(), unknownSID, nil)
	require.Error(t, err)
	var apiErr *hostednumbers.APIError
	assert.False(t, errors.As(err, &apiErr), "no answer from a closed server")
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	assert.Error(t, err)
}

func panicMessage(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		require.NotNil(t, r, "did not panic")
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

package hostednumbers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Credentials and SIDs of the client tests. The token and secret are
// distinctive so that a leak anywhere is found by a plain substring search.
const (
	ctAccountSID = "AC0123456789abcdef0123456789abcdef"
	ctAuthToken  = "s3cr3tT0kenXYZ-mq7w!kvq9Lp@Wn4rT"
	ctAPIKey     = "SKfedcba9876543210fedcba9876543210"
	ctAPISecret  = "s3cr3tAp1SecretQRS-Zx8^uG2nHf5jR"
	ctBulkSID    = "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ctRequestID  = "RQ0123456789abcdef0123456789abcdef"
	ctBulkPath   = "/v2/HostedNumber/Orders/Bulk"
)

// ctFixture reads a file of testdata/.
func ctFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// ctClient returns a client of srvURL with account credentials and fast
// retries; opts come last and win.
func ctClient(t testing.TB, srvURL string, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithCredentials(ctAccountSID, ctAuthToken),
		WithBaseURL(srvURL),
		WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// ctWrite answers with status and body as JSON (or HTML when the body
// does not start with a brace) and a Twilio-Request-Id.
func ctWrite(w http.ResponseWriter, status int, body []byte) {
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		w.Header().Set("Content-Type", "text/html")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Twilio-Request-Id", ctRequestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ctAPIServer answers creates with testdata/create_202.json and fetches
// with testdata/fetch_200.json.
func ctAPIServer(t testing.TB) *httptest.Server {
	t.Helper()
	created, fetched := ctFixture(t, "create_202.json"), ctFixture(t, "fetch_200.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == ctBulkPath:
			ctWrite(w, http.StatusAccepted, created)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, ctBulkPath+"/"):
			ctWrite(w, http.StatusOK, fetched)
		default:
			ctWrite(w, http.StatusNotFound, ctFixture(t, "error_404.json"))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// ctClosedPortURL returns the URL of a loopback port nothing listens on.
func ctClosedPortURL(t testing.TB) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

// ctLogRecords decodes the records a slog.JSONHandler wrote.
func ctLogRecords(t testing.TB, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var records []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "log line %s", sc.Text())
		records = append(records, rec)
	}
	require.NoError(t, sc.Err())
	return records
}

func ctRecordsWithMessage(records []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range records {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// ctRequireValidationError checks that err is a configuration error that
// names exactly the given fields.
func ctRequireValidationError(t *testing.T, err error, fields ...string) *ValidationError {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidInput)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	got := make([]string, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		got = append(got, p.Field)
		assert.NotEmpty(t, p.Message, "field %s", p.Field)
	}
	assert.ElementsMatch(t, fields, got, "problems: %v", ve.Problems)
	for _, f := range fields {
		assert.Contains(t, err.Error(), f)
	}
	return ve
}

// ctCaptureAuthorization returns an option that sends requests through a
// transport answering every fetch from testdata, and a function that makes
// one fetch with a client and returns the Authorization header it sent.
func ctCaptureAuthorization(t testing.TB) (Option, func(*Client) string) {
	t.Helper()
	fetched := ctFixture(t, "fetch_200.json")
	var mu sync.Mutex
	var last string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		last = r.Header.Get("Authorization")
		mu.Unlock()
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(bytes.NewReader(fetched)),
			Request:    r,
		}, nil
	})
	send := func(c *Client) string {
		t.Helper()
		_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		return last
	}
	return WithHTTPClient(&http.Client{Transport: rt}), send
}

func ctBasicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// --- credentials ---------------------------------------------------------

func TestNewClient_AccountCredentialsAuthenticateAsTheAccount(t *testing.T) {
	var user, pass, header string
	var ok bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("Authorization")
		user, pass, ok = r.BasicAuth()
		ctWrite(w, http.StatusOK, ctFixture(t, "fetch_200.json"))
	}))
	defer srv.Close()

	c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)

	require.True(t, ok, "basic auth header %q", header)
	assert.Equal(t, ctAccountSID, user)
	assert.Equal(t, ctAuthToken, pass)
	assert.Equal(t, "Basic "+ctBasicAuth(ctAccountSID, ctAuthToken), header)
	assert.Equal(t, ctAccountSID, c.AccountSID())
}

func TestNewClient_APIKeyAuthenticatesAsTheKeyOnBehalfOfTheAccount(t *testing.T) {
	var header string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("Authorization")
		ctWrite(w, http.StatusOK, ctFixture(t, "fetch_200.json"))
	}))
	defer srv.Close()

	c, err := NewClient(WithAPIKey(ctAPIKey, ctAPISecret, ctAccountSID), WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)

	require.True(t, strings.HasPrefix(header, "Basic "), "header %q", header)
	decoded, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(header, "Basic "))
	require.NoError(t, err)
	user, pass, found := strings.Cut(string(decoded), ":")
	require.True(t, found)
	assert.Equal(t, ctAPIKey, user, "the basic auth user is the key SID")
	assert.Equal(t, ctAPISecret, pass)
	assert.Equal(t, ctAccountSID, c.AccountSID(), "the client still acts for the account")
}

func TestNewClient_InvalidCredentialsNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		field string
	}{
		{"no credentials at all", nil, "credentials"},
		{"account SID missing", []Option{WithCredentials("", ctAuthToken)}, "account_sid"},
		{"auth token missing", []Option{WithCredentials(ctAccountSID, "")}, "auth_token"},
		{"account SID with key prefix", []Option{WithCredentials("SK0123456789abcdef0123456789abcdef", ctAuthToken)}, "account_sid"},
		{"account SID with lower-case prefix", []Option{WithCredentials("ac0123456789abcdef0123456789abcdef", ctAuthToken)}, "account_sid"},
		{"account SID too short", []Option{WithCredentials(ctAccountSID[:33], ctAuthToken)}, "account_sid"},
		{"account SID too long", []Option{WithCredentials(ctAccountSID+"0", ctAuthToken)}, "account_sid"},
		{"account SID not hex", []Option{WithCredentials("AC0123456789abcdef0123456789abcdeg", ctAuthToken)}, "account_sid"},
		{"auth token with a space", []Option{WithCredentials(ctAccountSID, "abc def")}, "auth_token"},
		{"auth token with a newline", []Option{WithCredentials(ctAccountSID, ctAuthToken+"\n")}, "auth_token"},
		{"API key missing", []Option{WithAPIKey("", ctAPISecret, ctAccountSID)}, "api_key"},
		{"API key with account prefix", []Option{WithAPIKey(ctAccountSID, ctAPISecret, ctAccountSID)}, "api_key"},
		{"API key too short", []Option{WithAPIKey(ctAPIKey[:20], ctAPISecret, ctAccountSID)}, "api_key"},
		{"API key not hex", []Option{WithAPIKey("SKzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", ctAPISecret, ctAccountSID)}, "api_key"},
		{"API secret missing", []Option{WithAPIKey(ctAPIKey, "", ctAccountSID)}, "api_secret"},
		{"API key account missing", []Option{WithAPIKey(ctAPIKey, ctAPISecret, "")}, "account_sid"},
		{"API key account malformed", []Option{WithAPIKey(ctAPIKey, ctAPISecret, "AC123")}, "account_sid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.opts...)
			assert.Nil(t, c)
			ve := ctRequireValidationError(t, err, tt.field)
			p, ok := ve.Field(tt.field)
			require.True(t, ok)
			assert.Equal(t, tt.field, p.Field)
			assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: new client: "), err.Error())
		})
	}
}

func TestNewClient_ReportsEveryProblemAtOnce(t *testing.T) {
	c, err := NewClient(
		WithAPIKey("SKnope", "", "ACnope"),
		WithMaxRetries(-1),
		WithBaseURL("http://example.com"),
		WithMaxResponseBytes(0),
	)
	assert.Nil(t, c)
	_ = ctRequireValidationError(t, err, "account_sid", "api_key", "api_secret", "base_url", "max_retries", "max_response_bytes")
	assert.Contains(t, err.Error(), "6 problems: ")
}

func TestNewClient_LaterCredentialOptionsReplaceEarlierOnes(t *testing.T) {
	capture, sent := ctCaptureAuthorization(t)
	c, err := NewClient(WithAPIKey("bad", "", "bad"), WithCredentials(ctAccountSID, ctAuthToken), capture)
	require.NoError(t, err)
	assert.Equal(t, ctAccountSID, c.AccountSID())
	assert.Equal(t, "Basic "+ctBasicAuth(ctAccountSID, ctAuthToken), sent(c))
}

func TestNewClient_NilOptionsAreIgnored(t *testing.T) {
	c, err := NewClient(nil, WithCredentials(ctAccountSID, ctAuthToken), nil)
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, c.BaseURL())
}

// --- environment ---------------------------------------------------------

var twilioEnv = []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_REGION", "TWILIO_EDGE"}

// ctSetenv clears every variable NewClientFromEnv reads, then sets env.
func ctSetenv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, name := range twilioEnv {
		t.Setenv(name, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func TestNewClientFromEnv_AuthenticatesWithTheVariables(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		user, pass string
	}{
		{"account and token", map[string]string{"TWILIO_ACCOUNT_SID": ctAccountSID, "TWILIO_AUTH_TOKEN": ctAuthToken}, ctAccountSID, ctAuthToken},
		{"api key", map[string]string{
			"TWILIO_ACCOUNT_SID": ctAccountSID,
			"TWILIO_AUTH_TOKEN":  "ignored-when-an-api-key-is-set",
			"TWILIO_API_KEY":     ctAPIKey,
			"TWILIO_API_SECRET":  ctAPISecret,
		}, ctAPIKey, ctAPISecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctSetenv(t, tt.env)
			capture, sent := ctCaptureAuthorization(t)
			c, err := NewClientFromEnv(capture)
			require.NoError(t, err)
			assert.Equal(t, "Basic "+ctBasicAuth(tt.user, tt.pass), sent(c))
			assert.Equal(t, ctAccountSID, c.AccountSID())
		})
	}
}

func TestNewClientFromEnv_MissingOrMalformedVariablesAreNamed(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		fields []string
	}{
		{"nothing set", nil, []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"}},
		{"token missing", map[string]string{"TWILIO_ACCOUNT_SID": ctAccountSID}, []string{"TWILIO_AUTH_TOKEN"}},
		{"account missing", map[string]string{"TWILIO_AUTH_TOKEN": ctAuthToken}, []string{"TWILIO_ACCOUNT_SID"}},
		{"account malformed", map[string]string{"TWILIO_ACCOUNT_SID": "AC-not-a-sid", "TWILIO_AUTH_TOKEN": ctAuthToken}, []string{"TWILIO_ACCOUNT_SID"}},
		{"API secret missing", map[string]string{"TWILIO_ACCOUNT_SID": ctAccountSID, "TWILIO_API_KEY": ctAPIKey}, []string{"TWILIO_API_SECRET"}},
		{"API key malformed", map[string]string{"TWILIO_ACCOUNT_SID": ctAccountSID, "TWILIO_API_KEY": "SK1", "TWILIO_API_SECRET": ctAPISecret}, []string{"TWILIO_API_KEY"}},
		{"API key without account", map[string]string{"TWILIO_API_KEY": ctAPIKey, "TWILIO_API_SECRET": ctAPISecret}, []string{"TWILIO_ACCOUNT_SID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctSetenv(t, tt.env)
			c, err := NewClientFromEnv()
			assert.Nil(t, c)
			_ = ctRequireValidationError(t, err, tt.fields...)
		})
	}
}

func TestNewClientFromEnv_RegionAndEdge(t *testing.T) {
	creds := map[string]string{"TWILIO_ACCOUNT_SID": ctAccountSID, "TWILIO_AUTH_TOKEN": ctAuthToken}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range creds {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		opts []Option
		want string
	}{
		{"neither", with(), nil, "https://numbers.twilio.com"},
		{"region", with("TWILIO_REGION", "au1"), nil, "https://numbers.au1.twilio.com"},
		{"region and edge", with("TWILIO_REGION", "au1", "TWILIO_EDGE", "sydney"), nil, "https://numbers.sydney.au1.twilio.com"},
		{"edge only uses us1", with("TWILIO_EDGE", "sydney"), nil, "https://numbers.sydney.us1.twilio.com"},
		{"WithRegion overrides the environment", with("TWILIO_REGION", "au1"), []Option{WithRegion("ie1")}, "https://numbers.ie1.twilio.com"},
		{"WithEdge overrides the environment", with("TWILIO_REGION", "ie1", "TWILIO_EDGE", "sydney"), []Option{WithEdge("dublin")}, "https://numbers.dublin.ie1.twilio.com"},
		{"WithBaseURL wins over the environment", with("TWILIO_REGION", "au1", "TWILIO_EDGE", "sydney"), []Option{WithBaseURL("http://127.0.0.1:8080/")}, "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctSetenv(t, tt.env)
			c, err := NewClientFromEnv(tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.BaseURL())
		})
	}
}

func TestNewClientFromEnv_BadRegionOrEdgeNamesTheVariable(t *testing.T) {
	ctSetenv(t, map[string]string{
		"TWILIO_ACCOUNT_SID": ctAccountSID, "TWILIO_AUTH_TOKEN": ctAuthToken,
		"TWILIO_REGION": "au1.evil.example", "TWILIO_EDGE": "syd ney",
	})
	_, err := NewClientFromEnv()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	_, region := ve.Field("TWILIO_REGION")
	_, edge := ve.Field("TWILIO_EDGE")
	assert.True(t, region && edge, "problems: %v", ve.Problems)
}

func TestNewClientFromEnv_OptionsOverrideEnvironmentCredentials(t *testing.T) {
	other := "ACffffffffffffffffffffffffffffffff"
	ctSetenv(t, map[string]string{"TWILIO_ACCOUNT_SID": "garbage", "TWILIO_API_KEY": "garbage"})
	capture, sent := ctCaptureAuthorization(t)
	c, err := NewClientFromEnv(WithCredentials(other, ctAuthToken), capture)
	require.NoError(t, err, "valid options make broken environment credentials irrelevant")
	assert.Equal(t, other, c.AccountSID())
	assert.Equal(t, "Basic "+ctBasicAuth(other, ctAuthToken), sent(c))

	ctSetenv(t, map[string]string{"TWILIO_ACCOUNT_SID": ctAccountSID, "TWILIO_AUTH_TOKEN": ctAuthToken})
	c, err = NewClientFromEnv(WithAPIKey(ctAPIKey, ctAPISecret, other), capture)
	require.NoError(t, err)
	assert.Equal(t, other, c.AccountSID())
	assert.Equal(t, "Basic "+ctBasicAuth(ctAPIKey, ctAPISecret), sent(c))
}

// --- base URL ------------------------------------------------------------

func TestWithBaseURL_Rules(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    string // when accepted
		problem string // part of the message when refused
	}{
		{"IPv4 loopback over http", "http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"other IPv4 loopback address", "http://127.0.0.2:9", "http://127.0.0.2:9", ""},
		{"localhost over http", "http://localhost:8080", "http://localhost:8080", ""},
		{"IPv6 loopback over http", "http://[::1]:8080", "http://[::1]:8080", ""},
		{"https anywhere", "https://proxy.example.com", "https://proxy.example.com", ""},
		{"trailing slash trimmed", "http://127.0.0.1:8080/", "http://127.0.0.1:8080", ""},
		{"path kept, trailing slash trimmed", "https://proxy.example.com/twilio/", "https://proxy.example.com/twilio", ""},
		{"plain http to a remote host", "http://example.com", "", "loopback"},
		{"plain http to a look-alike of localhost", "http://localhost.example.com", "", "loopback"},
		{"plain http to a private address", "http://10.0.0.1:8080", "", "loopback"},
		{"user information", "https://user:pass@proxy.example.com", "", "user information"},
		{"user without password", "https://user@proxy.example.com", "", "user information"},
		{"query", "https://proxy.example.com/?x=1", "", "query"},
		{"fragment", "https://proxy.example.com/#top", "", "fragment"},
		{"other scheme", "ftp://proxy.example.com", "", "https"},
		{"no scheme", "numbers.twilio.com", "", "https"},
		{"no host", "https:///v2", "", "https"},
		{"unparsable", "https://proxy.example.com/%zz", "", "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(tt.url))
			if tt.problem == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, c.BaseURL())
				return
			}
			assert.Nil(t, c)
			ve := ctRequireValidationError(t, err, "base_url")
			assert.Contains(t, ve.Problems[0].Message, tt.problem)
		})
	}
}

func TestWithBaseURL_RefusalNeverEchoesAPassword(t *testing.T) {
	for _, raw := range []string{
		"https://user:pass@proxy.example.com",
		"https://user:hunter2pw@proxy.example.com/twilio",
		"http://user:hunter2pw@127.0.0.1:8080",
		"https://user:hunter2pw@proxy.example.com/%zz",  // does not parse
		"https://user:hunter2pw@proxy.example.com:port", // does not parse
	} {
		c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(raw))
		assert.Nil(t, c)
		_ = ctRequireValidationError(t, err, "base_url")
		assert.NotContains(t, err.Error(), "pass", raw)
		assert.NotContains(t, err.Error(), "hunter2pw", raw)
		assert.NotContains(t, err.Error(), "proxy.example.com", "the URL is not quoted at all")
	}
}

func TestWithBaseURL_CannotBeCombinedWithRegionOrEdge(t *testing.T) {
	for name, opt := range map[string]Option{"region": WithRegion("au1"), "edge": WithEdge("sydney")} {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL("http://127.0.0.1:8080"), opt)
			assert.Nil(t, c)
			ve := ctRequireValidationError(t, err, "base_url")
			assert.Contains(t, ve.Problems[0].Message, "region or edge")
		})
	}
}

func TestRegionAndEdge_BuildHostsAndRejectBadLabels(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		want  string
		field string
	}{
		{"default", nil, "https://numbers.twilio.com", ""},
		{"region", []Option{WithRegion("ie1")}, "https://numbers.ie1.twilio.com", ""},
		{"edge", []Option{WithEdge("dublin")}, "https://numbers.dublin.us1.twilio.com", ""},
		{"both", []Option{WithRegion("ie1"), WithEdge("dublin")}, "https://numbers.dublin.ie1.twilio.com", ""},
		{"hyphen and digits", []Option{WithRegion("us-2")}, "https://numbers.us-2.twilio.com", ""},
		{"upper case region", []Option{WithRegion("AU1")}, "", "region"},
		{"dotted region", []Option{WithRegion("au1.evil.example")}, "", "region"},
		{"region with slash", []Option{WithRegion("au1/")}, "", "region"},
		{"region with at sign", []Option{WithRegion("evil.example@")}, "", "region"},
		{"edge with space", []Option{WithEdge("syd ney")}, "", "edge"},
		{"edge with colon", []Option{WithEdge("sydney:8080")}, "", "edge"},
		{"both bad", []Option{WithRegion("a.b"), WithEdge("c/d")}, "", "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(append([]Option{WithCredentials(ctAccountSID, ctAuthToken)}, tt.opts...)...)
			if tt.field == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, c.BaseURL())
				return
			}
			assert.Nil(t, c)
			require.Error(t, err)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			_, ok := ve.Field(tt.field)
			assert.True(t, ok, "problems: %v", ve.Problems)
		})
	}
}

// --- other options -------------------------------------------------------

func TestNewClient_OptionsAreValidated(t *testing.T) {
	tests := []struct {
		name  string
		opt   Option
		field string
	}{
		{"negative retries", WithMaxRetries(-1), "max_retries"},
		{"min backoff above max", WithRetryBackoff(2*time.Second, time.Second), "retry_backoff"},
		{"negative min backoff", WithRetryBackoff(-time.Second, time.Second), "retry_backoff"},
		{"negative max Retry-After", WithMaxRetryAfter(-time.Second), "max_retry_after"},
		{"negative timeout", WithTimeout(-time.Second), "timeout"},
		{"zero max response bytes", WithMaxResponseBytes(0), "max_response_bytes"},
		{"negative max response bytes", WithMaxResponseBytes(-1), "max_response_bytes"},
		{"newline in user agent suffix", WithUserAgentSuffix("app/1.0\r\nX-Evil: 1"), "user_agent_suffix"},
		{"tab in user agent suffix", WithUserAgentSuffix("app/1.0\t"), "user_agent_suffix"},
		{"DEL in user agent suffix", WithUserAgentSuffix("app/1.0\x7f"), "user_agent_suffix"},
		{"non-ASCII user agent suffix", WithUserAgentSuffix("appé/1.0"), "user_agent_suffix"},
		{"nil http client", WithHTTPClient(nil), "http_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), tt.opt)
			assert.Nil(t, c)
			_ = ctRequireValidationError(t, err, tt.field)
		})
	}
}

func TestNewClient_BoundaryOptionValuesAreAccepted(t *testing.T) {
	c, err := NewClient(
		WithCredentials(ctAccountSID, ctAuthToken),
		WithMaxRetries(0),
		WithRetryBackoff(0, 0),
		WithMaxRetryAfter(0),
		WithTimeout(0),
		WithMaxResponseBytes(1),
		WithUserAgentSuffix("my-service/1.2 (+https://example.com)"),
	)
	require.NoError(t, err)
	assert.NotNil(t, c.BulkHostedNumberOrders)
}

// --- request headers -----------------------------------------------------

var userAgentPattern = regexp.MustCompile(`^hostednumbers-go/` + regexp.QuoteMeta(Version) + ` \(\w+ \w+\) go/[0-9.]+`)

func TestRequestHeaders(t *testing.T) {
	type seen struct {
		method, userAgent, accept, contentType string
		contentLength                          int64
		headers                                http.Header
	}
	var mu sync.Mutex
	var requests []seen
	created, fetched := ctFixture(t, "create_202.json"), ctFixture(t, "fetch_200.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		requests = append(requests, seen{r.Method, r.UserAgent(), r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.ContentLength, r.Header.Clone()})
		mu.Unlock()
		if r.Method == http.MethodPost {
			ctWrite(w, http.StatusAccepted, created)
			return
		}
		ctWrite(w, http.StatusOK, fetched)
	}))
	defer srv.Close()

	for _, suffix := range []string{"", "my-service/1.2"} {
		t.Run("suffix "+suffix, func(t *testing.T) {
			mu.Lock()
			requests = nil
			mu.Unlock()
			opts := []Option{}
			if suffix != "" {
				opts = append(opts, WithUserAgentSuffix(suffix))
			}
			c := ctClient(t, srv.URL, opts...)
			_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
			require.NoError(t, err)
			_, err = c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
			require.NoError(t, err)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, requests, 2)
			post, get := requests[0], requests[1]
			require.Equal(t, http.MethodPost, post.method)
			require.Equal(t, http.MethodGet, get.method)
			for _, r := range requests {
				assert.Regexp(t, userAgentPattern, r.userAgent, r.method)
				if suffix != "" {
					assert.True(t, strings.HasSuffix(r.userAgent, " "+suffix), "User-Agent %q", r.userAgent)
				} else {
					assert.Equal(t, 3, strings.Count(r.userAgent, " "), "no suffix: %q", r.userAgent)
				}
				assert.Equal(t, "application/json", r.accept, r.method)
				assert.Len(t, r.headers.Values("Authorization"), 1, r.method)
				assert.Empty(t, r.headers.Get("Cookie"), r.method)
			}
			assert.Equal(t, "application/json", post.contentType)
			assert.Equal(t, int64(2), post.contentLength, "nil params send {}")
			assert.Empty(t, get.contentType, "a GET carries no Content-Type")
			assert.Zero(t, get.contentLength, "a GET carries no body")
		})
	}
}

// --- secrets -------------------------------------------------------------

func TestSecrets_NeverAppearInErrorsLogsOrFormattedValues(t *testing.T) {
	forbidden := map[string]string{
		"auth token":         ctAuthToken,
		"API secret":         ctAPISecret,
		"account credential": ctBasicAuth(ctAccountSID, ctAuthToken),
		"API key credential": ctBasicAuth(ctAPIKey, ctAPISecret),
	}
	var texts []string
	note := func(label, s string) { texts = append(texts, label+": "+s) }
	noteErr := func(label string, err error) {
		require.Error(t, err, label)
		note(label, err.Error())
		note(label+" %+v", fmt.Sprintf("%+v", err))
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			note(label+" APIError", fmt.Sprintf("%#v", *apiErr))
		}
	}

	var logBuf bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logBuf, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var authSeen sync.Map
	const sid500, sid429 = "BH00000000000000000000000000000500", "BH00000000000000000000000000000429"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authSeen.Store(r.Header.Get("Authorization"), true)
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.Method == http.MethodPost:
			ctWrite(w, http.StatusUnauthorized, ctFixture(t, "error_401.json"))
		case strings.HasSuffix(r.URL.Path, sid500):
			ctWrite(w, http.StatusInternalServerError, []byte(`{"code":20500,"message":"Internal Server Error","status":500}`))
		case strings.HasSuffix(r.URL.Path, sid429):
			w.Header().Set("Retry-After", "0")
			ctWrite(w, http.StatusTooManyRequests, ctFixture(t, "error_429.json"))
		default:
			ctWrite(w, http.StatusOK, ctFixture(t, "fetch_200.json"))
		}
	}))
	defer srv.Close()
	refused := ctClosedPortURL(t)

	credentials := map[string]Option{
		"token":   WithCredentials(ctAccountSID, ctAuthToken),
		"API key": WithAPIKey(ctAPIKey, ctAPISecret, ctAccountSID),
	}
	ctx := context.Background()
	for name, creds := range credentials {
		opts := []Option{creds, WithLogger(logger), WithMaxRetries(2), WithRetryBackoff(time.Millisecond, 2*time.Millisecond)}
		c, err := NewClient(append(opts, WithBaseURL(srv.URL))...)
		require.NoError(t, err)

		_, err = c.BulkHostedNumberOrders.Create(ctx, nil)
		require.ErrorIs(t, err, ErrUnauthorized)
		noteErr(name+" 401", err)
		_, err = c.BulkHostedNumberOrders.Fetch(ctx, sid500, nil)
		require.ErrorIs(t, err, ErrServer)
		noteErr(name+" 500", err)
		_, err = c.BulkHostedNumberOrders.Fetch(ctx, sid429, nil)
		require.ErrorIs(t, err, ErrRateLimited)
		noteErr(name+" 429", err)
		_, err = c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
		require.NoError(t, err)
		_, err = c.BulkHostedNumberOrders.Fetch(ctx, "BH123", nil)
		noteErr(name+" invalid SID", err)
		_, err = c.BulkHostedNumberOrders.Create(ctx, &CreateBulkHostedNumberOrderParams{NotificationEmail: "nope"})
		noteErr(name+" invalid params", err)

		down, err := NewClient(append(opts, WithBaseURL(refused))...)
		require.NoError(t, err)
		_, err = down.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
		noteErr(name+" connection refused", err)
		_, err = down.BulkHostedNumberOrders.Create(ctx, nil)
		noteErr(name+" connection refused POST", err)

		note(name+" formatted", fmt.Sprintf("%v %+v %#v %s %q %x %d", c, c, c, c, c, c, c))
		note(name+" Sprint", fmt.Sprint(c)+fmt.Sprintln(c))
		note(name+" service", fmt.Sprintf("%v %+v %#v", c.BulkHostedNumberOrders, c.BulkHostedNumberOrders, c.BulkHostedNumberOrders))
		logger.Info("client as an attribute", "client", c)
	}

	// Credentials given in the wrong order must not be quoted back.
	_, err := NewClient(WithCredentials(ctAuthToken, ctAccountSID))
	noteErr("swapped credentials", err)
	_, err = NewClient(WithAPIKey(ctAPISecret, ctAPIKey, ctAccountSID))
	noteErr("swapped key and secret", err)
	_, err = NewClient(WithAPIKey(ctAPIKey, ctAccountSID, ctAPISecret))
	noteErr("secret as account", err)
	_, err = NewClient(WithCredentials(ctAccountSID, ctAuthToken+" "+ctAPISecret))
	noteErr("token with a space", err)
	ctSetenv(t, map[string]string{"TWILIO_ACCOUNT_SID": ctAuthToken, "TWILIO_AUTH_TOKEN": ctAccountSID})
	_, err = NewClientFromEnv()
	noteErr("swapped environment", err)
	ctSetenv(t, map[string]string{"TWILIO_ACCOUNT_SID": ctAccountSID, "TWILIO_API_KEY": ctAPISecret, "TWILIO_API_SECRET": ctAPIKey})
	_, err = NewClientFromEnv()
	noteErr("swapped environment key", err)

	logMu.Lock()
	logs := logBuf.String()
	logMu.Unlock()
	note("logs", logs)
	assert.Contains(t, logs, "hostednumbers: retrying request", "retries were logged")
	assert.Contains(t, logs, `"level":"DEBUG"`, "debug records were logged")

	// The test would prove nothing if the server had not seen the secrets.
	_, sawToken := authSeen.Load("Basic " + forbidden["account credential"])
	_, sawKey := authSeen.Load("Basic " + forbidden["API key credential"])
	require.True(t, sawToken && sawKey, "the server saw both credentials")

	for _, text := range texts {
		for what, secret := range forbidden {
			if strings.Contains(text, secret) {
				t.Errorf("%s leaked into %s", what, text)
			}
		}
	}
}

func TestSecrets_DereferencedClientIsNotFormattedWithCredentials(t *testing.T) {
	c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken))
	require.NoError(t, err)
	// reflect copies the struct the way *c would, without tripping vet's
	// copylocks check. Client's Format has a pointer receiver, so a value
	// is printed field by field.
	value := reflect.ValueOf(c).Elem().Interface()
	// Verbs a pointer field does not support print it as %!s(*T=&{...}),
	// contents included.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%t", "%e", "%c", "%U"} {
		text := fmt.Sprintf(verb, value)
		assert.NotContains(t, text, ctBasicAuth(ctAccountSID, ctAuthToken), "fmt.Sprintf(%q, *client)", verb)
		assert.NotContains(t, text, ctAuthToken, "fmt.Sprintf(%q, *client)", verb)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// --- quiet by default ----------------------------------------------------

func TestClient_IsQuietByDefault(t *testing.T) {
	var gets, posts atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPost {
			posts.Add(1)
			ctWrite(w, http.StatusTooManyRequests, ctFixture(t, "error_429.json"))
			return
		}
		gets.Add(1)
		ctWrite(w, http.StatusServiceUnavailable, []byte(`{"code":20503,"message":"Service Unavailable","status":503}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the server's noise is not the client's
	srv.Start()
	defer srv.Close()
	refused := ctClosedPortURL(t)

	r, w, err := os.Pipe()
	require.NoError(t, err)
	captured := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		captured <- b
	}()
	oldStderr, oldLogOutput := os.Stderr, log.Writer()
	os.Stderr = w
	log.SetOutput(w)
	restore := sync.OnceFunc(func() {
		os.Stderr = oldStderr
		log.SetOutput(oldLogOutput)
		_ = w.Close()
	})
	defer restore()

	// Clients are built while stderr is redirected, so that a default
	// logger bound to os.Stderr at construction would be caught too.
	c := ctClient(t, srv.URL, WithMaxRetries(2))
	_, err = c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	assert.ErrorIs(t, err, ErrServer)
	_, err = c.BulkHostedNumberOrders.Create(context.Background(), nil)
	assert.ErrorIs(t, err, ErrRateLimited)
	down := ctClient(t, refused, WithMaxRetries(1))
	_, err = down.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	assert.Error(t, err)

	restore()
	out := <-captured
	assert.Equal(t, int32(3), gets.Load(), "the GET was retried")
	assert.Equal(t, int32(3), posts.Load(), "the POST was retried")
	assert.Empty(t, string(out), "the client wrote to stderr")
}

// --- logging -------------------------------------------------------------

func TestLogger_SuccessfulRequestIsLoggedAtDebugWithItsOutcome(t *testing.T) {
	srv := ctAPIServer(t)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := ctClient(t, srv.URL, WithLogger(logger))

	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)

	records := ctLogRecords(t, &buf)
	require.Len(t, records, 2, buf.String())
	attempt := records[0]
	assert.Equal(t, "DEBUG", attempt["level"])
	assert.Equal(t, "hostednumbers: attempt", attempt["msg"])
	assert.Equal(t, float64(1), attempt["attempt"])
	assert.Equal(t, float64(200), attempt["status"])
	assert.Equal(t, ctRequestID, attempt["request_id"])
	assert.Contains(t, attempt, "latency")
	rec := records[1]
	assert.Equal(t, "DEBUG", rec["level"])
	assert.Equal(t, "hostednumbers: request", rec["msg"])
	assert.Equal(t, "GET", rec["method"])
	assert.Equal(t, ctBulkPath+"/"+ctBulkSID, rec["path"])
	assert.Equal(t, float64(200), rec["status"])
	assert.Equal(t, ctRequestID, rec["request_id"])
	assert.Equal(t, float64(1), rec["attempts"])
	assert.Contains(t, rec, "duration")
	assert.NotContains(t, rec, "error")
}

func TestLogger_RetriesAndFailuresAreLogged(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "404"):
			ctWrite(w, http.StatusNotFound, ctFixture(t, "error_404.json"))
		case calls.Add(1) <= 2:
			ctWrite(w, http.StatusServiceUnavailable, []byte(`{"code":20503,"message":"Service Unavailable","status":503}`))
		default:
			ctWrite(w, http.StatusOK, ctFixture(t, "fetch_200.json"))
		}
	}))
	defer srv.Close()
	var buf bytes.Buffer
	c := ctClient(t, srv.URL, WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))

	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)
	records := ctLogRecords(t, &buf)

	retries := ctRecordsWithMessage(records, "hostednumbers: retrying request")
	require.Len(t, retries, 2, buf.String())
	for i, rec := range retries {
		assert.Equal(t, "INFO", rec["level"])
		assert.Equal(t, "GET", rec["method"])
		assert.Equal(t, ctBulkPath+"/"+ctBulkSID, rec["path"])
		assert.Equal(t, float64(i+2), rec["attempt"])
		assert.Equal(t, float64(503), rec["after_status"], "the retry record names the status that caused it")
	}
	attempts := ctRecordsWithMessage(records, "hostednumbers: attempt")
	require.Len(t, attempts, 3, buf.String())
	for i, rec := range attempts {
		assert.Equal(t, float64(i+1), rec["attempt"])
		assert.Equal(t, float64([]int{503, 503, 200}[i]), rec["status"])
	}
	outcome := ctRecordsWithMessage(records, "hostednumbers: request")
	require.Len(t, outcome, 1)
	assert.Equal(t, float64(3), outcome[0]["attempts"])
	assert.Equal(t, float64(200), outcome[0]["status"])

	buf.Reset()
	const missing = "BH00000000000000000000000000000404"
	_, err = c.BulkHostedNumberOrders.Fetch(context.Background(), missing, nil)
	require.ErrorIs(t, err, ErrNotFound)
	records = ctRecordsWithMessage(ctLogRecords(t, &buf), "hostednumbers: request")
	require.Len(t, records, 1, buf.String())
	assert.Equal(t, "WARN", records[0]["level"])
	assert.Equal(t, float64(404), records[0]["status"])
	assert.Equal(t, ctRequestID, records[0]["request_id"])
	assert.Contains(t, records[0]["error"], "404")
}

func TestLogger_InfoLevelSkipsSuccessRecords(t *testing.T) {
	srv := ctAPIServer(t)
	var buf bytes.Buffer
	c := ctClient(t, srv.URL, WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

// --- response size -------------------------------------------------------

func TestMaxResponseBytes_OversizedSuccessIsAnAcceptedDecodeError(t *testing.T) {
	created := ctFixture(t, "create_202.json")
	padded := func(n int) []byte { // the fixture, padded with spaces to n bytes
		return append(bytes.Clone(created), bytes.Repeat([]byte(" "), n-len(created))...)
	}
	tests := []struct {
		name    string
		status  int
		body    []byte
		tooBig  bool
		creates bool
	}{
		{"202 of 10 KiB", http.StatusAccepted, padded(10 << 10), true, true},
		{"202 one byte over", http.StatusAccepted, padded(1025), true, true},
		{"202 exactly at the cap", http.StatusAccepted, padded(1024), false, true},
		{"200 of 10 KiB", http.StatusOK, padded(10 << 10), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				ctWrite(w, tt.status, tt.body)
			}))
			defer srv.Close()
			c := ctClient(t, srv.URL, WithMaxResponseBytes(1024))

			var err error
			if tt.creates {
				_, err = c.BulkHostedNumberOrders.Create(context.Background(), nil)
			} else {
				_, err = c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
			}
			if !tt.tooBig {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrResponseTooLarge)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.True(t, de.Accepted())
			assert.Equal(t, tt.status, de.HTTPStatus)
			assert.Equal(t, ctRequestID, de.RequestID)
			assert.Contains(t, err.Error(), "1024 bytes")
			if tt.status == http.StatusAccepted {
				assert.Contains(t, err.Error(), "may exist")
			}
		})
	}
}

func TestCreate_BodyCutShortIsAnAcceptedDecodeError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer func() { _ = conn.Close() }()
		_, _ = buf.WriteString("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n" +
			"Twilio-Request-Id: " + ctRequestID + "\r\nContent-Length: 1000\r\n\r\n{\"bulk_hosting_sid\":")
		_ = buf.Flush()
	}))
	defer srv.Close()
	c := ctClient(t, srv.URL)

	_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.Accepted())
	assert.Equal(t, http.StatusAccepted, de.HTTPStatus)
	assert.Equal(t, ctRequestID, de.RequestID)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "reading body")
	assert.Contains(t, err.Error(), "may exist")
}

func TestMaxResponseBytes_LargeBodyWithinTheDefaultCapIsRead(t *testing.T) {
	fetched := ctFixture(t, "fetch_200.json")
	body := append(bytes.Repeat([]byte(" "), 1<<20), fetched...) // over the pooled-buffer limit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctWrite(w, http.StatusOK, body)
	}))
	defer srv.Close()
	c := ctClient(t, srv.URL)
	order, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.NoError(t, err)
	assert.Equal(t, ctBulkSID, order.BulkHostingSID)
	assert.Len(t, order.Results, 2)
}

func TestMaxResponseBytes_OversizedErrorBodyIsCutToAnExcerpt(t *testing.T) {
	page := "<html><body>" + strings.Repeat("<p>Bad Gateway</p>\n", 2000) + "</body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctWrite(w, http.StatusBadGateway, []byte(page))
	}))
	defer srv.Close()
	c := ctClient(t, srv.URL, WithMaxResponseBytes(1024), WithMaxRetries(0))
	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.HTTPStatus)
	assert.NotEmpty(t, apiErr.Body)
	assert.LessOrEqual(t, len(apiErr.Body), 210)
	assert.ErrorIs(t, err, ErrServer)
}

func TestMaxResponseBytes_EndlessBodyEndsPromptly(t *testing.T) {
	handlerDone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"bulk_hosting_sid":"`))
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		flusher := w.(http.Flusher)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			flusher.Flush()
		}
	}))
	defer srv.Close()
	c := ctClient(t, srv.URL, WithMaxResponseBytes(256<<10))

	start := time.Now()
	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, ErrResponseTooLarge)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.Accepted())
	assert.Less(t, elapsed, 5*time.Second)

	select {
	case <-handlerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the server kept streaming: the client did not close the body")
	}
}

// --- connections ---------------------------------------------------------

// ctConnCountingServer serves handler and counts the connections clients
// opened to it.
func ctConnCountingServer(t testing.TB, handler http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var newConns atomic.Int32
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &newConns
}

func TestConnectionReuse_ConcurrentRequestsShareTheDefaultPool(t *testing.T) {
	const goroutines, perGoroutine = 16, 25
	fetched := ctFixture(t, "fetch_200.json")
	var requests atomic.Int32
	srv, newConns := ctConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		ctWrite(w, http.StatusOK, fetched)
	}))
	// The default transport: no WithHTTPClient.
	c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(srv.URL))
	require.NoError(t, err)
	defer c.CloseIdleConnections()

	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				if _, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, int32(goroutines*perGoroutine), requests.Load())
	t.Logf("%d requests over %d connections", requests.Load(), newConns.Load())
	// One connection per goroutine, plus slack for the moment a finished
	// connection is not yet back in the pool when its goroutine's next
	// request asks for one: 16 to 24 on an idle machine, up to 31 on a
	// loaded one (goroutines late by tens of milliseconds). The same test
	// with a pool of GOMAXPROCS+1 (3 on a 2-core machine) idle connections
	// opened 63 to 81, so the bound stays well below that.
	assert.LessOrEqual(t, newConns.Load(), int32(goroutines*5/2),
		"connections are kept for reuse, not closed and reopened")
}

// ctGate holds requests until n of them are in flight at once, so that each
// has a connection of its own.
type ctGate struct {
	n       int32
	arrived atomic.Int32
	open    chan struct{}
}

func newCTGate(n int32) *ctGate { return &ctGate{n: n, open: make(chan struct{})} }

func (g *ctGate) wait() {
	if g.arrived.Add(1) == g.n {
		close(g.open)
	}
	select {
	case <-g.open:
	case <-time.After(5 * time.Second):
	}
}

func TestConnectionReuse_GivingUpKeepsOtherIdleConnectionsAndCloseIdleConnectionsClosesThem(t *testing.T) {
	const parallel = 4
	const failing = "BH00000000000000000000000000000503"
	var gate atomic.Pointer[ctGate]
	fetched := ctFixture(t, "fetch_200.json")
	srv, newConns := ctConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, failing) {
			ctWrite(w, http.StatusServiceUnavailable, []byte(`{"code":20503,"message":"Service Unavailable","status":503}`))
			return
		}
		gate.Load().wait()
		ctWrite(w, http.StatusOK, fetched)
	}))
	c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL(srv.URL),
		WithMaxRetries(1), WithRetryBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	defer c.CloseIdleConnections()

	burst := func() {
		gate.Store(newCTGate(parallel))
		var wg sync.WaitGroup
		for i := 0; i < parallel; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		// Let the transport put the connections back into its pool.
		time.Sleep(50 * time.Millisecond)
	}

	burst()
	require.Equal(t, int32(parallel), newConns.Load(), "each request of the burst had its own connection")

	_, err = c.BulkHostedNumberOrders.Fetch(context.Background(), failing, nil)
	require.ErrorIs(t, err, ErrServer, "retries ran out")
	time.Sleep(50 * time.Millisecond)

	burst()
	assert.Less(t, newConns.Load()-parallel, int32(parallel-1),
		"the idle connections survived the request that gave up (retryablehttp closes idle connections when it gives up)")

	before := newConns.Load()
	c.CloseIdleConnections()
	burst()
	assert.GreaterOrEqual(t, newConns.Load()-before, int32(parallel-1), "CloseIdleConnections closed the idle connections")
}

// closeCountingTransport is a RoundTripper whose CloseIdleConnections calls
// are counted.
type closeCountingTransport struct {
	rt     http.RoundTripper
	closes atomic.Int32
}

func (c *closeCountingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return c.rt.RoundTrip(r)
}
func (c *closeCountingTransport) CloseIdleConnections() { c.closes.Add(1) }

func TestCloseIdleConnections_ReachesTheTransportOnlyWhenAsked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctWrite(w, http.StatusServiceUnavailable, []byte(`{"code":20503,"message":"Service Unavailable","status":503}`))
	}))
	defer srv.Close()
	tr := &closeCountingTransport{rt: srv.Client().Transport}
	c := ctClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: tr}), WithMaxRetries(2))

	_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
	require.ErrorIs(t, err, ErrServer)
	_, err = c.BulkHostedNumberOrders.Create(context.Background(), nil)
	require.ErrorIs(t, err, ErrServer)
	assert.Zero(t, tr.closes.Load(), "giving up must not close the shared pool")

	c.CloseIdleConnections()
	assert.Equal(t, int32(1), tr.closes.Load())
}

func TestCloseIdleConnections_ToleratesTransportsWithoutIt(t *testing.T) {
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) { return nil, errors.New("unused") })
	c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(t, err)
	assert.NotPanics(t, c.CloseIdleConnections)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithHTTPClient_RedirectsAreNeverFollowedAndTheCallerClientIsUntouched(t *testing.T) {
	var posts, elsewhere atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			elsewhere.Add(1)
			ctWrite(w, http.StatusAccepted, ctFixture(t, "create_202.json"))
			return
		}
		posts.Add(1)
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	following := func(*http.Request, []*http.Request) error { return nil }
	hc := &http.Client{Transport: srv.Client().Transport, CheckRedirect: following, Timeout: time.Minute}
	c := ctClient(t, srv.URL, WithHTTPClient(hc))

	_, err := c.BulkHostedNumberOrders.Create(context.Background(), nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTemporaryRedirect, apiErr.HTTPStatus)
	assert.Equal(t, int32(1), posts.Load())
	assert.Zero(t, elsewhere.Load(), "the redirect was not followed")

	assert.Equal(t, reflect.ValueOf(following).Pointer(), reflect.ValueOf(hc.CheckRedirect).Pointer(), "the caller's client was not modified")
	assert.Equal(t, time.Minute, hc.Timeout)
	assert.Equal(t, srv.Client().Transport, hc.Transport)
}

func TestWithHTTPClient_NilTransportAndTimeouts(t *testing.T) {
	srv := newRTServer(t, rtHang)

	t.Run("the caller's timeout bounds each attempt", func(t *testing.T) {
		c := ctClient(t, srv.URL, WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}), WithMaxRetries(0))
		start := time.Now()
		_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
		var netErr net.Error
		require.ErrorAs(t, err, &netErr)
		assert.True(t, netErr.Timeout())
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("WithTimeout overrides the caller's timeout", func(t *testing.T) {
		c := ctClient(t, srv.URL, WithHTTPClient(&http.Client{Timeout: time.Hour}), WithTimeout(50*time.Millisecond), WithMaxRetries(0))
		start := time.Now()
		_, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, nil)
		var netErr net.Error
		require.ErrorAs(t, err, &netErr)
		assert.True(t, netErr.Timeout())
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("WithTimeout(0) leaves only the context", func(t *testing.T) {
		c := ctClient(t, srv.URL, WithTimeout(0), WithMaxRetries(0))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// --- concurrency ---------------------------------------------------------

func TestClient_ConcurrentUseIsRaceFree(t *testing.T) {
	srv := ctAPIServer(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := ctClient(t, srv.URL, WithLogger(logger))

	const goroutines, perGoroutine = 8, 12
	var wg sync.WaitGroup
	var creates, fetches atomic.Int32
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				if (g+i)%2 == 0 {
					order, err := c.BulkHostedNumberOrders.Create(context.Background(), &CreateBulkHostedNumberOrderParams{
						FriendlyName: fmt.Sprintf("order %d-%d", g, i),
						RequestItems: []RequestItem{{
							Email:      "owner@example.com",
							AddressSID: "AD0123456789abcdef0123456789abcdef",
							Numbers:    []Number{{PhoneNumber: fmt.Sprintf("+1415555%04d", g*100+i)}},
						}},
					})
					if assert.NoError(t, err) {
						assert.Equal(t, ctBulkSID, order.BulkHostingSID)
						creates.Add(1)
					}
				} else {
					order, err := c.BulkHostedNumberOrders.Fetch(context.Background(), ctBulkSID, &FetchBulkHostedNumberOrderParams{OrderStatus: "pending-loa"})
					if assert.NoError(t, err) {
						assert.Equal(t, ctBulkSID, order.BulkHostingSID)
						fetches.Add(1)
					}
				}
				_ = c.String()
				_ = c.AccountSID()
			}
		}(g)
	}
	wg.Wait()
	assert.Equal(t, int32(goroutines*perGoroutine), creates.Load()+fetches.Load())
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, ctRecordsWithMessage(ctLogRecords(t, &buf), "hostednumbers: request"), goroutines*perGoroutine)
}

// --- accessors -----------------------------------------------------------

func TestClient_Accessors(t *testing.T) {
	c, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken), WithBaseURL("http://127.0.0.1:8080/"))
	require.NoError(t, err)
	assert.Equal(t, ctAccountSID, c.AccountSID())
	assert.Equal(t, "http://127.0.0.1:8080", c.BaseURL())

	want := `hostednumbers.Client{BaseURL: "http://127.0.0.1:8080", AccountSID: "` + ctAccountSID + `", Credentials: [redacted]}`
	assert.Equal(t, want, c.String())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assert.Equal(t, want, fmt.Sprintf(verb, c), verb)
	}
	v := c.LogValue()
	assert.Equal(t, slog.KindString, v.Kind())
	assert.Equal(t, want, v.String())

	d, err := NewClient(WithCredentials(ctAccountSID, ctAuthToken))
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, d.BaseURL())
	assert.NotPanics(t, d.CloseIdleConnections, "the default transport")
}

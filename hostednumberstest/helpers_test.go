package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

const (
	bulkPath   = "/v2/HostedNumber/Orders/Bulk"
	addressSID = "AD0123456789abcdef0123456789abcdef"
	subAccount = "ACabcdefabcdefabcdefabcdefabcdef01"
	itemAcct   = "AC11111111111111111111111111111111"
	unknownSID = "BH00000000000000000000000000000000"
)

var (
	sidPattern       = `^%s[0-9a-f]{32}$`
	requestIDPattern = `^RQ[0-9a-f]{32}$`
)

// newServer starts a server that is closed when the test ends.
func newServer(t *testing.T, opts ...hostednumberstest.Option) *hostednumberstest.Server {
	t.Helper()
	srv := hostednumberstest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// sampleParams is a create body with three numbers in two items: the
// first number on a subaccount of its own, the third on its item's
// account.
func sampleParams() *hostednumbers.CreateBulkHostedNumberOrderParams {
	return &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName:      "Spring migration",
		NotificationEmail: "ops@example.com",
		RequestItems: []hostednumbers.RequestItem{
			{
				Email:      "owner@example.com",
				AddressSID: addressSID,
				Numbers: []hostednumbers.Number{
					{PhoneNumber: "+14155550101", HostingOptions: hostednumbers.HostingOptions{AccountSID: subAccount}},
					{PhoneNumber: "+14155550109"},
				},
			},
			{
				Email:          "second@example.com",
				HostingOptions: hostednumbers.HostingOptions{AccountSID: itemAcct},
				Numbers:        []hostednumbers.Number{{PhoneNumber: "+14155550102"}},
			},
		},
	}
}

// numbersParams is a create body with the given numbers in one item.
func numbersParams(numbers ...string) *hostednumbers.CreateBulkHostedNumberOrderParams {
	item := hostednumbers.RequestItem{Email: "owner@example.com"}
	for _, n := range numbers {
		item.Numbers = append(item.Numbers, hostednumbers.Number{PhoneNumber: n})
	}
	return &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{item}}
}

func create(t *testing.T, client *hostednumbers.Client, params *hostednumbers.CreateBulkHostedNumberOrderParams) *hostednumbers.BulkHostedNumberOrder {
	t.Helper()
	order, err := client.BulkHostedNumberOrders.Create(context.Background(), params)
	require.NoError(t, err)
	return order
}

func fetch(t *testing.T, client *hostednumbers.Client, sid string) *hostednumbers.BulkHostedNumberOrder {
	t.Helper()
	order, err := client.BulkHostedNumberOrders.Fetch(context.Background(), sid, nil)
	require.NoError(t, err)
	return order
}

// rawRequest sends one request with a plain net/http client that keeps no
// connections (so the transport never resends anything by itself) and
// returns the response with its body read. creds, if given, are the
// basic-auth user and password.
func rawRequest(t *testing.T, method, url, contentType, body string, creds ...string) (*http.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if len(creds) == 2 {
		req.SetBasicAuth(creds[0], creds[1])
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, data, nil
}

// authed sends an authenticated raw request and fails the test on a
// transport error.
func authed(t *testing.T, method, url, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	resp, data, err := rawRequest(t, method, url, contentType, body, hostednumberstest.AccountSID, hostednumberstest.AuthToken)
	require.NoError(t, err)
	return resp, data
}

// decodeObject decodes a JSON object with numbers kept as json.Number.
func decodeObject(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m), "body: %s", data)
	return m
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// errorDoc is a Twilio error document.
type errorDoc struct {
	Code     int            `json:"code"`
	Message  string         `json:"message"`
	MoreInfo string         `json:"more_info"`
	Status   int            `json:"status"`
	Details  map[string]any `json:"details"`
}

func decodeError(t *testing.T, data []byte) errorDoc {
	t.Helper()
	var doc errorDoc
	require.NoError(t, json.Unmarshal(data, &doc), "body: %s", data)
	return doc
}

// countMethod counts the recorded requests with this method.
func countMethod(srv *hostednumberstest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// waitFor polls cond every few milliseconds until it holds or the
// deadline passes.
func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// newImmediateServer starts a server in the fetch-driven model of
// WithImmediateProcessing, closed when the test ends. Tests use it when
// they check what one request does to the state, step by step (a fetch
// moves the order one stage, an order is received until then, a list shows
// it at once), which the asynchronous default would move on between the
// request and the assertion.
func newImmediateServer(t *testing.T, opts ...hostednumberstest.Option) *hostednumberstest.Server {
	t.Helper()
	return newServer(t, append([]hostednumberstest.Option{hostednumberstest.WithImmediateProcessing()}, opts...)...)
}

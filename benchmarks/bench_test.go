package benchmarks

// Per-call cost of Create and Fetch through three clients, against one
// loopback httptest server:
//
//   - sdk: hostednumbers-go
//   - nethttp+encoding/json: net/http with basic auth, the body encoded
//     from a map[string]interface{} and the answer decoded into one
//   - twilio-go: twilio-go's NumbersV2.CreateBulkHostedNumberOrder and
//     FetchBulkHostedNumberOrder
//
// plus floor: the same exchange through net/http with a pre-encoded body
// and the answer discarded unread, which is what the transport and the
// server cost by themselves.
//
// Every variant shares the server, so its cost is in every ns/op, B/op and
// allocs/op (the allocation counters are process-wide); compare variants
// with each other and with floor, not with zero.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/twilio/twilio-go"
	twilioclient "github.com/twilio/twilio-go/client"
	numbersv2 "github.com/twilio/twilio-go/rest/numbers/v2"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef" // alphanumeric: twilio-go rejects anything else
	bulkSID    = "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	bulkPath   = "/v2/HostedNumber/Orders/Bulk"
	// numbersPerItem is how many numbers share one owner in generated orders.
	numbersPerItem = 50
)

// sizes are the order sizes compared: phone numbers in a create request,
// hosted number orders in a fetch response.
var sizes = []int{10, 1000}

// createParams builds a create request for n phone numbers shaped like the
// published example: numbers grouped numbersPerItem to an item with an
// owner, address, contact and status callback; every tenth number with a
// friendly name and an SMS URL of its own.
func createParams(n int) *hostednumbers.CreateBulkHostedNumberOrderParams {
	p := &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName:      "Spring migration",
		NotificationEmail: "ops@example.com",
	}
	for start := 0; start < n; start += numbersPerItem {
		i := len(p.RequestItems)
		it := hostednumbers.RequestItem{
			Email:              fmt.Sprintf("owner%d@example.com", i),
			AddressSID:         fmt.Sprintf("AD%032x", i),
			ContactPhoneNumber: fmt.Sprintf("+1415555%04d", i),
			ContactTitle:       "Head of Telecom",
			HostingOptions: hostednumbers.HostingOptions{
				CCEmails:             []string{"noc@example.com"},
				StatusCallbackURL:    "https://hooks.example.com/hosting",
				StatusCallbackMethod: http.MethodPost,
			},
		}
		for k := start; k < min(start+numbersPerItem, n); k++ {
			num := hostednumbers.Number{PhoneNumber: fmt.Sprintf("+1628%07d", k)}
			if k%10 == 0 {
				num.FriendlyName = "Line " + strconv.Itoa(k)
				num.SMSURL = "https://sms.example.com/in/" + strconv.Itoa(k)
				num.SMSMethod = http.MethodPost
			}
			it.Numbers = append(it.Numbers, num)
		}
		p.RequestItems = append(p.RequestItems, it)
	}
	return p
}

// createMap is the same body as map[string]interface{}, the form
// twilio-go's CreateBulkHostedNumberOrderParams.SetBody takes.
func createMap(p *hostednumbers.CreateBulkHostedNumberOrderParams) map[string]interface{} {
	opts := func(m map[string]interface{}, o *hostednumbers.HostingOptions) {
		set := func(k, v string) {
			if v != "" {
				m[k] = v
			}
		}
		set("friendly_name", o.FriendlyName)
		if len(o.CCEmails) > 0 {
			ccs := make([]interface{}, len(o.CCEmails))
			for i, e := range o.CCEmails {
				ccs[i] = e
			}
			m["cc_emails"] = ccs
		}
		set("sms_url", o.SMSURL)
		set("sms_method", o.SMSMethod)
		set("status_callback_url", o.StatusCallbackURL)
		set("status_callback_method", o.StatusCallbackMethod)
	}
	items := make([]interface{}, 0, len(p.RequestItems))
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		numbers := make([]interface{}, 0, len(it.Numbers))
		for j := range it.Numbers {
			n := map[string]interface{}{"phone_number": it.Numbers[j].PhoneNumber}
			opts(n, &it.Numbers[j].HostingOptions)
			numbers = append(numbers, n)
		}
		m := map[string]interface{}{
			"email":                it.Email,
			"address_sid":          it.AddressSID,
			"contact_phone_number": it.ContactPhoneNumber,
			"contact_title":        it.ContactTitle,
			"numbers":              numbers,
		}
		opts(m, &it.HostingOptions)
		items = append(items, m)
	}
	return map[string]interface{}{
		"friendly_name":      p.FriendlyName,
		"notification_email": p.NotificationEmail,
		"request_items":      items,
	}
}

// fetchBody returns a fetch response listing n hosted number orders over
// four status groups, shaped like testdata/fetch_200.json.
func fetchBody(tb testing.TB, n int) []byte {
	tb.Helper()
	type order struct {
		HostingOrderSID    string  `json:"hosting_order_sid"`
		PhoneNumber        string  `json:"phone_number"`
		AccountSID         string  `json:"account_sid"`
		FailureReason      *string `json:"failure_reason"`
		NextStep           *string `json:"next_step"`
		URL                string  `json:"url"`
		Email              string  `json:"email"`
		SigningDocumentSID *string `json:"signing_document_sid"`
	}
	type group struct {
		OrderStatus string  `json:"order_status"`
		Count       string  `json:"count"`
		GetMoreInfo *string `json:"get_more_info"`
		Orders      []order `json:"orders"`
	}
	statuses := []string{"pending_loa", "completed", "failed", "received"}
	groups := make([]group, len(statuses))
	reason, step := "test failure-reason", "test next-step"
	for k := 0; k < n; k++ {
		g := &groups[k%len(groups)]
		g.OrderStatus = statuses[k%len(groups)]
		sid, px := fmt.Sprintf("HR%032x", k), fmt.Sprintf("PX%032x", k)
		o := order{
			HostingOrderSID:    sid,
			PhoneNumber:        fmt.Sprintf("+1628%07d", k),
			AccountSID:         accountSID,
			URL:                "https://numbers.twilio.com/v2/HostedNumber/Orders/" + sid,
			Email:              fmt.Sprintf("owner%d@example.com", k/numbersPerItem),
			SigningDocumentSID: &px,
		}
		if g.OrderStatus == "failed" {
			o.FailureReason, o.NextStep = &reason, &step
		}
		g.Orders = append(g.Orders, o)
	}
	var results []group
	for _, g := range groups {
		if len(g.Orders) > 0 {
			g.Count = strconv.Itoa(len(g.Orders))
			results = append(results, g)
		}
	}
	body, err := json.Marshal(map[string]any{
		"bulk_hosting_sid":   bulkSID,
		"request_status":     "PROCESSED",
		"friendly_name":      "Spring migration",
		"notification_email": "ops@example.com",
		"date_created":       "2023-06-29T15:19:37Z",
		"date_completed":     "2023-06-30T15:19:37Z",
		"url":                "https://numbers.twilio.com/v2/HostedNumber/Orders/Bulk/" + bulkSID,
		"total_count":        n,
		"results":            results,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// server is the loopback API. It answers POST with body202 and GET with
// body200 after reading and discarding the request body, and counts
// requests and connections so setup can prove where traffic went.
type server struct {
	*httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func newServer(tb testing.TB, body202, body200 []byte) *server {
	tb.Helper()
	jsonType := []string{"application/json"}
	requestID := []string{"RQ0123456789abcdef0123456789abcdef"}
	len202 := []string{strconv.Itoa(len(body202))}
	len200 := []string{strconv.Itoa(len(body200))}
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = jsonType
		h["Twilio-Request-Id"] = requestID
		if r.Method == http.MethodPost {
			h["Content-Length"] = len202
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write(body202)
			return
		}
		h["Content-Length"] = len200
		_, _ = w.Write(body200)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start() // listens on 127.0.0.1
	tb.Cleanup(s.Close)
	return s
}

// transport is the connection pool given to the net/http and twilio-go
// clients: http.DefaultTransport's settings with as many idle connections
// per host as the SDK keeps by default, so no client is starved of
// keep-alive connections in the parallel runs.
func transport(tb testing.TB) *http.Transport {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * hostednumbers.DefaultMaxIdleConnsPerHost,
		MaxIdleConnsPerHost: hostednumbers.DefaultMaxIdleConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return tr
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// loopback sends every request to the test server, whatever host the
// client put in the URL: twilio-go's Numbers v2 service has its base URL
// (https://numbers.twilio.com) fixed in an unexported field, so this is the
// only way to point it elsewhere, and it guarantees no request can leave
// the machine. It costs one shallow copy of the request and its URL per
// call; BenchmarkLoopbackRewrite measures that.
type loopback struct {
	host string // 127.0.0.1:port
	rt   http.RoundTripper
}

func (l loopback) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Scheme, u.Host = "http", l.host
	r2.URL, r2.Host = &u, ""
	return l.rt.RoundTrip(r2)
}

func newSDK(tb testing.TB, s *server) *hostednumbers.Client {
	tb.Helper()
	c, err := hostednumbers.NewClient(
		hostednumbers.WithCredentials(accountSID, authToken),
		hostednumbers.WithBaseURL(s.URL), // its own default transport
	)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

func newNetHTTP(tb testing.TB) *http.Client {
	return &http.Client{Transport: transport(tb), Timeout: 30 * time.Second, CheckRedirect: noRedirects}
}

// newTwilio returns twilio-go's Numbers v2 service routed to s.
func newTwilio(tb testing.TB, s *server) *numbersv2.ApiService {
	tb.Helper()
	base := &twilioclient.Client{
		Credentials: twilioclient.NewCredentials(accountSID, authToken),
		HTTPClient: &http.Client{
			Transport:     loopback{host: s.Listener.Addr().String(), rt: transport(tb)},
			Timeout:       10 * time.Second, // twilio-go's default
			CheckRedirect: noRedirects,
		},
	}
	base.SetAccountSid(accountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: base})
	// TWILIO_EDGE and TWILIO_REGION from the environment would change the
	// host; loopback rewrites it anyway, but keep the URL as in production.
	rc.SetEdge("")
	rc.SetRegion("")
	return rc.NumbersV2
}

// rawCall does one request as a caller without an SDK would: encode a map,
// basic auth, decode the answer into a map.
func rawCall(hc *http.Client, method, url string, body map[string]interface{}, want int) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(accountSID, authToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out map[string]interface{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// floorCall is the exchange with no JSON work on the client: the body is
// already encoded and the answer is discarded.
func floorCall(hc *http.Client, method, url string, body []byte, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(accountSID, authToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// mustReachServer checks that call reached s, so a benchmark can never
// measure a request that went anywhere else.
func mustReachServer(tb testing.TB, s *server, call func() error) {
	tb.Helper()
	before := s.requests.Load()
	if err := call(); err != nil {
		tb.Fatal(err)
	}
	if s.requests.Load() != before+1 {
		tb.Fatal("the request did not reach the loopback server")
	}
}

// run times call in a loop, and reports how many connections the server
// accepted per 1000 calls: a client that does not reuse connections shows
// up here.
func run(b *testing.B, s *server, bytes int, call func() error) {
	b.ReportAllocs()
	b.SetBytes(int64(bytes))
	conns := s.conns.Load()
	for b.Loop() {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.conns.Load()-conns)*1000/float64(b.N), "conns/1000ops")
}

func BenchmarkCreate(b *testing.B) {
	created, err := os.ReadFile("../testdata/create_202.json")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range sizes {
		p := createParams(n)
		m := createMap(p)
		body, err := p.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		b.Run("numbers="+strconv.Itoa(n), func(b *testing.B) {
			s := newServer(b, created, nil)
			sdk, hc, tw := newSDK(b, s), newNetHTTP(b), newTwilio(b, s)
			url := s.URL + bulkPath
			twParams := (&numbersv2.CreateBulkHostedNumberOrderParams{}).SetBody(m)
			calls := []struct {
				name string
				call func() error
			}{
				{"sdk", func() error {
					o, err := sdk.BulkHostedNumberOrders.Create(ctx, p)
					if err == nil && o.BulkHostingSID != bulkSID {
						err = fmt.Errorf("sdk decoded %+v", o)
					}
					return err
				}},
				{"nethttp+encoding/json", func() error {
					return rawCall(hc, http.MethodPost, url, m, http.StatusAccepted)
				}},
				{"twilio-go", func() error {
					o, err := tw.CreateBulkHostedNumberOrder(twParams)
					if err == nil && (o.BulkHostingSid == nil || *o.BulkHostingSid != bulkSID) {
						err = fmt.Errorf("twilio-go decoded %+v", o)
					}
					return err
				}},
				{"floor", func() error {
					return floorCall(hc, http.MethodPost, url, body, http.StatusAccepted)
				}},
			}
			for _, c := range calls {
				mustReachServer(b, s, c.call)
				b.Run(c.name, func(b *testing.B) { run(b, s, len(body), c.call) })
			}
		})
	}
}

func BenchmarkFetch(b *testing.B) {
	ctx := context.Background()
	for _, n := range sizes {
		body := fetchBody(b, n)
		b.Run("orders="+strconv.Itoa(n), func(b *testing.B) {
			s := newServer(b, nil, body)
			sdk, hc, tw := newSDK(b, s), newNetHTTP(b), newTwilio(b, s)
			url := s.URL + bulkPath + "/" + bulkSID
			calls := []struct {
				name string
				call func() error
			}{
				{"sdk", func() error {
					o, err := sdk.BulkHostedNumberOrders.Fetch(ctx, bulkSID, nil)
					if err == nil && (o.TotalCount != n || len(o.Results) == 0) {
						err = fmt.Errorf("sdk decoded %+v", o)
					}
					return err
				}},
				{"nethttp+encoding/json", func() error {
					return rawCall(hc, http.MethodGet, url, nil, http.StatusOK)
				}},
				{"twilio-go", func() error {
					o, err := tw.FetchBulkHostedNumberOrder(bulkSID, nil)
					if err == nil && (o.Results == nil || len(*o.Results) == 0) {
						err = fmt.Errorf("twilio-go decoded %+v", o)
					}
					return err
				}},
				{"floor", func() error {
					return floorCall(hc, http.MethodGet, url, nil, http.StatusOK)
				}},
			}
			for _, c := range calls {
				mustReachServer(b, s, c.call)
				b.Run(c.name, func(b *testing.B) { run(b, s, len(body), c.call) })
			}
		})
	}
}

// BenchmarkLoopbackRewrite is the cost the loopback transport adds to every
// twilio-go call, to subtract from its figures.
func BenchmarkLoopbackRewrite(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "https://numbers.twilio.com"+bulkPath+"/"+bulkSID, nil)
	if err != nil {
		b.Fatal(err)
	}
	l := loopback{host: "127.0.0.1:1", rt: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = l.RoundTrip(req)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

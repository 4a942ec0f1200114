package benchmarks

// Per-call cost of Create and Fetch through four clients, against one
// loopback httptest server:
//
//   - sdk: hostednumbers-go with its default options
//   - floor: net/http plus encoding/json, the way a careful caller without
//     an SDK would do it: the body encoded from a tagged struct, the answer
//     decoded with json.NewDecoder into a struct with pointer fields for
//     the nullable members
//   - nethttp+map: the same with map[string]interface{} both ways
//   - twilio-go: twilio-go's NumbersV2.CreateBulkHostedNumberOrder and
//     FetchBulkHostedNumberOrder
//
// plus transport: the exchange with a pre-encoded body and the answer
// discarded unread, which is what the transport and the server cost by
// themselves.
//
// Every contender runs in every invocation, in an order that rotates from
// one invocation (and one -count repetition) to the next, so a slow spell
// on a shared machine does not always land on the same one.
//
// Every variant shares the server, so its cost is in every ns/op, cpu-ns/op,
// B/op and allocs/op (the allocation counters and the CPU time are
// process-wide); compare contenders with each other and with floor, not
// with zero.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
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
	// requestID is the Twilio-Request-Id of every answer: "RQ" and 32 hex
	// digits, as Twilio's are. Its digits share no run of 8 characters
	// with the auth token, as a real id, drawn at random, does but by a
	// chance of about 1 in 10^7: the SDK's redactor then finds nothing to
	// remove from it, as against Twilio. An id that contained the token
	// would make every call pay for rewriting the header.
	requestID = "RQ7c41e9b05d2f86a3e1b4c097d25f8e6a"
	bulkSID   = "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	bulkPath  = "/v2/HostedNumber/Orders/Bulk"
	// numbersPerItem is how many numbers share one owner in generated orders.
	numbersPerItem = 50
)

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

// Tagged structs for the floor: what a caller writing the body by hand
// would use.
type plainNumber struct {
	PhoneNumber  string `json:"phone_number"`
	FriendlyName string `json:"friendly_name,omitempty"`
	SMSURL       string `json:"sms_url,omitempty"`
	SMSMethod    string `json:"sms_method,omitempty"`
}

type plainItem struct {
	Email                string        `json:"email"`
	AddressSID           string        `json:"address_sid"`
	ContactPhoneNumber   string        `json:"contact_phone_number"`
	ContactTitle         string        `json:"contact_title"`
	CCEmails             []string      `json:"cc_emails,omitempty"`
	StatusCallbackURL    string        `json:"status_callback_url,omitempty"`
	StatusCallbackMethod string        `json:"status_callback_method,omitempty"`
	Numbers              []plainNumber `json:"numbers"`
}

type plainBody struct {
	FriendlyName      string      `json:"friendly_name,omitempty"`
	NotificationEmail string      `json:"notification_email,omitempty"`
	RequestItems      []plainItem `json:"request_items"`
}

func createPlain(p *hostednumbers.CreateBulkHostedNumberOrderParams) *plainBody {
	out := &plainBody{FriendlyName: p.FriendlyName, NotificationEmail: p.NotificationEmail}
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		pi := plainItem{
			Email: it.Email, AddressSID: it.AddressSID, ContactPhoneNumber: it.ContactPhoneNumber,
			ContactTitle: it.ContactTitle, CCEmails: it.CCEmails,
			StatusCallbackURL: it.StatusCallbackURL, StatusCallbackMethod: it.StatusCallbackMethod,
		}
		for j := range it.Numbers {
			n := &it.Numbers[j]
			pi.Numbers = append(pi.Numbers, plainNumber{
				PhoneNumber: n.PhoneNumber, FriendlyName: n.FriendlyName, SMSURL: n.SMSURL, SMSMethod: n.SMSMethod,
			})
		}
		out.RequestItems = append(out.RequestItems, pi)
	}
	return out
}

// plainOrder is the answer as the floor decodes it.
type plainOrder struct {
	BulkHostingSID    string  `json:"bulk_hosting_sid"`
	RequestStatus     string  `json:"request_status"`
	FriendlyName      *string `json:"friendly_name"`
	NotificationEmail *string `json:"notification_email"`
	DateCreated       *string `json:"date_created"`
	DateCompleted     *string `json:"date_completed"`
	URL               *string `json:"url"`
	TotalCount        int     `json:"total_count"`
	Results           []struct {
		OrderStatus string          `json:"order_status"`
		Count       json.RawMessage `json:"count"`
		GetMoreInfo *string         `json:"get_more_info"`
		Orders      []struct {
			HostingOrderSID    string  `json:"hosting_order_sid"`
			PhoneNumber        string  `json:"phone_number"`
			AccountSID         string  `json:"account_sid"`
			FailureReason      *string `json:"failure_reason"`
			NextStep           *string `json:"next_step"`
			URL                string  `json:"url"`
			Email              string  `json:"email"`
			SigningDocumentSID *string `json:"signing_document_sid"`
		} `json:"orders"`
	} `json:"results"`
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

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	body, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// server is the loopback API. It answers POST with body202 and GET with
// body200 after reading and discarding the request body, and counts
// requests and new connections so setup can prove where traffic went.
// With chunked set, the GET answer has no Content-Length and goes out in
// 32 KiB chunks, as a large answer from Twilio does.
type server struct {
	*httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func newServer(tb testing.TB, body202, body200 []byte, chunked bool) *server {
	tb.Helper()
	jsonType := []string{"application/json"}
	requestIDs := []string{requestID}
	len202 := []string{strconv.Itoa(len(body202))}
	len200 := []string{strconv.Itoa(len(body200))}
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = jsonType
		h["Twilio-Request-Id"] = requestIDs
		if r.Method == http.MethodPost {
			h["Content-Length"] = len202
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write(body202)
			return
		}
		if !chunked {
			h["Content-Length"] = len200
			_, _ = w.Write(body200)
			return
		}
		for rest := body200; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			_, _ = w.Write(rest[:n])
			rest = rest[n:]
		}
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
// keep-alive connections in the concurrent runs.
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

func newSDK(tb testing.TB, s *server, opts ...hostednumbers.Option) *hostednumbers.Client {
	tb.Helper()
	c, err := hostednumbers.NewClient(append([]hostednumbers.Option{
		hostednumbers.WithCredentials(accountSID, authToken),
		hostednumbers.WithBaseURL(s.URL), // its own default transport
	}, opts...)...)
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

// jsonCall does one request the way a caller without an SDK would: encode
// in (nil: no body), basic auth, decode the answer into out.
func jsonCall(hc *http.Client, method, url string, in, out any, want int) error {
	var rd io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
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
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// transportCall is the exchange with no JSON work on the client: the body
// is already encoded and the answer is discarded.
func transportCall(hc *http.Client, method, url string, body []byte, want int) error {
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
	_ = resp.Body.Close()
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

type contender struct {
	name string
	call func() error
}

// rotation is where the next list of contenders starts.
var rotation atomic.Int64

// rotate returns xs starting one further along than the previous call.
func rotate[T any](xs []T) []T {
	k := int(rotation.Add(1)-1) % len(xs)
	return append(xs[k:len(xs):len(xs)], xs[:k]...)
}

// run times call in a loop and reports, next to ns/op, the CPU time the
// process used per call (user plus system, getrusage) and how many
// connections the server accepted per 1000 calls: a client that does not
// reuse connections shows up there.
func run(b *testing.B, s *server, bytes int, call func() error) {
	b.ReportAllocs()
	b.SetBytes(int64(bytes))
	conns := s.conns.Load()
	cpu := cpuTime()
	for b.Loop() {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(s.conns.Load()-conns)*1000/float64(b.N), "conns/1000ops")
}

func runContenders(b *testing.B, s *server, bytes int, cs []contender) {
	for _, c := range cs {
		mustReachServer(b, s, c.call)
	}
	for _, c := range rotate(cs) {
		b.Run(c.name, func(b *testing.B) { run(b, s, bytes, c.call) })
	}
}

func BenchmarkCreate(b *testing.B) {
	created := readFixture(b, "create_202.json")
	ctx := context.Background()
	for _, n := range []int{10, 1000} {
		p := createParams(n)
		m, plain := createMap(p), createPlain(p)
		body, err := p.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		b.Run("numbers="+strconv.Itoa(n), func(b *testing.B) {
			s := newServer(b, created, nil, false)
			sdk, hc, tw := newSDK(b, s), newNetHTTP(b), newTwilio(b, s)
			url := s.URL + bulkPath
			twParams := (&numbersv2.CreateBulkHostedNumberOrderParams{}).SetBody(m)
			runContenders(b, s, len(body), []contender{
				{"sdk", func() error {
					o, err := sdk.BulkHostedNumberOrders.Create(ctx, p)
					if err == nil && o.BulkHostingSID != bulkSID {
						err = fmt.Errorf("sdk decoded %+v", o)
					}
					return err
				}},
				{"floor", func() error {
					var o plainOrder
					err := jsonCall(hc, http.MethodPost, url, plain, &o, http.StatusAccepted)
					if err == nil && o.BulkHostingSID != bulkSID {
						err = fmt.Errorf("floor decoded %+v", o)
					}
					return err
				}},
				{"nethttp+map", func() error {
					var o map[string]interface{}
					return jsonCall(hc, http.MethodPost, url, m, &o, http.StatusAccepted)
				}},
				{"twilio-go", func() error {
					o, err := tw.CreateBulkHostedNumberOrder(twParams)
					if err == nil && (o.BulkHostingSid == nil || *o.BulkHostingSid != bulkSID) {
						err = fmt.Errorf("twilio-go decoded %+v", o)
					}
					return err
				}},
				{"transport", func() error {
					return transportCall(hc, http.MethodPost, url, body, http.StatusAccepted)
				}},
			})
		})
	}
}

// fetchCases are the fetch answers compared: the published example (4
// orders) and generated ones; the largest is sent chunked.
var fetchCases = []struct {
	name    string
	orders  int // 0: testdata/fetch_200.json
	chunked bool
}{
	{"orders=4", 0, false},
	{"orders=1000", 1000, false},
	{"orders=10000-chunked", 10000, true},
}

func BenchmarkFetch(b *testing.B) {
	ctx := context.Background()
	for _, fc := range fetchCases {
		body := readFixture(b, "fetch_200.json")
		want := 4
		if fc.orders > 0 {
			body, want = fetchBody(b, fc.orders), fc.orders
		}
		b.Run(fc.name, func(b *testing.B) {
			s := newServer(b, nil, body, fc.chunked)
			sdk, hc, tw := newSDK(b, s), newNetHTTP(b), newTwilio(b, s)
			url := s.URL + bulkPath + "/" + bulkSID
			runContenders(b, s, len(body), []contender{
				{"sdk", func() error {
					o, err := sdk.BulkHostedNumberOrders.Fetch(ctx, bulkSID, nil)
					if err != nil {
						return err
					}
					n := 0
					for _, g := range o.Results {
						n += len(g.Orders)
					}
					if n != want {
						return fmt.Errorf("sdk decoded %d orders, want %d", n, want)
					}
					return nil
				}},
				{"floor", func() error {
					var o plainOrder
					err := jsonCall(hc, http.MethodGet, url, nil, &o, http.StatusOK)
					if err == nil && len(o.Results) == 0 {
						err = fmt.Errorf("floor decoded %+v", o)
					}
					return err
				}},
				{"nethttp+map", func() error {
					var o map[string]interface{}
					return jsonCall(hc, http.MethodGet, url, nil, &o, http.StatusOK)
				}},
				{"twilio-go", func() error {
					o, err := tw.FetchBulkHostedNumberOrder(bulkSID, nil)
					if err == nil && (o.Results == nil || len(*o.Results) == 0) {
						err = fmt.Errorf("twilio-go decoded %+v", o)
					}
					return err
				}},
				{"transport", func() error {
					return transportCall(hc, http.MethodGet, url, nil, http.StatusOK)
				}},
			})
		})
	}
}

// connectionCreates is how many creates BenchmarkConnections sends per
// operation; shortened for a smoke run (-short or -benchtime=1x) so that CI
// stays quick.
func connectionCreates() int {
	if f := flag.Lookup("test.benchtime"); testing.Short() || f != nil && f.Value.String() == "1x" {
		return 400
	}
	return 20000
}

// BenchmarkConnections sends 20 000 creates of 10 numbers from 32 or 128
// goroutines through one client and reports how many connections the
// server accepted for them (conns/20000-creates), starting from a new client
// (an empty pool) each time. Every client keeps up to
// hostednumbers.DefaultMaxIdleConnsPerHost (64) idle connections, so at
// 128-way some churn is expected; a client that closes or abandons
// connections shows up as thousands. ns/op is the time for all 20 000.
func BenchmarkConnections(b *testing.B) {
	created := readFixture(b, "create_202.json")
	total := connectionCreates()
	p := createParams(10)
	m, plain := createMap(p), createPlain(p)
	ctx := context.Background()
	for _, workers := range []int{32, 128} {
		b.Run("creates=20k/workers="+strconv.Itoa(workers), func(b *testing.B) {
			s := newServer(b, created, nil, false)
			url := s.URL + bulkPath
			// Each contender makes a new client for every operation.
			clients := []struct {
				name string
				make func(tb testing.TB) func() error
			}{
				{"sdk", func(tb testing.TB) func() error {
					c := newSDK(tb, s)
					return func() error { _, err := c.BulkHostedNumberOrders.Create(ctx, p); return err }
				}},
				{"sdk-timeout0", func(tb testing.TB) func() error {
					c := newSDK(tb, s, hostednumbers.WithTimeout(0))
					return func() error { _, err := c.BulkHostedNumberOrders.Create(ctx, p); return err }
				}},
				{"floor", func(tb testing.TB) func() error {
					hc := newNetHTTP(tb)
					return func() error {
						var o plainOrder
						return jsonCall(hc, http.MethodPost, url, plain, &o, http.StatusAccepted)
					}
				}},
				{"twilio-go", func(tb testing.TB) func() error {
					tw := newTwilio(tb, s)
					params := (&numbersv2.CreateBulkHostedNumberOrderParams{}).SetBody(m)
					return func() error { _, err := tw.CreateBulkHostedNumberOrder(params); return err }
				}},
			}
			for _, c := range clients {
				mustReachServer(b, s, c.make(b))
			}
			for _, c := range rotate(clients) {
				b.Run(c.name, func(b *testing.B) {
					var conns int64
					cpu := cpuTime()
					for b.Loop() {
						b.StopTimer()
						call := c.make(b)
						b.StartTimer()
						before := s.conns.Load()
						if err := hammer(call, workers, total); err != nil {
							b.Fatal(err)
						}
						conns += s.conns.Load() - before
					}
					b.ReportMetric(float64(conns)/float64(b.N), "conns/"+strconv.Itoa(total)+"-creates")
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N*total), "cpu-ns/create")
				})
			}
		})
	}
}

// hammer makes total calls from workers goroutines and returns the first
// error.
func hammer(call func() error, workers, total int) error {
	var left atomic.Int64
	left.Store(int64(total))
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := call(); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// BenchmarkLoopbackRewrite is the cost the loopback transport adds to every
// twilio-go call, to subtract from its figures.
func BenchmarkLoopbackRewrite(b *testing.B) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://numbers.twilio.com"+bulkPath+"/"+bulkSID, nil)
	if err != nil {
		b.Fatal(err)
	}
	l := loopback{host: "127.0.0.1:1", rt: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })}
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := l.RoundTrip(req); resp != nil {
			_ = resp.Body.Close()
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestBodiesAgree makes sure the floor sends the same document as the SDK,
// so the comparison is like for like.
func TestBodiesAgree(t *testing.T) {
	for _, n := range []int{1, 10, 120} {
		p := createParams(n)
		sdk, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		viaStruct, _ := json.Marshal(createPlain(p))
		viaMap, _ := json.Marshal(createMap(p))
		var a, b, c any
		if json.Unmarshal(sdk, &a) != nil || json.Unmarshal(viaStruct, &b) != nil || json.Unmarshal(viaMap, &c) != nil {
			t.Fatal("a body is not JSON")
		}
		if fmt.Sprint(a) != fmt.Sprint(b) || fmt.Sprint(a) != fmt.Sprint(c) {
			t.Errorf("numbers=%d: bodies differ:\n%s\n%s\n%s", n, sdk, viaStruct, viaMap)
		}
	}
}

// TestRotate checks that every contender runs and the first one changes.
func TestRotate(t *testing.T) {
	cs := []contender{{name: "a"}, {name: "b"}, {name: "c"}}
	first := map[string]bool{}
	for i := 0; i < 3; i++ {
		r := rotate(cs)
		if len(r) != 3 {
			t.Fatalf("rotate returned %d contenders", len(r))
		}
		seen := map[string]bool{}
		for _, c := range r {
			seen[c.name] = true
		}
		if len(seen) != 3 {
			t.Fatalf("rotate lost a contender: %v", r)
		}
		first[r[0].name] = true
	}
	if len(first) != 3 {
		t.Errorf("three rotations started with %v", first)
	}
	if cs[0].name != "a" || cs[1].name != "b" || cs[2].name != "c" {
		t.Errorf("rotate changed its argument: %v", cs)
	}
}

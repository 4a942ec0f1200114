package hostednumbers_test

// Benchmarks of the SDK's hot paths: encoding a create body, validating it,
// decoding an order, and a whole Create or Fetch against a loopback server.
// Each compares the SDK with what a caller would do with encoding/json (and,
// end to end, net/http) alone. The comparison with twilio-go lives in the
// separate benchmarks module, so that this module never requires it.
//
//	go test -run=NONE -bench=. -benchmem -count=10 . | tee new.txt
//
// Allocations reported by the end-to-end benchmarks are process-wide: they
// include the httptest server's share of each request, which is the same
// for every variant.

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
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

const (
	benchAccountSID = "AC0123456789abcdef0123456789abcdef"
	benchAuthToken  = "0123456789abcdef0123456789abcdef"
	// benchRequestID is the Twilio-Request-Id of every answer: "RQ" and 32 hex
	// digits, as Twilio's are. Its digits share no run of 8 characters
	// with the auth token, as a real id, drawn at random, does but by a
	// chance of about 1 in 10^7: the SDK's redactor then finds nothing to
	// remove from it, as against Twilio. An id that contained the token
	// would make every call pay for rewriting the header.
	benchRequestID = "RQ7c41e9b05d2f86a3e1b4c097d25f8e6a"
	benchBulkSID   = "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	benchBulkPath  = "/v2/HostedNumber/Orders/Bulk"
	// benchNumbersPerItem is how many numbers share one owner in the
	// generated orders.
	benchNumbersPerItem = 50
)

var benchEncodeSizes = []int{10, 100, 1000, 5000}

// benchCreateParams builds a create request for n phone numbers, grouped
// benchNumbersPerItem to an item, shaped like the published example: item
// level owner, address, contact and status callback; every tenth number
// with a friendly name and an SMS URL of its own.
func benchCreateParams(n int) *hostednumbers.CreateBulkHostedNumberOrderParams {
	p := &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName:      "Spring migration",
		NotificationEmail: "ops@example.com",
	}
	for start := 0; start < n; start += benchNumbersPerItem {
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
		for k := start; k < min(start+benchNumbersPerItem, n); k++ {
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

// benchMap is the create body as map[string]interface{}, the way twilio-go
// takes it.
func benchMap(p *hostednumbers.CreateBulkHostedNumberOrderParams) map[string]interface{} {
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

// Plain tagged structs: what a caller writing the body by hand would use.
type benchPlainNumber struct {
	PhoneNumber  string `json:"phone_number"`
	FriendlyName string `json:"friendly_name,omitempty"`
	SMSURL       string `json:"sms_url,omitempty"`
	SMSMethod    string `json:"sms_method,omitempty"`
}

type benchPlainItem struct {
	Email                string             `json:"email"`
	AddressSID           string             `json:"address_sid"`
	ContactPhoneNumber   string             `json:"contact_phone_number"`
	ContactTitle         string             `json:"contact_title"`
	CCEmails             []string           `json:"cc_emails,omitempty"`
	StatusCallbackURL    string             `json:"status_callback_url,omitempty"`
	StatusCallbackMethod string             `json:"status_callback_method,omitempty"`
	Numbers              []benchPlainNumber `json:"numbers"`
}

type benchPlainBody struct {
	FriendlyName      string           `json:"friendly_name,omitempty"`
	NotificationEmail string           `json:"notification_email,omitempty"`
	RequestItems      []benchPlainItem `json:"request_items"`
}

func benchPlain(p *hostednumbers.CreateBulkHostedNumberOrderParams) *benchPlainBody {
	out := &benchPlainBody{FriendlyName: p.FriendlyName, NotificationEmail: p.NotificationEmail}
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		pi := benchPlainItem{
			Email: it.Email, AddressSID: it.AddressSID, ContactPhoneNumber: it.ContactPhoneNumber,
			ContactTitle: it.ContactTitle, CCEmails: it.CCEmails,
			StatusCallbackURL: it.StatusCallbackURL, StatusCallbackMethod: it.StatusCallbackMethod,
		}
		for j := range it.Numbers {
			n := &it.Numbers[j]
			pi.Numbers = append(pi.Numbers, benchPlainNumber{
				PhoneNumber: n.PhoneNumber, FriendlyName: n.FriendlyName, SMSURL: n.SMSURL, SMSMethod: n.SMSMethod,
			})
		}
		out.RequestItems = append(out.RequestItems, pi)
	}
	return out
}

// TestBenchmarkBodiesAgree makes sure the encoders compared below all write
// the same document, so the benchmarks compare like with like.
func TestBenchmarkBodiesAgree(t *testing.T) {
	for _, n := range []int{1, 10, 120} {
		p := benchCreateParams(n)
		sdk, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		viaMap, _ := json.Marshal(benchMap(p))
		viaStruct, _ := json.Marshal(benchPlain(p))
		want := benchDecodeAny(t, sdk)
		if got := benchDecodeAny(t, viaMap); !reflect.DeepEqual(got, want) {
			t.Errorf("numbers=%d: map body differs from the SDK's:\n%s\n%s", n, viaMap, sdk)
		}
		if got := benchDecodeAny(t, viaStruct); !reflect.DeepEqual(got, want) {
			t.Errorf("numbers=%d: struct body differs from the SDK's:\n%s\n%s", n, viaStruct, sdk)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("numbers=%d: generated params are invalid: %v", n, err)
		}
	}
}

func benchDecodeAny(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	return v
}

func BenchmarkEncodeCreateParams(b *testing.B) {
	for _, n := range benchEncodeSizes {
		p := benchCreateParams(n)
		body, err := p.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		m, plain := benchMap(p), benchPlain(p)
		b.Run("numbers="+strconv.Itoa(n), func(b *testing.B) {
			encoders := []struct {
				name   string
				encode func() ([]byte, error)
			}{
				// The SDK's hand-written encoder, as Create uses it.
				{"sdk-MarshalJSON", p.MarshalJSON},
				// The same encoder reached through json.Marshal, which
				// re-scans and compacts whatever a Marshaler returns.
				{"sdk-json.Marshal", func() ([]byte, error) { return json.Marshal(p) }},
				{"encoding/json-map", func() ([]byte, error) { return json.Marshal(m) }},
				{"encoding/json-struct", func() ([]byte, error) { return json.Marshal(plain) }},
			}
			for _, enc := range encoders {
				b.Run(enc.name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(body)))
					for b.Loop() {
						if _, err := enc.encode(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, n := range benchEncodeSizes {
		p := benchCreateParams(n)
		if err := p.Validate(); err != nil {
			b.Fatal(err)
		}
		b.Run("numbers="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Validate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchStatuses are the group statuses of generated fetch responses, in
// the spellings the API uses in bulk results.
var benchStatuses = []string{"pending_loa", "completed", "failed", "received"}

// benchFetchBody returns a fetch response listing n hosted number orders,
// spread over len(benchStatuses) groups and shaped like fetch_200.json.
func benchFetchBody(tb testing.TB, n int) []byte {
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
	groups := make([]group, len(benchStatuses))
	reason, step := "test failure-reason", "test next-step"
	for k := 0; k < n; k++ {
		g := &groups[k%len(groups)]
		g.OrderStatus = benchStatuses[k%len(groups)]
		sid := fmt.Sprintf("HR%032x", k)
		px := fmt.Sprintf("PX%032x", k)
		o := order{
			HostingOrderSID:    sid,
			PhoneNumber:        fmt.Sprintf("+1628%07d", k),
			AccountSID:         benchAccountSID,
			URL:                "https://numbers.twilio.com/v2/HostedNumber/Orders/" + sid,
			Email:              fmt.Sprintf("owner%d@example.com", k/benchNumbersPerItem),
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
	doc := map[string]any{
		"bulk_hosting_sid":   benchBulkSID,
		"request_status":     "PROCESSED",
		"friendly_name":      "Spring migration",
		"notification_email": "ops@example.com",
		"date_created":       "2023-06-29T15:19:37Z",
		"date_completed":     "2023-06-30T15:19:37Z",
		"url":                "https://numbers.twilio.com/v2/HostedNumber/Orders/Bulk/" + benchBulkSID,
		"total_count":        n,
		"results":            results,
	}
	body, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func benchFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	body, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

type benchFetchCase struct {
	name string
	body []byte
}

func benchFetchCases(tb testing.TB, sizes ...int) []benchFetchCase {
	cases := []benchFetchCase{{"fixture", benchFixture(tb, "fetch_200.json")}}
	for _, n := range sizes {
		cases = append(cases, benchFetchCase{"orders=" + strconv.Itoa(n), benchFetchBody(tb, n)})
	}
	return cases
}

// Plain tagged structs for the decode comparison: what encoding/json does
// without any custom UnmarshalJSON.
type benchPlainOrder struct {
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

func BenchmarkDecodeOrder(b *testing.B) {
	for _, c := range benchFetchCases(b, 1000, 5000) {
		b.Run(c.name, func(b *testing.B) {
			b.Run("sdk", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				for b.Loop() {
					var o hostednumbers.BulkHostedNumberOrder
					if err := json.Unmarshal(c.body, &o); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("encoding/json-map", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				for b.Loop() {
					var m map[string]interface{}
					if err := json.Unmarshal(c.body, &m); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("encoding/json-struct", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				for b.Loop() {
					var o benchPlainOrder
					if err := json.Unmarshal(c.body, &o); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchServer is a loopback API that answers every POST with body202 and
// every GET with body200. It reads and discards request bodies and does no
// other work, so that the benchmarks measure the clients.
func benchServer(tb testing.TB, body202, body200 []byte) *httptest.Server {
	tb.Helper()
	jsonType := []string{"application/json"}
	requestID := []string{benchRequestID}
	len202 := []string{strconv.Itoa(len(body202))}
	len200 := []string{strconv.Itoa(len(body200))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	tb.Cleanup(srv.Close)
	return srv
}

func benchSDK(tb testing.TB, srv *httptest.Server) *hostednumbers.Client {
	tb.Helper()
	c, err := hostednumbers.NewClient(
		hostednumbers.WithCredentials(benchAccountSID, benchAuthToken),
		hostednumbers.WithBaseURL(srv.URL),
	)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

// benchHTTPClient is what a caller using net/http directly would set up:
// a transport that keeps enough idle connections for concurrent use.
func benchHTTPClient(tb testing.TB) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// benchRawCall does one request the way a caller without an SDK would:
// encode a map, basic auth, decode into a map.
func benchRawCall(hc *http.Client, method, url string, body map[string]interface{}, want int) error {
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
	req.SetBasicAuth(benchAccountSID, benchAuthToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
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

const benchParallelism = 4 // goroutines per GOMAXPROCS in the -parallel variants

func BenchmarkCreate(b *testing.B) {
	created := benchFixture(b, "create_202.json")
	for _, n := range []int{10, 1000} {
		p := benchCreateParams(n)
		m := benchMap(p)
		body, _ := p.MarshalJSON()
		b.Run("numbers="+strconv.Itoa(n), func(b *testing.B) {
			srv := benchServer(b, created, nil)
			sdk := benchSDK(b, srv)
			hc := benchHTTPClient(b)
			ctx := context.Background()
			b.Run("sdk", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := sdk.BulkHostedNumberOrders.Create(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("sdk-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				b.SetParallelism(benchParallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := sdk.BulkHostedNumberOrders.Create(ctx, p); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run("nethttp+encoding/json", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if err := benchRawCall(hc, http.MethodPost, srv.URL+benchBulkPath, m, http.StatusAccepted); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("nethttp+encoding/json-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				b.SetParallelism(benchParallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := benchRawCall(hc, http.MethodPost, srv.URL+benchBulkPath, m, http.StatusAccepted); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

func BenchmarkFetch(b *testing.B) {
	for _, c := range benchFetchCases(b, 1000) {
		b.Run(c.name, func(b *testing.B) {
			srv := benchServer(b, nil, c.body)
			sdk := benchSDK(b, srv)
			hc := benchHTTPClient(b)
			ctx := context.Background()
			url := srv.URL + benchBulkPath + "/" + benchBulkSID
			b.Run("sdk", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				for b.Loop() {
					if _, err := sdk.BulkHostedNumberOrders.Fetch(ctx, benchBulkSID, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("sdk-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				b.SetParallelism(benchParallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := sdk.BulkHostedNumberOrders.Fetch(ctx, benchBulkSID, nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run("nethttp+encoding/json", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				for b.Loop() {
					if err := benchRawCall(hc, http.MethodGet, url, nil, http.StatusOK); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("nethttp+encoding/json-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.body)))
				b.SetParallelism(benchParallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := benchRawCall(hc, http.MethodGet, url, nil, http.StatusOK); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

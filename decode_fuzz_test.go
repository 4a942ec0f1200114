package hostednumbers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// The single-pass decoder (bulk_orders_decode.go) must give exactly what
// encoding/json gave with the tagged types it replaced. Those types are
// kept here, unchanged, as the reference: refWire is what the client
// decoded a response into, refPublic what json.Unmarshal into a
// BulkHostedNumberOrder did (each group through the old
// ResultGroup.UnmarshalJSON).

type refGroupWire struct {
	OrderStatus NullString        `json:"order_status"`
	Count       json.RawMessage   `json:"count"`
	GetMoreInfo NullString        `json:"get_more_info"`
	Orders      []BulkOrderResult `json:"orders"`
}

func (w *refGroupWire) decodeInto(g *ResultGroup) error {
	count, err := parseCount(w.Count)
	if err != nil {
		return err
	}
	status := ParseOrderStatus(w.OrderStatus.String)
	for i := range w.Orders {
		w.Orders[i].Status = status
	}
	*g = ResultGroup{
		OrderStatus:    status,
		RawOrderStatus: w.OrderStatus.String,
		Count:          count,
		GetMoreInfo:    w.GetMoreInfo,
		Orders:         w.Orders,
	}
	return nil
}

// refOrderFields are BulkHostedNumberOrder's members without Results.
type refOrderFields struct {
	BulkHostingSID    string        `json:"bulk_hosting_sid"`
	RequestStatus     RequestStatus `json:"request_status"`
	FriendlyName      NullString    `json:"friendly_name"`
	NotificationEmail NullString    `json:"notification_email"`
	DateCreated       NullTime      `json:"date_created"`
	DateCompleted     NullTime      `json:"date_completed"`
	URL               NullString    `json:"url"`
	TotalCount        int           `json:"total_count"`
}

func (f refOrderFields) order(results []ResultGroup) BulkHostedNumberOrder {
	return BulkHostedNumberOrder{
		BulkHostingSID: f.BulkHostingSID, RequestStatus: f.RequestStatus,
		FriendlyName: f.FriendlyName, NotificationEmail: f.NotificationEmail,
		DateCreated: f.DateCreated, DateCompleted: f.DateCompleted,
		URL: f.URL, TotalCount: f.TotalCount, Results: results,
	}
}

type refWire struct {
	refOrderFields
	Results []refGroupWire `json:"results"`
}

// refWireDecode is the client's decode before the single-pass decoder:
// json.Unmarshal, then the conversion its check method did.
func refWireDecode(data []byte) (BulkHostedNumberOrder, error) {
	var w refWire
	if err := json.Unmarshal(data, &w); err != nil {
		return BulkHostedNumberOrder{}, err
	}
	var results []ResultGroup
	if w.Results != nil {
		results = make([]ResultGroup, len(w.Results))
		for i := range w.Results {
			if err := w.Results[i].decodeInto(&results[i]); err != nil {
				return BulkHostedNumberOrder{}, err
			}
		}
	}
	return w.order(results), nil
}

// refResultGroup is ResultGroup with the UnmarshalJSON it had before.
type refResultGroup ResultGroup

func (g *refResultGroup) UnmarshalJSON(data []byte) error {
	var w refGroupWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	return w.decodeInto((*ResultGroup)(g))
}

type refPublic struct {
	refOrderFields
	Results []refResultGroup `json:"results"`
}

func (p *refPublic) order() BulkHostedNumberOrder {
	var results []ResultGroup
	if p.Results != nil {
		results = make([]ResultGroup, len(p.Results))
		for i := range p.Results {
			results[i] = ResultGroup(p.Results[i])
		}
	}
	return p.refOrderFields.order(results)
}

// checkSameDecode decodes data every way the SDK can and fails t if any
// result differs from the reference's, in value or in whether it is an
// error.
func checkSameDecode(t *testing.T, data []byte) {
	t.Helper()
	show := func() string {
		if len(data) > 300 {
			return fmt.Sprintf("%q…", data[:300])
		}
		return fmt.Sprintf("%q", data)
	}
	same := func(what string, want BulkHostedNumberOrder, wantErr error, got BulkHostedNumberOrder, gotErr error) {
		t.Helper()
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("%s: encoding/json error %v, single-pass decoder error %v, for %s", what, wantErr, gotErr, show())
		}
		if wantErr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%s: decoded values differ for %s\nencoding/json: %+v\nsingle-pass:   %+v", what, show(), want, got)
		}
	}

	// The client's path.
	want, wantErr := refWireDecode(data)
	var w bulkOrderWire
	gotErr := decodeBody(data, &w)
	same("client decode", want, wantErr, w.BulkHostedNumberOrder, gotErr)

	// json.Unmarshal into a BulkHostedNumberOrder, and UnmarshalJSON called
	// directly, which has no encoding/json validation in front of it.
	var ref refPublic
	refErr := json.Unmarshal(data, &ref)
	var viaJSON, direct BulkHostedNumberOrder
	same("json.Unmarshal", ref.order(), refErr, viaJSON, json.Unmarshal(data, &viaJSON))
	same("UnmarshalJSON", ref.order(), refErr, direct, direct.UnmarshalJSON(data))

	// Decoding onto a value that already holds an order merges, as
	// encoding/json does.
	base := fetchFixture(t)
	var refMerged refPublic
	var merged BulkHostedNumberOrder
	if err := json.Unmarshal(base, &refMerged); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(base, &merged); err != nil {
		t.Fatal(err)
	}
	refErr = json.Unmarshal(data, &refMerged)
	same("json.Unmarshal onto an order", refMerged.order(), refErr, merged, json.Unmarshal(data, &merged))

	// The same bytes as a result group on its own.
	var refGroup, group refResultGroup
	refGroupErr := json.Unmarshal(data, &refGroup)
	groupErr := (*ResultGroup)(&group).UnmarshalJSON(data)
	if (refGroupErr != nil) != (groupErr != nil) {
		t.Fatalf("ResultGroup: encoding/json error %v, single-pass decoder error %v, for %s", refGroupErr, groupErr, show())
	}
	if refGroupErr == nil && !reflect.DeepEqual(refGroup, group) {
		t.Fatalf("ResultGroup: decoded values differ for %s\nencoding/json: %+v\nsingle-pass:   %+v", show(), refGroup, group)
	}
}

// fetchFixture is testdata/fetch_200.json, read once.
var fetchFixture = func() func(testing.TB) []byte {
	var once sync.Once
	var data []byte
	return func(t testing.TB) []byte {
		once.Do(func() { data = fixture(t, "fetch_200.json") })
		return data
	}
}()

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtureFiles returns every JSON response in testdata: the project's own
// and the published examples, which include other resources' documents.
func fixtureFiles(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pattern := range []string{"testdata/*.json", "testdata/spec-examples/*.json"} {
		names, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = data
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d fixtures", len(out))
	}
	return out
}

// decodeEdgeCases are documents that exercise every rule the decoder
// shares with encoding/json.
var decodeEdgeCases = []string{
	`{}`, `null`, ` { } `, `[]`, `""`, `0`, `true`, ``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`,
	`{"bulk_hosting_sid":"BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} x`, `{}{}`, "\ufeff{}",
	`{"results":null}`, `{"results":[]}`, `{"results":[null]}`, `{"results":[{}]}`, `{"results":{}}`,
	`{"results":[1]}`, `{"results":"x"}`, `{"results":[{"orders":null}]}`, `{"results":[{"orders":[]}]}`,
	`{"results":[{"orders":[null,{}]}]}`, `{"results":[{"orders":{}}]}`, `{"results":[{"orders":[1]}]}`,
	`{"results":[{"orders":[[]]}]}`,
	// count in every form.
	`{"results":[{"count":"2"}]}`, `{"results":[{"count":2}]}`, `{"results":[{"count":null}]}`,
	`{"results":[{"count":"-1"}]}`, `{"results":[{"count":-0}]}`, `{"results":[{"count":"+3"}]}`,
	`{"results":[{"count":"\u0033"}]}`, `{"results":[{"count":2.0}]}`, `{"results":[{"count":1e2}]}`,
	`{"results":[{"count":{}}]}`, `{"results":[{"count":[]}]}`, `{"results":[{"count":true}]}`,
	`{"results":[{"count":" 2"}]}`, `{"results":[{"count":"99999999999999999999"}]}`,
	`{"results":[{"count":"100000","orders":[{"phone_number":"+1"}]}]}`,
	`{"results":[{"orders":[{"phone_number":"+1"}],"count":"1"}]}`,
	// statuses and their spellings.
	`{"results":[{"order_status":"pending_loa"},{"order_status":"PENDING-LOA"},{"order_status":"new_one"},{"order_status":null},{"order_status":7}]}`,
	`{"request_status":"QUEUED"}`, `{"request_status":null}`, `{"request_status":1}`,
	// strings: escapes, invalid UTF-8, control characters.
	`{"friendly_name":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}`, `{"friendly_name":"\ud800"}`,
	`{"friendly_name":"\ud800\u0041"}`, "{\"friendly_name\":\"\xff\xfe\"}", "{\"friendly_name\":\"\x01\"}",
	`{"friendly_name":"\x"}`, `{"friendly_name":"\u12"}`, `{"friendly_name":"\u12G4"}`, `{"friendly_name":"abc`,
	"{\"results\":[{\"orders\":[{\"email\":\"\xc3\xa9\",\"next_step\":\"\xff\"}]}]}",
	`{"results":[{"orders":[{"email":"a\u0040b"}]}]}`,
	// nulls and wrong types on every kind of member.
	`{"bulk_hosting_sid":null,"url":null,"friendly_name":null,"date_created":null,"total_count":null}`,
	`{"bulk_hosting_sid":1}`, `{"url":1}`, `{"url":false}`, `{"date_created":"yesterday"}`, `{"date_created":5}`,
	`{"date_created":"Thu, 29 Jun 2023 15:19:37 +0000"}`, `{"date_completed":"2023-06-29T15:19:37+02:00"}`,
	`{"total_count":"4"}`, `{"total_count":4.5}`, `{"total_count":4.0}`, `{"total_count":4e0}`, `{"total_count":-0}`,
	`{"total_count":9223372036854775807}`, `{"total_count":9223372036854775808}`, `{"total_count":-9223372036854775808}`,
	`{"total_count":01}`, `{"total_count":-}`, `{"total_count":1.}`, `{"total_count":.5}`, `{"total_count":1e}`,
	`{"total_count":1E+2}`, `{"total_count":tru}`, `{"total_count":nul}`, `{"total_count":[1]}`,
	`{"results":[{"orders":[{"hosting_order_sid":null,"failure_reason":null,"phone_number":true}]}]}`,
	`{"results":[{"orders":[{"failure_reason":1}]}]}`, `{"results":[{"orders":[{"failure_reason":{}}]}]}`,
	`{"results":[{"get_more_info":"https://example.com"},{"get_more_info":[]}]}`,
	// member names: unknown, folded, escaped, repeated.
	`{"unknown":{"a":[1,2,{"b":null}],"c":"d"},"x":[],"y":-1.5e-3,"z":true}`,
	`{"unknown":[1,2,}`, `{"unknown":{"a" 1}}`, `{"unknown":[1 2]}`, `{"unknown":{"a":1,}}`,
	`{"BULK_HOSTING_SID":"BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","Total_Count":3,"RESULTS":[{"Order_Status":"failed","COUNT":1,"Orders":[{"PHONE_NUMBER":"+1"}]}]}`,
	`{"bulk_host\u0130ng_sid":"x","ur\u212a":"y","friendly_name\u017f":"z","url":"u","\u0055RL":"v"}`,
	`{"bulk_hosting_s\u0131d":"x","\u0074otal_count":2,"fr\u0130endly_name":"n"}`,
	`{"url":"a","url":"b","total_count":1,"total_count":null}`,
	`{"results":[{"order_status":"failed","orders":[{"email":"a","phone_number":"1"},{"email":"b"}]}],"results":[{"orders":[{"phone_number":"2"}]}]}`,
	`{"results":[{"orders":[{"email":"a"},{"email":"b"},{"email":"c"}]}],"results":[{"orders":[{"url":"u"}]},null],"results":[{"orders":[{},{},{}]},{}]}`,
	`{"results":[{"orders":[{"email":"a"}],"orders":[{"url":"u"},{}],"orders":null,"count":1,"count":"x"}]}`,
	`{"results":[{"count":"x"}],"results":[{"count":1}]}`,
	// a later, shorter array after a longer one: nothing of the first may
	// show through.
	`{"results":[{"orders":[{"email":"a"},{"email":"b"},{"email":"c"},{"email":"d"},{"email":"e"}]},{"orders":[{},null,{"url":"u"}]}]}`,
	`{"results":[{"orders":[{"email":"a"},{"email":"b"},{"email":"c"},{"email":"d"},{"email":"e"}],"orders":[{},null],"orders":[null,null,null,null,null,null]}]}`,
	`{"Status":"failed","LastResponse":{},"RawOrderStatus":"x","results":[{"RawOrderStatus":"x","orders":[{"Status":"failed"}]}]}`,
	`{"-":1,"results":[{"-":2,"orders":[{"-":3}]}]}`,
}

// deepNesting returns an order whose unknown member nests n arrays.
func deepNesting(n int) string {
	return `{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
}

func TestDecode_MatchesEncodingJSONOnEveryFixture(t *testing.T) {
	for name, data := range fixtureFiles(t) {
		t.Run(filepath.Base(name), func(t *testing.T) { checkSameDecode(t, data) })
	}
}

func TestDecode_MatchesEncodingJSONOnEdgeCases(t *testing.T) {
	for i, c := range decodeEdgeCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkSameDecode(t, []byte(c)) })
	}
	// encoding/json allows 10 000 levels of nesting; the order is the
	// first.
	for _, n := range []int{9999, 10000} {
		t.Run(fmt.Sprint("depth", n), func(t *testing.T) { checkSameDecode(t, []byte(deepNesting(n))) })
	}
}

func TestDecode_DepthLimitIsEncodingJSONs(t *testing.T) {
	var w bulkOrderWire
	if err := w.decodeJSON([]byte(deepNesting(9999))); err != nil {
		t.Errorf("10 000 levels: %v", err)
	}
	err := w.decodeJSON([]byte(deepNesting(10000)))
	if err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Errorf("10 001 levels: got %v, want exceeded max depth", err)
	}
}

func TestDecode_GeneratedOrdersMatchEncodingJSON(t *testing.T) {
	for _, n := range []int{0, 1, 7, 500} {
		checkSameDecode(t, generatedFetchBody(n, false))
		checkSameDecode(t, generatedFetchBody(n, true))
	}
}

// generatedFetchBody returns a fetch response with n orders over four
// groups; countLast puts each group's count after its orders.
func generatedFetchBody(n int, countLast bool) []byte {
	statuses := []string{"pending_loa", "completed", "failed", "received"}
	groups := make([][]string, len(statuses))
	for k := 0; k < n; k++ {
		g := k % len(statuses)
		reason, step := "null", "null"
		if statuses[g] == "failed" {
			reason, step = `"test failure-reason"`, `"test next-step"`
		}
		groups[g] = append(groups[g], fmt.Sprintf(`{"hosting_order_sid":"HR%032x","phone_number":"+1628%07d","account_sid":"AC0123456789abcdef0123456789abcdef","failure_reason":%s,"next_step":%s,"url":"https://numbers.twilio.com/v2/HostedNumber/Orders/HR%032x","email":"owner%d@example.com","signing_document_sid":"PX%032x"}`,
			k, k, reason, step, k, k/50, k))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"bulk_hosting_sid":"BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","request_status":"PROCESSED","total_count":%d,"results":[`, n)
	first := true
	for g, orders := range groups {
		if len(orders) == 0 {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		list := "[" + strings.Join(orders, ",") + "]"
		if countLast {
			fmt.Fprintf(&b, `{"order_status":%q,"get_more_info":null,"orders":%s,"count":%d}`, statuses[g], list, len(orders))
		} else {
			fmt.Fprintf(&b, `{"order_status":%q,"count":"%d","get_more_info":null,"orders":%s}`, statuses[g], len(orders), list)
		}
	}
	b.WriteString("]}")
	return b.Bytes()
}

// FuzzDecode_MatchesEncodingJSON checks the single-pass decoder against
// encoding/json on arbitrary input, seeded with every fixture and edge
// case:
//
//	go test -run='^$' -fuzz=FuzzDecode_MatchesEncodingJSON -fuzztime=60s .
func FuzzDecode_MatchesEncodingJSON(f *testing.F) {
	for _, data := range fixtureFiles(f) {
		f.Add(data)
	}
	for _, c := range decodeEdgeCases {
		f.Add([]byte(c))
	}
	f.Add(generatedFetchBody(9, false))
	f.Add(generatedFetchBody(9, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameDecode(t, data)
	})
}

func TestDecode_ErrorsNameTheMemberAndOffset(t *testing.T) {
	tests := []struct {
		body, want string
		typeErr    bool // a *json.UnmarshalTypeError, as encoding/json gave
	}{
		{`{"results":[{"orders":[{},{"phone_number":5}]}]}`, "cannot unmarshal number into Go struct field BulkHostedNumberOrder.results[0].orders[1].phone_number of type string", true},
		{`{"results":[{"orders":[{"next_step":[]}]}]}`, "results[0].orders[0].next_step: want a string or null, got an array", false},
		{`{"results":[{"orders":{}}]}`, "cannot unmarshal object into Go struct field BulkHostedNumberOrder.results[0].orders of type []hostednumbers.BulkOrderResult", true},
		{`{"results":[7]}`, "cannot unmarshal number into Go struct field BulkHostedNumberOrder.results[0] of type hostednumbers.ResultGroup", true},
		{`{"total_count":1.5}`, "cannot unmarshal number 1.5 into Go struct field BulkHostedNumberOrder.total_count of type int", true},
		{`{"total_count":"1"}`, "cannot unmarshal string into Go struct field BulkHostedNumberOrder.total_count of type int", true},
		{`{"friendly_name":true}`, "friendly_name: want a string or null, got a boolean", false},
		{`{"results":[{"count":"x"}]}`, `count: want a non-negative whole number or a string holding one, got "\"x\""`, false},
		{`{"url":"a" "b"}`, `invalid JSON: invalid character '"' after object key:value pair (offset 11)`, false},
		{`{"url":"a`, "invalid JSON: unexpected end of input (offset 9)", false},
		{`{"url":"a"}]`, "invalid JSON: invalid character ']' after top-level value (offset 11)", false},
	}
	for _, tt := range tests {
		var w bulkOrderWire
		err := w.decodeJSON([]byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.body, err, tt.want)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) != tt.typeErr {
			t.Errorf("%s: error %T, want a *json.UnmarshalTypeError: %v", tt.body, err, tt.typeErr)
		}
	}
}

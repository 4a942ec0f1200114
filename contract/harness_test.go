package contract

// Tests of the contract test's own machinery, without Prism: they run in
// every `go test ./...`.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// specForTest loads the definitions into a temporary directory.
func specForTest(t *testing.T) *spec {
	t.Helper()
	return loadSpec(t, t.TempDir())
}

func TestSpec_MatchPrefersTheLiteralPath(t *testing.T) {
	s := specForTest(t)
	for _, tc := range []struct{ method, path, want string }{
		{http.MethodPost, "/v2/HostedNumber/Orders/Bulk", "CreateBulkHostedNumberOrder"},
		{http.MethodPost, "/v2/HostedNumber/Orders/HR0123456789abcdef0123456789abcdef", "UpdateHostedNumberOrder"},
		{http.MethodGet, "/v2/HostedNumber/Orders/Bulk/BH0123456789abcdef0123456789abcdef", "FetchBulkHostedNumberOrder"},
		{http.MethodGet, "/v1/HostedNumber/Eligibility/Bulk/EC0123456789abcdef0123456789abcdef", "FetchBulkEligibility"},
		{http.MethodDelete, "/v2/HostedNumber/AuthorizationDocuments/PX0123456789abcdef0123456789abcdef", "DeleteAuthorizationDocument"},
	} {
		o := s.match(tc.method, tc.path)
		if o == nil || o.id != tc.want {
			t.Errorf("%s %s matched %v, want %s", tc.method, tc.path, o, tc.want)
		}
	}
	if o := s.match(http.MethodPut, "/v2/HostedNumber/Orders"); o != nil {
		t.Errorf("PUT matched %s", o.id)
	}
}

func TestSpec_FormArraysAndExamplesAreIndexed(t *testing.T) {
	s := specForTest(t)
	if got := s.ops["CreateAuthorizationDocument"].formArrays; !slices.Equal(got, []string{"CcEmails", "HostedNumberOrderSids"}) {
		t.Errorf("CreateAuthorizationDocument form arrays = %q", got)
	}
	if got := s.ops["CreateHostedNumberOrder"].formArrays; !slices.Equal(got, []string{"CcEmails"}) {
		t.Errorf("CreateHostedNumberOrder form arrays = %q", got)
	}
	if got := s.ops["ListHostedNumberOrder"].exampleNames(); !slices.Equal(got, []string{"readEmpty", "readFull"}) {
		t.Errorf("ListHostedNumberOrder examples = %q", got)
	}
	if o := s.ops["DeleteHostedNumberOrder"]; o.status != http.StatusNoContent || len(o.examples) != 0 {
		t.Errorf("DeleteHostedNumberOrder: status %d, %d examples", o.status, len(o.examples))
	}
}

// TestSpec_ServedCopiesChangeOnlyWhatTheyDocument: the published flavour
// differs from Twilio's file only by the encodings of its form arrays.
func TestSpec_ServedCopiesChangeOnlyWhatTheyDocument(t *testing.T) {
	s := specForTest(t)
	var doc map[string]any
	readJSON(t, s.served[published]["/v2/"], &doc)
	form := formBody(doc["paths"].(map[string]any)["/v2/HostedNumber/AuthorizationDocuments"].(map[string]any)["post"].(map[string]any))
	enc, _ := form["encoding"].(map[string]any)
	want := map[string]any{"style": "form", "explode": false}
	for _, name := range []string{"CcEmails", "HostedNumberOrderSids"} {
		if got, _ := json.Marshal(enc[name]); string(got) != mustJSON(t, want) {
			t.Errorf("encoding of %s = %s", name, got)
		}
	}
	delete(form, "encoding")
	var twilio map[string]any
	readJSON(t, "../testdata/openapi/twilio_numbers_v2.json", &twilio)
	for _, ops := range doc["paths"].(map[string]any) {
		for _, op := range ops.(map[string]any) {
			if f := formBody(asMap(op)); f != nil {
				delete(f, "encoding")
			}
		}
	}
	if mustJSON(t, doc) != mustJSON(t, twilio) {
		t.Error("the published flavour differs from Twilio's definition by more than the form encodings")
	}
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJoinFormArrays(t *testing.T) {
	body := url.Values{"CcEmails": {"a@example.com", "b@example.com"}, "Email": {"o@example.com"},
		"HostedNumberOrderSids": {"HR1"}}.Encode()
	got, problems := joinFormArrays(body, []string{"CcEmails", "HostedNumberOrderSids"})
	if len(problems) != 0 {
		t.Fatalf("problems: %q", problems)
	}
	v, _ := url.ParseQuery(got)
	if !slices.Equal(v["CcEmails"], []string{"a@example.com,b@example.com"}) || !slices.Equal(v["HostedNumberOrderSids"], []string{"HR1"}) ||
		!slices.Equal(v["Email"], []string{"o@example.com"}) {
		t.Errorf("joined body %s", got)
	}
	_, problems = joinFormArrays(url.Values{"CcEmails": {"a,b@example.com"}}.Encode(), []string{"CcEmails"})
	if len(problems) != 1 || !strings.Contains(problems[0], "comma") {
		t.Errorf("an element with a comma: problems %q", problems)
	}
}

func TestIsExploded(t *testing.T) {
	want := []string{"a@example.com", "b@example.com"}
	if err := isExploded("CcEmails=a%40example.com&CcEmails=b%40example.com", "CcEmails", want); err != nil {
		t.Errorf("repeated members: %v", err)
	}
	for _, body := range []string{
		"CcEmails=a%40example.com%2Cb%40example.com",                    // comma-joined
		"CcEmails=b%40example.com&CcEmails=a%40example.com",             // out of order
		"CcEmails%5B%5D=a%40example.com&CcEmails%5B%5D=b%40example.com", // brackets
		"",
	} {
		if err := isExploded(body, "CcEmails", want); err == nil {
			t.Errorf("%q taken for Twilio's exploded form", body)
		}
	}
}

func TestExchangeFaults(t *testing.T) {
	s := specForTest(t)
	update := s.ops["UpdateHostedNumberOrder"]
	ok := &exchange{op: update, status: http.StatusOK}
	if f := ok.faults(); len(f) != 0 {
		t.Errorf("a documented answer has faults %q", f)
	}
	for name, e := range map[string]*exchange{
		"refused by Prism":   {op: update, status: http.StatusUnprocessableEntity},
		"no operation":       {status: http.StatusOK},
		"violation reported": {op: update, status: http.StatusOK, violations: []violation{{Location: []string{"request", "body"}, Severity: "Warning", Message: "x"}}},
		"proxy problem":      {op: update, status: http.StatusOK, problems: []string{"CcEmails element holds a comma"}},
	} {
		if f := e.faults(); len(f) == 0 {
			t.Errorf("%s: no fault found", name)
		}
	}
}

// TestProxy_RecordsViolationsAndJoinsArrays runs the proxy in front of a
// stand-in for Prism that reports a violation.
func TestProxy_RecordsViolationsAndJoinsArrays(t *testing.T) {
	s := specForTest(t)
	var gotBody string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1024)
		n, _ := r.Body.Read(b)
		gotBody = string(b[:n])
		w.Header().Set("sl-violations", `[{"location":["response","body","sid"],"severity":"Error","code":"pattern","message":"must match"}]`)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer upstream.Close()
	px := newProxy(s, map[string]string{"/v2/": upstream.URL})
	srv := httptest.NewServer(px)
	defer srv.Close()
	body := "CcEmails=a%40example.com&CcEmails=b%40example.com&Email=o%40example.com"
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/v2/HostedNumber/AuthorizationDocuments", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	ex := px.take()
	if len(ex) != 1 {
		t.Fatalf("%d exchanges recorded", len(ex))
	}
	e := ex[0]
	if e.op == nil || e.op.id != "CreateAuthorizationDocument" || e.sent != body || e.status != http.StatusCreated {
		t.Errorf("recorded %s", e)
	}
	if v, _ := url.ParseQuery(gotBody); !slices.Equal(v["CcEmails"], []string{"a@example.com,b@example.com"}) {
		t.Errorf("Prism got %q", gotBody)
	}
	if len(e.violations) != 1 || len(e.faults()) != 1 {
		t.Errorf("violations %v, faults %q", e.violations, e.faults())
	}
	if len(px.take()) != 0 {
		t.Error("take did not clear the record")
	}
}

func TestRefusals(t *testing.T) {
	const asked = "BH0123456789abcdef0123456789abcdef"
	obj := func(doc string) object {
		v, err := decodeAnswer([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return newObject(t, "answer", v)
	}
	for _, tc := range []struct {
		name string
		got  []refusal
		want []refusal
	}{
		{"same SID, other case", sidRefusals(obj(`{"bulk_hosting_sid":"BH0123456789ABCDEF0123456789abcdef"}`), "bulk_hosting_sid", "BH", asked, false), nil},
		{"other SID", sidRefusals(obj(`{"bulk_hosting_sid":"BH1123456789abcdef0123456789abcdef"}`), "bulk_hosting_sid", "BH", asked, false), []refusal{refuseForeignSID}},
		{"other case, exact", sidRefusals(obj(`{"request_id":"EC0123456789ABCDEF0123456789abcdef"}`), "request_id", "EC", "EC0123456789abcdef0123456789abcdef", true), []refusal{refuseForeignSID}},
		{"null SID", sidRefusals(obj(`{"bulk_hosting_sid":null}`), "bulk_hosting_sid", "BH", "", false), []refusal{refuseNoSID}},
		{"results of groups", bulkResultsRefusals(obj(`{"results":[{"order_status":"pending_loa","count":"2","orders":[{"hosting_order_sid":"HR1","phone_number":"+1"}]}]}`)), nil},
		{"results untyped", bulkResultsRefusals(obj(`{"results":[7]}`)), []refusal{refuseUntypedResults}},
		{"count not a number", bulkResultsRefusals(obj(`{"results":[{"count":"two"}]}`)), []refusal{refuseUntypedResults}},
		{"eligibility without results", eligibilityResultsRefusals(obj(`{"results":null}`), true), []refusal{refuseNoResults}},
		{"eligibility result without its number", eligibilityResultsRefusals(obj(`{"results":[{"eligibility_status":"eligible"}]}`), false), []refusal{refuseUntypedResults}},
		{"eligibility result", eligibilityResultsRefusals(obj(`{"results":[{"phone_number":"+14155550101","date_last_checked":"2023-01-01T00:00:00Z"}]}`), true), nil},
		{"page", pageRefusals(obj(`{"meta":{"key":"items"},"items":[{"sid":"HR0123456789abcdef0123456789abcdef"}]}`), "HR"), nil},
		{"page keyed elsewhere", pageRefusals(obj(`{"meta":{"key":"dolor"},"items":[]}`), "HR"), []refusal{refuseMetaKey}},
		{"page without meta", pageRefusals(obj(`{"items":[]}`), "HR"), []refusal{refuseNoMeta}},
		{"document links", documentRefusals(obj(`{"sid":"PX0123456789abcdef0123456789abcdef","links":{"a":1}}`), ""), []refusal{refuseLinks}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: refusals %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// TestPrismBinary_SkipsWithTheCommandToRun: without HOSTEDNUMBERS_PRISM
// the contract test is skipped, with a message that says how to run it.
func TestPrismBinary_SkipsWithTheCommandToRun(t *testing.T) {
	t.Setenv(prismEnv, "")
	skipped := false
	t.Run("without Prism", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		prismBinary(t)
	})
	if !skipped {
		t.Error("prismBinary did not skip without a configured Prism")
	}
	for _, want := range []string{"bash .ci/prism.sh", prismEnv + "=", "go test -count=1 -v ./contract/"} {
		if !strings.Contains(howToRun, want) {
			t.Errorf("the skip message does not say %q: %s", want, howToRun)
		}
	}
}

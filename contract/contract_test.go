package contract

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// dynamicRounds is how many random answers each call gets in dynamic mode.
const dynamicRounds = 5

// testTimeout bounds the whole contract test, Prism's start included.
const testTimeout = 6 * time.Minute

// TestContract runs every SDK call against Twilio's OpenAPI definitions
// (testdata/openapi) served by Prism, which validates each request
// against them: first in static mode, once per example of the
// operation's answer, then in dynamic mode, dynamicRounds times with a
// random answer valid under the definition's schema. A request Prism
// refuses or reports a violation for fails the test, as does an answer
// the SDK does not decode to the values it holds; the only answers the
// SDK may refuse are the ones README.md lists (refusal), and it must
// refuse exactly those.
func TestContract(t *testing.T) {
	bin := prismBinary(t)
	seed := os.Getenv(seedEnv)
	if seed != "" {
		t.Logf("%s=%s: Prism's random answers are the same in every round", seedEnv, seed)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	started := time.Now()
	s := loadSpec(t, t.TempDir())
	for _, c := range calls() {
		if s.ops[c.op] == nil {
			t.Fatalf("%s: no operation %s in Twilio's definitions", c.name, c.op)
		}
	}
	upstream := map[string]map[string]string{published: {}, described: {}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for flavour, files := range s.served {
		for prefix, file := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := startPrism(ctx, t, bin, file, seed)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				upstream[flavour][prefix] = p.url
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d Prism servers started in %s: %v", 2*len(specFiles), time.Since(started).Round(time.Millisecond), upstream)

	h := &harness{spec: s, rigs: map[string]*rig{}, tally: map[string]int{}}
	for flavour, up := range upstream {
		px := newProxy(s, up)
		srv := httptest.NewServer(px)
		defer srv.Close()
		client, err := hostednumbers.NewClient(
			hostednumbers.WithCredentials("AC0123456789abcdef0123456789abcdef", "contract-test-token"),
			hostednumbers.WithBaseURL(srv.URL),
			hostednumbers.WithMaxRetries(0), // one request per call: what Prism saw is what the SDK sent
			hostednumbers.WithTimeout(30*time.Second),
		)
		if err != nil {
			t.Fatal(err)
		}
		h.rigs[flavour] = &rig{proxy: px, client: client}
	}

	t.Run("controls", func(t *testing.T) { controls(ctx, t, h.rigs[published].proxy, h.rigs[published].client.BaseURL()) })
	t.Run("static", func(t *testing.T) {
		for _, c := range calls() {
			op := s.ops[c.op]
			names := op.exampleNames()
			if len(names) == 0 {
				names = []string{""} // a 204: nothing to choose
			}
			for _, ex := range names {
				t.Run(c.name+"/"+orNone(ex), func(t *testing.T) { h.static(ctx, t, c, op, ex) })
			}
		}
	})
	for _, flavour := range []string{published, described} {
		t.Run("dynamic/"+flavour, func(t *testing.T) {
			for round := 1; round <= dynamicRounds; round++ {
				for _, c := range calls() {
					t.Run(fmt.Sprintf("%s/round%d", c.name, round), func(t *testing.T) { h.dynamic(ctx, t, flavour, c, s.ops[c.op]) })
				}
			}
		})
	}
	t.Logf("%s", h.summary(time.Since(started)))
}

func orNone(s string) string {
	if s == "" {
		return "no-example"
	}
	return s
}

// rig is a client whose requests reach the Prism servers of one
// flavour of the definitions through a recording proxy.
type rig struct {
	proxy  *proxy
	client *hostednumbers.Client
}

// harness runs calls and keeps the counts the summary reports.
type harness struct {
	spec *spec
	rigs map[string]*rig // by flavour

	mu    sync.Mutex
	tally map[string]int
}

func (h *harness) count(key string) { h.add(key, 1) }

func (h *harness) add(key string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tally[key] += n
}

func (h *harness) summary(elapsed time.Duration) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.tally))
	for k := range h.tally {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "contract test: static mode once per example, dynamic mode %d rounds per flavour, %s in all", dynamicRounds, elapsed.Round(time.Millisecond))
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-40s %d", k, h.tally[k])
	}
	return b.String()
}

// exchangeOf runs the call and returns the one exchange it made, after
// checking it against the contract: the request reached the operation,
// Prism accepted it without a violation, and the SDK sent what the call
// checks.
func (h *harness) exchangeOf(ctx context.Context, t *testing.T, flavour string, c call, op *operation, sid string, opts []hostednumbers.CallOption) (any, *exchange, error) {
	t.Helper()
	r := h.rigs[flavour]
	r.proxy.take()
	decoded, err := c.run(ctx, r.client, sid, opts)
	exchanges := r.proxy.take()
	if len(exchanges) != 1 {
		t.Fatalf("%s made %d requests, want 1 (err %v)", c.name, len(exchanges), err)
	}
	e := exchanges[0]
	h.count("requests")
	h.add("violations", len(e.violations))
	if e.op != op {
		t.Errorf("the request reached %v, not %s:\n%s", e.op, op.id, e)
	}
	if faults := e.faults(); len(faults) > 0 {
		h.count("refused requests")
		t.Errorf("%s breaks Twilio's definition:\n  %s\n%s", c.name, strings.Join(faults, "\n  "), e)
	}
	if c.sent != nil {
		if err := c.sent(e); err != nil {
			t.Errorf("%s sent %v:\n%s", c.name, err, e)
		}
	}
	return decoded, e, err
}

// static runs c against the example ex of its operation and checks that
// the SDK decodes it to the example's values.
func (h *harness) static(ctx context.Context, t *testing.T, c call, op *operation, ex string) {
	sid := ""
	if c.sidPrefix != "" {
		sid = fixedSID(c.sidPrefix)
	}
	var example any
	if ex != "" {
		var err error
		if example, err = decodeAnswer(op.examples[ex]); err != nil {
			t.Fatalf("example %s of %s: %v", ex, op.id, err)
		}
		if c.sidMember != "" {
			// Prism's example names one resource; ask for that one.
			sid, _ = example.(map[string]any)[c.sidMember].(string)
		}
	}
	var opts []hostednumbers.CallOption
	if ex != "" {
		opts = append(opts, hostednumbers.WithCallHeader("Prefer", "example="+ex))
	}
	decoded, e, err := h.exchangeOf(ctx, t, published, c, op, sid, opts)
	h.count("static calls")
	if err != nil {
		h.count("static answers not decoded")
		t.Fatalf("%s: the SDK did not decode Twilio's example %s: %v\n%s", c.name, orNone(ex), err, e)
	}
	if ex == "" {
		return
	}
	answer, aerr := decodeAnswer(e.answer)
	if aerr != nil || !reflect.DeepEqual(answer, example) {
		t.Fatalf("Prism did not answer with example %s (%v):\n%s", ex, aerr, e)
	}
	if c.check != nil {
		c.check(newObject(t, op.id+"/"+ex, answer), decoded)
	}
}

// dynamic runs c against a random answer and checks that the SDK decodes
// it to its values, or refuses it with a *DecodeError exactly when
// c.refusals says it must.
func (h *harness) dynamic(ctx context.Context, t *testing.T, flavour string, c call, op *operation) {
	sid := ""
	if c.sidPrefix != "" {
		sid = fixedSID(c.sidPrefix)
	}
	decoded, e, err := h.exchangeOf(ctx, t, flavour, c, op, sid, []hostednumbers.CallOption{hostednumbers.WithCallHeader("Prefer", "dynamic=true")})
	h.count("dynamic calls (" + flavour + ")")
	if c.check == nil { // no answer body
		if err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, e)
		}
		return
	}
	answer, aerr := decodeAnswer(e.answer)
	if aerr != nil {
		t.Fatalf("Prism's answer is not JSON (%v):\n%s", aerr, e)
	}
	o := newObject(t, op.id, answer)
	want := c.refusals(o, sid)
	if len(want) == 0 {
		if err != nil {
			h.count("dynamic answers not decoded (" + flavour + ")")
			t.Fatalf("%s: the SDK did not decode a schema-valid answer: %v\n%s", c.name, err, e)
		}
		h.count("dynamic answers decoded (" + flavour + ")")
		c.check(o, decoded)
		return
	}
	var de *hostednumbers.DecodeError
	switch {
	case err == nil:
		t.Fatalf("%s: the SDK took an answer it must refuse (%v):\n%s", c.name, want, e)
	case !errors.As(err, &de):
		t.Fatalf("%s: the answer must be refused with a *DecodeError (%v), got %T: %v\n%s", c.name, want, err, err, e)
	case len(want) == 1 && want[0] == refuseForeignSID && !strings.Contains(err.Error(), "the answer is about"):
		t.Fatalf("%s: the answer names another SID, but the error does not say so: %v\n%s", c.name, err, e)
	case op.method != http.MethodGet && !errors.Is(err, hostednumbers.ErrOutcomeUnknown):
		t.Fatalf("%s: an accepted change with an unusable answer must be ErrOutcomeUnknown: %v", c.name, err)
	}
	for _, r := range want {
		h.count("dynamic answers refused (" + flavour + "): " + string(r))
	}
	t.Logf("refused as it must be (%v): %v", want, err)
}

// controls sends requests by hand through the proxy to show that the
// test sees what it must: Prism refuses what Twilio's definition does
// not allow, and accepts a form array sent as Twilio reads it.
func controls(ctx context.Context, t *testing.T, px *proxy, base string) {
	const auth = "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpjb250cmFjdC10ZXN0LXRva2Vu"
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, method, path, contentType, body string
		auth, wantFault                       bool
		wantStatus                            int
	}{
		{"an update without its required Status", http.MethodPost, "/v2/HostedNumber/Orders/HR0123456789abcdef0123456789abcdef", form, "VerificationCallDelay=15", true, true, http.StatusUnprocessableEntity},
		{"a status outside the enum", http.MethodGet, "/v2/HostedNumber/Orders?Status=pending_loa", "", "", true, true, http.StatusUnprocessableEntity},
		{"a malformed SID", http.MethodGet, "/v2/HostedNumber/Orders/HR0123", "", "", true, true, http.StatusUnprocessableEntity},
		{"no credentials", http.MethodGet, "/v2/HostedNumber/Orders/HR0123456789abcdef0123456789abcdef", "", "", false, true, http.StatusUnauthorized},
		{"a form array sent as Twilio reads it", http.MethodPost, "/v2/HostedNumber/AuthorizationDocuments", form,
			"AddressSid=AD0123456789abcdef0123456789abcdef&Email=o%40example.com&ContactPhoneNumber=%2B14155550100&HostedNumberOrderSids=HR0123456789abcdef0123456789abcdef&HostedNumberOrderSids=HRfedcba9876543210fedcba9876543210&CcEmails=a%40example.com", true, false, http.StatusCreated},
		{"an authorisation document without its required HostedNumberOrderSids", http.MethodPost, "/v2/HostedNumber/AuthorizationDocuments", form,
			"AddressSid=AD0123456789abcdef0123456789abcdef&Email=o%40example.com&ContactPhoneNumber=%2B14155550100", true, true, http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(ctx, tc.method, base+tc.path, nil)
			if body != nil {
				req, err = http.NewRequestWithContext(ctx, tc.method, base+tc.path, body)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.auth {
				req.Header.Set("Authorization", auth)
			}
			px.take()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			ex := px.take()
			if len(ex) != 1 {
				t.Fatalf("%d exchanges recorded", len(ex))
			}
			if ex[0].status != tc.wantStatus || (len(ex[0].faults()) > 0) != tc.wantFault {
				t.Errorf("want status %d and fault %t, got:\n%s\nfaults: %q", tc.wantStatus, tc.wantFault, ex[0], ex[0].faults())
			}
		})
	}
}

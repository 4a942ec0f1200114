package contract

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// violation is one entry of Prism's sl-violations header: a way in which
// the request (location starting "request") or Prism's answer (starting
// "response") does not match the definition.
type violation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Code     any      `json:"code"`
	Message  string   `json:"message"`
}

func (v violation) String() string {
	return fmt.Sprintf("%s %s: %s", strings.Join(v.Location, "."), v.Severity, v.Message)
}

// exchange is one request the SDK sent and the answer Prism gave.
type exchange struct {
	op     *operation // nil when no operation of the definitions matches
	method string
	path   string
	query  string
	prefer string
	// sent is the body as the SDK sent it; forwarded as Prism got it
	// (they differ only where form arrays were joined).
	sent, forwarded string
	contentType     string
	status          int
	answer          []byte
	violations      []violation
	// problems are what the proxy itself found wrong with the request.
	problems []string
}

// String describes the exchange for a failure message: the request, and
// the answer with Prism's verdict.
func (e *exchange) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.method, e.path)
	if e.query != "" {
		fmt.Fprintf(&b, "?%s", e.query)
	}
	if e.op != nil {
		fmt.Fprintf(&b, " (%s)", e.op.id)
	}
	if e.prefer != "" {
		fmt.Fprintf(&b, " [Prefer: %s]", e.prefer)
	}
	if e.sent != "" {
		fmt.Fprintf(&b, "\n  request body (%s): %s", e.contentType, e.sent)
		if e.forwarded != e.sent {
			fmt.Fprintf(&b, "\n  as given to Prism: %s", e.forwarded)
		}
	}
	fmt.Fprintf(&b, "\n  answer %d: %s", e.status, excerpt(e.answer, 2000))
	for _, v := range e.violations {
		fmt.Fprintf(&b, "\n  violation: %s", v)
	}
	for _, p := range e.problems {
		fmt.Fprintf(&b, "\n  problem: %s", p)
	}
	return b.String()
}

func excerpt(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// faults lists everything that makes the exchange break the contract: a
// request no operation of the definitions serves, one the proxy could not
// hand to Prism faithfully, any violation Prism reports, and any status
// other than the operation's documented success (Prism answers 422 to a
// request its definition refuses, 401 without credentials, 404 or 405 for
// an unknown route).
func (e *exchange) faults() []string {
	var out []string
	out = append(out, e.problems...)
	if e.op == nil {
		out = append(out, "no operation of Twilio's definitions serves this request")
	} else if e.status != e.op.status {
		out = append(out, fmt.Sprintf("Prism answered %d, not the documented %d", e.status, e.op.status))
	}
	for _, v := range e.violations {
		out = append(out, "Prism reports a violation: "+v.String())
	}
	return out
}

// proxy stands between the SDK and the Prism servers: it routes /v1/ and
// /v2/ to the Prism serving that definition, joins the SDK's repeated
// form-array members for Prism (see deriveForPrism), and records every
// exchange.
type proxy struct {
	spec     *spec
	upstream map[string]string // path prefix (/v1/) → Prism's URL
	client   *http.Client

	mu        sync.Mutex
	exchanges []*exchange
}

func newProxy(s *spec, upstream map[string]string) *proxy {
	return &proxy{spec: s, upstream: upstream, client: &http.Client{Timeout: 30 * time.Second}}
}

// take returns the exchanges recorded since the last take.
func (p *proxy) take() []*exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.exchanges
	p.exchanges = nil
	return out
}

func (p *proxy) record(e *exchange) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exchanges = append(p.exchanges, e)
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := &exchange{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, prefer: r.Header.Get("Prefer"),
		contentType: r.Header.Get("Content-Type"), op: p.spec.match(r.Method, r.URL.Path)}
	defer p.record(e)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		e.problems = append(e.problems, "reading the request body: "+err.Error())
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	e.sent, e.forwarded = string(body), string(body)
	if e.op != nil && len(e.op.formArrays) > 0 && strings.HasPrefix(e.contentType, "application/x-www-form-urlencoded") {
		joined, problems := joinFormArrays(e.sent, e.op.formArrays)
		e.forwarded = joined
		e.problems = append(e.problems, problems...)
	}
	base := ""
	for prefix, u := range p.upstream {
		if strings.HasPrefix(r.URL.Path, prefix) {
			base = u
		}
	}
	if base == "" {
		e.problems = append(e.problems, "no Prism serves this path")
		http.Error(w, "no Prism serves this path", http.StatusBadGateway)
		return
	}
	target := base + r.URL.Path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	var fwdBody io.Reader
	if len(body) > 0 {
		fwdBody = strings.NewReader(e.forwarded)
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, fwdBody) //nolint:gosec // target is a loopback Prism this test started

	if err != nil {
		e.problems = append(e.problems, err.Error())
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Authorization", "Content-Type", "Accept", "Prefer", "User-Agent"} {
		if v := r.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	resp, err := p.client.Do(req) //nolint:gosec // target is a loopback Prism this test started
	if err != nil {
		e.problems = append(e.problems, "forwarding to Prism: "+err.Error())
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		e.problems = append(e.problems, "reading Prism's answer: "+err.Error())
	}
	e.status, e.answer = resp.StatusCode, answer
	if v := resp.Header.Get("sl-violations"); v != "" {
		if err := json.Unmarshal([]byte(v), &e.violations); err != nil {
			e.problems = append(e.problems, fmt.Sprintf("unreadable sl-violations header %q: %v", v, err))
		}
	}
	for _, h := range []string{"Content-Type", "Date"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// joinFormArrays rewrites a form body for Prism: the repeated members
// named in arrays (CcEmails=a&CcEmails=b, as Twilio reads them) become
// one comma-joined member (CcEmails=a,b), which Prism splits back into
// the array under the encoding deriveForPrism states. Every other member
// is kept as sent. An element holding a comma cannot be joined without
// changing the array; it is reported as a problem.
func joinFormArrays(body string, arrays []string) (string, []string) {
	values, err := url.ParseQuery(body)
	if err != nil {
		return body, []string{"the form body does not parse: " + err.Error()}
	}
	var problems []string
	for _, name := range arrays {
		elems, ok := values[name]
		if !ok {
			continue
		}
		for _, el := range elems {
			if strings.Contains(el, ",") {
				problems = append(problems, fmt.Sprintf("%s element %q holds a comma: Prism cannot be given it without changing the array", name, el))
			}
		}
		values[name] = []string{strings.Join(elems, ",")}
	}
	return values.Encode(), problems
}

// isExploded reports whether a form body sends the array member name as
// Twilio reads arrays: one name=value member per element, each value
// whole (want elements, in order).
func isExploded(body, name string, want []string) error {
	values, err := url.ParseQuery(body)
	if err != nil {
		return err
	}
	got := values[name]
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d members %q, want %d (one per element)", name, len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			return fmt.Errorf("%s[%d] = %q, want %q", name, i, got[i], want[i])
		}
	}
	return nil
}

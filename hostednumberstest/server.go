package hostednumberstest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

const (
	bulkPath          = "/v2/HostedNumber/Orders/Bulk"
	orderPath         = "/v2/HostedNumber/Orders"
	docPath           = "/v2/HostedNumber/AuthorizationDocuments"
	dependentsSegment = "DependentHostedNumberOrders"
	// maxBodyBytes bounds how much of a request body the server reads.
	maxBodyBytes = 32 << 20
)

// Server is a running fake of the Hosted Number Orders API: bulk orders,
// hosted number orders and authorisation documents. Create one
// with NewServer and Close it when done. All methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL of the server, http://127.0.0.1:port, without a
	// trailing slash: pass it to hostednumbers.WithBaseURL, or use Client.
	URL string

	cfg       config
	ts        *httptest.Server
	salt      uint64        // makes SIDs and request IDs differ between servers
	done      chan struct{} // closed by Close: ends latency waits
	closeOnce sync.Once

	mu       sync.Mutex
	seq      uint64 // last SID or request ID counter handed out
	requests []*Request
	faults   []queuedFault
	state
}

// state is everything the API holds: bulk orders, the hosted number orders
// they made, and their authorisation documents. Lists keep creation order,
// which is also SID counter order; maps index them.
type state struct {
	orders     map[string]*order
	orderList  []*order
	hosted     map[string]*hostedOrder
	hostedList []*hostedOrder
	byPhone    map[string][]*hostedOrder
	docs       map[string]*authDoc
	docList    []*authDoc
	// eligibility holds the bulk eligibility checks (eligibility.go).
	eligibility eligibilityState
}

func newState() state {
	return state{
		orders:  make(map[string]*order),
		hosted:  make(map[string]*hostedOrder),
		byPhone: make(map[string][]*hostedOrder),
		docs:    make(map[string]*authDoc),
	}
}

// Request is one request the server received, as Requests reports it.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, decoded.
	Path string
	// Query holds the URL's query parameters.
	Query url.Values
	// Header is a copy of the request headers without Authorization (and
	// Proxy-Authorization).
	Header http.Header
	// Body is the request body as received.
	Body []byte
	// Username is the basic-auth user the request presented, "" if none.
	// The password is never kept.
	Username string
	// Authorized reports whether the request carried the credentials the
	// server accepts.
	Authorized bool
	// Faulted reports whether an injected fault applied to the request.
	// A fault with only Latency delays a request that is then handled
	// normally; every other fault answers it (or drops it) by itself.
	Faulted bool
	// RequestID is the Twilio-Request-Id the server gave the request (and
	// sent, unless the connection was dropped).
	RequestID string
	// Status is the HTTP status the server answered with: 0 while the
	// request is still being handled, and 0 if its connection was dropped
	// (DropConnection, ProcessThenDrop, or the client gave up during a
	// Latency fault).
	Status int
	// CreatedSID is the SID of what the request created: the BH… SID of a
	// bulk create the server processed, even when the answer was then
	// replaced by a fault or dropped (Fault.ProcessThenDrop, a 2xx
	// Fault.Status), or when the client gave up during a Latency fault
	// (the create then takes effect later: WithAbandonedCreateDelay,
	// Fault.ProcessDelay). Empty if the request created nothing.
	CreatedSID string
}

func (r Request) clone() Request {
	if r.Query != nil {
		q := make(url.Values, len(r.Query))
		for k, v := range r.Query {
			q[k] = append([]string(nil), v...)
		}
		r.Query = q
	}
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	return r
}

// order is the server's state of one bulk hosting request.
type order struct {
	sid                             string
	friendlyName, notificationEmail string
	// created is when the server took the request in (later than its
	// arrival for a create whose client had gone); the order does not
	// exist before. completed is when it was PROCESSED.
	created, completed time.Time
	fetches            int
	// stage is the last stage seen and movedAt when each stage was first
	// seen (fetch-driven model) or is reached (asynchronous model): the
	// date_updated of the orders whose status it set.
	stage   int
	movedAt [stageProcessed + 1]time.Time
	numbers []*hostedOrder
	docs    []*authDoc
}

// NewServer starts a fake API server on a loopback address, configured by
// opts. It panics if an option is invalid or no port can be opened, as
// httptest.NewServer does. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.fetchesPerStage < 1 {
		panic(fmt.Sprintf("hostednumberstest: WithFetchesPerStage(%d): want at least 1", cfg.fetchesPerStage))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"WithProcessingDelay or WithStageDuration: queued", cfg.queued},
		{"WithProcessingDelay or WithStageDuration: in progress", cfg.inProgress},
		{"WithHostingDuration", cfg.hosting},
		{"WithListLag", cfg.listLag},
		{"WithAbandonedCreateDelay", cfg.abandoned},
	} {
		if d.v < 0 {
			panic(fmt.Sprintf("hostednumberstest: %s %v: want 0 or more", d.name, d.v))
		}
	}
	if cfg.resubmission != ResubmissionFails && cfg.resubmission != ResubmissionDuplicates {
		panic(fmt.Sprintf("hostednumberstest: WithResubmission(%d): not a Resubmission", cfg.resubmission))
	}
	if cfg.pageSize < 1 || cfg.pageSize > maxPageSize {
		panic(fmt.Sprintf("hostednumberstest: WithPageSize(%d): want 1 to %d", cfg.pageSize, maxPageSize))
	}
	s := &Server{
		cfg:   cfg,
		salt:  rand.Uint64(),
		done:  make(chan struct{}),
		state: newState(),
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Set before Start, so that handlers see it without a data race.
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.ts.Start()
	return s
}

// Close shuts the server down. Requests held up by a Latency fault are
// ended at once, their connections closed without an answer, so Close
// returns promptly. Close may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.ts.Close()
	})
}

// Client returns a hostednumbers.Client for the server: its credentials,
// its URL, an *http.Client over Transport (which Close cleans up) with
// hostednumbers.DefaultTimeout, and settings on the fake's time scale, so
// that nothing waits as long as it would for Twilio:
//
//   - FastRetryOptions: retries after 1 to 10ms, and Wait and WaitBulk
//     polling every 5 to 20ms when their options (nil included) leave the
//     intervals zero, so production code calling Wait(ctx, sid, nil) is
//     fast in tests too;
//   - hostednumbers.WithReconcileTiming(ReconcileWindow(), ConfirmGap()):
//     BulkHostedNumberOrders.Reconcile and WaitForReconcile, when their
//     params leave ProcessingWindow and ConfirmGap zero, allow the server
//     the time its own delays take, not Twilio's 30 minutes.
//
// opts are applied after these and override them; to wrap the transport,
// pass
// hostednumbers.WithHTTPClient(&http.Client{Transport: wrap(srv.Transport())}).
// Client panics if the options are invalid; the message names the problem,
// never a credential.
func (s *Server) Client(opts ...hostednumbers.Option) *hostednumbers.Client {
	all := []hostednumbers.Option{
		hostednumbers.WithCredentials(s.cfg.accountSID, s.cfg.authToken),
		hostednumbers.WithBaseURL(s.URL),
		hostednumbers.WithHTTPClient(&http.Client{
			Transport: s.Transport(),
			Timeout:   hostednumbers.DefaultTimeout,
		}),
		hostednumbers.WithReconcileTiming(s.ReconcileWindow(), s.ConfirmGap()),
	}
	all = append(all, FastRetryOptions()...)
	all = append(all, opts...)
	c, err := hostednumbers.NewClient(all...)
	if err != nil {
		msg := err.Error()
		for _, secret := range []string{s.cfg.authToken, s.cfg.apiKeySecret} {
			if secret != "" {
				msg = strings.ReplaceAll(msg, secret, "[redacted]")
			}
		}
		panic("hostednumberstest: Server.Client: " + msg)
	}
	return c
}

// Floors of the fake's Reconcile timing, so that even a server without
// delays (WithImmediateProcessing, zero durations) leaves a scheduler's
// hiccup of room.
const (
	minReconcileWindow = 50 * time.Millisecond
	minConfirmGap      = 10 * time.Millisecond
)

// ReconcileWindow is the server's counterpart of
// hostednumbers.DefaultProcessingWindow: how long after a create returned
// the server may still make its hosted number orders, with room to
// spare. It is twice the longest a create can take to show in a list here
// (queued and in-progress durations, WithAbandonedCreateDelay and
// WithListLag, added up), and at least 50ms: Twilio's thirty minutes play
// the same part against delays that are not documented. A Fault's
// ProcessDelay is not counted: a test that holds a create back longer
// gives ReconcileParams.ProcessingWindow itself. Client sets it as its
// clients' default.
func (s *Server) ReconcileWindow() time.Duration {
	d := s.cfg.abandoned + s.cfg.listLag
	if !s.cfg.fetchDriven {
		d += s.cfg.queued + s.cfg.inProgress
	}
	return max(2*d, minReconcileWindow)
}

// ConfirmGap is the server's counterpart of hostednumbers.DefaultConfirmGap:
// the least time between Reconcile's two looks that must both find a
// number missing, long enough for a list to catch up with an order it
// shows late: twice WithListLag, and at least 10ms. Client sets it as
// its clients' default.
func (s *Server) ConfirmGap() time.Duration {
	return max(2*s.cfg.listLag, minConfirmGap)
}

// Transport returns the http.RoundTripper that Client's clients use: one
// that reaches this server and whose idle connections Close cleans up.
// Wrap it to watch or alter a client's traffic.
func (s *Server) Transport() http.RoundTripper { return s.ts.Client().Transport }

// Requests returns a copy of every request the server has received, in the
// order they arrived, including unauthorised and faulted ones.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}

// Order returns the order with this bulk hosting SID as a fetch would
// return it now, without counting as a fetch, and whether it exists.
func (s *Server) Order(sid string) (*hostednumbers.BulkHostedNumberOrder, bool) {
	s.mu.Lock()
	now := s.now()
	o, ok := s.orderLocked(sid, now)
	var doc orderJSON
	if ok {
		doc = s.renderLocked(o, now, "")
	}
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	return decodeBulkOrder(doc), true
}

// Orders returns every bulk order the server holds now, oldest first,
// each as a fetch would return it now, without counting as a fetch. A
// create whose client had gone (see WithAbandonedCreateDelay) shows once
// it has taken effect.
func (s *Server) Orders() []*hostednumbers.BulkHostedNumberOrder {
	s.mu.Lock()
	now := s.now()
	docs := make([]orderJSON, 0, len(s.orderList))
	for _, o := range s.orderList {
		if !now.Before(o.created) {
			docs = append(docs, s.renderLocked(o, now, ""))
		}
	}
	s.mu.Unlock()
	out := make([]*hostednumbers.BulkHostedNumberOrder, len(docs))
	for i := range docs {
		out[i] = decodeBulkOrder(docs[i])
	}
	return out
}

// HostedNumberOrders returns every hosted number order (HR…) the server
// holds now, oldest first, canceled ones left out, each as
// GET /v2/HostedNumber/Orders/{Sid} would return it now: an order exists
// from the start of its bulk order's processing, whether or not anyone
// fetched it, and shows here before it shows in lists (WithListLag).
func (s *Server) HostedNumberOrders() []hostednumbers.HostedNumberOrder {
	s.mu.Lock()
	now := s.now()
	docs := make([]hostedOrderJSON, 0, len(s.hostedList))
	for _, h := range s.hostedList {
		if !h.canceled && !now.Before(h.created) {
			docs = append(docs, s.renderHostedLocked(h, now))
		}
	}
	s.mu.Unlock()
	out := make([]hostednumbers.HostedNumberOrder, len(docs))
	for i := range docs {
		if err := json.Unmarshal(mustJSON(docs[i]), &out[i]); err != nil {
			panic("hostednumberstest: the SDK cannot decode the server's own hosted number order: " + err.Error())
		}
	}
	return out
}

// AuthorizationDocuments returns every authorisation document (PX…) the
// server holds now, oldest first, each as
// GET /v2/HostedNumber/AuthorizationDocuments/{Sid} would return it now.
func (s *Server) AuthorizationDocuments() []hostednumbers.AuthorizationDocument {
	s.mu.Lock()
	now := s.now()
	docs := make([]docJSON, 0, len(s.docList))
	for _, d := range s.docList {
		if now.Before(d.created) {
			continue
		}
		st, updated := s.docStatusLocked(d, now)
		docs = append(docs, renderDoc(d, st, updated, s.URL))
	}
	s.mu.Unlock()
	out := make([]hostednumbers.AuthorizationDocument, len(docs))
	for i := range docs {
		if err := json.Unmarshal(mustJSON(docs[i]), &out[i]); err != nil {
			panic("hostednumberstest: the SDK cannot decode the server's own authorisation document: " + err.Error())
		}
	}
	return out
}

func decodeBulkOrder(doc orderJSON) *hostednumbers.BulkHostedNumberOrder {
	out := new(hostednumbers.BulkHostedNumberOrder)
	if err := json.Unmarshal(mustJSON(doc), out); err != nil {
		panic("hostednumberstest: the SDK cannot decode the server's own bulk order: " + err.Error())
	}
	return out
}

// Reset forgets every order, hosted number order, authorisation document,
// recorded request and queued fault. SIDs handed out later still differ
// from earlier ones.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
	s.faults = nil
	s.state = newState()
}

// now is the time on the server's clock (see WithClock and
// WithClockOffset).
func (s *Server) now() time.Time { return s.realNow().Add(s.cfg.clockOffset) }

// realNow is the time by the clock WithClock gave, without the offset.
func (s *Server) realNow() time.Time {
	if s.cfg.clock != nil {
		return s.cfg.clock()
	}
	return time.Now()
}

// orderLocked returns the bulk order with this SID, if it exists at now.
func (s *Server) orderLocked(sid string, now time.Time) (*order, bool) {
	o, ok := s.orders[sid]
	if !ok || now.Before(o.created) {
		return nil, false
	}
	return o, true
}

// sidLocked returns a new SID with the given prefix, unique on this server.
func (s *Server) sidLocked(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%016x%016x", prefix, s.salt, s.seq)
}

func (s *Server) authorized(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.accountSID))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.authToken))
	ok := u & p
	if s.cfg.apiKeySID != "" {
		ku := subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.apiKeySID))
		kp := subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.apiKeySecret))
		ok |= ku & kp
	}
	return ok == 1
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	user, pass, hasAuth := r.BasicAuth()
	in := incoming{
		body:       body,
		readErr:    readErr,
		tooLarge:   len(body) > maxBodyBytes,
		authorized: hasAuth && s.authorized(user, pass),
	}
	header := r.Header.Clone()
	header.Del("Authorization")
	header.Del("Proxy-Authorization")

	s.mu.Lock()
	requestID := s.sidLocked("RQ")
	fault, faulted := s.takeFaultLocked(r.Method, r.URL.Path)
	in.rec = &Request{
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.Query(),
		Header:     header,
		Body:       body,
		Username:   user,
		Authorized: in.authorized,
		Faulted:    faulted,
		RequestID:  requestID,
	}
	s.requests = append(s.requests, in.rec)
	s.mu.Unlock()

	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		in.rec.Status = sw.status
		s.mu.Unlock()
	}()
	h := sw.Header()
	h.Set("Twilio-Request-Id", requestID)
	h.Set("Content-Type", "application/json")
	// net/http would write the real time; the server's clock may differ.
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	if faulted {
		if fault.Latency > 0 && !s.sleep(r.Context(), fault.Latency) {
			if !s.closed() && fault.processes() {
				// The client has gone, but the request reached the
				// server: a create still takes effect, later.
				in.delay = s.cfg.abandoned
				s.handleCreateOnly(r, &in)
			}
			sw.abort()
			return
		}
		if fault.RetryAfter != "" {
			h.Set("Retry-After", fault.RetryAfter)
		}
		h.Set("Date", s.now().UTC().Format(http.TimeFormat))
		switch {
		case fault.ProcessThenDrop:
			in.delay = fault.ProcessDelay
			s.handle(newDiscardWriter(), r, &in)
			sw.abort()
			return
		case fault.DropConnection:
			sw.abort()
			return
		case fault.Status != 0:
			if fault.Status < 300 && r.Method != http.MethodGet {
				s.handle(newDiscardWriter(), r, &in)
			}
			writeFault(sw, &fault)
			return
		}
	}
	s.handle(sw, r, &in)
}

// incoming is what serveHTTP learnt about a request before handling it.
type incoming struct {
	body       []byte
	readErr    error
	tooLarge   bool
	authorized bool
	rec        *Request // the request's entry in Server.requests
	// delay postpones a create's effect: it takes effect this long after
	// now (a create whose client has gone).
	delay time.Duration
}

// handleCreateOnly processes r, its answer going nowhere, if it is a bulk
// create; other requests whose client has gone are not processed.
func (s *Server) handleCreateOnly(r *http.Request, in *incoming) {
	if r.Method == http.MethodPost && r.URL.Path == bulkPath {
		s.handle(newDiscardWriter(), r, in)
	}
}

// closed reports whether Close was called.
func (s *Server) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// handle answers a request as the API would.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, in *incoming) {
	switch {
	case in.readErr != nil:
		writeError(w, http.StatusBadRequest, noCode, "Could not read the request body", nil)
		return
	case in.tooLarge:
		writeError(w, http.StatusRequestEntityTooLarge, noCode, "Request Entity Too Large", nil)
		return
	case !in.authorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, codeAuthenticate, "Authenticate", nil)
		return
	}

	path := r.URL.Path
	switch {
	case path == eligibilityPath || strings.HasPrefix(path, eligibilityPath+"/"):
		s.serveEligibility(w, r, in)
	case path == bulkPath:
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		s.create(w, r, in)
	case strings.HasPrefix(path, bulkPath+"/"):
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		s.fetch(w, r, strings.TrimPrefix(path, bulkPath+"/"))
	case path == orderPath:
		switch r.Method {
		case http.MethodGet:
			s.listHosted(w, r)
		case http.MethodPost:
			s.createHosted(w, r, in.body)
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case strings.HasPrefix(path, orderPath+"/") && !strings.Contains(path[len(orderPath)+1:], "/"):
		sid := path[len(orderPath)+1:]
		switch r.Method {
		case http.MethodGet:
			s.fetchHosted(w, r, sid)
		case http.MethodPost:
			s.updateHosted(w, r, sid, in.body)
		case http.MethodDelete:
			s.cancelHosted(w, r, sid)
		default:
			methodNotAllowed(w, "GET, POST, DELETE")
		}
	case path == docPath:
		switch r.Method {
		case http.MethodGet:
			s.listDocs(w, r)
		case http.MethodPost:
			s.createDoc(w, r, in.body)
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case strings.HasPrefix(path, docPath+"/"):
		rest := path[len(docPath)+1:]
		sid, sub, nested := strings.Cut(rest, "/")
		switch {
		case !nested:
			switch r.Method {
			case http.MethodGet:
				s.fetchDoc(w, r, sid)
			case http.MethodDelete:
				s.deleteDoc(w, r, sid)
			default:
				methodNotAllowed(w, "GET, DELETE")
			}
		case sub == dependentsSegment:
			if r.Method != http.MethodGet {
				methodNotAllowed(w, http.MethodGet)
				return
			}
			s.listDependents(w, r, sid)
		default:
			notFound(w, path)
		}
	default:
		notFound(w, path)
	}
}

// statusWriter records the status a handler answers with, and whether it
// dropped the connection instead.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// abort closes the request's connection without writing an answer.
func (w *statusWriter) abort() {
	w.status = 0
	if conn, _, err := http.NewResponseController(w.ResponseWriter).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	// Not hijackable (HTTP/2): make net/http reset the stream instead.
	panic(http.ErrAbortHandler)
}

// newDiscardWriter returns a ResponseWriter whose answer goes nowhere: the
// request is processed, its answer never sent.
func newDiscardWriter() http.ResponseWriter { return httptest.NewRecorder() }

// sleep waits for d and reports whether it did: false if the request's
// context ended or the server was closed first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, in *incoming) {
	body := in.body
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, noCode,
			"Unsupported Media Type: the Content-Type must be application/json", nil)
		return
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid JSON: the body must be a JSON object", nil)
		return
	}
	var params hostednumbers.CreateBulkHostedNumberOrderParams
	if err := json.Unmarshal(body, &params); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid JSON: "+err.Error(), nil)
		return
	}
	if c := checkBulkBody(&params); c.write(w) {
		return
	}

	o := &order{
		friendlyName:      params.FriendlyName,
		notificationEmail: params.NotificationEmail,
	}
	items := make([][]*hostedOrder, len(params.RequestItems))
	for i := range params.RequestItems {
		items[i] = s.newHostedOrders(&params.RequestItems[i])
	}

	s.mu.Lock()
	o.sid = s.sidLocked("BH")
	o.created = s.now().Add(in.delay)
	o.movedAt[stageQueued] = o.created
	made := o.created // when the hosted number orders and documents exist
	if !s.cfg.fetchDriven {
		made = o.created.Add(s.cfg.queued)
		o.movedAt[stageInProgress] = made
		o.movedAt[stageProcessed] = made.Add(s.cfg.inProgress)
		o.completed = o.movedAt[stageProcessed]
	}
	s.orders[o.sid] = o
	s.orderList = append(s.orderList, o)
	for i, numbers := range items {
		if len(numbers) == 0 {
			continue // nothing to authorise
		}
		d := &authDoc{
			sid:        s.sidLocked("PX"),
			addressSID: params.RequestItems[i].AddressSID,
			email:      params.RequestItems[i].Email,
			ccEmails:   params.RequestItems[i].CCEmails,
			created:    made,
			bulk:       o,
			orders:     numbers,
		}
		s.docs[d.sid] = d
		s.docList = append(s.docList, d)
		o.docs = append(o.docs, d)
		for _, h := range numbers {
			h.sid = s.sidLocked("HR")
			h.incomingPhoneNumberSID = "PN" + h.sid[2:]
			h.bulk, h.doc, h.created = o, d, made
			s.addHostedLocked(h)
			o.numbers = append(o.numbers, h)
		}
	}
	in.rec.CreatedSID = o.sid
	// Twilio's answer to a create: QUEUED, results empty.
	doc := renderBulk(o, stageQueued, s.URL, "", nil)
	s.mu.Unlock()

	writeJSON(w, http.StatusAccepted, doc)
}

func (s *Server) fetch(w http.ResponseWriter, r *http.Request, sid string) {
	filter := r.URL.Query().Get("OrderStatus")
	s.mu.Lock()
	now := s.now()
	o, ok := s.orderLocked(sid, now)
	var doc orderJSON
	if ok {
		o.fetches++
		doc = s.renderLocked(o, now, filter)
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, r.URL.Path)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func writeValidationError(w http.ResponseWriter, err error) {
	var ve *hostednumbers.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) == 0 {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid parameter: "+err.Error(), nil)
		return
	}
	problems := make([]map[string]string, len(ve.Problems))
	for i, p := range ve.Problems {
		problems[i] = map[string]string{"field": p.Field, "message": p.Message}
	}
	writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid parameter: "+ve.Problems[0].Field, map[string]any{
		"field":    ve.Problems[0].Field,
		"problems": problems,
	})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, noCode, "Method not allowed", nil)
}

func notFound(w http.ResponseWriter, path string) {
	writeError(w, http.StatusNotFound, codeNotFound, "The requested resource "+path+" was not found", nil)
}

func writeError(w http.ResponseWriter, status, code int, message string, details map[string]any) {
	writeJSON(w, status, errorDocument(status, code, message, details))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(v))
}

// mustJSON encodes v, which is always one of this package's own documents.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("hostednumberstest: encoding a response: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

package hostednumberstest

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// hostedOrder is the server's state of one hosted number order (HR…), made
// by a bulk create for one of its numbers.
type hostedOrder struct {
	sid, incomingPhoneNumberSID string
	bulk                        *order
	doc                         *authDoc
	phone, accountSID, email    string
	addressSID, friendlyName    string
	contactTitle, contactPhone  string
	ccEmails                    []string
	sms                         bool
	outcome                     Outcome
	// created is when the order exists: when its bulk order's processing
	// starts (at the create in the fetch-driven model).
	created time.Time
	// pinned, once an update set it, is the status from then on, whatever
	// the stage of the bulk order.
	pinned   hostednumbers.OrderStatus
	pinnedAt time.Time
	// Verification call fields, set by updates.
	verificationAttempts      int
	verificationCallSIDs      []string
	verificationCallDelay     int
	verificationCallExtension string
	verificationCode          string
	canceled                  bool
	canceledAt                time.Time
	// dupChecked reports whether dupOf is known: the SID of the live order
	// the number already had when this one was made, "" if none (or if
	// WithResubmission allows duplicates).
	dupChecked bool
	dupOf      string
}

// authDoc is the server's state of one authorisation document (PX…): one
// per request item of a bulk create, covering the item's numbers.
type authDoc struct {
	sid, addressSID, email string
	ccEmails               []string
	created                time.Time
	bulk                   *order
	orders                 []*hostedOrder
	// canceled is set by a DELETE: the document stays, canceled from
	// canceledAt on.
	canceled   bool
	canceledAt time.Time
}

// smsCapabilityMember is the create-body member (of a number, or of its
// request item) that sets capabilities.sms of the hosted number orders:
// Twilio's single-order create has SmsCapability; bulk documents nothing.
const smsCapabilityMember = "sms_capability"

// newHostedOrders returns the orders of one request item, without SIDs.
// It calls the outcome script, so it runs without the lock.
func (s *Server) newHostedOrders(it *hostednumbers.RequestItem) []*hostedOrder {
	out := make([]*hostedOrder, 0, len(it.Numbers))
	for j := range it.Numbers {
		n := &it.Numbers[j]
		h := &hostedOrder{
			phone:        n.PhoneNumber,
			accountSID:   firstNonEmpty(n.AccountSID, it.AccountSID, s.cfg.accountSID),
			email:        it.Email,
			addressSID:   it.AddressSID,
			friendlyName: firstNonEmpty(n.FriendlyName, it.FriendlyName),
			contactTitle: it.ContactTitle,
			contactPhone: it.ContactPhoneNumber,
			ccEmails:     n.CCEmails,
			sms:          true,
		}
		if h.ccEmails == nil {
			h.ccEmails = it.CCEmails
		}
		if v, ok := it.Extra[smsCapabilityMember].(bool); ok {
			h.sms = v
		}
		if v, ok := n.Extra[smsCapabilityMember].(bool); ok {
			h.sms = v
		}
		h.outcome = s.cfg.outcome(n.PhoneNumber)
		if h.outcome.Status == "" {
			h.outcome.Status = hostednumbers.OrderStatusCompleted
		}
		h.outcome.Status = hostednumbers.ParseOrderStatus(string(h.outcome.Status))
		out = append(out, h)
	}
	return out
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *Server) addHostedLocked(h *hostedOrder) {
	s.hosted[h.sid] = h
	s.hostedList = append(s.hostedList, h)
	s.byPhone[h.phone] = append(s.byPhone[h.phone], h)
}

// statusAt is the status of h in the fetch-driven model while its bulk
// order is in stage: received while QUEUED, pending-loa while IN_PROGRESS,
// the outcome once PROCESSED, unless an update pinned another.
func (h *hostedOrder) statusAt(stage int) hostednumbers.OrderStatus {
	if h.pinned != "" {
		return h.pinned
	}
	switch stage {
	case stageQueued:
		return hostednumbers.OrderStatusReceived
	case stageInProgress:
		return hostednumbers.OrderStatusPendingLOA
	}
	return h.outcome.Status
}

// timeline is the state of h at t in the asynchronous model: received
// from its creation; at PROCESSED failed if it fails early, else
// pending-loa; from half of hosting on carrier-processing if its outcome
// is past the LOA; its outcome from hosting on. An update pins its status
// from then on. dupOf, if set, names the live order that makes it fail.
func (h *hostedOrder) timeline(t time.Time, hosting time.Duration, dupOf string) numberState {
	if h.pinned != "" && !t.Before(h.pinnedAt) {
		return h.withReason(numberState{status: h.pinned, at: h.pinnedAt}, dupOf)
	}
	processed := h.bulk.movedAt[stageProcessed]
	final := h.outcome.Status
	switch {
	case t.Before(processed) || final == hostednumbers.OrderStatusReceived:
		return numberState{status: hostednumbers.OrderStatusReceived, at: h.created}
	case dupOf != "" || final == hostednumbers.OrderStatusFailed:
		return h.withReason(numberState{status: hostednumbers.OrderStatusFailed, at: processed}, dupOf)
	case final == hostednumbers.OrderStatusPendingLOA:
		return numberState{status: final, at: processed}
	}
	end, mid := processed.Add(hosting), processed.Add(hosting/2)
	switch {
	case !t.Before(end):
		return h.withReason(numberState{status: final, at: end}, dupOf)
	case !t.Before(mid) && docStage(final) == 2:
		return numberState{status: hostednumbers.OrderStatusCarrierProcessing, at: mid}
	}
	return numberState{status: hostednumbers.OrderStatusPendingLOA, at: processed}
}

// withReason sets st's failure_reason and next_step if its status has
// them: those of the outcome, or those of a resubmitted number.
func (h *hostedOrder) withReason(st numberState, dupOf string) numberState {
	if st.status != hostednumbers.OrderStatusFailed && st.status != hostednumbers.OrderStatusActionRequired {
		return st
	}
	if dupOf != "" {
		st.reason, st.next = AlreadyOrderedReason(h.phone, dupOf), AlreadyOrderedNextStep
	} else {
		st.reason, st.next = h.outcome.FailureReason, h.outcome.NextStep
	}
	return st
}

// numberStateLocked returns h's state at t (in the fetch-driven model,
// its state now, whatever t). Call it only with t at or after h.created.
func (s *Server) numberStateLocked(h *hostedOrder, t time.Time) numberState {
	dupOf := s.dupOfLocked(h)
	if !s.cfg.fetchDriven {
		return h.timeline(t, s.cfg.hosting, dupOf)
	}
	stage := s.stageLocked(h.bulk, s.now())
	if h.pinned != "" {
		return h.withReason(numberState{status: h.pinned, at: h.pinnedAt}, dupOf)
	}
	status := h.statusAt(stage)
	if dupOf != "" && stage == stageProcessed {
		status = hostednumbers.OrderStatusFailed
	}
	return h.withReason(numberState{status: status, at: h.bulk.movedAt[stage]}, dupOf)
}

// dupOfLocked returns the SID of the live order h's number had when h was
// made, or "" (always "" with ResubmissionDuplicates). An order is live
// unless it had failed or been canceled by then. The answer depends only
// on what happened before h.created, so it is computed once, on the first
// read after h.created.
func (s *Server) dupOfLocked(h *hostedOrder) string {
	if s.cfg.resubmission == ResubmissionDuplicates || h.dupChecked {
		return h.dupOf
	}
	hPos := sidPosition(h.sid)
	for _, e := range s.byPhone[h.phone] {
		if e == h || e.created.After(h.created) || (e.created.Equal(h.created) && sidPosition(e.sid) > hPos) {
			continue // not made before h
		}
		if e.canceled && !e.canceledAt.After(h.created) {
			continue
		}
		if s.numberStateLocked(e, h.created).status != hostednumbers.OrderStatusFailed {
			h.dupOf = e.sid
			break
		}
	}
	h.dupChecked = true
	return h.dupOf
}

// hostedStatusLocked returns h's status now and when it last changed.
func (s *Server) hostedStatusLocked(h *hostedOrder, now time.Time) (hostednumbers.OrderStatus, time.Time) {
	st := s.numberStateLocked(h, now)
	return st.status, st.at
}

// Authorisation document statuses. The fake never shows opened: Twilio
// sends a document out for signature when it makes it, and its examples
// of a new document (create, fetch, list) all say signing.
const (
	docOpened   = "opened"
	docSigning  = "signing"
	docSigned   = "signed"
	docCanceled = "canceled"
	docFailed   = "failed"
)

// docStage places an order status on the document's way: 1 signing (the
// order waits for the LOA: received, pending-loa and the rest), 2 signed
// (past the LOA), 3 failed without being signed.
func docStage(status hostednumbers.OrderStatus) int {
	switch status {
	case hostednumbers.OrderStatusCarrierProcessing, hostednumbers.OrderStatusTesting, hostednumbers.OrderStatusCompleted:
		return 2
	case hostednumbers.OrderStatusFailed, hostednumbers.OrderStatusActionRequired:
		return 3
	}
	return 1
}

// docStatusLocked derives a document's status: canceled once deleted (or
// when every order was canceled); else from its orders, the least advanced
// of those not past it (signing, then signed); failed when every order
// failed.
func (s *Server) docStatusLocked(d *authDoc, now time.Time) (string, time.Time) {
	if d.canceled && !now.Before(d.canceledAt) {
		return docCanceled, d.canceledAt
	}
	updated := d.created
	least, live := 3, 0
	for _, h := range d.orders {
		status, at := s.hostedStatusLocked(h, now)
		if at.After(updated) {
			updated = at
		}
		if h.canceled {
			continue
		}
		live++
		least = min(least, docStage(status))
	}
	if live == 0 {
		return docCanceled, updated
	}
	return [...]string{docSigning, docSigning, docSigned, docFailed}[least], updated
}

type capabilitiesJSON struct {
	SMS   bool `json:"sms"`
	Voice bool `json:"voice"`
}

// hostedOrderJSON is a hosted number order as the API renders it: every
// member of numbers.v2.hosted_number_order.
type hostedOrderJSON struct {
	SID                       string           `json:"sid"`
	AccountSID                string           `json:"account_sid"`
	IncomingPhoneNumberSID    *string          `json:"incoming_phone_number_sid"`
	AddressSID                *string          `json:"address_sid"`
	SigningDocumentSID        *string          `json:"signing_document_sid"`
	PhoneNumber               string           `json:"phone_number"`
	Capabilities              capabilitiesJSON `json:"capabilities"`
	FriendlyName              *string          `json:"friendly_name"`
	Status                    string           `json:"status"`
	FailureReason             string           `json:"failure_reason"`
	DateCreated               string           `json:"date_created"`
	DateUpdated               string           `json:"date_updated"`
	Email                     *string          `json:"email"`
	CCEmails                  []string         `json:"cc_emails"`
	URL                       string           `json:"url"`
	ContactTitle              *string          `json:"contact_title"`
	ContactPhoneNumber        *string          `json:"contact_phone_number"`
	BulkHostingRequestSID     *string          `json:"bulk_hosting_request_sid"`
	NextStep                  string           `json:"next_step"`
	VerificationAttempts      int              `json:"verification_attempts"`
	VerificationCallSIDs      []string         `json:"verification_call_sids"`
	VerificationCallDelay     int              `json:"verification_call_delay"`
	VerificationCallExtension *string          `json:"verification_call_extension"`
	VerificationCode          *string          `json:"verification_code"`
	VerificationType          string           `json:"verification_type"`
}

// dependentOrderJSON is a hosted number order as the dependent-orders list
// of a document renders it (numbers.v2.authorization_document.dependent_hosted_number_order).
type dependentOrderJSON struct {
	SID                    string           `json:"sid"`
	BulkHostingRequestSID  *string          `json:"bulk_hosting_request_sid"`
	NextStep               string           `json:"next_step"`
	AccountSID             string           `json:"account_sid"`
	IncomingPhoneNumberSID *string          `json:"incoming_phone_number_sid"`
	AddressSID             *string          `json:"address_sid"`
	SigningDocumentSID     *string          `json:"signing_document_sid"`
	PhoneNumber            string           `json:"phone_number"`
	Capabilities           capabilitiesJSON `json:"capabilities"`
	FriendlyName           *string          `json:"friendly_name"`
	Status                 string           `json:"status"`
	FailureReason          string           `json:"failure_reason"`
	DateCreated            string           `json:"date_created"`
	DateUpdated            string           `json:"date_updated"`
	Email                  *string          `json:"email"`
	CCEmails               []string         `json:"cc_emails"`
	ContactTitle           *string          `json:"contact_title"`
	ContactPhoneNumber     *string          `json:"contact_phone_number"`
}

// docJSON is an authorisation document as the API renders it.
type docJSON struct {
	SID         string            `json:"sid"`
	AddressSID  *string           `json:"address_sid"`
	Status      string            `json:"status"`
	Email       *string           `json:"email"`
	CCEmails    []string          `json:"cc_emails"`
	DateCreated string            `json:"date_created"`
	DateUpdated string            `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
}

// renderHosted renders h in state st; baseURL prefixes its url.
// failure_reason and next_step are "" unless st has them, as in Twilio's
// examples (testdata/spec-examples/FetchHostedNumberOrder_200_fetch.json).
func renderHosted(h *hostedOrder, st numberState, baseURL string) hostedOrderJSON {
	status, updated := st.status, st.at
	doc := hostedOrderJSON{
		SID:                       h.sid,
		AccountSID:                h.accountSID,
		IncomingPhoneNumberSID:    nullable(h.incomingPhoneNumberSID),
		AddressSID:                nullable(h.addressSID),
		PhoneNumber:               h.phone,
		Capabilities:              capabilitiesJSON{SMS: h.sms},
		FriendlyName:              nullable(h.friendlyName),
		Status:                    string(status),
		DateCreated:               formatTime(h.created),
		DateUpdated:               formatTime(updated),
		Email:                     nullable(h.email),
		CCEmails:                  nonNil(h.ccEmails),
		URL:                       baseURL + orderPath + "/" + h.sid,
		ContactTitle:              nullable(h.contactTitle),
		ContactPhoneNumber:        nullable(h.contactPhone),
		VerificationAttempts:      h.verificationAttempts,
		VerificationCallSIDs:      nonNil(h.verificationCallSIDs),
		VerificationCallDelay:     h.verificationCallDelay,
		VerificationCallExtension: nullable(h.verificationCallExtension),
		VerificationCode:          nullable(h.verificationCode),
		VerificationType:          "phone-call",
	}
	if h.doc != nil {
		doc.SigningDocumentSID = nullable(h.doc.sid)
	}
	if h.bulk != nil {
		doc.BulkHostingRequestSID = nullable(h.bulk.sid)
	}
	doc.FailureReason, doc.NextStep = st.reason, st.next
	return doc
}

func (d hostedOrderJSON) dependent() dependentOrderJSON {
	return dependentOrderJSON{
		SID:                    d.SID,
		BulkHostingRequestSID:  d.BulkHostingRequestSID,
		NextStep:               d.NextStep,
		AccountSID:             d.AccountSID,
		IncomingPhoneNumberSID: d.IncomingPhoneNumberSID,
		AddressSID:             d.AddressSID,
		SigningDocumentSID:     d.SigningDocumentSID,
		PhoneNumber:            d.PhoneNumber,
		Capabilities:           d.Capabilities,
		FriendlyName:           d.FriendlyName,
		Status:                 d.Status,
		FailureReason:          d.FailureReason,
		DateCreated:            d.DateCreated,
		DateUpdated:            d.DateUpdated,
		Email:                  d.Email,
		CCEmails:               d.CCEmails,
		ContactTitle:           d.ContactTitle,
		ContactPhoneNumber:     d.ContactPhoneNumber,
	}
}

func renderDoc(d *authDoc, status string, updated time.Time, baseURL string) docJSON {
	self := baseURL + docPath + "/" + d.sid
	return docJSON{
		SID:         d.sid,
		AddressSID:  nullable(d.addressSID),
		Status:      status,
		Email:       nullable(d.email),
		CCEmails:    nonNil(d.ccEmails),
		DateCreated: formatTime(d.created),
		DateUpdated: formatTime(updated),
		URL:         self,
		Links:       map[string]string{"dependent_hosted_number_orders": self + "/" + dependentsSegment},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) renderHostedLocked(h *hostedOrder, now time.Time) hostedOrderJSON {
	return renderHosted(h, s.numberStateLocked(h, now), s.URL)
}

// hostedFilter is the filter query of the two hosted number order lists.
type hostedFilter struct {
	status                    hostednumbers.OrderStatus
	sms                       *bool
	phone, incoming, friendly string
}

// parseHostedFilter reads the filters, answering 400 itself (and returning
// false) when one is invalid. allowed lists the statuses the Status filter
// takes.
func parseHostedFilter(w http.ResponseWriter, q url.Values, allowed []hostednumbers.OrderStatus) (hostedFilter, bool) {
	f := hostedFilter{
		phone:    q.Get("PhoneNumber"),
		incoming: q.Get("IncomingPhoneNumberSid"),
		friendly: q.Get("FriendlyName"),
	}
	if raw := q.Get("Status"); raw != "" {
		f.status = hostednumbers.ParseOrderStatus(raw)
		ok := false
		for _, a := range allowed {
			ok = ok || a == f.status
		}
		if !ok {
			names := make([]string, len(allowed))
			for i, a := range allowed {
				names[i] = string(a)
			}
			writeInvalidParameterCode(w, codeNoSuchStatus, "Status", fmt.Sprintf("%q is not one of %s", raw, strings.Join(names, ", ")))
			return f, false
		}
	}
	if raw, ok := q["SmsCapability"]; ok {
		b, err := strconv.ParseBool(first(raw))
		if err != nil {
			writeInvalidParameter(w, "SmsCapability", "must be true or false")
			return f, false
		}
		f.sms = &b
	}
	return f, true
}

// allOrderStatuses are the ten statuses the order list filters by; the
// dependent-orders list takes only the first seven.
var (
	allOrderStatuses = []hostednumbers.OrderStatus{
		hostednumbers.OrderStatusReceived, hostednumbers.OrderStatusVerified, hostednumbers.OrderStatusPendingLOA,
		hostednumbers.OrderStatusCarrierProcessing, hostednumbers.OrderStatusCompleted, hostednumbers.OrderStatusFailed,
		hostednumbers.OrderStatusActionRequired, hostednumbers.OrderStatusTwilioProcessing,
		hostednumbers.OrderStatusPendingVerification, hostednumbers.OrderStatusTesting,
	}
	dependentOrderStatuses = allOrderStatuses[:7]
)

// matchLocked reports whether h passes f and shows in lists at now
// (WithListLag), and returns its rendering.
func (s *Server) matchLocked(h *hostedOrder, f *hostedFilter, now time.Time) (hostedOrderJSON, bool) {
	if h.canceled || now.Before(h.created.Add(s.cfg.listLag)) ||
		(f.phone != "" && h.phone != f.phone) ||
		(f.incoming != "" && h.incomingPhoneNumberSID != f.incoming) ||
		(f.friendly != "" && h.friendlyName != f.friendly) ||
		(f.sms != nil && h.sms != *f.sms) {
		return hostedOrderJSON{}, false
	}
	doc := s.renderHostedLocked(h, now)
	if f.status != "" && hostednumbers.OrderStatus(doc.Status) != f.status {
		return hostedOrderJSON{}, false
	}
	return doc, true
}

// listHostedLocked returns the orders of candidates that pass f, rendered.
func (s *Server) listHostedLocked(candidates []*hostedOrder, f *hostedFilter, now time.Time) []hostedOrderJSON {
	var out []hostedOrderJSON
	for _, h := range candidates {
		if doc, ok := s.matchLocked(h, f, now); ok {
			out = append(out, doc)
		}
	}
	return out
}

func (s *Server) listHosted(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := parseHostedFilter(w, q, allOrderStatuses)
	if !ok {
		return
	}
	pr, ok := s.parsePage(w, q)
	if !ok {
		return
	}
	s.mu.Lock()
	candidates := s.hostedList
	if f.phone != "" {
		candidates = s.byPhone[f.phone] // the index keeps per-number lookups cheap
	}
	items := s.listHostedLocked(candidates, &f, s.now())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(s.URL, orderPath, q, pr, items, hostedPosition, identity))
}

func hostedPosition(d hostedOrderJSON) uint64 { return sidPosition(d.SID) }

func identity[T any](v T) T { return v }

// sidPosition is the counter part of a SID this server made: SIDs made
// later have higher positions.
func sidPosition(sid string) uint64 {
	if len(sid) != 34 {
		return 0
	}
	n, _ := strconv.ParseUint(sid[18:], 16, 64)
	return n
}

// hostedLocked returns the order with this SID, if it exists at now and
// was not canceled.
func (s *Server) hostedLocked(sid string, now time.Time) (*hostedOrder, bool) {
	h, ok := s.hosted[sid]
	if !ok || h.canceled || now.Before(h.created) {
		return nil, false
	}
	return h, true
}

func (s *Server) fetchHosted(w http.ResponseWriter, r *http.Request, sid string) {
	s.mu.Lock()
	now := s.now()
	h, ok := s.hostedLocked(sid, now)
	var doc hostedOrderJSON
	if ok {
		doc = s.renderHostedLocked(h, now)
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, r.URL.Path)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// updateHosted changes an order's status and verification call settings
// as POST /v2/HostedNumber/Orders/{Sid} does, from a form body.
func (s *Server) updateHosted(w http.ResponseWriter, r *http.Request, sid string, body []byte) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusUnsupportedMediaType, noCode,
			"Unsupported Media Type: the Content-Type must be application/x-www-form-urlencoded", nil)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid form body: "+err.Error(), nil)
		return
	}
	raw := form.Get("Status")
	status := hostednumbers.ParseOrderStatus(raw)
	switch {
	case raw == "":
		writeInvalidParameter(w, "Status", "is required")
		return
	case !status.Known():
		writeInvalidParameter(w, "Status", fmt.Sprintf("%q is not a hosted number order status", raw))
		return
	}
	delay, hasDelay := -1, false
	if v, ok := form["VerificationCallDelay"]; ok {
		n, err := strconv.Atoi(first(v))
		if err != nil || n < 0 || n > 60 {
			writeInvalidParameter(w, "VerificationCallDelay", "must be a whole number from 0 to 60")
			return
		}
		delay, hasDelay = n, true
	}
	// VerificationCallExtension is a string in Twilio's definition, with no
	// pattern: the extension to dial, which may hold * and # (and pauses)
	// as well as digits. Twilio checks nothing more, and neither does the
	// fake.
	ext, hasExt := form["VerificationCallExtension"]

	s.mu.Lock()
	now := s.now()
	h, ok := s.hostedLocked(sid, now)
	var (
		doc     hostedOrderJSON
		current hostednumbers.OrderStatus
	)
	if ok {
		current, _ = s.hostedStatusLocked(h, now)
	}
	if ok && current != hostednumbers.OrderStatusCompleted && current != hostednumbers.OrderStatusFailed {
		// Settle the number's resubmission check before the pin.
		s.dupOfLocked(h)
		h.pinned, h.pinnedAt = status, now
		if hasDelay {
			h.verificationCallDelay = delay
		}
		if hasExt {
			h.verificationCallExtension = first(ext)
		}
		if status == hostednumbers.OrderStatusPendingVerification {
			// Twilio places the ownership verification call now.
			h.verificationAttempts++
			h.verificationCallSIDs = append(h.verificationCallSIDs, s.sidLocked("CA"))
			h.verificationCode = fmt.Sprintf("%06d", sidPosition(h.sid)*7919%1000000)
		}
		doc = s.renderHostedLocked(h, now)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		notFound(w, r.URL.Path)
	case current == hostednumbers.OrderStatusCompleted || current == hostednumbers.OrderStatusFailed:
		// Twilio's error 22112: an order in a terminal state cannot be
		// updated; create a new one.
		writeError(w, http.StatusBadRequest, codeOrderFinished,
			fmt.Sprintf("Hosted Number Order %s is %s: an order that has been completed or failed cannot be updated; create a new one", sid, current),
			map[string]any{"status": string(current)})
	default:
		writeJSON(w, http.StatusOK, doc)
	}
}

// cancelHosted deletes an order, which the API allows only while it is
// received. Twilio documents no error code for a refused cancel, so the
// error document has none.
func (s *Server) cancelHosted(w http.ResponseWriter, r *http.Request, sid string) {
	s.mu.Lock()
	now := s.now()
	h, ok := s.hostedLocked(sid, now)
	var status hostednumbers.OrderStatus
	if ok {
		status, _ = s.hostedStatusLocked(h, now)
		if status == hostednumbers.OrderStatusReceived {
			h.canceled, h.canceledAt = true, now
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		notFound(w, r.URL.Path)
	case status != hostednumbers.OrderStatusReceived:
		writeError(w, http.StatusBadRequest, noCode,
			fmt.Sprintf("Hosted Number Order %s cannot be canceled: its status is %s, and only an order in received can be", sid, status),
			map[string]any{"status": string(status)})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

var docStatuses = []string{docOpened, docSigning, docSigned, docCanceled, docFailed}

func (s *Server) listDocs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	email, status := q.Get("Email"), q.Get("Status")
	if status != "" {
		status = strings.ToLower(status)
		known := false
		for _, d := range docStatuses {
			known = known || d == status
		}
		if !known {
			writeInvalidParameter(w, "Status", fmt.Sprintf("%q is not one of %s", q.Get("Status"), strings.Join(docStatuses, ", ")))
			return
		}
	}
	pr, ok := s.parsePage(w, q)
	if !ok {
		return
	}
	s.mu.Lock()
	now := s.now()
	var items []docJSON
	for _, d := range s.docList {
		if (email != "" && d.email != email) || now.Before(d.created.Add(s.cfg.listLag)) {
			continue
		}
		st, updated := s.docStatusLocked(d, now)
		if status != "" && st != status {
			continue
		}
		items = append(items, renderDoc(d, st, updated, s.URL))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(s.URL, docPath, q, pr, items,
		func(d docJSON) uint64 { return sidPosition(d.SID) }, identity))
}

func (s *Server) fetchDoc(w http.ResponseWriter, r *http.Request, sid string) {
	s.mu.Lock()
	now := s.now()
	d, ok := s.docs[sid]
	ok = ok && !now.Before(d.created)
	var doc docJSON
	if ok {
		st, updated := s.docStatusLocked(d, now)
		doc = renderDoc(d, st, updated, s.URL)
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, r.URL.Path)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) listDependents(w http.ResponseWriter, r *http.Request, sid string) {
	q := r.URL.Query()
	s.mu.Lock()
	d, ok := s.docs[sid]
	ok = ok && !s.now().Before(d.created)
	s.mu.Unlock()
	if !ok {
		notFound(w, r.URL.Path)
		return
	}
	f, ok := parseHostedFilter(w, q, dependentOrderStatuses)
	if !ok {
		return
	}
	pr, ok := s.parsePage(w, q)
	if !ok {
		return
	}
	s.mu.Lock()
	items := s.listHostedLocked(d.orders, &f, s.now())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(s.URL, docPath+"/"+sid+"/"+dependentsSegment, q, pr, items,
		hostedPosition, hostedOrderJSON.dependent))
}

package hostednumberstest

import (
	"mime"
	"net/http"
	"net/url"
	"slices"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// formBody parses a form-encoded request body, answering 415 or 400 (and
// false) when it is not one.
func formBody(w http.ResponseWriter, r *http.Request, body []byte) (url.Values, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusUnsupportedMediaType, noCode,
			"Unsupported Media Type: the Content-Type must be application/x-www-form-urlencoded", nil)
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid form body: "+err.Error(), nil)
		return nil, false
	}
	return form, true
}

// createHosted answers POST /v2/HostedNumber/Orders: one hosted number
// order made on its own, 201 with the order, status received. It has no
// bulk request and no authorisation document until one is created for
// it; it moves on like a bulk request's orders (received while the
// server's processing delays last, then pending-loa, then its Outcome),
// on the server's clock. In the fetch-driven model (WithImmediateProcessing)
// it stays received, since nothing fetches a bulk request for it.
func (s *Server) createHosted(w http.ResponseWriter, r *http.Request, body []byte) {
	form, ok := formBody(w, r, body)
	if !ok {
		return
	}
	params, c := hostedCreateForm(form)
	if c.write(w) {
		return
	}
	h := &hostedOrder{
		phone:        params.PhoneNumber,
		accountSID:   firstNonEmpty(params.AccountSID, s.cfg.accountSID),
		email:        params.Email,
		addressSID:   params.AddressSID,
		friendlyName: params.FriendlyName,
		contactTitle: params.ContactTitle,
		contactPhone: params.ContactPhoneNumber,
		ccEmails:     params.CCEmails,
		sms:          params.SMSCapability != nil && *params.SMSCapability,
		outcome:      s.cfg.outcome(params.PhoneNumber),
	}
	if h.outcome.Status == "" {
		h.outcome.Status = hostednumbers.OrderStatusCompleted
	}
	h.outcome.Status = hostednumbers.ParseOrderStatus(string(h.outcome.Status))

	s.mu.Lock()
	now := s.now()
	// The order's own timeline, shaped like a bulk request's but never
	// listed or fetched as one (its SID stays empty, so the order shows no
	// bulk_hosting_request_sid).
	o := &order{created: now}
	o.movedAt[stageQueued], o.movedAt[stageInProgress] = now, now
	o.movedAt[stageProcessed] = now.Add(s.cfg.queued + s.cfg.inProgress)
	h.sid = s.sidLocked("HR")
	h.incomingPhoneNumberSID = "PN" + h.sid[2:]
	h.bulk, h.created = o, now
	s.addHostedLocked(h)
	doc := s.renderHostedLocked(h, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, doc)
}

// createDoc answers POST /v2/HostedNumber/AuthorizationDocuments: a new
// authorisation document for existing orders, 201 with the document. Every
// order named must exist (400 naming the first that does not); the orders
// are taken from the document that held them.
func (s *Server) createDoc(w http.ResponseWriter, r *http.Request, body []byte) {
	form, ok := formBody(w, r, body)
	if !ok {
		return
	}
	params, c := docCreateForm(form)
	if c.write(w) {
		return
	}
	s.mu.Lock()
	now := s.now()
	orders := make([]*hostedOrder, 0, len(params.HostedNumberOrderSIDs))
	for _, sid := range params.HostedNumberOrderSIDs {
		h, ok := s.hostedLocked(sid, now)
		if !ok {
			s.mu.Unlock()
			// Twilio's error 22101: invalid Hosted Number Order SIDs.
			writeInvalidParameterCode(w, codeInvalidOrderSIDs, "HostedNumberOrderSids", sid+" is not a hosted number order of this account")
			return
		}
		orders = append(orders, h)
	}
	d := &authDoc{
		sid: s.sidLocked("PX"), addressSID: params.AddressSID, email: params.Email,
		ccEmails: params.CCEmails, created: now, orders: orders,
	}
	for _, h := range orders {
		if old := h.doc; old != nil {
			old.orders = slices.DeleteFunc(old.orders, func(e *hostedOrder) bool { return e == h })
		}
		h.doc = d
	}
	s.docs[d.sid] = d
	s.docList = append(s.docList, d)
	st, updated := s.docStatusLocked(d, now)
	doc := renderDoc(d, st, updated, s.URL)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, doc)
}

// deleteDoc answers DELETE /v2/HostedNumber/AuthorizationDocuments/{Sid},
// which Twilio defines as "Cancel the AuthorizationDocument request": 204,
// and the document stays, canceled ("immutable", in Twilio's words), for
// fetches and lists. Its orders keep naming it until a new document is
// made for them; what happens to them is not documented, so their status
// does not change. A signed document cannot be deleted (Twilio's error
// 22107); a document already canceled or failed is immutable, so
// deleting it again answers 204 and changes nothing.
func (s *Server) deleteDoc(w http.ResponseWriter, r *http.Request, sid string) {
	s.mu.Lock()
	now := s.now()
	d, ok := s.docs[sid]
	ok = ok && !now.Before(d.created)
	var status string
	if ok {
		status, _ = s.docStatusLocked(d, now)
		if status == docSigning {
			d.canceled, d.canceledAt = true, now
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		notFound(w, r.URL.Path)
	case status == docSigned:
		writeError(w, http.StatusBadRequest, codeDocumentImmutable,
			"Authorization Document "+sid+" is signed: a signed Authorization Document cannot be updated or deleted",
			map[string]any{"status": status})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

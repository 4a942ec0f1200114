package hostednumberstest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// The test kit: builders for the documents the API sends, for tests that
// mock the transport (httpmock and the like) or a service interface, so
// that no test needs JSON copied from anywhere. They render with the same
// code as the fake server.

// Defaults of the builders.
const (
	// ExampleBulkHostingSID is the SID of a built bulk order that names
	// none. The SIDs of its hosted number orders (HR…) and its
	// authorisation document (PX…) derive from it.
	ExampleBulkHostingSID = "BH0123456789abcdef0123456789abcdef"
	// ExampleHostedNumberOrderSID is the SID of a built hosted number order
	// that names none.
	ExampleHostedNumberOrderSID = "HR0123456789abcdef0123456789abcdef"
	// ExampleEmail is the owner's e-mail address of built orders that name
	// none.
	ExampleEmail = "owner@example.com"
	// ExamplePhoneNumber is the phone number of a built hosted number order
	// that names none.
	ExamplePhoneNumber = "+14155550101"
)

// builtNow is the creation time of built orders that give none: now, in
// whole seconds as Twilio dates things, so that a built order is this
// run's (Reconcile takes an order dated before the create it looks for
// as an earlier attempt's, and ignores it). Give Created for documents
// that are the same on every run.
func builtNow() time.Time { return time.Now().UTC().Truncate(time.Second) }

// BulkOrderSpec describes a bulk hosting request to build with its JSON,
// Order and HostedNumberOrdersJSON methods. The zero value is a QUEUED
// order without numbers; every field has a realistic default.
type BulkOrderSpec struct {
	// SID is the bulk hosting SID, BH and 32 hex digits. Empty means
	// ExampleBulkHostingSID.
	SID string
	// Status is QUEUED (the default, as Create returns it: no results),
	// IN_PROGRESS (every number received, its hosted number order made
	// 30 seconds after date_created) or PROCESSED (date_completed a minute
	// after date_created, every number pending_loa, or failed when its
	// Outcome is failed, as in Twilio's example: PROCESSED means the orders
	// were made, not that the numbers are hosted).
	Status hostednumbers.RequestStatus
	// FriendlyName and NotificationEmail are rendered as given; empty
	// renders null.
	FriendlyName, NotificationEmail string
	// Numbers are the phone numbers of the request, in E.164 form; they
	// make one request item with one authorisation document.
	Numbers []string
	// Email is the owner's e-mail address. Empty means ExampleEmail.
	Email string
	// AccountSID is the account of every number. Empty means AccountSID.
	AccountSID string
	// Outcome decides the final status of each number's hosted number
	// order, as WithOutcome does for the server. nil means every number completed.
	Outcome func(phoneNumber string) Outcome
	// Created is date_created. Zero means now (in whole seconds, UTC): a
	// built order is dated as if made during the test, so that Reconcile
	// counts its hosted number orders as this run's. The later stages
	// follow it (30 seconds, then a minute later); give a fixed time for a
	// document that is the same on every run.
	Created time.Time
	// BaseURL prefixes every url member. Empty means
	// hostednumbers.DefaultBaseURL; use your mock's base URL, or srv.URL.
	BaseURL string
}

// build returns the order s describes and its stage. It panics on a
// malformed SID or an unknown status: a mistake in the test itself.
func (s BulkOrderSpec) build() (*order, int) {
	sid := firstNonEmpty(s.SID, ExampleBulkHostingSID)
	if !isSID(sid, "BH") {
		panic(fmt.Sprintf("hostednumberstest: BulkOrderSpec: SID %q is not BH and 32 hex digits", sid))
	}
	stage := -1
	for i, st := range stageStatus {
		if st == s.Status || (s.Status == "" && i == stageQueued) {
			stage = i
		}
	}
	if stage < 0 {
		panic(fmt.Sprintf("hostednumberstest: BulkOrderSpec: Status %q is not QUEUED, IN_PROGRESS or PROCESSED", s.Status))
	}
	created := s.Created
	if created.IsZero() {
		created = builtNow()
	}
	outcome := s.Outcome
	if outcome == nil {
		outcome = allCompleted
	}
	o := &order{
		sid:               sid,
		friendlyName:      s.FriendlyName,
		notificationEmail: s.NotificationEmail,
		created:           created,
		completed:         created.Add(time.Minute),
		stage:             stage,
	}
	for k := range o.movedAt {
		o.movedAt[k] = created.Add(time.Duration(k) * 30 * time.Second)
	}
	d := &authDoc{
		sid:     "PX" + sid[2:18] + fmt.Sprintf("%016x", 1),
		email:   firstNonEmpty(s.Email, ExampleEmail),
		created: o.movedAt[stageInProgress],
		bulk:    o,
	}
	o.docs = []*authDoc{d}
	for i, phone := range s.Numbers {
		h := &hostedOrder{
			sid:        "HR" + sid[2:18] + fmt.Sprintf("%016x", i+1),
			bulk:       o,
			doc:        d,
			phone:      phone,
			accountSID: firstNonEmpty(s.AccountSID, AccountSID),
			email:      d.email,
			ccEmails:   []string{},
			sms:        true,
			outcome:    outcome(phone),
			created:    o.movedAt[stageInProgress],
		}
		h.incomingPhoneNumberSID = "PN" + h.sid[2:]
		if h.outcome.Status == "" {
			h.outcome.Status = hostednumbers.OrderStatusCompleted
		}
		h.outcome.Status = hostednumbers.ParseOrderStatus(string(h.outcome.Status))
		o.numbers = append(o.numbers, h)
		d.orders = append(d.orders, h)
	}
	return o, stage
}

func (s BulkOrderSpec) baseURL() string {
	return firstNonEmpty(s.BaseURL, hostednumbers.DefaultBaseURL)
}

// kitHosting is how long the hosted number orders of a built PROCESSED
// order take to reach their Outcome after it.
const kitHosting = 24 * time.Hour

// kitState is the state of a built order's number in its bulk results.
func kitState(h *hostedOrder) numberState {
	return h.timeline(h.bulk.movedAt[h.bulk.stage], kitHosting, "")
}

// JSON returns the order as the API sends it: the body of Create's 202 for
// a QUEUED spec, of Fetch's 200 otherwise.
func (s BulkOrderSpec) JSON() []byte {
	o, stage := s.build()
	return mustJSON(renderBulk(o, stage, s.baseURL(), "", kitState))
}

// Order returns the order as the SDK decodes JSON: what Create or Fetch
// would return, without LastResponse. Use it as the answer of a mocked
// hostednumbers.BulkHostedNumberOrdersAPI.
func (s BulkOrderSpec) Order() *hostednumbers.BulkHostedNumberOrder {
	o, stage := s.build()
	return decodeBulkOrder(renderBulk(o, stage, s.baseURL(), "", kitState))
}

// HostedNumberOrdersJSON returns the hosted number order (HR…) of each
// number, in the order of Numbers, as GET /v2/HostedNumber/Orders/{Sid}
// sends it: the same SIDs and signing document as JSON shows, with
// bulk_hosting_request_sid set. Their status is received unless the spec
// is PROCESSED; then it is each number's Outcome, as it stands once
// hosting is over (a day after date_completed): the hosted number orders,
// not the bulk results, are the authority. Pass them to ListPageJSON to
// mock a list.
func (s BulkOrderSpec) HostedNumberOrdersJSON() []json.RawMessage {
	o, stage := s.build()
	out := make([]json.RawMessage, len(o.numbers))
	for i, h := range o.numbers {
		at := o.movedAt[stage]
		if stage == stageProcessed {
			at = at.Add(kitHosting)
		}
		out[i] = mustJSON(renderHosted(h, h.timeline(at, kitHosting, ""), s.baseURL()))
	}
	return out
}

// HostedNumberOrderSpec describes a single hosted number order (HR…) to
// build with its JSON and Order methods. The zero value is an order in
// received; every field has a realistic default.
type HostedNumberOrderSpec struct {
	// SID is HR and 32 hex digits. Empty means ExampleHostedNumberOrderSID.
	SID string
	// PhoneNumber is the number being hosted. Empty means
	// ExamplePhoneNumber.
	PhoneNumber string
	// Status is the order's status. Empty means received.
	Status hostednumbers.OrderStatus
	// BulkHostingSID is rendered as bulk_hosting_request_sid; empty renders
	// null (an order made on its own).
	BulkHostingSID string
	// SigningDocumentSID (PX…) is the order's authorisation document;
	// empty renders null.
	SigningDocumentSID string
	// AccountSID is the account. Empty means AccountSID.
	AccountSID string
	// Email is the owner's e-mail address. Empty means ExampleEmail.
	Email string
	// FriendlyName is rendered as given; empty renders null.
	FriendlyName string
	// FailureReason and NextStep are rendered when Status is failed or
	// action-required, "" otherwise (as Twilio sends them).
	FailureReason, NextStep string
	// Created is date_created (and date_updated). Zero means now (in
	// whole seconds, UTC), so that Reconcile counts the order as made
	// after a create the test just sent; give a fixed time for a document
	// that is the same on every run.
	Created time.Time
	// BaseURL prefixes url. Empty means hostednumbers.DefaultBaseURL.
	BaseURL string
}

func (s HostedNumberOrderSpec) render() hostedOrderJSON {
	sid := firstNonEmpty(s.SID, ExampleHostedNumberOrderSID)
	if !isSID(sid, "HR") {
		panic(fmt.Sprintf("hostednumberstest: HostedNumberOrderSpec: SID %q is not HR and 32 hex digits", sid))
	}
	created := s.Created
	if created.IsZero() {
		created = builtNow()
	}
	status := hostednumbers.OrderStatusReceived
	if s.Status != "" {
		status = hostednumbers.ParseOrderStatus(string(s.Status))
	}
	h := &hostedOrder{
		sid:                    sid,
		incomingPhoneNumberSID: "PN" + sid[2:],
		phone:                  firstNonEmpty(s.PhoneNumber, ExamplePhoneNumber),
		accountSID:             firstNonEmpty(s.AccountSID, AccountSID),
		email:                  firstNonEmpty(s.Email, ExampleEmail),
		friendlyName:           s.FriendlyName,
		sms:                    true,
		outcome:                Outcome{Status: status, FailureReason: s.FailureReason, NextStep: s.NextStep},
		created:                created,
	}
	doc := renderHosted(h, h.withReason(numberState{status: status, at: created}, ""), firstNonEmpty(s.BaseURL, hostednumbers.DefaultBaseURL))
	doc.BulkHostingRequestSID = nullable(s.BulkHostingSID)
	doc.SigningDocumentSID = nullable(s.SigningDocumentSID)
	return doc
}

// JSON returns the order as GET /v2/HostedNumber/Orders/{Sid} sends it,
// with every member of Twilio's hosted number order.
func (s HostedNumberOrderSpec) JSON() []byte { return mustJSON(s.render()) }

// Order returns the order as the SDK decodes JSON: what
// HostedNumberOrders.Fetch would return, without LastResponse.
func (s HostedNumberOrderSpec) Order() *hostednumbers.HostedNumberOrder {
	out := new(hostednumbers.HostedNumberOrder)
	if err := json.Unmarshal(s.JSON(), out); err != nil {
		panic("hostednumberstest: the SDK cannot decode a built hosted number order: " + err.Error())
	}
	return out
}

// ListPageJSON returns one page of a Twilio list, {"items": [...],
// "meta": {...}}, holding items (from HostedNumberOrdersJSON or
// HostedNumberOrderSpec.JSON, say). pageURL is the page's own absolute URL
// (meta.url and meta.first_page_url); nextPageURL is meta.next_page_url, empty for the last page
// (rendered null). page is the page's number, from 0; pageSize is
// meta.page_size (0 means the number of items, at least 1).
func ListPageJSON(pageURL, nextPageURL string, page, pageSize int, items ...json.RawMessage) []byte {
	if pageSize <= 0 {
		pageSize = max(len(items), 1)
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	out := listJSON[json.RawMessage]{
		Items: items,
		Meta: metaJSON{
			FirstPageURL: pageURL,
			Key:          "items",
			NextPageURL:  nullable(nextPageURL),
			Page:         page,
			PageSize:     pageSize,
			URL:          pageURL,
		},
	}
	return mustJSON(out)
}

// ErrorJSON returns a Twilio error document, as the API sends it with an
// error status: {"code": code, "message": message, "more_info": …,
// "status": status}. A code of 0 leaves code and more_info out, as the
// fake does for the statuses Twilio documents no code for; use a code
// Twilio documents (20001, 20003, 20404, 20429, …) or none.
func ErrorJSON(status, code int, message string) []byte {
	return mustJSON(errorDocument(status, code, message, nil))
}

// isSID reports whether s is prefix and 32 hex digits.
func isSID(s, prefix string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	_, err := strconv.ParseUint(s[2:18], 16, 64)
	_, err2 := strconv.ParseUint(s[18:], 16, 64)
	return err == nil && err2 == nil
}

package hostednumbers

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

const hostedNumberOrdersPath = "/v2/HostedNumber/Orders"

// HostedNumberOrdersAPI is what HostedNumberOrdersService does, as an
// interface: depend on it, and swap in a mock or a client of
// hostednumberstest's fake server in tests.
type HostedNumberOrdersAPI interface {
	// List returns the first page of hosted number orders.
	List(ctx context.Context, params *ListHostedNumberOrdersParams, opts ...CallOption) (*Page[HostedNumberOrder], error)
	// All iterates over every hosted number order, page by page.
	All(ctx context.Context, params *ListHostedNumberOrdersParams, opts ...CallOption) iter.Seq2[*HostedNumberOrder, error]
	// Fetch returns one hosted number order.
	Fetch(ctx context.Context, sid string, opts ...CallOption) (*HostedNumberOrder, error)
	// Update changes the status of a hosted number order.
	Update(ctx context.Context, sid string, params *UpdateHostedNumberOrderParams, opts ...CallOption) (*HostedNumberOrder, error)
	// Cancel cancels a hosted number order that is still received.
	Cancel(ctx context.Context, sid string, opts ...CallOption) error
	// Create makes one hosted number order, outside a bulk request.
	Create(ctx context.Context, params *CreateHostedNumberOrderParams, opts ...CallOption) (*HostedNumberOrder, error)
}

var _ HostedNumberOrdersAPI = (*HostedNumberOrdersService)(nil)

// HostedNumberOrdersService is the hosted number order resource,
// /v2/HostedNumber/Orders: one order per phone number, whether made alone
// or by a bulk hosting request. Reach it as Client.HostedNumberOrders.
type HostedNumberOrdersService struct {
	client *Client
}

// HostedNumberOrder is one phone number on its way to being hosted on
// Twilio, as the single-order resource returns it. Its Status moves from
// received (or twilio-processing) through pending-loa, verification and
// carrier-processing to completed, or ends in failed or action-required.
type HostedNumberOrder struct {
	// SID identifies the order: HR and 32 hex digits.
	SID string `json:"sid"`
	// AccountSID is the account (AC…) the number is hosted on.
	AccountSID string `json:"account_sid"`
	// IncomingPhoneNumberSID (PN…) is the phone number resource the order
	// made, once there is one.
	IncomingPhoneNumberSID NullString `json:"incoming_phone_number_sid"`
	// AddressSID (AD…) is the owner's address.
	AddressSID NullString `json:"address_sid"`
	// SigningDocumentSID (PX…) is the authorisation document (LOA) the
	// owner signs, once there is one.
	SigningDocumentSID NullString `json:"signing_document_sid"`
	// PhoneNumber is the number being hosted, in E.164 form.
	PhoneNumber string `json:"phone_number"`
	// Capabilities are the services hosted on Twilio for the number.
	Capabilities Capabilities `json:"capabilities"`
	// FriendlyName labels the order.
	FriendlyName NullString `json:"friendly_name"`
	// Status is where the order stands. A status this SDK does not know
	// keeps its raw text (Known reports false).
	Status OrderStatus `json:"status"`
	// FailureReason says why the order went to action-required or failed.
	FailureReason NullString `json:"failure_reason"`
	// DateCreated is when the order was made.
	DateCreated NullTime `json:"date_created"`
	// DateUpdated is when the order last changed.
	DateUpdated NullTime `json:"date_updated"`
	// Email is the owner's e-mail address, where the LOA is sent.
	Email NullString `json:"email"`
	// CCEmails are copied on the LOA e-mails.
	CCEmails []string `json:"cc_emails"`
	// URL is the order's own API address.
	URL NullString `json:"url"`
	// ContactTitle is the job title of the person authorised to sign the
	// LOA.
	ContactTitle NullString `json:"contact_title"`
	// ContactPhoneNumber is that person's phone number.
	ContactPhoneNumber NullString `json:"contact_phone_number"`
	// BulkHostingRequestSID (BH…) is the bulk hosting request that made the
	// order; not Valid for an order made on its own.
	BulkHostingRequestSID NullString `json:"bulk_hosting_request_sid"`
	// NextStep says what to do next to get the number hosted.
	NextStep NullString `json:"next_step"`
	// VerificationAttempts counts the ownership verification calls made.
	VerificationAttempts int `json:"verification_attempts"`
	// VerificationCallSIDs identify those calls.
	VerificationCallSIDs []string `json:"verification_call_sids"`
	// VerificationCallDelay is how many seconds (0 to 60) Twilio waits
	// before placing the verification call.
	VerificationCallDelay int `json:"verification_call_delay"`
	// VerificationCallExtension is the extension dialled on the
	// verification call.
	VerificationCallExtension NullString `json:"verification_call_extension"`
	// VerificationCode is the code to enter during the verification call.
	VerificationCode NullString `json:"verification_code"`
	// VerificationType is how ownership is verified (phone-call).
	VerificationType VerificationType `json:"verification_type"`
	// LastResponse describes the HTTP exchange that returned this value
	// (for a listed order, the page's); nil for a value not returned by a
	// call.
	LastResponse *Response `json:"-"`
}

// Capabilities are the services of a hosted number. A capability the API
// leaves out is false.
type Capabilities struct {
	// SMS: text messages are hosted on Twilio.
	SMS bool `json:"sms"`
	// MMS: multimedia messages are hosted on Twilio.
	MMS bool `json:"mms"`
	// Voice: calls are hosted on Twilio.
	Voice bool `json:"voice"`
	// Fax: faxes are hosted on Twilio.
	Fax bool `json:"fax"`
}

// VerificationType is how a hosted number order verifies that the owner
// holds the number. Unknown values keep their raw text.
type VerificationType string

// VerificationTypePhoneCall is the documented verification type: Twilio
// calls the number and the owner enters the verification code.
const VerificationTypePhoneCall VerificationType = "phone-call"

// check is run on every decoded order: without a valid SID the order
// cannot be fetched, updated or cancelled.
func (o *HostedNumberOrder) check() error {
	if !format.SID(o.SID, "HR") {
		return fmt.Errorf("hosted number order sid %s is not HR followed by 32 hex digits", quoteShort(o.SID))
	}
	return nil
}

func (o *HostedNumberOrder) setLastResponse(r *Response) { o.LastResponse = r }

// ListHostedNumberOrdersParams filter a list of hosted number orders. Every
// field is optional; the zero value lists every order.
type ListHostedNumberOrdersParams struct {
	// Status keeps the orders with this status: one of the ten documented
	// statuses (pending_loa is sent as pending-loa).
	Status OrderStatus
	// SMSCapability, when set, keeps the orders whose SMS capability is
	// the value it points to (Bool(false) keeps those without SMS); nil
	// does not filter.
	SMSCapability *bool
	// PhoneNumber keeps the orders for this number (E.164).
	PhoneNumber string
	// IncomingPhoneNumberSID keeps the order that made this phone number
	// resource (PN and 32 hex digits).
	IncomingPhoneNumberSID string
	// FriendlyName keeps the orders with this label (at most 128
	// characters).
	FriendlyName string
	// PageSize is how many orders a page holds, 1 to 1000; 0 leaves it to
	// the API (50).
	PageSize int
}

// Validate checks every filter and returns a *ValidationError that lists
// each problem, or nil. List and All call it before sending anything.
func (p *ListHostedNumberOrdersParams) Validate() error {
	if p == nil {
		return nil
	}
	v := validator{}
	v.orderStatus(topLevel("status"), p.Status, orderStatusKnown)
	v.orderFilters(p.PhoneNumber, p.IncomingPhoneNumberSID, p.FriendlyName, p.PageSize)
	return v.err()
}

func (p *ListHostedNumberOrdersParams) query() url.Values {
	q := url.Values{}
	if p == nil {
		return q
	}
	setOrderFilters(q, p.Status, p.PhoneNumber, p.IncomingPhoneNumberSID, p.FriendlyName, p.PageSize)
	if p.SMSCapability != nil {
		q.Set("SmsCapability", strconv.FormatBool(*p.SMSCapability))
	}
	return q
}

// List returns the first page of hosted number orders that match params:
// GET /v2/HostedNumber/Orders. Follow the pages with Page.Next, or use All.
// params are validated first; a problem returns a *ValidationError and
// nothing is sent.
func (s *HostedNumberOrdersService) List(ctx context.Context, params *ListHostedNumberOrdersParams, opts ...CallOption) (*Page[HostedNumberOrder], error) {
	const op = "list hosted number orders"
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("hostednumbers: %s: %w", op, err)
	}
	return fetchPage[HostedNumberOrder](ctx, s.client, op, listRequest(op, hostedNumberOrdersPath, hostedNumberOrdersPath, params.query()), opts)
}

// All iterates over every hosted number order that matches params, across
// pages: the first page is fetched when the loop starts, each next page
// (meta.next_page_url, exactly as given) only when the loop reaches it,
// and break stops without another request. Each order is yielded as a
// pointer, as Fetch returns it; an error is yielded once, with a nil
// order, and ends the loop.
func (s *HostedNumberOrdersService) All(ctx context.Context, params *ListHostedNumberOrdersParams, opts ...CallOption) iter.Seq2[*HostedNumberOrder, error] {
	return allItems(ctx, func(ctx context.Context) (*Page[HostedNumberOrder], error) { return s.List(ctx, params, opts...) }, nil)
}

// Fetch returns one hosted number order: GET /v2/HostedNumber/Orders/{sid}.
// The sid must be HR followed by 32 hex digits; anything else returns a
// *ValidationError without a request. An order that does not exist
// returns an error matching ErrNotFound.
func (s *HostedNumberOrdersService) Fetch(ctx context.Context, sid string, opts ...CallOption) (*HostedNumberOrder, error) {
	if err := checkResourceSID("sid", sid, "HR", "hosted number order"); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch hosted number order: %w", err)
	}
	var o HostedNumberOrder
	meta, err := s.client.do(ctx, request{op: "fetch hosted number order", template: hostedNumberOrdersPath + "/{Sid}",
		method: http.MethodGet, path: hostedNumberOrdersPath + "/" + sid}, &o, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch hosted number order %s: %w", sid, err)
	}
	if err := checkAnswerSID("hosted number order", o.SID, sid, "HR", meta); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch hosted number order %s: %w", sid, err)
	}
	o.LastResponse = meta
	return &o, nil
}

// UpdateHostedNumberOrderParams are the form fields of Update.
type UpdateHostedNumberOrderParams struct {
	// Status is the status to move the order to, required: one of the ten
	// documented statuses, typically OrderStatusPendingVerification to
	// start the ownership verification call.
	Status OrderStatus
	// VerificationCallDelay, when set, is how many seconds (0 to 60)
	// Twilio waits before placing the verification call.
	VerificationCallDelay *int
	// VerificationCallExtension is the extension to dial on the
	// verification call: digits, * and #.
	VerificationCallExtension string
}

// Validate checks the fields and returns a *ValidationError that lists
// each problem, or nil. Update calls it before sending anything.
func (p *UpdateHostedNumberOrderParams) Validate() error {
	v := validator{}
	if p == nil || p.Status == "" {
		v.add(topLevel("status"), "is required")
		return v.err()
	}
	v.orderStatus(topLevel("status"), p.Status, orderStatusKnown)
	if d := p.VerificationCallDelay; d != nil && (*d < 0 || *d > 60) {
		v.add(topLevel("verification_call_delay"), fmt.Sprintf("is %d; it must be 0 to 60 seconds", *d))
	}
	if ext := p.VerificationCallExtension; ext != "" && strings.ContainsFunc(ext, notExtensionDigit) {
		v.add(topLevel("verification_call_extension"), fmt.Sprintf("%s may hold only digits, * and #", quoteShort(ext)))
	}
	return v.err()
}

func notExtensionDigit(r rune) bool { return (r < '0' || r > '9') && r != '*' && r != '#' }

// form encodes the params as the API expects them:
// application/x-www-form-urlencoded Status, VerificationCallDelay,
// VerificationCallExtension.
func (p *UpdateHostedNumberOrderParams) form() url.Values {
	f := url.Values{"Status": {string(ParseOrderStatus(string(p.Status)))}}
	if p.VerificationCallDelay != nil {
		f.Set("VerificationCallDelay", strconv.Itoa(*p.VerificationCallDelay))
	}
	if p.VerificationCallExtension != "" {
		f.Set("VerificationCallExtension", p.VerificationCallExtension)
	}
	return f
}

// Update changes a hosted number order's status (with the verification
// call settings): POST /v2/HostedNumber/Orders/{sid}, form-encoded. The sid
// and params are validated first; a problem returns a *ValidationError and
// nothing is sent. The API's refusal of a change comes back as an
// *APIError. Like every call that changes something, an error matches
// ErrNotApplied (nothing changed) or ErrOutcomeUnknown (it may have).
func (s *HostedNumberOrdersService) Update(ctx context.Context, sid string, params *UpdateHostedNumberOrderParams, opts ...CallOption) (*HostedNumberOrder, error) {
	err := errors.Join(checkResourceSID("sid", sid, "HR", "hosted number order"), params.Validate())
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: update hosted number order: %w", withOutcome(mergeValidationErrors(err), ErrNotApplied))
	}
	var o HostedNumberOrder
	meta, err := s.client.do(ctx, request{
		op:          "update hosted number order",
		template:    hostedNumberOrdersPath + "/{Sid}",
		method:      http.MethodPost,
		path:        hostedNumberOrdersPath + "/" + sid,
		body:        []byte(params.form().Encode()),
		contentType: []string{"application/x-www-form-urlencoded"},
	}, &o, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: update hosted number order %s: %w", sid, err)
	}
	if err := checkAnswerSID("hosted number order", o.SID, sid, "HR", meta); err != nil {
		// The update was accepted; the answer is about another order.
		return nil, fmt.Errorf("hostednumbers: update hosted number order %s: %w", sid, withOutcome(err, ErrOutcomeUnknown))
	}
	o.LastResponse = meta
	return &o, nil
}

// Cancel cancels a hosted number order: DELETE
// /v2/HostedNumber/Orders/{sid}, answered 204. The API allows it only while
// the order is received; its refusal comes back as an *APIError with the
// HTTP status and Twilio's code and message. The sid is validated first.
// An error matches ErrNotApplied (the order was not cancelled) or
// ErrOutcomeUnknown (it may have been: fetch it to see).
func (s *HostedNumberOrdersService) Cancel(ctx context.Context, sid string, opts ...CallOption) error {
	if err := checkResourceSID("sid", sid, "HR", "hosted number order"); err != nil {
		return fmt.Errorf("hostednumbers: cancel hosted number order: %w", withOutcome(err, ErrNotApplied))
	}
	if _, err := s.client.do(ctx, request{op: "cancel hosted number order", template: hostedNumberOrdersPath + "/{Sid}",
		method: http.MethodDelete, path: hostedNumberOrdersPath + "/" + sid}, nil, opts); err != nil {
		return fmt.Errorf("hostednumbers: cancel hosted number order %s: %w", sid, err)
	}
	return nil
}

// checkSID stops a malformed or hostile SID (../../Accounts, HR…?x=1)
// before it can become part of a URL.
func checkResourceSID(field, sid, prefix, what string) error {
	if format.SID(sid, prefix) {
		return nil
	}
	return &ValidationError{Problems: []FieldError{{
		Field:   field,
		Message: fmt.Sprintf("%s is not a %s SID (%s and 32 hex digits)", quoteShort(sid), what, prefix),
	}}}
}

// mergeValidationErrors turns the *ValidationErrors of an errors.Join into
// one that lists every problem.
func mergeValidationErrors(err error) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	merged := &ValidationError{}
	for _, e := range joined.Unwrap() {
		var ve *ValidationError
		if !errors.As(e, &ve) {
			return err
		}
		merged.Problems = append(merged.Problems, ve.Problems...)
	}
	return merged
}

// orderStatusKnown accepts the ten documented order statuses.
func orderStatusKnown(s OrderStatus) bool { return s.Known() }

// orderStatus checks a status filter or field: empty is fine (not set),
// anything else must fold to a status allowed.
func (v *validator) orderStatus(p path, s OrderStatus, allowed func(OrderStatus) bool) {
	if s != "" && !allowed(ParseOrderStatus(string(s))) {
		v.add(p, fmt.Sprintf("%s is not a status this filter accepts", quoteShort(string(s))))
	}
}

// orderFilters checks the filters the order lists share.
func (v *validator) orderFilters(phone, incomingSID, friendlyName string, pageSize int) {
	if phone != "" {
		v.phone(topLevel("phone_number"), phone)
	}
	v.sid(topLevel("incoming_phone_number_sid"), incomingSID, "PN")
	v.friendlyName(topLevel("friendly_name"), friendlyName)
	v.pageSize(pageSize)
}

func (v *validator) pageSize(n int) {
	if n < 0 || n > 1000 {
		v.add(topLevel("page_size"), fmt.Sprintf("is %d; it must be 1 to 1000 (0 for the API's default)", n))
	}
}

// setOrderFilters writes the filters the order lists share, with their
// API names. A status is sent in the hyphenated spelling the API's enum
// uses.
func setOrderFilters(q url.Values, status OrderStatus, phone, incomingSID, friendlyName string, pageSize int) {
	if status != "" {
		q.Set("Status", string(ParseOrderStatus(string(status))))
	}
	if phone != "" {
		q.Set("PhoneNumber", phone)
	}
	if incomingSID != "" {
		q.Set("IncomingPhoneNumberSid", incomingSID)
	}
	if friendlyName != "" {
		q.Set("FriendlyName", friendlyName)
	}
	if pageSize > 0 {
		q.Set("PageSize", strconv.Itoa(pageSize))
	}
}

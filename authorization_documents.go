package hostednumbers

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

const authorizationDocumentsPath = "/v2/HostedNumber/AuthorizationDocuments"

// AuthorizationDocumentsAPI is what AuthorizationDocumentsService does, as
// an interface: depend on it, and swap in a mock or a client of
// hostednumberstest's fake server in tests.
type AuthorizationDocumentsAPI interface {
	// List returns the first page of authorisation documents.
	List(ctx context.Context, params *ListAuthorizationDocumentsParams, opts ...CallOption) (*Page[AuthorizationDocument], error)
	// All iterates over every authorisation document, page by page.
	All(ctx context.Context, params *ListAuthorizationDocumentsParams, opts ...CallOption) iter.Seq2[*AuthorizationDocument, error]
	// Fetch returns one authorisation document.
	Fetch(ctx context.Context, sid string, opts ...CallOption) (*AuthorizationDocument, error)
	// ListDependentOrders returns the first page of the hosted number
	// orders one document authorises.
	ListDependentOrders(ctx context.Context, documentSID string, params *ListDependentHostedNumberOrdersParams, opts ...CallOption) (*Page[HostedNumberOrder], error)
	// AllDependentOrders iterates over every hosted number order one
	// document authorises.
	AllDependentOrders(ctx context.Context, documentSID string, params *ListDependentHostedNumberOrdersParams, opts ...CallOption) iter.Seq2[*HostedNumberOrder, error]
	// Create makes a letter of authorisation for existing orders.
	Create(ctx context.Context, params *CreateAuthorizationDocumentParams, opts ...CallOption) (*AuthorizationDocument, error)
	// Delete cancels an authorisation document.
	Delete(ctx context.Context, sid string, opts ...CallOption) error
}

var _ AuthorizationDocumentsAPI = (*AuthorizationDocumentsService)(nil)

// AuthorizationDocumentsService is the authorisation document (letter of
// authorisation, LOA) resource, /v2/HostedNumber/AuthorizationDocuments:
// the document a number's owner signs before Twilio may host it. Reach it
// as Client.AuthorizationDocuments.
type AuthorizationDocumentsService struct {
	client *Client
}

// AuthorizationDocumentStatus is where an authorisation document stands.
// Decoding folds case and '-' or '_' into the constants below (SIGNING is
// AuthorizationDocumentStatusSigning). A status this SDK does not know
// keeps its raw text and Known reports false.
type AuthorizationDocumentStatus string

// The documented authorisation document statuses.
const (
	// AuthorizationDocumentStatusOpened: made, not yet sent for signing.
	AuthorizationDocumentStatusOpened AuthorizationDocumentStatus = "opened"
	// AuthorizationDocumentStatusSigning: sent to the owner, not signed yet.
	AuthorizationDocumentStatusSigning AuthorizationDocumentStatus = "signing"
	// AuthorizationDocumentStatusSigned: signed; its orders move on.
	AuthorizationDocumentStatusSigned AuthorizationDocumentStatus = "signed"
	// AuthorizationDocumentStatusCanceled: withdrawn.
	AuthorizationDocumentStatusCanceled AuthorizationDocumentStatus = "canceled"
	// AuthorizationDocumentStatusFailed: could not be completed.
	AuthorizationDocumentStatusFailed AuthorizationDocumentStatus = "failed"
)

// ParseAuthorizationDocumentStatus returns the documented
// AuthorizationDocumentStatus that raw spells, in any case and with '-' or
// '_'; other text is returned unchanged.
func ParseAuthorizationDocumentStatus(raw string) AuthorizationDocumentStatus {
	known := [...]AuthorizationDocumentStatus{AuthorizationDocumentStatusOpened, AuthorizationDocumentStatusSigning,
		AuthorizationDocumentStatusSigned, AuthorizationDocumentStatusCanceled, AuthorizationDocumentStatusFailed}
	return parseEnum(raw, known[:])
}

// UnmarshalJSON decodes a status in any spelling; null leaves s as it is.
func (s *AuthorizationDocumentStatus) UnmarshalJSON(data []byte) error {
	raw, ok, err := enumText(data)
	if err != nil {
		return fmt.Errorf("authorization document status: %w", err)
	}
	if ok {
		*s = ParseAuthorizationDocumentStatus(raw)
	}
	return nil
}

// Known reports whether s is one of the five documented statuses.
func (s AuthorizationDocumentStatus) Known() bool {
	switch s {
	case AuthorizationDocumentStatusOpened, AuthorizationDocumentStatusSigning, AuthorizationDocumentStatusSigned,
		AuthorizationDocumentStatusCanceled, AuthorizationDocumentStatusFailed:
		return true
	}
	return false
}

// Unsigned reports whether the document still waits for the owner's
// signature (opened or signing).
func (s AuthorizationDocumentStatus) Unsigned() bool {
	return s == AuthorizationDocumentStatusOpened || s == AuthorizationDocumentStatusSigning
}

// AuthorizationDocument is a letter of authorisation (LOA, PX…) for the
// numbers of one owner.
type AuthorizationDocument struct {
	// SID identifies the document: PX and 32 hex digits.
	SID string `json:"sid"`
	// AddressSID (AD…) is the owner's address.
	AddressSID NullString `json:"address_sid"`
	// Status is where the document stands.
	Status AuthorizationDocumentStatus `json:"status"`
	// Email is where the document is sent for signing.
	Email NullString `json:"email"`
	// CCEmails are told when the document is sent and signed.
	CCEmails []string `json:"cc_emails"`
	// DateCreated is when the document was made.
	DateCreated NullTime `json:"date_created"`
	// DateUpdated is when the document last changed.
	DateUpdated NullTime `json:"date_updated"`
	// URL is the document's own API address.
	URL NullString `json:"url"`
	// Links are the API addresses of related resources, by name
	// (dependent_hosted_number_orders).
	Links map[string]string `json:"links"`
	// LastResponse describes the HTTP exchange that returned this value
	// (for a listed document, the page's); nil for a value not returned by
	// a call.
	LastResponse *Response `json:"-"`
}

// check is run on every decoded document.
func (d *AuthorizationDocument) check() error {
	if !format.SID(d.SID, "PX") {
		return fmt.Errorf("authorization document sid %s is not PX followed by 32 hex digits", quoteShort(d.SID))
	}
	return nil
}

func (d *AuthorizationDocument) setLastResponse(r *Response) { d.LastResponse = r }

// ListAuthorizationDocumentsParams filter a list of authorisation
// documents. Every field is optional.
type ListAuthorizationDocumentsParams struct {
	// Email keeps the documents sent to this address.
	Email string
	// Status keeps the documents with this status: one of the five
	// documented ones, in any spelling (sent as the API's enum spells it).
	Status AuthorizationDocumentStatus
	// PageSize is how many documents a page holds, 1 to 1000; 0 leaves it
	// to the API (50).
	PageSize int
}

// Validate checks every filter and returns a *ValidationError that lists
// each problem, or nil. List and All call it before sending anything.
func (p *ListAuthorizationDocumentsParams) Validate() error {
	if p == nil {
		return nil
	}
	v := validator{}
	v.email(topLevel("email"), p.Email)
	if p.Status != "" && !ParseAuthorizationDocumentStatus(string(p.Status)).Known() {
		v.add(topLevel("status"), fmt.Sprintf("%s is not an authorization document status (opened, signing, signed, canceled, failed)", quoteShort(string(p.Status))))
	}
	v.pageSize(p.PageSize)
	return v.err()
}

func (p *ListAuthorizationDocumentsParams) query() url.Values {
	q := url.Values{}
	if p == nil {
		return q
	}
	if p.Email != "" {
		q.Set("Email", p.Email)
	}
	if p.Status != "" {
		q.Set("Status", string(ParseAuthorizationDocumentStatus(string(p.Status))))
	}
	if p.PageSize > 0 {
		q.Set("PageSize", strconv.Itoa(p.PageSize))
	}
	return q
}

// List returns the first page of authorisation documents that match
// params: GET /v2/HostedNumber/AuthorizationDocuments. params are validated
// first; a problem returns a *ValidationError and nothing is sent.
func (s *AuthorizationDocumentsService) List(ctx context.Context, params *ListAuthorizationDocumentsParams, opts ...CallOption) (*Page[AuthorizationDocument], error) {
	const op = "list authorization documents"
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("hostednumbers: %s: %w", op, err)
	}
	return fetchPage[AuthorizationDocument](ctx, s.client, op, listRequest(op, authorizationDocumentsPath, authorizationDocumentsPath, params.query()), opts)
}

// All iterates over every authorisation document that matches params,
// fetching each page only when the loop reaches it; break stops without
// another request. Each document is yielded as a pointer, as Fetch
// returns it; an error is yielded once, with a nil document, and ends the
// loop.
func (s *AuthorizationDocumentsService) All(ctx context.Context, params *ListAuthorizationDocumentsParams, opts ...CallOption) iter.Seq2[*AuthorizationDocument, error] {
	return allItems(ctx, func(ctx context.Context) (*Page[AuthorizationDocument], error) { return s.List(ctx, params, opts...) }, nil)
}

// Fetch returns one authorisation document:
// GET /v2/HostedNumber/AuthorizationDocuments/{sid}. The sid must be PX
// followed by 32 hex digits; anything else returns a *ValidationError
// without a request.
func (s *AuthorizationDocumentsService) Fetch(ctx context.Context, sid string, opts ...CallOption) (*AuthorizationDocument, error) {
	if err := checkResourceSID("sid", sid, "PX", "authorization document"); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch authorization document: %w", err)
	}
	var d AuthorizationDocument
	meta, err := s.client.do(ctx, request{op: "fetch authorization document", template: authorizationDocumentsPath + "/{Sid}",
		method: http.MethodGet, path: authorizationDocumentsPath + "/" + sid}, &d, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch authorization document %s: %w", sid, err)
	}
	if err := checkAnswerSID("authorization document", d.SID, sid, "PX", meta); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch authorization document %s: %w", sid, err)
	}
	d.LastResponse = meta
	return &d, nil
}

// ListDependentHostedNumberOrdersParams filter the hosted number orders of
// one authorisation document. Every field is optional.
type ListDependentHostedNumberOrdersParams struct {
	// Status keeps the orders with this status; this list accepts seven:
	// received, verified, pending-loa, carrier-processing, completed,
	// failed, action-required.
	Status OrderStatus
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

// dependentOrderStatus accepts the seven statuses the dependent orders
// list filters by.
func dependentOrderStatus(s OrderStatus) bool {
	switch s {
	case OrderStatusReceived, OrderStatusVerified, OrderStatusPendingLOA, OrderStatusCarrierProcessing,
		OrderStatusCompleted, OrderStatusFailed, OrderStatusActionRequired:
		return true
	}
	return false
}

// Validate checks every filter and returns a *ValidationError that lists
// each problem, or nil. ListDependentOrders and AllDependentOrders call it
// before sending anything.
func (p *ListDependentHostedNumberOrdersParams) Validate() error {
	if p == nil {
		return nil
	}
	v := validator{}
	v.orderStatus(topLevel("status"), p.Status, dependentOrderStatus)
	v.orderFilters(p.PhoneNumber, p.IncomingPhoneNumberSID, p.FriendlyName, p.PageSize)
	return v.err()
}

func (p *ListDependentHostedNumberOrdersParams) query() url.Values {
	q := url.Values{}
	if p != nil {
		setOrderFilters(q, p.Status, p.PhoneNumber, p.IncomingPhoneNumberSID, p.FriendlyName, p.PageSize)
	}
	return q
}

// ListDependentOrders returns the first page of the hosted number orders
// that one authorisation document authorises:
// GET /v2/HostedNumber/AuthorizationDocuments/{documentSID}/DependentHostedNumberOrders.
// This list carries no verification fields or URL; those members of
// HostedNumberOrder stay zero. The SID and params are validated first.
func (s *AuthorizationDocumentsService) ListDependentOrders(ctx context.Context, documentSID string, params *ListDependentHostedNumberOrdersParams, opts ...CallOption) (*Page[HostedNumberOrder], error) {
	const op = "list dependent hosted number orders"
	err := mergeValidationErrors(errors.Join(
		checkResourceSID("document_sid", documentSID, "PX", "authorization document"), params.Validate()))
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: %s: %w", op, err)
	}
	path := authorizationDocumentsPath + "/" + documentSID + "/DependentHostedNumberOrders"
	return fetchPage[HostedNumberOrder](ctx, s.client, op+" of "+documentSID, listRequest(op, authorizationDocumentsPath+"/{Sid}/DependentHostedNumberOrders", path, params.query()), opts)
}

// AllDependentOrders iterates over every hosted number order that one
// authorisation document authorises, fetching each page only when the loop
// reaches it; break stops without another request. Orders are yielded as
// pointers, and an error once with a nil order, as All does.
func (s *AuthorizationDocumentsService) AllDependentOrders(ctx context.Context, documentSID string, params *ListDependentHostedNumberOrdersParams, opts ...CallOption) iter.Seq2[*HostedNumberOrder, error] {
	return allItems(ctx, func(ctx context.Context) (*Page[HostedNumberOrder], error) {
		return s.ListDependentOrders(ctx, documentSID, params, opts...)
	}, nil)
}

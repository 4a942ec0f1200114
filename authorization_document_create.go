package hostednumbers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// CreateAuthorizationDocumentParams are the form fields of
// AuthorizationDocumentsService.Create: a new letter of authorisation for
// hosted number orders that already exist, for example after the owner
// let the first one fail or it was cancelled.
type CreateAuthorizationDocumentParams struct {
	// HostedNumberOrderSIDs (HR…) are the orders the document authorises,
	// at least one, each once. Required.
	HostedNumberOrderSIDs []string
	// AddressSID (AD…) is the owner's address. Required.
	AddressSID string
	// Email is where the document is sent for signing. Required.
	Email string
	// ContactPhoneNumber is the phone number of the person authorised to
	// sign, in E.164 form. Required.
	ContactPhoneNumber string
	// ContactTitle is that person's job title.
	ContactTitle string
	// CCEmails are told when the document is sent and signed.
	CCEmails []string
}

// Validate checks the fields and returns a *ValidationError that lists
// each problem, or nil. Create calls it before sending anything.
func (p *CreateAuthorizationDocumentParams) Validate() error {
	v := validator{}
	if p == nil {
		for _, f := range []string{"hosted_number_order_sids", "address_sid", "email", "contact_phone_number"} {
			v.add(topLevel(f), "is required")
		}
		return v.err()
	}
	if len(p.HostedNumberOrderSIDs) == 0 {
		v.add(topLevel("hosted_number_order_sids"), "must name at least one hosted number order (HR…)")
	}
	seen := make(map[string]int, len(p.HostedNumberOrderSIDs))
	for i, sid := range p.HostedNumberOrderSIDs {
		field := topLevel("hosted_number_order_sids[" + strconv.Itoa(i) + "]")
		key := sidKey(sid)
		first, dup := seen[key]
		switch {
		case sid == "":
			v.add(field, "is empty")
		case dup:
			v.add(field, fmt.Sprintf("%s is listed twice; first at hosted_number_order_sids[%d]", quoteShort(sid), first))
		default:
			v.sid(field, sid, "HR")
			seen[key] = i
		}
	}
	if p.AddressSID == "" {
		v.add(topLevel("address_sid"), "is required")
	} else {
		v.sid(topLevel("address_sid"), p.AddressSID, "AD")
	}
	if p.Email == "" {
		v.add(topLevel("email"), "is required")
	} else {
		v.email(topLevel("email"), p.Email)
	}
	if p.ContactPhoneNumber == "" {
		v.add(topLevel("contact_phone_number"), "is required")
	} else {
		v.phone(topLevel("contact_phone_number"), p.ContactPhoneNumber)
	}
	v.friendlyName(topLevel("contact_title"), p.ContactTitle)
	for i, e := range p.CCEmails {
		if e == "" {
			v.add(topLevel("cc_emails["+strconv.Itoa(i)+"]"), "is empty")
			continue
		}
		v.email(topLevel("cc_emails["+strconv.Itoa(i)+"]"), e)
	}
	return v.err()
}

// sidKey folds a SID's hex digits to lower case, since the API's SID
// pattern accepts both cases for the same resource.
func sidKey(sid string) string {
	b := []byte(sid)
	for i := 2; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'F' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// form encodes the params with the API's names.
func (p *CreateAuthorizationDocumentParams) form() url.Values {
	f := url.Values{
		"AddressSid":         {p.AddressSID},
		"Email":              {p.Email},
		"ContactPhoneNumber": {p.ContactPhoneNumber},
	}
	f["HostedNumberOrderSids"] = append([]string(nil), p.HostedNumberOrderSIDs...)
	if p.ContactTitle != "" {
		f.Set("ContactTitle", p.ContactTitle)
	}
	for _, e := range p.CCEmails {
		f.Add("CcEmails", e)
	}
	return f
}

// Create makes a letter of authorisation for existing hosted number
// orders: POST /v2/HostedNumber/AuthorizationDocuments, form-encoded,
// answered 201 with the document (PX…), which Twilio sends to Email for
// signing. params are validated first; a problem returns a
// *ValidationError and nothing is sent.
//
// It is sent at most once: an error matches ErrNotApplied (no document
// was made) or ErrOutcomeUnknown (one may have been: list the documents
// for Email before creating another, or the owner may get two).
func (s *AuthorizationDocumentsService) Create(ctx context.Context, params *CreateAuthorizationDocumentParams, opts ...CallOption) (*AuthorizationDocument, error) {
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("hostednumbers: create authorization document: %w", withOutcome(err, ErrNotApplied))
	}
	var d AuthorizationDocument
	meta, err := s.client.do(ctx, request{
		op:          "create authorization document",
		template:    authorizationDocumentsPath,
		method:      http.MethodPost,
		path:        authorizationDocumentsPath,
		body:        []byte(params.form().Encode()),
		contentType: []string{"application/x-www-form-urlencoded"},
	}, &d, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: create authorization document: %w", err)
	}
	d.LastResponse = meta
	return &d, nil
}

// Delete cancels an authorisation document: DELETE
// /v2/HostedNumber/AuthorizationDocuments/{sid}, answered 204. The sid is
// validated first. An error matches ErrNotApplied (the document was not
// deleted) or ErrOutcomeUnknown (it may have been: fetch it to see).
func (s *AuthorizationDocumentsService) Delete(ctx context.Context, sid string, opts ...CallOption) error {
	if err := checkResourceSID("sid", sid, "PX", "authorization document"); err != nil {
		return fmt.Errorf("hostednumbers: delete authorization document: %w", withOutcome(err, ErrNotApplied))
	}
	if _, err := s.client.do(ctx, request{op: "delete authorization document", template: authorizationDocumentsPath + "/{Sid}",
		method: http.MethodDelete, path: authorizationDocumentsPath + "/" + sid}, nil, opts); err != nil {
		return fmt.Errorf("hostednumbers: delete authorization document %s: %w", sid, err)
	}
	return nil
}

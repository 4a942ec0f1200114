package hostednumbers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// CreateHostedNumberOrderParams are the form fields of
// HostedNumberOrdersService.Create: one phone number to host on its own,
// outside a bulk hosting request (for example, one number a bulk request
// failed and that you submit again once its cause is fixed).
type CreateHostedNumberOrderParams struct {
	// PhoneNumber is the number to host, in E.164 form. Required.
	PhoneNumber string
	// ContactPhoneNumber is the phone number of the person authorised to
	// sign the authorisation document, in E.164 form. Required.
	ContactPhoneNumber string
	// AddressSID (AD…) is the address the number is registered at.
	// Required.
	AddressSID string
	// Email is the owner's e-mail address, where the authorisation
	// document is sent. Required.
	Email string
	// AccountSID (AC…) hosts the number on a subaccount; empty means the
	// account of the client's credentials.
	AccountSID string
	// FriendlyName labels the order, at most 128 characters.
	FriendlyName string
	// CCEmails are copied on the authorisation document's e-mails.
	CCEmails []string
	// ContactTitle is the job title of the person authorised to sign.
	ContactTitle string
	// SMSCapability, when set, is sent as SmsCapability: true hosts the
	// number's SMS on Twilio, false says it is not to be hosted. nil sends
	// nothing, leaving it to the API. Set it with Bool(true) or Bool(false).
	SMSCapability *bool
	// SMSURL, SMSMethod, SMSFallbackURL, SMSFallbackMethod and
	// SMSApplicationSID (AP…) set how Twilio handles the number's messages
	// once hosted; methods are GET or POST.
	SMSURL, SMSMethod, SMSFallbackURL, SMSFallbackMethod, SMSApplicationSID string
	// StatusCallbackURL and StatusCallbackMethod become the hosted phone
	// number's own status callback.
	StatusCallbackURL, StatusCallbackMethod string
}

// Validate checks the fields and returns a *ValidationError that lists
// each problem, or nil. Create calls it before sending anything.
func (p *CreateHostedNumberOrderParams) Validate() error {
	v := validator{}
	if p == nil {
		for _, f := range []string{"phone_number", "contact_phone_number", "address_sid", "email"} {
			v.add(topLevel(f), "is required")
		}
		return v.err()
	}
	required := func(field, value string) bool {
		if value == "" {
			v.add(topLevel(field), "is required")
			return false
		}
		return true
	}
	if required("phone_number", p.PhoneNumber) {
		v.phone(topLevel("phone_number"), p.PhoneNumber)
	}
	if required("contact_phone_number", p.ContactPhoneNumber) {
		v.phone(topLevel("contact_phone_number"), p.ContactPhoneNumber)
	}
	if required("address_sid", p.AddressSID) {
		v.sid(topLevel("address_sid"), p.AddressSID, "AD")
	}
	if required("email", p.Email) {
		v.email(topLevel("email"), p.Email)
	}
	v.sid(topLevel("account_sid"), p.AccountSID, "AC")
	v.friendlyName(topLevel("friendly_name"), p.FriendlyName)
	for i, e := range p.CCEmails {
		if e == "" {
			v.add(topLevel("cc_emails["+strconv.Itoa(i)+"]"), "is empty")
			continue
		}
		v.email(topLevel("cc_emails["+strconv.Itoa(i)+"]"), e)
	}
	v.friendlyName(topLevel("contact_title"), p.ContactTitle)
	v.url(topLevel("sms_url"), p.SMSURL)
	v.method(topLevel("sms_method"), p.SMSMethod)
	v.url(topLevel("sms_fallback_url"), p.SMSFallbackURL)
	v.method(topLevel("sms_fallback_method"), p.SMSFallbackMethod)
	v.sid(topLevel("sms_application_sid"), p.SMSApplicationSID, "AP")
	v.url(topLevel("status_callback_url"), p.StatusCallbackURL)
	v.method(topLevel("status_callback_method"), p.StatusCallbackMethod)
	return v.err()
}

// form encodes the params with the API's names, sending only what is set.
func (p *CreateHostedNumberOrderParams) form() url.Values {
	f := url.Values{}
	set := func(name, value string) {
		if value != "" {
			f.Set(name, value)
		}
	}
	set("PhoneNumber", p.PhoneNumber)
	set("ContactPhoneNumber", p.ContactPhoneNumber)
	set("AddressSid", p.AddressSID)
	set("Email", p.Email)
	set("AccountSid", p.AccountSID)
	set("FriendlyName", p.FriendlyName)
	for _, e := range p.CCEmails {
		f.Add("CcEmails", e)
	}
	set("ContactTitle", p.ContactTitle)
	if p.SMSCapability != nil {
		f.Set("SmsCapability", strconv.FormatBool(*p.SMSCapability))
	}
	set("SmsUrl", p.SMSURL)
	set("SmsMethod", p.SMSMethod)
	set("SmsFallbackUrl", p.SMSFallbackURL)
	set("SmsFallbackMethod", p.SMSFallbackMethod)
	set("SmsApplicationSid", p.SMSApplicationSID)
	set("StatusCallbackUrl", p.StatusCallbackURL)
	set("StatusCallbackMethod", p.StatusCallbackMethod)
	return f
}

// Create makes one hosted number order: POST /v2/HostedNumber/Orders,
// form-encoded, answered 201 with the order (status received). params are
// validated first; a problem returns a *ValidationError and nothing is
// sent.
//
// Like the bulk create, it is sent at most once: an error matches
// ErrNotApplied (Twilio has no order from this call) or ErrOutcomeUnknown
// (it may have one: list the number's orders, or Reconcile with
// PhoneNumbers, before creating it again).
func (s *HostedNumberOrdersService) Create(ctx context.Context, params *CreateHostedNumberOrderParams, opts ...CallOption) (*HostedNumberOrder, error) {
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("hostednumbers: create hosted number order: %w", withOutcome(err, ErrNotApplied))
	}
	var o HostedNumberOrder
	meta, err := s.client.do(ctx, request{
		op:          "create hosted number order",
		template:    hostedNumberOrdersPath,
		method:      http.MethodPost,
		path:        hostedNumberOrdersPath,
		body:        []byte(params.form().Encode()),
		contentType: []string{"application/x-www-form-urlencoded"},
	}, &o, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: create hosted number order: %w", err)
	}
	o.LastResponse = meta
	return &o, nil
}

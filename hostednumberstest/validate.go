package hostednumberstest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// The fake checks what Twilio's published definition of each body says
// (twilio-oai, numbers v2), and nothing more: required members, phone
// numbers in E.164 (format phone-number), SIDs by their pattern, URLs
// (format uri), the methods GET and POST, booleans, and the 128
// characters of a friendly name. The SDK checks more before it sends
// (e-mail addresses, numbers listed twice, lengths Twilio does not
// state); a request from elsewhere that only breaks those rules is
// accepted here, as Twilio accepts it. The bulk create's schema is an
// empty object: its members are checked as the single order's members of
// the same name are.

// checks collects the problems of one body.
type checks struct{ problems []hostednumbers.FieldError }

func (c *checks) add(field, msg string) {
	c.problems = append(c.problems, hostednumbers.FieldError{Field: field, Message: msg})
}

// write answers 400 with the problems found and reports whether there
// were any.
func (c *checks) write(w http.ResponseWriter) bool {
	if len(c.problems) == 0 {
		return false
	}
	writeValidationError(w, &hostednumbers.ValidationError{Problems: c.problems})
	return true
}

func (c *checks) required(field, v string) bool {
	if v == "" {
		c.add(field, "is required")
		return false
	}
	return true
}

func (c *checks) phone(field, v string) {
	if v != "" && !format.E164(v) {
		c.add(field, fmt.Sprintf("%q is not an E.164 phone number", v))
	}
}

func (c *checks) sid(field, v, prefix string) {
	if v != "" && !format.SID(v, prefix) {
		c.add(field, fmt.Sprintf("%q is not a SID (%s and 32 hex digits)", v, prefix))
	}
}

func (c *checks) uri(field, v string) {
	if v == "" {
		return
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" {
		c.add(field, fmt.Sprintf("%q is not a URI", v))
	}
}

func (c *checks) method(field, v string) {
	if v != "" && v != http.MethodGet && v != http.MethodPost {
		c.add(field, fmt.Sprintf("%q is not GET or POST", v))
	}
}

func (c *checks) friendlyName(field, v string) {
	if utf8.RuneCountInString(v) > 128 {
		c.add(field, "is longer than 128 characters")
	}
}

// hosting checks the members of the single order that a bulk item or
// number may carry too; name maps a member's bulk name to the name the
// problem gives.
func (c *checks) hosting(name func(string) string, o *hostednumbers.HostingOptions) {
	c.friendlyName(name("friendly_name"), o.FriendlyName)
	c.uri(name("sms_url"), o.SMSURL)
	c.method(name("sms_method"), o.SMSMethod)
	c.uri(name("sms_fallback_url"), o.SMSFallbackURL)
	c.method(name("sms_fallback_method"), o.SMSFallbackMethod)
	c.uri(name("status_callback_url"), o.StatusCallbackURL)
	c.method(name("status_callback_method"), o.StatusCallbackMethod)
	c.sid(name("sms_application_sid"), o.SMSApplicationSID, "AP")
	c.sid(name("account_sid"), o.AccountSID, "AC")
}

// checkBulkBody checks a bulk create's body: every number has an E.164
// phone_number, and the members the single order defines follow its
// rules.
func checkBulkBody(p *hostednumbers.CreateBulkHostedNumberOrderParams) checks {
	var c checks
	c.friendlyName("friendly_name", p.FriendlyName)
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		at := "request_items[" + strconv.Itoa(i) + "]"
		c.sid(at+".address_sid", it.AddressSID, "AD")
		c.phone(at+".contact_phone_number", it.ContactPhoneNumber)
		c.hosting(func(m string) string { return at + "." + m }, &it.HostingOptions)
		for j := range it.Numbers {
			n := &it.Numbers[j]
			np := at + ".numbers[" + strconv.Itoa(j) + "]"
			if c.required(np+".phone_number", n.PhoneNumber) {
				c.phone(np+".phone_number", n.PhoneNumber)
			}
			c.hosting(func(m string) string { return np + "." + m }, &n.HostingOptions)
		}
	}
	return c
}

// hostedCreateForm reads and checks the form of POST
// /v2/HostedNumber/Orders (CreateHostedNumberOrderRequest).
func hostedCreateForm(form url.Values) (*hostednumbers.CreateHostedNumberOrderParams, checks) {
	p := &hostednumbers.CreateHostedNumberOrderParams{
		PhoneNumber: form.Get("PhoneNumber"), ContactPhoneNumber: form.Get("ContactPhoneNumber"),
		AddressSID: form.Get("AddressSid"), Email: form.Get("Email"), AccountSID: form.Get("AccountSid"),
		FriendlyName: form.Get("FriendlyName"), CCEmails: form["CcEmails"], ContactTitle: form.Get("ContactTitle"),
		SMSURL: form.Get("SmsUrl"), SMSMethod: form.Get("SmsMethod"),
		SMSFallbackURL: form.Get("SmsFallbackUrl"), SMSFallbackMethod: form.Get("SmsFallbackMethod"),
		SMSApplicationSID: form.Get("SmsApplicationSid"),
		StatusCallbackURL: form.Get("StatusCallbackUrl"), StatusCallbackMethod: form.Get("StatusCallbackMethod"),
	}
	var c checks
	if c.required("PhoneNumber", p.PhoneNumber) {
		c.phone("PhoneNumber", p.PhoneNumber)
	}
	if c.required("ContactPhoneNumber", p.ContactPhoneNumber) {
		c.phone("ContactPhoneNumber", p.ContactPhoneNumber)
	}
	if c.required("AddressSid", p.AddressSID) {
		c.sid("AddressSid", p.AddressSID, "AD")
	}
	c.required("Email", p.Email)
	c.sid("AccountSid", p.AccountSID, "AC")
	c.friendlyName("FriendlyName", p.FriendlyName)
	c.uri("SmsUrl", p.SMSURL)
	c.method("SmsMethod", p.SMSMethod)
	c.uri("SmsFallbackUrl", p.SMSFallbackURL)
	c.method("SmsFallbackMethod", p.SMSFallbackMethod)
	c.sid("SmsApplicationSid", p.SMSApplicationSID, "AP")
	c.uri("StatusCallbackUrl", p.StatusCallbackURL)
	c.method("StatusCallbackMethod", p.StatusCallbackMethod)
	if raw, ok := form["SmsCapability"]; ok {
		b, err := strconv.ParseBool(first(raw))
		if err != nil {
			c.add("SmsCapability", fmt.Sprintf("%q is not true or false", first(raw)))
		}
		p.SMSCapability = &b
	}
	return p, c
}

// docCreateForm reads and checks the form of POST
// /v2/HostedNumber/AuthorizationDocuments
// (CreateAuthorizationDocumentRequest). Whether the orders exist is
// checked under the server's lock.
func docCreateForm(form url.Values) (*hostednumbers.CreateAuthorizationDocumentParams, checks) {
	p := &hostednumbers.CreateAuthorizationDocumentParams{
		HostedNumberOrderSIDs: form["HostedNumberOrderSids"], AddressSID: form.Get("AddressSid"),
		Email: form.Get("Email"), ContactPhoneNumber: form.Get("ContactPhoneNumber"),
		ContactTitle: form.Get("ContactTitle"), CCEmails: form["CcEmails"],
	}
	var c checks
	if len(p.HostedNumberOrderSIDs) == 0 {
		c.add("HostedNumberOrderSids", "is required")
	}
	if c.required("AddressSid", p.AddressSID) {
		c.sid("AddressSid", p.AddressSID, "AD")
	}
	c.required("Email", p.Email)
	if c.required("ContactPhoneNumber", p.ContactPhoneNumber) {
		c.phone("ContactPhoneNumber", p.ContactPhoneNumber)
	}
	return p, c
}

package hostednumbers

// The create request's body: its types, their validation, and their
// hand-written encoding (one allocation, sized up front) and decoding.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/wire"
)

// CreateBulkHostedNumberOrderParams is the body of a create request. Every
// string field is optional unless its doc says otherwise; an empty string
// means "not set" and is not sent. A nil *CreateBulkHostedNumberOrderParams
// sends {}, as the published example does.
type CreateBulkHostedNumberOrderParams struct {
	// FriendlyName labels the whole request; at most 128 characters.
	FriendlyName string `json:"friendly_name,omitempty"`
	// NotificationEmail receives Twilio's notices about the request.
	NotificationEmail string `json:"notification_email,omitempty"`
	// RequestItems group the numbers by owner, address and contact.
	RequestItems []RequestItem `json:"request_items,omitempty"`
	// Extra adds members this SDK does not model yet to the top-level
	// object. A member with the name of a typed field that is set is
	// dropped: typed fields always win.
	Extra map[string]any `json:"-"`
}

// HostingOptions are the per-order settings known from the single hosted
// number order resource that a request item or a single number may carry.
type HostingOptions struct {
	// FriendlyName labels the hosted number order; at most 128 characters.
	FriendlyName string `json:"friendly_name,omitempty"`
	// CCEmails are copied on the authorisation e-mails.
	CCEmails []string `json:"cc_emails,omitempty"`
	// SMSURL, SMSMethod, SMSFallbackURL and SMSFallbackMethod configure
	// incoming SMS for the number once hosted. URLs are absolute http(s);
	// methods are GET or POST.
	SMSURL            string `json:"sms_url,omitempty"`
	SMSMethod         string `json:"sms_method,omitempty"`
	SMSFallbackURL    string `json:"sms_fallback_url,omitempty"`
	SMSFallbackMethod string `json:"sms_fallback_method,omitempty"`
	// StatusCallbackURL and StatusCallbackMethod receive status changes of
	// the hosted number order.
	StatusCallbackURL    string `json:"status_callback_url,omitempty"`
	StatusCallbackMethod string `json:"status_callback_method,omitempty"`
	// SMSApplicationSID (AP…) handles incoming SMS instead of SMSURL.
	SMSApplicationSID string `json:"sms_application_sid,omitempty"`
	// AccountSID (AC…) hosts the number on a subaccount.
	AccountSID string `json:"account_sid,omitempty"`
}

// RequestItem groups the numbers that share one owner, address and
// authorised contact.
type RequestItem struct {
	// Email is the owner's e-mail address, where the authorisation
	// document is sent.
	Email string `json:"email,omitempty"`
	// AddressSID (AD…) is the address the numbers are registered at.
	AddressSID string `json:"address_sid,omitempty"`
	// ContactPhoneNumber is the authorised contact's number, in E.164 form.
	ContactPhoneNumber string `json:"contact_phone_number,omitempty"`
	// ContactTitle is the authorised contact's job title.
	ContactTitle string `json:"contact_title,omitempty"`
	// HostingOptions apply to every number of the item.
	HostingOptions
	// Numbers are the phone numbers to host; at least one is required.
	Numbers []Number `json:"numbers,omitempty"`
	// Extra adds members this SDK does not model yet to the item.
	Extra map[string]any `json:"-"`
}

// Number is one phone number to host, with settings of its own.
type Number struct {
	// PhoneNumber is required, in E.164 form (+14155550101).
	PhoneNumber string `json:"phone_number,omitempty"`
	// HostingOptions apply to this number only.
	HostingOptions
	// Extra adds members this SDK does not model yet to the number.
	Extra map[string]any `json:"-"`
}

// FetchBulkHostedNumberOrderParams are the optional parameters of Fetch.
type FetchBulkHostedNumberOrderParams struct {
	// OrderStatus, when set, keeps only the result groups with that hosted
	// number order status. A documented status is sent in the hyphenated
	// spelling of the API's hosted number order status enum, whichever
	// spelling it is given in (pending_loa and PENDING_LOA are sent as
	// pending-loa): the OpenAPI describes the parameter as filtering "on
	// Hosted Number Order status values" and points to that enum, the one
	// spelling it defines. Any other text is sent as given, since the
	// parameter is a free string.
	OrderStatus OrderStatus
}

// Validate checks everything the SDK can check without the network and
// returns a *ValidationError that lists every problem with its path, or nil.
// Create calls it before sending anything.
func (p *CreateBulkHostedNumberOrderParams) Validate() error {
	if p == nil {
		return nil
	}
	v := validator{}
	v.friendlyName(topLevel("friendly_name"), p.FriendlyName)
	v.email(topLevel("notification_email"), p.NotificationEmail)
	v.extra(topLevel(""), p.Extra)
	// seen holds only the numbers listed more than once (nil when there
	// are none, the usual case), each with where it was first listed.
	seen := duplicateNumbers(p.RequestItems)
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		at := func(field string) path { return path{item: i, number: -1, field: field} }
		v.email(at("email"), it.Email)
		v.sid(at("address_sid"), it.AddressSID, "AD")
		if it.ContactPhoneNumber != "" {
			v.phone(at("contact_phone_number"), it.ContactPhoneNumber)
		}
		v.options(path{item: i, number: -1}, &it.HostingOptions)
		v.extra(at(""), it.Extra)
		if len(it.Numbers) == 0 {
			v.add(at("numbers"), "must list at least one phone number")
		}
		for j := range it.Numbers {
			n := &it.Numbers[j]
			np := path{item: i, number: j, field: "phone_number"}
			switch {
			case n.PhoneNumber == "":
				v.add(np, "is required")
			case !format.E164(n.PhoneNumber):
				v.add(np, fmt.Sprintf("%s is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", quoteShort(n.PhoneNumber)))
			case seen != nil:
				key := e164Key(n.PhoneNumber)
				if first, dup := seen[key]; dup && first.item >= 0 {
					at := path{item: int(first.item), number: int(first.number)}
					v.add(np, fmt.Sprintf("%s is listed twice; first at %s", n.PhoneNumber, at))
				} else if dup {
					seen[key] = numberAt{int32(i), int32(j)}
				}
			}
			v.options(path{item: i, number: j}, &n.HostingOptions)
			v.extra(np.withField(""), n.Extra)
		}
	}
	return v.err()
}

// numberAt is where a phone number was first listed.
type numberAt struct{ item, number int32 }

// e164Key returns the digits of a valid E.164 number as an integer.
func e164Key(s string) uint64 {
	var k uint64
	for i := 1; i < len(s); i++ {
		k = k*10 + uint64(s[i]-'0')
	}
	return k
}

func countNumbers(items []RequestItem) int {
	n := 0
	for i := range items {
		n += len(items[i].Numbers)
	}
	return n
}

// duplicateNumbers returns the valid E.164 numbers listed more than once,
// keyed by e164Key and each marked not yet seen ({-1, -1}), or nil when
// every number is listed once. It sorts the keys in a scratch slice instead
// of building a map of every number: a map entry is made only for a
// duplicate.
func duplicateNumbers(items []RequestItem) map[uint64]numberAt {
	n := countNumbers(items)
	if n < 2 {
		return nil
	}
	keys := make([]uint64, 0, n)
	for i := range items {
		for j := range items[i].Numbers {
			if s := items[i].Numbers[j].PhoneNumber; format.E164(s) {
				keys = append(keys, e164Key(s))
			}
		}
	}
	slices.Sort(keys)
	var dups map[uint64]numberAt
	for k := 1; k < len(keys); k++ {
		if keys[k] == keys[k-1] {
			if dups == nil {
				dups = make(map[uint64]numberAt)
			}
			dups[keys[k]] = numberAt{-1, -1}
		}
	}
	return dups
}

func (v *validator) options(p path, o *HostingOptions) {
	v.friendlyName(p.withField("friendly_name"), o.FriendlyName)
	for k, e := range o.CCEmails {
		if !format.Email(e) {
			v.add(p.withField("cc_emails["+strconv.Itoa(k)+"]"), fmt.Sprintf("%s is not an e-mail address", quoteShort(e)))
		}
	}
	v.url(p.withField("sms_url"), o.SMSURL)
	v.method(p.withField("sms_method"), o.SMSMethod)
	v.url(p.withField("sms_fallback_url"), o.SMSFallbackURL)
	v.method(p.withField("sms_fallback_method"), o.SMSFallbackMethod)
	v.url(p.withField("status_callback_url"), o.StatusCallbackURL)
	v.method(p.withField("status_callback_method"), o.StatusCallbackMethod)
	v.sid(p.withField("sms_application_sid"), o.SMSApplicationSID, "AP")
	v.sid(p.withField("account_sid"), o.AccountSID, "AC")
}

func (v *validator) extra(p path, extra map[string]any) {
	if len(extra) == 0 {
		return // ranging over a nil map still sets up an iterator
	}
	for k := range extra {
		if k == "" {
			v.add(p.withField("extra"), "has an empty member name")
		}
	}
}

// isHostingMember reports whether name is a member HostingOptions models.
func isHostingMember(name string) bool {
	switch name {
	case "friendly_name", "cc_emails", "sms_url", "sms_method", "sms_fallback_url",
		"sms_fallback_method", "status_callback_url", "status_callback_method",
		"sms_application_sid", "account_sid":
		return true
	}
	return false
}

func isTopMember(name string) bool {
	return name == "friendly_name" || name == "notification_email" || name == "request_items"
}

func isItemMember(name string) bool {
	switch name {
	case "email", "address_sid", "contact_phone_number", "contact_title", "numbers":
		return true
	}
	return isHostingMember(name)
}

func isNumberMember(name string) bool { return name == "phone_number" || isHostingMember(name) }

// MarshalJSON encodes the body as the API expects it: only the fields that
// are set, with Extra members merged in where no typed field of the same
// name is set. It writes straight into one buffer sized up front.
func (p CreateBulkHostedNumberOrderParams) MarshalJSON() ([]byte, error) {
	return p.appendJSON(make([]byte, 0, p.sizeHint()))
}

// sizeHint estimates the encoded size so that encoding allocates once.
func (p *CreateBulkHostedNumberOrderParams) sizeHint() int {
	n := 64 + len(p.FriendlyName) + len(p.NotificationEmail)
	for i := range p.RequestItems {
		it := &p.RequestItems[i]
		n += 160 + len(it.Email) + len(it.AddressSID) + len(it.ContactPhoneNumber) + len(it.ContactTitle) + it.sizeHint()
		for j := range it.Numbers {
			n += 20 + len(it.Numbers[j].PhoneNumber) + it.Numbers[j].sizeHint()
		}
	}
	return n
}

func (o *HostingOptions) sizeHint() int {
	n := 0
	add := func(s string) {
		if s != "" {
			n += len(s) + 28
		}
	}
	add(o.FriendlyName)
	add(o.SMSURL)
	add(o.SMSMethod)
	add(o.SMSFallbackURL)
	add(o.SMSFallbackMethod)
	add(o.StatusCallbackURL)
	add(o.StatusCallbackMethod)
	add(o.SMSApplicationSID)
	add(o.AccountSID)
	for _, e := range o.CCEmails {
		n += len(e) + 16
	}
	return n
}

func (p *CreateBulkHostedNumberOrderParams) appendJSON(dst []byte) ([]byte, error) {
	var set memberSet
	dst = append(dst, '{')
	dst = set.appendString(dst, "friendly_name", p.FriendlyName)
	dst = set.appendString(dst, "notification_email", p.NotificationEmail)
	if len(p.RequestItems) > 0 {
		dst = set.appendKey(dst, "request_items")
		dst = append(dst, '[')
		for i := range p.RequestItems {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = p.RequestItems[i].appendJSON(dst, i); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	dst, err := set.appendExtra(dst, p.Extra, topLevel(""))
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// MarshalJSON encodes the item as it appears inside request_items.
func (it RequestItem) MarshalJSON() ([]byte, error) { return it.appendJSON(nil, 0) }

func (it *RequestItem) appendJSON(dst []byte, i int) ([]byte, error) {
	var set memberSet
	dst = append(dst, '{')
	dst = set.appendString(dst, "email", it.Email)
	dst = set.appendString(dst, "address_sid", it.AddressSID)
	dst = set.appendString(dst, "contact_phone_number", it.ContactPhoneNumber)
	dst = set.appendString(dst, "contact_title", it.ContactTitle)
	dst = it.HostingOptions.appendJSON(dst, &set)
	if len(it.Numbers) > 0 {
		dst = set.appendKey(dst, "numbers")
		dst = append(dst, '[')
		for j := range it.Numbers {
			if j > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = it.Numbers[j].appendJSON(dst, i, j); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	dst, err := set.appendExtra(dst, it.Extra, path{item: i, number: -1})
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// MarshalJSON encodes the number as it appears inside numbers.
func (n Number) MarshalJSON() ([]byte, error) { return n.appendJSON(nil, 0, 0) }

func (n *Number) appendJSON(dst []byte, i, j int) ([]byte, error) {
	var set memberSet
	dst = append(dst, '{')
	dst = set.appendString(dst, "phone_number", n.PhoneNumber)
	dst = n.HostingOptions.appendJSON(dst, &set)
	dst, err := set.appendExtra(dst, n.Extra, path{item: i, number: j})
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

func (o *HostingOptions) appendJSON(dst []byte, set *memberSet) []byte {
	dst = set.appendString(dst, "friendly_name", o.FriendlyName)
	if len(o.CCEmails) > 0 {
		dst = set.appendKey(dst, "cc_emails")
		dst = append(dst, '[')
		for k, e := range o.CCEmails {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = wire.AppendString(dst, e)
		}
		dst = append(dst, ']')
	}
	dst = set.appendString(dst, "sms_url", o.SMSURL)
	dst = set.appendString(dst, "sms_method", o.SMSMethod)
	dst = set.appendString(dst, "sms_fallback_url", o.SMSFallbackURL)
	dst = set.appendString(dst, "sms_fallback_method", o.SMSFallbackMethod)
	dst = set.appendString(dst, "status_callback_url", o.StatusCallbackURL)
	dst = set.appendString(dst, "status_callback_method", o.StatusCallbackMethod)
	dst = set.appendString(dst, "sms_application_sid", o.SMSApplicationSID)
	return set.appendString(dst, "account_sid", o.AccountSID)
}

// memberSet remembers which members of one object were written from typed
// fields, so Extra cannot write them a second time.
type memberSet struct {
	names [16]string
	n     int
}

func (s *memberSet) appendKey(dst []byte, name string) []byte {
	if s.n < len(s.names) {
		s.names[s.n] = name
		s.n++
	}
	return wire.AppendKey(dst, name)
}

func (s *memberSet) appendString(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	return wire.AppendString(s.appendKey(dst, name), value)
}

func (s *memberSet) has(name string) bool {
	for _, n := range s.names[:s.n] {
		if n == name {
			return true
		}
	}
	return false
}

// appendExtra merges extra into the object being written, in sorted member
// order so the body is the same on every call.
func (s *memberSet) appendExtra(dst []byte, extra map[string]any, at path) ([]byte, error) {
	if len(extra) == 0 {
		return dst, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !s.has(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		raw, err := json.Marshal(extra[k])
		if err != nil {
			return nil, &ValidationError{Problems: []FieldError{{
				Field:   at.withField(k).String(),
				Message: "extra member cannot be encoded as JSON: " + err.Error(),
			}}}
		}
		dst = wire.AppendKey(dst, k)
		dst = append(dst, raw...)
	}
	return dst, nil
}

// UnmarshalJSON decodes a create body, keeping members the SDK does not
// model in Extra. The fake server in hostednumberstest reads requests with it.
func (p *CreateBulkHostedNumberOrderParams) UnmarshalJSON(data []byte) error {
	type plain CreateBulkHostedNumberOrderParams
	*p = CreateBulkHostedNumberOrderParams{} // no leftovers from a reused value
	if err := json.Unmarshal(data, (*plain)(p)); err != nil {
		return err
	}
	var err error
	p.Extra, err = unknownMembers(data, isTopMember)
	return err
}

// UnmarshalJSON decodes a request item, keeping unmodelled members in Extra.
func (it *RequestItem) UnmarshalJSON(data []byte) error {
	type plain RequestItem
	*it = RequestItem{}
	if err := json.Unmarshal(data, (*plain)(it)); err != nil {
		return err
	}
	var err error
	it.Extra, err = unknownMembers(data, isItemMember)
	return err
}

// UnmarshalJSON decodes a number, keeping unmodelled members in Extra.
func (n *Number) UnmarshalJSON(data []byte) error {
	type plain Number
	*n = Number{}
	if err := json.Unmarshal(data, (*plain)(n)); err != nil {
		return err
	}
	var err error
	n.Extra, err = unknownMembers(data, isNumberMember)
	return err
}

// unknownMembers returns the members of the JSON object data whose names
// known does not accept, numbers kept as json.Number so they re-encode
// unchanged.
func unknownMembers(data []byte, known func(string) bool) (map[string]any, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	var extra map[string]any
	for name, raw := range members {
		if known(name) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if extra == nil {
			extra = make(map[string]any)
		}
		extra[name] = v
	}
	return extra, nil
}

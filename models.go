package hostednumbers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/wire"
)

// RequestStatus is the processing state of a whole bulk hosting request.
// Values a newer server may add still decode: the raw text is kept and
// Known reports false.
type RequestStatus string

// The documented request statuses, in the order an order moves through them.
const (
	RequestStatusQueued     RequestStatus = "QUEUED"
	RequestStatusInProgress RequestStatus = "IN_PROGRESS"
	RequestStatusProcessed  RequestStatus = "PROCESSED"
)

// Known reports whether s is one of the documented request statuses.
func (s RequestStatus) Known() bool {
	switch s {
	case RequestStatusQueued, RequestStatusInProgress, RequestStatusProcessed:
		return true
	}
	return false
}

// Finished reports whether the request has been processed: every number in
// it has its hosted number order, and Results is final.
func (s RequestStatus) Finished() bool { return s == RequestStatusProcessed }

// OrderStatus is the status of one hosted number order (one phone number).
// Twilio spells some statuses two ways (pending_loa in bulk results,
// pending-loa on the single-order resource); decoding folds every such
// spelling into the hyphenated constant below, so comparisons and map keys
// just work. A status this SDK does not know keeps its raw text and Known
// reports false.
type OrderStatus string

// The ten documented hosted number order statuses.
const (
	OrderStatusTwilioProcessing    OrderStatus = "twilio-processing"
	OrderStatusReceived            OrderStatus = "received"
	OrderStatusPendingVerification OrderStatus = "pending-verification"
	OrderStatusVerified            OrderStatus = "verified"
	OrderStatusPendingLOA          OrderStatus = "pending-loa"
	OrderStatusCarrierProcessing   OrderStatus = "carrier-processing"
	OrderStatusTesting             OrderStatus = "testing"
	OrderStatusCompleted           OrderStatus = "completed"
	OrderStatusFailed              OrderStatus = "failed"
	OrderStatusActionRequired      OrderStatus = "action-required"
)

// ParseOrderStatus returns the OrderStatus for raw, folding case and the
// underscore spelling (pending_loa) into the documented constant
// (OrderStatusPendingLOA). Text that names no documented status is returned
// unchanged.
func ParseOrderStatus(raw string) OrderStatus {
	if s := OrderStatus(raw); s.Known() {
		return s
	}
	folded := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(raw)), "_", "-")
	if s := OrderStatus(folded); s.Known() {
		return s
	}
	return OrderStatus(raw)
}

// Known reports whether s is one of the ten documented statuses.
func (s OrderStatus) Known() bool {
	switch s {
	case OrderStatusTwilioProcessing, OrderStatusReceived, OrderStatusPendingVerification,
		OrderStatusVerified, OrderStatusPendingLOA, OrderStatusCarrierProcessing,
		OrderStatusTesting, OrderStatusCompleted, OrderStatusFailed, OrderStatusActionRequired:
		return true
	}
	return false
}

// UnmarshalJSON decodes a status in any of Twilio's spellings.
func (s *OrderStatus) UnmarshalJSON(data []byte) error {
	var ns NullString
	if err := ns.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("order status: %w", err)
	}
	*s = ParseOrderStatus(ns.String)
	return nil
}

// NullString is a string the API may send as JSON null. Valid is false for
// null (or an absent member), so an empty string and no value stay apart.
type NullString struct {
	String string
	Valid  bool
}

// UnmarshalJSON accepts a JSON string or null.
func (n *NullString) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*n = NullString{}
		return nil
	}
	if len(data) < 2 || data[0] != '"' {
		return fmt.Errorf("want a string or null, got %s", excerpt(data))
	}
	// The decoder has already checked the syntax, so a string without
	// escapes can be taken as it stands, saving a second scan.
	if inner := data[1 : len(data)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		*n = NullString{String: string(inner), Valid: true}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*n = NullString{String: s, Valid: true}
	return nil
}

// MarshalJSON writes the string, or null when Valid is false.
func (n NullString) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.String)
}

// NullTime is a timestamp the API may send as JSON null (date_completed
// before an order is processed). Valid is false for null.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// ParseTime parses a date-time the way the API sends it: RFC 3339, or
// RFC 2822/1123 with a zone name or numeric offset.
func ParseTime(s string) (time.Time, error) {
	// The API documents "GMT RFC 2822" dates and sends RFC 3339 ones.
	layouts := [...]string{
		time.RFC3339Nano,
		time.RFC1123,
		time.RFC1123Z,
		"Mon, 2 Jan 2006 15:04:05 MST",
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 -0700",
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 nor an RFC 2822 date-time", s)
}

// UnmarshalJSON accepts null or a string in RFC 3339 or RFC 2822/1123 form.
func (n *NullTime) UnmarshalJSON(data []byte) error {
	var s NullString
	if err := s.UnmarshalJSON(data); err != nil {
		return err
	}
	if !s.Valid {
		*n = NullTime{}
		return nil
	}
	t, err := ParseTime(s.String)
	if err != nil {
		return err
	}
	*n = NullTime{Time: t, Valid: true}
	return nil
}

// MarshalJSON writes the time in RFC 3339 form, or null when Valid is false.
func (n NullTime) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.Time.UTC().Format(time.RFC3339))
}

// BulkHostedNumberOrder is a bulk hosting request as the API returns it from
// Create (202, usually without results) and Fetch (200, with results).
type BulkHostedNumberOrder struct {
	// BulkHostingSID identifies the request: BH and 32 hex digits.
	BulkHostingSID string `json:"bulk_hosting_sid"`
	// RequestStatus is QUEUED, IN_PROGRESS or PROCESSED.
	RequestStatus RequestStatus `json:"request_status"`
	// FriendlyName is the label the request was created with.
	FriendlyName NullString `json:"friendly_name"`
	// NotificationEmail receives Twilio's notices about the request.
	NotificationEmail NullString `json:"notification_email"`
	// DateCreated is when the request was accepted.
	DateCreated NullTime `json:"date_created"`
	// DateCompleted is when processing finished; not Valid until then.
	DateCompleted NullTime `json:"date_completed"`
	// URL is the request's own API address.
	URL NullString `json:"url"`
	// TotalCount is the number of phone numbers in the request.
	TotalCount int `json:"total_count"`
	// Results groups the hosted number orders by status.
	Results []ResultGroup `json:"results"`
}

// ResultGroup is one group of Results: the hosted number orders that share
// a status.
type ResultGroup struct {
	// OrderStatus is the status every order in the group has.
	OrderStatus OrderStatus `json:"order_status"`
	// RawOrderStatus is OrderStatus exactly as the server spelled it.
	RawOrderStatus string `json:"-"`
	// Count is the number of orders in the group as the server counts
	// them; it arrives as a JSON string or number.
	Count int `json:"count"`
	// GetMoreInfo is the server's pointer to more information, if any.
	GetMoreInfo NullString `json:"get_more_info"`
	// Orders are the hosted number orders in the group.
	Orders []HostedNumberOrder `json:"orders"`
}

type resultGroupWire struct {
	OrderStatus NullString          `json:"order_status"`
	Count       json.RawMessage     `json:"count"`
	GetMoreInfo NullString          `json:"get_more_info"`
	Orders      []HostedNumberOrder `json:"orders"`
}

// UnmarshalJSON decodes a group, accepting count as a string or a number
// and stamping the group's status on each of its orders.
func (g *ResultGroup) UnmarshalJSON(data []byte) error {
	var w resultGroupWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	return w.decodeInto(g)
}

func (w *resultGroupWire) decodeInto(g *ResultGroup) error {
	count, err := parseCount(w.Count)
	if err != nil {
		return err
	}
	status := ParseOrderStatus(w.OrderStatus.String)
	for i := range w.Orders {
		w.Orders[i].Status = status
	}
	*g = ResultGroup{
		OrderStatus:    status,
		RawOrderStatus: w.OrderStatus.String,
		Count:          count,
		GetMoreInfo:    w.GetMoreInfo,
		Orders:         w.Orders,
	}
	return nil
}

// bulkOrderWire is what the client decodes a response into: the order with
// its groups as resultGroupWire, which has no UnmarshalJSON. encoding/json
// hands an object-valued Unmarshaler its bytes only after scanning them to
// find their end, and the nested json.Unmarshal scans them twice more, so
// decoding through ResultGroup.UnmarshalJSON reads every order three times;
// this reads it once. The outer Results shadows the embedded one.
type bulkOrderWire struct {
	BulkHostedNumberOrder
	Results []resultGroupWire `json:"results"`
}

// check converts the groups and checks the order; the client runs it on
// every decoded response.
func (w *bulkOrderWire) check() error {
	if w.Results != nil {
		w.BulkHostedNumberOrder.Results = make([]ResultGroup, len(w.Results))
		for i := range w.Results {
			if err := w.Results[i].decodeInto(&w.BulkHostedNumberOrder.Results[i]); err != nil {
				return err
			}
		}
	}
	return w.BulkHostedNumberOrder.check()
}

// parseCount reads count as the published example sends it ("2"), as a
// plain number (2), or absent/null (0). Anything else is an error.
func parseCount(raw json.RawMessage) (int, error) {
	s := string(raw)
	if s == "" || s == "null" {
		return 0, nil
	}
	if s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("count: want a non-negative whole number or a string holding one, got %s", excerpt(raw))
	}
	return n, nil
}

// HostedNumberOrder is the result for one phone number of the request.
type HostedNumberOrder struct {
	// Status is the status of the group the order came in.
	Status OrderStatus `json:"-"`
	// HostingOrderSID identifies the hosted number order: HR and 32 hex digits.
	HostingOrderSID string `json:"hosting_order_sid"`
	// PhoneNumber is the number being hosted, in E.164 form.
	PhoneNumber string `json:"phone_number"`
	// AccountSID is the account the number is hosted on.
	AccountSID string `json:"account_sid"`
	// FailureReason says why the order failed, when it did.
	FailureReason NullString `json:"failure_reason"`
	// NextStep says what to do about a failed or stuck order.
	NextStep NullString `json:"next_step"`
	// URL is the hosted number order's API address.
	URL string `json:"url"`
	// Email is the owner's e-mail address.
	Email string `json:"email"`
	// SigningDocumentSID identifies the authorisation document (PX…), once
	// there is one.
	SigningDocumentSID NullString `json:"signing_document_sid"`
}

// Orders returns every hosted number order of every group, in the order the
// server listed them, each carrying its group's status.
func (o *BulkHostedNumberOrder) Orders() []HostedNumberOrder {
	n := 0
	for i := range o.Results {
		n += len(o.Results[i].Orders)
	}
	out := make([]HostedNumberOrder, 0, n)
	for i := range o.Results {
		g := &o.Results[i]
		for _, ord := range g.Orders {
			ord.Status = g.OrderStatus
			out = append(out, ord)
		}
	}
	return out
}

// OrdersByStatus returns the hosted number orders keyed by status. Groups
// whose statuses differ only in spelling are merged.
func (o *BulkHostedNumberOrder) OrdersByStatus() map[OrderStatus][]HostedNumberOrder {
	out := make(map[OrderStatus][]HostedNumberOrder, len(o.Results))
	for _, ord := range o.Orders() {
		out[ord.Status] = append(out[ord.Status], ord)
	}
	return out
}

// Failed returns the orders whose status is failed or action-required: the
// ones a person has to look at, each with its FailureReason and NextStep.
func (o *BulkHostedNumberOrder) Failed() []HostedNumberOrder {
	var out []HostedNumberOrder
	for _, ord := range o.Orders() {
		if ord.Status == OrderStatusFailed || ord.Status == OrderStatusActionRequired {
			out = append(out, ord)
		}
	}
	return out
}

// CountsByStatus returns how many orders have each status, by the server's
// group counts (or the number of orders listed, where a group has no count).
func (o *BulkHostedNumberOrder) CountsByStatus() map[OrderStatus]int {
	out := make(map[OrderStatus]int, len(o.Results))
	for i := range o.Results {
		g := &o.Results[i]
		n := g.Count
		if n == 0 {
			n = len(g.Orders)
		}
		out[g.OrderStatus] += n
	}
	return out
}

// excerpt returns a short, printable prefix of raw for error messages.
func excerpt(raw []byte) string {
	const max = 64
	if len(raw) > max {
		return strconv.Quote(string(raw[:max])) + "…"
	}
	return strconv.Quote(string(raw))
}

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
	// number order status. It is sent exactly as given.
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
	// Keyed by the number's digits as an integer (E.164 has at most 15 and
	// no leading zero, so this is exact): 16-byte map slots instead of 48
	// with a string key and a path value, and a cheaper hash.
	seen := make(map[uint64]numberAt, countNumbers(p.RequestItems))
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
			default:
				key := e164Key(n.PhoneNumber)
				if first, dup := seen[key]; dup {
					at := path{item: int(first.item), number: int(first.number)}
					v.add(np, fmt.Sprintf("%s is listed twice; first at %s", n.PhoneNumber, at))
				} else {
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

// path names a field of the create body lazily: the string is only built
// when there is a problem to report, so validating a large valid order
// allocates almost nothing. item and number are -1 where they do not apply.
type path struct {
	item, number int
	field        string
}

func topLevel(field string) path { return path{item: -1, number: -1, field: field} }

func (p path) withField(f string) path { p.field = f; return p }

func (p path) String() string {
	var b strings.Builder
	if p.item >= 0 {
		b.WriteString("request_items[")
		b.WriteString(strconv.Itoa(p.item))
		b.WriteByte(']')
		if p.number >= 0 {
			b.WriteString(".numbers[")
			b.WriteString(strconv.Itoa(p.number))
			b.WriteByte(']')
		}
	}
	if p.field != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.field)
	}
	return b.String()
}

type validator struct {
	problems []FieldError
}

func (v *validator) add(p path, msg string) {
	v.problems = append(v.problems, FieldError{Field: p.String(), Message: msg})
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *validator) friendlyName(p path, s string) {
	if n := utf8.RuneCountInString(s); n > 128 {
		v.add(p, fmt.Sprintf("is %d characters long; at most 128 are allowed", n))
	} else if !utf8.ValidString(s) {
		v.add(p, "is not valid UTF-8")
	}
}

func (v *validator) email(p path, s string) {
	if s != "" && !format.Email(s) {
		v.add(p, fmt.Sprintf("%s is not an e-mail address", quoteShort(s)))
	}
}

func (v *validator) phone(p path, s string) {
	if !format.E164(s) {
		v.add(p, fmt.Sprintf("%s is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", quoteShort(s)))
	}
}

func (v *validator) sid(p path, s, prefix string) {
	if s != "" && !format.SID(s, prefix) {
		v.add(p, fmt.Sprintf("%s is not a SID (%s and 32 hex digits)", quoteShort(s), prefix))
	}
}

func (v *validator) url(p path, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.add(p, fmt.Sprintf("%s is not an absolute http or https URL", quoteShort(s)))
	}
}

func (v *validator) method(p path, s string) {
	if s != "" && s != http.MethodGet && s != http.MethodPost {
		v.add(p, fmt.Sprintf("%s is not GET or POST", quoteShort(s)))
	}
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

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
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
		n += 160 + len(it.Email) + len(it.AddressSID) + len(it.ContactPhoneNumber) + len(it.ContactTitle) + it.HostingOptions.sizeHint()
		for j := range it.Numbers {
			n += 20 + len(it.Numbers[j].PhoneNumber) + it.Numbers[j].HostingOptions.sizeHint()
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

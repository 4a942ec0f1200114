package hostednumbers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/internal/poll"
	"github.com/hostednumbers/hostednumbers-go/internal/wire"
)

const (
	eligibilityPath     = "/v1/HostedNumber/Eligibility"
	bulkEligibilityPath = eligibilityPath + "/Bulk"
)

// MaxEligibilityNumbers is the most phone numbers one eligibility check
// (single or bulk) may list; Validate refuses more before anything is sent.
// Twilio's Eligibility API (public beta) documents no limit. The SDK uses
// the 1000 that its bulk hosting requests assume (the one figure published,
// by a third-party tool, for the neighbouring Bulk Hosted Number Orders
// API), so that one call never carries an unbounded body: split a longer
// list into several bulk checks.
const MaxEligibilityNumbers = 1000

// EligibilityAPI is what EligibilityService does, as an interface: depend on
// it, and swap in a mock or a client of hostednumberstest's fake server in
// tests.
type EligibilityAPI interface {
	// Check says at once whether each listed number can be hosted.
	Check(ctx context.Context, params *EligibilityParams, opts ...CallOption) (*Eligibility, error)
	// CreateBulk starts an asynchronous check of many numbers.
	CreateBulk(ctx context.Context, params *EligibilityParams, opts ...CallOption) (*BulkEligibility, error)
	// FetchBulk returns the current state of a bulk check.
	FetchBulk(ctx context.Context, requestID string, opts ...CallOption) (*BulkEligibility, error)
	// WaitBulk polls a bulk check until it is finished; opts apply to
	// each fetch.
	WaitBulk(ctx context.Context, requestID string, wait *EligibilityWaitOptions, opts ...CallOption) (*BulkEligibility, error)
}

var _ EligibilityAPI = (*EligibilityService)(nil)

// EligibilityService is Twilio's Hosted Number Eligibility API (v1, public
// beta), /v1/HostedNumber/Eligibility: whether each number can be hosted,
// and if not, why and what to do next. Reach it as Client.Eligibility.
//
// A check creates nothing lasting: no order, no number, no document. So an
// error matching ErrOutcomeUnknown (the answer was lost) costs nothing but
// the answer: check again. For CreateBulk it may leave an orphan bulk check
// (EC…) that nobody fetches, which is harmless. Checks are retried, where
// the client's retry policy allows, like any other create: never once the
// server may have processed the attempt.
type EligibilityService struct {
	client *Client
}

// EligibilityParams is the body of both checks, as Twilio's documentation
// shows it:
//
//	{"friendly_name": "...", "phone_numbers": [{"phone_number": "+1...", "hosting_account_sid": "AC..."}]}
//
// The API's OpenAPI description leaves the body empty, so any other member
// is unconfirmed: send one through Extra.
type EligibilityParams struct {
	// FriendlyName labels the check; optional.
	FriendlyName string `json:"friendly_name,omitempty"`
	// PhoneNumbers are the numbers to check: at least one, at most
	// MaxEligibilityNumbers, each listed once.
	PhoneNumbers []EligibilityNumber `json:"phone_numbers"`
	// Extra adds members this SDK does not model to the top-level object. A
	// member with the name of a typed field that is set is dropped: typed
	// fields always win.
	Extra map[string]any `json:"-"`
}

// EligibilityNumber is one number to check.
type EligibilityNumber struct {
	// PhoneNumber is required, in E.164 form (+14155550101).
	PhoneNumber string `json:"phone_number"`
	// HostingAccountSID (AC…) is the account the number would be hosted
	// on. Twilio's example always sends it; the SDK leaves it out when
	// empty.
	HostingAccountSID string `json:"hosting_account_sid,omitempty"`
	// Extra adds members this SDK does not model to the number's object;
	// typed fields win over a member of the same name.
	Extra map[string]any `json:"-"`
}

// Validate checks everything the SDK can check without the network and
// returns a *ValidationError that lists every problem with its field path
// (phone_numbers[2].phone_number), or nil. The checks call it before
// sending anything; a nil *EligibilityParams is a problem of its own.
func (p *EligibilityParams) Validate() error {
	if p == nil {
		return &ValidationError{Problems: []FieldError{{Field: "params", Message: "is nil; list the phone_numbers to check"}}}
	}
	var problems []FieldError
	add := func(field, msg string) { problems = append(problems, FieldError{Field: field, Message: msg}) }
	if !utf8.ValidString(p.FriendlyName) {
		add("friendly_name", "is not valid UTF-8")
	}
	extraNames(add, "", p.Extra)
	switch n := len(p.PhoneNumbers); {
	case n == 0:
		add("phone_numbers", "must list at least one phone number")
	case n > MaxEligibilityNumbers:
		add("phone_numbers", fmt.Sprintf("lists %d numbers; at most %d are allowed per check", n, MaxEligibilityNumbers))
	}
	first := make(map[string]int, len(p.PhoneNumbers))
	for i := range p.PhoneNumbers {
		n := &p.PhoneNumbers[i]
		at := "phone_numbers[" + strconv.Itoa(i) + "]"
		switch {
		case n.PhoneNumber == "":
			add(at+".phone_number", "is required")
		case !format.E164(n.PhoneNumber):
			add(at+".phone_number", fmt.Sprintf("%s is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", quoteShort(n.PhoneNumber)))
		default:
			if j, dup := first[n.PhoneNumber]; dup {
				add(at+".phone_number", fmt.Sprintf("%s is listed twice; first at phone_numbers[%d]", n.PhoneNumber, j))
			} else {
				first[n.PhoneNumber] = i
			}
		}
		if n.HostingAccountSID != "" && !format.SID(n.HostingAccountSID, "AC") {
			add(at+".hosting_account_sid", fmt.Sprintf("%s is not a SID (AC and 32 hex digits)", quoteShort(n.HostingAccountSID)))
		}
		extraNames(add, at, n.Extra)
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

func extraNames(add func(field, msg string), at string, extra map[string]any) {
	for k := range extra {
		if k == "" {
			add(joinField(at, "extra"), "has an empty member name")
		}
	}
}

func joinField(at, field string) string {
	if at == "" {
		return field
	}
	return at + "." + field
}

// MarshalJSON encodes the body as the API expects it: the typed fields that
// are set, with Extra members merged in where no typed field of the same
// name is set, members in sorted order.
func (p EligibilityParams) MarshalJSON() ([]byte, error) {
	obj, err := extraMembers("", p.Extra)
	if err != nil {
		return nil, err
	}
	if p.FriendlyName != "" {
		obj["friendly_name"] = jsonString(p.FriendlyName)
	}
	list := []byte{'['}
	for i := range p.PhoneNumbers {
		if i > 0 {
			list = append(list, ',')
		}
		raw, err := p.PhoneNumbers[i].marshal("phone_numbers[" + strconv.Itoa(i) + "]")
		if err != nil {
			return nil, err
		}
		list = append(list, raw...)
	}
	obj["phone_numbers"] = append(list, ']')
	return json.Marshal(obj)
}

// MarshalJSON encodes the number as it appears inside phone_numbers.
func (n EligibilityNumber) MarshalJSON() ([]byte, error) { return n.marshal("") }

func (n *EligibilityNumber) marshal(at string) ([]byte, error) {
	obj, err := extraMembers(at, n.Extra)
	if err != nil {
		return nil, err
	}
	obj["phone_number"] = jsonString(n.PhoneNumber)
	if n.HostingAccountSID != "" {
		obj["hosting_account_sid"] = jsonString(n.HostingAccountSID)
	}
	return json.Marshal(obj)
}

func jsonString(s string) json.RawMessage { return wire.AppendString(nil, s) }

// extraMembers encodes each Extra member on its own, so that one that
// cannot be encoded is reported with its path.
func extraMembers(at string, extra map[string]any) (map[string]json.RawMessage, error) {
	obj := make(map[string]json.RawMessage, len(extra)+2)
	for k, v := range extra {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, &ValidationError{Problems: []FieldError{{
				Field:   joinField(at, k),
				Message: "extra member cannot be encoded as JSON: " + err.Error(),
			}}}
		}
		obj[k] = raw
	}
	return obj, nil
}

// UnmarshalJSON decodes a check body, keeping members the SDK does not
// model in Extra. The fake server in hostednumberstest reads requests with
// it.
func (p *EligibilityParams) UnmarshalJSON(data []byte) error {
	type plain EligibilityParams
	*p = EligibilityParams{}
	if err := json.Unmarshal(data, (*plain)(p)); err != nil {
		return err
	}
	var err error
	p.Extra, err = unknownMembers(data, func(name string) bool { return name == "friendly_name" || name == "phone_numbers" })
	return err
}

// UnmarshalJSON decodes a number, keeping unmodelled members in Extra.
func (n *EligibilityNumber) UnmarshalJSON(data []byte) error {
	type plain EligibilityNumber
	*n = EligibilityNumber{}
	if err := json.Unmarshal(data, (*plain)(n)); err != nil {
		return err
	}
	var err error
	n.Extra, err = unknownMembers(data, func(name string) bool { return name == "phone_number" || name == "hosting_account_sid" })
	return err
}

// EligibilityStatus says whether a number can be hosted. Twilio's OpenAPI
// defines the values in lower case (eligible, ineligible) while its
// examples send upper case (ELIGIBLE); decoding folds either spelling, in
// any case and with '-' or '_', into the constants below. A value a newer
// server may add still decodes: the raw text is kept, Known reports false,
// and the number is not eligible.
type EligibilityStatus string

// The documented eligibility statuses.
const (
	EligibilityStatusEligible   EligibilityStatus = "ELIGIBLE"
	EligibilityStatusIneligible EligibilityStatus = "INELIGIBLE"
)

// ParseEligibilityStatus returns the documented EligibilityStatus that raw
// spells (eligible, ELIGIBLE, Eligible are EligibilityStatusEligible);
// text that names no documented status is returned unchanged, and is never
// EligibilityStatusEligible.
func ParseEligibilityStatus(raw string) EligibilityStatus {
	known := [...]EligibilityStatus{EligibilityStatusEligible, EligibilityStatusIneligible}
	return parseEnum(raw, known[:])
}

// Known reports whether s is one of the documented statuses.
func (s EligibilityStatus) Known() bool {
	return s == EligibilityStatusEligible || s == EligibilityStatusIneligible
}

// UnmarshalJSON decodes a status in either of Twilio's spellings; null
// leaves s as it is.
func (s *EligibilityStatus) UnmarshalJSON(data []byte) error {
	raw, ok, err := enumText(data)
	if err != nil {
		return fmt.Errorf("eligibility status: %w", err)
	}
	if ok {
		*s = ParseEligibilityStatus(raw)
	}
	return nil
}

// EligibilitySubStatus refines EligibilityStatus. Twilio's OpenAPI
// defines the values below in lower case with hyphens
// (already-in-twilio), its examples send them in upper case with
// underscores (ALREADY_IN_TWILIO); decoding folds either into the
// constants. Any other value decodes unchanged and Known reports false.
type EligibilitySubStatus string

// The sub-statuses Twilio's OpenAPI defines, in the spelling its examples
// send.
const (
	// EligibilitySubStatusCountryIneligible: Twilio cannot host numbers
	// of the number's country.
	EligibilitySubStatusCountryIneligible EligibilitySubStatus = "COUNTRY_INELIGIBLE"
	// EligibilitySubStatusNumberFormatIneligible: the number as sent is not
	// a phone number Twilio can host (not E.164, say).
	EligibilitySubStatusNumberFormatIneligible EligibilitySubStatus = "NUMBER_FORMAT_INELIGIBLE"
	// EligibilitySubStatusNumberTypeIneligible: the kind of number (a
	// mobile number, say) cannot be hosted.
	EligibilitySubStatusNumberTypeIneligible EligibilitySubStatus = "NUMBER_TYPE_INELIGIBLE"
	// EligibilitySubStatusCarrierIneligible: the number's carrier does
	// not allow it to be hosted.
	EligibilitySubStatusCarrierIneligible EligibilitySubStatus = "CARRIER_INELIGIBLE"
	// EligibilitySubStatusAlreadyInTwilio: the number is already in a
	// Twilio account, or has a hosted number order.
	EligibilitySubStatusAlreadyInTwilio EligibilitySubStatus = "ALREADY_IN_TWILIO"
	// EligibilitySubStatusInternalProcessingError: Twilio could not check
	// the number; check it again.
	EligibilitySubStatusInternalProcessingError EligibilitySubStatus = "INTERNAL_PROCESSING_ERROR"
	// EligibilitySubStatusInvalidPhoneNumber: the number is not a valid
	// phone number.
	EligibilitySubStatusInvalidPhoneNumber EligibilitySubStatus = "INVALID_PHONE_NUMBER"
	// EligibilitySubStatusInvalidHostingAccountSID: the hosting account
	// SID sent is not one Twilio accepts.
	EligibilitySubStatusInvalidHostingAccountSID EligibilitySubStatus = "INVALID_HOSTING_ACCOUNT_SID"
	// EligibilitySubStatusEligible: the number can be hosted.
	EligibilitySubStatusEligible EligibilitySubStatus = "ELIGIBLE"
	// EligibilitySubStatusEligibleByManualProcess: the number can be
	// hosted, through a manual process (bulk checks only).
	EligibilitySubStatusEligibleByManualProcess EligibilitySubStatus = "ELIGIBLE_BY_MANUAL_PROCESS"
)

// eligibilitySubStatuses are the defined sub-statuses.
func eligibilitySubStatuses() [10]EligibilitySubStatus {
	return [...]EligibilitySubStatus{
		EligibilitySubStatusCountryIneligible, EligibilitySubStatusNumberFormatIneligible,
		EligibilitySubStatusNumberTypeIneligible, EligibilitySubStatusCarrierIneligible,
		EligibilitySubStatusAlreadyInTwilio, EligibilitySubStatusInternalProcessingError,
		EligibilitySubStatusInvalidPhoneNumber, EligibilitySubStatusInvalidHostingAccountSID,
		EligibilitySubStatusEligible, EligibilitySubStatusEligibleByManualProcess,
	}
}

// ParseEligibilitySubStatus returns the defined EligibilitySubStatus that
// raw spells (already-in-twilio and ALREADY_IN_TWILIO are
// EligibilitySubStatusAlreadyInTwilio); other text is returned unchanged.
func ParseEligibilitySubStatus(raw string) EligibilitySubStatus {
	known := eligibilitySubStatuses()
	return parseEnum(raw, known[:])
}

// Known reports whether s is one of the sub-statuses Twilio defines.
func (s EligibilitySubStatus) Known() bool {
	for _, k := range eligibilitySubStatuses() {
		if s == k {
			return true
		}
	}
	return false
}

// UnmarshalJSON decodes a sub-status in either of Twilio's spellings;
// null leaves s as it is.
func (s *EligibilitySubStatus) UnmarshalJSON(data []byte) error {
	raw, ok, err := enumText(data)
	if err != nil {
		return fmt.Errorf("eligibility sub-status: %w", err)
	}
	if ok {
		*s = ParseEligibilitySubStatus(raw)
	}
	return nil
}

// BulkEligibilityStatus is the processing state of a bulk check. Decoding
// folds case and '-' or '_' (in-progress is
// BulkEligibilityStatusInProgress). Values a newer server may add still
// decode: the raw text is kept and Known reports false.
type BulkEligibilityStatus string

// The bulk check statuses Twilio shows: QUEUED and IN_PROGRESS while it
// works, SUCCESSFUL (its examples) or COMPLETE (its schema's text) once
// done.
const (
	BulkEligibilityStatusQueued     BulkEligibilityStatus = "QUEUED"
	BulkEligibilityStatusInProgress BulkEligibilityStatus = "IN_PROGRESS"
	BulkEligibilityStatusSuccessful BulkEligibilityStatus = "SUCCESSFUL"
	BulkEligibilityStatusComplete   BulkEligibilityStatus = "COMPLETE"
)

// ParseBulkEligibilityStatus returns the BulkEligibilityStatus that raw
// spells, in any case and with '-' or '_'; other text is returned
// unchanged.
func ParseBulkEligibilityStatus(raw string) BulkEligibilityStatus {
	known := [...]BulkEligibilityStatus{BulkEligibilityStatusQueued, BulkEligibilityStatusInProgress,
		BulkEligibilityStatusSuccessful, BulkEligibilityStatusComplete}
	return parseEnum(raw, known[:])
}

// Known reports whether s is one of the statuses Twilio shows.
func (s BulkEligibilityStatus) Known() bool {
	switch s {
	case BulkEligibilityStatusQueued, BulkEligibilityStatusInProgress,
		BulkEligibilityStatusSuccessful, BulkEligibilityStatusComplete:
		return true
	}
	return false
}

// Finished reports whether s is one of the finished statuses (SUCCESSFUL,
// COMPLETE). For a status the SDK does not know, BulkEligibility.Finished
// also looks at DateCompleted.
func (s BulkEligibilityStatus) Finished() bool {
	return s == BulkEligibilityStatusSuccessful || s == BulkEligibilityStatusComplete
}

// UnmarshalJSON decodes a status in any spelling; null leaves s as it is.
func (s *BulkEligibilityStatus) UnmarshalJSON(data []byte) error {
	raw, ok, err := enumText(data)
	if err != nil {
		return fmt.Errorf("bulk eligibility status: %w", err)
	}
	if ok {
		*s = ParseBulkEligibilityStatus(raw)
	}
	return nil
}

// EligibilityResult is the answer for one phone number.
type EligibilityResult struct {
	// PhoneNumber is the number as the API echoes it (as sent, even when
	// it is not a valid number).
	PhoneNumber string
	// HostingAccountSID is the account (AC…) the number would be hosted on:
	// hosting_account_sid as Twilio documents it, or account_sid as its
	// examples send it.
	HostingAccountSID NullString
	// Country is the number's country: country as documented, or
	// iso_country_code as the examples send it.
	Country NullString
	// Status says whether the number can be hosted, in the constants'
	// spelling whichever one Twilio sent; a status the SDK does not know
	// keeps its raw text and is not eligible.
	Status EligibilityStatus
	// SubStatus refines Status (ALREADY_IN_TWILIO, …), folded like Status.
	SubStatus EligibilitySubStatus
	// IneligibilityReason says why the number cannot be hosted.
	IneligibilityReason NullString
	// NextStep is what to do next (CONTACT_SUPPORT_…, EDIT_INELIGIBLE_NUMBER, …).
	NextStep NullString
	// DateLastChecked is when the number was last checked (single checks).
	DateLastChecked NullTime
	// PhoneNumberType is the kind of number (TOLL_FREE, …).
	PhoneNumberType NullString
	// VoiceProvider and MessagingProvider name the number's current
	// providers, when Twilio knows them.
	VoiceProvider     NullString
	MessagingProvider NullString
	// HostingOrderSID and HostingOrderStatus describe a hosted number
	// order (HR…) that already exists for the number.
	HostingOrderSID    NullString
	HostingOrderStatus NullString
	// InventoryStatus and InventoryAccountSID describe the number where it
	// is already in Twilio's inventory.
	InventoryStatus     NullString
	InventoryAccountSID NullString
}

// Eligible reports whether the number can be hosted: its status is
// EligibilityStatusEligible in either of Twilio's spellings. A status the
// SDK does not know is never eligible.
func (r *EligibilityResult) Eligible() bool {
	return ParseEligibilityStatus(string(r.Status)) == EligibilityStatusEligible
}

// eligibilityResultWire is a result as the API sends it, with both
// spellings of the hosting account and the country.
type eligibilityResultWire struct {
	PhoneNumber         NullString `json:"phone_number"`
	HostingAccountSID   NullString `json:"hosting_account_sid"`
	AccountSID          NullString `json:"account_sid"`
	Country             NullString `json:"country"`
	ISOCountryCode      NullString `json:"iso_country_code"`
	Status              NullString `json:"eligibility_status"`
	SubStatus           NullString `json:"eligibility_sub_status"`
	IneligibilityReason NullString `json:"ineligibility_reason"`
	NextStep            NullString `json:"next_step"`
	DateLastChecked     NullTime   `json:"date_last_checked"`
	PhoneNumberType     NullString `json:"phone_number_type"`
	VoiceProvider       NullString `json:"voice_provider"`
	MessagingProvider   NullString `json:"messaging_provider"`
	HostingOrderSID     NullString `json:"hosting_order_sid"`
	HostingOrderStatus  NullString `json:"hosting_order_status"`
	InventoryStatus     NullString `json:"inventory_status"`
	InventoryAccountSID NullString `json:"inventory_account_sid"`
}

// UnmarshalJSON decodes a result in either of Twilio's spellings: the
// documented member (hosting_account_sid, country) wins over the one the
// examples send (account_sid, iso_country_code) when both are present.
func (r *EligibilityResult) UnmarshalJSON(data []byte) error {
	var w eligibilityResultWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*r = EligibilityResult{
		PhoneNumber:         w.PhoneNumber.String,
		HostingAccountSID:   firstValid(w.HostingAccountSID, w.AccountSID),
		Country:             firstValid(w.Country, w.ISOCountryCode),
		Status:              ParseEligibilityStatus(w.Status.String),
		SubStatus:           ParseEligibilitySubStatus(w.SubStatus.String),
		IneligibilityReason: w.IneligibilityReason,
		NextStep:            w.NextStep,
		DateLastChecked:     w.DateLastChecked,
		PhoneNumberType:     w.PhoneNumberType,
		VoiceProvider:       w.VoiceProvider,
		MessagingProvider:   w.MessagingProvider,
		HostingOrderSID:     w.HostingOrderSID,
		HostingOrderStatus:  w.HostingOrderStatus,
		InventoryStatus:     w.InventoryStatus,
		InventoryAccountSID: w.InventoryAccountSID,
	}
	return nil
}

func firstValid(a, b NullString) NullString {
	if a.Valid {
		return a
	}
	return b
}

// EligibilityResults are the per-number answers of a check, in the order
// the server listed them.
type EligibilityResults []EligibilityResult

// Eligible returns the results whose numbers can be hosted.
func (rs EligibilityResults) Eligible() EligibilityResults {
	return rs.filter(func(r *EligibilityResult) bool { return r.Eligible() })
}

// Ineligible returns every other result: INELIGIBLE, and any status the
// SDK does not know (a number is not to be hosted on a guess).
func (rs EligibilityResults) Ineligible() EligibilityResults {
	return rs.filter(func(r *EligibilityResult) bool { return !r.Eligible() })
}

// Find returns the result for phoneNumber, compared as the server echoed
// it, and whether there is one.
func (rs EligibilityResults) Find(phoneNumber string) (EligibilityResult, bool) {
	for i := range rs {
		if rs[i].PhoneNumber == phoneNumber {
			return rs[i], true
		}
	}
	return EligibilityResult{}, false
}

func (rs EligibilityResults) filter(keep func(*EligibilityResult) bool) EligibilityResults {
	var out EligibilityResults
	for i := range rs {
		if keep(&rs[i]) {
			out = append(out, rs[i])
		}
	}
	return out
}

// Eligibility is the answer of a single check: one result per number.
type Eligibility struct {
	// Results holds one answer per number checked.
	Results EligibilityResults `json:"results"`
	// LastResponse describes the HTTP exchange that returned this value;
	// nil for a value not returned by a call.
	LastResponse *Response `json:"-"`
}

// check is run on every decoded answer: an answer without results, or with
// a result that names no number, tells the caller nothing.
func (e *Eligibility) check() error {
	if len(e.Results) == 0 {
		return errors.New("results: the answer lists no result")
	}
	return checkResults(e.Results)
}

func checkResults(rs EligibilityResults) error {
	for i := range rs {
		if rs[i].PhoneNumber == "" {
			return fmt.Errorf("results[%d]: phone_number is missing", i)
		}
	}
	return nil
}

// BulkEligibility is a bulk check as the API returns it from CreateBulk
// (202, QUEUED, no results) and FetchBulk (200, results once finished).
type BulkEligibility struct {
	// RequestID identifies the bulk check: EC and 32 hex digits.
	RequestID string `json:"request_id"`
	// Status is QUEUED, IN_PROGRESS, then SUCCESSFUL or COMPLETE.
	Status BulkEligibilityStatus `json:"status"`
	// FriendlyName is the label the check was created with.
	FriendlyName NullString `json:"friendly_name"`
	// DateCreated is when the check was accepted.
	DateCreated NullTime `json:"date_created"`
	// DateCompleted is when it finished; not Valid until then.
	DateCompleted NullTime `json:"date_completed"`
	// URL is the check's own API address.
	URL NullString `json:"url"`
	// Results holds one answer per number, once the check is finished.
	Results EligibilityResults `json:"results"`
	// LastResponse describes the HTTP exchange that returned this value;
	// nil for a value not returned by a call.
	LastResponse *Response `json:"-"`
}

// Finished reports whether the check is done: a finished status, or a
// status the SDK does not know together with a completion date (so that a
// finished state Twilio names otherwise does not keep WaitBulk polling).
// A nil *BulkEligibility is not finished.
func (b *BulkEligibility) Finished() bool {
	if b == nil {
		return false
	}
	s := ParseBulkEligibilityStatus(string(b.Status))
	return s.Finished() || (!s.Known() && b.DateCompleted.Valid)
}

// check is run on every decoded bulk check: without a valid request ID it
// cannot be followed.
func (b *BulkEligibility) check() error {
	if !format.SID(b.RequestID, "EC") {
		return fmt.Errorf("request_id %s is not EC followed by 32 hex digits", quoteShort(b.RequestID))
	}
	return checkResults(b.Results)
}

// checkBulkEligibilityID stops a malformed or hostile request ID before it
// can become part of a URL.
func checkBulkEligibilityID(id string) error {
	if format.SID(id, "EC") {
		return nil
	}
	return &ValidationError{Problems: []FieldError{{
		Field:   "request_id",
		Message: quoteShort(id) + " is not a bulk eligibility check ID (EC and 32 hex digits)",
	}}}
}

// checkFetchedRequestID refuses an answer about another bulk check than
// the one asked for.
func checkFetchedRequestID(b *BulkEligibility, id string) error {
	if b.RequestID == id {
		return nil
	}
	e := &DecodeError{HTTPStatus: http.StatusOK, Err: fmt.Errorf("the answer is about bulk eligibility check %s, not %s", quoteShort(b.RequestID), id)}
	if b.LastResponse != nil {
		e.HTTPStatus, e.RequestID = b.LastResponse.StatusCode, b.LastResponse.RequestID
	}
	return e
}

// encodeEligibility validates and encodes params for a check; its errors
// are marked ErrNotApplied, since nothing is sent.
func encodeEligibility(ctx context.Context, params *EligibilityParams) ([]byte, error) {
	if err := checkContext(ctx); err != nil {
		return nil, withOutcome(err, ErrNotApplied)
	}
	if err := params.Validate(); err != nil {
		return nil, withOutcome(err, ErrNotApplied)
	}
	body, err := params.MarshalJSON()
	if err != nil {
		return nil, withOutcome(err, ErrNotApplied)
	}
	return body, nil
}

// Check says whether each listed number can be hosted, and if not why and
// what to do next: POST /v1/HostedNumber/Eligibility, answered at once.
// Twilio documents it for one number; CreateBulk suits many. params are
// validated first (a *ValidationError, nothing sent).
//
// Every error matches one of ErrNotApplied (nothing was checked) and
// ErrOutcomeUnknown (the check may have run, its answer lost). Neither
// leaves anything behind, so the remedy for both is to check again.
func (s *EligibilityService) Check(ctx context.Context, params *EligibilityParams, opts ...CallOption) (*Eligibility, error) {
	body, err := encodeEligibility(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: check eligibility: %w", err)
	}
	var out Eligibility
	meta, err := s.client.do(ctx, request{op: "check eligibility", template: eligibilityPath,
		method: http.MethodPost, path: eligibilityPath, body: body}, &out, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: check eligibility: %w", err)
	}
	out.LastResponse = meta
	return &out, nil
}

// CreateBulk starts a bulk check: POST /v1/HostedNumber/Eligibility/Bulk,
// answered 202 with a RequestID (EC…) and status QUEUED. Follow it with
// FetchBulk or WaitBulk. params are validated first (a *ValidationError,
// nothing sent).
//
// Every error matches one of ErrNotApplied (no check exists) and
// ErrOutcomeUnknown (a check may exist whose ID was lost). An orphan check
// is harmless: nobody is charged or notified, nothing is hosted. Create
// another.
func (s *EligibilityService) CreateBulk(ctx context.Context, params *EligibilityParams, opts ...CallOption) (*BulkEligibility, error) {
	body, err := encodeEligibility(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: create bulk eligibility check: %w", err)
	}
	var out BulkEligibility
	meta, err := s.client.do(ctx, request{op: "create bulk eligibility check", template: bulkEligibilityPath,
		method: http.MethodPost, path: bulkEligibilityPath, body: body}, &out, opts)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: create bulk eligibility check: %w", err)
	}
	out.LastResponse = meta
	return &out, nil
}

// FetchBulk returns a bulk check with its results so far:
// GET /v1/HostedNumber/Eligibility/Bulk/{requestID}. The ID must be EC
// followed by 32 hex digits; anything else returns a *ValidationError
// without a request. A check that does not exist returns an error matching
// ErrNotFound.
func (s *EligibilityService) FetchBulk(ctx context.Context, requestID string, opts ...CallOption) (*BulkEligibility, error) {
	if err := checkContext(ctx); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk eligibility check: %w", err)
	}
	if err := checkBulkEligibilityID(requestID); err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk eligibility check: %w", err)
	}
	b, err := s.fetchBulk(ctx, requestID, opts...)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: fetch bulk eligibility check %s: %w", requestID, err)
	}
	return b, nil
}

func (s *EligibilityService) fetchBulk(ctx context.Context, requestID string, opts ...CallOption) (*BulkEligibility, error) {
	var out BulkEligibility
	meta, err := s.client.do(ctx, request{op: "fetch bulk eligibility check", template: bulkEligibilityPath + "/{RequestId}",
		method: http.MethodGet, path: bulkEligibilityPath + "/" + requestID}, &out, opts)
	if err != nil {
		return nil, err
	}
	out.LastResponse = meta
	if err := checkFetchedRequestID(&out, requestID); err != nil {
		return nil, err
	}
	return &out, nil
}

// EligibilityWaitOptions tune WaitBulk. The zero value (or nil) uses the
// defaults that WaitOptions documents.
type EligibilityWaitOptions struct {
	// PollInterval is the wait before the second fetch; each later wait
	// doubles, up to MaxPollInterval. Default DefaultPollInterval.
	PollInterval time.Duration
	// MaxPollInterval bounds the wait between fetches. Default
	// DefaultMaxPollInterval.
	MaxPollInterval time.Duration
	// MaxConsecutiveErrors: once this many fetches in a row have failed
	// with a transient error, WaitBulk gives up with the last one. Default
	// DefaultMaxConsecutiveErrors.
	MaxConsecutiveErrors int
	// OnSnapshot, if set, is called with every successfully fetched state,
	// on the goroutine that called WaitBulk, before it checks whether the
	// check is finished.
	OnSnapshot func(*BulkEligibility)
}

// BulkEligibilityFetcher is the one call WaitBulk needs: a test that mocks
// FetchBulk alone still runs the real polling loop through
// WaitForBulkEligibility. *EligibilityService and every EligibilityAPI
// implement it.
type BulkEligibilityFetcher interface {
	// FetchBulk returns the current state of a bulk check.
	FetchBulk(ctx context.Context, requestID string, opts ...CallOption) (*BulkEligibility, error)
}

var _ BulkEligibilityFetcher = EligibilityAPI(nil)

// WaitBulk fetches the bulk check until it is finished (see
// BulkEligibility.Finished) and returns that final state, with the same
// loop and rules as BulkHostedNumberOrdersService.Wait: it waits between
// fetches as WaitOptions describes (the interval doubling up to
// MaxPollInterval, plus a jitter of up to a fifth); it ends early when ctx ends
// or a fetch fails with an error that polling again cannot fix (404,
// 401/403, a bad response, an answer about another check); transient
// failures are polled through up to MaxConsecutiveErrors in a row; a 429
// is waited out as its Retry-After asks and does not count. On an error it
// also returns the last state it saw, if any. It starts no goroutines.
// Zero PollInterval and MaxPollInterval (and a nil wait) take the
// client's WithWaitPollInterval. opts apply to every fetch.
func (s *EligibilityService) WaitBulk(ctx context.Context, requestID string, wait *EligibilityWaitOptions, opts ...CallOption) (*BulkEligibility, error) {
	var w EligibilityWaitOptions
	if wait != nil {
		w = *wait
	}
	defaults := s.client.waitOptions(&WaitOptions{PollInterval: w.PollInterval, MaxPollInterval: w.MaxPollInterval})
	w.PollInterval, w.MaxPollInterval = defaults.PollInterval, defaults.MaxPollInterval
	return waitForBulkEligibility(ctx, requestID, &w, func(ctx context.Context, id string) (*BulkEligibility, error) {
		return s.fetchBulk(ctx, id, opts...)
	})
}

// WaitForBulkEligibility is WaitBulk over any implementation of FetchBulk:
// the loop, backoff, Retry-After handling and error rules are the same.
// opts are passed to every FetchBulk.
func WaitForBulkEligibility(ctx context.Context, f BulkEligibilityFetcher, requestID string, wait *EligibilityWaitOptions, opts ...CallOption) (*BulkEligibility, error) {
	if f == nil {
		return nil, fmt.Errorf("hostednumbers: wait for bulk eligibility check: %w",
			&ValidationError{Problems: []FieldError{{Field: "fetcher", Message: "is nil"}}})
	}
	if svc, ok := f.(*EligibilityService); ok && svc != nil {
		return svc.WaitBulk(ctx, requestID, wait, opts...)
	}
	return waitForBulkEligibility(ctx, requestID, wait, func(ctx context.Context, id string) (*BulkEligibility, error) {
		b, err := f.FetchBulk(ctx, id, opts...)
		if err == nil && b == nil {
			err = &DecodeError{HTTPStatus: http.StatusOK, Err: errors.New("FetchBulk returned neither a check nor an error")}
		}
		if err == nil {
			err = checkFetchedRequestID(b, id)
		}
		return b, err
	})
}

func waitForBulkEligibility(ctx context.Context, requestID string, opts *EligibilityWaitOptions, fetch func(context.Context, string) (*BulkEligibility, error)) (*BulkEligibility, error) {
	return waitForBulkEligibilityWith(ctx, requestID, opts, fetch, poll.RealClock())
}

// waitForBulkEligibilityWith is waitForBulkEligibility on a clock: the
// same loop as Wait, with its jitter.
func waitForBulkEligibilityWith(ctx context.Context, requestID string, opts *EligibilityWaitOptions, fetch func(context.Context, string) (*BulkEligibility, error), clock poll.Clock) (*BulkEligibility, error) {
	const op = "hostednumbers: wait for bulk eligibility check"
	if err := checkContext(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkBulkEligibilityID(requestID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var o EligibilityWaitOptions
	if opts != nil {
		o = *opts
	}
	w := (&WaitOptions{PollInterval: o.PollInterval, MaxPollInterval: o.MaxPollInterval, MaxConsecutiveErrors: o.MaxConsecutiveErrors}).withDefaults()
	last, err := poll.Loop[*BulkEligibility]{
		Settings: w.pollSettings(),
		Clock:    clock,
		Fetch:    func(ctx context.Context) (*BulkEligibility, error) { return fetch(ctx, requestID) },
		Done: func(b *BulkEligibility) bool {
			if o.OnSnapshot != nil {
				o.OnSnapshot(b)
			}
			return b.Finished()
		},
		Classify: classifyPoll,
	}.Run(ctx)
	if err != nil {
		return last, fmt.Errorf("%s %s: %w", op, requestID, err)
	}
	return last, nil
}

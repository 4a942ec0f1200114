package hostednumberstest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// The Hosted Number Eligibility API (v1) the server also answers:
//
//	POST /v1/HostedNumber/Eligibility            (single check, 200)
//	POST /v1/HostedNumber/Eligibility/Bulk       (bulk check, 202 QUEUED)
//	GET  /v1/HostedNumber/Eligibility/Bulk/{EC…} (fetch, 200)
const (
	eligibilityPath     = "/v1/HostedNumber/Eligibility"
	bulkEligibilityPath = eligibilityPath + "/Bulk"
)

// DefaultEligibilityStageDuration is how long a bulk eligibility check
// stays QUEUED, and then IN_PROGRESS, before it is SUCCESSFUL, unless
// WithStageDuration sets another duration. Bulk checks move with the
// server's clock, never with fetches: a client that polls sees QUEUED,
// IN_PROGRESS and SUCCESSFUL whatever its poll interval.
const DefaultEligibilityStageDuration = 20 * time.Millisecond

// The codes the fake answers with, from Twilio's own examples.
const (
	// ReasonAlreadyInTwilioNotInUse is the ineligibility_reason
	// IneligibleNumbersEndingIn gives.
	ReasonAlreadyInTwilioNotInUse = "ALREADY_IN_TWILIO_BUT_NOT_IN_USE"
	// NextStepContactSupportInventory is the next_step
	// IneligibleNumbersEndingIn gives.
	NextStepContactSupportInventory = "CONTACT_SUPPORT_INELIGIBLE_INVENTORY_STATUS"
	// ReasonNumberFormatIneligible is the ineligibility_reason of a
	// phone_number that is not in E.164 form.
	ReasonNumberFormatIneligible = "NUMBER_FORMAT_INELIGIBLE"
	// NextStepEditIneligibleNumber is the next_step of a phone_number that
	// is not in E.164 form.
	NextStepEditIneligibleNumber = "EDIT_INELIGIBLE_NUMBER"
)

// EligibilityOutcome is the answer the server gives for one phone number
// in an eligibility check.
type EligibilityOutcome struct {
	// Status is eligibility_status. Empty means
	// hostednumbers.EligibilityStatusEligible.
	Status hostednumbers.EligibilityStatus
	// SubStatus is eligibility_sub_status; empty renders null.
	SubStatus hostednumbers.EligibilitySubStatus
	// IneligibilityReason is ineligibility_reason; empty renders null.
	IneligibilityReason string
	// NextStep is next_step; empty renders null.
	NextStep string
}

// ExistingOrderReason is the ineligibility_reason of a number that already
// has a hosted number order on the server (neither failed nor canceled):
// it names the order and its status. Such a number is INELIGIBLE,
// ALREADY_IN_TWILIO, with NextStepContactSupportInventory, and the result's
// hosting_order_sid and hosting_order_status name the order too, whatever
// the WithEligibility script says: the number is in Twilio already.
func ExistingOrderReason(orderSID string, status hostednumbers.OrderStatus) string {
	return "The phone number already has hosted number order " + orderSID + " (" + string(status) + ")"
}

func allEligible(string) EligibilityOutcome {
	return EligibilityOutcome{Status: hostednumbers.EligibilityStatusEligible}
}

// IneligibleNumbersEndingIn is an eligibility script for WithEligibility:
// numbers ending in suffix are INELIGIBLE as a number already in Twilio
// (ALREADY_IN_TWILIO, ReasonAlreadyInTwilioNotInUse,
// NextStepContactSupportInventory, as in Twilio's example); all others are
// ELIGIBLE. An empty suffix makes every number ineligible.
func IneligibleNumbersEndingIn(suffix string) func(phoneNumber string) EligibilityOutcome {
	return func(phoneNumber string) EligibilityOutcome {
		if strings.HasSuffix(phoneNumber, suffix) {
			return EligibilityOutcome{
				Status:              hostednumbers.EligibilityStatusIneligible,
				SubStatus:           hostednumbers.EligibilitySubStatusAlreadyInTwilio,
				IneligibilityReason: ReasonAlreadyInTwilioNotInUse,
				NextStep:            NextStepContactSupportInventory,
			}
		}
		return allEligible(phoneNumber)
	}
}

// eligibilityState holds the bulk eligibility checks, in creation order
// and by request ID (made on the first check).
type eligibilityState struct {
	byID map[string]*bulkEligibility
	list []*bulkEligibility
}

// bulkEligibility is the server's state of one bulk eligibility check.
// Its results are decided when it is created.
type bulkEligibility struct {
	id           string
	friendlyName string
	created      time.Time
	results      []eligibilityResultJSON
}

// eligibilityResultJSON is one result as Twilio renders it: both the
// documented members (hosting_account_sid, country) and the ones its
// examples show (account_sid, iso_country_code).
type eligibilityResultJSON struct {
	PhoneNumber          string  `json:"phone_number"`
	HostingAccountSID    *string `json:"hosting_account_sid"`
	AccountSID           *string `json:"account_sid"`
	Country              *string `json:"country"`
	ISOCountryCode       *string `json:"iso_country_code"`
	EligibilityStatus    string  `json:"eligibility_status"`
	EligibilitySubStatus *string `json:"eligibility_sub_status"`
	IneligibilityReason  *string `json:"ineligibility_reason"`
	NextStep             *string `json:"next_step"`
	DateLastChecked      *string `json:"date_last_checked,omitempty"`
	VoiceProvider        *string `json:"voice_provider"`
	MessagingProvider    *string `json:"messaging_provider"`
	PhoneNumberType      *string `json:"phone_number_type"`
	HostingOrderSID      *string `json:"hosting_order_sid"`
	HostingOrderStatus   *string `json:"hosting_order_status"`
	InventoryStatus      *string `json:"inventory_status"`
	InventoryAccountSID  *string `json:"inventory_account_sid"`
}

type bulkEligibilityJSON struct {
	FriendlyName  *string                 `json:"friendly_name"`
	Status        string                  `json:"status"`
	DateCreated   string                  `json:"date_created"`
	DateCompleted *string                 `json:"date_completed"`
	RequestID     string                  `json:"request_id"`
	Results       []eligibilityResultJSON `json:"results"`
	URL           string                  `json:"url"`
}

// serveEligibility answers every path under /v1/HostedNumber/Eligibility.
func (s *Server) serveEligibility(w http.ResponseWriter, r *http.Request, in *incoming) {
	path := r.URL.Path
	switch {
	case path == eligibilityPath || path == bulkEligibilityPath:
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		params, ok := readEligibilityBody(w, r, in.body)
		if !ok {
			return
		}
		if path == eligibilityPath {
			s.checkEligibility(w, params)
		} else {
			s.createBulkEligibility(w, params, in)
		}
	case strings.HasPrefix(path, bulkEligibilityPath+"/"):
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		s.fetchBulkEligibility(w, r, strings.TrimPrefix(path, bulkEligibilityPath+"/"))
	default:
		notFound(w, path)
	}
}

// readEligibilityBody decodes and checks a check body, answering 4xx for a
// body the API would refuse: not the JSON object Twilio's documentation
// shows, no phone_numbers, an entry without its phone_number, a
// hosting_account_sid that is not an account SID. A phone number that is
// not in E.164 form is not refused: like Twilio, the server answers it
// NUMBER_FORMAT_INELIGIBLE. Twilio documents no limit on how many numbers
// a check lists and no rule against a number listed twice, so the server
// checks neither (the SDK's Validate does, before it sends).
func readEligibilityBody(w http.ResponseWriter, r *http.Request, body []byte) (*hostednumbers.EligibilityParams, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, noCode,
			"Unsupported Media Type: the Content-Type must be application/json", nil)
		return nil, false
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid JSON: the body must be a JSON object", nil)
		return nil, false
	}
	params := new(hostednumbers.EligibilityParams)
	if err := json.Unmarshal(body, params); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidParameter, "Invalid JSON: "+err.Error(), nil)
		return nil, false
	}
	var problems []hostednumbers.FieldError
	add := func(field, msg string) {
		problems = append(problems, hostednumbers.FieldError{Field: field, Message: msg})
	}
	if len(params.PhoneNumbers) == 0 {
		add("phone_numbers", "must list at least one phone number")
	}
	for i, n := range params.PhoneNumbers {
		at := "phone_numbers[" + strconv.Itoa(i) + "]"
		if n.PhoneNumber == "" {
			add(at+".phone_number", "is required")
		}
		if n.HostingAccountSID != "" && !format.SID(n.HostingAccountSID, "AC") {
			add(at+".hosting_account_sid", "is not a SID (AC and 32 hex digits)")
		}
	}
	if len(problems) > 0 {
		writeValidationError(w, &hostednumbers.ValidationError{Problems: problems})
		return nil, false
	}
	return params, true
}

// eligibilityResults decides and renders the result of every number. It
// calls the eligibility script, so it runs without the server's lock.
func (s *Server) eligibilityResults(params *hostednumbers.EligibilityParams, checked *time.Time) []eligibilityResultJSON {
	script := s.cfg.eligibility
	if script == nil {
		script = allEligible
	}
	out := make([]eligibilityResultJSON, len(params.PhoneNumbers))
	for i, n := range params.PhoneNumbers {
		res := eligibilityResultJSON{PhoneNumber: n.PhoneNumber}
		if checked != nil {
			res.DateLastChecked = ptr(formatTime(*checked))
		}
		if !format.E164(n.PhoneNumber) {
			res.EligibilityStatus = string(hostednumbers.EligibilityStatusIneligible)
			res.EligibilitySubStatus = ptr(string(hostednumbers.EligibilitySubStatusNumberFormatIneligible))
			res.IneligibilityReason = ptr(ReasonNumberFormatIneligible)
			res.NextStep = ptr(NextStepEditIneligibleNumber)
			out[i] = res
			continue
		}
		account := n.HostingAccountSID
		if account == "" {
			account = s.cfg.accountSID
		}
		res.HostingAccountSID, res.AccountSID = ptr(account), ptr(account)
		if strings.HasPrefix(n.PhoneNumber, "+1") {
			res.Country, res.ISOCountryCode = ptr("US"), ptr("US")
			res.PhoneNumberType = ptr(numberType(n.PhoneNumber))
		}
		o := script(n.PhoneNumber)
		if o.Status == "" {
			o.Status = hostednumbers.EligibilityStatusEligible
		}
		res.EligibilityStatus = string(o.Status)
		res.EligibilitySubStatus = optional(string(o.SubStatus))
		res.IneligibilityReason = optional(o.IneligibilityReason)
		res.NextStep = optional(o.NextStep)
		out[i] = res
	}
	return out
}

// numberType tells a North American toll-free number from a local one.
func numberType(e164 string) string {
	if len(e164) >= 5 {
		switch e164[2:5] {
		case "800", "833", "844", "855", "866", "877", "888":
			return "TOLL_FREE"
		}
	}
	return "LOCAL"
}

func ptr(s string) *string { return &s }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// existingOrderLocked returns the order a number has on the server at
// now that makes it ineligible: its latest hosted number order that exists
// and is neither failed nor canceled, with its status.
func (s *Server) existingOrderLocked(phone string, now time.Time) (*hostedOrder, hostednumbers.OrderStatus, bool) {
	orders := s.byPhone[phone]
	for i := len(orders) - 1; i >= 0; i-- {
		h := orders[i]
		if h.canceled || now.Before(h.created) {
			continue
		}
		if status, _ := s.hostedStatusLocked(h, now); status != hostednumbers.OrderStatusFailed {
			return h, status, true
		}
	}
	return nil, "", false
}

// markExistingOrdersLocked makes every result whose number already has a
// hosted number order INELIGIBLE, ALREADY_IN_TWILIO, naming the order.
func (s *Server) markExistingOrdersLocked(results []eligibilityResultJSON, now time.Time) {
	for i := range results {
		res := &results[i]
		h, status, ok := s.existingOrderLocked(res.PhoneNumber, now)
		if !ok {
			continue
		}
		res.EligibilityStatus = string(hostednumbers.EligibilityStatusIneligible)
		res.EligibilitySubStatus = ptr(string(hostednumbers.EligibilitySubStatusAlreadyInTwilio))
		res.IneligibilityReason = ptr(ExistingOrderReason(h.sid, status))
		res.NextStep = ptr(NextStepContactSupportInventory)
		res.HostingOrderSID = ptr(h.sid)
		res.HostingOrderStatus = ptr(string(status))
	}
}

func (s *Server) checkEligibility(w http.ResponseWriter, params *hostednumbers.EligibilityParams) {
	now := s.realNow()
	results := s.eligibilityResults(params, &now)
	s.mu.Lock()
	s.markExistingOrdersLocked(results, s.now())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Results []eligibilityResultJSON `json:"results"`
	}{results})
}

func (s *Server) createBulkEligibility(w http.ResponseWriter, params *hostednumbers.EligibilityParams, in *incoming) {
	b := &bulkEligibility{friendlyName: params.FriendlyName, results: s.eligibilityResults(params, nil)}
	s.mu.Lock()
	s.markExistingOrdersLocked(b.results, s.now())
	b.id = s.sidLocked("EC")
	b.created = s.realNow()
	if s.eligibility.byID == nil {
		s.eligibility.byID = make(map[string]*bulkEligibility)
	}
	s.eligibility.byID[b.id] = b
	s.eligibility.list = append(s.eligibility.list, b)
	in.rec.CreatedSID = b.id
	doc := s.renderBulkEligibility(b, b.created)
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, doc)
}

func (s *Server) fetchBulkEligibility(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	b, ok := s.eligibility.byID[id]
	var doc bulkEligibilityJSON
	if ok {
		doc = s.renderBulkEligibility(b, s.realNow())
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, r.URL.Path)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// renderBulkEligibility renders b as it stands at now: QUEUED for one
// stage duration, IN_PROGRESS for the next, then SUCCESSFUL with its
// results and date_completed.
func (s *Server) renderBulkEligibility(b *bulkEligibility, now time.Time) bulkEligibilityJSON {
	d := s.cfg.stageDuration
	if d <= 0 {
		d = DefaultEligibilityStageDuration
	}
	doc := bulkEligibilityJSON{
		FriendlyName: optional(b.friendlyName),
		DateCreated:  formatTime(b.created),
		RequestID:    b.id,
		Results:      []eligibilityResultJSON{},
		URL:          s.URL + bulkEligibilityPath + "/" + b.id,
	}
	switch elapsed := now.Sub(b.created); {
	case elapsed < d:
		doc.Status = string(hostednumbers.BulkEligibilityStatusQueued)
	case elapsed < 2*d:
		doc.Status = string(hostednumbers.BulkEligibilityStatusInProgress)
	default:
		doc.Status = string(hostednumbers.BulkEligibilityStatusSuccessful)
		doc.DateCompleted = ptr(formatTime(b.created.Add(2 * d)))
		doc.Results = b.results
	}
	return doc
}

// BulkEligibilityChecks returns every bulk eligibility check the server
// holds, oldest first, each as a fetch would return it now: the way to see
// an orphan check whose create answer was lost.
func (s *Server) BulkEligibilityChecks() []*hostednumbers.BulkEligibility {
	s.mu.Lock()
	now := s.realNow()
	docs := make([]bulkEligibilityJSON, len(s.eligibility.list))
	for i, b := range s.eligibility.list {
		docs[i] = s.renderBulkEligibility(b, now)
	}
	s.mu.Unlock()
	out := make([]*hostednumbers.BulkEligibility, len(docs))
	for i := range docs {
		out[i] = new(hostednumbers.BulkEligibility)
		if err := json.Unmarshal(mustJSON(docs[i]), out[i]); err != nil {
			panic("hostednumberstest: the SDK cannot decode the server's own bulk eligibility check: " + err.Error())
		}
	}
	return out
}

package preflight

import hostednumbers "github.com/hostednumbers/hostednumbers-go"

// Status is what the pre-flight check says about one number, reduced to
// the question the engine asks: may it be submitted? Only StatusEligible
// may.
type Status string

// The statuses of a number. Their text is stable: stores and reports may
// keep it.
const (
	// StatusEligible: the check answered ELIGIBLE. The number may be
	// submitted.
	StatusEligible Status = "eligible"
	// StatusIneligible: the check answered INELIGIBLE, with a sub-status,
	// a reason and a next step when Twilio gave them. Not to be submitted.
	StatusIneligible Status = "ineligible"
	// StatusUnknown: the check answered an eligibility_status this package
	// does not know (or none at all); NumberResult.RawStatus holds it as
	// sent. Such a number is not submitted: a number is not hosted on a
	// guess. It is reported with its raw status so that an operator can
	// decide.
	StatusUnknown Status = "unknown"
	// StatusNotChecked: no check has answered for the number: its check
	// has not finished (Run returned an error first) or finished without
	// a result for it. Never treated as eligible. A number without a
	// recorded result is checked again by the next Run.
	StatusNotChecked Status = "not_checked"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusEligible, StatusIneligible, StatusUnknown, StatusNotChecked:
		return true
	}
	return false
}

// NumberResult is the eligibility of one phone number: what Run returns
// and what a Store records (a flat record, one row of a table).
type NumberResult struct {
	// PhoneNumber is the number, in E.164 form.
	PhoneNumber string
	// Status is the number's status; only StatusEligible may be submitted.
	Status Status
	// RawStatus is eligibility_status as the SDK decoded it: a documented
	// status in the SDK's spelling (ELIGIBLE, whether Twilio sent eligible
	// or ELIGIBLE), any other exactly as the check answered it; empty for
	// StatusNotChecked.
	RawStatus hostednumbers.EligibilityStatus
	// SubStatus is eligibility_sub_status (ALREADY_IN_TWILIO, …), empty if
	// the check sent none.
	SubStatus hostednumbers.EligibilitySubStatus
	// Reason is ineligibility_reason, empty if the check sent none.
	Reason string
	// NextStep is next_step: what to do for the number to become
	// eligible; empty if the check sent none.
	NextStep string
	// RequestID is the bulk check (EC…) that answered; empty for
	// StatusNotChecked.
	RequestID string
}

// Submittable reports whether the number may be submitted for hosting:
// only when the check said ELIGIBLE.
func (r NumberResult) Submittable() bool { return r.Status == StatusEligible }

// resultOf reduces one answer of a bulk check to a NumberResult.
func resultOf(requestID string, r *hostednumbers.EligibilityResult) NumberResult {
	out := NumberResult{
		PhoneNumber: r.PhoneNumber,
		RawStatus:   r.Status,
		SubStatus:   r.SubStatus,
		Reason:      r.IneligibilityReason.String,
		NextStep:    r.NextStep.String,
		RequestID:   requestID,
	}
	// Compared in either of Twilio's spellings (a mock's answer is not
	// folded by the SDK's decoder); anything else is unknown, never
	// eligible.
	switch hostednumbers.ParseEligibilityStatus(string(r.Status)) {
	case hostednumbers.EligibilityStatusEligible:
		out.Status = StatusEligible
	case hostednumbers.EligibilityStatusIneligible:
		out.Status = StatusIneligible
	default:
		out.Status = StatusUnknown
	}
	return out
}

// Result is what Run found: one NumberResult per number it was given, in
// the order given.
type Result struct {
	// Numbers holds one result per number given to Run, in that order.
	Numbers []NumberResult
	// Created is how many bulk checks this Run created (and recorded).
	Created int
	// Resumed is how many bulk checks recorded by an earlier Run this Run
	// waited for instead of creating them again.
	Resumed int
	// Forgotten is how many recorded bulk checks the API no longer knew
	// (404); their numbers were checked again.
	Forgotten int
	// LostCreates is how many creates ended with an unknown outcome: each
	// may have left an orphan bulk check on Twilio's side that nobody
	// follows, which is harmless (see the package documentation).
	LostCreates int
}

// Submittable returns the phone numbers that may be submitted (status
// eligible), in input order.
func (r Result) Submittable() []string {
	var out []string
	for _, n := range r.Numbers {
		if n.Submittable() {
			out = append(out, n.PhoneNumber)
		}
	}
	return out
}

// Excluded returns the results of every number that may not be submitted
// (ineligible, unknown or not checked), in input order: the ones to report
// with their reason and next step.
func (r Result) Excluded() []NumberResult {
	var out []NumberResult
	for _, n := range r.Numbers {
		if !n.Submittable() {
			out = append(out, n)
		}
	}
	return out
}

// Count returns how many numbers have status s.
func (r Result) Count(s Status) int {
	n := 0
	for i := range r.Numbers {
		if r.Numbers[i].Status == s {
			n++
		}
	}
	return n
}

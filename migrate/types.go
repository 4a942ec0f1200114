package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// BatchState is where a batch is on its way to Twilio.
type BatchState string

// The states of a batch. A batch moves planned -> sending -> accepted,
// rejected or outcome_unknown. Planned and rejected batches are
// submitted; sending and outcome_unknown ones are in doubt: Twilio may or
// may not have made their orders, and nothing of them is sent again until
// Reconcile's answer is conclusive.
const (
	StatePlanned  BatchState = "planned"         // not sent yet
	StateSending  BatchState = "sending"         // a create is (or was, when it crashed) in flight
	StateAccepted BatchState = "accepted"        // Twilio has every number of the batch
	StateRejected BatchState = "rejected"        // Twilio certainly made nothing: safe to submit again
	StateUnknown  BatchState = "outcome_unknown" // a create may have been processed: reconcile first
)

// Known reports whether s is one of the states above.
func (s BatchState) Known() bool {
	switch s {
	case StatePlanned, StateSending, StateAccepted, StateRejected, StateUnknown:
		return true
	}
	return false
}

// InDoubt reports whether a batch in state s may or may not be at Twilio.
func (s BatchState) InDoubt() bool { return s == StateSending || s == StateUnknown }

// Duration is a time.Duration written as Go writes it ("1m30s").
type Duration time.Duration

// MarshalText writes d as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads what time.ParseDuration reads.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Input identifies the input a migration was made for.
type Input struct {
	Name    string `json:"name"`
	SHA256  string `json:"sha256"`
	Numbers int    `json:"numbers"`
}

// Contact is what every request of a migration says about the owner and
// the requests: the request item's contact and the top-level settings.
type Contact struct {
	Email             string `json:"email"`
	AddressSID        string `json:"address_sid"`
	ContactPhone      string `json:"contact_phone,omitempty"`
	ContactTitle      string `json:"contact_title,omitempty"`
	FriendlyName      string `json:"friendly_name,omitempty"`
	NotificationEmail string `json:"notification_email,omitempty"`
}

// ContactField names a setting of Contact.
type ContactField string

// The settings of a Contact, named as its JSON names them.
const (
	ContactEmail             ContactField = "email"
	ContactAddressSID        ContactField = "address_sid"
	ContactPhone             ContactField = "contact_phone"
	ContactTitle             ContactField = "contact_title"
	ContactFriendlyName      ContactField = "friendly_name"
	ContactNotificationEmail ContactField = "notification_email"
)

// Difference is one setting of a Contact that differs: its value in the
// migration (Was) and in the other contact (Now).
type Difference struct {
	Field    ContactField
	Was, Now string
}

// Differences lists each setting of now that differs from c, in the
// order of Contact's fields.
func (c Contact) Differences(now Contact) []Difference {
	var out []Difference
	for _, f := range []Difference{
		{ContactEmail, c.Email, now.Email},
		{ContactAddressSID, c.AddressSID, now.AddressSID},
		{ContactPhone, c.ContactPhone, now.ContactPhone},
		{ContactTitle, c.ContactTitle, now.ContactTitle},
		{ContactFriendlyName, c.FriendlyName, now.FriendlyName},
		{ContactNotificationEmail, c.NotificationEmail, now.NotificationEmail},
	} {
		if f.Was != f.Now {
			out = append(out, f)
		}
	}
	return out
}

// Params is the create body of some numbers under c.
func (c Contact) Params(numbers []hostednumbers.Number) *hostednumbers.CreateBulkHostedNumberOrderParams {
	return &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName:      c.FriendlyName,
		NotificationEmail: c.NotificationEmail,
		RequestItems: []hostednumbers.RequestItem{{
			Email:              c.Email,
			AddressSID:         c.AddressSID,
			ContactPhoneNumber: c.ContactPhone,
			ContactTitle:       c.ContactTitle,
			Numbers:            numbers,
		}},
	}
}

// Meta describes a migration: what it was started with.
type Meta struct {
	Input Input `json:"input"`
	// BatchSize is the most numbers one bulk request holds.
	BatchSize int       `json:"batch_size"`
	Contact   Contact   `json:"contact"`
	Created   time.Time `json:"created"`
	// Batches is how many batches the migration has.
	Batches int `json:"batches"`
	// App is the program's own data about the migration, a JSON value
	// the engine stores and returns and never reads: a program marks its
	// migrations with it, to refuse a store another program made. Stores
	// written by version 0.2.0 kept a "tool" name and a "demo" mark beside
	// the engine's members: they are read into App, as the JSON object
	// {"tool": …, "demo": …}.
	App json.RawMessage `json:"app,omitempty"`
}

// UnmarshalJSON reads a Meta, refusing members it does not know, and moves
// the "tool" and "demo" members of version 0.2.0 into App.
func (m *Meta) UnmarshalJSON(data []byte) error {
	type plain Meta
	var v struct {
		plain
		Tool *string `json:"tool"`
		Demo *bool   `json:"demo"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("migrate.Meta: %w", err)
	}
	if dec.More() {
		return errors.New("migrate.Meta: data after the JSON object")
	}
	*m = Meta(v.plain)
	if v.Tool == nil && v.Demo == nil {
		return nil
	}
	if len(m.App) > 0 {
		return errors.New(`migrate.Meta: both "app" and the "tool" or "demo" of version 0.2.0`)
	}
	old := struct {
		Tool *string `json:"tool,omitempty"`
		Demo bool    `json:"demo,omitempty"`
	}{Tool: v.Tool, Demo: v.Demo != nil && *v.Demo}
	app, err := json.Marshal(old)
	if err != nil {
		return fmt.Errorf("migrate.Meta: %w", err)
	}
	m.App = app
	return nil
}

// Attempt is one step taken for a batch: a create sent, or a look at a
// batch in doubt (Kind "reconcile").
type Attempt struct {
	Kind string `json:"kind"`
	// Started is when the step began: for a create, its send time (taken
	// just before the request goes out), the lower bound of the dates of
	// the orders it can have made.
	Started time.Time `json:"started"`
	// Ended is when the step returned: for a create, the latest time it
	// may have reached Twilio. It stays zero if the process died during
	// the step.
	Ended time.Time `json:"ended,omitzero"`
	// InFlight is the longest the create may take (every attempt of the
	// client that sent it, with the waits between them): with the send
	// time, it bounds when a create left in flight by a dead run may have
	// reached Twilio.
	InFlight Duration `json:"in_flight,omitzero"`
	// AttemptTimeout is the per-attempt limit journals of earlier
	// versions recorded instead of InFlight; it is read, never written.
	AttemptTimeout Duration `json:"attempt_timeout,omitzero"`
	// Settle is a create's processing window: how long after it may have
	// reached Twilio its orders may still appear.
	Settle Duration `json:"settle,omitzero"`
	// Claim is the fencing token (Lease.Token) of the claim a create was
	// sent under, 0 when it was sent without one. The engine gives such a
	// create a deadline within its claim, so a create left in flight
	// under a claim that has since expired or been released reached
	// Twilio, if ever, before that claim ended.
	Claim int64 `json:"claim,omitempty"`
	// ServerClockOffset is Twilio's clock minus this machine's, measured
	// from the Date header of the step's answer(s), when there was one.
	ServerClockOffset *Duration `json:"server_clock_offset,omitempty"`
	Numbers           int       `json:"numbers"`
	Outcome           string    `json:"outcome,omitempty"`
	BulkHostingSID    string    `json:"bulk_hosting_sid,omitempty"`
	RequestID         string    `json:"request_id,omitempty"`
	Error             string    `json:"error,omitempty"`
	// Reason is Twilio's reason for a rejection: its error message and
	// code, and the numbers it names.
	Reason *Rejection `json:"reason,omitempty"`
}

// Rejection is why Twilio refused a create.
type Rejection struct {
	HTTPStatus int    `json:"http_status"`
	Code       int    `json:"code,omitempty"`
	Message    string `json:"message"`
	MoreInfo   string `json:"more_info,omitempty"`
	// RateLimited is true for a 429; RetryAfter is the wait Twilio asked for.
	RateLimited bool     `json:"rate_limited,omitempty"`
	RetryAfter  Duration `json:"retry_after,omitzero"`
	// Numbers are the batch's numbers the error names.
	Numbers []string `json:"numbers,omitempty"`
}

// Doubt is what the last look at a batch in doubt found: not enough for
// a verdict. It is kept so that the next look, in this run or a later
// one, can be the second of the two that "none created" needs.
type Doubt struct {
	// LookedAt is when the look started, by this machine's clock.
	LookedAt time.Time `json:"looked_at"`
	// Looked are the numbers looked for, Missing those with no order.
	Looked  []string `json:"looked"`
	Missing []string `json:"missing"`
	// RetryAt is when to look again; WindowClosesAt is when Twilio can no
	// longer be processing the create (by this machine's clock).
	RetryAt        time.Time `json:"retry_at"`
	WindowClosesAt time.Time `json:"window_closes_at"`
	// ConfirmGap is the least time between the two looks after the
	// window that must both find no order.
	ConfirmGap Duration `json:"confirm_gap,omitzero"`
	Reason     string   `json:"reason"`
	// Accepted marks the doubt of a create Twilio accepted (a 2xx) whose
	// answer could not be read: it is never sent again, and only its
	// orders appearing end the doubt.
	Accepted bool `json:"accepted,omitempty"`
}

// ConclusiveAt is the earliest time a look can settle the doubt when
// Twilio has still not made any order: a gap after LookedAt when that
// look was after the window (the first of the two looks), otherwise the
// window's end plus a gap. A run started then settles it: a run whose
// look is the first after the window waits the gap (a minute at most) for
// the second, with or without Options.Wait. For an Accepted doubt, which
// only its orders can settle, it is RetryAt.
func (d *Doubt) ConclusiveAt() time.Time {
	gap := time.Duration(d.ConfirmGap)
	switch {
	case d.Accepted:
		return d.RetryAt
	case gap <= 0:
		// Recorded by an earlier version, without its gap.
		return later(d.RetryAt, d.WindowClosesAt)
	case !d.LookedAt.Before(d.WindowClosesAt):
		return d.LookedAt.Add(gap)
	}
	return d.WindowClosesAt.Add(gap)
}

// counts reports whether the doubt's look can be the first of the two
// after the window that settle it.
func (d *Doubt) counts() bool { return d != nil && !d.LookedAt.Before(d.WindowClosesAt) }

// Batch is one bulk hosting request's worth of numbers, without them
// (Store.Numbers reads those).
type Batch struct {
	Index int        `json:"index"` // 1-based
	State BatchState `json:"state"`
	// Size is how many numbers the batch holds.
	Size int `json:"size"`
	// BulkHostingSIDs are the requests holding the batch's numbers: one,
	// unless a resume found some numbers hosted and submitted the rest.
	BulkHostingSIDs []string  `json:"bulk_hosting_sids,omitempty"`
	Attempts        []Attempt `json:"attempts,omitempty"`
	Doubt           *Doubt    `json:"doubt,omitempty"`
	// Counts is how many of its numbers are in each report status (see
	// NumberStatus), as of the last save.
	Counts map[string]int `json:"counts,omitempty"`
	// Version counts the saves of the batch: SaveBatch writes only over
	// the version it was given, so that two workers never both act on
	// one state.
	Version int64 `json:"version"`
}

// lastCreate returns the batch's last create: the one in doubt.
func (b *Batch) lastCreate() *Attempt {
	for i := len(b.Attempts) - 1; i >= 0; i-- {
		if b.Attempts[i].Kind == "create" {
			return &b.Attempts[i]
		}
	}
	return nil
}

// NumberState is one number of a migration and the last known state of
// its hosting.
type NumberState struct {
	// Number is the number's create settings, from the input.
	Number hostednumbers.Number `json:"number"`
	// Line is its line in the input.
	Line               int     `json:"line,omitempty"`
	BulkHostingSID     string  `json:"bulk_hosting_sid,omitempty"`
	HostingOrderSID    string  `json:"hosting_order_sid,omitempty"`
	Status             string  `json:"status,omitempty"`
	FailureReason      *string `json:"failure_reason,omitempty"`
	NextStep           *string `json:"next_step,omitempty"`
	SigningDocumentSID string  `json:"signing_document_sid,omitempty"`
	LOAStatus          string  `json:"loa_status,omitempty"`
	// Withdrawn marks a number removed from the input before it was
	// submitted: it is never sent.
	Withdrawn bool `json:"withdrawn,omitempty"`
	// Resubmit marks a failed or rejected number the operator asked to
	// submit again.
	Resubmit bool `json:"resubmit,omitempty"`
	// Checked is when a refresh last found the number changed.
	Checked time.Time `json:"checked,omitzero"`
}

// PhoneNumber is the number, E.164.
func (n *NumberState) PhoneNumber() string { return n.Number.PhoneNumber }

// HasOrder reports whether Twilio is known to hold an order for the number.
func (n *NumberState) HasOrder() bool { return n.HostingOrderSID != "" || n.BulkHostingSID != "" }

// Report statuses of numbers Twilio does not (or is not known to) hold,
// next to the hosted number order statuses.
const (
	StatusNotSubmitted = "not-submitted"   // its batch is planned
	StatusRejected     = "rejected"        // its batch was refused: run again to resubmit
	StatusUnknown      = "outcome-unknown" // its batch's create may have been processed
	StatusSubmitted    = "submitted"       // Twilio has it; no per-number result yet
	StatusWithdrawn    = "withdrawn"       // removed from the input before it was sent
	// StatusCanceled is a number whose hosted number order was cancelled
	// at Twilio: a fetch of the order answers 404, or its processed bulk
	// request no longer lists the number. It is an answer, and final.
	StatusCanceled = "canceled"
)

// NumberStatus is the status of n, of a batch in state s, as a report
// shows it.
func NumberStatus(s BatchState, n *NumberState) string {
	switch {
	case n.Withdrawn:
		return StatusWithdrawn
	case n.Status != "":
		return n.Status
	case n.HasOrder():
		return StatusSubmitted
	case s == StateRejected:
		return StatusRejected
	case s.InDoubt():
		return StatusUnknown
	}
	return StatusNotSubmitted
}

// NeedsAction reports whether a person has to act on a number in report
// status s: failed, action-required (Twilio support moves such an order
// on; it is followed meanwhile), refused, or cancelled.
func NeedsAction(s string) bool {
	return s == string(hostednumbers.OrderStatusFailed) || s == string(hostednumbers.OrderStatusActionRequired) ||
		s == StatusRejected || s == StatusCheckFailed || s == StatusCanceled
}

// Final reports whether following can change a number in report status s
// no more: completed, failed or cancelled at Twilio, or never sent. Only
// completed and failed are final at Twilio: an action-required order is
// live (Twilio support moves it on), so it is followed.
func Final(s string) bool {
	return s == string(hostednumbers.OrderStatusCompleted) || s == string(hostednumbers.OrderStatusFailed) ||
		s == StatusCanceled || s == StatusRejected || s == StatusCheckFailed ||
		s == StatusNotSubmitted || s == StatusUnknown || s == StatusWithdrawn
}

// countNumbers counts numbers by report status.
func countNumbers(s BatchState, numbers []NumberState) map[string]int {
	m := make(map[string]int, 4)
	for i := range numbers {
		m[NumberStatus(s, &numbers[i])]++
	}
	return m
}

// Errors of a Store.
var (
	// ErrConflict is SaveBatch's answer when the batch changed since it
	// was read: another worker acted on it. Read it again.
	ErrConflict = errors.New("migrate: the batch was changed by another worker")
	// ErrNoMigration is Meta's answer when the store holds no migration.
	ErrNoMigration = errors.New("migrate: the store holds no migration")
	// ErrExists is Start's answer when the store already holds one.
	ErrExists = errors.New("migrate: the store already holds a migration")
)

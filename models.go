package hostednumbers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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

// excerpt returns a short, printable prefix of raw for error messages.
func excerpt(raw []byte) string {
	const max = 64
	if len(raw) > max {
		return strconv.Quote(string(raw[:max])) + "…"
	}
	return strconv.Quote(string(raw))
}

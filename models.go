package hostednumbers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RequestStatus is the processing state of a whole bulk hosting request.
// Decoding folds Twilio's spellings into the constants below (case, and
// '-' or '_', do not matter: processed and in-progress are
// RequestStatusProcessed and RequestStatusInProgress). A value a newer
// server may add still decodes: the raw text is kept and Known reports
// false.
type RequestStatus string

// The documented request statuses, in the order an order moves through them.
const (
	RequestStatusQueued     RequestStatus = "QUEUED"
	RequestStatusInProgress RequestStatus = "IN_PROGRESS"
	RequestStatusProcessed  RequestStatus = "PROCESSED"
)

// ParseRequestStatus returns the documented RequestStatus that raw spells,
// in any case and with '-' or '_' (in-progress is
// RequestStatusInProgress); text that names no documented status is
// returned unchanged.
func ParseRequestStatus(raw string) RequestStatus {
	known := [...]RequestStatus{RequestStatusQueued, RequestStatusInProgress, RequestStatusProcessed}
	return parseEnum(raw, known[:])
}

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

// UnmarshalJSON decodes a status in any of Twilio's spellings. null
// leaves s as it is, as encoding/json does for a string.
func (s *RequestStatus) UnmarshalJSON(data []byte) error {
	raw, ok, err := enumText(data)
	if err != nil {
		return fmt.Errorf("request status: %w", err)
	}
	if ok {
		*s = ParseRequestStatus(raw)
	}
	return nil
}

// parseEnum returns the constant of known that raw spells, comparing as
// Twilio's two spellings of one enum require: ASCII letters in either
// case, '-' and '_' alike, surrounding spaces ignored (already-in-twilio,
// ALREADY_IN_TWILIO and Already_In-Twilio are one value). Anything else is
// returned unchanged, so a value a newer server adds keeps its raw text
// and is never mistaken for a known one.
func parseEnum[T ~string](raw string, known []T) T {
	for _, k := range known {
		if raw == string(k) {
			return k
		}
	}
	trimmed := strings.TrimSpace(raw)
	for _, k := range known {
		if sameSpelling(trimmed, string(k)) {
			return k
		}
	}
	return T(raw)
}

// sameSpelling reports whether a and b are one enum value in Twilio's two
// spellings: equal but for ASCII case and '-' against '_'.
func sameSpelling(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldEnumByte(a[i]) != foldEnumByte(b[i]) {
			return false
		}
	}
	return true
}

func foldEnumByte(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + ('a' - 'A')
	case c == '_':
		return '-'
	}
	return c
}

// enumText reads an enum member: its text and true for a JSON string,
// false for null, an error for anything else.
func enumText(data []byte) (string, bool, error) {
	var ns NullString
	if err := ns.UnmarshalJSON(data); err != nil {
		return "", false, err
	}
	return ns.String, ns.Valid, nil
}

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
// underscore spelling (pending_loa, PENDING_LOA) into the documented
// constant (OrderStatusPendingLOA). Text that names no documented status is
// returned unchanged.
func ParseOrderStatus(raw string) OrderStatus {
	known := [...]OrderStatus{
		OrderStatusTwilioProcessing, OrderStatusReceived, OrderStatusPendingVerification,
		OrderStatusVerified, OrderStatusPendingLOA, OrderStatusCarrierProcessing,
		OrderStatusTesting, OrderStatusCompleted, OrderStatusFailed, OrderStatusActionRequired,
	}
	return parseEnum(raw, known[:])
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

// UnmarshalJSON decodes a status in any of Twilio's spellings. null
// leaves s as it is, as encoding/json does for a string.
func (s *OrderStatus) UnmarshalJSON(data []byte) error {
	raw, ok, err := enumText(data)
	if err != nil {
		return fmt.Errorf("order status: %w", err)
	}
	if ok {
		*s = ParseOrderStatus(raw)
	}
	return nil
}

// Bool returns a pointer to v, for the optional boolean request fields
// (CreateHostedNumberOrderParams.SMSCapability,
// ListHostedNumberOrdersParams.SMSCapability), where nil means "not sent"
// and Bool(false) sends false.
func Bool(v bool) *bool { return &v }

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

// Format prints the string itself (formatted as verb and flags ask) when
// Valid, and null when not, so that %v and %s show the value instead of
// the struct: "Spring migration", not {Spring migration true}. %#v still
// prints the Go syntax of the struct.
func (n NullString) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "hostednumbers.NullString{String:%#v, Valid:%t}", n.String, n.Valid)
	case n.Valid:
		fmt.Fprintf(f, fmt.FormatString(f, verb), n.String)
	default:
		fmt.Fprintf(f, fmt.FormatString(f, 's'), "null")
	}
}

// LogValue logs the string when Valid, and a nil value (null in JSON
// logs) when not.
func (n NullString) LogValue() slog.Value {
	if !n.Valid {
		return slog.AnyValue(nil)
	}
	return slog.StringValue(n.String)
}

// NullTime is a timestamp the API may send as JSON null (date_completed
// before an order is processed). Valid is false for null.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// ParseTime parses a date-time the way the API sends it: RFC 3339, or
// RFC 2822/1123 (with or without the day of the week) whose zone is a
// numeric offset (+0000, -0700) or one of the names of UTC: GMT, UT, UTC
// or Z, in any case. Any other zone name (PDT, CEST, a military letter) is
// an error: RFC 2822 leaves most names undefined, and reading them as UTC,
// or by the zone of the machine, would shift the time by hours.
func ParseTime(s string) (time.Time, error) {
	// The API documents "GMT RFC 2822" dates and sends RFC 3339 ones.
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	orig, utc := s, false
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		switch zone := s[i+1:]; {
		case strings.EqualFold(zone, "GMT"), strings.EqualFold(zone, "UT"), strings.EqualFold(zone, "UTC"), strings.EqualFold(zone, "Z"):
			s, utc = s[:i]+" +0000", true
		case zone != "" && zone[0] != '+' && zone[0] != '-':
			return time.Time{}, fmt.Errorf("%s: zone %s is not GMT, UT, UTC, Z or a numeric offset such as +0000", quoteShort(s), quoteShort(zone))
		}
	}
	for _, layout := range [...]string{"Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			if utc {
				t = t.UTC()
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s is neither an RFC 3339 nor an RFC 2822 date-time", quoteShort(orig))
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

// String returns the time in RFC 3339 form (with its fraction of a second,
// if any, and its own offset) when Valid, and null when not; %v prints it.
func (n NullTime) String() string {
	if !n.Valid {
		return "null"
	}
	return n.Time.Format(time.RFC3339Nano)
}

// LogValue logs the time when Valid, and a nil value (null in JSON logs)
// when not.
func (n NullTime) LogValue() slog.Value {
	if !n.Valid {
		return slog.AnyValue(nil)
	}
	return slog.TimeValue(n.Time)
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

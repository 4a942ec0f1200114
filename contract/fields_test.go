package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// The checks below compare what the SDK decoded with the answer's JSON as
// a generic decoder reads it, member by member: every member the SDK
// models must come out with the answer's value.

// decodeAnswer reads an answer generically, numbers kept exact.
func decodeAnswer(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// object is one JSON object of an answer, with where it is, for messages.
type object struct {
	t     testing.TB
	where string
	m     map[string]any
}

func newObject(t testing.TB, where string, v any) object {
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		t.Errorf("%s: want a JSON object, got %T", where, v)
	}
	return object{t: t, where: where, m: m}
}

func (o object) errorf(key, format string, args ...any) {
	o.t.Helper()
	o.t.Errorf("%s.%s: "+format, append([]any{o.where, key}, args...)...)
}

// member returns the member's value; nil for JSON null or an absent member.
func (o object) member(key string) any { return o.m[key] }

// str checks a member decoded into a plain string: null or absent is "".
func (o object) str(key, got string) {
	o.t.Helper()
	want := ""
	switch v := o.member(key).(type) {
	case nil:
	case string:
		want = v
	default:
		o.errorf(key, "the answer has %T %v, not a string", v, v)
		return
	}
	if got != want {
		o.errorf(key, "decoded %q, the answer has %q", got, want)
	}
}

// nullStr checks a member decoded into a NullString.
func (o object) nullStr(key string, got hostednumbers.NullString) {
	o.t.Helper()
	switch v := o.member(key).(type) {
	case nil:
		if got.Valid {
			o.errorf(key, "decoded %q, the answer has null or nothing", got.String)
		}
	case string:
		if !got.Valid || got.String != v {
			o.errorf(key, "decoded %#v, the answer has %q", got, v)
		}
	default:
		o.errorf(key, "the answer has %T %v, not a string", v, v)
	}
}

// either checks a member the SDK reads under two names: the first
// name's value when it is not null, else the second's.
func (o object) either(first, second string, got hostednumbers.NullString) {
	o.t.Helper()
	if o.member(first) != nil {
		o.nullStr(first, got)
		return
	}
	o.nullStr(second, got)
}

// nullTime checks a member decoded into a NullTime.
func (o object) nullTime(key string, got hostednumbers.NullTime) {
	o.t.Helper()
	switch v := o.member(key).(type) {
	case nil:
		if got.Valid {
			o.errorf(key, "decoded %s, the answer has null or nothing", got)
		}
	case string:
		want, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			o.errorf(key, "the answer's %q is not RFC 3339: %v", v, err)
			return
		}
		if !got.Valid || !got.Time.Equal(want) {
			o.errorf(key, "decoded %s, the answer has %s", got, v)
		}
	default:
		o.errorf(key, "the answer has %T %v, not a string", v, v)
	}
}

// integer checks a member decoded into an int: null or absent is 0.
func (o object) integer(key string, got int) {
	o.t.Helper()
	want := int64(0)
	switch v := o.member(key).(type) {
	case nil:
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			o.errorf(key, "the answer's %s is not a whole number", v)
			return
		}
		want = n
	default:
		o.errorf(key, "the answer has %T %v, not a number", v, v)
		return
	}
	if int64(got) != want {
		o.errorf(key, "decoded %d, the answer has %d", got, want)
	}
}

// count checks a bulk result group's count: a JSON number or a string
// holding one, null or absent being 0.
func (o object) count(key string, got int) {
	o.t.Helper()
	if s, ok := o.member(key).(string); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || int64(got) != n {
			o.errorf(key, "decoded %d, the answer has %q", got, s)
		}
		return
	}
	o.integer(key, got)
}

// boolean checks a member decoded into a bool: null or absent is false.
func (o object) boolean(key string, got bool) {
	o.t.Helper()
	want := false
	switch v := o.member(key).(type) {
	case nil:
	case bool:
		want = v
	default:
		o.errorf(key, "the answer has %T %v, not a boolean", v, v)
		return
	}
	if got != want {
		o.errorf(key, "decoded %t, the answer has %t", got, want)
	}
}

// enum checks a member decoded into one of the SDK's string enums. The
// SDK may fold Twilio's spellings of a value into one constant
// (pending_loa and pending-loa, ELIGIBLE and eligible), so the two are
// compared without regard to case, '-' and '_' alike; a value the SDK
// does not know must come out as it was sent.
func (o object) enum(key, got string) {
	o.t.Helper()
	want := ""
	switch v := o.member(key).(type) {
	case nil:
	case string:
		want = v
	default:
		o.errorf(key, "the answer has %T %v, not a string", v, v)
		return
	}
	if foldEnum(got) != foldEnum(want) {
		o.errorf(key, "decoded %q, the answer has %q", got, want)
	}
}

func foldEnum(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// strs checks a member decoded into a []string: null or absent is empty.
func (o object) strs(key string, got []string) {
	o.t.Helper()
	var want []string
	switch v := o.member(key).(type) {
	case nil:
	case []any:
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				o.errorf(key, "element %d is %T, not a string", i, e)
				return
			}
			want = append(want, s)
		}
	default:
		o.errorf(key, "the answer has %T, not an array", v)
		return
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
		o.errorf(key, "decoded %q, the answer has %q", got, want)
	}
}

// object returns a member that is an object (empty for null or absent).
func (o object) object(key string) object {
	return newObject(o.t, o.where+"."+key, o.member(key))
}

// array returns a member that is an array (nil for null or absent).
func (o object) array(key string) []any {
	o.t.Helper()
	switch v := o.member(key).(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		o.errorf(key, "the answer has %T, not an array", v)
		return nil
	}
}

// checkBulkOrder compares a decoded bulk hosting request with its JSON.
func checkBulkOrder(o object, got *hostednumbers.BulkHostedNumberOrder) {
	o.t.Helper()
	o.str("bulk_hosting_sid", got.BulkHostingSID)
	o.enum("request_status", string(got.RequestStatus))
	o.nullStr("friendly_name", got.FriendlyName)
	o.nullStr("notification_email", got.NotificationEmail)
	o.nullStr("url", got.URL)
	o.nullTime("date_created", got.DateCreated)
	o.nullTime("date_completed", got.DateCompleted)
	o.integer("total_count", got.TotalCount)
	groups := o.array("results")
	if len(groups) != len(got.Results) {
		o.errorf("results", "decoded %d groups, the answer has %d", len(got.Results), len(groups))
		return
	}
	for i, raw := range groups {
		g := newObject(o.t, fmt.Sprintf("%s.results[%d]", o.where, i), raw)
		dg := &got.Results[i]
		g.enum("order_status", string(dg.OrderStatus))
		g.count("count", dg.Count)
		g.nullStr("get_more_info", dg.GetMoreInfo)
		orders := g.array("orders")
		if len(orders) != len(dg.Orders) {
			g.errorf("orders", "decoded %d orders, the answer has %d", len(dg.Orders), len(orders))
			continue
		}
		for j, rawOrder := range orders {
			r := newObject(o.t, fmt.Sprintf("%s.orders[%d]", g.where, j), rawOrder)
			d := &dg.Orders[j]
			r.str("hosting_order_sid", d.HostingOrderSID)
			r.str("phone_number", d.PhoneNumber)
			r.str("account_sid", d.AccountSID)
			r.nullStr("failure_reason", d.FailureReason)
			r.nullStr("next_step", d.NextStep)
			r.str("url", d.URL)
			r.str("email", d.Email)
			r.nullStr("signing_document_sid", d.SigningDocumentSID)
		}
	}
}

// checkOrder compares a decoded hosted number order with its JSON.
func checkOrder(o object, got *hostednumbers.HostedNumberOrder) {
	o.t.Helper()
	o.str("sid", got.SID)
	o.str("account_sid", got.AccountSID)
	o.nullStr("incoming_phone_number_sid", got.IncomingPhoneNumberSID)
	o.nullStr("address_sid", got.AddressSID)
	o.nullStr("signing_document_sid", got.SigningDocumentSID)
	o.str("phone_number", got.PhoneNumber)
	caps := o.object("capabilities")
	caps.boolean("sms", got.Capabilities.SMS)
	caps.boolean("mms", got.Capabilities.MMS)
	caps.boolean("voice", got.Capabilities.Voice)
	caps.boolean("fax", got.Capabilities.Fax)
	o.nullStr("friendly_name", got.FriendlyName)
	o.enum("status", string(got.Status))
	o.nullStr("failure_reason", got.FailureReason)
	o.nullTime("date_created", got.DateCreated)
	o.nullTime("date_updated", got.DateUpdated)
	o.nullStr("email", got.Email)
	o.strs("cc_emails", got.CCEmails)
	o.nullStr("url", got.URL)
	o.nullStr("contact_title", got.ContactTitle)
	o.nullStr("contact_phone_number", got.ContactPhoneNumber)
	o.nullStr("bulk_hosting_request_sid", got.BulkHostingRequestSID)
	o.nullStr("next_step", got.NextStep)
	o.integer("verification_attempts", got.VerificationAttempts)
	o.strs("verification_call_sids", got.VerificationCallSIDs)
	o.integer("verification_call_delay", got.VerificationCallDelay)
	o.nullStr("verification_call_extension", got.VerificationCallExtension)
	o.nullStr("verification_code", got.VerificationCode)
	o.enum("verification_type", string(got.VerificationType))
}

// checkDocument compares a decoded authorisation document with its JSON.
func checkDocument(o object, got *hostednumbers.AuthorizationDocument) {
	o.t.Helper()
	o.str("sid", got.SID)
	o.nullStr("address_sid", got.AddressSID)
	o.enum("status", string(got.Status))
	o.nullStr("email", got.Email)
	o.strs("cc_emails", got.CCEmails)
	o.nullTime("date_created", got.DateCreated)
	o.nullTime("date_updated", got.DateUpdated)
	o.nullStr("url", got.URL)
	links := o.object("links")
	if len(links.m) != len(got.Links) {
		o.errorf("links", "decoded %v, the answer has %v", got.Links, links.m)
	}
	for k, v := range got.Links {
		links.str(k, v)
	}
}

// checkMeta compares a decoded page's meta with its JSON.
func checkMeta(o object, got hostednumbers.PageMeta) {
	o.t.Helper()
	o.str("first_page_url", got.FirstPageURL)
	o.str("key", got.Key)
	o.nullStr("next_page_url", got.NextPageURL)
	o.integer("page", got.Page)
	o.integer("page_size", got.PageSize)
	o.nullStr("previous_page_url", got.PreviousPageURL)
	o.str("url", got.URL)
}

// checkPage compares a decoded page with its JSON, each item with item.
func checkPage[T any](o object, got *hostednumbers.Page[T], item func(object, *T)) {
	o.t.Helper()
	checkMeta(o.object("meta"), got.Meta)
	items := o.array("items")
	if len(items) != len(got.Items) {
		o.errorf("items", "decoded %d items, the answer has %d", len(got.Items), len(items))
		return
	}
	for i, raw := range items {
		item(newObject(o.t, fmt.Sprintf("%s.items[%d]", o.where, i), raw), &got.Items[i])
	}
}

// checkEligibilityResults compares decoded eligibility results with the
// answer's results member.
func checkEligibilityResults(o object, got hostednumbers.EligibilityResults) {
	o.t.Helper()
	results := o.array("results")
	if len(results) != len(got) {
		o.errorf("results", "decoded %d results, the answer has %d", len(got), len(results))
		return
	}
	for i, raw := range results {
		r := newObject(o.t, fmt.Sprintf("%s.results[%d]", o.where, i), raw)
		d := &got[i]
		r.str("phone_number", d.PhoneNumber)
		r.either("hosting_account_sid", "account_sid", d.HostingAccountSID)
		r.either("country", "iso_country_code", d.Country)
		r.enum("eligibility_status", string(d.Status))
		r.enum("eligibility_sub_status", string(d.SubStatus))
		r.nullStr("ineligibility_reason", d.IneligibilityReason)
		r.nullStr("next_step", d.NextStep)
		r.nullTime("date_last_checked", d.DateLastChecked)
		r.nullStr("phone_number_type", d.PhoneNumberType)
		r.nullStr("voice_provider", d.VoiceProvider)
		r.nullStr("messaging_provider", d.MessagingProvider)
		r.nullStr("hosting_order_sid", d.HostingOrderSID)
		r.nullStr("hosting_order_status", d.HostingOrderStatus)
		r.nullStr("inventory_status", d.InventoryStatus)
		r.nullStr("inventory_account_sid", d.InventoryAccountSID)
	}
}

// checkBulkEligibility compares a decoded bulk check with its JSON.
func checkBulkEligibility(o object, got *hostednumbers.BulkEligibility) {
	o.t.Helper()
	o.str("request_id", got.RequestID)
	o.enum("status", string(got.Status))
	o.nullStr("friendly_name", got.FriendlyName)
	o.nullTime("date_created", got.DateCreated)
	o.nullTime("date_completed", got.DateCompleted)
	o.nullStr("url", got.URL)
	checkEligibilityResults(o, got.Results)
}

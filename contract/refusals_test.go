package contract

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// refusal is why the SDK must refuse a random answer that Twilio's
// definition allows, with a *DecodeError. Each is either a limit of Prism
// (its random SIDs) or a place where the definition says less than
// Twilio's examples and documentation (see README.md); the test works out
// from the answer alone which apply, and the SDK must refuse exactly the
// answers that have one.
type refusal string

const (
	// refuseForeignSID: the answer names another resource than the one
	// asked for. Prism invents every SID of a random answer; the SDK
	// refuses an answer about another resource (README: "An answer about
	// another resource than the one asked for … is a *DecodeError").
	refuseForeignSID refusal = "foreign-sid"
	// refuseNoSID: the answer's own SID is null. The definition marks
	// every member nullable; without its SID a resource cannot be
	// followed, so the SDK refuses it.
	refuseNoSID refusal = "null-sid"
	// refuseUntypedResults: a results item is not in the shape Twilio's
	// examples and descriptions give. The definition gives results items
	// no schema at all ("items": {}), so Prism makes up any JSON value.
	refuseUntypedResults refusal = "untyped-results"
	// refuseNoResults: a single eligibility check answered with no
	// result; results is a nullable array in the definition, and an
	// answer that says nothing about the number asked for is useless.
	refuseNoResults refusal = "no-results"
	// refuseMetaKey: a page whose meta.key (a free string in the
	// definition, always "items" in Twilio's examples) names a member the
	// page does not have, or one that does not hold the items.
	refuseMetaKey refusal = "meta-key"
	// refuseNoMeta: a page whose meta is null.
	refuseNoMeta refusal = "null-meta"
	// refuseLinks: an authorisation document whose links hold something
	// else than strings. The definition types links as an object of
	// format uri-map (Twilio's own format: names to URLs) without a
	// schema for its members, so Prism fills it with any JSON values; the
	// SDK reads links as names to URLs (map[string]string).
	refuseLinks refusal = "untyped-links"
)

// linksRefusals: every member of an authorisation document's links must
// be a string (or null).
func linksRefusals(doc map[string]any) []refusal {
	switch links := doc["links"].(type) {
	case nil:
		return nil
	case map[string]any:
		for _, v := range links {
			if _, ok := v.(string); !ok && v != nil {
				return []refusal{refuseLinks}
			}
		}
		return nil
	default:
		return []refusal{refuseLinks}
	}
}

// documentRefusals: an authorisation document needs its own valid SID
// (the one asked for, when asked is not empty) and links of strings.
func documentRefusals(o object, asked string) []refusal {
	return append(sidRefusals(o, "sid", "PX", asked, false), linksRefusals(o.m)...)
}

// validSID reports whether v is prefix and 32 hex digits (either case).
func validSID(v any, prefix string) bool {
	s, ok := v.(string)
	if !ok || len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, c := range s[2:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// sidRefusals: the answer's SID member must be a valid SID, and, when
// asked is not empty, the one asked for (exact: compared exactly; else
// without regard to the case of its hex digits, as the SDK compares).
func sidRefusals(o object, member, prefix, asked string, exact bool) []refusal {
	v := o.member(member)
	if !validSID(v, prefix) {
		return []refusal{refuseNoSID}
	}
	if asked == "" {
		return nil
	}
	s := v.(string)
	if (exact && s != asked) || (!exact && !strings.EqualFold(s, asked)) {
		return []refusal{refuseForeignSID}
	}
	return nil
}

// stringOrNull reports whether v decodes into a NullString.
func stringOrNull(v any) bool {
	switch v.(type) {
	case nil, string:
		return true
	}
	return false
}

// membersStringOrNull reports whether every named member of m is a
// string or null (or absent).
func membersStringOrNull(m map[string]any, names ...string) bool {
	for _, n := range names {
		if !stringOrNull(m[n]) {
			return false
		}
	}
	return true
}

// countOK reports whether a result group's count is one the SDK reads:
// null, a non-negative whole number, or a string holding one.
func countOK(v any) bool {
	var s string
	switch c := v.(type) {
	case nil:
		return true
	case json.Number:
		s = c.String()
	case string:
		s = c
	default:
		return false
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0
}

// bulkResultsRefusals: each results item of a bulk order must be a group
// as Twilio's example shows it.
func bulkResultsRefusals(o object) []refusal {
	results, ok := o.member("results").([]any)
	if !ok {
		if o.member("results") == nil {
			return nil
		}
		return []refusal{refuseUntypedResults}
	}
	for _, item := range results {
		g, ok := item.(map[string]any)
		if !ok || !membersStringOrNull(g, "order_status", "get_more_info") || !countOK(g["count"]) {
			return []refusal{refuseUntypedResults}
		}
		switch orders := g["orders"].(type) {
		case nil:
		case []any:
			for _, ord := range orders {
				m, ok := ord.(map[string]any)
				if !ok || !membersStringOrNull(m, "hosting_order_sid", "phone_number", "account_sid", "failure_reason",
					"next_step", "url", "email", "signing_document_sid") {
					return []refusal{refuseUntypedResults}
				}
			}
		default:
			return []refusal{refuseUntypedResults}
		}
	}
	return nil
}

// eligibilityResultsRefusals: each result must be an object whose
// members are strings (date_last_checked a date-time) and which names its
// number; a single check must have at least one.
func eligibilityResultsRefusals(o object, single bool) []refusal {
	results, _ := o.member("results").([]any)
	if o.member("results") != nil && results == nil {
		return []refusal{refuseUntypedResults}
	}
	for _, item := range results {
		m, ok := item.(map[string]any)
		if !ok || !membersStringOrNull(m, "phone_number", "hosting_account_sid", "account_sid", "country", "iso_country_code",
			"eligibility_status", "eligibility_sub_status", "ineligibility_reason", "next_step", "date_last_checked",
			"phone_number_type", "voice_provider", "messaging_provider", "hosting_order_sid", "hosting_order_status",
			"inventory_status", "inventory_account_sid") {
			return []refusal{refuseUntypedResults}
		}
		if d, ok := m["date_last_checked"].(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, d); err != nil {
				return []refusal{refuseUntypedResults}
			}
		}
		if p, _ := m["phone_number"].(string); p == "" {
			return []refusal{refuseUntypedResults}
		}
	}
	if single && len(results) == 0 {
		return []refusal{refuseNoResults}
	}
	return nil
}

// pageRefusals: a page needs its meta, its items under "items", and each
// item its own valid SID (member sid, prefix); an authorisation
// document (prefix PX) also links of strings.
func pageRefusals(o object, prefix string) []refusal {
	var out []refusal
	meta, ok := o.member("meta").(map[string]any)
	if !ok {
		out = append(out, refuseNoMeta)
	} else if key, _ := meta["key"].(string); key != "" && key != "items" {
		out = append(out, refuseMetaKey)
	}
	items, _ := o.member("items").([]any)
	for _, item := range items {
		m, _ := item.(map[string]any)
		if !validSID(m["sid"], prefix) {
			out = append(out, refuseNoSID)
		}
		if prefix == "PX" {
			out = append(out, linksRefusals(m)...)
		}
	}
	return out
}

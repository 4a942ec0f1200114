package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// specFile is one of Twilio's definitions in testdata/openapi, with the
// checksum its README records: the test refuses to run on a copy that
// was edited without updating both.
type specFile struct {
	name   string // twilio_numbers_v2.json
	prefix string // the path prefix it serves: /v2/
	sha256 string
}

var specFiles = [...]specFile{
	{"twilio_numbers_v1.json", "/v1/", "4a2f613a32f2e4a99b86cf0a6010518fd1965f5ec486cbbcd84071f7da485a04"},
	{"twilio_numbers_v2.json", "/v2/", "536709a8886c01ff335d15b9ffd2d71d8f59c1003be2eac7f344325ed5a371d7"},
}

// operation is one operation of the definitions: where it lives, its
// success status, its examples by name, and the array members of its
// form body (which Prism cannot read as Twilio sends them).
type operation struct {
	id       string
	method   string // GET, POST, DELETE
	template string // /v2/HostedNumber/Orders/{Sid}
	path     *regexp.Regexp
	status   int
	examples map[string]json.RawMessage
	// formArrays are the members of an application/x-www-form-urlencoded
	// body whose schema is an array, sorted.
	formArrays []string
}

// exampleNames returns the names of the operation's response examples,
// sorted; none for a 204.
func (o *operation) exampleNames() []string {
	names := make([]string, 0, len(o.examples))
	for n := range o.examples {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// spec is what the test knows of the definitions: every operation, by
// operationId, and the copies Prism serves.
type spec struct {
	ops map[string]*operation
	// served holds, per flavour (published, described) and
	// specFile.prefix, the path of the file a Prism is started on.
	served map[string]map[string]string
}

// match returns the operation a request is for, or nil. Where two
// templates match (/v2/HostedNumber/Orders/Bulk and
// /v2/HostedNumber/Orders/{Sid}), the one with fewer parameters wins, as
// in Prism's routing.
func (s *spec) match(method, path string) *operation {
	var best *operation
	for _, o := range s.ops {
		if o.method == method && o.path.MatchString(path) &&
			(best == nil || strings.Count(o.template, "{") < strings.Count(best.template, "{")) {
			best = o
		}
	}
	return best
}

// loadSpec reads Twilio's definitions from testdata/openapi, checks them
// against their recorded checksums, indexes their operations, and writes
// the copies Prism is to serve into dir.
func loadSpec(t *testing.T, dir string) *spec {
	t.Helper()
	s := &spec{ops: map[string]*operation{}, served: map[string]map[string]string{published: {}, described: {}}}
	for _, f := range specFiles {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "openapi", f.name))
		if err != nil {
			t.Fatalf("reading Twilio's definition: %v", err)
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != f.sha256 {
			t.Fatalf("testdata/openapi/%s has sha256 %s, not the %s its README records: copy the files unchanged from one twilio-oai commit and record it", f.name, got, f.sha256)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if err := indexOperations(doc, s.ops); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, flavour := range []string{published, described} {
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			doc = deriveForPrism(doc)
			if flavour == described {
				doc = deriveDescribed(doc)
			}
			derived, err := json.Marshal(doc)
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			out := filepath.Join(dir, flavour+"_"+f.name)
			if err := os.WriteFile(out, derived, 0o600); err != nil {
				t.Fatal(err)
			}
			s.served[flavour][f.prefix] = out
		}
	}
	return s
}

// templatePattern matches the paths of a template such as
// /v2/HostedNumber/Orders/{Sid}: each parameter is one path segment.
func templatePattern(template string) *regexp.Regexp {
	parts := strings.Split(template, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			parts[i] = "[^/]+"
		} else {
			parts[i] = regexp.QuoteMeta(p)
		}
	}
	return regexp.MustCompile("^" + strings.Join(parts, "/") + "$")
}

func indexOperations(doc map[string]any, ops map[string]*operation) error {
	paths, _ := doc["paths"].(map[string]any)
	for template, item := range paths {
		methods, _ := item.(map[string]any)
		for method, v := range methods {
			op, ok := v.(map[string]any)
			if !ok || (method != "get" && method != "post" && method != "delete") {
				continue
			}
			id, _ := op["operationId"].(string)
			if id == "" {
				return fmt.Errorf("%s %s has no operationId", method, template)
			}
			o := &operation{id: id, method: strings.ToUpper(method), template: template,
				path: templatePattern(template), examples: map[string]json.RawMessage{}}
			responses, _ := op["responses"].(map[string]any)
			for code, r := range responses {
				if _, err := fmt.Sscanf(code, "%d", &o.status); err != nil {
					return fmt.Errorf("%s: response %q: %w", id, code, err)
				}
				content, _ := r.(map[string]any)["content"].(map[string]any)
				for _, c := range content {
					examples, _ := c.(map[string]any)["examples"].(map[string]any)
					for name, ex := range examples {
						raw, err := json.Marshal(ex.(map[string]any)["value"])
						if err != nil {
							return err
						}
						o.examples[name] = raw
					}
				}
			}
			o.formArrays = formArrayMembers(op)
			ops[id] = o
		}
	}
	return nil
}

// formBody returns the application/x-www-form-urlencoded content of an
// operation's request body, or nil.
func formBody(op map[string]any) map[string]any {
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	form, _ := content["application/x-www-form-urlencoded"].(map[string]any)
	return form
}

func formArrayMembers(op map[string]any) []string {
	schema, _ := formBody(op)["schema"].(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	var names []string
	for name, p := range props {
		if ps, ok := p.(map[string]any); ok && ps["type"] == "array" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// deriveForPrism returns Twilio's definition with one addition Prism
// needs: each array member of a form body gets an Encoding Object
// {style: form, explode: false}, under which Prism splits a member's value
// on commas into the array its schema asks for. Twilio's definition states
// no encoding, and Prism (5.x) reads a form body as one value per name, so
// without it no array member can pass validation whatever the client
// sends. The proxy in front of Prism joins the SDK's repeated members
// (CcEmails=a&CcEmails=b, Twilio's form) with commas to match. Nothing
// else is changed: every schema, parameter and example is Twilio's.
func deriveForPrism(doc map[string]any) map[string]any {
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		methods, _ := item.(map[string]any)
		for _, v := range methods {
			op, ok := v.(map[string]any)
			if !ok {
				continue
			}
			form := formBody(op)
			arrays := formArrayMembers(op)
			if form == nil || len(arrays) == 0 {
				continue
			}
			enc, _ := form["encoding"].(map[string]any)
			if enc == nil {
				enc = map[string]any{}
				form["encoding"] = enc
			}
			for _, name := range arrays {
				enc[name] = map[string]any{"style": "form", "explode": false}
			}
		}
	}
	return doc
}

// The two flavours of the definitions Prism serves. Both carry what Prism
// itself needs (deriveForPrism); "described" also gives the members the
// published schemas leave untyped the shape Twilio's own examples and
// descriptions give them (deriveDescribed), so that random answers
// exercise the SDK's decoding of every member instead of being refused
// as a whole.
const (
	published = "published"
	described = "described"
)

// deriveDescribed tightens the schemas of Twilio's definition where they
// say less than Twilio's examples and descriptions, and only there:
//
//   - meta.key of every list is "items" (the published schema: any
//     string; every example: "items");
//   - an authorisation document's links map names to URLs (the published
//     schema: an object of format uri-map, members untyped);
//   - a bulk order's results are groups of orders as the example shows
//     them: order_status in either of Twilio's spellings, count a string
//     of digits, orders with their SIDs, numbers and texts (the published
//     schema: "items": {});
//   - an eligibility result has the members the description lists, its
//     statuses in the definition's own enums (lower case with hyphens) or
//     as the examples spell them (UPPER_SNAKE), and a single check
//     answers with at least one result (the published schema: "items":
//     {}, results nullable).
//
// Every other schema, including every nullable member, is Twilio's.
func deriveDescribed(doc map[string]any) map[string]any {
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		for _, v := range item.(map[string]any) {
			op, ok := v.(map[string]any)
			if !ok {
				continue
			}
			responses, _ := op["responses"].(map[string]any)
			for _, r := range responses {
				content, _ := r.(map[string]any)["content"].(map[string]any)
				for _, c := range content {
					schema, _ := c.(map[string]any)["schema"].(map[string]any)
					props, _ := schema["properties"].(map[string]any)
					meta, _ := props["meta"].(map[string]any)
					metaProps, _ := meta["properties"].(map[string]any)
					if key, ok := metaProps["key"].(map[string]any); ok {
						key["enum"] = []any{"items"}
					}
				}
			}
		}
	}
	nullableString := func() map[string]any { return map[string]any{"type": "string", "nullable": true} }
	sid := func(prefix string, nullable bool) map[string]any {
		return map[string]any{"type": "string", "pattern": "^" + prefix + "[0-9a-fA-F]{32}$", "nullable": nullable}
	}
	bothSpellings := func(enumSchema string) []any {
		var out []any
		values, _ := schemas[enumSchema].(map[string]any)["enum"].([]any)
		for _, v := range values {
			s := v.(string)
			out = append(out, s, strings.ToUpper(strings.ReplaceAll(s, "-", "_")))
		}
		return out
	}
	if doc, ok := schemas["numbers.v2.authorization_document"].(map[string]any); ok {
		links := doc["properties"].(map[string]any)["links"].(map[string]any)
		links["additionalProperties"] = map[string]any{"type": "string", "format": "uri"}
	}
	if bulk, ok := schemas["numbers.v2.bulk_hosted_number_order"].(map[string]any); ok {
		var statuses []any
		for _, s := range schemas["hosted_number_order_enum_status"].(map[string]any)["enum"].([]any) {
			statuses = append(statuses, s, strings.ReplaceAll(s.(string), "-", "_"))
		}
		results := bulk["properties"].(map[string]any)["results"].(map[string]any)
		results["items"] = map[string]any{
			"type":     "object",
			"required": []any{"order_status", "count", "orders"},
			"properties": map[string]any{
				"order_status":  map[string]any{"type": "string", "enum": statuses},
				"count":         map[string]any{"type": "string", "pattern": "^[0-9]{1,4}$"},
				"get_more_info": nullableString(),
				"orders": map[string]any{"type": "array", "items": map[string]any{
					"type":     "object",
					"required": []any{"hosting_order_sid", "phone_number"},
					"properties": map[string]any{
						"hosting_order_sid":    sid("HR", false),
						"phone_number":         map[string]any{"type": "string", "pattern": `^\+[1-9][0-9]{1,14}$`},
						"account_sid":          sid("AC", false),
						"failure_reason":       nullableString(),
						"next_step":            nullableString(),
						"url":                  map[string]any{"type": "string", "format": "uri"},
						"email":                map[string]any{"type": "string", "format": "email"},
						"signing_document_sid": sid("PX", true),
					},
				}},
			},
		}
	}
	eligibilityResult := func(prefix string) map[string]any {
		props := map[string]any{
			"phone_number":           map[string]any{"type": "string", "minLength": 1},
			"hosting_account_sid":    sid("AC", true),
			"account_sid":            sid("AC", true),
			"eligibility_status":     map[string]any{"type": "string", "enum": bothSpellings(prefix + "_enum_eligibility_status")},
			"eligibility_sub_status": map[string]any{"type": "string", "nullable": true, "enum": append(bothSpellings(prefix+"_enum_eligibility_sub_status"), nil)},
			"date_last_checked":      map[string]any{"type": "string", "format": "date-time", "nullable": true},
			"hosting_order_sid":      sid("HR", true),
			"inventory_account_sid":  sid("AC", true),
		}
		for _, name := range []string{"country", "iso_country_code", "ineligibility_reason", "next_step", "phone_number_type",
			"voice_provider", "messaging_provider", "hosting_order_status", "inventory_status"} {
			props[name] = nullableString()
		}
		return map[string]any{"type": "object", "required": []any{"phone_number", "eligibility_status"}, "properties": props}
	}
	if single, ok := schemas["numbers.v1.eligibility"].(map[string]any); ok {
		results := single["properties"].(map[string]any)["results"].(map[string]any)
		results["items"] = eligibilityResult("eligibility")
		results["minItems"] = 1
		results["nullable"] = false
		single["required"] = []any{"results"}
	}
	if bulk, ok := schemas["numbers.v1.bulk_eligibility"].(map[string]any); ok {
		bulk["properties"].(map[string]any)["results"].(map[string]any)["items"] = eligibilityResult("bulk_eligibility")
	}
	return doc
}

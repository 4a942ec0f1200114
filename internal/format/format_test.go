package format_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

const hex32 = "0123456789abcdef0123456789ABCDEF"

func TestSID(t *testing.T) {
	tests := []struct {
		name, sid, prefix string
		want              bool
	}{
		{"lower-case hex", "AC0123456789abcdef0123456789abcdef", "AC", true},
		{"upper-case hex", "BH0123456789ABCDEF0123456789ABCDEF", "BH", true},
		{"mixed-case hex", "SK" + hex32, "SK", true},
		{"fixture bulk hosting SID", "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "BH", true},
		{"all zeros", "HR" + strings.Repeat("0", 32), "HR", true},
		{"wrong prefix", "SK" + hex32, "AC", false},
		{"lower-case prefix", "ac" + hex32, "AC", false},
		{"prefix only", "AC", "AC", false},
		{"empty", "", "AC", false},
		{"33 characters", "AC" + hex32[:31], "AC", false},
		{"35 characters", "AC" + hex32 + "0", "AC", false},
		{"non-hex letter g", "AC" + hex32[:31] + "g", "AC", false},
		{"non-hex letter at start", "ACz" + hex32[1:], "AC", false},
		{"space inside", "AC" + hex32[:16] + " " + hex32[17:], "AC", false},
		{"path traversal", "BH../../Accounts/AC0123456789abcd", "BH", false},
		{"query injection", "BH" + hex32[:28] + "?x=1", "BH", false},
		{"encoded slash", "BH" + hex32[:29] + "%2F", "BH", false},
		{"multi-byte rune keeps byte length 34", "AC" + hex32[:30] + "é", "AC", false},
		{"leading space", " AC" + hex32[:31], "AC", false},
		{"trailing newline", "AC" + hex32[:31] + "\n", "AC", false},
		{"empty prefix never matches", "AC" + hex32, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, format.SID(tt.sid, tt.prefix), "SID(%q, %q)", tt.sid, tt.prefix)
		})
	}
}

func TestE164(t *testing.T) {
	tests := []struct {
		name, number string
		want         bool
	}{
		{"US number", "+14155550101", true},
		{"one digit", "+1", true},
		{"fifteen digits", "+123456789012345", true},
		{"UK number", "+447700900123", true},
		{"sixteen digits", "+1234567890123456", false},
		{"plus only", "+", false},
		{"empty", "", false},
		{"no plus", "14155550101", false},
		{"leading zero", "+04155550101", false},
		{"double plus", "++14155550101", false},
		{"space", "+1 4155550101", false},
		{"hyphen", "+1-415-555-0101", false},
		{"parentheses", "+1(415)5550101", false},
		{"letter", "+1415555010a", false},
		{"trailing newline", "+14155550101\n", false},
		{"plus in middle", "+1415+5550101", false},
		{"arabic-indic digits", "+١٢٣", false},
		{"fullwidth digits", "+１２３", false},
		{"extension", "+14155550101x12", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, format.E164(tt.number), "E164(%q)", tt.number)
		})
	}
}

func TestEmail(t *testing.T) {
	local64 := strings.Repeat("l", 64)
	// 64 + 1 + 189 = 254 characters, the maximum.
	domain189 := strings.Repeat("d", 185) + ".com"
	tests := []struct {
		name, email string
		want        bool
	}{
		{"plain", "ops@example.com", true},
		{"shortest", "a@b.c", true},
		{"plus tag", "ops+hosting@example.com", true},
		{"dots in local part", "first.last@example.co.uk", true},
		{"hyphenated domain", "a@my-company.example", true},
		{"non-ASCII local part", "jürgen@example.de", true},
		{"local part of 64", local64 + "@example.com", true},
		{"local part of 65", local64 + "l@example.com", false},
		{"254 characters", local64 + "@" + domain189, true},
		{"255 characters", local64 + "@d" + domain189, false},
		{"empty", "", false},
		{"too short", "a@", false},
		{"no at", "example.com", false},
		{"no local part", "@example.com", false},
		{"no domain", "ops@", false},
		{"domain without dot", "ops@localhost", false},
		{"two ats", "ops@@example.com", false},
		{"two ats apart", "a@b@example.com", false},
		{"domain starts with dot", "ops@.example.com", false},
		{"domain ends with dot", "ops@example.com.", false},
		{"double dot in domain", "ops@example..com", false},
		{"space", "ops @example.com", false},
		{"tab", "ops\t@example.com", false},
		{"newline", "ops@example.com\n", false},
		{"header injection", "ops@example.com\r\nBcc: x@evil.test", false},
		{"NUL", "ops\x00@example.com", false},
		{"DEL", "ops\x7f@example.com", false},
		{"display name", "Ops <ops@example.com>", false},
		{"angle brackets", "<ops@example.com>", false},
		{"comment", "ops(comment)@example.com", false},
		{"comma list", "a@example.com,b@example.com", false},
		{"semicolon list", "a@example.com;b@example.com", false},
		{"colon", "mailto:ops@example.com", false},
		{"backslash", `o\ps@example.com`, false},
		{"quoted local part", `"ops"@example.com`, false},
		{"IP literal", "ops@[127.0.0.1]", false},
		{"less-than alone in local part", "op<s@example.com", false},
		{"greater-than alone in local part", "op>s@example.com", false},
		{"closing bracket alone in local part", "op]s@example.com", false},
		{"opening bracket alone in local part", "op[s@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, format.Email(tt.email), "Email(%q)", tt.email)
		})
	}
}

func TestSameSID(t *testing.T) {
	lowerSID := "BH0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, a, b, prefix string
		want               bool
	}{
		{"identical", lowerSID, lowerSID, "BH", true},
		{"hex in upper case", lowerSID, "BH0123456789ABCDEF0123456789ABCDEF", "BH", true},
		{"hex in mixed case", "BH0123456789ABCDEF0123456789abcdef", lowerSID, "BH", true},
		{"one digit differs", lowerSID, "BH0123456789abcdef0123456789abcdee", "BH", false},
		{"a differs only after folding a non-hex letter", "BH0123456789abcdef0123456789abcdeg", "BH0123456789abcdef0123456789abcdeG", "BH", false},
		{"prefix is not folded", lowerSID, "bh0123456789abcdef0123456789abcdef", "BH", false},
		{"another prefix", "HR0123456789abcdef0123456789abcdef", "HR0123456789ABCDEF0123456789ABCDEF", "BH", false},
		{"same prefix asked for", "HR0123456789abcdef0123456789abcdef", "HR0123456789ABCDEF0123456789ABCDEF", "HR", true},
		{"empty", "", "", "BH", false},
		{"malformed twice", "BH../../x", "BH../../x", "BH", false},
		{"shorter", lowerSID, lowerSID[:33], "BH", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, format.SameSID(tt.a, tt.b, tt.prefix), "SameSID(%q, %q, %q)", tt.a, tt.b, tt.prefix)
			assert.Equal(t, tt.want, format.SameSID(tt.b, tt.a, tt.prefix), "SameSID is symmetric")
		})
	}
}

package wire_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/internal/wire"
)

// appendStringCases are strings whose JSON encoding must be byte for byte
// what encoding/json produces. They double as the fuzz seed corpus.
var appendStringCases = []string{
	"",
	"plain",
	"Spring migration",
	"ops@example.com",
	"+14155550101",
	"https://hooks.example.com/hosting?a=1&b=2",
	`quote " and backslash \`,
	`\"`,
	"/slash/is/not/escaped",
	"\n\r\t",
	"\b\f",                   // encoding/json writes \b and \f (Go 1.22+)
	"\x00\x01\x1f",           // other C0 controls as \u00XX
	"a\x00b",                 // NUL inside text
	"\x7f",                   // DEL is not escaped by encoding/json
	"<script>&amp;</script>", // HTML-sensitive characters
	"\u2028\u2029",           // JavaScript line terminators
	"x\u2028y\u2029z",
	"\u2027\u202a", // neighbours of U+2028/9 stay literal
	"héllo wörld",
	"日本語のテキスト",
	"emoji 😀 and flags 🇦🇺",
	"\ufffd",           // a real U+FFFD stays literal
	"\xff",             // invalid UTF-8 byte
	"a\xffb\xfe",       // several invalid bytes
	"\xc3",             // truncated two-byte sequence
	"\xe2\x80",         // truncated U+2028
	"\xed\xa0\x80",     // UTF-16 surrogate encoded in UTF-8 (invalid)
	"\xf4\x90\x80\x80", // beyond U+10FFFF
	"\xc0\xaf",         // overlong encoding of '/'
	strings.Repeat("a", 1000),
	strings.Repeat("<\n\u2028\xff", 50),
}

func TestAppendString_MatchesEncodingJSON(t *testing.T) {
	for _, s := range appendStringCases {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		got := wire.AppendString(nil, s)
		assert.Equalf(t, string(want), string(got), "AppendString(%q)", s)
	}
}

func TestAppendString_EveryASCIIByteMatchesEncodingJSON(t *testing.T) {
	for b := 0; b < utf8.RuneSelf; b++ {
		s := "a" + string(rune(b)) + "z"
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equalf(t, string(want), string(wire.AppendString(nil, s)), "byte 0x%02x", b)
	}
}

func TestAppendString_EveryInvalidLeadByteMatchesEncodingJSON(t *testing.T) {
	for b := 0x80; b <= 0xff; b++ {
		s := "a" + string([]byte{byte(b)}) + "z"
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equalf(t, string(want), string(wire.AppendString(nil, s)), "byte 0x%02x", b)
	}
}

func TestAppendString_AppendsToExistingBuffer(t *testing.T) {
	dst := []byte(`{"k":`)
	got := wire.AppendString(dst, "v<")
	assert.Equal(t, `{"k":"v\u003c"`, string(got))
}

func TestAppendString_OutputIsValidJSONThatRoundTrips(t *testing.T) {
	for _, s := range appendStringCases {
		var back string
		require.NoErrorf(t, json.Unmarshal(wire.AppendString(nil, s), &back), "%q", s)
		if utf8.ValidString(s) {
			assert.Equal(t, s, back)
		}
	}
}

func TestAppendString_DoesNotAllocateBeyondDestination(t *testing.T) {
	s := "a <tagged> string with \u2028 and \n and \xff in it"
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		_ = wire.AppendString(dst[:0], s)
	})
	assert.Zero(t, allocs)
}

func TestAppendField_SkipsEmptyValuesAndPlacesCommas(t *testing.T) {
	dst := []byte("{")
	dst, wrote := wire.AppendField(dst, "friendly_name", "")
	assert.False(t, wrote)
	assert.Equal(t, "{", string(dst))

	dst, wrote = wire.AppendField(dst, "friendly_name", "A&B")
	assert.True(t, wrote)
	assert.Equal(t, `{"friendly_name":"A\u0026B"`, string(dst))

	dst, wrote = wire.AppendField(dst, "notification_email", "ops@example.com")
	assert.True(t, wrote)
	dst = append(dst, '}')
	assert.Equal(t, `{"friendly_name":"A\u0026B","notification_email":"ops@example.com"}`, string(dst))

	var decoded map[string]string
	require.NoError(t, json.Unmarshal(dst, &decoded))
	assert.Equal(t, map[string]string{"friendly_name": "A&B", "notification_email": "ops@example.com"}, decoded)
}

func TestAppendKey_CommaRules(t *testing.T) {
	tests := []struct {
		name, dst, key, want string
	}{
		{"empty buffer gets no comma", "", "a", `"a":`},
		{"after opening brace no comma", "{", "a", `{"a":`},
		{"after a value a comma", `{"a":1`, "b", `{"a":1,"b":`},
		{"after an array a comma", `{"a":[]`, "b", `{"a":[],"b":`},
		{"key is escaped", "{", "<k>", `{"\u003ck\u003e":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(wire.AppendKey([]byte(tt.dst), tt.key)))
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte("prefix")
		got := wire.AppendString(prefix, s)
		if string(got[:len(prefix)]) != "prefix" {
			t.Fatalf("AppendString clobbered the destination: %q", got)
		}
		if string(got[len(prefix):]) != string(want) {
			t.Fatalf("AppendString(%q) = %s, json.Marshal = %s", s, got[len(prefix):], want)
		}
	})
}

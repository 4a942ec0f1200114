// Package wire holds the small, allocation-free JSON writing and format
// checks behind the SDK's request encoding and validation.
package wire

import (
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// AppendString appends s to dst as a JSON string, escaped exactly as
// encoding/json escapes it (including <, > and &, U+2028 and U+2029, and
// invalid UTF-8 replaced by U+FFFD).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendField appends `,"key":"value"` (without the comma for the first
// member of an object, which the caller signals by dst ending in '{') when
// value is not empty, and reports whether it wrote anything.
func AppendField(dst []byte, key, value string) ([]byte, bool) {
	if value == "" {
		return dst, false
	}
	dst = AppendKey(dst, key)
	return AppendString(dst, value), true
}

// AppendKey appends the member name key and a colon, preceded by a comma
// unless dst ends an opening brace.
func AppendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' {
		dst = append(dst, ',')
	}
	dst = AppendString(dst, key)
	return append(dst, ':')
}

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

// PlainHTTPURL reports whether s is an absolute http or https URL of the
// plainest form, which url.Parse is certain to accept with that scheme
// and a non-empty host: "http://" or "https://"; a host of ASCII letters,
// digits, dots and hyphens, with an optional ":" and digits for a port;
// then nothing, or a path, query or fragment of printable ASCII without
// "%" (so nothing to unescape) and without spaces. It allocates nothing,
// where url.Parse allocates a URL. False says only that the check cannot
// tell: ask url.Parse.
func PlainHTTPURL(s string) bool {
	var rest string
	switch {
	case len(s) > len("https://") && s[:len("https://")] == "https://":
		rest = s[len("https://"):]
	case len(s) > len("http://") && s[:len("http://")] == "http://":
		rest = s[len("http://"):]
	default:
		return false
	}
	i, port := 0, false
	for ; i < len(rest); i++ {
		c := rest[i]
		if c == '/' || c == '?' || c == '#' {
			break
		}
		switch {
		case c >= '0' && c <= '9':
		case port:
			return false // a port is digits only
		case c == ':':
			if i == 0 {
				return false // no host before the port
			}
			port = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '-':
		default:
			return false
		}
	}
	if i == 0 {
		return false // no host
	}
	for ; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c >= 0x7f || c == '%' {
			return false
		}
	}
	return true
}

// Package format checks Twilio resource identifiers, phone numbers and e-mail
// addresses: the wire formats the SDK and its fake server both need to agree on.
package format

// SID reports whether s is a Twilio SID with the given two-letter prefix:
// the prefix followed by exactly 32 hexadecimal digits (either case).
func SID(s, prefix string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// SameSID reports whether a and b are the same SID: the same two-letter
// prefix and the same 32 hexadecimal digits, compared without regard to
// case, since Twilio's SID patterns (^BH[0-9a-fA-F]{32}$ and the like)
// allow either case for the digits. Both must be well-formed SIDs with
// that prefix: a malformed value is never the same as anything.
func SameSID(a, b, prefix string) bool {
	if !SID(a, prefix) || !SID(b, prefix) {
		return false
	}
	for i := 2; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// lower folds an ASCII hex letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// E164 reports whether s is a phone number in E.164 form: a plus sign
// and 1 to 15 digits, the first of which is not 0.
func E164(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Email reports whether s looks like a plain e-mail address
// (local@domain.tld): no display name, no spaces, one @, a dotted domain.
// It is deliberately a shape check, not full RFC 5322 parsing.
func Email(s string) bool {
	if len(s) < 3 || len(s) > 254 {
		return false
	}
	at := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '@':
			if at >= 0 {
				return false
			}
			at = i
		case c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' || c == ':' || c == '\\' || c == '"' || c == '[' || c == ']':
			return false
		}
	}
	if at < 1 || at > 64 || at == len(s)-1 {
		return false
	}
	domain := s[at+1:]
	dot := -1
	for i := 0; i < len(domain); i++ {
		if domain[i] == '.' {
			if i == 0 || i == len(domain)-1 || domain[i-1] == '.' {
				return false
			}
			dot = i
		}
	}
	return dot > 0
}

package wire_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hostednumbers/hostednumbers-go/internal/wire"
)

// parsedHTTPURL is the rule PlainHTTPURL stands in for: url.Parse accepts
// s, with scheme http or https and a host.
func parsedHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// plainURLCases double as the fuzz seed corpus.
var plainURLCases = []struct {
	in    string
	plain bool
}{
	{"https://hooks.example.com/hosting", true},
	{"http://hooks.example.com", true},
	{"https://sms.example.com/in/10", true},
	{"https://a.example.com:8443/x?y=1&z=/w#frag", true},
	{"https://host?x=/y", true},
	{"https://host#f/x", true},
	{"https://HOST-1.Example.COM/", true},
	{"https://h:/p", true},                   // empty port: url.Parse accepts it
	{"https://h/p@q:r[s]!$&'()*+,;=~", true}, // after the host anything printable but %
	{"", false},
	{"https://", false},
	{"https:///path", false},
	{"https://:80/", false},     // url.Parse accepts it; left to url.Parse
	{"https://h:8x/", false},    // bad port
	{"https://h:1:2/", false},   // two colons
	{"https://user@h/", false},  // userinfo: left to url.Parse
	{"https://[::1]/", false},   // IP literal: left to url.Parse
	{"https://h/a%20b", false},  // escapes: left to url.Parse
	{"https://h/a%zz", false},   // a bad escape url.Parse refuses
	{"https://h/a b", false},    // space
	{"https://h/a\x7fb", false}, // DEL
	{"https://h/a\nb", false},   // control character
	{"https://h/é", false},      // non-ASCII
	{"HTTPS://h/", false},       // url.Parse lowercases it; left to it
	{"ftp://h/", false},         // other scheme
	{"https:h", false},          // opaque
	{"https://h_x/", false},     // underscore in host: left to url.Parse
	{"mailto:ops@example.com", false},
}

func TestPlainHTTPURL_Cases(t *testing.T) {
	for _, c := range plainURLCases {
		assert.Equal(t, c.plain, wire.PlainHTTPURL(c.in), "%q", c.in)
	}
}

// TestPlainHTTPURL_ImpliesURLParse: every URL the fast check accepts,
// url.Parse accepts as an http or https URL with a host.
func TestPlainHTTPURL_ImpliesURLParse(t *testing.T) {
	for _, c := range plainURLCases {
		if wire.PlainHTTPURL(c.in) {
			assert.True(t, parsedHTTPURL(c.in), "%q", c.in)
		}
	}
	// Every byte in every position of a short URL.
	for b := 0; b < 256; b++ {
		for _, tmpl := range []string{"https://%c", "https://h%c", "https://h:%c", "https://h:1%c", "https://h/%c", "http%c//h/", "https://h/?%c#"} {
			s := []byte(tmpl)
			for i := range s {
				if s[i] == '%' && i+1 < len(s) && s[i+1] == 'c' {
					s = append(s[:i:i], append([]byte{byte(b)}, s[i+2:]...)...)
					break
				}
			}
			if wire.PlainHTTPURL(string(s)) {
				assert.True(t, parsedHTTPURL(string(s)), "%q", s)
			}
		}
	}
}

func TestPlainHTTPURL_DoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if !wire.PlainHTTPURL("https://sms.example.com/in/10?x=1") {
			t.Fatal("not plain")
		}
	})
	assert.Zero(t, allocs)
}

func FuzzPlainHTTPURL(f *testing.F) {
	for _, c := range plainURLCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if wire.PlainHTTPURL(s) && !parsedHTTPURL(s) {
			t.Fatalf("PlainHTTPURL accepts %q, url.Parse does not", s)
		}
	})
}

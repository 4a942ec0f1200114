package phoneindex

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Against a plain map: values set, replaced (in the arrays and in the
// map), read back, counted and listed, across many merges.
func TestIndexAgainstAMap(t *testing.T) {
	x := New[string]()
	want := make(map[string]string)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 60000 {
		var phone string
		switch r.IntN(10) {
		case 0:
			phone = fmt.Sprintf("415%07d", r.IntN(1000)) // not E.164: kept by its text
		default:
			phone = fmt.Sprintf("+1415%07d", r.IntN(30000))
		}
		v := fmt.Sprintf("v%d", r.IntN(50))
		if i%1000 == 0 {
			v = fmt.Sprintf("rare %d", i)
		}
		x.Set(phone, v)
		want[phone] = v
	}
	if x.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", x.Len(), len(want))
	}
	for p, v := range want {
		if got, ok := x.Get(p); !ok || got != v {
			t.Fatalf("Get(%s) = %q, %v; want %q", p, got, ok, v)
		}
	}
	seen := 0
	for p, v := range x.All() {
		if want[p] != v {
			t.Fatalf("All: %s = %q, want %q", p, v, want[p])
		}
		seen++
	}
	if seen != len(want) {
		t.Fatalf("All yielded %d, want %d", seen, len(want))
	}
	for _, p := range []string{"+14150099999", "+04151234567", "+", "", "+1415000000a", "+123456789012345678"} {
		if _, ok := x.Get(p); ok {
			t.Fatalf("Get(%q) found a value never set", p)
		}
	}
	if x.Shared() > 50+60 {
		t.Fatalf("%d values stored; each distinct one is stored once", x.Shared())
	}
}

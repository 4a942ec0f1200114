package logstore

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// The results of a million numbers take a few bytes a number in memory:
// an E.164 number is a uint64 key, and every number one check found
// eligible shares one result.
func TestMillionResultsInAFewBytesEach(t *testing.T) {
	const n, perCheck = millionTest, 1000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var c checks
	batch := make([]preflight.NumberResult, perCheck)
	for k := range n / perCheck {
		id := fmt.Sprintf("EC%032x", k)
		for i := range batch {
			batch[i] = preflight.NumberResult{PhoneNumber: fmt.Sprintf("+1%010d", 2000000000+k*perCheck+i), Status: preflight.StatusEligible, RawStatus: "ELIGIBLE", RequestID: id}
		}
		batch[0].Status, batch[0].RawStatus, batch[0].Reason = preflight.StatusIneligible, "INELIGIBLE", "in use"
		c.set(batch)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perNumber := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d results: %.1f bytes a number", n, perNumber)
	if c.results.Len() != n {
		t.Fatalf("%d results held, want %d", c.results.Len(), n)
	}
	if r, ok := c.get("+12000000001"); !ok || r.Status != preflight.StatusEligible || r.RequestID != fmt.Sprintf("EC%032x", 0) {
		t.Fatalf("a result read back: %+v, %v", r, ok)
	}
	if perNumber > 24 {
		t.Fatalf("%.1f bytes a number; want a few (at most 24)", perNumber)
	}
	runtime.KeepAlive(&c)
}

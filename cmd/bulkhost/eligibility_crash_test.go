//go:build unix

package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// Killed with SIGKILL right after a bulk eligibility check's request ID
// was recorded, the command run again waits for that check instead of
// creating another, then submits the eligible numbers only, once each.
func TestCrashAfterEligibilityCheckRecorded(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	defer srv.Close()
	csvPath := writeCSV(t, sixNumbers)
	args := checkedArgs(csvPath, "-batch-size", "4", "-wait", "-poll", "1ms")

	first := runProcess(t, srv, stepAfterEligibilityRecorded+":2", "", args...)
	require.True(t, first.killed, "the command killed itself after recording the second check")
	checks := checkedNumbers(t, srv)
	require.Equal(t, [][]string{{"+14155550101", "+14155550109", "+14155550102", "+14155550103"}, {"+14155550119", "+14155550129"}}, checks)
	assert.Len(t, requestsTo(srv, http.MethodPost, createsPath), 1, "batch 1 was sent; batch 2 was being checked")

	second := runProcess(t, srv, "", "", args...)
	require.Equal(t, exitFailures, second.code, "the refused numbers need action")
	assert.Contains(t, second.stderr, "was recorded by an earlier run: waiting for it, not checking again")
	assert.Equal(t, checks, checkedNumbers(t, srv), "no second check of a recorded one")
	assertNeverSubmitted(t, srv, "+14155550109", "+14155550119", "+14155550129")
	assertOneOrderEach(t, srv, "+14155550101", "+14155550102", "+14155550103")
	assert.Contains(t, second.stdout, wantRefusal())
}

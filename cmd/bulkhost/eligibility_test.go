package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

const (
	createsPath     = "/v2/HostedNumber/Orders/Bulk"
	eligibilityBulk = "/v1/HostedNumber/Eligibility/Bulk"
)

// sixNumbers has two numbers ending in 9; with -batch-size 2 the third
// batch holds nothing else.
const sixNumbers = `phone_number
+14155550101
+14155550109
+14155550102
+14155550103
+14155550119
+14155550129
`

// requestsTo returns the requests srv received with method on path.
func requestsTo(srv *hostednumberstest.Server, method, path string) []hostednumberstest.Request {
	var out []hostednumberstest.Request
	for _, r := range srv.Requests() {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// assertNeverSubmitted fails if any create body names one of phones, or
// if the fake holds an order for one.
func assertNeverSubmitted(t *testing.T, srv *hostednumberstest.Server, phones ...string) {
	t.Helper()
	creates := requestsTo(srv, http.MethodPost, createsPath)
	for _, r := range creates {
		for _, p := range phones {
			assert.NotContains(t, string(r.Body), p, "a create sent %s", p)
		}
	}
	for _, o := range srv.HostedNumberOrders() {
		assert.NotContains(t, phones, o.PhoneNumber, "%s has a hosted number order", o.PhoneNumber)
	}
}

// checkedNumbers returns the phone numbers of each bulk eligibility
// check created, in order.
func checkedNumbers(t *testing.T, srv *hostednumberstest.Server) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range requestsTo(srv, http.MethodPost, eligibilityBulk) {
		var body hostednumbers.EligibilityParams
		require.NoError(t, json.Unmarshal(r.Body, &body))
		var phones []string
		for _, n := range body.PhoneNumbers {
			phones = append(phones, n.PhoneNumber)
		}
		out = append(out, phones)
	}
	return out
}

func wantRefusal() string {
	return "not eligible (" + string(hostednumbers.EligibilitySubStatusAlreadyInTwilio) + "): " +
		hostednumberstest.ReasonAlreadyInTwilioNotInUse + "; next step: " + hostednumberstest.NextStepContactSupportInventory
}

// Numbers the eligibility check refuses are never sent; every other one
// is hosted once; the table, -status -json and -export name each refused
// number with Twilio's reason and next step; a run again checks nothing
// again.
func TestIneligibleNumbersAreNeverSubmitted(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	csvPath := writeCSV(t, sixNumbers)
	args := checkedArgs(csvPath, "-wait", "-poll", "1ms", "-batch-size", "2", "-table")
	require.Equal(t, exitFailures, h.run(args...), "refused numbers need action")

	ineligible := []string{"+14155550109", "+14155550119", "+14155550129"}
	assertNeverSubmitted(t, h.srv, ineligible...)
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550102", "+14155550103")
	assert.Len(t, requestsTo(h.srv, http.MethodPost, createsPath), 2, "batch 3 is all ineligible: no create")
	assert.Equal(t, [][]string{{"+14155550101", "+14155550109"}, {"+14155550102", "+14155550103"}, {"+14155550119", "+14155550129"}},
		checkedNumbers(t, h.srv), "each batch checked once, before it is sent")

	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 6)
	refused := 0
	for _, row := range rows {
		if row[0] != migrate.StatusCheckFailed {
			assert.Equal(t, "completed", row[0])
			continue
		}
		refused++
		require.Len(t, row, 6, "a DETAIL: %q", row)
		assert.Contains(t, ineligible, row[1])
		assert.Equal(t, []string{"-", "-"}, row[3:5], "no order, no LOA")
		assert.Contains(t, row[5], wantRefusal())
		assert.Regexp(t, `\(eligibility check EC[0-9a-f]{32}\)$`, row[5])
	}
	assert.Equal(t, 3, refused)
	_, err := os.Stat(csvPath + journalSuffix + eligibilitySuffix)
	require.ErrorIs(t, err, os.ErrNotExist, "no file next to the journal: the checks are in it")
	js, err := logstore.Open(csvPath+journalSuffix, logstore.Options{})
	require.NoError(t, err)
	recorded, err := js.Results(context.Background(), ineligible)
	require.NoError(t, err)
	require.NoError(t, js.Close())
	assert.Len(t, recorded, len(ineligible), "the journal holds the checks' results")
	for _, p := range ineligible {
		assert.Equal(t, preflight.StatusIneligible, recorded[p].Status)
	}

	// -status -json: the same reasons.
	h.stdout.Reset()
	require.Equal(t, exitFailures, h.run("-live", "-status", "-csv", csvPath, "-json"))
	doc := decodeStatus(t, h.stdout.String())
	assert.Equal(t, 3, doc.Counts[migrate.StatusCheckFailed])
	for _, n := range doc.Numbers {
		if strings.HasSuffix(n.PhoneNumber, "9") {
			assert.Equal(t, migrate.StatusCheckFailed, n.Status)
			require.NotNil(t, n.FailureReason)
			assert.Contains(t, *n.FailureReason, wantRefusal())
			assert.Nil(t, n.HostingOrderSID)
		} else {
			assert.Equal(t, "completed", n.Status)
		}
	}

	// -export: the same.
	out := filepath.Join(t.TempDir(), "refused.csv")
	require.Equal(t, exitOK, h.run("-export", out, "-export-status", migrate.StatusCheckFailed, "-csv", csvPath))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	exported, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.Len(t, exported, 4)
	for i, p := range ineligible {
		assert.Equal(t, []string{p, migrate.StatusCheckFailed}, exported[i+1][:2])
		assert.Contains(t, exported[i+1][6], wantRefusal())
	}

	// Run again: nothing is checked or sent again.
	checks, creates := len(checkedNumbers(t, h.srv)), len(requestsTo(h.srv, http.MethodPost, createsPath))
	require.Equal(t, exitFailures, h.run(args...))
	assert.Len(t, checkedNumbers(t, h.srv), checks, "numbers already checked are not checked again")
	assert.Len(t, requestsTo(h.srv, http.MethodPost, createsPath), creates)
}

// -skip-eligibility submits every number without a single eligibility
// request.
func TestSkipEligibility(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	csvPath := writeCSV(t, fiveNumbers)
	require.Equal(t, exitOK, h.run(checkedArgs(csvPath, "-wait", "-poll", "1ms", "-skip-eligibility")...))
	for _, r := range h.srv.Requests() {
		assert.NotContains(t, r.Path, "/Eligibility", "no eligibility request with -skip-eligibility")
	}
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550109", "+14155550102", "+14155550103", "+14155550119")
	_, err := os.Stat(csvPath + journalSuffix + eligibilitySuffix)
	assert.ErrorIs(t, err, os.ErrNotExist, "no eligibility file")

	h.stderr.Reset()
	require.Equal(t, exitError, h.run("-live", "-status", "-csv", csvPath, "-skip-eligibility"))
	assert.Contains(t, h.stderr.String(), "-skip-eligibility: does not apply to -status")
}

// A check that cannot be created stops the run before anything of the
// batch is sent; the next run checks and submits.
func TestEligibilityCheckFailureSendsNothing(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Path: eligibilityBulk, Status: http.StatusBadRequest})
	csvPath := writeCSV(t, fiveNumbers)
	args := checkedArgs(csvPath, "-wait", "-poll", "1ms")
	require.Equal(t, exitError, h.run(args...))
	assert.Contains(t, h.stderr.String(), "checking batch 1 before it is sent")
	assert.Empty(t, requestsTo(h.srv, http.MethodPost, createsPath), "nothing sent blind")

	require.Equal(t, exitOK, h.run(args...))
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550109", "+14155550102", "+14155550103", "+14155550119")
}

// A status the check does not know refuses the number, saying so.
func TestUnknownEligibilityIsRefused(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithEligibility(func(p string) hostednumberstest.EligibilityOutcome {
		if p == "+14155550102" {
			return hostednumberstest.EligibilityOutcome{Status: "UNDER_REVIEW", NextStep: "WAIT"}
		}
		return hostednumberstest.EligibilityOutcome{}
	}))
	csvPath := writeCSV(t, threeNumbers)
	require.Equal(t, exitFailures, h.run(checkedArgs(csvPath, "-wait", "-poll", "1ms")...))
	assertNeverSubmitted(t, h.srv, "+14155550102")
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550103")
	assert.Contains(t, h.stdout.String(), `eligibility unknown: the check answered status "UNDER_REVIEW"; not submitted on a guess; next step: WAIT`)
}

// -resubmit check-failed checks the refused numbers afresh: one that has
// become eligible is sent, once.
func TestResubmitCheckFailedChecksAgain(t *testing.T) {
	var fixed atomic.Bool
	h := newHarness(t, hostednumberstest.WithEligibility(func(p string) hostednumberstest.EligibilityOutcome {
		if fixed.Load() {
			return hostednumberstest.EligibilityOutcome{}
		}
		return hostednumberstest.IneligibleNumbersEndingIn("9")(p)
	}))
	csvPath := writeCSV(t, "phone_number\n+14155550101\n+14155550102\n+14155550103\n+14155550109\n")
	args := checkedArgs(csvPath, "-wait", "-poll", "1ms")
	require.Equal(t, exitFailures, h.run(args...))
	assertNeverSubmitted(t, h.srv, "+14155550109")

	fixed.Store(true)
	require.Equal(t, exitOK, h.run(append(args, "-resubmit", migrate.StatusCheckFailed)...))
	checks := checkedNumbers(t, h.srv)
	require.Len(t, checks, 2)
	assert.Equal(t, []string{"+14155550109"}, checks[1], "only the refused number is checked again")
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550102", "+14155550103", "+14155550109")
}

// A batch larger than a bulk eligibility check may list is checked in
// chunks of hostednumbers.MaxEligibilityNumbers, and sent as one create of
// its eligible numbers.
func TestEligibilityInChunks(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	const n = hostednumbers.MaxEligibilityNumbers + 200
	var b strings.Builder
	b.WriteString("phone_number\n")
	for i := range n {
		fmt.Fprintf(&b, "+1415555%04d\n", i)
	}
	csvPath := writeCSV(t, b.String())
	require.Equal(t, exitError, h.run(checkedArgs(csvPath, "-batch-size", strconv.Itoa(n))...))
	assert.Contains(t, h.stderr.String(), "-batch-size: must be from 1 to 1000")
	require.Equal(t, exitOK, h.run(checkedArgs(csvPath, "-batch-size", strconv.Itoa(hostednumbers.MaxEligibilityNumbers))...))

	checks := checkedNumbers(t, h.srv)
	require.Len(t, checks, 2)
	assert.Len(t, checks[0], hostednumbers.MaxEligibilityNumbers)
	assert.Len(t, checks[1], n-hostednumbers.MaxEligibilityNumbers)
	creates := requestsTo(h.srv, http.MethodPost, createsPath)
	require.Len(t, creates, 2)
	sent := 0
	for _, c := range creates {
		var body hostednumbers.CreateBulkHostedNumberOrderParams
		require.NoError(t, json.Unmarshal(c.Body, &body))
		require.Len(t, body.RequestItems, 1)
		sent += len(body.RequestItems[0].Numbers)
		for _, num := range body.RequestItems[0].Numbers {
			assert.False(t, strings.HasSuffix(num.PhoneNumber, "9"), num.PhoneNumber)
		}
	}
	assert.Equal(t, n-n/10, sent, "every number but those ending in 9")
}

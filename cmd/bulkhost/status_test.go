package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/internal/report"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// submitted runs a submit without -wait and returns the journal's path.
func submitted(t *testing.T, h *harness, csv string, extra ...string) string {
	t.Helper()
	csvPath := writeCSV(t, csv)
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, extra...)...))
	h.stdout.Reset()
	h.stderr.Reset()
	return csvPath
}

func TestStatusExitCodes(t *testing.T) {
	// Requests that stay queued: Twilio has the numbers, with no order yet.
	h := newHarness(t, hostednumberstest.WithProcessingDelay(time.Hour, 0))
	csvPath := submitted(t, h, fiveNumbers, "-batch-size", "3")
	state := csvPath + journalSuffix
	require.Equal(t, exitPending, h.run("-live", "-status", "-state", state, "-table"))
	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 5)
	for _, r := range rows {
		assert.Equal(t, "submitted", r[0])
		assert.Equal(t, "-", r[3], "no hosted number order yet")
	}
	assert.Contains(t, h.stderr.String(), "5 numbers are still on the way")

	// Processed, hosting under way: two failed at once, the others wait
	// for their LOA.
	h = newHarness(t, hostednumberstest.WithHostingDuration(time.Hour), hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	csvPath = submitted(t, h, fiveNumbers, "-batch-size", "3")
	waitProcessed(t, h.srv)
	require.Equal(t, exitFailures, h.run("-live", "-status", "-csv", csvPath, "-table"))
	rows = tableRows(t, h.stdout.String())
	require.Len(t, rows, 5)
	for _, r := range rows[:3] {
		assert.Equal(t, "pending-loa", r[0])
		assert.Regexp(t, `^HR[0-9a-f]{32}$`, r[3])
		assert.Equal(t, "signing", r[4], "the LOA is out for signing")
	}
	assert.Equal(t, []string{"failed", "+14155550109", "1"}, rows[3][:3])
	assert.Equal(t, []string{"failed", "+14155550119", "2"}, rows[4][:3])
	assert.Contains(t, rows[3][5], hostednumberstest.DefaultFailureReason+"; next step: ")
	assert.Contains(t, h.stdout.String(), "2 batches: 2 accepted; 5 numbers\n  pending-loa  3\n  failed       2\n")
	assert.Equal(t, 2, countMethod(h.srv, "POST"), "status never creates")

	// The journal holds the refreshed state.
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	n := j.index["+14155550109"]
	assert.Equal(t, "failed", n.Status)
	require.NotNil(t, n.FailureReason)
	assert.Equal(t, hostednumberstest.DefaultFailureReason, *n.FailureReason)
	assert.False(t, n.Checked.IsZero())
	ok := j.index["+14155550101"]
	assert.Nil(t, ok.FailureReason, `"" from Twilio is no failure reason`)
}

func TestStatusAllCompleted(t *testing.T) {
	h := newHarness(t)
	csvPath := submitted(t, h, threeNumbers)
	require.Equal(t, exitOK, h.run("-live", "-status", "-csv", csvPath, "-wait", "-poll", "1ms"))
	assert.Contains(t, h.stdout.String(), "  completed  3\n")
	assert.Contains(t, h.stderr.String(), "following the 3 numbers of journal "+csvPath+journalSuffix)
	assert.Regexp(t, "\nfollowing: 3 of 3 numbers done: 3 completed; [0-9.]+ numbers/min\n$", h.stderr.String())
}

func TestStatusJSONHasNoProgress(t *testing.T) {
	h := newHarness(t)
	csvPath := submitted(t, h, threeNumbers)
	h.terminal = true
	require.Equal(t, exitOK, h.run("-live", "-status", "-csv", csvPath, "-wait", "-poll", "1ms", "-json"))
	var doc statusDocument
	require.NoError(t, jsonUnmarshalStrict(h.stdout.Bytes(), &doc))
	assert.Equal(t, map[string]int{"completed": 3}, doc.Counts)
	for _, n := range doc.Numbers {
		require.NotNil(t, n.LOAStatus)
		assert.Equal(t, "signed", *n.LOAStatus)
		require.NotNil(t, n.SigningDocumentSID)
		assert.Regexp(t, `^PX[0-9a-f]{32}$`, *n.SigningDocumentSID)
	}
	assert.NotContains(t, h.stderr.String(), "\r")
	assert.NotContains(t, h.stderr.String(), "3 numbers:")
}

func TestStatusShowsUnsubmittedAndRejected(t *testing.T) {
	h := newHarness(t)
	h.env["TWILIO_AUTH_TOKEN"] = "wrong-token"
	csvPath := writeCSV(t, fiveNumbers)
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-batch-size", "2")...))
	h.env["TWILIO_AUTH_TOKEN"] = hostednumberstest.AuthToken
	h.stdout.Reset()
	h.stderr.Reset()
	require.Equal(t, exitFailures, h.run("-live", "-status", "-csv", csvPath, "-json"))
	var doc statusDocument
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &doc))
	assert.Equal(t, map[string]int{statusNotSubmitted: 3, statusRejected: 2}, doc.Counts)
	assert.Equal(t, statusNotSubmitted, doc.Numbers[0].Status, "not submitted first, rejected last")
	assert.Equal(t, statusRejected, doc.Numbers[4].Status)
	assert.Contains(t, h.stderr.String(), "run the submit command again to resume")
	assert.Zero(t, countMethod(h.srv, "GET"), "nothing to ask Twilio about")
}

func TestStatusWithoutJournal(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitError, h.run("-live", "-status", "-csv", writeCSV(t, threeNumbers)))
	assert.Contains(t, h.stderr.String(), "there is no journal at")
	assert.Empty(t, h.srv.Requests())
}

func TestStatusTransientErrorsArePolledThrough(t *testing.T) {
	h := newHarness(t)
	csvPath := submitted(t, h, threeNumbers)
	// Every retry of the first refresh fails; the next refresh works.
	h.srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 503, Count: hostednumbers.DefaultMaxRetries + 1})
	require.Equal(t, exitOK, h.run("-live", "-status", "-csv", csvPath, "-wait", "-poll", "1ms"))
	assert.Contains(t, h.stdout.String(), "  completed  3\n")

	// Without -wait, one failed refresh is the answer, and the journal is
	// left as it was.
	h = newHarness(t, hostednumberstest.WithHostingDuration(time.Hour))
	csvPath = submitted(t, h, threeNumbers)
	waitProcessed(t, h.srv)
	before, err := os.ReadFile(csvPath + journalSuffix)
	require.NoError(t, err)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 404})
	require.Equal(t, exitError, h.run("-live", "-status", "-csv", csvPath))
	assert.Contains(t, h.stderr.String(), "refreshing the numbers:")
	assert.Contains(t, h.stderr.String(), "keeps what was known before")
	after, err := os.ReadFile(csvPath + journalSuffix)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestProgressLineAndOrder(t *testing.T) {
	counts := map[string]int{"completed": 1, "rejected": 1, "outcome-unknown": 2, "submitted": 1, "withdrawn": 0}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := &tracker{phase: "following", start: start, finals: ended}
	pr := migrate.Progress{Batches: 3, Numbers: 5, Counts: counts, States: map[batchState]int{stateAccepted: 1, stateUnknown: 1, stateRejected: 1}}
	core, rate := tr.line(pr, start.Add(time.Minute))
	assert.Equal(t, "following: 1 of 5 numbers done: 2 outcome-unknown, 1 submitted, 1 completed, 1 rejected", core)
	assert.Equal(t, "; 1.0 numbers/min, about 4m0s left", rate)
	tr = &tracker{phase: "submitting", start: start, finals: atTwilio, base: 1}
	core, rate = tr.line(pr, start.Add(30*time.Second))
	assert.Equal(t, "submitting: 1 of 3 batches accepted, 2 of 5 numbers at Twilio, 1 batch in doubt", core)
	assert.Equal(t, "; 2.0 numbers/min, about 2m0s left", rate, "rounded to the minute past a minute")
	_, rate = tr.line(pr, start)
	assert.Empty(t, rate, "no rate before time has passed")
	p := migrate.Progress{Batches: 3, States: map[batchState]int{stateAccepted: 1, stateUnknown: 1, stateRejected: 1}}
	assert.Equal(t, "3 batches: 1 accepted, 1 outcome unknown, 1 rejected", report.BatchSummary(p))
}

// A batch Twilio refuses (a 400) is rejected; the others go on, and the
// next run submits the rejected one again. A rate limit stops the run.
func TestRejectedBatchAndRateLimit(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST"}) // batch 1 goes through
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 400})
	csvPath := writeCSV(t, fivePlain)
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-batch-size", "2")...))
	assert.Contains(t, h.stderr.String(), "Twilio refused batch 2; no bulk hosting request was created, so the next run submits it again")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, []batchState{stateAccepted, stateRejected, stateAccepted}, batchStates(j))
	assert.Equal(t, "rejected", j.Batches[1].Attempts[0].Outcome)
	assert.NotEmpty(t, j.Batches[1].Attempts[0].RequestID)

	h.stderr.Reset()
	h.stdout.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2", "-wait", "-poll", "1ms", "-table")...))
	assertOneOrderEach(t, h.srv, fivePhones...)
	assert.Len(t, tableRows(t, h.stdout.String()), 5)
}

// A rate limit that outlasts the SDK's retries says so, and when the
// command tries again; no later batch is sent before.
func TestRateLimitHoldsLaterBatches(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST"}) // batch 1 goes through
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 429, Count: hostednumbers.DefaultMaxRetries + 1, RetryAfter: "1"})
	csvPath := writeCSV(t, fivePlain)
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2")...))
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "429 Too Many Requests")
	assert.Regexp(t, `batch 2: Twilio's rate limit \(HTTP 429\): nothing was created; trying it again at \d\d:\d\d:\d\d, and no later batch is sent before`, errOut)

	// The POSTs: batch 1, batch 2 refused four times, batch 2 again a
	// second later, then batch 3.
	var posts []hostednumberstest.Request
	for _, r := range h.srv.Requests() {
		if r.Method == "POST" {
			posts = append(posts, r)
		}
	}
	require.Len(t, posts, 2+hostednumbers.DefaultMaxRetries+1+1)
	refused := posts[1+hostednumbers.DefaultMaxRetries]
	assert.Equal(t, 429, refused.Status)
	again, third := posts[len(posts)-2], posts[len(posts)-1]
	assert.Contains(t, string(again.Body), "+14155550103", "batch 2 again")
	assert.Contains(t, string(third.Body), "+14155550105", "then batch 3")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, []batchState{stateAccepted, stateAccepted, stateAccepted}, batchStates(j))
	a := j.Batches[1].Attempts[0]
	require.NotNil(t, a.Reason)
	assert.True(t, a.Reason.RateLimited)
	assert.Equal(t, migrate.Duration(time.Second), a.Reason.RetryAfter)
	assertOneOrderEach(t, h.srv, fivePhones...)
}

// An order made outside a bulk request (a reconciliation can find one) is
// refreshed on its own.
func TestStatusRefreshesOrderWithoutBulkRequest(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	createOrder(t, h.srv, "+14155550109")
	waitProcessed(t, h.srv)
	var hr string
	for _, o := range h.srv.HostedNumberOrders() {
		hr = o.SID
	}
	state := filepath.Join(t.TempDir(), "j.json")
	st, err := logstore.Open(state, logstore.Options{})
	require.NoError(t, err)
	meta := migrate.Meta{App: appMark(false), Input: migrate.Input{Name: "x.csv", SHA256: strings.Repeat("0", 64)}, BatchSize: 10}
	n := migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: "+14155550109"}, Line: 2}
	require.NoError(t, st.Start(t.Context(), meta, migrate.Batches(numberSeq([]migrate.NumberState{n}), 10)))
	b, err := st.Batch(t.Context(), 1)
	require.NoError(t, err)
	b.State = stateSending
	b.Attempts = []migrate.Attempt{{Kind: "create", Started: time.Now().UTC(), Numbers: 1}}
	b.Counts = map[string]int{migrate.StatusSubmitted: 1}
	n.HostingOrderSID = hr
	require.NoError(t, st.SaveBatch(t.Context(), &b, []migrate.NumberState{n}))
	require.NoError(t, st.Close())

	require.Equal(t, exitFailures, h.run("-live", "-status", "-state", state, "-table"))
	var fetched bool
	for _, r := range h.srv.Requests() {
		fetched = fetched || r.Path == "/v2/HostedNumber/Orders/"+hr
	}
	assert.True(t, fetched, "the order is fetched by its HR… SID")
	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 1)
	assert.Equal(t, []string{"failed", "+14155550109", "1", hr}, rows[0][:4])
}

// -status never exits 0 while a batch is in doubt, even when a look has
// found every one of its numbers already.
func TestStatusNeverZeroWhileABatchIsInDoubt(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "j.bulkhost.json")
	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	meta := migrate.Meta{BatchSize: 2, Contact: migrate.Contact{Email: "owner@example.com", AddressSID: addressSID}}
	numbers := func(yield func(migrate.NumberState, error) bool) {
		for _, p := range []string{"+14155550101", "+14155550102"} {
			if !yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: p}}, nil) {
				return
			}
		}
	}
	require.NoError(t, migrate.Start(t.Context(), st, meta, numbers))
	b, err := st.Batch(t.Context(), 1)
	require.NoError(t, err)
	ns, err := st.Numbers(t.Context(), 1)
	require.NoError(t, err)
	for i := range ns {
		ns[i].Status, ns[i].HostingOrderSID = "completed", "HR0123456789abcdef0123456789abcde"+string(rune('0'+i))
	}
	b.State, b.Counts = migrate.StateUnknown, map[string]int{"completed": 2}
	require.NoError(t, st.SaveBatch(t.Context(), &b, ns))
	require.NoError(t, st.Close())

	require.Equal(t, exitPending, h.run("-live", "-status", "-state", path))
	assert.Contains(t, h.stderr.String(), "1 batch is in doubt or not submitted yet")
}

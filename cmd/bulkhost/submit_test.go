package main

import (
	"bytes"
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
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

func TestSubmitAndWaitAllCompleted(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, threeNumbers)
	code := h.run(submitArgs(csvPath, "-wait", "-poll", "1ms",
		"-contact-phone", "+14155550100", "-contact-title", "CTO",
		"-friendly-name", "Spring migration", "-notification-email", "ops@example.com", "-table")...)
	require.Equal(t, exitOK, code)

	lines := strings.Split(h.stdout.String(), "\n")
	sid := lines[0]
	require.Regexp(t, sidLine, sid, "the first line of stdout is the SID")

	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 3)
	hosted := h.srv.HostedNumberOrders()
	require.Len(t, hosted, 3)
	for i, want := range []string{"+14155550101", "+14155550102", "+14155550103"} {
		require.Len(t, rows[i], 5, "no DETAIL for a completed number")
		assert.Equal(t, []string{"completed", want, "1"}, rows[i][:3])
		assert.Regexp(t, `^HR[0-9a-f]{32}$`, rows[i][3])
		assert.Equal(t, "signed", rows[i][4], "the LOA status")
		for _, o := range hosted {
			if o.PhoneNumber == want {
				assert.Equal(t, o.SID, rows[i][3])
			}
		}
	}
	assert.Contains(t, h.stdout.String(), "\nJournal "+csvPath+journalSuffix+": 1 batch: 1 accepted; 3 numbers\n  completed  3\n")
	assert.Contains(t, h.stderr.String(), "batch 1: submitted 3 numbers as bulk hosting request "+sid)

	// One create, then fetches; the create carried everything from the
	// CSV and the flags.
	reqs := h.srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 3)
	assert.Equal(t, "POST", reqs[0].Method)
	assert.Equal(t, 1, countMethod(h.srv, "POST"))
	// Following: the bulk request until its orders are known, then each
	// number by its hosted number order, and the LOA.
	allowed := []string{"/v2/HostedNumber/Orders/Bulk/" + sid, "/v2/HostedNumber/AuthorizationDocuments/" + hosted[0].SigningDocumentSID.String,
		"/v2/HostedNumber/AuthorizationDocuments/" + hosted[0].SigningDocumentSID.String + "/DependentHostedNumberOrders"}
	for _, o := range hosted {
		allowed = append(allowed, "/v2/HostedNumber/Orders/"+o.SID)
	}
	for _, r := range reqs[1:] {
		assert.Equal(t, "GET", r.Method)
		assert.Contains(t, allowed, r.Path)
	}
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, "Spring migration", body.FriendlyName)
	assert.Equal(t, "ops@example.com", body.NotificationEmail)
	require.Len(t, body.RequestItems, 1)
	item := body.RequestItems[0]
	assert.Equal(t, "owner@example.com", item.Email)
	assert.Equal(t, addressSID, item.AddressSID)
	assert.Equal(t, "+14155550100", item.ContactPhoneNumber)
	assert.Equal(t, "CTO", item.ContactTitle)
	require.Len(t, item.Numbers, 3)
	assert.Equal(t, hostednumbers.Number{PhoneNumber: "+14155550101", HostingOptions: hostednumbers.HostingOptions{
		FriendlyName: "Front desk", StatusCallbackURL: "https://hooks.example.com/hosting", StatusCallbackMethod: "POST",
	}}, item.Numbers[0])
	assert.Equal(t, hostednumbers.Number{PhoneNumber: "+14155550102", HostingOptions: hostednumbers.HostingOptions{
		FriendlyName: "Sales", CCEmails: []string{"a@example.com", "b@example.com"},
	}}, item.Numbers[1])
	assert.Equal(t, hostednumbers.Number{PhoneNumber: "+14155550103"}, item.Numbers[2])
	assert.Contains(t, reqs[0].Header.Get("User-Agent"), "bulkhost")

	// The journal holds what the report showed.
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	require.Len(t, j.Batches, 1)
	assert.Equal(t, stateAccepted, j.Batches[0].State)
	assert.Equal(t, []string{sid}, j.Batches[0].BulkHostingSIDs)
	for _, n := range j.Batches[0].Numbers {
		assert.Equal(t, "completed", n.Status)
		assert.Equal(t, sid, n.BulkHostingSID)
		assert.Regexp(t, `^HR`, n.HostingOrderSID)
	}
}

func TestSubmitAndWaitSomeFailed(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	code := h.run(submitArgs(writeCSV(t, fiveNumbers), "-wait", "-poll", "1ms", "-table")...)
	require.Equal(t, exitFailures, code)

	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 5)
	wantDetail := hostednumberstest.DefaultFailureReason + "; next step: " + hostednumberstest.DefaultNextStep
	want := [][2]string{
		{"completed", "+14155550101"}, {"completed", "+14155550102"}, {"completed", "+14155550103"},
		{"failed", "+14155550109"}, {"failed", "+14155550119"},
	}
	for i, w := range want {
		assert.Equal(t, w[0], rows[i][0], "row %d", i)
		assert.Equal(t, w[1], rows[i][1], "row %d", i)
		if w[0] == "failed" {
			require.Len(t, rows[i], 6)
			assert.Equal(t, wantDetail, rows[i][5])
		}
	}
	assert.Contains(t, h.stdout.String(), "; 5 numbers\n  completed  3\n  failed     2\n")
	assert.Contains(t, h.stderr.String(), "2 numbers failed or need action")
}

func TestJSONOutput(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	h.stdin = fiveNumbers
	state := filepath.Join(t.TempDir(), "journal.json")
	code := h.run(submitArgs("-", "-state", state, "-wait", "-poll", "1ms", "-json")...)
	require.Equal(t, exitFailures, code)

	// stdout is exactly one JSON document: no SID line before it.
	dec := json.NewDecoder(bytes.NewReader(h.stdout.Bytes()))
	dec.DisallowUnknownFields()
	var got statusDocument
	require.NoError(t, dec.Decode(&got))
	require.False(t, dec.More())
	// No progress with -json, on either stream.
	assert.NotContains(t, h.stderr.String(), "5 numbers:")

	assert.Equal(t, state, got.Journal)
	assert.Equal(t, "standard input", got.Input.Name)
	assert.Equal(t, 5, got.Input.Numbers)
	assert.Equal(t, map[string]int{"completed": 3, "failed": 2}, got.Counts)
	require.Len(t, got.Batches, 1)
	assert.Equal(t, "accepted", got.Batches[0].State)
	require.Len(t, got.Batches[0].BulkHostingSIDs, 1)
	sid := got.Batches[0].BulkHostingSIDs[0]
	assert.Regexp(t, sidLine, sid)
	require.Len(t, got.Numbers, 5)
	wantPhones := []string{"+14155550101", "+14155550102", "+14155550103", "+14155550109", "+14155550119"}
	for i, o := range got.Numbers {
		assert.Equal(t, wantPhones[i], o.PhoneNumber)
		require.NotNil(t, o.HostingOrderSID)
		assert.Regexp(t, `^HR[0-9a-f]{32}$`, *o.HostingOrderSID)
		require.NotNil(t, o.BulkHostingSID)
		assert.Equal(t, sid, *o.BulkHostingSID)
		assert.Equal(t, 1, o.Batch)
		if strings.HasSuffix(o.PhoneNumber, "9") {
			assert.Equal(t, "failed", o.Status)
			require.NotNil(t, o.FailureReason)
			require.NotNil(t, o.NextStep)
			assert.Equal(t, hostednumberstest.DefaultFailureReason, *o.FailureReason)
			assert.Equal(t, hostednumberstest.DefaultNextStep, *o.NextStep)
		} else {
			assert.Equal(t, "completed", o.Status)
			assert.Nil(t, o.FailureReason)
			assert.Nil(t, o.NextStep)
		}
	}

	// The member names are the documented ones, nulls included.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &raw))
	assert.ElementsMatch(t, []string{"journal", "input", "counts", "batches", "numbers"}, mapKeys(raw))
	first := raw["numbers"].([]any)[0].(map[string]any)
	assert.ElementsMatch(t, []string{"phone_number", "line", "batch", "status", "bulk_hosting_sid", "hosting_order_sid",
		"failure_reason", "next_step", "signing_document_sid", "loa_status"}, mapKeys(first))
	assert.Nil(t, first["failure_reason"])
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSubmitWithoutWait(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, threeNumbers)
	code := h.run(submitArgs(csvPath)...)
	require.Equal(t, exitOK, code)
	out := h.stdout.String()
	require.Regexp(t, `^BH[0-9a-f]{32}\n$`, out, "stdout holds the SID alone")
	assert.Contains(t, h.stderr.String(), "bulkhost -live -status -state "+csvPath+journalSuffix+" -wait")
	reqs := h.srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "POST", reqs[0].Method)
}

func TestSubmitWithoutWaitJSON(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, threeNumbers), "-json")...))
	var got statusDocument
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &got))
	require.Len(t, got.Batches, 1)
	assert.Equal(t, "accepted", got.Batches[0].State)
	assert.Equal(t, map[string]int{"submitted": 3}, got.Counts)
	require.Len(t, got.Numbers, 3)
	assert.Nil(t, got.Numbers[0].HostingOrderSID, "not known before a refresh")
	assert.Len(t, h.srv.Requests(), 1)
}

func TestCreateServerErrorIsNotRetried(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
	csvPath := writeCSV(t, threeNumbers)
	// Without -wait: the batch is in doubt, nothing is sent again, and the
	// command says when to run again.
	require.Equal(t, exitPending, h.run(submitArgs(csvPath, "-settle", "300ms")...))
	reqs := h.srv.Requests()
	require.Equal(t, 1, countMethod(h.srv, "POST"), "a create answered 500 is never resent")
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "500 Internal Server Error")
	assert.Contains(t, errOut, "HTTP status:        500")
	// Twilio documents no code for a 500, and the fake sends none.
	assert.NotContains(t, errOut, "Twilio error code:")
	assert.Contains(t, errOut, "Twilio-Request-Id:  "+reqs[0].RequestID)
	assert.Contains(t, errOut, "may have reached Twilio")
	assert.Contains(t, errOut, "batch 1 is in doubt")
	assert.Regexp(t, `run the same command again at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d or later`, errOut)
	assert.Empty(t, h.stdout.String())

	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, stateUnknown, j.Batches[0].State)
	require.Len(t, j.Batches[0].Attempts, 2)
	a := j.Batches[0].Attempts[0]
	assert.Equal(t, reqs[0].RequestID, a.RequestID)
	assert.False(t, a.Ended.IsZero())
	assert.Equal(t, migrate.Duration(300*time.Millisecond), a.Settle)
	require.NotNil(t, j.Batches[0].Doubt)
	assert.Equal(t, []string{"+14155550101", "+14155550102", "+14155550103"}, j.Batches[0].Doubt.Missing)
	assert.WithinDuration(t, a.Ended.Add(300*time.Millisecond), j.Batches[0].Doubt.WindowClosesAt, time.Millisecond)

	// Run again with -wait: two looks apart find nothing after the
	// window the create was sent with, so the numbers are sent again,
	// once.
	h.stdout.Reset()
	h.stderr.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-wait", "-poll", "1ms", "-settle", "100ms")...))
	assert.Contains(t, h.stderr.String(), "batch 1: none created: submitting again")
	assert.Equal(t, 2, countMethod(h.srv, "POST"))
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550102", "+14155550103")
}

func TestCreateUnauthorized(t *testing.T) {
	h := newHarness(t)
	h.env["TWILIO_AUTH_TOKEN"] = "wrong-token"
	csvPath := writeCSV(t, fiveNumbers)
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-batch-size", "2")...))
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "401 Unauthorized")
	assert.Contains(t, errOut, "Twilio error code:  20003")
	assert.Contains(t, errOut, "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	assert.Contains(t, errOut, "no bulk hosting request was created")
	assert.NotContains(t, errOut, "wrong-token")
	assert.Len(t, h.srv.Requests(), 1, "refused credentials stop the other batches")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, []batchState{stateRejected, statePlanned, statePlanned}, batchStates(j))

	// With the right token, the same command submits all three batches.
	h.env["TWILIO_AUTH_TOKEN"] = hostednumberstest.AuthToken
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2")...))
	assert.Equal(t, 4, countMethod(h.srv, "POST"))
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550109", "+14155550102", "+14155550119", "+14155550103")
}

func TestCreateAcceptedButUnreadable(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 202, Body: `{"bulk_hosting_sid": `})
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, threeNumbers), "-wait", "-poll", "1ms", "-settle", "1s")...))
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "Twilio ACCEPTED batch 1 (HTTP 202)")
	assert.Contains(t, errOut, "sends nothing again until the answer is conclusive")
	assert.Contains(t, errOut, "Twilio-Request-Id")
	assert.Contains(t, errOut, "batch 1: all found in")
	assert.Equal(t, 1, countMethod(h.srv, "POST"))
	for _, r := range h.srv.Requests() {
		assert.NotEqual(t, "/v2/HostedNumber/Orders/Bulk/"+unknownSID, r.Path, "no fetch of an unknown SID")
	}
}

func TestProgressOnTerminal(t *testing.T) {
	h := newHarness(t)
	h.terminal = true
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, threeNumbers), "-wait", "-poll", "1ms")...))
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "\rsubmitting: 1 of 1 batch accepted, 3 of 3 numbers at Twilio")
	assert.Contains(t, errOut, "\rfollowing: 0 of 3 numbers done: 3 submitted\x1b[K")
	assert.Regexp(t, "\rfollowing: 3 of 3 numbers done: 3 completed; [0-9.]+ numbers/min\x1b\\[K\n$", errOut, "the last state stays on screen")
	assert.NotContains(t, errOut, "following the", "no plain start line on a terminal")
	assert.NotContains(t, h.stdout.String(), "\r")
}

func TestProgressOffTerminal(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, threeNumbers), "-wait", "-poll", "1ms")...))
	errOut := h.stderr.String()
	assert.NotContains(t, errOut, "\r")
	assert.NotContains(t, errOut, "\x1b")
	// Many refreshes, but one line per change.
	assert.GreaterOrEqual(t, countMethod(h.srv, "GET"), 3)
	var progress []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "following: ") {
			progress = append(progress, l)
		}
	}
	require.NotEmpty(t, progress)
	assert.LessOrEqual(t, len(progress), 2, "a line every few seconds, and the last state: %q", progress)
	assert.Equal(t, "following: 0 of 3 numbers done: 3 submitted", progress[0])
	assert.Regexp(t, "^following: 3 of 3 numbers done: 3 completed; [0-9.]+ numbers/min$", progress[len(progress)-1])
}

func TestWaitTimeout(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithStageDuration(time.Hour))
	csvPath := writeCSV(t, threeNumbers)
	code := h.run(submitArgs(csvPath, "-wait", "-poll", "5ms", "-timeout", "1s")...)
	require.Equal(t, exitError, code)
	sid := strings.TrimSpace(strings.SplitN(h.stdout.String(), "\n", 2)[0])
	require.Regexp(t, sidLine, sid)
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "following the numbers: context deadline exceeded")
	assert.Contains(t, errOut, "the run took longer than -timeout (1s) allows")
	assert.NotContains(t, errOut, "-attempt-timeout")
	assert.Contains(t, errOut, "follow the numbers again with the same command")
	assert.Equal(t, 1, countMethod(h.srv, "POST"))

	// The same command again follows the same request: nothing is resent.
	h.stderr.Reset()
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-wait", "-poll", "5ms", "-timeout", "50ms")...))
	assert.Contains(t, h.stderr.String(), "resuming from journal")
	assert.Equal(t, 1, countMethod(h.srv, "POST"))
}

func TestDefaultTerminalDetection(t *testing.T) {
	c := &cli{getenv: func(string) string { return "" }}
	assert.False(t, c.terminal(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	assert.False(t, c.terminal(f), "a regular file is not a terminal")
}

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// oneDocument decodes standard output as exactly one JSON object.
func oneDocument(t *testing.T, out []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	var doc map[string]any
	require.NoError(t, dec.Decode(&doc), "stdout:\n%s", out)
	var more any
	assert.ErrorIs(t, dec.Decode(&more), io.EOF, "one document only; stdout:\n%s", out)
	return doc
}

// With -json, every exit prints exactly one JSON document: the result, or
// {"exit_code", "error"} when there is none.
func TestJSONOneDocumentOnEveryExit(t *testing.T) {
	t.Run("bad flag", func(t *testing.T) {
		h := newHarness(t)
		require.Equal(t, exitError, h.run("-json", "-batch-size", "0"))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Equal(t, map[string]any{"exit_code": float64(exitError), "error": "-batch-size: must be from 1 to 1000 (Twilio's limit of numbers per request)"}, doc)
	})
	t.Run("unparsable flag", func(t *testing.T) {
		h := newHarness(t)
		require.Equal(t, exitError, h.run("-json", "-no-such-flag"))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Equal(t, float64(exitError), doc["exit_code"])
		assert.Contains(t, doc["error"], "run bulkhost -h for usage")
	})
	t.Run("bad CSV", func(t *testing.T) {
		h := newHarness(t)
		require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, "phone_number\n+0\n"), "-json")...))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Equal(t, float64(exitError), doc["exit_code"])
		assert.NotEmpty(t, doc["error"])
	})
	t.Run("dry run", func(t *testing.T) {
		h := newHarness(t)
		require.Equal(t, exitOK, h.run("-dry-run", "-json", "-batch-size", "2", "-csv", writeCSV(t, threeNumbers), "-email", "owner@example.com", "-address-sid", addressSID))
		doc := oneDocument(t, h.stdout.Bytes())
		reqs, ok := doc["requests"].([]any)
		require.True(t, ok)
		assert.Len(t, reqs, 2, "one request body per batch, in one document")
	})
	t.Run("in doubt", func(t *testing.T) {
		h := newHarness(t)
		h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
		require.Equal(t, exitPending, h.run(submitArgs(writeCSV(t, threeNumbers), "-json", "-settle", "1h")...))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Contains(t, doc, "batches")
		assert.Equal(t, map[string]any{"outcome-unknown": float64(3)}, doc["counts"])
	})
	t.Run("some failed", func(t *testing.T) {
		h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("3")))
		require.Equal(t, exitFailures, h.run(submitArgs(writeCSV(t, threeNumbers), "-json", "-wait", "-poll", "1ms")...))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Equal(t, map[string]any{"completed": float64(2), "failed": float64(1)}, doc["counts"])
	})
	t.Run("interrupted", func(t *testing.T) {
		h := newHarness(t, hostednumberstest.WithProcessingDelay(time.Hour, 0))
		ctx, cancel := context.WithCancel(context.Background())
		h.checkpoint = func(step string) {
			if step == stepMidWait {
				cancel()
			}
		}
		require.Equal(t, exitInterrupted, h.runCtx(ctx, submitArgs(writeCSV(t, threeNumbers), "-json", "-wait", "-poll", "1ms")...))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Equal(t, float64(exitInterrupted), doc["exit_code"])
	})
}

// The error document is the error the mode returned, not a line read
// back from standard error: a refusal whose last printed line is a hint
// still has its own message, and an API error has its message without the
// particulars printed under it.
func TestJSONErrorIsTheModesError(t *testing.T) {
	t.Run("hints after the message", func(t *testing.T) {
		h := newHarness(t)
		h.env["TWILIO_ACCOUNT_SID"], h.env["TWILIO_AUTH_TOKEN"] = "AC0123456789abcdef0123456789abcdef", "token"
		require.Equal(t, exitError, h.run("-csv", writeCSV(t, threeNumbers), "-json"))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Equal(t, "refusing to run: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set, so this would call the real Twilio API.", doc["error"])
		assert.True(t, strings.HasSuffix(h.stderr.String(), "bulkhost: or unset the TWILIO_* credentials to run the demo against a local fake server.\n"), "the hint is printed last")
	})
	t.Run("particulars under the message", func(t *testing.T) {
		h := newHarness(t)
		h.env["TWILIO_AUTH_TOKEN"] = "wrong-token"
		require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, threeNumbers), "-json")...))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.True(t, strings.HasPrefix(doc["error"].(string), "Twilio refused the credentials (HTTP 401)"), doc["error"])
		assert.Contains(t, h.stderr.String(), "  HTTP status:        401\n")
		assert.NotContains(t, doc["error"], "HTTP status:")
	})
	t.Run("problems", func(t *testing.T) {
		h := newHarness(t)
		require.Equal(t, exitError, h.run("-json", "-batch-size", "0", "-timeout", "0"))
		doc := oneDocument(t, h.stdout.Bytes())
		assert.Equal(t, "bad command line: 2 problems", doc["error"])
		assert.Equal(t, []any{"-timeout: must be positive", "-batch-size: must be from 1 to 1000 (Twilio's limit of numbers per request)"}, doc["problems"])
		assert.Contains(t, h.stderr.String(), "bulkhost: bad command line: 2 problems:\n  -timeout: must be positive\n")
	})
	t.Run("typed", func(t *testing.T) {
		inner := errors.New("boom")
		err := error(&runError{code: exitPending, msg: "m", err: inner})
		assert.Equal(t, exitPending, codeOf(err))
		assert.ErrorIs(t, err, inner)
		assert.Equal(t, exitOK, codeOf(nil))
		assert.Equal(t, exitError, codeOf(inner), "an error of no status is exitError")
		assert.Equal(t, "exit status 3", exitWith(exitPending).Error())
	})
}

func TestJSONRequested(t *testing.T) {
	for args, want := range map[string]bool{"-json": true, "--json": true, "-json=true": true, "-json=false": false, "-jsonx": false, "json": false} {
		assert.Equal(t, want, jsonRequested([]string{args}), args)
	}
	assert.False(t, jsonRequested([]string{"--", "-json"}))
}

// -export writes the journal's numbers in the statuses asked for, as CSV
// or JSON, without asking Twilio or needing credentials.
func TestExport(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	csvPath := writeCSV(t, fiveNumbers)
	require.Equal(t, exitFailures, h.run(submitArgs(csvPath, "-wait", "-poll", "1ms", "-batch-size", "2")...))
	requests := len(h.srv.Requests())
	h.env = nil // no credentials needed

	out := filepath.Join(t.TempDir(), "failed.csv")
	h.stderr.Reset()
	require.Equal(t, exitOK, h.run("-export", out, "-export-status", "failed", "-csv", csvPath))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3, "the header and the two failed numbers")
	assert.Equal(t, []string{"phone_number", "status", "batch", "line", "bulk_hosting_sid", "hosting_order_sid", "failure_reason", "next_step", "signing_document_sid", "loa_status"}, rows[0])
	assert.Equal(t, []string{"+14155550109", "failed", "1", "3"}, rows[1][:4])
	assert.Equal(t, []string{"+14155550119", "failed", "2", "5"}, rows[2][:4])
	assert.Equal(t, hostednumberstest.DefaultFailureReason, rows[1][6])
	assert.Contains(t, h.stderr.String(), "exported 2 numbers")

	// JSON, every number; and a file is never overwritten.
	jsonOut := filepath.Join(t.TempDir(), "all.json")
	require.Equal(t, exitOK, h.run("-export", jsonOut, "-csv", csvPath))
	data, err = os.ReadFile(jsonOut)
	require.NoError(t, err)
	var all []statusNumber
	require.NoError(t, jsonUnmarshalStrict(data, &all))
	assert.Len(t, all, 5)
	h.stderr.Reset()
	require.Equal(t, exitError, h.run("-export", jsonOut, "-csv", csvPath))
	assert.Contains(t, h.stderr.String(), "does not overwrite")
	assert.Len(t, h.srv.Requests(), requests, "nothing asked of Twilio")
}

// -resubmit sends the failed numbers again, once, in a request of their
// own; the others are left alone.
func TestResubmitFailedNumbers(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	csvPath := writeCSV(t, fiveNumbers)
	require.Equal(t, exitFailures, h.run(submitArgs(csvPath, "-wait", "-poll", "1ms", "-batch-size", "2")...))
	require.Equal(t, 3, countMethod(h.srv, "POST"))

	h.stderr.Reset()
	h.stdout.Reset()
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-resubmit", "completed")...))
	assert.Contains(t, h.stderr.String(), `"completed" cannot be submitted again`)
	require.Equal(t, 3, countMethod(h.srv, "POST"))

	h.stderr.Reset()
	require.Equal(t, exitFailures, h.run(submitArgs(csvPath, "-resubmit", "failed", "-wait", "-poll", "1ms")...))
	assert.Contains(t, h.stderr.String(), "-resubmit: 2 numbers in failed marked to be submitted again")
	var posts []hostednumberstest.Request
	for _, r := range h.srv.Requests() {
		if r.Method == "POST" {
			posts = append(posts, r)
		}
	}
	require.Len(t, posts, 5, "one more create for each batch with a failed number")
	for _, p := range posts[3:] {
		body := string(p.Body)
		assert.NotContains(t, body, "+14155550101")
		assert.NotContains(t, body, "+14155550102")
		assert.NotContains(t, body, "+14155550103")
	}
	waitProcessed(t, h.srv)
	count := map[string]int{}
	for _, o := range h.srv.HostedNumberOrders() {
		count[o.PhoneNumber]++
	}
	assert.Equal(t, map[string]int{"+14155550101": 1, "+14155550102": 1, "+14155550103": 1, "+14155550109": 2, "+14155550119": 2}, count,
		"the failed numbers again, the others not")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Len(t, j.Batches[0].BulkHostingSIDs, 2, "the earlier request is kept")
}

// A batch Twilio refuses shows Twilio's reason and the numbers it names,
// and the journal keeps them.
func TestRejectionShowsTwilioReason(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 400,
		Body: `{"code": 21422, "message": "Phone number +14155550102 cannot be hosted", "more_info": "https://www.twilio.com/docs/errors/21422", "status": 400}`})
	csvPath := writeCSV(t, threeNumbers)
	require.Equal(t, exitError, h.run(submitArgs(csvPath)...))
	assert.Contains(t, h.stderr.String(), "Twilio refused batch 1; no bulk hosting request was created, so the next run submits it again. "+
		"Twilio's reason: Phone number +14155550102 cannot be hosted (code 21422); it names [+14155550102]: fix or remove it in the input")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	r := j.Batches[0].Attempts[0].Reason
	require.NotNil(t, r)
	assert.Equal(t, 21422, r.Code)
	assert.Equal(t, []string{"+14155550102"}, r.Numbers)
}

// The input may change between runs as an operator needs: a number
// removed before it was submitted is withdrawn, a number added goes in a
// new batch. A submitted number removed, or a number's settings changed,
// is refused, and nothing is sent.
func TestInputChangesBetweenRuns(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST"}) // batch 1 goes through
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 400,
		Body: `{"code": 21422, "message": "Phone number +14155550103 cannot be hosted", "status": 400}`})
	csvPath := writeCSV(t, fivePlain)
	state := csvPath + journalSuffix
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-batch-size", "2")...))
	assert.Contains(t, h.stderr.String(), "it names [+14155550103]")
	posts := countMethod(h.srv, "POST")

	// A submitted number removed: refused.
	require.NoError(t, os.WriteFile(csvPath, []byte("phone_number\n+14155550102\n+14155550103\n+14155550104\n+14155550105\n"), 0o600))
	h.stderr.Reset()
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-batch-size", "2", "-state", state)...))
	assert.Contains(t, h.stderr.String(), "1 number submitted already is no longer in the input (+14155550101)")
	// A number's settings changed: refused.
	require.NoError(t, os.WriteFile(csvPath, []byte("phone_number,friendly_name\n+14155550101,\n+14155550102,\n+14155550103,\n+14155550104,Changed\n+14155550105,\n"), 0o600))
	h.stderr.Reset()
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-batch-size", "2", "-state", state)...))
	assert.Contains(t, h.stderr.String(), "1 number has other settings than the migration has (+14155550104)")
	assert.Equal(t, posts, countMethod(h.srv, "POST"), "nothing sent on a refused input")

	// The bad number removed (it was never submitted), one added.
	require.NoError(t, os.WriteFile(csvPath, []byte("phone_number\n+14155550101\n+14155550102\n+14155550104\n+14155550105\n+14155550106\n"), 0o600))
	h.stderr.Reset()
	h.stdout.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2", "-state", state, "-wait", "-poll", "1ms", "-table")...))
	assert.Contains(t, h.stderr.String(), "1 number added (in new batches), 1 withdrawn (removed before they were submitted: never sent), 0 restored")
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550102", "+14155550104", "+14155550105", "+14155550106")
	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 6, "the withdrawn number is listed too")
	assert.Equal(t, []string{"withdrawn", "+14155550103"}, rows[0][:2])

	// The same input again: nothing to do, nothing sent.
	posts = countMethod(h.srv, "POST")
	h.stderr.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2", "-state", state)...))
	assert.Equal(t, posts, countMethod(h.srv, "POST"))
}

// A resubmission whose create is in doubt is settled without taking the
// numbers' earlier (failed) orders for its own: they belong to a request
// the journal knows.
func TestResubmissionInDoubtIgnoresEarlierOrders(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	csvPath := writeCSV(t, fiveNumbers)
	require.Equal(t, exitFailures, h.run(submitArgs(csvPath, "-wait", "-poll", "1ms")...))
	require.Equal(t, 1, countMethod(h.srv, "POST"))

	// The resubmission's create gets a 500 and makes nothing.
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500})
	h.stderr.Reset()
	h.stdout.Reset()
	require.Equal(t, exitFailures, h.run(submitArgs(csvPath, "-resubmit", "failed", "-wait", "-poll", "1ms", "-settle", "300ms")...))
	assert.Contains(t, h.stderr.String(), "batch 1: none created: submitting again")
	assert.Equal(t, 3, countMethod(h.srv, "POST"), "the first create, the one in doubt, and the one after it was settled")
	waitProcessed(t, h.srv)
	count := map[string]int{}
	for _, o := range h.srv.HostedNumberOrders() {
		count[o.PhoneNumber]++
	}
	assert.Equal(t, 2, count["+14155550109"], "a new order next to the failed one")
	assert.Equal(t, 2, count["+14155550119"])
	assert.Equal(t, 1, count["+14155550101"])
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// The -json error document carries the cause and every problem, with the
// CSV line of each, not only a summary line.
func TestJSONErrorDocumentListsEveryProblem(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, "phone_number\n+14155550101\nnot-a-number\n+14155550101\n")
	require.Equal(t, exitError, h.run("-json", "-live", "-csv", csvPath))
	doc := oneDocument(t, h.stdout.Bytes())
	assert.Equal(t, float64(exitError), doc["exit_code"])
	assert.Contains(t, doc["error"], "problems")
	problems, ok := doc["problems"].([]any)
	require.True(t, ok, "problems is a list: %v", doc)
	var text []string
	for _, p := range problems {
		text = append(text, p.(string))
	}
	all := strings.Join(text, "\n")
	assert.Contains(t, all, "-email: is required")
	assert.Contains(t, all, "-address-sid: is required")
	assert.Contains(t, all, "line 3:", "the bad number's CSV line")
	assert.Contains(t, all, "line 4:", "the repeated number's CSV line")
	assert.Empty(t, h.srv.Requests())
}

// An unknown flag's document says which flag, not only where the usage is.
func TestJSONErrorDocumentNamesTheUnknownFlag(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitError, h.run("-json", "-frobnicate"))
	doc := oneDocument(t, h.stdout.Bytes())
	assert.Contains(t, doc["error"], "flag provided but not defined: -frobnicate")
	assert.Contains(t, h.stderr.String(), "flag provided but not defined: -frobnicate")
}

// A CSV of the operator's never runs against the demo's fake server
// without -demo: with no credentials it is an error naming them.
func TestCSVWithoutCredentialsIsAnError(t *testing.T) {
	h := newHarness(t)
	h.env = nil
	csvPath := writeCSV(t, threeNumbers)
	require.Equal(t, exitError, h.run("-csv", csvPath, "-email", "owner@example.com", "-address-sid", addressSID))
	assert.Contains(t, h.stderr.String(), "no Twilio credentials in the environment: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	assert.Contains(t, h.stderr.String(), "-demo")
	assert.Nil(t, h.demoSrv, "no demo server was started")
	_, err := os.Stat(csvPath + journalSuffix)
	assert.True(t, os.IsNotExist(err), "no journal was made")

	// With -demo it runs against the fake, as asked.
	h = newHarness(t)
	h.env = nil
	require.Equal(t, exitOK, h.run("-demo", "-csv", csvPath, "-state", filepath.Join(t.TempDir(), "demo.journal")))
	require.NotNil(t, h.demoSrv)
	assert.NotEmpty(t, h.demoSrv.Requests())
	assert.Empty(t, h.srv.Requests())
}

// -demo and -live contradict each other.
func TestDemoWithLiveIsRefused(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitError, h.run("-demo", "-live"))
	assert.Contains(t, h.stderr.String(), "-demo: does not go with -live")
	assert.Nil(t, h.demoSrv)
	assert.Empty(t, h.srv.Requests())
}

func TestFlagValuesThatDoNotApplyAreRefused(t *testing.T) {
	t.Run("unknown export status", func(t *testing.T) {
		h := newHarness(t)
		h.env = nil
		require.Equal(t, exitError, h.run("-export", "-", "-state", filepath.Join(t.TempDir(), "j"), "-export-status", "failed,bogus"))
		assert.Contains(t, h.stderr.String(), `-export-status: "bogus" is not a report status`)
		assert.NotContains(t, h.stderr.String(), `"failed" is not`)
		assert.Empty(t, h.stdout.String())
	})
	t.Run("resubmit in the demo", func(t *testing.T) {
		h := newHarness(t)
		h.env = nil
		require.Equal(t, exitError, h.run("-resubmit", "failed"))
		assert.Contains(t, h.stderr.String(), "-resubmit: does not apply to the demo")
		assert.Nil(t, h.demoSrv)
	})
}

func TestEveryReportStatusCanBeExported(t *testing.T) {
	h := newHarness(t)
	h.env = nil
	require.Equal(t, exitError, h.run("-export", "-", "-state", filepath.Join(t.TempDir(), "j"), "-export-status", strings.Join(reportStatuses(), ",")))
	assert.NotContains(t, h.stderr.String(), "is not a report status")
	assert.Contains(t, h.stderr.String(), "no journal")
}

// A 401 says first what to fix: the credentials.
func TestUnauthorizedNamesTheCredentialsFirst(t *testing.T) {
	h := newHarness(t)
	h.env["TWILIO_AUTH_TOKEN"] = "wrong-token-value"
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, threeNumbers))...))
	first, _, _ := strings.Cut(h.stderr.String()[strings.Index(h.stderr.String(), "Twilio refused the credentials"):], "\n")
	assert.Contains(t, first, "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	assert.NotContains(t, h.stderr.String(), "wrong-token-value")

	h = newHarness(t)
	h.env["TWILIO_AUTH_TOKEN"] = "wrong-token-value"
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, threeNumbers), "-json")...))
	doc := oneDocument(t, h.stdout.Bytes())
	assert.True(t, strings.HasPrefix(doc["error"].(string), "Twilio refused the credentials (HTTP 401): check TWILIO_ACCOUNT_SID"), doc["error"])
}

func TestEmptyAndForeignJournalsAreRefused(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.journal")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	foreign := filepath.Join(dir, "settings.json")
	require.NoError(t, os.WriteFile(foreign, []byte(`{"name": "not a journal"}`+"\n"), 0o600))
	csvPath := writeCSV(t, threeNumbers)

	h := newHarness(t)
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-state", empty)...))
	assert.Contains(t, h.stderr.String(), "is empty (0 bytes), so it is not a journal")
	assert.Empty(t, h.srv.Requests())
	data, err := os.ReadFile(empty)
	require.NoError(t, err)
	assert.Empty(t, data, "left as it was")

	h = newHarness(t)
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-state", foreign)...))
	assert.Contains(t, h.stderr.String(), "is not a bulkhost journal")
	assert.NotContains(t, h.stderr.String(), "format 0")
	assert.Empty(t, h.srv.Requests())
	data, err = os.ReadFile(foreign)
	require.NoError(t, err)
	assert.Equal(t, `{"name": "not a journal"}`+"\n", string(data))
}

// SIGINT during the eligibility check says which step it stopped.
func TestInterruptDuringTheCheckSaysWhichStep(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithStageDuration(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	signals, interrupt := context.WithCancel(ctx)
	go func() {
		for ctx.Err() == nil && len(h.srv.BulkEligibilityChecks()) == 0 {
			time.Sleep(time.Millisecond)
		}
		interrupt() // the check is created and being waited for
	}()
	require.Equal(t, exitInterrupted, h.runCtx(signals, checkedArgs(writeCSV(t, threeNumbers), "-json")...))
	doc := oneDocument(t, h.stdout.Bytes())
	assert.True(t, strings.HasPrefix(doc["error"].(string), "checking batch 1 before it is sent: interrupted; the journal"), doc["error"])
	assert.Contains(t, h.stderr.String(), "bulkhost: checking batch 1 before it is sent: interrupted; the journal")
	assert.Zero(t, countMethod(h.srv, "POST")-1, "the check's create only: no bulk hosting request")
}

// A 3 000-number migration: progress counted against the whole on
// stderr, the routine line of each of its 30 batches folded into it, and
// a summary of at most 100 lines on stdout.
func TestLargeMigrationShowsProgressAndASummary(t *testing.T) {
	if testing.Short() {
		t.Skip("3 000 numbers")
	}
	var csv strings.Builder
	csv.WriteString("phone_number\n")
	for i := range 3000 {
		fmt.Fprintf(&csv, "+1415%07d\n", 5550000+i)
	}
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("7")))
	csvPath := writeCSV(t, csv.String())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.Equal(t, exitFailures, h.runCtx(ctx, submitArgs(csvPath, "-batch-size", "100", "-wait", "-poll", "1ms")...))

	out := h.stdout.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	assert.LessOrEqual(t, len(lines), 100, "the summary is short:\n%s", out)
	assert.Len(t, regexp.MustCompile(`(?m)^BH[0-9a-f]{32}$`).FindAllString(out, -1), 30, "one SID a batch")
	assert.Contains(t, out, "30 batches: 30 accepted; 3000 numbers\n")
	assert.Contains(t, out, "300 numbers need action:")
	assert.Len(t, tableRows(t, out), 20, "at most 20 of them listed")
	assert.Contains(t, out, "… and 280 more: list them all with\n  bulkhost -export - -export-status failed -state "+csvPath+journalSuffix)

	errOut := h.stderr.String()
	assert.NotContains(t, errOut, "submitted 100 numbers as bulk hosting request", "routine lines folded into the progress")
	assert.Regexp(t, `(?m)^submitting: 30 of 30 batches accepted, 3000 of 3000 numbers at Twilio`, errOut)
	assert.Regexp(t, `(?m)^following: 3000 of 3000 numbers done: 2700 completed, 300 failed`, errOut)
	assert.Less(t, strings.Count(errOut, "\n"), 40, "stderr stays short too:\n%s", errOut)
}

func TestConcurrencyFlagIsChecked(t *testing.T) {
	for _, v := range []string{"0", "65", "-1"} {
		h := newHarness(t)
		require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, threeNumbers), "-concurrency", v)...))
		assert.Contains(t, h.stderr.String(), "-concurrency: must be from 1 to 64")
		assert.Empty(t, h.srv.Requests())
	}
	h := newHarness(t)
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, threeNumbers), "-batch-size", "1", "-concurrency", "4")...))
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550102", "+14155550103")
}

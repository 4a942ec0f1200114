package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

const (
	addressSID = "AD0123456789abcdef0123456789abcdef"
	unknownSID = "BH00000000000000000000000000000000"
)

var sidLine = regexp.MustCompile(`^BH[0-9a-f]{32}$`)

// harness runs the command in-process against a fake server, with
// Twilio credentials for it in the injected environment.
type harness struct {
	t        *testing.T
	srv      *hostednumberstest.Server
	env      map[string]string
	stdin    string
	terminal bool
	demoSrv  *hostednumberstest.Server // set when the demo starts its server
	// stdinReader, if set, is standard input instead of stdin.
	stdinReader io.Reader
	maxInput    int64
	// checkpoint, if set, is called at each step a crash test may stop at.
	checkpoint func(step string)
	// fs, if set, is how the journal is written.
	fs logstore.FS

	stdout, stderr bytes.Buffer
}

func newHarness(t *testing.T, opts ...hostednumberstest.Option) *harness {
	t.Helper()
	srv := hostednumberstest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return &harness{
		t:   t,
		srv: srv,
		env: map[string]string{
			"TWILIO_ACCOUNT_SID": hostednumberstest.AccountSID,
			"TWILIO_AUTH_TOKEN":  hostednumberstest.AuthToken,
		},
	}
}

// run runs the command with args and returns its exit status. Output
// accumulates in h.stdout and h.stderr.
func (h *harness) run(args ...string) int {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.runCtx(ctx, args...)
}

// runCtx is run with ctx standing for the signals (SIGINT, SIGTERM).
func (h *harness) runCtx(ctx context.Context, args ...string) int {
	h.t.Helper()
	var stdin io.Reader = strings.NewReader(h.stdin)
	if h.stdinReader != nil {
		stdin = h.stdinReader
	}
	c := &cli{
		maxInput:   h.maxInput,
		checkpoint: h.checkpoint,
		fs:         h.fs,
		getenv:     func(k string) string { return h.env[k] },
		stdin:      stdin,
		stdout:     &h.stdout,
		stderr:     &h.stderr,
		isTerminal: func(io.Writer) bool { return h.terminal },
		clientOptions: []hostednumbers.Option{
			hostednumbers.WithBaseURL(h.srv.URL),
			hostednumbers.WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
		},
		newDemoServer: func() *hostednumberstest.Server {
			// The demo's script, with stages that move on every fetch.
			h.demoSrv = hostednumberstest.NewServer(hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")),
				hostednumberstest.WithEligibility(demoEligibility))
			t := h.t
			t.Cleanup(h.demoSrv.Close)
			return h.demoSrv
		},
	}
	code := c.run(ctx, args)
	h.t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, h.stdout.String(), h.stderr.String())
	return code
}

// writeCSV writes content to a file in a fresh directory and returns its path.
func writeCSV(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "numbers.csv")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// submitArgs are the flags of a live submit without the eligibility
// check (the tests of hosting itself count its requests), before any
// extra ones.
func submitArgs(csvPath string, extra ...string) []string {
	return append(checkedArgs(csvPath, "-skip-eligibility"), extra...)
}

// checkedArgs are the flags of a live submit that checks eligibility
// first, as bulkhost does by default, before any extra ones.
func checkedArgs(csvPath string, extra ...string) []string {
	return append([]string{"-live", "-csv", csvPath, "-email", "owner@example.com", "-address-sid", addressSID}, extra...)
}

// tableRows returns the rows of a results table: the lines between the
// header and the blank line before the summary, split into columns.
func tableRows(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "STATUS") {
			start = i + 1
			break
		}
	}
	require.GreaterOrEqual(t, start, 0, "no table header in:\n%s", out)
	var rows [][]string
	for _, l := range lines[start:] {
		if l == "" {
			break
		}
		fields := regexp.MustCompile(`\s{2,}`).Split(l, -1)
		rows = append(rows, fields)
	}
	return rows
}

const threeNumbers = `phone_number,friendly_name,status_callback_url,status_callback_method,cc_emails
+14155550101,Front desk,https://hooks.example.com/hosting,post,
+14155550102,Sales,,,a@example.com; b@example.com
+14155550103,,,,
`

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

const fiveNumbers = `phone_number
+14155550101
+14155550109
+14155550102
+14155550119
+14155550103
`

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

func TestBadRowsAllReportedNothingSent(t *testing.T) {
	h := newHarness(t)
	csv := `phone_number,friendly_name,sms_url,cc_emails
+14155550101,ok,,
+14155550102,ok,,
+0123,bad number,,
,missing number,,
+14155550101,duplicate,,
+14155550104,too,many,fields,here
+14155550105,bad url,ftp://example.com/sms,
+14155550106,bad cc,,ok@example.com;not-an-email
`
	code := h.run("-live", "-csv", writeCSV(t, csv), "-email", "not-an-email", "-address-sid", "AD123")
	require.Equal(t, exitError, code)
	errOut := h.stderr.String()
	for _, want := range []string{
		`-email: "not-an-email" is not an e-mail address`,
		`-address-sid: "AD123" is not a SID (AD and 32 hex digits)`,
		`line 4: phone_number "+0123": not an E.164 number`,
		`line 5: phone_number is empty`,
		`line 6: +14155550101 is a duplicate of line 2`,
		`line 7: 5 fields, but the header has 4`,
		`line 8: sms_url: "ftp://example.com/sms" is not an absolute http or https URL`,
		`line 9: cc_emails: "not-an-email" is not an e-mail address`,
		`nothing was submitted`,
		`8 problems`,
	} {
		assert.Contains(t, errOut, want)
	}
	// The SDK's own report of the same phone numbers is not repeated.
	assert.Equal(t, 1, strings.Count(errOut, "line 4:"))
	assert.Equal(t, 1, strings.Count(errOut, "line 6:"))
	// Problems come in order: flags, then lines.
	assert.Less(t, strings.Index(errOut, "-email:"), strings.Index(errOut, "line 4:"))
	assert.Less(t, strings.Index(errOut, "line 4:"), strings.Index(errOut, "line 9:"))
	assert.Empty(t, h.stdout.String())
	assert.Empty(t, h.srv.Requests(), "nothing reaches the server")
}

func TestCSVHeaderProblems(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      []string
	}{
		{"missing phone_number column", "friendly_name\nFront desk\n", []string{"line 1: the header has no phone_number column"}},
		{"unknown columns", "phone_number,Friendly_Name,colour,sms_urll\n+14155550101,x,red,\n",
			[]string{`line 1: unknown columns "colour", "sms_urll"; the columns are phone_number, friendly_name`}},
		{"column twice", "phone_number,friendly_name, Friendly_Name\n+14155550101,a,b\n",
			[]string{"line 1: column friendly_name appears twice in the header (columns 2 and 3)"}},
		{"empty file", "", []string{"the CSV is empty"}},
		{"header only", "phone_number\n", []string{"the CSV lists no phone numbers"}},
		{"syntax error", "phone_number,friendly_name\n+14155550101,\"unterminated\n", []string{"CSV syntax"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, tc.csv))...))
			for _, w := range tc.want {
				assert.Contains(t, h.stderr.String(), w)
			}
			assert.Empty(t, h.srv.Requests())
		})
	}
}

func TestHeaderAndFlagProblemsTogether(t *testing.T) {
	h := newHarness(t)
	code := h.run("-live", "-csv", writeCSV(t, "number\n+14155550101\n"), "-email", "nope", "-address-sid", addressSID)
	require.Equal(t, exitError, code)
	assert.Contains(t, h.stderr.String(), "3 problems")
	assert.Contains(t, h.stderr.String(), `-email: "nope" is not an e-mail address`)
	assert.Contains(t, h.stderr.String(), `line 1: unknown column "number"`)
	assert.Contains(t, h.stderr.String(), "line 1: the header has no phone_number column")
	assert.NotContains(t, h.stderr.String(), "request_items")
	assert.Empty(t, h.srv.Requests())
}

func TestCSVLenientFormatting(t *testing.T) {
	h := newHarness(t)
	// A byte order mark, header names in other cases with spaces, padded
	// cells, comments and blank lines.
	csv := "\ufeff Phone_Number , FRIENDLY_NAME,SMS_Method\n" +
		"# a comment line\n" +
		"  +14155550101 ,  Front desk  , get \n" +
		"\n" +
		"+14155550102,,\n"
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, csv))...))
	reqs := h.srv.Requests()
	require.Len(t, reqs, 1)
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	require.Len(t, body.RequestItems[0].Numbers, 2)
	assert.Equal(t, hostednumbers.Number{PhoneNumber: "+14155550101", HostingOptions: hostednumbers.HostingOptions{
		FriendlyName: "Front desk", SMSMethod: "GET",
	}}, body.RequestItems[0].Numbers[0])
	assert.Equal(t, hostednumbers.Number{PhoneNumber: "+14155550102"}, body.RequestItems[0].Numbers[1])
}

func TestLineNumbersCountCommentsAndBlankLines(t *testing.T) {
	h := newHarness(t)
	csv := "phone_number\n# comment\n\n+14155550101\n+1 415 555 0102\n+14155550101\n"
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, csv))...))
	assert.Contains(t, h.stderr.String(), `line 5: phone_number "+1 415 555 0102": not an E.164 number`)
	assert.Contains(t, h.stderr.String(), `line 6: +14155550101 is a duplicate of line 4`)
	assert.Empty(t, h.srv.Requests())
}

func TestBadFlags(t *testing.T) {
	csvPath := "numbers.csv" // never read: the flags are refused first
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-live", "-frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"bad duration", []string{"-live", "-poll", "soon"}, `invalid value "soon" for flag -poll`},
		{"zero poll", []string{"-live", "-fetch", unknownSID, "-poll", "0s"}, "-poll: must be positive"},
		{"negative timeout", []string{"-live", "-fetch", unknownSID, "-timeout", "-1s"}, "-timeout: must be positive"},
		{"positional argument", []string{"-live", "numbers.csv"}, `unexpected argument "numbers.csv"`},
		{"fetch with csv", []string{"-live", "-fetch", unknownSID, "-csv", csvPath}, "-csv: does not apply to -fetch"},
		{"fetch with email", []string{"-live", "-fetch", unknownSID, "-email", "a@example.com"}, "-email: does not apply to -fetch"},
		{"malformed fetch SID", []string{"-live", "-fetch", "BH123"}, `-fetch: "BH123" is not a bulk hosting SID (BH and 32 hex digits)`},
		{"hostile fetch SID", []string{"-live", "-fetch", "../../Accounts"}, `-fetch: "../../Accounts" is not a bulk hosting SID`},
		{"no csv", []string{"-live", "-email", "a@example.com", "-address-sid", addressSID}, "-csv: is required"},
		{"missing csv file", []string{"-live", "-csv", filepath.Join(t.TempDir(), "nope.csv"), "-email", "a@example.com", "-address-sid", addressSID}, "-csv: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			require.Equal(t, exitError, h.run(tc.args...))
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Empty(t, h.stdout.String())
			assert.Empty(t, h.srv.Requests())
		})
	}
}

func TestMissingContactFlags(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitError, h.run("-live", "-csv", writeCSV(t, threeNumbers)))
	assert.Contains(t, h.stderr.String(), "-email: is required")
	assert.Contains(t, h.stderr.String(), "-address-sid: is required")
	assert.Empty(t, h.srv.Requests())
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitOK, h.run("-h"))
	usage := h.stderr.String()
	for _, want := range []string{"Usage:", "-csv file", "-fetch BH…", "-live", "phone_number", "Exit status:",
		"-state file", "-batch-size n", "-status", "-attempt-timeout duration",
		"Journal:", "atomically and durably", "Resume: run the same command again", "in doubt and checked with Twilio", "-settle duration",
		"Status: -status refreshes", "LOA status", "\n  3    numbers still on their way", "\n  130  interrupted", "\n  1    some number failed"} {
		assert.Contains(t, usage, want)
	}
	assert.Empty(t, h.srv.Requests())
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

// assertOneOrderEach checks that the fake holds exactly one hosted number
// order for each phone number, and none for any other.
//
// The fake makes a request's orders when it processes it, a while after
// the create (and a create whose client left later still): it first waits,
// at most ten seconds, until every request it took is processed.
func assertOneOrderEach(t testing.TB, srv *hostednumberstest.Server, phones ...string) {
	t.Helper()
	waitProcessed(t, srv)
	count := make(map[string]int)
	for _, o := range srv.HostedNumberOrders() {
		count[o.PhoneNumber]++
	}
	want := make(map[string]int, len(phones))
	for _, p := range phones {
		want[p] = 1
	}
	assert.Equal(t, want, count, "hosted number orders per phone number")
}

// waitProcessed waits until every bulk request the fake holds, and every
// create it took, is processed (at most ten seconds).
func waitProcessed(t testing.TB, srv *hostednumberstest.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		creates := 0
		for _, r := range srv.Requests() {
			if strings.HasPrefix(r.CreatedSID, "BH") { // not the eligibility checks (EC…)
				creates++
			}
		}
		orders := srv.Orders()
		done := len(orders) >= creates
		for _, o := range orders {
			done = done && o.RequestStatus == hostednumbers.RequestStatusProcessed
		}
		if done {
			return
		}
		require.True(t, time.Now().Before(deadline), "the fake did not process its requests in time")
		time.Sleep(10 * time.Millisecond)
	}
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

func TestBadCredentialsInEnvironment(t *testing.T) {
	h := newHarness(t)
	h.env["TWILIO_ACCOUNT_SID"] = "not-a-sid"
	h.env["TWILIO_AUTH_TOKEN"] = "secret token"
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, threeNumbers))...))
	assert.Contains(t, h.stderr.String(), "TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits")
	assert.Contains(t, h.stderr.String(), "TWILIO_AUTH_TOKEN: must not contain spaces")
	assert.NotContains(t, h.stderr.String(), "secret token")
	assert.Empty(t, h.srv.Requests())
}

// createOrder submits numbers straight through the SDK and returns the SID.
func createOrder(t *testing.T, srv *hostednumberstest.Server, numbers ...string) string {
	t.Helper()
	item := hostednumbers.RequestItem{Email: "owner@example.com", AddressSID: addressSID}
	for _, n := range numbers {
		item.Numbers = append(item.Numbers, hostednumbers.Number{PhoneNumber: n})
	}
	order, err := srv.Client().BulkHostedNumberOrders.Create(context.Background(),
		&hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{item}})
	require.NoError(t, err)
	return order.BulkHostingSID
}

func TestFetchExisting(t *testing.T) {
	// Stages that move on each fetch, so that each -fetch sees the next.
	h := newHarness(t, hostednumberstest.WithImmediateProcessing(), hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	sid := createOrder(t, h.srv, "+14155550101", "+14155550109")

	// The first fetch finds the order in progress: nothing failed yet.
	require.Equal(t, exitOK, h.run("-live", "-fetch", sid))
	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 2)
	for _, r := range rows {
		assert.Equal(t, "pending-loa", r[0])
	}
	assert.Contains(t, h.stdout.String(), sid+": IN_PROGRESS, 2 numbers\n  pending-loa  2\n")

	// The second finds it processed, one number failed.
	h.stdout.Reset()
	require.Equal(t, exitFailures, h.run("-live", "-fetch", sid, "-json"))
	var got jsonResult
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &got))
	assert.Equal(t, sid, got.BulkHostingSID)
	assert.Equal(t, "PROCESSED", got.RequestStatus)
	assert.Equal(t, map[string]int{"completed": 1, "failed": 1}, got.Counts)
	require.Len(t, got.Orders, 2)
	assert.Equal(t, "+14155550109", got.Orders[1].PhoneNumber)
	assert.Equal(t, "failed", got.Orders[1].Status)

	for _, r := range h.srv.Requests()[1:] {
		assert.Equal(t, "GET", r.Method)
		assert.Equal(t, "/v2/HostedNumber/Orders/Bulk/"+sid, r.Path)
	}
}

func TestFetchAndWait(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	sid := createOrder(t, h.srv, "+14155550101", "+14155550109")
	require.Equal(t, exitFailures, h.run("-live", "-fetch", sid, "-wait", "-poll", "1ms"))
	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"completed", "failed"}, []string{rows[0][0], rows[1][0]})
	assert.NotContains(t, h.stdout.String(), "\n"+sid+"\n", "-fetch prints no SID line of its own")
}

func TestFetchUnknown(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitError, h.run("-live", "-fetch", unknownSID))
	reqs := h.srv.Requests()
	require.Len(t, reqs, 1, "a 404 is not retried")
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "fetching "+unknownSID)
	assert.Contains(t, errOut, "404 Not Found")
	assert.Contains(t, errOut, "HTTP status:        404")
	assert.Contains(t, errOut, "Twilio-Request-Id:  "+reqs[0].RequestID)
	assert.Empty(t, h.stdout.String())
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

func countMethod(srv *hostednumberstest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

func TestCredentialsWithoutLiveAreRefused(t *testing.T) {
	for _, args := range [][]string{
		{"-csv", "numbers.csv", "-email", "owner@example.com", "-address-sid", addressSID},
		{"-fetch", unknownSID},
		{},
	} {
		h := newHarness(t)
		require.Equal(t, exitError, h.run(args...))
		assert.Contains(t, h.stderr.String(), "refusing to run: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set")
		assert.Contains(t, h.stderr.String(), "Pass -live")
		assert.Empty(t, h.srv.Requests())
		assert.Nil(t, h.demoSrv, "no demo either")
	}
}

func TestPartialCredentialsAreCredentials(t *testing.T) {
	h := newHarness(t)
	h.env = map[string]string{"TWILIO_API_KEY": "SK0123456789abcdef0123456789abcdef"}
	require.Equal(t, exitError, h.run())
	assert.Contains(t, h.stderr.String(), "refusing to run: TWILIO_API_KEY is set")

	h.stderr.Reset()
	require.Equal(t, exitError, h.run("-live", "-fetch", unknownSID))
	assert.Contains(t, h.stderr.String(), "TWILIO_ACCOUNT_SID: is not set")
	assert.Empty(t, h.srv.Requests())
}

func TestLiveWithoutCredentials(t *testing.T) {
	h := newHarness(t)
	h.env = nil
	require.Equal(t, exitError, h.run("-live", "-fetch", unknownSID))
	assert.Contains(t, h.stderr.String(), "-live: no Twilio credentials in the environment")
	assert.Nil(t, h.demoSrv)
	assert.Empty(t, h.srv.Requests())
}

func TestDryRun(t *testing.T) {
	h := newHarness(t) // credentials present, no -live: -dry-run sends nothing anyway
	require.Equal(t, exitOK, h.run("-dry-run", "-csv", writeCSV(t, threeNumbers), "-email", "owner@example.com", "-address-sid", addressSID))
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &body))
	require.Len(t, body.RequestItems, 1)
	assert.Len(t, body.RequestItems[0].Numbers, 3)
	assert.Contains(t, h.stderr.String(), "nothing was submitted (-dry-run)")
	assert.Empty(t, h.srv.Requests())
	assert.Nil(t, h.demoSrv)
}

func TestDemo(t *testing.T) {
	h := newHarness(t)
	h.env = nil // no credentials at all
	code := h.run("-poll", "1ms", "-settle", "100ms")
	require.Equal(t, exitOK, code, "the demo ran as designed")
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "no Twilio credentials in the environment: running the demo against a local fake server with the bundled sample CSV")
	assert.Contains(t, errOut, "10 numbers in 3 batches of up to 4")
	// The scripted lost answer, and the resume that settles it.
	assert.Contains(t, errOut, "batch 2 may have reached Twilio")
	assert.Contains(t, errOut, "Running the same command again")
	assert.Contains(t, errOut, "batch 2: all found in BH")
	// The scripted 500, settled as "none created" after the window.
	assert.Contains(t, errOut, "batch 3 is in doubt")
	assert.Contains(t, errOut, "batch 3: none created: submitting again")
	assert.Contains(t, errOut, "a live run would have exited with status 1")

	sids := strings.Split(strings.SplitN(h.stdout.String(), "Journal ", 2)[0], "\n")
	require.Len(t, sids, 4, "three SIDs, one per batch, and the summary")
	for _, sid := range sids[:3] {
		require.Regexp(t, sidLine, sid)
	}
	assert.Contains(t, h.stdout.String(), "4 numbers need action:")
	rows := tableRows(t, h.stdout.String())
	require.Len(t, rows, 4, "the numbers that need action, not the completed ones")
	failed := 0
	for _, r := range rows {
		switch r[0] {
		case "failed":
			failed++
			assert.True(t, strings.HasSuffix(r[1], "9"), r[1])
		case migrate.StatusCheckFailed:
			assert.Equal(t, demoIneligible, r[1])
			assert.Contains(t, r[len(r)-1], wantRefusal())
		default:
			assert.Equal(t, "completed", r[0])
		}
	}
	assert.Equal(t, 3, failed)
	assert.Contains(t, h.stdout.String(), "3 batches: 3 accepted; 10 numbers\n  completed     6\n  failed        3\n  check-failed  1\n")
	assert.Contains(t, errOut, demoIneligible+" was not eligible (check-failed: never submitted)")

	// It ran against its own server, with the demo contact details and
	// the sample's per-number settings; the harness's server saw nothing.
	require.NotNil(t, h.demoSrv)
	assert.Empty(t, h.srv.Requests())
	reqs := requestsTo(h.demoSrv, http.MethodPost, createsPath)
	require.NotEmpty(t, reqs)
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, "owner@example.com", body.RequestItems[0].Email)
	assert.Equal(t, demoDefault("address-sid"), body.RequestItems[0].AddressSID)
	assert.Equal(t, "Front desk", body.RequestItems[0].Numbers[0].FriendlyName)
	// Four creates, the lost one never resent, the one Twilio never
	// processed sent again: one order per number.
	// Each batch was checked once before its first create.
	assert.Len(t, reqs, 4)
	assert.Len(t, checkedNumbers(t, h.demoSrv), 3)
	list, _ := readNumbers(bytes.NewReader(sampleCSV))
	var phones []string
	for _, n := range list.numbers {
		if n.PhoneNumber != demoIneligible {
			phones = append(phones, n.PhoneNumber)
		}
	}
	assertOneOrderEach(t, h.demoSrv, phones...)
	assertNeverSubmitted(t, h.demoSrv, demoIneligible)
}

func TestDemoFetchIsRefused(t *testing.T) {
	h := newHarness(t)
	h.env = nil
	require.Equal(t, exitError, h.run("-fetch", unknownSID))
	assert.Contains(t, h.stderr.String(), "-fetch: needs -live")
	assert.Nil(t, h.demoSrv)
}

func TestSampleCSVIsValid(t *testing.T) {
	list, problems := readNumbers(bytes.NewReader(sampleCSV))
	require.Empty(t, problems)
	require.Len(t, list.numbers, 10)
	failing := 0
	for _, n := range list.numbers {
		assert.Regexp(t, `^\+1415555010[0-9]$|^\+141555501[1-2][0-9]$`, n.PhoneNumber, "fictional 555-01xx numbers")
		assert.NotEmpty(t, n.FriendlyName)
		if strings.HasSuffix(n.PhoneNumber, "9") {
			failing++
		}
	}
	assert.Equal(t, 3, failing)
}

func TestDefaultTerminalDetection(t *testing.T) {
	c := &cli{getenv: func(string) string { return "" }}
	assert.False(t, c.terminal(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	assert.False(t, c.terminal(f), "a regular file is not a terminal")
}

func TestTableOrderAndOddValues(t *testing.T) {
	// Groups out of order, an unknown status, Twilio's pending_loa
	// spelling, a count given as a string, and a reason with a tab and a
	// newline in it.
	const doc = `{
	  "bulk_hosting_sid": "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "request_status": "PROCESSED",
	  "total_count": 4,
	  "results": [
	    {"order_status": "action-required", "count": "1", "orders": [
	      {"hosting_order_sid": "HR00000000000000000000000000000001", "phone_number": "+14155550104",
	       "failure_reason": "LOA\tunsigned\nby owner", "next_step": null}]},
	    {"order_status": "porting-soon", "count": 1, "orders": [
	      {"hosting_order_sid": "HR00000000000000000000000000000002", "phone_number": "+14155550103"}]},
	    {"order_status": "completed", "count": "1", "orders": [
	      {"hosting_order_sid": "HR00000000000000000000000000000003", "phone_number": "+14155550101"}]},
	    {"order_status": "pending_loa", "count": "1", "orders": [
	      {"hosting_order_sid": "HR00000000000000000000000000000004", "phone_number": "+14155550102"}]}
	  ]
	}`
	var order hostednumbers.BulkHostedNumberOrder
	require.NoError(t, json.Unmarshal([]byte(doc), &order))

	var out, errOut bytes.Buffer
	c := &cli{stdout: &out, stderr: &errOut}
	require.Equal(t, exitFailures, c.show(&order, &config{}), "action-required counts as failed")

	want := "STATUS           PHONE NUMBER  HOSTED NUMBER ORDER                 DETAIL\n" +
		"pending-loa      +14155550102  HR00000000000000000000000000000004\n" +
		"completed        +14155550101  HR00000000000000000000000000000003\n" +
		"action-required  +14155550104  HR00000000000000000000000000000001  LOA unsigned by owner\n" +
		"porting-soon     +14155550103  HR00000000000000000000000000000002\n" +
		"\n" +
		"Bulk hosting request BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: PROCESSED, 4 numbers\n" +
		"  pending-loa      1\n" +
		"  completed        1\n" +
		"  action-required  1\n" +
		"  porting-soon     1\n"
	assert.Equal(t, want, out.String())
	assert.Contains(t, errOut.String(), "1 number failed or needs action")

	assert.Equal(t, "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: PROCESSED, 4 numbers: 1 pending-loa, 1 completed, 1 action-required, 1 porting-soon",
		progressLine(&order))
}

// TestDemoInterruptAndRunAgain is the resume story of the README and of
// docs/bulkhost.md: the demo with a journal of its own, interrupted while
// it follows the numbers, then run again.
func TestDemoInterruptAndRunAgain(t *testing.T) {
	h := newHarness(t)
	h.env = nil
	state := filepath.Join(t.TempDir(), "demo.json")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.checkpoint = func(step string) {
		if step == stepMidWait {
			cancel() // as Ctrl-C does
		}
	}
	require.Equal(t, exitInterrupted, h.runCtx(ctx, "-state", state, "-poll", "1ms"))
	assert.Contains(t, h.stderr.String(), "following the numbers: interrupted")
	first := h.demoSrv
	j, err := loadJournal(state, nil, time.Now)
	require.NoError(t, err)
	assert.True(t, j.Meta.Demo)
	assert.Equal(t, []batchState{stateAccepted, stateAccepted, stateAccepted}, batchStates(j))

	h.checkpoint = nil
	h.stdout.Reset()
	h.stderr.Reset()
	require.Equal(t, exitOK, h.run("-state", state, "-poll", "1ms"))
	assert.NotSame(t, first, h.demoSrv)
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "resuming from journal "+state+" (3 batches: 3 accepted)")
	assert.Contains(t, errOut, "its 3 requests are re-created on this run's fake server")
	assert.NotContains(t, errOut, "will be lost", "the scripted fault is for a new journal only")
	assert.Contains(t, h.stdout.String(), "3 batches: 3 accepted; 10 numbers\n  completed     6\n  failed        3\n  check-failed  1\n")
	assert.Equal(t, 3, countMethod(h.demoSrv, "POST"))

	// A live run refuses the demo's journal (and the demo a live one:
	// TestDemoRefusesLiveJournal).
	h = newHarness(t)
	require.Equal(t, exitError, h.run("-live", "-status", "-state", state))
	assert.Contains(t, h.stderr.String(), "is the demo's")
}

// fivePlain are five numbers that all complete on a default fake server.
const fivePlain = "phone_number\n+14155550101\n+14155550102\n+14155550103\n+14155550104\n+14155550105\n"

var fivePhones = []string{"+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"}

func decodeStatus(t testing.TB, out string) statusDocument {
	t.Helper()
	var doc statusDocument
	require.NoError(t, jsonUnmarshalStrict([]byte(out), &doc))
	return doc
}

func jsonUnmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

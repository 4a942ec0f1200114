package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

const fiveNumbers = `phone_number
+14155550101
+14155550109
+14155550102
+14155550119
+14155550103
`

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

func countMethod(srv *hostednumberstest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
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

//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// binary is the bulkhost command, built once by TestMain (with the race
// detector when the tests have it) for the tests that run it as a process
// of its own (to kill it, or to measure it).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bulkhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bulkhost")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.CommandContext(context.Background(), "go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building bulkhost:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir) // a temporary directory; the exit code is what matters
	os.Exit(code)
}

// proc is one finished run of the built command.
type proc struct {
	code           int  // exit status, -1 if killed by a signal
	killed         bool // ended by SIGKILL
	stdout, stderr string
	maxRSS         int64 // peak resident memory, in KiB
}

// runProcess runs the command against srv with the test-only hooks in
// env, and waits for it, at most 60 seconds.
func runProcess(t testing.TB, srv *hostednumberstest.Server, crashAt string, stdin string, args ...string) proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = processEnv(srv, crashAt)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "the command did not finish in time; stderr:\n%s", stderr.String())
	p := proc{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		p.killed = true
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.maxRSS = ru.Maxrss
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running bulkhost: %v", err)
	}
	t.Logf("bulkhost %s (crash at %q): exit %d, killed %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), crashAt, p.code, p.killed, p.stdout, p.stderr)
	return p
}

func processEnv(srv *hostednumberstest.Server, crashAt string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"TWILIO_ACCOUNT_SID=" + hostednumberstest.AccountSID,
		"TWILIO_AUTH_TOKEN=" + hostednumberstest.AuthToken,
		envTestBaseURL + "=" + srv.URL,
	}
	if crashAt != "" {
		env = append(env, envTestCrashAt+"="+crashAt)
	}
	return env
}

// TestCrashAndResume kills the command with SIGKILL at each step of a
// migration of three batches, runs the same command again, and checks
// the fake: one hosted number order per number, no create sent twice, and
// a complete report.
func TestCrashAndResume(t *testing.T) {
	for _, tc := range []struct {
		crashAt string
		// states of the batches in the journal the killed run left
		states []batchState
		// creates the killed run sent
		posts int
		// what the second run says about batch 2
		resume string
	}{
		{"after-sending:2", []batchState{stateAccepted, stateSending, statePlanned}, 1, "batch 2: none created: submitting again"},
		{"after-answer:2", []batchState{stateAccepted, stateSending, statePlanned}, 2, "batch 2: all found in BH"},
		{"mid-wait:1", []batchState{stateAccepted, stateAccepted, stateAccepted}, 3, "resuming from journal"},
	} {
		t.Run(tc.crashAt, func(t *testing.T) {
			srv := hostednumberstest.NewServer()
			defer srv.Close()
			csvPath := writeCSV(t, fivePlain)
			args := submitArgs(csvPath, "-batch-size", "2", "-wait", "-poll", "1ms", "-settle", "200ms", "-table")

			first := runProcess(t, srv, tc.crashAt, "", args...)
			require.True(t, first.killed, "the command killed itself at %s", tc.crashAt)
			assert.Equal(t, tc.posts, countMethod(srv, "POST"))
			j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
			require.NoError(t, err, "the journal survives SIGKILL intact")
			assert.Equal(t, tc.states, batchStates(j))
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(csvPath), ".*tmp-*"))
			assert.Empty(t, leftovers, "no temporary journal left behind")

			second := runProcess(t, srv, "", "", args...)
			require.Equal(t, exitOK, second.code)
			assert.Contains(t, second.stderr, tc.resume)
			assert.Equal(t, 3, countMethod(srv, "POST"), "each batch created once")
			assertOneOrderEach(t, srv, fivePhones...)

			rows := tableRows(t, second.stdout)
			require.Len(t, rows, 5, "the report lists every number")
			for _, r := range rows {
				assert.Equal(t, "completed", r[0])
				assert.Regexp(t, `^HR[0-9a-f]{32}$`, r[3])
			}
			j, err = loadJournal(csvPath+journalSuffix, nil, time.Now)
			require.NoError(t, err)
			assert.Equal(t, []batchState{stateAccepted, stateAccepted, stateAccepted}, batchStates(j))
			for _, n := range j.index {
				assert.Equal(t, "completed", n.Status)
			}
		})
	}
}

// TestResumeSubmitsOnlyMissingNumbers: the create of a batch was cut off
// after Twilio had made orders for some of its numbers; the run after
// submits only the others.
func TestResumeSubmitsOnlyMissingNumbers(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	csvPath := writeCSV(t, fivePlain)
	args := submitArgs(csvPath, "-wait", "-poll", "1ms", "-settle", "200ms", "-table")

	first := runProcess(t, srv, "after-sending", "", args...)
	require.True(t, first.killed)
	require.Zero(t, countMethod(srv, "POST"))
	// Two of the five numbers got orders, in a request of their own.
	createOrder(t, srv, "+14155550102", "+14155550104")

	second := runProcess(t, srv, "", "", args...)
	require.Equal(t, exitOK, second.code)
	assert.Contains(t, second.stderr, "batch 1: 2 of 5 found: submitting the other 3")
	reqs := srv.Requests()
	var posts [][]byte
	for _, r := range reqs {
		if r.Method == "POST" {
			posts = append(posts, r.Body)
		}
	}
	require.Len(t, posts, 2)
	for _, phone := range []string{"+14155550101", "+14155550103", "+14155550105"} {
		assert.Contains(t, string(posts[1]), phone)
	}
	assert.NotContains(t, string(posts[1]), "+14155550102")
	assertOneOrderEach(t, srv, fivePhones...)
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Len(t, j.Batches[0].BulkHostingSIDs, 2, "the batch's numbers are in two requests")
	require.Len(t, tableRows(t, second.stdout), 5)
}

// TestLostAnswerIsAdopted: Twilio processed a create but the answer never
// arrived (ProcessThenDrop). The batch is "outcome unknown"; the next run
// finds every number in one request and adopts it instead of resubmitting.
func TestLostAnswerIsAdopted(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
	csvPath := writeCSV(t, fivePlain)
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-wait", "-poll", "1ms", "-settle", "1s")...))
	created := h.srv.Requests()[0].CreatedSID
	require.NotEmpty(t, created)
	assert.Contains(t, h.stderr.String(), "batch 1 may have reached Twilio")
	assert.Contains(t, h.stderr.String(), "batch 1: all found in "+created+": adopted, nothing sent again")
	assert.True(t, strings.HasPrefix(h.stdout.String(), created+"\n"))
	assert.Equal(t, 1, countMethod(h.srv, "POST"))
	assertOneOrderEach(t, h.srv, fivePhones...)
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, []batchState{stateAccepted}, batchStates(j))
	// The create, a first look that finds nothing yet (Twilio makes the
	// orders from its queue), and the look that finds them all.
	attempts := j.Batches[0].Attempts
	require.GreaterOrEqual(t, len(attempts), 2)
	create, look := attempts[0], attempts[len(attempts)-1]
	assert.Contains(t, look.Outcome, "all found in "+created)
	assert.Equal(t, "outcome unknown", create.Outcome)
	assert.False(t, create.Started.IsZero(), "the send time is recorded")
	assert.False(t, create.Ended.Before(create.Started), "the return time is recorded, after the send time")
	assert.Equal(t, migrate.Duration(time.Second), create.Settle)
	assert.Equal(t, "reconcile", look.Kind)
	require.NotNil(t, look.ServerClockOffset, "the look measured Twilio's clock")
	assert.Less(t, time.Duration(*look.ServerClockOffset).Abs(), 5*time.Second)
}

// TestSIGTERMWhileWaiting stops a waiting run with SIGTERM: it exits with
// 130, the journal is whole, and the same command finishes the job.
func TestSIGTERMWhileWaiting(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithStageDuration(time.Hour))
	defer srv.Close()
	csvPath := writeCSV(t, fivePlain)
	args := submitArgs(csvPath, "-batch-size", "2", "-wait", "-poll", "5ms")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = processEnv(srv, "")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.HasPrefix(sc.Text(), "following: 0 of 5 numbers done") {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	for sc.Scan() {
		seen = append(seen, sc.Text())
	}
	_ = cmd.Wait()
	require.NoError(t, ctx.Err())
	t.Logf("stderr:\n%s", strings.Join(seen, "\n"))
	assert.Equal(t, exitInterrupted, cmd.ProcessState.ExitCode())
	assert.Contains(t, strings.Join(seen, "\n"), "interrupted")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, []batchState{stateAccepted, stateAccepted, stateAccepted}, batchStates(j))
	assert.Equal(t, 3, countMethod(srv, "POST"))
}

// TestSIGINTWhileReadingInput stops a run blocked on standard input.
func TestSIGINTWhileReadingInput(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	state := filepath.Join(t.TempDir(), "journal.json")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, submitArgs("-", "-state", state)...)
	cmd.Env = processEnv(srv, "")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer func() { _ = stdin.Close() }()
	stderrPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	// Half a CSV, then nothing: the command waits for the rest.
	_, err = stdin.Write([]byte("phone_number\n+14155550101\n"))
	require.NoError(t, err)
	// It says it is reading standard input (its signal handling is set up
	// by then); interrupt it.
	sc := bufio.NewScanner(stderrPipe)
	require.True(t, sc.Scan(), "a first line on stderr")
	assert.Contains(t, sc.Text(), "reading the phone numbers from standard input")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	var stderr strings.Builder
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
	}
	_ = cmd.Wait()
	require.NoError(t, ctx.Err(), "SIGINT ends a read of standard input")
	assert.Equal(t, exitInterrupted, cmd.ProcessState.ExitCode())
	assert.Contains(t, stderr.String(), "interrupted while reading the input; nothing was submitted")
	assert.NoFileExists(t, state)
	assert.Empty(t, srv.Requests())
}

// BenchmarkTenThousandNumbers runs a 10 000-number CSV end to end in
// batches of 1000, checks what Twilio holds, and reports the command's
// peak memory (a speed and memory figure, so a benchmark: go test
// -run '^$' -bench TenThousand . in cmd/bulkhost).
func BenchmarkTenThousandNumbers(b *testing.B) {
	for b.Loop() {
		tenThousandNumbers(b)
	}
}

func tenThousandNumbers(t testing.TB) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("99")))
	defer srv.Close()
	var csv strings.Builder
	csv.WriteString("phone_number,friendly_name\n")
	phones := make([]string, 10000)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1415%07d", 5000000+i)
		fmt.Fprintf(&csv, "%s,Line %d\n", phones[i], i)
	}
	csvPath := writeCSV(t, csv.String())
	p := runProcess(t, srv, "", "", submitArgs(csvPath, "-wait", "-poll", "1ms", "-json")...)
	require.Equal(t, exitFailures, p.code, "the numbers ending in 99 fail")
	assert.Equal(t, 10, countMethod(srv, "POST"))
	assertOneOrderEach(t, srv, phones...)
	doc := decodeStatus(t, p.stdout)
	assert.Equal(t, map[string]int{"completed": 9900, "failed": 100}, doc.Counts)
	require.Len(t, doc.Batches, 10)
	for _, b := range doc.Batches {
		assert.Equal(t, 1000, b.Numbers)
		assert.Equal(t, "accepted", b.State)
	}
	t.Logf("peak resident memory of bulkhost with 10 000 numbers: %d KiB (%.1f MiB)", p.maxRSS, float64(p.maxRSS)/1024)
	if b, ok := t.(*testing.B); ok {
		b.ReportMetric(float64(p.maxRSS), "peak-KiB")
	}
	if !raceEnabled { // the race detector multiplies memory use
		assert.Less(t, p.maxRSS, int64(256<<10), "memory stays bounded")
	}
}

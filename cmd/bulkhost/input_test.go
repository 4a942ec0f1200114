package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestEndlessInputIsRefused(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	h := newHarness(t)
	state := filepath.Join(t.TempDir(), "j.json")
	require.Equal(t, exitError, h.run(submitArgs("/dev/zero", "-state", state)...))
	assert.Contains(t, h.stderr.String(), "-csv /dev/zero: line 1 is longer than 64 KiB, the most bulkhost accepts")
	assert.Contains(t, h.stderr.String(), "nothing was submitted")
	assert.NoFileExists(t, state)
	assert.Empty(t, h.srv.Requests())
}

func TestInputSizeIsCapped(t *testing.T) {
	h := newHarness(t)
	h.maxInput = 64
	csv := "phone_number\n+14155550101\n+14155550102\n+14155550103\n+14155550104\n+14155550105\n"
	require.Greater(t, len(csv), 64)
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, csv))...))
	assert.Contains(t, h.stderr.String(), "the input is larger than 64 bytes, the most bulkhost reads at once")
	assert.Empty(t, h.srv.Requests())
}

func TestByteOrderMarkBeforeQuotedHeader(t *testing.T) {
	h := newHarness(t)
	csv := "\ufeff\"phone_number\",\"friendly_name\"\r\n\"+14155550101\",\"Front desk\"\r\n"
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, csv))...))
	reqs := h.srv.Requests()
	require.Len(t, reqs, 1)
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, []hostednumbers.Number{{PhoneNumber: "+14155550101", HostingOptions: hostednumbers.HostingOptions{FriendlyName: "Front desk"}}},
		body.RequestItems[0].Numbers)
}

func TestEmptyCSVFlagIsAnError(t *testing.T) {
	// In the demo, where no -csv means the bundled sample, and live.
	h := newHarness(t)
	h.env = nil
	require.Equal(t, exitError, h.run("-csv", ""))
	assert.Contains(t, h.stderr.String(), "-csv: is empty")
	assert.Nil(t, h.demoSrv, "the sample is not used instead")

	h = newHarness(t)
	require.Equal(t, exitError, h.run("-live", "-csv", " ", "-email", "owner@example.com", "-address-sid", addressSID))
	assert.Contains(t, h.stderr.String(), "-csv: is empty")
	assert.Empty(t, h.srv.Requests())
}

func TestStandardInputNeedsState(t *testing.T) {
	h := newHarness(t)
	h.stdin = threeNumbers
	require.Equal(t, exitError, h.run(submitArgs("-")...))
	assert.Contains(t, h.stderr.String(), "-state: is required when the CSV comes from standard input")
	assert.Empty(t, h.srv.Requests())
}

func TestInterruptWhileReadingStandardInput(t *testing.T) {
	h := newHarness(t)
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	h.stdinReader = pr
	go func() { _, _ = pw.Write([]byte("phone_number\n+14155550101\n")) }() // then nothing more
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	state := filepath.Join(t.TempDir(), "j.json")
	done := make(chan int, 1)
	go func() { done <- h.runCtx(ctx, submitArgs("-", "-state", state)...) }()
	select {
	case code := <-done:
		assert.Equal(t, exitInterrupted, code)
	case <-time.After(5 * time.Second):
		t.Fatal("an interrupt does not end a blocked read of standard input")
	}
	assert.Contains(t, h.stderr.String(), "interrupted while reading the input; nothing was submitted and no journal was written")
	assert.NoFileExists(t, state)
	assert.Empty(t, h.srv.Requests())
}

func TestInterruptWhileWaiting(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithStageDuration(time.Hour))
	csvPath := writeCSV(t, threeNumbers)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.checkpoint = func(step string) {
		if step == stepMidWait {
			cancel() // as SIGINT does, once the wait has begun
		}
	}
	done := make(chan int, 1)
	go func() { done <- h.runCtx(ctx, submitArgs(csvPath, "-wait", "-poll", "5ms")...) }()
	select {
	case code := <-done:
		assert.Equal(t, exitInterrupted, code)
	case <-time.After(5 * time.Second):
		t.Fatal("an interrupt does not end the wait")
	}
	assert.Contains(t, h.stderr.String(), "following the numbers: interrupted")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, []batchState{stateAccepted}, batchStates(j))
}

func TestAttemptTimeoutIsNamed(t *testing.T) {
	h := newHarness(t)
	sid := createOrder(t, h.srv, "+14155550101")
	h.srv.InjectFault(hostednumberstest.Fault{Method: "GET", Latency: 2 * time.Second, Count: 10})
	require.Equal(t, exitError, h.run("-live", "-fetch", sid, "-attempt-timeout", "20ms"))
	errOut := h.stderr.String()
	assert.Contains(t, errOut, "one attempt of the request took longer than -attempt-timeout (20ms) allows")
	assert.NotContains(t, errOut, "the run took longer than -timeout")
}

func TestDryRunInBatches(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitOK, h.run("-dry-run", "-csv", writeCSV(t, fivePlain), "-email", "owner@example.com", "-address-sid", addressSID, "-batch-size", "2"))
	dec := json.NewDecoder(bytes.NewReader(h.stdout.Bytes()))
	var sizes []int
	for dec.More() {
		var body hostednumbers.CreateBulkHostedNumberOrderParams
		require.NoError(t, dec.Decode(&body))
		sizes = append(sizes, len(body.RequestItems[0].Numbers))
	}
	assert.Equal(t, []int{2, 2, 1}, sizes)
	assert.Contains(t, h.stderr.String(), "3 requests of at most 2")
	assert.Empty(t, h.srv.Requests())
}

func TestBatchesAndDuplicatesAcrossThem(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, fivePlain)
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2")...))
	var sizes []int
	for _, r := range h.srv.Requests() {
		var body hostednumbers.CreateBulkHostedNumberOrderParams
		require.NoError(t, json.Unmarshal(r.Body, &body))
		sizes = append(sizes, len(body.RequestItems[0].Numbers))
	}
	assert.Equal(t, []int{2, 2, 1}, sizes)
	assert.Len(t, strings.Fields(h.stdout.String()), 3, "one SID per batch")

	// A duplicate in another batch is still caught before anything is sent.
	h = newHarness(t)
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, fivePlain+"+14155550101\n"), "-batch-size", "2")...))
	assert.Contains(t, h.stderr.String(), "line 7: +14155550101 is a duplicate of line 2")
	assert.Empty(t, h.srv.Requests())
}

func TestBadNewFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-live", "-csv", "x.csv", "-batch-size", "0"}, "-batch-size: must be from 1 to 1000 (Twilio's limit of numbers per request)"},
		{[]string{"-live", "-csv", "x.csv", "-attempt-timeout", "0s"}, "-attempt-timeout: must be positive"},
		{[]string{"-live", "-csv", "x.csv", "-state", ""}, "-state: is empty"},
		{[]string{"-live", "-status"}, "-status: name the journal with -state"},
		{[]string{"-live", "-status", "-state", "j.json", "-email", "a@example.com"}, "-email: does not apply to -status"},
		{[]string{"-live", "-fetch", unknownSID, "-state", "j.json"}, "-state: does not apply to -fetch"},
	} {
		h := newHarness(t)
		require.Equal(t, exitError, h.run(tc.args...), tc.args)
		assert.Contains(t, h.stderr.String(), tc.want)
		assert.Empty(t, h.srv.Requests())
	}
	h := newHarness(t)
	h.env = nil
	require.Equal(t, exitError, h.run("-status", "-state", "j.json"))
	assert.Contains(t, h.stderr.String(), "-status: needs -live")
}

func TestTestBaseURLMustBeLoopback(t *testing.T) {
	h := newHarness(t)
	h.env[envTestBaseURL] = "https://evil.example.com"
	require.Equal(t, exitError, h.run("-live", "-fetch", unknownSID))
	assert.Contains(t, h.stderr.String(), envTestBaseURL+": is for tests against a local fake server only")
	assert.True(t, loopbackURL("http://127.0.0.1:8080"))
	assert.True(t, loopbackURL("http://[::1]:8080"))
	assert.True(t, loopbackURL("http://localhost:1"))
	assert.False(t, loopbackURL("http://10.0.0.1"))
	assert.False(t, loopbackURL("ftp://127.0.0.1"))
}

func TestInterruptDuringCreate(t *testing.T) {
	h := newHarness(t)
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Latency: 5 * time.Second})
	csvPath := writeCSV(t, threeNumbers)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Interrupt once the create has reached the server (which holds it).
	go func() {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if countMethod(h.srv, "POST") > 0 {
				break
			}
		}
		cancel()
	}()
	done := make(chan int, 1)
	go func() { done <- h.runCtx(ctx, submitArgs(csvPath, "-settle", "1s")...) }()
	select {
	case code := <-done:
		assert.Equal(t, exitInterrupted, code)
	case <-time.After(5 * time.Second):
		t.Fatal("an interrupt does not end a create")
	}
	assert.Contains(t, h.stderr.String(), "run the same command again to resume")
	j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, []batchState{stateUnknown}, batchStates(j), "a create cut off may have been processed")

	// Twilio processes a create whose client has gone all the same: the
	// next run finds its orders and adopts them.
	h.stderr.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-wait", "-poll", "1ms", "-settle", "1s")...))
	assert.Contains(t, h.stderr.String(), "batch 1: all found in BH")
	assert.Equal(t, 1, countMethod(h.srv, "POST"), "nothing sent twice")
	assertOneOrderEach(t, h.srv, "+14155550101", "+14155550102", "+14155550103")
}

func TestDemoRefusesLiveJournal(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, string(sampleCSV))
	require.Equal(t, exitOK, h.run(submitArgs(csvPath)...))
	h.env = nil
	h.stderr.Reset()
	require.Equal(t, exitError, h.run("-demo", "-csv", csvPath, "-state", csvPath+journalSuffix))
	assert.Contains(t, h.stderr.String(), "is a real migration's: the demo would not find its requests")
	assert.Empty(t, h.demoSrv.Requests())
}

// A file is read twice, once to check it and once into the journal: one
// that changes in between is refused, and nothing is recorded.
func TestInputChangedWhileRead(t *testing.T) {
	csvPath := writeCSV(t, threeNumbers)
	c := &cli{getenv: func(string) string { return "" }}
	cfg := &config{csvPath: csvPath, email: "owner@example.com", addressSID: addressSID}
	in := c.readInput(t.Context(), cfg)
	require.Empty(t, in.problems)
	require.True(t, in.streamed, "a file is streamed")
	require.Nil(t, in.list, "and never held whole")
	require.NoError(t, os.WriteFile(csvPath, []byte(threeNumbers+"+14155550104,,,,\n"), 0o600))
	var got []string
	var last error
	for n, err := range c.inputNumbers(t.Context(), in) {
		if err != nil {
			last = err
			break
		}
		got = append(got, n.PhoneNumber())
	}
	require.Error(t, last)
	assert.Contains(t, last.Error(), "changed while bulkhost read it")
}

// Duplicates are found across the chunks a streamed file is checked in.
func TestDuplicatesAcrossChunks(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("phone_number\n")
	for i := range validationChunk + 10 {
		fmt.Fprintf(&csv, "+1415%07d\n", 5000000+i)
	}
	csv.WriteString("+14155000003\n")
	h := newHarness(t)
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, csv.String()))...))
	assert.Contains(t, h.stderr.String(), fmt.Sprintf("line %d: +14155000003 is a duplicate of line 5", validationChunk+12))
	assert.Empty(t, h.srv.Requests())
}

//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// TestTwoProcessesOnOneJournalFile: a journal file has one owner. While
// one bulkhost process works on it, a second one on the same file is
// refused (exit 2) and sends nothing; the first is undisturbed.
func TestTwoProcessesOnOneJournalFile(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithStageDuration(time.Hour))
	defer srv.Close()
	csvPath := writeCSV(t, fivePlain)
	args := submitArgs(csvPath, "-wait", "-poll", "5ms")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first := exec.CommandContext(ctx, binary, args...)
	first.Env = processEnv(srv, "")
	stderr, err := first.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, first.Start())
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.HasPrefix(sc.Text(), "following: 0 of 5 numbers done") {
			break
		}
	}
	require.NoError(t, ctx.Err())

	second := runProcess(t, srv, "", "", args...)
	assert.Equal(t, exitError, second.code)
	assert.Contains(t, second.stderr, "is in use by another bulkhost run")
	assert.Equal(t, 1, countMethod(srv, "POST"), "the second process sent nothing")

	require.NoError(t, first.Process.Signal(syscall.SIGTERM))
	for sc.Scan() {
		seen = append(seen, sc.Text())
	}
	_ = first.Wait()
	require.NoError(t, ctx.Err())
	t.Logf("first process's stderr:\n%s", strings.Join(seen, "\n"))
	assert.Equal(t, exitInterrupted, first.ProcessState.ExitCode(), "the first process worked on until stopped")
}

// phoneInBody finds the test's phone numbers in a create's body.
var phoneInBody = regexp.MustCompile(`(?:\+|%2B)1415[0-9]{7}`)

// multiProcessSeedVar replays TestPostgresSeveralProcesses's kills.
const multiProcessSeedVar = "HOSTEDNUMBERS_PG_MULTIPROCESS_SEED"

// TestPostgresSeveralProcesses runs three bulkhost processes at once on
// one migration in PostgreSQL, kills some of them with SIGKILL at random
// moments (seeded, logged) and starts them again, until every one exits
// with 0. Then every number has exactly one hosted number order, no
// number was in two processed bulk requests, every number is final, and
// every batch is accepted in the store.
func TestPostgresSeveralProcesses(t *testing.T) {
	dsn := pgDSN(t)
	const (
		numbers   = 3000
		batchSize = 100
		processes = 3
		kills     = 5
	)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(multiProcessSeedVar); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, multiProcessSeedVar)
	}
	t.Logf("seed %d (replay with %s=%d)", seed, multiProcessSeedVar, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	srv := hostednumberstest.NewServer(hostednumberstest.WithProcessingDelay(100*time.Millisecond, 100*time.Millisecond),
		hostednumberstest.WithHostingDuration(300*time.Millisecond))
	defer srv.Close()
	var csv strings.Builder
	csv.WriteString("phone_number\n")
	phones := make([]string, numbers)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1415%07d", 2000000+i)
		csv.WriteString(phones[i] + "\n")
	}
	csvPath := writeCSV(t, csv.String())
	schema := freshSchema(t)
	args := checkedArgs(csvPath, "-state", dsn, "-schema", schema, "-batch-size", strconv.Itoa(batchSize),
		"-wait", "-poll", "50ms", "-settle", "2s", "-timeout", "60s", "-json",
		// A killed process's claims last -claim-ttl: the least the client's
		// limits allow (with the test hook's short retry waits).
		"-attempt-timeout", "1500ms", "-claim-ttl", "8s")

	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	defer cancel()
	type run struct {
		slot, n        int
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
		done           chan struct{}
	}
	var (
		mu   sync.Mutex
		runs []*run
	)
	start := func(slot int) *run {
		mu.Lock()
		defer mu.Unlock()
		r := &run{slot: slot, n: len(runs) + 1, done: make(chan struct{})}
		r.cmd = exec.CommandContext(ctx, binary, args...)
		r.cmd.Env = processEnv(srv, "")
		r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
		require.NoError(t, r.cmd.Start())
		runs = append(runs, r)
		go func() {
			_ = r.cmd.Wait()
			close(r.done)
		}()
		return r
	}
	live := make([]*run, processes)
	for i := range live {
		live[i] = start(i)
	}
	// The kills: each at a random moment, of a random process still
	// running, which is started again at once.
	for k := 0; k < kills; k++ {
		wait := time.Duration(100+rng.IntN(1200)) * time.Millisecond
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			t.Fatalf("the processes did not finish in time")
		}
		var running []int
		for i, r := range live {
			select {
			case <-r.done:
			default:
				running = append(running, i)
			}
		}
		if len(running) == 0 {
			t.Logf("kill %d: every process had exited", k+1)
			break
		}
		i := running[rng.IntN(len(running))]
		t.Logf("kill %d: SIGKILL to process %d (slot %d) after %v", k+1, live[i].n, i, wait)
		_ = live[i].cmd.Process.Kill()
		<-live[i].done
		live[i] = start(i)
	}
	for _, r := range live {
		select {
		case <-r.done:
		case <-ctx.Done():
		}
	}
	require.NoError(t, ctx.Err(), "the processes did not finish in time")
	for _, r := range runs {
		code := r.cmd.ProcessState.ExitCode()
		killed := false
		if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			killed = true
		}
		stderr := r.stderr.String()
		if len(stderr) > 6000 {
			stderr = stderr[:2000] + "\n…\n" + stderr[len(stderr)-4000:]
		}
		t.Logf("process %d (slot %d): exit %d, killed %v; stderr:\n%s", r.n, r.slot, code, killed, stderr)
		if !killed {
			assert.Equal(t, exitOK, code, "process %d", r.n)
			// Each process that finished reports the whole migration.
			var doc statusDocument
			if assert.NoError(t, jsonUnmarshalStrict(r.stdout.Bytes(), &doc), "process %d's JSON", r.n) {
				assert.Equal(t, map[string]int{"completed": numbers}, doc.Counts, "process %d's report", r.n)
			}
		}
		assertNoPassword(t, r.stdout.String()+r.stderr.String())
	}

	assertOneOrderEach(t, srv, phones...)
	assertNoNumberInTwoRequests(t, srv)
	// Each number was in one create that reached the fake: a batch a
	// killed process left in doubt was settled, not sent again.
	creates := make(map[string]int, numbers)
	for _, r := range requestsTo(srv, "POST", "/v2/HostedNumber/Orders/Bulk") {
		for _, p := range phoneInBody.FindAllString(string(r.Body), -1) {
			creates["+"+strings.TrimPrefix(strings.TrimPrefix(p, "+"), "%2B")]++
		}
	}
	require.Len(t, creates, numbers, "every number was sent")
	for p, n := range creates {
		if n != 1 {
			assert.Equal(t, 1, n, "creates with %s", p)
		}
	}
	final := 0
	for _, o := range srv.HostedNumberOrders() {
		if o.Status == hostednumbers.OrderStatusCompleted {
			final++
		}
	}
	assert.Equal(t, numbers, final, "every number completed at the fake")
	states := storeStates(t, openSchema(t, schema))
	require.Len(t, states, numbers/batchSize)
	for i, s := range states {
		assert.Equal(t, stateAccepted, s, "batch %d", i+1)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	st := openSchema(t, schema)
	for i := range states {
		ns, err := st.Numbers(ctx2, i+1)
		require.NoError(t, err)
		for _, n := range ns {
			assert.Equal(t, "completed", n.Status, n.PhoneNumber())
		}
	}
}

//go:build unix

package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// hardModes are the ways the fake can be as hard as Twilio on a resume.
var hardModes = []struct {
	name string
	opts []hostednumberstest.Option
	// args are added to the command's (an attempt limit for the mode that
	// makes creates time out).
	args []string
	// faults are injected before the first run.
	faults []hostednumberstest.Fault
}{
	{name: "delayed processing", opts: []hostednumberstest.Option{hostednumberstest.WithProcessingDelay(300*time.Millisecond, 100*time.Millisecond)}},
	{name: "abandoned creates processed late",
		opts:   []hostednumberstest.Option{hostednumberstest.WithAbandonedCreateDelay(300 * time.Millisecond)},
		args:   []string{"-attempt-timeout", "150ms"},
		faults: []hostednumberstest.Fault{{Method: "POST"}, {Method: "POST", Latency: time.Second}}},
	{name: "lagging lists", opts: []hostednumberstest.Option{hostednumberstest.WithListLag(400 * time.Millisecond)}},
	{name: "clock ahead", opts: []hostednumberstest.Option{hostednumberstest.WithClockOffset(10 * time.Minute)}},
	{name: "clock behind", opts: []hostednumberstest.Option{hostednumberstest.WithClockOffset(-10 * time.Minute)}},
	{name: "resubmission duplicates", opts: []hostednumberstest.Option{hostednumberstest.WithResubmission(hostednumberstest.ResubmissionDuplicates)}},
}

// hardCrashes are the real SIGKILLs of the built command, one per step,
// each in a hard mode: package migrate kills the engine in-process at
// every step in every mode; these check that a killed process leaves the
// same journal.
var hardCrashes = []struct{ mode, crashAt string }{
	{"abandoned creates processed late", "after-answer:2"},
	{"clock behind", "after-sending:2"},
	{"lagging lists", "mid-wait:1"},
}

// TestCrashInHardModes kills the command with SIGKILL at a step of a
// migration of three batches, against a fake as hard as Twilio in one
// way, runs the same command again until it finishes, and counts what
// Twilio holds: exactly one hosted number order per number, and no
// number in two bulk requests.
func TestCrashInHardModes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, crash := range hardCrashes {
		for _, mode := range hardModes {
			if mode.name != crash.mode {
				continue
			}
			crashAt := crash.crashAt
			t.Run(mode.name+"/"+crashAt, func(t *testing.T) {
				srv := hostednumberstest.NewServer(mode.opts...)
				defer srv.Close()
				for _, f := range mode.faults {
					srv.InjectFault(f)
				}
				csvPath := writeCSV(t, fivePlain)
				args := append(submitArgs(csvPath, "-batch-size", "2", "-wait", "-poll", "5ms", "-settle", "500ms"), mode.args...)

				first := runProcess(t, srv, crashAt, "", args...)
				if !first.killed {
					// A create that timed out can change the steps' count;
					// the run must then still have finished: -wait waits
					// for every doubt.
					require.Equal(t, exitOK, first.code, "the first run neither crashed nor finished")
				} else {
					// One run with -wait finishes, whatever the killed run
					// left in doubt.
					p := runProcess(t, srv, "", "", args...)
					require.False(t, p.killed)
					require.Equal(t, exitOK, p.code, "the run after the crash waits for every doubt and finishes")
				}
				assertOneOrderEach(t, srv, fivePhones...)
				assertNoNumberInTwoRequests(t, srv)
				j, err := loadJournal(csvPath+journalSuffix, nil, time.Now)
				require.NoError(t, err)
				assert.Equal(t, []batchState{stateAccepted, stateAccepted, stateAccepted}, batchStates(j))
				for _, p := range fivePhones {
					assert.Equal(t, "completed", j.index[p].Status, p)
				}
			})
		}
	}
}

// assertNoNumberInTwoRequests checks that no phone number is in the
// results of two bulk requests the fake processed.
func assertNoNumberInTwoRequests(t *testing.T, srv *hostednumberstest.Server) {
	t.Helper()
	waitProcessed(t, srv)
	in := make(map[string][]string)
	for _, o := range srv.Orders() {
		for _, r := range o.Orders() {
			in[r.PhoneNumber] = append(in[r.PhoneNumber], o.BulkHostingSID)
		}
	}
	for phone, sids := range in {
		assert.Len(t, sids, 1, fmt.Sprintf("%s is in %v", phone, sids))
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/csvinput"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

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
	list, _ := csvinput.Read(bytes.NewReader(sampleCSV))
	var phones []string
	for _, n := range list.Numbers {
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
	list, problems := csvinput.Read(bytes.NewReader(sampleCSV))
	require.Empty(t, problems)
	require.Len(t, list.Numbers, 10)
	failing := 0
	for _, n := range list.Numbers {
		assert.Regexp(t, `^\+1415555010[0-9]$|^\+141555501[1-2][0-9]$`, n.PhoneNumber, "fictional 555-01xx numbers")
		assert.NotEmpty(t, n.FriendlyName)
		if strings.HasSuffix(n.PhoneNumber, "9") {
			failing++
		}
	}
	assert.Equal(t, 3, failing)
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
	a, err := readApp(state, j.Meta, "")
	require.NoError(t, err)
	assert.True(t, a.Demo)
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
	// The journal holds what the engine recorded, nothing made up: the
	// same requests, the same attempts, under the first server's SIDs.
	after, err := loadJournal(state, nil, time.Now)
	require.NoError(t, err)
	require.Len(t, after.Batches, len(j.Batches))
	for i, b := range after.Batches {
		assert.Equal(t, j.Batches[i].BulkHostingSIDs, b.BulkHostingSIDs, "batch %d keeps its requests", b.Index)
		assert.Equal(t, len(j.Batches[i].Attempts), len(b.Attempts), "batch %d: no attempt added", b.Index)
		for _, a := range b.Attempts {
			assert.NotEqual(t, "demo-restore", a.Kind)
		}
		for k, n := range b.Numbers {
			if was := j.Batches[i].Numbers[k].HostingOrderSID; was != "" {
				assert.Equal(t, was, n.HostingOrderSID, "%s keeps its order", n.PhoneNumber())
			}
		}
	}
	for _, o := range h.demoSrv.Orders() {
		assert.NotContains(t, h.stdout.String(), o.BulkHostingSID, "the answers carry the journal's SIDs, not the new server's")
	}

	// A live run refuses the demo's journal (and the demo a live one:
	// TestDemoRefusesLiveJournal).
	h = newHarness(t)
	require.Equal(t, exitError, h.run("-live", "-status", "-state", state))
	assert.Contains(t, h.stderr.String(), "is the demo's")
}

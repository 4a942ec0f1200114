package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

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
	shown := c.show(&order, &config{})
	require.Equal(t, exitFailures, codeOf(shown), "action-required counts as failed")
	c.printErr(shown)

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

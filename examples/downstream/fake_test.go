package downstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/examples/downstream"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func newFake(t *testing.T, opts ...hostednumberstest.Option) *hostednumberstest.Server {
	t.Helper()
	srv := hostednumberstest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func TestFakeMigrateEndToEnd(t *testing.T) {
	// The fetch-driven model (WithFetchesPerStage selects it), so that the
	// number of snapshots is exact and the numbers reach their outcome at
	// PROCESSED: the test checks what the Report makes of every stage.
	srv := newFake(t, hostednumberstest.WithFetchesPerStage(2), hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	m := &downstream.Migrator{
		Orders:     srv.Client().BulkHostedNumberOrders,
		OwnerEmail: "owner@example.com",
		Wait:       &hostednumbers.WaitOptions{PollInterval: time.Millisecond},
	}
	rec := post(t, m, `{"numbers":["+14155550101","+14155550109","+14155550102"]}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var report downstream.Report
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &report))

	assert.Equal(t, []string{"+14155550101", "+14155550102"}, report.Completed)
	require.Len(t, report.Failed, 1)
	assert.Equal(t, hostednumberstest.DefaultFailureReason, report.Failed[0].Reason)
	assert.Equal(t, 4, report.Snapshots, "two fetches per stage")

	reqs := srv.Requests()
	require.Equal(t, "POST", reqs[0].Method)
	assert.Equal(t, http.StatusAccepted, reqs[0].Status)
	assert.Equal(t, report.BulkHostingSID, reqs[0].CreatedSID)
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, "owner@example.com", body.RequestItems[0].Email)

	// The orders the fake holds say the same as the report.
	for _, o := range srv.HostedNumberOrders() {
		assert.Equal(t, report.BulkHostingSID, o.BulkHostingRequestSID.String)
		if o.PhoneNumber == "+14155550109" {
			assert.Equal(t, hostednumbers.OrderStatusFailed, o.Status)
		} else {
			assert.Equal(t, hostednumbers.OrderStatusCompleted, o.Status)
		}
	}
}

func TestFakeServerErrorOnCreateIsNeverResent(t *testing.T) {
	srv := newFake(t)
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusInternalServerError})
	m := &downstream.Migrator{Orders: srv.Client().BulkHostedNumberOrders}
	rec := post(t, m, `{"numbers":["+14155550101"]}`)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.Contains(t, rec.Body.String(), "reconcile before retrying", "a 5xx may have been processed")
	require.Len(t, srv.Requests(), 1)
	assert.Equal(t, http.StatusInternalServerError, srv.Requests()[0].Status)
	assert.Empty(t, srv.Orders())
}

// A lost answer: the migration fails, but Twilio has the order. The
// operator's way out is Reconcile, not a second submission.
func TestFakeLostAnswerIsFoundByReconcile(t *testing.T) {
	srv := newFake(t)
	client := srv.Client()
	m := &downstream.Migrator{Orders: client.BulkHostedNumberOrders}
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	sentAt := time.Now()
	_, err := m.Migrate(ctx, numbers)
	require.ErrorIs(t, err, hostednumbers.ErrOutcomeUnknown)
	require.Len(t, srv.Orders(), 1, "Twilio took it in")

	// Twilio makes the orders when it processes the request, a while
	// later: until then Reconcile says pending. WaitForReconcile looks
	// again until it knows.
	rec, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hostednumbers.ReconcileParams{
		PhoneNumbers: numbers, SentAt: sentAt, ConfirmGap: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.ReconcileAllInOne, rec.Verdict)
	assert.Equal(t, srv.Orders()[0].BulkHostingSID, rec.BulkHostingSID)
	assert.Len(t, srv.Orders(), 1, "no duplicate")
}

// headerRecorder keeps the User-Agent of every request, on its way to the
// fake's own transport.
type headerRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	ua   []string
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.ua = append(h.ua, r.Header.Get("User-Agent"))
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

func TestFakeConcurrentMigrationsThroughAWrappedTransport(t *testing.T) {
	// Hosting lasts an hour: the result groups follow the orders, which
	// then wait for their LOA (pending_loa) for the whole test.
	srv := newFake(t, hostednumberstest.WithHostingDuration(time.Hour))
	rt := &headerRecorder{next: srv.Transport()}
	client := srv.Client(
		hostednumbers.WithHTTPClient(&http.Client{Transport: rt}),
		hostednumbers.WithUserAgentSuffix("migrator/1.0"))
	m := &downstream.Migrator{
		Orders: client.BulkHostedNumberOrders,
		Wait:   &hostednumbers.WaitOptions{PollInterval: time.Millisecond},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	const n = 6
	var wg sync.WaitGroup
	reports := make([]*downstream.Report, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := m.Migrate(ctx, []string{fmt.Sprintf("+1415555%04d", i)})
			assert.NoError(t, err)
			reports[i] = r
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, r := range reports {
		require.NotNil(t, r, i)
		assert.Equal(t, hostednumbers.RequestStatusProcessed, r.Status)
		assert.Equal(t, []string{fmt.Sprintf("+1415555%04d", i)}, r.InProgress[hostednumbers.OrderStatusPendingLOA],
			"made, waiting for its LOA")
		seen[r.BulkHostingSID] = true
	}
	assert.Len(t, seen, n, "one bulk request each")
	assert.Len(t, srv.Orders(), n)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	assert.Len(t, rt.ua, len(srv.Requests()))
	for _, ua := range rt.ua {
		assert.Contains(t, ua, "migrator/1.0")
	}
}

package hostednumberstest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestProcessThenDropCreatesTheOrderButNeverAnswers(t *testing.T) {
	srv := newServer(t)
	client := srv.Client()
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
	params := sampleParams()

	created, err := client.BulkHostedNumberOrders.Create(context.Background(), params)
	require.ErrorIs(t, err, hostednumbers.ErrOutcomeUnknown)
	assert.Nil(t, created)
	var apiErr *hostednumbers.APIError
	assert.False(t, errors.As(err, &apiErr), "no answer came back: %v", err)

	reqs := srv.Requests()
	require.Len(t, reqs, 1, "a create is never resent")
	assert.True(t, reqs[0].Faulted)
	assert.Zero(t, reqs[0].Status, "dropped")
	assert.Regexp(t, fmt.Sprintf(sidPattern, "BH"), reqs[0].CreatedSID)
	orders := srv.Orders()
	require.Len(t, orders, 1)
	assert.Equal(t, reqs[0].CreatedSID, orders[0].BulkHostingSID)
	assert.Equal(t, 3, orders[0].TotalCount)
	// The request is processed on the server's clock, answer or not.
	waitFor(t, 10*time.Second, func() bool { return len(srv.HostedNumberOrders()) == 3 })
	assert.Len(t, srv.AuthorizationDocuments(), 2)
	for _, o := range srv.HostedNumberOrders() {
		assert.Equal(t, reqs[0].CreatedSID, o.BulkHostingRequestSID.String)
	}
}

// The whole recovery story: the create is processed, its answer lost;
// Reconcile finds the bulk request by listing each number's orders, and
// the caller fetches it instead of submitting again.
func TestOutcomeUnknownThenReconcileFindsTheOrderWithoutADuplicate(t *testing.T) {
	// Immediate: cancels an earlier order while received and reconciles at once; ExampleFault_processThenDrop covers a queued create.
	srv := newImmediateServer(t, hostednumberstest.WithPageSize(2))
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// An older order for one of the numbers, created and canceled before.
	create(t, client, numbersParams("+14155550101"))
	require.NoError(t, client.HostedNumberOrders.Cancel(ctx, srv.HostedNumberOrders()[0].SID))
	since := time.Now().Add(-time.Minute) // a little before the create, as Reconcile advises

	params := sampleParams()
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
	_, err := client.BulkHostedNumberOrders.Create(ctx, params)
	require.Error(t, err)

	rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: since})
	require.NoError(t, err)
	var bh string
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Faulted {
			bh = r.CreatedSID
		}
	}
	require.NotEmpty(t, bh)
	assert.Equal(t, hostednumbers.ReconcileAllInOne, rec.Verdict)
	assert.Equal(t, bh, rec.BulkHostingSID)
	assert.Empty(t, rec.Missing)
	require.Len(t, rec.Numbers, 3)
	for _, n := range rec.Numbers {
		require.Len(t, n.Orders, 1, n.PhoneNumber)
		assert.Equal(t, hostednumbers.OrderStatusReceived, n.Orders[0].Status)
	}

	done, err := client.BulkHostedNumberOrders.Wait(ctx, rec.BulkHostingSID, &hostednumbers.WaitOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 3, len(done.Orders()))
	assert.Equal(t, 2, countMethod(srv, "POST"), "the earlier order's create and the lost one: no duplicate")
	assert.Len(t, srv.Orders(), 2)
}

func TestReconcileAfterADroppedUnprocessedCreateSaysNoneCreated(t *testing.T) {
	srv := newServer(t)
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	params := numbersParams("+14155550101", "+14155550102")
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", DropConnection: true})
	_, err := client.BulkHostedNumberOrders.Create(ctx, params)
	require.ErrorIs(t, err, hostednumbers.ErrOutcomeUnknown, "the client cannot tell this drop from ProcessThenDrop")
	assert.Empty(t, srv.Requests()[0].CreatedSID)

	// Within the processing window nothing found is no verdict; after it,
	// two empty looks are.
	sentAt := time.Now().Add(-time.Second)
	rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: sentAt, ReturnedAt: time.Now()})
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.ReconcilePending, rec.Verdict)
	rec, err = client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hostednumbers.ReconcileParams{
		Create: params, SentAt: sentAt, ReturnedAt: time.Now(), ProcessingWindow: 50 * time.Millisecond, ConfirmGap: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.ReconcileNoneCreated, rec.Verdict)
	assert.Equal(t, []string{"+14155550101", "+14155550102"}, rec.Missing)
	assert.Empty(t, srv.Orders())
}

func TestProcessThenDropAppliesToOtherRequestsToo(t *testing.T) {
	// Immediate: cancels an order that must be received right after its create.
	srv := newImmediateServer(t)
	create(t, srv.Client(), numbersParams("+14155550101"))
	sid := srv.HostedNumberOrders()[0].SID
	srv.InjectFault(hostednumberstest.Fault{Method: "DELETE", ProcessThenDrop: true})
	_, _, err := rawRequest(t, "DELETE", srv.URL+ordersPath+"/"+sid, "", "", hostednumberstest.AccountSID, hostednumberstest.AuthToken)
	require.Error(t, err, "no answer")
	assert.Empty(t, srv.HostedNumberOrders(), "but the order was canceled")
	last := srv.Requests()[len(srv.Requests())-1]
	assert.Zero(t, last.Status)
	assert.Empty(t, last.CreatedSID)

	t.Run("unauthorised requests are not processed", func(t *testing.T) {
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
		_, _, err := rawRequest(t, "POST", srv.URL+bulkPath, "application/json", `{}`, hostednumberstest.AccountSID, wrongToken)
		require.Error(t, err)
		assert.Len(t, srv.Orders(), 1)
	})
}

func TestSuccessFaultOnACreateStillCreatesTheOrder(t *testing.T) {
	tests := []struct {
		name        string
		fault       hostednumberstest.Fault
		wantCreated bool
	}{
		{"202 with an unreadable body", hostednumberstest.Fault{Method: "POST", Status: 202, Body: `{"bulk_hosting_sid": `}, true},
		{"202 without a body", hostednumberstest.Fault{Method: "POST", Status: 202}, true},
		{"200", hostednumberstest.Fault{Method: "POST", Status: 200, Body: `{}`}, true},
		{"500", hostednumberstest.Fault{Method: "POST", Status: 500}, false},
		{"429", hostednumberstest.Fault{Method: "POST", Status: 429}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Immediate: the orders of the create must exist as soon as the fault answered.
			srv := newImmediateServer(t)
			srv.InjectFault(tt.fault)
			resp, body := authed(t, "POST", srv.URL+bulkPath, "application/json",
				`{"request_items":[{"numbers":[{"phone_number":"+14155550101"}]}]}`)
			assert.Equal(t, tt.fault.Status, resp.StatusCode)
			if tt.fault.Body != "" {
				assert.Equal(t, tt.fault.Body, string(body), "the fault's answer, not the order")
			}
			req := srv.Requests()[0]
			assert.Equal(t, tt.fault.Status, req.Status)
			if tt.wantCreated {
				require.Len(t, srv.Orders(), 1)
				assert.Equal(t, srv.Orders()[0].BulkHostingSID, req.CreatedSID)
				assert.Len(t, srv.HostedNumberOrders(), 1)
			} else {
				assert.Empty(t, srv.Orders())
				assert.Empty(t, req.CreatedSID)
			}
		})
	}
	t.Run("an invalid create is still refused", func(t *testing.T) {
		// Immediate: the orders of the create must exist as soon as the fault answered.
		srv := newImmediateServer(t)
		srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 202})
		resp, _ := authed(t, "POST", srv.URL+bulkPath, "application/json", `{"request_items":[{"numbers":[{"phone_number":"12"}]}]}`)
		assert.Equal(t, 202, resp.StatusCode)
		assert.Empty(t, srv.Orders())
	})
	t.Run("a 200 on a GET does not count as a fetch", func(t *testing.T) {
		// Immediate: the orders of the create must exist as soon as the fault answered.
		srv := newImmediateServer(t)
		sid := create(t, srv.Client(), numbersParams("+14155550101")).BulkHostingSID
		srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 200, Body: `{}`})
		resp, _ := authed(t, "GET", srv.URL+bulkPath+"/"+sid, "", "")
		assert.Equal(t, 200, resp.StatusCode)
		o, _ := srv.Order(sid)
		assert.Equal(t, hostednumbers.RequestStatusQueued, o.RequestStatus)
	})
}

func TestRequestsRecordTheAnswerStatusAndWhatWasCreated(t *testing.T) {
	// Immediate: the statuses of the recorded answers depend on each fetch moving the order a stage.
	srv := newImmediateServer(t)
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	ctx := context.Background()

	created := create(t, client, numbersParams("+14155550101"))
	fetch(t, client, created.BulkHostingSID)
	_, _ = client.BulkHostedNumberOrders.Fetch(ctx, unknownSID, nil)
	hr := srv.HostedNumberOrders()[0].SID
	_ = client.HostedNumberOrders.Cancel(ctx, hr) // pending-loa by now: 400
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", DropConnection: true})
	// A raw request: net/http would resend a dropped GET on a reused connection.
	_, _, err := rawRequest(t, "GET", srv.URL+bulkPath+"/"+created.BulkHostingSID, "", "")
	require.Error(t, err)
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 503})
	_, _ = client.BulkHostedNumberOrders.Fetch(ctx, created.BulkHostingSID, nil)
	_, _, err = rawRequest(t, "GET", srv.URL+ordersPath, "", "")
	require.NoError(t, err)

	type entry struct {
		method, path string
		status       int
		created      bool
	}
	var got []entry
	for _, r := range srv.Requests() {
		got = append(got, entry{r.Method, r.Path, r.Status, r.CreatedSID != ""})
	}
	assert.Equal(t, []entry{
		{"POST", bulkPath, 202, true},
		{"GET", bulkPath + "/" + created.BulkHostingSID, 200, false},
		{"GET", bulkPath + "/" + unknownSID, 404, false},
		{"DELETE", ordersPath + "/" + hr, 400, false},
		{"GET", bulkPath + "/" + created.BulkHostingSID, 0, false},
		{"GET", bulkPath + "/" + created.BulkHostingSID, 503, false},
		{"GET", ordersPath, 401, false},
	}, got)
	assert.Equal(t, created.BulkHostingSID, srv.Requests()[0].CreatedSID)
}

func TestRequestStatusIsZeroWhileTheRequestIsHeld(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := srv.Client().BulkHostedNumberOrders.Fetch(ctx, unknownSID, nil)
		done <- err
	}()
	waitFor(t, 3*time.Second, func() bool { return len(srv.Requests()) == 1 })
	assert.Zero(t, srv.Requests()[0].Status)
	cancel()
	select {
	case err := <-done:
		assert.Error(t, err, "the fetch was cancelled")
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch did not end")
	}
	waitFor(t, 3*time.Second, func() bool { return srv.PendingFaults() == 0 })
	assert.Zero(t, srv.Requests()[0].Status, "the client gave up: no answer")
}

func TestOrdersReadsStateWithoutCountingAsAFetch(t *testing.T) {
	// Immediate: checks that Orders does not count as a fetch, which only the fetch-driven model counts.
	srv := newImmediateServer(t)
	client := srv.Client()
	assert.Empty(t, srv.Orders())
	assert.Empty(t, srv.HostedNumberOrders())
	assert.Empty(t, srv.AuthorizationDocuments())
	a := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	b := create(t, client, numbersParams("+14155550102", "+14155550103")).BulkHostingSID
	fetch(t, client, b)

	for range 3 {
		orders := srv.Orders()
		require.Len(t, orders, 2)
		assert.Equal(t, a, orders[0].BulkHostingSID, "oldest first")
		assert.Equal(t, hostednumbers.RequestStatusQueued, orders[0].RequestStatus)
		assert.Equal(t, b, orders[1].BulkHostingSID)
		assert.Equal(t, hostednumbers.RequestStatusInProgress, orders[1].RequestStatus)
		assert.Len(t, orders[1].Orders(), 2)
	}
	hosted := srv.HostedNumberOrders()
	assert.Equal(t, []string{"+14155550101", "+14155550102", "+14155550103"}, phones(hosted))
	assert.Equal(t, []hostednumbers.OrderStatus{"received", "pending-loa", "pending-loa"},
		[]hostednumbers.OrderStatus{hosted[0].Status, hosted[1].Status, hosted[2].Status})
	assert.Nil(t, hosted[0].LastResponse)
	docs := srv.AuthorizationDocuments()
	require.Len(t, docs, 2)
	assert.Equal(t, hosted[1].SigningDocumentSID.String, docs[1].SID)
	assert.Equal(t, 1, countMethod(srv, "GET"), "reading state sends nothing")

	// What they return is the caller's to change.
	hosted[0].PhoneNumber = "changed"
	assert.Equal(t, "+14155550101", srv.HostedNumberOrders()[0].PhoneNumber)

	srv.Reset()
	assert.Empty(t, srv.Orders())
	assert.Empty(t, srv.HostedNumberOrders())
	assert.Empty(t, srv.AuthorizationDocuments())
	resp, _ := authed(t, "GET", srv.URL+ordersPath+"/"+hosted[1].SID, "", "")
	assert.Equal(t, 404, resp.StatusCode)
}

// countingTransport counts the requests that pass through it.
type countingTransport struct {
	next  http.RoundTripper
	count atomic.Int32
	seen  sync.Map // User-Agent values
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count.Add(1)
	c.seen.Store(r.Header.Get("User-Agent"), true)
	return c.next.RoundTrip(r)
}

func TestTransportCanBeWrapped(t *testing.T) {
	srv := newServer(t)
	wrapped := &countingTransport{next: srv.Transport()}
	client := srv.Client(hostednumbers.WithHTTPClient(&http.Client{Transport: wrapped}))
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	fetch(t, client, sid)
	assert.Equal(t, int32(2), wrapped.count.Load())
	assert.Len(t, srv.Requests(), 2)
	n := 0
	wrapped.seen.Range(func(k, _ any) bool {
		assert.Contains(t, k, "hostednumbers-go/")
		n++
		return true
	})
	assert.Equal(t, 1, n)
}

func TestFastRetryOptionsForAClientBuiltByHand(t *testing.T) {
	srv := newServer(t)
	opts := append(hostednumberstest.FastRetryOptions(),
		hostednumbers.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
		hostednumbers.WithBaseURL(srv.URL),
		hostednumbers.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
	client, err := hostednumbers.NewClient(opts...)
	require.NoError(t, err)
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 503, Count: 2})

	// With the SDK's default backoff, two retries take over two seconds;
	// this deadline only holds with the fast settings.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	got, err := client.BulkHostedNumberOrders.Fetch(ctx, sid, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, got.LastResponse.Attempts)
}

func TestClientsOfTheKitWaitFastWithNilOptions(t *testing.T) {
	// Immediate processing moves one stage per fetch: PROCESSED takes two
	// polls, over four seconds at the SDK's default interval.
	srv := newServer(t, hostednumberstest.WithImmediateProcessing())
	byHand, err := hostednumbers.NewClient(append(hostednumberstest.FastRetryOptions(),
		hostednumbers.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
		hostednumbers.WithBaseURL(srv.URL),
		hostednumbers.WithHTTPClient(&http.Client{Transport: srv.Transport()}))...)
	require.NoError(t, err)
	for name, client := range map[string]*hostednumbers.Client{"Server.Client": srv.Client(), "FastRetryOptions": byHand} {
		sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
		ctx, cancel := context.WithTimeout(context.Background(), hostednumbers.DefaultPollInterval)
		done, err := client.BulkHostedNumberOrders.Wait(ctx, sid, nil)
		cancel()
		require.NoError(t, err, name)
		assert.Equal(t, hostednumbers.RequestStatusProcessed, done.RequestStatus, name)
		srv.Reset()
	}
}

func TestConcurrentUseOfEveryEndpointIsSafe(t *testing.T) {
	// The asynchronous model, with an IN_PROGRESS long enough to cancel a
	// received order once the list shows it.
	srv := newServer(t, hostednumberstest.WithPageSize(3),
		hostednumberstest.WithProcessingDelay(10*time.Millisecond, 500*time.Millisecond),
		hostednumberstest.WithListLag(10*time.Millisecond),
		hostednumberstest.WithHostingDuration(50*time.Millisecond))
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var numbers []string
			for i := range 4 {
				numbers = append(numbers, fmt.Sprintf("+1415556%02d%02d", w, i))
			}
			created, err := client.BulkHostedNumberOrders.Create(ctx, numbersParams(numbers...))
			if !assert.NoError(t, err) {
				return
			}
			var page *hostednumbers.Page[hostednumbers.HostedNumberOrder]
			for page == nil || len(page.Items) == 0 {
				if ctx.Err() != nil {
					t.Error("the order never showed in the list")
					return
				}
				time.Sleep(2 * time.Millisecond)
				page, err = client.HostedNumberOrders.List(ctx, &hostednumbers.ListHostedNumberOrdersParams{PhoneNumber: numbers[0]})
				if !assert.NoError(t, err) {
					return
				}
			}
			if assert.Len(t, page.Items, 1) {
				assert.NoError(t, client.HostedNumberOrders.Cancel(ctx, page.Items[0].SID))
			}
			for _, err := range client.HostedNumberOrders.All(ctx, nil) {
				assert.NoError(t, err)
			}
			for _, err := range client.AuthorizationDocuments.All(ctx, nil) {
				assert.NoError(t, err)
			}
			_ = srv.Orders()
			_ = srv.HostedNumberOrders()
			_ = srv.Requests()
			done, err := client.BulkHostedNumberOrders.Wait(ctx, created.BulkHostingSID, &hostednumbers.WaitOptions{PollInterval: time.Millisecond})
			if assert.NoError(t, err) {
				assert.Len(t, done.Orders(), 3, "one of four canceled")
			}
		}()
	}
	wg.Wait()
	assert.Len(t, srv.Orders(), workers)
	assert.Len(t, srv.HostedNumberOrders(), workers*3)
	// Hosting goes on after PROCESSED, on the server's clock.
	waitFor(t, 10*time.Second, func() bool {
		for _, o := range srv.HostedNumberOrders() {
			if o.Status != hostednumbers.OrderStatusCompleted {
				return false
			}
		}
		return true
	})
}

// migrationParams returns the create bodies of a migration of n numbers
// in requests of batch numbers each.
func migrationParams(n, batch int) ([]*hostednumbers.CreateBulkHostedNumberOrderParams, []string) {
	var all []string
	var out []*hostednumbers.CreateBulkHostedNumberOrderParams
	for i := 0; i < n; i += batch {
		var numbers []string
		for j := i; j < min(i+batch, n); j++ {
			numbers = append(numbers, fmt.Sprintf("+1415%07d", j))
		}
		all = append(all, numbers...)
		out = append(out, numbersParams(numbers...))
	}
	return out, all
}

func TestHoldsATenThousandNumberMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("10 000 numbers")
	}
	// Immediate: ten thousand orders looked up by number right after their creates.
	srv := newImmediateServer(t)
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	batches, numbers := migrationParams(10000, 1000)
	sids := make([]string, len(batches))
	for i, p := range batches {
		created, err := client.BulkHostedNumberOrders.Create(ctx, p)
		require.NoError(t, err)
		require.Equal(t, 1000, created.TotalCount)
		sids[i] = created.BulkHostingSID
	}
	total := 0
	for _, o := range srv.Orders() {
		total += o.TotalCount
	}
	assert.Equal(t, 10000, total)

	for i := 0; i < len(numbers); i += 997 {
		page, err := client.HostedNumberOrders.List(ctx, &hostednumbers.ListHostedNumberOrdersParams{PhoneNumber: numbers[i]})
		require.NoError(t, err)
		require.Len(t, page.Items, 1, numbers[i])
		assert.Equal(t, sids[i/1000], page.Items[0].BulkHostingRequestSID.String, numbers[i])
	}

	// A reconcile of part of one request finds that request alone.
	rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{
		PhoneNumbers: numbers[3000:3040], Concurrency: 8, SentAt: time.Now().Add(-time.Minute),
	})
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.ReconcileAllInOne, rec.Verdict)
	assert.Equal(t, sids[3], rec.BulkHostingSID)
}

func TestWithPageSizeOutOfRangePanics(t *testing.T) {
	for _, n := range []int{0, -1, 1001} {
		msg := panicMessage(t, func() { hostednumberstest.NewServer(hostednumberstest.WithPageSize(n)).Close() })
		assert.Contains(t, msg, fmt.Sprintf("WithPageSize(%d)", n))
	}
}

package hostednumberstest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// bulkFetches counts the recorded fetches of bulk orders.
func bulkFetches(srv *hostednumberstest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && len(r.Path) > len(bulkPath) && r.Path[:len(bulkPath)] == bulkPath {
			n++
		}
	}
	return n
}

func TestCreateIsQueuedAndMakesNothingUntilProcessingStarts(t *testing.T) {
	// A long queue, so that "nothing yet" is surely observed before it
	// ends, and hosting that outlasts the test, so that the orders are
	// still pending-loa when the last fetch reads them, however slow the
	// machine.
	srv := newServer(t, hostednumberstest.WithProcessingDelay(2*time.Second, 100*time.Millisecond),
		hostednumberstest.WithHostingDuration(time.Hour))
	client := srv.Client()
	created := create(t, client, sampleParams())
	assert.Equal(t, hostednumbers.RequestStatusQueued, created.RequestStatus)
	assert.Equal(t, 3, created.TotalCount)
	assert.Empty(t, created.Results)
	assert.Empty(t, srv.HostedNumberOrders(), "no hosted number order while QUEUED")
	assert.Empty(t, srv.AuthorizationDocuments(), "no document while QUEUED")
	assert.Equal(t, hostednumbers.RequestStatusQueued, fetch(t, client, created.BulkHostingSID).RequestStatus)
	assert.Empty(t, listOrders(t, srv, ""))
	fetches := bulkFetches(srv)

	// Nobody fetches: processing starts on the server's own clock.
	waitFor(t, 10*time.Second, func() bool { return len(srv.HostedNumberOrders()) == 3 })
	assert.Len(t, srv.AuthorizationDocuments(), 2, "one document per request item")
	for _, o := range srv.HostedNumberOrders() {
		assert.Equal(t, created.BulkHostingSID, o.BulkHostingRequestSID.String)
		assert.False(t, o.DateCreated.Time.Before(created.DateCreated.Time.Add(2*time.Second)),
			"made when processing started, two seconds after the create")
	}
	waitFor(t, 10*time.Second, func() bool { return srv.Orders()[0].RequestStatus == hostednumbers.RequestStatusProcessed })
	assert.Equal(t, fetches, bulkFetches(srv), "the order moved on without a fetch")

	done := fetch(t, client, created.BulkHostingSID)
	assert.Equal(t, hostednumbers.RequestStatusProcessed, done.RequestStatus)
	require.True(t, done.DateCompleted.Valid)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusPendingLOA: 3}, done.CountsByStatus(),
		"PROCESSED means the orders were made, not that the numbers are hosted")
}

func TestProcessedOrdersGoOnHostingOnTheirOwnClock(t *testing.T) {
	srv := newServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	sid := create(t, client, sampleParams()).BulkHostingSID

	// With the default delays every order reaches its outcome quickly.
	waitFor(t, 10*time.Second, func() bool {
		counts := map[hostednumbers.OrderStatus]int{}
		for _, o := range srv.HostedNumberOrders() {
			counts[o.Status]++
		}
		return counts[hostednumbers.OrderStatusCompleted] == 2 && counts[hostednumbers.OrderStatusFailed] == 1
	})
	// The bulk result groups follow the orders: each number is in the
	// group of its order's status now, not of its status at PROCESSED.
	done := fetch(t, client, sid)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusCompleted: 2, hostednumbers.OrderStatusFailed: 1},
		done.CountsByStatus())
	for _, r := range done.Orders() {
		o := byPhone(srv.HostedNumberOrders())[r.PhoneNumber]
		assert.Equal(t, o.Status, r.Status, r.PhoneNumber)
		assert.Equal(t, o.SID, r.HostingOrderSID, r.PhoneNumber)
	}
	failed := done.Failed()
	require.Len(t, failed, 1)
	assert.Equal(t, hostednumberstest.DefaultFailureReason, failed[0].FailureReason.String)
	for _, o := range srv.HostedNumberOrders() {
		if o.Status == hostednumbers.OrderStatusCompleted {
			assert.True(t, o.DateUpdated.Time.After(done.DateCompleted.Time) || o.DateUpdated.Time.Equal(done.DateCompleted.Time))
			assert.Equal(t, hostednumbers.NullString{Valid: true}, o.FailureReason)
		}
	}
	for _, d := range srv.AuthorizationDocuments() {
		assert.Contains(t, []string{"signed"}, string(d.Status), d.SID)
	}
}

func TestHostedOrdersPassThroughEveryStageInOrder(t *testing.T) {
	srv := newServer(t,
		hostednumberstest.WithProcessingDelay(20*time.Millisecond, 60*time.Millisecond),
		hostednumberstest.WithHostingDuration(200*time.Millisecond))
	create(t, srv.Client(), numbersParams("+14155550101"))
	rank := map[hostednumbers.OrderStatus]int{
		hostednumbers.OrderStatusReceived: 0, hostednumbers.OrderStatusPendingLOA: 1,
		hostednumbers.OrderStatusCarrierProcessing: 2, hostednumbers.OrderStatusCompleted: 3,
	}
	last := -1
	waitFor(t, 10*time.Second, func() bool {
		orders := srv.HostedNumberOrders()
		if len(orders) == 0 {
			return false
		}
		r, ok := rank[orders[0].Status]
		require.True(t, ok, "unexpected status %s", orders[0].Status)
		require.GreaterOrEqual(t, r, last, "status went back to %s", orders[0].Status)
		last = r
		return orders[0].Status == hostednumbers.OrderStatusCompleted
	})
}

func TestCreateWhoseClientGaveUpDuringLatencyIsProcessedLater(t *testing.T) {
	const later = 400 * time.Millisecond
	srv := newServer(t, hostednumberstest.WithAbandonedCreateDelay(later))
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Latency: time.Minute})
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := client.BulkHostedNumberOrders.Create(ctx, numbersParams("+14155550101"))
	require.Error(t, err, "the client gave up")
	gaveUp := time.Now()

	// The server learns that the client has gone, and takes the create in.
	waitFor(t, 10*time.Second, func() bool { return srv.Requests()[0].CreatedSID != "" })
	sid := srv.Requests()[0].CreatedSID
	assert.Equal(t, 0, srv.Requests()[0].Status, "never answered")
	if time.Since(gaveUp) < later/2 {
		assert.Empty(t, srv.Orders(), "not yet taken effect")
	}
	waitFor(t, 10*time.Second, func() bool { return len(srv.Orders()) == 1 })
	assert.Equal(t, sid, srv.Orders()[0].BulkHostingSID)
	waitFor(t, 10*time.Second, func() bool { return len(srv.HostedNumberOrders()) == 1 })
	assert.Equal(t, sid, srv.HostedNumberOrders()[0].BulkHostingRequestSID.String)
}

func TestCloseDuringLatencyCreatesNothing(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithAbandonedCreateDelay(0))
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Latency: time.Minute})
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := client.BulkHostedNumberOrders.Create(ctx, numbersParams("+14155550101"))
		errc <- err
	}()
	waitFor(t, 10*time.Second, func() bool { return len(srv.Requests()) == 1 })
	srv.Close()
	require.Error(t, <-errc)
	assert.Empty(t, srv.Requests()[0].CreatedSID, "a server shut down processes nothing")
	assert.Empty(t, srv.Orders())
}

func TestProcessThenDropWithProcessDelay(t *testing.T) {
	const delay = 400 * time.Millisecond
	srv := newServer(t, hostednumberstest.WithProcessingDelay(0, 0))
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true, ProcessDelay: delay})
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	start := time.Now()
	_, err := client.BulkHostedNumberOrders.Create(context.Background(), numbersParams("+14155550101"))
	require.Error(t, err)
	sid := srv.Requests()[0].CreatedSID
	require.NotEmpty(t, sid)
	resp, _ := authed(t, http.MethodGet, srv.URL+bulkPath+"/"+sid, "", "")
	if time.Since(start) < delay/2 {
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "not taken effect yet")
		assert.Empty(t, srv.Orders())
	}
	waitFor(t, 10*time.Second, func() bool {
		resp, _ := authed(t, http.MethodGet, srv.URL+bulkPath+"/"+sid, "", "")
		return resp.StatusCode == http.StatusOK
	})
	assert.Len(t, srv.Orders(), 1)
}

func TestListsShowAnOrderOnlyAfterTheLag(t *testing.T) {
	const lag = 500 * time.Millisecond
	srv := newServer(t, hostednumberstest.WithProcessingDelay(0, time.Minute), hostednumberstest.WithListLag(lag))
	create(t, srv.Client(), numbersParams("+14155550101"))
	made := time.Now()
	orders := srv.HostedNumberOrders()
	require.Len(t, orders, 1, "made at once with no queue")
	docs := srv.AuthorizationDocuments()
	require.Len(t, docs, 1)
	resp, _ := authed(t, http.MethodGet, srv.URL+ordersPath+"/"+orders[0].SID, "", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a fetch by SID finds it at once")

	listed := listOrders(t, srv, "PhoneNumber=%2B14155550101")
	_, depBody := authed(t, http.MethodGet, srv.URL+docsPath+"/"+docs[0].SID+"/DependentHostedNumberOrders", "", "")
	_, docBody := authed(t, http.MethodGet, srv.URL+docsPath, "", "")
	if time.Since(made) < lag/2 {
		assert.Empty(t, listed, "the list lags")
		assert.Empty(t, decodeObject(t, depBody)["items"], "the dependent orders lag")
		assert.Empty(t, decodeObject(t, docBody)["items"], "the document list lags")
	}
	waitFor(t, 10*time.Second, func() bool { return len(listOrders(t, srv, "PhoneNumber=%2B14155550101")) == 1 })
	_, depBody = authed(t, http.MethodGet, srv.URL+docsPath+"/"+docs[0].SID+"/DependentHostedNumberOrders", "", "")
	assert.Len(t, decodeObject(t, depBody)["items"], 1)
	_, docBody = authed(t, http.MethodGet, srv.URL+docsPath, "", "")
	assert.Len(t, decodeObject(t, docBody)["items"], 1)
}

func TestServerClockOffset(t *testing.T) {
	for _, offset := range []time.Duration{-3 * time.Hour, 90 * time.Minute} {
		t.Run(offset.String(), func(t *testing.T) {
			srv := newServer(t, hostednumberstest.WithClockOffset(offset), hostednumberstest.WithProcessingDelay(0, 0))
			before := time.Now().Add(offset).Add(-time.Second)
			created := create(t, srv.Client(), numbersParams("+14155550101"))
			after := time.Now().Add(offset).Add(time.Second)
			assert.WithinRange(t, created.DateCreated.Time, before, after)
			date, err := http.ParseTime(created.LastResponse.Header.Get("Date"))
			require.NoError(t, err)
			assert.WithinRange(t, date, before, after, "the Date header follows the server's clock")

			waitFor(t, 10*time.Second, func() bool { return len(srv.HostedNumberOrders()) == 1 })
			o := srv.HostedNumberOrders()[0]
			assert.WithinRange(t, o.DateCreated.Time, before, after)
			resp, _ := authed(t, http.MethodGet, srv.URL+ordersPath, "", "")
			date, err = http.ParseTime(resp.Header.Get("Date"))
			require.NoError(t, err)
			assert.WithinRange(t, date, before, time.Now().Add(offset).Add(time.Second))
		})
	}
}

func TestResubmittedNumberFailsByDefault(t *testing.T) {
	srv := newServer(t, hostednumberstest.WithProcessingDelay(0, 10*time.Millisecond))
	client := srv.Client()
	first := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	waitFor(t, 10*time.Second, func() bool { return len(srv.HostedNumberOrders()) == 1 })
	live := srv.HostedNumberOrders()[0].SID
	second := create(t, client, numbersParams("+14155550101", "+14155550102")).BulkHostingSID

	waitFor(t, 10*time.Second, func() bool { return fetch(t, client, second).RequestStatus.Finished() })
	done := fetch(t, client, second)
	failed := done.Failed()
	require.Len(t, failed, 1)
	assert.Equal(t, "+14155550101", failed[0].PhoneNumber)
	assert.Equal(t, hostednumberstest.AlreadyOrderedReason("+14155550101", live), failed[0].FailureReason.String)
	assert.Equal(t, hostednumberstest.AlreadyOrderedNextStep, failed[0].NextStep.String)
	assert.Contains(t, failed[0].FailureReason.String, live, "names the live order")

	// The first order is untouched and still hosts the number.
	waitFor(t, 10*time.Second, func() bool {
		for _, o := range srv.HostedNumberOrders() {
			if o.BulkHostingRequestSID.String == first {
				return o.Status == hostednumbers.OrderStatusCompleted
			}
		}
		return false
	})
}

func TestResubmissionAfterACancelIsAccepted(t *testing.T) {
	// A long enough IN_PROGRESS keeps the first order received, so it can
	// be canceled.
	srv := newServer(t, hostednumberstest.WithProcessingDelay(0, 300*time.Millisecond), hostednumberstest.WithHostingDuration(0))
	client := srv.Client()
	create(t, client, numbersParams("+14155550101"))
	orders := srv.HostedNumberOrders()
	require.Len(t, orders, 1)
	resp, _ := authed(t, http.MethodDelete, srv.URL+ordersPath+"/"+orders[0].SID, "", "")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	create(t, client, numbersParams("+14155550101"))
	waitFor(t, 10*time.Second, func() bool {
		orders = srv.HostedNumberOrders()
		return len(orders) == 1 && orders[0].Status != hostednumbers.OrderStatusReceived
	})
	assert.Equal(t, hostednumbers.OrderStatusCompleted, orders[0].Status, "the canceled order is not live")
	assert.Equal(t, hostednumbers.NullString{Valid: true}, orders[0].FailureReason)
}

func TestResubmissionDuplicatesMakesASecondLiveOrder(t *testing.T) {
	srv := newServer(t, hostednumberstest.WithResubmission(hostednumberstest.ResubmissionDuplicates))
	client := srv.Client()
	create(t, client, numbersParams("+14155550101"))
	create(t, client, numbersParams("+14155550101"))
	waitFor(t, 10*time.Second, func() bool {
		orders := srv.HostedNumberOrders()
		return len(orders) == 2 &&
			orders[0].Status == hostednumbers.OrderStatusCompleted && orders[1].Status == hostednumbers.OrderStatusCompleted
	})
	orders := srv.HostedNumberOrders()
	assert.NotEqual(t, orders[0].BulkHostingRequestSID, orders[1].BulkHostingRequestSID, "hosted twice")
}

func TestFaultPathKeepsABulkFetchFaultFromAList(t *testing.T) {
	// Immediate: the order is listed at once, so the list request is certain to come first.
	srv := newImmediateServer(t)
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Path: bulkPath + "/", Status: http.StatusServiceUnavailable})
	assert.Len(t, listOrders(t, srv, ""), 1, "the list does not use up the fault")
	assert.Equal(t, 1, srv.PendingFaults())
	_, err := client.BulkHostedNumberOrders.Fetch(context.Background(), sid, nil)
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.HTTPStatus)
	assert.Zero(t, srv.PendingFaults())

	// An exact path matches that path only.
	srv.InjectFault(hostednumberstest.Fault{Path: ordersPath, Status: http.StatusTooManyRequests})
	fetch(t, client, sid)
	assert.Equal(t, 1, srv.PendingFaults())
	resp, _ := authed(t, http.MethodGet, srv.URL+ordersPath, "", "")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}

func TestAbandonedCreateUnderAnErrorFaultStaysUnprocessed(t *testing.T) {
	srv := newServer(t, hostednumberstest.WithAbandonedCreateDelay(0), hostednumberstest.WithProcessingDelay(0, 0))
	// A fault that would answer 503 without processing, and one that would
	// drop the connection: giving up early changes nothing.
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Latency: time.Minute, Status: http.StatusServiceUnavailable})
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Latency: time.Minute, DropConnection: true})
	// A 202 fault would have processed it: the create takes effect.
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Latency: time.Minute, Status: http.StatusAccepted})
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := client.BulkHostedNumberOrders.Create(ctx, numbersParams("+14155550101"))
		cancel()
		require.Error(t, err, "create %d", i)
	}
	waitFor(t, 10*time.Second, func() bool { return srv.Requests()[2].CreatedSID != "" })
	reqs := srv.Requests()
	assert.Empty(t, reqs[0].CreatedSID, "a 503 fault does not process")
	assert.Empty(t, reqs[1].CreatedSID, "a dropped connection does not process")
	waitFor(t, 10*time.Second, func() bool { return len(srv.Orders()) == 1 })
	assert.Equal(t, reqs[2].CreatedSID, srv.Orders()[0].BulkHostingSID)
}

func TestWithStageDurationZeroIsImmediate(t *testing.T) {
	srv := newServer(t, hostednumberstest.WithStageDuration(0))
	client := srv.Client()
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	assert.Len(t, srv.HostedNumberOrders(), 1, "made at the create")
	assert.Len(t, listOrders(t, srv, ""), 1, "listed at once")
	assert.Equal(t, hostednumbers.RequestStatusInProgress, fetch(t, client, sid).RequestStatus)
	done := fetch(t, client, sid)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusCompleted: 1}, done.CountsByStatus())
}

func TestResubmissionAfterAFailedOrderIsAccepted(t *testing.T) {
	first := true
	srv := newServer(t, hostednumberstest.WithProcessingDelay(0, 10*time.Millisecond),
		hostednumberstest.WithOutcome(func(string) hostednumberstest.Outcome {
			// Called once per number per create; the creates here follow
			// one another. The first order fails, the second completes.
			if first {
				first = false
				return hostednumberstest.Outcome{Status: hostednumbers.OrderStatusFailed, FailureReason: "LOA rejected"}
			}
			return hostednumberstest.Outcome{}
		}))
	client := srv.Client()
	create(t, client, numbersParams("+14155550101"))
	waitFor(t, 10*time.Second, func() bool {
		o := srv.HostedNumberOrders()
		return len(o) == 1 && o[0].Status == hostednumbers.OrderStatusFailed
	})
	create(t, client, numbersParams("+14155550101"))
	waitFor(t, 10*time.Second, func() bool {
		o := srv.HostedNumberOrders()
		return len(o) == 2 && o[1].Status == hostednumbers.OrderStatusCompleted
	})
	assert.Equal(t, "LOA rejected", srv.HostedNumberOrders()[0].FailureReason.String)
}

func TestResubmissionInTheImmediateModel(t *testing.T) {
	for _, tt := range []struct {
		policy hostednumberstest.Resubmission
		want   hostednumbers.OrderStatus
	}{
		{hostednumberstest.ResubmissionFails, hostednumbers.OrderStatusFailed},
		{hostednumberstest.ResubmissionDuplicates, hostednumbers.OrderStatusCompleted},
	} {
		// Immediate: the policy in the fetch-driven model, two fetches to PROCESSED.
		srv := newImmediateServer(t, hostednumberstest.WithResubmission(tt.policy))
		client := srv.Client()
		create(t, client, numbersParams("+14155550101"))
		second := create(t, client, numbersParams("+14155550101")).BulkHostingSID
		fetch(t, client, second)
		done := fetch(t, client, second)
		assert.Equal(t, map[hostednumbers.OrderStatus]int{tt.want: 1}, done.CountsByStatus(), "policy %d", tt.policy)
	}
}

func TestAPIKeyIsAcceptedForTheAccount(t *testing.T) {
	const keySID, keySecret = "SK0123456789abcdef0123456789abcdef", "keysecret0123456789abcdef01234567"
	srv := newServer(t, hostednumberstest.WithAPIKey(keySID, keySecret), hostednumberstest.WithProcessingDelay(0, 0))
	keyClient := srv.Client(hostednumbers.WithAPIKey(keySID, keySecret, hostednumberstest.AccountSID))
	create(t, keyClient, numbersParams("+14155550101"))
	req := srv.Requests()[0]
	assert.True(t, req.Authorized)
	assert.Equal(t, keySID, req.Username)
	waitFor(t, 10*time.Second, func() bool { return len(srv.HostedNumberOrders()) == 1 })
	assert.Equal(t, hostednumberstest.AccountSID, srv.HostedNumberOrders()[0].AccountSID, "the documents name the account")

	// The account's own credentials still work; a wrong secret does not.
	create(t, srv.Client(), numbersParams("+14155550102"))
	bad := srv.Client(hostednumbers.WithAPIKey(keySID, "wrongsecret0123456789abcdef012345", hostednumberstest.AccountSID))
	_, err := bad.BulkHostedNumberOrders.Create(context.Background(), numbersParams("+14155550103"))
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.HTTPStatus)
	assert.NotContains(t, err.Error(), "wrongsecret")

	// Without WithAPIKey the key is refused.
	plain := newServer(t)
	_, err = plain.Client(hostednumbers.WithAPIKey(keySID, keySecret, hostednumberstest.AccountSID)).
		BulkHostedNumberOrders.Create(context.Background(), numbersParams("+14155550101"))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.HTTPStatus)
}

func TestFastWaitOptionsMakeWaitQuick(t *testing.T) {
	srv := newServer(t, hostednumberstest.WithProcessingDelay(300*time.Millisecond, 50*time.Millisecond))
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	opts := hostednumberstest.FastWaitOptions()
	assert.Less(t, opts.PollInterval, hostednumbers.DefaultPollInterval)
	opts.PollInterval = time.Millisecond // a copy: changing it changes nothing else
	assert.NotEqual(t, opts.PollInterval, hostednumberstest.FastWaitOptions().PollInterval)
	polls := 0
	opts.OnSnapshot = func(*hostednumbers.BulkHostedNumberOrder) { polls++ }
	done, err := client.BulkHostedNumberOrders.Wait(ctx, sid, opts)
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.RequestStatusProcessed, done.RequestStatus)
	assert.Greater(t, polls, 1, "polled while QUEUED and IN_PROGRESS")
}

// WithClock moves the server's processing with the clock it is given: a
// clock set an hour ahead finds a new order processed and hosted, without
// a real wait.
func TestWithClockRunsStagesOnTheGivenClock(t *testing.T) {
	var (
		mu   sync.Mutex
		skip time.Duration
	)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(skip) }
	srv := hostednumberstest.NewServer(hostednumberstest.WithClock(now), hostednumberstest.WithProcessingDelay(time.Hour, time.Hour))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := srv.Client()
	created, err := client.BulkHostedNumberOrders.Create(ctx, numbersParams("+14155550100"))
	require.NoError(t, err)
	got, err := client.BulkHostedNumberOrders.Fetch(ctx, created.BulkHostingSID, nil)
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.RequestStatusQueued, got.RequestStatus)
	mu.Lock()
	skip = 3 * time.Hour
	mu.Unlock()
	got, err = client.BulkHostedNumberOrders.Fetch(ctx, created.BulkHostingSID, nil)
	require.NoError(t, err)
	assert.Equal(t, hostednumbers.RequestStatusProcessed, got.RequestStatus)
	require.NotNil(t, got.LastResponse)
	assert.WithinDuration(t, now(), got.LastResponse.ServerDate, 2*time.Second, "the Date header follows the clock")
}

package hostednumberstest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestFaultAnswersWithItsStatusAndBody(t *testing.T) {
	tests := []struct {
		name            string
		fault           hostednumberstest.Fault
		wantStatus      int
		wantBody        string // exact; JSON compared as JSON
		wantContentType string
		wantRetryAfter  string
	}{
		{
			name:            "given body and content type",
			fault:           hostednumberstest.Fault{Status: 502, Body: "<html><body>Bad Gateway</body></html>", ContentType: "text/html"},
			wantStatus:      502,
			wantBody:        "<html><body>Bad Gateway</body></html>",
			wantContentType: "text/html",
		},
		{
			// Twilio documents no code for a 503: the fake invents none.
			name:            "default Twilio error document",
			fault:           hostednumberstest.Fault{Status: 503},
			wantStatus:      503,
			wantBody:        `{"message":"Service Unavailable","status":503}`,
			wantContentType: "application/json",
		},
		{
			name:            "rate limit with Retry-After",
			fault:           hostednumberstest.Fault{Status: 429, RetryAfter: "7"},
			wantStatus:      429,
			wantBody:        `{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}`,
			wantContentType: "application/json",
			wantRetryAfter:  "7",
		},
		{
			name:            "status without a text",
			fault:           hostednumberstest.Fault{Status: 599},
			wantStatus:      599,
			wantBody:        `{"message":"Error","status":599}`,
			wantContentType: "application/json",
		},
		{
			name:            "success status with a broken body",
			fault:           hostednumberstest.Fault{Status: 200, Body: "not json"},
			wantStatus:      200,
			wantBody:        "not json",
			wantContentType: "application/json",
		},
		{
			name:            "success status without a body",
			fault:           hostednumberstest.Fault{Status: 204},
			wantStatus:      204,
			wantContentType: "application/json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.InjectFault(tt.fault)
			resp, body := authed(t, "GET", srv.URL+bulkPath+"/"+unknownSID, "", "")

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantContentType, resp.Header.Get("Content-Type"))
			assert.Equal(t, tt.wantRetryAfter, resp.Header.Get("Retry-After"))
			assert.Regexp(t, requestIDPattern, resp.Header.Get("Twilio-Request-Id"))
			if tt.wantContentType == "application/json" && tt.wantBody != "" && tt.wantBody[0] == '{' {
				assert.JSONEq(t, tt.wantBody, string(body))
			} else {
				assert.Equal(t, tt.wantBody, string(body))
			}
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.True(t, reqs[0].Faulted)
			assert.Equal(t, resp.Header.Get("Twilio-Request-Id"), reqs[0].RequestID)
			assert.Zero(t, srv.PendingFaults())

			// The fault is used up: the next request is handled normally.
			resp, _ = authed(t, "GET", srv.URL+bulkPath+"/"+unknownSID, "", "")
			assert.Equal(t, 404, resp.StatusCode)
		})
	}
}

func TestFaultAnswersEvenUnauthorizedRequests(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{Status: 503})
	resp, _, err := rawRequest(t, "GET", srv.URL+bulkPath+"/"+unknownSID, "", "")
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode, "faults come before the credentials check")
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.True(t, reqs[0].Faulted)
	assert.False(t, reqs[0].Authorized)
}

func TestFaultMethodLimitsWhichRequestsItHits(t *testing.T) {
	// Immediate: counts which fetches moved the order a stage.
	srv := newImmediateServer(t)
	client := srv.Client()
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID

	srv.InjectFault(hostednumberstest.Fault{Method: "post", Status: 500})
	got := fetch(t, client, sid)
	assert.Equal(t, hostednumbers.RequestStatusInProgress, got.RequestStatus, "the GET was not faulted and counted")
	assert.Equal(t, 1, srv.PendingFaults(), "a POST-only fault waits for a POST")

	_, err := client.BulkHostedNumberOrders.Create(context.Background(), numbersParams("+14155550102"))
	assert.ErrorIs(t, err, hostednumbers.ErrServer)
	assert.Zero(t, srv.PendingFaults())
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []bool{false, false, true}, []bool{reqs[0].Faulted, reqs[1].Faulted, reqs[2].Faulted})
}

func TestFaultCountAppliesToThatManyRequests(t *testing.T) {
	tests := []struct {
		count int
		want  []int
	}{
		{count: 0, want: []int{503, 404, 404}},
		{count: 1, want: []int{503, 404, 404}},
		{count: 2, want: []int{503, 503, 404}},
		{count: -5, want: []int{503, 404, 404}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("count %d", tt.count), func(t *testing.T) {
			srv := newServer(t)
			srv.InjectFault(hostednumberstest.Fault{Status: 503, Count: tt.count})
			var got []int
			for range tt.want {
				resp, _ := authed(t, "GET", srv.URL+bulkPath+"/"+unknownSID, "", "")
				got = append(got, resp.StatusCode)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFaultsAreTakenInTheOrderTheyWereInjected(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 500})
	srv.InjectFault(hostednumberstest.Fault{Status: 429})
	srv.InjectFault(hostednumberstest.Fault{Status: 502})
	require.Equal(t, 3, srv.PendingFaults())

	steps := []struct{ method, path string }{
		{"POST", bulkPath},                   // skips the GET-only fault: 429
		{"GET", bulkPath + "/" + unknownSID}, // the GET-only fault: 500
		{"GET", bulkPath + "/" + unknownSID}, // the any-method 502
		{"GET", bulkPath + "/" + unknownSID}, // none left: 404
	}
	var got []int
	for _, s := range steps {
		resp, _ := authed(t, s.method, srv.URL+s.path, "application/json", "{}")
		got = append(got, resp.StatusCode)
	}
	assert.Equal(t, []int{429, 500, 502, 404}, got)
}

func TestFaultLatencyDelaysThenAnswersNormally(t *testing.T) {
	const latency = 50 * time.Millisecond
	// IN_PROGRESS for an hour: the delayed answer is read however slow
	// the machine is.
	srv := newServer(t, hostednumberstest.WithProcessingDelay(time.Millisecond, time.Hour))
	client := srv.Client()
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Latency: latency, RetryAfter: "3"})

	start := time.Now()
	resp, body := authed(t, "GET", srv.URL+bulkPath+"/"+sid, "", "")
	assert.GreaterOrEqual(t, time.Since(start), latency)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"), "Retry-After is sent with a latency-only fault too")
	assert.Contains(t, string(body), `"request_status":"IN_PROGRESS"`, "a delayed fetch still counts")
	reqs := srv.Requests()
	assert.True(t, reqs[len(reqs)-1].Faulted)
}

func TestFaultLatencyEndsWhenTheClientGivesUp(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := srv.Client().BulkHostedNumberOrders.Fetch(ctx, unknownSID, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hung on the abandoned request")
	}
}

func TestCloseDoesNotWaitForALatencyFault(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	srv.InjectFault(hostednumberstest.Fault{Latency: 10 * time.Second})

	errc := make(chan error, 1)
	go func() {
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+bulkPath+"/"+unknownSID, nil)
		if err != nil {
			errc <- err
			return
		}
		resp, err := hc.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, 2*time.Second, func() bool { return len(srv.Requests()) == 1 })

	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), time.Second)
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, io.EOF, "the delayed request gets no answer")
	case <-time.After(2 * time.Second):
		t.Fatal("the delayed request did not end")
	}
}

func TestFaultDropConnectionClosesWithoutAnswering(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{DropConnection: true})
	body := `{"request_items":[{"numbers":[{"phone_number":"+14155550101"}]}]}`

	resp, _, err := rawRequest(t, "POST", srv.URL+bulkPath, "application/json", body,
		hostednumberstest.AccountSID, hostednumberstest.AuthToken)
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, io.EOF)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.True(t, reqs[0].Faulted)
	assert.Equal(t, body, string(reqs[0].Body), "the whole request was read first")
}

func TestInjectFaultPanicsOnAnImpossibleStatus(t *testing.T) {
	for _, status := range []int{42, 100, 199, 1000} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := newServer(t)
			msg := panicMessage(t, func() { srv.InjectFault(hostednumberstest.Fault{Status: status}) })
			assert.Contains(t, msg, fmt.Sprintf("Status %d", status))
			assert.Zero(t, srv.PendingFaults())
		})
	}
}

// The SDK's retry policy, seen from the server.

func TestClientRetriesGETThroughTransientFaults(t *testing.T) {
	// Immediate: counts which fetches moved the order a stage.
	srv := newImmediateServer(t)
	client := srv.Client()
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 503, Count: 2})

	got := fetch(t, client, sid)
	assert.Equal(t, hostednumbers.RequestStatusInProgress, got.RequestStatus, "only the answered fetch counted")
	assert.Equal(t, 3, countMethod(srv, "GET"))
	var faulted []bool
	for _, r := range srv.Requests()[1:] {
		faulted = append(faulted, r.Faulted)
	}
	assert.Equal(t, []bool{true, true, false}, faulted)
}

func TestClientGivesUpOnGETAfterItsRetries(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", Status: 502, Count: 10, Body: "<html>Bad Gateway</html>", ContentType: "text/html"})

	_, err := srv.Client().BulkHostedNumberOrders.Fetch(context.Background(), unknownSID, nil)
	require.ErrorIs(t, err, hostednumbers.ErrServer)
	var apiErr *hostednumbers.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.HTTPStatus)
	assert.Contains(t, apiErr.Body, "Bad Gateway")
	assert.Equal(t, 1+hostednumbers.DefaultMaxRetries, countMethod(srv, "GET"))
	assert.Equal(t, 10-(1+hostednumbers.DefaultMaxRetries), srv.PendingFaults())
}

func TestClientRetriesGETAfterADroppedConnection(t *testing.T) {
	// Immediate: counts which fetches moved the order a stage.
	srv := newImmediateServer(t)
	client := srv.Client()
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	srv.InjectFault(hostednumberstest.Fault{Method: "GET", DropConnection: true})

	got := fetch(t, client, sid)
	assert.Equal(t, hostednumbers.RequestStatusInProgress, got.RequestStatus)
	assert.Equal(t, 2, countMethod(srv, "GET"))
}

func TestClientNeverResendsACreateTheServerMayHaveProcessed(t *testing.T) {
	tests := []struct {
		name  string
		fault hostednumberstest.Fault
		check func(t *testing.T, err error)
	}{
		{
			name:  "500",
			fault: hostednumberstest.Fault{Method: "POST", Status: 500},
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, hostednumbers.ErrServer)
				var apiErr *hostednumbers.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Zero(t, apiErr.Code, "Twilio documents no code for a 500")
				assert.Equal(t, "Internal Server Error", apiErr.Message)
			},
		},
		{
			name:  "503 with Retry-After",
			fault: hostednumberstest.Fault{Method: "POST", Status: 503, RetryAfter: "0"},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, hostednumbers.ErrServer) },
		},
		{
			name:  "dropped connection",
			fault: hostednumberstest.Fault{Method: "POST", DropConnection: true},
			check: func(t *testing.T, err error) {
				require.Error(t, err)
				var apiErr *hostednumbers.APIError
				assert.False(t, errors.As(err, &apiErr), "there was no answer: %v", err)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.InjectFault(tt.fault)
			srv.InjectFault(tt.fault) // a resend would be faulted too, and show up below

			_, err := srv.Client().BulkHostedNumberOrders.Create(context.Background(), numbersParams("+14155550101"))
			tt.check(t, err)
			assert.Equal(t, 1, countMethod(srv, "POST"), "the create was sent exactly once")
		})
	}
}

func TestClientResendsACreateAfterA429(t *testing.T) {
	srv := newServer(t)
	client := srv.Client()
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 429, RetryAfter: "0"})

	created := create(t, client, numbersParams("+14155550101"))
	assert.Equal(t, 2, countMethod(srv, "POST"))
	reqs := srv.Requests()
	assert.True(t, reqs[0].Faulted)
	assert.False(t, reqs[1].Faulted)
	assert.Equal(t, reqs[0].Body, reqs[1].Body, "the same body was resent")
	_, ok := srv.Order(created.BulkHostingSID)
	assert.True(t, ok)
}

func TestClientReportsAnUnreadableAcceptedCreate(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: http.StatusAccepted, Body: `{"bulk_hosting_sid": 42`})

	_, err := srv.Client().BulkHostedNumberOrders.Create(context.Background(), numbersParams("+14155550101"))
	var decodeErr *hostednumbers.DecodeError
	require.ErrorAs(t, err, &decodeErr)
	assert.True(t, decodeErr.Accepted())
	assert.Equal(t, srv.Requests()[0].RequestID, decodeErr.RequestID)
	assert.Equal(t, 1, countMethod(srv, "POST"))
}

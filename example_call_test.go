package hostednumbers_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// These examples run the blocks of docs/sdk.md on per-call settings and hooks.

func ExampleWithCallMaxRetries() {
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{{
		Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
		Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}},
	}}}

	order, err := client.BulkHostedNumberOrders.Create(ctx, params,
		hostednumbers.WithCallMaxRetries(0),            // this call only: no resend, even after a 429
		hostednumbers.WithCallTimeout(10*time.Second),  // per attempt, instead of WithTimeout
		hostednumbers.WithCallHeader("X-Job-Id", "42"), // sent with every attempt
		hostednumbers.WithCallTag("spring-migration"))  // for the hooks and logs, never sent
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(order.RequestStatus, srv.Requests()[0].Header.Get("X-Job-Id"))
	// Output: QUEUED 42
}

func ExampleWithHooks() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable})

	hooks := hostednumbers.Hooks{
		OnCallStart: func(ctx context.Context, call hostednumbers.CallInfo) context.Context {
			fmt.Println("start:", call.Operation, call.Method, call.Path, call.Tag)
			return ctx // a tracer returns the context holding the call's span
		},
		OnAttempt: func(_ context.Context, a hostednumbers.AttemptInfo) {
			fmt.Println("attempt:", a.Attempt, a.StatusCode, a.RequestID != "")
		},
		OnCallEnd: func(_ context.Context, end hostednumbers.CallEnd) {
			fmt.Println("end:", end.Outcome, end.StatusCode, end.Attempts, end.RequestID != "")
		},
	}
	client := srv.Client(hostednumbers.WithHooks(hooks))

	_, err := client.HostedNumberOrders.Fetch(context.Background(), "HR0123456789abcdef0123456789abcdef",
		hostednumbers.WithCallTag("support-lookup"))
	fmt.Println(hostednumbers.OutcomeOf(err))
	// Output:
	// start: fetch hosted number order GET /v2/HostedNumber/Orders/{Sid} support-lookup
	// attempt: 1 503 true
	// attempt: 2 404 true
	// end: not_found 404 2 true
	// not_found
}

// TestHTTPMockActivateDoesNotReachTheSDK shows why the httpmock recipe of
// docs/testing.md passes a MockTransport with WithHTTPClient: httpmock.Activate
// replaces http.DefaultTransport, which the SDK's own transport is not, so
// the request goes to the real server (here a loopback fake) instead.
func TestHTTPMockActivateDoesNotReachTheSDK(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	httpmock.Activate()
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder(http.MethodGet, srv.URL+"/v2/HostedNumber/Orders",
		httpmock.NewStringResponder(http.StatusTeapot, `{"code": 1, "message": "from the mock"}`))

	client, err := hostednumbers.NewClient(hostednumbers.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
		hostednumbers.WithBaseURL(srv.URL))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	page, err := client.HostedNumberOrders.List(ctx, nil)
	require.NoError(t, err, "the fake answered, not the mock")
	assert.Empty(t, page.Items)
	assert.Zero(t, httpmock.GetTotalCallCount())
	assert.Len(t, srv.Requests(), 1)
}

// A mock of a service interface reads back the options its caller passed.
func ExampleInspectCallOptions() {
	opts := []hostednumbers.CallOption{
		hostednumbers.WithCallTag("nightly-sync"),
		hostednumbers.WithCallTimeout(5 * time.Second),
		hostednumbers.WithCallHeader("X-Correlation-Id", "job-42"),
	}
	s := hostednumbers.InspectCallOptions(opts...)
	fmt.Println(s.Tag, s.Timeout, s.TimeoutSet, s.MaxRetriesSet, s.Headers.Get("X-Correlation-Id"), s.Err)
	// Output: nightly-sync 5s true false job-42 <nil>
}

package hostednumbers_test

import (
	"context"
	"errors"
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

// The examples in this file run the calls of the Go blocks of README.md and
// docs/*.md against the fake server and check what they print, so that the
// blocks (which TestDocs_GoBlocksCompile compiles as written) also do what
// the documents say. Edit a block and its example together.

// Example_newClientFromEnv is compiled, not run: it needs real credentials.
func Example_newClientFromEnv() {
	client, err := hostednumbers.NewClientFromEnv() // TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.AccountSID())
}

// Example_quickStart is the README's quick start, run against the fake
// server (with every number processed at once, and numbers ending in 2
// failing, so that there is something to print).
func Example_quickStart() {
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithStageDuration(time.Nanosecond),
		hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("2")))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	order, err := client.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName: "Spring migration",
		RequestItems: []hostednumbers.RequestItem{{
			Email:      "owner@example.com",
			AddressSID: "AD0123456789abcdef0123456789abcdef",
			Numbers:    []hostednumbers.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	done, err := client.BulkHostedNumberOrders.Wait(ctx, order.BulkHostingSID, nil) // polls until PROCESSED
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range done.Failed() {
		fmt.Println(o.PhoneNumber, o.FailureReason.String, o.NextStep.String)
	}
	// Output:
	// +14155550102 The phone number is not eligible for hosting Check the number with the Hosted Number Eligibility API and submit it again once it is eligible
}

// Example_createOutcome branches on whether a failed create may exist.
func Example_createOutcome() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusServiceUnavailable})
	client := srv.Client(hostednumbers.WithMaxRetries(0))
	ctx := context.Background()
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{{
		Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
		Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}},
	}}}

	order, err := client.BulkHostedNumberOrders.Create(ctx, params)
	switch {
	case errors.Is(err, hostednumbers.ErrNotApplied):
		// nothing happened at Twilio: fix the cause, then submit again
	case errors.Is(err, hostednumbers.ErrOutcomeUnknown):
		// may exist: Reconcile before anything else
	}
	fmt.Println(order == nil, errors.Is(err, hostednumbers.ErrOutcomeUnknown), errors.Is(err, hostednumbers.ErrServer))
	// Output: true true true
}

// followNumbers is the block of docs/sdk.md that lists the orders waiting
// for their LOA and the documents not signed yet. It prints SIDs, which the fake
// makes anew each run, so a test runs it rather than an Example.
func followNumbers(ctx context.Context, client *hostednumbers.Client) error {
	for order, err := range client.HostedNumberOrders.All(ctx, &hostednumbers.ListHostedNumberOrdersParams{
		Status: hostednumbers.OrderStatusPendingLOA,
	}) {
		if err != nil {
			return err
		}
		fmt.Println(order.PhoneNumber, order.BulkHostingRequestSID.String, order.SigningDocumentSID.String)
	}

	for doc, err := range client.AuthorizationDocuments.All(ctx, nil) {
		if err != nil {
			return err
		}
		if doc.Status.Unsigned() { // opened or signing
			fmt.Println("waiting for", doc.Email.String)
		}
	}
	return nil
}

func TestDocs_FollowNumbersBlockRuns(t *testing.T) {
	// Hosting takes an hour here, so the order stays pending-loa once made.
	srv := hostednumberstest.NewServer(hostednumberstest.WithHostingDuration(time.Hour))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	order, err := client.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{{
		Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
		Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}},
	}}})
	require.NoError(t, err)
	// PROCESSED: the order is made and waits for its LOA.
	_, err = client.BulkHostedNumberOrders.Wait(ctx, order.BulkHostingSID, &hostednumbers.WaitOptions{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	before := len(srv.Requests())
	require.NoError(t, followNumbers(ctx, client))
	assert.Equal(t, 2, len(srv.Requests())-before, "one page of orders, one of documents")
}

// Example_recoverUnknownOutcome loses the answer to a create that Twilio
// processed, and finds the bulk request again without a second create.
// The fake processes the create at once and lists its orders at once:
// Reconcile finds only what Twilio has processed, and Twilio may take a
// while, so against Twilio a "none-created" right after a lost answer is
// not yet proof (ExampleFault_processThenDrop in hostednumberstest shows
// the trap with a queue).
func Example_recoverUnknownOutcome() {
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(0, 50*time.Millisecond),
		hostednumberstest.WithListLag(0))
	defer srv.Close()
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
	client := srv.Client()
	ctx := context.Background()
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{{
		Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
		Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}},
	}}}

	sentAt := time.Now() // taken just before the create
	order, err := client.BulkHostedNumberOrders.Create(ctx, params)
	if errors.Is(err, hostednumbers.ErrOutcomeUnknown) {
		// Waits while Twilio may still be processing the create.
		rec, recErr := client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hostednumbers.ReconcileParams{
			Create:     params, // or PhoneNumbers: []string{...}
			SentAt:     sentAt,
			ReturnedAt: time.Now(),
		})
		if recErr != nil {
			log.Fatal(recErr) // without every answer there is no safe verdict
		}
		switch rec.Verdict {
		case hostednumbers.ReconcileNoneCreated: // not created: submit params again
			order, err = client.BulkHostedNumberOrders.Create(ctx, params)
		case hostednumbers.ReconcileAllInOne: // created: follow it, never submit again
			order, err = client.BulkHostedNumberOrders.Fetch(ctx, rec.BulkHostingSID, nil)
		case hostednumbers.ReconcilePartial: // submit only rec.Missing; see rec.BulkHostingSIDs
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	posts := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			posts++
		}
	}
	fmt.Println(order.BulkHostingSID[:2], order.TotalCount, "numbers, creates sent:", posts)
	// Output: BH 2 numbers, creates sent: 1
}

// Example_testingWithHTTPMock is the httpmock recipe of docs/testing.md: JSON from
// the test kit, fast retries, and the client over the mock transport.
func Example_testingWithHTTPMock() {
	const accountSID, authToken = hostednumberstest.AccountSID, hostednumberstest.AuthToken
	numbers := []string{"+14155550101", "+14155550102"}

	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, "https://numbers.twilio.com/v2/HostedNumber/Orders/Bulk",
		httpmock.NewBytesResponder(http.StatusAccepted, hostednumberstest.BulkOrderSpec{Numbers: numbers}.JSON()))
	client, _ := hostednumbers.NewClient(append(hostednumberstest.FastRetryOptions(),
		hostednumbers.WithCredentials(accountSID, authToken),
		hostednumbers.WithHTTPClient(&http.Client{Transport: mock}))...)

	order, err := client.BulkHostedNumberOrders.Create(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(order.RequestStatus, order.TotalCount, mock.GetTotalCallCount())
	// Output: QUEUED 2 1
}

// Example_testingWithTheFakeServerAndFaults queues the faults of
// docs/testing.md.
func Example_testingWithTheFakeServerAndFaults() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client() // a *hostednumbers.Client with the fake's credentials and URL

	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusTooManyRequests, RetryAfter: "1"})
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Count: 2, Status: http.StatusServiceUnavailable})
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, DropConnection: true})
	// Processed, then the answer is lost: the "outcome unknown → Reconcile" case.
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})

	fmt.Println(client.BaseURL() == srv.URL, srv.PendingFaults())
	// Output: true 5
}

package hostednumbers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// The examples run against hostednumberstest, the fake API server, so that
// they are real code that `go test` runs.

func ExampleBulkHostedNumberOrdersService_Create() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client, err := hostednumbers.NewClient(
		hostednumbers.WithCredentials(hostednumberstest.AccountSID, hostednumberstest.AuthToken),
		hostednumbers.WithBaseURL(srv.URL), // omit to talk to Twilio
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	order, err := client.BulkHostedNumberOrders.Create(context.Background(), &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName:      "Spring migration",
		NotificationEmail: "ops@example.com",
		RequestItems: []hostednumbers.RequestItem{{
			Email:              "owner@example.com",
			AddressSID:         "AD0123456789abcdef0123456789abcdef",
			ContactPhoneNumber: "+14155550100",
			ContactTitle:       "Head of Telecom",
			Numbers: []hostednumbers.Number{
				{PhoneNumber: "+14155550101", HostingOptions: hostednumbers.HostingOptions{StatusCallbackURL: "https://hooks.example.com/hosting"}},
				{PhoneNumber: "+14155550102"},
			},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(order.BulkHostingSID[:2], order.RequestStatus, order.TotalCount, order.FriendlyName.String)
	// Output: BH QUEUED 2 Spring migration
}

func ExampleBulkHostedNumberOrdersService_Fetch() {
	// Like Twilio, the fake queues a request for a while (here 200ms), then
	// processes it on its own clock.
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(200*time.Millisecond, 50*time.Millisecond),
		hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	order, err := client.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{
		RequestItems: []hostednumbers.RequestItem{{
			Email:   "owner@example.com",
			Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550109"}},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	order, err = client.BulkHostedNumberOrders.Fetch(ctx, order.BulkHostingSID, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(order.RequestStatus, order.DateCompleted.Valid, len(order.Orders()))
	for !order.RequestStatus.Finished() {
		time.Sleep(20 * time.Millisecond) // Wait does this, with backoff
		if order, err = client.BulkHostedNumberOrders.Fetch(ctx, order.BulkHostingSID, nil); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(order.RequestStatus, order.DateCompleted.Valid)
	// PROCESSED: the orders are made; the numbers are still to be hosted.
	for _, o := range order.Orders() {
		fmt.Println(o.PhoneNumber, o.Status)
	}
	// Output:
	// QUEUED false 0
	// PROCESSED true
	// +14155550101 pending-loa
	// +14155550109 failed
}

func ExampleBulkHostedNumberOrdersService_Wait() {
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(100*time.Millisecond, 200*time.Millisecond),
		hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	created, err := client.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{
		RequestItems: []hostednumbers.RequestItem{{
			Email: "owner@example.com",
			Numbers: []hostednumbers.Number{
				{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}, {PhoneNumber: "+14155550109"},
			},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var last hostednumbers.RequestStatus
	done, err := client.BulkHostedNumberOrders.Wait(ctx, created.BulkHostingSID, &hostednumbers.WaitOptions{
		PollInterval:    10 * time.Millisecond, // Twilio takes days; poll gently there
		MaxPollInterval: 10 * time.Millisecond,
		OnSnapshot: func(o *hostednumbers.BulkHostedNumberOrder) {
			if o.RequestStatus != last {
				fmt.Println("status:", o.RequestStatus)
				last = o.RequestStatus
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	counts := done.CountsByStatus()
	statuses := make([]string, 0, len(counts))
	for s := range counts {
		statuses = append(statuses, string(s))
	}
	sort.Strings(statuses)
	for _, s := range statuses {
		fmt.Println(s, counts[hostednumbers.OrderStatus(s)])
	}
	for _, o := range done.Failed() {
		fmt.Println("failed:", o.PhoneNumber, o.FailureReason.Valid, o.NextStep.Valid)
	}
	// Output:
	// status: QUEUED
	// status: IN_PROGRESS
	// status: PROCESSED
	// failed 1
	// pending-loa 2
	// failed: +14155550109 true true
}

func Example_errorHandling() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	// Bad input: every problem at once, nothing sent.
	_, err := client.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{
		RequestItems: []hostednumbers.RequestItem{{
			Email:   "not-an-email",
			Numbers: []hostednumbers.Number{{PhoneNumber: "4155550101"}},
		}},
	})
	var invalid *hostednumbers.ValidationError
	if errors.As(err, &invalid) {
		for _, p := range invalid.Problems {
			fmt.Println("invalid:", p.Field)
		}
	}

	// A hostile SID never reaches a URL.
	_, err = client.BulkHostedNumberOrders.Fetch(ctx, "../../Accounts", nil)
	fmt.Println(errors.Is(err, hostednumbers.ErrInvalidInput))

	// API errors match sentinels and carry Twilio's details.
	_, err = client.BulkHostedNumberOrders.Fetch(ctx, "BH00000000000000000000000000000000", nil)
	var apiErr *hostednumbers.APIError
	if errors.Is(err, hostednumbers.ErrNotFound) && errors.As(err, &apiErr) {
		fmt.Println("not found:", apiErr.HTTPStatus, apiErr.Code, apiErr.RequestID != "")
	}

	// A create is never resent after a 5xx: it may have been processed.
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusBadGateway})
	_, err = client.BulkHostedNumberOrders.Create(ctx, nil)
	fmt.Println(errors.Is(err, hostednumbers.ErrServer), countPOSTs(srv))
	// Output:
	// invalid: request_items[0].email
	// invalid: request_items[0].numbers[0].phone_number
	// true
	// not found: 404 20404 true
	// true 1
}

func countPOSTs(srv *hostednumberstest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

func Example_testingWithTheFakeServer() {
	// Two lines give a downstream test a working API and a client for it.
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()

	// Resilience: the next GET answers 503 once; the client retries it.
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable})
	order, _ := client.BulkHostedNumberOrders.Create(context.Background(), nil)
	order, err := client.BulkHostedNumberOrders.Fetch(context.Background(), order.BulkHostingSID, nil)
	fmt.Println(order.BulkHostingSID[:2], err)
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path[:len("/v2/HostedNumber/Orders/Bulk")], r.Faulted)
	}
	// Output:
	// BH <nil>
	// POST /v2/HostedNumber/Orders/Bulk false
	// GET /v2/HostedNumber/Orders/Bulk true
	// GET /v2/HostedNumber/Orders/Bulk false
}

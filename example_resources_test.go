package hostednumbers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// exampleCreate is the create the examples submit: three numbers of one
// owner and one of another.
func exampleCreate() *hostednumbers.CreateBulkHostedNumberOrderParams {
	return &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName: "Spring migration",
		RequestItems: []hostednumbers.RequestItem{
			{
				Email:   "owner@example.com",
				Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}, {PhoneNumber: "+14155550103"}},
			},
			{
				Email:   "branch@example.com",
				Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550201"}},
			},
		},
	}
}

// List every hosted number order of one bulk request. All follows the
// API's pages (two orders a page on this fake server) one at a time, as
// the loop reaches them. The orders exist once Twilio processes the
// request, so wait for it first; PROCESSED means they were made, and
// hosting goes on (an hour on this fake server, days on Twilio).
func ExampleHostedNumberOrdersService_All() {
	srv := hostednumberstest.NewServer(hostednumberstest.WithPageSize(2), hostednumberstest.WithHostingDuration(time.Hour))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bulk, err := client.BulkHostedNumberOrders.Create(ctx, exampleCreate())
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := client.BulkHostedNumberOrders.Wait(ctx, bulk.BulkHostingSID, fastPolling); err != nil {
		fmt.Println(err)
		return
	}
	for order, err := range client.HostedNumberOrders.All(ctx, nil) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if order.BulkHostingRequestSID.String == bulk.BulkHostingSID {
			fmt.Println(order.PhoneNumber, order.Status, order.Email.String)
		}
	}
	// Output:
	// +14155550101 pending-loa owner@example.com
	// +14155550102 pending-loa owner@example.com
	// +14155550103 pending-loa owner@example.com
	// +14155550201 pending-loa branch@example.com
}

// fastPolling makes Wait poll the fake server every 10ms instead of every
// DefaultPollInterval.
var fastPolling = &hostednumbers.WaitOptions{PollInterval: 10 * time.Millisecond}

// Recover from a create whose answer was lost: Reconcile finds the bulk
// request Twilio made, so the numbers are not submitted a second time.
// Reconcile sees only what Twilio has processed; this fake processes the
// create at once and lists its orders at once, where Twilio may take a
// while.
func ExampleBulkHostedNumberOrdersService_Reconcile() {
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(0, 50*time.Millisecond),
		hostednumberstest.WithListLag(0))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	// The server processes the create, then the connection drops.
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
	params := exampleCreate()
	sentAt := time.Now()
	_, err := client.BulkHostedNumberOrders.Create(ctx, params)
	fmt.Println("outcome unknown:", errors.Is(err, hostednumbers.ErrOutcomeUnknown))

	rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: sentAt})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verdict:", rec.Verdict, "missing:", len(rec.Missing))
	switch rec.Verdict {
	case hostednumbers.ReconcileNoneCreated:
		// Nothing was made: submit params again.
	case hostednumbers.ReconcileAllInOne:
		order, err := client.BulkHostedNumberOrders.Fetch(ctx, rec.BulkHostingSID, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("found the bulk request with", order.TotalCount, "numbers")
	case hostednumbers.ReconcilePartial:
		// Submit only rec.Missing; look at rec.BulkHostingSIDs.
	}
	fmt.Println("creates sent:", countRequests(srv, http.MethodPost))
	// Output:
	// outcome unknown: true
	// verdict: all-in-one missing: 0
	// found the bulk request with 4 numbers
	// creates sent: 1
}

func countRequests(srv *hostednumberstest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// See which letters of authorisation (LOAs) still wait for a signature,
// and the numbers each one holds up.
func ExampleAuthorizationDocumentsService_All() {
	srv := hostednumberstest.NewServer(hostednumberstest.WithHostingDuration(time.Hour))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bulk, err := client.BulkHostedNumberOrders.Create(ctx, exampleCreate())
	if err != nil {
		fmt.Println(err)
		return
	}
	// Once the request is processed, its LOAs are out for signing.
	if _, err := client.BulkHostedNumberOrders.Wait(ctx, bulk.BulkHostingSID, fastPolling); err != nil {
		fmt.Println(err)
		return
	}

	for doc, err := range client.AuthorizationDocuments.All(ctx, nil) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if !doc.Status.Unsigned() {
			continue
		}
		fmt.Println(doc.Email.String, doc.Status)
		for order, err := range client.AuthorizationDocuments.AllDependentOrders(ctx, doc.SID, nil) {
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println("  ", order.PhoneNumber, order.Status)
		}
	}
	// Output:
	// owner@example.com signing
	//    +14155550101 pending-loa
	//    +14155550102 pending-loa
	//    +14155550103 pending-loa
	// branch@example.com signing
	//    +14155550201 pending-loa
}

// Cancel a hosted number order while it is still received. Once its bulk
// request has been processed, the API refuses, and the refusal is an
// *APIError. On this fake server the orders are made at once and stay
// received for a second, long enough to cancel one.
func ExampleHostedNumberOrdersService_Cancel() {
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(0, time.Second),
		hostednumberstest.WithListLag(0),
		hostednumberstest.WithHostingDuration(time.Hour))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bulk, err := client.BulkHostedNumberOrders.Create(ctx, exampleCreate())
	if err != nil {
		fmt.Println(err)
		return
	}
	orderFor := func(phone string) hostednumbers.HostedNumberOrder {
		page, err := client.HostedNumberOrders.List(ctx, &hostednumbers.ListHostedNumberOrdersParams{PhoneNumber: phone})
		if err != nil || len(page.Items) != 1 {
			panic(fmt.Sprint("no single order for ", phone, ": ", err))
		}
		return page.Items[0]
	}

	wrong := orderFor("+14155550103")
	fmt.Println(wrong.Status, client.HostedNumberOrders.Cancel(ctx, wrong.SID))

	if _, err := client.BulkHostedNumberOrders.Wait(ctx, bulk.BulkHostingSID, fastPolling); err != nil {
		fmt.Println(err)
		return
	}
	later := orderFor("+14155550101")
	err = client.HostedNumberOrders.Cancel(ctx, later.SID)
	var apiErr *hostednumbers.APIError
	fmt.Println(later.Status, errors.As(err, &apiErr), apiErr.HTTPStatus)
	// Output:
	// received <nil>
	// pending-loa true 400
}

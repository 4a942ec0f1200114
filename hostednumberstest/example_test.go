package hostednumberstest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func Example() {
	srv := hostednumberstest.NewServer(hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	defer srv.Close()
	client := srv.Client()

	ctx := context.Background()
	order, err := client.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName: "Spring migration",
		RequestItems: []hostednumbers.RequestItem{{
			Email:      "owner@example.com",
			AddressSID: "AD0123456789abcdef0123456789abcdef",
			Numbers: []hostednumbers.Number{
				{PhoneNumber: "+14155550101"},
				{PhoneNumber: "+14155550109"},
			},
		}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(order.RequestStatus, order.TotalCount)

	done, err := client.BulkHostedNumberOrders.Wait(ctx, order.BulkHostingSID,
		&hostednumbers.WaitOptions{PollInterval: time.Millisecond})
	if err != nil {
		panic(err)
	}
	fmt.Println(done.RequestStatus)
	for _, o := range done.Failed() {
		fmt.Println(o.PhoneNumber, o.Status, o.FailureReason.String)
	}
	// Output:
	// QUEUED 2
	// PROCESSED
	// +14155550109 failed The phone number is not eligible for hosting
}

func ExampleServer_InjectFault() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	// The next two POSTs are answered 500: the SDK must not resend a create.
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", Status: 500, Count: 2})
	_, err := client.BulkHostedNumberOrders.Create(ctx, nil)
	fmt.Println(errors.Is(err, hostednumbers.ErrServer))
	fmt.Println("POSTs received:", len(srv.Requests()))
	// Output:
	// true
	// POSTs received: 1
}

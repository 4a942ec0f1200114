package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

func ExampleFault_processThenDrop() {
	// Twilio processes a create a while after it answers; here half a
	// second, so that the first Reconcile below surely runs before.
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(500*time.Millisecond, 10*time.Millisecond),
		hostednumberstest.WithListLag(0))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{
		RequestItems: []hostednumbers.RequestItem{{
			Email:   "owner@example.com",
			Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}},
		}},
	}

	// The create is processed, but its answer never arrives.
	srv.InjectFault(hostednumberstest.Fault{Method: "POST", ProcessThenDrop: true})
	_, err := client.BulkHostedNumberOrders.Create(ctx, params)
	fmt.Println("create failed:", err != nil)

	// Asked at once, Reconcile finds no order: the request is still
	// queued, and no hosted number order exists yet. It says so (pending)
	// instead of "none created": submitting again now would host the
	// numbers twice.
	sentAt := time.Now().Add(-time.Second)
	rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: sentAt})
	if err != nil {
		panic(err)
	}
	fmt.Println("at once:", rec.Verdict)

	// Once Twilio has processed the request, Reconcile finds it.
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.HostedNumberOrders()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	rec, err = client.BulkHostedNumberOrders.Reconcile(ctx, &hostednumbers.ReconcileParams{Create: params, SentAt: sentAt})
	if err != nil {
		panic(err)
	}
	fmt.Println("later:", rec.Verdict, rec.BulkHostingSID == srv.Requests()[0].CreatedSID)
	fmt.Println("bulk orders held:", len(srv.Orders()))
	// Output:
	// create failed: true
	// at once: pending
	// later: all-in-one true
	// bulk orders held: 1
}

func ExampleBulkOrderSpec() {
	spec := hostednumberstest.BulkOrderSpec{
		Status:  hostednumbers.RequestStatusProcessed,
		Numbers: []string{"+14155550101", "+14155550109"},
		Outcome: hostednumberstest.FailNumbersEndingIn("9"),
	}
	// A value to return from a mocked BulkHostedNumberOrdersAPI...
	order := spec.Order()
	fmt.Println(order.BulkHostingSID, order.RequestStatus, order.CountsByStatus())
	// ...or the body of a mocked HTTP answer.
	fmt.Println(json.Valid(spec.JSON()), len(spec.HostedNumberOrdersJSON()))
	// Output:
	// BH0123456789abcdef0123456789abcdef PROCESSED map[failed:1 pending-loa:1]
	// true 2
}

func ExampleServer_Transport() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	var seen []string
	client := srv.Client(hostednumbers.WithHTTPClient(&http.Client{
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = append(seen, r.Method+" "+r.URL.Path)
			return srv.Transport().RoundTrip(r)
		}),
	}))
	order, err := client.BulkHostedNumberOrders.Create(context.Background(), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(seen, srv.Requests()[0].Status, srv.Requests()[0].CreatedSID == order.BulkHostingSID)
	// Output:
	// [POST /v2/HostedNumber/Orders/Bulk] 202 true
}

// roundTripFunc makes a function an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A mock of BulkHostedNumberOrdersAPI fails as the client would: the code
// under test sees the same errors.Is answers and the same outcome label.
func ExampleNotAppliedError() {
	err := hostednumberstest.NotAppliedError(hostednumberstest.OpCreateBulkOrder,
		hostednumberstest.NewAPIError(400, 20001, "Invalid parameter: request_items[0].numbers[0].phone_number"))
	fmt.Println(err)
	fmt.Println(errors.Is(err, hostednumbers.ErrNotApplied), hostednumbers.OutcomeOf(err))

	lost := hostednumberstest.OutcomeUnknownError(hostednumberstest.OpCreateBulkOrder,
		hostednumberstest.NewAPIError(503, 0, "Service Unavailable"))
	fmt.Println(errors.Is(lost, hostednumbers.ErrOutcomeUnknown), hostednumbers.OutcomeOf(lost))
	// Output:
	// hostednumbers: create bulk order: 400 Bad Request (code 20001): Invalid parameter: request_items[0].numbers[0].phone_number
	// true not_applied
	// true outcome_unknown
}

// A create whose answer is lost settles against srv.Client() in the
// fake's time: the client's Reconcile timing is the server's, so
// WaitForReconcile with production params returns in milliseconds.
func ExampleServer_Client_reconcile() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	params := &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{{
		Email:   "owner@example.com",
		Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}},
	}}}
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, DropConnection: true})
	sentAt := time.Now()
	_, err := client.BulkHostedNumberOrders.Create(ctx, params)
	fmt.Println(errors.Is(err, hostednumbers.ErrOutcomeUnknown))

	rec, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hostednumbers.ReconcileParams{
		Create: params, SentAt: sentAt, ReturnedAt: time.Now(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Verdict, rec.Missing)
	// Output:
	// true
	// none-created [+14155550101]
}

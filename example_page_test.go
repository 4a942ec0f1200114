package hostednumbers_test

import (
	"context"
	"fmt"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// A stand-in for the API (a mock, a cache) builds its pages with NewPage:
// Next and All then work as on pages from a client.
func ExampleNewPage() {
	second := hostednumbers.NewPage([]hostednumbers.HostedNumberOrder{
		{SID: "HR00000000000000000000000000000003", PhoneNumber: "+14155550103"},
	}, nil) // nil: the last page
	first := hostednumbers.NewPage([]hostednumbers.HostedNumberOrder{
		{SID: "HR00000000000000000000000000000001", PhoneNumber: "+14155550101"},
		{SID: "HR00000000000000000000000000000002", PhoneNumber: "+14155550102"},
	}, func(context.Context, ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.HostedNumberOrder], error) {
		return second, nil
	})

	for order, err := range first.All(context.Background()) {
		if err != nil {
			panic(err)
		}
		fmt.Println(order.SID, order.PhoneNumber)
	}
	// Output:
	// HR00000000000000000000000000000001 +14155550101
	// HR00000000000000000000000000000002 +14155550102
	// HR00000000000000000000000000000003 +14155550103
}

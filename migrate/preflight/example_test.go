package preflight_test

import (
	"context"
	"fmt"
	"log"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// Check three numbers against the fake server, where numbers ending in 9
// are already in Twilio, then submit only the eligible ones.
func Example() {
	srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	defer srv.Close()
	client := srv.Client()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	store := preflight.NewMemoryStore() // a durable Store in a real migration
	numbers := []preflight.Number{
		{PhoneNumber: "+14155550101"},
		{PhoneNumber: "+14155550109"},
		{PhoneNumber: "+14155550102"},
	}
	res, err := preflight.Run(ctx, client.Eligibility, store, numbers, preflight.Options{
		Wait: &hostednumbers.EligibilityWaitOptions{PollInterval: 5 * time.Millisecond},
	})
	if err != nil {
		log.Fatal(err) // run again with the same store to resume
	}
	fmt.Println("submit:", res.Submittable())
	for _, n := range res.Excluded() {
		fmt.Println("not submitted:", n.PhoneNumber, n.Status, n.Reason, n.NextStep)
	}
	// Output:
	// submit: [+14155550101 +14155550102]
	// not submitted: +14155550109 ineligible ALREADY_IN_TWILIO_BUT_NOT_IN_USE CONTACT_SUPPORT_INELIGIBLE_INVENTORY_STATUS
}

// A Run stopped while it waits (here by its context; a crash is the same)
// leaves its check recorded in the store: the next Run with the same store
// waits for that check and creates none.
func ExampleRun_resume() {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	store := preflight.NewMemoryStore()
	numbers := []preflight.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}}
	opts := preflight.Options{Wait: &hostednumbers.EligibilityWaitOptions{PollInterval: 5 * time.Millisecond}}

	stopped, stop := context.WithCancel(ctx)
	first := opts
	first.OnEvent = func(e preflight.Event) {
		if e.Kind == preflight.EventCreated {
			stop() // the process dies once the check is recorded
		}
	}
	res, err := preflight.Run(stopped, client.Eligibility, store, numbers, first)
	fmt.Println("first run:", err != nil, "created", res.Created, "not checked", res.Count(preflight.StatusNotChecked))

	res, err = preflight.Run(ctx, client.Eligibility, store, numbers, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("second run: created", res.Created, "resumed", res.Resumed, "submit", res.Submittable())
	// Output:
	// first run: true created 1 not checked 2
	// second run: created 0 resumed 1 submit [+14155550101 +14155550102]
}

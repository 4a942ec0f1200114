package hostednumbers_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// Check numbers before hosting them: a single check answers at once, a
// bulk check is polled to its end. Here against the fake server, which
// finds numbers ending in 9 already in Twilio.
func ExampleEligibilityService_Check() {
	srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	check, err := client.Eligibility.Check(ctx, &hostednumbers.EligibilityParams{
		PhoneNumbers: []hostednumbers.EligibilityNumber{{PhoneNumber: "+14155550109"}},
	})
	if err != nil {
		log.Fatal(err) // ErrOutcomeUnknown or not: a check creates nothing, so check again
	}
	for _, r := range check.Results.Ineligible() {
		fmt.Println(r.PhoneNumber, r.Status, r.SubStatus, r.NextStep.String)
	}

	bulk, err := client.Eligibility.CreateBulk(ctx, &hostednumbers.EligibilityParams{
		FriendlyName: "Spring migration",
		PhoneNumbers: []hostednumbers.EligibilityNumber{
			{PhoneNumber: "+14155550101"},
			{PhoneNumber: "+14155550102", HostingAccountSID: "AC0123456789abcdef0123456789abcdef"},
			{PhoneNumber: "+14155550109"},
		},
	})
	if errors.Is(err, hostednumbers.ErrOutcomeUnknown) {
		log.Fatal("the answer was lost; an orphan check is harmless: create another")
	} else if err != nil {
		log.Fatal(err)
	}
	done, err := client.Eligibility.WaitBulk(ctx, bulk.RequestID, nil) // polls until SUCCESSFUL or COMPLETE
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(done.Results.Eligible()), "of", len(done.Results), "can be hosted")
	for _, r := range done.Results.Ineligible() {
		fmt.Println(r.PhoneNumber, r.IneligibilityReason.String)
	}
	// Output:
	// +14155550109 INELIGIBLE ALREADY_IN_TWILIO CONTACT_SUPPORT_INELIGIBLE_INVENTORY_STATUS
	// 2 of 3 can be hosted
	// +14155550109 ALREADY_IN_TWILIO_BUT_NOT_IN_USE
}

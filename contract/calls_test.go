package contract

import (
	"context"
	"fmt"

	"github.com/hostednumbers/hostednumbers-go"
)

// call is one SDK call run against Prism.
type call struct {
	name string
	// op is the operationId of Twilio's definition the call must reach.
	op string
	// sidPrefix, for a call that names a resource, is its SID's prefix;
	// sidMember is the member of the answer that carries it, from which
	// static mode takes the SID to ask for (Prism's example names one
	// resource only). A call whose answer does not name the resource
	// (a delete, a dependent list) asks for fixedSID(sidPrefix).
	sidPrefix, sidMember string
	// run makes the call for sid with opts and returns what it decoded.
	run func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error)
	// check compares what run decoded with the answer's JSON; nil for a
	// call without an answer body.
	check func(o object, decoded any)
	// refusals says which answers the SDK must refuse (dynamic mode),
	// asked being the SID the call asked for.
	refusals func(o object, asked string) []refusal
	// sent, if set, checks what the SDK sent beyond what Prism checks.
	sent func(e *exchange) error
}

// fixedSID is the SID a call asks for where the answer does not name it.
func fixedSID(prefix string) string { return prefix + "0123456789abcdef0123456789ABCDEF" }

const (
	addressSID = "AD0123456789abcdef0123456789abcdef"
	accountSID = "AC0123456789abcdef0123456789abcdef"
)

var (
	ccEmails  = []string{"cc1@example.com", "cc2+loa@example.com"}
	orderSIDs = []string{"HR0123456789abcdef0123456789abcdef", "HRfedcba9876543210fedcba9876543210"}
)

func smsFalse() *bool { f := false; return &f }

// calls are every call of the SDK that reaches the API, with inputs that
// set every field each one sends, so that Prism validates all of them.
func calls() []call {
	bulkRefusals := func(fetch bool) func(object, string) []refusal {
		return func(o object, asked string) []refusal {
			if !fetch {
				asked = ""
			}
			return append(bulkResultsRefusals(o), sidRefusals(o, "bulk_hosting_sid", "BH", asked, false)...)
		}
	}
	orderRefusals := func(fetch bool) func(object, string) []refusal {
		return func(o object, asked string) []refusal {
			if !fetch {
				asked = ""
			}
			return sidRefusals(o, "sid", "HR", asked, false)
		}
	}
	checkBulk := func(o object, v any) { checkBulkOrder(o, v.(*hostednumbers.BulkHostedNumberOrder)) }
	checkHR := func(o object, v any) { checkOrder(o, v.(*hostednumbers.HostedNumberOrder)) }
	checkPX := func(o object, v any) { checkDocument(o, v.(*hostednumbers.AuthorizationDocument)) }
	checkOrders := func(o object, v any) {
		checkPage(o, v.(*hostednumbers.Page[hostednumbers.HostedNumberOrder]), checkOrder)
	}
	checkDocs := func(o object, v any) {
		checkPage(o, v.(*hostednumbers.Page[hostednumbers.AuthorizationDocument]), checkDocument)
	}
	eligibilityParams := func(n int) *hostednumbers.EligibilityParams {
		p := &hostednumbers.EligibilityParams{FriendlyName: "contract check"}
		for i := range n {
			num := hostednumbers.EligibilityNumber{PhoneNumber: fmt.Sprintf("+1415555%04d", 101+i)}
			if i%2 == 0 {
				num.HostingAccountSID = accountSID
			}
			p.PhoneNumbers = append(p.PhoneNumbers, num)
		}
		return p
	}
	exploded := func(members map[string][]string) func(*exchange) error {
		return func(e *exchange) error {
			for name, want := range members {
				if err := isExploded(e.sent, name, want); err != nil {
					return err
				}
			}
			return nil
		}
	}

	return []call{
		{
			name: "BulkHostedNumberOrders.Create", op: "CreateBulkHostedNumberOrder",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{
					FriendlyName:      "contract test",
					NotificationEmail: "ops@example.com",
					RequestItems: []hostednumbers.RequestItem{{
						Email: "owner@example.com", AddressSID: addressSID,
						ContactPhoneNumber: "+14155550100", ContactTitle: "Head of telephony",
						HostingOptions: hostednumbers.HostingOptions{
							FriendlyName: "item", CCEmails: ccEmails,
							SMSURL: "https://example.com/sms", SMSMethod: "POST",
							SMSFallbackURL: "https://example.com/fallback", SMSFallbackMethod: "GET",
							StatusCallbackURL: "https://example.com/status", StatusCallbackMethod: "POST",
						},
						Numbers: []hostednumbers.Number{
							{PhoneNumber: "+14155550101"},
							{PhoneNumber: "+14155550102", HostingOptions: hostednumbers.HostingOptions{AccountSID: accountSID}},
						},
					}},
				}, opts...)
			},
			check: checkBulk, refusals: bulkRefusals(false),
		},
		{
			name: "BulkHostedNumberOrders.Fetch", op: "FetchBulkHostedNumberOrder", sidPrefix: "BH", sidMember: "bulk_hosting_sid",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return c.BulkHostedNumberOrders.Fetch(ctx, sid, nil, opts...)
			},
			check: checkBulk, refusals: bulkRefusals(true),
		},
		{
			name: "BulkHostedNumberOrders.Fetch(OrderStatus)", op: "FetchBulkHostedNumberOrder", sidPrefix: "BH", sidMember: "bulk_hosting_sid",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return c.BulkHostedNumberOrders.Fetch(ctx, sid, &hostednumbers.FetchBulkHostedNumberOrderParams{
					OrderStatus: hostednumbers.OrderStatusPendingLOA}, opts...)
			},
			check: checkBulk, refusals: bulkRefusals(true),
			sent: func(e *exchange) error {
				if e.query == "" {
					return fmt.Errorf("no OrderStatus in the query")
				}
				return nil
			},
		},
		{
			name: "HostedNumberOrders.List", op: "ListHostedNumberOrder",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.HostedNumberOrders.List(ctx, &hostednumbers.ListHostedNumberOrdersParams{
					Status: hostednumbers.OrderStatusPendingLOA, SMSCapability: smsFalse(),
					PhoneNumber: "+14155550101", IncomingPhoneNumberSID: "PN0123456789abcdef0123456789abcdef",
					FriendlyName: "contract test", PageSize: 20,
				}, opts...)
			},
			check:    checkOrders,
			refusals: func(o object, _ string) []refusal { return pageRefusals(o, "HR") },
		},
		{
			name: "HostedNumberOrders.List(nil)", op: "ListHostedNumberOrder",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.HostedNumberOrders.List(ctx, nil, opts...)
			},
			check:    checkOrders,
			refusals: func(o object, _ string) []refusal { return pageRefusals(o, "HR") },
		},
		{
			name: "HostedNumberOrders.Fetch", op: "FetchHostedNumberOrder", sidPrefix: "HR", sidMember: "sid",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return c.HostedNumberOrders.Fetch(ctx, sid, opts...)
			},
			check: checkHR, refusals: orderRefusals(true),
		},
		{
			name: "HostedNumberOrders.Update", op: "UpdateHostedNumberOrder", sidPrefix: "HR", sidMember: "sid",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				delay := 15
				return c.HostedNumberOrders.Update(ctx, sid, &hostednumbers.UpdateHostedNumberOrderParams{
					Status: hostednumbers.OrderStatusPendingVerification, VerificationCallDelay: &delay,
					VerificationCallExtension: "789",
				}, opts...)
			},
			check: checkHR, refusals: orderRefusals(true),
		},
		{
			name: "HostedNumberOrders.Cancel", op: "DeleteHostedNumberOrder", sidPrefix: "HR",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return nil, c.HostedNumberOrders.Cancel(ctx, sid, opts...)
			},
		},
		{
			name: "HostedNumberOrders.Create", op: "CreateHostedNumberOrder",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.HostedNumberOrders.Create(ctx, &hostednumbers.CreateHostedNumberOrderParams{
					PhoneNumber: "+14155550101", ContactPhoneNumber: "+14155550100",
					AddressSID: addressSID, Email: "owner@example.com", AccountSID: accountSID,
					FriendlyName: "contract test", CCEmails: ccEmails, ContactTitle: "Head of telephony",
					SMSCapability: hostednumbers.Bool(true),
					SMSURL:        "https://example.com/sms", SMSMethod: "POST",
					SMSFallbackURL: "https://example.com/fallback", SMSFallbackMethod: "GET",
					SMSApplicationSID: "AP0123456789abcdef0123456789abcdef",
					StatusCallbackURL: "https://example.com/status", StatusCallbackMethod: "POST",
				}, opts...)
			},
			check: checkHR, refusals: orderRefusals(false),
			sent: exploded(map[string][]string{"CcEmails": ccEmails}),
		},
		{
			name: "AuthorizationDocuments.List", op: "ListAuthorizationDocument",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.AuthorizationDocuments.List(ctx, &hostednumbers.ListAuthorizationDocumentsParams{
					Email: "owner@example.com", Status: hostednumbers.AuthorizationDocumentStatusSigning, PageSize: 20,
				}, opts...)
			},
			check:    checkDocs,
			refusals: func(o object, _ string) []refusal { return pageRefusals(o, "PX") },
		},
		{
			name: "AuthorizationDocuments.Fetch", op: "FetchAuthorizationDocument", sidPrefix: "PX", sidMember: "sid",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return c.AuthorizationDocuments.Fetch(ctx, sid, opts...)
			},
			check:    checkPX,
			refusals: documentRefusals,
		},
		{
			name: "AuthorizationDocuments.Create", op: "CreateAuthorizationDocument",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.AuthorizationDocuments.Create(ctx, &hostednumbers.CreateAuthorizationDocumentParams{
					HostedNumberOrderSIDs: orderSIDs, AddressSID: addressSID, Email: "owner@example.com",
					ContactPhoneNumber: "+14155550100", ContactTitle: "Head of telephony", CCEmails: ccEmails,
				}, opts...)
			},
			check:    checkPX,
			refusals: func(o object, _ string) []refusal { return documentRefusals(o, "") },
			sent:     exploded(map[string][]string{"CcEmails": ccEmails, "HostedNumberOrderSids": orderSIDs}),
		},
		{
			name: "AuthorizationDocuments.Delete", op: "DeleteAuthorizationDocument", sidPrefix: "PX",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return nil, c.AuthorizationDocuments.Delete(ctx, sid, opts...)
			},
		},
		{
			name: "AuthorizationDocuments.ListDependentOrders", op: "ListDependentHostedNumberOrder", sidPrefix: "PX",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return c.AuthorizationDocuments.ListDependentOrders(ctx, sid, &hostednumbers.ListDependentHostedNumberOrdersParams{
					Status: hostednumbers.OrderStatusCompleted, PhoneNumber: "+14155550101",
					IncomingPhoneNumberSID: "PN0123456789abcdef0123456789abcdef", FriendlyName: "contract test", PageSize: 20,
				}, opts...)
			},
			check:    checkOrders,
			refusals: func(o object, _ string) []refusal { return pageRefusals(o, "HR") },
		},
		{
			name: "Eligibility.Check", op: "CreateEligibility",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.Eligibility.Check(ctx, eligibilityParams(1), opts...)
			},
			check: func(o object, v any) { checkEligibilityResults(o, v.(*hostednumbers.Eligibility).Results) },
			refusals: func(o object, _ string) []refusal {
				return eligibilityResultsRefusals(o, true)
			},
		},
		{
			name: "Eligibility.CreateBulk", op: "CreateBulkEligibility",
			run: func(ctx context.Context, c *hostednumbers.Client, _ string, opts []hostednumbers.CallOption) (any, error) {
				return c.Eligibility.CreateBulk(ctx, eligibilityParams(3), opts...)
			},
			check: func(o object, v any) { checkBulkEligibility(o, v.(*hostednumbers.BulkEligibility)) },
			refusals: func(o object, _ string) []refusal {
				return append(eligibilityResultsRefusals(o, false), sidRefusals(o, "request_id", "EC", "", true)...)
			},
		},
		{
			name: "Eligibility.FetchBulk", op: "FetchBulkEligibility", sidPrefix: "EC", sidMember: "request_id",
			run: func(ctx context.Context, c *hostednumbers.Client, sid string, opts []hostednumbers.CallOption) (any, error) {
				return c.Eligibility.FetchBulk(ctx, sid, opts...)
			},
			check: func(o object, v any) { checkBulkEligibility(o, v.(*hostednumbers.BulkEligibility)) },
			refusals: func(o object, asked string) []refusal {
				return append(eligibilityResultsRefusals(o, false), sidRefusals(o, "request_id", "EC", asked, true)...)
			},
		},
	}
}

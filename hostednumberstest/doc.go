// Package hostednumberstest is a fake of Twilio's Hosted Number Orders API
// for tests, in the manner of net/http/httptest, and a kit of builders for
// the documents that API sends. NewServer starts a real HTTP server on the
// loopback interface that answers
//
//	POST   /v2/HostedNumber/Orders/Bulk                 (create, 202)
//	GET    /v2/HostedNumber/Orders/Bulk/{BH…}           (fetch, 200; optional OrderStatus filter)
//	GET    /v2/HostedNumber/Orders                      (list; Status, PhoneNumber, IncomingPhoneNumberSid, FriendlyName, SmsCapability)
//	POST   /v2/HostedNumber/Orders                      (create one order, form-encoded, 201; no bulk request, no document)
//	GET    /v2/HostedNumber/Orders/{HR…}                (fetch)
//	POST   /v2/HostedNumber/Orders/{HR…}                (update: form-encoded Status, VerificationCallDelay, VerificationCallExtension; 22112 once completed or failed)
//	DELETE /v2/HostedNumber/Orders/{HR…}                (cancel, 204; only while received)
//	GET    /v2/HostedNumber/AuthorizationDocuments      (list; Email, Status)
//	POST   /v2/HostedNumber/AuthorizationDocuments      (create for existing orders, form-encoded, 201)
//	GET    /v2/HostedNumber/AuthorizationDocuments/{PX…}
//	DELETE /v2/HostedNumber/AuthorizationDocuments/{PX…} (cancel, 204: the document stays, canceled; 22107 once signed)
//	GET    /v2/HostedNumber/AuthorizationDocuments/{PX…}/DependentHostedNumberOrders
//	POST   /v1/HostedNumber/Eligibility[/Bulk]          (eligibility checks; see WithEligibility)
//	GET    /v1/HostedNumber/Eligibility/Bulk/{EC…}
//
// with the JSON documents the real API sends, checks HTTP basic
// authentication, checks request bodies and queries as Twilio's published
// definitions state (required members, E.164 phone numbers, SID patterns,
// URLs, methods, enums, page sizes) and nothing more, so that it accepts
// what Twilio accepts (an e-mail member is a plain string there, a
// verification call extension may hold * and #), and records every
// request it receives, with the status it answered. Its errors carry only
// the codes Twilio documents for the case (20001, 20003, 20007, 20404,
// 20429, 22101, 22107, 22111, 22112), and no code at all where Twilio
// documents none (415, 405, 413, a cancel refused past received, a 5xx
// Fault).
//
// Two lines give a test a server and a client wired to it:
//
//	srv := hostednumberstest.NewServer()
//	defer srv.Close()
//	client := srv.Client()
//
//	order, err := client.BulkHostedNumberOrders.Create(ctx, params)
//
// # Orders are processed asynchronously, as Twilio does
//
// A bulk create is answered at once with 202, QUEUED, total_count set and
// results []; nothing else exists yet. On the server's own clock, whether
// or not anyone fetches it, the order stays QUEUED for DefaultQueuedFor,
// then is IN_PROGRESS for DefaultInProgressFor: its hosted number orders
// (HR…, one per number, bulk_hosting_request_sid set, received) and its
// authorisation documents (PX…, one per request item) exist from the start
// of it. Then it is PROCESSED, which, as with Twilio, means the orders were
// made, not that the numbers are hosted: its results show every number
// pending_loa, or failed when its Outcome is failed. The hosted number
// orders go on on their own clock (WithHostingDuration):
// carrier-processing, then their Outcome, and the result groups follow
// them (a number is in the group of its order's status at each fetch; a
// canceled order is in none). Lists show
// an order DefaultListLag after it was made (WithListLag). A create whose
// client gave up during a Latency fault is processed all the same, later
// (WithAbandonedCreateDelay), as is a ProcessThenDrop create with a
// ProcessDelay. WithProcessingDelay sets the delays; WithClockOffset
// puts the server's clock (every date_* member, the Date header) ahead of
// or behind the client's; WithResubmission says what a number submitted
// again while it has a live order gets. Processing is computed from
// timestamps on every read, so there are no timers to leak.
//
// WithImmediateProcessing (or WithFetchesPerStage) selects the model of
// earlier versions, for tests that check one request at a time: orders
// made at the create, one stage per fetch, every order in its Outcome at
// PROCESSED, lists without lag. WithOutcome, with a script such as
// FailNumbersEndingIn, decides the final status of each number.
//
// # Hosted number orders and authorisation documents
//
// A document is signing from the moment it is made (Twilio sends it out
// for signature at once, and its examples of a new document say so; the
// fake never shows opened), signed once one of its orders is past the
// LOA, failed when all failed, and canceled when all were canceled or when
// it is deleted: DELETE is Twilio's "cancel", the document stays,
// canceled and immutable, and its orders keep naming it until a new
// document is made for them. A signed document cannot be deleted (22107).
// Cancel works while an order is received; an update of a completed or
// failed order is refused (22112). An Update pins the order's status from then on (a move to
// pending-verification also records a verification call); a canceled order
// disappears from every list, fetch and bulk result, while the bulk
// order's total_count stays. Like Twilio's examples, the bulk results show
// signing_document_sid only from pending-loa on and never for a failed
// number, and failure_reason and next_step null unless failed, where the
// hosted number orders say "".
//
// Lists page as Twilio's do ({"items": [...], "meta": {...}}, PageSize 1 to
// 1000, default DefaultPageSize or WithPageSize, next_page_url an absolute
// URL on the server with a page token, null on the last page). Orders are
// indexed by phone number, so PhoneNumber lookups stay quick with tens of
// thousands of orders. Orders, HostedNumberOrders and
// AuthorizationDocuments read the state without a request.
//
// # Eligibility knows the server's orders
//
// A number that already has a hosted number order on the server, neither
// failed nor canceled, is INELIGIBLE, ALREADY_IN_TWILIO in every
// eligibility check, its ineligibility_reason naming the order and its
// status (ExistingOrderReason) and hosting_order_sid and
// hosting_order_status set, whatever WithEligibility says: a pre-flight
// that lost its journal finds the numbers it already sent.
//
// # Reconcile settles in test time
//
// Server.Client sets the Reconcile timing of its clients to the server's
// own delays (hostednumbers.WithReconcileTiming with ReconcileWindow and
// ConfirmGap: under half a second and tens of milliseconds by default),
// so BulkHostedNumberOrders.Reconcile and WaitForReconcile, given
// ReconcileParams that leave ProcessingWindow and ConfirmGap zero as
// production code does, settle in milliseconds instead of Twilio's 30
// minutes. Give ReturnedAt (time.Now() when Create returned): without it,
// Reconcile takes the create to have been in flight for the client's
// whole per-attempt limit (hostednumbers.DefaultTimeout) and waits that
// out first, as it must with Twilio. A client built by hand keeps
// Twilio's timing unless it is given the same option.
//
// # Faults
//
// InjectFault queues misbehaviour for the next matching requests (by
// method and path): an error
// status with a body of your choosing or a Twilio error document, a
// Retry-After header, latency, a connection dropped without an answer, or a
// request processed whose answer is then dropped (ProcessThenDrop: the
// create whose outcome the client cannot know). A success status on a
// create (202) still creates the order. Together with Requests it shows
// exactly what a client did, for instance that it never sent a create
// twice.
//
// # A test kit without a server
//
// BulkOrderSpec, HostedNumberOrderSpec, ListPageJSON and ErrorJSON build
// realistic values and JSON documents with the same code as the server:
// answers for a mocked hostednumbers.BulkHostedNumberOrdersAPI, or bodies
// for a transport mock such as httpmock. Built orders are dated now unless
// Created says otherwise, so that Reconcile counts them as the test's own.
// NewAPIError, NewDecodeError, NotAppliedError, OutcomeUnknownError and
// RateLimitedError build the errors the SDK returns, shaped like Create's
// ("hostednumbers: create bulk order: …", with ErrNotApplied or
// ErrOutcomeUnknown), so that a mock fails exactly as the client would;
// hostednumbers.InspectCallOptions lets a mock read back the CallOptions
// it was given. FastRetryOptions are the retry settings Client uses, for
// a client built by hand.
package hostednumberstest

// Package hostednumberstest is a fake of Twilio's Hosted Number Orders API
// for tests, in the manner of net/http/httptest, and a kit of builders for
// the documents that API sends. NewServer starts a real HTTP server on the
// loopback interface that answers
//
//	POST   /v2/HostedNumber/Orders/Bulk                 (create, 202)
//	GET    /v2/HostedNumber/Orders/Bulk/{BH…}           (fetch, 200; optional OrderStatus filter)
//	GET    /v2/HostedNumber/Orders                      (list; Status, PhoneNumber, IncomingPhoneNumberSid, FriendlyName, SmsCapability)
//	GET    /v2/HostedNumber/Orders/{HR…}                (fetch)
//	POST   /v2/HostedNumber/Orders/{HR…}                (update: form-encoded Status, VerificationCallDelay, VerificationCallExtension)
//	DELETE /v2/HostedNumber/Orders/{HR…}                (cancel, 204; only while received)
//	GET    /v2/HostedNumber/AuthorizationDocuments      (list; Email, Status)
//	GET    /v2/HostedNumber/AuthorizationDocuments/{PX…}
//	GET    /v2/HostedNumber/AuthorizationDocuments/{PX…}/DependentHostedNumberOrders
//
// with the JSON documents the real API sends, checks HTTP basic
// authentication, validates create bodies with the SDK's own rules, and
// records every request it receives, with the status it answered.
//
// Two lines give a test a server and a client wired to it:
//
//	srv := hostednumberstest.NewServer()
//	defer srv.Close()
//	client := srv.Client()
//
//	order, err := client.BulkHostedNumberOrders.Create(ctx, params)
//
// # Orders move through their stages as they are fetched
//
// A created bulk order is QUEUED. By default every fetch of it moves it one
// stage on, and the fetch answers with the new state: the first fetch
// returns IN_PROGRESS (every number pending-loa, spelled pending_loa in the
// results as Twilio does), the second PROCESSED (every number in its final
// status, date_completed set). WithFetchesPerStage slows this down;
// WithStageDuration makes it depend on the time since creation instead.
// WithOutcome, with a script such as FailNumbersEndingIn, decides the final
// status of each number.
//
// # Hosted number orders and authorisation documents
//
// A bulk create makes, in the same state, one hosted number order (HR…)
// per number, with bulk_hosting_request_sid set, and one authorisation
// document (PX…) per request item, the signing document of the item's
// orders. They move with their bulk order: while it is QUEUED every order
// is received (so Cancel works until the bulk order's first stage passes;
// slow that down with WithFetchesPerStage or WithStageDuration), while
// IN_PROGRESS pending-loa, once PROCESSED in its Outcome. A document is
// opened while its orders are received, signing while they wait for the
// LOA, signed once one is past it, failed when all failed and canceled when
// all were canceled. An Update pins the order's status from then on (a
// move to pending-verification also records a verification call); a
// canceled order disappears from every list, fetch and bulk result, while
// the bulk order's total_count stays. The bulk results agree with the
// orders, except that, like Twilio's example, they show
// signing_document_sid only from pending-loa on and never for a failed
// number.
//
// Lists page as Twilio's do ({"items": [...], "meta": {...}}, PageSize 1 to
// 1000, default DefaultPageSize or WithPageSize, next_page_url an absolute
// URL on the server with a page token, null on the last page). Orders are
// indexed by phone number, so PhoneNumber lookups stay quick with tens of
// thousands of orders. Orders, HostedNumberOrders and
// AuthorizationDocuments read the state without a request.
//
// # Faults
//
// InjectFault queues misbehaviour for the next matching requests: an error
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
// for a transport mock such as httpmock. FastRetryOptions are the retry
// settings Client uses, for a client built by hand.
package hostednumberstest

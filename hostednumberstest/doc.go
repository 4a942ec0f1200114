// Package hostednumberstest is a fake of Twilio's Bulk Hosted Number Orders
// API for tests, in the manner of net/http/httptest: NewServer starts a real
// HTTP server on the loopback interface that answers
//
//	POST /v2/HostedNumber/Orders/Bulk            (create, 202)
//	GET  /v2/HostedNumber/Orders/Bulk/{BH…}      (fetch, 200; optional OrderStatus filter)
//
// with the JSON documents the real API sends, checks HTTP basic
// authentication, validates create bodies with the SDK's own rules, and
// records every request it receives.
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
// A created order is QUEUED. By default every fetch moves it one stage on,
// and the fetch answers with the new state: the first fetch returns
// IN_PROGRESS (every number pending-loa, spelled pending_loa in the results
// as Twilio does), the second PROCESSED (every number in its final status,
// date_completed set). WithFetchesPerStage slows this down;
// WithStageDuration makes it depend on the time since creation instead.
// WithOutcome, with a script such as FailNumbersEndingIn, decides the final
// status of each number.
//
// # Faults
//
// InjectFault queues misbehaviour for the next matching requests: an error
// status with a body of your choosing or a Twilio error document, a
// Retry-After header, latency, or a connection dropped without an answer.
// Together with Requests it shows exactly what a client did, for instance
// that it never sent a create twice.
package hostednumberstest

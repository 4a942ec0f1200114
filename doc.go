// Package hostednumbers is a typed client for Twilio's Bulk Hosted Number
// Orders API: bring many existing phone numbers onto Twilio in one request
// (POST /v2/HostedNumber/Orders/Bulk) and follow each number through
// hosting (GET /v2/HostedNumber/Orders/Bulk/{BulkHostingSid}).
//
//	client, err := hostednumbers.NewClientFromEnv()
//	if err != nil {
//		return err
//	}
//	order, err := client.BulkHostedNumberOrders.Create(ctx, &hostednumbers.CreateBulkHostedNumberOrderParams{
//		FriendlyName: "Spring migration",
//		RequestItems: []hostednumbers.RequestItem{{
//			Email:      "owner@example.com",
//			AddressSID: "AD0123456789abcdef0123456789abcdef",
//			Numbers:    []hostednumbers.Number{{PhoneNumber: "+14155550101"}},
//		}},
//	})
//	if err != nil {
//		return err
//	}
//	done, err := client.BulkHostedNumberOrders.Wait(ctx, order.BulkHostingSID, nil)
//
// # Following every number
//
// PROCESSED on a bulk request means Twilio made one hosted number order
// (HR…) per number. Client.HostedNumberOrders lists (with a Go iterator over
// every page), fetches, updates and cancels those orders;
// Client.AuthorizationDocuments lists and fetches the letters of
// authorisation (PX…) their owners sign, and the orders each one holds up.
//
// # Input is checked before anything is sent
//
// Create validates every field it models (E.164 numbers, e-mail addresses,
// SID prefixes, friendly-name length, callback URLs and methods, at least
// one number per item, no number twice) and Fetch and Wait check the SID, so
// a hostile value never reaches a URL. All problems come back at once in a
// *ValidationError whose FieldError paths look like
// request_items[2].numbers[7].phone_number.
//
// # A create leaves the process at most once
//
// A GET is retried on transport errors and on 429, 500, 502, 503 and 504.
// A POST (Create) is retried only on positive evidence that the server
// cannot have processed it: on 429, which Twilio sends before doing any
// work, and when the client's transport layer has evidence that nothing
// of it was written: a typed connection failure (connection refused, DNS
// failure), or a dial, TLS handshake or proxy CONNECT that failed or
// stalled before net/http's transport had a connection for the request.
// No decision is read from the text of an error,
// which a server can word. A POST is never resent after a timeout, a
// connection reset or an HTTP/2 stream error (REFUSED_STREAM included)
// once it may have been sent, or after any 5xx, because the API takes no
// idempotency key and a second create could host the same numbers twice.
// Waits back off exponentially with jitter, honour Retry-After (in seconds
// or as an HTTP date) up to a cap, are never shorter than the minimum
// backoff, and end at once when the context is cancelled. When retries run
// out, the caller gets the last response's *APIError. No layer below this
// policy resends: each attempt goes down as a request net/http's HTTP/1
// and HTTP/2 transports will not replay, and a WithHTTPClient transport
// that resends a request it already wrote (through net/http, with the
// request's context) has that resend refused before it writes, so one
// attempt is one send.
//
// Every error from Create says whether the order may exist: it matches
// exactly one of ErrNotApplied (nothing left the process: invalid input, a
// nil context, a context done before the attempt, a connection that
// never opened; or Twilio refused it with a 4xx: fix the cause
// and submit again) and ErrOutcomeUnknown (everything else once a send
// began: it may have been processed). After ErrOutcomeUnknown,
// BulkHostedNumberOrders.Reconcile (or WaitForReconcile, or the functions
// of the same names over a mocked lister) finds out what Twilio has for
// the numbers: all in one bulk request (use it), partly (submit only the
// missing ones), none created, or not known yet (pending) while Twilio may
// still be processing the create: it makes the orders later, from a queue,
// and a list may show them late, so "none created" needs the processing
// window to have passed and two looks apart to have found nothing.
//
// # Errors
//
// Non-2xx answers are *APIError values carrying Twilio's code, message,
// more_info and details, the HTTP status and the Twilio-Request-Id header;
// errors.Is matches ErrNotFound, ErrUnauthorized, ErrRateLimited and
// ErrServer. A 2xx whose body is unusable is a *DecodeError that says the
// request was accepted, so that no one resubmits blindly. Every returned
// value carries LastResponse: status, Twilio-Request-Id, headers, attempts,
// elapsed time and the server's Date (ServerDate); Client.ClockOffset
// gives the latest server-minus-local clock offset. Credentials never
// appear in any error, log record or formatted value, even when a server
// echoes them back, whole or cut: no 8 consecutive characters of the
// secret or of its basic-auth base64 forms survive.
//
// # One call at a time, observed
//
// Every method takes ...CallOption last: WithCallMaxRetries,
// WithCallTimeout, WithCallHeader and WithCallTag change that call only,
// within the same retry policy. WithHooks observes every call: a start
// (operation, method, path template, tag) whose context the attempts run
// in, each attempt (number, status, request id, latency, error) and the
// end (Outcome label, status, request id, attempts, duration, error), with
// credentials redacted and a panicking hook recovered. examples/otel turns
// them into OpenTelemetry spans.
//
// # Testing
//
// Code that uses the SDK can depend on the BulkHostedNumberOrdersAPI,
// HostedNumberOrdersAPI and AuthorizationDocumentsAPI interfaces, mock only
// Fetch and still run the real polling loop with WaitForBulkOrder, or run
// against the fake API server in the hostednumberstest package, which
// serves every endpoint from one state and injects faults.
package hostednumbers

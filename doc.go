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
// A GET is retried on connection errors and on 429, 500, 502, 503 and 504.
// A POST (Create) is retried only when the server cannot have processed it:
// on 429, which Twilio sends before doing any work, and on a connection
// failure before any byte of the request was written (connection refused,
// DNS failure). It is never resent after a timeout, a connection reset once
// the request was sent, or any 5xx, because the API takes no idempotency
// key and a second create could host the same numbers twice. Waits back off
// exponentially with jitter, honour Retry-After (in seconds or as an HTTP
// date) up to a cap but never less than the minimum backoff, and end at
// once when the context is cancelled. When retries run out, the caller gets
// the last response's *APIError. No layer below this policy resends: the
// client's own layer over the transport refuses the resends net/http's
// HTTP/2 and HTTP/1 transports make by themselves, so one attempt is one
// send, with the default transport and with any WithHTTPClient client.
//
// Every error from Create says whether the order may exist: it matches
// exactly one of ErrNotCreated (nothing was sent, or Twilio refused it: fix
// the cause and submit again) and ErrOutcomeUnknown (it may have been
// processed). After ErrOutcomeUnknown, BulkHostedNumberOrders.Reconcile
// (or WaitForReconcile, or the functions of the same names over a mocked
// lister) finds out what Twilio has for the numbers: all in one bulk
// request (use it), partly (submit only the missing ones), none created,
// or not known yet (pending) while Twilio may still be processing the
// create: it makes the orders later, from a queue, and a list may show
// them late, so "none created" needs the processing window to have passed
// and two looks apart to have found nothing.
//
// # Errors
//
// Non-2xx answers are *APIError values carrying Twilio's code, message,
// more_info and details, the HTTP status and the Twilio-Request-Id header;
// errors.Is matches ErrNotFound, ErrUnauthorized, ErrRateLimited and
// ErrServer. A 2xx whose body is unusable is a *DecodeError that says the
// request was accepted, so that no one resubmits blindly. Every returned
// value carries LastResponse: status, Twilio-Request-Id, headers, attempts
// and elapsed time. Credentials never appear in any error, log record or
// formatted value, even when a server echoes them back.
//
// # Testing
//
// Code that uses the SDK can depend on the BulkHostedNumberOrdersAPI,
// HostedNumberOrdersAPI and AuthorizationDocumentsAPI interfaces, mock only
// Fetch and still run the real polling loop with WaitForBulkOrder, or run
// against the fake API server in the hostednumberstest package, which
// serves every endpoint from one state and injects faults.
package hostednumbers

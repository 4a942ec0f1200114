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
// # Input is checked before anything is sent
//
// Create validates every field it models (E.164 numbers, e-mail addresses,
// SID prefixes, friendly-name length, callback URLs and methods, at least
// one number per item, no number twice) and Fetch and Wait check the SID, so
// a hostile value never reaches a URL. All problems come back at once in a
// *ValidationError whose FieldError paths look like
// request_items[2].numbers[7].phone_number.
//
// # Retries never create twice
//
// A GET is retried on connection errors and on 429, 500, 502, 503 and 504.
// A POST (Create) is retried only when the server cannot have processed it:
// on 429, which Twilio sends before doing any work, and on a connection
// failure before any byte of the request was written (connection refused,
// DNS failure). It is never resent after a timeout, a connection reset once
// the request was sent, or any 5xx, because the API takes no idempotency
// key and a second create could host the same numbers twice. Waits back off
// exponentially with jitter, honour Retry-After (in seconds or as an HTTP
// date) up to a cap, and end at once when the context is cancelled. When
// retries run out, the caller gets the last response's *APIError.
//
// # Errors
//
// Non-2xx answers are *APIError values carrying Twilio's code, message,
// more_info and details, the HTTP status and the Twilio-Request-Id header;
// errors.Is matches ErrNotFound, ErrUnauthorized, ErrRateLimited and
// ErrServer. A 2xx whose body is unusable is a *DecodeError that says the
// request was accepted, so that no one resubmits blindly. Credentials never
// appear in any error, log record or formatted value.
//
// # Testing
//
// Code that uses the SDK can depend on the BulkHostedNumberOrdersAPI
// interface, or run against the fake API server in the hostednumberstest
// package.
package hostednumbers

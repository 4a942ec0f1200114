// Command bulkhost hosts many existing phone numbers on Twilio in one bulk
// hosting request, read from a CSV file, and shows how each number fared.
//
// Usage:
//
//	bulkhost -live -csv numbers.csv -email owner@example.com -address-sid AD… [flags]
//	bulkhost -live -fetch BH… [-wait] [-json]
//	bulkhost                  # demo: no credentials needed, see below
//
// Submitting reads every number from the CSV, checks everything before
// anything is sent, creates one bulk hosting request with all the numbers
// and prints its SID (BH…) on standard output. With -wait it then follows
// the request until Twilio has processed it, drawing progress on standard
// error, and prints each number's result. -fetch shows an existing request
// the same way.
//
// # Flags
//
//	-csv file            the phone numbers, as CSV (- reads standard input)
//	-email address       owner's e-mail address; the authorisation document goes there (required to submit)
//	-address-sid AD…     address the numbers are registered at (required to submit)
//	-contact-phone +1…   authorised contact's phone number, E.164
//	-contact-title text  authorised contact's job title
//	-friendly-name text  label of the bulk hosting request (at most 128 characters)
//	-notification-email address
//	                     receives Twilio's notices about the request
//	-fetch BH…           show an existing bulk hosting request instead of submitting
//	-wait                follow the request until it is PROCESSED, then show the results
//	-poll duration       first interval between fetches with -wait (default 2s, doubling up to a minute)
//	-timeout duration    give up on the whole run after this long (default 30m)
//	-json                print the result as JSON instead of a table
//	-live                use the real Twilio API with the credentials in the environment
//	-dry-run             check the CSV and flags, print the request body, send nothing
//
// # CSV
//
// The first line is a header naming the columns; names are matched without
// regard to case or surrounding spaces. phone_number is required, in E.164
// form (+14155550101). The other columns are optional settings for each
// number: friendly_name, status_callback_url, status_callback_method,
// sms_url, sms_method, sms_application_sid (AP…), account_sid (AC…, a
// subaccount) and cc_emails (addresses separated by semicolons). Cells are
// trimmed, an empty cell leaves its setting unset, and methods (GET, POST)
// may be in any case. Blank lines and lines starting with # are skipped.
//
//	phone_number,friendly_name,status_callback_url,cc_emails
//	+14155550101,Front desk,https://hooks.example.com/hosting,
//	+14155550102,Sales line,,sales@example.com;it@example.com
//
// Every problem with the CSV and the flags is reported at once, each with
// its CSV line (line 4: phone_number "+0123": not an E.164 number ...;
// line 7: +14155550101 is a duplicate of line 3) or its flag (-email: ...),
// and then nothing is submitted. An unknown column is an error, so that a
// misspelt one is not silently ignored.
//
// # Output
//
// Without -json, standard output gets the request's SID (when submitting)
// and then, with -wait or -fetch, a table of the numbers grouped by status,
// with columns STATUS, PHONE NUMBER, HOSTED NUMBER ORDER and DETAIL (the
// failure reason and next step), followed by the count of numbers in each
// status. Progress and messages go to standard error: on a terminal one
// line that updates in place, elsewhere one line per change.
//
// With -json, standard output gets exactly one JSON document:
//
//	{
//	  "bulk_hosting_sid": "BH…",
//	  "request_status": "PROCESSED",
//	  "counts": {"completed": 7, "failed": 3},
//	  "orders": [
//	    {"phone_number": "+14155550101", "status": "completed", "hosting_order_sid": "HR…",
//	     "failure_reason": null, "next_step": null}
//	  ]
//	}
//
// request_status is QUEUED, IN_PROGRESS or PROCESSED; counts maps each
// hosted number order status (completed, failed, action-required,
// pending-loa, …) to its number of orders; orders lists every number,
// grouped by status like the table, with failure_reason and next_step null
// when Twilio gave none. Without -wait, a submit prints the request as
// created: no counts and no orders yet.
//
// # Credentials and the demo
//
// The real API is used only with credentials in the environment
// (TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or with TWILIO_API_KEY and
// TWILIO_API_SECRET; TWILIO_REGION and TWILIO_EDGE are honoured) and the
// -live flag. Credentials without -live are refused, so that nothing reaches
// Twilio by accident; -dry-run needs neither.
//
// With no credentials at all, bulkhost runs the whole flow against a local
// fake server (package hostednumberstest) with a bundled sample CSV of ten
// fictional numbers and example contact details, and waits for the result:
//
//	go run ./examples/bulkhost
//
// The fake server fails every number ending in 9, as Twilio would fail a
// number it cannot host, so the demo ends with exit status 1 (go run
// reports "exit status 1"): that is the demo working as scripted.
//
// # Exit status
//
//	0  everything went well (submitted; or every number completed or is still in progress)
//	1  some number failed or needs action (failed, action-required), after -wait or with -fetch
//	2  bad input (flags, CSV, credentials), or an API or network error
//
// After an error on submit, bulkhost says whether the request may have been
// created all the same: a server error or a timeout does not prove that it
// was not, and an accepted request whose answer could not be read certainly
// was, so do not submit the same numbers again without checking.
package main

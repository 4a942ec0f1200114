// Command bulkhost migrates many existing phone numbers to Twilio hosting:
// it reads them from a CSV file, submits them in bulk hosting requests of
// at most -batch-size numbers, keeps a journal of every step so that a
// crash, a timeout or Ctrl-C never leaves you guessing, and follows every
// number until it is hosted or needs a person.
//
// Usage:
//
//	bulkhost -live -csv numbers.csv -email owner@example.com -address-sid AD… [-wait] [flags]
//	bulkhost -live -status -csv numbers.csv [-wait] [-json]
//	bulkhost -live -fetch BH… [-wait] [-json]
//	bulkhost                  # demo: no credentials needed, see below
//
// Submitting reads every number from the CSV and checks everything before
// anything is sent (duplicates across the whole file included), plans the
// batches in a journal, and creates one bulk hosting request per batch,
// printing each request's SID (BH…) on standard output. Before a batch
// is first sent, its numbers are checked with Twilio's bulk eligibility
// check (see Eligibility below) and only the eligible ones are sent. With -wait it
// then follows every number until it is completed, failed or needs action,
// and prints the report. -status does the following and reporting alone,
// from the journal; -fetch shows one existing request.
//
// # Flags
//
//	-csv file            the phone numbers, as CSV (- reads standard input; then -state is required)
//	-email address       owner's e-mail address; the authorisation document goes there (required to submit)
//	-address-sid AD…     address the numbers are registered at (required to submit)
//	-contact-phone +1…   authorised contact's phone number, E.164
//	-contact-title text  authorised contact's job title
//	-friendly-name text  label of each bulk hosting request (at most 128 characters)
//	-notification-email address
//	                     receives Twilio's notices about the requests
//	-state file          the journal (default: the CSV's path with .bulkhost.json added),
//	                     or postgres://…, a PostgreSQL database several processes can share
//	-schema name         with -state postgres://…: the schema of the tables (default hostednumbers)
//	-migration name      with -state postgres://…: the migration's name in the schema (default default)
//	-worker name         with -state postgres://…: this process's name in its claims on batches
//	-claim-ttl duration  with -state postgres://…: how long a claim on a batch lasts unless renewed
//	                     (default 7m, or longer if -attempt-timeout needs it)
//	-batch-size n        at most n numbers per bulk hosting request (default 1000)
//	-concurrency n       at most n requests to Twilio in flight at once, batches submitted together (1 to 64, default 1)
//	-status              refresh and show every number of the journal instead of submitting
//	-fetch BH…           show an existing bulk hosting request instead of submitting
//	-wait                follow the numbers until each is completed, failed or needs action
//	-poll duration       first interval between refreshes with -wait (default 2s, doubling up to a minute)
//	-timeout duration    give up on the whole run after this long (default 30m)
//	-attempt-timeout duration
//	                     give up on one attempt of one API request after this long (default 30s)
//	-resubmit statuses   before submitting, mark the numbers in these statuses (failed, action-required,
//	                     rejected, check-failed) to be submitted again, once their cause is fixed
//	-export file         write the journal's numbers to file (.json: JSON; else CSV; - for stdout), offline
//	-export-status list  with -export, only the numbers in these statuses (comma-separated)
//	-table               end with the table of every number, grouped by status, before the counts
//	-settle duration     how long after a create in doubt may have reached Twilio its orders may
//	                     still appear; nothing of a batch in doubt is sent again before (default 30m)
//	-json                print the result as JSON instead of a table, and no progress
//	-live                use the real Twilio API with the credentials in the environment
//	-demo                run against a local fake of the API that lives for this run only, with -csv's
//	                     numbers (or the bundled sample); the default with neither -csv nor credentials
//	-dry-run             check the CSV and flags, print the request bodies, send nothing
//	-skip-eligibility    submit without the eligibility check (for numbers already checked)
//
// # CSV
//
// The first line is a header naming the columns; names are matched without
// regard to case or surrounding spaces (a UTF-8 byte order mark, as
// spreadsheets write it, is fine, and so are quoted names). phone_number is
// required, in E.164 form (+14155550101). The other columns are optional
// settings for each number: friendly_name, status_callback_url,
// status_callback_method, sms_url, sms_method, sms_application_sid (AP…),
// account_sid (AC…, a subaccount) and cc_emails (addresses separated by
// semicolons). Cells are trimmed, an empty cell leaves its setting unset,
// and methods (GET, POST) may be in any case. Blank lines and lines
// starting with # are skipped.
//
//	phone_number,friendly_name,status_callback_url,cc_emails
//	+14155550101,Front desk,https://hooks.example.com/hosting,
//	+14155550102,Sales line,,sales@example.com;it@example.com
//
// Every problem with the CSV and the flags is reported at once, each with
// its CSV line (line 4: phone_number "+0123": not an E.164 number ...;
// line 7: +14155550101 is a duplicate of line 3) or its flag (-email: ...),
// and then nothing is submitted. An unknown column is an error, so that a
// misspelt one is not silently ignored. The input is read up to 64 MiB, and
// a line up to 64 KiB: past either, bulkhost stops with an error naming the
// limit (so -csv /dev/zero or a binary file cannot fill the memory). An
// explicit empty -csv is an error.
//
// # Journal and resume
//
// A migration is recorded in its journal (-state; by default next to the
// CSV, numbers.csv.bulkhost.json), a log kept by package
// github.com/hostednumbers/hostednumbers-go/migrate/logstore: the input's
// name, SHA-256 digest and size, the contact flags, the batches with their
// numbers (and each number's CSV settings), each batch's state, every
// create and look with its times, outcome and Twilio-Request-Id, and the
// last known status of every number (hosted number order, failure reason,
// next step, LOA document and its status). A batch moves
//
//	planned -> sending -> accepted (BH…) | rejected | outcome_unknown
//
// Each change is recorded before the step it records — "sending" before
// the create goes out, the BH… SID as soon as it is known — as one
// checksummed record appended to the journal and synced: the bytes a step
// writes follow what changed, not the size of the migration. A record cut
// short by a crash is dropped on the next run (its step was never taken);
// now and then the journal is compacted, through a temporary file that is
// synced, renamed over it, and its directory synced. Whatever kills
// bulkhost, the journal is whole.
//
// A CSV file is read twice and never held whole: once to check it, once
// into the journal (a file that changed in between is refused).
//
// To resume, run the same command again. Accepted batches are followed,
// planned and rejected ones submitted (rejected means Twilio certainly
// made nothing).
//
// # A migration in PostgreSQL
//
// A -state that starts with postgres:// or postgresql:// keeps the
// migration in PostgreSQL (package
// github.com/hostednumbers/hostednumbers-go/migrate/pgstore) instead of a
// journal file; any other -state is a file. The store makes its tables on
// first use in the schema hostednumbers (-schema), and one schema holds
// several migrations by name (default, or -migration). The password may
// be in the DSN, or in PGPASSWORD or ~/.pgpass. The CSV and the contact
// flags are checked against the migration as with a file, the same
// command resumes, and -status, -export and -resubmit work on it;
// -schema and -migration with a file, and a database for the demo, are
// refused (exit 2).
//
// The password shows nowhere: messages, progress lines and -json
// documents name the database by its DSN with the password replaced by
// xxxxx, and the output is scrubbed of it should a driver's error quote
// it.
//
// Several processes may run the same command on one database at once,
// and share the work. One records the migration; the others (those that
// lose the race to record it too) read it and join it once it is the same
// input with the same contact flags. There is no lock file: each process
// claims a batch in the database before it checks, sends or refreshes it,
// renews the claim while it works, and leaves the batches others hold to
// them. A process that dies holds its batches until its claims expire
// (-claim-ttl, at least what every attempt of a create may take); a batch
// it left sending is then in doubt and settled, never sent twice. The
// eligibility checks' records are kept in the database too, with the
// migration: a check one process recorded is waited for, not made again,
// by the process that takes its batch.
//
// bulkhost is a module of its own (cmd/bulkhost/go.mod), so that it can
// bring the PostgreSQL driver while the SDK's go.mod keeps its three
// dependencies; it builds from a checkout (go -C cmd/bulkhost install .).
//
// # Eligibility
//
// Before a batch's first create, bulkhost checks each of its numbers not
// submitted yet with Twilio's Hosted Number Eligibility API: one bulk
// check (POST /v1/HostedNumber/Eligibility/Bulk) per batch, in chunks of
// at most 1000 numbers, waited for with -poll (package
// github.com/hostednumbers/hostednumbers-go/migrate/preflight). Only the
// numbers Twilio answers ELIGIBLE are sent. Every other one is recorded
// as check-failed, never sent, with Twilio's answer as its failure
// reason, and shows so in the table, in -json and in -export:
//
//	not eligible (ALREADY_IN_TWILIO): ALREADY_IN_TWILIO_BUT_NOT_IN_USE; next step: CONTACT_SUPPORT_INELIGIBLE_INVENTORY_STATUS (eligibility check EC…)
//
// A status bulkhost does not know, or no answer for a number, refuses it
// too ("eligibility unknown: …", "eligibility not checked: …"): no number
// is submitted blind. If the check itself fails (it cannot be created or
// finished), nothing of the batch is sent and the run stops with exit
// status 2: run the same command again.
//
// The checks are recorded in the journal (or the database): each check's
// request ID (EC…) as soon as Twilio gives it, before bulkhost waits for
// it, then its results. A journal made by bulkhost 0.3.0 kept them in a
// file next to it (the journal's path with .eligibility added); the first
// run imports that file into the journal and renames it with .imported
// added. A run after a crash
// waits for a recorded check instead of creating another, and a number
// whose result is recorded is not checked again. -resubmit check-failed
// checks the refused numbers afresh (their cause may be fixed) and sends
// those now eligible. -skip-eligibility turns the check off, for operators
// who have checked the numbers already: every number is sent, and no
// eligibility request is made.
//
// # A batch in doubt
//
// A batch left "sending" (the process died during its create) or
// "outcome_unknown" (the create timed out, the connection broke, Twilio
// answered 5xx, or its answer could not be read) is in doubt: Twilio may
// have it, or not. Twilio answers a bulk create with QUEUED and makes the
// hosted number orders later, from a queue, even for a create whose
// client has gone, so finding no order right away proves nothing.
// bulkhost looks for the orders of each of the batch's numbers
// (hostednumbers' Reconcile: one listing per number on the first look,
// then only the numbers still missing) at once,
// then again until the answer is conclusive:
//
//   - every number has an order in one request: that request is adopted,
//     nothing is sent again;
//   - some have orders: only the others are submitted, once they are
//     confirmed missing as below;
//   - none has an order: the batch is submitted again only after the
//     window (-settle, 30 minutes by default, counted from the latest
//     moment the create may have reached Twilio: its return, or for a
//     run that died during it, the earlier of that run's end and the
//     longest the SDK's attempts can take) has passed and two looks, a
//     minute apart (or -settle apart, if shorter), both found nothing.
//
// Dates are compared in Twilio's time, measured from the Date header of
// its answers, so a clock that is off by minutes does not make an order
// look older than the create. The orders of the batch's earlier requests
// are never taken for the create in doubt.
//
// Meanwhile the other batches go on. With -wait, bulkhost waits for the
// doubt to be settled (looking again when Reconcile says to) and then
// follows every number. Without -wait, it exits with 3 and says, for each
// batch in doubt, what it is waiting for and at what time a run can settle
// it: run the same command again then (a run sooner looks again, and
// settles it sooner if Twilio has made the orders). Each create is
// recorded with its send time, its return time, its -settle and
// -attempt-timeout, and Twilio's clock offset; each look with what it
// found. A later run uses the create's -settle unless given one.
//
// One migration has one journal and one lock, whatever path names it:
// -state is resolved through symbolic links (the journal's own name
// included) before it is locked, read or written, so a link is never
// replaced by a file. The lock is held for the whole run. The journal's
// numbers must be the CSV's and its contact flags (-email, -address-sid,
// -contact-phone, -contact-title, -friendly-name, -notification-email)
// those it was started with; a difference is refused, naming it, before
// anything is sent. Temporary files a killed run left next to the journal
// are removed on start.
//
// The input may change between runs as an operator needs: numbers added
// to the CSV go into new batches, and numbers removed from it before they
// were submitted are withdrawn (listed as withdrawn, never sent; add them
// back to restore them). So a batch Twilio rejected for one number can be
// fixed by removing that number. A submitted number removed, or a number's
// settings (its CSV columns) changed, is refused with the numbers named:
// Twilio has them.
//
// A journal that is damaged, is not bulkhost's, comes from a newer
// bulkhost, is an earlier bulkhost's single-document journal, or was made
// for another input (another digest) is refused with a message saying
// which, and is never overwritten: move it away, or name another file with
// -state. A journal of the demo and one of a live migration are not
// interchangeable.
//
// # Fixing numbers
//
// -export writes the journal's numbers, all or those in -export-status
// (failed,rejected,…), to a file for the people who fix them: CSV (columns
// phone_number, status, batch, line, bulk_hosting_sid, hosting_order_sid,
// failure_reason, next_step, signing_document_sid, loa_status) or, for a
// name ending in .json, a JSON array of the numbers as -json shows them. It
// reads the journal only, needs no credentials, and never overwrites a
// file. Once the cause is fixed (an LOA signed, an address corrected at
// Twilio), -resubmit failed (or action-required, rejected, check-failed)
// with the submit command sends those numbers again, in a new request per
// batch; their earlier requests stay in the journal and are never taken for
// the new ones.
//
// # Status
//
// -status (with -state, or with -csv to find the journal next to it)
// refreshes every batch and every number from Twilio — the hosted number
// order's status, failure reason and next step from each bulk request,
// orders made outside one individually, and the status of each LOA
// document (opened, signing, signed, canceled, failed) — records it in the
// journal, and prints the report. With -wait it refreshes until every
// submitted number is completed, failed or needs action. A submit with
// -wait ends the same way.
//
// # Progress
//
// While it submits and while it follows, bulkhost draws the progress of
// the whole migration on standard error, counted against the whole:
//
//	submitting: 12 of 30 batches accepted, 1200 of 3000 numbers at Twilio, 1 batch in doubt; 2400 numbers/min, about 45s left
//	following: 2100 of 3000 numbers done: 800 pending-loa, 2000 completed, 100 failed, …; 35 numbers/min, about 26m left
//
// with the rate since the phase began and, at that rate, an estimate of
// the time left. On a terminal it is one line that updates in place;
// elsewhere (a log, a pipe) one line every few seconds, and the last
// state; nothing at all with -json. A migration of more than 20 batches
// folds the routine line of each batch (submitted, checked with nothing
// refused) into it; what needs a person's eye (a refusal, a doubt, a rate
// limit) always has its own line.
//
// # Output
//
// Without -json, standard output gets the SID of each request created (or
// adopted) and, with -wait or -status, a summary: the journal's batches,
// the count of numbers in each status, and the numbers that need action
// (at most 20, in a table with columns STATUS, PHONE NUMBER, BATCH, HOSTED
// NUMBER ORDER, LOA and DETAIL, the failure reason and next step), then the
// -export command that lists the rest. -table prints that table for every
// number, grouped by status, before the summary; -export writes every
// number to a file. Besides Twilio's ten
// statuses, a number may be not-submitted (its batch is planned),
// outcome-unknown (its batch is being reconciled), submitted (Twilio has
// it, with no result yet) or rejected. Messages go to standard error.
//
// With -json (on a submit, -status or both), standard output gets exactly
// one JSON document:
//
//	{
//	  "journal": "numbers.csv.bulkhost.json",
//	  "input": {"name": "numbers.csv", "sha256": "…", "numbers": 10},
//	  "counts": {"completed": 7, "failed": 3},
//	  "batches": [{"index": 1, "state": "accepted", "bulk_hosting_sids": ["BH…"], "numbers": 10}],
//	  "numbers": [
//	    {"phone_number": "+14155550101", "line": 2, "batch": 1, "status": "completed",
//	     "bulk_hosting_sid": "BH…", "hosting_order_sid": "HR…", "failure_reason": null,
//	     "next_step": null, "signing_document_sid": "PX…", "loa_status": "signed"}
//	  ]
//	}
//
// with null for whatever is not known (yet). Whatever the exit status,
// -json prints exactly one document: when a run ends without a result (bad
// flags or input, an API error, an interrupt), it is
//
//	{"exit_code": 2, "error": "3 problems with the flags and numbers.csv; nothing was submitted",
//	 "problems": ["-email: is required: …", "line 4: phone_number \"x\": not an E.164 number …", "line 7: +14155550101 is a duplicate of line 2"]}
//
// error is what the run failed with (the same message standard error
// gives, without the particulars printed under it, such as an API error's
// HTTP status and request ID, nor the hints printed after it); problems,
// when there were several, lists each (with its CSV line).
//
// and -dry-run -json prints {"requests": [body, …]}, one create body per
// batch. -fetch -json prints one request instead: {"bulk_hosting_sid", "request_status", "counts",
// "orders": [{"phone_number", "status", "hosting_order_sid",
// "failure_reason", "next_step"}]}.
//
// # Credentials and the demo
//
// The real API is used only with credentials in the environment
// (TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or with TWILIO_API_KEY and
// TWILIO_API_SECRET; TWILIO_REGION and TWILIO_EDGE are honoured) and the
// -live flag. Credentials without -live are refused, so that nothing reaches
// Twilio by accident; -dry-run needs neither. A -csv given with no
// credentials is refused as well (exit 2, naming the variables to set),
// unless -demo asks for the demo: an operator's own numbers never go to
// the demo's fake server by accident.
//
// With no credentials and no -csv (or with -demo), bulkhost runs the whole job against a local
// fake server (package hostednumberstest) with a bundled sample CSV of ten
// fictional numbers and example contact details, in batches of 4:
//
//	go -C cmd/bulkhost run .
//
// The fake server drops its answer to the second batch's create after
// taking it, and answers the third with a 500 without taking it, so the
// demo shows two batches in doubt being settled (with -settle 2s): the
// first run exits as a run without -wait would, saying when to run again;
// the same command runs again with -wait, finds the second batch's numbers
// at Twilio and adopts their request instead of sending it twice, and
// submits the third again once two looks after the window found nothing. It then
// follows the numbers; the fake fails every number ending in 9, as Twilio
// fails a number it cannot host. Its eligibility check answers
// +14155550105 as already in Twilio: that number is reported check-failed
// with Twilio's reason and next step, and never submitted. The demo exits with 0 when all of that
// happened as scripted, and says that a live run would have exited with 1.
// Its journal is temporary unless -state is given; with -state, interrupt
// it (Ctrl-C) and run the same command again to watch it resume (go -C
// runs in cmd/bulkhost, so a relative -state lands there):
//
//	go -C cmd/bulkhost run . -state demo.json   # press Ctrl-C while it follows the numbers
//	go -C cmd/bulkhost run . -state demo.json   # resumes: nothing is submitted twice
//
// (The demo's fake server ends with its run; the second run re-creates the
// journal's requests on its own fake server, whose answers its client
// gives with the journal's SIDs, as Twilio would have kept them. The demo
// never writes to the journal itself: the journal holds only what the
// engine recorded from the fake server's answers.)
//
// # Exit status
//
//	0    all went well: every number completed (after -wait or -status), or every batch submitted (without -wait)
//	1    some number failed, needs action, or was rejected (after -wait or -status; -fetch: failed or action-required)
//	2    bad input (flags, CSV, credentials, journal), or an API or network error: run the same command again to resume
//	3    numbers are still on their way (-status without -wait), not submitted yet, or a batch is in doubt (without -wait: run again at the time given)
//	130  interrupted by SIGINT or SIGTERM; the journal is consistent: run the same command again to resume
//
// A create Twilio refuses with 429 after the SDK's own retries is a rate
// limit: bulkhost says so and at what time it tries the batch again
// (Twilio's Retry-After, or 30 seconds), and sends no later batch before.
// A batch Twilio refuses otherwise is rejected: the message gives Twilio's
// reason and code and the numbers of the batch it names, and the next run
// submits the batch again.
//
// SIGINT and SIGTERM stop bulkhost at any point, reading the input
// included; a create in flight is then recorded as outcome unknown and
// reconciled on the next run. The error for a request attempt that took
// too long names -attempt-timeout; for the whole run, -timeout.
//
// # Test hooks
//
// Four environment variables exist for bulkhost's own tests and are not
// for operators: BULKHOST_TEST_CRASH_AT=step[:n] makes the process kill
// itself with SIGKILL at the n-th occurrence of a step (after-sending,
// after-answer, mid-wait, after-eligibility-recorded: right after an
// eligibility check's request ID was recorded), BULKHOST_TEST_BASE_URL points -live at a fake
// server on a loopback http address (any other address is refused), with
// short waits between retries (10ms, and a Retry-After of at most 100ms),
// BULKHOST_TEST_STATS names a file the run's figures are written to at
// exit (the journal's bytes written and size, the peak resident memory,
// how long submitting and following took, the refresh passes and the
// numbers each began with: for the benchmarks), and
// BULKHOST_TEST_HEAPPROFILE names a file a heap profile is written to at
// each new high of the heap.
package main

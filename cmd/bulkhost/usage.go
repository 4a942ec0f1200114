package main

import (
	"flag"
	"fmt"
	"strings"
)

const usageHead = `bulkhost migrates phone numbers to Twilio hosting in bulk hosting requests,
keeps a journal of every step, resumes where it stopped, and follows each
number to the end.

Usage:
  bulkhost -live -csv numbers.csv -email owner@example.com -address-sid AD… [-wait] [-json]
  bulkhost -live -status -csv numbers.csv [-wait] [-json]     follow the numbers of a journal
  bulkhost -live -fetch BH… [-wait] [-json]                   show one bulk hosting request
  bulkhost [-state demo.json] [-json]                         demo: no credentials needed

Flags:
`

//nolint:gosec // PASSWORD in the help text is a placeholder, not a credential
const usageTail = `
CSV: a header row, then one number per row. Columns (case-insensitive):
  phone_number (required, E.164), friendly_name, status_callback_url,
  status_callback_method, sms_url, sms_method, sms_application_sid,
  account_sid, cc_emails (separated by ;). Lines starting with # are skipped.
  At most 64 MiB, and 64 KiB per line. Every problem is reported with its
  line, duplicates across the whole file included; then nothing is submitted.

Journal: every migration is recorded in -state (default: the CSV's path +
  .bulkhost.json): the input's digest, the batches (of -batch-size numbers)
  and their states planned -> sending -> accepted BH… / rejected /
  outcome_unknown, request ids, times, and the last known status of every
  number. Each step is written, atomically and durably, before it is taken.
  A damaged journal, one from a newer bulkhost, or one made for another
  input is refused and never overwritten.

Database: -state postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=… (or
  postgresql://…) keeps the migration in PostgreSQL instead of a file, in
  -schema (default hostednumbers) under -migration (default default).
  Several processes may run the same command on it at once: each joins the
  migration and claims batches before working on them; a process that
  dies holds its batches until its claims expire (-claim-ttl). The
  password is shown as xxxxx everywhere; it may also come from PGPASSWORD.

Eligibility: before a batch is first sent, its numbers are checked with
  Twilio's bulk eligibility check (recorded in the journal or database; a
  0.3.0 journal's .eligibility file is imported once and renamed
  .eligibility.imported; a check recorded is waited for, never created again
  after a crash). Numbers not ELIGIBLE are reported check-failed with
  Twilio's reason and next step and never sent; -resubmit check-failed
  checks them again. -skip-eligibility sends without checking.

Resume: run the same command again. Accepted batches are followed, planned
  and rejected ones submitted; a batch left sending or outcome_unknown is
  in doubt and checked with Twilio: adopted if Twilio has all its numbers
  in one request; otherwise nothing is sent again until the -settle window
  (30m) has passed and two looks apart found the numbers missing, then
  only those. Other batches go on meanwhile; -wait waits for the doubt,
  without it bulkhost exits 3 and says when to run again. No number is
  hosted twice.

Fixing: -export FILE [-export-status failed,rejected] writes numbers as CSV
  (or JSON for FILE.json) from the journal alone; -resubmit failed (or
  action-required, rejected, check-failed) on the submit command sends those
  numbers again once their cause is fixed.

Status: -status refreshes every number of the journal from Twilio (hosted
  number order status, failure reason, next step, LOA status) and prints a
  summary (or -json): counts per status and the numbers that need action
  (at most 20; -table lists every number); -wait follows until each
  submitted number is completed, failed or needs action.

Progress: of the whole migration, on standard error, while submitting and
  following: batches and numbers "… of N", numbers by status, the rate and
  the time left; one updating line on a terminal, a line every few seconds
  elsewhere, none with -json.

Credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and
  TWILIO_API_SECRET), plus -live. Credentials without -live are refused, and
  so is a -csv with no credentials (unless -demo): your numbers never go to
  the demo's fake server by accident.

Demo: with no TWILIO_* credentials and no -csv (or with -demo), bulkhost submits a bundled sample
  of ten fictional numbers to a local fake server in batches of 4; batches 2
  (answer lost) and 3 (a 500) are in doubt and settled with -settle 2s,
  then it follows the numbers to the end. The fake fails the numbers ending
  in 9 and answers +14155550105 as not eligible (reported, never sent);
  the demo exits 0 when all went as scripted and says what a live run
  would have exited with. Its journal is temporary unless -state is given:
  interrupt it and run it again to resume.

Exit status:
  0    every number completed (-wait, -status), or every batch submitted
  1    some number failed, needs action, or was rejected
  2    bad input (flags, CSV, credentials, journal), or an API or network
       error: run the same command again to resume
  3    numbers still on their way (-status without -wait), not submitted,
       or a batch in doubt (run again at the time given)
  130  interrupted (SIGINT, SIGTERM): the journal is consistent; run the
       same command again to resume
`

func printUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, usageHead)
	fs.PrintDefaults()
	fmt.Fprint(w, strings.TrimSuffix(usageTail, "\n")+"\n")
}

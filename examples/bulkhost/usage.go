package main

import (
	"flag"
	"fmt"
	"strings"
)

const usageHead = `bulkhost hosts many phone numbers on Twilio in one bulk hosting request.

Usage:
  bulkhost -live -csv numbers.csv -email owner@example.com -address-sid AD… [-wait] [-json]
  bulkhost -live -fetch BH… [-wait] [-json]
  bulkhost [-poll 200ms] [-json]       demo: no credentials needed (see below)

Flags:
`

const usageTail = `
CSV: a header row, then one number per row. Columns (case-insensitive):
  phone_number (required, E.164), friendly_name, status_callback_url,
  status_callback_method, sms_url, sms_method, sms_application_sid,
  account_sid, cc_emails (separated by ;). Lines starting with # are skipped.
  Every problem is reported with its line; then nothing is submitted.

Credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and
  TWILIO_API_SECRET), plus -live. Credentials without -live are refused.

Demo: with no TWILIO_* credentials at all, bulkhost submits a bundled sample
  of ten fictional numbers to a local fake server and follows it to the end.
  The fake server fails the numbers ending in 9, so the demo ends with exit
  status 1, as scripted.

Exit status:
  0  all well: submitted, or every number completed or is still in progress
  1  some number failed or needs action (after -wait, or with -fetch)
  2  bad input (flags, CSV, credentials), or an API or network error
`

func printUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, usageHead)
	fs.PrintDefaults()
	fmt.Fprint(w, strings.TrimSuffix(usageTail, "\n")+"\n")
}

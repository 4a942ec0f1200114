// Package preflight checks, before a migration submits anything, which
// phone numbers can be hosted: it runs Twilio's bulk eligibility checks
// (hostednumbers.EligibilityAPI) over every number not yet checked, records
// each step in a Store, and returns per number whether it is eligible, and
// if not the reason and the next step that Twilio gives.
//
// # Use
//
// Before the first submit of a migration, call Run with the client's
// Eligibility service, a Store, the numbers not yet submitted and
// Options. Submit only Result.Submittable(); report Result.Excluded() with
// their Status, Reason and NextStep. Only StatusEligible is submittable:
// StatusIneligible (Twilio said no), StatusUnknown (Twilio answered a status
// this package does not know; RawStatus holds it) and StatusNotChecked (no
// answer yet) are never submitted, so a number is never hosted on a guess.
//
// # Crash safety
//
// Run records each bulk check's request ID (EC…) in the Store as soon as
// the create returns, before it waits, and the check's results when it
// finishes; a Store's recording methods are durable once they return. A
// Run after a crash (or after ctx ended during a wait) waits for every
// check the Store lists as pending instead of creating it again, then
// checks only the numbers that still have no result.
//
// A create whose answer was lost (hostednumbers.ErrOutcomeUnknown) is
// created again, unlike a bulk hosting request, which must be reconciled
// first: a check creates nothing lasting (no order, no number, nobody
// charged or notified), so the worst a lost answer leaves is an orphan
// EC… check that nobody fetches. Result.LostCreates counts such creates
// and EventCreateFailed reports each one. Likewise a crash between a create
// and its recording leaves an orphan and a second check of the same
// numbers, nothing worse.
//
// # Turning the check off
//
// There is no option to skip the check: an engine whose operator turned it
// off does not call Run, and submits every number. So a Result always
// means the same thing (only StatusEligible is submitted), and a skipped
// check cannot be mistaken for a run one.
//
// # Stores
//
// MemoryStore keeps everything in memory: for tests and for callers that
// need no resume. It is not durable. A durable Store (a journal file, a
// database) implements the four methods of Store with the durability
// its documentation asks for. The migration's own stores do, so that one
// store holds the whole migration: migrate/logstore keeps the checks in
// the migration's log, migrate/pgstore in two tables of its schema.
// FileStore does too, in one append-only file of its own, for a program
// whose migration store keeps no checks. The contract suite
// migrate/storetest.RunChecks checks every rule of Store on an
// implementation.
//
// # Several batches at once
//
// Checker is a migrate.ConcurrentChecker: the engine checks several
// upcoming batches at once, one Run each, on one Store. A Run waits only
// for the pending checks that hold its own numbers, so Runs of different
// numbers share a Store without touching each other's checks; the Store
// must be safe for concurrent use, as every Store of this module is.
package preflight

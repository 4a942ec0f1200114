// Package migrate moves many phone numbers to Twilio hosting, exactly
// once, resumably: the engine behind the bulkhost command, for Go services
// that want the same migration with their own storage.
//
// A migration is recorded in a Store: its Meta (the contact details every
// request carries, the batch size, the input's digest) and its batches,
// each with its numbers. Store.Start records the plan; a Migrator then
// runs it:
//
//   - Submit sends each batch as one bulk hosting request, recording
//     "sending" before the create goes out and the outcome as soon as it is
//     known. A create whose outcome is unknown (a timeout, a lost answer, a
//     5xx) leaves its batch in doubt: it is looked at with
//     hostednumbers.Reconcile until the answer is conclusive, and never
//     sent again before (the processing window is Options.Settle; the
//     orders of the batch's earlier requests are never taken for its).
//     Other batches go on meanwhile. A rate limit holds every later create
//     until Twilio's Retry-After. A Checker, if set, runs on each batch
//     before it is sent (an eligibility pre-flight).
//   - Follow (or Refresh, once) follows every number: by its bulk request
//     until the request names the number's hosted number order (HR…), then
//     by that order, whose status is the authority, and by its
//     authorisation document.
//
// ApplyInput takes in a changed input between runs (numbers added go into
// new batches, numbers removed before they were submitted are withdrawn);
// Resubmit marks failed or rejected numbers to be sent again once their
// cause is fixed.
//
// Each step reads the batch it acts on from the store and saves it over
// the version it read (Store.SaveBatch is a compare-and-set), so nothing
// of the migration is held in memory between steps, and several workers
// can share one migration in a database (see Store). Progress is told
// through Options.OnEvent.
//
// The default store, package logstore, is one local file: an append-only
// log with compaction, no setup, no dependency.
package migrate

// Package migrate moves many phone numbers to Twilio hosting, exactly
// once, resumably: the engine behind the bulkhost command, for Go services
// that want the same migration with their own storage.
//
// A migration is recorded in a Store: its Meta (the contact details every
// request carries, the batch size, the input's digest, and the program's
// own data, Meta.App, which the engine never reads) and its batches,
// each with its numbers. Start checks the whole plan and records it
// (E.164 numbers, none twice, batches of 1 to MaxBatchSize, the contact
// every request needs, at least one number: anything else is a
// *PlanError with the place of each problem, and nothing is stored). A
// Migrator then runs it, over the SDK's interfaces (API; ClientAPI for a
// *hostednumbers.Client) and on a Clock (the system's, or a test's):
//
//   - Submit sends each batch as one bulk hosting request, recording
//     "sending" before the create goes out and the outcome as soon as it is
//     known. A create whose outcome is unknown (a timeout, a lost answer, a
//     5xx) leaves its batch in doubt: it is looked at with
//     hostednumbers.Reconcile until the answer is conclusive, and never
//     sent again before. The processing window is the one the create was
//     sent with (Options.Settle then); it starts when the create may last
//     have reached Twilio: when it returned, or, for a create left in
//     flight by a run that died, its send time plus the longest its client
//     may take over it (every attempt and wait, API.Limits), or, for a
//     create sent under a claim, when the claim before the looking
//     worker's ended, if that is earlier; without claims, when the Store
//     proves the earlier run had ended (Exclusive), if earlier. An order
//     seen in any look counts, even if a later, lagging list misses it. A
//     doubt keeps its earliest look after the window, and a run started at
//     SubmitResult.ConclusiveAt settles it. A create Twilio accepted whose
//     answer could not be read is never sent again: its orders are looked
//     for until they appear. Other batches go on meanwhile. A rate limit
//     holds every later create until Twilio's Retry-After. A Checker, if
//     set, runs on each batch before it is sent (an eligibility
//     pre-flight).
//   - Follow (or Refresh, once) follows every number: by its bulk request
//     until the request names the number's hosted number order (HR…), then
//     by that order, whose status is the authority, and by its
//     authorisation document (found again through the order when it was
//     re-issued). Only completed and failed are final at Twilio:
//     action-required orders are followed (Twilio support moves them on).
//     An order cancelled at Twilio (a 404, or a processed request that no
//     longer lists the number) is reported canceled.
//
// ApplyInput takes in a changed input between runs (numbers added go into
// new batches, numbers removed before they were submitted are withdrawn,
// numbers put back are sent); Resubmit marks failed, refused or cancelled
// numbers to be sent again once their cause is fixed, but only those
// Twilio can no longer host from an earlier request: it lists each
// number's orders at Twilio first, and holds back (ResubmitResult.Held)
// any number with a live order (HoldCancelFirst while it is received,
// HoldWait otherwise) or whose request is not processed or in doubt.
//
// Each step reads the batch it acts on from the store and saves it over
// the version it read (Store.SaveBatch is a compare-and-set), so nothing
// of the migration is held in memory between steps. Several workers
// share one migration in a store with claims (ClaimStore, such as
// package pgstore): each Migrator, named by Options.Worker, claims a
// batch before it checks, sends, looks at or refreshes it, renews the
// claim while it works, saves only under it, and moves on from a batch
// another worker holds; a create always ends within its claim
// (Options.ClaimTTL). Progress is told through Options.OnEvent, in typed
// Events.
//
// The default store, package logstore, is one local file: an append-only
// log with compaction, no setup, no dependency.
package migrate

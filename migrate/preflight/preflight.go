package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// API is the part of hostednumbers.EligibilityAPI that Run needs: create a
// bulk check and fetch it (Run waits with
// hostednumbers.WaitForBulkEligibility over FetchBulk). client.Eligibility
// and every hostednumbers.EligibilityAPI implement it.
type API interface {
	// CreateBulk starts a bulk eligibility check.
	CreateBulk(ctx context.Context, params *hostednumbers.EligibilityParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkEligibility, error)
	// FetchBulk returns the current state of a bulk eligibility check.
	FetchBulk(ctx context.Context, requestID string, opts ...hostednumbers.CallOption) (*hostednumbers.BulkEligibility, error)
}

var (
	_ API = hostednumbers.EligibilityAPI(nil)
	_ API = (*hostednumbers.EligibilityService)(nil)
)

// Number is one phone number to check.
type Number struct {
	// PhoneNumber is required, in E.164 form (+14155550101).
	PhoneNumber string
	// HostingAccountSID (AC…) is the account the number would be hosted
	// on; optional (the API then assumes the authenticated account).
	HostingAccountSID string
}

// Defaults of Options.
const (
	// DefaultCreateAttempts is how many times Run tries to create one
	// chunk's bulk check before it gives up, unless Options says otherwise.
	DefaultCreateAttempts = 3
	// DefaultRetryDelay is the wait between two attempts to create the
	// same chunk's bulk check, unless Options says otherwise.
	DefaultRetryDelay = time.Second
)

// Options tune Run. The zero value uses the defaults.
type Options struct {
	// ChunkSize is the most numbers one bulk check lists: 0 means
	// hostednumbers.MaxEligibilityNumbers (1000), which is also the most
	// allowed; negative is an error.
	ChunkSize int
	// FriendlyName labels every bulk check Run creates; optional.
	FriendlyName string
	// Wait is passed to hostednumbers.WaitForBulkEligibility for every
	// check (poll interval, backoff, error limit); nil uses the SDK's
	// defaults. Its OnSnapshot, if set, is still called, before OnEvent
	// sees EventPolled.
	Wait *hostednumbers.EligibilityWaitOptions
	// CreateAttempts is how many times, at most, Run creates one chunk's
	// bulk check in one run when the create fails in a way that trying
	// again may fix (see Run): 0 means DefaultCreateAttempts, 1 means no
	// second attempt; negative is an error.
	CreateAttempts int
	// RetryDelay is the wait before creating a chunk's check again: 0
	// means DefaultRetryDelay; negative is an error.
	RetryDelay time.Duration
	// OnEvent, if set, is told of Run's progress, on the goroutine that
	// called Run. It must not call Run with the same Store.
	OnEvent func(Event)
}

// EventKind says what an Event reports.
type EventKind string

// The kinds of Event, in the order a check goes through them.
const (
	// EventResuming: Run waits for a check recorded by an earlier Run
	// (RequestID, Numbers) instead of creating it again.
	EventResuming EventKind = "resuming"
	// EventCreated: a chunk's check was created and recorded (Chunk of
	// Chunks, RequestID, Numbers, Attempt).
	EventCreated EventKind = "created"
	// EventCreateFailed: a create failed (Chunk of Chunks, Numbers,
	// Attempt, Err). Retry says whether Run creates it again now;
	// OutcomeUnknown whether an orphan check may exist.
	EventCreateFailed EventKind = "create_failed"
	// EventPolled: a fetch while waiting for a check (RequestID,
	// BulkStatus).
	EventPolled EventKind = "polled"
	// EventFinished: a check finished and its results were recorded
	// (RequestID, Numbers, Eligible, Ineligible, Unknown, NotAnswered).
	EventFinished EventKind = "finished"
	// EventForgotten: the API no longer knows a recorded check (404); it
	// was dropped from the store and its numbers count as not checked
	// (RequestID, Numbers, Err).
	EventForgotten EventKind = "forgotten"
)

// Event is one step of Run's progress. Which fields are set depends on
// Kind (see the EventKind constants).
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// RequestID is the bulk check (EC…) the event is about.
	RequestID string
	// Chunk (1-based) and Chunks number the checks this Run creates.
	Chunk, Chunks int
	// Numbers is how many numbers the check lists.
	Numbers int
	// Attempt (1-based) counts the creates of one chunk.
	Attempt int
	// Retry: the failed create will be tried again in this Run.
	Retry bool
	// OutcomeUnknown: the failed create may have made a check (an orphan
	// nobody follows; harmless).
	OutcomeUnknown bool
	// BulkStatus is the check's status as last fetched.
	BulkStatus hostednumbers.BulkEligibilityStatus
	// The counts of a finished check: NotAnswered numbers were listed but
	// the check gave no result for them.
	Eligible, Ineligible, Unknown, NotAnswered int
	// Err is the error of a failed create or of a forgotten check.
	Err error
}

// Run checks, with bulk eligibility checks, every number that has no
// recorded result in store, and returns the eligibility of every number
// given, in order. It proceeds in three steps, recording each in store:
//
//  1. It waits for every check store lists as pending (recorded by an
//     earlier Run that did not see it finish) that holds one of the
//     numbers given, and records its results: a check whose request ID
//     was recorded is never created again. Checks of other numbers are
//     left to the Run that checks them, so that Runs of different numbers
//     may share one store at once. A pending check the API answers 404
//     for is dropped (recorded with no results): its numbers count as not
//     checked.
//  2. It splits the numbers that still have no recorded result into
//     chunks of Options.ChunkSize and creates one bulk check per chunk,
//     recording each check's request ID before anything waits for it.
//  3. It waits for each check created (hostednumbers.WaitForBulkEligibility
//     with Options.Wait) and records its results.
//
// A create that fails is tried again, up to Options.CreateAttempts in all,
// RetryDelay apart, whether its error matches hostednumbers.ErrNotApplied
// (no check exists) or hostednumbers.ErrOutcomeUnknown (a check may exist
// whose ID was lost; such a check is an orphan, harmless, counted in
// Result.LostCreates; an error that matches neither, which the SDK never
// returns but a mock may, counts as such too); not when trying again
// cannot help: invalid input, a 4xx answer other than 429, or ctx ended. Once a create has failed for
// good, Run creates no further chunk, still waits for the checks it did
// create, and returns the create's error. A later Run creates that chunk
// again.
//
// Numbers must be valid (E.164, listed once, HostingAccountSID AC… when
// set): otherwise, and for bad Options, Run returns a
// *hostednumbers.ValidationError naming each field (numbers[3].phone_number)
// and a zero Result, before it reads store or calls api. A number is known
// by its phone number alone: a result recorded for it counts whatever its
// HostingAccountSID.
//
// On any other error, Run still returns a Result listing every number:
// those without a recorded result as StatusNotChecked. Everything recorded
// stays recorded; run again with the same store to finish the check
// (checks pending in it are waited for, not created again). When ctx ends
// while Run waits, the check stays recorded as pending.
func Run(ctx context.Context, api API, store Store, numbers []Number, opts Options) (Result, error) {
	if err := validate(api, store, numbers, &opts); err != nil {
		return Result{}, fmt.Errorf("preflight: %w", err)
	}
	r := &runner{api: api, store: store, opts: opts, known: make(map[string]NumberResult)}
	err := r.run(ctx, numbers)
	res := r.res
	res.Numbers = make([]NumberResult, len(numbers))
	for i, n := range numbers {
		if got, ok := r.known[n.PhoneNumber]; ok {
			res.Numbers[i] = got
		} else {
			res.Numbers[i] = NumberResult{PhoneNumber: n.PhoneNumber, Status: StatusNotChecked}
		}
	}
	return res, err
}

func validate(api API, store Store, numbers []Number, opts *Options) error {
	var problems []hostednumbers.FieldError
	add := func(field, msg string) {
		problems = append(problems, hostednumbers.FieldError{Field: field, Message: msg})
	}
	if api == nil {
		add("api", "is nil")
	}
	if store == nil {
		add("store", "is nil")
	}
	switch {
	case opts.ChunkSize < 0:
		add("opts.ChunkSize", fmt.Sprintf("is %d; want 0 (the default) to %d", opts.ChunkSize, hostednumbers.MaxEligibilityNumbers))
	case opts.ChunkSize > hostednumbers.MaxEligibilityNumbers:
		add("opts.ChunkSize", fmt.Sprintf("is %d; a bulk check lists at most %d numbers", opts.ChunkSize, hostednumbers.MaxEligibilityNumbers))
	case opts.ChunkSize == 0:
		opts.ChunkSize = hostednumbers.MaxEligibilityNumbers
	}
	switch {
	case opts.CreateAttempts < 0:
		add("opts.CreateAttempts", fmt.Sprintf("is %d; want 0 (the default) or more", opts.CreateAttempts))
	case opts.CreateAttempts == 0:
		opts.CreateAttempts = DefaultCreateAttempts
	}
	switch {
	case opts.RetryDelay < 0:
		add("opts.RetryDelay", fmt.Sprintf("is %v; want 0 (the default) or more", opts.RetryDelay))
	case opts.RetryDelay == 0:
		opts.RetryDelay = DefaultRetryDelay
	}
	if !utf8.ValidString(opts.FriendlyName) {
		add("opts.FriendlyName", "is not valid UTF-8")
	}
	first := make(map[string]int, len(numbers))
	for i, n := range numbers {
		at := "numbers[" + strconv.Itoa(i) + "]"
		switch {
		case n.PhoneNumber == "":
			add(at+".phone_number", "is required")
		case !format.E164(n.PhoneNumber):
			add(at+".phone_number", fmt.Sprintf("%.40q is not an E.164 phone number (+ and 1 to 15 digits, the first not 0)", n.PhoneNumber))
		default:
			if j, dup := first[n.PhoneNumber]; dup {
				add(at+".phone_number", fmt.Sprintf("%s is listed twice; first at numbers[%d]", n.PhoneNumber, j))
			} else {
				first[n.PhoneNumber] = i
			}
		}
		if n.HostingAccountSID != "" && !format.SID(n.HostingAccountSID, "AC") {
			add(at+".hosting_account_sid", fmt.Sprintf("%.40q is not a SID (AC and 32 hex digits)", n.HostingAccountSID))
		}
	}
	if len(problems) > 0 {
		return &hostednumbers.ValidationError{Problems: problems}
	}
	return nil
}

// runner is the state of one Run.
type runner struct {
	api   API
	store Store
	opts  Options
	// known holds every result recorded, read from the store or recorded
	// by this Run, by phone number.
	known map[string]NumberResult
	res   Result
}

func (r *runner) emit(e Event) {
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(e)
	}
}

func (r *runner) run(ctx context.Context, numbers []Number) error {
	phones := make([]string, len(numbers))
	for i, n := range numbers {
		phones[i] = n.PhoneNumber
	}
	known, err := r.store.Results(ctx, phones)
	if err != nil {
		return fmt.Errorf("preflight: read recorded results: %w", err)
	}
	for p, res := range known {
		r.known[p] = res
	}

	pending, err := r.store.PendingChecks(ctx)
	if err != nil {
		return fmt.Errorf("preflight: read pending checks: %w", err)
	}
	given := make(map[string]bool, len(phones))
	for _, p := range phones {
		given[p] = true
	}
	for _, c := range pending {
		if !slices.ContainsFunc(c.PhoneNumbers, func(p string) bool { return given[p] }) {
			continue // another Run's: it records its own results
		}
		r.res.Resumed++
		r.emit(Event{Kind: EventResuming, RequestID: c.RequestID, Numbers: len(c.PhoneNumbers)})
		if err := r.finish(ctx, c); err != nil {
			return err
		}
	}

	var todo []Number
	for _, n := range numbers {
		if _, ok := r.known[n.PhoneNumber]; !ok {
			todo = append(todo, n)
		}
	}
	var chunks [][]Number
	for len(todo) > 0 {
		n := min(r.opts.ChunkSize, len(todo))
		chunks = append(chunks, todo[:n])
		todo = todo[n:]
	}
	var created []Check
	var createErr error
	for i, chunk := range chunks {
		c, err := r.create(ctx, i+1, len(chunks), chunk)
		if err != nil {
			createErr = err
			break
		}
		created = append(created, c)
	}
	for _, c := range created {
		if err := r.finish(ctx, c); err != nil {
			return errors.Join(err, createErr)
		}
	}
	return createErr
}

// create creates the bulk check of one chunk and records it, trying again
// as Run documents.
func (r *runner) create(ctx context.Context, chunk, chunks int, numbers []Number) (Check, error) {
	params := &hostednumbers.EligibilityParams{
		FriendlyName: r.opts.FriendlyName,
		PhoneNumbers: make([]hostednumbers.EligibilityNumber, len(numbers)),
	}
	phones := make([]string, len(numbers))
	for i, n := range numbers {
		params.PhoneNumbers[i] = hostednumbers.EligibilityNumber{PhoneNumber: n.PhoneNumber, HostingAccountSID: n.HostingAccountSID}
		phones[i] = n.PhoneNumber
	}
	var timer *time.Timer
	for attempt := 1; ; attempt++ {
		b, err := r.api.CreateBulk(ctx, params)
		if err == nil && (b == nil || !format.SID(b.RequestID, "EC")) {
			// A success without a usable request ID: a check may exist,
			// but it cannot be followed.
			err = fmt.Errorf("the answer has no bulk check request ID (EC and 32 hex digits): %w", hostednumbers.ErrOutcomeUnknown)
		}
		if err == nil {
			c := Check{RequestID: b.RequestID, PhoneNumbers: phones}
			if err := r.store.RecordCheck(ctx, c); err != nil {
				return Check{}, fmt.Errorf("preflight: record bulk check %s of chunk %d of %d (left an orphan check, harmless; a later Run checks these numbers again): %w", c.RequestID, chunk, chunks, err)
			}
			r.res.Created++
			r.emit(Event{Kind: EventCreated, RequestID: c.RequestID, Chunk: chunk, Chunks: chunks, Numbers: len(phones), Attempt: attempt})
			return c, nil
		}
		unknown := !errors.Is(err, hostednumbers.ErrNotApplied)
		if unknown {
			r.res.LostCreates++
		}
		retry := attempt < r.opts.CreateAttempts && retryable(ctx, err)
		r.emit(Event{Kind: EventCreateFailed, Chunk: chunk, Chunks: chunks, Numbers: len(phones), Attempt: attempt, Retry: retry, OutcomeUnknown: unknown, Err: err})
		if !retry {
			return Check{}, fmt.Errorf("preflight: create bulk check of chunk %d of %d (%d numbers), attempt %d: %w", chunk, chunks, len(phones), attempt, err)
		}
		if timer == nil {
			timer = time.NewTimer(r.opts.RetryDelay)
			defer timer.Stop()
		} else {
			timer.Reset(r.opts.RetryDelay)
		}
		select {
		case <-ctx.Done():
			return Check{}, fmt.Errorf("preflight: create bulk check of chunk %d of %d: %w (after: %w)", chunk, chunks, ctx.Err(), err)
		case <-timer.C:
		}
	}
}

// retryable reports whether creating a check again may succeed where err
// failed: not once ctx has ended, nor for input the API or the SDK
// refused.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, hostednumbers.ErrInvalidInput) {
		return false
	}
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus >= 400 && apiErr.HTTPStatus < 500 && apiErr.HTTPStatus != http.StatusTooManyRequests {
		return false
	}
	return true
}

// finish waits for the pending check c and records its results; a check
// the API does not know is dropped.
func (r *runner) finish(ctx context.Context, c Check) error {
	var wo hostednumbers.EligibilityWaitOptions
	if r.opts.Wait != nil {
		wo = *r.opts.Wait
	}
	userSnapshot := wo.OnSnapshot
	wo.OnSnapshot = func(b *hostednumbers.BulkEligibility) {
		if userSnapshot != nil {
			userSnapshot(b)
		}
		r.emit(Event{Kind: EventPolled, RequestID: c.RequestID, Numbers: len(c.PhoneNumbers), BulkStatus: b.Status})
	}
	b, err := hostednumbers.WaitForBulkEligibility(ctx, r.api, c.RequestID, &wo)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, hostednumbers.ErrNotFound) {
			if rerr := r.store.RecordResults(ctx, c.RequestID, nil); rerr != nil {
				return fmt.Errorf("preflight: drop bulk check %s, unknown to the API: %w", c.RequestID, rerr)
			}
			r.res.Forgotten++
			r.emit(Event{Kind: EventForgotten, RequestID: c.RequestID, Numbers: len(c.PhoneNumbers), Err: err})
			return nil
		}
		return fmt.Errorf("preflight: wait for bulk check %s (%d numbers; it stays recorded: a later Run waits for it): %w", c.RequestID, len(c.PhoneNumbers), err)
	}
	results := match(c, b)
	if err := r.store.RecordResults(ctx, c.RequestID, results); err != nil {
		return fmt.Errorf("preflight: record results of bulk check %s: %w", c.RequestID, err)
	}
	e := Event{Kind: EventFinished, RequestID: c.RequestID, Numbers: len(c.PhoneNumbers), BulkStatus: b.Status,
		NotAnswered: len(c.PhoneNumbers) - len(results)}
	for _, res := range results {
		r.known[res.PhoneNumber] = res
		switch res.Status {
		case StatusEligible:
			e.Eligible++
		case StatusIneligible:
			e.Ineligible++
		default:
			e.Unknown++
		}
	}
	r.emit(e)
	return nil
}

// match returns a result for each number of c that the finished check b
// answered for, in c's order. Results for numbers c does not list are
// ignored; of two results for one number, the first counts.
func match(c Check, b *hostednumbers.BulkEligibility) []NumberResult {
	answered := make(map[string]*hostednumbers.EligibilityResult, len(b.Results))
	for i := range b.Results {
		if _, dup := answered[b.Results[i].PhoneNumber]; !dup {
			answered[b.Results[i].PhoneNumber] = &b.Results[i]
		}
	}
	out := make([]NumberResult, 0, len(c.PhoneNumbers))
	for _, p := range c.PhoneNumbers {
		if a, ok := answered[p]; ok {
			out = append(out, resultOf(b.RequestID, a))
		}
	}
	return out
}

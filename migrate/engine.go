package migrate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// Defaults of Options.
const (
	// DefaultSettle is Options.Settle when it is 0: the SDK's processing
	// window.
	DefaultSettle = hostednumbers.DefaultProcessingWindow
	// DefaultConcurrency is the budget of requests in flight when
	// Options.Concurrency is 0: small, since Twilio's concurrency limit
	// is per account, shared with the account's other traffic, and not
	// published.
	DefaultConcurrency = 4
	// MaxConcurrency is the largest Options.Concurrency.
	MaxConcurrency = 64
	// checksAhead is how many batches per slot of the budget the
	// pipeline works on at once (their checks run ahead of the creates):
	// it bounds the numbers Submit holds in memory.
	checksAhead = 16
	// DefaultRateLimitWait is how long a rate-limited create waits before
	// it is tried again when Twilio gave no Retry-After.
	DefaultRateLimitWait = 30 * time.Second
	// maxRateLimitedRounds is how many times in a row a create may be
	// rate limited before Submit gives up.
	maxRateLimitedRounds = 5
)

// Steps a crash test may stop a migration at.
const (
	stepAfterSending = "after-sending" // "sending" is recorded, the create not sent
	stepAfterAnswer  = "after-answer"  // the create was answered, the answer not yet recorded
	stepMidWait      = "mid-wait"      // a refresh is recorded, the wait goes on
)

// OutcomeAcceptedUnread is the Outcome of a create Twilio accepted (a
// 2xx) whose answer could not be read: cut, garbled or over the size
// cap. Its batch is in doubt, but it is never sent again.
const OutcomeAcceptedUnread = "accepted, answer unreadable"

// Checker is a check run on a batch's numbers before they are submitted
// (an eligibility pre-flight, for example). It returns the numbers it
// refuses, each with the reason; those are recorded (status
// StatusCheckFailed, with the reason as their failure reason) and not
// sent, and the others are. An error stops Submit; nothing of the batch is
// sent. Submit calls Check for one batch at a time (while other batches
// are sent and looked at) unless the Checker is a ConcurrentChecker.
type Checker interface {
	Check(ctx context.Context, batch int, numbers []hostednumbers.Number) (refused map[string]string, err error)
}

// ConcurrentChecker is a Checker whose Check is safe to call for several
// batches at once: Submit then runs the checks of upcoming batches ahead,
// many in flight, so that a long check (Twilio's bulk eligibility checks
// take minutes) is waited for once rather than once per batch.
type ConcurrentChecker interface {
	Checker
	// CheckConcurrently reports whether Check may be called for several
	// batches at once.
	CheckConcurrently() bool
}

// StatusCheckFailed is the report status of a number a Checker refused.
const StatusCheckFailed = "check-failed"

// API is the part of Twilio's API the engine uses: the services of a
// *hostednumbers.Client (see ClientAPI), or mocks of their interfaces.
type API struct {
	BulkHostedNumberOrders hostednumbers.BulkHostedNumberOrdersAPI
	HostedNumberOrders     hostednumbers.HostedNumberOrdersAPI
	AuthorizationDocuments hostednumbers.AuthorizationDocumentsAPI
	// Limits are the limits the creates are sent with: how long one may
	// take bounds when a create left in flight by a run that died can
	// have reached Twilio. The zero value means
	// hostednumbers.DefaultCallLimits.
	Limits hostednumbers.CallLimits
}

// ClientAPI is the API of a client: its services and its call limits.
func ClientAPI(c *hostednumbers.Client) API {
	return API{BulkHostedNumberOrders: c.BulkHostedNumberOrders, HostedNumberOrders: c.HostedNumberOrders,
		AuthorizationDocuments: c.AuthorizationDocuments, Limits: c.CallLimits()}
}

// Exclusive is a Store that proves no earlier run still uses the
// migration: ExclusiveSince is when this process took it for itself (a
// lock no other process can hold at the same time), so every earlier run
// had ended by then, and a create it left in flight cannot have reached
// Twilio later. A store that cannot prove it does not implement it; the
// engine then bounds such a create by its send time and the longest the
// client may take over it (API.Limits).
type Exclusive interface {
	ExclusiveSince() time.Time
}

// Options configure a Migrator.
type Options struct {
	// Client talks to Twilio. Its three services are required.
	Client API
	// Store keeps the migration, which Start has recorded. Required.
	Store Store
	// Settle is how long after a create in doubt may have reached Twilio
	// its orders may still appear (Reconcile's processing window); 0 means
	// DefaultSettle. A batch's create records the Settle it was sent
	// with, which later looks use.
	Settle time.Duration
	// Wait makes Submit wait for every batch in doubt to be settled (and
	// for rate limits); without it Submit returns with them in doubt.
	Wait bool
	// Poll is the first interval between refreshes in Follow; it doubles
	// up to MaxPoll. 0 means hostednumbers.DefaultPollInterval; MaxPoll 0
	// means hostednumbers.DefaultMaxPollInterval.
	Poll, MaxPoll time.Duration
	// Concurrency is the budget of requests to Twilio in flight at once,
	// shared by every step of Submit and Follow (creates, looks at
	// batches in doubt, refreshes); 0 means DefaultConcurrency. Submit
	// works on up to 16 batches per slot at once: their checks run
	// ahead, and each batch's create goes out as soon as its check is
	// done; with 1 it works on one batch at a time, in order. The
	// Checker's own requests are its own.
	Concurrency int
	// Check, if set, runs on each batch's numbers before they are sent.
	Check Checker
	// Worker names this worker in its claims, when Store is a
	// ClaimStore: "" means a name of its own for each Migrator (the
	// host, the process and a random suffix). At most MaxWorkerName
	// characters, valid UTF-8, no NUL. Migrator.Options returns the name
	// in use: a Migrator made from another's options is the same worker
	// (claims stay exclusive whatever the names, but a refresh pass
	// leaves only other workers' batches to them).
	//
	// When Store is a ClaimStore (and not Exclusive), the engine works
	// on a batch only under a claim: Submit, Refresh and Follow claim
	// each batch before they check, send, look at or refresh it, renew
	// the claim while they work, save it only under the claim
	// (SaveClaimed), and release it when the step is done. A batch
	// another worker holds, a claim lost, a conflict: the worker moves
	// on to other work, and the run goes on. So several Migrators, in
	// one process or on several machines, share one migration. An
	// Exclusive store (the file store) proves a single owner already:
	// the engine takes no claims on it (a claim would cost a synced
	// write per step, for nothing), and one Migrator at a time works on
	// it.
	Worker string
	// ClaimTTL is how long a claim lasts unless renewed; 0 means
	// DefaultClaimTTL (or longer, if the client's limits need it). A
	// worker renews every third of it; a worker that dies holds its
	// batches this long. A create starts only when four fifths of a
	// fresh claim are left and cover every attempt the client may make
	// (API.Limits), and it runs with a deadline within the claim (taken
	// by this machine's clock before the claim was renewed, less a
	// tenth): a create is never in flight after its claim could have
	// expired. A ClaimTTL too short for the client's limits is refused.
	ClaimTTL time.Duration
	// Clock is the time the migration runs on: every time it records
	// and every wait (settle windows, confirm gaps, rate limits, polls).
	// nil means the system clock.
	Clock Clock
	// OnEvent, if set, is told of every step, one at a time (never two
	// calls at once), as the steps happen; batches worked on together
	// interleave their events.
	OnEvent func(Event)

	// checkpoint, if set, is called at each step a test may stop a run
	// at (export_test.go sets it).
	checkpoint func(step string)
}

// EventKind says what an Event is about.
type EventKind string

// The events of a migration.
const (
	EventSending     EventKind = "sending"      // a create is recorded as sending and goes out: Numbers
	EventSubmitted   EventKind = "submitted"    // a create was accepted: BulkHostingSID
	EventRejected    EventKind = "rejected"     // Twilio refused a create: nothing made
	EventInDoubt     EventKind = "in-doubt"     // a create's outcome is unknown
	EventLooking     EventKind = "looking"      // the first look at a batch in doubt starts
	EventPending     EventKind = "pending"      // a look found no verdict yet: At is the next
	EventSettled     EventKind = "settled"      // a look settled a doubt
	EventWaiting     EventKind = "waiting"      // waiting until At to look again
	EventRateLimited EventKind = "rate-limited" // Twilio's rate limit: trying again at At
	EventChecked     EventKind = "checked"      // the Checker refused some numbers
	EventWarning     EventKind = "warning"      // something odd, worth a person's eye
	EventRefreshed   EventKind = "refreshed"    // a refresh ended: Counts
)

// Event is one step of a migration, for progress displays and logs. Its
// typed fields say what happened; Message says it in one line, for
// people who read a log.
type Event struct {
	Kind           EventKind
	Batch          int // 0 when about the whole migration
	BulkHostingSID string
	// State is the batch's state when the step began (looking: sending
	// for a create left in flight by an earlier run, outcome_unknown for
	// one sent without a readable answer).
	State BatchState
	// Numbers is how many numbers the step was about: sent, refused by
	// the check, looked for.
	Numbers int
	// Found and Missing are how many numbers a look found with an order
	// and without one (pending, settled).
	Found, Missing int
	// Accepted is set on the events of a create Twilio accepted whose
	// answer could not be read (in-doubt, pending): it is never sent
	// again.
	Accepted bool
	// PhoneNumber and HostingOrderSID name one number and its order (a
	// warning, a number held back from a resubmission).
	PhoneNumber, HostingOrderSID string
	// Settle is the processing window the batches in doubt are waited
	// for with (waiting).
	Settle time.Duration
	// Message says what happened in one line, for people.
	Message string
	// At is when the migration will look again or try again.
	At time.Time
	// Err is the error behind a rejection or doubt.
	Err error
	// Counts is the number of numbers in each report status (refreshed).
	Counts map[string]int
	// Settled is set on a refresh after which following can change no
	// number any more (refreshed).
	Settled bool
}

// StepError is a step that failed and stopped the migration; What says
// which ("submitting batch 2").
type StepError struct {
	What  string
	Batch int
	Err   error
}

func (e *StepError) Error() string { return e.What + ": " + e.Err.Error() }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// Migrator runs a migration recorded in a Store. It keeps nothing of the
// migration in memory between steps: each step reads the batch it acts
// on from the store and saves it over the version it read.
type Migrator struct {
	o Options
	// given are the options as New was given them (defaults filled
	// in); o's Client, OnEvent and checkpoint are wrapped: the client's
	// calls are held within the budget, events and checkpoints are
	// serialised.
	given Options
	// budget holds the requests in flight, and the creates after a rate
	// limit.
	budget *budget
	// cs is the Store as a ClaimStore when the engine works under
	// claims, nil otherwise.
	cs ClaimStore
}

// New returns a Migrator, or a *hostednumbers.ValidationError naming the
// options that are missing or out of range.
func New(o Options) (*Migrator, error) {
	var problems []hostednumbers.FieldError
	bad := func(field, msg string) {
		problems = append(problems, hostednumbers.FieldError{Field: field, Message: msg})
	}
	if o.Client.BulkHostedNumberOrders == nil || o.Client.HostedNumberOrders == nil || o.Client.AuthorizationDocuments == nil {
		bad("client", "is required: its bulk hosted number orders, hosted number orders and authorization documents")
	}
	if o.Store == nil {
		bad("store", "is required")
	}
	if o.Settle < 0 {
		bad("settle", "must not be negative (0 means the default)")
	}
	if l := o.Client.Limits; l.MaxRetries < 0 || l.AttemptTimeout < 0 || l.MaxRetryWait < 0 || l.MaxRetryAfter < 0 {
		bad("client.limits", "must not be negative")
	}
	if o.Poll < 0 || o.MaxPoll < 0 {
		bad("poll", "must not be negative (0 means the default)")
	}
	if o.Concurrency < 0 || o.Concurrency > MaxConcurrency {
		bad("concurrency", fmt.Sprintf("must be from 0 (the default) to %d", MaxConcurrency))
	}
	limits := o.Client.Limits
	if limits == (hostednumbers.CallLimits{}) {
		limits = hostednumbers.DefaultCallLimits
	}
	problems = append(problems, checkClaimOptions(&o, limits)...)
	if len(problems) > 0 {
		return nil, &hostednumbers.ValidationError{Problems: problems}
	}
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.Client.Limits == (hostednumbers.CallLimits{}) {
		o.Client.Limits = hostednumbers.DefaultCallLimits
	}
	if o.Poll == 0 {
		o.Poll = hostednumbers.DefaultPollInterval
	}
	if o.MaxPoll == 0 {
		o.MaxPoll = hostednumbers.DefaultMaxPollInterval
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.checkpoint == nil {
		o.checkpoint = func(string) {}
	}
	if o.OnEvent == nil {
		o.OnEvent = func(Event) {}
	}
	m := &Migrator{o: o, given: o}
	if _, exclusive := o.Store.(Exclusive); !exclusive {
		m.cs, _ = o.Store.(ClaimStore)
	}
	m.budget = newBudget(o.Concurrency, o.Clock)
	m.o.Client = limited(o.Client, m.budget)
	var mu sync.Mutex
	onEvent, checkpoint := o.OnEvent, o.checkpoint
	m.o.OnEvent = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		onEvent(ev)
	}
	if c, ok := o.Check.(ConcurrentChecker); o.Check != nil && (!ok || !c.CheckConcurrently()) {
		m.o.Check = &oneCheckAtATime{c: o.Check}
	}
	m.o.checkpoint = func(step string) {
		mu.Lock()
		defer mu.Unlock()
		checkpoint(step)
	}
	return m, nil
}

// Batches returns a sequence that cuts numbers into batches of size, for
// Store.Start, and checks the plan as it goes: every number in E.164,
// none twice (in one batch or across batches), size from 1 to
// MaxBatchSize, at least one number. If anything is wrong, the sequence
// ends with a *PlanError naming each problem and its place, and a Store
// records nothing. Start checks the contact and each create too.
func Batches(numbers iter.Seq2[NumberState, error], size int) iter.Seq2[[]NumberState, error] {
	return planned(numbers, size, nil, false)
}

// toSend returns the numbers still to be sent: those Twilio is not known
// to hold, less the withdrawn and the refused by a check.
func toSend(numbers []NumberState) []NumberState {
	var out []NumberState
	for _, n := range numbers {
		if !n.HasOrder() && !n.Withdrawn && n.Status != StatusCheckFailed {
			out = append(out, n)
		}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sleepUntil waits until t by the migration's clock, or until ctx ends.
func (m *Migrator) sleepUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(m.o.Clock.Now())
	if d <= 0 {
		return ctx.Err()
	}
	return m.o.Clock.Sleep(ctx, d)
}

// save records b and changed, with b's counts brought up to date from
// numbers when they are given.
func (m *Migrator) save(ctx context.Context, b *Batch, numbers, changed []NumberState) error {
	if numbers != nil {
		b.Counts = countNumbers(b.State, numbers)
	}
	return m.saveBatch(ctx, b, changed)
}

// merge returns all with the numbers of changed put in place (by phone).
func merge(all, changed []NumberState) []NumberState {
	byPhone := make(map[string]int, len(changed))
	for i := range changed {
		byPhone[changed[i].PhoneNumber()] = i
	}
	out := make([]NumberState, len(all))
	for i := range all {
		if j, ok := byPhone[all[i].PhoneNumber()]; ok {
			out[i] = changed[j]
		} else {
			out[i] = all[i]
		}
	}
	return out
}

// create submits numbers of b, all of it or the ones a look found
// missing. "sending" is recorded before the request goes out and the
// outcome as soon as it is known.
func (m *Migrator) create(ctx context.Context, b *Batch, numbers []NumberState, res *SubmitResult) (retry time.Time, err error) {
	meta, err := m.o.Store.Meta(ctx)
	if err != nil {
		return time.Time{}, &StepError{What: "reading the migration", Err: err}
	}
	// Under a claim, the create runs with a deadline within it, and only
	// when enough of it is left for every attempt the client may make.
	createCtx := ctx
	var token int64
	if h := heldOf(ctx); h != nil {
		deadline, tok, err := h.forCreate(ctx, m.o.Client.Limits.Longest())
		if err != nil {
			return time.Time{}, &StepError{What: fmt.Sprintf("submitting batch %d", b.Index), Batch: b.Index, Err: err}
		}
		var cancel context.CancelFunc
		createCtx, cancel = context.WithDeadlineCause(ctx, deadline, errClaimExpired)
		defer cancel()
		token = tok
	}
	prev := *b
	b.State, b.Doubt = StateSending, nil
	b.Attempts = append(slices.Clip(b.Attempts), Attempt{Kind: "create", Started: m.o.Clock.Now().UTC(), Numbers: len(numbers),
		InFlight: Duration(m.o.Client.Limits.Longest()), Settle: Duration(m.o.Settle), Claim: token})
	if err := m.saveBatch(ctx, b, nil); err != nil {
		v := b.Version
		*b = prev
		b.Version = v
		return time.Time{}, &StepError{What: fmt.Sprintf("submitting batch %d", b.Index), Batch: b.Index, Err: fmt.Errorf("recording it as sending: %w; nothing was sent", err)}
	}
	m.o.OnEvent(Event{Kind: EventSending, Batch: b.Index, Numbers: len(numbers), State: StateSending,
		Message: fmt.Sprintf("batch %d: sending %d number%s", b.Index, len(numbers), plural(len(numbers)))})
	m.o.checkpoint(stepAfterSending)
	settings := make([]hostednumbers.Number, len(numbers))
	for i := range numbers {
		settings[i] = numbers[i].Number
	}
	order, cerr := m.o.Client.BulkHostedNumberOrders.Create(createCtx, meta.Contact.Params(settings))
	if cerr == nil && order == nil {
		cerr = fmt.Errorf("migrate: the client returned no bulk order and no error: %w", hostednumbers.ErrOutcomeUnknown)
	}
	m.o.checkpoint(stepAfterAnswer)
	a := &b.Attempts[len(b.Attempts)-1]
	a.Ended = m.o.Clock.Now().UTC()
	var changed []NumberState
	var ev Event
	stop := false
	switch {
	case cerr == nil:
		sid := order.BulkHostingSID
		a.Outcome, a.BulkHostingSID = "accepted", sid
		if order.LastResponse != nil {
			a.RequestID = order.LastResponse.RequestID
			a.ServerClockOffset = serverOffset(order.LastResponse, a.Ended)
		}
		b.BulkHostingSIDs = appendNew(b.BulkHostingSIDs, sid)
		for _, n := range numbers {
			n.BulkHostingSID, n.Resubmit = sid, false
			n.Status, n.FailureReason, n.NextStep, n.HostingOrderSID, n.SigningDocumentSID, n.LOAStatus = "", nil, nil, "", "", ""
			changed = append(changed, n)
		}
		b.State = StateAccepted
		res.Submitted++
		ev = Event{Kind: EventSubmitted, Batch: b.Index, BulkHostingSID: sid,
			Message: fmt.Sprintf("batch %d: submitted %d number%s as bulk hosting request %s (%s)", b.Index, len(numbers), plural(len(numbers)), sid, order.RequestStatus)}
	case errors.Is(cerr, hostednumbers.ErrNotApplied) && createCtx.Err() != nil:
		// Stopped before anything was sent.
		a.Outcome, a.Error = "not sent", cerr.Error()
		b.State, b.Doubt = prev.State, prev.Doubt
		stop = true
		if ctx.Err() == nil {
			// The claim's deadline came first: another worker takes it.
			cerr = fmt.Errorf("%w: %w", errClaimExpired, cerr)
		}
	case errors.Is(cerr, hostednumbers.ErrNotApplied):
		a.Outcome, a.Error, a.RequestID = "rejected", cerr.Error(), requestIDOf(cerr)
		a.Reason = rejection(cerr, numbers)
		b.State = StateRejected
		ev = Event{Kind: EventRejected, Batch: b.Index, Err: cerr, Message: rejectionMessage(b.Index, a.Reason)}
		switch {
		case errors.Is(cerr, hostednumbers.ErrRateLimited):
			rounds := 0
			for i := len(b.Attempts) - 1; i >= 0 && b.Attempts[i].Reason != nil && b.Attempts[i].Reason.RateLimited; i-- {
				rounds++
			}
			retry = a.Ended.Add(rateLimitWait(time.Duration(a.Reason.RetryAfter), rounds))
			if rounds >= maxRateLimitedRounds {
				stop, retry = true, time.Time{}
			} else {
				ev = Event{Kind: EventRateLimited, Batch: b.Index, Err: cerr, At: retry,
					Message: fmt.Sprintf("batch %d: Twilio's rate limit (HTTP 429): nothing was created; trying it again at %s, and no later batch is sent before (no create at all)", b.Index, retry.Local().Format(time.TimeOnly))}
			}
		case errors.Is(cerr, hostednumbers.ErrUnauthorized):
			stop = true
		default:
			res.Rejected = append(res.Rejected, b.Index)
		}
	default:
		a.Outcome, a.Error, a.RequestID = "outcome unknown", cerr.Error(), requestIDOf(cerr)
		b.State = StateUnknown
		var decodeErr *hostednumbers.DecodeError
		msg := fmt.Sprintf("batch %d may have reached Twilio and been processed all the same", b.Index)
		ev = Event{Kind: EventInDoubt, Batch: b.Index, Numbers: len(numbers), Err: cerr}
		if errors.As(cerr, &decodeErr) && decodeErr.Accepted() {
			// An acceptance: Twilio will process it. It is never sent
			// again; its orders are looked for until they appear.
			a.Outcome, ev.Accepted = OutcomeAcceptedUnread, true
			msg = fmt.Sprintf("Twilio ACCEPTED batch %d (HTTP %d), but its answer could not be read, so its BH… SID is unknown%s; it is never sent again: its orders are looked for until they appear", b.Index, decodeErr.HTTPStatus, requestIDHint(decodeErr.RequestID))
		}
		ev.Message = msg
		stop = ctx.Err() != nil // stopped by a signal or a deadline
	}
	var all []NumberState
	if len(changed) > 0 || b.State != StateSending {
		if all, err = m.o.Store.Numbers(ctx, b.Index); err != nil && ctx.Err() == nil {
			return time.Time{}, &StepError{What: fmt.Sprintf("reading batch %d", b.Index), Batch: b.Index, Err: err}
		}
	}
	saveCtx := context.WithoutCancel(ctx) // the outcome is recorded even when the run was stopped
	var numbersNow []NumberState
	if all != nil {
		numbersNow = merge(all, changed)
	}
	if serr := m.save(saveCtx, b, numbersNow, changed); serr != nil {
		what := fmt.Sprintf("recording the outcome of batch %d", b.Index)
		if cerr == nil {
			what = fmt.Sprintf("batch %d was accepted as %s, but recording it", b.Index, order.BulkHostingSID)
		}
		return time.Time{}, &StepError{What: what, Batch: b.Index, Err: serr}
	}
	if ev.Kind != "" {
		m.o.OnEvent(ev)
	}
	if stop {
		if cerr == nil {
			cerr = ctx.Err()
		}
		return time.Time{}, &StepError{What: fmt.Sprintf("submitting batch %d", b.Index), Batch: b.Index, Err: cerr}
	}
	return retry, nil
}

// rejection is what Twilio said about a refused create, with the numbers
// of the batch its message names.
func rejection(err error, numbers []NumberState) *Rejection {
	r := &Rejection{Message: err.Error()}
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) {
		r.HTTPStatus, r.Code, r.MoreInfo = apiErr.HTTPStatus, apiErr.Code, apiErr.MoreInfo
		r.Message = apiErr.Message
		if r.Message == "" {
			r.Message = apiErr.Body
		}
		r.RateLimited = apiErr.HTTPStatus == http.StatusTooManyRequests
		r.RetryAfter = Duration(apiErr.RetryAfter)
		text := apiErr.Message + " " + fmt.Sprint(apiErr.Details)
		for _, n := range numbers {
			if p := n.PhoneNumber(); containsNumber(text, p) {
				r.Numbers = append(r.Numbers, p)
			}
		}
	}
	return r
}

// containsNumber reports whether text names the phone number p, with or
// without its +.
func containsNumber(text, p string) bool {
	digits := p[1:]
	for i := 0; i+len(digits) <= len(text); i++ {
		if text[i:i+len(digits)] == digits && (i+len(digits) == len(text) || text[i+len(digits)] < '0' || text[i+len(digits)] > '9') &&
			(i == 0 || text[i-1] < '0' || text[i-1] > '9') {
			return true
		}
	}
	return false
}

func rejectionMessage(batch int, r *Rejection) string {
	msg := fmt.Sprintf("Twilio refused batch %d; no bulk hosting request was created, so the next run submits it again", batch)
	if r == nil {
		return msg
	}
	if r.Message != "" {
		msg += fmt.Sprintf(". Twilio's reason: %s", r.Message)
		if r.Code != 0 {
			msg += fmt.Sprintf(" (code %d)", r.Code)
		}
	}
	if len(r.Numbers) > 0 {
		msg += fmt.Sprintf("; it names %s: fix or remove %s in the input", joinShort(r.Numbers), map[bool]string{true: "it", false: "them"}[len(r.Numbers) == 1])
	}
	return msg
}

func joinShort(list []string) string {
	const show = 5
	if len(list) <= show {
		return fmt.Sprint(list)
	}
	return fmt.Sprint(list[:show]) + fmt.Sprintf(" and %d more", len(list)-show)
}

// serverOffset is Twilio's clock minus ours, from the Date header of an
// answer received at received (whole seconds, as the header has).
func serverOffset(r *hostednumbers.Response, received time.Time) *Duration {
	if r == nil || r.Header == nil {
		return nil
	}
	t, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return nil
	}
	d := Duration(t.Sub(received).Round(time.Second))
	return &d
}

// requestIDOf returns the Twilio-Request-Id an error carries, if any.
func requestIDOf(err error) string {
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) {
		return apiErr.RequestID
	}
	var decodeErr *hostednumbers.DecodeError
	if errors.As(err, &decodeErr) {
		return decodeErr.RequestID
	}
	return ""
}

func requestIDHint(id string) string {
	if id == "" {
		return ""
	}
	return " (quote Twilio-Request-Id " + id + " to Twilio support)"
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Options returns the options the Migrator runs with, defaults filled in,
// changed by edit if it is not nil: for a Migrator that differs in one
// setting.
func (m *Migrator) Options(edit func(*Options)) Options {
	o := m.given
	if edit != nil {
		edit(&o)
	}
	return o
}

// Resubmittable are the report statuses Resubmit accepts: numbers Twilio
// refused, failed or cancelled, those a Checker refused, and
// action-required ones (which Resubmit holds back while their order is
// live).
var Resubmittable = []string{string(hostednumbers.OrderStatusFailed), string(hostednumbers.OrderStatusActionRequired),
	StatusRejected, StatusCheckFailed, StatusCanceled}

// HoldAction is what a person does about a number Resubmit held back.
type HoldAction string

// The actions of a held number.
const (
	// HoldWait: wait. Its order is live and past received (only Twilio
	// support moves an action-required order on; ask them, or wait for
	// it to complete or fail), or a bulk request that may hold it is
	// still queued, in progress or in doubt.
	HoldWait HoldAction = "wait"
	// HoldCancelFirst: its live order is still received, which Twilio
	// lets its owner cancel (DELETE /v2/HostedNumber/Orders/{Sid}):
	// cancel it, then resubmit.
	HoldCancelFirst HoldAction = "cancel-first"
)

// Held is a number Resubmit did not mark, and why.
type Held struct {
	PhoneNumber string
	Batch       int
	// HostingOrderSID and OrderStatus are its live order at Twilio, if
	// that is the reason.
	HostingOrderSID, OrderStatus string
	// BulkHostingSID is the bulk request that may hold it and is not
	// processed yet, if that is the reason.
	BulkHostingSID string
	Action         HoldAction
}

// ResubmitResult is what Resubmit did.
type ResubmitResult struct {
	// Marked counts the numbers marked to be sent again.
	Marked int
	// Held are the numbers of the statuses asked for that Twilio may
	// still host from an earlier request: not marked.
	Held []Held
}

// Resubmit marks every number in one of statuses (see Resubmittable) to
// be sent again by the next Submit, once the cause is fixed, but only
// when Twilio can no longer host it from an earlier request: it lists
// the number's orders at Twilio, and marks it only if every one is
// failed (or gone: cancelled) and no bulk request of its batch is queued,
// in progress or in doubt. Others are held back (ResubmitResult.Held)
// with their order and what to do. Only completed and failed are final
// at Twilio. A marked number's order is forgotten (its batch keeps the
// request in BulkHostingSIDs, so a later doubt never takes that order
// for the new create's), and its batch is planned again. statuses it
// does not accept are a *hostednumbers.ValidationError.
func (m *Migrator) Resubmit(ctx context.Context, statuses ...string) (*ResubmitResult, error) {
	want := make(map[string]bool, len(statuses))
	var problems []hostednumbers.FieldError
	for _, s := range statuses {
		if !slices.Contains(Resubmittable, s) {
			problems = append(problems, hostednumbers.FieldError{Field: "statuses", Message: fmt.Sprintf("%q cannot be submitted again; the statuses that can are %v", s, Resubmittable)})
		}
		want[s] = true
	}
	if len(problems) > 0 || len(statuses) == 0 {
		if len(statuses) == 0 {
			problems = append(problems, hostednumbers.FieldError{Field: "statuses", Message: "name at least one status"})
		}
		return nil, &hostednumbers.ValidationError{Problems: problems}
	}
	meta, err := m.o.Store.Meta(ctx)
	if err != nil {
		return nil, err
	}
	res := &ResubmitResult{}
	processed := make(map[string]bool) // bulk requests known processed
	for i := 1; i <= meta.Batches; i++ {
		b, err := m.o.Store.Batch(ctx, i)
		if err != nil {
			return res, err
		}
		if !anyOf(batchCounts(&b), want) {
			continue
		}
		numbers, err := m.o.Store.Numbers(ctx, i)
		if err != nil {
			return res, err
		}
		var changed []NumberState
		for _, n := range numbers {
			if !want[NumberStatus(b.State, &n)] {
				continue
			}
			h, err := m.holdOf(ctx, &b, &n, processed)
			if err != nil {
				return res, fmt.Errorf("looking up %s at Twilio before sending it again: %w", n.PhoneNumber(), err)
			}
			if h != nil {
				res.Held = append(res.Held, *h)
				continue
			}
			n.Status, n.FailureReason, n.NextStep = "", nil, nil
			n.HostingOrderSID, n.BulkHostingSID, n.SigningDocumentSID, n.LOAStatus = "", "", "", ""
			n.Resubmit = true
			changed = append(changed, n)
		}
		if len(changed) == 0 {
			continue
		}
		b.State, b.Doubt = StatePlanned, nil
		if err := m.save(ctx, &b, merge(numbers, changed), changed); err != nil {
			return res, err
		}
		res.Marked += len(changed)
	}
	return res, nil
}

// holdOf says why n, of batch b, must not be sent again yet, or nil.
func (m *Migrator) holdOf(ctx context.Context, b *Batch, n *NumberState, processed map[string]bool) (*Held, error) {
	h := &Held{PhoneNumber: n.PhoneNumber(), Batch: b.Index, Action: HoldWait}
	if b.State.InDoubt() {
		return h, nil
	}
	for _, sid := range b.BulkHostingSIDs {
		if processed[sid] {
			continue
		}
		o, err := m.o.Client.BulkHostedNumberOrders.Fetch(ctx, sid, nil)
		if err != nil {
			return nil, err
		}
		if o.RequestStatus != hostednumbers.RequestStatusProcessed {
			h.BulkHostingSID = sid
			return h, nil
		}
		processed[sid] = true
	}
	want := phoneDigits(n.PhoneNumber())
	for o, err := range m.o.Client.HostedNumberOrders.All(ctx, &hostednumbers.ListHostedNumberOrdersParams{PhoneNumber: n.PhoneNumber()}) {
		if err != nil {
			return nil, err
		}
		if phoneDigits(o.PhoneNumber) != want || o.Status == hostednumbers.OrderStatusFailed {
			continue
		}
		h.HostingOrderSID, h.OrderStatus = o.SID, string(o.Status)
		if o.Status == hostednumbers.OrderStatusReceived {
			h.Action = HoldCancelFirst
		}
		return h, nil
	}
	return nil, nil
}

// phoneDigits is a phone number's digits, however it is spelt.
func phoneDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func anyOf(counts map[string]int, want map[string]bool) bool {
	for s, n := range counts {
		if n > 0 && want[s] {
			return true
		}
	}
	return false
}

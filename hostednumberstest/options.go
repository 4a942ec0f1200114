package hostednumberstest

import (
	"strings"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// Credentials the server accepts unless WithCredentials says otherwise, and
// that Server.Client authenticates with. They are fixed test values, not a
// real account.
const (
	// AccountSID is the test account: AC and 32 hex digits.
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	// AuthToken is the test account's auth token.
	AuthToken = "fedcba9876543210fedcba9876543210"
)

// Outcome is the final state of one phone number's hosted number order:
// where it ends once hosting is over (see WithHostingDuration), which is
// after its bulk order is PROCESSED unless it fails early.
type Outcome struct {
	// Status is the number's final hosted number order status. Empty means
	// hostednumbers.OrderStatusCompleted.
	Status hostednumbers.OrderStatus
	// FailureReason is rendered as failure_reason once the order is
	// failed or action-required; before, and for other statuses,
	// failure_reason is "" (null in a bulk order's results), as Twilio
	// sends it.
	FailureReason string
	// NextStep is rendered as next_step once the order is failed or
	// action-required; otherwise next_step is "" (null in a bulk order's
	// results).
	NextStep string
}

// Texts FailNumbersEndingIn gives the numbers it fails.
const (
	// DefaultFailureReason is the failure_reason of numbers failed by
	// FailNumbersEndingIn.
	DefaultFailureReason = "The phone number is not eligible for hosting"
	// DefaultNextStep is the next_step of numbers failed by
	// FailNumbersEndingIn.
	DefaultNextStep = "Check the number with the Hosted Number Eligibility API and submit it again once it is eligible"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	accountSID, authToken string
	// apiKeySID and apiKeySecret, if set, are an API key of the account
	// that the server accepts too.
	apiKeySID, apiKeySecret string
	// fetchDriven selects the model of WithImmediateProcessing: orders made
	// at the create, stages moved by fetches.
	fetchDriven     bool
	fetchesPerStage int
	// The asynchronous model: a bulk order is QUEUED for queued, then
	// IN_PROGRESS for inProgress (its orders and documents exist from the
	// start of it), then PROCESSED; its orders reach their Outcome hosting
	// after that. Lists show an order listLag after it was made.
	queued, inProgress, hosting, listLag time.Duration
	// abandoned is how long after its client left a create takes effect.
	abandoned time.Duration
	// clockOffset is how far the server's clock is ahead of the real one.
	clockOffset time.Duration
	// clock is the real clock (WithClock); nil means time.Now.
	clock        func() time.Time
	resubmission Resubmission
	outcome      func(phoneNumber string) Outcome
	pageSize     int
	// stageDuration is what WithStageDuration set: the bulk eligibility
	// checks' stage length too (0: DefaultEligibilityStageDuration).
	stageDuration time.Duration
	eligibility   func(phoneNumber string) EligibilityOutcome
}

// Defaults of the asynchronous model: realistic in shape (a request waits,
// is processed, and its numbers are hosted after it is PROCESSED), but
// fast enough for tests.
const (
	// DefaultQueuedFor is how long a bulk order stays QUEUED.
	DefaultQueuedFor = 50 * time.Millisecond
	// DefaultInProgressFor is how long a bulk order stays IN_PROGRESS.
	DefaultInProgressFor = 50 * time.Millisecond
	// DefaultHostingDuration is how long a hosted number order takes from
	// its bulk order being PROCESSED to its final Outcome.
	DefaultHostingDuration = 150 * time.Millisecond
	// DefaultListLag is how long after it was made an order or document
	// first shows in a list.
	DefaultListLag = 30 * time.Millisecond
	// DefaultAbandonedCreateDelay is how long after its client gave up a
	// create takes effect.
	DefaultAbandonedCreateDelay = 50 * time.Millisecond
)

func defaultConfig() config {
	return config{
		accountSID:      AccountSID,
		authToken:       AuthToken,
		fetchesPerStage: 1,
		queued:          DefaultQueuedFor,
		inProgress:      DefaultInProgressFor,
		hosting:         DefaultHostingDuration,
		listLag:         DefaultListLag,
		abandoned:       DefaultAbandonedCreateDelay,
		outcome:         allCompleted,
		pageSize:        DefaultPageSize,
	}
}

func allCompleted(string) Outcome { return Outcome{Status: hostednumbers.OrderStatusCompleted} }

// WithCredentials makes the server accept accountSID and authToken (and no
// longer AccountSID and AuthToken). Server.Client uses them too.
func WithCredentials(accountSID, authToken string) Option {
	return func(c *config) { c.accountSID, c.authToken = accountSID, authToken }
}

// WithAPIKey makes the server also accept the API key keySID (SK…) with
// its secret, for its account, as Twilio does: a client built with
// hostednumbers.WithAPIKey(keySID, keySecret, AccountSID) authenticates
// with the key, and what it creates still names the account (AC…) in
// account_sid. Server.Client keeps the account's own credentials.
func WithAPIKey(keySID, keySecret string) Option {
	return func(c *config) { c.apiKeySID, c.apiKeySecret = keySID, keySecret }
}

// WithFetchesPerStage selects the fetch-driven model of
// WithImmediateProcessing and makes an order move one stage on every n
// fetches instead of every fetch: with n = 3 the first two fetches return
// QUEUED, the next three IN_PROGRESS, and the sixth and later PROCESSED.
// Only fetches of the bulk order that the server processed count: not
// those answered by an injected Status or DropConnection fault (a
// ProcessThenDrop fault's fetch counts). Its hosted number orders move
// with it. n must be at least 1; NewServer panics otherwise.
func WithFetchesPerStage(n int) Option {
	return func(c *config) {
		immediate(c)
		c.fetchesPerStage = n
	}
}

// WithPageSize sets the page size of list answers whose request gives no
// PageSize (Twilio's is DefaultPageSize, 50); a small n, such as 2, makes
// tests cross pages with few orders. A request's own PageSize still wins.
// n must be from 1 to 1000; NewServer panics otherwise.
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = n }
}

// FastRetryOptions returns the client options Server.Client uses so that
// neither retries nor waits slow tests down: waits of 1 to 10ms between
// attempts instead of the SDK's default backoff (over two seconds for a
// GET that keeps failing with 503), and Wait and WaitBulk polling every
// 5ms, backing off to 20ms, when their options leave the intervals zero
// (nil options included), instead of every 2s. Add them to a client you
// build by hand, for example one whose transport is an httpmock mock:
//
//	opts := append(hostednumberstest.FastRetryOptions(), hostednumbers.WithHTTPClient(hc), …)
//	client, err := hostednumbers.NewClient(opts...)
func FastRetryOptions() []hostednumbers.Option {
	return []hostednumbers.Option{
		hostednumbers.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
		hostednumbers.WithWaitPollInterval(5*time.Millisecond, 20*time.Millisecond),
	}
}

// FastWaitOptions returns WaitOptions that poll the fake server every few
// milliseconds (5ms, backing off to 20ms) instead of every
// hostednumbers.DefaultPollInterval (2s). A client from Server.Client (or
// built with FastRetryOptions) polls that fast already with nil options;
// these are for WaitForBulkOrder over a fetcher that is not a client's,
// such as a mock or a wrapper, and for a client built without them. Each
// call returns a new value, free to change.
func FastWaitOptions() *hostednumbers.WaitOptions {
	return &hostednumbers.WaitOptions{PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond}
}

// WithStageDuration is WithProcessingDelay(d, d): an order is QUEUED
// for d after its creation, then IN_PROGRESS for d, then PROCESSED, with
// date_completed two d after date_created. Zero selects the fetch-driven
// model of WithImmediateProcessing; a negative d makes NewServer panic.
func WithStageDuration(d time.Duration) Option {
	return func(c *config) {
		c.stageDuration = d
		if d == 0 {
			immediate(c)
			return
		}
		c.fetchDriven = false
		c.queued, c.inProgress = d, d
	}
}

// WithProcessingDelay sets how long a bulk order stays QUEUED (queued)
// and then IN_PROGRESS (inProgress) before it is PROCESSED, on the
// server's own clock, whether or not anyone fetches it. Its hosted number
// orders and authorisation documents are made when processing starts,
// queued after the create. The defaults are DefaultQueuedFor and
// DefaultInProgressFor; negative durations make NewServer panic. It also
// leaves the fetch-driven model of WithImmediateProcessing.
func WithProcessingDelay(queued, inProgress time.Duration) Option {
	return func(c *config) {
		c.fetchDriven = false
		c.queued, c.inProgress = queued, inProgress
	}
}

// WithHostingDuration sets how long a hosted number order takes, after
// its bulk order is PROCESSED, to reach its final Outcome: PROCESSED only
// means that the orders were made, as with Twilio, where hosting takes
// days (LOA signature, carrier). The order is pending-loa from PROCESSED,
// carrier-processing from half of d when its Outcome is past the LOA, and
// in its Outcome from d on; an order whose Outcome is failed fails at
// PROCESSED. Zero puts every order in its Outcome at PROCESSED. The
// default is DefaultHostingDuration; a negative d makes NewServer panic.
func WithHostingDuration(d time.Duration) Option {
	return func(c *config) { c.hosting = d }
}

// WithListLag sets how long after it was made an order or document first
// shows in GET /v2/HostedNumber/Orders, the document list and a document's
// dependent orders; fetches by SID and bulk results show it at once. The
// default is DefaultListLag; zero lists orders as soon as they exist; a
// negative d makes NewServer panic.
func WithListLag(d time.Duration) Option {
	return func(c *config) { c.listLag = d }
}

// WithAbandonedCreateDelay sets when a create whose client has gone takes
// effect: a client that gives up (or whose connection drops) while a
// Latency fault holds its create does not stop the create, which Twilio
// processes all the same; the server makes the bulk order d after the
// client left (Request.CreatedSID names it at once), then processes it as
// usual. The default is DefaultAbandonedCreateDelay; a negative d makes
// NewServer panic.
func WithAbandonedCreateDelay(d time.Duration) Option {
	return func(c *config) { c.abandoned = d }
}

// WithImmediateProcessing selects the model of earlier versions, for
// tests that need every step to happen on their own request: a bulk create
// makes its hosted number orders and documents at once, the bulk order
// moves one stage per fetch (see WithFetchesPerStage), its orders are
// received while it is QUEUED, pending-loa while IN_PROGRESS and in their
// Outcome once it is PROCESSED, and lists show orders at once. Twilio
// never works like this: prefer the asynchronous default, waiting with a
// deadline, and say in a comment why a test needs immediacy.
func WithImmediateProcessing() Option { return immediate }

func immediate(c *config) {
	c.fetchDriven = true
	c.fetchesPerStage = 1
	c.listLag = 0
	c.hosting = 0
}

// WithClockOffset sets the server's clock d ahead of the real one (behind
// when d is negative): every date_* member and the HTTP Date header of
// every answer follow it, as Twilio's clock may differ from the client's.
func WithClockOffset(d time.Duration) Option {
	return func(c *config) { c.clockOffset = d }
}

// WithClock makes the server read the time from now instead of
// time.Now: the stages of its orders (WithProcessingDelay,
// WithHostingDuration), its list lag, the delay of abandoned creates,
// eligibility checks, every date_* member and the Date header all follow
// it (plus WithClockOffset). Give it the clock the code under test runs on
// (a test clock that jumps over waits, say) so that processing happens in
// that clock's time. The waits of Latency faults stay in real time. now
// must be safe for concurrent use; nil means time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// Resubmission is what the server does with a number submitted again
// while it already has a live hosted number order (one that is neither
// failed nor canceled). Twilio does not document it.
type Resubmission int

const (
	// ResubmissionFails is the default: it fails the new hosted number order at
	// PROCESSED, with a failure_reason naming the live order
	// (see AlreadyOrderedReason) and AlreadyOrderedNextStep.
	ResubmissionFails Resubmission = iota
	// ResubmissionDuplicates makes a second live hosted number order for
	// the number, as if the first did not exist.
	ResubmissionDuplicates
)

// AlreadyOrderedNextStep is the next_step of an order failed because its
// number already had a live order (ResubmissionFails).
const AlreadyOrderedNextStep = "Wait for the existing hosted number order to finish, or cancel it, before submitting the number again"

// AlreadyOrderedReason is the failure_reason of an order failed because
// its number already had the live order liveSID (ResubmissionFails).
func AlreadyOrderedReason(phoneNumber, liveSID string) string {
	return "The phone number " + phoneNumber + " already has a hosted number order in progress: " + liveSID
}

// WithResubmission sets what the server does with a number that already
// has a live hosted number order when it is processed again; the default
// is ResubmissionFails. Other values make NewServer panic.
func WithResubmission(r Resubmission) Option {
	return func(c *config) { c.resubmission = r }
}

// WithOutcome decides the final Outcome of every phone number. The server
// calls f once per number, when the order is created, never while holding
// its lock; f must be safe for concurrent use. nil restores the default:
// every number completed.
func WithOutcome(f func(phoneNumber string) Outcome) Option {
	return func(c *config) {
		if f == nil {
			f = allCompleted
		}
		c.outcome = f
	}
}

// FailNumbersEndingIn is an outcome script for WithOutcome: numbers ending
// in suffix end failed, with DefaultFailureReason and DefaultNextStep; all
// others end completed. An empty suffix fails every number.
func FailNumbersEndingIn(suffix string) func(phoneNumber string) Outcome {
	return func(phoneNumber string) Outcome {
		if strings.HasSuffix(phoneNumber, suffix) {
			return Outcome{
				Status:        hostednumbers.OrderStatusFailed,
				FailureReason: DefaultFailureReason,
				NextStep:      DefaultNextStep,
			}
		}
		return Outcome{Status: hostednumbers.OrderStatusCompleted}
	}
}

// WithEligibility decides the eligibility check answer for every phone
// number in E.164 form (one that is not is always INELIGIBLE,
// NUMBER_FORMAT_INELIGIBLE, as Twilio answers it) that has no hosted
// number order on the server: a number with one that is neither failed nor
// canceled is always INELIGIBLE, ALREADY_IN_TWILIO, naming the order
// (ExistingOrderReason, hosting_order_sid, hosting_order_status), as
// Twilio knows its own inventory. The server calls f once
// per number and check, when the check is made, never while holding its
// lock; f must be safe for concurrent use. nil restores the default: every
// number ELIGIBLE. IneligibleNumbersEndingIn is a ready script.
func WithEligibility(f func(phoneNumber string) EligibilityOutcome) Option {
	return func(c *config) { c.eligibility = f }
}

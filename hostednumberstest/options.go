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

// Outcome is the final state of one phone number once its bulk order is
// PROCESSED.
type Outcome struct {
	// Status is the number's final hosted number order status. Empty means
	// hostednumbers.OrderStatusCompleted.
	Status hostednumbers.OrderStatus
	// FailureReason is rendered as failure_reason when Status is failed or
	// action-required; otherwise failure_reason is null.
	FailureReason string
	// NextStep is rendered as next_step when Status is failed or
	// action-required; otherwise next_step is null.
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
	fetchesPerStage       int
	stageDuration         time.Duration
	outcome               func(phoneNumber string) Outcome
	pageSize              int
	eligibility           func(phoneNumber string) EligibilityOutcome
}

func defaultConfig() config {
	return config{
		accountSID:      AccountSID,
		authToken:       AuthToken,
		fetchesPerStage: 1,
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

// WithFetchesPerStage makes an order move one stage on every n fetches
// instead of every fetch: with n = 3 the first two fetches return QUEUED,
// the next three IN_PROGRESS, and the sixth and later PROCESSED. Only
// fetches of the bulk order that the server processed count: not those
// answered by an injected Status or DropConnection fault (a
// ProcessThenDrop fault's fetch counts). Its hosted number orders move
// with it. n must be at least 1;
// NewServer panics otherwise.
func WithFetchesPerStage(n int) Option {
	return func(c *config) { c.fetchesPerStage = n }
}

// WithPageSize sets the page size of list answers whose request gives no
// PageSize (Twilio's is DefaultPageSize, 50); a small n, such as 2, makes
// tests cross pages with few orders. A request's own PageSize still wins.
// n must be from 1 to 1000; NewServer panics otherwise.
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = n }
}

// FastRetryOptions returns the client options Server.Client uses so that
// retries do not slow tests down: waits of 1 to 10ms between attempts
// instead of the SDK's default backoff (over two seconds for a GET that
// keeps failing with 503). Add them to a client you build by hand, for
// example one whose transport is an httpmock mock:
//
//	opts := append(hostednumberstest.FastRetryOptions(), hostednumbers.WithHTTPClient(hc), …)
//	client, err := hostednumbers.NewClient(opts...)
func FastRetryOptions() []hostednumbers.Option {
	return []hostednumbers.Option{hostednumbers.WithRetryBackoff(time.Millisecond, 10*time.Millisecond)}
}

// WithStageDuration makes orders move on with time instead of fetches: an
// order is QUEUED for d after its creation, then IN_PROGRESS for d, then
// PROCESSED, with date_completed two d after date_created. Zero restores
// fetch counting; a negative d makes NewServer panic.
func WithStageDuration(d time.Duration) Option {
	return func(c *config) { c.stageDuration = d }
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
// NUMBER_FORMAT_INELIGIBLE, as Twilio answers it). The server calls f once
// per number and check, when the check is made, never while holding its
// lock; f must be safe for concurrent use. nil restores the default: every
// number ELIGIBLE. IneligibleNumbersEndingIn is a ready script.
func WithEligibility(f func(phoneNumber string) EligibilityOutcome) Option {
	return func(c *config) { c.eligibility = f }
}

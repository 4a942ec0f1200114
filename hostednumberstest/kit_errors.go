package hostednumberstest

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// Errors as the SDK returns them, for mocks of the service interfaces: a
// mocked Create that fails should fail exactly as the client's does, so
// that the code under test branches (errors.Is, errors.As,
// hostednumbers.OutcomeOf) as it will in production.

// OpCreateBulkOrder is the operation a bulk create's errors name:
// "hostednumbers: create bulk order: …". Other calls that change something
// name theirs the same way (CallInfo.Operation says it), with the SID
// they are about where the call has one ("cancel hosted number order
// HR…").
const OpCreateBulkOrder = "create bulk order"

// NewAPIError returns the *hostednumbers.APIError the SDK makes of an
// error answer with this HTTP status and the Twilio error document
// ErrorJSON(status, code, message) renders: Code, Message, Status, and
// MoreInfo, Twilio's page for the code (none when code is 0). Set
// RequestID, RetryAfter or Details on it as the answer would have them.
func NewAPIError(status, code int, message string) *hostednumbers.APIError {
	e := &hostednumbers.APIError{HTTPStatus: status, Code: code, Message: message, Status: status}
	if code != noCode {
		e.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)
	}
	return e
}

// NewDecodeError returns the *hostednumbers.DecodeError of a 2xx answer
// whose body could not be used; cause says why (nil: a body that was not
// JSON).
func NewDecodeError(status int, cause error) *hostednumbers.DecodeError {
	if cause == nil {
		cause = errors.New("invalid character in the body: not JSON")
	}
	return &hostednumbers.DecodeError{HTTPStatus: status, Err: cause}
}

// NotAppliedError returns cause as a call that changes something (op,
// such as OpCreateBulkOrder) returns it when there is evidence that Twilio
// has nothing from it: "hostednumbers: <op>: <cause>", matching
// hostednumbers.ErrNotApplied and, through errors.Is and errors.As, cause
// itself. Pass the *hostednumbers.APIError of a refusal (NewAPIError with
// a 4xx status), or a cause of your own (a connection refused).
// hostednumbers.OutcomeOf labels it hostednumbers.OutcomeNotApplied. A nil
// cause panics: a mistake in the test itself.
func NotAppliedError(op string, cause error) error {
	if cause == nil {
		panic("hostednumberstest: NotAppliedError: nil cause")
	}
	return &opError{op: op, err: &outcomeError{cause: cause, outcome: hostednumbers.ErrNotApplied}}
}

// OutcomeUnknownError returns cause as a call that changes something
// returns it when the request may have been processed: a 5xx
// (NewAPIError(503, 0, "Service Unavailable")), a 2xx whose body could not
// be used (NewDecodeError), or a connection lost after the request was
// sent. Like the SDK's, its text then says that the outcome is unknown
// (not for a *hostednumbers.DecodeError, whose own text says it), and it
// matches hostednumbers.ErrOutcomeUnknown and cause.
// hostednumbers.OutcomeOf labels it hostednumbers.OutcomeUnknown. A nil
// cause panics.
func OutcomeUnknownError(op string, cause error) error {
	if cause == nil {
		panic("hostednumberstest: OutcomeUnknownError: nil cause")
	}
	return &opError{op: op, err: &outcomeError{cause: cause, outcome: hostednumbers.ErrOutcomeUnknown}}
}

// RateLimitedError returns the error of a call that changes something
// (op) whose every attempt Twilio answered 429: an APIError with code
// 20429 and RetryAfter (zero when the answer asked for no wait), matching
// hostednumbers.ErrRateLimited and hostednumbers.ErrNotApplied, since
// Twilio never processes a request it answers 429.
func RateLimitedError(op string, retryAfter time.Duration) error {
	e := NewAPIError(http.StatusTooManyRequests, codeTooManyRequests, http.StatusText(http.StatusTooManyRequests))
	e.RetryAfter = retryAfter
	return NotAppliedError(op, e)
}

// opError prefixes an error with its operation, as the SDK's methods do.
// Its text is made when asked for, so that a test may still set the
// RequestID (or another member) of the cause it passed.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return "hostednumbers: " + e.op + ": " + e.err.Error() }

func (e *opError) Unwrap() error { return e.err }

// outcomeError is the SDK's own shape of an error of a call that changes
// something: the cause, with the answer to "may it have happened?".
type outcomeError struct {
	cause, outcome error
}

func (e *outcomeError) Error() string {
	var decodeErr *hostednumbers.DecodeError
	if errors.Is(e.outcome, hostednumbers.ErrOutcomeUnknown) && !errors.As(e.cause, &decodeErr) {
		return e.cause.Error() + " (outcome unknown: it may have been processed; check before sending it again)"
	}
	return e.cause.Error()
}

func (e *outcomeError) Unwrap() []error { return []error{e.cause, e.outcome} }

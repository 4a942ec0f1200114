package hostednumbers

import (
	"net/http"
	"time"
)

// CallSettings are what a list of CallOptions sets, as
// InspectCallOptions reads them back. The zero value is a call with no
// options: the client's defaults apply.
type CallSettings struct {
	// Tag is WithCallTag's tag, "" without one.
	Tag string
	// Timeout is WithCallTimeout's per-attempt limit, and TimeoutSet
	// reports whether one was given (a Timeout of 0 with TimeoutSet
	// removes the limit; without it the client's WithTimeout applies).
	Timeout    time.Duration
	TimeoutSet bool
	// MaxRetries is WithCallMaxRetries' count, and MaxRetriesSet reports
	// whether one was given (without it the client's WithMaxRetries
	// applies).
	MaxRetries    int
	MaxRetriesSet bool
	// Headers are the headers WithCallHeader adds, under their canonical
	// names, values in the order given; nil without any.
	Headers http.Header
	// Err is the *ValidationError the options make a call return before
	// anything is sent (a negative timeout, a reserved header, …), nil if
	// they are valid. The other fields hold only the valid options.
	Err error
}

// InspectCallOptions reads back what opts set, as a call of this package
// would apply them (a later option of the same kind wins; a nil option is
// ignored), for a mock or a wrapper of a service interface that checks the
// options its caller passed: the tag, the per-attempt timeout, the retries
// and the headers. Each call reads opts afresh: the result is the
// caller's own.
func InspectCallOptions(opts ...CallOption) CallSettings {
	var s callSettings
	for _, o := range opts {
		if o != nil {
			o.applyCall(&s)
		}
	}
	out := CallSettings{
		Tag:           s.tag,
		Timeout:       s.timeout,
		TimeoutSet:    s.timeoutSet,
		MaxRetries:    s.maxRetries,
		MaxRetriesSet: s.maxRetriesSet,
		Headers:       s.header,
	}
	if len(s.problems) > 0 {
		out.Err = &ValidationError{Problems: s.problems}
	}
	return out
}

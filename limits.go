package hostednumbers

import "time"

// CallLimits bound how long one call of a client may take: its attempts,
// each with its time limit, and the waits between them. A program that
// must know when a request it sent can no longer reach Twilio (a create
// left in flight by a process that died) reads them from the client that
// sent it, so that the bound and the client never disagree.
type CallLimits struct {
	// MaxRetries is how many times a call may be tried again after its
	// first attempt (WithMaxRetries).
	MaxRetries int
	// AttemptTimeout is the time limit of one attempt (WithTimeout, or
	// the Timeout of the http.Client given with WithHTTPClient), or
	// DefaultTimeout when the client has none (an attempt without a limit
	// cannot be bounded; give such calls your own bound).
	AttemptTimeout time.Duration
	// MaxRetryWait is the longest backoff between two attempts
	// (WithRetryBackoff); MaxRetryAfter the longest Retry-After a retry
	// waits for (WithMaxRetryAfter).
	MaxRetryWait, MaxRetryAfter time.Duration
}

// DefaultCallLimits are the limits of a client built with no option that
// changes them.
var DefaultCallLimits = CallLimits{MaxRetries: DefaultMaxRetries, AttemptTimeout: DefaultTimeout,
	MaxRetryWait: DefaultMaxRetryWait, MaxRetryAfter: DefaultMaxRetryAfter}

// Longest is the longest one call may take, WithCallMaxRetries and
// WithCallTimeout aside: every attempt to its limit, with the longest wait
// before each retry.
func (l CallLimits) Longest() time.Duration {
	wait := max(l.MaxRetryWait, l.MaxRetryAfter)
	return time.Duration(l.MaxRetries+1)*l.AttemptTimeout + time.Duration(l.MaxRetries)*wait
}

// CallLimits returns the limits the client's calls run with.
func (c *Client) CallLimits() CallLimits {
	return CallLimits{MaxRetries: c.maxRetries, AttemptTimeout: c.attemptLimit(),
		MaxRetryWait: c.maxRetryWait, MaxRetryAfter: c.maxRetryAfter}
}

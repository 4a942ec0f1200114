package migrate

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hostednumbers/hostednumbers-go"
)

// Lease is a worker's claim on one batch: while it is live (the store's
// clock before Expires), no other worker claims, changes or saves the
// batch.
type Lease struct {
	// Batch is the index of the batch claimed.
	Batch int `json:"batch"`
	// Worker names the worker that claimed it.
	Worker string `json:"worker"`
	// Token is the claim's fencing token: every new claim of a batch
	// (after an expiry or a release too) has a greater token than every
	// earlier claim of it. A save under a lease whose token is no longer
	// the batch's is refused (ErrLeaseLost). 0 means no claim.
	Token int64 `json:"token"`
	// Expires is when the claim ends, by the store's clock, unless it is
	// renewed first. A released claim's Expires is when it was released.
	Expires time.Time `json:"expires"`
}

// Held reports whether l is a claim at all (a batch never claimed has
// the zero Lease).
func (l Lease) Held() bool { return l.Token != 0 }

// Claimed is a claim just taken: the lease, the batch as it was when it
// was claimed, and the claim it replaced.
type Claimed struct {
	Lease Lease
	// Batch is the batch at the claim, without its numbers: the version a
	// save under the lease writes over.
	Batch Batch
	// Previous is the batch's claim before this one (expired or
	// released), or the zero Lease if it was never claimed. A batch found
	// in doubt ("sending") under an expired claim had its create in
	// flight at most until Previous.Expires (and its attempt's own
	// limits): the bound of its settle window comes from there.
	Previous Lease
}

// The errors of a ClaimStore.
var (
	// ErrLeaseLost is the answer to a save, renewal or release under a
	// lease that is no longer the batch's live claim: it expired, was
	// released, or another worker claimed the batch since. Nothing was
	// recorded. It fails no run: the worker stops working on the batch
	// and moves on to other work.
	ErrLeaseLost = errors.New("migrate: the claim on the batch was lost (expired, released, or taken by another worker)")
	// ErrClaimed is the answer to a claim, or a save without a claim, of
	// a batch that another live claim holds. It fails no run either: the
	// batch is another worker's for now. A SaveBatch refused this way
	// also matches ErrConflict.
	ErrClaimed = errors.New("migrate: the batch is claimed by a live worker")
)

// MaxWorkerName is the longest worker name, in characters.
const MaxWorkerName = 200

// CheckClaim checks the arguments of a claim: a worker name (1 to
// MaxWorkerName characters of valid UTF-8 without NUL), a positive ttl,
// and known states. A problem is a *hostednumbers.ValidationError naming
// the field. Stores call it before they record anything.
func CheckClaim(worker string, ttl time.Duration, states ...BatchState) error {
	var problems []hostednumbers.FieldError
	switch n := utf8.RuneCountInString(worker); {
	case worker == "":
		problems = append(problems, hostednumbers.FieldError{Field: "worker", Message: "is empty: name the worker (its host and process, say)"})
	case n > MaxWorkerName:
		problems = append(problems, hostednumbers.FieldError{Field: "worker", Message: fmt.Sprintf("is %d characters long; at most %d", n, MaxWorkerName)})
	case !utf8.ValidString(worker):
		problems = append(problems, hostednumbers.FieldError{Field: "worker", Message: "is not valid UTF-8"})
	default:
		for _, r := range worker {
			if r == 0 {
				problems = append(problems, hostednumbers.FieldError{Field: "worker", Message: "holds a NUL character"})
				break
			}
		}
	}
	if ttl <= 0 {
		problems = append(problems, hostednumbers.FieldError{Field: "ttl", Message: fmt.Sprintf("is %v; a claim lasts a positive time", ttl)})
	}
	if err := checkStates(states); err != nil {
		problems = append(problems, *err)
	}
	if len(problems) > 0 {
		return &hostednumbers.ValidationError{Problems: problems}
	}
	return nil
}

// CheckPending checks the arguments of Pending: a positive limit and
// known states, as a *hostednumbers.ValidationError naming the field.
func CheckPending(limit int, states ...BatchState) error {
	var problems []hostednumbers.FieldError
	if limit < 1 {
		problems = append(problems, hostednumbers.FieldError{Field: "limit", Message: fmt.Sprintf("is %d; at least 1", limit)})
	}
	if err := checkStates(states); err != nil {
		problems = append(problems, *err)
	}
	if len(problems) > 0 {
		return &hostednumbers.ValidationError{Problems: problems}
	}
	return nil
}

func checkStates(states []BatchState) *hostednumbers.FieldError {
	for _, s := range states {
		if !s.Known() {
			return &hostednumbers.FieldError{Field: "states", Message: fmt.Sprintf("holds %q, which is not a batch state", s)}
		}
	}
	return nil
}

// InStates reports whether s is one of states; no states means every
// state.
func InStates(s BatchState, states ...BatchState) bool {
	if len(states) == 0 {
		return true
	}
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}

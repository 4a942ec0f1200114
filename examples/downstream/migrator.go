// Package downstream is an example of a service built on hostednumbers, and
// of its tests: a Migrator that hosts a batch of phone numbers on Twilio,
// recovers by itself when the answer to its create is lost, and reports
// what became of each number, with an HTTP front end. It depends only on
// the SDK's interfaces (hostednumbers.BulkHostedNumberOrdersAPI and
// hostednumbers.HostedNumberOrdersAPI), so its tests (in this directory)
// run it three ways: against hand-written mocks of the interfaces, against
// a transport mock (httpmock) fed by the hostednumberstest builders, and
// against the hostednumberstest fake server.
package downstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// ErrInvalidRequest marks a migration refused for its input, before
// anything reached Twilio.
var ErrInvalidRequest = errors.New("downstream: invalid migration request")

// Migrator hosts phone numbers and waits until Twilio has processed them.
// It is safe for concurrent use if Orders is.
type Migrator struct {
	// Orders is the bulk hosting API: client.BulkHostedNumberOrders, or a
	// mock.
	Orders hostednumbers.BulkHostedNumberOrdersAPI
	// HostedOrders is the hosted number order API:
	// client.HostedNumberOrders, or a mock. When set, Migrate recovers from
	// a create whose outcome is unknown (hostednumbers.WaitForReconcile over
	// it) instead of returning the error, and Follow can report the numbers
	// by their hosted number orders.
	HostedOrders hostednumbers.HostedNumberOrdersAPI
	// ProcessingWindow and ConfirmGap tune the recovery (see
	// hostednumbers.ReconcileParams); zero uses the SDK's defaults.
	ProcessingWindow, ConfirmGap time.Duration
	// OwnerEmail is where Twilio sends the authorisation documents.
	OwnerEmail string
	// Wait tunes the polling; nil uses the SDK's defaults.
	Wait *hostednumbers.WaitOptions
	// OnProgress, if set, is called with every state seen while waiting.
	OnProgress func(status hostednumbers.RequestStatus, counts map[hostednumbers.OrderStatus]int)
}

// Report is what became of the numbers of one migration.
type Report struct {
	// BulkHostingSID identifies Twilio's bulk request; set as soon as it
	// was created, also when waiting for it failed.
	BulkHostingSID string `json:"bulk_hosting_sid"`
	// Status is the last request status seen.
	Status hostednumbers.RequestStatus `json:"status"`
	// Completed are the numbers hosted, sorted. PROCESSED means that
	// Twilio made the hosted number orders, not that the numbers are
	// hosted (that takes days: LOA signature, carrier), so most numbers
	// are in InProgress (pending-loa) when Migrate returns; follow their
	// hosted number orders from there.
	Completed []string `json:"completed"`
	// Failed are the numbers that failed or need action, sorted by number.
	Failed []FailedNumber `json:"failed"`
	// InProgress are the other numbers by status (pending-loa, …).
	InProgress map[hostednumbers.OrderStatus][]string `json:"in_progress"`
	// Snapshots counts the states seen while waiting.
	Snapshots int `json:"snapshots"`
}

// FailedNumber is a number Twilio could not host, and why.
type FailedNumber struct {
	// PhoneNumber is the number, in E.164 form.
	PhoneNumber string `json:"phone_number"`
	// Status is failed or action-required.
	Status hostednumbers.OrderStatus `json:"status"`
	// Reason is Twilio's failure_reason.
	Reason string `json:"reason"`
	// NextStep is what Twilio says to do about it.
	NextStep string `json:"next_step"`
}

// Migrate submits numbers as one bulk hosting request and waits until it
// is processed. An input the SDK refuses returns an error matching
// ErrInvalidRequest (and nothing is sent). A failed submission keeps the
// SDK's verdict: an error matching hostednumbers.ErrNotApplied may be
// retried, one matching hostednumbers.ErrOutcomeUnknown must be reconciled
// first, or the numbers may be submitted twice. With HostedOrders set,
// Migrate does that itself: it waits until Reconcile is conclusive, adopts
// the bulk request Twilio made, or submits again only once it is certain
// none was made (ErrNeedsOperator when the orders are spread or partial). A failure while waiting returns the Report so far, with
// its BulkHostingSID, and the error.
func (m *Migrator) Migrate(ctx context.Context, numbers []string) (*Report, error) {
	if len(numbers) == 0 {
		return nil, fmt.Errorf("%w: no numbers", ErrInvalidRequest)
	}
	item := hostednumbers.RequestItem{Email: m.OwnerEmail}
	for _, n := range numbers {
		item.Numbers = append(item.Numbers, hostednumbers.Number{PhoneNumber: n})
	}
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{item}}
	sentAt := time.Now()
	created, err := m.Orders.Create(ctx, params)
	var invalid *hostednumbers.ValidationError
	if errors.As(err, &invalid) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if errors.Is(err, hostednumbers.ErrOutcomeUnknown) && m.HostedOrders != nil {
		created, err = m.recover(ctx, params, sentAt, time.Now())
	}
	if err != nil {
		return nil, fmt.Errorf("downstream: submit migration: %w", err)
	}

	report := &Report{BulkHostingSID: created.BulkHostingSID, Status: created.RequestStatus}
	var opts hostednumbers.WaitOptions
	if m.Wait != nil {
		opts = *m.Wait
	}
	opts.OnSnapshot = func(o *hostednumbers.BulkHostedNumberOrder) {
		report.Snapshots++
		report.Status = o.RequestStatus
		if m.OnProgress != nil {
			m.OnProgress(o.RequestStatus, o.CountsByStatus())
		}
	}
	done, err := m.Orders.Wait(ctx, created.BulkHostingSID, &opts)
	if done != nil {
		report.fill(done)
	}
	if err != nil {
		return report, fmt.Errorf("downstream: wait for %s: %w", created.BulkHostingSID, err)
	}
	return report, nil
}

// ErrNeedsOperator marks a lost create that Reconcile found spread over
// several bulk requests, or in part: a person decides what to submit.
var ErrNeedsOperator = errors.New("downstream: the numbers' orders need an operator")

// recover settles a create whose answer was lost: it waits until Twilio's
// answer is conclusive (never resubmitting while Twilio may still be
// processing the create), adopts the bulk request that holds every number,
// or submits the create again once it is certain that none was made.
func (m *Migrator) recover(ctx context.Context, params *hostednumbers.CreateBulkHostedNumberOrderParams, sentAt, returnedAt time.Time) (*hostednumbers.BulkHostedNumberOrder, error) {
	rec, err := hostednumbers.WaitForReconcile(ctx, m.HostedOrders, &hostednumbers.ReconcileParams{
		Create: params, SentAt: sentAt, ReturnedAt: returnedAt,
		ProcessingWindow: m.ProcessingWindow, ConfirmGap: m.ConfirmGap,
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile after a lost answer: %w", err)
	}
	switch rec.Verdict {
	case hostednumbers.ReconcileAllInOne:
		return m.Orders.Fetch(ctx, rec.BulkHostingSID, nil)
	case hostednumbers.ReconcileNoneCreated:
		return m.Orders.Create(ctx, params)
	}
	return nil, fmt.Errorf("%w: %s (bulk requests %v, missing %v)", ErrNeedsOperator, rec.Reason, rec.BulkHostingSIDs, rec.Missing)
}

// Follow reports the numbers of one bulk request by their hosted number
// orders, the authority once the request is PROCESSED (its own results
// are a snapshot of that moment): it pages through every hosted number
// order of the account and keeps those of bulkSID. It needs HostedOrders.
func (m *Migrator) Follow(ctx context.Context, bulkSID string) (*Report, error) {
	if m.HostedOrders == nil {
		return nil, fmt.Errorf("%w: Follow needs HostedOrders", ErrInvalidRequest)
	}
	report := &Report{BulkHostingSID: bulkSID, Status: hostednumbers.RequestStatusProcessed}
	for o, err := range m.HostedOrders.All(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("downstream: follow %s: %w", bulkSID, err)
		}
		if o.BulkHostingRequestSID.String != bulkSID {
			continue
		}
		report.add(o.PhoneNumber, o.Status, o.FailureReason.String, o.NextStep.String)
	}
	report.sort()
	return report, nil
}

func (r *Report) add(phone string, status hostednumbers.OrderStatus, reason, next string) {
	switch status {
	case hostednumbers.OrderStatusCompleted:
		r.Completed = append(r.Completed, phone)
	case hostednumbers.OrderStatusFailed, hostednumbers.OrderStatusActionRequired:
		r.Failed = append(r.Failed, FailedNumber{PhoneNumber: phone, Status: status, Reason: reason, NextStep: next})
	default:
		if r.InProgress == nil {
			r.InProgress = make(map[hostednumbers.OrderStatus][]string)
		}
		r.InProgress[status] = append(r.InProgress[status], phone)
	}
}

func (r *Report) sort() {
	sort.Strings(r.Completed)
	sort.Slice(r.Failed, func(i, j int) bool { return r.Failed[i].PhoneNumber < r.Failed[j].PhoneNumber })
}

func (r *Report) fill(o *hostednumbers.BulkHostedNumberOrder) {
	r.Status = o.RequestStatus
	r.Completed, r.Failed, r.InProgress = nil, nil, nil
	for _, n := range o.Orders() {
		r.add(n.PhoneNumber, n.Status, n.FailureReason.String, n.NextStep.String)
	}
	r.sort()
}

// migrationRequest is the body ServeHTTP takes.
type migrationRequest struct {
	Numbers []string `json:"numbers"`
}

// ServeHTTP runs one migration per POST with a JSON body
// {"numbers": ["+14155550101", …]} and answers 200 with the Report; 400
// for a bad request, 502 when Twilio refused or failed, 504 when the
// request's context ended first.
func (m *Migrator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var req migrationRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	report, err := m.Migrate(r.Context(), req.Numbers)
	switch {
	case errors.Is(err, ErrInvalidRequest):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		http.Error(w, err.Error(), http.StatusGatewayTimeout)
		return
	case errors.Is(err, hostednumbers.ErrOutcomeUnknown):
		// The numbers may be on their way: the operator must reconcile
		// before submitting them again, so say so.
		http.Error(w, "submitted, outcome unknown, reconcile before retrying: "+err.Error(), http.StatusBadGateway)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(report)
}

package hostednumberstest

import (
	"strconv"
	"strings"
	"time"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// getMoreInfo is what Twilio puts in get_more_info of a failed group.
const getMoreInfo = "For more information, call the Hosted Number Eligibility API: https://www.twilio.com/docs/phone-numbers/hosted-numbers-api/eligibility-api-overview"

// Stages of a bulk order, in order.
const (
	stageQueued = iota
	stageInProgress
	stageProcessed
)

var stageStatus = [...]hostednumbers.RequestStatus{
	stageQueued:     hostednumbers.RequestStatusQueued,
	stageInProgress: hostednumbers.RequestStatusInProgress,
	stageProcessed:  hostednumbers.RequestStatusProcessed,
}

// orderJSON is a bulk order as the API renders it (testdata/fetch_200.json).
type orderJSON struct {
	BulkHostingSID    string      `json:"bulk_hosting_sid"`
	RequestStatus     string      `json:"request_status"`
	FriendlyName      *string     `json:"friendly_name"`
	NotificationEmail *string     `json:"notification_email"`
	DateCreated       string      `json:"date_created"`
	DateCompleted     *string     `json:"date_completed"`
	URL               string      `json:"url"`
	TotalCount        int         `json:"total_count"`
	Results           []groupJSON `json:"results"`
}

type groupJSON struct {
	OrderStatus string      `json:"order_status"`
	Count       string      `json:"count"` // a string, as in Twilio's example
	GetMoreInfo *string     `json:"get_more_info"`
	Orders      []orderItem `json:"orders"`
}

type orderItem struct {
	HostingOrderSID    string  `json:"hosting_order_sid"`
	PhoneNumber        string  `json:"phone_number"`
	AccountSID         string  `json:"account_sid"`
	FailureReason      *string `json:"failure_reason"`
	NextStep           *string `json:"next_step"`
	URL                string  `json:"url"`
	Email              *string `json:"email"`
	SigningDocumentSID *string `json:"signing_document_sid"`
}

type errorJSON struct {
	Code     int            `json:"code"`
	Message  string         `json:"message"`
	MoreInfo string         `json:"more_info"`
	Status   int            `json:"status"`
	Details  map[string]any `json:"details,omitempty"`
}

func errorDocument(status, code int, message string, details map[string]any) errorJSON {
	return errorJSON{
		Code:     code,
		Message:  message,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		Status:   status,
		Details:  details,
	}
}

// stageLocked returns the stage o is in at now, and stamps its completion
// time the first time it is seen PROCESSED.
func (s *Server) stageLocked(o *order, now time.Time) int {
	var stage int
	if d := s.cfg.stageDuration; d > 0 {
		stage = int(min(now.Sub(o.created)/d, stageProcessed))
		if stage == stageProcessed && o.completed.IsZero() {
			o.completed = o.created.Add(2 * d)
		}
	} else {
		stage = min(o.fetches/s.cfg.fetchesPerStage, stageProcessed)
		if stage == stageProcessed && o.completed.IsZero() {
			o.completed = now
		}
	}
	return max(stage, stageQueued)
}

// renderLocked returns o as the API would show it at now, keeping only the
// result groups whose status matches filter, if filter is not empty.
func (s *Server) renderLocked(o *order, now time.Time, filter string) orderJSON {
	stage := s.stageLocked(o, now)
	doc := orderJSON{
		BulkHostingSID:    o.sid,
		RequestStatus:     string(stageStatus[stage]),
		FriendlyName:      nullable(o.friendlyName),
		NotificationEmail: nullable(o.notificationEmail),
		DateCreated:       formatTime(o.created),
		URL:               s.URL + bulkPath + "/" + o.sid,
		TotalCount:        len(o.numbers),
		Results:           []groupJSON{},
	}
	if stage == stageProcessed {
		doc.DateCompleted = nullable(formatTime(o.completed))
	}
	if stage == stageQueued {
		return doc
	}
	want := foldStatus(filter)
	index := make(map[hostednumbers.OrderStatus]int)
	for i := range o.numbers {
		n := &o.numbers[i]
		status := hostednumbers.OrderStatusPendingLOA
		if stage == stageProcessed {
			status = n.outcome.Status
		}
		if filter != "" && foldStatus(string(status)) != want {
			continue
		}
		g, ok := index[status]
		if !ok {
			g = len(doc.Results)
			index[status] = g
			doc.Results = append(doc.Results, groupJSON{
				OrderStatus: strings.ReplaceAll(string(status), "-", "_"),
				Orders:      []orderItem{},
			})
			if status == hostednumbers.OrderStatusFailed {
				doc.Results[g].GetMoreInfo = nullable(getMoreInfo)
			}
		}
		doc.Results[g].Orders = append(doc.Results[g].Orders, s.renderNumber(n, status))
	}
	for i := range doc.Results {
		doc.Results[i].Count = strconv.Itoa(len(doc.Results[i].Orders))
	}
	return doc
}

func (s *Server) renderNumber(n *orderNumber, status hostednumbers.OrderStatus) orderItem {
	item := orderItem{
		HostingOrderSID: n.hrSID,
		PhoneNumber:     n.phone,
		AccountSID:      n.accountSID,
		URL:             s.URL + orderPath + "/" + n.hrSID,
		Email:           nullable(n.email),
	}
	switch status {
	case hostednumbers.OrderStatusPendingLOA, hostednumbers.OrderStatusCarrierProcessing,
		hostednumbers.OrderStatusTesting, hostednumbers.OrderStatusCompleted:
		item.SigningDocumentSID = nullable(n.pxSID)
	case hostednumbers.OrderStatusFailed, hostednumbers.OrderStatusActionRequired:
		item.FailureReason = nullable(n.outcome.FailureReason)
		item.NextStep = nullable(n.outcome.NextStep)
	}
	return item
}

// foldStatus makes the spellings of one status equal: pending_loa,
// pending-loa, PENDING_LOA.
func foldStatus(raw string) string {
	s := string(hostednumbers.ParseOrderStatus(raw))
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// nullable returns nil (JSON null) for an empty string.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func formatTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

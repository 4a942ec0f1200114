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

// stageLocked returns the stage o is in at now, and stamps the time each
// stage was first seen, and its completion time, as it moves on.
func (s *Server) stageLocked(o *order, now time.Time) int {
	var stage int
	d := s.cfg.stageDuration
	if d > 0 {
		stage = int(min(now.Sub(o.created)/d, stageProcessed))
	} else {
		stage = min(o.fetches/s.cfg.fetchesPerStage, stageProcessed)
	}
	stage = max(stage, stageQueued)
	for k := o.stage + 1; k <= stage; k++ {
		if d > 0 {
			o.movedAt[k] = o.created.Add(time.Duration(k) * d)
		} else {
			o.movedAt[k] = now
		}
	}
	if stage > o.stage {
		o.stage = stage
	}
	if stage == stageProcessed && o.completed.IsZero() {
		o.completed = o.movedAt[stageProcessed]
	}
	return stage
}

// renderLocked returns o as the API would show it at now, keeping only the
// result groups whose status matches filter, if filter is not empty.
func (s *Server) renderLocked(o *order, now time.Time, filter string) orderJSON {
	return renderBulk(o, s.stageLocked(o, now), s.URL, filter)
}

// renderBulk returns o as the API shows it in stage, with URLs on baseURL:
// no results while QUEUED, then one group per status of its hosted number
// orders (canceled ones left out), in order of first appearance.
func renderBulk(o *order, stage int, baseURL, filter string) orderJSON {
	doc := orderJSON{
		BulkHostingSID:    o.sid,
		RequestStatus:     string(stageStatus[stage]),
		FriendlyName:      nullable(o.friendlyName),
		NotificationEmail: nullable(o.notificationEmail),
		DateCreated:       formatTime(o.created),
		URL:               baseURL + bulkPath + "/" + o.sid,
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
	for _, n := range o.numbers {
		if n.canceled {
			continue
		}
		status := n.statusAt(stage)
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
		doc.Results[g].Orders = append(doc.Results[g].Orders, renderNumber(n, status, baseURL))
	}
	for i := range doc.Results {
		doc.Results[i].Count = strconv.Itoa(len(doc.Results[i].Orders))
	}
	return doc
}

// renderNumber renders one entry of a result group. Like Twilio's example,
// it shows signing_document_sid only once the document is out for signing
// (and not for failed numbers), failure_reason and next_step only for
// failed and action-required ones.
func renderNumber(n *hostedOrder, status hostednumbers.OrderStatus, baseURL string) orderItem {
	item := orderItem{
		HostingOrderSID: n.sid,
		PhoneNumber:     n.phone,
		AccountSID:      n.accountSID,
		URL:             baseURL + orderPath + "/" + n.sid,
		Email:           nullable(n.email),
	}
	switch status {
	case hostednumbers.OrderStatusPendingLOA, hostednumbers.OrderStatusCarrierProcessing,
		hostednumbers.OrderStatusTesting, hostednumbers.OrderStatusCompleted:
		if n.doc != nil {
			item.SigningDocumentSID = nullable(n.doc.sid)
		}
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

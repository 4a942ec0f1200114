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

// errorJSON is Twilio's error document. Code and more_info are left out
// when code is noCode: the fake never invents a code Twilio does not
// document for the case (see codes.go).
type errorJSON struct {
	Code     int            `json:"code,omitempty"`
	Message  string         `json:"message"`
	MoreInfo string         `json:"more_info,omitempty"`
	Status   int            `json:"status"`
	Details  map[string]any `json:"details,omitempty"`
}

func errorDocument(status, code int, message string, details map[string]any) errorJSON {
	doc := errorJSON{Code: code, Message: message, Status: status, Details: details}
	if code != noCode {
		doc.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)
	}
	return doc
}

// stageLocked returns the stage o is in at now. In the fetch-driven model
// it stamps the time each stage was first seen, and its completion time,
// as it moves on; in the asynchronous model those are fixed at the create.
func (s *Server) stageLocked(o *order, now time.Time) int {
	if !s.cfg.fetchDriven {
		switch {
		case now.Before(o.movedAt[stageInProgress]):
			return stageQueued
		case now.Before(o.movedAt[stageProcessed]):
			return stageInProgress
		}
		return stageProcessed
	}
	stage := min(o.fetches/s.cfg.fetchesPerStage, stageProcessed)
	for k := o.stage + 1; k <= stage; k++ {
		o.movedAt[k] = now
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
// result groups whose status matches filter, if filter is not empty. The
// result groups follow the hosted number orders: each number is in the
// group of its order's status now, PROCESSED or not ("each result object
// is grouped by its order status", in Twilio's words), and a canceled
// order is in none.
func (s *Server) renderLocked(o *order, now time.Time, filter string) orderJSON {
	stage := s.stageLocked(o, now)
	return renderBulk(o, stage, s.URL, filter, func(h *hostedOrder) numberState {
		return s.numberStateLocked(h, now)
	})
}

// numberState is the state of one hosted number order at some time.
type numberState struct {
	status hostednumbers.OrderStatus
	// at is when the order took this status: its date_updated.
	at time.Time
	// reason and next are its failure_reason and next_step, set only when
	// status is failed or action-required.
	reason, next string
}

// renderBulk returns o as the API shows it in stage, with URLs on baseURL:
// no results while QUEUED, then one group per status of its hosted number
// orders (canceled ones left out), in order of first appearance, each
// number in the state stateOf gives.
func renderBulk(o *order, stage int, baseURL, filter string, stateOf func(*hostedOrder) numberState) orderJSON {
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
		st := stateOf(n)
		if filter != "" && foldStatus(string(st.status)) != want {
			continue
		}
		g, ok := index[st.status]
		if !ok {
			g = len(doc.Results)
			index[st.status] = g
			doc.Results = append(doc.Results, groupJSON{
				OrderStatus: strings.ReplaceAll(string(st.status), "-", "_"),
				Orders:      []orderItem{},
			})
			if st.status == hostednumbers.OrderStatusFailed {
				doc.Results[g].GetMoreInfo = nullable(getMoreInfo)
			}
		}
		doc.Results[g].Orders = append(doc.Results[g].Orders, renderNumber(n, st, baseURL))
	}
	for i := range doc.Results {
		doc.Results[i].Count = strconv.Itoa(len(doc.Results[i].Orders))
	}
	return doc
}

// renderNumber renders one entry of a result group. Like Twilio's example
// (testdata/spec-examples/FetchBulkHostedNumberOrder_200_fetchNoParams.json),
// it shows signing_document_sid only once the document is out for signing
// (and not for failed numbers), failure_reason and next_step only for
// failed and action-required ones (null for the others).
func renderNumber(n *hostedOrder, st numberState, baseURL string) orderItem {
	item := orderItem{
		HostingOrderSID: n.sid,
		PhoneNumber:     n.phone,
		AccountSID:      n.accountSID,
		URL:             baseURL + orderPath + "/" + n.sid,
		Email:           nullable(n.email),
	}
	switch st.status {
	case hostednumbers.OrderStatusPendingLOA, hostednumbers.OrderStatusCarrierProcessing,
		hostednumbers.OrderStatusTesting, hostednumbers.OrderStatusCompleted:
		if n.doc != nil {
			item.SigningDocumentSID = nullable(n.doc.sid)
		}
	case hostednumbers.OrderStatusFailed, hostednumbers.OrderStatusActionRequired:
		item.FailureReason = nullable(st.reason)
		item.NextStep = nullable(st.next)
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

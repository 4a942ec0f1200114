package hostednumberstest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault is misbehaviour queued with Server.InjectFault. A request that
// matches a queued fault is first recorded, then delayed by Latency, then
// answered by the fault: processed and its answer dropped
// (ProcessThenDrop), its connection dropped (DropConnection), or Status
// and Body sent. A fault with neither only delays the request (or does
// nothing), after which the server handles the request normally.
type Fault struct {
	// Method limits the fault to requests with this method ("GET",
	// "POST"); empty matches any method.
	Method string
	// Path limits the fault to requests whose URL path is Path, or starts
	// with it when it ends in "/" ("/v2/HostedNumber/Orders/Bulk/" matches
	// every bulk fetch and no list); empty matches any path.
	Path string
	// Count is how many matching requests the fault applies to; 0 (or
	// less) means 1.
	Count int
	// Status is the HTTP status to answer with, 200 to 999; 0 means no
	// answer of the fault's own. A Status from 200 to 299 on a request
	// other than a GET first lets the server process the request, as a
	// real success would: a fault with Status 202 on a create still
	// creates the order (see Request.CreatedSID), only its answer is the
	// fault's. GETs are not processed, so they do not count as fetches.
	Status int
	// Body is the body sent with Status. Empty means, for a Status of 400
	// or more, a Twilio error document {"code": …, "message": …,
	// "more_info": …, "status": Status} whose code is the one Twilio
	// documents for the status (20001 for 400, 20003 for 401, 20404 for
	// 404, 20429 for 429), without code and more_info for any other
	// status (Twilio documents none: the fake invents none); no body
	// otherwise.
	Body string
	// ContentType is the Content-Type sent with Status; empty means
	// application/json.
	ContentType string
	// RetryAfter, if set, is sent as the Retry-After header, whether the
	// fault answers the request or only delays it.
	RetryAfter string
	// Latency delays the request. The wait ends early, and the connection
	// is closed without an answer, when the client gives up or the server
	// is closed. A create whose client gave up is processed all the same,
	// later (WithAbandonedCreateDelay), unless the fault would not have
	// processed it anyway (an error Status, DropConnection); a server
	// closed processes nothing.
	Latency time.Duration
	// DropConnection reads the whole request, then closes the connection
	// without writing a byte of an answer. The request is not processed.
	DropConnection bool
	// ProcessThenDrop handles the request as the server would (a create
	// makes its bulk order, which is then processed as usual; a DELETE
	// cancels) and then closes the connection without sending the answer:
	// the client cannot know whether its request took effect. It wins over
	// Status and DropConnection.
	ProcessThenDrop bool
	// ProcessDelay, with ProcessThenDrop, makes a create take effect this
	// long after its connection was dropped, as a request still queued
	// inside Twilio would: until then neither fetches nor lists show it
	// (Request.CreatedSID names it at once). It applies to creates only.
	ProcessDelay time.Duration
}

// processes reports whether a request the fault applies to is processed
// (when its client waits for the answer): a fault that only delays, a
// success Status, or ProcessThenDrop.
func (f *Fault) processes() bool {
	return f.ProcessThenDrop || (!f.DropConnection && f.Status < 300)
}

// queuedFault is a Fault with the number of requests it still applies to.
type queuedFault struct {
	Fault
	left int
}

// InjectFault queues f. Each request is matched against the queued faults
// in the order they were injected and takes the first one whose Method
// and Path fit; a fault leaves the queue once it has applied to Count requests.
// It panics if f.Status is neither 0 nor between 200 and 999, or
// f.ProcessDelay is negative.
func (s *Server) InjectFault(f Fault) {
	if f.Status != 0 && (f.Status < 200 || f.Status > 999) {
		panic(fmt.Sprintf("hostednumberstest: InjectFault: Status %d is not 0 and not between 200 and 999", f.Status))
	}
	if f.ProcessDelay < 0 {
		panic(fmt.Sprintf("hostednumberstest: InjectFault: ProcessDelay %v is negative", f.ProcessDelay))
	}
	f.Method = strings.ToUpper(f.Method)
	if f.Count < 1 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queuedFault{Fault: f, left: f.Count})
}

// PendingFaults returns how many more requests the queued faults will
// apply to: 0 once every injected fault has been used up.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.left
	}
	return n
}

// takeFaultLocked removes one use of the first queued fault that matches
// method and path and returns it.
func (s *Server) takeFaultLocked(method, path string) (Fault, bool) {
	for i := range s.faults {
		q := &s.faults[i]
		if q.Method != "" && q.Method != method {
			continue
		}
		if q.Path != "" && q.Path != path && (!strings.HasSuffix(q.Path, "/") || !strings.HasPrefix(path, q.Path)) {
			continue
		}
		f := q.Fault
		q.left--
		if q.left <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return f, true
	}
	return Fault{}, false
}

// writeFault answers a request as f says. The common headers are set.
func writeFault(w http.ResponseWriter, f *Fault) {
	ct := f.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	body := f.Body
	if body == "" && f.Status >= 400 {
		text := http.StatusText(f.Status)
		if text == "" {
			text = "Error"
		}
		body = string(mustJSON(errorDocument(f.Status, statusCode(f.Status), text, nil)))
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// Statuses of numbers that Twilio does not (or is not known to) hold, as
// the report shows them next to the hosted number order statuses.
const (
	statusNotSubmitted = "not-submitted"   // its batch is planned
	statusRejected     = "rejected"        // its batch was refused: run again to resubmit
	statusUnknown      = "outcome-unknown" // its batch's create may have been processed
	statusSubmitted    = "submitted"       // Twilio has it; no per-number result yet
)

// reportOrder is the order statuses are listed in: not yet at Twilio, then
// the way an order moves through hosting, the ones that need a person last.
var reportOrder = append(append([]string{statusNotSubmitted, statusUnknown, statusSubmitted},
	func() []string {
		out := make([]string, len(statusOrder))
		for i, s := range statusOrder {
			out[i] = string(s)
		}
		return out
	}()...), statusRejected)

func compareReportStatus(a, b string) int {
	ia, ib := slices.Index(reportOrder, a), slices.Index(reportOrder, b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia - ib
	case ia >= 0:
		return -1
	case ib >= 0:
		return 1
	}
	return strings.Compare(a, b)
}

// numberStatus is the status of n, of batch b, as the report shows it.
func numberStatus(b *batch, n *numberState) string {
	switch {
	case n.Status != "":
		return n.Status
	case n.hasOrder():
		return statusSubmitted
	case b.State == stateRejected:
		return statusRejected
	case b.State == stateSending || b.State == stateUnknown:
		return statusUnknown
	}
	return statusNotSubmitted
}

// needsAction reports whether a person has to act on a number in status s.
func needsAction(s string) bool {
	return s == string(hostednumbers.OrderStatusFailed) || s == string(hostednumbers.OrderStatusActionRequired) || s == statusRejected
}

// settled reports whether a number in status s is as far as waiting takes
// it: completed, failed, or never sent.
func settled(s string) bool {
	return s == string(hostednumbers.OrderStatusCompleted) || needsAction(s) || s == statusNotSubmitted || s == statusUnknown
}

// statusMode is -status: refresh every number of the journal, show it,
// and with -wait follow until every submitted number is done.
func (c *cli) statusMode(ctx context.Context, cfg *config) int {
	path, err := statePath(cfg)
	if err != nil {
		c.printProblems("bad command line", []string{err.Error()})
		return exitError
	}
	if path, err = resolvePath(path); err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: journal %v\n", err)
		return exitError
	}
	if _, err := os.Stat(path); err == nil {
		unlock, err := lockJournal(path)
		if err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
			return exitError
		}
		defer unlock()
		if err := removeStaleTemps(path); err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: journal %s: %v\n", path, err)
			return exitError
		}
	}
	j, err := loadJournal(path, c.fs, c.clock)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return exitError
	}
	if j == nil {
		fmt.Fprintf(c.stderr, "bulkhost: -status: there is no journal at %s: submit the numbers first (the same command without -status)\n", path)
		return exitError
	}
	if j.Demo {
		fmt.Fprintf(c.stderr, "bulkhost: journal %s is the demo's: its fake server is gone with the run that made it\n", path)
		return exitError
	}
	client, cleanup, err := c.client(cfg, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return exitError
	}
	defer cleanup()
	return c.followJournal(ctx, client, j, cfg)
}

// followJournal refreshes the journal's numbers from Twilio, with -wait
// until every submitted number is completed or failed, then reports them.
func (c *cli) followJournal(ctx context.Context, client *hostednumbers.Client, j *journal, cfg *config) int {
	p := newProgress(c.stderr, c.terminal(c.stderr), cfg.jsonOut)
	if cfg.wait {
		p.start(fmt.Sprintf("bulkhost: following the %d number%s of journal %s", j.Input.Numbers, plural(j.Input.Numbers), j.path))
	}
	interval := cfg.poll
	failures := 0
	var timer *time.Timer
	for {
		err := c.refresh(ctx, client, j)
		switch {
		case err == nil:
			failures = 0
			if cfg.wait {
				p.update(countsLine(j))
			}
		case ctx.Err() == nil && cfg.wait && transientErr(err) && failures < hostednumbers.DefaultMaxConsecutiveErrors-1:
			failures++
		default:
			p.done()
			code := c.printError(ctx, "refreshing the numbers", err, cfg)
			fmt.Fprintf(c.stderr, "bulkhost: the journal %s keeps what was known before; run the same command again to go on.\n", j.path)
			return code
		}
		if !cfg.wait || (err == nil && allSettled(j)) {
			break
		}
		c.checkpoint(stepMidWait)
		if timer == nil {
			timer = time.NewTimer(interval)
			defer timer.Stop()
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			p.done()
			code := c.printError(ctx, "following the numbers", ctx.Err(), cfg)
			fmt.Fprintf(c.stderr, "bulkhost: the journal %s is up to date; follow the numbers again with the same command.\n", j.path)
			return code
		case <-timer.C:
		}
		if !cfg.demo {
			interval = min(2*interval, hostednumbers.DefaultMaxPollInterval)
		}
	}
	p.done()
	return c.report(j, cfg)
}

// transientErr reports whether a failed refresh is worth trying again.
func transientErr(err error) bool {
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatus == http.StatusTooManyRequests || apiErr.HTTPStatus >= 500
	}
	var decodeErr *hostednumbers.DecodeError
	var validationErr *hostednumbers.ValidationError
	var je *journalError
	return !errors.As(err, &decodeErr) && !errors.As(err, &validationErr) && !errors.As(err, &je) && !errors.Is(err, context.Canceled)
}

// allSettled reports whether waiting can change nothing more.
func allSettled(j *journal) bool {
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			if !settled(numberStatus(b, n)) {
				return false
			}
		}
	}
	return true
}

// refresh asks Twilio about every number of the journal that it holds:
// each bulk request's results (status, order, failure reason, next step,
// LOA document), orders made outside a bulk request one by one, and every
// LOA document not yet settled. The journal is saved if anything changed.
func (c *cli) refresh(ctx context.Context, client *hostednumbers.Client, j *journal) error {
	changed := false // anything in the journal
	touched := false // the number being updated
	set := func(dst *string, v string) {
		if *dst != v {
			*dst, changed, touched = v, true, true
		}
	}
	setNull := func(dst **string, v hostednumbers.NullString) {
		var nv *string
		if v.Valid {
			nv = &v.String
		}
		if (*dst == nil) != (nv == nil) || *dst != nil && **dst != *nv {
			*dst, changed, touched = nv, true, true
		}
	}
	now := c.clock().UTC()
	for _, b := range j.Batches {
		for _, sid := range b.BulkHostingSIDs {
			order, err := client.BulkHostedNumberOrders.Fetch(ctx, sid, nil)
			if err != nil {
				return err
			}
			for _, r := range order.Orders() {
				n := j.index[r.PhoneNumber]
				if n == nil || j.batch[r.PhoneNumber] != b || n.BulkHostingSID != sid {
					continue // not a number this batch sent in this request
				}
				touched = false
				set(&n.HostingOrderSID, r.HostingOrderSID)
				set(&n.Status, string(r.Status))
				setNull(&n.FailureReason, r.FailureReason)
				setNull(&n.NextStep, r.NextStep)
				if r.SigningDocumentSID.Valid {
					set(&n.SigningDocumentSID, r.SigningDocumentSID.String)
				}
				if touched {
					n.Checked = now
				}
			}
		}
		for _, n := range b.Numbers {
			if n.HostingOrderSID == "" || n.BulkHostingSID != "" {
				continue
			}
			o, err := fetchHostedOrder(ctx, client, n.HostingOrderSID)
			if err != nil {
				return err
			}
			touched = false
			set(&n.Status, string(o.Status))
			setNull(&n.FailureReason, o.FailureReason)
			setNull(&n.NextStep, o.NextStep)
			if o.SigningDocumentSID.Valid {
				set(&n.SigningDocumentSID, o.SigningDocumentSID.String)
			}
			if touched {
				n.Checked = now
			}
		}
	}
	loa, err := c.loaStatuses(ctx, client, j)
	if err != nil {
		return err
	}
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			if s, ok := loa[n.SigningDocumentSID]; ok {
				set(&n.LOAStatus, s)
			}
		}
	}
	if !changed {
		return nil
	}
	return j.save()
}

// loaStatuses fetches every LOA document of the journal whose status can
// still change, a few at a time.
func (c *cli) loaStatuses(ctx context.Context, client *hostednumbers.Client, j *journal) (map[string]string, error) {
	var docs []string
	seen := make(map[string]bool)
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			d := n.SigningDocumentSID
			if d == "" || seen[d] {
				continue
			}
			seen[d] = true
			switch hostednumbers.AuthorizationDocumentStatus(n.LOAStatus) {
			case hostednumbers.AuthorizationDocumentStatusSigned, hostednumbers.AuthorizationDocumentStatusCanceled, hostednumbers.AuthorizationDocumentStatusFailed:
				continue // final
			}
			docs = append(docs, d)
		}
	}
	out := make(map[string]string, len(docs))
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(4, len(docs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				s, err := fetchLOAStatus(ctx, client, d)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				} else if err == nil {
					out[d] = s
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range docs {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		work <- d
	}
	close(work)
	wg.Wait()
	return out, firstErr
}

// statusCounts counts the journal's numbers by report status.
func statusCounts(j *journal) []reportCount {
	m := make(map[string]int)
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			m[numberStatus(b, n)]++
		}
	}
	out := make([]reportCount, 0, len(m))
	for s, n := range m {
		out = append(out, reportCount{s, n})
	}
	slices.SortFunc(out, func(a, b reportCount) int { return compareReportStatus(a.status, b.status) })
	return out
}

type reportCount struct {
	status string
	n      int
}

// countsLine sums the journal up in one line:
// "3 batches, 10 numbers: 7 completed, 3 failed".
func countsLine(j *journal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d batch%s, %d number%s", len(j.Batches), pluralES(len(j.Batches)), j.Input.Numbers, plural(j.Input.Numbers))
	writeCounts(&b, statusCounts(j))
	return b.String()
}

// reportRow is one number in the report.
type reportRow struct {
	b *batch
	n *numberState
	s string
}

func reportRows(j *journal) []reportRow {
	rows := make([]reportRow, 0, j.Input.Numbers)
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			rows = append(rows, reportRow{b, n, numberStatus(b, n)})
		}
	}
	slices.SortStableFunc(rows, func(a, b reportRow) int { return compareReportStatus(a.s, b.s) })
	return rows
}

// report prints every number of the journal, as a table or JSON, and
// returns the exit status: 0 all completed, 1 some failed or need action,
// 3 some still on their way.
func (c *cli) report(j *journal, cfg *config) int {
	var err error
	if cfg.jsonOut {
		err = writeStatusJSON(c.stdout, j)
	} else {
		err = writeStatusTable(c.stdout, j)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: writing the report: %v\n", err)
		return exitError
	}
	action, pending, unsent := 0, 0, 0
	for _, b := range j.Batches {
		for _, n := range b.Numbers {
			switch s := numberStatus(b, n); {
			case needsAction(s):
				action++
			case s == statusNotSubmitted || s == statusUnknown:
				unsent++
			case s != string(hostednumbers.OrderStatusCompleted):
				pending++
			}
		}
	}
	if unsent > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s %s not submitted yet (or not known to be): run the submit command again to resume.\n", unsent, plural(unsent), pluralVerb(unsent))
	}
	if action > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s failed or need%s action: see the DETAIL of each.\n", action, plural(action), verbS(action))
		return exitFailures
	}
	if pending+unsent > 0 {
		if pending > 0 {
			fmt.Fprintf(c.stderr, "bulkhost: %d number%s %s still on the way: follow them with bulkhost -live -status -state %s -wait\n", pending, plural(pending), pluralVerb(pending), j.path)
		}
		return exitPending
	}
	return exitOK
}

// writeStatusTable prints the journal's numbers grouped by status, then a
// count per status.
func writeStatusTable(w io.Writer, j *journal) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tPHONE NUMBER\tBATCH\tHOSTED NUMBER ORDER\tLOA\tDETAIL")
	for _, r := range reportRows(j) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", oneLine(r.s), r.n.PhoneNumber, r.b.Index, dash(r.n.HostingOrderSID), dash(oneLine(r.n.LOAStatus)), numberDetail(r.n))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&buf, "\nJournal %s: %s; %d number%s\n", j.path, batchSummary(j), j.Input.Numbers, plural(j.Input.Numbers))
	counts := statusCounts(j)
	nameWidth, countWidth := 0, 0
	for _, sc := range counts {
		nameWidth = max(nameWidth, len(sc.status))
		countWidth = max(countWidth, len(strconv.Itoa(sc.n)))
	}
	for _, sc := range counts {
		fmt.Fprintf(&buf, "  %-*s  %*d\n", nameWidth, oneLine(sc.status), countWidth, sc.n)
	}
	var out bytes.Buffer
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// numberDetail is why a number failed and what to do next.
func numberDetail(n *numberState) string {
	var parts []string
	if n.FailureReason != nil {
		if r := oneLine(*n.FailureReason); r != "" {
			parts = append(parts, r)
		}
	}
	if n.NextStep != nil {
		if s := oneLine(*n.NextStep); s != "" {
			parts = append(parts, "next step: "+s)
		}
	}
	return strings.Join(parts, "; ")
}

// statusDocument is what -status -json prints. Its shape is part of the
// command's interface: see the package documentation.
type statusDocument struct {
	Journal string         `json:"journal"`
	Input   journalInput   `json:"input"`
	Counts  map[string]int `json:"counts"`
	Batches []statusBatch  `json:"batches"`
	Numbers []statusNumber `json:"numbers"`
}

type statusBatch struct {
	Index           int      `json:"index"`
	State           string   `json:"state"`
	BulkHostingSIDs []string `json:"bulk_hosting_sids"`
	Numbers         int      `json:"numbers"`
}

type statusNumber struct {
	PhoneNumber        string  `json:"phone_number"`
	Line               int     `json:"line"`
	Batch              int     `json:"batch"`
	Status             string  `json:"status"`
	BulkHostingSID     *string `json:"bulk_hosting_sid"`
	HostingOrderSID    *string `json:"hosting_order_sid"`
	FailureReason      *string `json:"failure_reason"`
	NextStep           *string `json:"next_step"`
	SigningDocumentSID *string `json:"signing_document_sid"`
	LOAStatus          *string `json:"loa_status"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeStatusJSON(w io.Writer, j *journal) error {
	doc := statusDocument{Journal: j.path, Input: j.Input, Counts: make(map[string]int), Batches: []statusBatch{}, Numbers: []statusNumber{}}
	for _, sc := range statusCounts(j) {
		doc.Counts[sc.status] = sc.n
	}
	for _, b := range j.Batches {
		sids := b.BulkHostingSIDs
		if sids == nil {
			sids = []string{}
		}
		doc.Batches = append(doc.Batches, statusBatch{Index: b.Index, State: string(b.State), BulkHostingSIDs: sids, Numbers: len(b.Numbers)})
	}
	for _, r := range reportRows(j) {
		doc.Numbers = append(doc.Numbers, statusNumber{
			PhoneNumber:        r.n.PhoneNumber,
			Line:               r.n.Line,
			Batch:              r.b.Index,
			Status:             r.s,
			BulkHostingSID:     optional(r.n.BulkHostingSID),
			HostingOrderSID:    optional(r.n.HostingOrderSID),
			FailureReason:      r.n.FailureReason,
			NextStep:           r.n.NextStep,
			SigningDocumentSID: optional(r.n.SigningDocumentSID),
			LOAStatus:          optional(r.n.LOAStatus),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/report"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// statusOrder is the order statuses are listed in: the way an order moves
// through hosting, the ones that need a person last, next to the summary.
var statusOrder = []hostednumbers.OrderStatus{
	hostednumbers.OrderStatusTwilioProcessing,
	hostednumbers.OrderStatusReceived,
	hostednumbers.OrderStatusPendingVerification,
	hostednumbers.OrderStatusVerified,
	hostednumbers.OrderStatusPendingLOA,
	hostednumbers.OrderStatusCarrierProcessing,
	hostednumbers.OrderStatusTesting,
	hostednumbers.OrderStatusCompleted,
	hostednumbers.OrderStatusFailed,
	hostednumbers.OrderStatusActionRequired,
}

// compareStatus sorts documented statuses in statusOrder and any others
// after them, by name.
func compareStatus(a, b hostednumbers.OrderStatus) int {
	ia, ib := slices.Index(statusOrder, a), slices.Index(statusOrder, b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia - ib
	case ia >= 0:
		return -1
	case ib >= 0:
		return 1
	}
	return strings.Compare(string(a), string(b))
}

// sortedOrders returns the orders grouped by status, in statusOrder, each
// group in the order the server listed it.
func sortedOrders(o *hostednumbers.BulkHostedNumberOrder) []hostednumbers.BulkOrderResult {
	orders := o.Orders()
	slices.SortStableFunc(orders, func(a, b hostednumbers.BulkOrderResult) int {
		return compareStatus(a.Status, b.Status)
	})
	return orders
}

// statusCount is the number of orders with one status.
type statusCount struct {
	Status  hostednumbers.OrderStatus
	Numbers int
}

func sortedCounts(o *hostednumbers.BulkHostedNumberOrder) []statusCount {
	var out []statusCount
	for s, n := range o.CountsByStatus() {
		out = append(out, statusCount{s, n})
	}
	slices.SortFunc(out, func(a, b statusCount) int { return compareStatus(a.Status, b.Status) })
	return out
}

// detail is what a person needs to know about an order: why it failed and
// what to do next.
func detail(ord hostednumbers.BulkOrderResult) string {
	var parts []string
	if r := report.OneLine(ord.FailureReason.String); r != "" {
		parts = append(parts, r)
	}
	if s := report.OneLine(ord.NextStep.String); s != "" {
		parts = append(parts, "next step: "+s)
	}
	return strings.Join(parts, "; ")
}

// statusText is a status as the table shows it: on one line, and never
// blank, even if the server sent none.
func statusText(s hostednumbers.OrderStatus) string {
	if t := report.OneLine(string(s)); t != "" {
		return t
	}
	return "(none)"
}

// writeTable prints the orders grouped by status as an aligned table,
// then a count per status.
func writeTable(w io.Writer, o *hostednumbers.BulkHostedNumberOrder) error {
	var buf bytes.Buffer
	orders := sortedOrders(o)
	if len(orders) == 0 {
		fmt.Fprintf(&buf, "Bulk hosting request %s is %s: no per-number results yet.\n", o.BulkHostingSID, o.RequestStatus)
		_, err := w.Write(buf.Bytes())
		return err
	}
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tPHONE NUMBER\tHOSTED NUMBER ORDER\tDETAIL")
	for _, ord := range orders {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", statusText(ord.Status), report.OneLine(ord.PhoneNumber), report.OneLine(ord.HostingOrderSID), detail(ord))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	total := o.TotalCount
	counted := 0
	counts := sortedCounts(o)
	for _, sc := range counts {
		counted += sc.Numbers
	}
	if total == 0 {
		total = counted
	}
	fmt.Fprintf(&buf, "\nBulk hosting request %s: %s, %d number%s\n", o.BulkHostingSID, o.RequestStatus, total, plural(total))
	nameWidth, countWidth := 0, 0
	for _, sc := range counts {
		nameWidth = max(nameWidth, len(statusText(sc.Status)))
		countWidth = max(countWidth, len(strconv.Itoa(sc.Numbers)))
	}
	for _, sc := range counts {
		fmt.Fprintf(&buf, "  %-*s  %*d\n", nameWidth, statusText(sc.Status), countWidth, sc.Numbers)
	}

	// Cells end in padding where a row's DETAIL is empty: trim it.
	var out bytes.Buffer
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

// jsonResult is the document -json prints. Its shape is part of the
// command's interface: see the package documentation.
type jsonResult struct {
	BulkHostingSID string         `json:"bulk_hosting_sid"`
	RequestStatus  string         `json:"request_status"`
	Counts         map[string]int `json:"counts"`
	Orders         []jsonOrder    `json:"orders"`
}

type jsonOrder struct {
	PhoneNumber     string  `json:"phone_number"`
	Status          string  `json:"status"`
	HostingOrderSID string  `json:"hosting_order_sid"`
	FailureReason   *string `json:"failure_reason"`
	NextStep        *string `json:"next_step"`
}

func toJSONResult(o *hostednumbers.BulkHostedNumberOrder) jsonResult {
	r := jsonResult{
		BulkHostingSID: o.BulkHostingSID,
		RequestStatus:  string(o.RequestStatus),
		Counts:         make(map[string]int),
		Orders:         []jsonOrder{},
	}
	for s, n := range o.CountsByStatus() {
		r.Counts[string(s)] += n
	}
	for _, ord := range sortedOrders(o) {
		r.Orders = append(r.Orders, jsonOrder{
			PhoneNumber:     ord.PhoneNumber,
			Status:          string(ord.Status),
			HostingOrderSID: ord.HostingOrderSID,
			FailureReason:   nullable(ord.FailureReason),
			NextStep:        nullable(ord.NextStep),
		})
	}
	return r
}

func nullable(s hostednumbers.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func writeJSON(w io.Writer, o *hostednumbers.BulkHostedNumberOrder) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(toJSONResult(o))
}

// progressLine sums a snapshot up in one line:
// "BH…: IN_PROGRESS, 10 numbers: 7 completed, 3 failed".
func progressLine(o *hostednumbers.BulkHostedNumberOrder) string {
	var b strings.Builder
	b.WriteString(o.BulkHostingSID)
	b.WriteString(": ")
	b.WriteString(report.OneLine(string(o.RequestStatus)))
	if o.TotalCount > 0 {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(o.TotalCount))
		b.WriteString(" number")
		b.WriteString(plural(o.TotalCount))
	}
	counts := sortedCounts(o)
	labelled := make([]migrate.StatusCount, len(counts))
	for i, sc := range counts {
		labelled[i] = migrate.StatusCount{Status: statusText(sc.Status), Numbers: sc.Numbers}
	}
	writeCounts(&b, labelled)
	return b.String()
}

// writeCounts ends a one-line summary with ": 7 completed, 3 failed", or
// with nothing when there are no counts.
func writeCounts(b *strings.Builder, counts []migrate.StatusCount) {
	for i, sc := range counts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(sc.Numbers))
		b.WriteByte(' ')
		b.WriteString(report.OneLine(sc.Status))
	}
}

// progress draws the state of what is being waited for. On a terminal
// it rewrites one line in place; elsewhere (a log file, a pipe) it writes
// a line each time the state changes. A quiet progress (-json) draws
// nothing.
type progress struct {
	w        io.Writer
	terminal bool
	quiet    bool
	last     string
	drawn    bool
}

func newProgress(w io.Writer, terminal, quiet bool) *progress {
	return &progress{w: w, terminal: terminal, quiet: quiet}
}

// start says what is being waited for, off a terminal.
func (p *progress) start(msg string) {
	if !p.terminal && !p.quiet {
		fmt.Fprintln(p.w, msg)
	}
}

// update shows the current state.
func (p *progress) update(line string) {
	if p.quiet {
		return
	}
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		p.drawn = true
		return
	}
	if line != p.last {
		fmt.Fprintln(p.w, line)
		p.last = line
	}
}

// clear takes the line being redrawn off a terminal, so that a message
// can be printed in its place; the next update draws it again.
func (p *progress) clear() {
	if p.terminal && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// done ends the progress display, leaving its last line on the screen.
func (p *progress) done() {
	if p.terminal && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (c *cli) terminal(w io.Writer) bool {
	if c.isTerminal != nil {
		return c.isTerminal(w)
	}
	if c.getenv("TERM") == "dumb" {
		return false
	}
	if r, ok := w.(*redactingWriter); ok {
		w = r.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

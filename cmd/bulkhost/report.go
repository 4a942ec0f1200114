package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Report statuses of numbers Twilio does not (or is not known to) hold.
const (
	statusNotSubmitted = migrate.StatusNotSubmitted
	statusRejected     = migrate.StatusRejected
	statusUnknown      = migrate.StatusUnknown
	statusSubmitted    = migrate.StatusSubmitted
)

// reportOrder is the order statuses are listed in: not yet at Twilio, then
// the way an order moves through hosting, the ones that need a person last.
var reportOrder = append(append([]string{statusNotSubmitted, migrate.StatusWithdrawn, statusUnknown, statusSubmitted},
	func() []string {
		out := make([]string, len(statusOrder))
		for i, s := range statusOrder {
			out[i] = string(s)
		}
		return out
	}()...), migrate.StatusCheckFailed, statusRejected)

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

type reportCount struct {
	status string
	n      int
}

func sortedReportCounts(m map[string]int) []reportCount {
	out := make([]reportCount, 0, len(m))
	for s, n := range m {
		if n > 0 {
			out = append(out, reportCount{s, n})
		}
	}
	slices.SortFunc(out, func(a, b reportCount) int { return compareReportStatus(a.status, b.status) })
	return out
}

// reportRow is one number in the report.
type reportRow struct {
	batch  int
	n      migrate.NumberState
	status string
}

// eachRow calls fn for every number of the journal, grouped by report
// status in reportOrder (one pass over the journal per status present, so
// that memory holds one batch at a time).
func (m *migration) eachRow(ctx context.Context, fn func(reportRow) error) error {
	p, err := migrate.Summarize(ctx, m.store)
	if err != nil {
		return err
	}
	meta, err := m.store.Meta(ctx)
	if err != nil {
		return err
	}
	for _, sc := range sortedReportCounts(p.Counts) {
		for i := 1; i <= meta.Batches; i++ {
			b, err := m.store.Batch(ctx, i)
			if err != nil {
				return err
			}
			if c, ok := b.Counts[sc.status]; b.Counts != nil && (!ok || c == 0) {
				continue
			}
			numbers, err := m.store.Numbers(ctx, i)
			if err != nil {
				return err
			}
			for k := range numbers {
				if s := migrate.NumberStatus(b.State, &numbers[k]); s == sc.status {
					if err := fn(reportRow{batch: i, n: numbers[k], status: s}); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// writeReport prints the journal's numbers: as JSON; with -table as a
// table of every number grouped by status; otherwise as a summary, the
// count per status and the numbers that need action (at most
// actionRows of them, then how to list the rest).
func (m *migration) writeReport(ctx context.Context, asJSON bool) error {
	if asJSON {
		return m.writeStatusJSON(ctx)
	}
	w := bufio.NewWriter(m.c.stdout)
	header := "STATUS\tPHONE NUMBER\tBATCH\tHOSTED NUMBER ORDER\tLOA\tDETAIL"
	row := func(r reportRow) string {
		line := fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s", oneLine(r.status), r.n.PhoneNumber(), r.batch, dash(r.n.HostingOrderSID), dash(oneLine(r.n.LOAStatus)), numberDetail(&r.n))
		return strings.TrimRight(line, "\t")
	}
	if m.cfg != nil && m.cfg.table {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		rows := 0
		err := m.eachRow(ctx, func(r reportRow) error {
			fmt.Fprintln(tw, row(r))
			rows++
			if rows%4096 == 0 {
				// A tabwriter aligns what it holds: flush now and then so
				// that a large report does not sit in memory.
				return tw.Flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	p, err := migrate.Summarize(ctx, m.store)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Journal %s: %s; %d number%s\n", m.path, batchSummary(p), p.Numbers, plural(p.Numbers))
	counts := sortedReportCounts(p.Counts)
	nameWidth, countWidth := 0, 0
	for _, sc := range counts {
		nameWidth = max(nameWidth, len(sc.status))
		countWidth = max(countWidth, len(strconv.Itoa(sc.n)))
	}
	action := 0
	for _, sc := range counts {
		fmt.Fprintf(w, "  %-*s  %*d\n", nameWidth, oneLine(sc.status), countWidth, sc.n)
		if migrate.NeedsAction(sc.status) {
			action += sc.n
		}
	}
	if (m.cfg != nil && m.cfg.table) || action == 0 {
		return w.Flush()
	}
	fmt.Fprintf(w, "\n%d number%s need%s action:\n", action, plural(action), verbS(action))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	shown := 0
	err = m.eachRow(ctx, func(r reportRow) error {
		if !migrate.NeedsAction(r.status) {
			return nil
		}
		if shown == actionRows {
			return errEnough
		}
		fmt.Fprintln(tw, row(r))
		shown++
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if action > shown {
		fmt.Fprintf(w, "… and %d more: list them all with\n  bulkhost -export - -export-status %s -state %s\n", action-shown, strings.Join(actionStatuses(counts), ","), m.path)
	}
	fmt.Fprintf(w, "(every number, one line each: -table, or -export FILE)\n")
	return w.Flush()
}

// actionRows is the most numbers needing action the summary lists.
const actionRows = 20

// errEnough stops a walk over the journal's numbers early.
var errEnough = errors.New("enough rows")

// actionStatuses are the statuses among counts that need action.
func actionStatuses(counts []reportCount) []string {
	var out []string
	for _, sc := range counts {
		if migrate.NeedsAction(sc.status) {
			out = append(out, sc.status)
		}
	}
	return out
}

// trimWriter drops the spaces a tabwriter pads the last cell of a line
// with.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// numberDetail is why a number failed and what to do next.
func numberDetail(n *migrate.NumberState) string {
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
	Input   migrate.Input  `json:"input"`
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

// writeStatusJSON writes the status document, one number at a time.
func (m *migration) writeStatusJSON(ctx context.Context) error {
	meta, err := m.store.Meta(ctx)
	if err != nil {
		return err
	}
	p, err := migrate.Summarize(ctx, m.store)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(m.c.stdout)
	head := statusDocument{Journal: m.path, Input: meta.Input, Counts: p.Counts, Batches: []statusBatch{}}
	for i := 1; i <= meta.Batches; i++ {
		b, err := m.store.Batch(ctx, i)
		if err != nil {
			return err
		}
		sids := b.BulkHostingSIDs
		if sids == nil {
			sids = []string{}
		}
		head.Batches = append(head.Batches, statusBatch{Index: b.Index, State: string(b.State), BulkHostingSIDs: sids, Numbers: b.Size})
	}
	data, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	// The document without its numbers ends in `"numbers": null\n}`: write
	// all of it but that, then the numbers one by one.
	cut := strings.LastIndex(string(data), `"numbers": null`)
	if cut < 0 {
		return errors.New("encoding the report")
	}
	_, _ = w.Write(data[:cut])
	_, _ = w.WriteString(`"numbers": [`)
	first := true
	err = m.eachRow(ctx, func(r reportRow) error {
		doc := statusNumber{
			PhoneNumber: r.n.PhoneNumber(), Line: r.n.Line, Batch: r.batch, Status: r.status,
			BulkHostingSID:     optional(r.n.BulkHostingSID),
			HostingOrderSID:    optional(r.n.HostingOrderSID),
			FailureReason:      r.n.FailureReason,
			NextStep:           r.n.NextStep,
			SigningDocumentSID: optional(r.n.SigningDocumentSID),
			LOAStatus:          optional(r.n.LOAStatus),
		}
		nd, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		if !first {
			_, _ = w.WriteString(",")
		}
		first = false
		_, _ = w.WriteString("\n    ")
		_, err = w.Write(nd)
		return err
	})
	if err != nil {
		return err
	}
	if !first {
		_, _ = w.WriteString("\n  ")
	}
	_, _ = w.WriteString("]\n}\n")
	return w.Flush()
}

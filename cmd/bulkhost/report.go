package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	row := func(r migrate.ReportRow) string {
		line := fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s", oneLine(r.Status), r.Number.PhoneNumber(), r.Batch, dash(r.Number.HostingOrderSID), dash(oneLine(r.Number.LOAStatus)), numberDetail(&r.Number))
		return strings.TrimRight(line, "\t")
	}
	if m.cfg != nil && m.cfg.table {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		rows := 0
		err := eachRow(ctx, m.store, func(r migrate.ReportRow) error {
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
	counts := migrate.CountsInOrder(p.Counts)
	nameWidth, countWidth := 0, 0
	for _, sc := range counts {
		nameWidth = max(nameWidth, len(sc.Status))
		countWidth = max(countWidth, len(strconv.Itoa(sc.Numbers)))
	}
	action := 0
	for _, sc := range counts {
		fmt.Fprintf(w, "  %-*s  %*d\n", nameWidth, oneLine(sc.Status), countWidth, sc.Numbers)
		if migrate.NeedsAction(sc.Status) {
			action += sc.Numbers
		}
	}
	if (m.cfg != nil && m.cfg.table) || action == 0 {
		return w.Flush()
	}
	fmt.Fprintf(w, "\n%d number%s need%s action:\n", action, plural(action), verbS(action))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	shown := 0
	err = eachRow(ctx, m.store, func(r migrate.ReportRow) error {
		if !migrate.NeedsAction(r.Status) {
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
func actionStatuses(counts []migrate.StatusCount) []string {
	var out []string
	for _, sc := range counts {
		if migrate.NeedsAction(sc.Status) {
			out = append(out, sc.Status)
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
	err = eachRow(ctx, m.store, func(r migrate.ReportRow) error {
		doc := statusNumber{
			PhoneNumber: r.Number.PhoneNumber(), Line: r.Number.Line, Batch: r.Batch, Status: r.Status,
			BulkHostingSID:     optional(r.Number.BulkHostingSID),
			HostingOrderSID:    optional(r.Number.HostingOrderSID),
			FailureReason:      r.Number.FailureReason,
			NextStep:           r.Number.NextStep,
			SigningDocumentSID: optional(r.Number.SigningDocumentSID),
			LOAStatus:          optional(r.Number.LOAStatus),
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

// eachRow calls fn for every number of the journal, grouped by report
// status (migrate.ReportRows), until fn returns an error.
func eachRow(ctx context.Context, st migrate.Store, fn func(migrate.ReportRow) error) error {
	for r, err := range migrate.ReportRows(ctx, st) {
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

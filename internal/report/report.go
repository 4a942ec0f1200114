// Package report writes bulkhost's report of a migration: the summary
// (the count per status and the numbers that need action), the table of
// every number, and the -status -json document.
package report

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Options says what Write prints.
type Options struct {
	// Journal is the journal's path, as the report names it.
	Journal string
	// Table prints every number, one line each, instead of the numbers
	// that need action.
	Table bool
}

// OneLine is s on one line: every run of white space one space.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// BatchSummary reads like "3 batches: 2 accepted, 1 outcome unknown".
func BatchSummary(p migrate.Progress) string {
	var parts []string
	for _, s := range []migrate.BatchState{migrate.StateAccepted, migrate.StateSending, migrate.StateUnknown, migrate.StateRejected, migrate.StatePlanned} {
		if p.States[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.States[s], strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	return fmt.Sprintf("%d batch%s: %s", p.Batches, pluralES(p.Batches), strings.Join(parts, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// Write prints the journal's numbers: with Options.Table as a
// table of every number grouped by status; otherwise as a summary, the
// count per status and the numbers that need action (at most
// actionRows of them, then how to list the rest).
func Write(ctx context.Context, out io.Writer, st migrate.Store, o Options) error {
	w := bufio.NewWriter(out)
	header := "STATUS\tPHONE NUMBER\tBATCH\tHOSTED NUMBER ORDER\tLOA\tDETAIL"
	row := func(r migrate.ReportRow) string {
		line := fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s", OneLine(r.Status), r.Number.PhoneNumber(), r.Batch, Dash(r.Number.HostingOrderSID), Dash(OneLine(r.Number.LOAStatus)), NumberDetail(&r.Number))
		return strings.TrimRight(line, "\t")
	}
	if o.Table {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		rows := 0
		err := Rows(ctx, st, func(r migrate.ReportRow) error {
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
	p, err := migrate.Summarize(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Journal %s: %s; %d number%s\n", o.Journal, BatchSummary(p), p.Numbers, plural(p.Numbers))
	counts := migrate.CountsInOrder(p.Counts)
	nameWidth, countWidth := 0, 0
	for _, sc := range counts {
		nameWidth = max(nameWidth, len(sc.Status))
		countWidth = max(countWidth, len(strconv.Itoa(sc.Numbers)))
	}
	action := 0
	for _, sc := range counts {
		fmt.Fprintf(w, "  %-*s  %*d\n", nameWidth, OneLine(sc.Status), countWidth, sc.Numbers)
		if migrate.NeedsAction(sc.Status) {
			action += sc.Numbers
		}
	}
	if o.Table || action == 0 {
		return w.Flush()
	}
	fmt.Fprintf(w, "\n%d number%s need%s action:\n", action, plural(action), verbS(action))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	shown := 0
	err = Rows(ctx, st, func(r migrate.ReportRow) error {
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
		fmt.Fprintf(w, "… and %d more: list them all with\n  bulkhost -export - -export-status %s -state %s\n", action-shown, strings.Join(actionStatuses(counts), ","), o.Journal)
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

// Dash is s, or "-" for nothing.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// NumberDetail is why a number failed and what to do next.
func NumberDetail(n *migrate.NumberState) string {
	var parts []string
	if n.FailureReason != nil {
		if r := OneLine(*n.FailureReason); r != "" {
			parts = append(parts, r)
		}
	}
	if n.NextStep != nil {
		if s := OneLine(*n.NextStep); s != "" {
			parts = append(parts, "next step: "+s)
		}
	}
	return strings.Join(parts, "; ")
}

// Document is what -status -json prints. Its shape is part of the
// command's interface: see bulkhost's documentation.
type Document struct {
	Journal string         `json:"journal"`
	Input   migrate.Input  `json:"input"`
	Counts  map[string]int `json:"counts"`
	Batches []Batch        `json:"batches"`
	Numbers []Number       `json:"numbers"`
}

// Batch is one batch of a Document.
type Batch struct {
	Index           int      `json:"index"`
	State           string   `json:"state"`
	BulkHostingSIDs []string `json:"bulk_hosting_sids"`
	Numbers         int      `json:"numbers"`
}

// Number is one number of a Document (and of -export's JSON).
type Number struct {
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

// Optional is s, or nil for nothing (JSON null).
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// WriteJSON writes the status Document of the migration in st, kept at
// journal, one number at a time.
func WriteJSON(ctx context.Context, out io.Writer, st migrate.Store, journal string) error {
	meta, err := st.Meta(ctx)
	if err != nil {
		return err
	}
	p, err := migrate.Summarize(ctx, st)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	head := Document{Journal: journal, Input: meta.Input, Counts: p.Counts, Batches: []Batch{}}
	for i := 1; i <= meta.Batches; i++ {
		b, err := st.Batch(ctx, i)
		if err != nil {
			return err
		}
		sids := b.BulkHostingSIDs
		if sids == nil {
			sids = []string{}
		}
		head.Batches = append(head.Batches, Batch{Index: b.Index, State: string(b.State), BulkHostingSIDs: sids, Numbers: b.Size})
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
	err = Rows(ctx, st, func(r migrate.ReportRow) error {
		doc := Number{
			PhoneNumber: r.Number.PhoneNumber(), Line: r.Number.Line, Batch: r.Batch, Status: r.Status,
			BulkHostingSID:     Optional(r.Number.BulkHostingSID),
			HostingOrderSID:    Optional(r.Number.HostingOrderSID),
			FailureReason:      r.Number.FailureReason,
			NextStep:           r.Number.NextStep,
			SigningDocumentSID: Optional(r.Number.SigningDocumentSID),
			LOAStatus:          Optional(r.Number.LOAStatus),
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

// Rows calls fn for every number of the migration, grouped by report
// status (migrate.ReportRows), until fn returns an error.
func Rows(ctx context.Context, st migrate.Store, fn func(migrate.ReportRow) error) error {
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

package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hostednumbers/hostednumbers-go"
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

// statusMode is -status: refresh every number of the journal, show it,
// and with -wait follow until every submitted number is done.
func (c *cli) statusMode(ctx context.Context, cfg *config) error {
	path, st, err := c.openJournal(cfg)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }() // every step was synced when taken
	meta, err := st.Meta(ctx)
	if errors.Is(err, migrate.ErrNoMigration) {
		return failf("-status: there is no journal at %s: submit the numbers first (the same command without -status)", path)
	}
	if err != nil {
		return failf("journal %s: %v", path, err)
	}
	if demoJournal(meta) {
		return failf("journal %s is the demo's: its fake server is gone with the run that made it", st.path)
	}
	client, cleanup, err := c.client(cfg)
	if err != nil {
		return failed(err)
	}
	defer cleanup()
	eng, err := migrate.New(migrate.Options{Client: c.engineAPI(client), Store: st.Store, Wait: cfg.wait, Poll: cfg.poll, Clock: c.engineClock()})
	if err != nil {
		return failed(err)
	}
	return c.followStore(ctx, eng, st, cfg)
}

// followStore refreshes the journal's numbers from Twilio, with -wait
// until every submitted number is completed or failed, then reports them.
func (c *cli) followStore(ctx context.Context, eng *migrate.Migrator, st *journal, cfg *config) error {
	meta, err := st.Meta(ctx)
	if err != nil {
		return failf("journal %s: %v", st.path, err)
	}
	p := newProgress(c.stderr, c.terminal(c.stderr), cfg.jsonOut)
	track := newTracker(p, st, c.clock, c.progressEvery)
	if cfg.wait {
		p.start(fmt.Sprintf("bulkhost: following the %d number%s of journal %s", meta.Input.Numbers, plural(meta.Input.Numbers), st.path))
		track.begin(ctx, "following")
	}
	eng = mustNew(eng.Options(func(o *migrate.Options) {
		prev := o.OnEvent
		o.OnEvent = func(ev migrate.Event) {
			if ev.Kind == migrate.EventRefreshed {
				track.tick(ctx, false)
				if !ev.Settled && cfg.wait && c.checkpoint != nil {
					c.checkpoint(stepMidWait) // the wait for the next refresh begins
				}
				return
			}
			p.clear()
			prev(ev)
		}
	}))
	_, err = eng.Follow(ctx)
	track.tick(ctx, true)
	p.done()
	if err != nil {
		what := "refreshing the numbers"
		if ctx.Err() != nil {
			what = "following the numbers"
		}
		failure := c.apiError(ctx, what, err, cfg)
		failure.hints = append(failure.hints, fmt.Sprintf("the journal %s keeps what was known before; follow the numbers again with the same command.", st.path))
		return failure
	}
	return c.report(context.WithoutCancel(ctx), st, cfg)
}

func mustNew(o migrate.Options) *migrate.Migrator {
	m, err := migrate.New(o)
	if err != nil {
		panic(err) // options of a Migrator New has accepted
	}
	return m
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

// report prints every number of the journal, as a table or JSON, and
// returns the exit status: 0 all completed, 1 some failed or need action,
// 3 some still on their way.
func (c *cli) report(ctx context.Context, st *journal, cfg *config) error {
	m := &migration{c: c, cfg: cfg, store: st, path: st.path}
	if err := m.writeReport(ctx, cfg.jsonOut); err != nil {
		return failf("writing the report: %v", err)
	}
	p, err := migrate.Summarize(ctx, st)
	if err != nil {
		return failf("journal %s: %v", st.path, err)
	}
	action, pending, unsent, canceled := 0, 0, 0, 0
	for s, n := range p.Counts {
		switch {
		case migrate.NeedsAction(s) || s == migrate.StatusCheckFailed:
			action += n
			if s == migrate.StatusCanceled {
				canceled += n
			}
		case s == statusNotSubmitted || s == statusUnknown:
			unsent += n
		case s == migrate.StatusWithdrawn || s == string(hostednumbers.OrderStatusCompleted):
		default:
			pending += n
		}
	}
	// A batch in doubt, planned or refused is not done, whatever its
	// numbers' statuses say (a look may have found some of them).
	open := 0
	for state, n := range p.States {
		if state.InDoubt() || state == migrate.StatePlanned || state == migrate.StateRejected {
			open += n
		}
	}
	if unsent > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s %s not submitted yet (or not known to be): run the submit command again to resume.\n", unsent, plural(unsent), pluralVerb(unsent))
	} else if open > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d batch%s %s in doubt or not submitted yet: run the submit command again to resume.\n", open, pluralES(open), pluralVerb(open))
		unsent = open
	}
	if canceled > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s %s cancelled at Twilio (the order is gone): submit %s again with -resubmit canceled if %s should be hosted.\n",
			canceled, plural(canceled), pluralVerb(canceled), map[bool]string{true: "it", false: "them"}[canceled == 1], map[bool]string{true: "it", false: "they"}[canceled == 1])
	}
	if action > 0 {
		return &runError{code: exitFailures, msg: fmt.Sprintf("%d number%s failed or need%s action: see the DETAIL of each.", action, plural(action), verbS(action))}
	}
	if pending+unsent > 0 {
		if pending > 0 {
			return &runError{code: exitPending, msg: fmt.Sprintf("%d number%s %s still on the way: follow them with bulkhost -live -status -state %s -wait", pending, plural(pending), pluralVerb(pending), st.path)}
		}
		return exitWith(exitPending)
	}
	return nil
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

var _ io.Writer = (*bufio.Writer)(nil)

// exportMode is -export: write the journal's numbers (those in
// -export-status, or all) to a file, as CSV or as a JSON array, for the
// people who fix them. It reads the journal only.
func (c *cli) exportMode(ctx context.Context, cfg *config) error {
	path, st, err := c.openJournal(cfg)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }() // read only
	if _, err := st.Meta(ctx); err != nil {
		return failf("-export: there is no journal at %s", path)
	}
	want := map[string]bool{}
	for _, s := range strings.Split(cfg.exportStatus, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	out := io.Writer(c.stdout)
	var file *os.File
	if cfg.export != "-" {
		file, err = os.OpenFile(cfg.export, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600) //nolint:gosec // the file the operator named
		if err != nil {
			return failf("-export: %v (bulkhost does not overwrite a file)", err)
		}
		out = file
	}
	w := bufio.NewWriter(out)
	asJSON := strings.HasSuffix(strings.ToLower(cfg.export), ".json")
	m := &migration{c: c, cfg: cfg, store: st, path: st.path}
	var cw *csv.Writer
	if asJSON {
		_, _ = w.WriteString("[")
	} else {
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"phone_number", "status", "batch", "line", "bulk_hosting_sid", "hosting_order_sid", "failure_reason", "next_step", "signing_document_sid", "loa_status"})
	}
	n := 0
	err = m.eachRow(ctx, func(r reportRow) error {
		if len(want) > 0 && !want[r.status] {
			return nil
		}
		n++
		if asJSON {
			data, err := json.Marshal(statusNumber{
				PhoneNumber: r.n.PhoneNumber(), Line: r.n.Line, Batch: r.batch, Status: r.status,
				BulkHostingSID: optional(r.n.BulkHostingSID), HostingOrderSID: optional(r.n.HostingOrderSID),
				FailureReason: r.n.FailureReason, NextStep: r.n.NextStep,
				SigningDocumentSID: optional(r.n.SigningDocumentSID), LOAStatus: optional(r.n.LOAStatus),
			})
			if err != nil {
				return err
			}
			if n > 1 {
				_, _ = w.WriteString(",")
			}
			_, _ = w.WriteString("\n  ")
			_, err = w.Write(data)
			return err
		}
		deref := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		return cw.Write([]string{r.n.PhoneNumber(), r.status, strconv.Itoa(r.batch), strconv.Itoa(r.n.Line), r.n.BulkHostingSID, r.n.HostingOrderSID,
			deref(r.n.FailureReason), deref(r.n.NextStep), r.n.SigningDocumentSID, r.n.LOAStatus})
	})
	if err == nil {
		if asJSON {
			_, _ = w.WriteString("\n]\n")
		} else {
			cw.Flush()
			err = cw.Error()
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return failf("-export: %v", err)
	}
	fmt.Fprintf(c.stderr, "bulkhost: exported %d number%s from journal %s to %s.\n", n, plural(n), st.path, cfg.export)
	return nil
}

// openJournal opens the journal that -state (or the CSV's path) names, for
// -status and -export, or says why it cannot.
func (c *cli) openJournal(cfg *config) (string, *journal, error) {
	path, err := statePath(cfg)
	if err != nil {
		return "", nil, badCommandLine(err.Error())
	}
	st, err := c.openStore(path)
	if err != nil {
		return "", nil, failed(err)
	}
	return path, st, nil
}

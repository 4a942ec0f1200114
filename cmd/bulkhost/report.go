package main

import (
	"context"

	"github.com/hostednumbers/hostednumbers-go/internal/report"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Report statuses of numbers Twilio does not (or is not known to) hold.
const (
	statusNotSubmitted = migrate.StatusNotSubmitted
	statusRejected     = migrate.StatusRejected
	statusUnknown      = migrate.StatusUnknown
	statusSubmitted    = migrate.StatusSubmitted
)

// writeReport prints the journal's numbers (report.Write, or with asJSON
// report.WriteJSON).
func (m *migration) writeReport(ctx context.Context, asJSON bool) error {
	if asJSON {
		return report.WriteJSON(ctx, m.c.stdout, m.store, m.path)
	}
	return report.Write(ctx, m.c.stdout, m.store, report.Options{Journal: m.path, Table: m.cfg != nil && m.cfg.table})
}

// The report's JSON documents, as the command's tests read them.
type (
	statusDocument = report.Document
	statusNumber   = report.Number
)

// eachRow calls fn for every number of the journal, grouped by report
// status, until fn returns an error.
func eachRow(ctx context.Context, st migrate.Store, fn func(migrate.ReportRow) error) error {
	return report.Rows(ctx, st, fn)
}

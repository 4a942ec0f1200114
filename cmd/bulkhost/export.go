package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/hostednumbers/hostednumbers-go/internal/report"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// exportMode is -export: write the journal's numbers (those in
// -export-status, or all) to a file, as CSV or as a JSON array, for the
// people who fix them. It reads the journal only.
func (c *cli) exportMode(ctx context.Context, cfg *config) error {
	path, st, err := c.openJournal(ctx, cfg)
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
	var cw *csv.Writer
	if asJSON {
		_, _ = w.WriteString("[")
	} else {
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"phone_number", "status", "batch", "line", "bulk_hosting_sid", "hosting_order_sid", "failure_reason", "next_step", "signing_document_sid", "loa_status"})
	}
	n := 0
	err = eachRow(ctx, st, func(r migrate.ReportRow) error {
		if len(want) > 0 && !want[r.Status] {
			return nil
		}
		n++
		if asJSON {
			data, err := json.Marshal(report.Number{
				PhoneNumber: r.Number.PhoneNumber(), Line: r.Number.Line, Batch: r.Batch, Status: r.Status,
				BulkHostingSID: report.Optional(r.Number.BulkHostingSID), HostingOrderSID: report.Optional(r.Number.HostingOrderSID),
				FailureReason: r.Number.FailureReason, NextStep: r.Number.NextStep,
				SigningDocumentSID: report.Optional(r.Number.SigningDocumentSID), LOAStatus: report.Optional(r.Number.LOAStatus),
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
		return cw.Write([]string{r.Number.PhoneNumber(), r.Status, strconv.Itoa(r.Batch), strconv.Itoa(r.Number.Line), r.Number.BulkHostingSID, r.Number.HostingOrderSID,
			deref(r.Number.FailureReason), deref(r.Number.NextStep), r.Number.SigningDocumentSID, r.Number.LOAStatus})
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
func (c *cli) openJournal(ctx context.Context, cfg *config) (string, *journal, error) {
	path, err := statePath(cfg)
	if err != nil {
		return "", nil, badCommandLine(err.Error())
	}
	st, err := c.openStore(ctx, cfg, path)
	if err != nil {
		return "", nil, failed(err)
	}
	return path, st, nil
}

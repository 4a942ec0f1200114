package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/report"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

func TestHelpers(t *testing.T) {
	assert.Equal(t, "a b c", report.OneLine(" a\n b\t\tc "))
	assert.Equal(t, "-", report.Dash(""))
	assert.Equal(t, "x", report.Dash("x"))
	assert.Nil(t, report.Optional(""))
	assert.Equal(t, "x", *report.Optional("x"))
	reason, next := "LOA\nunsigned", "sign it"
	assert.Equal(t, "LOA unsigned; next step: sign it", report.NumberDetail(&migrate.NumberState{FailureReason: &reason, NextStep: &next}))
	assert.Empty(t, report.NumberDetail(&migrate.NumberState{}))
	assert.Equal(t, "3 batches: 1 accepted, 2 planned", report.BatchSummary(migrate.Progress{Batches: 3,
		States: map[migrate.BatchState]int{migrate.StateAccepted: 1, migrate.StatePlanned: 2}}))
}

// The summary counts every status and the JSON document lists every
// number, with nulls for what is not known.
func TestWriteAndWriteJSON(t *testing.T) {
	ctx := context.Background()
	st, err := logstore.Open(filepath.Join(t.TempDir(), "m.log"), logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	numbers := func(yield func(migrate.NumberState, error) bool) {
		for i, p := range []string{"+14155550101", "+14155550102", "+14155550103"} {
			if !yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: p}, Line: i + 2}, nil) {
				return
			}
		}
	}
	require.NoError(t, st.Start(ctx, migrate.Meta{BatchSize: 2, Input: migrate.Input{Name: "in.csv", Numbers: 3},
		Contact: migrate.Contact{Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef"}}, migrate.Batches(numbers, 2)))

	var out bytes.Buffer
	require.NoError(t, report.Write(ctx, &out, st, report.Options{Journal: "j.json"}))
	assert.Equal(t, "Journal j.json: 2 batches: 2 planned; 3 numbers\n  not-submitted  3\n", out.String())

	out.Reset()
	require.NoError(t, report.Write(ctx, &out, st, report.Options{Journal: "j.json", Table: true}))
	assert.Contains(t, out.String(), "STATUS         PHONE NUMBER  BATCH  HOSTED NUMBER ORDER  LOA  DETAIL\nnot-submitted  +14155550101  1      -                    -\n")

	out.Reset()
	require.NoError(t, report.WriteJSON(ctx, &out, st, "j.json"))
	var doc report.Document
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&doc))
	assert.Equal(t, "j.json", doc.Journal)
	assert.Equal(t, map[string]int{migrate.StatusNotSubmitted: 3}, doc.Counts)
	require.Len(t, doc.Batches, 2)
	assert.Equal(t, []string{}, doc.Batches[0].BulkHostingSIDs)
	require.Len(t, doc.Numbers, 3)
	assert.Equal(t, report.Number{PhoneNumber: "+14155550103", Line: 4, Batch: 2, Status: migrate.StatusNotSubmitted}, doc.Numbers[2])
}

package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// A journal whose Meta.App is not bulkhost's mark (another program's, or
// none) is refused and left as it is; one with the mark is resumed, and
// the mark is what a journal of version 0.2.0 had as its tool.
func TestJournalOfAnotherProgramIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		app  json.RawMessage
		want string
	}{
		{"another program", json.RawMessage(`{"tool":"other"}`), `was made by "other", not bulkhost`},
		{"no mark", nil, "was made by another program, not bulkhost"},
		{"not an object", json.RawMessage(`[1]`), "was made by another program, not bulkhost"},
		{"bulkhost", appMark(false), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			csvPath := writeCSV(t, threeNumbers)
			path := filepath.Join(t.TempDir(), "j.json")
			in := readHarnessInput(t, csvPath)
			st, err := logstore.Open(path, logstore.Options{})
			require.NoError(t, err)
			meta := migrate.Meta{App: tc.app, Input: in.id, BatchSize: 1000,
				Contact: migrate.Contact{Email: "owner@example.com", AddressSID: addressSID}}
			require.NoError(t, st.Start(t.Context(), meta, migrate.Batches(numberSeq(in.states()), 1000)))
			require.NoError(t, st.Close())

			code := h.run(submitArgs(csvPath, "-state", path)...)
			if tc.want == "" {
				assert.Equal(t, exitOK, code)
				assert.Contains(t, h.stderr.String(), "resuming from journal")
				return
			}
			assert.Equal(t, exitError, code)
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Empty(t, h.srv.Requests(), "nothing is sent")
		})
	}
	var old app
	require.NoError(t, json.Unmarshal(appMark(true), &old))
	assert.Equal(t, app{Tool: "bulkhost", Demo: true}, old)
}

// readHarnessInput reads a CSV as a live submit does.
func readHarnessInput(t *testing.T, csvPath string) *input {
	t.Helper()
	c := &cli{}
	in := c.readInput(t.Context(), &config{csvPath: csvPath, email: "owner@example.com", addressSID: addressSID, dryRun: true})
	require.Empty(t, in.problems)
	return in
}

// states are the input's numbers as the journal records them.
func (in *input) states() []migrate.NumberState {
	out := make([]migrate.NumberState, len(in.list.Numbers))
	for i, n := range in.list.Numbers {
		out[i] = migrate.NumberState{Number: n, Line: in.list.Lines[i]}
	}
	return out
}

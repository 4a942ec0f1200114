package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testJournal(t *testing.T, path string) *journal {
	t.Helper()
	in := journalInput{Name: "numbers.csv", SHA256: strings.Repeat("ab", 32), Numbers: 5}
	return newJournal(path, nil, in, fivePhones, []int{2, 3, 4, 5, 6}, 2, time.Now)
}

func TestNewJournalPlansBatches(t *testing.T) {
	j := testJournal(t, filepath.Join(t.TempDir(), "j.json"))
	require.Len(t, j.Batches, 3)
	assert.Equal(t, []batchState{statePlanned, statePlanned, statePlanned}, batchStates(j))
	for i, size := range []int{2, 2, 1} {
		assert.Equal(t, i+1, j.Batches[i].Index)
		assert.Len(t, j.Batches[i].Numbers, size)
	}
	assert.Equal(t, "+14155550105", j.Batches[2].Numbers[0].PhoneNumber)
	assert.Equal(t, 6, j.Batches[2].Numbers[0].Line)
	assert.Same(t, j.Batches[1], j.batch["+14155550103"])
}

func TestJournalSaveAndLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.json")
	j := testJournal(t, path)
	b := j.Batches[0]
	b.State = stateAccepted
	b.BulkHostingSIDs = []string{"BH0123456789abcdef0123456789abcdef"}
	reason := "not eligible"
	b.Numbers[0].BulkHostingSID = b.BulkHostingSIDs[0]
	b.Numbers[0].HostingOrderSID = "HR0123456789abcdef0123456789abcdef"
	b.Numbers[0].Status = "failed"
	b.Numbers[0].FailureReason = &reason
	b.Attempts = []attempt{{Kind: "create", Started: time.Now().UTC(), Numbers: 2, Outcome: "accepted", RequestID: "RQ1"}}
	require.NoError(t, j.save())

	got, err := loadJournal(path, nil, time.Now)
	require.NoError(t, err)
	assert.Equal(t, j.Batches[0].Numbers[0], got.Batches[0].Numbers[0])
	assert.Equal(t, j.Batches[0].Attempts[0].RequestID, got.Batches[0].Attempts[0].RequestID)
	assert.Equal(t, batchStates(j), batchStates(got))
	assert.NoError(t, got.matches(j.Input))

	// Saved through a temporary file that is gone afterwards, readable by
	// its owner only.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestLoadJournalMissing(t *testing.T) {
	j, err := loadJournal(filepath.Join(t.TempDir(), "none.json"), nil, time.Now)
	require.NoError(t, err)
	assert.Nil(t, j)
}

func TestWriteFileDurableKeepsOldContentOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.json")
	require.NoError(t, writeFileDurable(osFS{}, path, []byte("old")))
	// A directory in the way of the rename: the write fails, the old file
	// (here: the directory) is untouched and no temporary file remains.
	blocked := filepath.Join(dir, "blocked")
	require.NoError(t, os.Mkdir(blocked, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(blocked, "x"), []byte("x"), 0o600))
	assert.Error(t, writeFileDurable(osFS{}, blocked, []byte("new")))
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
	assert.Empty(t, leftovers)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(data))
	assert.Error(t, writeFileDurable(osFS{}, filepath.Join(dir, "no-such-dir", "j.json"), []byte("x")))
}

func TestLoadJournalRefusesBadJournals(t *testing.T) {
	good := testJournal(t, "")
	goodJSON, err := json.Marshal(good)
	require.NoError(t, err)
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(goodJSON, &m))
		f(m)
		out, err := json.Marshal(m)
		require.NoError(t, err)
		return string(out)
	}
	firstBatch := func(m map[string]any) map[string]any { return m["batches"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name, content, want string
	}{
		{"empty file", "", "is damaged or not a bulkhost journal"},
		{"truncated", string(goodJSON[:len(goodJSON)/2]), "is damaged or not a bulkhost journal"},
		{"another program's JSON", `{"name": "x"}`, "is not a bulkhost journal"},
		{"newer format", edit(func(m map[string]any) { m["format"] = journalFormat + 1 }), "was written by a newer bulkhost (journal format 3; this bulkhost reads format 2 and older)"},
		{"unknown member", edit(func(m map[string]any) { m["surprise"] = true }), `unknown field "surprise"`},
		{"unknown state", edit(func(m map[string]any) { firstBatch(m)["state"] = "lost" }), `batch 1: unknown state "lost"`},
		{"accepted without SID", edit(func(m map[string]any) { firstBatch(m)["state"] = "accepted" }), "batch 1 is accepted but names no bulk hosting SID"},
		{"hostile SID", edit(func(m map[string]any) { firstBatch(m)["bulk_hosting_sids"] = []string{"../../Accounts"} }), `"../../Accounts" is not a bulk hosting SID`},
		{"number count", edit(func(m map[string]any) { m["input"].(map[string]any)["numbers"] = 6 }), "it lists 5 numbers, input.numbers says 6"},
		{"data after", string(goodJSON) + "{}", "is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			j, err := loadJournal(path, nil, time.Now)
			require.Error(t, err)
			assert.Nil(t, j)
			var je *journalError
			require.ErrorAs(t, err, &je)
			assert.Contains(t, err.Error(), "journal "+path+": ")
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "-state")
		})
	}
}

func TestJournalForAnotherInput(t *testing.T) {
	j := testJournal(t, "/x/j.json")
	err := j.matches(journalInput{Name: "other.csv", SHA256: strings.Repeat("cd", 32), Numbers: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was made for another input (numbers.csv, 5 numbers, sha256 abababababab…), not for other.csv (3 numbers, sha256 cdcdcdcdcdcd…)")
}

// A run refuses a journal it cannot trust, sends nothing, and leaves the
// file exactly as it was.
func TestRunRefusesJournalAndNeverOverwritesIt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content func(t *testing.T, csvPath string) []byte
		want    string
	}{
		{"damaged", func(*testing.T, string) []byte { return []byte(`{"format": 1, "tool": "bulkhost", "batches": [`) }, "is damaged"},
		{"newer", func(*testing.T, string) []byte { return []byte(`{"format": 99, "tool": "bulkhost", "future": {}}`) }, "was written by a newer bulkhost"},
		{"other input", func(t *testing.T, csvPath string) []byte {
			// A journal made for the same file with one number less.
			h := newHarness(t)
			other := writeCSV(t, "phone_number\n+14155550101\n+14155550102\n")
			require.Equal(t, exitOK, h.run(submitArgs(other, "-state", csvPath+".tmp-journal")...))
			data, err := os.ReadFile(csvPath + ".tmp-journal")
			require.NoError(t, err)
			return data
		}, "was made for another input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			csvPath := writeCSV(t, threeNumbers)
			content := tc.content(t, csvPath)
			path := csvPath + journalSuffix
			require.NoError(t, os.WriteFile(path, content, 0o600))
			require.Equal(t, exitError, h.run(submitArgs(csvPath, "-wait")...))
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Contains(t, h.stderr.String(), "bulkhost does not overwrite it")
			assert.Empty(t, h.srv.Requests())
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, content, data, "the journal is left as it was")
		})
	}
}

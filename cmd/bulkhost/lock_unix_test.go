//go:build unix

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalInUseIsRefused(t *testing.T) {
	h := newHarness(t)
	csvPath := writeCSV(t, threeNumbers)
	unlock, err := lockJournal(csvPath + journalSuffix)
	require.NoError(t, err)
	require.Equal(t, exitError, h.run(submitArgs(csvPath)...))
	assert.Contains(t, h.stderr.String(), "is in use by another bulkhost run")
	assert.Empty(t, h.srv.Requests())
	assert.NoFileExists(t, csvPath+journalSuffix)

	unlock()
	h.stderr.Reset()
	require.Equal(t, exitOK, h.run(submitArgs(csvPath)...))
	// -status takes the same lock.
	unlock, err = lockJournal(csvPath + journalSuffix)
	require.NoError(t, err)
	defer unlock()
	h.stderr.Reset()
	require.Equal(t, exitError, h.run("-live", "-status", "-csv", csvPath))
	assert.Contains(t, h.stderr.String(), "is in use by another bulkhost run")
}

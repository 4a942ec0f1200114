package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// The benchmarks' figures: the stats file tells how long submitting and
// following took, how many refresh passes following made and over how
// many numbers still moving; the heap profile switch leaves a profile.
func TestBenchmarkStatsAndHeapProfile(t *testing.T) {
	h := newHarness(t, hostednumberstest.WithHostingDuration(300*time.Millisecond))
	dir := t.TempDir()
	statsPath, profile := filepath.Join(dir, "stats.json"), filepath.Join(dir, "heap.pprof")
	h.env[envTestStats] = statsPath
	h.env[envTestHeapProfile] = profile
	csvPath := writeCSV(t, fiveNumbers)
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-batch-size", "2", "-wait", "-poll", "5ms")...))

	data, err := os.ReadFile(statsPath)
	require.NoError(t, err)
	var st struct {
		Written         int64   `json:"store_bytes_written"`
		Size            int64   `json:"store_size"`
		SubmitSeconds   float64 `json:"submit_seconds"`
		FollowSeconds   float64 `json:"follow_seconds"`
		RefreshPasses   int     `json:"refresh_passes"`
		NumbersFollowed int64   `json:"numbers_followed"`
	}
	require.NoError(t, json.Unmarshal(data, &st))
	assert.Positive(t, st.Written)
	assert.Positive(t, st.Size)
	assert.Positive(t, st.SubmitSeconds)
	assert.Positive(t, st.FollowSeconds)
	// Hosting takes 300ms after processing: the first pass cannot settle.
	require.GreaterOrEqual(t, st.RefreshPasses, 2)
	// Every number moves when the first pass begins; the last pass begins
	// with at least one still moving, and none moves at more than every
	// pass.
	assert.GreaterOrEqual(t, st.NumbersFollowed, int64(5+1))
	assert.LessOrEqual(t, st.NumbersFollowed, int64(5*st.RefreshPasses))

	// The profile is pprof's: a gzip stream.
	raw, err := os.ReadFile(profile)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	body, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.NotEmpty(t, body)
	_, err = os.Stat(profile + ".tmp")
	assert.ErrorIs(t, err, os.ErrNotExist, "the profile is written in place by a rename")
}

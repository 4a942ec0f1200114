package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunPrintsTheSpans(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(testCtx(t), &out))
	want := strings.Join([]string{
		"hostednumbers create bulk order ok",
		"  attempt 1 status 202",
		"hostednumbers fetch bulk order ok",
		"  attempt 1 status 503",
		"  attempt 2 status 200",
		"hostednumbers create bulk order outcome_unknown",
		"  attempt 1 status -",
		"",
	}, "\n")
	assert.Equal(t, want, out.String())
}

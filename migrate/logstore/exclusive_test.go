package logstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// The store proves when this process took it for itself: not before
// Open was called, not after it returned, and the same at every call.
func TestExclusiveSinceIsWhenTheLockWasTaken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.log")
	before := time.Now()
	st, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	after := time.Now()
	var ex migrate.Exclusive = st
	since := ex.ExclusiveSince()
	assert.False(t, since.Before(before), "never before Open was called")
	assert.False(t, since.After(after), "never after Open returned")
	assert.Equal(t, since, ex.ExclusiveSince())
	require.NoError(t, st.Close())

	again, err := logstore.Open(path, logstore.Options{})
	require.NoError(t, err)
	defer func() { _ = again.Close() }()
	assert.False(t, again.ExclusiveSince().Before(after), "a later open proves a later time")
}

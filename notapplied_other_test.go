//go:build !linux

package hostednumbers

import "testing"

// stalledListenerAddr needs Linux's handling of a full listen backlog.
func stalledListenerAddr(t *testing.T) string {
	t.Helper()
	t.Skip("a stalled dial is made with Linux's listen backlog")
	return ""
}

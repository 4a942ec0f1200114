//go:build linux

package hostednumbers

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stalledListenerAddr returns the address of a loopback socket that
// listens with a backlog of 0, already full: Linux drops every further SYN
// to it, so a dial neither succeeds nor fails until it gives up. Closing
// it at cleanup ends such dials (a SYN to a closed port is refused).
func stalledListenerAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)

	// The first connection fills the queue; the next one must stall.
	filler, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(context.Background(), "tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = filler.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if probe, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr); err == nil {
		_ = probe.Close()
		t.Skip("this kernel accepted a connection beyond a full backlog: no stalled dial to test with")
	}
	return addr
}

package hostednumbers

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBodilessRequests_GoOutWithoutABody: a GET and a DELETE go out over
// HTTP/1 with neither Content-Length nor Transfer-Encoding (no chunked
// empty body), and nothing after their headers, though the SDK hands
// them down with a body net/http will not replay.
func TestBodilessRequests_GoOutWithoutABody(t *testing.T) {
	type seen struct {
		method, contentLength string
		te                    []string
		length                int64
	}
	var (
		mu   sync.Mutex
		reqs []seen
	)
	fetched := ctFixture(t, "fetch_200.json")
	srv := newRawServer(t, func(conn net.Conn, req *http.Request, _ int) bool {
		mu.Lock()
		reqs = append(reqs, seen{req.Method, req.Header.Get("Content-Length"), req.TransferEncoding, req.ContentLength})
		mu.Unlock()
		if req.Method == http.MethodDelete {
			fmt.Fprint(conn, "HTTP/1.1 204 No Content\r\n\r\n")
			return true
		}
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(fetched), fetched)
		return true
	})
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	ctx := hostileCtx(t, 10*time.Second)
	for range 2 { // a new connection, then the same one: nothing was left unread on it
		_, err := c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
		require.NoError(t, err)
		require.NoError(t, c.HostedNumberOrders.Cancel(ctx, "HR0123456789abcdef0123456789abcdef"))
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reqs, 4)
	for _, r := range reqs {
		assert.Empty(t, r.contentLength, r.method)
		assert.Empty(t, r.te, r.method)
		assert.Zero(t, r.length, r.method)
	}
}

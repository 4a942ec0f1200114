package hostednumbers

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"
	"time"
)

func TestH2Probe(t *testing.T) {
	for _, code := range []uint32{h2CodeProtocol, h2CodeRefusedStream, h2CodeInternal} {
		srv := newH2Server(t, h2Action{reset: code})
		c, err := NewClient(WithCredentials("AC0123456789abcdef0123456789abcdef", "tok"), WithBaseURL(srv.URL), WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		c.transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: srv.roots}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = c.BulkHostedNumberOrders.Create(ctx, nil)
		cancel()
		t.Logf("code %d POST streams=%d conns=%d err=%v", code, srv.streams.Load(), srv.conns.Load(), err)
		srv.streams.Store(0)
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
		_, err = c.BulkHostedNumberOrders.Fetch(ctx, "BH0123456789abcdef0123456789abcdef", nil)
		cancel()
		t.Logf("code %d GET streams=%d conns=%d err=%v", code, srv.streams.Load(), srv.conns.Load(), err)
	}
}

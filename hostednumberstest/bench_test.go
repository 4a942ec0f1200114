package hostednumberstest_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// BenchmarkListByPhoneNumberAmongTenThousand measures one
// GET /v2/HostedNumber/Orders?PhoneNumber=… against a fake holding a
// 10 000-number migration in ten bulk requests: the lookup Reconcile makes
// for every number.
func BenchmarkListByPhoneNumberAmongTenThousand(b *testing.B) {
	// Immediate: every lookup must find its order from the first one, so
	// that the benchmark measures a real match, not an empty list.
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	b.Cleanup(srv.Close)
	client := srv.Client()
	ctx := context.Background()
	batches, numbers := migrationParams(10000, 1000)
	for _, p := range batches {
		if _, err := client.BulkHostedNumberOrders.Create(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	hc := &http.Client{Transport: srv.Transport()}
	i := 0
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			srv.URL+ordersPath+"?PhoneNumber="+url.QueryEscape(numbers[i%len(numbers)]), nil)
		if err != nil {
			b.Fatal(err)
		}
		req.SetBasicAuth(hostednumberstest.AccountSID, hostednumberstest.AuthToken)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		i++
	}
}

package hostednumbers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFetch_AllocatesNoMoreThanTheFloor keeps the promise BenchmarkFetch
// and the comparison in benchmarks/ measure: a fetch of the published
// 4-order example allocates no more than net/http plus encoding/json into
// a plain tagged struct, the floor a careful caller writes by hand. Both
// run against the same loopback server, whose allocations count for both.
func TestFetch_AllocatesNoMoreThanTheFloor(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what sync.Pool keeps, and so the counts")
	}
	body := benchFixture(t, "fetch_200.json")
	srv := benchServer(t, nil, body)
	sdk := benchSDK(t, srv)
	hc := benchHTTPClient(t)
	url := srv.URL + benchBulkPath + "/" + benchBulkSID
	ctx := context.Background()
	floor := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth(benchAccountSID, benchAuthToken)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		var out benchPlainOrder
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK || len(out.Results) == 0 {
			return fmt.Errorf("status %d, %d groups", resp.StatusCode, len(out.Results))
		}
		return nil
	}
	sdkCall := func() error {
		o, err := sdk.BulkHostedNumberOrders.Fetch(ctx, benchBulkSID, nil)
		if err == nil && len(o.Orders()) != 4 {
			err = fmt.Errorf("%d orders", len(o.Orders()))
		}
		return err
	}
	for _, call := range []func() error{floor, sdkCall} { // warm both pools
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(call func() error) float64 {
		return testing.AllocsPerRun(200, func() {
			if err := call(); err != nil {
				t.Fatal(err)
			}
		})
	}
	floorAllocs, sdkAllocs := measure(floor), measure(sdkCall)
	t.Logf("allocations per fetch of 4 orders: sdk %.0f, floor %.0f", sdkAllocs, floorAllocs)
	assert.LessOrEqual(t, sdkAllocs, floorAllocs, "the SDK allocates no more than the floor")
}

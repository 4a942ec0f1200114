package hostednumbers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The floor tests keep the promise BenchmarkCreate, BenchmarkFetch and the
// comparison in benchmarks/ measure: a call allocates no more than
// net/http plus encoding/json into and from plain tagged structs, the
// floor a careful caller writes by hand. Both run against the same
// loopback server, whose allocations count for both. They count
// allocations (testing.AllocsPerRun), which repeat from run to run, and
// never time anything.

// assertAtFloor runs each call once to warm its pools, then compares the
// allocations per call.
func assertAtFloor(t *testing.T, what string, floor, sdk func() error) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector changes what sync.Pool keeps, and so the counts")
	}
	for _, call := range []func() error{floor, sdk} { // warm both pools
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
	floorAllocs, sdkAllocs := measure(floor), measure(sdk)
	t.Logf("allocations per %s: sdk %.0f, floor %.0f", what, sdkAllocs, floorAllocs)
	assert.LessOrEqual(t, sdkAllocs, floorAllocs, "the SDK allocates no more than the floor for a %s", what)
}

// floorCall is the floor's request: in (nil: none) encoded with
// json.Marshal, basic auth, the answer decoded with json.NewDecoder.
func floorCall(ctx context.Context, hc *http.Client, method, url string, in, out any, want int) error {
	var rd io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(benchAccountSID, benchAuthToken)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestFetch_AllocatesNoMoreThanTheFloor: a fetch of the published 4-order
// example.
func TestFetch_AllocatesNoMoreThanTheFloor(t *testing.T) {
	body := benchFixture(t, "fetch_200.json")
	srv := benchServer(t, nil, body)
	sdk := benchSDK(t, srv)
	hc := benchHTTPClient(t)
	url := srv.URL + benchBulkPath + "/" + benchBulkSID
	ctx := context.Background()
	floor := func() error {
		var out benchPlainOrder
		err := floorCall(ctx, hc, http.MethodGet, url, nil, &out, http.StatusOK)
		if err == nil && len(out.Results) == 0 {
			err = fmt.Errorf("floor decoded %+v", out)
		}
		return err
	}
	sdkCall := func() error {
		o, err := sdk.BulkHostedNumberOrders.Fetch(ctx, benchBulkSID, nil)
		if err == nil && len(o.Orders()) != 4 {
			err = fmt.Errorf("%d orders", len(o.Orders()))
		}
		return err
	}
	assertAtFloor(t, "fetch of 4 orders", floor, sdkCall)
}

// TestCreate_AllocatesNoMoreThanTheFloor: a create of 10 and of 1000
// numbers, the SDK validating every field first (which the floor does
// not). The answer's request id reaches the caller unredacted: the
// benchmark server's id has nothing of the credentials in it, as
// Twilio's has not, so the comparison does not charge the SDK for
// redaction a real answer never needs.
func TestCreate_AllocatesNoMoreThanTheFloor(t *testing.T) {
	created := benchFixture(t, "create_202.json")
	for _, n := range []int{10, 1000} {
		t.Run("numbers="+strconv.Itoa(n), func(t *testing.T) {
			p := benchCreateParams(n)
			plain := benchPlain(p)
			srv := benchServer(t, created, nil)
			sdk := benchSDK(t, srv)
			hc := benchHTTPClient(t)
			url := srv.URL + benchBulkPath
			ctx := context.Background()
			floor := func() error {
				var out benchPlainOrder
				err := floorCall(ctx, hc, http.MethodPost, url, plain, &out, http.StatusAccepted)
				if err == nil && out.BulkHostingSID != benchBulkSID {
					err = fmt.Errorf("floor decoded %+v", out)
				}
				return err
			}
			sdkCall := func() error {
				o, err := sdk.BulkHostedNumberOrders.Create(ctx, p)
				switch {
				case err != nil:
				case o.BulkHostingSID != benchBulkSID:
					err = fmt.Errorf("sdk decoded %+v", o)
				case o.LastResponse.RequestID != benchRequestID:
					err = fmt.Errorf("request id %q, want %q", o.LastResponse.RequestID, benchRequestID)
				}
				return err
			}
			assertAtFloor(t, "create of "+strconv.Itoa(n)+" numbers", floor, sdkCall)
		})
	}
}

package hostednumbers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// The API's SID patterns (^BH[0-9a-fA-F]{32}$, ^HR…, ^PX…) allow the hex
// digits in either case, and Twilio answers with the canonical lower-case
// SID. A SID asked for in upper case is the same resource; a SID that
// differs in a digit is not.

const (
	sidLowerHex = "0123456789abcdef0123456789abcdef"
	sidUpperHex = "0123456789ABCDEF0123456789ABCDEF"
	sidOtherHex = "0123456789abcdef0123456789abcdee"
)

// sidServer answers every request with body(answerSID) and records the
// paths it was asked for.
func sidServer(t *testing.T, body func(t *testing.T, answerSID string) []byte, answerSID string) (*rsRecorder, *hn.Client) {
	t.Helper()
	return rsServe(t, func(w http.ResponseWriter, r *http.Request) {
		rsJSON(w, 200, body(t, answerSID))
	})
}

func bulkAnswer(t *testing.T, sid string) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rsRootFixture(t, "fetch_200.json"), &m))
	m["bulk_hosting_sid"] = sid
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func orderAnswer(t *testing.T, sid string) []byte {
	t.Helper()
	b, err := json.Marshal(rsOrderItem(t, sid, "+14155550101", nil))
	require.NoError(t, err)
	return b
}

func documentAnswer(t *testing.T, sid string) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rsFixture(t, "FetchAuthorizationDocument_200_fetch.json"), &m))
	m["sid"] = sid
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// rsRootFixture reads a file of testdata/.
func rsRootFixture(t *testing.T, name string) []byte {
	t.Helper()
	return loadFixture(t, name)
}

func TestAnswerSID_UpperCaseHexIsTheSameResourceEverywhere(t *testing.T) {
	type call func(c *hn.Client, sid string) (answered string, err error)
	calls := []struct {
		name   string
		prefix string
		body   func(*testing.T, string) []byte
		call   call
	}{
		{"bulk fetch", "BH", bulkAnswer, func(c *hn.Client, sid string) (string, error) {
			o, err := c.BulkHostedNumberOrders.Fetch(rsCtx(t), sid, nil)
			if err != nil {
				return "", err
			}
			return o.BulkHostingSID, nil
		}},
		{"bulk wait", "BH", bulkAnswer, func(c *hn.Client, sid string) (string, error) {
			o, err := c.BulkHostedNumberOrders.Wait(rsCtx(t), sid, &hn.WaitOptions{PollInterval: time.Millisecond})
			if err != nil {
				return "", err
			}
			return o.BulkHostingSID, nil
		}},
		{"bulk wait over a fetcher", "BH", bulkAnswer, func(c *hn.Client, sid string) (string, error) {
			o, err := hn.WaitForBulkOrder(rsCtx(t), fetcherOnly{c.BulkHostedNumberOrders}, sid, &hn.WaitOptions{PollInterval: time.Millisecond})
			if err != nil {
				return "", err
			}
			return o.BulkHostingSID, nil
		}},
		{"hosted number order fetch", "HR", orderAnswer, func(c *hn.Client, sid string) (string, error) {
			o, err := c.HostedNumberOrders.Fetch(rsCtx(t), sid)
			if err != nil {
				return "", err
			}
			return o.SID, nil
		}},
		{"hosted number order update", "HR", orderAnswer, func(c *hn.Client, sid string) (string, error) {
			o, err := c.HostedNumberOrders.Update(rsCtx(t), sid, &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification})
			if err != nil {
				return "", err
			}
			return o.SID, nil
		}},
		{"authorization document fetch", "PX", documentAnswer, func(c *hn.Client, sid string) (string, error) {
			d, err := c.AuthorizationDocuments.Fetch(rsCtx(t), sid)
			if err != nil {
				return "", err
			}
			return d.SID, nil
		}},
	}
	for _, tc := range calls {
		canonical := tc.prefix + sidLowerHex
		t.Run(tc.name+"/upper-case hex", func(t *testing.T) {
			asked := tc.prefix + sidUpperHex
			srv, client := sidServer(t, tc.body, canonical)
			got, err := tc.call(client, asked)
			require.NoError(t, err, "the answer names the same SID in lower case")
			assert.Equal(t, canonical, got, "the answer's SID is kept as the server wrote it")
			reqs := srv.requests()
			require.NotEmpty(t, reqs)
			assert.True(t, strings.HasSuffix(reqs[0].Path, "/"+asked), "the SID is sent as given: %s", reqs[0].Path)
		})
		t.Run(tc.name+"/mixed-case hex", func(t *testing.T) {
			_, client := sidServer(t, tc.body, canonical)
			_, err := tc.call(client, tc.prefix+sidUpperHex[:16]+sidLowerHex[16:])
			require.NoError(t, err)
		})
		t.Run(tc.name+"/another SID is refused", func(t *testing.T) {
			srv, client := sidServer(t, tc.body, tc.prefix+sidOtherHex)
			_, err := tc.call(client, tc.prefix+sidUpperHex)
			var de *hn.DecodeError
			require.ErrorAs(t, err, &de, "an answer about another resource is unusable")
			assert.Contains(t, err.Error(), "the answer is about")
			assert.Contains(t, err.Error(), tc.prefix+sidOtherHex)
			assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", de.RequestID)
			assert.Equal(t, 1, srv.count(), "not asked again")
		})
	}
}

func TestAnswerSID_UpdateAnsweredAboutAnotherOrderHasAnUnknownOutcome(t *testing.T) {
	_, client := sidServer(t, orderAnswer, "HR"+sidOtherHex)
	_, err := client.HostedNumberOrders.Update(rsCtx(t), "HR"+sidLowerHex, &hn.UpdateHostedNumberOrderParams{Status: hn.OrderStatusPendingVerification})
	require.ErrorIs(t, err, hn.ErrOutcomeUnknown, "the update was accepted: it may have changed the order")
	assert.NotErrorIs(t, err, hn.ErrNotApplied)
}

// fetcherOnly hides the service's type, so WaitForBulkOrder runs its own
// check of the answer's SID instead of calling Wait.
type fetcherOnly struct {
	f hn.BulkHostedNumberOrderFetcher
}

func (f fetcherOnly) Fetch(ctx context.Context, sid string, p *hn.FetchBulkHostedNumberOrderParams, _ ...hn.CallOption) (*hn.BulkHostedNumberOrder, error) {
	return f.f.Fetch(ctx, sid, p)
}

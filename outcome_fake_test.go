package hostednumbers_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// TestCreate_EveryFaultOfTheFakeServerIsClassified drives each fault
// hostednumberstest can inject into a create and checks two things: the
// error matches exactly one of ErrNotApplied and ErrOutcomeUnknown, the
// right one, and the fake's own state agrees (an order exists only where
// the outcome said it might).
func TestCreate_EveryFaultOfTheFakeServerIsClassified(t *testing.T) {
	tests := []struct {
		name        string
		fault       hostednumberstest.Fault
		opts        []hn.Option
		wantCreated bool // may the order exist?
		mayExist    bool // does the fake hold one?
	}{
		{"429 refused before processing", hostednumberstest.Fault{Status: http.StatusTooManyRequests, Count: 10}, []hn.Option{hn.WithMaxRetries(1)}, false, false},
		{"400 refused", hostednumberstest.Fault{Status: http.StatusBadRequest}, nil, false, false},
		{"401 refused", hostednumberstest.Fault{Status: http.StatusUnauthorized}, nil, false, false},
		{"500", hostednumberstest.Fault{Status: http.StatusInternalServerError}, nil, true, false},
		{"502 HTML page", hostednumberstest.Fault{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", ContentType: "text/html"}, nil, true, false},
		{"503", hostednumberstest.Fault{Status: http.StatusServiceUnavailable}, nil, true, false},
		{"connection dropped after the request", hostednumberstest.Fault{DropConnection: true}, nil, true, false},
		{"processed, then the connection dropped", hostednumberstest.Fault{ProcessThenDrop: true}, nil, true, true},
		{"202 with an unusable body", hostednumberstest.Fault{Status: http.StatusAccepted, Body: "not json"}, nil, true, true},
		{"answer slower than the per-attempt timeout", hostednumberstest.Fault{Latency: 2 * time.Second}, []hn.Option{hn.WithTimeout(100 * time.Millisecond)}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostednumberstest.NewServer()
			defer srv.Close()
			f := tt.fault
			f.Method = http.MethodPost
			srv.InjectFault(f)
			client := srv.Client(tt.opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			order, err := client.BulkHostedNumberOrders.Create(ctx, &hn.CreateBulkHostedNumberOrderParams{RequestItems: []hn.RequestItem{{
				Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
				Numbers: []hn.Number{{PhoneNumber: "+14155550101"}},
			}}})
			require.Error(t, err)
			assert.Nil(t, order)
			notCreated, unknown := errors.Is(err, hn.ErrNotApplied), errors.Is(err, hn.ErrOutcomeUnknown)
			assert.NotEqual(t, notCreated, unknown, "exactly one outcome: %v", err)
			assert.Equal(t, tt.wantCreated, unknown, "ErrOutcomeUnknown for %v", err)
			assert.Len(t, srv.Orders(), map[bool]int{true: 1, false: 0}[tt.mayExist], "orders the fake holds")
			if notCreated {
				assert.Empty(t, srv.Orders(), "ErrNotApplied must mean Twilio has nothing")
			}
		})
	}
}

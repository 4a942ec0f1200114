package hostednumbers_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// Each service interface carries every method its service has, so that
// code written against the interface can do all the client can.
func TestServiceInterfaces_CarryEveryMethodOfTheirService(t *testing.T) {
	for _, tt := range []struct {
		service, api reflect.Type
	}{
		{reflect.TypeFor[*hn.BulkHostedNumberOrdersService](), reflect.TypeFor[hn.BulkHostedNumberOrdersAPI]()},
		{reflect.TypeFor[*hn.HostedNumberOrdersService](), reflect.TypeFor[hn.HostedNumberOrdersAPI]()},
		{reflect.TypeFor[*hn.AuthorizationDocumentsService](), reflect.TypeFor[hn.AuthorizationDocumentsAPI]()},
		{reflect.TypeFor[*hn.EligibilityService](), reflect.TypeFor[hn.EligibilityAPI]()},
	} {
		require.True(t, tt.service.Implements(tt.api), "%v implements %v", tt.service, tt.api)
		var missing []string
		for i := range tt.service.NumMethod() {
			m := tt.service.Method(i)
			if _, ok := tt.api.MethodByName(m.Name); !ok {
				missing = append(missing, m.Name)
			}
		}
		assert.Empty(t, missing, "%v has methods %v lacks", tt.service, tt.api)
		assert.Equal(t, tt.service.NumMethod(), tt.api.NumMethod(), "%v and %v", tt.service, tt.api)
	}
}

// A mock of BulkHostedNumberOrdersAPI answers Reconcile and
// WaitForReconcile with the SDK's own functions over its hosted number
// orders; through the interface they reach the same verdict as the
// client's methods.
type reconcilingMock struct {
	hn.BulkHostedNumberOrdersAPI // the calls this test does not use
	orders                       hn.HostedNumberOrderLister
}

func (m reconcilingMock) Reconcile(ctx context.Context, p *hn.ReconcileParams, opts ...hn.CallOption) (*hn.Reconciliation, error) {
	return hn.Reconcile(ctx, m.orders, p, opts...)
}

func (m reconcilingMock) WaitForReconcile(ctx context.Context, p *hn.ReconcileParams, opts ...hn.CallOption) (*hn.Reconciliation, error) {
	return hn.WaitForReconcile(ctx, m.orders, p, opts...)
}

func TestBulkHostedNumberOrdersAPI_ReconcilesThroughTheInterface(t *testing.T) {
	numbers := rsNumbers(2)
	store := newRSStore(t)
	for _, n := range numbers {
		store.add(n, rsBH1, time.Now().UTC())
	}
	_, client := rsReconcileServer(t, store)
	for name, api := range map[string]hn.BulkHostedNumberOrdersAPI{
		"client": client.BulkHostedNumberOrders,
		"mock":   reconcilingMock{orders: client.HostedNumberOrders},
	} {
		r, err := api.Reconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: numbers}))
		require.NoError(t, err, name)
		assert.Equal(t, hn.ReconcileAllInOne, r.Verdict, name)
		r, err = api.WaitForReconcile(rsCtx(t), rsSettled(hn.ReconcileParams{PhoneNumbers: numbers}))
		require.NoError(t, err, name)
		assert.Equal(t, rsBH1, r.BulkHostingSID, name)
	}
}

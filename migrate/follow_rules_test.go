package migrate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// receivedFor keeps phone's order received (so that it can be
// cancelled) and completes the others.
func receivedFor(phone string) hostednumberstest.Option {
	return hostednumberstest.WithOutcome(func(p string) hostednumberstest.Outcome {
		if p == phone {
			return hostednumberstest.Outcome{Status: hostednumbers.OrderStatusReceived}
		}
		return hostednumberstest.Outcome{}
	})
}

// cancelAtTwilio cancels phone's order at the fake, as its owner would.
func (e *env) cancelAtTwilio(phone string) {
	e.t.Helper()
	for _, o := range e.srv.HostedNumberOrders() {
		if o.PhoneNumber == phone {
			require.NoError(e.t, e.client.HostedNumberOrders.Cancel(e.ctx, o.SID))
			return
		}
	}
	e.t.Fatalf("%s has no order", phone)
}

// Rule 8: an order cancelled at Twilio (its fetch answers 404) is an
// answer: the number is reported canceled and following ends.
func TestRuleACancelledOrderIsAnAnswer(t *testing.T) {
	e := newEnv(t, 3, 3, []hostednumberstest.Option{receivedFor(phones(3)[1])})
	m := e.migrator(func(o *Options) { o.Wait = false })
	_, err := m.Submit(e.ctx)
	require.NoError(t, err)
	e.clock.advance(time.Minute)
	_, err = m.Refresh(e.ctx)
	require.NoError(t, err)
	require.NotEmpty(t, e.store.all()[e.phones[1]].HostingOrderSID, "the order is known")
	e.cancelAtTwilio(e.phones[1])

	p, err := e.migrator(nil).Follow(e.ctx)
	require.NoError(t, err)
	assert.True(t, p.Settled)
	assert.Equal(t, map[string]int{"completed": 2, StatusCanceled: 1}, p.Counts)
	assert.Equal(t, StatusCanceled, e.statuses()[e.phones[1]])
}

// Rule 8: a processed bulk request that no longer lists a number whose
// order was never learnt means the order was cancelled.
func TestRuleANumberLeftOutOfItsProcessedRequestIsCancelled(t *testing.T) {
	e := newEnv(t, 3, 3, []hostednumberstest.Option{receivedFor(phones(3)[2])})
	_, err := e.migrator(func(o *Options) { o.Wait = false }).Submit(e.ctx)
	require.NoError(t, err)
	require.Empty(t, e.store.all()[e.phones[2]].HostingOrderSID)
	e.clock.advance(time.Minute)
	e.cancelAtTwilio(e.phones[2])

	p, err := e.migrator(nil).Follow(e.ctx)
	require.NoError(t, err)
	assert.True(t, p.Settled)
	assert.Equal(t, StatusCanceled, e.statuses()[e.phones[2]])
	assert.Equal(t, "completed", e.statuses()[e.phones[0]])
}

// Rule 9: a re-issued authorisation document is found through the
// number's order; the old one deleted (a 404) or cancelled does not stop
// the refreshes.
func TestRuleAReissuedDocumentIsFoundThroughTheOrder(t *testing.T) {
	e := newEnv(t, 2, 2, []hostednumberstest.Option{hostednumberstest.WithHostingDuration(time.Hour)})
	m := e.migrator(func(o *Options) { o.Wait = false })
	_, err := m.Submit(e.ctx)
	require.NoError(t, err)
	e.clock.advance(time.Minute)
	_, err = m.Refresh(e.ctx)
	require.NoError(t, err)
	b := e.phones[1]
	before := e.store.all()[b]
	old := before.SigningDocumentSID
	require.NotEmpty(t, old)
	require.Equal(t, "signing", before.LOAStatus)
	// The last refresh saw the order completed while its document was
	// still signing: only the document is followed from then on.
	batch := e.batch(1)
	before.Status = "completed"
	require.NoError(t, e.store.SaveBatch(e.ctx, &batch, []NumberState{before}))

	// The owner re-issues the document and deletes the old one.
	doc, err := e.client.AuthorizationDocuments.Create(e.ctx, &hostednumbers.CreateAuthorizationDocumentParams{
		HostedNumberOrderSIDs: []string{before.HostingOrderSID}, AddressSID: testAddress, Email: testEmail, ContactPhoneNumber: "+14155550000", ContactTitle: "Owner"})
	require.NoError(t, err)
	require.NoError(t, e.client.AuthorizationDocuments.Delete(e.ctx, old))

	_, err = m.Refresh(e.ctx)
	require.NoError(t, err, "a 404 on the old document does not stop the refresh")
	after := e.store.all()
	assert.Equal(t, doc.SID, after[b].SigningDocumentSID, "found through the order")
	assert.Equal(t, string(doc.Status), after[b].LOAStatus)
	assert.Equal(t, "canceled", after[e.phones[0]].LOAStatus, "the other number's order names no document any more")
}

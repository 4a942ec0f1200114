package hostednumbers_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// These tests run the whole story against the fake API server: what a
// downstream program does after it loses the answer to a create.

// e2eCreateParams is a create of five numbers for two owners.
func e2eCreateParams() *hn.CreateBulkHostedNumberOrderParams {
	return &hn.CreateBulkHostedNumberOrderParams{
		FriendlyName: "Spring migration",
		RequestItems: []hn.RequestItem{
			{
				Email:              "owner@example.com",
				AddressSID:         "AD0123456789abcdef0123456789abcdef",
				ContactPhoneNumber: "+14155550100",
				Numbers:            []hn.Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}, {PhoneNumber: "+14155550103"}},
			},
			{
				Email:   "second@example.com",
				Numbers: []hn.Number{{PhoneNumber: "+14155550201"}, {PhoneNumber: "+14155550202"}},
			},
		},
	}
}

func e2eContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func e2eCount(reqs []hostednumberstest.Request, method, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestE2E_LostCreateIsReconciledToItsBulkRequestWithoutASecondCreate(t *testing.T) {
	// In progress for an hour: the orders, made when processing starts,
	// stay received while Reconcile looks (with the default 50ms, a look
	// delayed by a busy machine saw them pending-loa).
	srv := hostednumberstest.NewServer(hostednumberstest.WithPageSize(2),
		hostednumberstest.WithProcessingDelay(hostednumberstest.DefaultQueuedFor, time.Hour))
	defer srv.Close()
	client := srv.Client()
	ctx := e2eContext(t)
	params := e2eCreateParams()
	sentAt := time.Now()

	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
	order, err := client.BulkHostedNumberOrders.Create(ctx, params)
	require.Error(t, err)
	assert.Nil(t, order)
	require.ErrorIs(t, err, hn.ErrOutcomeUnknown, "the answer was lost after the server processed the create")

	rec, err := client.BulkHostedNumberOrders.WaitForReconcile(ctx, &hn.ReconcileParams{
		Create: params, SentAt: sentAt, ReturnedAt: time.Now(), ConfirmGap: 20 * time.Millisecond,
	})
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Equal(t, 1, e2eCount(reqs, http.MethodPost, "/v2/HostedNumber/Orders/Bulk"), "the create was sent once, and Reconcile sent none")
	var created string
	for _, r := range reqs {
		if r.CreatedSID != "" {
			created = r.CreatedSID
		}
	}
	require.NotEmpty(t, created)
	assert.Equal(t, hn.ReconcileAllInOne, rec.Verdict)
	assert.Equal(t, created, rec.BulkHostingSID, "Reconcile names the bulk request the lost create made")
	assert.Empty(t, rec.Missing)
	assert.Equal(t, []string{created}, rec.BulkHostingSIDs)
	var numbers []string
	for _, n := range rec.Numbers {
		numbers = append(numbers, n.PhoneNumber)
		require.Len(t, n.Orders, 1, n.PhoneNumber)
		// Received, or already waiting for its LOA: the fake moves its
		// orders on within tens of milliseconds.
		assert.Contains(t, []hn.OrderStatus{hn.OrderStatusReceived, hn.OrderStatusPendingLOA}, n.Orders[0].Status)
	}
	assert.Equal(t, []string{"+14155550101", "+14155550102", "+14155550103", "+14155550201", "+14155550202"}, numbers)
	// The first look lists the 5 numbers; each later one only those still
	// missing (the fake's lists may show one order later than another).
	assert.GreaterOrEqual(t, e2eCount(reqs, http.MethodGet, "/v2/HostedNumber/Orders"), 5)

	// The program goes on with the order it now knows, instead of
	// submitting the numbers again.
	fetched, err := client.BulkHostedNumberOrders.Fetch(ctx, rec.BulkHostingSID, nil)
	require.NoError(t, err)
	assert.Equal(t, 5, fetched.TotalCount)
	assert.Len(t, srv.Orders(), 1, "the account holds one bulk request")
}

func TestE2E_ReconcileBeforeAnyCreateSaysNoneCreatedAndAPartialCreateListsTheMissing(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := e2eContext(t)
	params := e2eCreateParams()

	// A create sent a second ago: within the processing window, finding
	// nothing is no verdict.
	sentAt := time.Now().Add(-time.Second)
	rec, err := client.BulkHostedNumberOrders.Reconcile(ctx, &hn.ReconcileParams{Create: params, SentAt: sentAt})
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePending, rec.Verdict)
	assert.Len(t, rec.Missing, 5)
	assert.False(t, rec.RetryAt.After(rec.WindowClosesAt))

	short := func() *hn.ReconcileParams {
		return &hn.ReconcileParams{
			Create: params, SentAt: sentAt, ReturnedAt: sentAt,
			ProcessingWindow: 100 * time.Millisecond, ConfirmGap: 50 * time.Millisecond,
		}
	}
	rec, err = client.BulkHostedNumberOrders.WaitForReconcile(ctx, short())
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcileNoneCreated, rec.Verdict)
	assert.Len(t, rec.Missing, 5)

	// Only the first owner's numbers were submitted.
	first := &hn.CreateBulkHostedNumberOrderParams{RequestItems: params.RequestItems[:1]}
	created, err := client.BulkHostedNumberOrders.Create(ctx, first)
	require.NoError(t, err)
	_, err = client.BulkHostedNumberOrders.Wait(ctx, created.BulkHostingSID, &hn.WaitOptions{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	rec, err = client.BulkHostedNumberOrders.WaitForReconcile(ctx, short())
	require.NoError(t, err)
	assert.Equal(t, hn.ReconcilePartial, rec.Verdict)
	assert.Equal(t, []string{"+14155550201", "+14155550202"}, rec.Missing)
	assert.Len(t, rec.BulkHostingSIDs, 1)
}

func TestE2E_EveryOrderOfABulkRequestIsListedAcrossPages(t *testing.T) {
	// Immediate: the subject is paging, counted request by request.
	srv := hostednumberstest.NewServer(hostednumberstest.WithPageSize(2), hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client()
	ctx := e2eContext(t)

	order, err := client.BulkHostedNumberOrders.Create(ctx, e2eCreateParams())
	require.NoError(t, err)
	// Another bulk request in the same account, whose orders must not mix in.
	_, err = client.BulkHostedNumberOrders.Create(ctx, &hn.CreateBulkHostedNumberOrderParams{
		RequestItems: []hn.RequestItem{{Email: "other@example.com", Numbers: []hn.Number{{PhoneNumber: "+14155550301"}, {PhoneNumber: "+14155550302"}}}},
	})
	require.NoError(t, err)

	var mine []string
	total := 0
	for o, err := range client.HostedNumberOrders.All(ctx, nil) {
		require.NoError(t, err)
		total++
		if o.BulkHostingRequestSID.String == order.BulkHostingSID {
			mine = append(mine, o.PhoneNumber)
		}
	}
	assert.Equal(t, 7, total)
	assert.ElementsMatch(t, []string{"+14155550101", "+14155550102", "+14155550103", "+14155550201", "+14155550202"}, mine)
	assert.Equal(t, 4, e2eCount(srv.Requests(), http.MethodGet, "/v2/HostedNumber/Orders"), "seven orders, two a page: four pages")

	// Breaking out of the loop after the first page sends nothing more.
	before := e2eCount(srv.Requests(), http.MethodGet, "/v2/HostedNumber/Orders")
	for _, err := range client.HostedNumberOrders.All(ctx, nil) {
		require.NoError(t, err)
		break
	}
	assert.Equal(t, before+1, e2eCount(srv.Requests(), http.MethodGet, "/v2/HostedNumber/Orders"))
}

func TestE2E_UnsignedAuthorizationDocumentsAndTheirOrdersAreListed(t *testing.T) {
	// Immediate: the subject is listing documents at a known stage of
	// their requests, which fetches move.
	srv := hostednumberstest.NewServer(hostednumberstest.WithPageSize(2), hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client()
	ctx := e2eContext(t)

	// A first request goes all the way: its documents get signed.
	done, err := client.BulkHostedNumberOrders.Create(ctx, &hn.CreateBulkHostedNumberOrderParams{
		RequestItems: []hn.RequestItem{{Email: "done@example.com", Numbers: []hn.Number{{PhoneNumber: "+14155550401"}}}},
	})
	require.NoError(t, err)
	_, err = client.BulkHostedNumberOrders.Wait(ctx, done.BulkHostingSID, &hn.WaitOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	// A second one is in progress: its two documents wait for signatures.
	pending, err := client.BulkHostedNumberOrders.Create(ctx, e2eCreateParams())
	require.NoError(t, err)
	_, err = client.BulkHostedNumberOrders.Fetch(ctx, pending.BulkHostingSID, nil)
	require.NoError(t, err)

	var unsigned []hn.AuthorizationDocument
	for d, err := range client.AuthorizationDocuments.All(ctx, nil) {
		require.NoError(t, err)
		if d.Status.Unsigned() {
			unsigned = append(unsigned, *d)
		}
	}
	require.Len(t, unsigned, 2)
	var emails []string
	for _, d := range unsigned {
		emails = append(emails, d.Email.String)
		assert.Equal(t, hn.AuthorizationDocumentStatusSigning, d.Status)
	}
	assert.ElementsMatch(t, []string{"owner@example.com", "second@example.com"}, emails)

	signing := 0
	for d, err := range client.AuthorizationDocuments.All(ctx, &hn.ListAuthorizationDocumentsParams{Status: hn.AuthorizationDocumentStatusSigning}) {
		require.NoError(t, err)
		assert.Equal(t, hn.AuthorizationDocumentStatusSigning, d.Status)
		signing++
	}
	assert.Equal(t, 2, signing, "the Status filter keeps the same documents")

	doc := unsigned[slices.IndexFunc(unsigned, func(d hn.AuthorizationDocument) bool { return d.Email.String == "owner@example.com" })]
	fetched, err := client.AuthorizationDocuments.Fetch(ctx, doc.SID)
	require.NoError(t, err)
	assert.Equal(t, doc.SID, fetched.SID)
	var phones []string
	for o, err := range client.AuthorizationDocuments.AllDependentOrders(ctx, doc.SID, nil) {
		require.NoError(t, err)
		phones = append(phones, o.PhoneNumber)
		assert.Equal(t, hn.OrderStatusPendingLOA, o.Status)
		assert.Equal(t, doc.SID, o.SigningDocumentSID.String)
		assert.Equal(t, pending.BulkHostingSID, o.BulkHostingRequestSID.String)
	}
	assert.ElementsMatch(t, []string{"+14155550101", "+14155550102", "+14155550103"}, phones, "three orders across two pages")
}

func TestE2E_AnOrderInReceivedIsCancelledAndALaterOneIsRefusedTyped(t *testing.T) {
	// Immediate: a cancel is allowed only while received, so the test
	// moves the stages itself, by fetches.
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client()
	ctx := e2eContext(t)

	order, err := client.BulkHostedNumberOrders.Create(ctx, e2eCreateParams())
	require.NoError(t, err)
	page, err := client.HostedNumberOrders.List(ctx, &hn.ListHostedNumberOrdersParams{PhoneNumber: "+14155550102", Status: hn.OrderStatusReceived})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	wrong := page.Items[0]
	assert.Equal(t, order.BulkHostingSID, wrong.BulkHostingRequestSID.String)

	require.NoError(t, client.HostedNumberOrders.Cancel(ctx, wrong.SID))
	for _, o := range srv.HostedNumberOrders() {
		assert.NotEqual(t, wrong.SID, o.SID, "the cancelled order is gone")
	}
	assert.Len(t, srv.HostedNumberOrders(), 4)

	// Once the request moves on, its orders are past received.
	_, err = client.BulkHostedNumberOrders.Fetch(ctx, order.BulkHostingSID, nil)
	require.NoError(t, err)
	page, err = client.HostedNumberOrders.List(ctx, &hn.ListHostedNumberOrdersParams{PhoneNumber: "+14155550101"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	later := page.Items[0]
	assert.Equal(t, hn.OrderStatusPendingLOA, later.Status)
	err = client.HostedNumberOrders.Cancel(ctx, later.SID)
	var apiErr *hn.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.HTTPStatus)
	// Twilio documents no error code for this refusal; the fake gives
	// none rather than one that means something else.
	assert.Zero(t, apiErr.Code)
	assert.Contains(t, apiErr.Message, later.SID)
	assert.ErrorIs(t, err, hn.ErrNotApplied)
	assert.False(t, errors.Is(err, hn.ErrOutcomeUnknown))

	fetched, err := client.HostedNumberOrders.Fetch(ctx, later.SID)
	require.NoError(t, err)
	assert.Equal(t, hn.OrderStatusPendingLOA, fetched.Status, "the refused cancel changed nothing")
}

func TestE2E_UpdateMovesAnOrderToVerification(t *testing.T) {
	// Immediate: the subject is the update, on an order that exists.
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client()
	ctx := e2eContext(t)

	_, err := client.BulkHostedNumberOrders.Create(ctx, e2eCreateParams())
	require.NoError(t, err)
	page, err := client.HostedNumberOrders.List(ctx, &hn.ListHostedNumberOrdersParams{PhoneNumber: "+14155550101"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	delay := 15
	updated, err := client.HostedNumberOrders.Update(ctx, page.Items[0].SID, &hn.UpdateHostedNumberOrderParams{
		Status: hn.OrderStatusPendingVerification, VerificationCallDelay: &delay, VerificationCallExtension: "789",
	})
	require.NoError(t, err)
	assert.Equal(t, hn.OrderStatusPendingVerification, updated.Status)
	assert.Equal(t, 15, updated.VerificationCallDelay)
	assert.Equal(t, "789", updated.VerificationCallExtension.String)
}

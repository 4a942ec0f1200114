package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func TestCredentialConstantsHaveTwilioShapes(t *testing.T) {
	assert.Regexp(t, fmt.Sprintf(sidPattern, "AC"), hostednumberstest.AccountSID)
	assert.Regexp(t, `^[0-9a-f]{32}$`, hostednumberstest.AuthToken)
}

func TestCreateThenFetchMovesOneStagePerFetch(t *testing.T) {
	// Immediate: the fetch-driven model itself.
	srv := newImmediateServer(t)
	client := srv.Client()
	before := time.Now().Add(-time.Second)

	created := create(t, client, sampleParams())
	sid := created.BulkHostingSID
	assert.Regexp(t, fmt.Sprintf(sidPattern, "BH"), sid)
	assert.Equal(t, hostednumbers.RequestStatusQueued, created.RequestStatus)
	assert.Equal(t, hostednumbers.NullString{String: "Spring migration", Valid: true}, created.FriendlyName)
	assert.Equal(t, hostednumbers.NullString{String: "ops@example.com", Valid: true}, created.NotificationEmail)
	assert.Equal(t, srv.URL+bulkPath+"/"+sid, created.URL.String)
	assert.Equal(t, 3, created.TotalCount)
	assert.Empty(t, created.Results)
	assert.False(t, created.DateCompleted.Valid)
	require.True(t, created.DateCreated.Valid)
	assert.WithinRange(t, created.DateCreated.Time, before, time.Now())

	inProgress := fetch(t, client, sid)
	assert.Equal(t, hostednumbers.RequestStatusInProgress, inProgress.RequestStatus)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusPendingLOA: 3}, inProgress.CountsByStatus())
	assert.False(t, inProgress.DateCompleted.Valid)
	assert.Equal(t, created.DateCreated, inProgress.DateCreated)
	for _, o := range inProgress.Orders() {
		assert.Regexp(t, fmt.Sprintf(sidPattern, "PX"), o.SigningDocumentSID.String, o.PhoneNumber)
		assert.False(t, o.FailureReason.Valid, o.PhoneNumber)
	}

	processed := fetch(t, client, sid)
	assert.Equal(t, hostednumbers.RequestStatusProcessed, processed.RequestStatus)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusCompleted: 3}, processed.CountsByStatus())
	require.True(t, processed.DateCompleted.Valid)
	assert.False(t, processed.DateCompleted.Time.Before(processed.DateCreated.Time))
	assert.Empty(t, processed.Failed())

	again := fetch(t, client, sid)
	assert.Equal(t, hostednumbers.RequestStatusProcessed, again.RequestStatus)
	assert.Equal(t, processed.DateCompleted, again.DateCompleted, "date_completed is fixed once processed")
	assert.Equal(t, processed.Orders(), again.Orders())
}

func TestWithFetchesPerStageSlowsTheStagesDown(t *testing.T) {
	q, ip, p := hostednumbers.RequestStatusQueued, hostednumbers.RequestStatusInProgress, hostednumbers.RequestStatusProcessed
	tests := []struct {
		n    int
		want []hostednumbers.RequestStatus // status of fetch 1, 2, …
	}{
		{n: 1, want: []hostednumbers.RequestStatus{ip, p, p}},
		{n: 2, want: []hostednumbers.RequestStatus{q, ip, ip, p, p}},
		{n: 3, want: []hostednumbers.RequestStatus{q, q, ip, ip, ip, p, p}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("every %d fetches", tt.n), func(t *testing.T) {
			srv := newServer(t, hostednumberstest.WithFetchesPerStage(tt.n))
			client := srv.Client()
			sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
			var got []hostednumbers.RequestStatus
			for range tt.want {
				got = append(got, fetch(t, client, sid).RequestStatus)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWithStageDurationMovesOrdersOnWithTime(t *testing.T) {
	const stage = 100 * time.Millisecond
	srv := newServer(t, hostednumberstest.WithStageDuration(stage))
	client := srv.Client()
	start := time.Now()
	sid := create(t, client, numbersParams("+14155550101", "+14155550102")).BulkHostingSID

	// Fetches do not count: quick fetches all see QUEUED.
	for i := 0; i < 3; i++ {
		assert.Equal(t, hostednumbers.RequestStatusQueued, fetch(t, client, sid).RequestStatus, "fetch %d", i+1)
	}

	rank := map[hostednumbers.RequestStatus]int{
		hostednumbers.RequestStatusQueued: 0, hostednumbers.RequestStatusInProgress: 1, hostednumbers.RequestStatusProcessed: 2,
	}
	seen := map[hostednumbers.RequestStatus]bool{}
	last := hostednumbers.RequestStatusQueued
	var final *hostednumbers.BulkHostedNumberOrder
	waitFor(t, 3*time.Second, func() bool {
		o := fetch(t, client, sid)
		assert.GreaterOrEqual(t, rank[o.RequestStatus], rank[last], "status went back from %s to %s", last, o.RequestStatus)
		last = o.RequestStatus
		seen[o.RequestStatus] = true
		final = o
		return o.RequestStatus == hostednumbers.RequestStatusProcessed
	})
	assert.GreaterOrEqual(t, time.Since(start), 2*stage, "PROCESSED came too early")
	assert.True(t, seen[hostednumbers.RequestStatusInProgress], "never saw IN_PROGRESS")
	// PROCESSED means the orders were made: hosting goes on after it.
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusPendingLOA: 2}, final.CountsByStatus())
	require.True(t, final.DateCompleted.Valid)
	assert.WithinRange(t, final.DateCompleted.Time, final.DateCreated.Time, final.DateCreated.Time.Add(time.Second+2*stage))
}

func TestEmptyBodyCreatesAnEmptyOrderThatStillMovesOn(t *testing.T) {
	// Immediate: moves an empty order on with fetches.
	srv := newImmediateServer(t)
	client := srv.Client()

	created := create(t, client, nil) // sends {}
	assert.Equal(t, hostednumbers.RequestStatusQueued, created.RequestStatus)
	assert.Zero(t, created.TotalCount)
	assert.False(t, created.FriendlyName.Valid)
	assert.False(t, created.NotificationEmail.Valid)
	assert.Equal(t, `{}`, string(srv.Requests()[0].Body))

	inProgress := fetch(t, client, created.BulkHostingSID)
	assert.Equal(t, hostednumbers.RequestStatusInProgress, inProgress.RequestStatus)
	assert.Empty(t, inProgress.Results)

	processed := fetch(t, client, created.BulkHostingSID)
	assert.Equal(t, hostednumbers.RequestStatusProcessed, processed.RequestStatus)
	assert.Empty(t, processed.Results)
	assert.True(t, processed.DateCompleted.Valid)
}

func TestFailNumbersEndingInFailsOnlyThoseNumbers(t *testing.T) {
	// Immediate: the outcome at PROCESSED, reached with two fetches.
	srv := newImmediateServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	client := srv.Client()
	params := sampleParams()
	params.RequestItems[1].Numbers = append(params.RequestItems[1].Numbers, hostednumbers.Number{PhoneNumber: "+14155550119"})
	sid := create(t, client, params).BulkHostingSID
	fetch(t, client, sid)
	done := fetch(t, client, sid)

	require.Equal(t, hostednumbers.RequestStatusProcessed, done.RequestStatus)
	require.Len(t, done.Results, 2)
	assert.Equal(t, hostednumbers.OrderStatusCompleted, done.Results[0].OrderStatus, "groups in order of first appearance")
	assert.Equal(t, hostednumbers.OrderStatusFailed, done.Results[1].OrderStatus)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{
		hostednumbers.OrderStatusCompleted: 2,
		hostednumbers.OrderStatusFailed:    2,
	}, done.CountsByStatus())
	assert.False(t, done.Results[0].GetMoreInfo.Valid)
	assert.Contains(t, done.Results[1].GetMoreInfo.String, "Eligibility API")

	byNumber := map[string]hostednumbers.BulkOrderResult{}
	for _, o := range done.Orders() {
		byNumber[o.PhoneNumber] = o
	}
	tests := []struct {
		phone, account, email string
		status                hostednumbers.OrderStatus
	}{
		{"+14155550101", subAccount, "owner@example.com", hostednumbers.OrderStatusCompleted},
		{"+14155550109", hostednumberstest.AccountSID, "owner@example.com", hostednumbers.OrderStatusFailed},
		{"+14155550102", itemAcct, "second@example.com", hostednumbers.OrderStatusCompleted},
		{"+14155550119", itemAcct, "second@example.com", hostednumbers.OrderStatusFailed},
	}
	hrSIDs := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.phone, func(t *testing.T) {
			o, ok := byNumber[tt.phone]
			require.True(t, ok)
			assert.Equal(t, tt.status, o.Status)
			assert.Equal(t, tt.account, o.AccountSID)
			assert.Equal(t, tt.email, o.Email)
			assert.Regexp(t, fmt.Sprintf(sidPattern, "HR"), o.HostingOrderSID)
			assert.Equal(t, srv.URL+"/v2/HostedNumber/Orders/"+o.HostingOrderSID, o.URL)
			hrSIDs[o.HostingOrderSID] = true
			if tt.status == hostednumbers.OrderStatusFailed {
				assert.Equal(t, hostednumbers.NullString{String: hostednumberstest.DefaultFailureReason, Valid: true}, o.FailureReason)
				assert.Equal(t, hostednumbers.NullString{String: hostednumberstest.DefaultNextStep, Valid: true}, o.NextStep)
				assert.False(t, o.SigningDocumentSID.Valid)
			} else {
				assert.False(t, o.FailureReason.Valid)
				assert.False(t, o.NextStep.Valid)
				assert.Regexp(t, fmt.Sprintf(sidPattern, "PX"), o.SigningDocumentSID.String)
			}
		})
	}
	assert.Len(t, hrSIDs, 4, "every number has its own HR SID")
	failed := done.Failed()
	require.Len(t, failed, 2)
	assert.Equal(t, "+14155550109", failed[0].PhoneNumber)
	assert.Equal(t, "+14155550119", failed[1].PhoneNumber)
}

func TestWithOutcomeRendersEachStatusLikeTwilio(t *testing.T) {
	tests := []struct {
		outcome      hostednumberstest.Outcome
		wantStatus   hostednumbers.OrderStatus
		wantRaw      string
		wantSigning  bool
		wantReason   string
		wantNextStep string
		wantMoreInfo bool
		wantInFailed bool
	}{
		{outcome: hostednumberstest.Outcome{}, wantStatus: hostednumbers.OrderStatusCompleted, wantRaw: "completed", wantSigning: true},
		{outcome: hostednumberstest.Outcome{Status: "carrier-processing"}, wantStatus: hostednumbers.OrderStatusCarrierProcessing, wantRaw: "carrier_processing", wantSigning: true},
		{outcome: hostednumberstest.Outcome{Status: "pending-verification", FailureReason: "ignored"}, wantStatus: hostednumbers.OrderStatusPendingVerification, wantRaw: "pending_verification"},
		{outcome: hostednumberstest.Outcome{Status: "action_required", FailureReason: "LOA rejected", NextStep: "Sign again"}, wantStatus: hostednumbers.OrderStatusActionRequired, wantRaw: "action_required", wantReason: "LOA rejected", wantNextStep: "Sign again", wantInFailed: true},
		{outcome: hostednumberstest.Outcome{Status: "Failed"}, wantStatus: hostednumbers.OrderStatusFailed, wantRaw: "failed", wantMoreInfo: true, wantInFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.wantRaw, func(t *testing.T) {
			// Immediate: every outcome rendered at PROCESSED, reached with two fetches.
			srv := newImmediateServer(t, hostednumberstest.WithOutcome(func(string) hostednumberstest.Outcome { return tt.outcome }))
			client := srv.Client()
			sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID
			fetch(t, client, sid)
			done := fetch(t, client, sid)

			require.Len(t, done.Results, 1)
			g := done.Results[0]
			assert.Equal(t, tt.wantStatus, g.OrderStatus)
			assert.Equal(t, tt.wantRaw, g.RawOrderStatus)
			assert.Equal(t, 1, g.Count)
			assert.Equal(t, tt.wantMoreInfo, g.GetMoreInfo.Valid)
			require.Len(t, g.Orders, 1)
			o := g.Orders[0]
			assert.Equal(t, tt.wantSigning, o.SigningDocumentSID.Valid)
			assert.Equal(t, tt.wantReason, o.FailureReason.String)
			assert.Equal(t, tt.wantReason != "", o.FailureReason.Valid)
			assert.Equal(t, tt.wantNextStep, o.NextStep.String)
			assert.Equal(t, tt.wantInFailed, len(done.Failed()) == 1)
		})
	}
}

func TestCreateAnswersInTheShapeOfTheFixture(t *testing.T) {
	srv := newServer(t)
	resp, body := authed(t, "POST", srv.URL+bulkPath, "application/json",
		`{"request_items":[{"numbers":[{"phone_number":"+14155550101"},{"phone_number":"+14155550102"}]}]}`)

	require.Equal(t, 202, resp.StatusCode, "body: %s", body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Regexp(t, requestIDPattern, resp.Header.Get("Twilio-Request-Id"))

	fixture, err := os.ReadFile("../testdata/create_202.json")
	require.NoError(t, err)
	want := decodeObject(t, fixture)
	got := decodeObject(t, body)
	assert.ElementsMatch(t, keys(want), keys(got))

	sid, _ := got["bulk_hosting_sid"].(string)
	assert.Regexp(t, fmt.Sprintf(sidPattern, "BH"), sid)
	assert.Equal(t, "QUEUED", got["request_status"])
	assert.Nil(t, got["friendly_name"], "not given, so null")
	assert.Nil(t, got["notification_email"], "not given, so null")
	assert.Nil(t, got["date_completed"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, got["date_created"])
	assert.Equal(t, srv.URL+bulkPath+"/"+sid, got["url"])
	assert.Equal(t, json.Number("2"), got["total_count"])
	assert.Equal(t, []any{}, got["results"], "an empty array, not null")
}

func TestFetchAnswersInTheShapeOfTheFixture(t *testing.T) {
	// Immediate: compares each stage, a fetch at a time, with the fixture.
	srv := newImmediateServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	sid := create(t, srv.Client(), numbersParams("+14155550101", "+14155550109", "+14155550102")).BulkHostingSID

	fixture, err := os.ReadFile("../testdata/fetch_200.json")
	require.NoError(t, err)
	want := decodeObject(t, fixture)
	wantGroup := want["results"].([]any)[0].(map[string]any)
	wantOrder := wantGroup["orders"].([]any)[0].(map[string]any)

	type group struct {
		status, count string
		moreInfo      bool
		phones        []string
	}
	stages := []struct {
		status string
		groups []group
	}{
		{"IN_PROGRESS", []group{{"pending_loa", "3", false, []string{"+14155550101", "+14155550109", "+14155550102"}}}},
		{"PROCESSED", []group{
			{"completed", "2", false, []string{"+14155550101", "+14155550102"}},
			{"failed", "1", true, []string{"+14155550109"}},
		}},
	}
	for _, stage := range stages {
		resp, body := authed(t, "GET", srv.URL+bulkPath+"/"+sid, "", "")
		require.Equal(t, 200, resp.StatusCode, "body: %s", body)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Regexp(t, requestIDPattern, resp.Header.Get("Twilio-Request-Id"))
		got := decodeObject(t, body)
		assert.ElementsMatch(t, keys(want), keys(got))
		assert.Equal(t, stage.status, got["request_status"])
		assert.Equal(t, json.Number("3"), got["total_count"])
		if stage.status == "PROCESSED" {
			assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, got["date_completed"])
		} else {
			assert.Nil(t, got["date_completed"])
		}

		results := got["results"].([]any)
		require.Len(t, results, len(stage.groups), stage.status)
		for i, wg := range stage.groups {
			g := results[i].(map[string]any)
			assert.ElementsMatch(t, keys(wantGroup), keys(g))
			assert.Equal(t, wg.status, g["order_status"])
			assert.Equal(t, wg.count, g["count"], "count is a JSON string, as in the fixture")
			if wg.moreInfo {
				assert.IsType(t, "", g["get_more_info"])
			} else {
				assert.Nil(t, g["get_more_info"])
			}
			var phones []string
			for _, raw := range g["orders"].([]any) {
				o := raw.(map[string]any)
				assert.ElementsMatch(t, keys(wantOrder), keys(o))
				assert.Equal(t, hostednumberstest.AccountSID, o["account_sid"])
				assert.Equal(t, "owner@example.com", o["email"])
				if wg.status == "failed" {
					assert.Equal(t, hostednumberstest.DefaultFailureReason, o["failure_reason"])
					assert.Equal(t, hostednumberstest.DefaultNextStep, o["next_step"])
					assert.Nil(t, o["signing_document_sid"])
				} else {
					assert.Nil(t, o["failure_reason"])
					assert.Nil(t, o["next_step"])
					assert.Regexp(t, fmt.Sprintf(sidPattern, "PX"), o["signing_document_sid"])
				}
				phones = append(phones, o["phone_number"].(string))
			}
			assert.Equal(t, wg.phones, phones)
		}
	}
}

func TestOrderStatusFilterKeepsMatchingGroupsInEitherSpelling(t *testing.T) {
	tests := []struct {
		name         string
		priorFetches int // unfiltered fetches before the filtered one
		filter       string
		wantStatus   hostednumbers.RequestStatus
		wantGroups   []string // raw order_status of the groups returned
	}{
		{"underscore spelling", 0, "pending_loa", hostednumbers.RequestStatusInProgress, []string{"pending_loa"}},
		{"hyphen spelling", 0, "pending-loa", hostednumbers.RequestStatusInProgress, []string{"pending_loa"}},
		{"upper case", 0, "PENDING_LOA", hostednumbers.RequestStatusInProgress, []string{"pending_loa"}},
		{"no match while in progress", 0, "completed", hostednumbers.RequestStatusInProgress, nil},
		{"failed only", 1, "failed", hostednumbers.RequestStatusProcessed, []string{"failed"}},
		{"completed only", 1, "completed", hostednumbers.RequestStatusProcessed, []string{"completed"}},
		{"no match once processed", 1, "pending_loa", hostednumbers.RequestStatusProcessed, nil},
		{"unknown status", 1, "no-such-status", hostednumbers.RequestStatusProcessed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Immediate: the outcome groups at PROCESSED, reached with two fetches.
			srv := newImmediateServer(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
			client := srv.Client()
			sid := create(t, client, numbersParams("+14155550101", "+14155550109")).BulkHostingSID
			for i := 0; i < tt.priorFetches; i++ {
				fetch(t, client, sid)
			}
			got, err := client.BulkHostedNumberOrders.Fetch(context.Background(), sid,
				&hostednumbers.FetchBulkHostedNumberOrderParams{OrderStatus: hostednumbers.OrderStatus(tt.filter)})
			require.NoError(t, err)

			assert.Equal(t, tt.wantStatus, got.RequestStatus)
			assert.Equal(t, 2, got.TotalCount, "the filter does not change total_count")
			var groups []string
			for _, g := range got.Results {
				groups = append(groups, g.RawOrderStatus)
			}
			assert.Equal(t, tt.wantGroups, groups)
			reqs := srv.Requests()
			assert.Equal(t, string(hostednumbers.ParseOrderStatus(tt.filter)), reqs[len(reqs)-1].Query.Get("OrderStatus"), "sent as the order status enum spells it")
		})
	}
}

func TestOrderShowsTheCurrentStateWithoutCountingAsAFetch(t *testing.T) {
	// Immediate: checks that Order does not count as a fetch, which only the fetch-driven model counts.
	srv := newImmediateServer(t)
	client := srv.Client()
	sid := create(t, client, numbersParams("+14155550101")).BulkHostingSID

	for i := 0; i < 3; i++ {
		o, ok := srv.Order(sid)
		require.True(t, ok)
		assert.Equal(t, hostednumbers.RequestStatusQueued, o.RequestStatus)
		assert.Equal(t, sid, o.BulkHostingSID)
	}
	assert.Equal(t, hostednumbers.RequestStatusInProgress, fetch(t, client, sid).RequestStatus)
	o, ok := srv.Order(sid)
	require.True(t, ok)
	assert.Equal(t, hostednumbers.RequestStatusInProgress, o.RequestStatus)
	assert.Equal(t, map[hostednumbers.OrderStatus]int{hostednumbers.OrderStatusPendingLOA: 1}, o.CountsByStatus())
	assert.Equal(t, hostednumbers.RequestStatusProcessed, fetch(t, client, sid).RequestStatus)

	missing, ok := srv.Order(unknownSID)
	assert.False(t, ok)
	assert.Nil(t, missing)
}

func TestResetForgetsOrdersRequestsAndFaults(t *testing.T) {
	srv := newServer(t)
	client := srv.Client()
	old := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	srv.InjectFault(hostednumberstest.Fault{Status: 500, Count: 3})
	require.Equal(t, 3, srv.PendingFaults())

	srv.Reset()

	assert.Empty(t, srv.Requests())
	assert.Zero(t, srv.PendingFaults())
	_, ok := srv.Order(old)
	assert.False(t, ok)
	_, err := client.BulkHostedNumberOrders.Fetch(context.Background(), old, nil)
	assert.ErrorIs(t, err, hostednumbers.ErrNotFound)
	fresh := create(t, client, numbersParams("+14155550101")).BulkHostingSID
	assert.NotEqual(t, old, fresh, "SIDs stay unique across a reset")
}

func TestServersHandOutDifferentSIDs(t *testing.T) {
	a, b := newServer(t), newServer(t)
	sidA := create(t, a.Client(), nil).BulkHostingSID
	sidB := create(t, b.Client(), nil).BulkHostingSID
	assert.NotEqual(t, sidA, sidB)
	_, err := b.Client().BulkHostedNumberOrders.Fetch(context.Background(), sidA, nil)
	assert.ErrorIs(t, err, hostednumbers.ErrNotFound, "one server's order is unknown to another")
}

func TestConcurrentCreatesAndFetchesAreSafe(t *testing.T) {
	const workers = 20
	srv := newServer(t)
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	sids := make([]string, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			phone := fmt.Sprintf("+1415555%04d", i)
			created, err := client.BulkHostedNumberOrders.Create(ctx, numbersParams(phone))
			if !assert.NoError(t, err) {
				return
			}
			sids[i] = created.BulkHostingSID
			_ = srv.Requests() // read state while others write it
			_, _ = srv.Order(created.BulkHostingSID)
			last, err := client.BulkHostedNumberOrders.Wait(ctx, created.BulkHostingSID, &hostednumbers.WaitOptions{PollInterval: time.Millisecond})
			if !assert.NoError(t, err) {
				return
			}
			assert.Equal(t, hostednumbers.RequestStatusProcessed, last.RequestStatus)
			if assert.Len(t, last.Orders(), 1) {
				assert.Equal(t, phone, last.Orders()[0].PhoneNumber)
			}
		}()
	}
	wg.Wait()

	unique := map[string]bool{}
	for _, sid := range sids {
		unique[sid] = true
	}
	assert.Len(t, unique, workers)
	reqs := srv.Requests()
	assert.GreaterOrEqual(t, len(reqs), 2*workers, "a create and at least one fetch each")
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.RequestID
	}
	sort.Strings(ids)
	assert.Len(t, compactStrings(ids), len(reqs), "request IDs are unique")
	assert.Equal(t, workers, countMethod(srv, "POST"))
}

func compactStrings(sorted []string) []string {
	var out []string
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

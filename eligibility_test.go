package hostednumbers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

const (
	elAccountSID = "AC0123456789abcdef0123456789abcdef"
	elAuthToken  = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7" //nolint:gosec // a test value, not a credential
	elHostingSID = "AC93b447ff5bd2abac37f1cbab2a871430"
	elRequestID  = "ECaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	elOtherID    = "ECbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func elCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func elFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "eligibility", name))
	require.NoError(t, err)
	return b
}

// elRecorder is a loopback API that records what it receives and answers
// with handle.
type elRecorder struct {
	mu       sync.Mutex
	requests []elRequest
}

type elRequest struct {
	method, path, contentType string
	body                      []byte
}

func (r *elRecorder) all() []elRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]elRequest(nil), r.requests...)
}

func elServe(t testing.TB, handle http.HandlerFunc, opts ...hn.Option) (*elRecorder, *hn.Client) {
	t.Helper()
	rec := &elRecorder{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.requests = append(rec.requests, elRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"), body})
		rec.mu.Unlock()
		handle(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // hijacked connections log
	srv.Start()
	t.Cleanup(srv.Close)
	base := []hn.Option{
		hn.WithCredentials(elAccountSID, elAuthToken),
		hn.WithBaseURL(srv.URL),
		hn.WithRetryBackoff(time.Millisecond, 2*time.Millisecond),
	}
	c, err := hn.NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return rec, c
}

func elJSON(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Twilio-Request-Id", "RQ0123456789abcdef0123456789abcdef")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// elDrop reads the request, then closes the connection without a word.
func elDrop(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func elParams(numbers ...string) *hn.EligibilityParams {
	p := &hn.EligibilityParams{FriendlyName: "My first eligibility check"}
	for _, n := range numbers {
		p.PhoneNumbers = append(p.PhoneNumbers, hn.EligibilityNumber{PhoneNumber: n, HostingAccountSID: elHostingSID})
	}
	return p
}

func elValidation(t *testing.T, err error, fields ...string) {
	t.Helper()
	var ve *hn.ValidationError
	require.ErrorAs(t, err, &ve, "%v", err)
	require.ErrorIs(t, err, hn.ErrInvalidInput)
	got := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		got[i] = p.Field
	}
	assert.Equal(t, fields, got, "%v", err)
}

func TestEligibilityCheck_SendsTheDocumentedBodyAndDecodesTheSpecExample(t *testing.T) {
	rec, c := elServe(t, elJSON(http.StatusOK, elFixture(t, "CreateEligibility_200_create.json")))
	got, err := c.Eligibility.Check(elCtx(t), elParams("+13175787123"))
	require.NoError(t, err)

	reqs := rec.all()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].method)
	assert.Equal(t, "/v1/HostedNumber/Eligibility", reqs[0].path)
	assert.Equal(t, "application/json", reqs[0].contentType)
	assert.JSONEq(t, `{"friendly_name":"My first eligibility check","phone_numbers":[{"phone_number":"+13175787123","hosting_account_sid":"`+elHostingSID+`"}]}`, string(reqs[0].body))

	require.Len(t, got.Results, 2)
	first := got.Results[0]
	assert.Equal(t, "+18778894546", first.PhoneNumber)
	assert.Equal(t, hn.NullString{String: elHostingSID, Valid: true}, first.HostingAccountSID, "account_sid of the example")
	assert.Equal(t, hn.NullString{String: "US", Valid: true}, first.Country, "iso_country_code of the example")
	assert.Equal(t, hn.EligibilityStatusIneligible, first.Status)
	assert.True(t, first.Status.Known())
	assert.Equal(t, hn.EligibilitySubStatusAlreadyInTwilio, first.SubStatus)
	assert.True(t, first.SubStatus.Known())
	assert.Equal(t, "ALREADY_IN_TWILIO_BUT_NOT_IN_USE", first.IneligibilityReason.String)
	assert.Equal(t, "CONTACT_SUPPORT_INELIGIBLE_INVENTORY_STATUS", first.NextStep.String)
	assert.Equal(t, "TOLL_FREE", first.PhoneNumberType.String)
	assert.Equal(t, "in-testing", first.InventoryStatus.String)
	assert.Equal(t, "AC93b447ff5aa2abac37e3cbab2a871430", first.InventoryAccountSID.String)
	assert.False(t, first.VoiceProvider.Valid)
	assert.False(t, first.MessagingProvider.Valid)
	assert.False(t, first.HostingOrderSID.Valid)
	assert.False(t, first.HostingOrderStatus.Valid)
	assert.False(t, first.DateLastChecked.Valid)
	assert.False(t, first.Eligible())

	second := got.Results[1]
	assert.Equal(t, "4565433456", second.PhoneNumber, "echoed as sent, even when not E.164")
	assert.False(t, second.HostingAccountSID.Valid)
	assert.False(t, second.Country.Valid)
	assert.Equal(t, hn.EligibilitySubStatusNumberFormatIneligible, second.SubStatus)
	assert.Equal(t, "EDIT_INELIGIBLE_NUMBER", second.NextStep.String)

	require.NotNil(t, got.LastResponse)
	assert.Equal(t, http.StatusOK, got.LastResponse.StatusCode)
	assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", got.LastResponse.RequestID)
	assert.Equal(t, 1, got.LastResponse.Attempts)
	assert.Len(t, got.Results.Ineligible(), 2)
	assert.Empty(t, got.Results.Eligible())
}

func TestEligibilityCreateBulk_DecodesTheSpecExample(t *testing.T) {
	rec, c := elServe(t, elJSON(http.StatusAccepted, elFixture(t, "CreateBulkEligibility_202_create.json")))
	got, err := c.Eligibility.CreateBulk(elCtx(t), elParams("+13175787123", "+13175787124"))
	require.NoError(t, err)
	reqs := rec.all()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/v1/HostedNumber/Eligibility/Bulk", reqs[0].path)
	assert.Equal(t, http.MethodPost, reqs[0].method)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].body, &body))
	assert.Len(t, body["phone_numbers"], 2)

	assert.Equal(t, elRequestID, got.RequestID)
	assert.Equal(t, hn.BulkEligibilityStatusQueued, got.Status)
	assert.True(t, got.Status.Known())
	assert.False(t, got.Status.Finished())
	assert.False(t, got.Finished())
	assert.Equal(t, "Test", got.FriendlyName.String)
	assert.Equal(t, time.Date(2023, 5, 3, 3, 12, 30, 0, time.UTC), got.DateCreated.Time)
	assert.False(t, got.DateCompleted.Valid)
	assert.NotNil(t, got.Results)
	assert.Empty(t, got.Results)
	assert.Equal(t, "https://numbers.twilio.com/v1/HostedNumber/Eligibility/Bulk/"+elRequestID, got.URL.String)
	assert.Equal(t, http.StatusAccepted, got.LastResponse.StatusCode)
}

func TestEligibilityFetchBulk_DecodesTheSpecExampleThroughHTTPMock(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodGet, "https://numbers.twilio.com/v1/HostedNumber/Eligibility/Bulk/"+elRequestID,
		httpmock.NewBytesResponder(http.StatusOK, elFixture(t, "FetchBulkEligibility_200_fetch.json")))
	c, err := hn.NewClient(hn.WithCredentials(elAccountSID, elAuthToken), hn.WithHTTPClient(&http.Client{Transport: mock}))
	require.NoError(t, err)

	got, err := c.Eligibility.FetchBulk(elCtx(t), elRequestID)
	require.NoError(t, err)
	assert.Equal(t, 1, mock.GetTotalCallCount())
	assert.Equal(t, hn.BulkEligibilityStatusSuccessful, got.Status)
	assert.True(t, got.Status.Finished())
	assert.True(t, got.Finished())
	assert.Equal(t, time.Date(2023, 4, 24, 14, 47, 6, 0, time.UTC), got.DateCompleted.Time)
	require.Len(t, got.Results, 1)
	r, ok := got.Results.Find("+18778894546")
	require.True(t, ok)
	assert.Equal(t, elHostingSID, r.HostingAccountSID.String)
	assert.Equal(t, hn.EligibilitySubStatusAlreadyInTwilio, r.SubStatus)
	_, ok = got.Results.Find("+14155550100")
	assert.False(t, ok)
	require.NotNil(t, got.LastResponse)
}

func TestEligibilityResult_AcceptsBothSpellingsAndUnknownValues(t *testing.T) {
	body := `{"results":[
		{"phone_number":"+14155550101","hosting_account_sid":"AC11111111111111111111111111111111","account_sid":"AC22222222222222222222222222222222",
		 "country":"CA","iso_country_code":"US","eligibility_status":"PENDING_REVIEW","eligibility_sub_status":"CARRIER_LOOKUP_PENDING",
		 "ineligibility_reason":null,"next_step":"WAIT","date_last_checked":"2024-01-02T03:04:05Z","brand_new_member":{"x":1}},
		{"phone_number":"+14155550102","eligibility_status":"ELIGIBLE","eligibility_sub_status":null}]}`
	_, c := elServe(t, elJSON(http.StatusOK, []byte(body)))
	got, err := c.Eligibility.Check(elCtx(t), elParams("+14155550101", "+14155550102"))
	require.NoError(t, err)
	require.Len(t, got.Results, 2)
	r := got.Results[0]
	assert.Equal(t, "AC11111111111111111111111111111111", r.HostingAccountSID.String, "the documented member wins")
	assert.Equal(t, "CA", r.Country.String, "the documented member wins")
	assert.Equal(t, hn.EligibilityStatus("PENDING_REVIEW"), r.Status, "kept as sent")
	assert.False(t, r.Status.Known())
	assert.Equal(t, hn.EligibilitySubStatus("CARRIER_LOOKUP_PENDING"), r.SubStatus)
	assert.False(t, r.SubStatus.Known())
	assert.False(t, r.IneligibilityReason.Valid)
	assert.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), r.DateLastChecked.Time)

	assert.Equal(t, []string{"+14155550102"}, elPhones(got.Results.Eligible()))
	assert.Equal(t, []string{"+14155550101"}, elPhones(got.Results.Ineligible()), "an unknown status is not eligible")
	assert.Equal(t, hn.EligibilitySubStatus(""), got.Results[1].SubStatus)
	assert.False(t, got.Results[1].SubStatus.Known())
}

func elPhones(rs hn.EligibilityResults) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.PhoneNumber)
	}
	return out
}

func TestBulkEligibilityStatus_KnownAndFinished(t *testing.T) {
	for _, tt := range []struct {
		status          hn.BulkEligibilityStatus
		known, finished bool
	}{
		{hn.BulkEligibilityStatusQueued, true, false},
		{hn.BulkEligibilityStatusInProgress, true, false},
		{hn.BulkEligibilityStatusSuccessful, true, true},
		{hn.BulkEligibilityStatusComplete, true, true},
		{"FAILED", false, false},
		{"", false, false},
		{"successful", false, false},
	} {
		assert.Equal(t, tt.known, tt.status.Known(), "%q", tt.status)
		assert.Equal(t, tt.finished, tt.status.Finished(), "%q", tt.status)
	}
	for _, s := range []hn.EligibilityStatus{hn.EligibilityStatusEligible, hn.EligibilityStatusIneligible} {
		assert.True(t, s.Known(), s)
	}
	assert.False(t, hn.EligibilityStatus("eligible").Known())

	completed := hn.NullTime{Time: time.Now(), Valid: true}
	assert.True(t, (&hn.BulkEligibility{Status: "FAILED", DateCompleted: completed}).Finished(), "an unknown status with a completion date is finished")
	assert.False(t, (&hn.BulkEligibility{Status: "FAILED"}).Finished())
	assert.False(t, (&hn.BulkEligibility{Status: hn.BulkEligibilityStatusInProgress, DateCompleted: completed}).Finished(), "a known unfinished status wins over a date")
	assert.False(t, (*hn.BulkEligibility)(nil).Finished())
}

func TestEligibilityParams_ValidationNamesEveryFieldAndSendsNothing(t *testing.T) {
	tooMany := &hn.EligibilityParams{}
	for i := range hn.MaxEligibilityNumbers + 1 {
		tooMany.PhoneNumbers = append(tooMany.PhoneNumbers, hn.EligibilityNumber{PhoneNumber: fmt.Sprintf("+1415%07d", i)})
	}
	tests := []struct {
		name   string
		params *hn.EligibilityParams
		fields []string
	}{
		{"nil params", nil, []string{"params"}},
		{"no numbers", &hn.EligibilityParams{FriendlyName: "x"}, []string{"phone_numbers"}},
		{"too many numbers", tooMany, []string{"phone_numbers"}},
		{"missing number", &hn.EligibilityParams{PhoneNumbers: []hn.EligibilityNumber{{HostingAccountSID: elHostingSID}}}, []string{"phone_numbers[0].phone_number"}},
		{"not E.164", elParams("+14155550101", "4155550102", "+04155550103", "+1415555010a", "+1234567890123456"), []string{
			"phone_numbers[1].phone_number", "phone_numbers[2].phone_number", "phone_numbers[3].phone_number", "phone_numbers[4].phone_number"}},
		{"duplicate", elParams("+14155550101", "+14155550102", "+14155550101"), []string{"phone_numbers[2].phone_number"}},
		{"bad hosting account", &hn.EligibilityParams{PhoneNumbers: []hn.EligibilityNumber{
			{PhoneNumber: "+14155550101", HostingAccountSID: "AC123"},
			{PhoneNumber: "+14155550102", HostingAccountSID: "SK0123456789abcdef0123456789abcdef"},
			{PhoneNumber: "+14155550103", HostingAccountSID: "AC0123456789abcdef0123456789abcdeg"},
		}}, []string{"phone_numbers[0].hosting_account_sid", "phone_numbers[1].hosting_account_sid", "phone_numbers[2].hosting_account_sid"}},
		{"friendly name not UTF-8", &hn.EligibilityParams{FriendlyName: "\xff", PhoneNumbers: []hn.EligibilityNumber{{PhoneNumber: "+14155550101"}}}, []string{"friendly_name"}},
		{"empty extra names", &hn.EligibilityParams{Extra: map[string]any{"": 1}, PhoneNumbers: []hn.EligibilityNumber{{PhoneNumber: "+14155550101", Extra: map[string]any{"": 2}}}},
			[]string{"extra", "phone_numbers[0].extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, c := elServe(t, elJSON(http.StatusOK, elFixture(t, "CreateEligibility_200_create.json")))
			_, err := c.Eligibility.Check(elCtx(t), tt.params)
			elValidation(t, err, tt.fields...)
			ve := elValidationOf(err)
			assert.ErrorIs(t, err, hn.ErrNotApplied)
			assert.NotErrorIs(t, err, hn.ErrOutcomeUnknown)
			assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: check eligibility: "), err.Error())
			_, err = c.Eligibility.CreateBulk(elCtx(t), tt.params)
			elValidation(t, err, tt.fields...)
			assert.ErrorIs(t, err, hn.ErrNotApplied)
			assert.Empty(t, rec.all(), "nothing may be sent")
			assert.Equal(t, ve.Problems, elValidationOf(tt.params.Validate()).Problems, "Validate reports the same")
		})
	}
}

func elValidationOf(err error) *hn.ValidationError {
	var ve *hn.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	return &hn.ValidationError{}
}

func TestEligibilityParams_ValidationMessages(t *testing.T) {
	p := elParams("+14155550101", "+14155550101")
	p.PhoneNumbers = append(p.PhoneNumbers, hn.EligibilityNumber{PhoneNumber: "4155550102"})
	ve := elValidationOf(p.Validate())
	require.Len(t, ve.Problems, 2)
	assert.Equal(t, "+14155550101 is listed twice; first at phone_numbers[0]", ve.Problems[0].Message)
	assert.Contains(t, ve.Problems[1].Message, `"4155550102" is not an E.164 phone number`)

	max := &hn.EligibilityParams{}
	for i := range hn.MaxEligibilityNumbers {
		max.PhoneNumbers = append(max.PhoneNumbers, hn.EligibilityNumber{PhoneNumber: fmt.Sprintf("+1415%07d", i)})
	}
	require.NoError(t, max.Validate(), "exactly the limit is allowed")
	max.PhoneNumbers = append(max.PhoneNumbers, hn.EligibilityNumber{PhoneNumber: "+19995550000"})
	ve = elValidationOf(max.Validate())
	require.Len(t, ve.Problems, 1)
	assert.Equal(t, fmt.Sprintf("lists %d numbers; at most %d are allowed per check", hn.MaxEligibilityNumbers+1, hn.MaxEligibilityNumbers), ve.Problems[0].Message)
}

func TestEligibilityParams_ExtraMembersAndTypedFieldsWin(t *testing.T) {
	p := hn.EligibilityParams{
		FriendlyName: "typed",
		Extra:        map[string]any{"friendly_name": "extra", "notification_email": "ops@example.com", "phone_numbers": "no"},
		PhoneNumbers: []hn.EligibilityNumber{{
			PhoneNumber:       "+14155550101",
			HostingAccountSID: elHostingSID,
			Extra:             map[string]any{"phone_number": "+19999999999", "hosting_account_sid": "x", "carrier": "Acme", "n": 7},
		}, {
			PhoneNumber: "+14155550102",
			Extra:       map[string]any{"hosting_account_sid": "AC22222222222222222222222222222222"},
		}},
	}
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"friendly_name":"typed","notification_email":"ops@example.com","phone_numbers":[
		{"phone_number":"+14155550101","hosting_account_sid":"`+elHostingSID+`","carrier":"Acme","n":7},
		{"phone_number":"+14155550102","hosting_account_sid":"AC22222222222222222222222222222222"}]}`, string(raw),
		"typed fields win; an extra member fills an unset typed one")

	var back hn.EligibilityParams
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, "typed", back.FriendlyName)
	assert.Equal(t, map[string]any{"notification_email": "ops@example.com"}, back.Extra)
	require.Len(t, back.PhoneNumbers, 2)
	assert.Equal(t, map[string]any{"carrier": "Acme", "n": json.Number("7")}, back.PhoneNumbers[0].Extra)
	assert.Nil(t, back.PhoneNumbers[1].Extra)
	assert.Equal(t, "AC22222222222222222222222222222222", back.PhoneNumbers[1].HostingAccountSID)

	one, err := json.Marshal(hn.EligibilityNumber{PhoneNumber: "+14155550101", Extra: map[string]any{"tag": "<\"a\">"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"phone_number":"+14155550101","tag":"<\"a\">"}`, string(one))
	_, err = json.Marshal(hn.EligibilityNumber{PhoneNumber: "+14155550101", Extra: map[string]any{"c": make(chan int)}})
	assert.Error(t, err)
	empty, err := json.Marshal(hn.EligibilityParams{FriendlyName: "quote \" and \\ and \u2028"})
	require.NoError(t, err)
	var emptyBack hn.EligibilityParams
	require.NoError(t, json.Unmarshal(empty, &emptyBack))
	assert.Equal(t, "quote \" and \\ and \u2028", emptyBack.FriendlyName)
	assert.Contains(t, string(empty), `"phone_numbers":[]`)

	// Unmarshal into a used value keeps nothing of it.
	require.NoError(t, json.Unmarshal([]byte(`{"phone_numbers":[{"phone_number":"+1"}]}`), &back))
	assert.Empty(t, back.FriendlyName)
	assert.Nil(t, back.Extra)
	assert.Error(t, json.Unmarshal([]byte(`{"phone_numbers":[{"phone_number":5}]}`), &back))
	assert.Error(t, json.Unmarshal([]byte(`{"phone_numbers":"x"}`), &back))
}

func TestEligibilityParams_UnencodableExtraIsAValidationErrorNamingIt(t *testing.T) {
	rec, c := elServe(t, elJSON(http.StatusOK, elFixture(t, "CreateEligibility_200_create.json")))
	p := elParams("+14155550101")
	p.PhoneNumbers[0].Extra = map[string]any{"weight": math.Inf(1)}
	_, err := c.Eligibility.Check(elCtx(t), p)
	elValidation(t, err, "phone_numbers[0].weight")
	assert.ErrorIs(t, err, hn.ErrNotApplied)

	p = elParams("+14155550101")
	p.Extra = map[string]any{"callback": func() {}}
	_, err = c.Eligibility.CreateBulk(elCtx(t), p)
	elValidation(t, err, "callback")
	assert.ErrorIs(t, err, hn.ErrNotApplied)
	assert.Empty(t, rec.all())
}

func TestEligibility_NilContextIsAValidationErrorNamingCtx(t *testing.T) {
	rec, c := elServe(t, elJSON(http.StatusOK, elFixture(t, "FetchBulkEligibility_200_fetch.json")))
	var nilCtx context.Context //nolint:staticcheck // the nil context is the point of the test
	_, err := c.Eligibility.Check(nilCtx, elParams("+14155550101"))
	elValidation(t, err, "ctx")
	assert.ErrorIs(t, err, hn.ErrNotApplied)
	_, err = c.Eligibility.CreateBulk(nilCtx, elParams("+14155550101"))
	elValidation(t, err, "ctx")
	assert.ErrorIs(t, err, hn.ErrNotApplied)
	_, err = c.Eligibility.FetchBulk(nilCtx, elRequestID)
	elValidation(t, err, "ctx")
	_, err = c.Eligibility.WaitBulk(nilCtx, elRequestID, nil)
	elValidation(t, err, "ctx")
	_, err = hn.WaitForBulkEligibility(nilCtx, &elScript{}, elRequestID, nil)
	elValidation(t, err, "ctx")
	assert.Empty(t, rec.all())
}

func TestEligibilityFetchBulk_RefusesAMalformedRequestIDBeforeSending(t *testing.T) {
	rec, c := elServe(t, elJSON(http.StatusOK, elFixture(t, "FetchBulkEligibility_200_fetch.json")))
	for _, id := range []string{"", "EC123", "../../Accounts", "BH0123456789abcdef0123456789abcdef",
		"ECaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaz", "ECaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/.", "ECaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?x=1"} {
		_, err := c.Eligibility.FetchBulk(elCtx(t), id)
		elValidation(t, err, "request_id")
		_, err = c.Eligibility.WaitBulk(elCtx(t), id, nil)
		elValidation(t, err, "request_id")
	}
	assert.Empty(t, rec.all())
}

func TestEligibility_UnusableAnswersAreDecodeErrorsWithAnUnknownOutcome(t *testing.T) {
	tests := []struct {
		name, body string
		bulk       bool
		want       string
	}{
		{"check without results", `{"results":[]}`, false, "lists no result"},
		{"check with null results", `{"results":null}`, false, "lists no result"},
		{"result without a number", `{"results":[{"eligibility_status":"ELIGIBLE"}]}`, false, "results[0]: phone_number is missing"},
		{"bad date", `{"results":[{"phone_number":"+14155550101","date_last_checked":"yesterday"}]}`, false, "yesterday"},
		{"status not a string", `{"results":[{"phone_number":"+14155550101","eligibility_status":1}]}`, false, "string"},
		{"not JSON", `<html>oops</html>`, false, ""},
		{"bulk without request_id", `{"status":"QUEUED","results":[]}`, true, `request_id "" is not EC`},
		{"bulk with a hostile request_id", `{"request_id":"EC../../Accounts","status":"QUEUED"}`, true, "is not EC"},
		{"bulk result without a number", `{"request_id":"` + elRequestID + `","status":"SUCCESSFUL","results":[{}]}`, true, "phone_number is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := http.StatusOK
			if tt.bulk {
				status = http.StatusAccepted
			}
			_, c := elServe(t, elJSON(status, []byte(tt.body)))
			var err error
			if tt.bulk {
				var b *hn.BulkEligibility
				b, err = c.Eligibility.CreateBulk(elCtx(t), elParams("+14155550101"))
				assert.Nil(t, b)
			} else {
				var e *hn.Eligibility
				e, err = c.Eligibility.Check(elCtx(t), elParams("+14155550101"))
				assert.Nil(t, e)
			}
			var de *hn.DecodeError
			require.ErrorAs(t, err, &de)
			assert.True(t, de.Accepted())
			assert.ErrorIs(t, err, hn.ErrOutcomeUnknown)
			assert.NotErrorIs(t, err, hn.ErrNotApplied)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestEligibilityFetchBulk_RefusesAnAnswerAboutAnotherCheck(t *testing.T) {
	rec, c := elServe(t, elJSON(http.StatusOK, elFixture(t, "FetchBulkEligibility_200_fetch.json")))
	got, err := c.Eligibility.FetchBulk(elCtx(t), elOtherID)
	assert.Nil(t, got)
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "RQ0123456789abcdef0123456789abcdef", de.RequestID)
	assert.Contains(t, err.Error(), "hostednumbers: fetch bulk eligibility check "+elOtherID+": ")
	assert.Contains(t, err.Error(), "the answer is about bulk eligibility check")
	assert.NotErrorIs(t, err, hn.ErrOutcomeUnknown, "a fetch changes nothing: no outcome label")
	require.Len(t, rec.all(), 1)
	assert.Equal(t, "/v1/HostedNumber/Eligibility/Bulk/"+elOtherID, rec.all()[0].path)
}

func TestEligibility_ErrorsCarryTheOutcome(t *testing.T) {
	tests := []struct {
		name     string
		handle   http.HandlerFunc
		unknown  bool
		sentinel error
		posts    int
	}{
		{"400 refused", elJSON(http.StatusBadRequest, []byte(`{"code":20001,"message":"Invalid parameter","status":400}`)), false, nil, 1},
		{"401 refused", elJSON(http.StatusUnauthorized, []byte(`{"code":20003,"message":"Authenticate","status":401}`)), false, hn.ErrUnauthorized, 1},
		{"429 refused after every retry", elJSON(http.StatusTooManyRequests, []byte(`{"code":20429,"message":"Too Many Requests","status":429}`)), false, hn.ErrRateLimited, 2},
		{"500 may have run", elJSON(http.StatusInternalServerError, []byte(`{"code":20500,"message":"Internal","status":500}`)), true, hn.ErrServer, 1},
		{"answer lost", elDrop, true, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, c := elServe(t, tt.handle, hn.WithMaxRetries(1))
			_, errCheck := c.Eligibility.Check(elCtx(t), elParams("+14155550101"))
			_, errBulk := c.Eligibility.CreateBulk(elCtx(t), elParams("+14155550101"))
			for _, err := range []error{errCheck, errBulk} {
				require.Error(t, err)
				assert.Equal(t, tt.unknown, errors.Is(err, hn.ErrOutcomeUnknown), "%v", err)
				assert.Equal(t, !tt.unknown, errors.Is(err, hn.ErrNotApplied), "%v", err)
				if tt.sentinel != nil {
					assert.ErrorIs(t, err, tt.sentinel)
				}
			}
			assert.Len(t, rec.all(), 2*tt.posts, "a POST the server may have processed is never resent")
		})
	}
}

func TestEligibility_AgainstTheFake(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("9")))
	defer srv.Close()
	c := srv.Client()
	ctx := elCtx(t)

	before := time.Now().Add(-time.Second)
	check, err := c.Eligibility.Check(ctx, &hn.EligibilityParams{PhoneNumbers: []hn.EligibilityNumber{
		{PhoneNumber: "+14155550101"},
		{PhoneNumber: "+18005550109", HostingAccountSID: elHostingSID},
	}})
	require.NoError(t, err)
	require.Len(t, check.Results, 2)
	ok := check.Results[0]
	assert.True(t, ok.Eligible())
	assert.Equal(t, hostednumberstest.AccountSID, ok.HostingAccountSID.String, "the client's own account by default")
	assert.Equal(t, "US", ok.Country.String)
	assert.Equal(t, "LOCAL", ok.PhoneNumberType.String)
	assert.False(t, ok.SubStatus.Known())
	assert.False(t, ok.IneligibilityReason.Valid)
	assert.True(t, ok.DateLastChecked.Valid)
	assert.False(t, ok.DateLastChecked.Time.Before(before))
	bad := check.Results[1]
	assert.Equal(t, hn.EligibilityStatusIneligible, bad.Status)
	assert.Equal(t, hn.EligibilitySubStatusAlreadyInTwilio, bad.SubStatus)
	assert.Equal(t, hostednumberstest.ReasonAlreadyInTwilioNotInUse, bad.IneligibilityReason.String)
	assert.Equal(t, hostednumberstest.NextStepContactSupportInventory, bad.NextStep.String)
	assert.Equal(t, elHostingSID, bad.HostingAccountSID.String)
	assert.Equal(t, "TOLL_FREE", bad.PhoneNumberType.String)

	bulk, err := c.Eligibility.CreateBulk(ctx, &hn.EligibilityParams{FriendlyName: "spring", PhoneNumbers: []hn.EligibilityNumber{
		{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}, {PhoneNumber: "+14155550109"},
	}})
	require.NoError(t, err)
	assert.Equal(t, hn.BulkEligibilityStatusQueued, bulk.Status)
	assert.Equal(t, http.StatusAccepted, bulk.LastResponse.StatusCode)
	assert.Empty(t, bulk.Results)
	assert.Equal(t, srv.URL+"/v1/HostedNumber/Eligibility/Bulk/"+bulk.RequestID, bulk.URL.String)

	var seen []hn.BulkEligibilityStatus
	done, err := c.Eligibility.WaitBulk(ctx, bulk.RequestID, &hn.EligibilityWaitOptions{
		PollInterval: 2 * time.Millisecond, MaxPollInterval: 5 * time.Millisecond,
		OnSnapshot: func(b *hn.BulkEligibility) { seen = append(seen, b.Status) },
	})
	require.NoError(t, err)
	assert.Equal(t, hn.BulkEligibilityStatusSuccessful, done.Status)
	assert.True(t, done.DateCompleted.Valid)
	assert.Equal(t, "spring", done.FriendlyName.String)
	assert.Equal(t, []string{"+14155550101", "+14155550102"}, elPhones(done.Results.Eligible()))
	assert.Equal(t, []string{"+14155550109"}, elPhones(done.Results.Ineligible()))
	require.NotEmpty(t, seen)
	assert.Equal(t, hn.BulkEligibilityStatusSuccessful, seen[len(seen)-1])
	rank := map[hn.BulkEligibilityStatus]int{hn.BulkEligibilityStatusQueued: 0, hn.BulkEligibilityStatusInProgress: 1, hn.BulkEligibilityStatusSuccessful: 2}
	for i := 1; i < len(seen); i++ {
		assert.LessOrEqual(t, rank[seen[i-1]], rank[seen[i]], "statuses only move forward: %v", seen)
	}

	again, err := hn.WaitForBulkEligibility(ctx, c.Eligibility, bulk.RequestID, nil)
	require.NoError(t, err, "the service itself is a fetcher")
	assert.Equal(t, done.Results, again.Results)

	_, err = c.Eligibility.FetchBulk(ctx, elOtherID)
	assert.ErrorIs(t, err, hn.ErrNotFound)
	_, err = c.Eligibility.WaitBulk(ctx, elOtherID, nil)
	assert.ErrorIs(t, err, hn.ErrNotFound, "a 404 ends the wait at once")

	held := srv.BulkEligibilityChecks()
	require.Len(t, held, 1)
	assert.Equal(t, bulk.RequestID, held[0].RequestID)
	var posts []hostednumberstest.Request
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			posts = append(posts, r)
		}
	}
	require.Len(t, posts, 2)
	assert.Equal(t, "/v1/HostedNumber/Eligibility", posts[0].Path)
	assert.Empty(t, posts[0].CreatedSID, "a single check creates nothing")
	assert.Equal(t, bulk.RequestID, posts[1].CreatedSID)
}

// TestEligibilityCreateBulk_ALostAnswerLeavesAnOrphanCheck: the fake runs
// the bulk check and drops the answer. The client cannot know, so the
// error says ErrOutcomeUnknown; the fake holds an EC… check nobody follows,
// and checking again simply works.
func TestEligibilityCreateBulk_ALostAnswerLeavesAnOrphanCheck(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
	c := srv.Client()
	b, err := c.Eligibility.CreateBulk(elCtx(t), elParams("+14155550101"))
	assert.Nil(t, b)
	require.ErrorIs(t, err, hn.ErrOutcomeUnknown)
	assert.NotErrorIs(t, err, hn.ErrNotApplied)
	assert.Contains(t, err.Error(), "hostednumbers: create bulk eligibility check: ")
	require.Len(t, srv.BulkEligibilityChecks(), 1, "the orphan")

	b, err = c.Eligibility.CreateBulk(elCtx(t), elParams("+14155550101"))
	require.NoError(t, err)
	assert.NotEqual(t, srv.BulkEligibilityChecks()[0].RequestID, b.RequestID)
	assert.Len(t, srv.BulkEligibilityChecks(), 2)
}

func TestEligibilityCheck_RetriesA429LikeAnyCreate(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, Status: http.StatusTooManyRequests, RetryAfter: "0"})
	got, err := srv.Client().Eligibility.Check(elCtx(t), elParams("+14155550101"))
	require.NoError(t, err)
	assert.Equal(t, 2, got.LastResponse.Attempts)
	assert.Len(t, got.Results, 1)
}

func TestEligibility_ConcurrentChecksAgainstTheFake(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("3")))
	defer srv.Close()
	c := srv.Client()
	ctx := elCtx(t)
	var wg sync.WaitGroup
	var ineligible atomic.Int64
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.Eligibility.Check(ctx, elParams(fmt.Sprintf("+1415555%04d", i)))
			if err != nil {
				errs <- err
				return
			}
			ineligible.Add(int64(len(got.Results.Ineligible())))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, int64(2), ineligible.Load(), "+14155550003 and +14155550013")
}

// elScript is a mocked BulkEligibilityFetcher answering from a list of
// steps: a status, an error, or a whole value.
type elScript struct {
	mu    sync.Mutex
	steps []any
	calls int
}

func (s *elScript) FetchBulk(_ context.Context, id string, _ ...hn.CallOption) (*hn.BulkEligibility, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	var step any = hn.BulkEligibilityStatusSuccessful
	if len(s.steps) > 0 {
		step, s.steps = s.steps[0], s.steps[1:]
	}
	switch v := step.(type) {
	case hn.BulkEligibilityStatus:
		return &hn.BulkEligibility{RequestID: id, Status: v}, nil
	case *hn.BulkEligibility:
		return v, nil
	case error:
		return nil, v
	}
	return nil, nil
}

func TestWaitForBulkEligibility_OverAMockedFetcher(t *testing.T) {
	fast := &hn.EligibilityWaitOptions{PollInterval: time.Millisecond, MaxPollInterval: 2 * time.Millisecond, MaxConsecutiveErrors: 2}
	unavailable := &hn.APIError{HTTPStatus: http.StatusServiceUnavailable}
	completed := hn.NullTime{Time: time.Now(), Valid: true}

	t.Run("polls through transient errors to the end", func(t *testing.T) {
		s := &elScript{steps: []any{hn.BulkEligibilityStatusQueued, unavailable, hn.BulkEligibilityStatusInProgress, unavailable, hn.BulkEligibilityStatusComplete}}
		got, err := hn.WaitForBulkEligibility(elCtx(t), s, elRequestID, fast)
		require.NoError(t, err)
		assert.Equal(t, hn.BulkEligibilityStatusComplete, got.Status)
		assert.Equal(t, 5, s.calls)
	})
	t.Run("gives up after MaxConsecutiveErrors with the last state", func(t *testing.T) {
		s := &elScript{steps: []any{hn.BulkEligibilityStatusInProgress, unavailable, unavailable, hn.BulkEligibilityStatusSuccessful}}
		got, err := hn.WaitForBulkEligibility(elCtx(t), s, elRequestID, fast)
		require.ErrorIs(t, err, hn.ErrServer)
		assert.True(t, strings.HasPrefix(err.Error(), "hostednumbers: wait for bulk eligibility check "+elRequestID+": "), err.Error())
		require.NotNil(t, got)
		assert.Equal(t, hn.BulkEligibilityStatusInProgress, got.Status)
		assert.Equal(t, 3, s.calls)
	})
	t.Run("a 429 waits its Retry-After and is not a failure", func(t *testing.T) {
		limited := &hn.APIError{HTTPStatus: http.StatusTooManyRequests, RetryAfter: 30 * time.Millisecond}
		s := &elScript{steps: []any{limited, limited, limited, hn.BulkEligibilityStatusSuccessful}}
		start := time.Now()
		got, err := hn.WaitForBulkEligibility(elCtx(t), s, elRequestID, fast)
		require.NoError(t, err)
		assert.Equal(t, hn.BulkEligibilityStatusSuccessful, got.Status)
		assert.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond, "three Retry-After waits, never shorter")
	})
	t.Run("a permanent error ends it at once", func(t *testing.T) {
		s := &elScript{steps: []any{hn.BulkEligibilityStatusQueued, &hn.APIError{HTTPStatus: http.StatusNotFound}}}
		got, err := hn.WaitForBulkEligibility(elCtx(t), s, elRequestID, fast)
		require.ErrorIs(t, err, hn.ErrNotFound)
		assert.Equal(t, hn.BulkEligibilityStatusQueued, got.Status)
		assert.Equal(t, 2, s.calls)
	})
	t.Run("an answer about another check ends it", func(t *testing.T) {
		s := &elScript{steps: []any{&hn.BulkEligibility{RequestID: elOtherID, Status: hn.BulkEligibilityStatusSuccessful}}}
		_, err := hn.WaitForBulkEligibility(elCtx(t), s, elRequestID, fast)
		var de *hn.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Contains(t, err.Error(), elOtherID)
	})
	t.Run("neither a value nor an error ends it", func(t *testing.T) {
		s := &elScript{steps: []any{nil}}
		_, err := hn.WaitForBulkEligibility(elCtx(t), s, elRequestID, fast)
		var de *hn.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Contains(t, err.Error(), "FetchBulk returned neither")
	})
	t.Run("an unknown status with a completion date ends it", func(t *testing.T) {
		s := &elScript{steps: []any{&hn.BulkEligibility{RequestID: elRequestID, Status: "DONE_WITH_WARNINGS", DateCompleted: completed}}}
		got, err := hn.WaitForBulkEligibility(elCtx(t), s, elRequestID, fast)
		require.NoError(t, err)
		assert.Equal(t, hn.BulkEligibilityStatus("DONE_WITH_WARNINGS"), got.Status)
		assert.Equal(t, 1, s.calls)
	})
	t.Run("an unknown status without one keeps polling until ctx ends", func(t *testing.T) {
		steps := make([]any, 1000)
		for i := range steps {
			steps[i] = hn.BulkEligibilityStatus("REVIEWING")
		}
		s := &elScript{steps: steps}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		got, err := hn.WaitForBulkEligibility(ctx, s, elRequestID, fast)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, hn.BulkEligibilityStatus("REVIEWING"), got.Status, "the last state comes with the error")
		assert.Greater(t, s.calls, 1)
	})
	t.Run("a cancelled context during a fetch", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := &cancelFetcher{cancel: cancel}
		_, err := hn.WaitForBulkEligibility(ctx, s, elRequestID, fast)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("nil fetcher and bad ID", func(t *testing.T) {
		_, err := hn.WaitForBulkEligibility(elCtx(t), nil, elRequestID, nil)
		elValidation(t, err, "fetcher")
		s := &elScript{}
		_, err = hn.WaitForBulkEligibility(elCtx(t), s, "EC1", nil)
		elValidation(t, err, "request_id")
		assert.Zero(t, s.calls)
	})
}

// cancelFetcher cancels the wait's context and then fails, as a fetch cut
// short by the caller does.
type cancelFetcher struct{ cancel context.CancelFunc }

func (f *cancelFetcher) FetchBulk(ctx context.Context, _ string, _ ...hn.CallOption) (*hn.BulkEligibility, error) {
	f.cancel()
	return nil, ctx.Err()
}

// elMock shows that EligibilityAPI is easy to mock: WaitBulk is the real
// loop over the mocked FetchBulk.
type elMock struct {
	hn.EligibilityAPI
	script *elScript
}

func (m elMock) FetchBulk(ctx context.Context, id string, _ ...hn.CallOption) (*hn.BulkEligibility, error) {
	return m.script.FetchBulk(ctx, id)
}

func (m elMock) WaitBulk(ctx context.Context, id string, opts *hn.EligibilityWaitOptions, _ ...hn.CallOption) (*hn.BulkEligibility, error) {
	return hn.WaitForBulkEligibility(ctx, m, id, opts)
}

func TestEligibilityAPI_MockedWaitRunsTheRealLoop(t *testing.T) {
	var api hn.EligibilityAPI = elMock{script: &elScript{steps: []any{hn.BulkEligibilityStatusQueued, hn.BulkEligibilityStatusSuccessful}}}
	got, err := api.WaitBulk(elCtx(t), elRequestID, &hn.EligibilityWaitOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, hn.BulkEligibilityStatusSuccessful, got.Status)
}

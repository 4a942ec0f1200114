package hostednumbers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

// spellingsOf returns the two spellings Twilio uses for a value, and a
// mixture: lower case with hyphens, upper case with underscores, and the
// first letter upper case with the separators swapped.
func spellingsOf(v string) []string {
	lowerHyphen := strings.ReplaceAll(strings.ToLower(v), "_", "-")
	upperSnake := strings.ReplaceAll(strings.ToUpper(v), "-", "_")
	mixed := strings.ToUpper(lowerHyphen[:1]) + lowerHyphen[1:]
	mixed = strings.NewReplacer("-", "_", "_", "-").Replace(mixed)
	return []string{v, lowerHyphen, upperSnake, mixed, " " + lowerHyphen + " "}
}

// checkEnum decodes every spelling of every value through encoding/json
// (the type's UnmarshalJSON) and through parse, and checks that unknown
// values stay as sent and unknown.
func checkEnum[T interface {
	~string
	Known() bool
}](t *testing.T, parse func(string) T, values []T, unknown []string) {
	t.Helper()
	for _, v := range values {
		require.True(t, v.Known(), "%q is a constant, so Known", v)
		for _, s := range spellingsOf(string(v)) {
			assert.Equal(t, v, parse(s), "parse(%q)", s)
			var got T
			raw, _ := json.Marshal(s)
			require.NoError(t, json.Unmarshal(raw, &got), "%s", raw)
			assert.Equal(t, v, got, "decode %s", raw)
		}
	}
	for _, s := range unknown {
		got := parse(s)
		assert.Equal(t, T(s), got, "parse(%q) keeps the raw text", s)
		assert.False(t, got.Known(), "%q is unknown", s)
		var decoded T
		raw, _ := json.Marshal(s)
		require.NoError(t, json.Unmarshal(raw, &decoded))
		assert.Equal(t, T(s), decoded, "decode %s keeps the raw text", raw)
		assert.False(t, decoded.Known())
	}
	// null leaves the value as it was; a non-string is an error.
	held := values[0]
	require.NoError(t, json.Unmarshal([]byte("null"), &held))
	assert.Equal(t, values[0], held)
	var bad T
	assert.Error(t, json.Unmarshal([]byte("7"), &bad))
}

func TestEnums_BothSpellingsDecodeToOneConstantAndUnknownsStayUnknown(t *testing.T) {
	t.Run("eligibility status", func(t *testing.T) {
		checkEnum(t, hn.ParseEligibilityStatus,
			[]hn.EligibilityStatus{hn.EligibilityStatusEligible, hn.EligibilityStatusIneligible},
			[]string{"ELIGIBLE_PENDING", "not-eligible", "eligibl", "eligible?", "PENDING_REVIEW", ""})
	})
	t.Run("eligibility sub-status", func(t *testing.T) {
		checkEnum(t, hn.ParseEligibilitySubStatus,
			[]hn.EligibilitySubStatus{
				hn.EligibilitySubStatusCountryIneligible, hn.EligibilitySubStatusNumberFormatIneligible,
				hn.EligibilitySubStatusNumberTypeIneligible, hn.EligibilitySubStatusCarrierIneligible,
				hn.EligibilitySubStatusAlreadyInTwilio, hn.EligibilitySubStatusInternalProcessingError,
				hn.EligibilitySubStatusInvalidPhoneNumber, hn.EligibilitySubStatusInvalidHostingAccountSID,
				hn.EligibilitySubStatusEligible, hn.EligibilitySubStatusEligibleByManualProcess,
			},
			[]string{"already in twilio", "ALREADYINTWILIO", "CARRIER_LOOKUP_PENDING"})
	})
	t.Run("bulk eligibility status", func(t *testing.T) {
		checkEnum(t, hn.ParseBulkEligibilityStatus,
			[]hn.BulkEligibilityStatus{hn.BulkEligibilityStatusQueued, hn.BulkEligibilityStatusInProgress,
				hn.BulkEligibilityStatusSuccessful, hn.BulkEligibilityStatusComplete},
			[]string{"FAILED", "in progress"})
	})
	t.Run("order status", func(t *testing.T) {
		checkEnum(t, hn.ParseOrderStatus,
			[]hn.OrderStatus{
				hn.OrderStatusTwilioProcessing, hn.OrderStatusReceived, hn.OrderStatusPendingVerification,
				hn.OrderStatusVerified, hn.OrderStatusPendingLOA, hn.OrderStatusCarrierProcessing,
				hn.OrderStatusTesting, hn.OrderStatusCompleted, hn.OrderStatusFailed, hn.OrderStatusActionRequired,
			},
			[]string{"canceled", "pending loa", "pendingloa", "new_one"})
	})
	t.Run("request status", func(t *testing.T) {
		checkEnum(t, hn.ParseRequestStatus,
			[]hn.RequestStatus{hn.RequestStatusQueued, hn.RequestStatusInProgress, hn.RequestStatusProcessed},
			[]string{"PAUSED", "inprogress"})
	})
	t.Run("authorization document status", func(t *testing.T) {
		checkEnum(t, hn.ParseAuthorizationDocumentStatus,
			[]hn.AuthorizationDocumentStatus{hn.AuthorizationDocumentStatusOpened, hn.AuthorizationDocumentStatusSigning,
				hn.AuthorizationDocumentStatusSigned, hn.AuthorizationDocumentStatusCanceled, hn.AuthorizationDocumentStatusFailed},
			[]string{"cancelled", "voided"})
	})
}

func TestEligibility_AnUnknownStatusIsNeverEligible(t *testing.T) {
	for _, s := range []hn.EligibilityStatus{
		"ELIGIBLE_PENDING", "eligible-by-manual-process", "not-eligible", "ELIGIBLE!", "", "eligible\x00", "ＥＬＩＧＩＢＬＥ",
	} {
		r := hn.EligibilityResult{PhoneNumber: "+14155550101", Status: s}
		assert.False(t, r.Eligible(), "%q", s)
		rs := hn.EligibilityResults{r}
		assert.Empty(t, rs.Eligible(), "%q", s)
		assert.Len(t, rs.Ineligible(), 1, "%q", s)
	}
	// A result built by hand (a mock) in the defined spelling is eligible
	// as a decoded one is.
	for _, s := range []hn.EligibilityStatus{"eligible", "ELIGIBLE", "Eligible"} {
		r := hn.EligibilityResult{Status: s}
		assert.True(t, r.Eligible(), "%q", s)
	}
}

func TestEligibilityFetchBulk_DecodesTheOpenAPIsDefinedSpelling(t *testing.T) {
	_, c := elServe(t, elJSON(http.StatusOK, elFixture(t, "FetchBulkEligibility_200_defined_spelling.json")))
	b, err := c.Eligibility.FetchBulk(elCtx(t), elRequestID)
	require.NoError(t, err)

	assert.Equal(t, hn.BulkEligibilityStatusSuccessful, b.Status)
	assert.True(t, b.Finished())
	type row struct {
		phone     string
		status    hn.EligibilityStatus
		sub       hn.EligibilitySubStatus
		known     bool
		eligible  bool
		reasonRaw string
	}
	want := []row{
		{"+14155550101", hn.EligibilityStatusEligible, hn.EligibilitySubStatusEligible, true, true, ""},
		{"+18778894546", hn.EligibilityStatusIneligible, hn.EligibilitySubStatusAlreadyInTwilio, true, false, "already-in-twilio-but-not-in-use"},
		{"4565433456", hn.EligibilityStatusIneligible, hn.EligibilitySubStatusNumberFormatIneligible, true, false, "number-format-ineligible"},
		{"+14155550102", hn.EligibilityStatusEligible, hn.EligibilitySubStatusEligibleByManualProcess, true, true, ""},
		{"+14155550103", "eligible-pending-review", "carrier-lookup-pending", false, false, ""},
	}
	require.Len(t, b.Results, len(want))
	for i, w := range want {
		r := b.Results[i]
		assert.Equal(t, w.phone, r.PhoneNumber)
		assert.Equal(t, w.status, r.Status, "%s", w.phone)
		assert.Equal(t, w.sub, r.SubStatus, "%s", w.phone)
		assert.Equal(t, w.known, r.Status.Known(), "%s", w.phone)
		assert.Equal(t, w.known, r.SubStatus.Known(), "%s", w.phone)
		assert.Equal(t, w.eligible, r.Eligible(), "%s", w.phone)
		assert.Equal(t, w.reasonRaw, r.IneligibilityReason.String, "free text is kept as sent")
	}
	assert.Equal(t, []string{"+14155550101", "+14155550102"}, elPhones(b.Results.Eligible()))
	assert.Equal(t, []string{"+18778894546", "4565433456", "+14155550103"}, elPhones(b.Results.Ineligible()),
		"an unknown status is among the ineligible")
	assert.Equal(t, "AC93b447ff5bd2abac37f1cbab2a871430", b.Results[1].HostingAccountSID.String)

	// The same answer in the examples' spelling decodes to the same values.
	_, c = elServe(t, elJSON(http.StatusOK, []byte(strings.NewReplacer(
		`"eligible"`, `"ELIGIBLE"`, `"ineligible"`, `"INELIGIBLE"`, `"already-in-twilio"`, `"ALREADY_IN_TWILIO"`,
		`"number-format-ineligible"`, `"NUMBER_FORMAT_INELIGIBLE"`, `"eligible-by-manual-process"`, `"ELIGIBLE_BY_MANUAL_PROCESS"`,
		`"successful"`, `"SUCCESSFUL"`,
	).Replace(string(elFixture(t, "FetchBulkEligibility_200_defined_spelling.json"))))))
	upper, err := c.Eligibility.FetchBulk(elCtx(t), elRequestID)
	require.NoError(t, err)
	upper.LastResponse, b.LastResponse = nil, nil
	assert.Equal(t, b.Status, upper.Status)
	for i := range b.Results {
		assert.Equal(t, b.Results[i].Status, upper.Results[i].Status)
		assert.Equal(t, b.Results[i].SubStatus, upper.Results[i].SubStatus)
	}
}

func TestEligibilityCheck_DecodesTheDefinedSpelling(t *testing.T) {
	body := strings.NewReplacer(`"INELIGIBLE"`, `"ineligible"`, `"ALREADY_IN_TWILIO"`, `"already-in-twilio"`,
		`"eligibility_sub_status": "NUMBER_FORMAT_INELIGIBLE"`, `"eligibility_sub_status": "number-format-ineligible"`,
	).Replace(string(elFixture(t, "CreateEligibility_200_create.json")))
	require.Contains(t, body, `"already-in-twilio"`)
	_, c := elServe(t, elJSON(http.StatusOK, []byte(body)))
	got, err := c.Eligibility.Check(elCtx(t), elParams("+18778894546"))
	require.NoError(t, err)
	require.Len(t, got.Results, 2)
	assert.Equal(t, hn.EligibilityStatusIneligible, got.Results[0].Status)
	assert.Equal(t, hn.EligibilitySubStatusAlreadyInTwilio, got.Results[0].SubStatus)
	assert.Equal(t, hn.EligibilitySubStatusNumberFormatIneligible, got.Results[1].SubStatus)
}

func TestBulkFetch_DecodesRequestAndGroupStatusesInEitherSpelling(t *testing.T) {
	body := strings.NewReplacer(`"PROCESSED"`, `"processed"`, `"order_status": "failed"`, `"order_status": "FAILED"`).
		Replace(string(rsFixture(t, "FetchBulkHostedNumberOrder_200_fetchNoParams.json")))
	require.Contains(t, body, `"processed"`)
	require.Contains(t, body, `"FAILED"`)
	// A third group spelled as the order resource spells it merges with
	// pending_loa.
	body = strings.Replace(body, `"results": [`, `"results": [{"order_status":"PENDING-LOA","count":"0","orders":[]},`, 1)
	_, c := rsServe(t, func(w http.ResponseWriter, _ *http.Request) { rsJSON(w, http.StatusOK, []byte(body)) })
	order, err := c.BulkHostedNumberOrders.Fetch(elCtx(t), "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nil)
	require.NoError(t, err)
	assert.Equal(t, hn.RequestStatusProcessed, order.RequestStatus)
	assert.True(t, order.RequestStatus.Finished())
	require.Len(t, order.Results, 3)
	assert.Equal(t, hn.OrderStatusPendingLOA, order.Results[0].OrderStatus)
	assert.Equal(t, "PENDING-LOA", order.Results[0].RawOrderStatus)
	assert.Equal(t, hn.OrderStatusPendingLOA, order.Results[1].OrderStatus)
	assert.Equal(t, "pending_loa", order.Results[1].RawOrderStatus)
	assert.Equal(t, hn.OrderStatusFailed, order.Results[2].OrderStatus)
	assert.Equal(t, map[hn.OrderStatus]int{hn.OrderStatusPendingLOA: 2, hn.OrderStatusFailed: 2}, order.CountsByStatus())
	assert.Len(t, order.Failed(), 2)

	// json.Unmarshal into the public type folds the same way.
	var direct hn.BulkHostedNumberOrder
	require.NoError(t, json.Unmarshal([]byte(body), &direct))
	assert.Equal(t, hn.RequestStatusProcessed, direct.RequestStatus)
}

func TestBulkFetch_OrderStatusFilterIsSentInTheEnumsHyphenatedSpelling(t *testing.T) {
	fixture := rsFixture(t, "FetchBulkHostedNumberOrder_200_fetchNoParams.json")
	rec, c := rsServe(t, func(w http.ResponseWriter, _ *http.Request) { rsJSON(w, http.StatusOK, fixture) })
	for _, tt := range []struct {
		given hn.OrderStatus
		query string
	}{
		{hn.OrderStatusPendingLOA, "OrderStatus=pending-loa"},
		{"pending_loa", "OrderStatus=pending-loa"},
		{"PENDING_LOA", "OrderStatus=pending-loa"},
		{"Action_Required", "OrderStatus=action-required"},
		{"failed", "OrderStatus=failed"},
		{"some_new_status", "OrderStatus=some_new_status"},
		{"", ""},
	} {
		var params *hn.FetchBulkHostedNumberOrderParams
		if tt.given != "" {
			params = &hn.FetchBulkHostedNumberOrderParams{OrderStatus: tt.given}
		}
		_, err := c.BulkHostedNumberOrders.Fetch(elCtx(t), "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", params)
		require.NoError(t, err)
		reqs := rec.requests()
		assert.Equal(t, tt.query, reqs[len(reqs)-1].RawQuery, "%q", tt.given)
	}
}

func TestAuthorizationDocuments_StatusInEitherSpelling(t *testing.T) {
	doc := strings.Replace(string(rsFixture(t, "FetchAuthorizationDocument_200_fetch.json")), `"status": "signing"`, `"status": "SIGNING"`, 1)
	require.Contains(t, doc, `"SIGNING"`)
	var got hn.AuthorizationDocument
	require.NoError(t, json.Unmarshal([]byte(doc), &got))
	assert.Equal(t, hn.AuthorizationDocumentStatusSigning, got.Status)
	assert.True(t, got.Status.Unsigned())

	list := rsFixture(t, "ListAuthorizationDocument_200_readEmpty.json")
	rec, c := rsServe(t, func(w http.ResponseWriter, _ *http.Request) { rsJSON(w, http.StatusOK, list) })
	_, err := c.AuthorizationDocuments.List(elCtx(t), &hn.ListAuthorizationDocumentsParams{Status: "SIGNING"})
	require.NoError(t, err)
	assert.Equal(t, "Status=signing", rec.requests()[0].RawQuery)
	_, err = c.AuthorizationDocuments.List(elCtx(t), &hn.ListAuthorizationDocumentsParams{Status: "voided"})
	require.ErrorIs(t, err, hn.ErrInvalidInput)
	assert.Equal(t, 1, rec.count(), "an unknown status is refused before sending")
}

package hostednumberstest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

const elAC = "AC93b447ff5bd2abac37f1cbab2a871430"

// elPost sends a raw request to the fake with its credentials (or none)
// and returns the status and the decoded JSON answer.
func elPost(t *testing.T, srv *hostednumberstest.Server, method, path, contentType, body string, authed bool) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authed {
		req.SetBasicAuth(hostednumberstest.AccountSID, hostednumberstest.AuthToken)
	}
	resp, err := (&http.Client{Transport: srv.Transport()}).Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc), "%s", raw)
	return resp.StatusCode, doc
}

func TestEligibility_FakeAnswersAsTwilioShapesIt(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	status, doc := elPost(t, srv, http.MethodPost, "/v1/HostedNumber/Eligibility", "application/json",
		`{"friendly_name":"x","phone_numbers":[{"phone_number":"+18778894546","hosting_account_sid":"`+elAC+`"},{"phone_number":"4565433456"}]}`, true)
	require.Equal(t, http.StatusOK, status, "%v", doc)
	results := doc["results"].([]any)
	require.Len(t, results, 2)
	first := results[0].(map[string]any)
	for _, member := range []string{"phone_number", "hosting_account_sid", "account_sid", "country", "iso_country_code",
		"eligibility_status", "eligibility_sub_status", "ineligibility_reason", "next_step", "date_last_checked",
		"voice_provider", "messaging_provider", "phone_number_type", "hosting_order_sid", "hosting_order_status",
		"inventory_status", "inventory_account_sid"} {
		assert.Contains(t, first, member)
	}
	assert.Equal(t, "ELIGIBLE", first["eligibility_status"])
	assert.Equal(t, elAC, first["hosting_account_sid"])
	assert.Equal(t, elAC, first["account_sid"])
	assert.Equal(t, "TOLL_FREE", first["phone_number_type"])
	assert.Nil(t, first["eligibility_sub_status"])

	// Like Twilio's own example: a number not in E.164 form is answered,
	// not refused.
	second := results[1].(map[string]any)
	assert.Equal(t, "4565433456", second["phone_number"])
	assert.Equal(t, "INELIGIBLE", second["eligibility_status"])
	assert.Equal(t, "NUMBER_FORMAT_INELIGIBLE", second["eligibility_sub_status"])
	assert.Equal(t, hostednumberstest.ReasonNumberFormatIneligible, second["ineligibility_reason"])
	assert.Equal(t, hostednumberstest.NextStepEditIneligibleNumber, second["next_step"])
	assert.Nil(t, second["account_sid"])
	assert.Nil(t, second["iso_country_code"])

	status, doc = elPost(t, srv, http.MethodPost, "/v1/HostedNumber/Eligibility/Bulk", "application/json",
		`{"phone_numbers":[{"phone_number":"+14155550101"}]}`, true)
	require.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "QUEUED", doc["status"])
	assert.Equal(t, []any{}, doc["results"])
	assert.Nil(t, doc["date_completed"])
	assert.Nil(t, doc["friendly_name"])
	id, _ := doc["request_id"].(string)
	assert.Regexp(t, "^EC[0-9a-f]{32}$", id)
	assert.Equal(t, srv.URL+"/v1/HostedNumber/Eligibility/Bulk/"+id, doc["url"])
}

func TestEligibility_FakeRefusesBodiesTheAPIWould(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	for _, path := range []string{"/v1/HostedNumber/Eligibility", "/v1/HostedNumber/Eligibility/Bulk"} {
		tests := []struct {
			name, contentType, body string
			status                  int
			field                   string
		}{
			{"form body", "application/x-www-form-urlencoded", "PhoneNumber=%2B14155550101", http.StatusUnsupportedMediaType, ""},
			{"not an object", "application/json", `["+14155550101"]`, http.StatusBadRequest, ""},
			{"not JSON", "application/json", `{"phone_numbers":`, http.StatusBadRequest, ""},
			{"number not a string", "application/json", `{"phone_numbers":[{"phone_number":14155550101}]}`, http.StatusBadRequest, ""},
			{"no numbers", "application/json", `{"friendly_name":"x"}`, http.StatusBadRequest, "phone_numbers"},
			{"number missing", "application/json", `{"phone_numbers":[{"hosting_account_sid":"` + elAC + `"}]}`, http.StatusBadRequest, "phone_numbers[0].phone_number"},
			{"bad account", "application/json", `{"phone_numbers":[{"phone_number":"+14155550101","hosting_account_sid":"AC1"}]}`, http.StatusBadRequest, "phone_numbers[0].hosting_account_sid"},
		}
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				status, doc := elPost(t, srv, http.MethodPost, path, tt.contentType, tt.body, true)
				assert.Equal(t, tt.status, status, "%v", doc)
				if tt.field != "" {
					details, _ := doc["details"].(map[string]any)
					assert.Equal(t, tt.field, details["field"], "%v", doc)
				}
			})
		}
	}
	assert.Empty(t, srv.BulkEligibilityChecks(), "a refused body creates nothing")

	status, _ := elPost(t, srv, http.MethodPost, "/v1/HostedNumber/Eligibility", "application/json", `{"phone_numbers":[{"phone_number":"+14155550101"}]}`, false)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = elPost(t, srv, http.MethodGet, "/v1/HostedNumber/Eligibility", "", "", true)
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	status, _ = elPost(t, srv, http.MethodPost, "/v1/HostedNumber/Eligibility/Bulk/ECaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "application/json", `{}`, true)
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	status, _ = elPost(t, srv, http.MethodGet, "/v1/HostedNumber/Eligibility/Bulk/ECaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", "", true)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = elPost(t, srv, http.MethodGet, "/v1/HostedNumber/Eligibility/Other", "", "", true)
	assert.Equal(t, http.StatusNotFound, status)

	// Every one of them was recorded.
	var eligibility int
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/v1/HostedNumber/Eligibility") {
			eligibility++
		}
	}
	assert.Equal(t, 2*7+5, eligibility)
}

// Twilio documents no limit on the numbers of a check and no rule against
// a number listed twice: the fake accepts both (the SDK refuses them
// before it sends, a choice of its own).
func TestEligibility_FakeAcceptsWhatTwilioDocumentsNoLimitFor(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	for _, path := range []string{"/v1/HostedNumber/Eligibility", "/v1/HostedNumber/Eligibility/Bulk"} {
		status, doc := elPost(t, srv, http.MethodPost, path, "application/json", `{"phone_numbers":[{"phone_number":"+14155550101"},{"phone_number":"+14155550101"}]}`, true)
		assert.Less(t, status, 300, "%s listed twice: %v", path, doc)
		status, doc = elPost(t, srv, http.MethodPost, path, "application/json", elTooMany(), true)
		assert.Less(t, status, 300, "%s over MaxEligibilityNumbers: %v", path, doc)
	}
}

func elTooMany() string {
	var b strings.Builder
	b.WriteString(`{"phone_numbers":[`)
	for i := range hostednumbers.MaxEligibilityNumbers + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"phone_number":"+1415` + strings.Repeat("0", 7-len(elItoa(i))) + elItoa(i) + `"}`)
	}
	b.WriteString("]}")
	return b.String()
}

func elItoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestEligibility_FakeBulkChecksMoveWithTheClock: a bulk check is QUEUED,
// then IN_PROGRESS, then SUCCESSFUL after the stage duration, however
// often it is fetched.
func TestEligibility_FakeBulkChecksMoveWithTheClock(t *testing.T) {
	t.Run("held by a long stage", func(t *testing.T) {
		srv := hostednumberstest.NewServer(hostednumberstest.WithStageDuration(time.Hour))
		defer srv.Close()
		c := srv.Client()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := c.Eligibility.CreateBulk(ctx, &hostednumbers.EligibilityParams{PhoneNumbers: []hostednumbers.EligibilityNumber{{PhoneNumber: "+14155550101"}}})
		require.NoError(t, err)
		for range 5 {
			got, err := c.Eligibility.FetchBulk(ctx, b.RequestID)
			require.NoError(t, err)
			assert.Equal(t, hostednumbers.BulkEligibilityStatusQueued, got.Status, "fetches do not move a check on")
			assert.Empty(t, got.Results)
		}
	})
	t.Run("finished after two stages", func(t *testing.T) {
		srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("")))
		defer srv.Close()
		c := srv.Client()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := c.Eligibility.CreateBulk(ctx, &hostednumbers.EligibilityParams{FriendlyName: "all", PhoneNumbers: []hostednumbers.EligibilityNumber{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}}})
		require.NoError(t, err)
		time.Sleep(2*hostednumberstest.DefaultEligibilityStageDuration + 10*time.Millisecond)
		got, err := c.Eligibility.FetchBulk(ctx, b.RequestID)
		require.NoError(t, err)
		assert.Equal(t, hostednumbers.BulkEligibilityStatusSuccessful, got.Status)
		assert.True(t, got.DateCompleted.Valid)
		assert.False(t, got.DateCompleted.Time.Before(got.DateCreated.Time))
		require.Len(t, got.Results, 2)
		assert.Len(t, got.Results.Ineligible(), 2, "an empty suffix makes every number ineligible")
		assert.False(t, got.Results[0].DateLastChecked.Valid, "bulk results carry no date_last_checked")
		held := srv.BulkEligibilityChecks()
		require.Len(t, held, 1)
		assert.Equal(t, got.Results, held[0].Results)

		srv.Reset()
		assert.Empty(t, srv.BulkEligibilityChecks(), "Reset forgets the checks")
		_, err = c.Eligibility.FetchBulk(ctx, b.RequestID)
		assert.ErrorIs(t, err, hostednumbers.ErrNotFound)
	})
}

func TestEligibility_WithEligibilityNilRestoresTheDefault(t *testing.T) {
	srv := hostednumberstest.NewServer(hostednumberstest.WithEligibility(hostednumberstest.IneligibleNumbersEndingIn("1")), hostednumberstest.WithEligibility(nil))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := srv.Client().Eligibility.Check(ctx, &hostednumbers.EligibilityParams{PhoneNumbers: []hostednumbers.EligibilityNumber{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+4420794600001"}}})
	require.NoError(t, err)
	assert.Len(t, got.Results.Eligible(), 2)
	assert.False(t, got.Results[1].Country.Valid, "the fake names only +1 countries")
	assert.False(t, got.Results[1].PhoneNumberType.Valid)

	script := hostednumberstest.IneligibleNumbersEndingIn("01")
	assert.Equal(t, hostednumbers.EligibilityStatusEligible, script("+14155550102").Status)
	assert.Equal(t, hostednumberstest.EligibilityOutcome{
		Status:              hostednumbers.EligibilityStatusIneligible,
		SubStatus:           hostednumbers.EligibilitySubStatusAlreadyInTwilio,
		IneligibilityReason: hostednumberstest.ReasonAlreadyInTwilioNotInUse,
		NextStep:            hostednumberstest.NextStepContactSupportInventory,
	}, script("+14155550101"))
}

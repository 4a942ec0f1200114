package hostednumbers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
)

func TestParseTime_AcceptsRFC3339AndRFC2822WithUTCNamesOrOffsets(t *testing.T) {
	at := time.Date(2023, 6, 29, 15, 19, 37, 0, time.UTC)
	cases := map[string]time.Time{
		"2023-06-29T15:19:37Z":            at,
		"2023-06-29T17:19:37+02:00":       at,
		"2023-06-29T15:19:37.25Z":         at.Add(250 * time.Millisecond),
		"Thu, 29 Jun 2023 15:19:37 GMT":   at,
		"Thu, 29 Jun 2023 15:19:37 UT":    at,
		"Thu, 29 Jun 2023 15:19:37 UTC":   at,
		"Thu, 29 Jun 2023 15:19:37 Z":     at,
		"Thu, 29 Jun 2023 15:19:37 gmt":   at,
		"Thu, 29 Jun 2023 15:19:37 +0000": at,
		"Thu, 29 Jun 2023 15:19:37 -0000": at,
		"Thu, 29 Jun 2023 17:19:37 +0200": at,
		"Thu, 29 Jun 2023 08:19:37 -0700": at,
		"29 Jun 2023 15:19:37 GMT":        at,
		"29 Jun 2023 15:19:37 +0000":      at,
		"Fri, 9 Jun 2023 15:19:37 GMT":    at.AddDate(0, 0, -20),
		"Fri, 09 Jun 2023 15:19:37 +0000": at.AddDate(0, 0, -20),
	}
	for in, want := range cases {
		got, err := hn.ParseTime(in)
		if assert.NoError(t, err, in) {
			assert.True(t, want.Equal(got), "%s: got %v, want %v", in, got, want)
		}
		if strings.HasSuffix(strings.ToUpper(in), "GMT") || strings.HasSuffix(in, " UT") || strings.HasSuffix(in, " UTC") || strings.HasSuffix(in, " Z") {
			assert.Equal(t, time.UTC, got.Location(), "%s: a UTC name gives UTC, whatever the machine's zone", in)
		}
	}
}

func TestParseTime_RefusesZonesItCannotKnow(t *testing.T) {
	for _, in := range []string{
		"Thu, 29 Jun 2023 15:19:37 PDT",
		"Thu, 29 Jun 2023 15:19:37 EST",
		"Thu, 29 Jun 2023 15:19:37 CEST",
		"Thu, 29 Jun 2023 15:19:37 XYZ",
		"Thu, 29 Jun 2023 15:19:37 J",
		"Thu, 29 Jun 2023 15:19:37 GMT+5",
		"Thu, 29 Jun 2023 15:19:37 UTC-3",
		"29 Jun 2023 15:19:37 MST",
	} {
		_, err := hn.ParseTime(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), "is not GMT, UT, UTC, Z or a numeric offset", in)
	}
	for _, in := range []string{
		"", "yesterday", "Thu, 29 Jun 2023 15:19:37", "Thu, 29 Jun 2023 15:19:37 +2500", "Thu, 29 Jun 2023 15:19:37 +02:00",
		"Thu, 32 Jun 2023 15:19:37 GMT", "2023-06-29 15:19:37Z", "Thu, 29 Jun 2023 15:19 GMT",
	} {
		_, err := hn.ParseTime(in)
		assert.Error(t, err, in)
	}
}

func TestFetch_ADateInAnUnknownZoneIsADecodeError(t *testing.T) {
	var m map[string]any
	require.NoError(t, json.Unmarshal(loadFixture(t, "fetch_200.json"), &m))
	m["date_completed"] = "Thu, 29 Jun 2023 15:19:37 PDT"
	body, err := json.Marshal(m)
	require.NoError(t, err)
	srv, client := rsServe(t, func(w http.ResponseWriter, _ *http.Request) { rsJSON(w, 200, body) })
	_, err = client.BulkHostedNumberOrders.Fetch(rsCtx(t), testBulkSID, nil)
	var de *hn.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), `zone "PDT"`)
	assert.Equal(t, 1, srv.count())
}

func TestNullValues_PrintTheirValue(t *testing.T) {
	name := hn.NullString{String: "Spring migration", Valid: true}
	var none hn.NullString
	empty := hn.NullString{Valid: true}
	when := hn.NullTime{Time: time.Date(2023, 6, 29, 15, 19, 37, 0, time.UTC), Valid: true}
	var never hn.NullTime

	for _, tt := range []struct {
		format string
		value  any
		want   string
	}{
		{"%v", name, "Spring migration"},
		{"%s", name, "Spring migration"},
		{"%q", name, `"Spring migration"`},
		{"%8.6s|", name, "  Spring|"},
		{"%v", none, "null"},
		{"%s", none, "null"},
		{"%q", none, "null"},
		{"%6v|", none, "  null|"},
		{"[%v]", empty, "[]"},
		{"%#v", name, `hostednumbers.NullString{String:"Spring migration", Valid:true}`},
		{"%#v", none, `hostednumbers.NullString{String:"", Valid:false}`},
		{"%v", when, "2023-06-29T15:19:37Z"},
		{"%s", when, "2023-06-29T15:19:37Z"},
		{"%v", never, "null"},
		{"%v", &name, "Spring migration"},
		{"%v", hn.NullTime{Time: time.Date(2023, 6, 29, 17, 19, 37, 5e8, time.FixedZone("", 2*3600)), Valid: true}, "2023-06-29T17:19:37.5+02:00"},
	} {
		assert.Equal(t, tt.want, fmt.Sprintf(tt.format, tt.value), "%s of %#v", tt.format, tt.value)
	}

	// Inside the SDK's structs, as %v and %+v print them.
	order := hn.BulkHostedNumberOrder{FriendlyName: name, DateCreated: when}
	got := fmt.Sprintf("%+v", order)
	assert.Contains(t, got, "FriendlyName:Spring migration ")
	assert.Contains(t, got, "NotificationEmail:null ")
	assert.Contains(t, got, "DateCreated:2023-06-29T15:19:37Z ")
	assert.Contains(t, got, "DateCompleted:null ")
	assert.NotContains(t, got, " true}")
	assert.NotContains(t, got, "{ false}")
}

func TestNullValues_LogTheirValue(t *testing.T) {
	name := hn.NullString{String: "Spring migration", Valid: true}
	when := hn.NullTime{Time: time.Date(2023, 6, 29, 15, 19, 37, 0, time.UTC), Valid: true}
	log := func(h func(*bytes.Buffer) slog.Handler) string {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("order", "friendly_name", name, "notification_email", hn.NullString{},
			"date_created", when, "date_completed", hn.NullTime{})
		return buf.String()
	}
	text := log(func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) })
	assert.Contains(t, text, `friendly_name="Spring migration"`)
	assert.Contains(t, text, `notification_email=<nil>`)
	assert.Contains(t, text, `date_created=2023-06-29T15:19:37.000Z`)
	assert.Contains(t, text, `date_completed=<nil>`)
	assert.NotContains(t, text, "true}")

	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(log(func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) })), &doc))
	assert.Equal(t, "Spring migration", doc["friendly_name"])
	assert.Equal(t, "2023-06-29T15:19:37Z", doc["date_created"])
	assert.Contains(t, doc, "notification_email")
	assert.Nil(t, doc["notification_email"], "not valid: JSON null")
	assert.Nil(t, doc["date_completed"])
}

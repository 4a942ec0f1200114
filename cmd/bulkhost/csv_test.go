package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
)

func TestBadRowsAllReportedNothingSent(t *testing.T) {
	h := newHarness(t)
	csv := `phone_number,friendly_name,sms_url,cc_emails
+14155550101,ok,,
+14155550102,ok,,
+0123,bad number,,
,missing number,,
+14155550101,duplicate,,
+14155550104,too,many,fields,here
+14155550105,bad url,ftp://example.com/sms,
+14155550106,bad cc,,ok@example.com;not-an-email
`
	code := h.run("-live", "-csv", writeCSV(t, csv), "-email", "not-an-email", "-address-sid", "AD123")
	require.Equal(t, exitError, code)
	errOut := h.stderr.String()
	for _, want := range []string{
		`-email: "not-an-email" is not an e-mail address`,
		`-address-sid: "AD123" is not a SID (AD and 32 hex digits)`,
		`line 4: phone_number "+0123": not an E.164 number`,
		`line 5: phone_number is empty`,
		`line 6: +14155550101 is a duplicate of line 2`,
		`line 7: 5 fields, but the header has 4`,
		`line 8: sms_url: "ftp://example.com/sms" is not an absolute http or https URL`,
		`line 9: cc_emails: "not-an-email" is not an e-mail address`,
		`nothing was submitted`,
		`8 problems`,
	} {
		assert.Contains(t, errOut, want)
	}
	// The SDK's own report of the same phone numbers is not repeated.
	assert.Equal(t, 1, strings.Count(errOut, "line 4:"))
	assert.Equal(t, 1, strings.Count(errOut, "line 6:"))
	// Problems come in order: flags, then lines.
	assert.Less(t, strings.Index(errOut, "-email:"), strings.Index(errOut, "line 4:"))
	assert.Less(t, strings.Index(errOut, "line 4:"), strings.Index(errOut, "line 9:"))
	assert.Empty(t, h.stdout.String())
	assert.Empty(t, h.srv.Requests(), "nothing reaches the server")
}

func TestCSVHeaderProblems(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      []string
	}{
		{"missing phone_number column", "friendly_name\nFront desk\n", []string{"line 1: the header has no phone_number column"}},
		{"unknown columns", "phone_number,Friendly_Name,colour,sms_urll\n+14155550101,x,red,\n",
			[]string{`line 1: unknown columns "colour", "sms_urll"; the columns are phone_number, friendly_name`}},
		{"column twice", "phone_number,friendly_name, Friendly_Name\n+14155550101,a,b\n",
			[]string{"line 1: column friendly_name appears twice in the header (columns 2 and 3)"}},
		{"empty file", "", []string{"the CSV is empty"}},
		{"header only", "phone_number\n", []string{"the CSV lists no phone numbers"}},
		{"syntax error", "phone_number,friendly_name\n+14155550101,\"unterminated\n", []string{"CSV syntax"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, tc.csv))...))
			for _, w := range tc.want {
				assert.Contains(t, h.stderr.String(), w)
			}
			assert.Empty(t, h.srv.Requests())
		})
	}
}

func TestHeaderAndFlagProblemsTogether(t *testing.T) {
	h := newHarness(t)
	code := h.run("-live", "-csv", writeCSV(t, "number\n+14155550101\n"), "-email", "nope", "-address-sid", addressSID)
	require.Equal(t, exitError, code)
	assert.Contains(t, h.stderr.String(), "3 problems")
	assert.Contains(t, h.stderr.String(), `-email: "nope" is not an e-mail address`)
	assert.Contains(t, h.stderr.String(), `line 1: unknown column "number"`)
	assert.Contains(t, h.stderr.String(), "line 1: the header has no phone_number column")
	assert.NotContains(t, h.stderr.String(), "request_items")
	assert.Empty(t, h.srv.Requests())
}

func TestCSVLenientFormatting(t *testing.T) {
	h := newHarness(t)
	// A byte order mark, header names in other cases with spaces, padded
	// cells, comments and blank lines.
	csv := "\ufeff Phone_Number , FRIENDLY_NAME,SMS_Method\n" +
		"# a comment line\n" +
		"  +14155550101 ,  Front desk  , get \n" +
		"\n" +
		"+14155550102,,\n"
	require.Equal(t, exitOK, h.run(submitArgs(writeCSV(t, csv))...))
	reqs := h.srv.Requests()
	require.Len(t, reqs, 1)
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	require.Len(t, body.RequestItems[0].Numbers, 2)
	assert.Equal(t, hostednumbers.Number{PhoneNumber: "+14155550101", HostingOptions: hostednumbers.HostingOptions{
		FriendlyName: "Front desk", SMSMethod: "GET",
	}}, body.RequestItems[0].Numbers[0])
	assert.Equal(t, hostednumbers.Number{PhoneNumber: "+14155550102"}, body.RequestItems[0].Numbers[1])
}

func TestLineNumbersCountCommentsAndBlankLines(t *testing.T) {
	h := newHarness(t)
	csv := "phone_number\n# comment\n\n+14155550101\n+1 415 555 0102\n+14155550101\n"
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, csv))...))
	assert.Contains(t, h.stderr.String(), `line 5: phone_number "+1 415 555 0102": not an E.164 number`)
	assert.Contains(t, h.stderr.String(), `line 6: +14155550101 is a duplicate of line 4`)
	assert.Empty(t, h.srv.Requests())
}

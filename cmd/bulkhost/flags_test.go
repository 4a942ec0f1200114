package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
)

func TestBadFlags(t *testing.T) {
	csvPath := "numbers.csv" // never read: the flags are refused first
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-live", "-frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"bad duration", []string{"-live", "-poll", "soon"}, `invalid value "soon" for flag -poll`},
		{"zero poll", []string{"-live", "-fetch", unknownSID, "-poll", "0s"}, "-poll: must be positive"},
		{"negative timeout", []string{"-live", "-fetch", unknownSID, "-timeout", "-1s"}, "-timeout: must be positive"},
		{"positional argument", []string{"-live", "numbers.csv"}, `unexpected argument "numbers.csv"`},
		{"fetch with csv", []string{"-live", "-fetch", unknownSID, "-csv", csvPath}, "-csv: does not apply to -fetch"},
		{"fetch with email", []string{"-live", "-fetch", unknownSID, "-email", "a@example.com"}, "-email: does not apply to -fetch"},
		{"malformed fetch SID", []string{"-live", "-fetch", "BH123"}, `-fetch: "BH123" is not a bulk hosting SID (BH and 32 hex digits)`},
		{"hostile fetch SID", []string{"-live", "-fetch", "../../Accounts"}, `-fetch: "../../Accounts" is not a bulk hosting SID`},
		{"no csv", []string{"-live", "-email", "a@example.com", "-address-sid", addressSID}, "-csv: is required"},
		{"missing csv file", []string{"-live", "-csv", filepath.Join(t.TempDir(), "nope.csv"), "-email", "a@example.com", "-address-sid", addressSID}, "-csv: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			require.Equal(t, exitError, h.run(tc.args...))
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.Empty(t, h.stdout.String())
			assert.Empty(t, h.srv.Requests())
		})
	}
}

func TestMissingContactFlags(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitError, h.run("-live", "-csv", writeCSV(t, threeNumbers)))
	assert.Contains(t, h.stderr.String(), "-email: is required")
	assert.Contains(t, h.stderr.String(), "-address-sid: is required")
	assert.Empty(t, h.srv.Requests())
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, exitOK, h.run("-h"))
	usage := h.stderr.String()
	for _, want := range []string{"Usage:", "-csv file", "-fetch BH…", "-live", "phone_number", "Exit status:",
		"-state file", "-batch-size n", "-status", "-attempt-timeout duration",
		"Journal:", "atomically and durably", "Resume: run the same command again", "in doubt and checked with Twilio", "-settle duration",
		"Status: -status refreshes", "LOA status", "\n  3    numbers still on their way", "\n  130  interrupted", "\n  1    some number failed"} {
		assert.Contains(t, usage, want)
	}
	assert.Empty(t, h.srv.Requests())
}

func TestBadCredentialsInEnvironment(t *testing.T) {
	h := newHarness(t)
	h.env["TWILIO_ACCOUNT_SID"] = "not-a-sid"
	h.env["TWILIO_AUTH_TOKEN"] = "secret token"
	require.Equal(t, exitError, h.run(submitArgs(writeCSV(t, threeNumbers))...))
	assert.Contains(t, h.stderr.String(), "TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits")
	assert.Contains(t, h.stderr.String(), "TWILIO_AUTH_TOKEN: must not contain spaces")
	assert.NotContains(t, h.stderr.String(), "secret token")
	assert.Empty(t, h.srv.Requests())
}

func TestCredentialsWithoutLiveAreRefused(t *testing.T) {
	for _, args := range [][]string{
		{"-csv", "numbers.csv", "-email", "owner@example.com", "-address-sid", addressSID},
		{"-fetch", unknownSID},
		{},
	} {
		h := newHarness(t)
		require.Equal(t, exitError, h.run(args...))
		assert.Contains(t, h.stderr.String(), "refusing to run: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set")
		assert.Contains(t, h.stderr.String(), "Pass -live")
		assert.Empty(t, h.srv.Requests())
		assert.Nil(t, h.demoSrv, "no demo either")
	}
}

func TestPartialCredentialsAreCredentials(t *testing.T) {
	h := newHarness(t)
	h.env = map[string]string{"TWILIO_API_KEY": "SK0123456789abcdef0123456789abcdef"}
	require.Equal(t, exitError, h.run())
	assert.Contains(t, h.stderr.String(), "refusing to run: TWILIO_API_KEY is set")

	h.stderr.Reset()
	require.Equal(t, exitError, h.run("-live", "-fetch", unknownSID))
	assert.Contains(t, h.stderr.String(), "TWILIO_ACCOUNT_SID: is not set")
	assert.Empty(t, h.srv.Requests())
}

func TestLiveWithoutCredentials(t *testing.T) {
	h := newHarness(t)
	h.env = nil
	require.Equal(t, exitError, h.run("-live", "-fetch", unknownSID))
	assert.Contains(t, h.stderr.String(), "-live: no Twilio credentials in the environment")
	assert.Nil(t, h.demoSrv)
	assert.Empty(t, h.srv.Requests())
}

func TestDryRun(t *testing.T) {
	h := newHarness(t) // credentials present, no -live: -dry-run sends nothing anyway
	require.Equal(t, exitOK, h.run("-dry-run", "-csv", writeCSV(t, threeNumbers), "-email", "owner@example.com", "-address-sid", addressSID))
	var body hostednumbers.CreateBulkHostedNumberOrderParams
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &body))
	require.Len(t, body.RequestItems, 1)
	assert.Len(t, body.RequestItems[0].Numbers, 3)
	assert.Contains(t, h.stderr.String(), "nothing was submitted (-dry-run)")
	assert.Empty(t, h.srv.Requests())
	assert.Nil(t, h.demoSrv)
}

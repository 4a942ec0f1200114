package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
)

func fakeAPI(t *testing.T, requests *int) *httptest.Server {
	t.Helper()
	created, err := os.ReadFile(filepath.Join("..", "..", "testdata", "create_202.json"))
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*requests++
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.URL.Path != "/v2/HostedNumber/Orders/Bulk" {
			http.Error(w, `{"code":20001,"message":"bad"}`, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(created)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func clientFor(srv *httptest.Server) func(...hostednumbers.Option) (*hostednumbers.Client, error) {
	return func(...hostednumbers.Option) (*hostednumbers.Client, error) {
		return hostednumbers.NewClient(
			hostednumbers.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token"),
			hostednumbers.WithBaseURL(srv.URL))
	}
}

func TestRun_CreatesOneOrderAndPrintsSIDAndStatus(t *testing.T) {
	var requests int
	srv := fakeAPI(t, &requests)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-live", "-email", "owner@example.com",
		"-address-sid", "AD0123456789abcdef0123456789abcdef", "-number", "+14155550101", "-number", "+14155550102"},
		&stdout, &stderr, clientFor(srv))
	assert.Equal(t, 0, code, stderr.String())
	assert.Equal(t, "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa QUEUED\n", stdout.String())
	assert.Equal(t, 1, requests)
}

func TestRun_WithoutCredentialsNamesTheVariablesAndFails(t *testing.T) {
	for _, name := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_REGION", "TWILIO_EDGE"} {
		t.Setenv(name, "")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-live"}, &stdout, &stderr, hostednumbers.NewClientFromEnv)
	assert.Equal(t, 2, code)
	assert.Empty(t, stdout.String())
	assert.Contains(t, stderr.String(), "TWILIO_ACCOUNT_SID")
	assert.Contains(t, stderr.String(), "TWILIO_AUTH_TOKEN")
}

func TestRun_RefusesWithoutLiveSwitch(t *testing.T) {
	var requests int
	srv := fakeAPI(t, &requests)
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-number", "+14155550101"}, io.Discard, &stderr, clientFor(srv))
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "-live")
	assert.Zero(t, requests)
}

func TestRun_InvalidInputIsRejectedBeforeSending(t *testing.T) {
	var requests int
	srv := fakeAPI(t, &requests)
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-live", "-email", "nope", "-number", "4155550101"}, io.Discard, &stderr, clientFor(srv))
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "request_items[0].email")
	assert.Contains(t, stderr.String(), "request_items[0].numbers[0].phone_number")
	assert.Zero(t, requests)

	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, io.Discard, io.Discard, clientFor(srv)))
	assert.Equal(t, 2, run(context.Background(), []string{"-bogus"}, io.Discard, io.Discard, clientFor(srv)))
}

package hostednumbers_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestWithEnvReadsTheGivenEnvironment(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "ACffffffffffffffffffffffffffffffff")
	t.Setenv("TWILIO_AUTH_TOKEN", "process-token")
	client, err := hostednumbers.NewClientFromEnv(hostednumbers.WithEnv(envOf(map[string]string{
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":  "given-token",
		"TWILIO_REGION":      "au1",
		"TWILIO_EDGE":        "sydney",
	})))
	require.NoError(t, err)
	assert.Equal(t, "AC0123456789abcdef0123456789abcdef", client.AccountSID(), "the given environment, not the process's")
	assert.Equal(t, "https://numbers.sydney.au1.twilio.com", client.BaseURL())
}

func TestWithEnvAPIKey(t *testing.T) {
	client, err := hostednumbers.NewClientFromEnv(hostednumbers.WithEnv(envOf(map[string]string{
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_API_KEY":     "SK0123456789abcdef0123456789abcdef",
		"TWILIO_API_SECRET":  "key-secret",
	})))
	require.NoError(t, err)
	assert.Equal(t, "AC0123456789abcdef0123456789abcdef", client.AccountSID())
}

func TestWithEnvErrorsNameTheVariablesNeverTheValues(t *testing.T) {
	_, err := hostednumbers.NewClientFromEnv(hostednumbers.WithEnv(envOf(map[string]string{
		"TWILIO_ACCOUNT_SID": "not-a-sid-secret-ish",
		"TWILIO_AUTH_TOKEN":  "has a space",
	})))
	var ve *hostednumbers.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "TWILIO_ACCOUNT_SID")
	assert.Contains(t, err.Error(), "TWILIO_AUTH_TOKEN")
	assert.NotContains(t, err.Error(), "not-a-sid-secret-ish")
	assert.NotContains(t, err.Error(), "has a space")
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, ve), "has a space")
}

func TestWithEnvLastWins(t *testing.T) {
	first := envOf(map[string]string{"TWILIO_ACCOUNT_SID": "ACffffffffffffffffffffffffffffffff", "TWILIO_AUTH_TOKEN": "a"})
	last := envOf(map[string]string{"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "b"})
	client, err := hostednumbers.NewClientFromEnv(hostednumbers.WithEnv(first), hostednumbers.WithEnv(last))
	require.NoError(t, err)
	assert.Equal(t, "AC0123456789abcdef0123456789abcdef", client.AccountSID())
}

func TestWithEnvMisused(t *testing.T) {
	_, err := hostednumbers.NewClient(hostednumbers.WithCredentials("AC0123456789abcdef0123456789abcdef", "t"), hostednumbers.WithEnv(envOf(nil)))
	var ve *hostednumbers.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 1)
	assert.Equal(t, "env", ve.Problems[0].Field)
	assert.True(t, errors.Is(err, hostednumbers.ErrInvalidInput))

	_, err = hostednumbers.NewClientFromEnv(hostednumbers.WithEnv(nil))
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "env", ve.Problems[0].Field)
}

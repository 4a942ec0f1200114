package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretPassword is the password of the DSNs below: a test fails if it
// shows anywhere.
const secretPassword = "s3cret-Pa55word"

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestIsDatabase(t *testing.T) {
	for state, want := range map[string]bool{
		"postgres://u@h/db":           true,
		"postgresql://u@h/db":         true,
		"POSTGRES://u@h/db":           true,
		"postgres:/u":                 false,
		"journal.json":                false,
		"./postgres://x":              false,
		"/tmp/postgres.bulkhost.json": false,
		"":                            false,
	} {
		assert.Equal(t, want, isDatabase(state), state)
	}
}

func TestRedactDSN(t *testing.T) {
	for dsn, want := range map[string]string{ //nolint:gosec // the test's made-up password
		"postgres://alice:" + secretPassword + "@db.example.com:5432/mig?sslmode=require":     "postgres://alice:xxxxx@db.example.com:5432/mig?sslmode=require",
		"postgresql://alice@db.example.com/mig":                                               "postgresql://alice@db.example.com/mig",
		"postgres://alice@db.example.com/mig?password=" + secretPassword + "&sslmode=disable": "postgres://alice@db.example.com/mig?password=xxxxx&sslmode=disable",
		"postgres://alice:p%40ss" + secretPassword + "@h/db":                                  "postgres://alice:xxxxx@h/db",
		"postgres://alice:" + secretPassword + "@h/db?sslpassword=" + secretPassword + "&x=1": "postgres://alice:xxxxx@h/db?sslpassword=xxxxx&x=1",
		"postgres://alice:" + secretPassword + "@[::1/db":                                     "postgres://(a DSN that is not a valid URL; not shown, since it may hold a password)",
	} {
		got := redactDSN(dsn)
		assert.Equal(t, want, got, dsn)
		assert.NotContains(t, got, secretPassword)
	}
}

func TestDSNSecrets(t *testing.T) {
	assert.ElementsMatch(t, []string{secretPassword}, dsnSecrets("postgres://a:"+secretPassword+"@h/db"))
	assert.ElementsMatch(t, []string{"p@ss:word", "p%40ss:word"}, dsnSecrets("postgres://a:p%40ss:word@h/db"))
	assert.ElementsMatch(t, []string{secretPassword}, dsnSecrets("postgres://a@h/db?Password="+secretPassword))
	assert.ElementsMatch(t, []string{secretPassword}, dsnSecrets("postgres://a:"+secretPassword+"@[::1/db"), "an unparsable URL's password is found all the same")
	assert.Empty(t, dsnSecrets("postgres://a:pw@h/db"), "too short to scrub without garbling the output")
	assert.Empty(t, dsnSecrets("postgres://a@h/db"))

	dsn := "postgres://a:" + secretPassword + "@h/db"
	for _, args := range [][]string{
		{"-state", dsn},
		{"-live", "--state", dsn},
		{"-state=" + dsn, "-wait"},
		{"--state=" + dsn},
	} {
		assert.Equal(t, []string{secretPassword}, stateSecrets(args), args)
	}
	assert.Empty(t, stateSecrets([]string{"-state", "journal.json"}))
	assert.Empty(t, stateSecrets([]string{"-state"}))
	assert.Equal(t, []string{secretPassword}, stateSecrets([]string{"-live", dsn}), "a DSN out of place is scrubbed too")
	assert.Equal(t, []string{secretPassword}, stateSecrets([]string{"-stat=" + dsn}))
	assert.Equal(t, []string{secretPassword, "0ther-secret"}, stateSecrets([]string{"-state", dsn, "--", "postgresql://b:0ther-secret@h/db"}))
}

func TestRedactingWriter(t *testing.T) {
	var b strings.Builder
	w := newRedactingWriter(&b, []string{secretPassword, "other-secret"})
	n, err := fmt.Fprintf(w, "a %s b other-secret c %s\n", secretPassword, secretPassword)
	require.NoError(t, err)
	assert.Equal(t, len("a  b other-secret c \n")+2*len(secretPassword), n, "the length written is the caller's")
	assert.Equal(t, "a xxxxx b xxxxx c xxxxx\n", b.String())
	assert.Same(t, &b, newRedactingWriter(&b, nil), "nothing to scrub: the writer itself")
}

// TestDatabaseNeverPrintsItsPassword: %v, %s, %+v and %#v of the
// database, and of the config that holds it, show no password.
func TestDatabaseNeverPrintsItsPassword(t *testing.T) {
	h := newHarness(t)
	c := &cli{getenv: func(string) string { return "" }, stderr: &h.stderr}
	cfg, err := c.parseFlags([]string{"-state", "postgres://alice:" + secretPassword + "@127.0.0.1:5432/db", "-schema", "s1"})
	require.NoError(t, err)
	require.NotNil(t, cfg.database)
	assert.Equal(t, "postgres://alice:xxxxx@127.0.0.1:5432/db (schema s1)", cfg.statePath)
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x"} {
		for _, v := range []any{cfg.database, cfg, *cfg} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secretPassword, verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", secretPassword), verb)
		}
	}
	assert.Equal(t, "postgres://alice:xxxxx@127.0.0.1:5432/db", fmt.Sprint(cfg.database))
}

// TestDatabaseErrorsHideThePassword: a database that cannot be reached
// fails the run (exit 2) naming it by its redacted DSN, in every mode, on
// standard error and in -json's document; the password shows nowhere.
func TestDatabaseErrorsHideThePassword(t *testing.T) {
	dsn := "postgres://alice:" + secretPassword + "@" + closedPort(t) + "/db?sslmode=disable&connect_timeout=5"
	csvPath := writeCSV(t, fivePlain)
	for name, args := range map[string][]string{
		"submit":        submitArgs(csvPath, "-state", dsn),
		"submit json":   submitArgs(csvPath, "-state", dsn, "-json"),
		"status":        {"-live", "-status", "-state", dsn},
		"status json":   {"-live", "-status", "-state=" + dsn, "-json"},
		"export":        {"-export", "-", "-state", dsn},
		"bad schema":    submitArgs(csvPath, "-state", dsn, "-schema", strings.Repeat("s", 64)),
		"postgresql://": submitArgs(csvPath, "-state", strings.Replace(dsn, "postgres://", "postgresql://", 1)),
		"out of place":  {"-live", "-status", dsn},
		"bad DSN":       submitArgs(csvPath, "-state", "postgres://alice:"+secretPassword+"@[::1/db"),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			require.Equal(t, exitError, h.run(args...))
			out := h.stdout.String() + h.stderr.String()
			assert.NotContains(t, out, secretPassword)
			assert.Zero(t, countMethod(h.srv, "POST"), "nothing sent")
			switch name {
			case "bad schema":
				assert.Contains(t, out, "-schema: is 64 bytes long; PostgreSQL names are at most 63")
				return
			case "bad DSN":
				assert.Contains(t, out, "-state: cannot be parsed: it should be a postgres:// URL")
				return
			}
			assert.Contains(t, out, "alice:xxxxx@127.0.0.1", "the database is named, without its password")
			if strings.HasSuffix(name, "json") {
				var doc errorDocument
				require.NoError(t, jsonUnmarshalStrict(h.stdout.Bytes(), &doc))
				assert.Equal(t, exitError, doc.ExitCode)
				assert.Contains(t, doc.Error, "alice:xxxxx@127.0.0.1")
			}
		})
	}
}

// TestDatabaseOnlyFlagsAndTheDemoAreRefused: -schema and -migration need
// a database; the demo keeps its journal in a file.
func TestDatabaseOnlyFlagsAndTheDemoAreRefused(t *testing.T) {
	dsn := "postgres://alice:" + secretPassword + "@" + closedPort(t) + "/db"
	csvPath := writeCSV(t, fivePlain)
	for name, tc := range map[string]struct {
		noCredentials bool
		args          []string
		want          string
	}{
		"-schema with a file":    {args: submitArgs(csvPath, "-schema", "s"), want: "-schema: applies to -state postgres://… only"},
		"-migration with a file": {args: submitArgs(csvPath, "-state", filepath.Join(t.TempDir(), "j.json"), "-migration", "m"), want: "-migration: applies to -state postgres://… only"},
		"-worker with a file":    {args: submitArgs(csvPath, "-worker", "w1"), want: "-worker: applies to -state postgres://… only"},
		"-claim-ttl with a file": {args: []string{"-live", "-status", "-csv", csvPath, "-claim-ttl", "1m"}, want: "-claim-ttl: applies to -state postgres://… only"},
		"-claim-ttl of 0":        {args: submitArgs(csvPath, "-state", dsn, "-claim-ttl", "0s"), want: "-claim-ttl: must be positive"},
		"-claim-ttl too short":   {args: submitArgs(csvPath, "-state", dsn, "-claim-ttl", "1s"), want: "-claim-ttl: is 1s; a create may take 5m0s (every attempt of -attempt-timeout, and the waits between them), and it must fit in four fifths of a claim: at least 6m16s"},
		"-worker too long":       {args: submitArgs(csvPath, "-state", dsn, "-worker", strings.Repeat("w", 201)), want: "-worker: is 201 characters long"},
		"-demo":                  {noCredentials: true, args: []string{"-demo", "-state", dsn}, want: "-state: a PostgreSQL database does not go with the demo"},
		"implied demo":           {noCredentials: true, args: []string{"-state", dsn}, want: "-state: a PostgreSQL database does not go with the demo"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			if tc.noCredentials {
				h.env = nil
			}
			require.Equal(t, exitError, h.run(tc.args...))
			assert.Contains(t, h.stderr.String(), tc.want)
			assert.NotContains(t, h.stderr.String(), secretPassword)
			assert.Nil(t, h.demoSrv, "no demo started")
			assert.Empty(t, h.srv.Requests())
		})
	}
}

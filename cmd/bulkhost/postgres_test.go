package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// The tests named TestPostgres… need a PostgreSQL database; .ci/postgres.sh
// starts a throwaway one and runs them.

// pgDSNVar names the test database, as in migrate/pgstore's tests.
const pgDSNVar = "HOSTEDNUMBERS_PG_DSN"

// pgDSN returns the test database's address, or skips the test.
func pgDSN(t testing.TB) string {
	t.Helper()
	d := os.Getenv(pgDSNVar)
	if d == "" {
		t.Skip(pgDSNVar + " is not set: bulkhost's tests on PostgreSQL need a database; " +
			"`bash .ci/postgres.sh` starts a throwaway one on 127.0.0.1 and runs them " +
			"(or set " + pgDSNVar + "=postgres://user:password@127.0.0.1:5432/db?sslmode=disable)")
	}
	return d
}

// freshSchema returns the name of a schema no other test uses, dropped
// when the test ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "bulkhost_test_" + hex.EncodeToString(b[:])
	d := pgDSN(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, d)
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// openSchema opens the store of schema, closed when the test ends.
func openSchema(t testing.TB, schema string) *pgstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := pgstore.Open(ctx, pgDSN(t), pgstore.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// assertNoPassword fails if out holds the password of the test DSN.
func assertNoPassword(t testing.TB, out string) {
	t.Helper()
	secrets := dsnSecrets(pgDSN(t))
	require.NotEmpty(t, secrets, "the test DSN has a password, so that its absence means something")
	for _, s := range secrets {
		assert.NotContains(t, out, s, "the DSN's password")
	}
}

// storeStates returns the state of every batch of st.
func storeStates(t testing.TB, st migrate.Store) []batchState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	var out []batchState
	for i := 1; i <= meta.Batches; i++ {
		b, err := st.Batch(ctx, i)
		require.NoError(t, err)
		out = append(out, b.State)
	}
	return out
}

// TestPostgresSubmitStatusExport: a migration on -state postgres://… is
// submitted (with its eligibility checks, kept in the database), resumed,
// followed with -status and exported, like one in a file; the password
// shows nowhere.
func TestPostgresSubmitStatusExport(t *testing.T) {
	dsn := pgDSN(t)
	schema := freshSchema(t)
	csvPath := writeCSV(t, fivePlain)
	state := []string{"-state", dsn, "-schema", schema}
	args := checkedArgs(csvPath, append(state, "-batch-size", "2", "-wait", "-poll", "1ms", "-settle", "200ms", "-worker", "bulkhost-test-1")...)

	h := newHarness(t)
	require.Equal(t, exitOK, h.run(args...))
	assert.Contains(t, h.stderr.String(), "journal "+redactDSN(dsn)+" (schema "+schema+"): 5 numbers in 3 batches of up to 2.")
	assert.Equal(t, 3, countMethod(h.srv, "POST")-len(requestsTo(h.srv, "POST", "/v1/HostedNumber/Eligibility/Bulk")), "three creates")
	assert.NotEmpty(t, requestsTo(h.srv, "POST", "/v1/HostedNumber/Eligibility/Bulk"), "the numbers were checked first")
	assertOneOrderEach(t, h.srv, fivePhones...)
	st := openSchema(t, schema)
	assert.Equal(t, []batchState{stateAccepted, stateAccepted, stateAccepted}, storeStates(t, st))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 1; i <= 3; i++ {
		l, err := st.LeaseOf(ctx, i)
		require.NoError(t, err)
		assert.Equal(t, "bulkhost-test-1", l.Worker, "batch %d was worked on under claims, by -worker's name", i)
	}
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(csvPath), "*"))
	require.NoError(t, err)
	assert.Equal(t, []string{csvPath}, matches, "no journal, eligibility or lock file next to the CSV")

	posts := countMethod(h.srv, "POST")
	again := newHarness(t)
	again.srv = h.srv
	require.Equal(t, exitOK, again.run(args...))
	assert.Contains(t, again.stderr.String(), "resuming from journal "+redactDSN(dsn))
	assert.Equal(t, posts, countMethod(h.srv, "POST"), "nothing sent again")

	status := newHarness(t)
	status.srv = h.srv
	require.Equal(t, exitOK, status.run(append([]string{"-live", "-status", "-json"}, state...)...))
	doc := decodeStatus(t, status.stdout.String())
	assert.Equal(t, map[string]int{"completed": 5}, doc.Counts)
	assert.Equal(t, redactDSN(dsn)+" (schema "+schema+")", doc.Journal, "the JSON names the database without its password")

	out := filepath.Join(t.TempDir(), "numbers.csv")
	export := newHarness(t)
	export.env = nil
	require.Equal(t, exitOK, export.run(append([]string{"-export", out}, state...)...))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	for _, p := range fivePhones {
		assert.Contains(t, string(data), p)
	}

	for _, r := range []*harness{h, again, status, export} {
		assertNoPassword(t, r.stdout.String()+r.stderr.String())
	}
}

// TestPostgresMigrationsAreKeptApart: -migration names a migration in
// the schema; another name is another migration, and -status of a name
// with none says so.
func TestPostgresMigrationsAreKeptApart(t *testing.T) {
	dsn := pgDSN(t)
	schema := freshSchema(t)
	h := newHarness(t)
	csvPath := writeCSV(t, fivePlain)
	require.Equal(t, exitOK, h.run(submitArgs(csvPath, "-state", dsn, "-schema", schema, "-migration", "first")...))
	assert.Contains(t, h.stderr.String(), "follow the numbers with: bulkhost -live -status -state '"+redactDSN(dsn)+"' -schema "+schema+" -migration 'first' -wait")
	other := writeCSV(t, "phone_number\n+14155550201\n")
	require.Equal(t, exitOK, h.run(submitArgs(other, "-state", dsn, "-schema", schema, "-migration", "second")...))
	assert.Contains(t, h.stderr.String(), "(migration second): 1 number in 1 batch")

	none := newHarness(t)
	require.Equal(t, exitError, none.run("-live", "-status", "-state", dsn, "-schema", schema, "-migration", "third"))
	assert.Contains(t, none.stderr.String(), "-status: there is no journal at "+redactDSN(dsn)+" (schema "+schema+") (migration third)")
	assertNoPassword(t, h.stderr.String()+none.stderr.String())
}

// startedElsewhere is a store whose first Meta answers that there is no
// migration, as it was for a process that lost the race to start it: its
// Start then meets the migration another process started.
type startedElsewhere struct {
	migrate.Store
	once sync.Once
}

func (s *startedElsewhere) Meta(ctx context.Context) (migrate.Meta, error) {
	first := false
	s.once.Do(func() { first = true })
	if first {
		return migrate.Meta{}, migrate.ErrNoMigration
	}
	return s.Store.Meta(ctx)
}

// openShared opens the migration of args as the submit would, with the
// store wrapped by wrap (if set), and closes it; it returns the error and
// what was said.
func openShared(t *testing.T, h *harness, wrap func(migrate.Store) migrate.Store, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	c := &cli{getenv: func(k string) string { return h.env[k] }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, wrapStore: wrap,
		isTerminal: func(io.Writer) bool { return false }}
	cfg, err := c.parseFlags(args)
	require.NoError(t, err)
	require.NoError(t, c.checkMode(cfg))
	in, err := c.input(ctx, cfg)
	require.NoError(t, err)
	path, err := statePath(cfg)
	require.NoError(t, err)
	m, err := c.openMigration(ctx, cfg, in, path, h.srv.Client())
	if err == nil {
		m.close()
	}
	t.Logf("stderr:\n%s", stderr.String())
	return stderr.String(), err
}

// TestPostgresJoinsTheMigrationAnotherStarted: a process that finds no
// migration, then loses the race to start it, reads the migration the
// winner started and joins it once it is the same input with the same
// flags; with other flags it is refused, as a resume would be.
func TestPostgresJoinsTheMigrationAnotherStarted(t *testing.T) {
	dsn := pgDSN(t)
	schema := freshSchema(t)
	h := newHarness(t)
	csvPath := writeCSV(t, fivePlain)
	args := submitArgs(csvPath, "-state", dsn, "-schema", schema, "-batch-size", "2")
	lost := func(st migrate.Store) migrate.Store { return &startedElsewhere{Store: st} }

	said, err := openShared(t, h, nil, args...)
	require.NoError(t, err)
	assert.Contains(t, said, "5 numbers in 3 batches of up to 2")

	said, err = openShared(t, h, lost, args...)
	require.NoError(t, err, "the second process joins")
	assert.Contains(t, said, "another bulkhost started the migration first: joining it")
	assert.Contains(t, said, "resuming from journal")

	_, err = openShared(t, h, lost, append(args, "-friendly-name", "other")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was started with other contact flags")

	other := writeCSV(t, "phone_number\n+14155550101\n+14155550102\n+14155550103\n+14155550104\n+14155550106\n")
	_, err = openShared(t, h, lost, submitArgs(other, "-state", dsn, "-schema", schema, "-batch-size", "2")...)
	require.NoError(t, err, "a changed input is taken in, as on a resume")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	meta, err := openSchema(t, schema).Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, meta.Batches, "the added number in a batch of its own")
	assert.Empty(t, h.srv.Requests(), "opening sends nothing")
	assert.Equal(t, []batchState{statePlanned, statePlanned, statePlanned, statePlanned}, storeStates(t, openSchema(t, schema)))
}

// TestPostgresResubmit: -resubmit on a database marks the failed numbers
// and sends them again, once, in requests of their own.
func TestPostgresResubmit(t *testing.T) {
	dsn := pgDSN(t)
	schema := freshSchema(t)
	h := newHarness(t, hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
	csvPath := writeCSV(t, fiveNumbers)
	args := submitArgs(csvPath, "-state", dsn, "-schema", schema, "-wait", "-poll", "1ms", "-batch-size", "2")
	require.Equal(t, exitFailures, h.run(args...))
	require.Equal(t, 3, countMethod(h.srv, "POST"))

	h.stderr.Reset()
	require.Equal(t, exitFailures, h.run(append(args, "-resubmit", "failed")...))
	assert.Contains(t, h.stderr.String(), "-resubmit: 2 numbers in failed marked to be submitted again")
	assert.Equal(t, 5, countMethod(h.srv, "POST"), "one more create for each batch with a failed number")
	waitProcessed(t, h.srv)
	count := map[string]int{}
	for _, o := range h.srv.HostedNumberOrders() {
		count[o.PhoneNumber]++
	}
	assert.Equal(t, map[string]int{"+14155550101": 1, "+14155550102": 1, "+14155550103": 1, "+14155550109": 2, "+14155550119": 2}, count,
		"the failed numbers again, the others not")
	assertNoPassword(t, h.stdout.String()+h.stderr.String())
}

// TestPostgresMigrationOfAnotherProgramIsRefused: a migration in the
// database that bulkhost did not make is refused and left as it is; the
// refusal says how to name another.
func TestPostgresMigrationOfAnotherProgramIsRefused(t *testing.T) {
	dsn := pgDSN(t)
	schema := freshSchema(t)
	csvPath := writeCSV(t, fivePlain)
	in := readHarnessInput(t, csvPath)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema, Migration: "theirs"})
	require.NoError(t, err)
	defer func() { _ = st.Close() }()
	require.NoError(t, st.Start(ctx, migrate.Meta{Input: in.id, BatchSize: 5, App: []byte(`{"tool":"other"}`)}, migrate.Batches(func(yield func(migrate.NumberState, error) bool) {
		for _, n := range in.states() {
			if !yield(n, nil) {
				return
			}
		}
	}, 5)))

	h := newHarness(t)
	require.Equal(t, exitError, h.run(submitArgs(csvPath, "-state", dsn, "-schema", schema, "-migration", "theirs")...))
	assert.Contains(t, h.stderr.String(), `was made by "other", not bulkhost; bulkhost does not overwrite it: name another migration with -migration (or another -schema)`)
	assert.Empty(t, h.srv.Requests())
	assert.Equal(t, []batchState{statePlanned}, storeStates(t, st))
	assertNoPassword(t, h.stderr.String())
}

// TestPostgresLeavesABatchAnotherWorkerHolds: a batch that another worker
// holds under a live claim is left to it: this run sends the others, says
// which batch it left, and exits 3 (run again); once the claim is
// released, a run sends it, once.
func TestPostgresLeavesABatchAnotherWorkerHolds(t *testing.T) {
	dsn := pgDSN(t)
	schema := freshSchema(t)
	csvPath := writeCSV(t, fivePlain)
	args := checkedArgs(csvPath, "-state", dsn, "-schema", schema, "-batch-size", "2", "-poll", "1ms", "-worker", "bulkhost-test")
	h := newHarness(t)
	// A run whose checks all fail records the migration, and sends nothing.
	h.srv.InjectFault(hostednumberstest.Fault{Method: "POST", Path: eligibilityBulk, Status: 400, Count: 100})
	require.Equal(t, exitError, h.run(args...))
	h.srv.Reset()
	require.Zero(t, countMethod(h.srv, "POST"))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := openSchema(t, schema)
	claim, err := st.Claim(ctx, "another-worker", time.Hour, 1)
	require.NoError(t, err)

	run := newHarness(t)
	run.srv = h.srv
	require.Equal(t, exitPending, run.run(args...))
	assert.Contains(t, run.stderr.String(), "bulkhost: batch 1 held by another worker during this run: left to it; run the same command again (or with -wait) to see it through.")
	assert.NotContains(t, run.stderr.String(), "batch 1 is in doubt")
	assert.Equal(t, []batchState{statePlanned, stateAccepted, stateAccepted}, storeStates(t, st))
	assertOneOrderEach(t, h.srv, fivePhones[2:]...)

	require.NoError(t, st.Release(ctx, claim.Lease))
	again := newHarness(t)
	again.srv = h.srv
	require.Equal(t, exitOK, again.run(args...))
	assert.NotContains(t, again.stderr.String(), "held by another worker")
	assert.Equal(t, []batchState{stateAccepted, stateAccepted, stateAccepted}, storeStates(t, st))
	assertOneOrderEach(t, h.srv, fivePhones...)
	assertNoPassword(t, run.stderr.String()+again.stderr.String())
}

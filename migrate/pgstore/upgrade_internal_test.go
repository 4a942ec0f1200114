package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

// A later version's steps upgrade a schema in place, once, whoever opens
// it first, and keep its migrations.
func TestSchemaUpgrade(t *testing.T) {
	dsn := os.Getenv("HOSTEDNUMBERS_PG_DSN")
	if dsn == "" {
		t.Skip("HOSTEDNUMBERS_PG_DSN is not set: `bash .ci/postgres.sh` runs this test against a throwaway PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "hn_test_" + hex.EncodeToString(b[:])
	q := pgx.Identifier{schema}.Sanitize()
	defer func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+q+" CASCADE") }()

	// A schema of version 1, with a migration: the tables as the first
	// release made them.
	require.NoError(t, migrateSchema(ctx, pool, schema, schemaSteps(q)[:1]))
	st := &Store{pool: pool, name: DefaultMigration, schema: schema, q: newQueries(q)}
	require.NoError(t, st.Start(ctx, migrate.Meta{BatchSize: 2}, migrate.Batches(func(yield func(migrate.NumberState, error) bool) {
		yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: "+14155550100"}, Line: 2}, nil)
	}, 2)))

	// Version 2 adds the claims' columns, version 3 the eligibility
	// checks' tables, and a version 4 one more column; an ALTER run twice
	// would fail.
	steps := append(schemaSteps(q), "ALTER TABLE "+q+".batches ADD COLUMN claimed_by text")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = migrateSchema(ctx, pool, schema, steps)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	rows, err := pool.Query(ctx, "SELECT version FROM "+q+".schema_version ORDER BY version")
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4}, versions)
	var claimed *string
	require.NoError(t, pool.QueryRow(ctx, "SELECT claimed_by FROM "+q+".batches WHERE idx = 1").Scan(&claimed))
	assert.Nil(t, claimed)
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, meta.Batches, "the migration is kept")
	// And its batch can be claimed, never having been.
	c, err := st.Claim(ctx, "w1", time.Minute, 1)
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Lease.Token)
	assert.Equal(t, migrate.Lease{}, c.Previous)

	// This version of the package refuses the upgraded schema.
	_, err = New(ctx, pool, Options{Schema: schema})
	var se *SchemaError
	require.ErrorAs(t, err, &se)
}

// A schema of version 2 (the claims, no eligibility checks), with a
// migration whose batch is claimed, is brought to version 3 by New: the
// migration and its claim are kept, and the store records checks.
func TestSchemaUpgradeToEligibilityChecks(t *testing.T) {
	dsn := os.Getenv("HOSTEDNUMBERS_PG_DSN")
	if dsn == "" {
		t.Skip("HOSTEDNUMBERS_PG_DSN is not set: `bash .ci/postgres.sh` runs this test against a throwaway PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "hn_test_" + hex.EncodeToString(b[:])
	q := pgx.Identifier{schema}.Sanitize()
	defer func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+q+" CASCADE") }()

	require.NoError(t, migrateSchema(ctx, pool, schema, schemaSteps(q)[:2]))
	old := &Store{pool: pool, name: DefaultMigration, schema: schema, q: newQueries(q)}
	require.NoError(t, old.Start(ctx, migrate.Meta{BatchSize: 2}, migrate.Batches(func(yield func(migrate.NumberState, error) bool) {
		_ = yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: "+14155550100"}, Line: 2}, nil) &&
			yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: "+14155550101"}, Line: 3}, nil)
	}, 2)))
	claimed, err := old.Claim(ctx, "w1", time.Hour, 1)
	require.NoError(t, err)

	var wg sync.WaitGroup
	stores := make([]*Store, 3)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = New(ctx, pool, Options{Schema: schema})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	rows, err := pool.Query(ctx, "SELECT version FROM "+q+".schema_version ORDER BY version")
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3}, versions)

	st := stores[0]
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, meta.Batches, "the migration is kept")
	lease, err := st.LeaseOf(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, claimed.Lease.Token, lease.Token, "and its claim")
	ns, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	assert.Len(t, ns, 2)

	id := "EC0123456789abcdef0123456789abcdef"
	require.NoError(t, st.RecordCheck(ctx, preflight.Check{RequestID: id, PhoneNumbers: []string{"+14155550100", "+14155550101"}}))
	require.NoError(t, stores[1].RecordResults(ctx, id, []preflight.NumberResult{{PhoneNumber: "+14155550100", Status: preflight.StatusEligible, RawStatus: "ELIGIBLE", RequestID: id}}))
	got, err := stores[2].Results(ctx, []string{"+14155550100", "+14155550101"})
	require.NoError(t, err)
	assert.Equal(t, map[string]preflight.NumberResult{"+14155550100": {PhoneNumber: "+14155550100", Status: preflight.StatusEligible, RawStatus: "ELIGIBLE", RequestID: id}}, got)
}

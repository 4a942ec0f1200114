package pgstore_test

import (
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// Processes started at once on a new database make the schema once: every
// Open succeeds, and the schema has one version row.
func TestSchemaMadeOnceByOpensAtOnce(t *testing.T) {
	ctx := testCtx(t)
	schema := freshSchema(t)
	const opens = 8
	stores := make([]*pgstore.Store, opens)
	errs := make([]error, opens)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range opens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = pgstore.Open(ctx, dsn(t), pgstore.Options{Schema: schema})
		}()
	}
	close(start)
	wg.Wait()
	for i := range opens {
		require.NoError(t, errs[i], "open %d", i)
		defer func() { _ = stores[i].Close() }()
	}
	var versions []int
	rows, err := pool(t).Query(ctx, "SELECT version FROM "+pgx.Identifier{schema, "schema_version"}.Sanitize()+" ORDER BY version")
	require.NoError(t, err)
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	want := []int{}
	for v := 1; v <= pgstore.SchemaVersion; v++ {
		want = append(want, v)
	}
	assert.Equal(t, want, versions)
	require.NoError(t, stores[3].Start(ctx, testMeta(2), migrate.Batches(numbers(0, 2), 2)))
	_, err = stores[5].Meta(ctx)
	require.NoError(t, err, "all of them share the one schema")
}

// A schema of a newer version of the package is refused, and so is a
// schema that holds tables of something else.
func TestSchemaRefused(t *testing.T) {
	ctx := testCtx(t)
	p := pool(t)

	newer := freshSchema(t)
	st := open(t, pgstore.Options{Schema: newer})
	require.NoError(t, st.Start(ctx, testMeta(2), migrate.Batches(numbers(0, 2), 2)))
	_, err := p.Exec(ctx, "INSERT INTO "+pgx.Identifier{newer, "schema_version"}.Sanitize()+" (version) VALUES ($1)", pgstore.SchemaVersion+1)
	require.NoError(t, err)
	_, err = pgstore.Open(ctx, dsn(t), pgstore.Options{Schema: newer})
	var se *pgstore.SchemaError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "newer version")

	foreign := freshSchema(t)
	_, err = p.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{foreign}.Sanitize()+"; CREATE TABLE "+pgx.Identifier{foreign, "orders"}.Sanitize()+" (id int)")
	require.NoError(t, err)
	_, err = pgstore.Open(ctx, dsn(t), pgstore.Options{Schema: foreign})
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "not this package's")
	var n int
	require.NoError(t, p.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", foreign).Scan(&n))
	assert.Equal(t, 1, n, "nothing was added to it")
}

// A schema name that needs quoting is quoted everywhere.
func TestSchemaNameIsQuoted(t *testing.T) {
	ctx := testCtx(t)
	odd := freshSchema(t) + `"; DROP TABLE x; --`
	p := pool(t)
	t.Cleanup(func() {
		_, _ = p.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{odd}.Sanitize()+" CASCADE")
	})
	st := open(t, pgstore.Options{Schema: odd, Migration: `it's "quoted"`})
	require.NoError(t, st.Start(ctx, testMeta(2), migrate.Batches(numbers(0, 3), 2)))
	b, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	b.State = migrate.StateSending
	require.NoError(t, st.SaveBatch(ctx, &b, nil))
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, meta.Batches)
}

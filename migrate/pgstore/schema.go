package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaVersion is the version of the tables this package creates and
// reads. Open brings an older schema up to it and refuses a newer one.
const SchemaVersion = 3

// schemaSteps returns the statements that bring the schema in s (quoted)
// from version i to i+1, for each i: the tables of version 1, then the
// changes of each later version, applied in order and never edited once
// released.
func schemaSteps(s string) []string {
	v1 := `
CREATE TABLE {s}.migrations (
	name       text PRIMARY KEY,
	version    bigint NOT NULL DEFAULT 0,
	batches    integer NOT NULL DEFAULT 0,
	numbers    integer NOT NULL DEFAULT 0,
	meta       json NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {s}.batches (
	migration  text NOT NULL REFERENCES {s}.migrations (name) ON DELETE CASCADE,
	idx        integer NOT NULL CHECK (idx > 0),
	state      text NOT NULL,
	version    bigint NOT NULL DEFAULT 0,
	doc        json NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (migration, idx)
);
CREATE INDEX batches_by_state ON {s}.batches (migration, state, idx);
CREATE TABLE {s}.numbers (
	migration text NOT NULL,
	batch     integer NOT NULL,
	pos       integer NOT NULL CHECK (pos >= 0),
	phone     text NOT NULL,
	line      integer NOT NULL DEFAULT 0,
	settings  json NOT NULL,
	state     json NOT NULL,
	PRIMARY KEY (migration, batch, pos),
	CONSTRAINT numbers_one_batch UNIQUE (migration, phone),
	FOREIGN KEY (migration, batch) REFERENCES {s}.batches (migration, idx) ON DELETE CASCADE
);`
	// Version 2: the batches' claims (migrate.ClaimStore): the last
	// claim's worker, fencing token (0: never claimed) and expiry.
	v2 := `
ALTER TABLE {s}.batches
	ADD COLUMN claim_worker  text NOT NULL DEFAULT '',
	ADD COLUMN claim_token   bigint NOT NULL DEFAULT 0,
	ADD COLUMN claim_expires timestamptz;`
	// Version 3: the eligibility checks (preflight.Store): the checks
	// created and not ended, in the order recorded, and each number's
	// newest result.
	v3 := `
CREATE TABLE {s}.eligibility_checks (
	migration  text NOT NULL REFERENCES {s}.migrations (name) ON DELETE CASCADE,
	request_id text NOT NULL,
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	phones     text[] NOT NULL CHECK (cardinality(phones) > 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (migration, request_id)
);
CREATE INDEX eligibility_checks_in_order ON {s}.eligibility_checks (migration, seq);
CREATE TABLE {s}.eligibility_results (
	migration  text NOT NULL REFERENCES {s}.migrations (name) ON DELETE CASCADE,
	phone      text NOT NULL,
	status     text NOT NULL,
	raw_status text NOT NULL DEFAULT '',
	sub_status text NOT NULL DEFAULT '',
	reason     text NOT NULL DEFAULT '',
	next_step  text NOT NULL DEFAULT '',
	request_id text NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (migration, phone)
);`
	return []string{strings.ReplaceAll(v1, "{s}", s), strings.ReplaceAll(v2, "{s}", s), strings.ReplaceAll(v3, "{s}", s)}
}

// lockKey is the advisory lock that serialises the schema's creation and
// upgrades: one per schema name.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("hostednumbers-go/migrate/pgstore schema " + schema)) // a hash's Write never fails
	var k int64
	for _, b := range h.Sum(nil) {
		k = k<<8 | int64(b)
	}
	return k
}

// SchemaError is a schema that Open cannot use: written by a newer
// version of this package, or not this package's tables.
type SchemaError struct {
	Schema string
	Msg    string
}

func (e *SchemaError) Error() string { return "pgstore: schema " + e.Schema + ": " + e.Msg }

// migrateSchema creates the schema, or brings it to the version of steps,
// in one transaction under an advisory lock, so that processes started at
// once create it once and none reads it half made. A schema that is
// already current costs one query and no lock.
func migrateSchema(ctx context.Context, pool *pgxpool.Pool, schema string, steps []string) error {
	q := pgx.Identifier{schema}.Sanitize()
	versionTable := q + ".schema_version"
	if v, err := currentVersion(ctx, pool, schema, versionTable); err == nil && v == len(steps) {
		return nil
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(schema)); err != nil {
			return fmt.Errorf("pgstore: locking schema %s: %w", schema, err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
			return fmt.Errorf("pgstore: looking for schema %s: %w", schema, err)
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+q); err != nil {
				return fmt.Errorf("pgstore: creating schema %s: %w", schema, err)
			}
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+versionTable+
			" (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
			return fmt.Errorf("pgstore: creating %s.schema_version: %w", schema, err)
		}
		var have int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+versionTable).Scan(&have); err != nil {
			return fmt.Errorf("pgstore: reading %s.schema_version: %w", schema, err)
		}
		if have > len(steps) {
			return &SchemaError{schema, fmt.Sprintf("was made by a newer version of this package (schema version %d; this one knows %d and older): use the newer version", have, len(steps))}
		}
		if have == 0 {
			var tables int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_version'", schema).Scan(&tables); err != nil {
				return fmt.Errorf("pgstore: looking into schema %s: %w", schema, err)
			}
			if tables > 0 {
				return &SchemaError{schema, fmt.Sprintf("holds %d tables but no schema version: it is not this package's; name another schema", tables)}
			}
		}
		for v := have; v < len(steps); v++ {
			if _, err := tx.Exec(ctx, steps[v]); err != nil {
				return fmt.Errorf("pgstore: schema %s, version %d: %w", schema, v+1, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+versionTable+" (version) VALUES ($1)", v+1); err != nil {
				return fmt.Errorf("pgstore: schema %s, version %d: %w", schema, v+1, err)
			}
		}
		return nil
	})
}

// currentVersion reads the schema's version without a lock; an error
// means it has to be made.
func currentVersion(ctx context.Context, pool *pgxpool.Pool, schema, versionTable string) (int, error) {
	var found *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1)::text", pgx.Identifier{schema, "schema_version"}.Sanitize()).Scan(&found); err != nil {
		return 0, err
	}
	if found == nil {
		return 0, errors.New("no schema_version table")
	}
	var v int
	err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+versionTable).Scan(&v)
	return v, err
}

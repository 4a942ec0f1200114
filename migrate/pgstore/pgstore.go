// Package pgstore is a migrate.Store in PostgreSQL, so that processes on
// one machine or several can share a migration.
//
// It lives in its own module, so that the SDK's go.mod keeps its three
// dependencies: this one adds github.com/jackc/pgx/v5.
//
// # Tables
//
// The store keeps its tables in one schema (Options.Schema,
// "hostednumbers" by default), which it creates and upgrades itself when
// it is opened: in one transaction, under an advisory lock, so that
// processes started at once make it once. The schema's version is in its
// schema_version table; a schema made by a newer version of this package
// is refused, and so is a schema that holds other tables.
//
//   - migrations: one row per migration, by name (Options.Migration,
//     "default" by default): its Meta as JSON, its count of batches and of
//     numbers, and a version that AddBatches increments. One schema holds
//     as many migrations as it has names.
//   - batches: one row per batch: its index, state and version in
//     columns, the whole migrate.Batch as JSON.
//   - numbers: one row per number: its batch and position, its phone
//     number (unique in its migration: a number belongs to one batch), its
//     input line, its settings as the input gave them, and its state.
//   - eligibility_checks and eligibility_results (schema version 3): the
//     store is a preflight.Store, so that the migration's eligibility
//     checks live with it. One row per check created and not ended (its
//     request ID, its numbers, in the order recorded), and one row per
//     number checked, its newest result. RecordResults deletes the check's
//     row and upserts its results in one transaction: of two workers
//     ending one check, exactly one records, and nothing of the other's is
//     kept. Checks are recorded once the migration is started.
//
// Documents are stored as json, an exact copy of what encoding/json
// wrote, so that a number's settings read back byte for byte as they were
// written.
//
// # Writes
//
// Every write is one transaction, durable when it returns. SaveBatch is a
// compare-and-set on the batch's row (UPDATE … WHERE idx = $1 AND version
// = $2): of several workers saving one version of a batch, exactly one
// wins and the others get migrate.ErrConflict, with nothing recorded.
// Start and AddBatches record all of their batches or none.
//
// # Claims
//
// The store is a migrate.ClaimStore: workers in any number of processes
// claim batches before they work on them. Each batch's row holds its last
// claim (claim_worker, claim_token, claim_expires; schema version 2). A
// claim is one transaction that locks the batch's row (ClaimNext: SELECT
// … ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED, so that workers
// claiming at once pass over each other's rows instead of waiting), and
// every save, renewal and release under a claim is one UPDATE conditioned
// on its token, its worker and its expiry: a lost claim changes nothing.
//
// Claims expire by the database's clock (now()), the one clock every
// worker shares, so that no worker's own clock, ahead or behind, decides
// that another's claim is over. Options.Clock replaces it, for tests.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// The defaults of Options.
const (
	DefaultSchema    = "hostednumbers"
	DefaultMigration = "default"
)

// Options configure Open and New.
type Options struct {
	// Schema is the PostgreSQL schema of the store's tables, created if
	// missing; empty means DefaultSchema.
	Schema string
	// Migration names the migration in the schema; empty means
	// DefaultMigration. Stores opened with other names on one schema keep
	// separate migrations.
	Migration string
	// Clock replaces the database's clock (now()) for claims: nil, the
	// default, means the database's, the one clock every worker on the
	// migration shares. Set it only when every store on the migration
	// uses the same clock: tests give a fake one.
	Clock func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if o.Migration == "" {
		o.Migration = DefaultMigration
	}
	var problems []hostednumbers.FieldError
	if len(o.Schema) > 63 {
		problems = append(problems, hostednumbers.FieldError{Field: "Schema", Message: fmt.Sprintf("is %d bytes long; PostgreSQL names are at most 63", len(o.Schema))})
	} else if msg := badText(o.Schema); msg != "" {
		problems = append(problems, hostednumbers.FieldError{Field: "Schema", Message: msg})
	}
	if n := utf8.RuneCountInString(o.Migration); n > 200 {
		problems = append(problems, hostednumbers.FieldError{Field: "Migration", Message: fmt.Sprintf("is %d characters long; at most 200", n)})
	} else if msg := badText(o.Migration); msg != "" {
		problems = append(problems, hostednumbers.FieldError{Field: "Migration", Message: msg})
	}
	if len(problems) > 0 {
		return o, &hostednumbers.ValidationError{Problems: problems}
	}
	return o, nil
}

// badText says what is wrong with a name PostgreSQL cannot store.
func badText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if r == 0 {
			return "holds a NUL character"
		}
	}
	return ""
}

// Store is a migrate.Store in PostgreSQL. It is safe for concurrent use,
// by goroutines and by processes.
type Store struct {
	pool   *pgxpool.Pool
	owned  bool // Close closes the pool
	name   string
	schema string
	q      queries
	cq     checkQueries
	clock  func() time.Time
}

var _ migrate.ClaimStore = (*Store)(nil)

// Open connects to the database dsn names (a URL such as
// postgres://user:password@host:5432/database, or key=value settings, as
// pgx reads them), creates or upgrades the store's schema, and returns
// the store of o.Migration. Close closes the connections. Errors never
// repeat dsn, which may hold a password: one that cannot be parsed is a
// *hostednumbers.ValidationError naming the field "dsn".
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// Not wrapped: pgx's message, and the errors under it, can quote
		// the DSN, password included.
		return nil, &hostednumbers.ValidationError{Problems: []hostednumbers.FieldError{{Field: "dsn",
			Message: "cannot be parsed: it should be a postgres:// URL (postgres://USER@HOST:5432/DATABASE?sslmode=…, the password after USER:) or key=value settings, as libpq reads them"}}}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s, err := New(ctx, pool, o)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// New returns the store of o.Migration on a pool the caller owns (and
// closes after the store), creating or upgrading the store's schema.
func New(ctx context.Context, pool *pgxpool.Pool, o Options) (*Store, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, &hostednumbers.ValidationError{Problems: []hostednumbers.FieldError{{Field: "pool", Message: "is nil"}}}
	}
	if err := migrateSchema(ctx, pool, o.Schema, schemaSteps(pgx.Identifier{o.Schema}.Sanitize())); err != nil {
		return nil, err
	}
	return &Store{pool: pool, name: o.Migration, schema: o.Schema, q: newQueries(pgx.Identifier{o.Schema}.Sanitize()),
		cq: newCheckQueries(pgx.Identifier{o.Schema}.Sanitize()), clock: o.Clock}, nil
}

// Close releases the store, and its connections if Open made them.
func (s *Store) Close() error {
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// Schema is the schema of the store's tables.
func (s *Store) Schema() string { return s.schema }

// Migration is the name of the store's migration.
func (s *Store) Migration() string { return s.name }

// queries are the store's statements, with its schema's name.
type queries struct {
	meta, insertMigration, setMigration, lockMigration           string
	insertBatch, batch, batchExists, numbers, setState           string
	strangers                                                    string
	claimRow, claimNext, setClaim, renew, release, saveUnclaimed string
	saveClaimed, leaseOf, pending                                string
}

func newQueries(s string) queries {
	return queries{
		meta:            "SELECT meta, batches FROM " + s + ".migrations WHERE name = $1",
		insertMigration: "INSERT INTO " + s + ".migrations (name, meta) VALUES ($1, '{}') ON CONFLICT (name) DO NOTHING",
		setMigration:    "UPDATE " + s + ".migrations SET meta = $2, batches = $3, numbers = $4, version = version + 1, updated_at = now() WHERE name = $1",
		lockMigration:   "SELECT batches, numbers FROM " + s + ".migrations WHERE name = $1 FOR UPDATE",
		insertBatch:     "INSERT INTO " + s + ".batches (migration, idx, state, version, doc) VALUES ($1, $2, $3, 0, $4)",
		batch:           "SELECT state, version, doc FROM " + s + ".batches WHERE migration = $1 AND idx = $2",
		batchExists: "SELECT EXISTS (SELECT 1 FROM " + s + ".migrations WHERE name = $1), " +
			"EXISTS (SELECT 1 FROM " + s + ".batches WHERE migration = $1 AND idx = $2)",
		numbers: "SELECT settings, line, state FROM " + s + ".numbers WHERE migration = $1 AND batch = $2 ORDER BY pos",
		setState: "UPDATE " + s + ".numbers AS n SET state = c.state FROM unnest($3::text[], $4::json[]) AS c (phone, state) " +
			"WHERE n.migration = $1 AND n.batch = $2 AND n.phone = c.phone",
		strangers: "SELECT c.p FROM unnest($3::text[]) WITH ORDINALITY AS c (p, i) WHERE NOT EXISTS " +
			"(SELECT 1 FROM " + s + ".numbers WHERE migration = $1 AND batch = $2 AND phone = c.p) ORDER BY c.i",
		// $3 is the store's clock, or NULL for the database's.
		claimRow: "SELECT idx, state, version, doc, claim_worker, claim_token, claim_expires, coalesce($3::timestamptz, now()) FROM " + s + ".batches " +
			"WHERE migration = $1 AND idx = $2 FOR UPDATE",
		claimNext: "SELECT idx, state, version, doc, claim_worker, claim_token, claim_expires, coalesce($3::timestamptz, now()) FROM " + s + ".batches " +
			"WHERE migration = $1 AND (cardinality($2::text[]) = 0 OR state = ANY ($2::text[])) " +
			"AND (claim_token = 0 OR claim_expires <= coalesce($3::timestamptz, now())) ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED",
		setClaim: "UPDATE " + s + ".batches SET claim_worker = $3, claim_token = claim_token + 1, " +
			"claim_expires = $4::timestamptz + $5::bigint * interval '1 microsecond' WHERE migration = $1 AND idx = $2 " +
			"RETURNING claim_token, claim_expires",
		renew: "UPDATE " + s + ".batches SET claim_expires = coalesce($5::timestamptz, now()) + $6::bigint * interval '1 microsecond' " +
			"WHERE migration = $1 AND idx = $2 AND claim_token = $3 AND claim_worker = $4 AND claim_expires > coalesce($5::timestamptz, now()) " +
			"RETURNING claim_expires",
		release: "UPDATE " + s + ".batches SET claim_expires = coalesce($5::timestamptz, now()) " +
			"WHERE migration = $1 AND idx = $2 AND claim_token = $3 AND claim_worker = $4 AND claim_expires > coalesce($5::timestamptz, now())",
		saveUnclaimed: "UPDATE " + s + ".batches SET state = $3, version = version + 1, doc = $4, updated_at = now() " +
			"WHERE migration = $1 AND idx = $2 AND version = $5 AND (claim_token = 0 OR claim_expires <= coalesce($6::timestamptz, now()))",
		saveClaimed: "UPDATE " + s + ".batches SET state = $3, version = version + 1, doc = $4, updated_at = now() " +
			"WHERE migration = $1 AND idx = $2 AND version = $5 AND claim_token = $7 AND claim_worker = $8 AND claim_expires > coalesce($6::timestamptz, now())",
		leaseOf: "SELECT claim_worker, claim_token, claim_expires, coalesce($3::timestamptz, now()), version FROM " + s + ".batches WHERE migration = $1 AND idx = $2",
		pending: "SELECT idx, state, version, doc FROM " + s + ".batches WHERE migration = $1 AND idx > $2 " +
			"AND (cardinality($3::text[]) = 0 OR state = ANY ($3::text[])) ORDER BY idx LIMIT $4",
	}
}

// Meta returns the migration's description, or migrate.ErrNoMigration.
func (s *Store) Meta(ctx context.Context) (migrate.Meta, error) {
	var (
		doc     []byte
		batches int
		meta    migrate.Meta
	)
	err := s.pool.QueryRow(ctx, s.q.meta, s.name).Scan(&doc, &batches)
	if errors.Is(err, pgx.ErrNoRows) {
		return meta, migrate.ErrNoMigration
	}
	if err != nil {
		return meta, fmt.Errorf("pgstore: reading migration %q: %w", s.name, err)
	}
	if err := json.Unmarshal(doc, &meta); err != nil {
		return meta, fmt.Errorf("pgstore: migration %q: its meta cannot be read: %w", s.name, err)
	}
	meta.Batches = batches
	return meta, nil
}

// Start records a new migration, all or nothing, in one transaction; a
// migration of the same name makes it migrate.ErrExists.
func (s *Store) Start(ctx context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, s.q.insertMigration, s.name)
		if err != nil {
			return fmt.Errorf("pgstore: starting migration %q: %w", s.name, err)
		}
		if tag.RowsAffected() == 0 {
			return migrate.ErrExists
		}
		n, numbers, err := s.appendBatches(ctx, tx, 0, batches)
		if err != nil {
			return err
		}
		return s.setMeta(ctx, tx, meta, n, numbers)
	})
}

// AddBatches records meta and appends batches after the last one, all or
// nothing, in one transaction that holds the migration's row: two at once
// run one after the other.
func (s *Store) AddBatches(ctx context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	return s.addBatches(ctx, -1, meta, batches)
}

// AddBatchesIf is AddBatches if the migration has expect batches (in the
// transaction that holds its row); otherwise it is migrate.ErrConflict
// and records nothing.
func (s *Store) AddBatchesIf(ctx context.Context, expect int, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	return s.addBatches(ctx, expect, meta, batches)
}

// addBatches is AddBatches, if the migration has expect batches when
// expect is not -1.
func (s *Store) addBatches(ctx context.Context, expect int, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var have, numbers int
		err := tx.QueryRow(ctx, s.q.lockMigration, s.name).Scan(&have, &numbers)
		if errors.Is(err, pgx.ErrNoRows) {
			return migrate.ErrNoMigration
		}
		if err != nil {
			return fmt.Errorf("pgstore: adding batches to migration %q: %w", s.name, err)
		}
		if expect >= 0 && have != expect {
			return fmt.Errorf("pgstore: migration %q has %d batches, not %d: %w", s.name, have, expect, migrate.ErrConflict)
		}
		n, added, err := s.appendBatches(ctx, tx, have, batches)
		if err != nil {
			return err
		}
		return s.setMeta(ctx, tx, meta, have+n, numbers+added)
	})
}

// setMeta records meta with its count of batches, and of numbers unless
// meta says how many its input holds.
func (s *Store) setMeta(ctx context.Context, tx pgx.Tx, meta migrate.Meta, batches, numbers int) error {
	meta.Batches = batches
	if meta.Input.Numbers == 0 {
		meta.Input.Numbers = numbers
	}
	doc, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("pgstore: encoding the meta of migration %q: %w", s.name, err)
	}
	if _, err := tx.Exec(ctx, s.q.setMigration, s.name, doc, batches, numbers); err != nil {
		return fmt.Errorf("pgstore: recording the meta of migration %q: %w", s.name, err)
	}
	return nil
}

// appendBatches writes each batch of batches as planned, numbered after
// the migration's first have, with its numbers, and returns how many
// batches and numbers it wrote.
func (s *Store) appendBatches(ctx context.Context, tx pgx.Tx, have int, batches iter.Seq2[[]migrate.NumberState, error]) (n, numbers int, err error) {
	for ns, err := range batches {
		if err != nil {
			return 0, 0, err
		}
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		b := migrate.Batch{Index: have + n + 1, State: migrate.StatePlanned, Size: len(ns)}
		doc, err := json.Marshal(b)
		if err != nil {
			return 0, 0, fmt.Errorf("pgstore: encoding batch %d: %w", b.Index, err)
		}
		if _, err := tx.Exec(ctx, s.q.insertBatch, s.name, b.Index, string(b.State), doc); err != nil {
			return 0, 0, fmt.Errorf("pgstore: recording batch %d: %w", b.Index, err)
		}
		rows := make([][]any, len(ns))
		for i := range ns {
			settings, state, err := encodeNumber(&ns[i])
			if err != nil {
				return 0, 0, fmt.Errorf("pgstore: batch %d, number %d (%s): %w", b.Index, i+1, ns[i].PhoneNumber(), err)
			}
			rows[i] = []any{s.name, b.Index, i, ns[i].PhoneNumber(), ns[i].Line, settings, state}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.schema, "numbers"},
			[]string{"migration", "batch", "pos", "phone", "line", "settings", "state"}, pgx.CopyFromRows(rows)); err != nil {
			return 0, 0, numbersError(b.Index, err)
		}
		n++
		numbers += len(ns)
	}
	return n, numbers, nil
}

// DuplicateError is a number that Start or AddBatches was given when the
// migration already holds it: a number belongs to one batch.
type DuplicateError struct {
	Batch int
	// Detail is PostgreSQL's, naming the number.
	Detail string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("pgstore: batch %d: a number the migration holds already (%s): a number belongs to one batch", e.Batch, e.Detail)
}

// Unwrap returns migrate.ErrDuplicate.
func (e *DuplicateError) Unwrap() error { return migrate.ErrDuplicate }

func numbersError(batch int, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "numbers_one_batch" {
		return &DuplicateError{Batch: batch, Detail: pe.Detail}
	}
	return fmt.Errorf("pgstore: recording the numbers of batch %d: %w", batch, err)
}

// stateDoc is a number's state without its settings: the number and its
// input line shadow NumberState's, and are left out.
type stateDoc struct {
	*migrate.NumberState
	Number *struct{} `json:"number,omitempty"`
	Line   *struct{} `json:"line,omitempty"`
}

// encodeNumber returns a number's settings and its state as JSON.
func encodeNumber(n *migrate.NumberState) (settings, state []byte, err error) {
	if settings, err = n.Number.MarshalJSON(); err != nil {
		return nil, nil, err
	}
	if state, err = json.Marshal(stateDoc{NumberState: n}); err != nil {
		return nil, nil, err
	}
	return settings, state, nil
}

// Batch returns batch index without its numbers.
func (s *Store) Batch(ctx context.Context, index int) (migrate.Batch, error) {
	var (
		state   string
		version int64
		doc     []byte
		b       migrate.Batch
	)
	err := s.pool.QueryRow(ctx, s.q.batch, s.name, index).Scan(&state, &version, &doc)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.missing(ctx, s.pool, index); err != nil {
			return b, err
		}
		return s.Batch(ctx, index) // added since the first look
	}
	if err != nil {
		return b, fmt.Errorf("pgstore: reading batch %d: %w", index, err)
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		return b, fmt.Errorf("pgstore: batch %d cannot be read: %w", index, err)
	}
	b.Index, b.State, b.Version = index, migrate.BatchState(state), version
	return b, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// missing is the error for a batch that is not there: no migration, or
// no such batch in it. A transaction asks on its own connection: a pool
// whose connections all wait for one more would never give it.
func (s *Store) missing(ctx context.Context, q querier, index int) error {
	var migration, batch bool
	if err := q.QueryRow(ctx, s.q.batchExists, s.name, index).Scan(&migration, &batch); err != nil {
		return fmt.Errorf("pgstore: reading batch %d: %w", index, err)
	}
	if !migration {
		// No migration holds no batch either: both answers hold.
		return fmt.Errorf("%w (so no batch %d: %w)", migrate.ErrNoMigration, index, migrate.ErrNoBatch)
	}
	if batch {
		return nil
	}
	return fmt.Errorf("pgstore: migration %q has no batch %d: %w", s.name, index, migrate.ErrNoBatch)
}

// Numbers returns the numbers of batch index, in their order.
func (s *Store) Numbers(ctx context.Context, index int) ([]migrate.NumberState, error) {
	rows, err := s.pool.Query(ctx, s.q.numbers, s.name, index)
	if err != nil {
		return nil, fmt.Errorf("pgstore: reading the numbers of batch %d: %w", index, err)
	}
	var out []migrate.NumberState
	var settings, state []byte
	var line int
	_, err = pgx.ForEachRow(rows, []any{&settings, &line, &state}, func() error {
		var n migrate.NumberState
		if err := json.Unmarshal(state, &n); err != nil {
			return err
		}
		if err := n.Number.UnmarshalJSON(settings); err != nil {
			return err
		}
		n.Line = line
		out = append(out, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: reading the numbers of batch %d: %w", index, err)
	}
	if len(out) == 0 {
		if _, err := s.Batch(ctx, index); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SaveBatch records b and the states of the numbers in changed, in one
// transaction, if the stored batch's version is b.Version; b.Version is
// then one more. Otherwise it returns migrate.ErrConflict and records
// nothing. A number of changed that is not of batch b.Index is refused,
// and nothing is recorded; of two changes of one number, the last counts.
// A batch under a live claim is refused (migrate.ErrClaimed, and
// migrate.ErrConflict).
func (s *Store) SaveBatch(ctx context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	if b == nil {
		return errors.New("pgstore: SaveBatch of a nil batch")
	}
	return s.save(ctx, nil, b, changed)
}

// SaveClaimed is SaveBatch under the live claim l (see
// migrate.ClaimStore): a claim that is not the batch's live one is
// migrate.ErrLeaseLost, and nothing is recorded.
func (s *Store) SaveClaimed(ctx context.Context, l migrate.Lease, b *migrate.Batch, changed []migrate.NumberState) error {
	if b == nil {
		return errors.New("pgstore: SaveClaimed of a nil batch")
	}
	if b.Index != l.Batch {
		return fmt.Errorf("pgstore: batch %d saved under the claim of batch %d: nothing was recorded", b.Index, l.Batch)
	}
	return s.save(ctx, &l, b, changed)
}

// save is SaveBatch, under the claim l if it is not nil.
func (s *Store) save(ctx context.Context, l *migrate.Lease, b *migrate.Batch, changed []migrate.NumberState) error {
	if !b.State.Known() {
		return fmt.Errorf("pgstore: batch %d: unknown state %q", b.Index, b.State)
	}
	next := *b
	next.Version++
	doc, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("pgstore: encoding batch %d: %w", b.Index, err)
	}
	phones, states, err := changes(changed)
	if err != nil {
		return fmt.Errorf("pgstore: batch %d: %w", b.Index, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var tag pgconn.CommandTag
		var err error
		if l == nil {
			tag, err = tx.Exec(ctx, s.q.saveUnclaimed, s.name, b.Index, string(b.State), doc, b.Version, s.now())
		} else {
			tag, err = tx.Exec(ctx, s.q.saveClaimed, s.name, b.Index, string(b.State), doc, b.Version, s.now(), l.Token, l.Worker)
		}
		if err != nil {
			return fmt.Errorf("pgstore: saving batch %d: %w", b.Index, err)
		}
		if tag.RowsAffected() == 0 {
			return s.whyNotSaved(ctx, tx, l, b)
		}
		if len(phones) == 0 {
			return nil
		}
		tag, err = tx.Exec(ctx, s.q.setState, s.name, b.Index, phones, states)
		if err != nil {
			return fmt.Errorf("pgstore: saving the numbers of batch %d: %w", b.Index, err)
		}
		if int(tag.RowsAffected()) != len(phones) {
			return s.strangers(ctx, tx, b.Index, phones)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.Version = next.Version
	return nil
}

// changes returns the phone numbers and states of changed, one per
// number, the last change of a number winning.
func changes(changed []migrate.NumberState) (phones, states []string, err error) {
	at := make(map[string]int, len(changed))
	for i := range changed {
		n := &changed[i]
		_, state, err := encodeNumber(n)
		if err != nil {
			return nil, nil, fmt.Errorf("number %s: %w", n.PhoneNumber(), err)
		}
		if k, ok := at[n.PhoneNumber()]; ok {
			states[k] = string(state)
			continue
		}
		at[n.PhoneNumber()] = len(phones)
		phones = append(phones, n.PhoneNumber())
		states = append(states, string(state))
	}
	return phones, states, nil
}

// NotInBatchError is a SaveBatch with numbers that are not of the batch.
type NotInBatchError struct {
	Batch   int
	Numbers []string
}

func (e *NotInBatchError) Error() string {
	return fmt.Sprintf("pgstore: batch %d does not hold %s: nothing was saved", e.Batch, joinFew(e.Numbers))
}

func joinFew(list []string) string {
	const show = 5
	out := ""
	for i, s := range list {
		if i == show {
			return fmt.Sprintf("%s and %d more", out, len(list)-show)
		}
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// strangers is the error for a save whose numbers are not all of the
// batch: it names them.
func (s *Store) strangers(ctx context.Context, tx pgx.Tx, index int, phones []string) error {
	rows, err := tx.Query(ctx, s.q.strangers, s.name, index, phones)
	if err != nil {
		return fmt.Errorf("pgstore: saving the numbers of batch %d: %w", index, err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("pgstore: saving the numbers of batch %d: %w", index, err)
	}
	return &NotInBatchError{Batch: index, Numbers: list}
}

// now is the store's clock for a query, or nil for the database's.
func (s *Store) now() *time.Time {
	if s.clock == nil {
		return nil
	}
	t := s.clock()
	return &t
}

// micros is ttl in microseconds, rounded up: a claim never ends before
// the ttl its holder counts from.
func micros(ttl time.Duration) int64 {
	us := int64(ttl / time.Microsecond)
	if ttl%time.Microsecond != 0 {
		us++
	}
	return us
}

// row is a batch's row with its claim, as claimRow and claimNext read it.
type row struct {
	b       migrate.Batch
	lease   migrate.Lease
	expires *time.Time
	now     time.Time
}

func (r *row) live() bool { return r.lease.Token != 0 && r.expires != nil && r.now.Before(*r.expires) }

func scanRow(q pgx.Row) (*row, error) {
	var (
		r     row
		state string
		doc   []byte
	)
	if err := q.Scan(&r.b.Index, &state, &r.b.Version, &doc, &r.lease.Worker, &r.lease.Token, &r.expires, &r.now); err != nil {
		return nil, err
	}
	index, version := r.b.Index, r.b.Version
	if err := json.Unmarshal(doc, &r.b); err != nil {
		return nil, fmt.Errorf("pgstore: batch %d cannot be read: %w", index, err)
	}
	r.b.Index, r.b.State, r.b.Version = index, migrate.BatchState(state), version
	if r.lease.Token != 0 {
		r.lease.Batch = index
		if r.expires != nil {
			r.lease.Expires = r.expires.UTC()
		}
	} else {
		r.lease = migrate.Lease{}
	}
	return &r, nil
}

// take claims the batch of r for worker, in tx.
func (s *Store) take(ctx context.Context, tx pgx.Tx, r *row, worker string, ttl time.Duration) (migrate.Claimed, error) {
	l := migrate.Lease{Batch: r.b.Index, Worker: worker}
	if err := tx.QueryRow(ctx, s.q.setClaim, s.name, r.b.Index, worker, r.now, micros(ttl)).Scan(&l.Token, &l.Expires); err != nil {
		return migrate.Claimed{}, fmt.Errorf("pgstore: claiming batch %d: %w", r.b.Index, err)
	}
	l.Expires = l.Expires.UTC()
	return migrate.Claimed{Lease: l, Batch: r.b, Previous: r.lease}, nil
}

// Claim claims batch index for worker, for ttl (see migrate.ClaimStore),
// in one transaction that holds the batch's row.
func (s *Store) Claim(ctx context.Context, worker string, ttl time.Duration, index int) (migrate.Claimed, error) {
	if err := migrate.CheckClaim(worker, ttl); err != nil {
		return migrate.Claimed{}, err
	}
	var c migrate.Claimed
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := scanRow(tx.QueryRow(ctx, s.q.claimRow, s.name, index, s.now()))
		if errors.Is(err, pgx.ErrNoRows) {
			if err := s.missing(ctx, tx, index); err != nil {
				return err
			}
			return fmt.Errorf("pgstore: migration %q has no batch %d: %w", s.name, index, migrate.ErrNoBatch)
		}
		if err != nil {
			return fmt.Errorf("pgstore: claiming batch %d: %w", index, err)
		}
		if r.live() {
			return fmt.Errorf("pgstore: batch %d is held by %s until %s: %w", index, r.lease.Worker, r.lease.Expires.Format(time.RFC3339Nano), migrate.ErrClaimed)
		}
		c, err = s.take(ctx, tx, r, worker, ttl)
		return err
	})
	if err != nil {
		return migrate.Claimed{}, err
	}
	return c, nil
}

// ClaimNext claims the batch of lowest index in states that no live
// claim holds (SELECT … FOR UPDATE SKIP LOCKED: workers claiming at once
// pass over each other's rows).
func (s *Store) ClaimNext(ctx context.Context, worker string, ttl time.Duration, states ...migrate.BatchState) (migrate.Claimed, bool, error) {
	if err := migrate.CheckClaim(worker, ttl, states...); err != nil {
		return migrate.Claimed{}, false, err
	}
	var c migrate.Claimed
	ok := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := scanRow(tx.QueryRow(ctx, s.q.claimNext, s.name, stateNames(states), s.now()))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("pgstore: claiming a batch: %w", err)
		}
		c, err = s.take(ctx, tx, r, worker, ttl)
		ok = err == nil
		return err
	})
	if err != nil {
		return migrate.Claimed{}, false, err
	}
	return c, ok, nil
}

func stateNames(states []migrate.BatchState) []string {
	out := make([]string, len(states))
	for i, st := range states {
		out[i] = string(st)
	}
	return out
}

// Renew extends the live claim l to ttl from now.
func (s *Store) Renew(ctx context.Context, l migrate.Lease, ttl time.Duration) (migrate.Lease, error) {
	if err := migrate.CheckClaim(l.Worker, ttl); err != nil {
		return l, err
	}
	var expires time.Time
	err := s.pool.QueryRow(ctx, s.q.renew, s.name, l.Batch, l.Token, l.Worker, s.now(), micros(ttl)).Scan(&expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, s.lost(ctx, l)
	}
	if err != nil {
		return l, fmt.Errorf("pgstore: renewing the claim of batch %d: %w", l.Batch, err)
	}
	l.Expires = expires.UTC()
	return l, nil
}

// Release ends the live claim l now.
func (s *Store) Release(ctx context.Context, l migrate.Lease) error {
	tag, err := s.pool.Exec(ctx, s.q.release, s.name, l.Batch, l.Token, l.Worker, s.now())
	if err != nil {
		return fmt.Errorf("pgstore: releasing the claim of batch %d: %w", l.Batch, err)
	}
	if tag.RowsAffected() == 0 {
		return s.lost(ctx, l)
	}
	return nil
}

// lost is the error for a claim l that is not its batch's live claim.
func (s *Store) lost(ctx context.Context, l migrate.Lease) error {
	if err := s.missing(ctx, s.pool, l.Batch); err != nil {
		return err
	}
	return fmt.Errorf("pgstore: batch %d, claim %d of %s: %w", l.Batch, l.Token, l.Worker, migrate.ErrLeaseLost)
}

// whyNotSaved is the error for a save that changed no row: no batch, a
// lost claim, a live claim of another, or another version.
func (s *Store) whyNotSaved(ctx context.Context, tx pgx.Tx, l *migrate.Lease, b *migrate.Batch) error {
	var (
		worker  string
		token   int64
		expires *time.Time
		now     time.Time
		version int64
	)
	err := tx.QueryRow(ctx, s.q.leaseOf, s.name, b.Index, s.now()).Scan(&worker, &token, &expires, &now, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.missing(ctx, tx, b.Index); err != nil {
			return err
		}
		return migrate.ErrConflict // added since: not the version given
	}
	if err != nil {
		return fmt.Errorf("pgstore: saving batch %d: %w", b.Index, err)
	}
	live := token != 0 && expires != nil && now.Before(*expires)
	switch {
	case l != nil && (!live || token != l.Token || worker != l.Worker):
		return fmt.Errorf("pgstore: batch %d, claim %d of %s: %w", b.Index, l.Token, l.Worker, migrate.ErrLeaseLost)
	case l == nil && live:
		return fmt.Errorf("pgstore: batch %d is held by %s: %w (%w)", b.Index, worker, migrate.ErrClaimed, migrate.ErrConflict)
	}
	return migrate.ErrConflict
}

// LeaseOf returns batch index's last claim.
func (s *Store) LeaseOf(ctx context.Context, index int) (migrate.Lease, error) {
	var (
		l       migrate.Lease
		expires *time.Time
		now     time.Time
		version int64
	)
	err := s.pool.QueryRow(ctx, s.q.leaseOf, s.name, index, s.now()).Scan(&l.Worker, &l.Token, &expires, &now, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.missing(ctx, s.pool, index); err != nil {
			return l, err
		}
		return s.LeaseOf(ctx, index) // added since the first look
	}
	if err != nil {
		return l, fmt.Errorf("pgstore: reading the claim of batch %d: %w", index, err)
	}
	if l.Token == 0 {
		return migrate.Lease{}, nil
	}
	l.Batch = index
	if expires != nil {
		l.Expires = expires.UTC()
	}
	return l, nil
}

// Pending returns up to limit batches after index after, in states, in
// one query that reads at most limit rows.
func (s *Store) Pending(ctx context.Context, after, limit int, states ...migrate.BatchState) ([]migrate.Batch, error) {
	if err := migrate.CheckPending(limit, states...); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.pending, s.name, after, stateNames(states), limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: reading pending batches: %w", err)
	}
	var (
		out     []migrate.Batch
		index   int
		state   string
		version int64
		doc     []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&index, &state, &version, &doc}, func() error {
		var b migrate.Batch
		if err := json.Unmarshal(doc, &b); err != nil {
			return fmt.Errorf("batch %d cannot be read: %w", index, err)
		}
		b.Index, b.State, b.Version = index, migrate.BatchState(state), version
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: reading pending batches: %w", err)
	}
	return out, nil
}

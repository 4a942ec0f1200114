package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// databaseSchemes are the schemes of a -state that names a PostgreSQL
// database (migrate/pgstore) instead of a journal file. Several bulkhost
// processes, on one machine or several, can share a migration there.
func databaseSchemes() [2]string { return [2]string{"postgres://", "postgresql://"} }

// isDatabase reports whether state names a PostgreSQL database.
func isDatabase(state string) bool {
	for _, s := range databaseSchemes() {
		if len(state) >= len(s) && strings.EqualFold(state[:len(s)], s) {
			return true
		}
	}
	return false
}

// database is a -state that names a PostgreSQL database. It prints only
// its redacted DSN, and holds the DSN as given (password included) in a
// function, which fmt prints as an address whatever the verb: neither %v
// of it nor of a struct that holds it shows the password.
type database struct {
	dsn      func() string // as given, password included: for pgstore.Open only
	redacted string        // the DSN without its password, for every message
	// schema and migration name the store's tables and the migration
	// in them (-schema, -migration; empty: pgstore's defaults).
	schema, migration string
}

// newDatabase returns the database dsn names.
func newDatabase(dsn, schema, migration string) *database {
	return &database{dsn: func() string { return dsn }, redacted: redactDSN(dsn), schema: schema, migration: migration}
}

// String is the DSN without its password.
func (d *database) String() string { return d.redacted }

// GoString is the DSN without its password (%#v).
func (d *database) GoString() string { return fmt.Sprintf("database(%q)", d.redacted) }

// Format prints the DSN without its password, whatever the verb.
func (d *database) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, d.GoString())
		return
	}
	_, _ = io.WriteString(f, d.redacted)
}

// name is how messages name the migration's store: the redacted DSN,
// with the schema and the migration when -schema and -migration name
// them.
func (d *database) name() string {
	s := d.redacted
	if d.schema != "" {
		s += " (schema " + d.schema + ")"
	}
	if d.migration != "" {
		s += " (migration " + d.migration + ")"
	}
	return s
}

// secretQueryKeys are the DSN's query parameters that hold secrets, as
// libpq and pgx read them.
func secretQueryKeys() [2]string { return [2]string{"password", "sslpassword"} }

// redactDSN returns a postgres:// DSN with its password (in the user
// information or a query parameter) replaced by "xxxxx". A DSN that does
// not parse as a URL is not shown at all: its password cannot be found
// in it with certainty.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "postgres://(a DSN that is not a valid URL; not shown, since it may hold a password)"
	}
	q := u.Query()
	changed := false
	for _, k := range secretQueryKeys() {
		for key := range q {
			if strings.EqualFold(key, k) {
				q.Set(key, "xxxxx")
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// dsnSecrets returns the secrets a postgres:// DSN holds (its password
// as written and decoded, and the values of secretQueryKeys), for
// scrubbing from output whatever path they take. Secrets shorter than
// minSecret are left out: scrubbing a short string would garble the
// output, and the redacted DSN is what messages print anyway.
func dsnSecrets(dsn string) []string {
	const minSecret = 4
	var out []string
	add := func(s string) {
		if len(s) >= minSecret && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	// The password as written: in the user information, between the
	// first ':' and the last '@' of the authority.
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		authority := rest
		if k := strings.IndexAny(rest, "/?#"); k >= 0 {
			authority = rest[:k]
		}
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
				add(pw)
			}
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return out
	}
	if pw, ok := u.User.Password(); ok {
		add(pw) // decoded
	}
	for key, vs := range u.Query() {
		for _, k := range secretQueryKeys() {
			if strings.EqualFold(key, k) {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	return out
}

// stateSecrets returns the secrets of every postgres:// DSN in args: the
// -state's, and any other argument's (one given where it does not belong
// is quoted back by the error about it), whether or not args parse.
func stateSecrets(args []string) []string {
	var out []string
	for _, a := range args {
		value := a
		if strings.HasPrefix(a, "-") {
			_, value, _ = strings.Cut(a, "=")
		}
		if isDatabase(value) {
			for _, s := range dsnSecrets(value) {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// redactingWriter writes to w with every secret replaced by "xxxxx": the
// last guard that keeps a DSN's password out of the command's output,
// should a message from a driver or a network error ever quote it. It
// scrubs each Write on its own; the command writes a message in one.
type redactingWriter struct {
	w       io.Writer
	secrets [][]byte
}

func newRedactingWriter(w io.Writer, secrets []string) io.Writer {
	if len(secrets) == 0 {
		return w
	}
	r := &redactingWriter{w: w}
	for _, s := range secrets {
		r.secrets = append(r.secrets, []byte(s))
	}
	return r
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	out := p
	for _, s := range r.secrets {
		if bytes.Contains(out, s) {
			out = bytes.ReplaceAll(out, s, []byte("xxxxx"))
		}
	}
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// openDatabase opens the PostgreSQL store of db. Unlike a journal file,
// it takes no lock: several processes share the migration, and the store
// keeps each batch's changes apart.
func (c *cli) openDatabase(ctx context.Context, db *database) (*journal, error) {
	st, err := pgstore.Open(ctx, db.dsn(), pgstore.Options{Schema: db.schema, Migration: db.migration})
	if err != nil {
		var ve *hostednumbers.ValidationError
		if errors.As(err, &ve) {
			// Checked before connecting; pgstore never quotes the DSN.
			flags := map[string]string{"dsn": "-state", "Schema": "-schema", "Migration": "-migration"}
			problems := make([]string, len(ve.Problems))
			for i, p := range ve.Problems {
				flag, ok := flags[p.Field]
				if !ok {
					flag = "-state"
				}
				problems[i] = flag + ": " + p.Message
			}
			return nil, badCommandLine(strings.Join(problems, "; "))
		}
		return nil, fmt.Errorf("the migration's database %s: %w", db.name(), err)
	}
	return &journal{Store: st, path: db.name(), shared: true, db: db}, nil
}

// checkClaims checks -worker and -claim-ttl against the client's limits,
// as the engine will, before anything reaches the database or Twilio: a
// claim must outlast every attempt of a create.
func (c *cli) checkClaims(cfg *config, client *hostednumbers.Client) error {
	if cfg.database == nil {
		return nil
	}
	// The engine checks its options without touching the store.
	_, err := migrate.New(migrate.Options{Client: c.engineAPI(client), Store: unopened{}, Worker: cfg.worker, ClaimTTL: cfg.claimTTL})
	return claimFlagsError(err)
}

// claimFlagsError words the engine's refusal of -worker or -claim-ttl as
// a bad command line; nil if err is not one.
func claimFlagsError(err error) error {
	var ve *hostednumbers.ValidationError
	if !errors.As(err, &ve) {
		return nil // anything else is told when the engine is made
	}
	flags := map[string]string{"claim_ttl": "-claim-ttl", "worker": "-worker"}
	var problems []string
	for _, p := range ve.Problems {
		if flag, ok := flags[p.Field]; ok {
			problems = append(problems, flag+": "+strings.ReplaceAll(p.Message, "(client.limits)", "(every attempt of -attempt-timeout, and the waits between them)"))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return badCommandLine(problems...)
}

// unopened stands for the store while checkClaims checks the engine's
// options; no method of it is called.
type unopened struct{ migrate.Store }

package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
)

var _ preflight.Store = (*Store)(nil)

// checkQueries are the statements of the eligibility checks.
type checkQueries struct {
	results, pending, insertCheck, endCheck, upsertResults string
}

func newCheckQueries(s string) checkQueries {
	return checkQueries{
		results: "SELECT phone, status, raw_status, sub_status, reason, next_step, request_id FROM " + s + ".eligibility_results " +
			"WHERE migration = $1 AND phone = ANY ($2::text[])",
		pending:     "SELECT request_id, phones FROM " + s + ".eligibility_checks WHERE migration = $1 ORDER BY seq",
		insertCheck: "INSERT INTO " + s + ".eligibility_checks (migration, request_id, phones) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		endCheck:    "DELETE FROM " + s + ".eligibility_checks WHERE migration = $1 AND request_id = $2",
		upsertResults: "INSERT INTO " + s + ".eligibility_results AS r (migration, phone, status, raw_status, sub_status, reason, next_step, request_id) " +
			"SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) " +
			"ON CONFLICT (migration, phone) DO UPDATE SET status = excluded.status, raw_status = excluded.raw_status, " +
			"sub_status = excluded.sub_status, reason = excluded.reason, next_step = excluded.next_step, " +
			"request_id = excluded.request_id, updated_at = now()",
	}
}

// checkProblem says what is wrong with a check to record, or "".
func checkProblem(c *preflight.Check) string {
	if !validSID(c.RequestID, "EC") {
		return fmt.Sprintf("request ID %.40q is not EC and 32 hex digits", c.RequestID)
	}
	if len(c.PhoneNumbers) == 0 {
		return "no phone numbers"
	}
	for i, p := range c.PhoneNumbers {
		if p == "" {
			return fmt.Sprintf("phone_numbers[%d] is empty", i)
		}
		if msg := badText(p); msg != "" {
			return fmt.Sprintf("phone_numbers[%d] %s", i, msg)
		}
	}
	return ""
}

// validSID reports whether s is prefix and 32 lowercase hex digits.
func validSID(s, prefix string) bool {
	if len(s) != len(prefix)+32 || s[:len(prefix)] != prefix {
		return false
	}
	for _, c := range s[len(prefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// resultsProblem says what is wrong with results to record, or "".
func resultsProblem(results []preflight.NumberResult) string {
	for i := range results {
		r := &results[i]
		if !r.Status.Valid() || r.PhoneNumber == "" {
			return fmt.Sprintf("results[%d] has no phone number or an invalid status %.20q", i, r.Status)
		}
		for _, v := range []string{r.PhoneNumber, string(r.RawStatus), string(r.SubStatus), r.Reason, r.NextStep, r.RequestID} {
			if msg := badText(v); msg != "" {
				return fmt.Sprintf("results[%d] has a field that %s", i, msg)
			}
		}
	}
	return ""
}

// Results returns the recorded eligibility result of each of
// phoneNumbers that has one (preflight.Store): one query.
func (s *Store) Results(ctx context.Context, phoneNumbers []string) (map[string]preflight.NumberResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: migration %q: read eligibility results: %w", s.name, err)
	}
	out := make(map[string]preflight.NumberResult)
	if len(phoneNumbers) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, s.cq.results, s.name, phoneNumbers)
	if err != nil {
		return nil, fmt.Errorf("pgstore: migration %q: read eligibility results: %w", s.name, err)
	}
	var r preflight.NumberResult
	var raw, sub string
	_, err = pgx.ForEachRow(rows, []any{&r.PhoneNumber, &r.Status, &raw, &sub, &r.Reason, &r.NextStep, &r.RequestID}, func() error {
		r.RawStatus, r.SubStatus = hostednumbers.EligibilityStatus(raw), hostednumbers.EligibilitySubStatus(sub)
		out[r.PhoneNumber] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: migration %q: read eligibility results: %w", s.name, err)
	}
	return out, nil
}

// PendingChecks returns the eligibility checks recorded and not ended,
// oldest first (preflight.Store).
func (s *Store) PendingChecks(ctx context.Context) ([]preflight.Check, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: migration %q: read pending eligibility checks: %w", s.name, err)
	}
	rows, err := s.pool.Query(ctx, s.cq.pending, s.name)
	if err != nil {
		return nil, fmt.Errorf("pgstore: migration %q: read pending eligibility checks: %w", s.name, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (preflight.Check, error) {
		var c preflight.Check
		err := row.Scan(&c.RequestID, &c.PhoneNumbers)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: migration %q: read pending eligibility checks: %w", s.name, err)
	}
	return out, nil
}

// RecordCheck records a check created, in one INSERT (preflight.Store).
// It refuses a request ID that is not EC and 32 hex digits or is already
// pending, a check without numbers, and a store without its migration
// (migrate.ErrNoMigration: the checks are the migration's), recording
// nothing then.
func (s *Store) RecordCheck(ctx context.Context, check preflight.Check) error {
	if msg := checkProblem(&check); msg != "" {
		return fmt.Errorf("pgstore: migration %q: record eligibility check: %s", s.name, msg)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: migration %q: record eligibility check %s: %w", s.name, check.RequestID, err)
	}
	tag, err := s.pool.Exec(ctx, s.cq.insertCheck, s.name, check.RequestID, check.PhoneNumbers)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23503": // foreign_key_violation: no such migration
		return fmt.Errorf("pgstore: migration %q: record eligibility check %s: %w", s.name, check.RequestID, migrate.ErrNoMigration)
	case err != nil:
		return fmt.Errorf("pgstore: migration %q: record eligibility check %s: %w", s.name, check.RequestID, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("pgstore: migration %q: record eligibility check %s: already pending", s.name, check.RequestID)
	}
	return nil
}

// RecordResults ends the pending check requestID and records its results
// in one transaction (preflight.Store): the check's row is deleted, and
// each number's result inserted or replaced. Of two workers ending one
// check at once, one records and the other is refused. It refuses a
// check that is not pending and a result without a phone number or with
// an invalid status, recording nothing then.
func (s *Store) RecordResults(ctx context.Context, requestID string, results []preflight.NumberResult) error {
	if msg := resultsProblem(results); msg != "" {
		return fmt.Errorf("pgstore: migration %q: record results of eligibility check %.40q: %s", s.name, requestID, msg)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: migration %q: record results of eligibility check %.40q: %w", s.name, requestID, err)
	}
	// One row per number, the last result given winning, as it would if
	// they were recorded one after the other.
	at := make(map[string]int, len(results))
	var cols [7][]string
	for i := range results {
		r := &results[i]
		row := [7]string{r.PhoneNumber, string(r.Status), string(r.RawStatus), string(r.SubStatus), r.Reason, r.NextStep, r.RequestID}
		if k, dup := at[r.PhoneNumber]; dup {
			for c := range cols {
				cols[c][k] = row[c]
			}
			continue
		}
		at[r.PhoneNumber] = len(cols[0])
		for c := range cols {
			cols[c] = append(cols[c], row[c])
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, s.cq.endCheck, s.name, requestID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errNotPending
		}
		if len(cols[0]) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, s.cq.upsertResults, s.name, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])
		return err
	})
	if errors.Is(err, errNotPending) {
		return fmt.Errorf("pgstore: migration %q: record results of eligibility check %.40q: no such pending check", s.name, requestID)
	}
	if err != nil {
		return fmt.Errorf("pgstore: migration %q: record results of eligibility check %s: %w", s.name, requestID, err)
	}
	return nil
}

// errNotPending rolls back RecordResults of a check that is not pending.
var errNotPending = errors.New("no such pending check")

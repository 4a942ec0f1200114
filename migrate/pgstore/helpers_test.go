package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"iter"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// dsnVar names the database the tests use.
const dsnVar = "HOSTEDNUMBERS_PG_DSN"

// dsn returns the test database's address, or skips the test.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv(dsnVar)
	if d == "" {
		t.Skip(dsnVar + " is not set: these tests need a PostgreSQL database; " +
			"`bash .ci/postgres.sh` starts a throwaway one on 127.0.0.1 and runs them " +
			"(or set " + dsnVar + "=postgres://user:password@127.0.0.1:5432/db?sslmode=disable)")
	}
	return d
}

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// freshSchema returns the name of a schema no other test uses, dropped
// when the test ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hn_test_" + hex.EncodeToString(b[:])
	d := dsn(t)
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

// open opens a store on schema (a fresh one if empty), closed when the
// test ends.
func open(t testing.TB, o pgstore.Options) *pgstore.Store {
	t.Helper()
	if o.Schema == "" {
		o.Schema = freshSchema(t)
	}
	st, err := pgstore.Open(testCtx(t), dsn(t), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// pool returns a pool on the test database, closed when the test ends.
func pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(testCtx(t), dsn(t))
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// numbers yields n numbers from first, each with settings and its line.
func numbers(first, n int) iter.Seq2[migrate.NumberState, error] {
	return func(yield func(migrate.NumberState, error) bool) {
		for i := range n {
			ns := migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: phone(first + i)}, Line: first + i + 2}
			ns.Number.FriendlyName = fmt.Sprintf("Line %d", first+i)
			if !yield(ns, nil) {
				return
			}
		}
	}
}

func phone(i int) string { return fmt.Sprintf("+1415%07d", 5550000+i) }

func testMeta(size int) migrate.Meta {
	return migrate.Meta{Input: migrate.Input{Name: "in.csv", SHA256: "ab"}, BatchSize: size,
		Contact: migrate.Contact{Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef"}}
}

// started opens a store on a fresh schema with n numbers in batches of
// size.
func started(t testing.TB, n, size int) *pgstore.Store {
	t.Helper()
	st := open(t, pgstore.Options{})
	require.NoError(t, st.Start(testCtx(t), testMeta(size), migrate.Batches(numbers(0, n), size)))
	return st
}

// batchesThenFail yields good, then err.
func batchesThenFail(good [][]migrate.NumberState, err error) iter.Seq2[[]migrate.NumberState, error] {
	return func(yield func([]migrate.NumberState, error) bool) {
		for _, b := range good {
			if !yield(b, nil) {
				return
			}
		}
		yield(nil, err)
	}
}

func collect(t *testing.T, seq iter.Seq2[migrate.NumberState, error]) []migrate.NumberState {
	t.Helper()
	var out []migrate.NumberState
	for n, err := range seq {
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

package pgstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
	"github.com/hostednumbers/hostednumbers-go/migrate/storetest"
)

// TestContract runs the migrate.Store contract on the PostgreSQL store,
// each subtest on a fresh schema.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) migrate.Store { return open(t, pgstore.Options{}) })
}

// TestClaimsContract runs the migrate.ClaimStore contract on the
// PostgreSQL store, on the suite's clock (Options.Clock).
func TestClaimsContract(t *testing.T) {
	storetest.RunClaims(t, func(t *testing.T, now func() time.Time) migrate.ClaimStore {
		return open(t, pgstore.Options{Clock: now})
	})
}

// TestChecksContract runs the preflight.Store contract on the PostgreSQL
// store: the eligibility checks of a migration, each subtest on a fresh
// schema with a migration started.
func TestChecksContract(t *testing.T) {
	storetest.RunChecks(t, func(t *testing.T) preflight.Store {
		st := open(t, pgstore.Options{})
		require.NoError(t, st.Start(testCtx(t), testMeta(2), migrate.Batches(numbers(0, 3), 2)))
		return st
	})
}

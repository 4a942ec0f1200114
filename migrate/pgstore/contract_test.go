package pgstore_test

import (
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
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

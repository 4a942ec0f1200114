package pgstore_test

import (
	"testing"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/storetest"
)

// TestContract runs the migrate.Store contract on the PostgreSQL store,
// each subtest on a fresh schema.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) migrate.Store { return open(t, pgstore.Options{}) })
}

package logstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/storetest"
)

// The file store follows the Store contract.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) migrate.Store {
		st, err := logstore.Open(filepath.Join(t.TempDir(), "m.log"), logstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// And the contract of claims, on the suite's clock.
func TestClaimsContract(t *testing.T) {
	storetest.RunClaims(t, func(t *testing.T, now func() time.Time) migrate.ClaimStore {
		st, err := logstore.Open(filepath.Join(t.TempDir(), "m.log"), logstore.Options{Clock: now})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

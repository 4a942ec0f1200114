package logstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
	"github.com/hostednumbers/hostednumbers-go/migrate/preflight"
	"github.com/hostednumbers/hostednumbers-go/migrate/storetest"
)

// The file store keeps the eligibility checks, by the contract of
// preflight.Store.
func TestChecksContract(t *testing.T) {
	storetest.RunChecks(t, func(t *testing.T) preflight.Store {
		st, err := logstore.Open(filepath.Join(t.TempDir(), "m.log"), logstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		meta := migrate.Meta{Input: migrate.Input{Name: "in.csv", SHA256: strings.Repeat("ab", 32)}, BatchSize: 2}
		if err := st.Start(context.Background(), meta, migrate.Batches(numbers(3), 2)); err != nil {
			t.Fatal(err)
		}
		return st
	})
}

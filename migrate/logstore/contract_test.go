package logstore_test

import (
	"path/filepath"
	"testing"

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

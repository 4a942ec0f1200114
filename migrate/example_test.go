package migrate_test

import (
	"context"
	"fmt"
	"iter"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// someNumbers yields n numbers to migrate.
func someNumbers(n int) iter.Seq2[migrate.NumberState, error] {
	return func(yield func(migrate.NumberState, error) bool) {
		for i := range n {
			if !yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: fmt.Sprintf("+1415555%04d", 100+i)}}, nil) {
				return
			}
		}
	}
}

func Example() {
	srv := hostednumberstest.NewServer() // Twilio, for the example
	defer srv.Close()
	client := migrate.ClientAPI(srv.Client()) // the client's services and call limits
	dir, err := os.MkdirTemp("", "migrate-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx := context.Background()
	numbers := someNumbers(2500)

	store, err := logstore.Open(filepath.Join(dir, "migration.log"), logstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	meta := migrate.Meta{BatchSize: 1000, App: []byte(`{"service":"my-service"}`),
		Contact: migrate.Contact{Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef"}}
	if err := store.Start(ctx, meta, migrate.Batches(numbers, meta.BatchSize)); err != nil {
		log.Fatal(err)
	}
	m, err := migrate.New(migrate.Options{Client: client, Store: store, Wait: true, Poll: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.Submit(ctx); err != nil { // batches in doubt are settled, never sent twice
		log.Fatal(err)
	}
	progress, err := m.Follow(ctx) // every number, by its hosted number order
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(progress.Batches, "batches:", progress.Counts)
	// Output:
	// 3 batches: map[completed:2500]
}

package pgstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// BenchmarkStart records migrations of 100 000 numbers in batches of
// 1000: each one transaction, with a COPY of each batch's numbers.
func BenchmarkStart(b *testing.B) {
	const n, size = 100_000, 1000
	ctx := context.Background()
	schema := freshSchema(b)
	i := 0
	for b.Loop() {
		i++
		st := open(b, pgstore.Options{Schema: schema, Migration: fmt.Sprint("m", i)})
		if err := st.Start(ctx, testMeta(size), migrate.Batches(numbers(0, n), size)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(i)/n, "µs/number")
}

// BenchmarkSaveBatch saves a batch of 1000 numbers: its state alone (a
// step such as "sending"), and with every number changed (a create's
// answer, a refresh that moved them all).
func BenchmarkSaveBatch(b *testing.B) {
	const size = 1000
	ctx := context.Background()
	st := started(b, 10*size, size)
	ns, err := st.Numbers(ctx, 5)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		changed []migrate.NumberState
	}{{"state", nil}, {"1000-numbers", ns}} {
		b.Run(bc.name, func(b *testing.B) {
			batch, err := st.Batch(ctx, 5)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				for k := range bc.changed {
					bc.changed[k].Status = fmt.Sprint("status-", i)
				}
				batch.State = migrate.StateSending
				if err := st.SaveBatch(ctx, &batch, bc.changed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package migrate_test

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// eligibilityCheck is a Checker that runs a bulk eligibility check of a
// batch's numbers and waits for it; it refuses nothing (the fake finds
// every number eligible). Its checks are independent: it is a
// ConcurrentChecker.
type eligibilityCheck struct{ api hostednumbers.EligibilityAPI }

func (c eligibilityCheck) CheckConcurrently() bool { return true }

func (c eligibilityCheck) Check(ctx context.Context, _ int, numbers []hostednumbers.Number) (map[string]string, error) {
	p := &hostednumbers.EligibilityParams{}
	for _, n := range numbers {
		p.PhoneNumbers = append(p.PhoneNumbers, hostednumbers.EligibilityNumber{PhoneNumber: n.PhoneNumber})
	}
	b, err := c.api.CreateBulk(ctx, p)
	if err != nil {
		return nil, err
	}
	if _, err := c.api.WaitBulk(ctx, b.RequestID, nil); err != nil {
		return nil, err
	}
	return nil, nil
}

// BenchmarkSubmitPipeline submits 20 batches of 250 numbers, each
// checked for eligibility first, to the fake behind a round trip of
// 100ms with 2-second processing stages (a check takes two), in real
// time, and reports the time against the latency bound: one check's
// duration plus one round trip per create. The pipeline's target is at
// most 1.5 times the bound (x-bound ≤ 1.5); concurrency=1 is the engine
// one batch at a time, for comparison; /claims is the engine working
// under claims (the file store's records of them synced), as it does on
// a store several workers share.
func BenchmarkSubmitPipeline(b *testing.B) {
	const (
		batches = 20
		size    = 250
		rtt     = 100 * time.Millisecond
		stage   = 2 * time.Second
	)
	cases := []struct {
		concurrency int
		claims      bool
	}{{migrate.DefaultConcurrency, false}, {migrate.DefaultConcurrency, true}, {1, false}}
	for _, c := range cases {
		concurrency := c.concurrency
		name := fmt.Sprintf("concurrency=%d", concurrency)
		if c.claims {
			name += "/claims"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				srv := hostednumberstest.NewServer(hostednumberstest.WithStageDuration(stage))
				srv.InjectFault(hostednumberstest.Fault{Latency: rtt, Count: 1 << 30})
				client := srv.Client()
				check := eligibilityCheck{client.Eligibility}
				// One check alone: the first term of the bound.
				start := time.Now()
				if _, err := check.Check(ctx, 0, []hostednumbers.Number{{PhoneNumber: "+14155559999"}}); err != nil {
					b.Fatal(err)
				}
				bound := time.Since(start) + batches*rtt
				st, err := startStore(ctx, b.TempDir(), batches*size, size)
				if err != nil {
					b.Fatal(err)
				}
				var store migrate.Store = st
				if c.claims {
					// The file store without its proof of a single
					// owner: the engine claims every batch, each claim,
					// renewal and release a synced record.
					store = claimsOnly{st}
				}
				m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(client), Store: store, Check: check, Concurrency: concurrency})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start = time.Now()
				res, err := m.Submit(ctx)
				took := time.Since(start)
				b.StopTimer()
				if err != nil || res.Submitted != batches {
					b.Fatalf("submitted %v: %v", res, err)
				}
				b.ReportMetric(took.Seconds(), "s/submit")
				b.ReportMetric(bound.Seconds(), "s-bound")
				b.ReportMetric(took.Seconds()/bound.Seconds(), "x-bound")
				if concurrency > 1 && took > bound*3/2 {
					b.Errorf("submitting took %v, over 1.5 times the latency bound %v", took, bound)
				}
				srv.Close()
				_ = st.Close()
				cancel()
				b.StartTimer()
			}
		})
	}
}

// claimsOnly is a ClaimStore that hides whether it is Exclusive.
type claimsOnly struct{ migrate.ClaimStore }

// startStore records a migration of n numbers in batches of size in a
// log store under dir.
func startStore(ctx context.Context, dir string, n, size int) (*logstore.Store, error) {
	st, err := logstore.Open(filepath.Join(dir, "m.log"), logstore.Options{})
	if err != nil {
		return nil, err
	}
	numbers := func(yield func(migrate.NumberState, error) bool) {
		for i := range n {
			if !yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: fmt.Sprintf("+1415%07d", 1000000+i)}}, nil) {
				return
			}
		}
	}
	return st, st.Start(ctx, migrate.Meta{BatchSize: size,
		Contact: migrate.Contact{Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef"}},
		migrate.Batches(iter.Seq2[migrate.NumberState, error](numbers), size))
}

package migrate

import (
	"context"
	"iter"
	"slices"
	"strings"

	"github.com/hostednumbers/hostednumbers-go"
)

// ReportStatuses returns the statuses of a migration's report (what
// NumberStatus says of each number) in the order a report lists them: not
// yet at Twilio, then the way an order moves through hosting, the ones
// that need a person last. A status not in it (one Twilio adds later)
// comes after them.
func ReportStatuses() []string {
	return []string{
		StatusNotSubmitted, StatusWithdrawn, StatusUnknown, StatusSubmitted,
		string(hostednumbers.OrderStatusTwilioProcessing),
		string(hostednumbers.OrderStatusReceived),
		string(hostednumbers.OrderStatusPendingVerification),
		string(hostednumbers.OrderStatusVerified),
		string(hostednumbers.OrderStatusPendingLOA),
		string(hostednumbers.OrderStatusCarrierProcessing),
		string(hostednumbers.OrderStatusTesting),
		string(hostednumbers.OrderStatusCompleted),
		string(hostednumbers.OrderStatusFailed),
		string(hostednumbers.OrderStatusActionRequired),
		StatusCheckFailed, StatusRejected,
	}
}

// CompareReportStatus orders report statuses as ReportStatuses lists them,
// and any others after them, by name.
func CompareReportStatus(a, b string) int {
	order := ReportStatuses()
	ia, ib := slices.Index(order, a), slices.Index(order, b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia - ib
	case ia >= 0:
		return -1
	case ib >= 0:
		return 1
	}
	return strings.Compare(a, b)
}

// StatusCount is how many numbers of a migration are in one report
// status.
type StatusCount struct {
	Status  string
	Numbers int
}

// CountsInOrder returns the counts of counts that are above zero, in the
// order of CompareReportStatus.
func CountsInOrder(counts map[string]int) []StatusCount {
	out := make([]StatusCount, 0, len(counts))
	for s, n := range counts {
		if n > 0 {
			out = append(out, StatusCount{Status: s, Numbers: n})
		}
	}
	slices.SortFunc(out, func(a, b StatusCount) int { return CompareReportStatus(a.Status, b.Status) })
	return out
}

// ReportRow is one number of a migration's report: its batch, what the
// store holds of it, and its report status (NumberStatus).
type ReportRow struct {
	Batch  int
	Number NumberState
	Status string
}

// ReportRows yields every number of the migration in store, grouped by
// report status in the order of CompareReportStatus, and within a status
// by batch and position. It reads the store once per status present and
// holds one batch at a time, so that a report of a million numbers stays
// small; a batch whose counts say it has none of a status is skipped
// without reading its numbers. An error ends it.
func ReportRows(ctx context.Context, store Store) iter.Seq2[ReportRow, error] {
	return func(yield func(ReportRow, error) bool) {
		p, err := Summarize(ctx, store)
		if err != nil {
			yield(ReportRow{}, err)
			return
		}
		meta, err := store.Meta(ctx)
		if err != nil {
			yield(ReportRow{}, err)
			return
		}
		for _, sc := range CountsInOrder(p.Counts) {
			for i := 1; i <= meta.Batches; i++ {
				b, err := store.Batch(ctx, i)
				if err != nil {
					yield(ReportRow{}, err)
					return
				}
				if c, ok := b.Counts[sc.Status]; b.Counts != nil && (!ok || c == 0) {
					continue
				}
				numbers, err := store.Numbers(ctx, i)
				if err != nil {
					yield(ReportRow{}, err)
					return
				}
				for k := range numbers {
					if s := NumberStatus(b.State, &numbers[k]); s == sc.Status {
						if !yield(ReportRow{Batch: i, Number: numbers[k], Status: s}, nil) {
							return
						}
					}
				}
			}
		}
	}
}

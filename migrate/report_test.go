package migrate_test

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
)

func TestCompareReportStatusAndCountsInOrder(t *testing.T) {
	assert.Negative(t, migrate.CompareReportStatus(migrate.StatusNotSubmitted, "completed"))
	assert.Negative(t, migrate.CompareReportStatus("completed", "failed"))
	assert.Negative(t, migrate.CompareReportStatus("failed", migrate.StatusRejected))
	assert.Negative(t, migrate.CompareReportStatus(migrate.StatusRejected, "new-status"), "an unknown status comes last")
	assert.Negative(t, migrate.CompareReportStatus("a-new", "b-new"), "unknown ones by name")
	assert.Zero(t, migrate.CompareReportStatus("completed", "completed"))

	got := migrate.CountsInOrder(map[string]int{"failed": 2, "completed": 5, migrate.StatusNotSubmitted: 1, "zero": 0})
	assert.Equal(t, []migrate.StatusCount{{Status: migrate.StatusNotSubmitted, Numbers: 1}, {Status: "completed", Numbers: 5}, {Status: "failed", Numbers: 2}}, got)

	order := migrate.ReportStatuses()
	order[0] = "changed"
	assert.Equal(t, migrate.StatusNotSubmitted, migrate.ReportStatuses()[0], "each call returns its own list")
}

// The rows come grouped by status in report order, each status by batch,
// with what the store holds of each number.
func TestReportRowsGroupedByStatus(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, 5, 2) // batches of 2, 2, 1
	b, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	ns, err := st.Numbers(ctx, 2)
	require.NoError(t, err)
	b.State, b.Counts = migrate.StateAccepted, map[string]int{"failed": 1, "completed": 1}
	b.BulkHostingSIDs = []string{"BH0123456789abcdef0123456789abcdef"}
	ns[0].BulkHostingSID, ns[0].Status, ns[0].HostingOrderSID = b.BulkHostingSIDs[0], "failed", "HR0123456789abcdef0123456789abcde0"
	ns[1].BulkHostingSID, ns[1].Status, ns[1].HostingOrderSID = b.BulkHostingSIDs[0], "completed", "HR0123456789abcdef0123456789abcde1"
	require.NoError(t, st.SaveBatch(ctx, &b, ns))

	var rows []migrate.ReportRow
	for r, err := range migrate.ReportRows(ctx, st) {
		require.NoError(t, err)
		rows = append(rows, r)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Status+" "+r.Number.PhoneNumber())
	}
	require.Len(t, rows, 5)
	assert.Equal(t, []int{1, 1, 3, 2, 2}, []int{rows[0].Batch, rows[1].Batch, rows[2].Batch, rows[3].Batch, rows[4].Batch}, "%q", got)
	assert.Equal(t, []string{migrate.StatusNotSubmitted, migrate.StatusNotSubmitted, migrate.StatusNotSubmitted, "completed", "failed"},
		[]string{rows[0].Status, rows[1].Status, rows[2].Status, rows[3].Status, rows[4].Status})
	assert.Equal(t, "HR0123456789abcdef0123456789abcde0", rows[4].Number.HostingOrderSID)

	n := 0
	for _, err := range migrate.ReportRows(ctx, st) {
		require.NoError(t, err)
		n++
		break
	}
	assert.Equal(t, 1, n, "a stop stops it")
}

func TestReportRowsError(t *testing.T) {
	boom := errors.New("boom")
	for _, err := range migrate.ReportRows(context.Background(), failingStore{boom}) {
		require.ErrorIs(t, err, boom)
		return
	}
	t.Fatal("no error yielded")
}

// failingStore fails every read.
type failingStore struct{ err error }

func (s failingStore) Meta(context.Context) (migrate.Meta, error) { return migrate.Meta{}, s.err }
func (s failingStore) Batch(context.Context, int) (migrate.Batch, error) {
	return migrate.Batch{}, s.err
}
func (s failingStore) Numbers(context.Context, int) ([]migrate.NumberState, error) {
	return nil, s.err
}
func (s failingStore) Start(context.Context, migrate.Meta, iter.Seq2[[]migrate.NumberState, error]) error {
	return s.err
}
func (s failingStore) SaveBatch(context.Context, *migrate.Batch, []migrate.NumberState) error {
	return s.err
}
func (s failingStore) AddBatches(context.Context, migrate.Meta, iter.Seq2[[]migrate.NumberState, error]) error {
	return s.err
}
func (s failingStore) Close() error { return nil }

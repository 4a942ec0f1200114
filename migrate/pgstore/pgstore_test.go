package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

func TestStartSaveAndReopen(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 5, 2)
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, meta.Batches)
	assert.Equal(t, 5, meta.Input.Numbers)
	assert.Equal(t, "in.csv", meta.Input.Name)
	assert.Equal(t, "owner@example.com", meta.Contact.Email)

	b, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, migrate.Batch{Index: 2, State: migrate.StatePlanned, Size: 2}, b)
	ns, err := st.Numbers(ctx, 2)
	require.NoError(t, err)
	require.Len(t, ns, 2)
	assert.Equal(t, []string{phone(2), phone(3)}, []string{ns[0].PhoneNumber(), ns[1].PhoneNumber()}, "in input order")
	assert.Equal(t, 5, ns[1].Line)

	b.State = migrate.StateAccepted
	b.BulkHostingSIDs = []string{"BH0123456789abcdef0123456789abcdef"}
	b.Counts = map[string]int{"failed": 1, migrate.StatusSubmitted: 1}
	reason := "not eligible"
	ns[1].Status, ns[1].FailureReason, ns[1].HostingOrderSID = "failed", &reason, "HR0123456789abcdef0123456789abcdef"
	require.NoError(t, st.SaveBatch(ctx, &b, ns[1:]))
	assert.Equal(t, int64(1), b.Version)

	// A save over an older version is refused and records nothing.
	stale := b
	stale.Version = 0
	stale.State = migrate.StateRejected
	changed := ns[0]
	changed.Status = "completed"
	assert.ErrorIs(t, st.SaveBatch(ctx, &stale, []migrate.NumberState{changed}), migrate.ErrConflict)
	assert.Equal(t, int64(0), stale.Version, "a refused save leaves the version it was given")

	// Another store on the same schema, as another process would open it.
	other := open(t, pgstore.Options{Schema: st.Schema()})
	got, err := other.Batch(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, migrate.StateAccepted, got.State)
	assert.Equal(t, int64(1), got.Version)
	assert.Equal(t, b.BulkHostingSIDs, got.BulkHostingSIDs)
	assert.Equal(t, b.Counts, got.Counts)
	gotNs, err := other.Numbers(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "Line 3", gotNs[1].Number.FriendlyName, "the settings are kept")
	assert.Equal(t, 5, gotNs[1].Line)
	assert.Equal(t, "failed", gotNs[1].Status)
	require.NotNil(t, gotNs[1].FailureReason)
	assert.Equal(t, reason, *gotNs[1].FailureReason)
	assert.Empty(t, gotNs[0].Status, "the refused save recorded nothing")
	assert.Equal(t, ns, gotNs)
	b1, err := other.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, migrate.StatePlanned, b1.State, "other batches are untouched")

	assert.ErrorIs(t, other.Start(ctx, testMeta(1), migrate.Batches(numbers(100, 1), 1)), migrate.ErrExists)
	meta2, err := other.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, meta, meta2, "a refused Start changes nothing")
}

// What the store reads back is what it was given: every field of a
// number's state, and its settings byte for byte (json, not jsonb, which
// would reorder members, rewrite 1e2 as 100 and refuse \u0000).
func TestNumbersReadBackExactly(t *testing.T) {
	ctx := testCtx(t)
	st := open(t, pgstore.Options{})
	var n migrate.NumberState
	require.NoError(t, json.Unmarshal([]byte(`{"number":{"phone_number":"+14155550100","friendly_name":"Caf\u00e9 \u0000 line",
		"z_extra":{"b":1e2,"a":[1.50,"x"]},"a_extra":true},"line":7}`), &n))
	require.NotEmpty(t, n.Number.Extra)
	want, err := n.Number.MarshalJSON()
	require.NoError(t, err)
	require.NoError(t, st.Start(ctx, testMeta(10), migrate.Batches(func(yield func(migrate.NumberState, error) bool) { yield(n, nil) }, 10)))

	ns, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	got, err := ns[0].Number.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Equal(t, 7, ns[0].Line)

	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	s := migrate.NumberState{Number: n.Number, BulkHostingSID: "BH1", HostingOrderSID: "HR1", Status: "action-required",
		FailureReason: ptr("bad \u0000 doc"), NextStep: ptr("sign"), SigningDocumentSID: "PX1", LOAStatus: "signed",
		Withdrawn: true, Resubmit: true, Checked: ns[0].Checked.Add(1234567891)}
	s.Line = 7
	require.NoError(t, st.SaveBatch(ctx, &b, []migrate.NumberState{s}))
	ns, err = st.Numbers(ctx, 1)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	assert.True(t, s.Checked.Equal(ns[0].Checked))
	ns[0].Checked = s.Checked
	assert.Equal(t, s, ns[0])
}

func ptr(s string) *string { return &s }

// A save changes the numbers' states, never their settings or lines; of
// two changes of one number, the last counts.
func TestSaveKeepsSettings(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 4, 4)
	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	ns, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	first, second := ns[2], ns[2]
	first.Status, second.Status = "in-progress", "completed"
	second.Number.FriendlyName, second.Line = "changed", 99
	require.NoError(t, st.SaveBatch(ctx, &b, []migrate.NumberState{first, second}))
	got, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "completed", got[2].Status, "the last change counts")
	assert.Equal(t, "Line 2", got[2].Number.FriendlyName)
	assert.Equal(t, 4, got[2].Line)
	for _, i := range []int{0, 1, 3} {
		assert.Equal(t, ns[i], got[i], "number %d is untouched", i)
	}
	var state string
	require.NoError(t, pool(t).QueryRow(ctx, "SELECT state::text FROM "+pgx.Identifier{st.Schema(), "numbers"}.Sanitize()+
		" WHERE phone = $1", phone(2)).Scan(&state))
	assert.JSONEq(t, `{"status":"completed"}`, state, "the state column holds the state alone")
}

// New uses the caller's pool, which Close leaves open.
func TestNewOnTheCallersPool(t *testing.T) {
	ctx := testCtx(t)
	p := pool(t)
	st, err := pgstore.New(ctx, p, pgstore.Options{Schema: freshSchema(t)})
	require.NoError(t, err)
	assert.Equal(t, pgstore.DefaultMigration, st.Migration())
	require.NoError(t, st.Start(ctx, testMeta(2), migrate.Batches(numbers(0, 2), 2)))
	require.NoError(t, st.Close())
	require.NoError(t, p.Ping(ctx), "the pool is the caller's")
	again, err := pgstore.New(ctx, p, pgstore.Options{Schema: st.Schema()})
	require.NoError(t, err)
	meta, err := again.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, meta.Batches)
}

// A number that is not of the batch is refused, and the whole save with
// it: the batch's state and version, and the batch's own numbers.
func TestSaveRefusesNumbersNotOfTheBatch(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 4, 2)
	b, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	own, err := st.Numbers(ctx, 2)
	require.NoError(t, err)
	ofBatch1, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	own[0].Status = "completed"
	stranger := migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: "+14155559999"}, Status: "completed"}
	b.State = migrate.StateAccepted
	err = st.SaveBatch(ctx, &b, []migrate.NumberState{own[0], ofBatch1[1], stranger})
	var nib *pgstore.NotInBatchError
	require.ErrorAs(t, err, &nib)
	assert.Equal(t, 2, nib.Batch)
	assert.Equal(t, []string{phone(1), "+14155559999"}, nib.Numbers, "in the order given")
	assert.Contains(t, err.Error(), phone(1))
	assert.Equal(t, int64(0), b.Version)

	got, err := st.Batch(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, migrate.StatePlanned, got.State)
	assert.Equal(t, int64(0), got.Version)
	ns, err := st.Numbers(ctx, 2)
	require.NoError(t, err)
	assert.Empty(t, ns[0].Status, "nothing of the refused save is recorded")
	ns1, err := st.Numbers(ctx, 1)
	require.NoError(t, err)
	assert.Empty(t, ns1[1].Status)
	require.NoError(t, st.SaveBatch(ctx, &b, own[:1]), "the same save without the strangers")
}

func TestSaveRefusesAnUnknownState(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 2, 2)
	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	b.State = "done"
	require.ErrorContains(t, st.SaveBatch(ctx, &b, nil), `unknown state "done"`)
	require.Error(t, st.SaveBatch(ctx, nil, nil))
	got, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, migrate.StatePlanned, got.State)
}

func TestNoMigration(t *testing.T) {
	ctx := testCtx(t)
	st := open(t, pgstore.Options{})
	_, err := st.Meta(ctx)
	assert.ErrorIs(t, err, migrate.ErrNoMigration)
	_, err = st.Batch(ctx, 1)
	assert.ErrorIs(t, err, migrate.ErrNoMigration)
	_, err = st.Numbers(ctx, 1)
	assert.ErrorIs(t, err, migrate.ErrNoMigration)
	assert.ErrorIs(t, st.SaveBatch(ctx, &migrate.Batch{Index: 1, State: migrate.StateSending}, nil), migrate.ErrNoMigration)
	assert.ErrorIs(t, st.AddBatches(ctx, testMeta(2), migrate.Batches(numbers(0, 2), 2)), migrate.ErrNoMigration)
	_, err = st.Meta(ctx)
	assert.ErrorIs(t, err, migrate.ErrNoMigration, "AddBatches started nothing")
}

func TestNoSuchBatch(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 3, 2)
	for _, i := range []int{0, -1, 3, 1 << 30} {
		_, err := st.Batch(ctx, i)
		require.Error(t, err, "batch %d", i)
		assert.NotErrorIs(t, err, migrate.ErrNoMigration)
		assert.Contains(t, err.Error(), "has no batch")
		_, err = st.Numbers(ctx, i)
		assert.ErrorContains(t, err, "has no batch")
		err = st.SaveBatch(ctx, &migrate.Batch{Index: i, State: migrate.StateSending}, nil)
		assert.ErrorContains(t, err, "has no batch")
		assert.NotErrorIs(t, err, migrate.ErrConflict)
	}
}

// Start records all of its batches or none.
func TestStartIsAllOrNothing(t *testing.T) {
	ctx := testCtx(t)
	st := open(t, pgstore.Options{})
	boom := errors.New("the input cannot be read")
	good := collect(t, numbers(0, 4))
	err := st.Start(ctx, testMeta(2), batchesThenFail([][]migrate.NumberState{good[:2], good[2:]}, boom))
	require.ErrorIs(t, err, boom)
	_, err = st.Meta(ctx)
	require.ErrorIs(t, err, migrate.ErrNoMigration, "nothing was recorded")
	_, err = st.Batch(ctx, 1)
	require.ErrorIs(t, err, migrate.ErrNoMigration)

	// A number in two batches: refused, nothing recorded.
	dup := []migrate.NumberState{good[0], good[1]}
	err = st.Start(ctx, testMeta(2), func(func([]migrate.NumberState, error) bool) {}) // an empty migration is one
	require.NoError(t, err)
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, meta.Batches)

	other := open(t, pgstore.Options{Schema: st.Schema(), Migration: "second"})
	err = other.Start(ctx, testMeta(2), func(yield func([]migrate.NumberState, error) bool) {
		_ = yield(dup, nil) && yield(good[1:2], nil)
	})
	var de *pgstore.DuplicateError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 2, de.Batch)
	assert.Contains(t, err.Error(), phone(1))
	_, err = other.Meta(ctx)
	require.ErrorIs(t, err, migrate.ErrNoMigration)

	require.NoError(t, other.Start(ctx, testMeta(2), migrate.Batches(numbers(0, 4), 2)), "a clean start after the failed ones")
	meta, err = other.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, meta.Batches)
	assert.Equal(t, 4, meta.Input.Numbers)
}

func TestAddBatches(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 5, 2)
	b, err := st.Batch(ctx, 3)
	require.NoError(t, err)
	b.State = migrate.StateSending
	require.NoError(t, st.SaveBatch(ctx, &b, nil))

	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	meta.Input = migrate.Input{Name: "in2.csv", SHA256: "cd"}
	require.NoError(t, st.AddBatches(ctx, meta, migrate.Batches(numbers(5, 3), 2)))
	got, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, got.Batches)
	assert.Equal(t, 8, got.Input.Numbers, "counted by the store when the input does not say")
	assert.Equal(t, "in2.csv", got.Input.Name)
	b4, err := st.Batch(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, migrate.Batch{Index: 4, State: migrate.StatePlanned, Size: 2}, b4)
	ns, err := st.Numbers(ctx, 5)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	assert.Equal(t, phone(7), ns[0].PhoneNumber())
	b3, err := st.Batch(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, b, b3, "the batches there are kept as they were")

	// All or nothing: a failing input, or a number the migration holds.
	boom := errors.New("boom")
	more := collect(t, numbers(20, 2))
	meta.Input.Name = "in3.csv"
	require.ErrorIs(t, st.AddBatches(ctx, meta, batchesThenFail([][]migrate.NumberState{more}, boom)), boom)
	held := append(collect(t, numbers(30, 1)), collect(t, numbers(0, 1))...)
	var de *pgstore.DuplicateError
	require.ErrorAs(t, st.AddBatches(ctx, meta, func(yield func([]migrate.NumberState, error) bool) { yield(held, nil) }), &de)
	assert.Equal(t, 6, de.Batch)
	got, err = st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, got.Batches)
	assert.Equal(t, "in2.csv", got.Input.Name)
	_, err = st.Batch(ctx, 6)
	assert.ErrorContains(t, err, "has no batch 6")

	meta.Input.Numbers = 1000
	require.NoError(t, st.AddBatches(ctx, meta, migrate.Batches(numbers(40, 1), 2)))
	got, err = st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1000, got.Input.Numbers, "the input's own count is kept")
	assert.Equal(t, 6, got.Batches)
}

// Migrations of other names on one schema are separate: one number can be
// in each.
func TestMigrationsByName(t *testing.T) {
	ctx := testCtx(t)
	a := open(t, pgstore.Options{Migration: "tenant-a"})
	b := open(t, pgstore.Options{Schema: a.Schema(), Migration: "tenant-b"})
	assert.Equal(t, "tenant-b", b.Migration())
	require.NoError(t, a.Start(ctx, testMeta(2), migrate.Batches(numbers(0, 4), 2)))
	_, err := b.Meta(ctx)
	require.ErrorIs(t, err, migrate.ErrNoMigration)
	require.NoError(t, b.Start(ctx, testMeta(3), migrate.Batches(numbers(0, 3), 3)))

	ba, err := a.Batch(ctx, 1)
	require.NoError(t, err)
	ba.State = migrate.StateSending
	require.NoError(t, a.SaveBatch(ctx, &ba, nil))
	bb, err := b.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, migrate.StatePlanned, bb.State)
	assert.Equal(t, int64(0), bb.Version)
	ma, err := a.Meta(ctx)
	require.NoError(t, err)
	mb, err := b.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 1}, []int{ma.Batches, mb.Batches})
	ns, err := b.Numbers(ctx, 1)
	require.NoError(t, err)
	assert.Len(t, ns, 3)
	_, err = b.Batch(ctx, 2)
	assert.ErrorContains(t, err, "has no batch 2")
}

// Every method stops when its context is done, and a Start cancelled
// half way records nothing.
func TestContextIsHonoured(t *testing.T) {
	ctx := testCtx(t)
	st := started(t, 4, 2)
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := st.Meta(done)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = st.Batch(done, 1)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = st.Numbers(done, 1)
	assert.ErrorIs(t, err, context.Canceled)
	b, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	b.State = migrate.StateSending
	assert.ErrorIs(t, st.SaveBatch(done, &b, nil), context.Canceled)
	assert.Equal(t, int64(0), b.Version)
	assert.ErrorIs(t, st.AddBatches(done, testMeta(2), migrate.Batches(numbers(10, 2), 2)), context.Canceled)

	other := open(t, pgstore.Options{Schema: st.Schema(), Migration: "cancelled"})
	half, stop := context.WithCancel(ctx)
	defer stop()
	all := collect(t, numbers(0, 6))
	err = other.Start(half, testMeta(2), func(yield func([]migrate.NumberState, error) bool) {
		if !yield(all[:2], nil) {
			return
		}
		stop() // as if the operator pressed ^C while the input was read
		_ = yield(all[2:4], nil) && yield(all[4:], nil)
	})
	require.ErrorIs(t, err, context.Canceled)
	_, err = other.Meta(ctx)
	require.ErrorIs(t, err, migrate.ErrNoMigration)

	got, err := st.Batch(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, migrate.StatePlanned, got.State, "the cancelled save recorded nothing")
	meta, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, meta.Batches)
	_, err = pgstore.Open(done, dsn(t), pgstore.Options{Schema: freshSchema(t)})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestOptionsAreChecked(t *testing.T) {
	// No database needed: bad options are refused before any connection.
	_, err := pgstore.Open(context.Background(), "postgres://u:secret@127.0.0.1:1/db", pgstore.Options{
		Schema: strings.Repeat("s", 64), Migration: "a\x00b"})
	var ve *hostednumbers.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 2)
	assert.Equal(t, "Schema", ve.Problems[0].Field)
	assert.Equal(t, "Migration", ve.Problems[1].Field)
	_, err = pgstore.Open(context.Background(), "postgres://u:secret@127.0.0.1:1/db", pgstore.Options{Schema: "\xff"})
	require.ErrorAs(t, err, &ve)
	_, err = pgstore.Open(context.Background(), "postgres://u:secret@127.0.0.1:1/db", pgstore.Options{Migration: strings.Repeat("é", 201)})
	require.ErrorAs(t, err, &ve)
	_, err = pgstore.New(context.Background(), nil, pgstore.Options{})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "pool", ve.Problems[0].Field)
}

// A password in the data source name never appears in an error, even one
// pgx cannot parse (whose own message would quote it).
func TestErrorsDoNotRepeatThePassword(t *testing.T) {
	for _, d := range []string{
		"postgres://u:s3cr%zzet@127.0.0.1:1/db",
		"postgres://u:s3cr%zzet@127.0.0.1:1/db?sslmode=bogus",
		"host=127.0.0.1 password=s3cr%zzet port=notaport",
	} {
		_, err := pgstore.Open(context.Background(), d, pgstore.Options{})
		require.Error(t, err, d)
		assert.NotContains(t, err.Error(), "s3cr")
		assert.NotContains(t, err.Error(), "%zz", "not even the part pgx cannot parse")
		assert.Contains(t, err.Error(), "dsn: cannot be parsed")
		var ve *hostednumbers.ValidationError
		assert.ErrorAs(t, err, &ve)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	_, err := pgstore.Open(ctx, "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=5", pgstore.Options{})
	require.Error(t, err, "nothing listens on port 1")
	assert.NotContains(t, err.Error(), "s3cret")
}

// A wrong password, against the real server.
func TestWrongPasswordIsNotRepeated(t *testing.T) {
	d := dsn(t)
	cfgURL, ok := strings.CutPrefix(d, "postgres://")
	if !ok || !strings.Contains(cfgURL, "@") {
		t.Skip(dsnVar + " is not a postgres:// URL with a user")
	}
	user, rest, _ := strings.Cut(cfgURL, "@")
	name, _, _ := strings.Cut(user, ":")
	st, err := pgstore.Open(testCtx(t), "postgres://"+name+":Wr0ngPassw0rd@"+rest, pgstore.Options{Schema: freshSchema(t)})
	if err == nil {
		_ = st.Close()
		t.Skip("the server does not check passwords")
	}
	assert.NotContains(t, err.Error(), "Wr0ngPassw0rd")
}

//go:build linux

package benchmarks

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// storeNumbers is the size of BenchmarkStore's migration: CI runs the
// default, the figures in docs/engine.md come from -store-numbers=100000.
var storeNumbers = flag.Int("store-numbers", 10000, "numbers in BenchmarkStore's migration (a multiple of 1000)")

// BenchmarkStore runs the writes of a migration of -store-numbers numbers in
// batches of 1000 (the plan; each batch sending, accepted, then three
// refreshes that change every number) against the default store, an
// append-only log (migrate/logstore), and against bbolt, an embedded
// pure-Go B+tree database, through the same migrate.Store interface and
// with the same durability (a sync before each save returns). It reports
// the bytes written (write(2) calls, from /proc/self/io), the final file
// size, and the time per save.
func BenchmarkStore(b *testing.B) {
	n, size := *storeNumbers, 1000
	for _, impl := range []struct {
		name string
		open func(path string) (migrate.Store, func() int64, error)
	}{
		{"log", func(path string) (migrate.Store, func() int64, error) {
			st, err := logstore.Open(path, logstore.Options{})
			if err != nil {
				return nil, nil, err
			}
			return st, st.Size, nil
		}},
		{"bbolt", func(path string) (migrate.Store, func() int64, error) {
			st, err := openBolt(path)
			if err != nil {
				return nil, nil, err
			}
			return st, func() int64 {
				fi, err := os.Stat(path)
				if err != nil {
					return 0
				}
				return fi.Size()
			}, nil
		}},
	} {
		b.Run(impl.name, func(b *testing.B) {
			for range b.N {
				path := filepath.Join(b.TempDir(), "store")
				st, fileSize, err := impl.open(path)
				if err != nil {
					b.Fatal(err)
				}
				before := writtenBytes(b)
				start := time.Now()
				saves := storeWorkload(b, st, n, size)
				elapsed := time.Since(start)
				written := writtenBytes(b) - before
				final := fileSize()
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(written)/(1<<20), "written-MiB")
				b.ReportMetric(float64(final)/(1<<20), "file-MiB")
				b.ReportMetric(float64(written)/float64(final), "written/file")
				b.ReportMetric(float64(elapsed.Microseconds())/float64(saves), "µs/save")
			}
		})
	}
}

// storeWorkload writes what a migration of n numbers writes, and returns
// the number of saves.
func storeWorkload(b *testing.B, st migrate.Store, n, size int) int {
	ctx := context.Background()
	numbers := func(yield func(migrate.NumberState, error) bool) {
		for i := range n {
			ns := migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: fmt.Sprintf("+1%010d", 2000000000+i)}, Line: i + 2}
			ns.Number.FriendlyName = "Line " + strconv.Itoa(i)
			if !yield(ns, nil) {
				return
			}
		}
	}
	meta := migrate.Meta{Input: migrate.Input{Name: "in.csv", SHA256: strings.Repeat("ab", 32)}, BatchSize: size}
	if err := st.Start(ctx, meta, migrate.Batches(numbers, size)); err != nil {
		b.Fatal(err)
	}
	saves := 0
	save := func(i int, edit func(*migrate.Batch, []migrate.NumberState) []migrate.NumberState) {
		bt, err := st.Batch(ctx, i)
		if err != nil {
			b.Fatal(err)
		}
		ns, err := st.Numbers(ctx, i)
		if err != nil {
			b.Fatal(err)
		}
		changed := edit(&bt, ns)
		if err := st.SaveBatch(ctx, &bt, changed); err != nil {
			b.Fatal(err)
		}
		saves++
	}
	batches := n / size
	for i := 1; i <= batches; i++ {
		save(i, func(bt *migrate.Batch, _ []migrate.NumberState) []migrate.NumberState {
			bt.State = migrate.StateSending
			bt.Attempts = append(bt.Attempts, migrate.Attempt{Kind: "create", Started: time.Now(), Numbers: size})
			return nil
		})
		save(i, func(bt *migrate.Batch, ns []migrate.NumberState) []migrate.NumberState {
			bt.State, bt.BulkHostingSIDs = migrate.StateAccepted, []string{fmt.Sprintf("BH%032x", i)}
			for k := range ns {
				ns[k].BulkHostingSID = bt.BulkHostingSIDs[0]
			}
			return ns
		})
	}
	for round, status := range []string{"pending-loa", "carrier-processing", "completed"} {
		for i := 1; i <= batches; i++ {
			save(i, func(bt *migrate.Batch, ns []migrate.NumberState) []migrate.NumberState {
				for k := range ns {
					ns[k].Status = status
					if round == 0 {
						ns[k].HostingOrderSID = fmt.Sprintf("HR%032x", i*size+k)
						ns[k].SigningDocumentSID = fmt.Sprintf("PX%032x", i)
					}
					ns[k].Checked = time.Now()
				}
				bt.Counts = map[string]int{status: len(ns)}
				return ns
			})
		}
	}
	return saves
}

// writtenBytes is this process's write(2) total so far.
func writtenBytes(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skip("no /proc/self/io")
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no wchar in /proc/self/io")
	return 0
}

// boltStore is a migrate.Store in bbolt: a bucket of batches (by index)
// and one of numbers (by batch and position), with each batch's phone
// numbers indexed to their positions. Every save is one transaction,
// synced when it commits.
type boltStore struct {
	db *bolt.DB
}

var (
	metaBucket    = []byte("meta")
	batchesBucket = []byte("batches")
	numbersBucket = []byte("numbers")
	phonesBucket  = []byte("phones")
)

func openBolt(path string) (*boltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{metaBucket, batchesBucket, numbersBucket, phonesBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &boltStore{db: db}, nil
}

func key(parts ...uint32) []byte {
	out := make([]byte, 4*len(parts))
	for i, p := range parts {
		binary.BigEndian.PutUint32(out[4*i:], p)
	}
	return out
}

func (s *boltStore) Meta(context.Context) (migrate.Meta, error) {
	var m migrate.Meta
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(metaBucket).Get([]byte("meta"))
		if v == nil {
			return migrate.ErrNoMigration
		}
		return json.Unmarshal(v, &m)
	})
	return m, err
}

func (s *boltStore) Start(_ context.Context, meta migrate.Meta, batches iter.Seq2[[]migrate.NumberState, error]) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(metaBucket).Get([]byte("meta")) != nil {
			return migrate.ErrExists
		}
		count := 0
		for numbers, err := range batches {
			if err != nil {
				return err
			}
			count++
			bt := migrate.Batch{Index: count, State: migrate.StatePlanned, Size: len(numbers)}
			v, err := json.Marshal(bt)
			if err != nil {
				return err
			}
			if err := tx.Bucket(batchesBucket).Put(key(uint32(count)), v); err != nil { //nolint:gosec // a batch count
				return err
			}
			for i := range numbers {
				nv, err := json.Marshal(numbers[i])
				if err != nil {
					return err
				}
				if err := tx.Bucket(numbersBucket).Put(key(uint32(count), uint32(i)), nv); err != nil { //nolint:gosec // positions in a batch
					return err
				}
				if err := tx.Bucket(phonesBucket).Put([]byte(numbers[i].PhoneNumber()), key(uint32(count), uint32(i))); err != nil { //nolint:gosec // positions in a batch
					return err
				}
			}
		}
		meta.Batches = count
		v, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		return tx.Bucket(metaBucket).Put([]byte("meta"), v)
	})
}

func (s *boltStore) Batch(_ context.Context, index int) (migrate.Batch, error) {
	var bt migrate.Batch
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(batchesBucket).Get(key(uint32(index))) //nolint:gosec // a batch index
		if v == nil {
			return fmt.Errorf("no batch %d", index)
		}
		return json.Unmarshal(v, &bt)
	})
	return bt, err
}

func (s *boltStore) Numbers(_ context.Context, index int) ([]migrate.NumberState, error) {
	var out []migrate.NumberState
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(numbersBucket).Cursor()
		prefix := key(uint32(index)) //nolint:gosec // a batch index
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var n migrate.NumberState
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

func (s *boltStore) SaveBatch(_ context.Context, b *migrate.Batch, changed []migrate.NumberState) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		bk := key(uint32(b.Index)) //nolint:gosec // a batch index
		var stored migrate.Batch
		if err := json.Unmarshal(tx.Bucket(batchesBucket).Get(bk), &stored); err != nil {
			return err
		}
		if stored.Version != b.Version {
			return migrate.ErrConflict
		}
		next := *b
		next.Version++
		v, err := json.Marshal(next)
		if err != nil {
			return err
		}
		if err := tx.Bucket(batchesBucket).Put(bk, v); err != nil {
			return err
		}
		for i := range changed {
			at := tx.Bucket(phonesBucket).Get([]byte(changed[i].PhoneNumber()))
			if at == nil || !bytes.HasPrefix(at, bk) {
				return fmt.Errorf("batch %d does not hold %s", b.Index, changed[i].PhoneNumber())
			}
			nv, err := json.Marshal(changed[i])
			if err != nil {
				return err
			}
			if err := tx.Bucket(numbersBucket).Put(at, nv); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		b.Version++
	}
	return err
}

// AddBatches is not part of the measured workload.
func (s *boltStore) AddBatches(context.Context, migrate.Meta, iter.Seq2[[]migrate.NumberState, error]) error {
	return errors.New("bolt store: AddBatches is not part of the benchmark")
}

func (s *boltStore) Close() error { return s.db.Close() }

package main

import (
	"context"
	"errors"
	"time"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// journalView is a journal as the tests read it: every batch with its
// numbers.
type journalView struct {
	Meta    migrate.Meta
	Batches []*viewBatch
	index   map[string]*migrate.NumberState
}

type viewBatch struct {
	migrate.Batch
	Numbers []migrate.NumberState
}

// loadJournal reads the journal at path (taking its lock for the time of
// the read). It returns nil and no error when there is none.
func loadJournal(path string, _ logstore.FS, _ func() time.Time) (*journalView, error) {
	st, err := logstore.Open(path, logstore.Options{})
	if err != nil {
		return nil, err
	}
	defer func() { _ = st.Close() }()
	ctx := context.Background()
	meta, err := st.Meta(ctx)
	if errors.Is(err, migrate.ErrNoMigration) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j := &journalView{Meta: meta, index: make(map[string]*migrate.NumberState)}
	for i := 1; i <= meta.Batches; i++ {
		b, err := st.Batch(ctx, i)
		if err != nil {
			return nil, err
		}
		numbers, err := st.Numbers(ctx, i)
		if err != nil {
			return nil, err
		}
		vb := &viewBatch{Batch: b, Numbers: numbers}
		for k := range vb.Numbers {
			j.index[vb.Numbers[k].PhoneNumber()] = &vb.Numbers[k]
		}
		j.Batches = append(j.Batches, vb)
	}
	return j, nil
}

func batchStates(j *journalView) []batchState {
	out := make([]batchState, len(j.Batches))
	for i, b := range j.Batches {
		out[i] = b.State
	}
	return out
}

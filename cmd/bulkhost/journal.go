package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// journalSuffix is added to the CSV's path to name its journal.
const journalSuffix = ".bulkhost.json"

// toolName is the tool of bulkhost's mark in a migration's Meta.App.
const toolName = "bulkhost"

// app is bulkhost's own data in a migration's Meta.App: its name, to
// refuse a journal another program made, and whether the migration is the
// demo's (against a fake server that lives no longer than one run). It is
// the "tool" and "demo" members journals of version 0.2.0 had in their
// meta, which the engine reads into App.
type app struct {
	Tool string `json:"tool"`
	Demo bool   `json:"demo,omitempty"`
}

// appMark is the Meta.App of a new bulkhost migration.
func appMark(demo bool) json.RawMessage {
	data, err := json.Marshal(app{Tool: toolName, Demo: demo})
	if err != nil {
		panic(err) // a struct of a string and a bool
	}
	return data
}

// readApp returns bulkhost's mark in meta, or a *journalError when the
// migration is not bulkhost's, ending with another (how to name another
// journal).
func readApp(path string, meta migrate.Meta, another string) (app, error) {
	var a app
	if len(meta.App) > 0 {
		if err := json.Unmarshal(meta.App, &a); err != nil {
			a = app{}
		}
	}
	if a.Tool != toolName {
		who := "another program"
		if a.Tool != "" {
			who = fmt.Sprintf("%q", a.Tool)
		}
		return app{}, &journalError{path, "was made by " + who + ", not bulkhost; bulkhost does not overwrite it: " + another}
	}
	return a, nil
}

// demoJournal reports whether meta is the demo's migration.
func demoJournal(meta migrate.Meta) bool {
	var a app
	return json.Unmarshal(meta.App, &a) == nil && a.Demo
}

// journal is a migration's store as the command uses it: the engine's
// migrate.Store, and the path it was opened at (every symbolic link
// resolved), or the redacted address of its database.
type journal struct {
	migrate.Store
	path string
	// shared is set for a database (-state postgres://…), which several
	// processes may use at once; a journal file has one owner, its lock's.
	shared bool
	// db is the database of a shared journal.
	db *database
}

// another says how to name another journal than j, for a refusal.
func (j *journal) another() string {
	if j.db != nil {
		return "name another migration with -migration (or another -schema)"
	}
	return "name another file with -state"
}

// stateFlags are the flags that name the journal again, for a hint: the
// database's with its password as xxxxx (to be put back, or given in
// PGPASSWORD).
func (j *journal) stateFlags() string {
	if j.db == nil {
		return "-state " + j.path
	}
	s := "-state '" + j.db.redacted + "'"
	if j.db.schema != "" {
		s += " -schema " + j.db.schema
	}
	if j.db.migration != "" {
		s += " -migration '" + j.db.migration + "'"
	}
	return s
}

// figures returns how many bytes the journal wrote since it was opened and
// its size, when its store tells them.
func (j *journal) figures() (written, size int64) {
	if f, ok := j.Store.(interface {
		Written() int64
		Size() int64
	}); ok {
		return f.Written(), f.Size()
	}
	return 0, 0
}

// journalError is a journal bulkhost refuses to use. The file is left as
// it is.
type journalError struct {
	path string
	msg  string
}

func (e *journalError) Error() string { return "journal " + e.path + ": " + e.msg }

// openStore opens (and locks) the journal at path, or the database of
// -state postgres://…, explaining a refusal.
func (c *cli) openStore(ctx context.Context, cfg *config, path string) (*journal, error) {
	j, err := c.openJournalStore(ctx, cfg, path)
	if err == nil && c.wrapStore != nil {
		j.Store = c.wrapStore(j.Store)
	}
	return j, err
}

func (c *cli) openJournalStore(ctx context.Context, cfg *config, path string) (*journal, error) {
	if cfg.database != nil && path == cfg.statePath {
		return c.openDatabase(ctx, cfg.database)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		// Every journal starts with a record: an empty file is not one
		// (a journal cut to nothing, or a file made by something else).
		return nil, &journalError{path, "is empty (0 bytes), so it is not a journal: no step was recorded in it, so nothing was submitted with it; " +
			"delete it to start a new migration, or name the right journal with -state; bulkhost does not overwrite it"}
	}
	st, err := logstore.Open(path, logstore.Options{FS: c.fs})
	if err == nil {
		return &journal{Store: st, path: st.Path()}, nil
	}
	var old *logstore.OldJournalError
	var bad *logstore.Error
	switch {
	case errors.As(err, &old) && old.Format == 0:
		return nil, &journalError{path, "is not a bulkhost journal (a JSON document with no journal format): name the journal with -state, or another file to start a new migration; bulkhost does not overwrite it"}
	case errors.As(err, &old):
		return nil, &journalError{path, fmt.Sprintf("was written by an earlier bulkhost (journal format %d): finish that migration with the bulkhost that wrote it, or name another file with -state; bulkhost does not overwrite it", old.Format)}
	case errors.As(err, &bad):
		return nil, &journalError{path, strings.TrimPrefix(bad.Msg, "") + "; bulkhost does not overwrite it: move it away to start a new migration, or name another file with -state"}
	case errors.Is(err, logstore.ErrLocked):
		if resolved, rerr := logstore.ResolvePath(path); rerr == nil {
			path = resolved
		}
		return nil, fmt.Errorf("journal %s is in use by another bulkhost run (it holds %s.lock): let that run finish, or stop it, then run again", path, path)
	}
	return nil, fmt.Errorf("journal %s: %w", path, err)
}

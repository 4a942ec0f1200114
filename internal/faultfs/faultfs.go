// Package faultfs is the file system of the tests of internal/recordlog
// and the stores built on it: the operating system's, with every step
// recorded, any step made to fail, and a model of what is durable, so
// that a test can put the files back to what a power cut would leave.
package faultfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/hostednumbers/hostednumbers-go/internal/recordlog"
)

// FS is recordlog.OS with every step recorded by name: "create-temp",
// "open", "write", "sync", "close", "truncate", "rename", "remove",
// "sync-dir". The FailAt-th occurrence (1-based) of the step FailOp fails
// with FailErr, and so does every step for which Fail returns an error.
//
// FS also keeps what is durable: a file's content as of its last
// successful Sync (or as it was when FS first opened it), and a
// directory's names as of its last successful SyncDir (or as they were
// when FS first saw them). PowerCut puts the files back to that.
type FS struct {
	FailOp  string
	FailAt  int
	FailErr error
	// Fail, when set, is asked before every step, with the step and the
	// file it is about; an error fails the step. It is called with FS's
	// lock held: it must not call FS.
	Fail func(op, name string) error
	// Crash makes a failed step stand for a crash: nothing is undone or
	// removed after it (Remove and Truncate do nothing), as a killed
	// process undoes nothing.
	Crash bool
	// Partial makes a failing write write half of its data first.
	Partial bool

	mu      sync.Mutex
	ops     []string
	seen    map[string]int
	crashed bool
	// live and durable map names to files: now, and as a power cut would
	// leave them.
	live    map[string]*inode
	durable map[string]*inode
}

// inode is a file's content as a power cut would leave it.
type inode struct{ data []byte }

var _ recordlog.FS = (*FS)(nil)

// Steps returns the steps taken so far, in order.
func (f *FS) Steps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

// Reset forgets the steps taken so far (not what is durable).
func (f *FS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = nil
}

func (f *FS) step(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op)
	if f.seen == nil {
		f.seen = make(map[string]int)
	}
	f.seen[op]++
	if op == f.FailOp && f.seen[op] == f.FailAt {
		f.crashed = f.Crash
		return fmt.Errorf("%s: %w", op, f.FailErr)
	}
	if f.Fail != nil {
		if err := f.Fail(op, name); err != nil {
			f.crashed = f.Crash
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}

func (f *FS) hasCrashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashed
}

// track makes sure name is modelled: a file that exists when FS first
// sees it is taken as durable as it is.
func (f *FS) track(name string) {
	if f.live == nil {
		f.live, f.durable = make(map[string]*inode), make(map[string]*inode)
	}
	if _, ok := f.live[name]; ok {
		return
	}
	if _, ok := f.durable[name]; ok {
		return
	}
	data, err := os.ReadFile(name) //nolint:gosec // test files
	if err != nil {
		return
	}
	ino := &inode{data: data}
	f.live[name], f.durable[name] = ino, ino
}

// CreateTemp is os.CreateTemp, recorded; the new name is not durable
// until its directory is synced.
func (f *FS) CreateTemp(dir, pattern string) (recordlog.File, error) {
	if err := f.step("create-temp", filepath.Join(dir, pattern)); err != nil {
		return nil, err
	}
	file, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live == nil {
		f.live, f.durable = make(map[string]*inode), make(map[string]*inode)
	}
	ino := &inode{}
	f.live[file.Name()] = ino
	return &File{f: file, fs: f, ino: ino}, nil
}

// OpenFile is os.OpenFile, recorded.
func (f *FS) OpenFile(name string, flag int, perm os.FileMode) (recordlog.File, error) {
	if err := f.step("open", name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.track(name)
	f.mu.Unlock()
	file, err := os.OpenFile(name, flag, perm) //nolint:gosec // test files
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ino := f.live[name]
	if ino == nil {
		ino = &inode{} // created now: not durable until the directory is synced
		f.live[name] = ino
	}
	return &File{f: file, fs: f, ino: ino}, nil
}

// Rename is os.Rename, recorded; durable once the directory is synced.
func (f *FS) Rename(oldpath, newpath string) error {
	if err := f.step("rename", newpath); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.track(oldpath)
	f.track(newpath)
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	f.live[newpath] = f.live[oldpath]
	delete(f.live, oldpath)
	return nil
}

// Remove is os.Remove, recorded; after a crash it does nothing.
func (f *FS) Remove(name string) error {
	if f.hasCrashed() {
		return nil
	}
	if err := f.step("remove", name); err != nil {
		return err
	}
	f.mu.Lock()
	f.track(name)
	delete(f.live, name)
	f.mu.Unlock()
	return os.Remove(name)
}

// SyncDir is recordlog.OS's, recorded; it makes the names of dir durable.
func (f *FS) SyncDir(dir string) error {
	if err := f.step("sync-dir", dir); err != nil {
		return err
	}
	if err := (recordlog.OS{}).SyncDir(dir); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live == nil {
		return nil
	}
	for name := range f.durable {
		if filepath.Dir(name) == dir {
			if _, ok := f.live[name]; !ok {
				delete(f.durable, name)
			}
		}
	}
	for name, ino := range f.live {
		if filepath.Dir(name) == dir {
			f.durable[name] = ino
		}
	}
	return nil
}

// PowerCut puts every file FS has seen back to what was durable, as a
// power cut would leave it: its content as of its last successful Sync,
// under the names of its directory's last successful SyncDir. Close the
// stores on FS before (their files are then read as a new run would).
func (f *FS) PowerCut() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for name := range f.live {
		if _, ok := f.durable[name]; !ok {
			if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	live := make(map[string]*inode, len(f.durable))
	for name, ino := range f.durable {
		if err := os.WriteFile(name, ino.data, 0o600); err != nil {
			errs = append(errs, err)
		}
		live[name] = ino
	}
	f.live = live
	f.crashed = false
	return errors.Join(errs...)
}

// File is an *os.File whose steps its FS records.
type File struct {
	f   *os.File
	fs  *FS
	ino *inode
}

// Name is the file's name.
func (f *File) Name() string { return f.f.Name() }

// Read reads (not recorded).
func (f *File) Read(p []byte) (int, error) { return f.f.Read(p) }

// ReadAt reads (not recorded).
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }

// Write writes, recorded.
func (f *File) Write(p []byte) (int, error) {
	if err := f.fs.step("write", f.f.Name()); err != nil {
		if f.fs.Partial {
			n, _ := f.f.Write(p[:len(p)/2])
			return n, err
		}
		return 0, err
	}
	return f.f.Write(p)
}

// Sync syncs, recorded; what the file holds is then durable.
func (f *File) Sync() error {
	if err := f.fs.step("sync", f.f.Name()); err != nil {
		return err
	}
	if err := f.f.Sync(); err != nil {
		return err
	}
	st, err := f.f.Stat()
	if err != nil {
		return err
	}
	data := make([]byte, st.Size())
	if _, err := f.f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	f.fs.mu.Lock()
	f.ino.data = data
	f.fs.mu.Unlock()
	return nil
}

// Truncate truncates, recorded; after a crash it does nothing.
func (f *File) Truncate(size int64) error {
	if f.fs.hasCrashed() {
		return nil
	}
	if err := f.fs.step("truncate", f.f.Name()); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

// Close closes, recorded.
func (f *File) Close() error {
	if err := f.fs.step("close", f.f.Name()); err != nil {
		_ = f.f.Close()
		return err
	}
	return f.f.Close()
}

// Package faultfs is a file system for tests of migrate/logstore and its
// users: the operating system's, with every step recorded, and any step
// made to fail, or to stand for a crash.
package faultfs

import (
	"fmt"
	"os"
	"sync"

	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// FS is logstore.OS with every step recorded by name: "create-temp",
// "open", "write", "sync", "close", "truncate", "rename", "remove",
// "sync-dir". The FailAt-th occurrence (1-based) of the step FailOp fails
// with FailErr.
type FS struct {
	FailOp  string
	FailAt  int
	FailErr error
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
}

var _ logstore.FS = (*FS)(nil)

// Steps returns the steps taken so far, in order.
func (f *FS) Steps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

// Reset forgets the steps taken so far.
func (f *FS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = nil
}

func (f *FS) step(op string) error {
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
	return nil
}

func (f *FS) hasCrashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashed
}

// CreateTemp is os.CreateTemp, recorded.
func (f *FS) CreateTemp(dir, pattern string) (logstore.File, error) {
	if err := f.step("create-temp"); err != nil {
		return nil, err
	}
	file, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &File{f: file, fs: f}, nil
}

// OpenFile is os.OpenFile, recorded.
func (f *FS) OpenFile(name string, flag int, perm os.FileMode) (logstore.File, error) {
	if err := f.step("open"); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(name, flag, perm) //nolint:gosec // test files
	if err != nil {
		return nil, err
	}
	return &File{f: file, fs: f}, nil
}

// Rename is os.Rename, recorded.
func (f *FS) Rename(oldpath, newpath string) error {
	if err := f.step("rename"); err != nil {
		return err
	}
	return os.Rename(oldpath, newpath)
}

// Remove is os.Remove, recorded; after a crash it does nothing.
func (f *FS) Remove(name string) error {
	if f.hasCrashed() {
		return nil
	}
	if err := f.step("remove"); err != nil {
		return err
	}
	return os.Remove(name)
}

// SyncDir is logstore.OS's, recorded.
func (f *FS) SyncDir(dir string) error {
	if err := f.step("sync-dir"); err != nil {
		return err
	}
	return logstore.OS{}.SyncDir(dir)
}

// File is an *os.File whose steps its FS records.
type File struct {
	f  *os.File
	fs *FS
}

// Name is the file's name.
func (f *File) Name() string { return f.f.Name() }

// Read reads (not recorded).
func (f *File) Read(p []byte) (int, error) { return f.f.Read(p) }

// ReadAt reads (not recorded).
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }

// Write writes, recorded.
func (f *File) Write(p []byte) (int, error) {
	if err := f.fs.step("write"); err != nil {
		if f.fs.Partial {
			n, _ := f.f.Write(p[:len(p)/2])
			return n, err
		}
		return 0, err
	}
	return f.f.Write(p)
}

// Sync syncs, recorded.
func (f *File) Sync() error {
	if err := f.fs.step("sync"); err != nil {
		return err
	}
	return f.f.Sync()
}

// Truncate truncates, recorded; after a crash it does nothing.
func (f *File) Truncate(size int64) error {
	if f.fs.hasCrashed() {
		return nil
	}
	if err := f.fs.step("truncate"); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

// Close closes, recorded.
func (f *File) Close() error {
	if err := f.fs.step("close"); err != nil {
		_ = f.f.Close()
		return err
	}
	return f.f.Close()
}

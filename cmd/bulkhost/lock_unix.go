//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockJournal takes an exclusive lock on the journal at path, so that two
// runs cannot submit the same batch at once, and returns the function that
// releases it. The lock is on path+".lock" (the journal itself is replaced
// on every write) and is released by the kernel if the process dies.
func lockJournal(path string) (func(), error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600) //nolint:gosec // next to the journal the operator named
	if err != nil {
		return nil, fmt.Errorf("journal %s: cannot lock it: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close() // the lock error is the one to report
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("journal %s is in use by another bulkhost run (it holds %s.lock): let that run finish, or stop it, then run again", path, path)
		}
		return nil, fmt.Errorf("journal %s: cannot lock it: %w", path, err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock; nothing was written
}

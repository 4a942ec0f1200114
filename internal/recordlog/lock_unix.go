//go:build unix

package recordlog

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive lock on the log at path and returns the
// function that releases it. The lock is on path+".lock" (the log itself
// is replaced by every rewrite) and is released by the kernel if the
// process dies. A second lock of the same path is refused, in another
// process or in this one (flock(2) locks belong to the open file).
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600) //nolint:gosec // next to the log its owner named
	if err != nil {
		return nil, fmt.Errorf("%s: cannot lock it: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close() // the lock error is the one to report
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s %w (it holds %s.lock): let that run finish, or stop it, then run again", path, ErrLocked, path)
		}
		return nil, fmt.Errorf("%s: cannot lock it: %w", path, err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock; nothing was written
}

package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the heap bulkhost asks Go's garbage collector to keep
// under (a soft limit: it collects sooner near it, and never fails for
// it), unless GOMEMLIMIT says otherwise. What the command holds at once is
// about one batch and the index of the numbers' duplicates, so the limit
// only keeps garbage from piling up when the machine is busy.
const memoryLimit = 96 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

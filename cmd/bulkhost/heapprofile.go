package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// envTestHeapProfile names a file the command writes a heap profile to
// whenever its live heap reaches a new high (by a sixteenth at least), so
// that the file holds the allocations alive near the peak of the run: for
// the benchmarks, which run the command as a subprocess.
const envTestHeapProfile = "BULKHOST_TEST_HEAPPROFILE"

// heapObjects is the runtime metric watched: the bytes of live and
// not-yet-swept heap objects.
const heapObjects = "/memory/classes/heap/objects:bytes"

// profileHeapPeaks watches the heap every interval until ctx ends and
// writes a heap profile to path at each new high; it returns when it has
// stopped. Errors go to the command's standard error once.
func (c *cli) profileHeapPeaks(ctx context.Context, path string, interval time.Duration) {
	sample := []metrics.Sample{{Name: heapObjects}}
	var high uint64
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > high+high/16 {
			high = v.Uint64()
			runtime.GC() // the profile's in-use figures are as of the last collection
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(c.stderr, "bulkhost: %s: %v\n", envTestHeapProfile, err)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func writeHeapProfile(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp) //nolint:gosec // the file the test environment named
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

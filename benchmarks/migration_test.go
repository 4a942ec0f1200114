//go:build unix

package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// migrationSizes are the numbers of numbers BenchmarkMigration migrates,
// one sub-benchmark each. CI runs the default; the figures in docs/engine.md come
// from -migration-sizes=10000,100000,1000000.
var migrationSizes = flag.String("migration-sizes", "10000", "comma-separated sizes of BenchmarkMigration")

// BenchmarkMigration runs bulkhost, built in ../cmd/bulkhost (a module of
// its own), as a subprocess against the fake server in this process: a
// CSV of n numbers submitted in batches of 1000 and every number followed
// to the end (-wait). It reports the wall time, the command's peak
// resident memory, the bytes its journal wrote (and the journal's final
// size), and the requests the fake answered per number.
func BenchmarkMigration(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "bulkhost")
	build := exec.CommandContext(context.Background(), "go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "cmd", "bulkhost")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building bulkhost: %v\n%s", err, out)
	}
	for _, s := range strings.Split(*migrationSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			b.Fatalf("-migration-sizes: %q is not a size", s)
		}
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			for range b.N {
				runMigration(b, bin, n)
			}
		})
	}
}

func runMigration(b *testing.B, bin string, n int) {
	b.Helper()
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "numbers.csv")
	var csv bytes.Buffer
	csv.WriteString("phone_number,friendly_name\n")
	for i := range n {
		fmt.Fprintf(&csv, "+1%010d,Line %d\n", 2000000000+i, i)
	}
	if err := os.WriteFile(csvPath, csv.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(20*time.Millisecond, 20*time.Millisecond),
		hostednumberstest.WithHostingDuration(100*time.Millisecond),
		hostednumberstest.WithPageSize(1000))
	defer srv.Close()

	stats := filepath.Join(dir, "stats.json")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-live", "-csv", csvPath, "-email", "owner@example.com",
		"-address-sid", "AD0123456789abcdef0123456789abcdef", "-batch-size", "1000", "-wait", "-poll", "500ms", "-timeout", "30m")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"TWILIO_ACCOUNT_SID=" + hostednumberstest.AccountSID,
		"TWILIO_AUTH_TOKEN=" + hostednumberstest.AuthToken,
		"BULKHOST_TEST_BASE_URL=" + srv.URL,
		"BULKHOST_TEST_STATS=" + stats,
	}
	if v := os.Getenv("BULKHOST_BENCH_GODEBUG"); v != "" {
		cmd.Env = append(cmd.Env, "GODEBUG="+v) // to see the command's garbage collector
	}
	var stderr bytes.Buffer
	cmd.Stdout = nil // the report of every number: not measured
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		tail := stderr.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		b.Fatalf("bulkhost: %v\n%s", err, tail)
	}
	if os.Getenv("BULKHOST_BENCH_GODEBUG") != "" {
		b.Log(stderr.String())
	}
	var st struct {
		Written int64 `json:"store_bytes_written"`
		Size    int64 `json:"store_size"`
		PeakRSS int64 `json:"peak_rss_kib"`
	}
	data, err := os.ReadFile(stats)
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		b.Fatal(err)
	}
	// The command's own peak (VmHWM): a child's ru_maxrss also counts
	// what this process held when it started the child, which after the
	// larger sizes is hundreds of MiB of fake server.
	rss := st.PeakRSS
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && rss == 0 {
		rss = ru.Maxrss // KiB on Linux
	}
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
	b.ReportMetric(float64(st.Written)/(1<<20), "written-MiB")
	b.ReportMetric(float64(st.Size)/(1<<20), "store-MiB")
	b.ReportMetric(float64(st.Written)/float64(max(st.Size, 1)), "written/store")
	b.ReportMetric(float64(len(srv.Requests()))/float64(n), "requests/number")
}

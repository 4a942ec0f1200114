package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// Environment variables read by tests only. They are not for operators:
// the first makes the command kill itself with SIGKILL at a named step, so
// that crash tests can prove a resume is safe; the second points -live at
// a fake server on a loopback address.
const (
	envTestCrashAt = "BULKHOST_TEST_CRASH_AT"
	envTestBaseURL = "BULKHOST_TEST_BASE_URL"
	// envTestStats names a file the command writes the journal's I/O
	// figures to as it exits (for the benchmarks).
	envTestStats = "BULKHOST_TEST_STATS"
)

// run is the whole command: main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	return c.run(ctx, args)
}

// cli holds what the command talks to. Tests build one directly to
// replace the parts that reach outside the process.
type cli struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer

	// isTerminal reports whether w is a terminal, which decides how
	// progress is drawn. nil means: an *os.File that is a character device.
	isTerminal func(w io.Writer) bool
	// clientOptions are appended to the options of the client built from
	// the environment for -live (tests point it at a fake server).
	clientOptions []hostednumbers.Option
	// newDemoServer starts the fake server of the demo. nil means
	// newDemoServer.
	newDemoServer func() *hostednumberstest.Server
	// maxInput and maxLine override the input limits when positive.
	maxInput, maxLine int64
	// now is the clock; nil means time.Now.
	now func() time.Time
	// progressEvery, when positive, replaces how often the progress line
	// is drawn (tests draw it at every step).
	progressEvery time.Duration
	// checkpoint, if set, is called at each step a crash test may stop at.
	checkpoint func(step string)
	// fs is how the journal is written; nil means the operating system's.
	fs logstore.FS
	// wrapStore, if set, wraps the migration's store once it is opened
	// (tests change its answers).
	wrapStore func(migrate.Store) migrate.Store

	signals context.Context // ends on SIGINT or SIGTERM, not on -timeout

	// stats are the journal's figures, kept for envTestStats.
	stats struct {
		Written int64 `json:"store_bytes_written"`
		Size    int64 `json:"store_size"`
		// PeakRSS is the process's own peak resident memory (VmHWM), in
		// KiB, where /proc tells it: unlike a child's ru_maxrss, it does
		// not include what the parent held when it started the command.
		PeakRSS int64 `json:"peak_rss_kib,omitempty"`
		// SubmitSeconds is how long Submit took: checks, creates and the
		// settling of batches in doubt.
		SubmitSeconds float64 `json:"submit_seconds"`
		// FollowSeconds is how long following took, and RefreshPasses
		// the refreshes it made.
		FollowSeconds float64 `json:"follow_seconds"`
		RefreshPasses int     `json:"refresh_passes"`
		// NumbersFollowed adds up, over the refresh passes, the numbers
		// that could still change when each pass began: the numbers a
		// pass had to ask about.
		NumbersFollowed int64 `json:"numbers_followed"`
	}
}

func (c *cli) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// engineClock is the engine's clock: c.clock, with the system's waits.
func (c *cli) engineClock() migrate.Clock {
	if c.now == nil {
		return migrate.SystemClock{}
	}
	return cliClock{now: c.now}
}

// cliClock is a clock a test set (cli.now) with real waits.
type cliClock struct{ now func() time.Time }

func (k cliClock) Now() time.Time { return k.now() }

func (cliClock) Sleep(ctx context.Context, d time.Duration) error {
	return migrate.SystemClock{}.Sleep(ctx, d)
}

func (c *cli) runMode(ctx context.Context, args []string) error {
	c.signals = ctx
	if c.checkpoint == nil {
		c.checkpoint = crashHook(c.getenv(envTestCrashAt))
	}
	cfg, err := c.parseFlags(args)
	if err != nil {
		return err
	}
	if err := c.checkMode(cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	defer c.writeStats()
	if path := c.getenv(envTestHeapProfile); path != "" {
		pctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.profileHeapPeaks(pctx, path, 250*time.Millisecond)
		}()
		defer func() { stop(); <-done }()
	}
	switch {
	case cfg.fetchSID != "":
		return c.fetch(ctx, cfg)
	case cfg.export != "":
		return c.exportMode(ctx, cfg)
	case cfg.status:
		return c.statusMode(ctx, cfg)
	case cfg.demo && !cfg.dryRun:
		return c.demo(ctx, cfg)
	}
	return c.submit(ctx, cfg)
}

// writeStats writes the journal's figures where envTestStats says.
func (c *cli) writeStats() {
	path := c.getenv(envTestStats)
	if path == "" {
		return
	}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				c.stats.PeakRSS, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
	}
	data, err := json.Marshal(c.stats)
	if err == nil {
		err = os.WriteFile(path, data, 0o600)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %s: %v\n", envTestStats, err)
	}
}

// crashHook returns the checkpoint of a crash test: spec is a step name,
// optionally followed by ":n" to stop at its n-th occurrence. At that
// point the process kills itself with SIGKILL, as a power cut or the
// kernel's OOM killer would: no deferred call, no journal write.
func crashHook(spec string) func(string) {
	if spec == "" {
		return func(string) {}
	}
	step, nth := spec, 1
	if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		if n, err := strconv.Atoi(spec[i+1:]); err == nil && n > 0 {
			step, nth = spec[:i], n
		}
	}
	seen := 0
	return func(s string) {
		if s != step {
			return
		}
		if seen++; seen == nth {
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Kill()
			}
			select {} // the signal is on its way
		}
	}
}

// interrupted reports whether the run was stopped by SIGINT or SIGTERM.
func (c *cli) interrupted() bool { return c.signals != nil && c.signals.Err() != nil }

func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

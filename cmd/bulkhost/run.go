package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// sampleCSV is the input of the demo when no -csv is given.
//
//go:embed sample.csv
var sampleCSV []byte

// Exit statuses.
const (
	exitOK          = 0   // everything went well
	exitFailures    = 1   // some number failed or needs action
	exitError       = 2   // bad input, or the API or network failed
	exitPending     = 3   // numbers are still on their way (-status, -wait)
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM; run the same command again to resume
)

// Defaults.
const (
	defaultPoll           = 2 * time.Second
	defaultDemoPoll       = 200 * time.Millisecond
	defaultTimeout        = 30 * time.Minute
	defaultAttemptTimeout = hostednumbers.DefaultTimeout
	defaultBatchSize      = 1000
	demoBatchSize         = 4
	defaultSettle         = hostednumbers.DefaultProcessingWindow
	demoSettle            = 2 * time.Second
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

// demoDefault returns the contact detail the demo uses for a flag that is
// not given.
func demoDefault(flagName string) string {
	switch flagName {
	case "email":
		return "owner@example.com"
	case "address-sid":
		return "AD0123456789abcdef0123456789abcdef"
	case "contact-phone":
		return "+14155550100"
	case "contact-title":
		return "Head of Telecom"
	case "friendly-name":
		return "bulkhost demo"
	case "notification-email":
		return "ops@example.com"
	}
	return ""
}

// credentialVars are the environment variables that hold Twilio credentials.
func credentialVars() [4]string {
	return [4]string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"}
}

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

	signals context.Context // ends on SIGINT or SIGTERM, not on -timeout

	// failure is what the run failed with, as printed on standard error:
	// the -json error document is made of it, never of the printed text.
	failure *failure

	// stats are the journal's figures, kept for envTestStats.
	stats struct {
		Written int64 `json:"store_bytes_written"`
		Size    int64 `json:"store_size"`
		// PeakRSS is the process's own peak resident memory (VmHWM), in
		// KiB, where /proc tells it: unlike a child's ru_maxrss, it does
		// not include what the parent held when it started the command.
		PeakRSS int64 `json:"peak_rss_kib,omitempty"`
	}
}

// config is the parsed command line.
type config struct {
	csvPath                       string
	email, addressSID             string
	contactPhone, contactTitle    string
	friendlyName, notificationEml string
	fetchSID                      string
	statePath                     string
	batchSize                     int
	concurrency                   int
	status                        bool
	wait, live, jsonOut, dryRun   bool
	skipEligibility               bool
	poll, timeout, attemptTimeout time.Duration
	settle                        time.Duration
	export, exportStatus          string
	table                         bool
	resubmit                      string
	given                         map[string]bool // flags set on the command line

	demo     bool // no credentials: run against an embedded fake server
	demoFlag bool // -demo: the demo was asked for by name
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

func (c *cli) run(ctx context.Context, args []string) int {
	if !jsonRequested(args) {
		return c.runMode(ctx, args)
	}
	// -json: exactly one JSON document on standard output, whatever the
	// exit. When the mode printed none (an error, an interrupt), it is
	// the error document, with the last message of standard error.
	out := &countingWriter{w: c.stdout}
	errs := &lastLine{w: c.stderr}
	c.stdout, c.stderr = out, errs
	code := c.runMode(ctx, args)
	if out.n == 0 {
		doc := errorDocument{ExitCode: code, Error: errs.last()}
		if f := c.failure; f != nil {
			doc.Error, doc.Problems = f.msg, f.problems
		}
		if doc.Error == "" {
			doc.Error = "no result"
		}
		data, err := json.MarshalIndent(doc, "", "  ")
		if err == nil {
			_, err = out.Write(append(data, '\n'))
		}
		if err != nil {
			fmt.Fprintf(errs, "bulkhost: writing the JSON document: %v\n", err)
		}
	}
	return code
}

// errorDocument is what -json prints when a run ends without a result:
// {"exit_code": 2, "error": "…", "problems": ["line 3: …", …]}. Its shape
// is part of the command's interface: see the package documentation.
type errorDocument struct {
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
	// Problems lists every problem when there were several (each with
	// its CSV line when it has one), Error then being their summary.
	Problems []string `json:"problems,omitempty"`
}

// failure is why a run ended without a result: a summary and, when there
// were several, each problem.
type failure struct {
	msg      string
	problems []string
}

// fail records what the run failed with, for the -json error document:
// the last failure printed is the one the run ends on.
func (c *cli) fail(msg string, problems []string) {
	c.failure = &failure{msg: msg, problems: problems}
}

// jsonRequested reports whether args ask for -json (whether or not they
// parse).
func jsonRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "json" {
			v, err := strconv.ParseBool(value)
			return !hasValue || (err == nil && v)
		}
	}
	return false
}

// countingWriter counts what goes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// lastLine passes everything through and keeps the last message line
// (without the "bulkhost: " prefix and the detail lines under it).
type lastLine struct {
	w    io.Writer
	line []byte
	msg  string
}

func (l *lastLine) Write(p []byte) (int, error) {
	for _, b := range p {
		if b != '\n' {
			l.line = append(l.line, b)
			continue
		}
		if s := string(l.line); strings.HasPrefix(s, "bulkhost: ") {
			l.msg = strings.TrimPrefix(s, "bulkhost: ")
		}
		l.line = l.line[:0]
	}
	return l.w.Write(p)
}

func (l *lastLine) last() string { return l.msg }

func (c *cli) runMode(ctx context.Context, args []string) int {
	c.signals = ctx
	if c.checkpoint == nil {
		c.checkpoint = crashHook(c.getenv(envTestCrashAt))
	}
	cfg, code, ok := c.parseFlags(args)
	if !ok {
		return code
	}
	if code, ok := c.checkMode(cfg); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	defer c.writeStats()
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

func (c *cli) parseFlags(args []string) (*config, int, bool) {
	cfg := &config{given: make(map[string]bool)}
	fs := flag.NewFlagSet("bulkhost", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // a parse error is printed below, as a problem
	fs.StringVar(&cfg.csvPath, "csv", "", "read the phone numbers from this CSV `file` (- for standard input)")
	fs.StringVar(&cfg.email, "email", "", "owner's e-mail `address`, where the authorisation document goes (required to submit)")
	fs.StringVar(&cfg.addressSID, "address-sid", "", "`AD…` SID of the address the numbers are registered at (required to submit)")
	fs.StringVar(&cfg.contactPhone, "contact-phone", "", "authorised contact's phone `number`, E.164")
	fs.StringVar(&cfg.contactTitle, "contact-title", "", "authorised contact's job `title`")
	fs.StringVar(&cfg.friendlyName, "friendly-name", "", "`label` of each bulk hosting request (at most 128 characters)")
	fs.StringVar(&cfg.notificationEml, "notification-email", "", "`address` for Twilio's notices about the requests")
	fs.StringVar(&cfg.statePath, "state", "", "the migration's journal `file` (default: the CSV's path + "+journalSuffix+"; the demo: a temporary file)")
	fs.IntVar(&cfg.batchSize, "batch-size", defaultBatchSize, "at most `n` numbers per bulk hosting request (demo: 4)")
	fs.IntVar(&cfg.concurrency, "concurrency", 1, "at most `n` requests to Twilio in flight at once, batches submitted together (1 to 64; Twilio's limit is per account, shared with its other traffic; about 4 is a safe start); 1 submits one batch at a time, in order")
	fs.StringVar(&cfg.export, "export", "", "write the journal's numbers to this `file` (.json: a JSON array; otherwise CSV; - for standard output) instead of submitting; reads the journal only")
	fs.StringVar(&cfg.exportStatus, "export-status", "", "with -export, only the numbers in these report `statuses`, comma-separated (failed,rejected,…)")
	fs.StringVar(&cfg.resubmit, "resubmit", "", "before submitting, mark the journal's numbers in these `statuses` (failed, action-required, rejected, check-failed; comma-separated) to be submitted again, once their cause is fixed")
	fs.BoolVar(&cfg.table, "table", false, "end with the full table of every number (one line each) instead of the summary; -export writes them to a file")
	fs.BoolVar(&cfg.status, "status", false, "refresh and show every number of the journal instead of submitting; with -wait, follow them until each is completed or failed")
	fs.StringVar(&cfg.fetchSID, "fetch", "", "show the existing bulk hosting request `BH…` instead of submitting one")
	fs.BoolVar(&cfg.wait, "wait", false, "after submitting (or with -status or -fetch), follow the numbers until they are done, then show them (implied by the demo)")
	fs.DurationVar(&cfg.poll, "poll", defaultPoll, "first `interval` between refreshes with -wait; it doubles up to a minute (demo: 200ms, steady)")
	fs.DurationVar(&cfg.timeout, "timeout", defaultTimeout, "give up on the whole run after this `duration` (the journal keeps what was done)")
	fs.DurationVar(&cfg.settle, "settle", defaultSettle, "how long after a create in doubt may have reached Twilio its orders may still appear: no batch in doubt is sent again before (demo: 2s)")
	fs.DurationVar(&cfg.attemptTimeout, "attempt-timeout", defaultAttemptTimeout, "give up on one attempt of one API request after this `duration`")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the result as one JSON document instead of a table, and no progress")
	fs.BoolVar(&cfg.live, "live", false, "use the real Twilio API with the credentials in the environment")
	fs.BoolVar(&cfg.skipEligibility, "skip-eligibility", false, "submit without checking the numbers' eligibility first (for numbers already checked); by default every number is checked with Twilio's bulk eligibility check before it is first sent, and the ones not eligible are reported, never sent")
	fs.BoolVar(&cfg.demoFlag, "demo", false, "run against a local fake of the API that lives for this run only, with -csv's numbers (or the bundled sample); the default when neither -csv nor credentials are given")
	fs.BoolVar(&cfg.dryRun, "dry-run", false, "check the CSV and flags, print the request bodies, and send nothing")
	// flag calls Usage after every parse error as well as for -h: print
	// the long text only when it was asked for.
	fs.Usage = func() {}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(c.stderr)
			printUsage(fs)
			return nil, exitOK, false
		}
		c.printProblems("bad command line", []string{err.Error() + " (run bulkhost -h for usage)"})
		return nil, exitError, false
	}
	fs.Visit(func(f *flag.Flag) { cfg.given[f.Name] = true })

	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected argument %q: every input is a flag (see -h)", fs.Arg(0)))
	}
	if cfg.poll <= 0 {
		problems = append(problems, "-poll: must be positive")
	}
	if cfg.timeout <= 0 {
		problems = append(problems, "-timeout: must be positive")
	}
	if cfg.settle <= 0 {
		problems = append(problems, "-settle: must be positive")
	}
	if cfg.attemptTimeout <= 0 {
		problems = append(problems, "-attempt-timeout: must be positive")
	}
	if cfg.batchSize < 1 || cfg.batchSize > migrate.MaxBatchSize {
		problems = append(problems, fmt.Sprintf("-batch-size: must be from 1 to %d (Twilio's limit of numbers per request)", migrate.MaxBatchSize))
	}
	if cfg.given["csv"] && strings.TrimSpace(cfg.csvPath) == "" {
		problems = append(problems, "-csv: is empty: name the CSV file of phone numbers (- for standard input)")
	}
	if cfg.given["state"] && strings.TrimSpace(cfg.statePath) == "" {
		problems = append(problems, "-state: is empty: name the journal file")
	}
	contact := []string{"email", "address-sid", "contact-phone", "contact-title", "friendly-name", "notification-email", "dry-run", "batch-size", "skip-eligibility"}
	if cfg.fetchSID != "" {
		if !format.SID(cfg.fetchSID, "BH") {
			problems = append(problems, fmt.Sprintf("-fetch: %q is not a bulk hosting SID (BH and 32 hex digits)", cfg.fetchSID))
		}
		for _, name := range append([]string{"csv", "state", "status"}, contact...) {
			if cfg.given[name] {
				problems = append(problems, fmt.Sprintf("-%s: does not apply to -fetch, which shows an existing request", name))
			}
		}
	}
	if cfg.export != "" {
		for _, name := range append([]string{"status", "fetch", "wait", "live"}, contact...) {
			if cfg.given[name] {
				problems = append(problems, fmt.Sprintf("-%s: does not apply to -export, which only reads the journal", name))
			}
		}
		if !cfg.given["state"] && !cfg.given["csv"] {
			problems = append(problems, "-export: name the journal with -state (or the CSV it was made for with -csv)")
		}
		for _, st := range strings.Split(cfg.exportStatus, ",") {
			if st = strings.TrimSpace(st); st != "" && !slices.Contains(reportStatuses(), st) {
				problems = append(problems, fmt.Sprintf("-export-status: %q is not a report status; the statuses are %s", st, strings.Join(reportStatuses(), ", ")))
			}
		}
	} else if cfg.given["export-status"] {
		problems = append(problems, "-export-status: applies to -export only")
	}
	if cfg.demoFlag && cfg.live {
		problems = append(problems, "-demo: does not go with -live: the demo runs against a local fake server, -live against Twilio")
	}
	if cfg.status && cfg.fetchSID == "" {
		for _, name := range contact {
			if cfg.given[name] {
				problems = append(problems, fmt.Sprintf("-%s: does not apply to -status, which only reads the journal and asks Twilio", name))
			}
		}
		if !cfg.given["state"] && !cfg.given["csv"] {
			problems = append(problems, "-status: name the journal with -state (or the CSV it was made for with -csv)")
		}
	}
	if len(problems) > 0 {
		c.printProblems("bad command line", problems)
		return nil, exitError, false
	}
	return cfg, exitOK, true
}

// checkMode decides between the real API and the demo: Twilio only with
// credentials and -live; the local fake server with no credentials at all.
func (c *cli) checkMode(cfg *config) (int, bool) {
	if cfg.export != "" {
		return exitOK, true // the journal only: no API, no credentials
	}
	var present []string
	for _, name := range credentialVars() {
		if c.getenv(name) != "" {
			present = append(present, name)
		}
	}
	switch {
	case cfg.demoFlag:
		cfg.demo = true
	case cfg.live && len(present) == 0:
		c.printProblems("bad command line", []string{
			"-live: no Twilio credentials in the environment: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)",
		})
		return exitError, false
	case len(present) > 0 && !cfg.live && !cfg.dryRun:
		fmt.Fprintf(c.stderr, "bulkhost: refusing to run: %s %s set, so this would call the real Twilio API.\n"+
			"bulkhost: Pass -live to do that (it submits real hosting requests), or -dry-run to only check the input,\n"+
			"bulkhost: or unset the TWILIO_* credentials to run the demo against a local fake server.\n",
			strings.Join(present, " and "), pluralVerb(len(present)))
		return exitError, false
	case len(present) == 0 && cfg.csvPath != "" && !cfg.dryRun:
		// An operator's own numbers never go to the demo's fake server
		// unless asked: they would seem submitted and be nowhere.
		c.printProblems("bad command line", []string{
			"no Twilio credentials in the environment: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) and pass -live to submit " +
				cfg.csvPath + " to Twilio, or pass -demo to try it against a local fake server",
		})
		return exitError, false
	case len(present) == 0:
		cfg.demo = true
	}
	if !cfg.demo {
		return exitOK, true
	}
	if cfg.resubmit != "" {
		c.printProblems("bad command line", []string{
			"-resubmit: does not apply to the demo: its fake server lives for one run, so there is nothing earlier to submit again",
		})
		return exitError, false
	}
	for _, mode := range []struct {
		on   bool
		name string
	}{{cfg.fetchSID != "", "-fetch"}, {cfg.status, "-status"}} {
		if mode.on {
			c.printProblems("bad command line", []string{
				mode.name + ": needs -live and Twilio credentials in the environment; without them bulkhost runs against a fresh local fake server, which holds no requests",
			})
			return exitError, false
		}
	}
	if cfg.dryRun {
		// Nothing is sent, so the demo's server and waiting do not apply.
		// Its contact defaults do only for the bundled sample: a CSV of
		// the operator's own must come with the operator's own contact.
		if cfg.csvPath == "" {
			c.applyDemoDefaults(cfg)
		}
		return exitOK, true
	}
	c.applyDemoDefaults(cfg)
	cfg.wait = true
	if !cfg.given["poll"] {
		cfg.poll = defaultDemoPoll
	}
	if !cfg.given["batch-size"] {
		cfg.batchSize = demoBatchSize
	}
	if !cfg.given["settle"] {
		cfg.settle = demoSettle
	}
	return exitOK, true
}

func (c *cli) applyDemoDefaults(cfg *config) {
	set := func(name string, dst *string) {
		if !cfg.given[name] {
			*dst = demoDefault(name)
		}
	}
	set("email", &cfg.email)
	set("address-sid", &cfg.addressSID)
	set("contact-phone", &cfg.contactPhone)
	set("contact-title", &cfg.contactTitle)
	set("friendly-name", &cfg.friendlyName)
	set("notification-email", &cfg.notificationEml)
}

// input is the checked input of a submit.
type input struct {
	params *hostednumbers.CreateBulkHostedNumberOrderParams
	// list holds every number, unless the input is streamed: a regular
	// file submitted (not a dry run, not the demo) is read twice, once to
	// check it and once into the journal, and never held whole.
	list     *numberList
	streamed bool
	path     string
	name     string
	id       migrate.Input
	problems []problem
}

// validationChunk is how many numbers a streamed input's checks hold at
// once.
const validationChunk = 1000

// readInputCtx reads the input as readInput does, but returns as soon as
// ctx ends, even while a read of standard input is blocked.
func (c *cli) readInputCtx(ctx context.Context, cfg *config) (*input, error) {
	if cfg.csvPath == "-" {
		fmt.Fprintln(c.stderr, "bulkhost: reading the phone numbers from standard input (end it with Ctrl-D; Ctrl-C stops).")
	}
	done := make(chan *input, 1)
	go func() { done <- c.readInput(ctx, cfg) }()
	select {
	case in := <-done:
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readInput reads the CSV and the contact flags into the create body and
// reports every problem with either.
func (c *cli) readInput(ctx context.Context, cfg *config) *input {
	var src io.Reader
	in := &input{name: cfg.csvPath}
	switch cfg.csvPath {
	case "":
		if !cfg.demo {
			in.problems = []problem{{msg: "-csv: is required: name the CSV file of phone numbers (- for standard input), or use -fetch or -status"}}
			return in
		}
		src, in.name = bytes.NewReader(sampleCSV), "sample.csv (bundled)"
	case "-":
		src, in.name = c.stdin, "standard input"
	default:
		f, err := os.Open(cfg.csvPath)
		if err != nil {
			in.problems = []problem{{msg: "-csv: " + err.Error()}}
			return in
		}
		defer func() { _ = f.Close() }() // read-only
		if st, err := f.Stat(); err == nil && st.IsDir() {
			in.problems = []problem{{msg: "-csv: " + cfg.csvPath + " is a directory, not a CSV file"}}
			return in
		}
		src = f
	}
	br := newBoundedReader(ctx, src, c.inputLimit(), c.lineLimit())

	var flagProblems []problem
	if cfg.email == "" {
		flagProblems = append(flagProblems, problem{msg: "-email: is required: the owner's e-mail address, where the authorisation document is sent"})
	}
	if cfg.addressSID == "" {
		flagProblems = append(flagProblems, problem{msg: "-address-sid: is required: the AD… SID of the address the numbers are registered at"})
	}
	in.params = contactOf(cfg).Params(nil)
	var problems []problem
	count := 0
	if stream := src != c.stdin && cfg.csvPath != "" && !cfg.dryRun && !cfg.demo; stream {
		// Checked a chunk at a time; the journal reads the file again.
		in.streamed, in.path = true, cfg.csvPath
		chunk := &numberList{phoneReported: make(map[int]bool)}
		first := true
		check := func() {
			params := contactOf(cfg).Params(chunk.numbers)
			for _, p := range validationProblems(params, chunk) {
				if p.line > 0 || first {
					problems = append(problems, p)
				}
			}
			first = false
			chunk.numbers, chunk.lines = chunk.numbers[:0], chunk.lines[:0]
		}
		_, csvProblems := scanNumbers(br, chunk.phoneReported, func(n hostednumbers.Number, line int) bool {
			chunk.numbers = append(chunk.numbers, n)
			chunk.lines = append(chunk.lines, line)
			count++
			if len(chunk.numbers) == validationChunk {
				check()
			}
			return true
		})
		if len(chunk.numbers) > 0 || first {
			check()
		}
		problems = append(problems, csvProblems...)
	} else {
		list, csvProblems := readNumbers(br)
		if list == nil {
			list = &numberList{} // the header is unusable; the flags can still be checked
		}
		in.list = list
		in.params.RequestItems[0].Numbers = list.numbers
		count = len(list.numbers)
		problems = append(validationProblems(in.params, list), csvProblems...)
	}
	in.id = migrate.Input{Name: in.name, SHA256: br.digest(), Numbers: count}
	var limit *inputLimitError
	if errors.As(br.err, &limit) {
		// Nothing after the limit was read: the rest of the report would
		// be about a cut-off file.
		in.problems = []problem{{msg: "-csv " + in.name + ": " + limit.Error()}}
		return in
	}
	// Flags first, then the CSV by line.
	slices.SortStableFunc(problems, func(a, b problem) int { return a.line - b.line })
	in.problems = append(flagProblems, problems...)
	return in
}

// inputLimit and lineLimit are the input's limits.
func (c *cli) inputLimit() int64 {
	if c.maxInput > 0 {
		return c.maxInput
	}
	return defaultMaxInputBytes
}

func (c *cli) lineLimit() int64 {
	if c.maxLine > 0 {
		return c.maxLine
	}
	return defaultMaxLineBytes
}

// reportProblems prints the problems with the input and returns exitError.
func (c *cli) reportProblems(in *input) int {
	msgs := make([]string, len(in.problems))
	for i, p := range in.problems {
		msgs[i] = p.String()
	}
	where := "the flags"
	if in.name != "" {
		where += " and " + in.name
	}
	c.fail(fmt.Sprintf("%d problem%s with %s; nothing was submitted", len(msgs), plural(len(msgs)), where), msgs)
	fmt.Fprintf(c.stderr, "bulkhost: %d problem%s with %s; nothing was submitted:\n", len(msgs), plural(len(msgs)), where)
	for _, m := range msgs {
		fmt.Fprintf(c.stderr, "  %s\n", m)
	}
	return exitError
}

// fetch shows an existing bulk hosting request, following it first with -wait.
func (c *cli) fetch(ctx context.Context, cfg *config) int {
	client, cleanup, err := c.client(cfg, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return exitError
	}
	defer cleanup()
	if cfg.wait {
		return c.follow(ctx, client, cfg, cfg.fetchSID)
	}
	order, err := client.BulkHostedNumberOrders.Fetch(ctx, cfg.fetchSID, nil)
	if err != nil {
		return c.printError(ctx, fmt.Sprintf("fetching %s", cfg.fetchSID), err, cfg)
	}
	return c.show(order, cfg)
}

// follow waits for one bulk request to be processed, drawing progress on
// stderr, and shows the final results.
func (c *cli) follow(ctx context.Context, client *hostednumbers.Client, cfg *config, sid string) int {
	p := newProgress(c.stderr, c.terminal(c.stderr), cfg.jsonOut)
	p.start("bulkhost: waiting for " + sid + " to be processed")
	opts := &hostednumbers.WaitOptions{PollInterval: cfg.poll, OnSnapshot: func(o *hostednumbers.BulkHostedNumberOrder) { p.update(progressLine(o)) }}
	order, err := client.BulkHostedNumberOrders.Wait(ctx, sid, opts)
	if err == nil {
		// PROCESSED means the orders exist: each number then goes on by
		// its hosted number order, the authority, until it is final.
		order, err = c.followOrders(ctx, client, order, cfg, p)
	}
	p.done()
	if err != nil {
		code := c.printError(ctx, fmt.Sprintf("waiting for %s", sid), err, cfg)
		if order != nil {
			fmt.Fprintf(c.stderr, "bulkhost: last known state: %s\n", progressLine(order))
		}
		fmt.Fprintf(c.stderr, "bulkhost: the request exists; follow it again with: bulkhost -live -fetch %s -wait\n", sid)
		return code
	}
	return c.show(order, cfg)
}

// followOrders follows each number of a processed bulk request by its
// hosted number order until every one is completed, failed or needs
// action, and returns the request with its results regrouped by those
// statuses.
func (c *cli) followOrders(ctx context.Context, client *hostednumbers.Client, order *hostednumbers.BulkHostedNumberOrder, cfg *config, p *progress) (*hostednumbers.BulkHostedNumberOrder, error) {
	results := order.Orders()
	interval := cfg.poll
	for {
		pending := 0
		for i := range results {
			if migrate.Final(string(results[i].Status)) || results[i].HostingOrderSID == "" {
				continue
			}
			pending++
			o, err := client.HostedNumberOrders.Fetch(ctx, results[i].HostingOrderSID)
			if err != nil {
				return order, err
			}
			results[i].Status, results[i].FailureReason, results[i].NextStep = o.Status, o.FailureReason, o.NextStep
		}
		out := *order
		out.Results = nil
		for _, r := range results {
			k := slices.IndexFunc(out.Results, func(g hostednumbers.ResultGroup) bool { return g.OrderStatus == r.Status })
			if k < 0 {
				out.Results = append(out.Results, hostednumbers.ResultGroup{OrderStatus: r.Status, RawOrderStatus: string(r.Status)})
				k = len(out.Results) - 1
			}
			out.Results[k].Orders = append(out.Results[k].Orders, r)
			out.Results[k].Count++
		}
		p.update(progressLine(&out))
		done := true
		for _, r := range results {
			done = done && (migrate.Final(string(r.Status)) || r.HostingOrderSID == "")
		}
		if done || pending == 0 {
			return &out, nil
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return &out, ctx.Err()
		case <-t.C:
		}
		interval = min(2*interval, hostednumbers.DefaultMaxPollInterval)
	}
}

// show prints the order as a table or JSON and picks the exit status.
func (c *cli) show(order *hostednumbers.BulkHostedNumberOrder, cfg *config) int {
	var err error
	if cfg.jsonOut {
		err = writeJSON(c.stdout, order)
	} else {
		err = writeTable(c.stdout, order)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: writing the results: %v\n", err)
		return exitError
	}
	if failed := order.Failed(); len(failed) > 0 {
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s failed or need%s action: see the DETAIL of each.\n",
			len(failed), plural(len(failed)), verbS(len(failed)))
		return exitFailures
	}
	return exitOK
}

// client returns the API client for the mode, and what to call when done.
// The demo's client talks to srv.
func (c *cli) client(cfg *config, srv *hostednumberstest.Server) (*hostednumbers.Client, func(), error) {
	if cfg.demo {
		client := srv.Client(hostednumbers.WithUserAgentSuffix("bulkhost"), hostednumbers.WithTimeout(cfg.attemptTimeout))
		return client, client.CloseIdleConnections, nil
	}
	client, err := c.liveClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(c.stderr, "bulkhost: using %s as account %s.\n", client.BaseURL(), client.AccountSID())
	return client, client.CloseIdleConnections, nil
}

// liveClient builds the client from the environment (through c.getenv)
// as hostednumbers.NewClientFromEnv does; its errors name the variables.
func (c *cli) liveClient(cfg *config) (*hostednumbers.Client, error) {
	opts := []hostednumbers.Option{hostednumbers.WithEnv(c.getenv)}
	if testURL := c.getenv(envTestBaseURL); testURL != "" {
		if !loopbackURL(testURL) {
			return nil, errors.New("the Twilio settings in the environment: " + envTestBaseURL + ": is for tests against a local fake server only: it must be an http URL on a loopback address")
		}
		opts = append(opts, hostednumbers.WithBaseURL(testURL), hostednumbers.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	}
	opts = append(opts, hostednumbers.WithUserAgentSuffix("bulkhost"), hostednumbers.WithTimeout(cfg.attemptTimeout))
	opts = append(opts, c.clientOptions...)
	client, err := hostednumbers.NewClientFromEnv(opts...)
	if err != nil {
		var ve *hostednumbers.ValidationError
		if errors.As(err, &ve) {
			msgs := make([]string, len(ve.Problems))
			for i, p := range ve.Problems {
				msgs[i] = p.String()
			}
			return nil, fmt.Errorf("the Twilio settings in the environment: %s", strings.Join(msgs, "; "))
		}
		return nil, err
	}
	return client, nil
}

// loopbackURL reports whether raw is an http URL on a loopback address.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *cli) terminal(w io.Writer) bool {
	if c.isTerminal != nil {
		return c.isTerminal(w)
	}
	if c.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (c *cli) printProblems(title string, msgs []string) {
	if len(msgs) == 1 {
		c.fail(msgs[0], nil)
		fmt.Fprintf(c.stderr, "bulkhost: %s\n", msgs[0])
		return
	}
	c.fail(fmt.Sprintf("%s: %d problems", title, len(msgs)), slices.Clone(msgs))
	fmt.Fprintf(c.stderr, "bulkhost: %s: %d problems:\n", title, len(msgs))
	for _, m := range msgs {
		fmt.Fprintf(c.stderr, "  %s\n", m)
	}
}

// interrupted reports whether the run was stopped by SIGINT or SIGTERM.
func (c *cli) interrupted() bool { return c.signals != nil && c.signals.Err() != nil }

// printError prints err with the particulars of an API error and returns
// the exit status it calls for: exitInterrupted after SIGINT or SIGTERM,
// exitError otherwise.
func (c *cli) printError(ctx context.Context, what string, err error, cfg *config) int {
	if c.interrupted() {
		c.fail(what+": interrupted", nil)
		fmt.Fprintf(c.stderr, "bulkhost: %s: interrupted\n", what)
		return exitInterrupted
	}
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) && (apiErr.HTTPStatus == 401 || apiErr.HTTPStatus == 403) {
		// The credentials first: they are what the operator must fix.
		msg := fmt.Sprintf("Twilio refused the credentials (HTTP %d): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "+
			"(or TWILIO_API_KEY and TWILIO_API_SECRET); %s: %v", apiErr.HTTPStatus, what, err)
		c.fail(msg, nil)
		fmt.Fprintf(c.stderr, "bulkhost: %s\n", msg)
	} else {
		c.fail(fmt.Sprintf("%s: %v", what, err), nil)
		fmt.Fprintf(c.stderr, "bulkhost: %s: %v\n", what, err)
	}
	if apiErr != nil {
		fmt.Fprintf(c.stderr, "  HTTP status:        %d\n", apiErr.HTTPStatus)
		if apiErr.Code != 0 {
			fmt.Fprintf(c.stderr, "  Twilio error code:  %d", apiErr.Code)
			if apiErr.MoreInfo != "" {
				fmt.Fprintf(c.stderr, " (%s)", apiErr.MoreInfo)
			}
			fmt.Fprintln(c.stderr)
		}
		if apiErr.RequestID != "" {
			fmt.Fprintf(c.stderr, "  Twilio-Request-Id:  %s\n", apiErr.RequestID)
		}
	}
	var decodeErr *hostednumbers.DecodeError
	if errors.As(err, &decodeErr) && decodeErr.RequestID != "" {
		fmt.Fprintf(c.stderr, "  Twilio-Request-Id:  %s\n", decodeErr.RequestID)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			fmt.Fprintf(c.stderr, "  the run took longer than -timeout (%v) allows\n", cfg.timeout)
		} else {
			fmt.Fprintf(c.stderr, "  one attempt of the request took longer than -attempt-timeout (%v) allows (the client's hostednumbers.WithTimeout); "+
				"raise -attempt-timeout if the network or the API is slow\n", cfg.attemptTimeout)
		}
	}
	return exitError
}

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

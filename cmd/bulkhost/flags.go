package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/pgstore"
)

// Defaults.
const (
	defaultPoll           = 2 * time.Second
	defaultTimeout        = 30 * time.Minute
	defaultAttemptTimeout = hostednumbers.DefaultTimeout
	defaultBatchSize      = 1000
	defaultSettle         = hostednumbers.DefaultProcessingWindow
)

// credentialVars are the environment variables that hold Twilio credentials.
func credentialVars() [4]string {
	return [4]string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"}
}

// config is the parsed command line.
type config struct {
	csvPath                       string
	email, addressSID             string
	contactPhone, contactTitle    string
	friendlyName, notificationEml string
	fetchSID                      string
	statePath                     string
	// database is the PostgreSQL database of -state postgres://…, nil
	// for a journal file; statePath is then its DSN without the password.
	database          *database
	schema, migration string
	// worker and claimTTL are the claims of a process that shares a
	// database: its name in them ("" for the engine's), and how long one
	// lasts unless renewed (0 for the engine's default).
	worker                        string
	claimTTL                      time.Duration
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
	// sample is the input when no -csv is given (the demo's), nil when
	// -csv is required.
	sample []byte
	// maxPoll is the longest interval between refreshes.
	maxPoll time.Duration
}

func (c *cli) parseFlags(args []string) (*config, error) {
	cfg := &config{given: make(map[string]bool), maxPoll: hostednumbers.DefaultMaxPollInterval}
	fs := flag.NewFlagSet("bulkhost", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // a parse error is printed below, as a problem
	fs.StringVar(&cfg.csvPath, "csv", "", "read the phone numbers from this CSV `file` (- for standard input)")
	fs.StringVar(&cfg.email, "email", "", "owner's e-mail `address`, where the authorisation document goes (required to submit)")
	fs.StringVar(&cfg.addressSID, "address-sid", "", "`AD…` SID of the address the numbers are registered at (required to submit)")
	fs.StringVar(&cfg.contactPhone, "contact-phone", "", "authorised contact's phone `number`, E.164")
	fs.StringVar(&cfg.contactTitle, "contact-title", "", "authorised contact's job `title`")
	fs.StringVar(&cfg.friendlyName, "friendly-name", "", "`label` of each bulk hosting request (at most 128 characters)")
	fs.StringVar(&cfg.notificationEml, "notification-email", "", "`address` for Twilio's notices about the requests")
	fs.StringVar(&cfg.statePath, "state", "", "the migration's journal `file` (default: the CSV's path + "+journalSuffix+"; the demo: a temporary file), or a PostgreSQL database, postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=…, that several bulkhost processes can share")
	fs.StringVar(&cfg.schema, "schema", "", "with -state postgres://…: the PostgreSQL `schema` of the migration's tables, made if missing (default "+pgstore.DefaultSchema+")")
	fs.StringVar(&cfg.worker, "worker", "", "with -state postgres://…: this process's `name` in its claims on batches (default: the host, the process ID and a random suffix)")
	fs.DurationVar(&cfg.claimTTL, "claim-ttl", 0, "with -state postgres://…: how long a claim on a batch lasts unless renewed, so how long the batches of a process that died wait for another (default "+migrate.DefaultClaimTTL.String()+", or longer if -attempt-timeout needs it)")
	fs.StringVar(&cfg.migration, "migration", "", "with -state postgres://…: the migration's `name` in the schema, so that one database holds several (default "+pgstore.DefaultMigration+")")
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
			return nil, exitWith(exitOK)
		}
		return nil, badCommandLine(err.Error() + " (run bulkhost -h for usage)")
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
	if cfg.given["claim-ttl"] && cfg.claimTTL <= 0 {
		problems = append(problems, "-claim-ttl: must be positive")
	}
	if cfg.attemptTimeout <= 0 {
		problems = append(problems, "-attempt-timeout: must be positive")
	}
	if cfg.concurrency < 1 || cfg.concurrency > migrate.MaxConcurrency {
		problems = append(problems, fmt.Sprintf("-concurrency: must be from 1 to %d", migrate.MaxConcurrency))
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
	if isDatabase(cfg.statePath) {
		cfg.database = newDatabase(cfg.statePath, cfg.schema, cfg.migration)
		cfg.statePath = cfg.database.name()
	} else {
		for _, name := range []string{"schema", "migration", "worker", "claim-ttl"} {
			if cfg.given[name] {
				problems = append(problems, fmt.Sprintf("-%s: applies to -state postgres://… only (a PostgreSQL database); a journal file holds one migration", name))
			}
		}
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
		return nil, badCommandLine(problems...)
	}
	return cfg, nil
}

// checkMode decides between the real API and the demo: Twilio only with
// credentials and -live; the local fake server with no credentials at all.
func (c *cli) checkMode(cfg *config) error {
	if cfg.export != "" {
		return nil // the journal only: no API, no credentials
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
		return badCommandLine([]string{
			"-live: no Twilio credentials in the environment: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)",
		}...)
	case len(present) > 0 && !cfg.live && !cfg.dryRun:
		return &runError{code: exitError,
			msg: fmt.Sprintf("refusing to run: %s %s set, so this would call the real Twilio API.", strings.Join(present, " and "), pluralVerb(len(present))),
			hints: []string{"Pass -live to do that (it submits real hosting requests), or -dry-run to only check the input,",
				"or unset the TWILIO_* credentials to run the demo against a local fake server."}}
	case len(present) == 0 && cfg.csvPath != "" && !cfg.dryRun:
		// An operator's own numbers never go to the demo's fake server
		// unless asked: they would seem submitted and be nowhere.
		return badCommandLine([]string{
			"no Twilio credentials in the environment: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) and pass -live to submit " +
				cfg.csvPath + " to Twilio, or pass -demo to try it against a local fake server",
		}...)
	case len(present) == 0:
		cfg.demo = true
	}
	if !cfg.demo {
		return nil
	}
	if cfg.database != nil {
		return badCommandLine([]string{
			"-state: a PostgreSQL database does not go with the demo: its fake server lives for one run, so the demo keeps its migration in a file (a temporary one, or the file -state names); " +
				"pass -live with Twilio credentials to use the database",
		}...)
	}
	if cfg.resubmit != "" {
		return badCommandLine([]string{
			"-resubmit: does not apply to the demo: its fake server lives for one run, so there is nothing earlier to submit again",
		}...)
	}
	for _, mode := range []struct {
		on   bool
		name string
	}{{cfg.fetchSID != "", "-fetch"}, {cfg.status, "-status"}} {
		if mode.on {
			return badCommandLine([]string{
				mode.name + ": needs -live and Twilio credentials in the environment; without them bulkhost runs against a fresh local fake server, which holds no requests",
			}...)
		}
	}
	c.demoConfig(cfg)
	return nil
}

package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// sampleCSV is the input of the demo when no -csv is given.
//
//go:embed sample.csv
var sampleCSV []byte

// Exit statuses.
const (
	exitOK       = 0 // everything went well
	exitFailures = 1 // some number failed or needs action
	exitError    = 2 // bad input, or the API or network failed
)

// Defaults.
const (
	defaultPoll     = 2 * time.Second
	defaultDemoPoll = 200 * time.Millisecond
	defaultTimeout  = 30 * time.Minute
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
	// hostednumberstest.NewServer with numbers ending in 9 failing.
	newDemoServer func() *hostednumberstest.Server
}

// config is the parsed command line.
type config struct {
	csvPath                       string
	email, addressSID             string
	contactPhone, contactTitle    string
	friendlyName, notificationEml string
	fetchSID                      string
	wait, live, jsonOut, dryRun   bool
	poll, timeout                 time.Duration
	given                         map[string]bool // flags set on the command line

	demo bool // no credentials: run against an embedded fake server
}

func (c *cli) run(ctx context.Context, args []string) int {
	cfg, code, ok := c.parseFlags(args)
	if !ok {
		return code
	}
	if code, ok := c.checkMode(cfg); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if cfg.fetchSID != "" {
		return c.fetch(ctx, cfg)
	}
	return c.submit(ctx, cfg)
}

func (c *cli) parseFlags(args []string) (*config, int, bool) {
	cfg := &config{given: make(map[string]bool)}
	fs := flag.NewFlagSet("bulkhost", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&cfg.csvPath, "csv", "", "read the phone numbers from this CSV `file` (- for standard input)")
	fs.StringVar(&cfg.email, "email", "", "owner's e-mail `address`, where the authorisation document goes (required to submit)")
	fs.StringVar(&cfg.addressSID, "address-sid", "", "`AD…` SID of the address the numbers are registered at (required to submit)")
	fs.StringVar(&cfg.contactPhone, "contact-phone", "", "authorised contact's phone `number`, E.164")
	fs.StringVar(&cfg.contactTitle, "contact-title", "", "authorised contact's job `title`")
	fs.StringVar(&cfg.friendlyName, "friendly-name", "", "`label` of the bulk hosting request (at most 128 characters)")
	fs.StringVar(&cfg.notificationEml, "notification-email", "", "`address` for Twilio's notices about the request")
	fs.StringVar(&cfg.fetchSID, "fetch", "", "show the existing bulk hosting request `BH…` instead of submitting one")
	fs.BoolVar(&cfg.wait, "wait", false, "follow the request until it is PROCESSED, then show the results (implied by the demo)")
	fs.DurationVar(&cfg.poll, "poll", defaultPoll, "first `interval` between fetches with -wait; it doubles up to a minute (demo: 200ms, steady)")
	fs.DurationVar(&cfg.timeout, "timeout", defaultTimeout, "give up on the whole run after this `duration`")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the result as one JSON document instead of a table")
	fs.BoolVar(&cfg.live, "live", false, "use the real Twilio API with the credentials in the environment")
	fs.BoolVar(&cfg.dryRun, "dry-run", false, "check the CSV and flags, print the request body, and send nothing")
	// flag calls Usage after every parse error as well as for -h: print
	// the long text only when it was asked for.
	fs.Usage = func() {}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs)
			return nil, exitOK, false
		}
		// flag has printed the error.
		fmt.Fprintln(c.stderr, "bulkhost: run bulkhost -h for usage")
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
	if cfg.fetchSID != "" {
		if !format.SID(cfg.fetchSID, "BH") {
			problems = append(problems, fmt.Sprintf("-fetch: %q is not a bulk hosting SID (BH and 32 hex digits)", cfg.fetchSID))
		}
		for _, name := range []string{"csv", "email", "address-sid", "contact-phone", "contact-title", "friendly-name", "notification-email", "dry-run"} {
			if cfg.given[name] {
				problems = append(problems, fmt.Sprintf("-%s: does not apply to -fetch, which shows an existing request", name))
			}
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
	var present []string
	for _, name := range credentialVars() {
		if c.getenv(name) != "" {
			present = append(present, name)
		}
	}
	switch {
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
	case len(present) == 0:
		cfg.demo = true
	}
	if !cfg.demo {
		return exitOK, true
	}
	if cfg.fetchSID != "" {
		c.printProblems("bad command line", []string{
			"-fetch: needs -live and Twilio credentials in the environment; without them bulkhost runs against a fresh local fake server, which holds no requests",
		})
		return exitError, false
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
	source := "the bundled sample CSV"
	if cfg.csvPath != "" {
		source = cfg.csvPath
	}
	fmt.Fprintf(c.stderr, "bulkhost: no Twilio credentials in the environment: running against a local fake server with %s.\n"+
		"bulkhost: the fake server fails every number ending in 9, so this demo ends with exit status 1.\n"+
		"bulkhost: to use Twilio, set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and pass -live.\n", source)
	c.applyDemoDefaults(cfg)
	cfg.wait = true
	if !cfg.given["poll"] {
		cfg.poll = defaultDemoPoll
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

// readInput reads the CSV and the contact flags into the create body and
// reports every problem with either.
func (c *cli) readInput(cfg *config) (*hostednumbers.CreateBulkHostedNumberOrderParams, string, []problem) {
	var src io.Reader
	name := cfg.csvPath
	switch cfg.csvPath {
	case "":
		if !cfg.demo {
			return nil, "", []problem{{msg: "-csv: is required: name the CSV file of phone numbers (- for standard input), or use -fetch"}}
		}
		src, name = bytes.NewReader(sampleCSV), "sample.csv (bundled)"
	case "-":
		src, name = c.stdin, "standard input"
	default:
		f, err := os.Open(cfg.csvPath)
		if err != nil {
			return nil, name, []problem{{msg: "-csv: " + err.Error()}}
		}
		defer f.Close()
		src = f
	}

	var flagProblems []problem
	if cfg.email == "" {
		flagProblems = append(flagProblems, problem{msg: "-email: is required: the owner's e-mail address, where the authorisation document is sent"})
	}
	if cfg.addressSID == "" {
		flagProblems = append(flagProblems, problem{msg: "-address-sid: is required: the AD… SID of the address the numbers are registered at"})
	}
	list, csvProblems := readNumbers(src)
	if list == nil {
		list = &numberList{} // the header is unusable; the flags can still be checked
	}
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{
		FriendlyName:      cfg.friendlyName,
		NotificationEmail: cfg.notificationEml,
		RequestItems: []hostednumbers.RequestItem{{
			Email:              cfg.email,
			AddressSID:         cfg.addressSID,
			ContactPhoneNumber: cfg.contactPhone,
			ContactTitle:       cfg.contactTitle,
			Numbers:            list.numbers,
		}},
	}
	problems := append(validationProblems(params, list), csvProblems...)
	// Flags first, then the CSV by line.
	slices.SortStableFunc(problems, func(a, b problem) int { return a.line - b.line })
	return params, name, append(flagProblems, problems...)
}

// submit creates one bulk hosting request from the CSV and, with -wait,
// follows it to the end.
func (c *cli) submit(ctx context.Context, cfg *config) int {
	params, name, problems := c.readInput(cfg)
	if len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.String()
		}
		where := "the flags"
		if name != "" {
			where += " and " + name
		}
		fmt.Fprintf(c.stderr, "bulkhost: %d problem%s with %s; nothing was submitted:\n", len(msgs), plural(len(msgs)), where)
		for _, m := range msgs {
			fmt.Fprintf(c.stderr, "  %s\n", m)
		}
		return exitError
	}
	count := len(params.RequestItems[0].Numbers)
	if cfg.dryRun {
		body, err := params.MarshalJSON()
		if err != nil {
			fmt.Fprintf(c.stderr, "bulkhost: encoding the request: %v\n", err)
			return exitError
		}
		c.stdout.Write(append(body, '\n'))
		fmt.Fprintf(c.stderr, "bulkhost: %d number%s in %s and the flags are valid; nothing was submitted (-dry-run).\n", count, plural(count), name)
		return exitOK
	}

	client, cleanup, err := c.client(cfg)
	if err != nil {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return exitError
	}
	defer cleanup()

	order, err := client.BulkHostedNumberOrders.Create(ctx, params)
	if err != nil {
		c.printCreateError(err)
		return exitError
	}
	if !cfg.jsonOut {
		fmt.Fprintln(c.stdout, order.BulkHostingSID)
	}
	fmt.Fprintf(c.stderr, "bulkhost: submitted %d number%s as bulk hosting request %s (%s).\n",
		count, plural(count), order.BulkHostingSID, order.RequestStatus)
	if !cfg.wait {
		if cfg.jsonOut {
			if err := writeJSON(c.stdout, order); err != nil {
				fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
				return exitError
			}
		}
		fmt.Fprintf(c.stderr, "bulkhost: follow it with: bulkhost -live -fetch %s -wait\n", order.BulkHostingSID)
		return exitOK
	}
	return c.follow(ctx, client, cfg, order.BulkHostingSID)
}

// fetch shows an existing bulk hosting request, following it first with -wait.
func (c *cli) fetch(ctx context.Context, cfg *config) int {
	client, cleanup, err := c.client(cfg)
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
		c.printError(fmt.Sprintf("fetching %s", cfg.fetchSID), err)
		return exitError
	}
	return c.show(order, cfg)
}

// follow waits for the request to be processed, drawing progress on
// stderr, and shows the final results.
func (c *cli) follow(ctx context.Context, client *hostednumbers.Client, cfg *config, sid string) int {
	p := newProgress(c.stderr, c.terminal(c.stderr), sid)
	opts := &hostednumbers.WaitOptions{PollInterval: cfg.poll, OnSnapshot: p.update}
	if cfg.demo {
		opts.MaxPollInterval = cfg.poll
	}
	order, err := client.BulkHostedNumberOrders.Wait(ctx, sid, opts)
	p.done()
	if err != nil {
		c.printError(fmt.Sprintf("waiting for %s", sid), err)
		if order != nil {
			fmt.Fprintf(c.stderr, "bulkhost: last known state: %s\n", progressLine(order))
		}
		if !cfg.demo {
			fmt.Fprintf(c.stderr, "bulkhost: the request exists; follow it again with: bulkhost -live -fetch %s -wait\n", sid)
		}
		return exitError
	}
	return c.show(order, cfg)
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
func (c *cli) client(cfg *config) (*hostednumbers.Client, func(), error) {
	if cfg.demo {
		newServer := c.newDemoServer
		if newServer == nil {
			newServer = newDemoServer
		}
		srv := newServer()
		client := srv.Client(hostednumbers.WithUserAgentSuffix("bulkhost"))
		return client, srv.Close, nil
	}
	client, err := c.liveClient()
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(c.stderr, "bulkhost: using %s as account %s.\n", client.BaseURL(), client.AccountSID())
	return client, client.CloseIdleConnections, nil
}

func newDemoServer() *hostednumberstest.Server {
	return hostednumberstest.NewServer(hostednumberstest.WithOutcome(hostednumberstest.FailNumbersEndingIn("9")))
}

// envNameForSetting names the environment variable behind each client
// setting that liveClient takes from the environment.
var envNameForSetting = map[string]string{
	"account_sid": "TWILIO_ACCOUNT_SID",
	"auth_token":  "TWILIO_AUTH_TOKEN",
	"api_key":     "TWILIO_API_KEY",
	"api_secret":  "TWILIO_API_SECRET",
	"region":      "TWILIO_REGION",
	"edge":        "TWILIO_EDGE",
}

// liveClient builds a client from the environment as
// hostednumbers.NewClientFromEnv would, but through c.getenv, and names
// the variables in its errors.
func (c *cli) liveClient() (*hostednumbers.Client, error) {
	get := c.getenv
	sid := get("TWILIO_ACCOUNT_SID")
	var problems []string
	if sid == "" {
		problems = append(problems, "TWILIO_ACCOUNT_SID: is not set")
	}
	opts := make([]hostednumbers.Option, 0, 4+len(c.clientOptions))
	if key := get("TWILIO_API_KEY"); key != "" {
		opts = append(opts, hostednumbers.WithAPIKey(key, get("TWILIO_API_SECRET"), sid))
	} else {
		if get("TWILIO_AUTH_TOKEN") == "" {
			problems = append(problems, "TWILIO_AUTH_TOKEN: is not set (or use TWILIO_API_KEY and TWILIO_API_SECRET)")
		}
		opts = append(opts, hostednumbers.WithCredentials(sid, get("TWILIO_AUTH_TOKEN")))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the Twilio credentials in the environment: %s", strings.Join(problems, "; "))
	}
	if r := get("TWILIO_REGION"); r != "" {
		opts = append(opts, hostednumbers.WithRegion(r))
	}
	if e := get("TWILIO_EDGE"); e != "" {
		opts = append(opts, hostednumbers.WithEdge(e))
	}
	opts = append(opts, hostednumbers.WithUserAgentSuffix("bulkhost"))
	opts = append(opts, c.clientOptions...)
	client, err := hostednumbers.NewClient(opts...)
	if err != nil {
		var ve *hostednumbers.ValidationError
		if errors.As(err, &ve) {
			msgs := make([]string, len(ve.Problems))
			for i, p := range ve.Problems {
				if name, ok := envNameForSetting[p.Field]; ok {
					p.Field = name
				}
				msgs[i] = p.String()
			}
			return nil, fmt.Errorf("the Twilio settings in the environment: %s", strings.Join(msgs, "; "))
		}
		return nil, err
	}
	return client, nil
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
		fmt.Fprintf(c.stderr, "bulkhost: %s\n", msgs[0])
		return
	}
	fmt.Fprintf(c.stderr, "bulkhost: %s: %d problems:\n", title, len(msgs))
	for _, m := range msgs {
		fmt.Fprintf(c.stderr, "  %s\n", m)
	}
}

// printCreateError explains a failed create, above all whether the
// numbers may have been accepted anyway.
func (c *cli) printCreateError(err error) {
	c.printError("submitting the request", err)
	var apiErr *hostednumbers.APIError
	var decodeErr *hostednumbers.DecodeError
	var validationErr *hostednumbers.ValidationError
	switch {
	case errors.As(err, &decodeErr):
		if decodeErr.Accepted() {
			fmt.Fprintf(c.stderr, "bulkhost: Twilio ACCEPTED the request (HTTP %d), but its answer could not be read, so its BH… SID is unknown.\n"+
				"bulkhost: do NOT submit these numbers again blindly: look for the new bulk hosting request in the account first%s.\n",
				decodeErr.HTTPStatus, requestIDHint(decodeErr.RequestID))
		}
	case errors.As(err, &apiErr) && apiErr.HTTPStatus < 500 && apiErr.HTTPStatus != 0:
		fmt.Fprintln(c.stderr, "bulkhost: Twilio refused the request; no bulk hosting request was created.")
	case errors.As(err, &validationErr):
		// Nothing was sent.
	default:
		// A 5xx, a timeout or a broken connection after sending: the
		// server may have processed the request. The client never resends
		// a create in that case, and neither should the operator blindly.
		fmt.Fprintln(c.stderr, "bulkhost: the request may have reached Twilio and been processed all the same:\n"+
			"bulkhost: check the account for a new bulk hosting request before submitting these numbers again.")
	}
}

// printError prints err with the particulars of an API error.
func (c *cli) printError(what string, err error) {
	fmt.Fprintf(c.stderr, "bulkhost: %s: %v\n", what, err)
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) {
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
		if apiErr.HTTPStatus == 401 || apiErr.HTTPStatus == 403 {
			fmt.Fprintln(c.stderr, "  check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)")
		}
	}
	var decodeErr *hostednumbers.DecodeError
	if errors.As(err, &decodeErr) && decodeErr.RequestID != "" {
		fmt.Fprintf(c.stderr, "  Twilio-Request-Id:  %s\n", decodeErr.RequestID)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(c.stderr, "  the run took longer than -timeout allows")
	}
}

func requestIDHint(id string) string {
	if id == "" {
		return ""
	}
	return " (quote Twilio-Request-Id " + id + " to Twilio support)"
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

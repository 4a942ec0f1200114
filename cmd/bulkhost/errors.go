package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hostednumbers/hostednumbers-go"
)

// Exit statuses.
const (
	exitOK          = 0   // everything went well
	exitFailures    = 1   // some number failed or needs action
	exitError       = 2   // bad input, or the API or network failed
	exitPending     = 3   // numbers are still on their way (-status, -wait)
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM; run the same command again to resume
)

// runError is how a mode ends when it does not end with exitOK: its exit
// status and what to say. Each mode returns it to run, which prints it
// and, with -json, makes the error document of it (never of the text
// printed on standard error).
type runError struct {
	code int
	// msg is the summary: "bulkhost: msg" on standard error and the
	// document's "error". Empty when there is nothing more to say (the
	// mode printed its result, and its exit status says the rest).
	msg string
	// problems lists each problem when there were several (the
	// document's "problems"), printed under msg.
	problems []string
	// detail are lines printed under msg (an API error's particulars),
	// not in the document.
	detail []string
	// hints are printed after msg, each as a message of its own: what to
	// do next.
	hints []string
	// printed is set when msg was printed where it happened (an event of
	// the engine told of a failed create): run prints it no more.
	printed bool
	err     error
}

func (e *runError) Error() string {
	if e.msg == "" {
		return "exit status " + strconv.Itoa(e.code)
	}
	return e.msg
}

func (e *runError) Unwrap() error { return e.err }

// failf is an exitError-status error with a formatted message.
func failf(format string, args ...any) *runError {
	err := fmt.Errorf(format, args...)
	return &runError{code: exitError, msg: err.Error(), err: errors.Unwrap(err)}
}

// failed is err as an exitError-status error.
func failed(err error) *runError {
	return &runError{code: exitError, msg: err.Error(), err: err}
}

// exitWith ends a mode that has printed its result with status code.
func exitWith(code int) *runError { return &runError{code: code} }

// codeOf is the exit status of what a mode returned.
func codeOf(err error) int {
	var re *runError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &re):
		return re.code
	}
	return exitError
}

// badCommandLine is the error of problems with the command line: the one
// problem, or every problem under a count.
func badCommandLine(msgs ...string) *runError { return problemsError("bad command line", msgs) }

func problemsError(title string, msgs []string) *runError {
	if len(msgs) == 1 {
		return &runError{code: exitError, msg: msgs[0]}
	}
	return &runError{code: exitError, msg: fmt.Sprintf("%s: %d problems", title, len(msgs)), problems: slices.Clone(msgs)}
}

// printErr prints what err says on standard error, as run does at the end
// of a mode.
func (c *cli) printErr(err error) {
	if err == nil {
		return
	}
	var re *runError
	if !errors.As(err, &re) {
		fmt.Fprintf(c.stderr, "bulkhost: %v\n", err)
		return
	}
	if re.msg != "" && !re.printed {
		if len(re.problems) > 0 {
			fmt.Fprintf(c.stderr, "bulkhost: %s:\n", re.msg)
		} else {
			fmt.Fprintf(c.stderr, "bulkhost: %s\n", re.msg)
		}
		for _, p := range re.problems {
			fmt.Fprintf(c.stderr, "  %s\n", p)
		}
		for _, d := range re.detail {
			fmt.Fprintf(c.stderr, "  %s\n", d)
		}
		re.printed = true
	}
	for _, h := range re.hints {
		fmt.Fprintf(c.stderr, "bulkhost: %s\n", h)
	}
	re.hints = nil
}

// apiError is err of the step what, with the particulars of an API
// error, and the exit status it calls for: exitInterrupted after SIGINT
// or SIGTERM, exitError otherwise.
func (c *cli) apiError(ctx context.Context, what string, err error, cfg *config) *runError {
	if c.interrupted() {
		return &runError{code: exitInterrupted, msg: what + ": interrupted", err: err}
	}
	re := &runError{code: exitError, msg: fmt.Sprintf("%s: %v", what, err), err: err}
	var apiErr *hostednumbers.APIError
	if errors.As(err, &apiErr) && (apiErr.HTTPStatus == 401 || apiErr.HTTPStatus == 403) {
		// The credentials first: they are what the operator must fix.
		re.msg = fmt.Sprintf("Twilio refused the credentials (HTTP %d): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "+
			"(or TWILIO_API_KEY and TWILIO_API_SECRET); %s: %v", apiErr.HTTPStatus, what, err)
	}
	if apiErr != nil {
		re.detail = append(re.detail, fmt.Sprintf("HTTP status:        %d", apiErr.HTTPStatus))
		if apiErr.Code != 0 {
			line := fmt.Sprintf("Twilio error code:  %d", apiErr.Code)
			if apiErr.MoreInfo != "" {
				line += fmt.Sprintf(" (%s)", apiErr.MoreInfo)
			}
			re.detail = append(re.detail, line)
		}
		if apiErr.RequestID != "" {
			re.detail = append(re.detail, "Twilio-Request-Id:  "+apiErr.RequestID)
		}
	}
	var decodeErr *hostednumbers.DecodeError
	if errors.As(err, &decodeErr) && decodeErr.RequestID != "" {
		re.detail = append(re.detail, "Twilio-Request-Id:  "+decodeErr.RequestID)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			re.detail = append(re.detail, fmt.Sprintf("the run took longer than -timeout (%v) allows", cfg.timeout))
		} else {
			re.detail = append(re.detail, fmt.Sprintf("one attempt of the request took longer than -attempt-timeout (%v) allows (the client's hostednumbers.WithTimeout); "+
				"raise -attempt-timeout if the network or the API is slow", cfg.attemptTimeout))
		}
	}
	return re
}

// run runs the mode args ask for, prints how it ended, and returns the
// exit status. With -json, standard output holds exactly one JSON
// document, whatever the exit: when the mode printed none (an error, an
// interrupt), it is the error document, made of the mode's error.
func (c *cli) run(ctx context.Context, args []string) int {
	// A database's password is kept out of everything the command
	// writes: messages name the database by its redacted DSN, and these
	// writers scrub whatever else might quote it (a driver's error).
	secrets := stateSecrets(args)
	c.stdout = newRedactingWriter(c.stdout, secrets)
	c.stderr = newRedactingWriter(c.stderr, secrets)
	out := &countingWriter{w: c.stdout}
	c.stdout = out
	err := c.runMode(ctx, args)
	c.printErr(err)
	code := codeOf(err)
	if !jsonRequested(args) || out.n > 0 {
		return code
	}
	doc := errorDocument{ExitCode: code, Error: "no result"}
	var re *runError
	switch {
	case errors.As(err, &re) && re.msg != "":
		doc.Error, doc.Problems = re.msg, re.problems
	case err != nil && re == nil:
		doc.Error = err.Error()
	}
	data, jerr := json.MarshalIndent(doc, "", "  ")
	if jerr == nil {
		_, jerr = out.Write(append(data, '\n'))
	}
	if jerr != nil {
		fmt.Fprintf(c.stderr, "bulkhost: writing the JSON document: %v\n", jerr)
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

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

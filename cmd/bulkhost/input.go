package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/csvinput"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// input is the checked input of a submit.
type input struct {
	params *hostednumbers.CreateBulkHostedNumberOrderParams
	// list holds every number, unless the input is streamed: a regular
	// file submitted (not a dry run) is read twice, once to
	// check it and once into the journal, and never held whole.
	list     *csvinput.List
	streamed bool
	path     string
	name     string
	id       migrate.Input
	problems []csvinput.Problem
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
		if cfg.sample == nil {
			in.problems = []csvinput.Problem{{Msg: "-csv: is required: name the CSV file of phone numbers (- for standard input), or use -fetch or -status"}}
			return in
		}
		src, in.name = bytes.NewReader(cfg.sample), "sample.csv (bundled)"
	case "-":
		src, in.name = c.stdin, "standard input"
	default:
		f, err := os.Open(cfg.csvPath)
		if err != nil {
			in.problems = []csvinput.Problem{{Msg: "-csv: " + err.Error()}}
			return in
		}
		defer func() { _ = f.Close() }() // read-only
		if st, err := f.Stat(); err == nil && st.IsDir() {
			in.problems = []csvinput.Problem{{Msg: "-csv: " + cfg.csvPath + " is a directory, not a CSV file"}}
			return in
		}
		src = f
	}
	br := csvinput.NewReader(ctx, src, c.inputLimit(), c.lineLimit())

	var flagProblems []csvinput.Problem
	if cfg.email == "" {
		flagProblems = append(flagProblems, csvinput.Problem{Msg: "-email: is required: the owner's e-mail address, where the authorisation document is sent"})
	}
	if cfg.addressSID == "" {
		flagProblems = append(flagProblems, csvinput.Problem{Msg: "-address-sid: is required: the AD… SID of the address the numbers are registered at"})
	}
	in.params = contactOf(cfg).Params(nil)
	var problems []csvinput.Problem
	count := 0
	if stream := src != c.stdin && cfg.csvPath != "" && !cfg.dryRun; stream {
		// Checked a chunk at a time; the journal reads the file again.
		in.streamed, in.path = true, cfg.csvPath
		chunk := &csvinput.List{PhoneReported: make(map[int]bool)}
		first := true
		check := func() {
			params := contactOf(cfg).Params(chunk.Numbers)
			for _, p := range csvinput.Validate(params, chunk) {
				if p.Line > 0 || first {
					problems = append(problems, p)
				}
			}
			first = false
			chunk.Numbers, chunk.Lines = chunk.Numbers[:0], chunk.Lines[:0]
		}
		_, csvProblems := csvinput.Scan(br, chunk.PhoneReported, func(n hostednumbers.Number, line int) bool {
			chunk.Numbers = append(chunk.Numbers, n)
			chunk.Lines = append(chunk.Lines, line)
			count++
			if len(chunk.Numbers) == validationChunk {
				check()
			}
			return true
		})
		if len(chunk.Numbers) > 0 || first {
			check()
		}
		problems = append(problems, csvProblems...)
	} else {
		list, csvProblems := csvinput.Read(br)
		if list == nil {
			list = &csvinput.List{} // the header is unusable; the flags can still be checked
		}
		in.list = list
		in.params.RequestItems[0].Numbers = list.Numbers
		count = len(list.Numbers)
		problems = append(csvinput.Validate(in.params, list), csvProblems...)
	}
	in.id = migrate.Input{Name: in.name, SHA256: br.Digest(), Numbers: count}
	var limit *csvinput.LimitError
	if errors.As(br.Err(), &limit) {
		// Nothing after the limit was read: the rest of the report would
		// be about a cut-off file.
		in.problems = []csvinput.Problem{{Msg: "-csv " + in.name + ": " + limit.Error()}}
		return in
	}
	// Flags first, then the CSV by line.
	slices.SortStableFunc(problems, func(a, b csvinput.Problem) int { return a.Line - b.Line })
	in.problems = append(flagProblems, problems...)
	return in
}

// inputLimit and lineLimit are the input's limits.
func (c *cli) inputLimit() int64 {
	if c.maxInput > 0 {
		return c.maxInput
	}
	return csvinput.DefaultMaxInputBytes
}

func (c *cli) lineLimit() int64 {
	if c.maxLine > 0 {
		return c.maxLine
	}
	return csvinput.DefaultMaxLineBytes
}

// reportProblems is the error of the problems with the input.
func (c *cli) reportProblems(in *input) error {
	msgs := make([]string, len(in.problems))
	for i, p := range in.problems {
		msgs[i] = p.String()
	}
	where := "the flags"
	if in.name != "" {
		where += " and " + in.name
	}
	return &runError{code: exitError, msg: fmt.Sprintf("%d problem%s with %s; nothing was submitted", len(msgs), plural(len(msgs)), where), problems: msgs}
}

// input reads and checks the input, reporting any problem.
func (c *cli) input(ctx context.Context, cfg *config) (*input, error) {
	in, err := c.readInputCtx(ctx, cfg)
	if err != nil {
		if c.interrupted() {
			return nil, &runError{code: exitInterrupted, msg: "interrupted while reading the input; nothing was submitted and no journal was written.", err: err}
		}
		return nil, failf("reading the input: %w (-timeout %v)", err, cfg.timeout)
	}
	if len(in.problems) > 0 {
		return nil, c.reportProblems(in)
	}
	return in, nil
}

// inputNumbers yields the input's numbers as the journal records them. A
// streamed input is read again, and must not have changed since it was
// checked.
func (c *cli) inputNumbers(ctx context.Context, in *input) iter.Seq2[migrate.NumberState, error] {
	return func(yield func(migrate.NumberState, error) bool) {
		if !in.streamed {
			for i, n := range in.list.Numbers {
				if !yield(migrate.NumberState{Number: n, Line: in.list.Lines[i]}, nil) {
					return
				}
			}
			return
		}
		f, err := os.Open(in.path)
		if err != nil {
			yield(migrate.NumberState{}, err)
			return
		}
		defer func() { _ = f.Close() }() // read-only
		br := csvinput.NewReader(ctx, f, c.inputLimit(), c.lineLimit())
		stopped := false
		csvinput.Scan(br, make(map[int]bool), func(n hostednumbers.Number, line int) bool {
			if !yield(migrate.NumberState{Number: n, Line: line}, nil) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return
		}
		if br.Err() != nil && !errors.Is(br.Err(), io.EOF) {
			yield(migrate.NumberState{}, br.Err())
			return
		}
		if d := br.Digest(); d != in.id.SHA256 {
			yield(migrate.NumberState{}, fmt.Errorf("%s changed while bulkhost read it (sha256 %.12s… then %.12s…): nothing was recorded; run again once it is written", in.name, in.id.SHA256, d))
		}
	}
}

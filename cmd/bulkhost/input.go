package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"os"
	"slices"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// Limits on the input. They keep memory bounded whatever the input is: a
// mistyped -csv /dev/zero or a binary file stops with a clear error
// instead of filling the memory.
const (
	defaultMaxInputBytes = 64 << 20 // 64 MiB: about a million numbers
	defaultMaxLineBytes  = 64 << 10 // 64 KiB per line
)

// inputLimitError is an input that broke one of the limits.
type inputLimitError struct {
	line    int   // the line that is too long, 0 for the input as a whole
	limit   int64 // the limit broken, in bytes
	tooLong bool  // a line is too long (else: the input is too large)
}

func (e *inputLimitError) Error() string {
	if e.tooLong {
		return fmt.Sprintf("line %d is longer than %s, the most bulkhost accepts: is this a CSV file of phone numbers?", e.line, sizeText(e.limit))
	}
	return fmt.Sprintf("the input is larger than %s, the most bulkhost reads at once: split it into several files, each with its own journal (-state)", sizeText(e.limit))
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// boundedReader passes its input through while enforcing the limits,
// stopping when ctx ends, and hashing what it passes (without a UTF-8 byte
// order mark, so that saving the same file from another editor is the same
// input).
type boundedReader struct {
	ctx      context.Context
	r        *bufio.Reader
	maxTotal int64
	maxLine  int64
	total    int64
	lineLen  int64
	line     int
	sum      hash.Hash
	started  bool
	err      error
}

func newBoundedReader(ctx context.Context, r io.Reader, maxTotal, maxLine int64) *boundedReader {
	return &boundedReader{ctx: ctx, r: bufio.NewReaderSize(r, 64<<10), maxTotal: maxTotal, maxLine: maxLine, line: 1, sum: sha256.New()}
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return 0, err
	}
	if !b.started {
		b.started = true
		// A spreadsheet's byte order mark would make a quoted first
		// header cell a CSV syntax error: drop it here.
		if head, _ := b.r.Peek(len(utf8BOM)); bytes.Equal(head, utf8BOM) {
			_, _ = b.r.Discard(len(utf8BOM)) // Peek just showed these bytes are buffered
		}
	}
	n, err := b.r.Read(p)
	chunk := p[:n]
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		seg := chunk
		if i >= 0 {
			seg = chunk[:i]
		}
		if b.lineLen+int64(len(seg)) > b.maxLine {
			b.err = &inputLimitError{line: b.line, limit: b.maxLine, tooLong: true}
			return 0, b.err
		}
		if i < 0 {
			b.lineLen += int64(len(seg))
			break
		}
		b.lineLen = 0
		b.line++
		chunk = chunk[i+1:]
	}
	b.total += int64(n)
	if b.total > b.maxTotal {
		b.err = &inputLimitError{limit: b.maxTotal}
		return 0, b.err
	}
	b.sum.Write(p[:n])
	return n, err
}

// digest is the hex SHA-256 of everything read so far.
func (b *boundedReader) digest() string { return fmt.Sprintf("%x", b.sum.Sum(nil)) }

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
		if cfg.sample == nil {
			in.problems = []problem{{msg: "-csv: is required: name the CSV file of phone numbers (- for standard input), or use -fetch or -status"}}
			return in
		}
		src, in.name = bytes.NewReader(cfg.sample), "sample.csv (bundled)"
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
	if stream := src != c.stdin && cfg.csvPath != "" && !cfg.dryRun; stream {
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
			for i, n := range in.list.numbers {
				if !yield(migrate.NumberState{Number: n, Line: in.list.lines[i]}, nil) {
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
		br := newBoundedReader(ctx, f, c.inputLimit(), c.lineLimit())
		stopped := false
		scanNumbers(br, make(map[int]bool), func(n hostednumbers.Number, line int) bool {
			if !yield(migrate.NumberState{Number: n, Line: line}, nil) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return
		}
		if br.err != nil && !errors.Is(br.err, io.EOF) {
			yield(migrate.NumberState{}, br.err)
			return
		}
		if d := br.digest(); d != in.id.SHA256 {
			yield(migrate.NumberState{}, fmt.Errorf("%s changed while bulkhost read it (sha256 %.12s… then %.12s…): nothing was recorded; run again once it is written", in.name, in.id.SHA256, d))
		}
	}
}

package csvinput

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
)

// Limits on the input. They keep memory bounded whatever the input is: a
// mistyped -csv /dev/zero or a binary file stops with a clear error
// instead of filling the memory.
const (
	DefaultMaxInputBytes = 64 << 20 // 64 MiB: about a million numbers
	DefaultMaxLineBytes  = 64 << 10 // 64 KiB per line
)

// LimitError is an input that broke one of the limits.
type LimitError struct {
	line    int   // the line that is too long, 0 for the input as a whole
	limit   int64 // the limit broken, in bytes
	tooLong bool  // a line is too long (else: the input is too large)
}

func (e *LimitError) Error() string {
	if e.tooLong {
		return fmt.Sprintf("line %d is longer than %s, the most bulkhost accepts: is this a CSV file of phone numbers?", e.line, SizeText(e.limit))
	}
	return fmt.Sprintf("the input is larger than %s, the most bulkhost reads at once: split it into several files, each with its own journal (-state)", SizeText(e.limit))
}

// SizeText is n bytes as a person reads it: "64 KiB".
func SizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Reader passes its input through while enforcing the limits,
// stopping when ctx ends, and hashing what it passes (without a UTF-8 byte
// order mark, so that saving the same file from another editor is the same
// input).
type Reader struct {
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

// NewReader reads r through the limits: at most maxTotal bytes in all and
// maxLine a line.
func NewReader(ctx context.Context, r io.Reader, maxTotal, maxLine int64) *Reader {
	return &Reader{ctx: ctx, r: bufio.NewReaderSize(r, 64<<10), maxTotal: maxTotal, maxLine: maxLine, line: 1, sum: sha256.New()}
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// Read implements io.Reader.
func (b *Reader) Read(p []byte) (int, error) {
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
			b.err = &LimitError{line: b.line, limit: b.maxLine, tooLong: true}
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
		b.err = &LimitError{limit: b.maxTotal}
		return 0, b.err
	}
	b.sum.Write(p[:n])
	return n, err
}

// Digest is the hex SHA-256 of everything read so far (a byte order mark
// left out).
func (b *Reader) Digest() string { return fmt.Sprintf("%x", b.sum.Sum(nil)) }

// Err is why the reading stopped: nil while it has not, io.EOF at the
// end, a *LimitError when a limit was broken.
func (b *Reader) Err() error { return b.err }

// Line is the line a LimitError is about, 0 for the input as a whole.
func (e *LimitError) Line() int { return e.line }

// Package recordlog is the one durable record log of the migration
// engine's file stores (migrate/logstore and preflight.FileStore): the
// only code of theirs that touches the disk. Every safety rule of a
// store file lives here once:
//
//   - Framing. A log is a sequence of lines. Each line is the CRC-32C
//     (Castagnoli) of its payload in eight lower-case hex digits, a space,
//     the payload (one JSON value, never a newline), and a newline. Line 1
//     is a header record naming the log's format and its version:
//     {"k":"header","store":NAME,"format":VERSION}.
//   - The torn-tail rule. Only a last line without its newline is a torn
//     append (a crash during the write): it was never acknowledged, and
//     Open cuts it off. A complete line, newline included, whose checksum
//     or framing is wrong is damage, wherever it is: Open refuses the log
//     with a *DamageError naming the line and its byte offset, and leaves
//     the file as it is.
//   - Failing closed. When a write or a sync of the log fails, the state
//     of its end is unknown: after a failed fsync the kernel may have
//     dropped the pages it could not write and report the next fsync as a
//     success ("fsyncgate"). So the Log makes a best effort to cut the
//     record off, and then refuses every later call (errors wrapping
//     ErrFailed), reads included: it never builds on what only the page
//     cache held. Its owner opens the log again, from the disk.
//   - One exclusive lock, flock(2) on the path with ".lock" added (after
//     every symbolic link is resolved), held from Open to Close. A second
//     Open of the same log, in this process or another, gets ErrLocked.
//   - One atomic rewrite (Rewrite): a temporary file in the same
//     directory, written, synced, closed, renamed over the log, then the
//     directory synced. A failure before the rename leaves the log as it
//     was, and usable; a failed directory sync (or reopen) after it fails
//     closed. A log is created the same way, so its directory is synced
//     when the file is created; Open syncs the directory of a log it
//     found too (a killed run may have renamed it into place without the
//     sync). Temporary files a killed run left are removed by Open.
//   - One file system interface, FS: OS is the real one; tests give a
//     fault-injecting one (internal/faultfs) that fails any step and
//     can put the files back to what was durable, as after a power cut.
//
// A Log is not safe for concurrent use: its owner serialises its calls.
package recordlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// FS is what a Log needs of the file system. OS is the real one; tests
// replace it to watch the order of the steps and to make any of them
// fail.
type FS interface {
	CreateTemp(dir, pattern string) (File, error)
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// SyncDir makes the renames and creations in dir durable.
	SyncDir(dir string) error
}

// File is an open file of a log; *os.File is one.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	Name() string
	Sync() error
	Truncate(size int64) error
	Close() error
}

// OS is the operating system's file system.
type OS struct{}

// CreateTemp is os.CreateTemp.
func (OS) CreateTemp(dir, pattern string) (File, error) { return os.CreateTemp(dir, pattern) }

// OpenFile is os.OpenFile.
func (OS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	return os.OpenFile(name, flag, perm) //nolint:gosec // the log's own file, named by its owner
}

// Rename is os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove is os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// SyncDir opens dir and syncs it.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // the log's own directory
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // opened read-only to sync; the sync's error is checked
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// Errors of a Log.
var (
	// ErrLocked is Open's answer when the log is held by another Open, in
	// this process or another.
	ErrLocked = errors.New("is in use by another run")
	// ErrFailed is wrapped by every answer of a Log that failed closed: a
	// write or a sync of the log failed, so what the disk holds is
	// unknown. Close the Log and open it again.
	ErrFailed = errors.New("a write to the log failed, so what the disk holds is unknown; it refuses every call until it is opened again")
)

// DamageError is a log Open refuses: a complete line (with its newline)
// whose framing or checksum is wrong, or that its owner's load function
// refused. The file is left as it is.
type DamageError struct {
	Path string
	// Line is the 1-based line refused (the header is line 1); Offset is
	// the byte where it starts.
	Line   int
	Offset int64
	Reason string
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("%s: is damaged at line %d (byte %d): %s; it is not used, and not overwritten", e.Path, e.Line, e.Offset, e.Reason)
}

// FormatError is a file Open refuses because it is not a log of the
// format asked for, or was written by a newer version of it. The file is
// left as it is.
type FormatError struct {
	Path string
	// Name and Version are the header's, when it has one.
	Name    string
	Version int
	Reason  string
}

func (e *FormatError) Error() string { return e.Path + ": " + e.Reason }

// Span is where a record is in the log.
type Span struct {
	// Off is the offset of its line, N the line's length, newline
	// included.
	Off, N int64
}

// Record is a record Open read: its payload, line and place.
type Record struct {
	Line int
	Span Span
	Data []byte
}

// Options configure Open.
type Options struct {
	// FS is the file system; nil means OS.
	FS FS
	// Name identifies the log's format in its header; Version is the
	// version this program writes and the newest it reads.
	Name    string
	Version int
	// Create makes Open create the log (its header alone, atomically,
	// the directory synced) when there is no file. Without it, the file
	// is created by the first Rewrite.
	Create bool
	// Foreign is called when the file does not begin with a log's
	// header, with the whole file: it returns the records to convert it
	// to (the file is then rewritten as a log of them, atomically), or the
	// error to refuse it with. Nil refuses it with a *FormatError.
	Foreign func(r io.Reader) ([][]byte, error)
	// Load is called with each record of the log, in order, during Open;
	// an error refuses the log (a *DamageError, or the error itself when
	// it is one of the caller's types wrapping nothing of ours).
	Load func(Record) error
}

// Log is an open record log. Its methods must not be called concurrently.
type Log struct {
	path    string
	fs      FS
	o       Options
	unlock  func()
	f       File // nil while there is no file
	size    int64
	version int
	written int64
	failed  error
	closed  bool
	torn    int64
}

// Open opens the log at path (every symbolic link resolved), locks it
// until Close, removes the temporary files a killed run left, reads it,
// calling o.Load with each record, and cuts off a torn last line.
func Open(path string, o Options) (*Log, error) {
	if o.FS == nil {
		o.FS = OS{}
	}
	resolved, err := ResolvePath(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	unlock, err := lock(resolved)
	if err != nil {
		return nil, err
	}
	l := &Log{path: resolved, fs: o.FS, o: o, unlock: unlock}
	if err := l.open(); err != nil {
		if l.f != nil {
			_ = l.f.Close() // refused: the open's error is the one to report
		}
		unlock()
		return nil, err
	}
	return l, nil
}

func (l *Log) open() error {
	if err := l.removeStaleTemps(); err != nil {
		return err
	}
	f, err := l.fs.OpenFile(l.path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if l.o.Create {
			return l.Rewrite(func(*Writer) error { return nil })
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: cannot be opened: %w", l.path, err)
	}
	l.f = f
	if err := l.scan(); err != nil {
		return err
	}
	// The file may be one a killed run renamed into place without the
	// directory sync after it: make its name durable before anything is
	// built on it.
	if err := l.fs.SyncDir(filepath.Dir(l.path)); err != nil {
		return fmt.Errorf("%s: %w", l.path, err)
	}
	return nil
}

// Path is the log's file, symbolic links resolved.
func (l *Log) Path() string { return l.path }

// Size is the size of the log's whole records, header included: where
// the next record goes. It is 0 while there is no file.
func (l *Log) Size() int64 { return l.size }

// Written counts the bytes this Log has written, rewrites included.
func (l *Log) Written() int64 { return l.written }

// Version is the format version of the header read, or this program's
// after a rewrite; 0 while there is no file.
func (l *Log) Version() int { return l.version }

// TornBytes is the length of the torn last line Open cut off, or 0.
func (l *Log) TornBytes() int64 { return l.torn }

// Err is the error the Log failed closed with, wrapping ErrFailed, or nil.
func (l *Log) Err() error { return l.usable() }

func (l *Log) usable() error {
	if l.closed {
		return fmt.Errorf("%s: %w", l.path, os.ErrClosed)
	}
	if l.failed != nil {
		return fmt.Errorf("%s: %w (%w)", l.path, ErrFailed, l.failed)
	}
	return nil
}

// Close releases the file and the lock. It writes nothing.
func (l *Log) Close() error {
	if l.closed {
		return fmt.Errorf("%s: %w", l.path, os.ErrClosed)
	}
	l.closed = true
	var err error
	if l.f != nil {
		err = l.f.Close()
		l.f = nil
	}
	l.unlock()
	return err
}

func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeStaleTemps removes the temporary files a killed run left next to
// the log. The caller holds the lock, so no other run is writing one.
func (l *Log) removeStaleTemps() error {
	dir := filepath.Dir(l.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%s: %w", l.path, err)
	}
	prefix := tempPrefix(l.path)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			if err := l.fs.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s: removing the stale temporary file %s: %w", l.path, e.Name(), err)
			}
		}
	}
	return nil
}

// header is the payload of line 1.
type header struct {
	Kind    string `json:"k"`
	Name    string `json:"store"`
	Version int    `json:"format"`
}

func (l *Log) headerLine() []byte {
	data, err := json.Marshal(header{Kind: "header", Name: l.o.Name, Version: l.o.Version})
	if err != nil {
		panic(err) // three plain fields
	}
	return Frame(data)
}

// Frame returns data as one line of a log: its checksum, a space, data
// and a newline.
func Frame(data []byte) []byte {
	out := make([]byte, 0, len(data)+10)
	out = fmt.Appendf(out, "%08x ", crc32.Checksum(data, castagnoli))
	out = append(out, data...)
	return append(out, '\n')
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// unframe checks a whole line (newline included) and returns its payload,
// or why it is damaged.
func unframe(line []byte) ([]byte, string) {
	if len(line) < 10 || line[8] != ' ' || line[len(line)-1] != '\n' {
		return nil, "it is not a record line (checksum, space, payload, newline)"
	}
	var sum uint32
	for _, c := range line[:8] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return nil, "it is not a record line (its checksum is not eight hex digits)"
		}
		sum = sum<<4 | uint32(d)
	}
	data := line[9 : len(line)-1]
	if crc32.Checksum(data, castagnoli) != sum {
		return nil, "its checksum does not match"
	}
	return data, ""
}

// scan reads the open file: header, records, torn tail.
func (l *Log) scan() error {
	r := bufio.NewReaderSize(io.NewSectionReader(l.f, 0, math.MaxInt64), 256<<10)
	first, err := r.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: cannot be read: %w", l.path, err)
	}
	if len(first) == 0 {
		// An empty file: nothing was ever recorded in it.
		return l.empty()
	}
	if first[len(first)-1] != '\n' && bytes.HasPrefix(l.headerLine(), first) {
		// A header cut short: a log created in place by an earlier
		// version, then killed. Nothing was recorded in it.
		l.torn = int64(len(first))
		return l.empty()
	}
	data, bad := unframe(first)
	var h header
	if bad == "" {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if dec.Decode(&h) != nil || h.Kind != "header" {
			bad = "no header"
		}
	}
	if bad != "" {
		return l.foreign()
	}
	if h.Name != l.o.Name {
		return &FormatError{Path: l.path, Name: h.Name, Version: h.Version, Reason: fmt.Sprintf("is a %q log, not a %q log; it is not used, and not overwritten", h.Name, l.o.Name)}
	}
	if h.Version < 1 {
		return &FormatError{Path: l.path, Name: h.Name, Version: h.Version, Reason: fmt.Sprintf("has an unusable header (format %d); it is not used, and not overwritten", h.Version)}
	}
	if h.Version > l.o.Version {
		return &FormatError{Path: l.path, Name: h.Name, Version: h.Version, Reason: fmt.Sprintf("was written by a newer version (log format %d; this one reads format %d and older): use the newer version; it is not overwritten", h.Version, l.o.Version)}
	}
	l.version = h.Version
	off := int64(len(first))
	for lineNo := 2; ; lineNo++ {
		line, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: cannot be read: %w", l.path, err)
		}
		if len(line) == 0 {
			break
		}
		if line[len(line)-1] != '\n' {
			// The torn-tail rule: a last line without its newline is an
			// append a crash cut short, never acknowledged.
			if err := l.cut(off); err != nil {
				return err
			}
			l.torn = int64(len(line))
			break
		}
		data, bad := unframe(line)
		if bad != "" {
			return &DamageError{Path: l.path, Line: lineNo, Offset: off, Reason: bad}
		}
		if l.o.Load != nil {
			if err := l.o.Load(Record{Line: lineNo, Span: Span{off, int64(len(line))}, Data: data}); err != nil {
				return err
			}
		}
		off += int64(len(line))
	}
	l.size = off
	return nil
}

// empty handles a file with no header: it is replaced by a new log when
// the owner asks for one at Open, and is otherwise left for the first
// Rewrite.
func (l *Log) empty() error {
	_ = l.f.Close() // read only
	l.f = nil
	if l.o.Create {
		return l.Rewrite(func(*Writer) error { return nil })
	}
	return nil
}

// foreign hands a file that is not a log to the owner's Foreign.
func (l *Log) foreign() error {
	if l.o.Foreign == nil {
		return &FormatError{Path: l.path, Reason: fmt.Sprintf("is not a %q log (it has no header record); it is not used, and not overwritten", l.o.Name)}
	}
	records, err := l.o.Foreign(bufio.NewReaderSize(io.NewSectionReader(l.f, 0, math.MaxInt64), 256<<10))
	if err != nil {
		return err
	}
	if err := l.Rewrite(func(w *Writer) error {
		for _, r := range records {
			if _, err := w.Append(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return l.scan() // the converted log, read back as any other
}

// cut removes a torn last line, durably.
func (l *Log) cut(off int64) error {
	if err := l.f.Truncate(off); err != nil {
		return fmt.Errorf("%s: cannot cut off its last, incomplete record: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("%s: cannot cut off its last, incomplete record: %w", l.path, err)
	}
	return nil
}

// Append writes data as one record at the end of the log and syncs it:
// when it returns nil the record is durable. If the write or the sync
// fails, the Log cuts the record off as best it can and fails closed.
func (l *Log) Append(data []byte) (Span, error) {
	if err := l.usable(); err != nil {
		return Span{}, err
	}
	if l.f == nil {
		return Span{}, fmt.Errorf("%s: there is no log to append to yet", l.path)
	}
	if bytes.IndexByte(data, '\n') >= 0 {
		return Span{}, fmt.Errorf("%s: a record may not hold a newline", l.path)
	}
	line := Frame(data)
	n, err := l.f.Write(line)
	l.written += int64(n)
	if err == nil && n != len(line) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		// Best effort: a record that may be on the disk is cut off, so
		// that a reopened log is less likely to find an unacknowledged
		// step. Whatever this does, the Log fails closed.
		if terr := l.f.Truncate(l.size); terr == nil {
			_ = l.f.Sync() // failing closed anyway
		}
		l.failed = err
		return Span{}, fmt.Errorf("%s: %w: %w", l.path, ErrFailed, err)
	}
	at := Span{l.size, int64(len(line))}
	l.size += int64(len(line))
	return at, nil
}

// Read returns the payload of the record at sp, checked against its
// checksum.
func (l *Log) Read(sp Span) ([]byte, error) {
	if err := l.usable(); err != nil {
		return nil, err
	}
	if l.f == nil || sp.Off < 0 || sp.N < 10 || sp.Off+sp.N > l.size {
		return nil, fmt.Errorf("%s: no record at byte %d", l.path, sp.Off)
	}
	buf := make([]byte, sp.N)
	if _, err := l.f.ReadAt(buf, sp.Off); err != nil {
		return nil, fmt.Errorf("%s: reading the record at byte %d: %w", l.path, sp.Off, err)
	}
	data, bad := unframe(buf)
	if bad != "" {
		return nil, &DamageError{Path: l.path, Offset: sp.Off, Reason: bad}
	}
	return data, nil
}

// Writer writes the records of a Rewrite.
type Writer struct {
	w   *bufio.Writer
	off int64
}

// Append adds data as the next record of the new log and says where it
// is in it.
func (w *Writer) Append(data []byte) (Span, error) {
	if bytes.IndexByte(data, '\n') >= 0 {
		return Span{}, errors.New("a record may not hold a newline")
	}
	line := Frame(data)
	if _, err := w.w.Write(line); err != nil {
		return Span{}, err
	}
	at := Span{w.off, int64(len(line))}
	w.off += int64(len(line))
	return at, nil
}

// Rewrite replaces the log, atomically and durably, by a new one: the
// header, then the records fill appends. It writes a temporary file in
// the log's directory, syncs and closes it, renames it over the log and
// syncs the directory. An error before the rename (fill's own, a full
// disk) leaves the log as it was and usable; a failed directory sync or
// reopen after it fails the Log closed. The Spans fill got are the
// records' places once Rewrite returns nil.
func (l *Log) Rewrite(fill func(*Writer) error) (err error) {
	if err := l.usable(); err != nil {
		return err
	}
	dir := filepath.Dir(l.path)
	f, err := l.fs.CreateTemp(dir, tempPrefix(l.path)+"*")
	if err != nil {
		return fmt.Errorf("%s: %w", l.path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close() // already failing
			}
			_ = l.fs.Remove(tmp) // already failing: the first error is the one to report
		}
	}()
	w := &Writer{w: bufio.NewWriterSize(f, 256<<10)}
	if _, err = w.w.Write(l.headerLine()); err != nil {
		return fmt.Errorf("%s: %w", l.path, err)
	}
	w.off = int64(len(l.headerLine()))
	if err = fill(w); err != nil {
		return err
	}
	if err = w.w.Flush(); err != nil {
		return fmt.Errorf("%s: %w", l.path, err)
	}
	l.written += w.off
	if err = f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", l.path, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("%s: %w", l.path, err)
	}
	if err = l.fs.Rename(tmp, l.path); err != nil {
		return fmt.Errorf("%s: %w", l.path, err)
	}
	if derr := l.fs.SyncDir(dir); derr != nil {
		// Renamed, but maybe not durably: after a power cut the old log
		// may be back. Nothing more may be built on the new one.
		l.failed = derr
		return fmt.Errorf("%s: %w: %w", l.path, ErrFailed, derr)
	}
	nf, oerr := l.fs.OpenFile(l.path, os.O_RDWR|os.O_APPEND, 0)
	if oerr != nil {
		l.failed = oerr
		return fmt.Errorf("%s: %w: %w", l.path, ErrFailed, oerr)
	}
	if l.f != nil {
		_ = l.f.Close() // the replaced file, only read until now
	}
	l.f, l.size, l.version = nf, w.off, l.o.Version
	return nil
}

// ResolvePath returns path with every symbolic link resolved, the file
// itself included when it is a link (even one to a file not created yet),
// so that every name of one log is locked, read and written as one file:
// a link is never replaced by a regular file.
func ResolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for range 40 {
		dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
		if err != nil {
			return "", err
		}
		abs = filepath.Join(dir, filepath.Base(abs))
		st, err := os.Lstat(abs)
		if errors.Is(err, fs.ErrNotExist) {
			return abs, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&os.ModeSymlink == 0 {
			return abs, nil
		}
		target, err := os.Readlink(abs)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		abs = target
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

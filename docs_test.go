package hostednumbers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// docBlock is one ```go block of a document.
type docBlock struct {
	doc  string // the document's path, such as docs/sdk.md
	n    int    // the block's number in its document, from 1
	line int    // the document's line of the block's first line of code
	src  string // the code
}

// dir is the block's directory name under the check's directory.
func (b docBlock) dir() string {
	name := strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(b.doc)
	return fmt.Sprintf("%s_%d", strings.ToLower(name), b.n)
}

// where names the block for a reader: its document, number and line.
func (b docBlock) where() string {
	return fmt.Sprintf("%s, Go block %d (line %d)", b.doc, b.n, b.line)
}

// goFence matches a ```go block: its code is the first group. The fence
// must open a line; the block ends at the next line that is only ```.
var goFence = regexp.MustCompile("(?ms)^```go[ \t]*\n(.*?)^```[ \t]*$")

// goBlocks returns every ```go block of the document at path, named doc.
func goBlocks(t *testing.T, path, doc string) []docBlock {
	t.Helper()
	text, err := os.ReadFile(path) //nolint:gosec // the repository's own documents
	require.NoError(t, err)
	var blocks []docBlock
	for i, m := range goFence.FindAllSubmatchIndex(text, -1) {
		blocks = append(blocks, docBlock{
			doc:  doc,
			n:    i + 1,
			line: bytes.Count(text[:m[2]], []byte("\n")) + 1,
			src:  string(text[m[2]:m[3]]),
		})
	}
	return blocks
}

// documents returns README.md and docs/*.md, as paths from the module root.
func documents(t *testing.T) []string {
	t.Helper()
	guides, err := filepath.Glob(filepath.Join("docs", "*.md"))
	require.NoError(t, err)
	sort.Strings(guides)
	return append([]string{"README.md"}, guides...)
}

// blockPackage is the package clause's name of a block, and whether its
// first line of code (comments and blank lines aside) is that clause.
var blockPackage = regexp.MustCompile(`^package ([A-Za-z_][A-Za-z0-9_]*)\s*$`)

// fileFor says which file a block is written to: main.go for a program,
// example_test.go for a test file (package x_test). Any other block is an
// error naming what a block must be.
func fileFor(b docBlock) (string, error) {
	for _, line := range strings.Split(b.src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		m := blockPackage.FindStringSubmatch(line)
		switch {
		case m == nil:
			return "", fmt.Errorf("%s does not start with a package clause (%q): every Go block is a complete program (package main) or test file (package x_test)", b.where(), line)
		case m[1] == "main":
			if !strings.Contains(b.src, "\nfunc main() {") {
				return "", fmt.Errorf("%s is package main without func main", b.where())
			}
			return "main.go", nil
		case strings.HasSuffix(m[1], "_test"):
			return "example_test.go", nil
		default:
			return "", fmt.Errorf("%s is package %s: a Go block is a program (package main) or a test file (package x_test)", b.where(), m[1])
		}
	}
	return "", fmt.Errorf("%s is empty", b.where())
}

// vetFileLine matches a place in go vet's output inside the check's
// directory: the block's directory, the file, the line and the column.
var vetFileLine = regexp.MustCompile(`(?:\S*/)?\.docscheck-[^/\s]+/([a-z0-9_]+)/([a-z_]+\.go):(\d+)(:\d+)?`)

// TestDocs_GoBlocksCompile keeps the README and the guides honest: every
// ```go block in README.md and docs/*.md is a complete program or test
// file, gofmt-formatted, that go vet (which type-checks it) accepts as
// written. Each block is written to its own directory under a temporary
// dot-directory in the module root (ignored by ./... patterns, built when
// named), and one go vet checks them all. A failure names the document,
// the block and the document's line.
func TestDocs_GoBlocksCompile(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if errors.Is(err, exec.ErrNotFound) || (err == nil && goTool == "") {
		t.Skip("the go command is not on PATH: the documents' Go blocks are not compiled")
	}
	require.NoError(t, err)

	var blocks []docBlock
	for _, doc := range documents(t) {
		blocks = append(blocks, goBlocks(t, doc, filepath.ToSlash(doc))...)
	}
	require.NotEmpty(t, blocks, "README.md and docs/*.md have no Go block")

	root, err := os.MkdirTemp(".", ".docscheck-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(root) })

	byDir := make(map[string]docBlock, len(blocks))
	var dirs []string
	for _, b := range blocks {
		file, err := fileFor(b)
		if err != nil {
			t.Error(err)
			continue
		}
		if formatted, err := format.Source([]byte(b.src)); err == nil && string(formatted) != b.src {
			t.Errorf("%s is not gofmt-formatted; gofmt gives:\n%s", b.where(), formatted)
		}
		dir := filepath.Join(root, b.dir())
		require.NoError(t, os.Mkdir(dir, 0o750))
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(b.src), 0o600))
		byDir[b.dir()] = b
		dirs = append(dirs, "./"+filepath.ToSlash(dir))
	}
	if len(dirs) == 0 {
		return
	}

	// A deadline, so that a go command that hangs fails the test instead.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, append([]string{"vet"}, dirs...)...) //nolint:gosec // the go tool over the blocks just written
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("go vet did not finish in time: %v\n%s", ctx.Err(), out)
	}
	if err == nil {
		t.Logf("go vet accepted %d Go blocks of %d documents", len(dirs), len(documents(t)))
		return
	}

	// Report each failing block once, with go vet's lines about it, its
	// places translated to the document's lines.
	failed := map[string][]string{}
	var unplaced []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := vetFileLine.FindStringSubmatch(line)
		if m == nil {
			if strings.HasPrefix(line, "# ") { // go vet's package header
				continue
			}
			unplaced = append(unplaced, line)
			continue
		}
		b, ok := byDir[m[1]]
		if !ok {
			unplaced = append(unplaced, line)
			continue
		}
		n, _ := strconv.Atoi(m[3])
		failed[m[1]] = append(failed[m[1]], strings.Replace(line, m[0], fmt.Sprintf("%s:%d%s", b.doc, b.line+n-1, m[4]), 1))
	}
	names := make([]string, 0, len(failed))
	for dir := range failed {
		names = append(names, dir)
	}
	sort.Strings(names)
	for _, dir := range names {
		t.Errorf("%s does not compile:\n%s\n\nthe block:\n%s", byDir[dir].where(), strings.Join(failed[dir], "\n"), numbered(byDir[dir]))
	}
	if len(unplaced) > 0 || len(failed) == 0 {
		t.Errorf("go vet failed (%v):\n%s", err, strings.Join(unplaced, "\n"))
	}
}

// numbered returns a block's code with the document's line numbers.
func numbered(b docBlock) string {
	var sb strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(b.src, "\n"), "\n") {
		fmt.Fprintf(&sb, "%5d  %s\n", b.line+i, line)
	}
	return sb.String()
}

// TestDocs_BlockKinds checks which blocks TestDocs_GoBlocksCompile takes,
// and that the ones it refuses are named with their document and number.
func TestDocs_BlockKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src, file, refused string
	}{
		{src: "package main\n\nfunc main() {}\n", file: "main.go"},
		{src: "// Command x does y.\npackage main\n\nfunc main() {\n}\n", file: "main.go"},
		{src: "package billing_test\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n", file: "example_test.go"},
		{src: "client, err := hostednumbers.NewClientFromEnv()\n", refused: `does not start with a package clause ("client, err`},
		{src: "package main\n\nfunc run() {}\n", refused: "is package main without func main"},
		{src: "package billing\n\nfunc F() {}\n", refused: "is package billing"},
		{src: "\n// only a comment\n", refused: "is empty"},
	} {
		b := docBlock{doc: "docs/x.md", n: 3, line: 40, src: tc.src}
		file, err := fileFor(b)
		if tc.refused != "" {
			require.Error(t, err, tc.src)
			require.Contains(t, err.Error(), "docs/x.md, Go block 3 (line 40)")
			require.Contains(t, err.Error(), tc.refused)
			continue
		}
		require.NoError(t, err, tc.src)
		require.Equal(t, tc.file, file, tc.src)
	}
}

// TestDocs_GoBlocksAreFound checks the extraction: every ```go block, with
// its number and first line, and nothing of the other languages.
func TestDocs_GoBlocksAreFound(t *testing.T) {
	t.Parallel()
	doc := filepath.Join(t.TempDir(), "doc.md")
	require.NoError(t, os.WriteFile(doc, []byte("# T\n\n```sh\ngo run .\n```\n\n```go\npackage main\n\nfunc main() {}\n```\n\ntext ```go inline``` text\n\n```go\npackage x_test\n```\n"), 0o600))
	blocks := goBlocks(t, doc, "doc.md")
	require.Len(t, blocks, 2)
	require.Equal(t, docBlock{doc: "doc.md", n: 1, line: 8, src: "package main\n\nfunc main() {}\n"}, blocks[0])
	require.Equal(t, docBlock{doc: "doc.md", n: 2, line: 16, src: "package x_test\n"}, blocks[1])
	require.Equal(t, "doc_md_2", blocks[1].dir())
}

// mdLink matches a Markdown link's target: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// mdHeading matches a Markdown heading outside code blocks.
var mdHeading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)

// anchors returns the anchors GitHub makes for the headings of a Markdown
// text: lower case, punctuation dropped, spaces made hyphens.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(withoutCode(text), -1) {
		var sb strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(m[1])) {
			switch {
			case r == ' ':
				sb.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				sb.WriteRune(r)
			}
		}
		out[sb.String()] = true
	}
	return out
}

// fence matches a fenced code block of any language.
var fence = regexp.MustCompile("(?ms)^```.*?^```[ \t]*$")

// withoutCode blanks the fenced code blocks of a Markdown text.
func withoutCode(text string) string { return fence.ReplaceAllString(text, "") }

// TestDocs_LinksResolve checks every relative link of README.md and
// docs/*.md: the file or directory exists, and a #anchor names a heading
// of the Markdown file it points into.
func TestDocs_LinksResolve(t *testing.T) {
	t.Parallel()
	for _, doc := range documents(t) {
		raw, err := os.ReadFile(doc) //nolint:gosec // the repository's own documents
		require.NoError(t, err)
		text := string(raw)
		for _, m := range mdLink.FindAllStringSubmatch(withoutCode(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			into := text
			if path != "" {
				full := filepath.Join(filepath.Dir(doc), filepath.FromSlash(path))
				if _, err := os.Stat(full); err != nil { //nolint:gosec // a path a document of the repository links to
					t.Errorf("%s: link %s: %v", doc, target, err)
					continue
				}
				if anchor == "" {
					continue
				}
				b, err := os.ReadFile(full) //nolint:gosec // a document of the repository
				require.NoError(t, err)
				into = string(b)
			}
			if anchor != "" && !anchors(into)[anchor] {
				t.Errorf("%s: link %s: no heading makes the anchor #%s", doc, target, anchor)
			}
		}
	}
}

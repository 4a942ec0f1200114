package hostednumbers_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADME_GoBlocksAreCompiledExamples keeps the README honest: every
// ```go block in it must appear, line for line (indentation and blank
// lines aside), in one of the module's test files, where it is compiled
// and, in an Example with // Output:, run. Edit the example and the README
// together.
func TestREADME_GoBlocksAreCompiledExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks)

	var sources [][]string
	require.NoError(t, filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "benchmarks" || d.Name() == "tools" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir // other modules, and hidden folders
		}
		if strings.HasSuffix(path, "_test.go") && path != "readme_test.go" {
			src, err := os.ReadFile(path) //nolint:gosec // the module's own files, found by WalkDir

			if err != nil {
				return err
			}
			sources = append(sources, normalisedLines(string(src)))
		}
		return nil
	}))

	for _, b := range blocks {
		block := normalisedLines(string(b[1]))
		found := false
		for _, src := range sources {
			if containsRun(src, block) {
				found = true
				break
			}
		}
		assert.True(t, found, "README block not found in any example or test:\n%s", b[1])
	}
}

// normalisedLines returns the non-blank lines of s without their
// surrounding white space.
func normalisedLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// containsRun reports whether want appears in have as consecutive lines.
func containsRun(have, want []string) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		match := true
		for j := range want {
			if have[i+j] != want[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

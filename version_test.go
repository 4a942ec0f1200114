package hostednumbers_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// TestVersion_IsTheLatestRelease keeps the User-Agent's version and the
// changelog in step: Version names the newest "## [x.y.z] - date" heading.
func TestVersion_IsTheLatestRelease(t *testing.T) {
	changelog, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	releases := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$`).FindAllSubmatch(changelog, -1)
	require.NotEmpty(t, releases, "CHANGELOG.md names no release")
	assert.Equal(t, string(releases[0][1]), hostednumbers.Version)
	assert.Regexp(t, `(?m)^## \[Unreleased\]$`, string(changelog), "an Unreleased section collects what is not released yet")
}

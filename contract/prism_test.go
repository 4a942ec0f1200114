package contract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// prismEnv names the Prism executable; .ci/prism.sh sets it. Without it
// the contract test is skipped with howToRun.
const prismEnv = "HOSTEDNUMBERS_PRISM"

// seedEnv, when set, is passed to Prism as --seed: its random answers
// (dynamic mode) are then the same on every run, and in every round,
// since Prism seeds its generator afresh for each answer. Unset, each
// round gets new answers; a failure prints the answer it was about.
const seedEnv = "HOSTEDNUMBERS_PRISM_SEED"

// howToRun is what the skip message tells a developer to run.
const howToRun = "the contract test against Twilio's OpenAPI needs Prism (Node.js >= 18.20.1 and npm). " +
	"Run it from the repository root with:\n\tbash .ci/prism.sh\n" +
	"(it installs the pinned @stoplight/prism-cli into .ci/prism/node_modules and runs this test), or, with Prism installed:\n\t" +
	prismEnv + "=$PWD/.ci/prism/node_modules/.bin/prism go test -count=1 -v ./contract/"

// startupTimeout bounds the start of one Prism: about 2 s on an idle
// machine, a minute when four start at once on a loaded 2-core one.
const startupTimeout = 3 * time.Minute

// prismBinary returns the Prism executable, or skips the test when none
// is configured. A configured one that cannot be found fails the test: a
// CI run must never pass by skipping.
func prismBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(prismEnv)
	if bin == "" {
		t.Skip(howToRun)
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s=%s: %v", prismEnv, bin, err)
	}
	return path
}

// prism is one running Prism mock server.
type prism struct {
	url string
	log *logTail
}

// logTail keeps the last lines of a process's output, for failures.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

const logTailLines = 200

func (l *logTail) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > 2*logTailLines {
		l.lines = append([]string(nil), l.lines[len(l.lines)-logTailLines:]...)
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return strings.Join(lines, "\n")
}

var listening = regexp.MustCompile(`Prism is listening on (http://127\.0\.0\.1:[0-9]+)`)

// ansi matches the colour codes Prism may write.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// startPrism starts `prism mock` on specPath, on a free loopback port
// that Prism picks (-p 0, so no port is raced for), and returns once it
// listens. The process is killed when the test ends; its output is logged
// if the test failed, and killed earlier if ctx ends. It may be called
// from any goroutine.
func startPrism(ctx context.Context, t *testing.T, bin, specPath, seed string) (*prism, error) {
	args := []string{"mock", "--host", "127.0.0.1", "-p", "0"}
	if seed != "" {
		args = append(args, "--seed", seed)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, specPath)...) //nolint:gosec // the Prism the developer or CI names in HOSTEDNUMBERS_PRISM
	cmd.Env = append(os.Environ(), "SCARF_ANALYTICS=false", "NO_COLOR=1", "FORCE_COLOR=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout // one pipe, one reader
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting Prism: %w", err)
	}
	p := &prism{log: &logTail{}}
	found := make(chan string, 1)
	exited := make(chan struct{})
	var waitErr error
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := ansi.ReplaceAllString(sc.Text(), "")
			p.log.add(line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		waitErr = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("Prism (pid %d) did not exit within 10s of being killed", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("Prism's output on %s (last lines):\n%s", filepath.Base(specPath), p.log)
		}
	})
	timer := time.NewTimer(startupTimeout)
	defer timer.Stop()
	select {
	case p.url = <-found:
		return p, nil
	case <-exited:
		if waitErr == nil {
			waitErr = errors.New("exit status 0")
		}
		return nil, fmt.Errorf("Prism exited before listening (%w):\n%s", waitErr, p.log)
	case <-timer.C:
		return nil, fmt.Errorf("Prism did not listen on %s within %s:\n%s", filepath.Base(specPath), startupTimeout, p.log)
	}
}

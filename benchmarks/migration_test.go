//go:build unix

package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// migrationSizes are the numbers of numbers BenchmarkMigration migrates,
// one sub-benchmark each. CI runs the default; the figures in docs/engine.md come
// from -migration-sizes=10000,100000,1000000.
var migrationSizes = flag.String("migration-sizes", "10000", "comma-separated sizes of BenchmarkMigration")

// migrationEligibility selects the runs of BenchmarkMigration with the
// eligibility pre-flight skipped (skip), checked (check), or both. CI
// runs the default; the figures in docs/engine.md come from
// -migration-eligibility=skip,check.
var migrationEligibility = flag.String("migration-eligibility", "skip", "comma-separated: skip (-skip-eligibility), check (the pre-flight on)")

// migrationHosting is how long each hosted number order takes on the fake
// after its bulk request is processed; 0 chooses it from the run (see
// hostingFor).
var migrationHosting = flag.Duration("migration-hosting", 0, "hosting duration of every order on the fake; 0: chosen from the size")

// hostingFor is the fake's hosting duration for a run of n numbers when
// -migration-hosting leaves it to the run: long enough that following
// takes several refresh passes over numbers that are still moving. The
// first batches' orders are made when submitting starts, and a pass over a
// million numbers takes a minute or more (it records what changed), so the
// duration grows with the numbers, and more with the eligibility check,
// which makes submitting about ten times longer: with a short one most
// numbers would end before the first pass, and a pass that has nothing to
// ask about costs no requests.
func hostingFor(n int, checked bool) time.Duration {
	per := 400 * time.Microsecond
	if checked {
		per = time.Millisecond
	}
	return max(2*time.Second, time.Duration(n)*per)
}

// BenchmarkMigration runs bulkhost, built from ../cmd/bulkhost, as a
// subprocess against the fake server in this process: a CSV of n numbers
// submitted in batches of 1000, with the eligibility pre-flight skipped
// or checked (-migration-eligibility), and every number followed to the end (-wait). Each
// order takes a while to be hosted (hostingFor), so that following takes
// several refresh passes. It reports:
//
//   - wall-s, submit-s, follow-s: the whole run, Submit (checks and
//     creates), and following;
//   - peak-rss-MiB: the command's peak resident memory (its VmHWM);
//   - written-MiB, store-MiB, written/store: the bytes the journal wrote,
//     its final size, and their ratio;
//   - requests/number: every request the fake answered, per number;
//   - passes: the refresh passes following made;
//   - follow-req/number/pass: the requests of the follow phase (every
//     request but the creates and the eligibility checks) per number and
//     per pass;
//   - follow-req/moving-number/pass: the same requests per number that
//     could still change when its pass began, summed over the passes (a
//     pass skips the numbers that are final without asking about them);
//   - list-pages, order-fetches, dependent-lists, bulk-fetches,
//     document-fetches: the follow phase's requests by kind, per run:
//     pages of GET /v2/HostedNumber/Orders, single-order fetches, pages
//     of a document's DependentHostedNumberOrders, fetches of a bulk
//     request, fetches of an authorisation document.
func BenchmarkMigration(b *testing.B) {
	bin := buildBulkhost(b)
	var modes []string
	for _, e := range strings.Split(*migrationEligibility, ",") {
		e = strings.TrimSpace(e)
		if e != "skip" && e != "check" {
			b.Fatalf("-migration-eligibility: %q is neither skip nor check", e)
		}
		modes = append(modes, e)
	}
	for _, s := range strings.Split(*migrationSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			b.Fatalf("-migration-sizes: %q is not a size", s)
		}
		for _, mode := range modes {
			name := fmt.Sprintf("numbers=%d/eligibility=%s", n, map[string]string{"skip": "skipped", "check": "checked"}[mode])
			b.Run(name, func(b *testing.B) {
				for range b.N {
					runMigration(b, bin, n, mode == "check")
				}
			})
		}
	}
}

// buildBulkhost builds the command from its own directory (go -C), so that
// the build takes whichever module holds it: the repository's, or a
// go.mod of its own in cmd/bulkhost.
func buildBulkhost(b *testing.B) string {
	b.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "cmd", "bulkhost"))
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "bulkhost")
	build := exec.CommandContext(context.Background(), "go", "-C", dir, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building bulkhost in %s: %v\n%s", dir, err, out)
	}
	return bin
}

// followKinds counts the requests of the follow phase by kind.
type followKinds struct {
	listPages, orderFetches, dependentLists, bulkFetches, documentFetches, other int
}

func (k followKinds) total() int {
	return k.listPages + k.orderFetches + k.dependentLists + k.bulkFetches + k.documentFetches + k.other
}

const (
	fakeBulkPath        = "/v2/HostedNumber/Orders/Bulk"
	fakeOrderPath       = "/v2/HostedNumber/Orders"
	fakeDocPath         = "/v2/HostedNumber/AuthorizationDocuments"
	fakeEligibilityPath = "/v1/HostedNumber/Eligibility"
)

// classify sorts the requests the fake answered into the submit phase
// (creates and eligibility checks) and the follow phase, by kind.
func classify(reqs []hostednumberstest.Request) (submit int, follow followKinds) {
	for _, r := range reqs {
		p := r.Path
		switch {
		case p == fakeBulkPath && r.Method == http.MethodPost, p == fakeEligibilityPath || strings.HasPrefix(p, fakeEligibilityPath+"/"):
			submit++
		case strings.HasPrefix(p, fakeBulkPath+"/"):
			follow.bulkFetches++
		case p == fakeOrderPath && r.Method == http.MethodGet:
			follow.listPages++
		case strings.HasPrefix(p, fakeOrderPath+"/") && r.Method == http.MethodGet:
			follow.orderFetches++
		case strings.HasPrefix(p, fakeDocPath+"/") && strings.HasSuffix(p, "/DependentHostedNumberOrders"):
			follow.dependentLists++
		case strings.HasPrefix(p, fakeDocPath+"/") && r.Method == http.MethodGet:
			follow.documentFetches++
		default:
			follow.other++
		}
	}
	return submit, follow
}

func runMigration(b *testing.B, bin string, n int, checked bool) {
	b.Helper()
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "numbers.csv")
	var csv bytes.Buffer
	csv.WriteString("phone_number,friendly_name\n")
	for i := range n {
		fmt.Fprintf(&csv, "+1%010d,Line %d\n", 2000000000+i, i)
	}
	if err := os.WriteFile(csvPath, csv.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	csv = bytes.Buffer{}
	hosting := *migrationHosting
	if hosting <= 0 {
		hosting = hostingFor(n, checked)
	}
	srv := hostednumberstest.NewServer(
		hostednumberstest.WithProcessingDelay(20*time.Millisecond, 20*time.Millisecond),
		hostednumberstest.WithHostingDuration(hosting),
		hostednumberstest.WithPageSize(1000))
	defer srv.Close()

	stats := filepath.Join(dir, "stats.json")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	args := []string{"-live", "-csv", csvPath, "-email", "owner@example.com",
		"-address-sid", "AD0123456789abcdef0123456789abcdef", "-batch-size", "1000", "-wait", "-poll", "500ms", "-timeout", "60m"}
	if !checked {
		args = append(args, "-skip-eligibility")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"TWILIO_ACCOUNT_SID=" + hostednumberstest.AccountSID,
		"TWILIO_AUTH_TOKEN=" + hostednumberstest.AuthToken,
		"BULKHOST_TEST_BASE_URL=" + srv.URL,
		"BULKHOST_TEST_STATS=" + stats,
	}
	if v := os.Getenv("BULKHOST_BENCH_GODEBUG"); v != "" {
		cmd.Env = append(cmd.Env, "GODEBUG="+v) // to see the command's garbage collector
	}
	if d := os.Getenv("BULKHOST_BENCH_HEAPPROFILE"); d != "" {
		// A directory: the command's heap near its peak, for go tool pprof.
		profile := filepath.Join(d, fmt.Sprintf("heap-%d-%s.pprof", n, map[bool]string{false: "skipped", true: "checked"}[checked]))
		cmd.Env = append(cmd.Env, "BULKHOST_TEST_HEAPPROFILE="+profile)
		b.Logf("heap profile: %s", profile)
	}
	var stderr bytes.Buffer
	cmd.Stdout = nil // the report of every number: not measured
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		tail := stderr.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		b.Fatalf("bulkhost: %v\n%s", err, tail)
	}
	if os.Getenv("BULKHOST_BENCH_GODEBUG") != "" {
		b.Log(stderr.String())
	}
	var st struct {
		Written         int64   `json:"store_bytes_written"`
		Size            int64   `json:"store_size"`
		PeakRSS         int64   `json:"peak_rss_kib"`
		SubmitSeconds   float64 `json:"submit_seconds"`
		FollowSeconds   float64 `json:"follow_seconds"`
		RefreshPasses   int     `json:"refresh_passes"`
		NumbersFollowed int64   `json:"numbers_followed"`
	}
	data, err := os.ReadFile(stats)
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		b.Fatal(err)
	}
	if st.RefreshPasses < 1 || st.NumbersFollowed < int64(n) {
		b.Fatalf("bulkhost made %d refresh passes over %d numbers in all: it should have followed each of the %d numbers at least once", st.RefreshPasses, st.NumbersFollowed, n)
	}
	// The command's own peak (VmHWM): a child's ru_maxrss also counts
	// what this process held when it started the child, which after the
	// larger sizes is hundreds of MiB of fake server.
	rss := st.PeakRSS
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && rss == 0 {
		rss = ru.Maxrss // KiB on Linux
	}
	reqs := srv.Requests()
	_, follow := classify(reqs)
	if follow.other > 0 {
		b.Fatalf("%d requests of the follow phase were of no kind the benchmark knows", follow.other)
	}
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(st.SubmitSeconds, "submit-s")
	b.ReportMetric(st.FollowSeconds, "follow-s")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
	b.ReportMetric(float64(st.Written)/(1<<20), "written-MiB")
	b.ReportMetric(float64(st.Size)/(1<<20), "store-MiB")
	b.ReportMetric(float64(st.Written)/float64(max(st.Size, 1)), "written/store")
	b.ReportMetric(float64(len(reqs))/float64(n), "requests/number")
	b.ReportMetric(float64(st.RefreshPasses), "passes")
	b.ReportMetric(float64(follow.total())/float64(n)/float64(st.RefreshPasses), "follow-req/number/pass")
	b.ReportMetric(float64(follow.total())/float64(st.NumbersFollowed), "follow-req/moving-number/pass")
	b.ReportMetric(float64(follow.listPages), "list-pages")
	b.ReportMetric(float64(follow.orderFetches), "order-fetches")
	b.ReportMetric(float64(follow.dependentLists), "dependent-lists")
	b.ReportMetric(float64(follow.bulkFetches), "bulk-fetches")
	b.ReportMetric(float64(follow.documentFetches), "document-fetches")
}

// classify puts each request of a migration in its phase and kind.
func TestClassify(t *testing.T) {
	req := func(method, path string) hostednumberstest.Request {
		return hostednumberstest.Request{Method: method, Path: path}
	}
	submit, follow := classify([]hostednumberstest.Request{
		req(http.MethodPost, fakeBulkPath),
		req(http.MethodPost, fakeEligibilityPath),
		req(http.MethodGet, fakeEligibilityPath+"/EHaaaa"),
		req(http.MethodGet, fakeBulkPath+"/BHaaaa"),
		req(http.MethodGet, fakeOrderPath),
		req(http.MethodGet, fakeOrderPath),
		req(http.MethodGet, fakeOrderPath+"/HRaaaa"),
		req(http.MethodGet, fakeDocPath+"/PXaaaa/DependentHostedNumberOrders"),
		req(http.MethodGet, fakeDocPath+"/PXaaaa"),
		req(http.MethodGet, fakeDocPath+"/PXbbbb"),
		req(http.MethodDelete, fakeOrderPath+"/HRaaaa"),
		req(http.MethodPost, fakeOrderPath),
	})
	if submit != 3 {
		t.Errorf("submit: %d requests, want 3", submit)
	}
	want := followKinds{listPages: 2, orderFetches: 1, dependentLists: 1, bulkFetches: 1, documentFetches: 2, other: 2}
	if follow != want {
		t.Errorf("follow: %+v, want %+v", follow, want)
	}
	if follow.total() != 9 {
		t.Errorf("follow: %d requests in all, want 9", follow.total())
	}
}

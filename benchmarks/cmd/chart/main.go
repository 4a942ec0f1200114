// Command chart turns the output of the comparison benchmarks into the
// table and the SVG chart in ../../README.md:
//
//	go run ./cmd/chart -in results/bench.txt -svg results/chart.svg > results/table.md
//
// For every benchmark it takes the median of each metric over the runs in
// the file, and divides each contender's figure by floor's in the same
// case (net/http plus encoding/json into a struct). It uses the standard
// library only.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// sample is one benchmark's values by unit, over every run in the input.
type sample map[string][]float64

// result is one contender in one case, each metric its median.
type result struct {
	bench, caseName, contender string
	metric                     map[string]float64
	runs                       int
}

func main() {
	in := flag.String("in", "results/bench.txt", "go test -bench output to read")
	svgOut := flag.String("svg", "results/chart.svg", "SVG file to write")
	flag.Parse()

	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	samples, order, err := parse(f)
	_ = f.Close()
	if err != nil {
		log.Fatal(err)
	}
	results := summarize(samples, order)
	if len(results) == 0 {
		log.Fatalf("no benchmark results in %s", *in)
	}
	writeTable(os.Stdout, results)
	out, err := os.Create(*svgOut)
	if err != nil {
		log.Fatal(err)
	}
	writeSVG(out, results)
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
}

// parse reads benchmark lines: name, iterations, then value-unit pairs.
func parse(r io.Reader) (map[string]sample, []string, error) {
	samples := map[string]sample{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the -GOMAXPROCS suffix
			}
		}
		s, ok := samples[name]
		if !ok {
			s = sample{}
			samples[name] = s
			order = append(order, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %q is not a number", name, fields[i])
			}
			s[fields[i+1]] = append(s[fields[i+1]], v)
		}
	}
	return samples, order, sc.Err()
}

func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(samples map[string]sample, order []string) []result {
	var out []result
	for _, name := range order {
		parts := strings.Split(name, "/")
		if len(parts) < 3 {
			continue // not a contender of a case
		}
		r := result{
			bench:     strings.TrimPrefix(parts[0], "Benchmark"),
			caseName:  strings.Join(parts[1:len(parts)-1], "/"),
			contender: parts[len(parts)-1],
			metric:    map[string]float64{},
		}
		for unit, vs := range samples[name] {
			r.metric[unit] = median(vs)
			r.runs = len(vs)
		}
		out = append(out, r)
	}
	// Keep the file's case order; within a case, a fixed contender order.
	rank := map[string]int{"sdk": 0, "sdk-timeout0": 1, "floor": 2, "nethttp+map": 3, "twilio-go": 4, "transport": 5}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].bench != out[j].bench || out[i].caseName != out[j].caseName {
			return false
		}
		return rank[out[i].contender] < rank[out[j].contender]
	})
	return out
}

// floorOf returns the floor's result in r's case, if there is one.
func floorOf(results []result, r result) (result, bool) {
	for _, f := range results {
		if f.bench == r.bench && f.caseName == r.caseName && f.contender == "floor" {
			return f, true
		}
	}
	return result{}, false
}

func ratio(results []result, r result, unit string) string {
	f, ok := floorOf(results, r)
	if !ok || f.metric[unit] == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", r.metric[unit]/f.metric[unit])
}

func duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func size(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func writeTable(w io.Writer, results []result) {
	last := ""
	for _, r := range results {
		if r.bench == "LoopbackRewrite" {
			continue
		}
		head := r.bench + " " + r.caseName
		if r.bench == "Connections" {
			if head != last {
				fmt.Fprintf(w, "\n#### %s (median of %d runs)\n\n", head, r.runs)
				fmt.Fprintln(w, "| client | new connections | vs floor | time for all | CPU per create | vs floor |")
				fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
				last = head
			}
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s |\n", r.contender,
				r.metric["conns/20000-creates"], ratio(results, r, "conns/20000-creates"),
				duration(r.metric["ns/op"]), duration(r.metric["cpu-ns/create"]), ratio(results, r, "cpu-ns/create"))
			continue
		}
		if head != last {
			fmt.Fprintf(w, "\n#### %s (median of %d runs)\n\n", head, r.runs)
			fmt.Fprintln(w, "| client | time/op | vs floor | CPU/op | vs floor | B/op | vs floor | allocs/op | vs floor |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
			last = head
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %.0f | %s |\n", r.contender,
			duration(r.metric["ns/op"]), ratio(results, r, "ns/op"),
			duration(r.metric["cpu-ns/op"]), ratio(results, r, "cpu-ns/op"),
			size(r.metric["B/op"]), ratio(results, r, "B/op"),
			r.metric["allocs/op"], ratio(results, r, "allocs/op"))
	}
}

var colors = map[string]string{
	"sdk": "#1f77b4", "sdk-timeout0": "#9467bd", "floor": "#7f7f7f",
	"nethttp+map": "#ff7f0e", "twilio-go": "#d62728", "transport": "#2ca02c",
}

// panel is one chart: a group of horizontal bars per case.
type panel struct {
	title string
	unit  string // metric to plot
	bench []string
	// relative plots the ratio to floor on a linear axis; otherwise the
	// value itself on a log axis.
	relative bool
	skip     map[string]bool
}

func writeSVG(w io.Writer, results []result) {
	panels := []panel{
		{title: "CPU time per call, relative to floor (net/http + encoding/json into a struct); shorter is better", unit: "cpu-ns/op", bench: []string{"Create", "Fetch"}, relative: true, skip: map[string]bool{"transport": true}},
		{title: "Bytes allocated per call, relative to floor; shorter is better", unit: "B/op", bench: []string{"Create", "Fetch"}, relative: true, skip: map[string]bool{"transport": true}},
		{title: "New connections for 20 000 concurrent creates (log scale); shorter is better", unit: "conns/20000-creates", bench: []string{"Connections"}},
	}
	const width, left, right, barH, gap = 900, 250, 70, 12, 10
	var body strings.Builder
	y := 20
	for _, p := range panels {
		type bar struct {
			label, contender string
			value            float64
		}
		type group struct {
			name string
			bars []bar
		}
		var groups []group
		maxV := 0.0
		for _, r := range results {
			if !contains(p.bench, r.bench) || p.skip[r.contender] {
				continue
			}
			v, ok := r.metric[p.unit]
			if !ok {
				continue
			}
			label := fmt.Sprintf("%.0f", v)
			if p.relative {
				f, ok := floorOf(results, r)
				if !ok || f.metric[p.unit] == 0 {
					continue
				}
				v /= f.metric[p.unit]
				label = fmt.Sprintf("%.2f×", v)
			}
			name := r.bench + " " + r.caseName
			if len(groups) == 0 || groups[len(groups)-1].name != name {
				groups = append(groups, group{name: name})
			}
			g := &groups[len(groups)-1]
			g.bars = append(g.bars, bar{label, r.contender, v})
			maxV = math.Max(maxV, v)
		}
		if len(groups) == 0 {
			continue
		}
		fmt.Fprintf(&body, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y+14, html.EscapeString(p.title))
		y += 28
		plotW := float64(width - left - right)
		scale := func(v float64) float64 {
			if p.relative {
				return v / math.Max(maxV, 1.2) * plotW
			}
			top := math.Log10(math.Max(maxV, 10) * 1.2)
			if v < 1 {
				return 1
			}
			return math.Log10(v) / top * plotW
		}
		top := y
		for _, g := range groups {
			fmt.Fprintf(&body, `<text x="%d" y="%d" text-anchor="end" font-size="12">%s</text>`+"\n",
				left-8, y+len(g.bars)*barH/2+4, html.EscapeString(g.name))
			for _, b := range g.bars {
				bw := scale(b.value)
				fmt.Fprintf(&body, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
					left, y, math.Max(bw, 1), barH-2, colors[b.contender], html.EscapeString(g.name), b.contender, b.label)
				fmt.Fprintf(&body, `<text x="%.1f" y="%d" font-size="10">%s</text>`+"\n", float64(left)+math.Max(bw, 1)+4, y+barH-3, html.EscapeString(b.label))
				y += barH
			}
			y += gap
		}
		if p.relative {
			x := float64(left) + scale(1)
			fmt.Fprintf(&body, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-dasharray="4 3"/>`+"\n", x, top-4, x, y-gap+4)
			fmt.Fprintf(&body, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">floor = 1×</text>`+"\n", x, y+6)
			y += 10
		}
		y += 16
	}
	// Legend.
	x := 10
	for _, c := range []string{"sdk", "sdk-timeout0", "floor", "nethttp+map", "twilio-go"} {
		fmt.Fprintf(&body, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12">%s</text>`+"\n",
			x, y, colors[c], x+16, y+11, c)
		x += 30 + 8*len(c)
	}
	y += 24
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", width, y)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	_, _ = io.WriteString(w, body.String())
	_, _ = io.WriteString(w, "</svg>\n")
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

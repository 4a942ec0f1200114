package main

import (
	"bytes"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
BenchmarkFetch/orders=4/sdk-2      	 100	  200 ns/op	 5 MB/s	 0 conns/1000ops	 300 cpu-ns/op	 1000 B/op	 10 allocs/op
BenchmarkFetch/orders=4/floor-2    	 100	  400 ns/op	 5 MB/s	 0 conns/1000ops	 600 cpu-ns/op	 4000 B/op	 40 allocs/op
BenchmarkFetch/orders=4/sdk-2      	 100	  100 ns/op	 5 MB/s	 0 conns/1000ops	 100 cpu-ns/op	 1000 B/op	 10 allocs/op
BenchmarkFetch/orders=4/floor-2    	 100	  400 ns/op	 5 MB/s	 0 conns/1000ops	 400 cpu-ns/op	 4000 B/op	 40 allocs/op
BenchmarkFetch/orders=4/sdk-2      	 100	  900 ns/op	 5 MB/s	 0 conns/1000ops	 200 cpu-ns/op	 1000 B/op	 10 allocs/op
BenchmarkConnections/creates=20k/workers=128/sdk-2   	 1	 5000000000 ns/op	 300 conns/20000-creates	 180000 cpu-ns/create
BenchmarkConnections/creates=20k/workers=128/floor-2 	 1	 5000000000 ns/op	 150 conns/20000-creates	 170000 cpu-ns/create
BenchmarkLoopbackRewrite-2 	 1000	 200 ns/op	 464 B/op	 2 allocs/op
PASS
`

func TestTableAndChartFromBenchmarkOutput(t *testing.T) {
	samples, order, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got := samples["BenchmarkFetch/orders=4/sdk"]["cpu-ns/op"]; len(got) != 3 {
		t.Fatalf("sdk cpu-ns/op samples = %v, want 3", got)
	}
	results := summarize(samples, order)
	if len(results) != 4 {
		t.Fatalf("got %d results, want 4 (LoopbackRewrite is not a contender)", len(results))
	}
	var table bytes.Buffer
	writeTable(&table, results)
	for _, want := range []string{
		"| sdk | 200 ns | 0.50× | 200 ns | 0.40× | 1000 B | 0.25× | 10 | 0.25× |", // medians over 3 and 2 runs
		"| sdk | 300 | 2.00× |",
		"Fetch orders=4 (median of 3 runs)",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var svg bytes.Buffer
	writeSVG(&svg, results)
	for _, want := range []string{"<svg", "0.40×", "0.25×", "Fetch orders=4", ">300<", "</svg>"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

func TestParseRejectsAMalformedValue(t *testing.T) {
	if _, _, err := parse(strings.NewReader("BenchmarkX/a/sdk-2 1 abc ns/op\n")); err == nil {
		t.Error("a non-numeric value was accepted")
	}
}

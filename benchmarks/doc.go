// Package benchmarks compares the per-call cost of hostednumbers-go with
// plain net/http plus encoding/json and with twilio-go's Numbers v2 client,
// all against a loopback httptest server. It is a module of its own so
// that the SDK's go.mod never requires twilio-go; the benchmarks are in
// bench_test.go and how to run them is in README.md.
package benchmarks

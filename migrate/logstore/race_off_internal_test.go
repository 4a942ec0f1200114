//go:build !race

package logstore

// millionTest is how many numbers TestMillionResultsInAFewBytesEach
// indexes.
const millionTest = 1_000_000

//go:build race

package logstore

// millionTest is how many numbers TestMillionResultsInAFewBytesEach
// indexes: fewer under the race detector, which makes each step many
// times slower (the bytes a number are the same).
const millionTest = 200_000

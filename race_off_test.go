//go:build !race

package hostednumbers_test

// raceEnabled: the tests run without the race detector.
const raceEnabled = false

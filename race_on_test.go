//go:build race

package hostednumbers_test

// raceEnabled: the tests run with the race detector, which changes what
// sync.Pool keeps and so how many allocations a call makes.
const raceEnabled = true

package migrate

// Test hooks, for the tests of this package only.

// withCheckpoint sets the function called at each step a test may stop a
// run at.
func withCheckpoint(o *Options, f func(step string)) { o.checkpoint = f }

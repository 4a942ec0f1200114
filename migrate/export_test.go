package migrate

// Test hooks, for the tests of this package only.

// withCheckpoint sets the function called at each step a test may stop a
// run at.
func withCheckpoint(o *Options, f func(step string)) { o.checkpoint = f }

// withSettleOverride makes looks use o.Settle instead of the window each
// create recorded.
func withSettleOverride(o *Options) { o.settleOverride = true }

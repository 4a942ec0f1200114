package migrate

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// faultModes are the ways the fake can be as hard as Twilio, in the
// clock's time: the settle window (2 minutes) outlasts each.
var faultModes = []struct {
	name   string
	opts   []hostednumberstest.Option
	faults []hostednumberstest.Fault
	// createTimeout, if set, is the attempt limit of the creates.
	createTimeout time.Duration
}{
	{name: "delayed processing", opts: []hostednumberstest.Option{hostednumberstest.WithProcessingDelay(60*time.Second, 30*time.Second)}},
	{name: "abandoned creates processed late",
		opts:          []hostednumberstest.Option{hostednumberstest.WithAbandonedCreateDelay(90 * time.Second)},
		createTimeout: 100 * time.Millisecond,
		faults:        []hostednumberstest.Fault{{Method: "POST"}, {Method: "POST", Latency: time.Second}}},
	{name: "lost answers processed late",
		faults: []hostednumberstest.Fault{{Method: "POST", ProcessThenDrop: true, ProcessDelay: 100 * time.Second}}},
	{name: "lagging lists", opts: []hostednumberstest.Option{hostednumberstest.WithListLag(40 * time.Second)}},
	{name: "clock ahead", opts: []hostednumberstest.Option{hostednumberstest.WithClockOffset(10 * time.Minute)}},
	{name: "clock behind", opts: []hostednumberstest.Option{hostednumberstest.WithClockOffset(-10 * time.Minute)}},
	{name: "resubmission duplicates", opts: []hostednumberstest.Option{hostednumberstest.WithResubmission(hostednumberstest.ResubmissionDuplicates)}},
}

// TestCrashAtEveryStepInEveryFaultMode kills a migration of three
// batches at each step, in-process, against the fake in each fault mode,
// runs it again until it finishes, and counts what Twilio holds: exactly
// one hosted number order per number, and no number in two bulk
// requests.
func TestCrashAtEveryStepInEveryFaultMode(t *testing.T) {
	steps := []struct {
		step string
		n    int
	}{{"", 0}, {stepAfterSending, 1}, {stepAfterSending, 2}, {stepAfterAnswer, 2}, {stepAfterAnswer, 3}, {stepMidWait, 1}}
	for _, mode := range faultModes {
		for _, at := range steps {
			name := mode.name + "/none"
			if at.step != "" {
				name = fmt.Sprintf("%s/%s:%d", mode.name, at.step, at.n)
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, 5, 2, mode.opts)
				if mode.createTimeout > 0 {
					e.opts.Client.BulkHostedNumberOrders = createTimeout{e.opts.Client.BulkHostedNumberOrders, mode.createTimeout, e.srv}
				}
				for _, f := range mode.faults {
					e.srv.InjectFault(f)
				}
				var first func(*Options)
				if at.step != "" {
					first = func(o *Options) { withCheckpoint(o, killAt(at.step, at.n)) }
				}
				e.untilFinished(8, first)
				e.assertOncePerNumber()
				for i := 1; i <= 3; i++ {
					assert.Equal(t, StateAccepted, e.batch(i).State, "batch %d", i)
				}
				for p, s := range e.statuses() {
					assert.Equal(t, "completed", s, p)
				}
			})
		}
	}
}

// createTimeout gives every create an attempt limit of its own (the
// other calls keep the client's, so that a loaded machine does not fail
// them). A create it cuts off returns once the fake has taken it in as
// abandoned: the fake dates its late processing from when it noticed
// the client leave, and the test clock must not jump in between (a
// real Twilio needs no such wait: its clock does not jump).
type createTimeout struct {
	hostednumbers.BulkHostedNumberOrdersAPI
	limit time.Duration
	srv   *hostednumberstest.Server
}

func (c createTimeout) Create(ctx context.Context, p *hostednumbers.CreateBulkHostedNumberOrderParams, opts ...hostednumbers.CallOption) (*hostednumbers.BulkHostedNumberOrder, error) {
	o, err := c.BulkHostedNumberOrdersAPI.Create(ctx, p, append(opts, hostednumbers.WithCallTimeout(c.limit))...)
	if err != nil {
		// This create's request (creates of other batches may be in
		// flight at the same time): its last POST naming its first number.
		first := []byte(`"` + p.RequestItems[0].Numbers[0].PhoneNumber + `"`)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			reqs := c.srv.Requests()
			k := len(reqs) - 1
			for k >= 0 && (reqs[k].Method != "POST" || !bytes.Contains(reqs[k].Body, first)) {
				k--
			}
			if k < 0 || reqs[k].CreatedSID != "" {
				break
			}
		}
	}
	return o, err
}

// TestInputChangeAfterACrashInEveryFaultMode kills the first run after a
// create's answer, changes the input (one number withdrawn before it was
// sent, two added), and runs until the migration finishes: every number
// still in the input has exactly one order, the withdrawn one none.
func TestInputChangeAfterACrashInEveryFaultMode(t *testing.T) {
	for _, mode := range faultModes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, 4, 2, mode.opts)
			e.opts.Concurrency = 1 // batch 2 is not sent before the kill
			if mode.createTimeout > 0 {
				e.opts.Client.BulkHostedNumberOrders = createTimeout{e.opts.Client.BulkHostedNumberOrders, mode.createTimeout, e.srv}
			}
			for _, f := range mode.faults {
				e.srv.InjectFault(f)
			}
			_, wasKilled := e.run(func(o *Options) { withCheckpoint(o, killAt(stepAfterAnswer, 1)) })
			require.True(t, wasKilled)
			input := append([]string{e.phones[0], e.phones[1], e.phones[2]}, "+14155550900", "+14155550901")
			ch, err := ApplyInput(e.ctx, e.store, Input{Name: "changed"}, inputOf(input))
			require.NoError(t, err)
			assert.Equal(t, InputChanges{Added: 2, Withdrawn: 1}, ch)
			withdrawn := e.phones[3]
			e.phones = input
			e.untilFinished(8, nil)
			e.assertOncePerNumber()
			for _, o := range e.srv.HostedNumberOrders() {
				assert.NotEqual(t, withdrawn, o.PhoneNumber, "the withdrawn number was never sent")
			}
		})
	}
}

package preflight

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// Which failed creates are worth creating again.
func TestRetryable(t *testing.T) {
	live, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended, end := context.WithCancel(context.Background())
	end()
	apiErr := func(status int, outcome error) error {
		return fmt.Errorf("create: %w", errors.Join(&hostednumbers.APIError{HTTPStatus: status}, outcome))
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"429", live, apiErr(429, hostednumbers.ErrNotApplied), true},
		{"503", live, apiErr(503, hostednumbers.ErrOutcomeUnknown), true},
		{"400", live, apiErr(400, hostednumbers.ErrNotApplied), false},
		{"401", live, apiErr(401, hostednumbers.ErrNotApplied), false},
		{"404", live, apiErr(404, hostednumbers.ErrNotApplied), false},
		{"invalid input", live, fmt.Errorf("x: %w", &hostednumbers.ValidationError{}), false},
		{"connection refused", live, fmt.Errorf("dial: refused: %w", hostednumbers.ErrNotApplied), true},
		{"answer lost", live, fmt.Errorf("EOF: %w", hostednumbers.ErrOutcomeUnknown), true},
		{"no label", live, errors.New("mock failure"), true},
		{"ctx ended", ended, fmt.Errorf("EOF: %w", hostednumbers.ErrOutcomeUnknown), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, retryable(tt.ctx, tt.err))
		})
	}
}

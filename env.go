package hostednumbers

import "os"

// WithEnv makes NewClientFromEnv read TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN, TWILIO_API_KEY, TWILIO_API_SECRET, TWILIO_REGION
// and TWILIO_EDGE through getenv instead of os.Getenv: a command that
// takes its environment as a value (for its tests, or from a file of
// settings) builds its client exactly as NewClientFromEnv does, with the
// same checks and the same errors naming each variable. The last WithEnv
// given wins. Given to NewClient, which reads no environment, or with a
// nil getenv, it is a *ValidationError naming "env".
func WithEnv(getenv func(string) string) Option { return envOption{getenv: getenv} }

// envOption is WithEnv's Option: NewClientFromEnv reads it before the
// environment, and applying it only checks where it was given.
type envOption struct{ getenv func(string) string }

func (o envOption) applyOption(s *settings) error {
	switch {
	case s.credentials != fromEnvironment:
		return &ValidationError{Problems: []FieldError{{Field: "env", Message: "applies to NewClientFromEnv only: NewClient reads no environment"}}}
	case o.getenv == nil:
		return &ValidationError{Problems: []FieldError{{Field: "env", Message: "needs a function to read the variables with"}}}
	}
	return nil
}

// envLookup returns the getenv of the last WithEnv among opts, or
// os.Getenv.
func envLookup(opts []Option) func(string) string {
	getenv := os.Getenv
	for _, opt := range opts {
		if e, ok := opt.(envOption); ok && e.getenv != nil {
			getenv = e.getenv
		}
	}
	return getenv
}

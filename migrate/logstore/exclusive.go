package logstore

import (
	"time"

	"github.com/hostednumbers/hostednumbers-go/migrate"
)

var _ migrate.Exclusive = (*Store)(nil)

// ExclusiveSince implements migrate.Exclusive: it is when Open had taken
// the store's lock (read just after it, so never earlier than the lock).
// Every process that held the store before had ended, or released it, by
// then, so a create such a process left in flight reached Twilio before
// then if it ever did.
func (s *Store) ExclusiveSince() time.Time { return s.locked }

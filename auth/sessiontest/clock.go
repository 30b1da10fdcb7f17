package sessiontest

import (
	"sync"
	"time"
)

// Epoch is where a Clock from NewClock starts: a fixed instant, so runs are
// reproducible.
var Epoch = time.Date(2026, time.February, 3, 8, 0, 0, 0, time.UTC)

// Clock is a manual clock, safe for concurrent use. Pass its Now method
// where an adapter takes a now func.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at Epoch.
func NewClock() *Clock { return &Clock{t: Epoch} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

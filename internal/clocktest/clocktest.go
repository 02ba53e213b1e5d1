// Package clocktest is the clock tests hand to code that takes its time
// from an injected func() time.Time: it moves only when the test says so,
// and is safe for concurrent use. Standard library only.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a time source a test moves forward by hand.
type Clock struct {
	mu     sync.Mutex
	base   time.Time // zero: the real time
	offset time.Duration
}

// New returns a clock that stands at t until advanced.
func New(t time.Time) *Clock { return &Clock{base: t} }

// Real returns a clock that follows the real time plus what it was
// advanced by: for code that compares its time with the real time of
// parts the test does not control (a store's timestamps, a browser).
func Real() *Clock { return &Clock{} }

// Now returns the clock's time; pass c.Now where a func() time.Time is
// taken.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base.IsZero() {
		return time.Now().Add(c.offset)
	}
	return c.base.Add(c.offset)
}

// Advance moves the clock forward by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

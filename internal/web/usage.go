package web

import (
	"context"
	"sync"
	"time"
)

// usage is the size of a folder. Partial means a bound was hit, so Bytes
// is a lower limit.
type usage struct {
	Bytes   int64
	Partial bool
	Err     error
}

type usageEntry struct {
	u  usage
	at time.Time
}

// usageCache remembers folder sizes for a few seconds, so reloading the
// page or many people looking at once does not walk the disk each time.
type usageCache struct {
	mu      sync.Mutex
	now     func() time.Time
	ttl     time.Duration
	measure func(home, p string) usage
	m       map[string]usageEntry
}

func newUsageCache(now func() time.Time, ttl time.Duration, measure func(home, p string) usage) *usageCache {
	return &usageCache{now: now, ttl: ttl, measure: measure, m: make(map[string]usageEntry)}
}

// get returns the size of folder p (clean, starting with "/") inside home.
func (c *usageCache) get(home, p string) usage {
	key := home + "\x00" + p
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.u
	}
	u := c.measure(home, p)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, old := range c.m {
		if now.Sub(old.at) >= c.ttl {
			delete(c.m, k)
		}
	}
	c.m[key] = usageEntry{u: u, at: now}
	return u
}

// dirSize is what the quota counts of folder p: the disk space its
// files, links and folders use (allocated blocks), measured by the
// service (bounded, never following a link).
func (s *server) dirSize(home, p string) usage {
	u, err := s.svc.FolderUsage(context.Background(), home, p)
	return usage{Bytes: u.Allocated, Partial: u.Partial, Err: err}
}

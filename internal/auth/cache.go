package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// VerifyCache remembers recently verified (hash, password) pairs for a short
// time, so the several connections an FTP client opens with the same
// credentials cost one argon2id check instead of one each. It keeps an HMAC
// of the password under a key that lives only in this process, never the
// password. An entry is bound to the stored hash, so a password change (a
// new hash) misses the cache at once.
type VerifyCache struct {
	ttl time.Duration
	max int
	now func() time.Time
	key [32]byte

	mu      sync.Mutex
	entries map[string]cacheEntry // by username
}

type cacheEntry struct {
	hash    string
	mac     [32]byte
	expires time.Time
}

// NewVerifyCache returns a cache keeping entries for ttl, at most max of
// them (the oldest-expiring half is dropped when full).
func NewVerifyCache(ttl time.Duration, max int, now func() time.Time) *VerifyCache {
	if now == nil {
		now = time.Now
	}
	c := &VerifyCache{ttl: ttl, max: max, now: now, entries: make(map[string]cacheEntry)}
	if _, err := rand.Read(c.key[:]); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return c
}

// Hit reports whether user recently logged in with this password against
// this stored hash.
func (c *VerifyCache) Hit(user, hash, password string) bool {
	if c == nil {
		return false
	}
	mac := c.mac(user, password)
	c.mu.Lock()
	e, ok := c.entries[user]
	c.mu.Unlock()
	return ok && e.hash == hash && c.now().Before(e.expires) && hmac.Equal(e.mac[:], mac[:])
}

// Add records a successful verification.
func (c *VerifyCache) Add(user, hash, password string) {
	if c == nil {
		return
	}
	e := cacheEntry{hash: hash, mac: c.mac(user, password), expires: c.now().Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict()
	}
	c.entries[user] = e
}

// Forget drops user's entry (after a password change on this node).
func (c *VerifyCache) Forget(user string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.entries, user)
	c.mu.Unlock()
}

// evict drops expired entries, and if that frees nothing, all of them:
// a full cache under a flood is not worth keeping sorted.
func (c *VerifyCache) evict() {
	now := c.now()
	for u, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, u)
		}
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
}

func (c *VerifyCache) mac(user, password string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

package web

import (
	"math"
	"net"
	"strconv"
	"sync"
	"time"
)

// Log-in throttling. Each key (a client IP, a name) may fail a few times
// per window; one failure more blocks the key, for longer each time it
// happens again ("growing delay"), until it stays quiet for forgetAfter.
// A name is throttled on its own so that an attacker spreading guesses over
// many IPs still gets few per account; an IP has a higher allowance
// because several people may share one behind NAT.
const (
	failWindow   = time.Minute
	maxNameFails = 5
	maxIPFails   = 10
	firstBlock   = time.Minute
	maxBlock     = 15 * time.Minute
	forgetAfter  = time.Hour
	maxKeys      = 10000 // prune stale keys beyond this many
)

type attempts struct {
	fails   []time.Time // inside the current window
	strikes int         // how many times the key was blocked
	until   time.Time   // blocked until
	last    time.Time
}

// limiter throttles log-in attempts. It is safe for concurrent use.
type limiter struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*attempts
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, m: make(map[string]*attempts)}
}

// wait returns how long the longest-blocked of keys must still wait; 0
// means the attempt may go ahead.
func (l *limiter) wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	for _, k := range keys {
		if a := l.m[k]; a != nil && a.until.After(now) {
			longest = max(longest, a.until.Sub(now))
		}
	}
	return longest
}

// fail records a failed attempt against every key.
func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.m) >= maxKeys {
		l.prune(now)
	}
	for _, k := range keys {
		a := l.m[k]
		if a == nil || now.Sub(a.last) > forgetAfter {
			a = &attempts{}
			l.m[k] = a
		}
		a.last = now
		kept := a.fails[:0]
		for _, t := range a.fails {
			if now.Sub(t) < failWindow {
				kept = append(kept, t)
			}
		}
		a.fails = append(kept, now)
		limit := maxNameFails
		if len(k) > 3 && k[:3] == "ip:" {
			limit = maxIPFails
		}
		if len(a.fails) >= limit {
			block := firstBlock * time.Duration(math.Pow(2, float64(min(a.strikes, 10))))
			a.until, a.fails = now.Add(min(block, maxBlock)), nil
			a.strikes++
		}
	}
}

// success forgets the failures of key (the name that just logged in). The
// IP's count is kept: one good account must not buy guesses at others.
func (l *limiter) success(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

func (l *limiter) prune(now time.Time) {
	for k, a := range l.m {
		if !a.until.After(now) && now.Sub(a.last) > failWindow {
			delete(l.m, k)
		}
	}
}

// ipKey groups IPv6 clients by /64, the block one subscriber usually has,
// so rotating addresses inside it does not buy more attempts.
func ipKey(ip string) string {
	p := net.ParseIP(ip)
	if p == nil || p.To4() != nil {
		return ip
	}
	return p.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// secondsText rounds d up to whole seconds.
func secondsText(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

package web

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Log-in throttling. Three counts are kept, each per window:
//
//   - an IP (IPv6: its /64) that fails maxIPFails times is blocked,
//     whatever names it tries: several people may share one behind NAT;
//   - a name failing maxPairFails times from one IP is blocked for that
//     IP only: the right password still works from anywhere else, so
//     nobody can lock an owner or an admin out by guessing wrong;
//   - a name failing maxNameFails times from any IPs is under attack:
//     then every wrong guess at it blocks its IP for that name at once,
//     so an attacker spreading guesses over many addresses gets one per
//     address per block, while the right password still gets in.
//
// A block lasts firstBlock, doubling each time the key is blocked again,
// up to maxBlock, until the key stays quiet for forgetAfter.
//
// This throttle is the panel's own concern, apart from the bans of the
// defender (Config.Guard): the defender keeps an IP out of FTP and the
// panel on every node for a long time after many failures; this one
// slows the guessing at one panel name on this node for minutes, needs no
// store, still works with bans off (--ban-threshold 0), and sees a name
// attacked from many addresses, which per-IP bans cannot. Both count a
// client by domain.ClientKey.
const (
	failWindow   = time.Minute
	maxPairFails = 5
	maxNameFails = 20
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

// loginKeys are the keys of one log-in attempt.
type loginKeys struct {
	ip   string // the client's address
	pair string // the name from that address
	name string // the name from anywhere
}

func newLoginKeys(who role, name, ip string) loginKeys {
	k := loginKeys{ip: "ip:" + ipKey(ip), name: string(who) + ":" + name}
	k.pair = k.name + "@" + ipKey(ip)
	return k
}

// wait returns how long the attempt must still wait; 0 means it may go
// ahead. Only the IP and the name from this IP ever block.
func (l *limiter) wait(k loginKeys) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	for _, key := range []string{k.ip, k.pair} {
		if a := l.m[key]; a != nil && a.until.After(now) {
			longest = max(longest, a.until.Sub(now))
		}
	}
	return longest
}

// fail records a failed attempt.
func (l *limiter) fail(k loginKeys) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.m) >= maxKeys {
		l.prune(now)
	}
	l.count(k.ip, maxIPFails, now)
	if underAttack := l.count(k.name, maxNameFails, now); underAttack {
		l.block(l.entry(k.pair, now), now)
		return
	}
	l.count(k.pair, maxPairFails, now)
}

// entry returns key's attempts, fresh when it was quiet for forgetAfter.
func (l *limiter) entry(key string, now time.Time) *attempts {
	a := l.m[key]
	if a == nil || now.Sub(a.last) > forgetAfter {
		a = &attempts{}
		l.m[key] = a
	}
	a.last = now
	return a
}

// count records a failure against key, blocks it when it reaches limit
// within the window, and reports whether key is blocked.
func (l *limiter) count(key string, limit int, now time.Time) (blocked bool) {
	a := l.entry(key, now)
	kept := a.fails[:0]
	for _, t := range a.fails {
		if now.Sub(t) < failWindow {
			kept = append(kept, t)
		}
	}
	a.fails = append(kept, now)
	if len(a.fails) >= limit {
		l.block(a, now)
	}
	return a.until.After(now)
}

// block blocks a for a growing time and starts a new window.
func (l *limiter) block(a *attempts, now time.Time) {
	d := firstBlock * time.Duration(math.Pow(2, float64(min(a.strikes, 10))))
	a.until, a.fails = now.Add(min(d, maxBlock)), nil
	a.strikes++
}

// success forgets the failures of the name from this IP, the one that
// just logged in. The IP's count is kept, so one good account does not
// buy guesses at others, and so is the name's: it may be under attack
// from elsewhere.
func (l *limiter) success(k loginKeys) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, k.pair)
}

func (l *limiter) prune(now time.Time) {
	for k, a := range l.m {
		if !a.until.After(now) && now.Sub(a.last) > failWindow {
			delete(l.m, k)
		}
	}
}

// ipKey is the client key of ip (see domain.ClientKey) as text.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	return domain.KeyText(domain.ClientKey(a))
}

// secondsText rounds d up to whole seconds.
func secondsText(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

package ftpd

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Guard decides which client IPs are banned for failing to log in;
// *defender.Defender implements it.
//
// Banned is called for every accepted connection, before anything else,
// and again before each password check; it must answer from memory.
// Failure is called after every refused log-in whose fault is the
// client's (unknown user, wrong password, disabled user or account; not
// a busy server). It reports whether the IP is banned now; its error
// (the ban could not be saved) is logged, and the ban still applies.
type Guard interface {
	Banned(ip netip.Addr) (until time.Time, banned bool)
	Failure(ctx context.Context, ip netip.Addr, reason string) (banned bool, err error)
}

// failureTimeout bounds recording a failed log-in with the Guard, which
// may write to the store.
const failureTimeout = 5 * time.Second

// banMessage is the 421 text shown to a banned IP.
func banMessage(until time.Time) string {
	return fmt.Sprintf("Your IP address is banned until %s after repeated failed log-ins.", untilText(until, time.Now()))
}

// untilText names the end of a ban: the time alone when it is within a
// day, with the date otherwise.
func untilText(until, now time.Time) string {
	until = until.UTC()
	if until.Sub(now) < 20*time.Hour {
		return until.Format("15:04 UTC")
	}
	return until.Format("2006-01-02 15:04 UTC")
}

// loginRate caps the log-in attempts per IP (IPv6: per /64) with the
// generic cell rate algorithm: a burst of up to limit attempts, then one
// more every minute/limit. It keeps one timestamp per IP, forgotten once
// its attempts are a minute old, so memory stays bounded by the attempts
// of the last minute.
type loginRate struct {
	limit    int
	interval time.Duration // minute / limit

	mu    sync.Mutex
	next  map[netip.Prefix]time.Time // theoretical arrival time of the next attempt
	swept time.Time
}

func newLoginRate(perMinute int) *loginRate {
	if perMinute <= 0 {
		return nil
	}
	return &loginRate{limit: perMinute, interval: time.Minute / time.Duration(perMinute), next: map[netip.Prefix]time.Time{}}
}

// allow records an attempt from ip at now and reports whether it is
// within the limit. A nil loginRate allows everything.
func (l *loginRate) allow(ip netip.Addr, now time.Time) bool {
	if l == nil {
		return true
	}
	key := domain.ClientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, t := range l.next {
			if !t.After(now) {
				delete(l.next, k)
			}
		}
		l.swept = now
	}
	tat := l.next[key]
	if tat.Before(now) {
		tat = now
	}
	// Allowed while the backlog of attempts fits in one minute.
	if tat.Sub(now) > time.Minute-l.interval {
		return false
	}
	l.next[key] = tat.Add(l.interval)
	return true
}

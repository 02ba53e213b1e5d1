// Package sessions owns the live FTP sessions of one panelftp process: who is
// connected from where, what each connection is doing right now, the limits
// on how many may connect, and ending a session on request (Kick).
//
// The FTP engine registers every accepted connection (Registry.Open) and
// reports what the session does (Session.Login, Begin, Progress, End). The
// transfer path only touches atomics, so counting bytes costs nothing a
// transfer would notice.
//
// Run makes the registry visible to every node and every process: it
// publishes changed sessions and a heartbeat to the shared store, and
// applies the kicks other processes (the CLI, the web panel, another node)
// request through it. The package uses only the standard library, the
// domain model and the store interface.
package sessions

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Limits caps how many connections the registry admits. The zero value of
// each field is its default; a negative value means no limit.
type Limits struct {
	// MaxConnections caps all connections of this process (default 500).
	MaxConnections int
	// MaxPerIP caps connections from one client: an IPv4 address or an
	// IPv6 /64, as bans count them (default 20).
	MaxPerIP int
	// MaxPerUser caps logged-in sessions of one FTP user (default 10).
	MaxPerUser int
}

// Defaults of Limits.
const (
	DefaultMaxConnections = 500
	DefaultMaxPerIP       = 20
	DefaultMaxPerUser     = 10
)

func (l Limits) withDefaults() Limits {
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	return Limits{
		MaxConnections: def(l.MaxConnections, DefaultMaxConnections),
		MaxPerIP:       def(l.MaxPerIP, DefaultMaxPerIP),
		MaxPerUser:     def(l.MaxPerUser, DefaultMaxPerUser),
	}
}

// Refusals of Open and Login, matched with errors.Is. The error returned
// is a *LimitError whose message names the limit, fit for an FTP reply.
var (
	ErrTooManyConnections = errors.New("too many connections to this server")
	ErrTooManyFromIP      = errors.New("too many connections from your IP address")
	ErrTooManyForUser     = errors.New("too many sessions for this user")
	// ErrKicked refuses a log-in that raced with a kick of the same user:
	// the log-in may have read the user's old password or path.
	ErrKicked = errors.New("this user was just changed or disconnected; log in again")
)

// LimitError says which limit refused a connection or log-in.
type LimitError struct {
	Err error // one of the sentinels above
	Max int
}

func (e *LimitError) Error() string { return fmt.Sprintf("%v (limit %d)", e.Err, e.Max) }
func (e *LimitError) Unwrap() error { return e.Err }

// Registry tracks the live sessions of this process. It is safe for
// concurrent use.
type Registry struct {
	limits Limits
	now    func() time.Time

	// Run's timing; tests shorten them.
	publishEvery, kickEvery time.Duration

	mu      sync.Mutex
	byID    map[string]*Session
	perIP   map[netip.Prefix]int // by domain.ClientKey
	perUser map[string]int
	// userKicks remembers when a kick of a username arrived, so that a
	// log-in in flight at that moment is refused (see Session.Login).
	userKicks map[string]time.Time
}

// NewRegistry returns an empty registry enforcing limits.
func NewRegistry(limits Limits) *Registry {
	return &Registry{
		limits:       limits.withDefaults(),
		now:          time.Now,
		publishEvery: time.Second,
		kickEvery:    250 * time.Millisecond,
		byID:         map[string]*Session{},
		perIP:        map[netip.Prefix]int{},
		perUser:      map[string]int{},
		userKicks:    map[string]time.Time{},
	}
}

// Limits returns the limits in force, defaults applied.
func (r *Registry) Limits() Limits {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limits
}

// SetLimits changes the limits while the server runs (0 = the default).
// They apply to connections and log-ins from now on; no open session is
// cut for being over a lowered limit.
func (r *Registry) SetLimits(l Limits) {
	r.mu.Lock()
	r.limits = l.withDefaults()
	r.mu.Unlock()
}

// Open registers a new connection from remote. kick is called (once, from
// any goroutine) when the session must end: it must close the control and
// data connections and return quickly. Open fails with a *LimitError when
// MaxConnections or MaxPerIP is reached.
func (r *Registry) Open(remote netip.AddrPort, kick func()) (*Session, error) {
	ip := remote.Addr().Unmap()
	r.mu.Lock()
	defer r.mu.Unlock()
	if max := r.limits.MaxConnections; max > 0 && len(r.byID) >= max {
		return nil, &LimitError{Err: ErrTooManyConnections, Max: max}
	}
	client := domain.ClientKey(ip)
	if max := r.limits.MaxPerIP; max > 0 && r.perIP[client] >= max {
		return nil, &LimitError{Err: ErrTooManyFromIP, Max: max}
	}
	now := r.now()
	s := &Session{
		reg: r, id: newID(now), ip: ip, remote: remote.String(),
		connectedAt: now, kick: kick,
		activity: domain.ActivityIdle,
	}
	s.lastActivity.Store(now.UnixNano())
	r.byID[s.id] = s
	r.perIP[client]++
	return s, nil
}

// Len returns the number of open sessions.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// List returns a snapshot of every session, ordered by ID (which is the
// order they connected in).
func (r *Registry) List() []domain.Session {
	now := r.now()
	all := r.all()
	out := make([]domain.Session, 0, len(all))
	for _, s := range all {
		out = append(out, s.snapshot(now))
	}
	return out
}

// Get returns a snapshot of one session.
func (r *Registry) Get(id string) (domain.Session, bool) {
	r.mu.Lock()
	s := r.byID[id]
	r.mu.Unlock()
	if s == nil {
		return domain.Session{}, false
	}
	return s.snapshot(r.now()), true
}

// Kick ends session id; it reports whether the session was found here.
func (r *Registry) Kick(id string) bool {
	r.mu.Lock()
	s := r.byID[id]
	r.mu.Unlock()
	if s == nil {
		return false
	}
	s.Kick()
	return true
}

// KickUser ends the sessions of username that were admitted on a password
// check begun before changedAt (the time the user was changed, deleted or
// disabled), and refuses such log-ins still in flight. Sessions whose check
// began after the change read the new data and are kept, so a client that
// logs in again at once with the new password is not cut off. It returns
// how many sessions it ended.
func (r *Registry) KickUser(username string, changedAt time.Time) int {
	username = strings.ToLower(username)
	r.mu.Lock()
	now := r.now()
	if changedAt.IsZero() {
		changedAt = now
	}
	if at, ok := r.userKicks[username]; !ok || changedAt.After(at) {
		r.userKicks[username] = changedAt
	}
	for u, at := range r.userKicks {
		if now.Sub(at) > time.Minute {
			delete(r.userKicks, u)
		}
	}
	var victims []*Session
	for _, s := range r.byID {
		s.mu.Lock()
		stale := s.username == username && s.authStarted.Before(changedAt)
		s.mu.Unlock()
		if stale {
			victims = append(victims, s)
		}
	}
	r.mu.Unlock()
	for _, s := range victims {
		s.Kick()
	}
	return len(victims)
}

// Busy returns the sessions with a transfer or listing running.
func (r *Registry) Busy() []*Session {
	var busy []*Session
	for _, s := range r.all() {
		if s.Busy() {
			busy = append(busy, s)
		}
	}
	return busy
}

func (r *Registry) all() []*Session {
	r.mu.Lock()
	list := make([]*Session, 0, len(r.byID))
	for _, s := range r.byID {
		list = append(list, s)
	}
	r.mu.Unlock()
	slices.SortFunc(list, func(a, b *Session) int { return strings.Compare(a.id, b.id) })
	return list
}

// login admits s as username, checking the user's limit (maxSessions,
// or MaxPerUser when it is 0) and racing kicks.
func (r *Registry) login(s *Session, username, account string, authStarted time.Time, maxSessions int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[s.id]; !ok {
		return ErrKicked
	}
	if at, ok := r.userKicks[username]; ok && authStarted.Before(at) {
		return ErrKicked
	}
	max := r.limits.MaxPerUser
	if maxSessions > 0 {
		max = maxSessions
	}
	if max > 0 && r.perUser[username] >= max {
		return &LimitError{Err: ErrTooManyForUser, Max: max}
	}
	s.mu.Lock()
	if s.username != "" {
		s.mu.Unlock()
		return errors.New("already logged in")
	}
	s.username, s.account, s.authStarted = username, account, authStarted
	s.mu.Unlock()
	r.perUser[username]++
	return nil
}

// remove forgets s; it is idempotent.
func (r *Registry) remove(s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[s.id]; !ok {
		return
	}
	delete(r.byID, s.id)
	client := domain.ClientKey(s.ip)
	if r.perIP[client]--; r.perIP[client] <= 0 {
		delete(r.perIP, client)
	}
	if u := s.Username(); u != "" {
		if r.perUser[u]--; r.perUser[u] <= 0 {
			delete(r.perUser, u)
		}
	}
}

// Package sessions owns the live FTP sessions of one panelftp process: who is
// connected from where, what each connection is doing right now, the limits
// on how many may connect, and ending a session on request (Kick).
//
// The FTP engine registers every accepted connection (Registry.Open) and
// reports what the session does (Session.Login, Begin, Progress, End). The
// transfer path only touches atomics, so counting bytes costs nothing a
// transfer would notice.
//
// A session remembers the versions of its user and account it logged in
// with (domain.Versions). Apply ends the sessions a change notice makes
// stale, and Resync re-reads the versions of every user with a live
// session and ends the stale ones; neither compares clocks, so a session
// is ended however the nodes' clocks differ and however long this node was
// away from the store.
//
// Run makes the registry visible to every node and every process: it
// publishes changed sessions and a heartbeat to the shared store (see
// Cluster). The package uses only the standard library, the domain model
// and the store interface.
package sessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
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
	// ErrKicked refuses a log-in that raced with a change of its user or
	// account: the log-in read the user's old password or path.
	ErrKicked = errors.New("this user was just changed or disconnected; log in again")
	// ErrCannotCount refuses a log-in whose place among the sessions of
	// every node could not be claimed because the store did not answer.
	ErrCannotCount = errors.New("log-in is not possible right now, please try again later")
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

	// publishEvery is how often Run publishes changed sessions; tests
	// shorten it.
	publishEvery time.Duration

	mu      sync.Mutex
	cluster Cluster
	byID    map[string]*Session
	perIP   map[netip.Prefix]int // by domain.ClientKey
	perUser map[string]int
	// staleUser and staleAccount hold, per name, the version below which
	// sessions are stale, as the latest change notices said: a log-in that
	// read older data while the notice arrived is refused (see login).
	staleUser, staleAccount map[string]floor
	// claimed are sessions ClaimSession stored that Run has not yet
	// taken over.
	claimed map[string]bool
}

// floor is a version below which sessions are stale, and when this node
// learnt it.
type floor struct {
	version int64
	at      time.Time
}

// floorKept is how long a floor refuses log-ins in flight: longer than any
// log-in takes from reading the user to Session.Login.
const floorKept = time.Minute

// Cluster says how a registry shares its sessions with the other nodes
// and processes of one store. The zero value of each field is its default.
type Cluster struct {
	// Store holds the sessions of every node (required for Run, Resync
	// and CountEverywhere).
	Store Store
	// Node names this process among the nodes (see NodeID).
	Node string
	// Log receives the lines about kicks and the store (default: none).
	Log *slog.Logger
	// NodeTTL is how long the other nodes count this node as alive after
	// its last heartbeat (default DefaultNodeTTL). Run sends a heartbeat
	// every quarter of it; a node silent for longer is removed, with its
	// sessions, by the next heartbeat of another.
	NodeTTL time.Duration
	// CountEverywhere makes MaxPerUser and MaxPerIP count the sessions of
	// every live node: a log-in claims its place in Store, atomically, so
	// two nodes cannot both take the last one. Without it (one node),
	// they count this node's sessions only.
	CountEverywhere bool
}

// DefaultNodeTTL is the default Cluster.NodeTTL.
const DefaultNodeTTL = 20 * time.Second

// Store is what the registry reads and writes in the shared store.
type Store interface {
	store.Sessions
	LoginStates(ctx context.Context, usernames []string) (map[string]store.LoginState, error)
}

// NewRegistry returns an empty registry enforcing limits.
func NewRegistry(limits Limits) *Registry {
	return &Registry{
		limits:       limits.withDefaults(),
		now:          time.Now,
		publishEvery: time.Second,
		cluster:      Cluster{NodeTTL: DefaultNodeTTL, Log: slog.New(slog.DiscardHandler)},
		byID:         map[string]*Session{},
		perIP:        map[netip.Prefix]int{},
		perUser:      map[string]int{},
		staleUser:    map[string]floor{},
		staleAccount: map[string]floor{},
		claimed:      map[string]bool{},
	}
}

// Join makes the registry a node of c. Call it once, before the registry
// admits connections.
func (r *Registry) Join(c Cluster) {
	if c.NodeTTL <= 0 {
		c.NodeTTL = DefaultNodeTTL
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.Log = c.Log.With("node", c.Node)
	r.mu.Lock()
	r.cluster = c
	r.mu.Unlock()
}

func (r *Registry) clusterConfig() Cluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cluster
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

// login admits s as username of account with versions v: it refuses a
// log-in that read its user or account before a change this node has
// already been told of, checks the user's limit (maxSessions, or
// MaxPerUser when it is 0) and, in a cluster counting everywhere, claims
// the session's place in the store.
func (r *Registry) login(s *Session, username, account string, v domain.Versions, maxSessions int) error {
	r.mu.Lock()
	if _, ok := r.byID[s.id]; !ok {
		r.mu.Unlock()
		return ErrKicked
	}
	if r.staleLocked(username, account, v) {
		r.mu.Unlock()
		return ErrKicked
	}
	maxUser := r.limits.MaxPerUser
	if maxSessions > 0 {
		maxUser = maxSessions
	}
	if maxUser > 0 && r.perUser[username] >= maxUser {
		r.mu.Unlock()
		return &LimitError{Err: ErrTooManyForUser, Max: maxUser}
	}
	s.mu.Lock()
	if s.username != "" {
		s.mu.Unlock()
		r.mu.Unlock()
		return errors.New("already logged in")
	}
	s.username, s.account, s.versions = username, account, v
	s.mu.Unlock()
	r.perUser[username]++
	c, claim := r.claimLocked(s, maxUser)
	r.mu.Unlock()
	if !c.CountEverywhere {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	err := c.Store.ClaimSession(ctx, claim)
	if err == nil {
		return nil
	}
	r.undoLogin(s, username)
	switch domain.FieldOf(err) {
	case "user":
		return &LimitError{Err: ErrTooManyForUser, Max: maxUser}
	case "ip":
		return &LimitError{Err: ErrTooManyFromIP, Max: r.Limits().MaxPerIP}
	}
	c.Log.Warn("cannot claim a log-in's place among the sessions of every node; log-in refused", "user", username, "err", err)
	return ErrCannotCount
}

// staleLocked reports whether versions v of username and account were read
// before a change this node was told of. The caller holds r.mu.
func (r *Registry) staleLocked(username, account string, v domain.Versions) bool {
	return v.User < r.staleUser[username].version || v.Account < r.staleAccount[account].version
}

// claimLocked is the claim of s's place: the rooms left for other nodes
// are the limits (maxUser for its user) minus this node's own sessions of
// the user and from the client, s included. The caller holds r.mu and has
// logged s in.
func (r *Registry) claimLocked(s *Session, maxUser int) (Cluster, store.SessionClaim) {
	c := r.cluster
	if !c.CountEverywhere {
		return c, store.SessionClaim{}
	}
	room := func(max, own int) int {
		if max <= 0 {
			return -1
		}
		return max - own + 1
	}
	r.claimed[s.id] = true
	x := s.snapshot(r.now())
	x.Node = c.Node
	return c, store.SessionClaim{Node: c.Node, TTL: c.NodeTTL, Session: x,
		UserRoom: room(maxUser, r.perUser[s.username]), IPRoom: room(r.limits.MaxPerIP, r.perIP[domain.ClientKey(s.ip)])}
}

// undoLogin takes back a log-in of s as username whose claim failed,
// unless the session has ended meanwhile (remove has counted it off).
func (r *Registry) undoLogin(s *Session, username string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[s.id]; !ok {
		return
	}
	s.mu.Lock()
	s.username, s.account, s.versions = "", "", domain.Versions{}
	s.mu.Unlock()
	if r.perUser[username]--; r.perUser[username] <= 0 {
		delete(r.perUser, username)
	}
}

// takeClaimed returns the IDs of the sessions claimed in the store since
// the last call, for Run to publish (or delete) like its own.
func (r *Registry) takeClaimed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.claimed))
	for id := range r.claimed {
		ids = append(ids, id)
	}
	clear(r.claimed)
	return ids
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

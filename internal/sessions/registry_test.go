package sessions

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// clock is a settable time source for the registry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestRegistry(l Limits) (*Registry, *clock) {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	r := NewRegistry(l)
	r.now = c.now
	return r, c
}

func addr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func mustOpen(t *testing.T, r *Registry, remote string) *Session {
	t.Helper()
	s, err := r.Open(addr(remote), nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", remote, err)
	}
	return s
}

func TestLimitDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero means defaults", Limits{}, Limits{500, 20, 10}},
		{"set values kept", Limits{7, 3, 2}, Limits{7, 3, 2}},
		{"negative means unlimited", Limits{-1, -1, -1}, Limits{-1, -1, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewRegistry(tt.in).Limits(); got != tt.want {
				t.Errorf("Limits() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOpenLimits(t *testing.T) {
	r, _ := newTestRegistry(Limits{MaxConnections: 3, MaxPerIP: 2})
	a1 := mustOpen(t, r, "192.0.2.1:1000")
	mustOpen(t, r, "[::ffff:192.0.2.1]:1001") // same IP written as IPv4-mapped IPv6
	_, err := r.Open(addr("192.0.2.1:1002"), nil)
	var le *LimitError
	if !errors.Is(err, ErrTooManyFromIP) || !errors.As(err, &le) || le.Max != 2 {
		t.Fatalf("third connection from one IP: err = %v, want ErrTooManyFromIP with limit 2", err)
	}
	if got := err.Error(); got != "too many connections from your IP address (limit 2)" {
		t.Errorf("message = %q", got)
	}
	mustOpen(t, r, "192.0.2.2:1000")
	if _, err := r.Open(addr("192.0.2.3:1000"), nil); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("fourth connection: err = %v, want ErrTooManyConnections", err)
	}
	a1.Close()
	a1.Close() // idempotent: must not free a second slot
	mustOpen(t, r, "192.0.2.1:1003")
	if _, err := r.Open(addr("192.0.2.4:1000"), nil); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("after one Close and one Open: err = %v, want ErrTooManyConnections", err)
	}
	if r.Len() != 3 {
		t.Errorf("Len = %d, want 3", r.Len())
	}
}

// An IPv6 client is its /64, as for bans: rotating addresses inside it
// does not buy more connections.
func TestOpenLimitPerIPv6Prefix(t *testing.T) {
	r, _ := newTestRegistry(Limits{MaxPerIP: 2})
	s1 := mustOpen(t, r, "[2001:db8:1:2::1]:1000")
	mustOpen(t, r, "[2001:db8:1:2::abcd]:1000")
	if _, err := r.Open(addr("[2001:db8:1:2:ffff:ffff:ffff:ffff]:1000"), nil); !errors.Is(err, ErrTooManyFromIP) {
		t.Fatalf("third connection from one /64: err = %v, want ErrTooManyFromIP", err)
	}
	mustOpen(t, r, "[2001:db8:1:3::1]:1000") // the next /64 is another client
	s1.Close()
	mustOpen(t, r, "[2001:db8:1:2::99]:1000")
}

func TestUnlimited(t *testing.T) {
	r, _ := newTestRegistry(Limits{-1, -1, -1})
	for i := range 50 {
		s := mustOpen(t, r, netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(1000+i)).String())
		if err := s.Login("dev.bob", "bob", v1, 0); err != nil {
			t.Fatalf("Login %d: %v", i, err)
		}
	}
}

func TestLoginPerUserLimit(t *testing.T) {
	r, _ := newTestRegistry(Limits{MaxPerUser: 2})
	start := v1
	s1, s2, s3 := mustOpen(t, r, "192.0.2.1:1"), mustOpen(t, r, "192.0.2.2:1"), mustOpen(t, r, "192.0.2.3:1")
	for _, s := range []*Session{s1, s2} {
		if err := s.Login("dev.bob", "bob", start, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s3.Login("dev.bob", "bob", start, 0); !errors.Is(err, ErrTooManyForUser) {
		t.Fatalf("third log-in: err = %v, want ErrTooManyForUser", err)
	}
	if err := s3.Login("web.bob", "bob", start, 0); err != nil {
		t.Fatalf("another user: %v", err)
	}
	s1.Close()
	s4 := mustOpen(t, r, "192.0.2.4:1")
	if err := s4.Login("dev.bob", "bob", start, 0); err != nil {
		t.Fatalf("after a Close: %v", err)
	}
}

// TestLoginOwnLimit: a user's own limit replaces MaxPerUser for that
// user, higher or lower, and leaves the other users at MaxPerUser.
func TestLoginOwnLimit(t *testing.T) {
	r, _ := newTestRegistry(Limits{MaxPerUser: 2})
	start := v1
	login := func(user string, own int) error {
		return mustOpen(t, r, "192.0.2.1:1").Login(user, "bob", start, own)
	}
	for i := range 3 {
		if err := login("dev.bob", 3); err != nil {
			t.Fatalf("dev.bob (own limit 3), log-in %d: %v", i+1, err)
		}
	}
	err := login("dev.bob", 3)
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooManyForUser) || le.Max != 3 {
		t.Fatalf("fourth log-in of dev.bob: %v, want ErrTooManyForUser with limit 3", err)
	}
	if err := login("one.bob", 1); err != nil {
		t.Fatal(err)
	}
	if err := login("one.bob", 1); !errors.Is(err, ErrTooManyForUser) || !strings.Contains(err.Error(), "limit 1") {
		t.Fatalf("second log-in of one.bob (own limit 1): %v", err)
	}
	for i := range 2 {
		if err := login("web.bob", 0); err != nil {
			t.Fatalf("web.bob, log-in %d: %v", i+1, err)
		}
	}
	if err := login("web.bob", 0); !errors.Is(err, ErrTooManyForUser) {
		t.Fatalf("third log-in of web.bob (MaxPerUser 2): %v", err)
	}
}

func TestIDsUniqueAndOrdered(t *testing.T) {
	r, c := newTestRegistry(Limits{-1, -1, -1})
	var ids []string
	seen := map[string]bool{}
	for i := range 2000 {
		if i%100 == 0 {
			c.add(time.Millisecond)
		}
		s := mustOpen(t, r, "192.0.2.1:1")
		if len(s.ID()) != 26 || seen[s.ID()] {
			t.Fatalf("ID %q: bad length or duplicate", s.ID())
		}
		seen[s.ID()] = true
		ids = append(ids, s.ID())
	}
	// Within one millisecond the order is random; across them it is time.
	for i := 100; i < len(ids); i += 100 {
		if ids[i-100] >= ids[i] {
			t.Fatalf("ID %q (later) does not sort after %q", ids[i], ids[i-100])
		}
	}
	list := r.List()
	if !slices.IsSortedFunc(list, func(a, b domain.Session) int { return cmpString(a.ID, b.ID) }) {
		t.Error("List is not ordered by ID")
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestNodeID(t *testing.T) {
	a, b := NodeID(), NodeID()
	if a == b || a == "" {
		t.Errorf("NodeID() = %q then %q; want two different non-empty IDs", a, b)
	}
}

// v1 is the versions a log-in read in most tests.
var v1 = domain.Versions{User: 10, Account: 5}

// change is a change notice of kind for key with sequence number seq.
func change(kind store.ChangeKind, key string, seq int64) store.Change {
	return store.Change{Seq: seq, Kind: kind, Key: key}
}

func TestKick(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	var kicked atomic.Int32
	open := func(remote string) *Session {
		s, err := r.Open(addr(remote), func() { kicked.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, other := open("192.0.2.1:1"), open("192.0.2.1:2"), open("192.0.2.2:1")
	for _, s := range []*Session{a, b} {
		if err := s.Login("dev.bob", "bob", v1, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Login("web.ann", "ann", v1, 0); err != nil {
		t.Fatal(err)
	}
	if !r.Kick(a.ID()) || r.Kick("nonexistent") {
		t.Fatal("Kick found the wrong sessions")
	}
	a.Kick()
	if kicked.Load() != 1 || !a.Kicked() {
		t.Fatalf("kick function called %d times, want exactly 1", kicked.Load())
	}
	r.Apply(t.Context(), []store.Change{change(store.ChangeUser, "dev.bob", 11)})
	if kicked.Load() != 2 || !b.Kicked() || other.Kicked() {
		t.Errorf("after a change of dev.bob: %d kicks, b kicked = %v, other user kicked = %v", kicked.Load(), b.Kicked(), other.Kicked())
	}
}

// TestApplyEndsStaleSessions: a notice ends the sessions that read the
// user or account before it, and only those; clocks play no part.
func TestApplyEndsStaleSessions(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	login := func(remote, user, account string, v domain.Versions) *Session {
		t.Helper()
		s := mustOpen(t, r, remote)
		if err := s.Login(user, account, v, 0); err != nil {
			t.Fatal(err)
		}
		return s
	}
	old := login("192.0.2.1:1", "dev.bob", "bob", domain.Versions{User: 10, Account: 5})
	fresh := login("192.0.2.1:2", "dev.bob", "bob", domain.Versions{User: 20, Account: 5})
	sibling := login("192.0.2.1:3", "web.bob", "bob", domain.Versions{User: 12, Account: 5})
	stranger := login("192.0.2.1:4", "dev.ann", "ann", domain.Versions{User: 1, Account: 2})
	anon := mustOpen(t, r, "192.0.2.1:5")

	r.Apply(t.Context(), []store.Change{change(store.ChangeUser, "dev.bob", 15), change(store.ChangeBan, "dev.bob", 16)})
	if !old.Kicked() || fresh.Kicked() || sibling.Kicked() || stranger.Kicked() || anon.Kicked() {
		t.Fatalf("after user dev.bob at 15: old %v fresh %v sibling %v stranger %v anon %v; want only old ended",
			old.Kicked(), fresh.Kicked(), sibling.Kicked(), stranger.Kicked(), anon.Kicked())
	}
	r.Apply(t.Context(), []store.Change{change(store.ChangeAccount, "bob", 30)})
	if !fresh.Kicked() || !sibling.Kicked() || stranger.Kicked() {
		t.Fatalf("after account bob at 30: fresh %v sibling %v stranger %v; want bob's ended", fresh.Kicked(), sibling.Kicked(), stranger.Kicked())
	}
	r.Apply(t.Context(), []store.Change{change(store.ChangeSession, anon.ID(), 31)})
	if !anon.Kicked() || stranger.Kicked() {
		t.Fatalf("after a kick of session %s: anon %v stranger %v", anon.ID(), anon.Kicked(), stranger.Kicked())
	}
}

// TestLoginRacingChangeIsRefused: a log-in that read the user before a
// change this node already applied is refused; one that read it after is
// admitted, and so is one that read the account before an unrelated change.
func TestLoginRacingChangeIsRefused(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	r.Apply(t.Context(), []store.Change{change(store.ChangeUser, "dev.bob", 11), change(store.ChangeAccount, "ann", 12)})
	s := mustOpen(t, r, "192.0.2.1:1")
	if err := s.Login("dev.bob", "bob", domain.Versions{User: 10, Account: 5}, 0); !errors.Is(err, ErrKicked) {
		t.Fatalf("log-in that read version 10 after the change at 11: err = %v, want ErrKicked", err)
	}
	if err := s.Login("dev.bob", "bob", domain.Versions{User: 11, Account: 5}, 0); err != nil {
		t.Fatalf("log-in that read the change: %v", err)
	}
	s2 := mustOpen(t, r, "192.0.2.1:2")
	if err := s2.Login("dev.ann", "ann", domain.Versions{User: 3, Account: 4}, 0); !errors.Is(err, ErrKicked) {
		t.Fatalf("log-in that read the account before its change: err = %v, want ErrKicked", err)
	}
	// The refusal lasts as long as a log-in can be in flight, not forever.
	c.add(2 * floorKept)
	r.Apply(t.Context(), nil)
	r.Apply(t.Context(), []store.Change{change(store.ChangeUser, "other.bob", 13)})
	if err := s2.Login("dev.ann", "ann", domain.Versions{User: 3, Account: 4}, 0); err != nil {
		t.Fatalf("log-in long after the change was forgotten: %v", err)
	}
}

// fakeStates is a store of log-in states for Resync.
type fakeStates struct {
	Store
	states map[string]store.LoginState
	err    error
}

func (f *fakeStates) LoginStates(_ context.Context, names []string) (map[string]store.LoginState, error) {
	out := map[string]store.LoginState{}
	for _, n := range names {
		if st, ok := f.states[n]; ok {
			out[n] = st
		}
	}
	return out, f.err
}

// TestResyncEndsStaleSessions: after the node may have missed changes, it
// ends the sessions whose user is gone, disabled or at a newer version.
func TestResyncEndsStaleSessions(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	st := &fakeStates{states: map[string]store.LoginState{
		"same.bob":    {Versions: domain.Versions{User: 10, Account: 5}, Enabled: true},
		"changed.bob": {Versions: domain.Versions{User: 11, Account: 5}, Enabled: true},
		"moved.bob":   {Versions: domain.Versions{User: 10, Account: 6}, Enabled: true},
		"off.bob":     {Versions: domain.Versions{User: 10, Account: 5}, Enabled: false},
	}}
	r.Join(Cluster{Store: st, Node: "n1"})
	sessions := map[string]*Session{}
	for i, u := range []string{"same.bob", "changed.bob", "moved.bob", "off.bob", "gone.bob"} {
		s := mustOpen(t, r, fmt.Sprintf("192.0.2.1:%d", i+1))
		if err := s.Login(u, "bob", domain.Versions{User: 10, Account: 5}, 0); err != nil {
			t.Fatal(err)
		}
		sessions[u] = s
	}
	anon := mustOpen(t, r, "192.0.2.9:1")
	st.err = errDown
	if err := r.Resync(t.Context()); err == nil {
		t.Fatal("Resync with a failing store: no error")
	}
	for u, s := range sessions {
		if s.Kicked() {
			t.Fatalf("%s ended by a Resync that could not read the store", u)
		}
	}
	st.err = nil
	if err := r.Resync(t.Context()); err != nil {
		t.Fatal(err)
	}
	for u, s := range sessions {
		if want := u != "same.bob"; s.Kicked() != want {
			t.Errorf("%s: ended = %v, want %v", u, s.Kicked(), want)
		}
	}
	if anon.Kicked() {
		t.Error("a connection not logged in was ended")
	}
	// What Resync read refuses the log-ins in flight that read less.
	late := mustOpen(t, r, "192.0.2.1:99")
	if err := late.Login("changed.bob", "bob", domain.Versions{User: 10, Account: 5}, 0); !errors.Is(err, ErrKicked) {
		t.Errorf("log-in in flight with a version older than Resync read: %v, want ErrKicked", err)
	}
}

func TestProgressAndSpeed(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	s := mustOpen(t, r, "192.0.2.1:4000")
	if err := s.Login("dev.bob", "bob", v1, 0); err != nil {
		t.Fatal(err)
	}
	s.SetClient("lftp 4.9")
	s.SetTLS(true, false)
	s.Begin(domain.ActivityDownload, "/big.iso", 100<<20)
	r.List() // first sample
	for range 10 {
		c.add(500 * time.Millisecond)
		s.Progress(5 << 20) // 10 MiB/s
		r.List()
	}
	x, ok := r.Get(s.ID())
	if !ok {
		t.Fatal("Get: not found")
	}
	if x.Activity != domain.ActivityDownload || x.File != "/big.iso" || x.BytesDone != 50<<20 || x.BytesTotal != 100<<20 {
		t.Errorf("transfer fields = %+v", x)
	}
	if x.Username != "dev.bob" || x.Account != "bob" || x.Client != "lftp 4.9" || !x.TLSControl || x.TLSData || x.RemoteAddr != "192.0.2.1:4000" {
		t.Errorf("identity fields = %+v", x)
	}
	if want := int64(10 << 20); x.Speed < want*9/10 || x.Speed > want*11/10 {
		t.Errorf("Speed = %d, want about %d", x.Speed, want)
	}
	if !s.Busy() {
		t.Error("Busy() = false during a transfer")
	}
	s.End()
	s.Begin(domain.ActivityUpload, "/up.bin", 0)
	s.Progress(1000)
	x, _ = r.Get(s.ID())
	if x.BytesUp != 1000 || x.BytesDown != 50<<20 || x.BytesDone != 1000 || x.Speed != 0 {
		t.Errorf("second transfer: up %d down %d done %d speed %d", x.BytesUp, x.BytesDown, x.BytesDone, x.Speed)
	}
	s.End()
	x, _ = r.Get(s.ID())
	if x.Activity != domain.ActivityIdle || x.Speed != 0 || x.File != "" || s.Busy() {
		t.Errorf("after End: %+v", x)
	}
}

func TestProgressIsRaceFree(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	s := mustOpen(t, r, "192.0.2.1:1")
	s.Begin(domain.ActivityUpload, "/f", 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				s.Progress(10)
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			r.List()
		}
	})
	wg.Wait()
	if up, _ := s.Totals(); up != 40000 {
		t.Errorf("BytesUp = %d, want 40000", up)
	}
}

func TestSetLimitsAppliesToNewConnections(t *testing.T) {
	r, _ := newTestRegistry(Limits{MaxPerIP: 3})
	a := mustOpen(t, r, "192.0.2.1:1")
	mustOpen(t, r, "192.0.2.1:2")
	r.SetLimits(Limits{MaxPerIP: 1})
	if got := r.Limits().MaxPerIP; got != 1 {
		t.Fatalf("Limits().MaxPerIP = %d after SetLimits, want 1", got)
	}
	if _, err := r.Open(netip.MustParseAddrPort("192.0.2.1:3"), func() {}); !errors.Is(err, ErrTooManyFromIP) {
		t.Errorf("Open over the lowered limit = %v, want ErrTooManyFromIP", err)
	}
	if a.Kicked() {
		t.Error("lowering the limit kicked an open session")
	}
	r.SetLimits(Limits{})
	if got := r.Limits().MaxPerIP; got != DefaultMaxPerIP {
		t.Errorf("zero limit = %d, want the default %d", got, DefaultMaxPerIP)
	}
}

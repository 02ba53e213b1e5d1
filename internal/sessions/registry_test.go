package sessions

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
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
		if err := s.Login("dev.bob", "bob", time.Time{}, 0); err != nil {
			t.Fatalf("Login %d: %v", i, err)
		}
	}
}

func TestLoginPerUserLimit(t *testing.T) {
	r, c := newTestRegistry(Limits{MaxPerUser: 2})
	start := c.now()
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
	r, c := newTestRegistry(Limits{MaxPerUser: 2})
	start := c.now()
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

func TestKick(t *testing.T) {
	r, c := newTestRegistry(Limits{})
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
		if err := s.Login("dev.bob", "bob", c.now(), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Login("web.ann", "ann", c.now(), 0); err != nil {
		t.Fatal(err)
	}
	if !r.Kick(a.ID()) || r.Kick("nonexistent") {
		t.Fatal("Kick found the wrong sessions")
	}
	a.Kick()
	if kicked.Load() != 1 || !a.Kicked() {
		t.Fatalf("kick function called %d times, want exactly 1", kicked.Load())
	}
	if n := r.KickUser("DEV.bob", c.now().Add(time.Second)); n != 2 { // a is still registered until its connection ends
		t.Fatalf("KickUser = %d, want 2", n)
	}
	if kicked.Load() != 2 || other.Kicked() {
		t.Errorf("after KickUser: %d kicks, other user kicked = %v", kicked.Load(), other.Kicked())
	}
}

func TestLoginRacingKickIsRefused(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	s := mustOpen(t, r, "192.0.2.1:1")
	authStarted := c.now()
	c.add(10 * time.Millisecond)
	r.KickUser("dev.bob", c.now()) // the password changes while the log-in is checked
	c.add(10 * time.Millisecond)
	if err := s.Login("dev.bob", "bob", authStarted, 0); !errors.Is(err, ErrKicked) {
		t.Fatalf("log-in that started before the kick: err = %v, want ErrKicked", err)
	}
	s2 := mustOpen(t, r, "192.0.2.1:2")
	if err := s2.Login("dev.bob", "bob", c.now(), 0); err != nil {
		t.Fatalf("log-in that started after the kick: %v", err)
	}
}

func TestProgressAndSpeed(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	s := mustOpen(t, r, "192.0.2.1:4000")
	if err := s.Login("dev.bob", "bob", c.now(), 0); err != nil {
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

// A client that logs in again right after a change, with the new password,
// must not be cut off when the change's kick reaches this node later.
func TestKickSparesLoginsAfterTheChange(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	old := mustOpen(t, r, "192.0.2.1:1")
	if err := old.Login("dev.bob", "bob", c.now(), 0); err != nil {
		t.Fatal(err)
	}
	c.add(10 * time.Millisecond)
	changedAt := c.now()
	c.add(10 * time.Millisecond)
	fresh := mustOpen(t, r, "192.0.2.1:2")
	if err := fresh.Login("dev.bob", "bob", c.now(), 0); err != nil {
		t.Fatal(err)
	}
	inFlight := mustOpen(t, r, "192.0.2.1:3")
	c.add(200 * time.Millisecond) // the kick arrives 200 ms after the change
	if n := r.KickUser("dev.bob", changedAt); n != 1 {
		t.Errorf("KickUser ended %d sessions, want 1 (the one from before the change)", n)
	}
	if !old.Kicked() || fresh.Kicked() {
		t.Errorf("old kicked = %v (want true), fresh kicked = %v (want false)", old.Kicked(), fresh.Kicked())
	}
	if err := inFlight.Login("dev.bob", "bob", changedAt.Add(time.Millisecond), 0); err != nil {
		t.Errorf("log-in whose check began after the change: %v", err)
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

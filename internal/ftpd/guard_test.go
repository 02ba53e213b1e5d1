package ftpd

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/sessions"
)

var _ Guard = (*defender.Defender)(nil)

var loopback = netip.MustParseAddr("127.0.0.1")

// failLogin makes one failed log-in on a new connection and checks that
// the server answers 530 and closes it.
func failLogin(t *testing.T, e *env) {
	t.Helper()
	r := e.raw()
	r.must(331, "USER %s", testUser)
	r.must(530, "PASS Wrong-Pass9")
	if code, _ := r.read(); code != 0 {
		t.Fatal("connection still open after a failed log-in")
	}
}

// TestBanAtConnect: ten failed log-ins ban the IP; the eleventh
// connection reads the 421 at connect, costs no password hash and opens
// no session; an unban lets the IP back.
func TestBanAtConnect(t *testing.T) {
	e := newEnv(t, envOptions{ban: &defender.Config{}})
	for range defender.DefaultThreshold {
		failLogin(t, e)
	}
	until, banned := e.Def.Banned(loopback)
	if !banned {
		t.Fatalf("not banned after %d failed log-ins", defender.DefaultThreshold)
	}
	// The client sees the close before the server has removed the
	// session, so wait for the failed log-ins to be gone first.
	eventually(t, settle, "failed log-ins' sessions gone", func() bool { return e.Reg.Len() == 0 })
	checks := e.Hasher.Checks()
	connects := strings.Count(e.logs.String(), `msg="FTP connect"`)
	start := time.Now()
	r := dialRaw(t, e.Addr, "421")
	want := "Your IP address is banned until " + until.UTC().Format("15:04") + " UTC after repeated failed log-ins."
	if r.greeting != want {
		t.Errorf("greeting %q, want %q", r.greeting, want)
	}
	if code, _ := r.read(); code != 0 {
		t.Error("banned connection still open after the 421")
	}
	t.Logf("banned connection answered and closed in %v", time.Since(start))
	if n := e.Hasher.Checks(); n != checks {
		t.Errorf("banned connection cost %d password hashes, want 0", n-checks)
	}
	if n := e.Reg.Len(); n != 0 {
		t.Errorf("banned connection has a session: %d in the registry", n)
	}
	if n := strings.Count(e.logs.String(), `msg="FTP connect"`); n != connects {
		t.Errorf("banned connection opened %d sessions, want 0", n-connects)
	}

	if err := e.Def.Unban(t.Context(), netip.PrefixFrom(loopback, 32)); err != nil {
		t.Fatal(err)
	}
	e.dial("") // back in
}

// TestBanBeforePassword: an IP banned while its connection was open is
// refused at PASS without hashing the password.
func TestBanBeforePassword(t *testing.T) {
	e := newEnv(t, envOptions{ban: &defender.Config{}})
	r := e.raw()
	r.must(331, "USER %s", testUser)
	if _, err := e.Def.Ban(t.Context(), loopback, time.Hour, "test"); err != nil {
		t.Fatal(err)
	}
	checks := e.Hasher.Checks()
	code, msg := r.cmd("PASS %s", testPass)
	if code != 421 || !strings.HasPrefix(msg, "Your IP address is banned until ") {
		t.Fatalf("PASS from a banned IP: %d %q, want 421 banned", code, msg)
	}
	if code, _ := r.read(); code != 0 {
		t.Error("connection still open after the 421")
	}
	if n := e.Hasher.Checks(); n != checks {
		t.Errorf("banned log-in cost %d password hashes, want 0", n-checks)
	}
}

// TestFailuresThatDoNotCount: a busy server or a log-in over the per-user
// limit is not the client's failure and never bans it.
func TestFailuresThatDoNotCount(t *testing.T) {
	e := newEnv(t, envOptions{ban: &defender.Config{Threshold: 2}, limits: sessions.Limits{MaxPerUser: 1}})
	e.dial("")
	for range 3 {
		r := e.raw()
		r.must(331, "USER %s", testUser)
		r.must(530, "PASS %s", testPass) // too many sessions for this user
	}
	if _, banned := e.Def.Banned(loopback); banned {
		t.Fatal("banned for log-ins refused by the per-user limit")
	}
	failLogin(t, e)
	failLogin(t, e)
	if _, banned := e.Def.Banned(loopback); !banned {
		t.Fatal("not banned after 2 wrong passwords with threshold 2")
	}
}

func TestUntilText(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		until time.Time
		want  string
	}{
		{now.Add(15 * time.Minute), "03:19 UTC"},
		{now.Add(19 * time.Hour), "22:04 UTC"},
		{now.Add(24 * time.Hour), "2030-01-03 03:04 UTC"},
		{now.Add(time.Hour).In(time.FixedZone("CET", 3600)), "04:04 UTC"},
	} {
		if got := untilText(tc.until, now); got != tc.want {
			t.Errorf("untilText(%v) = %q, want %q", tc.until, got, tc.want)
		}
	}
}

// TestLoginRate checks the cell rate limit: a burst of limit attempts,
// then one per minute/limit, per IPv4 address and per IPv6 /64.
func TestLoginRate(t *testing.T) {
	l := newLoginRate(3)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := range 3 {
		if !l.allow(a, now) {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if l.allow(a, now) {
		t.Fatal("4th attempt in the same instant allowed")
	}
	if !l.allow(b, now) {
		t.Fatal("another IP refused")
	}
	if l.allow(a, now.Add(19*time.Second)) {
		t.Fatal("allowed before a slot freed (20s)")
	}
	if !l.allow(a, now.Add(20*time.Second)) {
		t.Fatal("refused once a slot freed")
	}
	v6a, v6b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	for range 3 {
		l.allow(v6a, now)
	}
	if l.allow(v6b, now) {
		t.Fatal("another address of the same /64 allowed past the limit")
	}
	if !l.allow(netip.MustParseAddr("2001:db8:1:3::1"), now) {
		t.Fatal("another /64 refused")
	}
	l.allow(a, now.Add(2*time.Minute)) // sweeps the stale entries
	if len(l.next) != 1 {
		t.Errorf("%d entries kept after two minutes, want 1", len(l.next))
	}
	if newLoginRate(-1).allow(a, now) != true {
		t.Error("no limit refused")
	}
}

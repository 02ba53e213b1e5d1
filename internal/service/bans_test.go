package service_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

func TestBans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := func() []domain.Ban {
		t.Helper()
		bans, err := e.svc.ListBans(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return bans
	}
	ips := func(bans []domain.Ban) string {
		var s []string
		for _, b := range bans {
			s = append(s, b.IP)
		}
		return strings.Join(s, ",")
	}

	b, err := e.svc.AddBan(e.ctx, "203.0.113.7", time.Hour, "brute force")
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if b.IP != "203.0.113.7" || !b.Until.Equal(now.Add(time.Hour)) || b.Count != 1 || b.Reason != "brute force" || !b.At.Equal(now) {
		t.Fatalf("AddBan = %+v", b)
	}
	// An IPv4-mapped IPv6 address is the same client as its IPv4 form.
	b, err = e.svc.AddBan(e.ctx, "::ffff:203.0.113.7", 3*time.Hour, "again")
	if err != nil {
		t.Fatal(err)
	}
	if b.IP != "203.0.113.7" || b.Count != 2 {
		t.Fatalf("second ban of the same IP = %+v, want count 2 on 203.0.113.7", b)
	}
	if _, err := e.svc.AddBan(e.ctx, "2001:DB8::7", 2*time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddBan(e.ctx, "198.51.100.1", 30*time.Minute, ""); err != nil {
		t.Fatal(err)
	}
	if got := ips(list()); got != "198.51.100.1,2001:db8::7,203.0.113.7" {
		t.Fatalf("ListBans = %q, want soonest to expire first", got)
	}

	refused := []struct {
		name, ip string
		dur      time.Duration
		field    string
	}{
		{"not an IP", "example.com", time.Hour, "ip"},
		{"empty IP", "", time.Hour, "ip"},
		{"CIDR", "203.0.113.0/24", time.Hour, "ip"},
		{"IP with port", "203.0.113.8:21", time.Hour, "ip"},
		{"zero duration", "203.0.113.8", 0, "for"},
		{"negative duration", "203.0.113.8", -time.Minute, "for"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := list()
			_, err := e.svc.AddBan(e.ctx, tc.ip, tc.dur, "")
			wantErr(t, err, domain.Invalid, tc.field)
			if after := list(); ips(after) != ips(before) {
				t.Fatalf("bans changed: %q → %q", ips(before), ips(after))
			}
		})
	}

	e.clock.Advance(time.Hour + time.Second)
	if got := ips(list()); got != "2001:db8::7,203.0.113.7" {
		t.Fatalf("ListBans after an hour = %q, want the expired ban gone", got)
	}

	if err := e.svc.RemoveBan(e.ctx, "2001:db8:0::7"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.RemoveBan(e.ctx, "2001:db8::7"), domain.NotFound, "")
	wantErr(t, e.svc.RemoveBan(e.ctx, "nonsense"), domain.Invalid, "ip")
	if got := ips(list()); got != "203.0.113.7" {
		t.Fatalf("ListBans after removal = %q", got)
	}
}

func TestRemoveBanOfIPv6Prefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The defender bans an IPv6 client's whole /64 under the prefix's name.
	until := e.clock.Now().Add(time.Hour)
	for _, ip := range []string{"2001:db8:1:2::/64", "2001:db8:9:9::/64"} {
		if err := e.st.PutBan(e.ctx, domain.Ban{IP: ip, Until: until, Count: 1, At: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.RemoveBan(e.ctx, "2001:db8:1:2::5"); err != nil {
		t.Fatalf("RemoveBan of an address inside a banned /64: %v", err)
	}
	if err := e.svc.RemoveBan(e.ctx, "2001:db8:9:9::/64"); err != nil {
		t.Fatalf("RemoveBan of a /64 as listed: %v", err)
	}
	if bans, _ := e.svc.ListBans(e.ctx); len(bans) != 0 {
		t.Errorf("bans left: %+v", bans)
	}
	if err := e.svc.RemoveBan(e.ctx, "2001:db8:1:2::5"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("second RemoveBan = %v, want not found", err)
	}
}

// TestBanRulesOfTheDefender: the service's bans are the defender's, with
// its rules: a safe-listed IP is refused with a clear error rather than
// banned to no effect, and lifting a ban also forgets the failures that
// led to it.
func TestBanRulesOfTheDefender(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	safe, err := defender.ParseSafeList("192.0.2.0/24")
	if err != nil {
		t.Fatal(err)
	}
	def := defender.New(defender.Config{Threshold: 3, SafeList: safe, Now: e.clock.Now}, e.st, nil)
	svc := service.New(e.st, e.hasher, service.Options{Now: e.clock.Now, Bans: def})

	_, err = svc.AddBan(e.ctx, "192.0.2.7", time.Hour, "")
	wantErr(t, err, domain.Invalid, "ip")
	if !strings.Contains(err.Error(), "safe list") {
		t.Errorf("refusal of a safe-listed IP: %q, want it to name the safe list", err)
	}
	if bans, _ := svc.ListBans(e.ctx); len(bans) != 0 {
		t.Fatalf("a safe-listed IP was banned: %+v", bans)
	}

	// Two failures, then an administrator's ban and its lift: the lift
	// is a pardon, so the third failure does not reach the threshold.
	ip := netip.MustParseAddr("203.0.113.9")
	for range 2 {
		if _, err := def.Failure(e.ctx, ip, "wrong password"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.AddBan(e.ctx, ip.String(), time.Hour, "by hand"); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveBan(e.ctx, ip.String()); err != nil {
		t.Fatal(err)
	}
	if _, banned := def.Banned(ip); banned {
		t.Fatal("still banned on this node after RemoveBan")
	}
	if banned, err := def.Failure(e.ctx, ip, "wrong password"); err != nil || banned {
		t.Fatalf("third failure after the pardon: banned %v, %v; want the score forgotten", banned, err)
	}
}

func TestBansNeedAKeeper(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := service.New(e.st, e.hasher, service.Options{Now: e.clock.Now})
	if _, err := svc.AddBan(e.ctx, "203.0.113.7", time.Hour, ""); err == nil {
		t.Error("AddBan without a ban keeper succeeded")
	}
}

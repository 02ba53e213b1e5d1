package defender

import (
	"net/netip"
	"testing"
	"time"
)

func TestInForce(t *testing.T) {
	t.Parallel()
	c := newClock()
	d := newDefender(t, newStore(t), c, Config{Threshold: 2, BanTime: time.Minute})
	if n := d.InForce(); n != 0 {
		t.Fatalf("InForce with no bans = %d", n)
	}
	fail(t, d, "192.0.2.1", 2)
	fail(t, d, "2001:db8:1:2::1", 1)
	fail(t, d, "2001:db8:1:2::99", 1) // the same /64: one ban
	if _, err := d.Ban(t.Context(), netip.MustParseAddr("198.51.100.7"), time.Hour, "manual"); err != nil {
		t.Fatal(err)
	}
	if n := d.InForce(); n != 3 {
		t.Fatalf("InForce = %d, want 3 (an IPv4 address, an IPv6 /64, a manual ban)", n)
	}
	c.Advance(2 * time.Minute) // the automatic bans end, the manual one stays
	if n := d.InForce(); n != 1 {
		t.Fatalf("InForce after the automatic bans ended = %d, want 1", n)
	}
}

package domain_test

import (
	"net/netip"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestClientKey(t *testing.T) {
	key := func(s string) netip.Prefix { return domain.ClientKey(netip.MustParseAddr(s)) }
	same := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"},
		{"192.0.2.1", "::ffff:192.0.2.1"},
		{"fe80::1%eth0", "fe80::2"},
	}
	for _, p := range same {
		if a, b := key(p[0]), key(p[1]); a != b {
			t.Errorf("%s → %s, %s → %s: want one client", p[0], a, p[1], b)
		}
	}
	for _, p := range [][2]string{{"2001:db8:1:2::1", "2001:db8:1:3::1"}, {"192.0.2.1", "192.0.2.2"}} {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%s and %s count as one client", p[0], p[1])
		}
	}
	if got := key("192.0.2.1").String(); got != "192.0.2.1/32" {
		t.Errorf("IPv4 key %s", got)
	}
}

func TestKeyText(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":        "192.0.2.7",
		"::ffff:192.0.2.7": "192.0.2.7",
		"2001:db8:1:2::7":  "2001:db8:1:2::/64",
	} {
		if got := domain.KeyText(domain.ClientKey(netip.MustParseAddr(in))); got != want {
			t.Errorf("KeyText(ClientKey(%s)) = %q, want %q", in, got, want)
		}
	}
	if got := domain.KeyText(netip.MustParsePrefix("2001:db8::7/128")); got != "2001:db8::7" {
		t.Errorf("KeyText of one IPv6 host = %q", got)
	}
}

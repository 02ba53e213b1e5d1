package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/web"
)

var _ web.Guard = (*defender.Defender)(nil)

// TestBannedIPIsRefused: failed owner and admin log-ins are reported to
// the Guard; once the IP is banned even the right password is refused
// with 403 and the ban's end, and an unban lets it back.
func TestBannedIPIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	def := e.def
	e.cfg.Guard = def
	e.srv = e.startPanel()
	c := e.client()
	loopback := netip.MustParseAddr("127.0.0.1")

	wantStatus(t, c.login("/login", "bob", "Wrong-Password1"), http.StatusUnauthorized)
	wantStatus(t, c.login("/admin/login", "root", "Wrong-Password1"), http.StatusUnauthorized)
	if _, banned := def.Banned(loopback); banned {
		t.Fatal("banned after 2 failures, threshold 3")
	}
	wantStatus(t, c.login("/login", "nobody", "Wrong-Password1"), http.StatusUnauthorized)
	until, banned := def.Banned(loopback)
	if !banned {
		t.Fatal("not banned after 3 failed log-ins")
	}

	for _, page := range []struct{ path, name, pw string }{{"/login", "bob", bobPanelPW}, {"/admin/login", "root", adminPW}} {
		r := c.login(page.path, page.name, page.pw)
		wantStatus(t, r, http.StatusForbidden)
		wantContains(t, r.body, "Your IP address is banned until "+until.UTC().Format("15:04")+" UTC after repeated failed log-ins.")
	}

	if err := e.svc.RemoveBan(context.Background(), loopback.String()); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, c.login("/login", "bob", bobPanelPW), "/files/ftp")
}

// TestBansFollowTheForwardedClient: behind a trusted reverse proxy, the
// failures and the ban belong to the client the proxy names, so one
// client's guessing does not lock everyone behind the proxy out; without
// trusted proxies the header is ignored and the peer is banned.
func TestBansFollowTheForwardedClient(t *testing.T) {
	t.Parallel()
	for _, trusted := range []bool{true, false} {
		e := newEnv(t, func(c *web.Config) {
			if trusted {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}
		})
		def := e.def
		e.cfg.Guard = def
		e.srv = e.startPanel()
		guesser := e.client()
		guesser.forwardedFor = "198.51.100.7"
		for range 3 {
			wantStatus(t, guesser.login("/login", "bob", "Wrong-Password1"), http.StatusUnauthorized)
		}
		_, clientBanned := def.Banned(netip.MustParseAddr("198.51.100.7"))
		_, proxyBanned := def.Banned(netip.MustParseAddr("127.0.0.1"))
		other := e.client()
		// A client behind the same proxy, whose request claims to come
		// from the banned address: the proxy appended the real one.
		other.forwardedFor = "198.51.100.7, 203.0.113.20"
		r := other.login("/login", "bob", bobPanelPW)
		if trusted {
			if !clientBanned || proxyBanned {
				t.Errorf("trusted proxy: client banned %v, proxy banned %v; want the client only", clientBanned, proxyBanned)
			}
			wantRedirect(t, r, "/files/ftp")
		} else {
			if clientBanned || !proxyBanned {
				t.Errorf("no trusted proxy: client banned %v, peer banned %v; want the peer only", clientBanned, proxyBanned)
			}
			wantStatus(t, r, http.StatusForbidden)
		}
	}
}

// TestBanChangesApplyAtOnceOnThisNode: a ban put or lifted in the admin
// area applies on the node that served the request before the page
// answers, without waiting for the change feed (not running here).
func TestBanChangesApplyAtOnceOnThisNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	def := e.def
	e.cfg.Guard = def
	e.srv = e.startPanel()
	admin := e.client()
	if r := admin.login("/admin/login", "root", adminPW); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin log-in: %d", r.StatusCode)
	}
	admin.csrf = admin.token("/admin/bans")
	ip := netip.MustParseAddr("2001:db8:1:2::7")

	wantRedirect(t, admin.post("/admin/bans", url.Values{"ip": {ip.String()}, "for": {"2h"}}), "/admin/bans")
	if _, banned := def.Banned(ip); !banned {
		t.Fatal("a ban put in the admin area is not in force on this node when the page answers")
	}
	// An automatic ban of the whole /64, lifted by naming one address.
	for range 3 {
		if _, err := def.Failure(context.Background(), netip.MustParseAddr("2001:db8:9:9::1"), "x"); err != nil {
			t.Fatal(err)
		}
	}
	wantRedirect(t, admin.post("/admin/bans/lift", url.Values{"ip": {"2001:db8:9:9::5"}}), "/admin/bans")
	if _, banned := def.Banned(netip.MustParseAddr("2001:db8:9:9::1")); banned {
		t.Fatal("a /64 ban lifted in the admin area still keeps its addresses out on this node")
	}
	wantRedirect(t, admin.post("/admin/bans/lift", url.Values{"ip": {ip.String()}}), "/admin/bans")
	if _, banned := def.Banned(ip); banned {
		t.Fatal("a ban lifted in the admin area still keeps the address out on this node")
	}
}

package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
	"github.com/panelftp/panelftp/internal/web"
)

var _ web.Guard = (*defender.Defender)(nil)

// TestBannedIPIsRefused: failed owner and admin log-ins are reported to
// the Guard; once the IP is banned even the right password is refused
// with 403 and the ban's end, and an unban lets it back.
func TestBannedIPIsRefused(t *testing.T) {
	st, err := sqlstore.OpenSQLite(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	def := defender.New(defender.Config{Threshold: 3, BanTime: time.Hour}, st, nil)
	e := newEnv(t, func(c *web.Config) { c.Guard = def })
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

	if err := def.Unban(context.Background(), loopback); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, c.login("/login", "bob", bobPanelPW), "/files/ftp")
}

// TestBansFollowTheForwardedClient: behind a trusted reverse proxy, the
// failures and the ban belong to the client the proxy names, so one
// client's guessing does not lock everyone behind the proxy out; without
// trusted proxies the header is ignored and the peer is banned.
func TestBansFollowTheForwardedClient(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		st, err := sqlstore.OpenSQLite(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		def := defender.New(defender.Config{Threshold: 3, BanTime: time.Hour}, st, nil)
		e := newEnv(t, func(c *web.Config) {
			c.Guard = def
			if trusted {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}
		})
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

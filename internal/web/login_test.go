package web_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOwnerLogIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()

	r := c.get("/files/ftp")
	wantRedirect(t, r, "/login?next=%2Ffiles%2Fftp")

	r = c.login("/login", "bob", "Wrong-Password1")
	wantStatus(t, r, http.StatusUnauthorized)
	wantContains(t, r.body, "Wrong name or password.", `value="bob"`)
	if r.Header.Get("Set-Cookie") != "" && strings.Contains(r.Header.Get("Set-Cookie"), "pftp_owner=") {
		t.Error("a failed log-in set a session cookie")
	}

	r = c.login("/login", "Bob", bobPanelPW) // account names are case-insensitive
	wantRedirect(t, r, "/files/ftp")
	var session *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "pftp_owner" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie after log-in")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.MaxAge <= 0 || session.Path != "/" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Max-Age, Path=/", session)
	}
	r = c.get("/files/ftp")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "Files", "›", "FTP", "bob")
}

func TestLogInComesBackToTheAskedPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	tok := c.token("/login?next=/files/ftp/connections")
	r := c.postRaw("/login", url.Values{"csrf": {tok}, "name": {"bob"}, "password": {bobPanelPW}, "next": {"/files/ftp/connections"}})
	wantRedirect(t, r, "/files/ftp/connections")

	c = e.client()
	tok = c.token("/login")
	r = c.postRaw("/login", url.Values{"csrf": {tok}, "name": {"bob"}, "password": {bobPanelPW}, "next": {"//evil.example/x"}})
	wantRedirect(t, r, "/files/ftp")
	if loc := r.Header.Get("Location"); loc != "/files/ftp" {
		t.Errorf("open redirect: Location %q", loc)
	}
}

func TestLogInFormNeedsCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	c.token("/login") // gets the pre-log-in cookie
	r := c.postRaw("/login", url.Values{"name": {"bob"}, "password": {bobPanelPW}})
	wantStatus(t, r, http.StatusForbidden)
	wantContains(t, r.body, "Reload the page")
	r = c.postRaw("/login", url.Values{"csrf": {"forged"}, "name": {"bob"}, "password": {bobPanelPW}})
	wantStatus(t, r, http.StatusForbidden)
}

func TestLogInRateLimitPerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *cfgT) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	c := e.client()
	c.forwardedFor = "198.51.100.7"
	for i := range 5 {
		r := c.login("/login", "bob", "Wrong-Password1")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, r.StatusCode)
		}
	}
	// The guessing address is refused even the right password...
	r := c.login("/login", "bob", bobPanelPW)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantContains(t, r.body, "Too many log-in attempts, try again in 60 seconds")
	if r.Header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q, want 60", r.Header.Get("Retry-After"))
	}
	// ...but the owner, elsewhere, gets in: guessing locks nobody out.
	owner := e.client()
	owner.forwardedFor = "203.0.113.20"
	wantRedirect(t, owner.login("/login", "bob", bobPanelPW), "/files/ftp")
	// alice is not blocked by bob's failures (the IP has 5 of its 10).
	other := e.client()
	other.forwardedFor = "198.51.100.7"
	wantRedirect(t, other.login("/login", "alice", alicePanelPW), "/files/ftp")

	e.clock.Advance(61 * time.Second)
	wantRedirect(t, c.login("/login", "bob", bobPanelPW), "/files/ftp")
}

// The administrator's name cannot be locked out either.
func TestLogInAdminNotLockedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *cfgT) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	for i := range 30 { // from many addresses: the name comes under attack
		c := e.client()
		c.forwardedFor = "198.51.100." + strconv.Itoa(i)
		c.login("/admin/login", "root", "Wrong-Password1")
	}
	admin := e.client()
	admin.forwardedFor = "203.0.113.20"
	wantRedirect(t, admin.login("/admin/login", "root", adminPW), "/admin/accounts")
}

func TestLogInRateLimitGrows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	fail := func(n int) {
		for range n {
			c.login("/login", "bob", "Wrong-Password1")
		}
	}
	fail(5)
	e.clock.Advance(61 * time.Second)
	fail(5) // a second block lasts twice as long
	r := c.login("/login", "bob", bobPanelPW)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantContains(t, r.body, "try again in 120 seconds")
}

func TestLogInRateLimitPerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	for i := range 10 {
		c.login("/login", "nobody"+string(rune('a'+i)), "Wrong-Password1")
	}
	r := c.login("/login", "alice", alicePanelPW)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantContains(t, r.body, "Too many log-in attempts")
}

func TestLogOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	u, _ := url.Parse(e.srv.URL)
	old := c.hc.Jar.Cookies(u)

	r := c.postRaw("/logout", url.Values{})
	wantStatus(t, r, http.StatusForbidden) // no CSRF token: still logged in
	wantStatus(t, c.get("/files/ftp"), http.StatusOK)

	r = c.post("/logout", nil)
	wantRedirect(t, r, "/login")
	wantRedirect(t, c.get("/files/ftp"), "/login")
	wantContains(t, c.get("/login").body, "You are logged out.")

	// A copy of the old cookie is refused too.
	thief := e.client()
	thief.hc.Jar.SetCookies(u, old)
	wantRedirect(t, thief.get("/files/ftp"), "/login")
}

// TestLogOutReachesEveryNode: a log-out is kept in the store, so another
// panel node, or this one after a restart, refuses a copy of the cookie.
func TestLogOutReachesEveryNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	u, _ := url.Parse(e.srv.URL)
	old := c.hc.Jar.Cookies(u)
	other := e.startPanel()
	thief := e.client()
	thief.hc.Jar.SetCookies(u, old)
	thief.e = &env{t: t, srv: other}
	wantStatus(t, thief.get("/files/ftp"), http.StatusOK) // the cookie works on the other node

	wantRedirect(t, c.post("/logout", nil), "/login")
	wantRedirect(t, thief.get("/files/ftp"), "/login")
	restarted := &env{t: t, srv: e.startPanel()}
	thief.e = restarted
	wantRedirect(t, thief.get("/files/ftp"), "/login")
}

func TestSessionEndsWhenPanelPasswordChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	if err := e.svc.SetAccountPassword(context.Background(), "bob", "Other-Panel-Pw2"); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, c.get("/files/ftp"), "/login")
}

func TestSessionEndsWhenAccountDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	if err := e.svc.SetAccountEnabled(context.Background(), "bob", false); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, c.get("/files/ftp"), "/login")
	r := e.client().login("/login", "bob", bobPanelPW)
	wantStatus(t, r, http.StatusForbidden)
	wantContains(t, r.body, "This account is disabled")
}

func TestTamperedCookieIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	u, _ := url.Parse(e.srv.URL)
	var value string
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "pftp_owner" {
			value = ck.Value
		}
	}
	payload, sig, _ := strings.Cut(value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "|bob|", "|alice|", 1)))
	flipped := []byte(sig)
	flipped[3] ^= 1
	for name, v := range map[string]string{
		"other account, old signature": forged + "." + sig,
		"flipped signature byte":       payload + "." + string(flipped),
		"no signature":                 payload,
		"garbage":                      "x.y",
	} {
		t.Run(name, func(t *testing.T) {
			thief := e.client()
			thief.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "pftp_owner", Value: v}})
			wantRedirect(t, thief.get("/files/ftp"), "/login")
			r := thief.get("/files/ftp/connections.json")
			wantStatus(t, r, http.StatusUnauthorized)
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(13 * time.Hour)
		defer e.clock.Advance(-13 * time.Hour)
		wantRedirect(t, c.get("/files/ftp"), "/login")
	})
}

func TestOwnerCookieNeverOpensAdminPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.bob()
	for _, p := range []string{"/admin/accounts", "/admin/users", "/admin/connections", "/admin/settings",
		"/admin/users/dev.bob/password"} {
		wantRedirect(t, owner.get(p), "/admin/login")
	}
	wantStatus(t, owner.get("/admin/connections.json"), http.StatusUnauthorized)

	// The owner's cookie value under the admin cookie's name is refused too:
	// the signature covers the cookie name and the role.
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range owner.hc.Jar.Cookies(u) {
		if ck.Name == "pftp_owner" {
			owner.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "pftp_admin", Value: ck.Value}})
		}
	}
	wantRedirect(t, owner.get("/admin/accounts"), "/admin/login")

	// And an admin is not an account owner.
	admin := e.admin()
	wantRedirect(t, admin.get("/files/ftp"), "/login")
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/login", "/files/ftp", "/static/app.js"} {
		r := e.client().get(p)
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", p, csp)
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", p, k, got, want)
			}
		}
	}
	r := e.client().get("/static/app.css")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("app.css Content-Type %q", ct)
	}
	// No page has inline script: the CSP would block it.
	body := e.bob().get("/files/ftp").body
	if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") {
		t.Error("Files › FTP has inline script")
	}
}

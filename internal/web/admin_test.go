package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/web"
)

func TestAdminLogIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	wantRedirect(t, c.get("/admin/accounts"), "/admin/login?next=")
	r := c.login("/admin/login", "root", "Wrong-Pass-1")
	wantStatus(t, r, http.StatusUnauthorized)
	wantContains(t, r.body, "Wrong name or password.")
	// An account owner's credentials are not an admin's.
	wantStatus(t, c.login("/admin/login", "bob", bobPanelPW), http.StatusUnauthorized)
	wantRedirect(t, c.login("/admin/login", "root", adminPW), "/admin/accounts")
	wantStatus(t, c.get("/admin/accounts"), http.StatusOK)
}

func TestAdminAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/", 0)
	c := e.admin()
	r := c.get("/admin/accounts")
	wantContains(t, r.body, "alice", "bob", e.home("bob"), `action="/admin/accounts/bob/limit"`, ">Disable<", "Create account")

	// Create: an error appears next to its field, with typed values kept.
	r = c.post("/admin/accounts", url.Values{"account": {"Carol!"}, "home": {e.home("carol")}, "ftp_limit": {"3"}, "password": {"Third-Panel-Pw3"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := fieldError(r.body, "acc-name"); !strings.Contains(got, "uppercase") && !strings.Contains(got, "lowercase") {
		t.Errorf("account name error %q", got)
	}
	if v, _ := inputValue(r.body, "acc-home"); v != e.home("carol") {
		t.Errorf("home not kept: %q", v)
	}
	r = c.post("/admin/accounts", url.Values{"account": {"carol"}, "home": {"relative/dir"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := fieldError(r.body, "acc-home"); !strings.Contains(got, "not absolute") {
		t.Errorf("home error %q", got)
	}
	r = c.post("/admin/accounts", url.Values{"account": {"carol"}, "home": {e.home("carol")}, "uid": {"x"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if fieldError(r.body, "acc-uid") == "" {
		t.Error("no error next to UID")
	}

	// Every field at fault at once, the ones the panel parses itself (UID,
	// GID, limit) and the ones the service checks; typed values kept.
	r = c.post("/admin/accounts", url.Values{"account": {"Carol!"}, "home": {"relative"}, "uid": {"x"}, "gid": {"-4"},
		"ftp_limit": {"many"}, "password": {"weak"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	for _, id := range []string{"acc-name", "acc-home", "acc-uid", "acc-gid", "acc-limit", "acc-password"} {
		msg := fieldError(r.body, id)
		if msg == "" {
			t.Errorf("no error next to %s", id)
			continue
		}
		wantContains(t, r.body, `<a href="#`+id+`" data-for="`+id+`">`+html.EscapeString(msg)+`</a>`)
	}
	wantContains(t, r.body, "There are 6 problems")
	if v, _ := inputValue(r.body, "acc-password"); v != "weak" {
		t.Errorf("panel password input %q, want the typed one kept", v)
	}

	r = c.post("/admin/accounts", url.Values{"account": {"carol"}, "home": {e.home("carol")}, "ftp_limit": {"3"}, "password": {"Third-Panel-Pw3"}})
	wantRedirect(t, r, "/admin/accounts")
	a, err := e.svc.GetAccount(context.Background(), "carol")
	if err != nil || a.FTPLimit != 3 || !exists(e.home("carol")) {
		t.Fatalf("carol: %+v, %v", a, err)
	}
	wantRedirect(t, e.client().login("/login", "carol", "Third-Panel-Pw3"), "/files/ftp")

	// Limit.
	wantRedirect(t, c.post("/admin/accounts/bob/limit", url.Values{"ftp_limit": {"0"}}), "/admin/accounts")
	wantContains(t, e.bob().get("/files/ftp").body, "1 FTP account (unlimited)")
	r = c.post("/admin/accounts/bob/limit", url.Values{"ftp_limit": {"-2"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="limit-bob-err"`)

	// Disable, enable.
	wantRedirect(t, c.post("/admin/accounts/bob/enabled", url.Values{"enabled": {"0"}}), "/admin/accounts")
	wantStatus(t, e.client().login("/login", "bob", bobPanelPW), http.StatusForbidden)
	wantRedirect(t, c.post("/admin/accounts/bob/enabled", url.Values{"enabled": {"1"}}), "/admin/accounts")
	wantRedirect(t, e.client().login("/login", "bob", bobPanelPW), "/files/ftp")

	// Panel password.
	wantStatus(t, c.get("/admin/accounts/bob/password"), http.StatusOK)
	r = c.post("/admin/accounts/bob/password", url.Values{"password": {"New-Panel-Pw1"}, "confirm": {"New-Panel-Pw2"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if fieldError(r.body, "confirm") == "" {
		t.Error("no mismatch error")
	}
	wantRedirect(t, c.post("/admin/accounts/bob/password", url.Values{"password": {"New-Panel-Pw1"}, "confirm": {"New-Panel-Pw1"}}), "/admin/accounts")
	wantRedirect(t, e.client().login("/login", "bob", "New-Panel-Pw1"), "/files/ftp")
}

func TestAdminDeleteAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	c := e.admin()
	r := c.get("/admin/accounts/bob/delete")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "No file is deleted", "Also delete its 1 FTP account(s)")

	r = c.post("/admin/accounts/bob/delete", url.Values{"confirm": {"1"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := fieldError(r.body, "force"); !strings.Contains(got, "still has 1") {
		t.Errorf("force error %q", got)
	}
	wantRedirect(t, c.post("/admin/accounts/bob/delete", url.Values{"confirm": {"1"}, "force": {"1"}}), "/admin/accounts")
	if _, err := e.svc.GetAccount(context.Background(), "bob"); err == nil {
		t.Error("bob still exists")
	}
	if !exists(filepath.Join(e.home("bob"), "site")) {
		t.Error("the account's files were removed")
	}
	wantStatus(t, c.get("/admin/accounts/bob/delete"), http.StatusNotFound)
}

func TestAdminFTPUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	e.addUser("alice", "web.alice", "/", 0)
	c := e.admin()

	r := c.get("/admin/users")
	wantContains(t, r.body, "dev.bob", "web.alice", `<option value="bob">bob</option>`)
	r = c.get("/admin/users?account=alice")
	wantContains(t, r.body, "web.alice", `<option value="alice" selected>`)
	wantNotContains(t, r.body, "dev.bob")

	// The admin can change password and path and delete any sub-user.
	wantRedirect(t, c.post("/admin/users/web.alice/password", url.Values{"password": {"Admin-Set-Pw1"}, "confirm": {"Admin-Set-Pw1"}}),
		"/admin/users?account=alice")
	if _, err := e.svc.Authenticate(context.Background(), "web.alice", "Admin-Set-Pw1", "192.0.2.1"); err != nil {
		t.Error(err)
	}
	r = c.post("/admin/users/web.alice/path", url.Values{"path": {"/a/../.."}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantRedirect(t, c.post("/admin/users/web.alice/path", url.Values{"path": {"/www"}}), "/admin/users?account=alice")
	if u, _ := e.user("alice", "web.alice"); u.Path != "/www" {
		t.Errorf("path %s", u.Path)
	}
	wantStatus(t, c.get("/admin/users/web.alice/filezilla.xml"), http.StatusOK)
	wantRedirect(t, c.post("/admin/users/dev.bob/delete", url.Values{"confirm": {"1"}}), "/admin/users?account=bob")
	if _, err := e.user("bob", "dev.bob"); err == nil {
		t.Error("dev.bob still exists")
	}
	wantStatus(t, c.get("/admin/users/nobody.bob/password"), http.StatusNotFound)
	wantStatus(t, c.get("/admin/users/nodot/password"), http.StatusNotFound)
}

func TestAdminConnections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/", 0)
	e.addUser("alice", "web.alice", "/", 0)
	e.publish(bobSession(), aliceSession())
	c := e.admin()
	r := c.get("/admin/connections")
	wantContains(t, r.body, "dev.bob", "web.alice", `data-live="/admin/connections.json"`, ">Disconnect<")
	var f feed
	if err := json.Unmarshal([]byte(c.get("/admin/connections.json").body), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Sessions) != 2 {
		t.Fatalf("admin sees %d sessions, want 2", len(f.Sessions))
	}
	wantRedirect(t, c.post("/admin/connections/sess-alice-1/disconnect", nil), "/admin/connections")
	if !e.kicked("sess-alice-1") {
		t.Error("no kick")
	}
	wantStatus(t, c.post("/admin/connections/no-such/disconnect", nil), http.StatusNotFound)
}

// Administrators see the running version at the foot of every page;
// account owners do not.
func TestAdminFooterShowsVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *cfgT) { c.Version = "panelftp v1.2.3 (commit 0123abc, go1.26.8)" })
	wantContains(t, e.admin().get("/admin/accounts").body, `<footer class="foot">panelftp v1.2.3 (commit 0123abc, go1.26.8)</footer>`)
	wantNotContains(t, e.bob().get("/files/ftp").body, "v1.2.3", `class="foot"`)
}

func TestFavicon(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.client().get("/favicon.ico")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "image/x-icon" {
		t.Errorf("Content-Type %q", ct)
	}
	// An ICO file: reserved 0, type 1 (icon), one image.
	if len(r.body) < 22 || r.body[:6] != "\x00\x00\x01\x00\x01\x00" {
		t.Errorf("/favicon.ico is not an icon file: % x", r.body[:min(len(r.body), 8)])
	}
}

func TestAdminSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *cfgT) {
		c.FTPSPort = 990
		c.Defaults = domain.Settings{PublicHost: "192.0.2.10", MaxConnections: 500, MaxPerIP: 20, MaxPerUser: 10}
	})
	c := e.admin()
	r := c.get("/admin/settings")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "ftp.example.test", ">2121<", ">990<", "restart", `value="192.0.2.10"`, "started with",
		"no <span class=\"mono\">--public-host</span> of its own")

	// A refused value is shown next to its field, typed values kept, nothing saved.
	r = c.post("/admin/settings", url.Values{"public_host": {"ftp.example.com"}, "max_per_user": {"3"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, "must be an IPv4 address", `id="set-host-err"`, `value="3"`)
	r = c.post("/admin/settings", url.Values{"max_connections": {"lots"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="set-max-err"`)
	if _, saved, _, _ := e.svc.Settings(context.Background()); saved {
		t.Fatal("a refused form saved settings")
	}

	wantRedirect(t, c.post("/admin/settings", url.Values{"public_host": {"203.0.113.9"}, "tls_required": {"1"}, "max_per_ip": {"7"}}), "/admin/settings")
	set, saved, _, err := e.svc.Settings(context.Background())
	if want := (domain.Settings{PublicHost: "203.0.113.9", TLSRequired: true, MaxPerIP: 7}); err != nil || !saved || set != want {
		t.Fatalf("saved settings = %+v (saved %v, %v), want %+v", set, saved, err, want)
	}
	wantContains(t, c.get("/admin/settings").body, "Saved in the database", `value="203.0.113.9"`, "Reset to the command-line values")

	// The owner's connection details follow the saved TLS requirement.
	wantContains(t, e.bob().get("/files/ftp").body, "explicit TLS is required")
	// The greeting: a refused one is kept in the form beside its error.
	r = c.post("/admin/settings", url.Values{"banner": {strings.Repeat("x", domain.BannerMax+1)}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="set-banner-err"`, "at most 200")
	wantRedirect(t, c.post("/admin/settings", url.Values{"banner": {" Welcome to <Example> "}, "hide_server_name": {"1"}}), "/admin/settings")
	if set, _, _, _ := e.svc.Settings(context.Background()); set.Banner != "Welcome to <Example>" || !set.HideServerName || set.Greeting() != "Welcome to <Example>" {
		t.Fatalf("saved greeting = %+v", set)
	}
	wantContains(t, c.get("/admin/settings").body, `value="Welcome to &lt;Example&gt;"`, `id="set-hide" name="hide_server_name" value="1" checked`)

	wantRedirect(t, c.post("/admin/settings/reset", nil), "/admin/settings")
	if _, saved, _, _ := e.svc.Settings(context.Background()); saved {
		t.Fatal("settings still saved after reset")
	}
	// Owners cannot change settings.
	wantStatus(t, e.bob().post("/admin/settings", url.Values{"max_per_ip": {"1"}}), http.StatusSeeOther)
	if _, saved, _, _ := e.svc.Settings(context.Background()); saved {
		t.Fatal("an owner cookie saved settings")
	}
}

// TestSettingsShowTheNodesOwnPublicHost: a node started with its own
// --public-host says so beside the saved passive address it overrides.
func TestSettingsShowTheNodesOwnPublicHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *cfgT) { c.NodePublicHost = "198.51.100.20" })
	if err := e.svc.SaveSettings(context.Background(), domain.Settings{PublicHost: "203.0.113.9"}); err != nil {
		t.Fatal(err)
	}
	wantContains(t, e.admin().get("/admin/settings").body, `value="203.0.113.9"`,
		"--public-host 198.51.100.20</span>, which it announces whatever is saved here")
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := []byte(strings.Repeat("k", 32))
	for name, cfg := range map[string]web.Config{
		"short key": {SecretKey: key[:31]},
		"bad port":  {SecretKey: key, FTPPort: 70000},
		"bad FTPS":  {SecretKey: key, FTPSPort: -1},
	} {
		if _, err := web.New(cfg, e.svc, nil); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	if _, err := web.New(web.Config{SecretKey: key}, nil, nil); err == nil {
		t.Error("New accepted a nil service")
	}
}

func TestErrorPagesDoNotLeakDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	r := c.get("/files/ftp/users/nobody.bob/password")
	wantStatus(t, r, http.StatusNotFound)
	wantContains(t, r.body, "does not exist")
	wantNotContains(t, r.body, e.homes, os.TempDir())
}

func TestAdminBans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.admin()
	wantContains(t, c.get("/admin/bans").body, "No address is banned", `action="/admin/bans"`)

	r := c.post("/admin/bans", url.Values{"ip": {"not-an-ip"}, "for": {"1h"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, "not an IP address", `id="ban-ip-err"`, `value="not-an-ip"`)
	r = c.post("/admin/bans", url.Values{"ip": {"203.0.113.7"}, "for": {"soon"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="ban-for-err"`)
	if bans, _ := e.svc.ListBans(context.Background()); len(bans) != 0 {
		t.Fatalf("a refused form banned %+v", bans)
	}

	wantRedirect(t, c.post("/admin/bans", url.Values{"ip": {"203.0.113.7"}, "for": {"2h"}, "reason": {"scanner"}}), "/admin/bans")
	bans, err := e.svc.ListBans(context.Background())
	if err != nil || len(bans) != 1 || bans[0].IP != "203.0.113.7" || bans[0].Reason != "scanner" {
		t.Fatalf("bans = %+v, %v", bans, err)
	}
	wantContains(t, c.get("/admin/bans").body, "203.0.113.7", "scanner", `action="/admin/bans/lift"`)

	// Owners cannot lift bans.
	wantStatus(t, e.bob().post("/admin/bans/lift", url.Values{"ip": {"203.0.113.7"}}), http.StatusSeeOther)
	if bans, _ := e.svc.ListBans(context.Background()); len(bans) != 1 {
		t.Fatal("an owner cookie lifted a ban")
	}
	wantRedirect(t, c.post("/admin/bans/lift", url.Values{"ip": {"203.0.113.7"}}), "/admin/bans")
	if bans, _ := e.svc.ListBans(context.Background()); len(bans) != 0 {
		t.Fatalf("ban not lifted: %+v", bans)
	}
	wantStatus(t, c.post("/admin/bans/lift", url.Values{"ip": {"203.0.113.7"}}), http.StatusNotFound)
}

// The admin form refuses the homes and owners the service refuses, each
// message next to its field.
func TestAdminAccountHomeRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.admin()
	for _, tc := range []struct {
		form        url.Values
		field, want string
	}{
		{url.Values{"account": {"carol"}, "home": {e.home("bob")}}, "acc-home", "already the home of account bob"},
		{url.Values{"account": {"carol"}, "home": {e.home("bob") + "/blog"}}, "acc-home", "inside the home of account bob"},
		{url.Values{"account": {"carol"}, "home": {e.homes}}, "acc-home", "contains the home of account"},
		{url.Values{"account": {"carol"}, "home": {"/etc"}}, "acc-home", "system folder"},
		{url.Values{"account": {"carol"}, "home": {e.home("carol")}, "uid": {"1000"}}, "acc-uid", "both a uid and a gid"},
	} {
		r := c.post("/admin/accounts", tc.form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if got := fieldError(r.body, tc.field); !strings.Contains(got, tc.want) {
			t.Errorf("home %s: %s error %q, want %q", tc.form.Get("home"), tc.field, got, tc.want)
		}
	}
	if _, err := e.svc.GetAccount(context.Background(), "carol"); err == nil {
		t.Error("a refused account was created")
	}
}

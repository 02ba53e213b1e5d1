package web_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// publish makes a fake node publish sessions, as an FTP node would.
func (e *env) publish(sessions ...domain.Session) {
	e.t.Helper()
	if _, err := e.st.PublishSessions(context.Background(), "node-1", time.Hour, sessions, nil); err != nil {
		e.t.Fatal(err)
	}
}

// kicked reports whether a disconnect of session id was requested.
func (e *env) kicked(id string) bool {
	e.t.Helper()
	changes, _, err := e.st.ChangesAfter(context.Background(), 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range changes {
		if c.Kind == store.ChangeSession && c.Key == id {
			return true
		}
	}
	return false
}

func bobSession() domain.Session {
	now := time.Now()
	return domain.Session{
		ID: "sess-bob-1", Username: "dev.bob", Account: "bob", RemoteAddr: "198.51.100.7:50123",
		Client: "FileZilla 3.66", TLSControl: true, TLSData: true,
		ConnectedAt: now.Add(-5 * time.Minute), LastActivity: now.Add(-2 * time.Second),
		Activity: domain.ActivityDownload, File: "/backup.tar.gz", BytesDone: 25 << 20, BytesTotal: 100 << 20,
		Speed: 3 << 20, BytesUp: 1024, BytesDown: 25 << 20,
	}
}

func aliceSession() domain.Session {
	now := time.Now()
	return domain.Session{
		ID: "sess-alice-1", Username: "web.alice", Account: "alice", RemoteAddr: "192.0.2.44:40000",
		ConnectedAt: now.Add(-time.Minute), LastActivity: now, Activity: domain.ActivityIdle,
	}
}

type feed struct {
	Sessions []struct {
		ID, Username, Account, Activity, File, TLS, Client, Progress, Speed string
		Busy                                                                bool
		ClientIP                                                            string `json:"client_ip"`
		Percent                                                             int
		DisconnectURL                                                       string `json:"disconnect_url"`
	}
}

func TestConnectionsShowOnlyOwnSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/", 0)
	e.addUser("alice", "web.alice", "/", 0)
	e.publish(bobSession(), aliceSession())
	c := e.bob()

	r := c.get("/files/ftp/connections")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "dev.bob", "198.51.100.7", "FileZilla 3.66", "Downloading", "/backup.tar.gz",
		`<progress max="100" value="25">`, "25.0 MiB of 100.0 MiB at 3.0 MiB/s", ">Disconnect<", `data-busy="1"`,
		`data-live="/files/ftp/connections.json"`)
	wantNotContains(t, r.body, "web.alice", "192.0.2.44", "sess-alice-1")

	r = c.get("/files/ftp/connections.json")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var f feed
	if err := json.Unmarshal([]byte(r.body), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Sessions) != 1 || f.Sessions[0].ID != "sess-bob-1" {
		t.Fatalf("bob's feed: %+v", f.Sessions)
	}
	s := f.Sessions[0]
	if s.ClientIP != "198.51.100.7" || s.Percent != 25 || s.TLS != "Commands and data" || !s.Busy || s.DisconnectURL != "/files/ftp/connections/sess-bob-1/disconnect" {
		t.Errorf("session row %+v", s)
	}

	var af feed
	_ = json.Unmarshal([]byte(e.alice().get("/files/ftp/connections.json").body), &af)
	if len(af.Sessions) != 1 || af.Sessions[0].ID != "sess-alice-1" {
		t.Errorf("alice's feed: %+v", af.Sessions)
	}
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/", 0)
	e.addUser("alice", "web.alice", "/", 0)
	e.publish(bobSession(), aliceSession())
	c := e.bob()

	r := c.post("/files/ftp/connections/sess-alice-1/disconnect", nil)
	wantStatus(t, r, http.StatusNotFound)
	if e.kicked("sess-alice-1") {
		t.Error("bob disconnected alice's session")
	}
	r = c.post("/files/ftp/connections/sess-bob-1/disconnect", nil)
	wantRedirect(t, r, "/files/ftp/connections")
	if !e.kicked("sess-bob-1") {
		t.Error("no kick requested for bob's own session")
	}
	wantContains(t, c.get("/files/ftp/connections").body, "Disconnect requested")

	// The page's script asks for JSON, to mark the row without reloading.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/files/ftp/connections/sess-bob-1/disconnect",
		strings.NewReader(url.Values{"csrf": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	r = c.do(req)
	wantStatus(t, r, http.StatusAccepted)
	wantContains(t, r.body, `"message":"Disconnect requested`)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/files/ftp/connections/sess-alice-1/disconnect",
		strings.NewReader(url.Values{"csrf": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	r = c.do(req)
	wantStatus(t, r, http.StatusNotFound)
	wantContains(t, r.body, `"error":"This session has already ended."`)
}

// TestTLSColumn names what TLS protects, in the words of the table.
func TestTLSColumn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/", 0)
	c := e.bob()
	for _, tc := range []struct {
		control, data bool
		want          string
	}{{true, true, "Commands and data"}, {true, false, "Commands only"}, {false, false, "None"}} {
		s := bobSession()
		s.TLSControl, s.TLSData = tc.control, tc.data
		e.publish(s)
		var f feed
		if err := json.Unmarshal([]byte(c.get("/files/ftp/connections.json").body), &f); err != nil || len(f.Sessions) != 1 {
			t.Fatalf("feed: %+v, %v", f, err)
		}
		if got := f.Sessions[0].TLS; got != tc.want {
			t.Errorf("TLS control %v, data %v: column %q, want %q", tc.control, tc.data, got, tc.want)
		}
	}
}

// TestAccountsCannotTouchEachOther plays account bob crafting requests
// against alice's sub-user: every one is refused and alice's user is
// unchanged.
func TestAccountsCannotTouchEachOther(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.addUser("alice", "web.alice", "/site", 0)
	e.publish(aliceSession())
	c := e.bob()

	for _, p := range []string{"password", "path", "delete", "filezilla.xml", "cyberduck.duck"} {
		wantStatus(t, c.get("/files/ftp/users/web.alice/"+p), http.StatusNotFound)
	}
	posts := map[string]url.Values{
		"/files/ftp/users/web.alice/password":            {"password": {"Hijack-Pass1"}, "confirm": {"Hijack-Pass1"}},
		"/files/ftp/users/web.alice/path":                {"path": {"/"}},
		"/files/ftp/users/web.alice/delete":              {"confirm": {"1"}},
		"/files/ftp/connections/sess-alice-1/disconnect": nil,
		// Form fields naming another account are ignored: the account is
		// always the logged-in one.
		"/files/ftp/add": {"username": {"evil.alice"}, "password": {ftpPW}, "path": {"/"}, "account": {"alice"}},
	}
	for p, form := range posts {
		r := c.post(p, form)
		if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("POST %s as bob: status %d, want 404 or 422", p, r.StatusCode)
		}
	}
	after, err := e.user("alice", "web.alice")
	if err != nil {
		t.Fatal(err)
	}
	if after.PasswordHash != before.PasswordHash || after.Path != "/site" {
		t.Errorf("alice's user changed: %+v", after)
	}
	if e.kicked("sess-alice-1") {
		t.Error("alice's session was disconnected")
	}
	if _, err := e.user("alice", "evil.alice"); err == nil {
		t.Error("bob created a user in alice's account")
	}
}

// TestEveryPOSTNeedsCSRF sends each POST route without a token and with a
// wrong one: 403, and nothing changes.
func TestEveryPOSTNeedsCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	e.publish(bobSession())
	bob, admin := e.bob(), e.admin()
	before, _ := e.user("bob", "dev.bob")
	routes := []struct {
		c    *client
		path string
		form url.Values
	}{
		{bob, "/logout", nil},
		{bob, "/files/ftp/add", url.Values{"username": {"new"}, "password": {ftpPW}, "path": {"/new"}}},
		{bob, "/files/ftp/users/dev.bob/password", url.Values{"password": {"Other-Pass12"}, "confirm": {"Other-Pass12"}}},
		{bob, "/files/ftp/users/dev.bob/path", url.Values{"path": {"/moved"}}},
		{bob, "/files/ftp/users/dev.bob/delete", url.Values{"confirm": {"1"}}},
		{bob, "/files/ftp/connections/sess-bob-1/disconnect", nil},
		{admin, "/admin/logout", nil},
		{admin, "/admin/accounts", url.Values{"account": {"carol"}, "home": {e.home("carol")}}},
		{admin, "/admin/accounts/bob/limit", url.Values{"ftp_limit": {"9"}}},
		{admin, "/admin/accounts/bob/enabled", url.Values{"enabled": {"0"}}},
		{admin, "/admin/accounts/bob/password", url.Values{"password": {"Other-Pass12"}, "confirm": {"Other-Pass12"}}},
		{admin, "/admin/accounts/bob/delete", url.Values{"confirm": {"1"}, "force": {"1"}}},
		{admin, "/admin/users/dev.bob/password", url.Values{"password": {"Other-Pass12"}, "confirm": {"Other-Pass12"}}},
		{admin, "/admin/users/dev.bob/path", url.Values{"path": {"/moved"}}},
		{admin, "/admin/users/dev.bob/delete", url.Values{"confirm": {"1"}}},
		{admin, "/admin/connections/sess-bob-1/disconnect", nil},
		{admin, "/admin/settings", url.Values{"max_per_ip": {"1"}}},
		{admin, "/admin/settings/reset", nil},
		{admin, "/admin/bans", url.Values{"ip": {"203.0.113.7"}, "for": {"1h"}}},
		{admin, "/admin/bans/lift", url.Values{"ip": {"203.0.113.7"}}},
	}
	for _, rt := range routes {
		for _, tok := range []string{"", "wrong-token", bob.csrf + "x"} {
			v := url.Values{}
			for k, x := range rt.form {
				v[k] = x
			}
			if tok != "" {
				v.Set("csrf", tok)
			}
			r := rt.c.postRaw(rt.path, v)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with token %q: status %d, want 403", rt.path, tok, r.StatusCode)
			}
		}
	}
	// The admin's token is not the owner's either.
	bob2 := *bob
	bob2.csrf = admin.csrf
	wantStatus(t, bob2.post("/files/ftp/users/dev.bob/delete", url.Values{"confirm": {"1"}}), http.StatusForbidden)

	after, err := e.user("bob", "dev.bob")
	if err != nil || after.PasswordHash != before.PasswordHash || after.Path != before.Path {
		t.Errorf("dev.bob changed: %+v, %v", after, err)
	}
	a, err := e.svc.GetAccount(context.Background(), "bob")
	if err != nil || a.FTPLimit != 5 || !a.Enabled {
		t.Errorf("account bob changed: %+v, %v", a, err)
	}
	if _, err := e.svc.GetAccount(context.Background(), "carol"); err == nil {
		t.Error("account carol was created")
	}
	if _, err := e.user("bob", "new.bob"); err == nil {
		t.Error("new.bob was created")
	}
	if _, saved, _, _ := e.svc.Settings(context.Background()); saved {
		t.Error("settings were saved")
	}
	if bans, _ := e.svc.ListBans(context.Background()); len(bans) != 0 {
		t.Errorf("bans were added: %+v", bans)
	}
	if e.kicked("sess-bob-1") {
		t.Error("a session was disconnected")
	}
	// Both are still logged in.
	wantStatus(t, bob.get("/files/ftp"), http.StatusOK)
	wantStatus(t, admin.get("/admin/accounts"), http.StatusOK)
}

func TestClientDownloads(t *testing.T) {
	t.Parallel()
	for _, tlsRequired := range []bool{false, true} {
		e := newEnv(t, func(c *cfgT) { c.TLSRequired = tlsRequired })
		e.addUser("bob", "dev.bob", "/site", 0)
		c := e.bob()

		r := c.get("/files/ftp/users/dev.bob/filezilla.xml")
		wantStatus(t, r, http.StatusOK)
		if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="dev.bob.xml"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		var fz struct {
			XMLName xml.Name `xml:"FileZilla3"`
			Servers []struct {
				Host, User, Name, RemoteDir, EncodingType string
				Port, Protocol, Type, Logontype           int
				Pass                                      *string
			} `xml:"Servers>Server"`
		}
		if err := xml.Unmarshal([]byte(r.body), &fz); err != nil {
			t.Fatalf("FileZilla file is not XML: %v\n%s", err, r.body)
		}
		wantProto := 0
		if tlsRequired {
			wantProto = 4
		}
		if len(fz.Servers) != 1 {
			t.Fatalf("servers: %+v", fz.Servers)
		}
		s := fz.Servers[0]
		if s.Host != "ftp.example.test" || s.Port != 2121 || s.User != "dev.bob" || s.Logontype != 2 ||
			s.Protocol != wantProto || s.EncodingType != "UTF-8" || s.Name == "" || s.RemoteDir == "" || s.Pass != nil {
			t.Errorf("FileZilla server (TLS required %v): %+v", tlsRequired, s)
		}

		r = c.get("/files/ftp/users/dev.bob/cyberduck.duck")
		wantStatus(t, r, http.StatusOK)
		if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="dev.bob.duck"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		got := parsePlist(t, r.body)
		// FTP over explicit TLS either way, as the FileZilla site when
		// the server offers TLS (it always does).
		wantDuck := map[string]string{"Hostname": "ftp.example.test", "Port": "2121", "Username": "dev.bob", "Path": "/", "Protocol": "ftps"}
		for k, v := range wantDuck {
			if got[k] != v {
				t.Errorf("Cyberduck %s = %q, want %q", k, got[k], v)
			}
		}
		if got["Nickname"] == "" {
			t.Error("Cyberduck bookmark has no Nickname")
		}
	}
}

// parsePlist reads a plist of one <dict> of <key>/<string> pairs.
func parsePlist(t *testing.T, body string) map[string]string {
	t.Helper()
	if !strings.Contains(body, "<!DOCTYPE plist") {
		t.Error("no plist DOCTYPE")
	}
	var p struct {
		XMLName xml.Name `xml:"plist"`
		Dict    struct {
			Inner []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("Cyberduck file is not XML: %v\n%s", err, body)
	}
	m := map[string]string{}
	in := p.Dict.Inner
	for i := 0; i+1 < len(in); i += 2 {
		if in[i].XMLName.Local != "key" || in[i+1].XMLName.Local != "string" {
			t.Fatalf("plist item %d: %s then %s", i, in[i].XMLName.Local, in[i+1].XMLName.Local)
		}
		m[in[i].Value] = in[i+1].Value
	}
	return m
}

func TestJSONFeedNeedsLogIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.client().get("/files/ftp/connections.json")
	wantStatus(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.body, "log in") {
		t.Errorf("body %q", r.body)
	}
}

package api

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestCreateAccountThenReadIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodPost, "/api/v1/accounts", map[string]any{
		"name": "bob", "home": e.home("bob"), "ftp_limit": 3, "panel_password": testPassword,
	}).want(t, http.StatusCreated)
	if got := r.header.Get("Location"); got != "/api/v1/accounts/bob" {
		t.Errorf("Location %q", got)
	}
	created := r.json(t)
	want := map[string]any{
		"name": "bob", "home": e.home("bob"), "uid": nil, "gid": nil, "ftp_limit": 3.0,
		"ftp_users": 0.0, "enabled": true, "panel_password_set": true,
	}
	for k, v := range want {
		if created[k] != v {
			t.Errorf("%s = %v, want %v", k, created[k], v)
		}
	}
	if strings.Contains(string(r.body), testPassword) || strings.Contains(string(r.body), "argon2") {
		t.Errorf("response echoes the password or its hash: %s", r.body)
	}
	if fi, err := os.Stat(e.home("bob")); err != nil || !fi.IsDir() {
		t.Errorf("home not created: %v", err)
	}
	if _, err := e.svc.CheckPanelLogin(context.Background(), "bob", testPassword); err != nil {
		t.Errorf("panel password not set: %v", err)
	}

	got := e.do(http.MethodGet, "/api/v1/accounts/bob", nil).want(t, http.StatusOK).json(t)
	for k, v := range created {
		if got[k] != v {
			t.Errorf("GET %s = %v, POST said %v", k, got[k], v)
		}
	}
	list := e.do(http.MethodGet, "/api/v1/accounts", nil).want(t, http.StatusOK).list(t, "accounts")
	if len(list) != 1 || list[0]["name"] != "bob" {
		t.Errorf("list %v", list)
	}
}

func TestCreateAccountWithOwnerAndCountsFTPUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodPost, "/api/v1/accounts", map[string]any{"name": "bob", "home": e.home("bob"), "uid": 1001, "gid": 1002})
	m := r.want(t, http.StatusCreated).json(t)
	if m["uid"] != 1001.0 || m["gid"] != 1002.0 || m["panel_password_set"] != false {
		t.Errorf("uid %v gid %v panel_password_set %v", m["uid"], m["gid"], m["panel_password_set"])
	}
	e.addFTPUser("bob", "dev.bob", "/")
	e.addFTPUser("bob", "ci.bob", "/site")
	if n := e.do(http.MethodGet, "/api/v1/accounts/bob", nil).json(t)["ftp_users"]; n != 2.0 {
		t.Errorf("ftp_users %v, want 2", n)
	}
	if n := e.do(http.MethodGet, "/api/v1/accounts", nil).list(t, "accounts")[0]["ftp_users"]; n != 2.0 {
		t.Errorf("listed ftp_users %v, want 2", n)
	}
}

func TestCreateAccountRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		field  string
		msg    string
	}{
		{"uppercase name", map[string]any{"name": "Eve", "home": e.home("eve")},
			422, "invalid", "name", message(domain.ValidateAccountName("Eve"))},
		{"short name", map[string]any{"name": "ev", "home": e.home("ev")},
			422, "invalid", "name", message(domain.ValidateAccountName("ev"))},
		{"relative home", map[string]any{"name": "eve", "home": "home/eve"},
			422, "invalid", "home", `home directory "home/eve" is not absolute: give a path starting with /, such as /home/bob`},
		{"negative limit", map[string]any{"name": "eve", "home": e.home("eve"), "ftp_limit": -1},
			422, "invalid", "ftp_limit", "FTP sub-user limit -1 is negative: use 0 for unlimited or a positive number"},
		{"weak panel password", map[string]any{"name": "eve", "home": e.home("eve"), "panel_password": "password"},
			422, "invalid", "panel_password", message(domain.ValidatePassword("password", "eve"))},
		{"duplicate", map[string]any{"name": "bob", "home": e.home("bob2")},
			409, "conflict", "name", "account bob already exists"},
		{"another account's home", map[string]any{"name": "eve", "home": e.home("bob")},
			409, "conflict", "home", message(domain.OverlapError(e.home("bob"), "bob", e.home("bob")))},
		{"holding every home", map[string]any{"name": "eve", "home": e.homes, "uid": 1001, "gid": 1001},
			409, "conflict", "home", message(domain.OverlapError(e.homes, "bob", e.home("bob")))},
		{"system folder", map[string]any{"name": "eve", "home": "/etc", "uid": 1001, "gid": 1001},
			422, "invalid", "home", message(domain.CheckHome("/etc", domain.HomeRules{}))},
		{"root owner", map[string]any{"name": "eve", "home": e.home("eve"), "uid": 0, "gid": 0},
			422, "invalid", "uid", "uid 0 / gid 0 is root: the account's FTP users would act as root; give the account its own uid and gid (--allow-root-owner if root is really meant)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(http.MethodPost, "/api/v1/accounts", c.body).wantError(t, c.status, c.code, c.field, c.msg)
			if got := e.accountNames(); len(got) != 1 {
				t.Errorf("accounts %v after a refusal, want only bob", got)
			}
		})
	}
	if _, err := os.Stat(e.home("eve")); err == nil {
		t.Error("a refused account left its home behind")
	}
}

func TestUnknownAccountIs404(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		e.do(method, "/api/v1/accounts/nobody", nil).wantError(t, 404, "not_found", "", "account nobody does not exist")
	}
	e.do(http.MethodPatch, "/api/v1/accounts/nobody", map[string]any{"enabled": false}).
		wantError(t, 404, "not_found", "", "account nobody does not exist")
}

func TestPatchAccountAppliesEachField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addFTPUser("bob", "dev.bob", "/")
	ctx := context.Background()

	m := e.do(http.MethodPatch, "/api/v1/accounts/bob", map[string]any{"ftp_limit": 5}).want(t, 200).json(t)
	if m["ftp_limit"] != 5.0 || m["enabled"] != true || m["ftp_users"] != 1.0 {
		t.Errorf("after ftp_limit: %v", m)
	}
	m = e.do(http.MethodPatch, "/api/v1/accounts/bob", map[string]any{"enabled": false, "panel_password": testPassword}).want(t, 200).json(t)
	if m["enabled"] != false || m["panel_password_set"] != true || m["ftp_limit"] != 5.0 {
		t.Errorf("after enabled+password: %v", m)
	}
	a, err := e.svc.GetAccount(ctx, "bob")
	if err != nil || a.Enabled || a.FTPLimit != 5 || a.PanelPasswordHash == "" {
		t.Errorf("stored %+v, %v", a, err)
	}
	// Disabling an account disconnects its sub-users.
	if kicks := e.kicks(); len(kicks) == 0 || kicks[len(kicks)-1] != "account bob" {
		t.Errorf("kicks %q: want bob's sessions disconnected", kicks)
	}
	e.do(http.MethodPatch, "/api/v1/accounts/bob", map[string]any{"enabled": true, "ftp_limit": nil}).want(t, 200)
	if a, _ := e.svc.GetAccount(ctx, "bob"); !a.Enabled || a.FTPLimit != 5 {
		t.Errorf("null ftp_limit changed the limit, or enabled not applied: %+v", a)
	}
}

func TestPatchAccountRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 2)
	cases := []struct {
		name  string
		body  map[string]any
		field string
		msg   string
	}{
		{"weak password with a valid limit", map[string]any{"ftp_limit": 9, "enabled": false, "panel_password": "short"},
			"panel_password", message(domain.ValidatePassword("short", "bob"))},
		{"password containing the account", map[string]any{"ftp_limit": 9, "panel_password": "Bob!2024bob"},
			"panel_password", "password must not contain the username"},
		{"negative limit", map[string]any{"ftp_limit": -3, "enabled": false},
			"ftp_limit", "FTP sub-user limit -3 is negative: use 0 for unlimited or a positive number"},
		{"nothing to change", map[string]any{},
			"", "nothing to change: give at least one of ftp_limit, enabled, panel_password"},
		{"only nulls", map[string]any{"enabled": nil},
			"", "nothing to change: give at least one of ftp_limit, enabled, panel_password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(http.MethodPatch, "/api/v1/accounts/bob", c.body).wantError(t, 422, "invalid", c.field, c.msg)
			a, err := e.svc.GetAccount(context.Background(), "bob")
			if err != nil || a.FTPLimit != 2 || !a.Enabled || a.PanelPasswordHash != "" {
				t.Errorf("half applied: %+v, %v", a, err)
			}
		})
	}
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addFTPUser("bob", "dev.bob", "/site")
	site := filepath.Join(e.home("bob"), "site", "index.html")
	if err := os.WriteFile(site, []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}

	m := e.do(http.MethodDelete, "/api/v1/accounts/bob", nil).wantError(t, 409, "conflict", "account", "")
	if !strings.Contains(m["hint"].(string), "?force=true") {
		t.Errorf("hint %q does not mention ?force=true", m["hint"])
	}
	e.do(http.MethodDelete, "/api/v1/accounts/bob?force=maybe", nil).
		wantError(t, 400, "bad_request", "force", `query parameter force must be true or false, not "maybe"`)
	e.do(http.MethodDelete, "/api/v1/accounts/bob?forse=true", nil).wantError(t, 400, "bad_request", "forse", "")
	if got := e.accountNames(); len(got) != 1 {
		t.Fatalf("accounts %v after refusals", got)
	}

	r := e.do(http.MethodDelete, "/api/v1/accounts/bob?force=true", nil).want(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with body %q", r.body)
	}
	if got := e.accountNames(); len(got) != 0 {
		t.Errorf("accounts %v after delete", got)
	}
	if _, err := os.Stat(site); err != nil {
		t.Errorf("deleting the account deleted files: %v", err)
	}
	e.do(http.MethodDelete, "/api/v1/accounts/bob", nil).wantError(t, 404, "not_found", "", "account bob does not exist")

	e.addAccount("eve", 0)
	e.do(http.MethodDelete, "/api/v1/accounts/eve", nil).want(t, http.StatusNoContent)
}

package api

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestCreateFTPUserThenReadIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	r := e.do(http.MethodPost, "/api/v1/accounts/bob/ftp-users", map[string]any{
		"username": "Dev.Bob", "password": testPassword, "path": "example.com/dev", "quota_mb": 100,
	}).want(t, http.StatusCreated)
	if got := r.header.Get("Location"); got != "/api/v1/accounts/bob/ftp-users/dev.bob" {
		t.Errorf("Location %q", got)
	}
	created := r.json(t)
	want := map[string]any{
		"account": "bob", "username": "dev.bob", "path": "/example.com/dev",
		"directory": filepath.Join(e.home("bob"), "example.com", "dev"), "uid": nil, "gid": nil,
		"quota_mb": 100.0, "enabled": true, "last_login_at": nil, "last_login_ip": "",
	}
	for k, v := range want {
		if created[k] != v {
			t.Errorf("%s = %v, want %v", k, created[k], v)
		}
	}
	if strings.Contains(string(r.body), testPassword) || strings.Contains(string(r.body), "argon2") {
		t.Errorf("response echoes the password or its hash: %s", r.body)
	}
	if fi, err := os.Stat(want["directory"].(string)); err != nil || !fi.IsDir() {
		t.Errorf("folder not created: %v", err)
	}
	for _, path := range []string{"/api/v1/accounts/bob/ftp-users/dev.bob", "/api/v1/accounts/BOB/ftp-users/DEV.bob"} {
		got := e.do(http.MethodGet, path, nil).want(t, http.StatusOK).json(t)
		for k, v := range created {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("GET %s: %s = %v, POST said %v", path, k, got[k], v)
			}
		}
	}
}

func TestFTPUserShowsLastLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addFTPUser("bob", "dev.bob", "/")
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", testPassword, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	m := e.do(http.MethodGet, "/api/v1/accounts/bob/ftp-users/dev.bob", nil).want(t, 200).json(t)
	if m["last_login_ip"] != "198.51.100.7" {
		t.Errorf("last_login_ip %v", m["last_login_ip"])
	}
	if at, _ := m["last_login_at"].(string); at == "" {
		t.Errorf("last_login_at %v", m["last_login_at"])
	} else if _, err := time.Parse(time.RFC3339, at); err != nil {
		t.Errorf("last_login_at %q is not RFC 3339: %v", at, err)
	}
}

func TestCreateFTPUserRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 2)
	e.addAccount("full", 1)
	e.addFTPUser("bob", "dev.bob", "/")
	e.addFTPUser("full", "one.full", "/")
	ok := map[string]any{"username": "new.bob", "password": testPassword, "path": "/site"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for key, val := range ok {
			m[key] = val
		}
		m[k] = v
		return m
	}
	normalize := func(u string) string { _, err := domain.NormalizeUsername(u, "bob"); return message(err) }
	path := func(p string) string { _, err := domain.NormalizePath(p, e.home("bob")); return message(err) }
	cases := []struct {
		name, account string
		body          map[string]any
		status        int
		code, field   string
		msg           string
	}{
		{"username without suffix", "bob", with("username", "new"), 422, "invalid", "username", normalize("new")},
		{"username of another account", "bob", with("username", "new.alice"), 422, "invalid", "username", normalize("new.alice")},
		{"username with symbol", "bob", with("username", "n-w.bob"), 422, "invalid", "username", normalize("n-w.bob")},
		{"password without digit", "bob", with("password", "Secret!pass"), 422, "invalid", "password", message(domain.ValidatePassword("Secret!pass", "new.bob"))},
		{"password with username", "bob", with("password", "New.bob!123X"), 422, "invalid", "password", "password must not contain the username"},
		{"path with dot-dot", "bob", with("path", "/site/../../etc"), 422, "invalid", "path", path("/site/../../etc")},
		{"missing path", "bob", with("path", ""), 422, "invalid", "path", path("")},
		{"negative quota", "bob", with("quota_mb", -5), 422, "invalid", "quota_mb", "quota -5 MB is negative: use 0 for unlimited or a size in MB"},
		{"duplicate", "bob", with("username", "DEV.bob"), 409, "conflict", "username", "FTP username dev.bob already exists: choose another name"},
		{"limit reached", "full", with("username", "two.full"), 409, "limit_reached", "username",
			"account full already has its limit of 1 FTP sub-users: delete one or ask the administrator to raise the limit"},
		{"unknown account", "nobody", with("username", "x.nobody"), 404, "not_found", "", "account nobody does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(http.MethodPost, "/api/v1/accounts/"+c.account+"/ftp-users", c.body).wantError(t, c.status, c.code, c.field, c.msg)
			if got := e.ftpUsernames(""); !slices.Equal(got, []string{"dev.bob", "one.full"}) {
				t.Errorf("FTP users %v after a refusal", got)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.home("bob"), "site")); err == nil {
		t.Error("a refused sub-user left its folder behind")
	}
}

// A request wrong in several fields names each of them at once.
func TestCreateFTPUserReportsEveryField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	body := map[string]any{"username": "my site!", "password": "password", "path": "../other", "quota_mb": -1}
	m := e.do(http.MethodPost, "/api/v1/accounts/bob/ftp-users", body).wantError(t, 422, "invalid", "username", "")
	list, _ := m["errors"].([]any)
	var fields []string
	for _, x := range list {
		f, _ := x.(map[string]any)
		if msg, _ := f["error"].(string); msg == "" || !strings.Contains(m["error"].(string), msg) {
			t.Errorf("entry %v: its message is empty or missing from error %q", f, m["error"])
		}
		name, _ := f["field"].(string)
		fields = append(fields, name)
	}
	if want := []string{"username", "password", "path", "quota_mb"}; !slices.Equal(fields, want) {
		t.Errorf("errors name the fields %q, want %q; body %v", fields, want, m)
	}
	if got := e.ftpUsernames(""); len(got) != 0 {
		t.Errorf("FTP users %v after a refusal", got)
	}
}

func TestFTPUserNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addFTPUser("alice", "dev.alice", "/")
	for _, c := range []struct{ path, msg string }{
		{"/api/v1/accounts/bob/ftp-users/nobody.bob", "FTP user nobody.bob does not exist in account bob"},
		// Another account's sub-user is not found through this account.
		{"/api/v1/accounts/bob/ftp-users/dev.alice", "FTP user dev.alice does not exist in account bob"},
		{"/api/v1/accounts/nobody/ftp-users/dev.alice", "account nobody does not exist"},
	} {
		e.do(http.MethodGet, c.path, nil).wantError(t, 404, "not_found", "", c.msg)
		e.do(http.MethodPatch, c.path, map[string]any{"enabled": false}).wantError(t, 404, "not_found", "", c.msg)
		e.do(http.MethodDelete, c.path, nil).wantError(t, 404, "not_found", "", c.msg)
	}
	if u, err := e.svc.GetFTPUser(context.Background(), "alice", "dev.alice"); err != nil || !u.Enabled {
		t.Errorf("alice's user changed through bob: %+v, %v", u, err)
	}
	e.do(http.MethodGet, "/api/v1/accounts/nobody/ftp-users", nil).wantError(t, 404, "not_found", "", "account nobody does not exist")
	e.do(http.MethodPost, "/api/v1/accounts/nobody/ftp-users", map[string]any{"username": "a.nobody"}).
		wantError(t, 404, "not_found", "", "account nobody does not exist")
}

func TestListFTPUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addFTPUser("bob", "dev.bob", "/site")
	e.addFTPUser("alice", "dev.alice", "/")
	e.addFTPUser("bob", "ci.bob", "/")
	usernames := func(list []map[string]any) []string {
		var out []string
		for _, u := range list {
			out = append(out, u["username"].(string))
		}
		return out
	}
	cases := []struct {
		path string
		want []string
	}{
		{"/api/v1/accounts/bob/ftp-users", []string{"ci.bob", "dev.bob"}},
		{"/api/v1/ftp-users", []string{"ci.bob", "dev.alice", "dev.bob"}},
		{"/api/v1/ftp-users?account=alice", []string{"dev.alice"}},
		{"/api/v1/ftp-users?account=BOB", []string{"ci.bob", "dev.bob"}},
	}
	for _, c := range cases {
		list := e.do(http.MethodGet, c.path, nil).want(t, http.StatusOK).list(t, "ftp_users")
		if got := usernames(list); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.path, got, c.want)
		}
		for _, u := range list {
			if u["username"] == "dev.bob" && u["directory"] != filepath.Join(e.home("bob"), "site") {
				t.Errorf("%s: dev.bob directory %v", c.path, u["directory"])
			}
		}
	}
	e.addAccount("empty", 0)
	if list := e.do(http.MethodGet, "/api/v1/accounts/empty/ftp-users", nil).list(t, "ftp_users"); len(list) != 0 {
		t.Errorf("empty account lists %v", list)
	}
	e.do(http.MethodGet, "/api/v1/ftp-users?account=nobody", nil).wantError(t, 404, "not_found", "", "account nobody does not exist")
	e.do(http.MethodGet, "/api/v1/ftp-users?acount=bob", nil).
		wantError(t, 400, "bad_request", "acount", `unknown query parameter "acount": this request takes account`)
}

func TestPatchFTPUserAppliesEachField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addFTPUser("bob", "dev.bob", "/")
	ctx := context.Background()
	const newPassword = "N3w-secret!"
	m := e.do(http.MethodPatch, "/api/v1/accounts/bob/ftp-users/dev.bob", map[string]any{
		"password": newPassword, "path": "shop", "quota_mb": 50, "enabled": false,
	}).want(t, http.StatusOK).json(t)
	if m["path"] != "/shop" || m["quota_mb"] != 50.0 || m["enabled"] != false || m["directory"] != filepath.Join(e.home("bob"), "shop") {
		t.Errorf("after PATCH: %v", m)
	}
	if strings.Contains(string(e.do(http.MethodGet, "/api/v1/accounts/bob/ftp-users/dev.bob", nil).body), newPassword) {
		t.Error("password echoed")
	}
	if fi, err := os.Stat(filepath.Join(e.home("bob"), "shop")); err != nil || !fi.IsDir() {
		t.Errorf("new folder not created: %v", err)
	}
	e.do(http.MethodPatch, "/api/v1/accounts/bob/ftp-users/dev.bob", map[string]any{"enabled": true}).want(t, 200)
	if _, err := e.svc.Authenticate(ctx, "dev.bob", newPassword, "192.0.2.1"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, "dev.bob", testPassword, "192.0.2.1"); err == nil {
		t.Error("old password still accepted")
	}
	if kicks := e.kicks(); len(kicks) == 0 || kicks[len(kicks)-1] != "user dev.bob" {
		t.Errorf("kicks %q: a change must disconnect the user", kicks)
	}
}

func TestPatchFTPUserRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	before := e.addFTPUser("bob", "dev.bob", "/site")
	// A file where the new path wants a folder: only creating the folder
	// finds out, so the path must be applied before anything else.
	if err := os.WriteFile(filepath.Join(e.home("bob"), "taken"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		body  map[string]any
		field string
		msg   string
	}{
		{"weak password with valid path and quota", map[string]any{"path": "/other", "quota_mb": 7, "password": "weakpass"},
			"password", message(domain.ValidatePassword("weakpass", "dev.bob"))},
		{"bad path with valid password", map[string]any{"path": "../x", "password": "N3w-secret!", "enabled": false},
			"path", `path "../x" contains "..": give a folder inside the home directory without ".."`},
		{"negative quota with valid path", map[string]any{"path": "/other", "quota_mb": -1},
			"quota_mb", "quota -1 MB is negative: use 0 for unlimited or a size in MB"},
		{"path blocked by a file", map[string]any{"path": "/taken/dir", "quota_mb": 7, "enabled": false},
			"path", "path /taken/dir: /taken is a file, not a folder: choose another path"},
		{"nothing to change", map[string]any{"path": nil},
			"", "nothing to change: give at least one of password, path, quota_mb, enabled, max_files, upload_kbps, download_kbps, allow_ips, deny_ips, read_only, tls_required, expires, max_sessions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(http.MethodPatch, "/api/v1/accounts/bob/ftp-users/dev.bob", c.body).wantError(t, 422, "invalid", c.field, c.msg)
			u, err := e.svc.GetFTPUser(context.Background(), "bob", "dev.bob")
			if err != nil || u.Path != before.Path || u.QuotaMB != before.QuotaMB || !u.Enabled || u.PasswordHash != before.PasswordHash {
				t.Errorf("half applied: %+v, %v", u, err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.home("bob"), "other")); err == nil {
		t.Error("a refused PATCH created the new folder")
	}
}

func TestDeleteFTPUserKeepsFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 1)
	e.addFTPUser("bob", "dev.bob", "/site")
	file := filepath.Join(e.home("bob"), "site", "index.html")
	if err := os.WriteFile(file, []byte("<h1>hi</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.do(http.MethodDelete, "/api/v1/accounts/bob/ftp-users/DEV.BOB", nil).want(t, http.StatusNoContent)
	if got := e.ftpUsernames("bob"); len(got) != 0 {
		t.Errorf("FTP users %v after delete", got)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "<h1>hi</h1>" {
		t.Errorf("files not kept: %q, %v", b, err)
	}
	if kicks := e.kicks(); len(kicks) == 0 || kicks[len(kicks)-1] != "user dev.bob" {
		t.Errorf("kicks %q: delete must disconnect the user", kicks)
	}
	e.do(http.MethodDelete, "/api/v1/accounts/bob/ftp-users/dev.bob", nil).
		wantError(t, 404, "not_found", "", "FTP user dev.bob does not exist in account bob")
	// The slot is free again under the limit of 1.
	_, err := e.svc.AddFTPUser(context.Background(), domain.NewFTPUser{Account: "bob", Username: "new.bob", Password: testPassword, Path: "/"})
	if err != nil {
		t.Errorf("slot not freed: %v", err)
	}
}

func TestPatchFTPUserControls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addFTPUser("bob", "dev.bob", "/")
	path := "/api/v1/accounts/bob/ftp-users/dev.bob"
	fresh := e.do(http.MethodGet, path, nil).want(t, 200).json(t)
	none := map[string]any{"max_files": 0.0, "upload_kbps": 0.0, "download_kbps": 0.0, "allow_ips": []any{}, "deny_ips": []any{},
		"read_only": false, "tls_required": false, "expires": nil, "expires_at": nil, "expired": false, "max_sessions": 0.0}
	for k, v := range none {
		if !reflect.DeepEqual(fresh[k], v) {
			t.Errorf("new user: %s = %#v, want %#v", k, fresh[k], v)
		}
	}

	before := len(e.kicks())
	m := e.do(http.MethodPatch, path, map[string]any{
		"max_files": 5000, "upload_kbps": 200, "download_kbps": 400, "allow_ips": []string{"192.0.2.0/24", "2001:db8::1"},
		"deny_ips": []string{"192.0.2.66"}, "read_only": true, "tls_required": true, "expires": "2001-02-03", "max_sessions": 2,
	}).want(t, http.StatusOK).json(t)
	want := map[string]any{"max_files": 5000.0, "upload_kbps": 200.0, "download_kbps": 400.0,
		"allow_ips": []any{"192.0.2.0/24", "2001:db8::1"}, "deny_ips": []any{"192.0.2.66"}, "read_only": true, "tls_required": true,
		"expires": "2001-02-03", "expires_at": "2001-02-04T00:00:00Z", "expired": true, "max_sessions": 2.0, "quota_mb": 0.0}
	for k, v := range want {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("after PATCH: %s = %#v, want %#v", k, m[k], v)
		}
	}
	if kicks := e.kicks()[before:]; len(kicks) != 1 || kicks[0] != "user dev.bob" {
		t.Fatalf("kicks %q: stricter rules must disconnect the user", kicks)
	}
	// Relaxing keeps the sessions; "never" and [] clear.
	m = e.do(http.MethodPatch, path, map[string]any{"expires": "never", "allow_ips": nil, "read_only": false}).want(t, 200).json(t)
	if m["expires"] != nil || m["expired"] != false || m["read_only"] != false || len(m["allow_ips"].([]any)) != 2 {
		t.Errorf("after relaxing: %v", m)
	}
	if kicks := e.kicks()[before:]; len(kicks) != 1 {
		t.Errorf("relaxing kicked: %q", kicks[1:])
	}
	m = e.do(http.MethodPatch, path, map[string]any{"allow_ips": []string{}}).want(t, 200).json(t)
	if !reflect.DeepEqual(m["allow_ips"], []any{}) {
		t.Errorf("allow_ips after clearing = %#v", m["allow_ips"])
	}
}

func TestPatchFTPUserControlRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addFTPUser("bob", "dev.bob", "/")
	before, err := e.svc.GetFTPUser(context.Background(), "bob", "dev.bob")
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/accounts/bob/ftp-users/dev.bob"
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		field  string
		msg    string
	}{
		{"bad CIDR entry", map[string]any{"read_only": true, "allow_ips": []string{"192.0.2.0/24", "192.0.2.1/24"}}, 422, "invalid", "allow_ips",
			`IP allow list entry "192.0.2.1/24" has bits set after the prefix length: did you mean 192.0.2.0/24?`},
		{"bad date", map[string]any{"expires": "12/31/2026", "password": "N3w-secret!"}, 422, "invalid", "expires",
			`expiry date "12/31/2026" is not a date: write it as YYYY-MM-DD, e.g. 2026-12-31 (the last day of access, in UTC), or never`},
		{"negative sessions", map[string]any{"max_sessions": -1}, 422, "invalid", "max_sessions",
			"sessions at once -1 is out of range: use 0 for no limit, or at most 1000000"},
		{"too fast", map[string]any{"upload_kbps": 10_000_001}, 422, "invalid", "upload_kbps",
			"upload bandwidth (KiB/s) 10000001 is out of range: use 0 for no limit, or at most 10000000"},
		{"list as a string", map[string]any{"deny_ips": "192.0.2.1"}, 400, "bad_request", "deny_ips",
			"field deny_ips must be an array of strings, not a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(http.MethodPatch, path, c.body).wantError(t, c.status, c.code, c.field, c.msg)
			u, err := e.svc.GetFTPUser(context.Background(), "bob", "dev.bob")
			if err != nil || !reflect.DeepEqual(u, before) {
				t.Errorf("half applied:\n%+v\nwant %+v", u, before)
			}
		})
	}
}

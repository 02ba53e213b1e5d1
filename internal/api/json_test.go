package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestMalformedBodiesAreRefusedWithWhatToFix sends bodies that are not
// the JSON a route takes; none may change anything.
func TestMalformedBodiesAreRefusedWithWhatToFix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addFTPUser("bob", "dev.bob", "/")
	cases := []struct {
		name, method, path, body string
		status                   int
		code, field, msg         string
	}{
		{"empty body", "POST", "/api/v1/accounts", "", 400, "bad_request", "",
			"request body is empty: send a JSON object with the fields name, home, uid, gid, ftp_limit, panel_password"},
		{"syntax error", "POST", "/api/v1/accounts", `{"name": "eve",}`, 400, "bad_request", "",
			"request body is not valid JSON at byte 16: invalid character '}' looking for beginning of object key string"},
		{"truncated", "POST", "/api/v1/accounts", `{"name": "eve"`, 400, "bad_request", "",
			"request body ends in the middle of the JSON: send a complete object"},
		{"array", "POST", "/api/v1/accounts", `[{"name": "eve"}]`, 400, "bad_request", "",
			"request body must be a JSON object, not an array"},
		{"unknown field", "POST", "/api/v1/accounts", `{"name": "eve", "home": "/tmp/eve", "limit": 3}`, 400, "bad_request", "limit",
			`unknown field "limit": this request accepts name, home, uid, gid, ftp_limit, panel_password`},
		{"string for number", "POST", "/api/v1/accounts", `{"name": "eve", "home": "/tmp/eve", "ftp_limit": "3"}`, 400, "bad_request", "ftp_limit",
			"field ftp_limit must be a whole number, not a string"},
		{"fraction for number", "POST", "/api/v1/accounts", `{"name": "eve", "home": "/tmp/eve", "uid": 1.5}`, 400, "bad_request", "uid",
			"field uid must be a whole number, not a number 1.5"},
		{"number for string", "POST", "/api/v1/accounts", `{"name": 7, "home": "/tmp/eve"}`, 400, "bad_request", "name",
			"field name must be a string, not a number"},
		{"string for bool", "PATCH", "/api/v1/accounts/bob", `{"enabled": "no"}`, 400, "bad_request", "enabled",
			"field enabled must be true or false, not a string"},
		{"two objects", "PATCH", "/api/v1/accounts/bob", `{"enabled": false} {"enabled": true}`, 400, "bad_request", "",
			"request body has more after the JSON object: send exactly one object"},
		{"unknown patch field", "PATCH", "/api/v1/accounts/bob/ftp-users/dev.bob", `{"passwd": "x"}`, 400, "bad_request", "passwd",
			`unknown field "passwd": this request accepts password, path, quota_mb, enabled, max_files, upload_kbps, download_kbps, allow_ips, deny_ips, read_only, tls_required, expires, max_sessions`},
		{"object for string", "POST", "/api/v1/accounts/bob/ftp-users", `{"username": {"a": 1}}`, 400, "bad_request", "username",
			"field username must be a string, not an object"},
		{"too large", "POST", "/api/v1/accounts/bob/ftp-users",
			`{"username": "x.bob", "path": "` + strings.Repeat("a", maxBody) + `"}`, 413, "too_large", "",
			"request body is larger than 1048576 bytes: send only the fields to set"},
		{"too large after the object", "PATCH", "/api/v1/accounts/bob",
			`{"enabled": false}` + strings.Repeat(" ", maxBody), 413, "too_large", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(c.method, c.path, c.body).wantError(t, c.status, c.code, c.field, c.msg)
		})
	}
	if got := e.accountNames(); len(got) != 1 {
		t.Errorf("accounts %v, want only bob", got)
	}
	if got := e.ftpUsernames(""); len(got) != 1 {
		t.Errorf("FTP users %v, want only dev.bob", got)
	}
	if m := e.do(http.MethodGet, "/api/v1/accounts/bob", nil).json(t); m["enabled"] != true {
		t.Errorf("bob changed by a refused body: %v", m)
	}
}

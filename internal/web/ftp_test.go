package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFilesFTPListsOnlyOwnUsers(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	e.addUser("bob", "data.bob", "/data", 1)
	e.addUser("alice", "web.alice", "/", 0)
	if err := os.WriteFile(filepath.Join(e.home("bob"), "data", "big.bin"), make([]byte, 300<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", ftpPW, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}

	r := e.bob().get("/files/ftp")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body,
		`id="ftp-host">ftp.example.test<`, `id="ftp-port">2121<`,
		`id="ftp-count">2 of 5 FTP accounts<`,
		"dev.bob", "/site", "data.bob", "/data",
		"300.0 KiB of 1.0 MiB", // quota use of data.bob
		"—",                    // dev.bob has no quota
		"from 203.0.113.9",     // dev.bob's last login
		"Never",                // data.bob never logged in
		"/files/ftp/users/dev.bob/filezilla.xml", "/files/ftp/users/dev.bob/cyberduck.duck",
		">Change Password<", ">Change Path<", ">Delete<", ">View Connections<", ">Add Account<",
		`href="/files/ftp/connections"`,
	)
	wantNotContains(t, r.body, "web.alice")

	r = e.alice().get("/files/ftp")
	wantContains(t, r.body, "web.alice", `id="ftp-count">1 of 5 FTP accounts<`)
	wantNotContains(t, r.body, "dev.bob", "data.bob")
}

func TestFilesFTPUnlimitedAndHostFromRequest(t *testing.T) {
	e := newEnv(t, func(c *cfgT) { c.FTPHost = "" })
	if err := e.svc.SetFTPLimit(context.Background(), "bob", 0); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", "dev.bob", "/", 0)
	r := e.bob().get("/files/ftp")
	wantContains(t, r.body, `id="ftp-count">1 FTP account (unlimited)<`, `id="ftp-host">127.0.0.1<`)
}

func TestFilesFTPSearch(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	e.addUser("bob", "shop.bob", "/shop", 0)
	c := e.bob()
	r := c.get("/files/ftp?q=shop")
	wantContains(t, r.body, "shop.bob", `value="shop"`)
	wantNotContains(t, r.body, "dev.bob")
	r = c.get("/files/ftp?q=nothing")
	wantContains(t, r.body, "No FTP account matches")
}

func TestFilesFTPAddSectionAndSuggestions(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"example.com/dev", "example.com/public", ".cache"} {
		if err := os.MkdirAll(filepath.Join(e.home("bob"), d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink out of the home must never be suggested or walked.
	if err := os.Symlink(e.home("alice"), filepath.Join(e.home("bob"), "alicehome")); err != nil {
		t.Fatal(err)
	}
	r := e.bob().get("/files/ftp?add=1")
	wantContains(t, r.body, `<details class="add" id="add" open>`, `<span class="suffix" aria-hidden="true">.bob</span>`,
		`<option value="/example.com"></option>`, `<option value="/example.com/dev"></option>`,
		`<option value="/example.com/public"></option>`, `list="add-path-dirs"`, "data-generate", "data-show", "<meter")
	wantNotContains(t, r.body, "alicehome", ".cache")
	wantNotContains(t, e.bob().get("/files/ftp").body, `id="add" open`)
}

func TestAddFTPUser(t *testing.T) {
	e := newEnv(t)
	c := e.bob()
	r := c.post("/files/ftp/add", url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {"example.com/dev"}, "quota": {"100"}})
	wantRedirect(t, r, "/files/ftp")
	r = c.get("/files/ftp")
	wantContains(t, r.body, "FTP account dev.bob created", "dev.bob", "/example.com/dev", "of 100.0 MiB")
	u, err := e.user("bob", "dev.bob")
	if err != nil || u.Path != "/example.com/dev" || u.QuotaMB != 100 {
		t.Fatalf("user %+v, %v", u, err)
	}
	if !exists(filepath.Join(e.home("bob"), "example.com", "dev")) {
		t.Error("the folder was not created")
	}
	// A full username in the input is accepted as it is.
	wantRedirect(t, c.post("/files/ftp/add", url.Values{"username": {"Web.Bob"}, "password": {ftpPW}, "path": {"/"}}), "/files/ftp")
	if _, err := e.user("bob", "web.bob"); err != nil {
		t.Error(err)
	}
}

func TestAddFTPUserErrorsNextToTheirField(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "taken.bob", "/", 0)
	tests := []struct {
		name, field, want string
		form              url.Values
	}{
		{"bad username", "add-username", "may only contain letters and digits",
			url.Values{"username": {"dev-x"}, "password": {ftpPW}, "path": {"/site"}}},
		{"empty username", "add-username", "needs a name before .bob",
			url.Values{"username": {""}, "password": {ftpPW}, "path": {"/site"}}},
		{"duplicate", "add-username", "already exists",
			url.Values{"username": {"taken"}, "password": {ftpPW}, "path": {"/site"}}},
		{"short password", "add-password", "too short",
			url.Values{"username": {"dev"}, "password": {"Ab1!"}, "path": {"/site"}}},
		{"no digit", "add-password", "at least one digit",
			url.Values{"username": {"dev"}, "password": {"Abcdefgh!"}, "path": {"/site"}}},
		{"password has username", "add-password", "must not contain the username",
			url.Values{"username": {"dev"}, "password": {"Xdev.bob1!"}, "path": {"/site"}}},
		{"dot-dot path", "add-path", `contains ".."`,
			url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {"/site/../../etc"}}},
		{"empty path", "add-path", "path is missing",
			url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {""}}},
		{"bad quota", "add-quota", "whole number",
			url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {"/site"}, "quota": {"lots"}}},
	}
	c := e.bob()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post("/files/ftp/add", tc.form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			if got := fieldError(r.body, tc.field); !strings.Contains(got, tc.want) {
				t.Errorf("error next to %s: %q, want %q", tc.field, got, tc.want)
			}
			wantContains(t, r.body, `id="add" open`)
			// Typed values stay, except the password.
			if v, _ := inputValue(r.body, "add-username"); v != tc.form.Get("username") {
				t.Errorf("username input %q, want %q kept", v, tc.form.Get("username"))
			}
			if v, _ := inputValue(r.body, "add-path"); v != tc.form.Get("path") {
				t.Errorf("path input %q, want %q kept", v, tc.form.Get("path"))
			}
			if v, ok := inputValue(r.body, "add-password"); !ok || v != "" {
				t.Errorf("password input value %q: the password must not be sent back", v)
			}
			if pw := tc.form.Get("password"); pw != "" && strings.Contains(r.body, pw) {
				t.Error("the typed password appears in the page")
			}
		})
	}
	users, _ := e.svc.ListFTPUsers(context.Background(), "bob")
	if len(users) != 1 {
		t.Errorf("refused adds created users: %d users", len(users))
	}
	if exists(filepath.Join(e.home("bob"), "site")) {
		t.Error("a refused add created its folder")
	}
}

func TestAddFTPUserLimitReached(t *testing.T) {
	e := newEnv(t)
	if err := e.svc.SetFTPLimit(context.Background(), "bob", 1); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", "one.bob", "/", 0)
	c := e.bob()
	wantContains(t, c.get("/files/ftp").body, "1 of 1 FTP accounts", "reached its limit")
	r := c.post("/files/ftp/add", url.Values{"username": {"two"}, "password": {ftpPW}, "path": {"/"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := fieldError(r.body, "add-username"); !strings.Contains(got, "limit of 1 FTP sub-users") {
		t.Errorf("limit error %q", got)
	}
	if _, err := e.user("bob", "two.bob"); err == nil {
		t.Error("a user beyond the limit was created")
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/", 0)
	c := e.bob()
	r := c.get("/files/ftp/users/dev.bob/password")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "dev.bob", `<button type="submit" class="btn primary">Change Password</button>`, `id="confirm"`)

	r = c.post("/files/ftp/users/dev.bob/password", url.Values{"password": {"New-Secret-Pw1"}, "confirm": {"New-Secret-Pw2"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := fieldError(r.body, "confirm"); !strings.Contains(got, "do not match") {
		t.Errorf("confirm error %q", got)
	}
	r = c.post("/files/ftp/users/dev.bob/password", url.Values{"password": {"alllowercase1!"}, "confirm": {"alllowercase1!"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := fieldError(r.body, "password"); !strings.Contains(got, "uppercase") {
		t.Errorf("password error %q", got)
	}
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", ftpPW, "192.0.2.1"); err != nil {
		t.Fatalf("a refused change changed the password: %v", err)
	}

	r = c.post("/files/ftp/users/dev.bob/password", url.Values{"password": {"New-Secret-Pw1"}, "confirm": {"New-Secret-Pw1"}})
	wantRedirect(t, r, "/files/ftp")
	wantContains(t, c.get("/files/ftp").body, "Password of dev.bob changed")
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", "New-Secret-Pw1", "192.0.2.1"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
}

func TestChangePath(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	c := e.bob()
	r := c.get("/files/ftp/users/dev.bob/path")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, `id="current-path">/site<`, `<button type="submit" class="btn primary">Change Path</button>`)

	r = c.post("/files/ftp/users/dev.bob/path", url.Values{"path": {"../alice"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := fieldError(r.body, "path"); !strings.Contains(got, `".."`) {
		t.Errorf("path error %q", got)
	}
	if v, _ := inputValue(r.body, "path"); v != "../alice" {
		t.Errorf("typed path not kept: %q", v)
	}
	if u, _ := e.user("bob", "dev.bob"); u.Path != "/site" {
		t.Fatalf("refused change moved the user to %s", u.Path)
	}

	r = c.post("/files/ftp/users/dev.bob/path", url.Values{"path": {"shop/www"}})
	wantRedirect(t, r, "/files/ftp")
	wantContains(t, c.get("/files/ftp").body, "Path of dev.bob changed to /shop/www")
	if u, _ := e.user("bob", "dev.bob"); u.Path != "/shop/www" {
		t.Errorf("path %s, want /shop/www", u.Path)
	}
	if !exists(filepath.Join(e.home("bob"), "shop", "www")) {
		t.Error("new folder not created")
	}
}

func TestDeleteKeepsFiles(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	file := filepath.Join(e.home("bob"), "site", "index.html")
	if err := os.WriteFile(file, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := e.bob()

	// The confirmation page (the no-JavaScript path).
	r := c.get("/files/ftp/users/dev.bob/delete")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "No file is deleted", `name="confirm" value="1"`)
	// The list's Delete button without its confirm=1 leads there too.
	r = c.post("/files/ftp/users/dev.bob/delete", url.Values{"confirm": {"0"}})
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "No file is deleted")
	if _, err := e.user("bob", "dev.bob"); err != nil {
		t.Fatal("deleted without confirmation")
	}

	r = c.post("/files/ftp/users/dev.bob/delete", url.Values{"confirm": {"1"}})
	wantRedirect(t, r, "/files/ftp")
	wantContains(t, c.get("/files/ftp").body, "FTP account dev.bob deleted. Its files in /site were kept.")
	if _, err := e.user("bob", "dev.bob"); err == nil {
		t.Error("user still exists")
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "hello" {
		t.Errorf("file after delete: %q, %v", b, err)
	}
	wantStatus(t, c.post("/files/ftp/users/dev.bob/delete", url.Values{"confirm": {"1"}}), http.StatusNotFound)
}

func TestMalformedFormIs400(t *testing.T) {
	e := newEnv(t)
	c := e.bob()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/files/ftp/add", strings.NewReader("a=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, c.do(req), http.StatusBadRequest)
	big := strings.NewReader("username=" + strings.Repeat("a", 70<<10))
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/files/ftp/add", big)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, c.do(req), http.StatusBadRequest)
}

func TestUsageIsCachedBriefly(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "data.bob", "/data", 1)
	c := e.bob()
	wantContains(t, c.get("/files/ftp").body, "0 B of 1.0 MiB")
	if err := os.WriteFile(filepath.Join(e.home("bob"), "data", "f"), make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	wantContains(t, c.get("/files/ftp").body, "0 B of 1.0 MiB") // cached
	e.clock.Advance(11 * time.Second)
	wantContains(t, c.get("/files/ftp").body, "2.0 KiB of 1.0 MiB")
}

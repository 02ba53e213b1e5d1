package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFilesFTPListsOnlyOwnUsers(t *testing.T) {
	t.Parallel()
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
		"0.3 MB of 1 MB (29 %)",                 // space used by data.bob, in the MB of its quota
		"0 MB <span class=\"small\">(no quota)", // dev.bob's, which has none
		`id="home-space">Your home folder uses 0.3 MB.`,
		`from <span class="mono ip">203.0.113.9</span>`, // dev.bob's last login
		"Never", // data.bob never logged in
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
	t.Parallel()
	e := newEnv(t, func(c *cfgT) { c.FTPHost = "" })
	if err := e.svc.SetFTPLimit(context.Background(), "bob", 0); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", "dev.bob", "/", 0)
	r := e.bob().get("/files/ftp")
	wantContains(t, r.body, `id="ftp-count">1 FTP account (unlimited)<`, `id="ftp-host">127.0.0.1<`)
}

func TestFilesFTPSearch(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	r := c.post("/files/ftp/add", url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {"example.com/dev"}, "quota": {"100"}})
	wantRedirect(t, r, "/files/ftp")
	r = c.get("/files/ftp")
	wantContains(t, r.body, "FTP account dev.bob created", "dev.bob", "/example.com/dev", "0 MB of 100 MB (0 %)")
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
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "taken.bob", "/", 0)
	tests := []struct {
		name, field, want string
		form              url.Values
	}{
		{"bad username", "add-username", "may only contain letters and digits",
			url.Values{"username": {"dev-x"}, "password": {ftpPW}, "path": {"/site"}}},
		{"empty username", "add-username", "FTP username is missing",
			url.Values{"username": {""}, "password": {ftpPW}, "path": {"/site"}}},
		{"duplicate", "add-username", "already exists",
			url.Values{"username": {"taken"}, "password": {ftpPW}, "path": {"/site"}}},
		{"short password", "add-password", "Password is too short",
			url.Values{"username": {"dev"}, "password": {"Ab1!"}, "path": {"/site"}}},
		{"no digit", "add-password", "at least one digit",
			url.Values{"username": {"dev"}, "password": {"Abcdefgh!"}, "path": {"/site"}}},
		{"password has username", "add-password", "must not contain the username",
			url.Values{"username": {"dev"}, "password": {"Xdev.bob1!"}, "path": {"/site"}}},
		{"dot-dot path", "add-path", `contains ".."`,
			url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {"/site/../../etc"}}},
		{"empty path", "add-path", "Path is missing",
			url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {""}}},
		{"bad quota", "add-quota", "whole number",
			url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {"/site"}, "quota": {"lots"}}},
	}
	c := e.bob()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post("/files/ftp/add", tc.form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			got := fieldError(r.body, tc.field)
			if !strings.Contains(got, tc.want) {
				t.Errorf("error next to %s: %q, want %q", tc.field, got, tc.want)
			}
			if !strings.HasSuffix(got, ".") || strings.ToUpper(got[:1]) != got[:1] {
				t.Errorf("error %q is not a sentence: capital first, full stop last", got)
			}
			wantContains(t, r.body, `id="add" open`, `<title>Error: FTP · panelftp</title>`,
				`<a href="#`+tc.field+`" data-for="`+tc.field+`">`+html.EscapeString(got)+`</a>`)
			// Typed values stay, the password too: a generated one would
			// otherwise be lost to a mistake elsewhere.
			for field, id := range map[string]string{"username": "add-username", "path": "add-path", "password": "add-password"} {
				if v, _ := inputValue(r.body, id); v != tc.form.Get(field) {
					t.Errorf("%s input %q, want %q kept", field, v, tc.form.Get(field))
				}
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("a page holding a password has Cache-Control %q, want no-store", cc)
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

// Every field at fault shows its error at once, each beside its field
// and in the summary at the top, in the form's order; a bad quota (which
// the service never sees) does not hide the others.
func TestAddFTPUserShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	for _, quota := range []string{"-5", "lots"} {
		r := c.post("/files/ftp/add", url.Values{"username": {"my site!"}, "password": {"password"}, "path": {"../other"}, "quota": {quota}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		var order []int
		for _, id := range []string{"add-username", "add-password", "add-path", "add-quota"} {
			msg := fieldError(r.body, id)
			if msg == "" {
				t.Errorf("quota %q: no error next to %s", quota, id)
				continue
			}
			link := `<a href="#` + id + `" data-for="` + id + `">` + html.EscapeString(msg) + `</a>`
			order = append(order, strings.Index(r.body, link))
		}
		if !slices.IsSorted(order) || slices.Contains(order, -1) {
			t.Errorf("quota %q: summary links at %v, want all four in the form's order", quota, order)
		}
		wantContains(t, r.body, "There are 4 problems", `id="error-summary" tabindex="-1"`)
	}
	if users, _ := e.svc.ListFTPUsers(context.Background(), "bob"); len(users) != 0 {
		t.Errorf("refused adds created %d users", len(users))
	}
}

// After Add Account, the next page shows the new user's credentials once:
// a reload no longer has them.
func TestAddFTPUserShowsCredentialsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.bob()
	r := c.post("/files/ftp/add", url.Values{"username": {"dev"}, "password": {ftpPW}, "path": {"/site"}})
	wantRedirect(t, r, "/files/ftp#created")
	r = c.get("/files/ftp")
	wantContains(t, r.body, `id="created-host">ftp.example.test<`, `id="created-port">2121<`, `id="created-user">dev.bob<`,
		`id="created-password" class="mono" value="`+ftpPW+`" readonly`, "shown only this once",
		`href="/files/ftp/users/dev.bob/filezilla.xml"`)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	r = c.get("/files/ftp")
	wantNotContains(t, r.body, ftpPW, `id="created"`)

	// The sealed cookie is bound to the log-in: another session of the
	// same account cannot open it.
	wantRedirect(t, c.post("/files/ftp/add", url.Values{"username": {"two"}, "password": {ftpPW}, "path": {"/"}}), "/files/ftp")
	other := e.bob()
	for _, ck := range c.hc.Jar.Cookies(r.Request.URL) {
		if strings.HasSuffix(ck.Name, "created") {
			other.hc.Jar.SetCookies(r.Request.URL, []*http.Cookie{ck})
		}
	}
	wantNotContains(t, other.get("/files/ftp").body, ftpPW)
}

func TestAddFTPUserLimitReached(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.svc.SetFTPLimit(context.Background(), "bob", 1); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", "one.bob", "/", 0)
	c := e.bob()
	const sentence = "You have all 1 FTP accounts your plan allows: delete one to add another, or ask your hosting provider to raise the limit."
	r := c.get("/files/ftp?add=1")
	wantContains(t, r.body, "1 of 1 FTP accounts", `id="add-disabled" disabled aria-describedby="limit-note"`, sentence)
	wantNotContains(t, r.body, `id="add-username"`, `action="/files/ftp/add"`)

	// A form posted anyway (from an older page) gets the same one sentence.
	r = c.post("/files/ftp/add", url.Values{"username": {"two"}, "password": {ftpPW}, "path": {"/"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, sentence)
	wantNotContains(t, r.body, "sub-users", "error-summary")
	if _, err := e.user("bob", "two.bob"); err == nil {
		t.Error("a user beyond the limit was created")
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "data.bob", "/data", 1)
	c := e.bob()
	wantContains(t, c.get("/files/ftp").body, "0 MB of 1 MB (0 %)")
	if err := os.WriteFile(filepath.Join(e.home("bob"), "data", "f"), make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	wantContains(t, c.get("/files/ftp").body, "0 MB of 1 MB (0 %)") // cached
	e.clock.Advance(11 * time.Second)
	wantContains(t, c.get("/files/ftp").body, "under 0.1 MB of 1 MB (0 %)")
}

// The quota meter turns amber from 80 % and red from 95 %, and the text
// says so too, for those who do not see the colour.
func TestQuotaLevels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		size  int64
		class string
		text  string
	}{
		{"low", 79 << 20, `class="space"`, "79 MB of 100 MB (79 %)<"},
		{"warn", 80 << 20, `class="space warn"`, "80 MB of 100 MB (80 %) · nearly full<"},
		{"full", 95 << 20, `class="space full"`, "95 MB of 100 MB (95 %) · full<"},
	} {
		e.addUser("bob", tc.name+".bob", "/"+tc.name, 100)
		// The quota counts the disk space a file holds: allocated, not
		// only long.
		f, err := os.Create(filepath.Join(e.home("bob"), tc.name, "data"))
		if err == nil {
			err = syscall.Fallocate(int(f.Fd()), 0, 0, tc.size)
			f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		r := e.bob().get("/files/ftp")
		wantContains(t, r.body, tc.class+">"+tc.text,
			`<meter min="0" max="104857600" low="83886080" high="99614719" optimum="0" value="`+strconv.FormatInt(tc.size, 10)+`"`)
	}
}

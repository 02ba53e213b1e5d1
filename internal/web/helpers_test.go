package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/clocktest"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
	"github.com/panelftp/panelftp/internal/web"
)

// Passwords used across the tests; they follow the password rule.
const (
	bobPanelPW   = "Owner1-Panel-Pw"
	alicePanelPW = "Owner2-Panel-Pw"
	adminPW      = "Admin-Pass-123"
	ftpPW        = "Ftp-Secret-Pw9"
)

// env is a panel on a real SQLite store with two accounts, bob and alice,
// and one admin, root.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	svc   *service.Service
	st    *sqlstore.Store
	homes string
	clock *clocktest.Clock // real time, moved forward by the test: the service keeps real time
	cfg   web.Config
	// def keeps the service's bans; it is the panel's Guard only when a
	// test makes it so.
	def *defender.Defender
}

// cfgT is the panel's configuration, for envOption functions.
type cfgT = web.Config

type envOption func(*cfgT)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clocktest.Real()
	def := defender.New(defender.Config{Threshold: 3, BanTime: time.Hour, Now: clk.Now}, st, nil)
	// The accounts keep the server's ids, which as root is allowed only
	// with AllowRootOwner; the panel's pages do not depend on owners.
	svc := service.New(st, auth.NewHasher(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		service.Options{Logger: log, Homes: service.HomeOptions{AllowRootOwner: true}, Bans: def})
	e := &env{t: t, svc: svc, st: st, homes: t.TempDir(), clock: clk, def: def}
	ctx := context.Background()
	for name, pw := range map[string]string{"bob": bobPanelPW, "alice": alicePanelPW} {
		if _, err := svc.AddAccount(ctx, domain.NewAccount{Name: name, Home: e.home(name),
			UID: domain.NoID, GID: domain.NoID, FTPLimit: 5, PanelPassword: pw}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.AddAdmin(ctx, "root", adminPW); err != nil {
		t.Fatal(err)
	}
	e.cfg = web.Config{FTPHost: "ftp.example.test", FTPPort: 2121, SecretKey: []byte(strings.Repeat("k", 32)), Now: e.clock.Now}
	for _, o := range opts {
		o(&e.cfg)
	}
	e.srv = e.startPanel()
	return e
}

// startPanel starts a panel on the env's service and configuration: a
// second one is another node of the same installation, or the panel
// after a restart.
func (e *env) startPanel() *httptest.Server {
	e.t.Helper()
	h, err := web.New(e.cfg, e.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	e.t.Cleanup(srv.Close)
	return srv
}

func (e *env) home(account string) string { return filepath.Join(e.homes, account) }

// addUser creates a sub-user through the service.
func (e *env) addUser(account, username, path string, quotaMB int64) domain.FTPUser {
	e.t.Helper()
	u, err := e.svc.AddFTPUser(context.Background(), domain.NewFTPUser{
		Account: account, Username: username, Password: ftpPW, Path: path, QuotaMB: quotaMB})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) user(account, username string) (domain.FTPUser, error) {
	return e.svc.GetFTPUser(context.Background(), account, username)
}

// client is one browser: its own cookie jar; redirects are not followed,
// so tests see the 303s.
type client struct {
	e    *env
	hc   *http.Client
	csrf string
	// forwardedFor, when set, is sent as X-Forwarded-For, as a reverse
	// proxy in front of the panel would.
	forwardedFor string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) resp {
	c.e.t.Helper()
	if c.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.forwardedFor)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return resp{res, string(b)}
}

func (c *client) get(path string) resp {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	return c.do(req)
}

// postRaw posts vals as they are.
func (c *client) postRaw(path string, vals url.Values) resp {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// post posts vals with the client's CSRF token added.
func (c *client) post(path string, vals url.Values) resp {
	c.e.t.Helper()
	v := url.Values{}
	for k, x := range vals {
		v[k] = x
	}
	v.Set("csrf", c.csrf)
	return c.postRaw(path, v)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token reads the CSRF token from page path.
func (c *client) token(path string) string {
	c.e.t.Helper()
	r := c.get(path)
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		c.e.t.Fatalf("no CSRF token on %s (status %d)", path, r.StatusCode)
	}
	return html.UnescapeString(m[1])
}

// login logs in at loginPath ("/login" or "/admin/login").
func (c *client) login(loginPath, name, password string) resp {
	c.e.t.Helper()
	tok := c.token(loginPath)
	return c.postRaw(loginPath, url.Values{"csrf": {tok}, "name": {name}, "password": {password}})
}

func (e *env) owner(account, password string) *client {
	e.t.Helper()
	c := e.client()
	if r := c.login("/login", account, password); r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("log-in of %s: status %d, want 303\n%s", account, r.StatusCode, r.body)
	}
	c.csrf = c.token("/files/ftp")
	return c
}

func (e *env) bob() *client   { return e.owner("bob", bobPanelPW) }
func (e *env) alice() *client { return e.owner("alice", alicePanelPW) }

func (e *env) admin() *client {
	e.t.Helper()
	c := e.client()
	if r := c.login("/admin/login", "root", adminPW); r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("admin log-in: status %d\n%s", r.StatusCode, r.body)
	}
	c.csrf = c.token("/admin/accounts")
	return c
}

// fieldError returns the error shown next to the input with id, or "".
func fieldError(body, id string) string {
	re := regexp.MustCompile(`<p class="error" id="` + regexp.QuoteMeta(id) + `-err">([^<]*)</p>`)
	if m := re.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// inputValue returns the value attribute of the input with id.
func inputValue(body, id string) (string, bool) {
	re := regexp.MustCompile(`<input[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	tag := re.FindString(body)
	if tag == "" {
		return "", false
	}
	m := regexp.MustCompile(`\bvalue="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return "", true
	}
	return html.UnescapeString(m[1]), true
}

func wantStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, trim(r.body))
	}
}

func wantRedirect(t *testing.T, r resp, prefix string) {
	t.Helper()
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s %s: redirect to %q, want %q…", r.Request.Method, r.Request.URL.Path, loc, prefix)
	}
}

func wantContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page does not contain %q\n%s", s, trim(body))
		}
	}
}

func wantNotContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("page contains %q, should not", s)
		}
	}
}

// trim keeps failure output readable: the page's <main> only.
func trim(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

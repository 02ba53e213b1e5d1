package web_test

import (
	"context"
	"github.com/panelftp/panelftp/internal/browsertest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/panelftp/panelftp/internal/domain"
)

// The headless-browser test drives Debian's chromium through the panel as
// an account owner would. It runs when chromium is installed, and must run
// (failing if chromium is missing) when PANELFTP_TEST_BROWSER is set, as CI
// does.

// tab is the browser tab of the test, with short helpers that fail it.
type tab struct {
	t   *testing.T
	ctx context.Context
	url string
}

func newTab(t *testing.T, baseURL string) *tab {
	t.Helper()
	return &tab{t: t, ctx: browsertest.Start(t, 90*time.Second), url: baseURL}
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *tab) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("browser: evaluating %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true. It evaluates
// afresh each time rather than using a page-side poll, because a click may
// be navigating to a new page meanwhile.
func (b *tab) waitFor(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("browser: waiting for %s: timed out (last error %v)\npage: %s", what, lastErr,
		b.eval(`document.querySelector('main') ? document.querySelector('main').innerText : document.body.innerText`))
}

func (b *tab) text(css string) string {
	b.t.Helper()
	return b.eval(`(document.querySelector(` + browsertest.JSString(css) + `) || {}).textContent || ''`)
}

func (b *tab) flash(contains string) {
	b.t.Helper()
	b.waitFor("message "+contains, `(document.querySelector('.flash') || {textContent: ''}).textContent.includes(`+browsertest.JSString(contains)+`)`, 10*time.Second)
	b.noErrors()
}

// noErrors fails the test if the page had script errors or CSP violations.
func (b *tab) noErrors() {
	b.t.Helper()
	if errs := b.eval(`(window.__errors || []).join('\n')`); errs != "" {
		b.t.Errorf("browser: errors on %s:\n%s", b.eval(`location.pathname`), errs)
	}
}

// screenshot saves the page; the names start with "web-" because these
// pages show a fake session: the README's screenshots come from the
// end-to-end test of cmd/panelftp, against the real FTP service.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	browsertest.Screenshot(b.t, b.ctx, "web-"+name)
}

func TestBrowserFilesFTP(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"example.com/dev", "example.com/public_html", "shop.example.com"} {
		if err := os.MkdirAll(filepath.Join(e.home("bob"), d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.addUser("bob", "shop.bob", "/shop.example.com", 500)
	if _, err := e.svc.Authenticate(context.Background(), "shop.bob", ftpPW, "203.0.113.20"); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, e.srv.URL)

	// Log in.
	b.do(chromedp.Navigate(e.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("login-name"), "bob"),
		chromedp.SendKeys(chromedp.ID("login-password"), bobPanelPW),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("ftp-count")))
	b.noErrors()
	if got := b.text("#ftp-count"); got != "1 of 5 FTP accounts" {
		t.Errorf("count %q", got)
	}

	generated := addUserInBrowser(t, b)
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", generated, "192.0.2.1"); err != nil {
		t.Fatalf("the generated password does not log in: %v", err)
	}
	u, _ := e.user("bob", "dev.bob")
	if u.Path != "/example.com" {
		t.Errorf("path %q", u.Path)
	}

	// Client-side search hides rows as you type.
	b.do(chromedp.SendKeys(chromedp.ID("search"), "shop"))
	b.waitFor("search filter", `document.querySelector('tr[data-search^="dev.bob"]').hidden === true`, 3*time.Second)
	b.eval(`(function(){var s=document.getElementById('search');s.value='';s.dispatchEvent(new Event('input'));return '';})()`)
	b.waitFor("search cleared", `document.querySelector('tr[data-search^="dev.bob"]').hidden === false`, 3*time.Second)

	changePasswordInBrowser(t, e, b)
	changePathInBrowser(t, e, b)
	b.do(chromedp.Navigate(e.srv.URL+"/files/ftp?add=1"), chromedp.WaitVisible(chromedp.ID("add-username")))
	b.noErrors()
	b.screenshot("files-ftp.png")
	phoneLayout(t, b)
	deleteInBrowser(t, e, b)
	connectionsInBrowser(t, e, b)
}

// addUserInBrowser opens Add Account, generates a password and saves
// dev.bob; it returns the generated password.
func addUserInBrowser(t *testing.T, b *tab) string {
	t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`#add > summary`)), chromedp.WaitVisible(chromedp.ID("add-username")))
	if got := b.text(`#add > summary`); got != "Add Account" {
		t.Errorf("summary text %q", got)
	}
	if got := b.text(`.suffix`); got != ".bob" {
		t.Errorf("suffix %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.ID("add-username"), "dev"),
		chromedp.Click(chromedp.CSS(`#add [data-generate]`)))
	pw := b.eval(`document.getElementById('add-password').value`)
	if err := domain.ValidatePassword(pw, "dev.bob"); err != nil || len(pw) < 16 {
		t.Fatalf("generated password %q breaks the rules: %v", pw, err)
	}
	if typ := b.eval(`document.getElementById('add-password').type`); typ != "text" {
		t.Errorf("a generated password should be shown, input type %q", typ)
	}
	if s := b.text(`#add [data-strength-text]`); s != "Strong" {
		t.Errorf("strength of a generated password: %q", s)
	}
	b.do(chromedp.Click(chromedp.CSS(`#add [data-show]`)))
	if typ := b.eval(`document.getElementById('add-password').type`); typ != "password" {
		t.Errorf("Show did not toggle back: type %q", typ)
	}
	// Twenty generated passwords all follow the rules too.
	many := b.eval(`(function(){var o=[];for(var i=0;i<20;i++){document.querySelector('#add [data-generate]').click();o.push(document.getElementById('add-password').value);}return o.join('\n');})()`)
	for _, p := range strings.Split(many, "\n") {
		if err := domain.ValidatePassword(p, "dev.bob"); err != nil || len(p) < 16 {
			t.Errorf("generated %q: %v", p, err)
		}
	}
	pw = b.eval(`document.getElementById('add-password').value`)
	b.do(chromedp.SetValue(chromedp.ID("add-path"), "/example.com"),
		chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	b.flash("FTP account dev.bob created")
	b.waitFor("dev.bob in the table", `!!document.querySelector('tr[data-search^="dev.bob"]')`, 5*time.Second)
	if got := b.text("#ftp-count"); got != "2 of 5 FTP accounts" {
		t.Errorf("count after add %q", got)
	}
	return pw
}

func changePasswordInBrowser(t *testing.T, e *env, b *tab) {
	t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`a[href="/files/ftp/users/dev.bob/password"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.CSS(`[data-generate]`)))
	pw := b.eval(`document.getElementById('password').value`)
	if c := b.eval(`document.getElementById('confirm').value`); c != pw || pw == "" {
		t.Fatalf("generate did not fill both fields: %q / %q", pw, c)
	}
	if got := b.text(`main button[type="submit"]`); got != "Change Password" {
		t.Errorf("button %q", got)
	}
	b.do(chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	b.flash("Password of dev.bob changed")
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", pw, "192.0.2.1"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
}

func changePathInBrowser(t *testing.T, e *env, b *tab) {
	t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`a[href="/files/ftp/users/dev.bob/path"]`)),
		chromedp.WaitVisible(chromedp.ID("path")))
	if got := b.text("#current-path"); got != "/example.com" {
		t.Errorf("current path %q", got)
	}
	if n := b.eval(`String(document.querySelectorAll('#path-dirs option[value="/example.com/dev"]').length)`); n != "1" {
		t.Error("the datalist does not suggest /example.com/dev")
	}
	b.do(chromedp.SetValue(chromedp.ID("path"), "/example.com/dev"),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	b.flash("Path of dev.bob changed to /example.com/dev")
	if u, _ := e.user("bob", "dev.bob"); u.Path != "/example.com/dev" {
		t.Errorf("path %q", u.Path)
	}
}

// phoneLayout checks Files › FTP fits a phone's width: no sideways
// scrolling of the page.
func phoneLayout(t *testing.T, b *tab) {
	t.Helper()
	b.do(chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("ftp-count")))
	if w := b.eval(`String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("on a 390 px wide phone the page is %s px wide", w)
	}
	b.do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(b.url+"/files/ftp"), chromedp.WaitVisible(chromedp.ID("ftp-count")))
}

func deleteInBrowser(t *testing.T, e *env, b *tab) {
	t.Helper()
	btn := `form[action="/files/ftp/users/dev.bob/delete"] button`
	// First click arms it; without a second click it turns back after 5 s.
	b.do(chromedp.Click(chromedp.CSS(btn)))
	if got := b.text(btn); got != "Confirm" {
		t.Fatalf("after one click the button says %q, want Confirm", got)
	}
	start := time.Now()
	b.waitFor("Confirm to turn back into Delete", `document.querySelector('`+btn+`').textContent === 'Delete'`, 8*time.Second)
	if d := time.Since(start); d < 4*time.Second {
		t.Errorf("Confirm turned back after %v, want about 5 s", d)
	}
	if _, err := e.user("bob", "dev.bob"); err != nil {
		t.Fatal("one click deleted the user")
	}
	// Two clicks delete.
	b.do(chromedp.Click(chromedp.CSS(btn)))
	if got := b.text(btn); got != "Confirm" {
		t.Fatalf("button says %q, want Confirm", got)
	}
	b.do(chromedp.Click(chromedp.CSS(btn)))
	b.flash("FTP account dev.bob deleted")
	if _, err := e.user("bob", "dev.bob"); err == nil {
		t.Error("dev.bob still exists after Confirm")
	}
	if !exists(filepath.Join(e.home("bob"), "example.com", "dev")) {
		t.Error("Delete removed the user's folder")
	}
}

func connectionsInBrowser(t *testing.T, e *env, b *tab) {
	t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`a.toplink`)), chromedp.WaitVisible(chromedp.ID("conn-table")))
	b.waitFor("an empty table", `document.querySelector('#conn-table tbody').textContent.includes('No one is connected')`, 3*time.Second)
	b.eval(`window.__sameDocument = 'yes'`)

	// A node publishes a session (and keeps its heartbeat going).
	s := domain.Session{
		ID: "sess-browser-1", Username: "shop.bob", Account: "bob", RemoteAddr: "203.0.113.20:53211",
		Client: "FileZilla 3.67.0", TLSControl: true, TLSData: true,
		ConnectedAt: time.Now().Add(-3 * time.Minute), LastActivity: time.Now(),
		Activity: domain.ActivityUpload, File: "/images/banner.png", BytesDone: 6 << 20, BytesTotal: 8 << 20,
		Speed: 2 << 20, BytesUp: 6 << 20, BytesDown: 12 << 10,
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	e.publish(s)
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = e.st.PublishSessions(context.Background(), "node-1", time.Now(), nil, nil)
			}
		}
	}()

	b.waitFor("the session row", `!!document.querySelector('#conn-table tr[data-id="sess-browser-1"]')`, 5*time.Second)
	if b.eval(`window.__sameDocument || ''`) != "yes" {
		t.Error("the page reloaded instead of updating itself")
	}
	row := b.text(`#conn-table tr[data-id="sess-browser-1"]`)
	for _, want := range []string{"shop.bob", "203.0.113.20", "FileZilla 3.67.0", "Uploading", "/images/banner.png", "6.0 MiB of 8.0 MiB at 2.0 MiB/s"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if v := b.eval(`String(document.querySelector('#conn-table tr[data-id="sess-browser-1"] progress').value)`); v != "75" {
		t.Errorf("progress %s, want 75", v)
	}
	b.noErrors()
	b.screenshot("connections.png")

	b.do(chromedp.Click(chromedp.CSS(`#conn-table tr[data-id="sess-browser-1"] button`)))
	b.flash("Disconnect requested")
	if !e.kicked("sess-browser-1") {
		t.Error("Disconnect did not request a kick")
	}
}

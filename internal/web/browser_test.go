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

// webShot prefixes this test's screenshots: its pages show a fake session,
// and the README's screenshots come from the end-to-end test of
// cmd/panelftp, against the real FTP service.
const webShot = "web-"

func TestBrowserFilesFTP(t *testing.T) {
	t.Parallel()
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
	b := browsertest.NewTab(t, e.srv.URL, 90*time.Second)

	// Log in.
	b.Do(chromedp.Navigate(e.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("login-name"), "bob"),
		chromedp.SendKeys(chromedp.ID("login-password"), bobPanelPW),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("ftp-count")))
	b.NoErrors()
	if got := b.Text("#ftp-count"); got != "1 of 5 FTP accounts" {
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
	b.Do(chromedp.SendKeys(chromedp.ID("search"), "shop"))
	b.WaitFor("search filter", `document.querySelector('tr[data-search^="dev.bob"]').hidden === true`, 3*time.Second)
	b.Eval(`(function(){var s=document.getElementById('search');s.value='';s.dispatchEvent(new Event('input'));return '';})()`)
	b.WaitFor("search cleared", `document.querySelector('tr[data-search^="dev.bob"]').hidden === false`, 3*time.Second)

	changePasswordInBrowser(t, e, b)
	changePathInBrowser(t, e, b)
	b.Do(chromedp.Navigate(e.srv.URL+"/files/ftp?add=1"), chromedp.WaitVisible(chromedp.ID("add-username")))
	b.NoErrors()
	b.Screenshot(webShot + "files-ftp.png")
	phoneLayout(t, b)
	deleteInBrowser(t, e, b)
	connectionsInBrowser(t, e, b)
}

// addUserInBrowser opens Add Account, generates a password and saves
// dev.bob; it returns the generated password.
func addUserInBrowser(t *testing.T, b *browsertest.Tab) string {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`#add > summary`)), chromedp.WaitVisible(chromedp.ID("add-username")))
	if got := b.Text(`#add > summary`); got != "Add Account" {
		t.Errorf("summary text %q", got)
	}
	if got := b.Text(`.suffix`); got != ".bob" {
		t.Errorf("suffix %q", got)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("add-username"), "dev"),
		chromedp.Click(chromedp.CSS(`#add [data-generate]`)))
	pw := b.Eval(`document.getElementById('add-password').value`)
	if err := domain.ValidatePassword(pw, "dev.bob"); err != nil || len(pw) < 16 {
		t.Fatalf("generated password %q breaks the rules: %v", pw, err)
	}
	if typ := b.Eval(`document.getElementById('add-password').type`); typ != "text" {
		t.Errorf("a generated password should be shown, input type %q", typ)
	}
	if s := b.Text(`#add [data-strength-text]`); s != "Strong" {
		t.Errorf("strength of a generated password: %q", s)
	}
	b.Do(chromedp.Click(chromedp.CSS(`#add [data-show]`)))
	if typ := b.Eval(`document.getElementById('add-password').type`); typ != "password" {
		t.Errorf("Show did not toggle back: type %q", typ)
	}
	// Twenty generated passwords all follow the rules too.
	many := b.Eval(`(function(){var o=[];for(var i=0;i<20;i++){document.querySelector('#add [data-generate]').click();o.push(document.getElementById('add-password').value);}return o.join('\n');})()`)
	for _, p := range strings.Split(many, "\n") {
		if err := domain.ValidatePassword(p, "dev.bob"); err != nil || len(p) < 16 {
			t.Errorf("generated %q: %v", p, err)
		}
	}
	pw = b.Eval(`document.getElementById('add-password').value`)
	b.Do(chromedp.SetValue(chromedp.ID("add-path"), "/example.com"),
		chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	b.Flash("FTP account dev.bob created")
	b.WaitFor("dev.bob in the table", `!!document.querySelector('tr[data-search^="dev.bob"]')`, 5*time.Second)
	if got := b.Text("#ftp-count"); got != "2 of 5 FTP accounts" {
		t.Errorf("count after add %q", got)
	}
	return pw
}

func changePasswordInBrowser(t *testing.T, e *env, b *browsertest.Tab) {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`a[href="/files/ftp/users/dev.bob/password"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.CSS(`[data-generate]`)))
	pw := b.Eval(`document.getElementById('password').value`)
	if c := b.Eval(`document.getElementById('confirm').value`); c != pw || pw == "" {
		t.Fatalf("generate did not fill both fields: %q / %q", pw, c)
	}
	if got := b.Text(`main button[type="submit"]`); got != "Change Password" {
		t.Errorf("button %q", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	b.Flash("Password of dev.bob changed")
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", pw, "192.0.2.1"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
}

func changePathInBrowser(t *testing.T, e *env, b *browsertest.Tab) {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`a[href="/files/ftp/users/dev.bob/path"]`)),
		chromedp.WaitVisible(chromedp.ID("path")))
	if got := b.Text("#current-path"); got != "/example.com" {
		t.Errorf("current path %q", got)
	}
	if n := b.Eval(`String(document.querySelectorAll('#path-dirs option[value="/example.com/dev"]').length)`); n != "1" {
		t.Error("the datalist does not suggest /example.com/dev")
	}
	b.Do(chromedp.SetValue(chromedp.ID("path"), "/example.com/dev"),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	b.Flash("Path of dev.bob changed to /example.com/dev")
	if u, _ := e.user("bob", "dev.bob"); u.Path != "/example.com/dev" {
		t.Errorf("path %q", u.Path)
	}
}

// phoneLayout checks Files › FTP fits a phone's width: no sideways
// scrolling of the page.
func phoneLayout(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	b.Do(chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("ftp-count")))
	if w := b.Eval(`String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("on a 390 px wide phone the page is %s px wide", w)
	}
	b.Do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(b.URL+"/files/ftp"), chromedp.WaitVisible(chromedp.ID("ftp-count")))
}

func deleteInBrowser(t *testing.T, e *env, b *browsertest.Tab) {
	t.Helper()
	btn := `form[action="/files/ftp/users/dev.bob/delete"] button`
	// First click arms it; without a second click it turns back after 5 s.
	b.Do(chromedp.Click(chromedp.CSS(btn)))
	if got := b.Text(btn); !strings.HasPrefix(got, "Confirm delete of dev.bob (5)") {
		t.Fatalf("after one click the button says %q, want Confirm delete of dev.bob (5)", got)
	}
	start := time.Now()
	b.WaitFor("Confirm to turn back into Delete", `document.querySelector('`+btn+`').textContent.startsWith('Delete')`, 8*time.Second)
	if d := time.Since(start); d < 4*time.Second {
		t.Errorf("Confirm turned back after %v, want about 5 s", d)
	}
	if _, err := e.user("bob", "dev.bob"); err != nil {
		t.Fatal("one click deleted the user")
	}
	// Two clicks delete.
	b.Do(chromedp.Click(chromedp.CSS(btn)))
	if got := b.Text(btn); !strings.HasPrefix(got, "Confirm") {
		t.Fatalf("button says %q, want Confirm", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(btn)))
	b.Flash("FTP account dev.bob deleted")
	if _, err := e.user("bob", "dev.bob"); err == nil {
		t.Error("dev.bob still exists after Confirm")
	}
	if !exists(filepath.Join(e.home("bob"), "example.com", "dev")) {
		t.Error("Delete removed the user's folder")
	}
}

func connectionsInBrowser(t *testing.T, e *env, b *browsertest.Tab) {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`a.toplink`)), chromedp.WaitVisible(chromedp.ID("conn-table")))
	b.WaitFor("an empty table", `document.querySelector('#conn-table tbody').textContent.includes('No one is connected')`, 3*time.Second)
	b.Eval(`window.__sameDocument = 'yes'`)

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
				_, _ = e.st.PublishSessions(context.Background(), "node-1", time.Hour, nil, nil)
			}
		}
	}()

	b.WaitFor("the session row", `!!document.querySelector('#conn-table tr[data-id="sess-browser-1"]')`, 5*time.Second)
	if b.Eval(`window.__sameDocument || ''`) != "yes" {
		t.Error("the page reloaded instead of updating itself")
	}
	row := b.Text(`#conn-table tr[data-id="sess-browser-1"]`)
	for _, want := range []string{"shop.bob", "203.0.113.20", "FileZilla 3.67.0", "Commands and data", "Uploading", "/images/banner.png", "6.0 MiB of 8.0 MiB at 2.0 MiB/s"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if v := b.Eval(`String(document.querySelector('#conn-table tr[data-id="sess-browser-1"] progress').value)`); v != "75" {
		t.Errorf("progress %s, want 75", v)
	}
	b.NoErrors()
	b.Screenshot(webShot + "connections.png")

	// A running upload: the first press asks to confirm.
	b.Do(chromedp.Click(chromedp.CSS(`#conn-table tr[data-id="sess-browser-1"] button`)))
	if got := b.Text(`#conn-table tr[data-id="sess-browser-1"] button`); !strings.HasPrefix(got, "Confirm disconnect of shop.bob") {
		t.Errorf("Disconnect of an upload says %q after one press, want Confirm disconnect of shop.bob", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(`#conn-table tr[data-id="sess-browser-1"] button`)))
	b.Flash("Disconnect of shop.bob requested")
	if !e.kicked("sess-browser-1") {
		t.Error("Disconnect did not request a kick")
	}
}

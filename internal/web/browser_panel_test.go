package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/panelftp/panelftp/internal/browsertest"
	"github.com/panelftp/panelftp/internal/domain"
)

// TestBrowserOwnerPanel walks the owner's first hour at a laptop's and a
// phone's size: a refused Add Account shows every error at once with a
// summary that takes the focus; a generated password survives a refusal
// and is shown once more after creation; Copy buttons copy; Add Account is
// disabled at the limit; Delete asks to confirm, naming the user and
// counting down; and View Connections keeps the focus on Disconnect across
// refreshes and asks before cutting a running transfer.
func TestBrowserOwnerPanel(t *testing.T) {
	t.Parallel()
	browsertest.Need(t)
	for _, vp := range browsertest.Viewports {
		t.Run(vp.Name, func(t *testing.T) {
			e := newEnv(t)
			for _, d := range []string{"example.com", "shop.example.com"} {
				if err := os.MkdirAll(filepath.Join(e.home("bob"), d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			e.addUser("bob", "shop.bob", "/shop.example.com", 20000)
			b := browsertest.NewTab(t, e.srv.URL, 150*time.Second)
			b.Resize(vp)
			b.AllowClipboard()
			b.TimeZone("America/New_York")
			b.Do(chromedp.Navigate(e.srv.URL+"/login"),
				chromedp.SendKeys(chromedp.ID("login-name"), "bob"),
				chromedp.SendKeys(chromedp.ID("login-password"), bobPanelPW),
				chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.ID("ftp-count")))

			everyErrorAtOnce(t, b)
			b.Screenshot(fmt.Sprintf("%sadd-errors-%s.png", webShot, vp.Name))
			password := generatedPasswordKept(t, e, b, vp)
			copyConnectionDetails(t, b)
			if got := b.Text(`tr[data-search^="shop.bob"] td[data-label="Space used"]`); !strings.Contains(got, "0 MB of 20000 MB (0 %)") {
				t.Errorf("shop.bob's space used reads %q, want the quota in MB as typed: 0 MB of 20000 MB (0 %%)", got)
			}
			if vp.Name == "phone" {
				phoneFits(t, b)
			}
			b.NoErrors()
			b.Screenshot(fmt.Sprintf("%sowner-%s.png", webShot, vp.Name))
			limitDisablesAdd(t, e, b)
			confirmDeleteNamesTheUser(t, e, b, password)
			liveConnections(t, e, b, "/files/ftp/connections")
		})
	}
}

// TestBrowserAdminConnections checks the administrator's View Connections
// at both sizes: focus kept on Disconnect, confirmation for a running
// transfer, the version at the foot; and the Bans table on a phone.
func TestBrowserAdminConnections(t *testing.T) {
	t.Parallel()
	browsertest.Need(t)
	for _, vp := range browsertest.Viewports {
		t.Run(vp.Name, func(t *testing.T) {
			e := newEnv(t, func(c *cfgT) { c.Version = "panelftp v9.8.7 (commit abc1234, go1.26.8)" })
			e.addUser("bob", "shop.bob", "/", 0)
			if _, err := e.svc.AddBan(context.Background(), "2001:db8:85a3::8a2e:370:7334", time.Hour, "test ban"); err != nil {
				t.Fatal(err)
			}
			b := browsertest.NewTab(t, e.srv.URL, 120*time.Second)
			b.Resize(vp)
			b.TimeZone("America/New_York")
			b.Do(chromedp.Navigate(e.srv.URL+"/admin/login"),
				chromedp.SendKeys(chromedp.ID("login-name"), "root"),
				chromedp.SendKeys(chromedp.ID("login-password"), adminPW),
				chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.ID("accounts-table")))
			if got := b.Text("footer.foot"); got != "panelftp v9.8.7 (commit abc1234, go1.26.8)" {
				t.Errorf("admin footer %q", got)
			}
			createAccountErrors(t, b)
			if vp.Name == "phone" {
				phoneFits(t, b)
				b.Do(chromedp.Navigate(e.srv.URL+"/admin/users"), chromedp.WaitVisible(chromedp.ID("users-table")))
				phoneFits(t, b)
			}
			b.Do(chromedp.Navigate(e.srv.URL+"/admin/bans"), chromedp.WaitVisible(chromedp.ID("bans-table")))
			if n := b.Eval(`String(document.querySelector('#bans-table .ip').getClientRects().length)`); n != "1" {
				t.Errorf("the banned IPv6 address is broken over %s lines", n)
			}
			if got := b.Text(`#bans-table td[data-label="Until"]`); !strings.HasSuffix(got, "EST") && !strings.HasSuffix(got, "EDT") {
				t.Errorf("ban end %q is not in the browser's time zone (New York) with the zone shown", got)
			}
			if vp.Name == "phone" {
				phoneFits(t, b)
			}
			liveConnections(t, e, b, "/admin/connections")
		})
	}
}

// createAccountErrors submits the admin's Create account wrong in every
// field: all six errors at once, the summary focused, the password kept.
func createAccountErrors(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`#add > summary`)), chromedp.WaitVisible(chromedp.ID("acc-name")),
		chromedp.SendKeys(chromedp.ID("acc-name"), "Carol!"),
		chromedp.SendKeys(chromedp.ID("acc-home"), "relative"),
		chromedp.SendKeys(chromedp.ID("acc-uid"), "x"),
		chromedp.SendKeys(chromedp.ID("acc-gid"), "-4"),
		chromedp.SendKeys(chromedp.ID("acc-limit"), "many"),
		chromedp.SendKeys(chromedp.ID("acc-password"), "weak"),
		chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	b.WaitFor("the focus on the error summary", `document.activeElement && document.activeElement.id === 'error-summary'`, 10*time.Second)
	links := b.Eval(`Array.from(document.querySelectorAll('#error-summary a')).map(function (a) { return a.getAttribute('data-for'); }).join(' ')`)
	if want := "acc-name acc-home acc-uid acc-gid acc-limit acc-password"; links != want {
		t.Errorf("Create account's summary links to %q, want %q", links, want)
	}
	if got := b.Eval(`document.getElementById('acc-password').value`); got != "weak" {
		t.Errorf("the panel password was not kept: %q", got)
	}
	b.NoErrors()
}

// everyErrorAtOnce submits Add Account wrong in all four fields.
func everyErrorAtOnce(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`#add > summary`)), chromedp.WaitVisible(chromedp.ID("add-username")),
		chromedp.SendKeys(chromedp.ID("add-username"), "my site!"),
		chromedp.SendKeys(chromedp.ID("add-password"), "password"),
		chromedp.SendKeys(chromedp.ID("add-quota"), "-5"))
	b.Fill("add-path", "../other")
	b.Do(chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	b.WaitFor("the focus on the error summary", `document.activeElement && document.activeElement.id === 'error-summary'`, 10*time.Second)
	b.NoErrors()
	fields := []string{"add-username", "add-password", "add-path", "add-quota"}
	var links []string
	if err := json.Unmarshal([]byte(b.Eval(`JSON.stringify(Array.from(document.querySelectorAll('#error-summary a')).map(function (a) { return a.getAttribute('data-for'); }))`)), &links); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(links, fields) {
		t.Errorf("the summary links to %q, want every field at fault in order: %q", links, fields)
	}
	for _, id := range fields {
		msg := b.Text("#" + id + "-err")
		if msg == "" || strings.ToUpper(msg[:1]) != msg[:1] {
			t.Errorf("error next to %s: %q, want a sentence", id, msg)
		}
	}
	if b.Eval(`String((function(){var r=document.getElementById('error-summary').getBoundingClientRect();return r.top>=0&&r.top<innerHeight;})())`) != "true" {
		t.Error("the error summary is not on screen after the refused submit")
	}

	// Its links lead to the fields.
	b.Do(chromedp.Click(chromedp.CSS(`#error-summary a[data-for="add-path"]`)))
	if got := b.Focused(); got != "#add-path" {
		t.Errorf("after the summary's path link the focus is on %q, want #add-path", got)
	}
	if b.Eval(`String((function(){var r=document.getElementById('add-path').getBoundingClientRect();return r.top>=0&&r.bottom<=innerHeight;})())`) != "true" {
		t.Error("the path field is off screen after following its link")
	}

	// Changing a field clears the server's error about its old value.
	b.Do(chromedp.SendKeys(chromedp.ID("add-quota"), "0"))
	if b.Eval(`String(document.getElementById('add-quota-err').hidden && !document.querySelector('#error-summary a[data-for="add-quota"]'))`) != "true" {
		t.Error("the quota error stayed after the quota was changed")
	}
	if got := b.Eval(`document.getElementById('add-username-err').hidden ? 'hidden' : 'shown'`); got != "shown" {
		t.Error("changing the quota hid the username's error too")
	}
}

// generatedPasswordKept generates a password, has the submit refused for
// the path, checks the password is still there (monospace, shown, with a
// working Copy), then saves dev.bob and checks its credentials are shown
// once. It returns the password.
func generatedPasswordKept(t *testing.T, e *env, b *browsertest.Tab, vp browsertest.Viewport) string {
	t.Helper()
	b.Fill("add-username", "dev")
	b.Fill("add-quota", "")
	b.Do(chromedp.Click(chromedp.CSS(`#add [data-generate]`)))
	pw := b.Eval(`document.getElementById('add-password').value`)
	if err := domain.ValidatePassword(pw, "dev.bob"); err != nil {
		t.Fatalf("generated %q: %v", pw, err)
	}
	b.Do(chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	b.WaitFor("the refusal of ../other", `document.activeElement && document.activeElement.id === 'error-summary' && document.querySelectorAll('#error-summary a').length === 1`, 10*time.Second)
	if got := b.Eval(`document.getElementById('add-password').value`); got != pw {
		t.Fatalf("after a refusal for the path the password field holds %q, want the generated %q", got, pw)
	}
	if got := b.Eval(`document.getElementById('add-password').type`); got != "text" {
		t.Errorf("the kept password is hidden (type %q)", got)
	}
	if font := b.Eval(`getComputedStyle(document.getElementById('add-password')).fontFamily`); !strings.Contains(font, "monospace") {
		t.Errorf("the password field's font is %q, want a monospace one", font)
	}
	if b.Eval(`String((function(){var r=document.getElementById('add-password').getBoundingClientRect();return r.left>=0&&r.right<=document.documentElement.clientWidth&&r.width>=200;})())`) != "true" {
		t.Errorf("at %d px the password field is cut off or too narrow to read", vp.Width)
	}
	b.Do(chromedp.Click(chromedp.CSS(`#add [data-copy="add-password"]`)))
	b.WaitFor("Copy to say Copied", `document.querySelector('#add [data-copy="add-password"]').textContent.startsWith('Copied')`, 5*time.Second)
	if got := b.Clipboard(); got != pw {
		t.Errorf("Copy put %q on the clipboard, want the password", got)
	}

	b.Fill("add-path", "/example.com")
	b.Do(chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	b.Flash("FTP account dev.bob created")
	b.WaitFor("the new user's credentials", `!!document.getElementById('created')`, 5*time.Second)
	for id, want := range map[string]string{"created-host": "ftp.example.test", "created-port": "2121", "created-user": "dev.bob"} {
		if got := b.Text("#" + id); got != want {
			t.Errorf("credentials: %s says %q, want %q", id, got, want)
		}
	}
	if got := b.Eval(`document.getElementById('created-password').value`); got != pw {
		t.Errorf("credentials: password %q, want %q", got, pw)
	}
	b.Do(chromedp.Click(chromedp.CSS(`[data-copy="created-user"]`)))
	b.WaitFor("Copy of the username", `document.querySelector('[data-copy="created-user"]').textContent.startsWith('Copied')`, 5*time.Second)
	if got := b.Clipboard(); got != "dev.bob" {
		t.Errorf("Copy of the username put %q on the clipboard", got)
	}
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", pw, "192.0.2.1"); err != nil {
		t.Errorf("the generated password does not log in: %v", err)
	}
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("ftp-count")))
	if b.Eval(`String(!!document.getElementById('created'))`) != "false" {
		t.Error("the password is shown again after a reload")
	}
	return pw
}

// copyConnectionDetails presses the Copy buttons of the connection
// details and of a row, and reads the set-up files' instructions.
func copyConnectionDetails(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	for _, c := range [][2]string{{"ftp-host", "ftp.example.test"}, {"ftp-port", "2121"}, {"user-shop.bob", "shop.bob"}} {
		target, want := c[0], c[1]
		btn := `[data-copy="` + target + `"]`
		b.Do(chromedp.Click(chromedp.CSS(btn)))
		b.WaitFor("Copy of "+target, `document.querySelector('`+btn+`').textContent.startsWith('Copied')`, 5*time.Second)
		if got := b.Clipboard(); got != want {
			t.Errorf("Copy of %s put %q on the clipboard, want %q", target, got, want)
		}
	}
	b.WaitFor("Copy to be announced", `document.getElementById('announce').textContent === 'Copied the username shop.bob.'`, 3*time.Second)
	b.Do(chromedp.Click(chromedp.CSS(`#setup-help > summary`)))
	help := b.Text("#setup-help")
	for _, want := range []string{"File › Import", "Site Manager", ".duck", "Neither file holds a password"} {
		if !strings.Contains(help, want) {
			t.Errorf("the set-up help lacks %q: %q", want, help)
		}
	}
}

// limitDisablesAdd fills the account's limit: Add Account is then a
// disabled button with one sentence, and no form.
func limitDisablesAdd(t *testing.T, e *env, b *browsertest.Tab) {
	t.Helper()
	if err := e.svc.SetFTPLimit(context.Background(), "bob", 2); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Navigate(b.URL+"/files/ftp?add=1"), chromedp.WaitVisible(chromedp.ID("ftp-count")))
	if b.Eval(`String(document.getElementById('add-disabled').disabled && !document.getElementById('add') && !document.getElementById('add-username'))`) != "true" {
		t.Error("at the limit Add Account is not a disabled button without its form")
	}
	if got := b.Text("#limit-note"); !strings.HasPrefix(got, "You have all 2 FTP accounts your plan allows") {
		t.Errorf("limit sentence %q", got)
	}
	if err := e.svc.SetFTPLimit(context.Background(), "bob", 5); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("ftp-count")))
}

// confirmDeleteNamesTheUser: Delete turns into a Confirm naming dev.bob
// with a countdown, announced to screen readers; the second press deletes.
func confirmDeleteNamesTheUser(t *testing.T, e *env, b *browsertest.Tab, password string) {
	t.Helper()
	btn := `form[action="/files/ftp/users/dev.bob/delete"] button`
	b.Do(chromedp.Click(chromedp.CSS(btn)))
	if got := b.Text(btn); !strings.HasPrefix(got, "Confirm delete of dev.bob (5)") {
		t.Errorf("after one press Delete says %q", got)
	}
	b.WaitFor("the announcement", `document.getElementById('announce').textContent.includes('to delete dev.bob')`, 3*time.Second)
	if live := b.Eval(`document.getElementById('announce').getAttribute('aria-live')`); live != "polite" {
		t.Errorf("the announcer is aria-live=%q", live)
	}
	b.WaitFor("the countdown", `/Confirm delete of dev\.bob \([1-4]\)/.test(document.querySelector('`+btn+`').textContent)`, 4*time.Second)
	b.WaitFor("Delete to come back", `document.querySelector('`+btn+`').textContent.startsWith('Delete')`, 8*time.Second)
	if _, err := e.user("bob", "dev.bob"); err != nil {
		t.Fatal("one press deleted dev.bob")
	}
	b.Do(chromedp.Click(chromedp.CSS(btn)), chromedp.Click(chromedp.CSS(btn)))
	b.Flash("FTP account dev.bob deleted")
	if _, err := e.svc.Authenticate(context.Background(), "dev.bob", password, "192.0.2.1"); err == nil {
		t.Error("dev.bob still logs in after Confirm")
	}
}

// liveConnections opens the connections page at path with an idle and an
// uploading session of shop.bob published by a fake node.
func liveConnections(t *testing.T, e *env, b *browsertest.Tab, path string) {
	t.Helper()
	now := time.Now()
	upload := domain.Session{
		ID: "sess-up", Username: "shop.bob", Account: "bob", RemoteAddr: "203.0.113.20:53211",
		TLSControl: true, TLSData: true, ConnectedAt: now.Add(-3 * time.Minute), LastActivity: now,
		Activity: domain.ActivityUpload, File: "/big.zip", BytesDone: 6 << 20, BytesTotal: 8 << 20, Speed: 1 << 20, BytesUp: 6 << 20,
	}
	idle := domain.Session{
		ID: "sess-idle", Username: "shop.bob", Account: "bob", RemoteAddr: "203.0.113.21:40000",
		Client: "FileZilla 3.67.0", TLSControl: true, ConnectedAt: now.Add(-time.Minute), LastActivity: now,
	}
	node := startFakeNode(t, e, upload, idle)
	b.Do(chromedp.Navigate(b.URL+path), chromedp.WaitVisible(chromedp.ID("conn-table")))
	b.WaitFor("both sessions", `document.querySelectorAll('#conn-table tr[data-id]').length === 2`, 5*time.Second)
	if got := b.Text(`[data-live-status]`); strings.Contains(got, "ms") {
		t.Errorf("the live status reads %q", got)
	}
	since := b.Text(`tr[data-id="sess-idle"] td[data-label="Connected since"] time`)
	if !strings.HasSuffix(since, "EST") && !strings.HasSuffix(since, "EDT") {
		t.Errorf("connected since %q: want the browser's time zone (New York), named", since)
	}

	// Keyboard focus on Disconnect survives the refreshes.
	idleBtn := `#conn-table tr[data-id="sess-idle"] form[data-disconnect] button`
	b.Eval(`(document.querySelector('` + idleBtn + `').focus(), '')`)
	for i := range 2 {
		before := b.Text(`[data-live-status]`)
		b.WaitFor(fmt.Sprintf("refresh %d", i+1), `document.querySelector('[data-live-status]').textContent !== `+browsertest.JSString(before)+
			` && document.querySelector('[data-live-status]').textContent.startsWith('Updated')`, 10*time.Second)
		if got := b.Eval(`String(document.activeElement === document.querySelector('` + idleBtn + `'))`); got != "true" {
			t.Fatalf("after refresh %d the focus is on %q, not on Disconnect", i+1, b.Focused())
		}
	}

	// The client named with CLNT after log-in shows on the next refresh.
	upload.Client = "NcFTP 3.2.6"
	node.publish(upload)
	b.WaitFor("the client name", `document.querySelector('#conn-table tr[data-id="sess-up"] td[data-label="Client"]').textContent === 'NcFTP 3.2.6'`, 10*time.Second)

	b.Screenshot(fmt.Sprintf("%sconnections%s-%d.png", webShot, strings.ReplaceAll(path, "/", "-"), b.Width()))
	if b.Width() < 500 {
		phoneFits(t, b)
	}

	// Disconnect of the running upload asks first; the row says so at once.
	upBtn := `#conn-table tr[data-id="sess-up"] form[data-disconnect] button`
	b.Do(chromedp.Click(chromedp.CSS(upBtn)))
	if got := b.Text(upBtn); !strings.HasPrefix(got, "Confirm disconnect of shop.bob (5)") {
		t.Errorf("Disconnect of an upload says %q after one press", got)
	}
	b.WaitFor("the announcement", `document.getElementById('announce').textContent.includes('is transferring a file')`, 3*time.Second)
	if e.kicked("sess-up") {
		t.Fatal("one press disconnected a running upload")
	}
	b.Do(chromedp.Click(chromedp.CSS(upBtn)))
	b.Flash("Disconnect of shop.bob requested")
	if got := b.Text(`#conn-table tr[data-id="sess-up"] td.activity`); got != "Disconnecting…" {
		t.Errorf("right after Disconnect the row says %q, want Disconnecting…", got)
	}
	if !e.kicked("sess-up") {
		t.Error("no kick was requested")
	}
	// The node has not ended it yet: the next refresh keeps the mark.
	before := b.Text(`[data-live-status]`)
	b.WaitFor("a refresh", `document.querySelector('[data-live-status]').textContent !== `+browsertest.JSString(before), 10*time.Second)
	if got := b.Text(`#conn-table tr[data-id="sess-up"] td.activity`); got != "Disconnecting…" {
		t.Errorf("after a refresh the disconnected row says %q", got)
	}
	// An idle session goes at one press.
	b.Do(chromedp.Click(chromedp.CSS(idleBtn)))
	b.WaitFor("the idle session marked", `document.querySelector('#conn-table tr[data-id="sess-idle"] td.activity').textContent === 'Disconnecting…'`, 5*time.Second)
	if !e.kicked("sess-idle") {
		t.Error("one press on an idle session did not disconnect it")
	}
	node.end("sess-up", "sess-idle")
	b.WaitFor("the rows to go", `document.querySelectorAll('#conn-table tr[data-id]').length === 0`, 10*time.Second)
	b.NoErrors()
}

// fakeNode publishes sessions as an FTP node would, with its heartbeat.
type fakeNode struct {
	e *env
}

func startFakeNode(t *testing.T, e *env, sessions ...domain.Session) *fakeNode {
	e.publish(sessions...)
	stop, done := make(chan struct{}), make(chan struct{})
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
	t.Cleanup(func() { close(stop); <-done })
	return &fakeNode{e: e}
}

func (n *fakeNode) publish(s ...domain.Session) { n.e.publish(s...) }

func (n *fakeNode) end(ids ...string) {
	n.e.t.Helper()
	if _, err := n.e.st.PublishSessions(context.Background(), "node-1", time.Hour, nil, ids); err != nil {
		n.e.t.Fatal(err)
	}
}

// phoneFits checks the page on a phone: no sideways scrolling, every
// button and link of the tables at least 44 px tall, no IP address
// broken over two lines.
func phoneFits(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	if w := b.Eval(`String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("on a 390 px phone %s is %s px wide", b.Where(), w)
	}
	small := b.Eval(`JSON.stringify(Array.from(document.querySelectorAll('main .btn, main table a, main .toplink')).filter(function (e) {
		var r = e.getBoundingClientRect(); return r.width > 0 && r.height < 43.5;
	}).map(function (e) { return e.textContent.trim() + ' ' + Math.round(e.getBoundingClientRect().height) + 'px'; }))`)
	if small != "[]" {
		t.Errorf("touch targets under 44 px on %s: %s", b.Where(), small)
	}
	t.Logf("card heights on %s: %s px", b.Where(), b.Eval(`Array.from(document.querySelectorAll('table.rows tbody tr:not(.empty):not([hidden])')).map(function (tr) { return Math.round(tr.getBoundingClientRect().height); }).join(', ')`))
	broken := b.Eval(`JSON.stringify(Array.from(document.querySelectorAll('.ip')).filter(function (e) { return e.getClientRects().length > 1; }).map(function (e) { return e.textContent; }))`)
	if broken != "[]" {
		t.Errorf("IP addresses broken over lines on %s: %s", b.Where(), broken)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"github.com/panelftp/panelftp/internal/browsertest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jlaffaye/ftp"

	"github.com/panelftp/panelftp/internal/domain"
)

// TestBrowserEndToEnd is the account owner's whole story on Files › FTP,
// in headless chromium against the real binary, with a real FTP client on
// the other side: add a sub-user with a generated password, watch its
// upload live on View Connections, disconnect it, change its password and
// path, delete it, and check each step over FTP and on disk.
//
// With PANELFTP_SCREENSHOTS=docs/screenshots it refreshes the README's
// screenshots of Files › FTP and View Connections.
func TestBrowserEndToEnd(t *testing.T) {
	t.Parallel()
	browsertest.Need(t)
	began := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }

	s := startServer(t)
	const panelPassword = "Panel!Pass9"
	s.cli.ok("account", "password", "bob", panelPassword)
	b := browsertest.NewTab(t, fmt.Sprintf("http://127.0.0.1:%d", s.panelPort), 90*time.Second)
	desktop, phone := browsertest.Viewports[0], browsertest.Viewports[1]
	b.Resize(desktop)

	step("log in to the panel as bob")
	b.Do(chromedp.Navigate(b.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("login-name"), "bob"),
		chromedp.SendKeys(chromedp.ID("login-password"), panelPassword),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("ftp-count")))
	b.NoErrors()
	if got := b.Text("#ftp-port"); got != fmt.Sprint(s.ftpPort) {
		t.Errorf("Files › FTP tells to connect to port %q, the service listens on %d", got, s.ftpPort)
	}
	b.WaitFor("web.bob in the table", `!!document.querySelector('tr[data-search^="web.bob"]')`, 5*time.Second)

	step("Add Account deploy.bob with a generated password")
	password := addDeployInBrowser(t, b)

	step("View Connections, then start an upload as deploy.bob")
	idle := mustLogin(t, s, "web.bob", goodPassword, "(a second, idle session)")
	b.Do(chromedp.Click(chromedp.CSS(`a.toplink`)), chromedp.WaitVisible(chromedp.ID("conn-table")))
	b.NoErrors()
	b.Eval(`window.__sameDocument = 'yes'`)
	deploy := mustLogin(t, s, "deploy.bob", password, "with the password generated in the panel")
	up := startUpload(t, deploy, "big.bin", 256<<10, 16<<10, 100*time.Millisecond)
	row := waitUploadRow(t, b)
	if b.Eval(`window.__sameDocument || ''`) != "yes" {
		t.Error("View Connections reloaded instead of updating itself")
	}
	b.Screenshot("connections.png")

	step("Disconnect the upload")
	disconnectInBrowser(t, b, s, row, up, deploy)
	if err := idle.NoOp(); err != nil {
		t.Errorf("disconnecting deploy.bob also cut web.bob's session: %v", err)
	}
	// Uploads are atomic: the cut one leaves neither big.bin nor its
	// temporary file.
	site := filepath.Join(s.home, "example.com")
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, err := os.ReadDir(site)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, en := range entries {
			if en.Name() == "big.bin" || strings.HasPrefix(en.Name(), ".panelftp-upload-") {
				left = append(left, en.Name())
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the interrupted upload left %v in bob's /example.com, want nothing", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kept := filepath.Join(site, "index.html")
	writeFile(t, kept, []byte("the site's page\n"))

	// Each change disconnects the sub-user's open sessions. The test waits
	// for that before logging in again: until the change's kick reaches
	// the FTP node (which polls for kicks every 250 ms), the engine may
	// refuse a fresh log-in, or end it just after, even with the new
	// password.
	step("Change Password")
	before := mustLogin(t, s, "deploy.bob", password, "before Change Password")
	newPassword := changePasswordInBrowser(t, b)
	waitCut(t, before, "Change Password")
	mustRefuse(t, s, "deploy.bob", password, "with the old password")
	mustLogin(t, s, "deploy.bob", newPassword, "with the new password").Quit()

	step("Change Path")
	notes := filepath.Join(s.home, "example.com", "dev", "notes.txt")
	writeFile(t, notes, []byte("placed on disk by the test\n"))
	before = mustLogin(t, s, "deploy.bob", newPassword, "before Change Path")
	changePathInBrowser(t, b)
	waitCut(t, before, "Change Path")
	conn := mustLogin(t, s, "deploy.bob", newPassword, "after Change Path")
	if names := listNames(t, conn); !slices.Contains(names, "notes.txt") || slices.Contains(names, "big.bin") {
		t.Errorf("after Change Path to /example.com/dev, deploy.bob lists %q, want notes.txt and no big.bin", names)
	}
	conn.Quit()

	b.Do(chromedp.Navigate(b.URL+"/files/ftp"), chromedp.WaitVisible(chromedp.ID("ftp-count")))
	b.WaitFor("both sub-users in the table",
		`document.querySelectorAll('#users-table tr[data-search^="web.bob"], #users-table tr[data-search^="deploy.bob"]').length === 2`, 5*time.Second)
	if got := b.Text(`tr[data-search^="deploy.bob"] td[data-label="Path"]`); got != "/example.com/dev" {
		t.Errorf("deploy.bob's path in the table: %q", got)
	}
	b.NoErrors()
	b.Screenshot("files-ftp.png")
	b.Resize(phone)
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("ftp-count")))
	if w := b.Eval(`String(document.documentElement.scrollWidth)`); w != fmt.Sprint(phone.Width) {
		t.Errorf("on a %d px phone Files › FTP is %s px wide", phone.Width, w)
	}
	b.Screenshot("files-ftp-phone.png")
	b.Resize(desktop)

	step("Delete, Confirm")
	before = mustLogin(t, s, "deploy.bob", newPassword, "before Delete")
	deleteInBrowser(t, b)
	waitCut(t, before, "Delete")
	for _, f := range []string{kept, notes} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("Delete removed %s: %v", f, err)
		}
	}
	mustRefuse(t, s, "deploy.bob", newPassword, "after Delete")
	step("done")
}

// addDeployInBrowser opens Add Account, generates a password and saves
// deploy.bob locked into /example.com; it returns the generated password.
func addDeployInBrowser(t *testing.T, b *browsertest.Tab) string {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`#add > summary`)), chromedp.WaitVisible(chromedp.ID("add-username")))
	b.Do(chromedp.SendKeys(chromedp.ID("add-username"), "deploy"),
		chromedp.Click(chromedp.CSS(`#add [data-generate]`)))
	pw := b.Eval(`document.getElementById('add-password').value`)
	if err := domain.ValidatePassword(pw, "deploy.bob"); err != nil {
		t.Fatalf("Generate gave %q, which breaks the password rules: %v", pw, err)
	}
	b.Do(chromedp.SetValue(chromedp.ID("add-path"), "/example.com"),
		chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	b.Flash("FTP account deploy.bob created")
	if got := b.Eval(`document.getElementById('created-password').value`); got != pw {
		t.Errorf("after Add Account the page shows the password %q, want the generated one", got)
	}
	b.WaitFor("deploy.bob in the table", `!!document.querySelector('tr[data-search^="deploy.bob"]')`, 5*time.Second)
	if got := b.Text(`tr[data-search^="deploy.bob"] td[data-label="Path"]`); got != "/example.com" {
		t.Errorf("deploy.bob's path in the table: %q", got)
	}
	return pw
}

// connRow is one row of the connections table as the page shows it.
type connRow struct {
	ID          string `json:"id"`
	User        string `json:"user"`
	IP          string `json:"ip"`
	Activity    string `json:"activity"`
	File        string `json:"file"`
	Progress    string `json:"progress"`
	Transferred string `json:"transferred"`
}

const readConnRows = `JSON.stringify(Array.prototype.map.call(
  document.querySelectorAll('#conn-table tbody tr[data-id]'), function (tr) {
    function q(css) { var e = tr.querySelector(css); return e ? e.textContent.trim() : ''; }
    return {id: tr.getAttribute('data-id'), user: q('th'), ip: q('td[data-label="Client IP"]'),
      activity: q('td.activity > span'), file: q('td.activity .file'), progress: q('td.activity .small'),
      transferred: q('td[data-label="Transferred"]')};
  }))`

// connRows reads the rows of the connections table on b's page.
func connRows(b *browsertest.Tab) []connRow {
	b.T.Helper()
	var rows []connRow
	if err := json.Unmarshal([]byte(b.Eval(readConnRows)), &rows); err != nil {
		b.T.Fatalf("reading the connections table: %v", err)
	}
	return rows
}

// nonZero matches a byte count other than "0 B".
var nonZero = regexp.MustCompile(`^(?:[1-9][0-9]* B|[0-9.]+ [KMGT]iB)\b`)

// waitUploadRow waits, without reloading, until the connections table
// shows deploy.bob uploading big.bin with bytes done, and then that count
// growing on a later refresh. It returns the row.
func waitUploadRow(t *testing.T, b *browsertest.Tab) connRow {
	t.Helper()
	find := func() (connRow, bool) {
		for _, r := range connRows(b) {
			if r.User == "deploy.bob" && r.Activity == "Uploading" && strings.HasSuffix(r.File, "big.bin") && nonZero.MatchString(r.Progress) {
				return r, true
			}
		}
		return connRow{}, false
	}
	var first connRow
	deadline := time.Now().Add(10 * time.Second)
	for ok := false; !ok; first, ok = find() {
		if time.Now().After(deadline) {
			t.Fatalf("View Connections did not show deploy.bob uploading big.bin within 10 s; rows: %+v\npage:\n%s", connRows(b), b.MainText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if first.IP != "127.0.0.1" {
		t.Errorf("upload row: client IP %q, want 127.0.0.1", first.IP)
	}
	rows := connRows(b)
	if i := slices.IndexFunc(rows, func(r connRow) bool { return r.User == "web.bob" }); i < 0 {
		t.Errorf("web.bob's idle session is not listed: %+v", rows)
	} else if rows[i].Activity != "Idle" {
		t.Errorf("web.bob's session: activity %q, want Idle", rows[i].Activity)
	}

	// The trickle goes on, so the next refreshes show more bytes.
	deadline = time.Now().Add(6 * time.Second)
	for {
		cur, ok := find()
		if ok && cur.ID == first.ID && cur.Progress != first.Progress {
			t.Logf("upload row: %s %s: %q, then %q; %s", cur.Activity, cur.File, first.Progress, cur.Progress, cur.Transferred)
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload row stayed at %q for 6 s while bytes kept flowing; rows: %+v", first.Progress, connRows(b))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// disconnectInBrowser presses Disconnect on row and checks the FTP client
// is cut off and the row leaves the table.
func disconnectInBrowser(t *testing.T, b *browsertest.Tab, s *server, row connRow, up *upload, conn *ftp.ServerConn) {
	t.Helper()
	rowCSS := `#conn-table tr[data-id="` + row.ID + `"]`
	// The upload is running: the first press asks to confirm.
	b.Do(chromedp.Click(chromedp.CSS(rowCSS + ` button`)))
	if got := b.Text(rowCSS + ` button`); !strings.HasPrefix(got, "Confirm disconnect of deploy.bob") {
		t.Errorf("Disconnect of a running upload says %q after one press, want it to ask to confirm", got)
	}
	pressed := time.Now()
	b.Do(chromedp.Click(chromedp.CSS(rowCSS + ` button`)))
	b.Flash("Disconnect of deploy.bob requested")
	done, err := up.wait(10 * time.Second)
	if !done {
		t.Fatalf("10 s after Disconnect, deploy.bob's upload is still running\nserver log:\n%s", s.logs)
	}
	if err == nil {
		t.Error("the disconnected upload ended without an error, as if it had completed")
	}
	t.Logf("Disconnect cut the upload after %v: %v", time.Since(pressed).Round(time.Millisecond), err)
	if err := conn.NoOp(); err == nil {
		t.Error("the disconnected control connection still answers NOOP")
	}
	b.WaitFor("the disconnected session to leave the table", `!document.querySelector('`+rowCSS+`')`, 10*time.Second)
	if rows := connRows(b); !slices.ContainsFunc(rows, func(r connRow) bool { return r.User == "web.bob" }) {
		t.Errorf("after disconnecting deploy.bob, web.bob's session is gone from the table too: %+v", rows)
	}
}

// changePasswordInBrowser sets a new password for deploy.bob, typed in
// both fields, and returns it.
func changePasswordInBrowser(t *testing.T, b *browsertest.Tab) string {
	t.Helper()
	const pw = "N3w!Release#Key"
	b.Do(chromedp.Navigate(b.URL+"/files/ftp"), chromedp.WaitVisible(chromedp.ID("ftp-count")),
		chromedp.Click(chromedp.CSS(`a[href="/files/ftp/users/deploy.bob/password"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.SendKeys(chromedp.ID("confirm"), pw))
	if got := b.Text(`main button[type="submit"]`); got != "Change Password" {
		t.Errorf("the password form's button says %q, want Change Password", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	b.Flash("Password of deploy.bob changed")
	return pw
}

// changePathInBrowser moves deploy.bob to /example.com/dev.
func changePathInBrowser(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(`a[href="/files/ftp/users/deploy.bob/path"]`)),
		chromedp.WaitVisible(chromedp.ID("path")))
	if got := b.Text("#current-path"); got != "/example.com" {
		t.Errorf("Change Path shows the current path %q, want /example.com", got)
	}
	if got := b.Text(`main button[type="submit"]`); got != "Change Path" {
		t.Errorf("the path form's button says %q, want Change Path", got)
	}
	b.Do(chromedp.SetValue(chromedp.ID("path"), "/example.com/dev"),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	b.Flash("Path of deploy.bob changed to /example.com/dev")
}

// deleteInBrowser deletes deploy.bob: Delete, then Confirm.
func deleteInBrowser(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	btn := `form[action="/files/ftp/users/deploy.bob/delete"] button`
	b.Do(chromedp.Click(chromedp.CSS(btn)))
	if got := b.Text(btn); !strings.HasPrefix(got, "Confirm delete of deploy.bob") {
		t.Fatalf("after one click Delete says %q, want Confirm delete of deploy.bob", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(btn)))
	b.Flash("FTP account deploy.bob deleted")
	b.WaitFor("deploy.bob to leave the table", `!document.querySelector('tr[data-search^="deploy.bob"]')`, 5*time.Second)
	if b.Eval(`String(!!document.querySelector('tr[data-search^="web.bob"]'))`) != "true" {
		t.Error("deleting deploy.bob removed web.bob from the table")
	}
}

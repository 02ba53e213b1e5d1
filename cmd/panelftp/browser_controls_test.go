package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/panelftp/panelftp/internal/browsertest"
)

// TestBrowserControls: the owner changes a sub-user's quota on Files ›
// FTP; the administrator sets its limits and access rules, which end its
// open FTP session, refuse it once expired, and show it as expired to
// both of them.
func TestBrowserControls(t *testing.T) {
	t.Parallel()
	browsertest.Need(t)
	s := startServer(t)
	const panelPassword, adminPassword = "Panel!Pass9", "Admin!Pass9"
	s.cli.ok("account", "password", "bob", panelPassword)
	s.cli.ok("admin", "add", "ops", "--password", adminPassword)
	base := fmt.Sprintf("http://127.0.0.1:%d", s.panelPort)

	owner := browsertest.NewTab(t, base, 90*time.Second)
	owner.Do(chromedp.Navigate(owner.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("login-name"), "bob"),
		chromedp.SendKeys(chromedp.ID("login-password"), panelPassword),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("ftp-count")),
		chromedp.Click(chromedp.CSS(`a[href="/files/ftp/users/web.bob/quota"]`)),
		chromedp.WaitVisible(chromedp.ID("quota")))
	if got := owner.Text("#current-quota"); got != "unlimited" {
		t.Errorf("Change Quota shows the current quota %q, want unlimited", got)
	}
	owner.Do(chromedp.SetValue(chromedp.ID("quota"), "500"), chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	owner.Flash("Quota of web.bob set to 500 MB")
	if got := owner.Text(`tr[data-search^="web.bob"] td[data-label="Space used"]`); !strings.Contains(got, "of 500 MB") {
		t.Errorf("the table shows the quota as %q, want it of 500 MB", got)
	}
	if got := s.cli.controls("web.bob").QuotaMB; got != 500 {
		t.Errorf("quota saved as %d MB, want 500", got)
	}

	open := mustLogin(t, s, "web.bob", goodPassword, "before the limits change")
	admin := browsertest.NewTab(t, base, 90*time.Second)
	admin.Do(chromedp.Navigate(admin.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.ID("login-name"), "ops"),
		chromedp.SendKeys(chromedp.ID("login-password"), adminPassword),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	admin.WaitFor("the admin area", `location.pathname === '/admin/accounts'`, 10*time.Second)
	admin.Do(chromedp.Navigate(admin.URL+"/admin/users"),
		chromedp.Click(chromedp.CSS(`a[href="/admin/users/web.bob/controls"]`)),
		chromedp.WaitVisible(chromedp.ID("c-allow")))
	if v := admin.Eval(`document.getElementById('c-quota').value`); v != "500" {
		t.Errorf("Limits shows the quota %q, want 500", v)
	}
	// A bad network is named next to its field; nothing is saved.
	admin.Do(chromedp.SetValue(chromedp.ID("c-allow"), "127.0.0.1\n10.0.0.1/8"),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("c-allow-err")))
	if got := admin.Text("#c-allow-err"); !strings.Contains(got, "did you mean 10.0.0.0/8?") {
		t.Errorf("the allow list error says %q", got)
	}
	admin.Do(chromedp.SetValue(chromedp.ID("c-allow"), "127.0.0.1\n2001:db8::/32"),
		chromedp.SetValue(chromedp.ID("c-up"), "200"),
		chromedp.SetValue(chromedp.ID("c-expires"), "2001-01-01"),
		chromedp.Click(chromedp.ID("c-ro")),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	admin.Flash("Limits and access of web.bob saved")
	admin.WaitFor("web.bob shown as expired", `!!document.querySelector('tr[data-search^="web.bob"] .tag.off')`, 5*time.Second)
	got := s.cli.controls("web.bob")
	if !got.ReadOnly || got.UploadKBps != 200 || got.Expires == nil || *got.Expires != "2001-01-01" || !got.Expired ||
		strings.Join(got.AllowIPs, ",") != "127.0.0.1,2001:db8::/32" || got.QuotaMB != 500 {
		t.Errorf("saved controls %+v", got)
	}
	waitCut(t, open, "stricter limits")
	if conn, err := ftpLogin(t, s, "web.bob", goodPassword); err == nil {
		conn.Quit()
		t.Error("an expired user logged in")
	}
	owner.Do(chromedp.Navigate(owner.URL+"/files/ftp"), chromedp.WaitVisible(chromedp.ID("ftp-count")))
	if got := owner.Text(`tr[data-search^="web.bob"] th`); !strings.Contains(got, "expired") {
		t.Errorf("the owner's table shows web.bob as %q, want expired", got)
	}

	// No expiry again: the user logs in from the allowed 127.0.0.1.
	admin.Do(chromedp.Click(chromedp.CSS(`a[href="/admin/users/web.bob/controls"]`)),
		chromedp.WaitVisible(chromedp.ID("c-expires")))
	admin.Eval(`document.getElementById('c-expires').value = ''`)
	admin.Do(chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	admin.Flash("Limits and access of web.bob saved")
	mustLogin(t, s, "web.bob", goodPassword, "after the expiry was removed").Quit()
	owner.NoErrors()
	admin.NoErrors()
}

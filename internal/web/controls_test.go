package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// kicksOf counts the changes of username that end its sessions, after
// the first: its creation.
func (e *env) kicksOf(username string) int {
	e.t.Helper()
	changes, _, err := e.st.ChangesAfter(context.Background(), 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, c := range changes {
		if c.Kind == store.ChangeUser && c.Key == username {
			n++
		}
	}
	return max(n-1, 0)
}

func TestOwnerChangesQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/site", 0)
	e.addUser("alice", "dev.alice", "/", 50)
	c := e.bob()
	wantContains(t, c.get("/files/ftp").body, `href="/files/ftp/users/dev.bob/quota"`, "Change Quota")

	r := c.get("/files/ftp/users/dev.bob/quota")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, `id="current-quota">unlimited<`)
	// As typed, in MB; a word is refused next to the field, kept as typed.
	r = c.post("/files/ftp/users/dev.bob/quota", url.Values{"quota": {"lots"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := fieldError(r.body, "quota"); msg == "" {
		t.Fatalf("no error next to the quota:\n%s", trim(r.body))
	}
	if v, _ := inputValue(r.body, "quota"); v != "lots" {
		t.Errorf("typed value not kept: %q", v)
	}
	r = c.post("/files/ftp/users/dev.bob/quota", url.Values{"quota": {"-3"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, fieldError(r.body, "quota"), "negative")
	if u, _ := e.user("bob", "dev.bob"); u.QuotaMB != 0 {
		t.Fatalf("a refused quota was saved: %d", u.QuotaMB)
	}

	wantRedirect(t, c.post("/files/ftp/users/dev.bob/quota", url.Values{"quota": {"750"}}), "/files/ftp")
	if u, _ := e.user("bob", "dev.bob"); u.QuotaMB != 750 {
		t.Fatalf("quota %d MB, want 750", u.QuotaMB)
	}
	if e.kicksOf("dev.bob") != 1 {
		t.Error("setting a quota did not end the sessions")
	}
	page := c.get("/files/ftp").body
	wantContains(t, page, "Quota of dev.bob set to 750 MB.", "0 MB of 750 MB (0 %)")
	if v, _ := inputValue(c.get("/files/ftp/users/dev.bob/quota").body, "quota"); v != "750" {
		t.Errorf("the form shows %q, want 750 as typed", v)
	}

	// Another account's sub-user is not found; owners have no Limits page.
	wantStatus(t, c.get("/files/ftp/users/dev.alice/quota"), http.StatusNotFound)
	wantStatus(t, c.post("/files/ftp/users/dev.alice/quota", url.Values{"quota": {"1"}}), http.StatusNotFound)
	if u, _ := e.user("alice", "dev.alice"); u.QuotaMB != 50 {
		t.Fatalf("bob changed alice's quota to %d", u.QuotaMB)
	}
	wantNotContains(t, page, "/controls")
	if r := c.get("/admin/users/dev.bob/controls"); r.StatusCode == http.StatusOK {
		t.Fatal("an owner opened the admin's Limits page")
	}
}

func TestAdminSetsEveryControl(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser("bob", "dev.bob", "/", 0)
	c := e.admin()
	wantContains(t, c.get("/admin/users").body, `href="/admin/users/dev.bob/controls"`, `href="/admin/users/dev.bob/quota"`)

	form := url.Values{
		"quota": {"300"}, "max_files": {"5000"}, "upload_kbps": {"200"}, "download_kbps": {""},
		"max_sessions": {"2"}, "allow_ips": {"192.0.2.0/24\r\n2001:db8::/32"}, "deny_ips": {"192.0.2.66"},
		"expires": {"2001-02-03"}, "read_only": {"1"}, "tls_required": {"1"},
	}
	wantRedirect(t, c.post("/admin/users/dev.bob/controls", form), "/admin/users?account=bob")
	u, err := e.user("bob", "dev.bob")
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Controls{MaxFiles: 5000, UploadKBps: 200, MaxSessions: 2,
		AllowIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")},
		DenyIPs:  []netip.Prefix{netip.MustParsePrefix("192.0.2.66/32")}, ReadOnly: true, TLSRequired: true,
		Expires: time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC)}
	if !reflect.DeepEqual(u.Controls, want) || u.QuotaMB != 300 {
		t.Fatalf("saved %+v quota %d\nwant %+v quota 300", u.Controls, u.QuotaMB, want)
	}
	if e.kicksOf("dev.bob") != 1 {
		t.Error("stricter rules did not end the sessions")
	}
	// The list shows the user as expired and read-only, to the admin and the owner.
	wantContains(t, c.get("/admin/users").body, `<span class="tag off">expired</span>`, `<span class="tag">read-only</span>`)
	wantContains(t, e.bob().get("/files/ftp").body, `<span class="tag off">expired</span>`)
	// The form shows what is saved.
	r := c.get("/admin/users/dev.bob/controls")
	wantContains(t, r.body, "192.0.2.0/24\n2001:db8::/32</textarea>", `id="c-ro" name="read_only" value="1" checked`, "expired")
	if v, _ := inputValue(r.body, "c-expires"); v != "2001-02-03" {
		t.Errorf("expiry shown as %q", v)
	}

	// Every bad field is named at once; nothing is saved.
	bad := url.Values{"quota": {"300"}, "max_files": {"many"}, "allow_ips": {"192.0.2.0/24, 10.0.0.1/8"},
		"expires": {"31/12/2026"}, "max_sessions": {"2"}}
	r = c.post("/admin/users/dev.bob/controls", bad)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if fieldError(r.body, "c-files") == "" {
		t.Errorf("no error next to the file limit:\n%s", trim(r.body))
	}
	bad.Set("max_files", "10")
	r = c.post("/admin/users/dev.bob/controls", bad)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, fieldError(r.body, "c-allow"), `"10.0.0.1/8"`, "did you mean 10.0.0.0/8?")
	wantContains(t, fieldError(r.body, "c-expires"), "YYYY-MM-DD")
	if after, _ := e.user("bob", "dev.bob"); !reflect.DeepEqual(after, u) {
		t.Fatalf("a refused form changed the user:\n%+v\nwas %+v", after, u)
	}

	// Clearing everything relaxes the rules: the sessions stay.
	before := e.kicksOf("dev.bob")
	wantRedirect(t, c.post("/admin/users/dev.bob/controls", url.Values{"allow_ips": {"192.0.2.0/24\n2001:db8::/32"}, "deny_ips": {"192.0.2.66"}}), "/admin/users")
	if u, _ := e.user("bob", "dev.bob"); !reflect.DeepEqual(u.Controls, domain.Controls{AllowIPs: want.AllowIPs, DenyIPs: want.DenyIPs}) || u.QuotaMB != 0 {
		t.Fatalf("after clearing: %+v", u.Controls)
	}
	if e.kicksOf("dev.bob") != before {
		t.Error("relaxing the rules ended the sessions")
	}
}

package service_test

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

func ptr[T any](v T) *T { return &v }

// Administrators changing different controls of one user at the same
// moment: every change is kept.
func TestSetFTPControlsAtOnceKeepsEveryChange(t *testing.T) {
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")
	changes := []domain.ControlsChange{
		{QuotaMB: ptr(int64(300))}, {MaxFiles: ptr(int64(5000))}, {UploadKBps: ptr(int64(200))},
		{DownloadKBps: ptr(int64(400))}, {AllowIPs: ptr([]string{"192.0.2.0/24"})}, {DenyIPs: ptr([]string{"192.0.2.66"})},
		{ReadOnly: ptr(true)}, {TLSRequired: ptr(true)}, {Expires: ptr("2026-12-31")}, {MaxSessions: ptr(2)},
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, ch := range changes {
		wg.Go(func() {
			<-start
			if _, _, err := e.svc.SetFTPControls(e.ctx, "bob", "dev.bob", ch); err != nil {
				t.Errorf("SetFTPControls %+v: %v", ch, err)
			}
		})
	}
	close(start)
	wg.Wait()
	want := domain.Controls{
		MaxFiles: 5000, UploadKBps: 200, DownloadKBps: 400,
		AllowIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		DenyIPs:  []netip.Prefix{netip.MustParsePrefix("192.0.2.66/32")},
		ReadOnly: true, TLSRequired: true, Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), MaxSessions: 2,
	}
	if u := e.storedUser("dev.bob"); !reflect.DeepEqual(u.Controls, want) || u.QuotaMB != 300 {
		t.Fatalf("stored controls %+v, quota %d\nwant %+v, quota 300", u.Controls, u.QuotaMB, want)
	}
}

func TestSetFTPControls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")
	e.addUser("bob", "other.bob", "/")

	e.clock.Advance(time.Minute)
	seq := e.lastChange()
	versionBefore := e.storedUser("dev.bob").Version
	u, ended, err := e.svc.SetFTPControls(e.ctx, "bob", "Dev.Bob", domain.ControlsChange{
		QuotaMB: ptr(int64(300)), MaxFiles: ptr(int64(5000)), UploadKBps: ptr(int64(200)), DownloadKBps: ptr(int64(400)),
		AllowIPs: ptr([]string{"192.0.2.0/24", "2001:db8::/32"}), DenyIPs: ptr([]string{"192.0.2.66"}),
		ReadOnly: ptr(true), TLSRequired: ptr(true), Expires: ptr("2026-12-31"), MaxSessions: ptr(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Controls{
		MaxFiles: 5000, UploadKBps: 200, DownloadKBps: 400,
		AllowIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")},
		DenyIPs:  []netip.Prefix{netip.MustParsePrefix("192.0.2.66/32")},
		ReadOnly: true, TLSRequired: true, Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), MaxSessions: 2,
	}
	stored := e.storedUser("dev.bob")
	if !reflect.DeepEqual(stored.Controls, want) || stored.QuotaMB != 300 || !stored.UpdatedAt.Equal(e.clock.Now()) {
		t.Fatalf("stored %+v\nwant controls %+v, quota 300, updated %v", stored, want, e.clock.Now())
	}
	// The version is the store's new one, returned with the user.
	if stored.Version <= versionBefore {
		t.Fatalf("version %d stored after a change that ends the sessions, %d before", stored.Version, versionBefore)
	}
	if !reflect.DeepEqual(u, stored) {
		t.Fatalf("returned %+v\nstored %+v", u, stored)
	}
	if got := e.kickedUsers(seq); len(got) != 1 || got[0] != "dev.bob" || !ended {
		t.Fatalf("kicked %q (ended %v), want dev.bob", got, ended)
	}
	if other := e.storedUser("other.bob"); !reflect.DeepEqual(other.Controls, domain.Controls{}) {
		t.Fatalf("another user changed: %+v", other.Controls)
	}
	if log := e.logs.String(); !strings.Contains(log, `msg="FTP user controls changed"`) || !strings.Contains(log, "sessions_ended=true") {
		t.Errorf("no audit line for the change:\n%s", log)
	}

	// Only the given fields change; relaxing a rule keeps the sessions.
	seq = e.lastChange()
	if _, ended, err := e.svc.SetFTPControls(e.ctx, "bob", "dev.bob", domain.ControlsChange{ReadOnly: ptr(false), UploadKBps: ptr(int64(0))}); err != nil || ended {
		t.Fatal(ended, err)
	}
	want.ReadOnly, want.UploadKBps = false, 0
	if got := e.storedUser("dev.bob").Controls; !reflect.DeepEqual(got, want) {
		t.Fatalf("after relaxing:\n got  %+v\n want %+v", got, want)
	}
	if got := e.kickedUsers(seq); len(got) != 0 {
		t.Fatalf("relaxing kicked %q", got)
	}
	// Each change that must end sessions does.
	for name, ch := range map[string]domain.ControlsChange{
		"read-only set":    {ReadOnly: ptr(true)},
		"allow list":       {AllowIPs: ptr([]string{})},
		"deny list":        {DenyIPs: ptr([]string{"203.0.113.0/24"})},
		"expiry in past":   {Expires: ptr("2026-01-01")},
		"TLS required set": {TLSRequired: ptr(false)}, // off first, then on below
	} {
		seq := e.lastChange()
		if _, _, err := e.svc.SetFTPControls(e.ctx, "bob", "dev.bob", ch); err != nil {
			t.Fatal(name, err)
		}
		if got, want := len(e.kickedUsers(seq)), map[bool]int{true: 0, false: 1}[name == "TLS required set"]; got != want {
			t.Errorf("%s: %d kicks, want %d", name, got, want)
		}
	}
	seq = e.lastChange()
	if _, _, err := e.svc.SetFTPControls(e.ctx, "bob", "dev.bob", domain.ControlsChange{TLSRequired: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if len(e.kickedUsers(seq)) != 1 {
		t.Error("turning TLS required on did not end the sessions")
	}
}

func TestSetFTPControlsRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addUser("bob", "dev.bob", "/")
	e.addUser("alice", "dev.alice", "/")
	refusals := []struct {
		name    string
		account string
		user    string
		ch      domain.ControlsChange
		kind    domain.Kind
		field   string
		hint    string
	}{
		{"nothing", "bob", "dev.bob", domain.ControlsChange{}, domain.Invalid, "", "nothing to change"},
		{"bad CIDR", "bob", "dev.bob", domain.ControlsChange{AllowIPs: ptr([]string{"192.0.2.0/24", "192.0.2.300"})}, domain.Invalid, "allow_ips", `"192.0.2.300"`},
		{"bad date", "bob", "dev.bob", domain.ControlsChange{Expires: ptr("31.12.2026")}, domain.Invalid, "expires", "YYYY-MM-DD"},
		{"negative bandwidth", "bob", "dev.bob", domain.ControlsChange{DownloadKBps: ptr(int64(-1))}, domain.Invalid, "download_kbps", "0 for no limit"},
		{"one bad field refuses the good ones", "bob", "dev.bob", domain.ControlsChange{ReadOnly: ptr(true), MaxSessions: ptr(-2)}, domain.Invalid, "max_sessions", "sessions at once"},
		{"unknown user", "bob", "nobody.bob", domain.ControlsChange{ReadOnly: ptr(true)}, domain.NotFound, "", "nobody.bob"},
		{"another account's user", "bob", "dev.alice", domain.ControlsChange{ReadOnly: ptr(true)}, domain.NotFound, "", "dev.alice"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			_, _, err := e.svc.SetFTPControls(e.ctx, tc.account, tc.user, tc.ch)
			wantErr(t, err, tc.kind, tc.field)
			if !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("message %q does not say %q", err, tc.hint)
			}
			e.unchanged(before)
		})
	}
}

// controlled adds dev.bob with pw1 and the controls of ch.
func controlled(t *testing.T, ch domain.ControlsChange, opts ...envOption) *env {
	t.Helper()
	e := newEnv(t, opts...)
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")
	if _, _, err := e.svc.SetFTPControls(e.ctx, "bob", "dev.bob", ch); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLoginIPListsAreCheckedBeforeThePassword(t *testing.T) {
	t.Parallel()
	cache := auth.NewVerifyCache(time.Minute, 100, nil)
	e := controlled(t, domain.ControlsChange{
		AllowIPs: ptr([]string{"192.0.2.0/24", "2001:db8::/32"}), DenyIPs: ptr([]string{"192.0.2.66", "2001:db8:bad::/48"}),
	}, func(o *service.Options) { o.LoginCache = cache })

	for _, ip := range []string{"192.0.2.7", "2001:db8::7", "::ffff:192.0.2.8"} {
		if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, ip); err != nil {
			t.Errorf("log-in from allowed %s: %v", ip, err)
		}
	}
	for _, ip := range []string{"198.51.100.1", "192.0.2.66", "2001:db8:bad::1", "2001:db9::1", "not an IP", ""} {
		t.Run(ip, func(t *testing.T) {
			before, checks := e.snapshot(), e.hasher.Checks()
			for _, password := range []string{pw1, pw2} { // the right one, cached, and a wrong one
				_, err := e.svc.Authenticate(e.ctx, "dev.bob", password, ip)
				if !errors.Is(err, domain.ErrIPNotAllowed) {
					t.Fatalf("log-in from %q: %v, want ErrIPNotAllowed", ip, err)
				}
			}
			if n := e.hasher.Checks() - checks; n != 0 {
				t.Errorf("a refused IP cost %d password hashes, want 0", n)
			}
			e.unchanged(before) // no last log-in recorded
		})
	}
	line := `level=WARN msg="FTP login refused" ip=198.51.100.1 user=dev.bob reason="IP not allowed for this user"`
	if !strings.Contains(e.logs.String(), line) {
		t.Errorf("log lacks the fail2ban line %s:\n%s", line, e.logs.String())
	}
}

func TestLoginAfterExpiry(t *testing.T) {
	t.Parallel()
	e := controlled(t, domain.ControlsChange{Expires: ptr("2026-03-04")}) // the clock starts on 2026-03-04 05:06 UTC
	login, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, "192.0.2.7")
	if err != nil {
		t.Fatalf("log-in on the last day: %v", err)
	}
	if want := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC); !login.ExpiresAt.Equal(want) {
		t.Errorf("Login.ExpiresAt = %v, want the end of the last day, %v", login.ExpiresAt, want)
	}

	e.clock.Advance(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC).Sub(e.clock.Now())) // midnight UTC
	before := e.snapshot()
	_, err = e.svc.Authenticate(e.ctx, "dev.bob", pw1, "192.0.2.7")
	var expired *domain.ExpiredError
	if !errors.Is(err, domain.ErrExpired) || !errors.As(err, &expired) {
		t.Fatalf("log-in after the last day: %v, want an ExpiredError", err)
	}
	if err.Error() != "FTP account expired on 2026-03-04" {
		t.Errorf("message %q does not say when it expired", err)
	}
	// Without the right password, nothing tells that the account exists.
	if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw2, "192.0.2.7"); !errors.Is(err, domain.ErrBadCredentials) {
		t.Errorf("wrong password after expiry: %v, want ErrBadCredentials", err)
	}
	e.unchanged(before)
	if !strings.Contains(e.logs.String(), `msg="FTP login refused" ip=192.0.2.7 user=dev.bob reason="FTP account expired on 2026-03-04"`) {
		t.Errorf("no log line for the expired log-in:\n%s", e.logs.String())
	}

	// A later date lets the user in again.
	if _, _, err := e.svc.SetFTPControls(e.ctx, "bob", "dev.bob", domain.ControlsChange{Expires: ptr("never")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, "192.0.2.7"); err != nil {
		t.Fatalf("log-in after the expiry was removed: %v", err)
	}
}

func TestLoginCarriesTheControls(t *testing.T) {
	t.Parallel()
	e := controlled(t, domain.ControlsChange{
		QuotaMB: ptr(int64(3)), MaxFiles: ptr(int64(40)), UploadKBps: ptr(int64(200)), DownloadKBps: ptr(int64(1)),
		ReadOnly: ptr(true), TLSRequired: ptr(true), MaxSessions: ptr(2),
	})
	login, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	got := []any{login.ReadOnly, login.TLSRequired, login.UploadRate, login.DownloadRate, login.MaxSessions, login.QuotaBytes, login.MaxFiles, login.ExpiresAt.IsZero()}
	want := []any{true, true, int64(200 * 1024), int64(1024), 2, int64(3 << 20), int64(40), true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Login read-only, TLS, up, down, sessions, quota, files, no expiry = %v, want %v", got, want)
	}

	plain := newEnv(t)
	plain.addAccount("bob", 0)
	plain.addUser("bob", "dev.bob", "/")
	login, err = plain.svc.Authenticate(plain.ctx, "dev.bob", pw1, "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	if login.ReadOnly || login.TLSRequired || login.UploadRate != 0 || login.DownloadRate != 0 || login.MaxSessions != 0 ||
		login.QuotaBytes != 0 || login.MaxFiles != 0 || !login.ExpiresAt.IsZero() {
		t.Fatalf("a user without controls got limits: %+v", login)
	}
}

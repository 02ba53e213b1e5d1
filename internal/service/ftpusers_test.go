package service_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestAddFTPUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	e.clock.Advance(time.Minute)

	u, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{
		Account: "bob", Username: " Dev.BOB ", Password: pw1, Path: "example.com/dev", QuotaMB: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "dev.bob" || u.Account != "bob" || u.Path != "/example.com/dev" || u.QuotaMB != 100 ||
		!u.Enabled || !u.CreatedAt.Equal(e.clock.Now()) || !u.UpdatedAt.Equal(e.clock.Now()) || !u.LastLoginAt.IsZero() {
		t.Fatalf("AddFTPUser = %+v", u)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, pw1) {
		t.Fatalf("password stored as %q, want an argon2id hash", u.PasswordHash)
	}
	if got := e.storedUser("dev.bob"); got.Version == 0 {
		t.Fatalf("stored %+v without a version", got)
	} else if got.Version = 0; !reflect.DeepEqual(got, u) {
		t.Fatalf("stored %+v\nreturned %+v", got, u)
	}
	if fi, err := os.Stat(filepath.Join(a.Home, "example.com", "dev")); err != nil || !fi.IsDir() {
		t.Fatalf("folder not created in the home: %v", err)
	}

	// A host path inside the home means the same folder.
	u2 := e.addUser("bob", "site.bob", filepath.Join(a.Home, "site"))
	if u2.Path != "/site" {
		t.Fatalf("host path stored as %q, want /site", u2.Path)
	}
	// Account names are case-insensitive for the caller too.
	if u3 := e.addUser("BOB", "root.bob", "/"); u3.Path != "/" || u3.Account != "bob" {
		t.Fatalf("AddFTPUser via BOB = %+v", u3)
	}
	if strings.Contains(e.logs.String(), pw1) {
		t.Fatal("a password reached the log")
	}
}

// Every rule refusal reaches the caller as the domain rule wrote it, with
// its field, and leaves nothing behind.
func TestAddFTPUserRuleErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	e.addUser("bob", "taken.bob", "/taken")

	type in = domain.NewFTPUser
	valid := func(x in) in {
		x.Account = "bob"
		if x.Username == "" {
			x.Username = "dev.bob"
		}
		if x.Password == "" {
			x.Password = pw1
		}
		if x.Path == "" {
			x.Path = "/new"
		}
		return x
	}
	username := func(u string) func() error {
		return func() error { _, err := domain.NormalizeUsername(u, "bob"); return err }
	}
	password := func(p string) func() error {
		return func() error { return domain.ValidatePassword(p, "dev.bob") }
	}
	path := func(p string) func() error {
		return func() error { _, err := domain.NormalizePath(p, a.Home); return err }
	}
	tests := []struct {
		name  string
		in    in
		field string
		rule  func() error // the domain's own refusal, which must arrive unchanged
	}{
		{"wrong suffix", valid(in{Username: "dev.alice"}), "username", username("dev.alice")},
		{"missing suffix", valid(in{Username: "dev"}), "username", username("dev")},
		{"suffix only", valid(in{Username: ".bob"}), "username", username(".bob")},
		{"blank username", valid(in{Username: "  "}), "username", username("  ")},
		{"dash", valid(in{Username: "dev-x.bob"}), "username", username("dev-x.bob")},
		{"underscore", valid(in{Username: "dev_x.bob"}), "username", username("dev_x.bob")},
		{"accent", valid(in{Username: "dév.bob"}), "username", username("dév.bob")},
		{"another dot", valid(in{Username: "a.b.bob"}), "username", username("a.b.bob")},
		{"33 chars", valid(in{Username: strings.Repeat("a", 29) + ".bob"}), "username", username(strings.Repeat("a", 29) + ".bob")},
		{"no upper", valid(in{Password: "secret-pw-1"}), "password", password("secret-pw-1")},
		{"no lower", valid(in{Password: "SECRET-PW-1"}), "password", password("SECRET-PW-1")},
		{"no digit", valid(in{Password: "Secret-pw-x"}), "password", password("Secret-pw-x")},
		{"no special", valid(in{Password: "Secretpw1"}), "password", password("Secretpw1")},
		{"too short", valid(in{Password: "Se-pw-1"}), "password", password("Se-pw-1")},
		{"too long", valid(in{Password: "Aa1!" + strings.Repeat("x", 61)}), "password", password("Aa1!" + strings.Repeat("x", 61))},
		{"non-ASCII", valid(in{Password: "Sécret-pw-1"}), "password", password("Sécret-pw-1")},
		{"contains username", valid(in{Password: "X1!DEV.BOBx"}), "password", password("X1!DEV.BOBx")},
		{"contains name part", valid(in{Password: "My-Dev-pw-1"}), "password", password("My-Dev-pw-1")},
		{"dotdot", valid(in{Path: "/a/../b"}), "path", path("/a/../b")},
		{"backslash dotdot", valid(in{Path: `a\..\..\etc`}), "path", path(`a\..\..\etc`)},
		{"host path escaping", valid(in{Path: a.Home + "/../alice"}), "path", path(a.Home + "/../alice")},
		{"NUL", valid(in{Path: "/a\x00b"}), "path", path("/a\x00b")},
		{"newline", valid(in{Path: "/a\nb"}), "path", path("/a\nb")},
		{"blank path", valid(in{Path: " "}), "path", path(" ")},
		{"1025 chars", valid(in{Path: "/" + strings.Repeat("a", 1024)}), "path", path("/" + strings.Repeat("a", 1024))},
		{"negative quota", valid(in{QuotaMB: -1}), "quota", nil},
		{"duplicate", valid(in{Username: "taken.bob"}), "username", nil},
		{"duplicate in other case", valid(in{Username: "TAKEN.Bob", Path: "/other"}), "username", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			u, err := e.svc.AddFTPUser(e.ctx, tc.in)
			if !reflect.DeepEqual(u, domain.FTPUser{}) {
				t.Errorf("returned %+v with the refusal", u)
			}
			kind := domain.Invalid
			if strings.HasPrefix(tc.name, "duplicate") {
				kind = domain.Conflict
			}
			wantErr(t, err, kind, tc.field)
			if tc.rule != nil {
				want := tc.rule()
				if want == nil || err.Error() != want.Error() {
					t.Errorf("error %q, want the rule's own %q", err, want)
				}
			}
			e.unchanged(before)
		})
	}
	t.Run("unknown account", func(t *testing.T) {
		before := e.snapshot()
		_, err := e.svc.AddFTPUser(e.ctx, in{Account: "nobody", Username: "dev.nobody", Password: pw1, Path: "/"})
		wantErr(t, err, domain.NotFound, "")
		e.unchanged(before)
	})
}

func TestAddFTPUserLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 2)
	e.addAccount("alice", 0)
	e.addUser("bob", "one.bob", "/one")
	e.addUser("bob", "two.bob", "/two")

	before := e.snapshot()
	_, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: "bob", Username: "three.bob", Password: pw1, Path: "/three"})
	wantErr(t, err, domain.LimitReached, "username")
	if !strings.Contains(err.Error(), "limit of 2") {
		t.Errorf("message %q does not give the limit", err)
	}
	e.unchanged(before)

	// Another account is not affected by bob's limit.
	e.addUser("alice", "one.alice", "/")
	e.addUser("alice", "two.alice", "/")
	e.addUser("alice", "three.alice", "/")

	// Deleting one frees a slot.
	if err := e.svc.DeleteFTPUser(e.ctx, "bob", "one.bob"); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", "three.bob", "/three")
}

// Concurrent adds cannot both take the last free slot, and the loser
// leaves neither a user nor a folder behind.
func TestAddFTPUserLimitRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 1)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{
				Account: "bob", Username: fmt.Sprintf("u%d.bob", i), Password: pw1, Path: fmt.Sprintf("/u%d", i),
			})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			if won >= 0 {
				t.Fatalf("u%d and u%d both added with limit 1", won, i)
			}
			won = i
			continue
		}
		if domain.KindOf(err) != domain.LimitReached {
			t.Errorf("u%d: %v, want LimitReached", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no add succeeded")
	}
	if users := e.users("bob"); len(users) != 1 {
		t.Fatalf("%d users stored, want 1", len(users))
	}
	entries, err := os.ReadDir(a.Home)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != fmt.Sprintf("u%d", won) {
		var names []string
		for _, d := range entries {
			names = append(names, d.Name())
		}
		t.Fatalf("home holds %q, want only the winner's folder u%d", names, won)
	}
}

// An account owner only ever sees and changes their own sub-users: a
// sub-user of another account is "not found", and nothing happens to it.
func TestOtherAccountsUsersAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addUser("alice", "dev.alice", "/site")

	ops := map[string]func() error{
		"Get":         func() error { _, err := e.svc.GetFTPUser(e.ctx, "bob", "dev.alice"); return err },
		"Password":    func() error { return e.svc.ChangeFTPPassword(e.ctx, "bob", "dev.alice", pw2) },
		"Path":        func() error { return e.svc.ChangeFTPPath(e.ctx, "bob", "dev.alice", "/other") },
		"Quota":       func() error { return e.svc.SetFTPQuota(e.ctx, "bob", "dev.alice", 5) },
		"Enabled":     func() error { return e.svc.SetFTPUserEnabled(e.ctx, "bob", "dev.alice", false) },
		"Delete":      func() error { return e.svc.DeleteFTPUser(e.ctx, "bob", "dev.alice") },
		"Get missing": func() error { _, err := e.svc.GetFTPUser(e.ctx, "bob", "nobody.bob"); return err },
		"no account":  func() error { _, err := e.svc.GetFTPUser(e.ctx, "nobody", "dev.alice"); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			before := e.snapshot()
			err := op()
			wantErr(t, err, domain.NotFound, "")
			e.unchanged(before)
		})
	}
	// The messages for another account's user and a missing one look alike.
	_, other := e.svc.GetFTPUser(e.ctx, "bob", "dev.alice")
	_, missing := e.svc.GetFTPUser(e.ctx, "bob", "dev.bob")
	if strings.Replace(other.Error(), "dev.alice", "X", 1) != strings.Replace(missing.Error(), "dev.bob", "X", 1) {
		t.Errorf("messages differ: %q vs %q", other, missing)
	}
	if _, err := e.svc.Authenticate(e.ctx, "dev.alice", pw1, "192.0.2.1"); err != nil {
		t.Fatalf("alice's user damaged: %v", err)
	}
}

// Each change ends the user's live sessions (and only that user's), so it
// takes effect at once.
func TestChangesKickTheUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/site")
	e.addUser("bob", "other.bob", "/")

	ops := []struct {
		name  string
		op    func() error
		check func(u domain.FTPUser) bool
	}{
		{"password", func() error { return e.svc.ChangeFTPPassword(e.ctx, "bob", "Dev.Bob", pw2) }, nil},
		{"path", func() error { return e.svc.ChangeFTPPath(e.ctx, "bob", "dev.bob", "example.com/new") },
			func(u domain.FTPUser) bool { return u.Path == "/example.com/new" }},
		{"quota", func() error { return e.svc.SetFTPQuota(e.ctx, "bob", "dev.bob", 250) },
			func(u domain.FTPUser) bool { return u.QuotaMB == 250 }},
		{"disable", func() error { return e.svc.SetFTPUserEnabled(e.ctx, "bob", "dev.bob", false) },
			func(u domain.FTPUser) bool { return !u.Enabled }},
		{"enable", func() error { return e.svc.SetFTPUserEnabled(e.ctx, "bob", "dev.bob", true) },
			func(u domain.FTPUser) bool { return u.Enabled }},
	}
	for _, tc := range ops {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			seq := e.lastChange()
			if err := tc.op(); err != nil {
				t.Fatal(err)
			}
			if got := e.changesAfter(seq); len(got) != 1 || got[0] != "user dev.bob" {
				t.Fatalf("changes %q, want one of user dev.bob", got)
			}
			u := e.storedUser("dev.bob")
			if u.Version != e.lastChange() {
				t.Errorf("version %d, want %d: the change's, so that its sessions end", u.Version, e.lastChange())
			}
			if !u.UpdatedAt.Equal(e.clock.Now()) {
				t.Errorf("UpdatedAt = %v, want %v", u.UpdatedAt, e.clock.Now())
			}
			if tc.check != nil && !tc.check(u) {
				t.Errorf("change not saved: %+v", u)
			}
		})
	}

	t.Run("password works", func(t *testing.T) {
		if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, "192.0.2.1"); err != domain.ErrBadCredentials {
			t.Fatalf("old password: %v, want ErrBadCredentials", err)
		}
		if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw2, "192.0.2.1"); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
	t.Run("path folder created", func(t *testing.T) {
		if fi, err := os.Stat(filepath.Join(e.home("bob"), "example.com", "new")); err != nil || !fi.IsDir() {
			t.Fatalf("new path folder: %v", err)
		}
	})

	refusals := []struct {
		name  string
		op    func() error
		field string
	}{
		{"weak password", func() error { return e.svc.ChangeFTPPassword(e.ctx, "bob", "dev.bob", "weak") }, "password"},
		{"password with username", func() error { return e.svc.ChangeFTPPassword(e.ctx, "bob", "dev.bob", "Dev.bob-2026") }, "password"},
		{"dotdot path", func() error { return e.svc.ChangeFTPPath(e.ctx, "bob", "dev.bob", "../alice") }, "path"},
		{"control path", func() error { return e.svc.ChangeFTPPath(e.ctx, "bob", "dev.bob", "/a\tb") }, "path"},
		{"negative quota", func() error { return e.svc.SetFTPQuota(e.ctx, "bob", "dev.bob", -5) }, "quota"},
	}
	for _, tc := range refusals {
		t.Run("refused "+tc.name, func(t *testing.T) {
			before := e.snapshot()
			wantErr(t, tc.op(), domain.Invalid, tc.field)
			e.unchanged(before)
		})
	}
}

func TestDeleteFTPUserKeepsFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/site")
	e.addUser("bob", "other.bob", "/site")
	writeFile(t, filepath.Join(a.Home, "site", "index.html"), "<h1>hi</h1>")
	writeFile(t, filepath.Join(a.Home, "site", "img", "logo.png"), "png")
	files := e.tree()

	seq := e.lastChange()
	if err := e.svc.DeleteFTPUser(e.ctx, "bob", "DEV.bob"); err != nil {
		t.Fatal(err)
	}
	if got := e.changesAfter(seq); len(got) != 1 || got[0] != "user dev.bob" {
		t.Fatalf("changes %q, want one of user dev.bob", got)
	}
	if _, err := e.st.GetFTPUser(e.ctx, "dev.bob"); domain.KindOf(err) != domain.NotFound {
		t.Fatalf("user still stored: %v", err)
	}
	if after := e.tree(); strings.Join(after, "\n") != strings.Join(files, "\n") {
		t.Fatalf("files changed:\nbefore %q\nafter  %q", files, after)
	}
	if b, err := os.ReadFile(filepath.Join(a.Home, "site", "index.html")); err != nil || string(b) != "<h1>hi</h1>" {
		t.Fatalf("file content: %q, %v", b, err)
	}
	if users := e.users("bob"); len(users) != 1 || users[0].Username != "other.bob" {
		t.Fatalf("users left %+v, want other.bob", users)
	}
	wantErr(t, e.svc.DeleteFTPUser(e.ctx, "bob", "dev.bob"), domain.NotFound, "")
}

func TestListFTPUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addUser("bob", "zed.bob", "/")
	e.addUser("bob", "amy.bob", "/")
	e.addUser("alice", "dev.alice", "/")

	names := func(list []domain.FTPUser) string {
		var s []string
		for _, u := range list {
			s = append(s, u.Username)
		}
		return strings.Join(s, ",")
	}
	bob, err := e.svc.ListFTPUsers(e.ctx, "bob")
	if err != nil || names(bob) != "amy.bob,zed.bob" {
		t.Fatalf("ListFTPUsers(bob) = %q, %v", names(bob), err)
	}
	all, err := e.svc.ListFTPUsers(e.ctx, "")
	if err != nil || names(all) != "amy.bob,dev.alice,zed.bob" {
		t.Fatalf("ListFTPUsers() = %q, %v", names(all), err)
	}
	_, err = e.svc.ListFTPUsers(e.ctx, "nobody")
	wantErr(t, err, domain.NotFound, "")
}

// A form shows every mistake of a refused sub-user at once, so the
// service names each field at fault in one refusal, in the form's order.
func TestAddFTPUserReportsEveryFieldAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addUser("bob", "taken.bob", "/taken")

	for _, tc := range []struct {
		name   string
		in     domain.NewFTPUser
		fields []string
	}{
		{"all four", domain.NewFTPUser{Username: "my site!", Password: "password", Path: "../other", QuotaMB: -1},
			[]string{"username", "password", "path", "quota"}},
		{"everything empty", domain.NewFTPUser{}, []string{"username", "password", "path"}},
		{"taken name and weak password", domain.NewFTPUser{Username: "taken.bob", Password: "short", Path: "/"},
			[]string{"username", "password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Account = "bob"
			before := e.snapshot()
			_, err := e.svc.AddFTPUser(e.ctx, tc.in)
			var got []string
			for _, r := range domain.Refusals(err) {
				got = append(got, r.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("refused fields %q, want %q (error: %v)", got, tc.fields, err)
			}
			if check := e.svc.CheckNewFTPUser(e.ctx, tc.in); check == nil || check.Error() != err.Error() {
				t.Errorf("CheckNewFTPUser says %v, AddFTPUser %v: want the same", check, err)
			}
			e.unchanged(before)
		})
	}

	ok := domain.NewFTPUser{Account: "bob", Username: "dev.bob", Password: pw1, Path: "/new"}
	before := e.snapshot()
	if err := e.svc.CheckNewFTPUser(e.ctx, ok); err != nil {
		t.Fatalf("CheckNewFTPUser of a valid user: %v", err)
	}
	e.unchanged(before)
	if _, err := os.Stat(filepath.Join(e.home("bob"), "new")); !os.IsNotExist(err) {
		t.Errorf("CheckNewFTPUser created the folder: %v", err)
	}
}

package service_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestAddAccountCreatesMissingHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	home := filepath.Join(e.base, "home", "deep", "bob")
	a, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: home + "/", UID: domain.NoID, GID: domain.NoID, FTPLimit: 3})
	if err != nil {
		t.Fatalf("AddAccount: %v", err)
	}
	if fi, err := os.Stat(home); err != nil || !fi.IsDir() {
		t.Fatalf("home %s not created: %v", home, err)
	}
	want := domain.Account{Name: "bob", Home: home, UID: domain.NoID, GID: domain.NoID, FTPLimit: 3,
		Enabled: true, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if a != want {
		t.Fatalf("AddAccount = %+v\nwant %+v", a, want)
	}
	got, err := e.svc.GetAccount(e.ctx, "bob")
	if err != nil || got.Version == 0 {
		t.Fatalf("stored account = %+v, %v: want a version", got, err)
	}
	if got.Version = 0; got != want {
		t.Fatalf("stored account = %+v\nwant %+v", got, want)
	}
}

func TestAddAccountKeepsExistingHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeFile(t, filepath.Join(e.home("bob"), "site", "index.html"), "hello")
	e.addAccount("bob", 0)
	b, err := os.ReadFile(filepath.Join(e.home("bob"), "site", "index.html"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("existing file lost: %q, %v", b, err)
	}
}

func TestAddAccountRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	writeFile(t, filepath.Join(e.base, "afile"), "x")

	ok := func(in domain.NewAccount) domain.NewAccount {
		if in.Name == "" {
			in.Name = "alice"
		}
		if in.Home == "" {
			in.Home = e.home("alice")
		}
		return in
	}
	tests := []struct {
		name  string
		in    domain.NewAccount
		kind  domain.Kind
		field string
	}{
		{"duplicate", ok(domain.NewAccount{Name: "bob", Home: e.home("bob2")}), domain.Conflict, "account"},
		{"too short", ok(domain.NewAccount{Name: "al"}), domain.Invalid, "account"},
		{"uppercase", ok(domain.NewAccount{Name: "Alice"}), domain.Invalid, "account"},
		{"symbol", ok(domain.NewAccount{Name: "al-ice"}), domain.Invalid, "account"},
		{"relative home", ok(domain.NewAccount{Home: "home/alice"}), domain.Invalid, "home"},
		{"dot home", ok(domain.NewAccount{Home: "./alice"}), domain.Invalid, "home"},
		{"root home", ok(domain.NewAccount{Home: "/"}), domain.Invalid, "home"},
		{"root home unclean", ok(domain.NewAccount{Home: "//./"}), domain.Invalid, "home"},
		{"root home via dotdot", ok(domain.NewAccount{Home: "/home/.."}), domain.Invalid, "home"},
		{"control char home", ok(domain.NewAccount{Home: e.home("ali\nce")}), domain.Invalid, "home"},
		{"home is a file", ok(domain.NewAccount{Home: filepath.Join(e.base, "afile")}), domain.Invalid, "home"},
		{"negative limit", ok(domain.NewAccount{FTPLimit: -1}), domain.Invalid, "ftp_limit"},
		{"bad uid", ok(domain.NewAccount{UID: -2}), domain.Invalid, "uid"},
		{"weak panel password", ok(domain.NewAccount{PanelPassword: "password"}), domain.Invalid, "password"},
		{"panel password with name", ok(domain.NewAccount{PanelPassword: "Alice-2024!"}), domain.Invalid, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			_, err := e.svc.AddAccount(e.ctx, tc.in)
			wantErr(t, err, tc.kind, tc.field)
			e.unchanged(before)
		})
	}
	if _, err := os.Stat(e.home("alice")); !os.IsNotExist(err) {
		t.Fatalf("a refused account created its home: %v", err)
	}
}

func TestAccountSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 1)
	e.addUser("bob", "one.bob", "/")

	_, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: "bob", Username: "two.bob", Password: pw1, Path: "/"})
	wantErr(t, err, domain.LimitReached, "username")

	wantErr(t, e.svc.SetFTPLimit(e.ctx, "bob", -1), domain.Invalid, "ftp_limit")
	wantErr(t, e.svc.SetFTPLimit(e.ctx, "nobody", 5), domain.NotFound, "")
	e.clock.Advance(time.Second)
	if err := e.svc.SetFTPLimit(e.ctx, "bob", 0); err != nil {
		t.Fatal(err)
	}
	a, _ := e.svc.GetAccount(e.ctx, "bob")
	if a.FTPLimit != 0 || !a.UpdatedAt.Equal(e.clock.Now()) {
		t.Fatalf("after SetFTPLimit: %+v", a)
	}
	e.addUser("bob", "two.bob", "/")

	// Lowering the limit below the count keeps the users, refuses new ones.
	if err := e.svc.SetFTPLimit(e.ctx, "bob", 1); err != nil {
		t.Fatal(err)
	}
	if n := len(e.users("bob")); n != 2 {
		t.Fatalf("%d users after lowering the limit, want 2", n)
	}
	_, err = e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: "bob", Username: "three.bob", Password: pw1, Path: "/"})
	wantErr(t, err, domain.LimitReached, "username")
}

// Administrators changing the panel password, the FTP limit and the
// enabled flag of one account at the same moment: every change is kept,
// round after round.
func TestAccountChangesAtOnceKeepEveryChange(t *testing.T) {
	e := newEnv(t)
	e.addAccount("bob", 0)
	for round := 1; round <= 10; round++ {
		password, enabled := pw1, round%2 == 0
		if enabled {
			password = pw2
		}
		changes := []func() error{
			func() error { return e.svc.SetAccountPassword(e.ctx, "bob", password) },
			func() error { return e.svc.SetFTPLimit(e.ctx, "bob", round) },
			func() error { return e.svc.SetAccountEnabled(e.ctx, "bob", enabled) },
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, change := range changes {
			wg.Go(func() {
				<-start
				if err := change(); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		a, err := e.st.GetAccount(e.ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.hasher.Verify(e.ctx, a.PanelPasswordHash, password); err != nil || a.FTPLimit != round || a.Enabled != enabled {
			t.Fatalf("round %d: stored FTP limit %d, enabled %v, password set: %v\nwant limit %d, enabled %v, password set",
				round, a.FTPLimit, a.Enabled, err == nil, round, enabled)
		}
	}
}

func TestDisableAccountKicksItsUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addUser("bob", "one.bob", "/")
	e.addUser("bob", "two.bob", "/")
	e.addUser("alice", "one.alice", "/")

	seq := e.lastChange()
	if err := e.svc.SetAccountEnabled(e.ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	if got := e.changesAfter(seq); strings.Join(got, ",") != "account bob" {
		t.Fatalf("changes %q, want one of account bob (ending the sessions of its users)", got)
	}
	if a, err := e.svc.GetAccount(e.ctx, "bob"); err != nil || a.Version != e.lastChange() {
		t.Fatalf("account version %d, %v; want %d, the change's", a.Version, err, e.lastChange())
	}
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addUser("bob", "one.bob", "/site")
	e.addUser("bob", "two.bob", "/")
	e.addUser("alice", "one.alice", "/")
	writeFile(t, filepath.Join(e.home("bob"), "site", "index.html"), "keep me")

	t.Run("refused with users", func(t *testing.T) {
		before := e.snapshot()
		err := e.svc.DeleteAccount(e.ctx, "bob", false)
		wantErr(t, err, domain.Conflict, "account")
		if !strings.Contains(err.Error(), "2 FTP sub-user") || !strings.Contains(err.Error(), "force") {
			t.Errorf("message %q does not say how many users or how to proceed", err)
		}
		e.unchanged(before)
	})
	t.Run("unknown", func(t *testing.T) {
		before := e.snapshot()
		wantErr(t, e.svc.DeleteAccount(e.ctx, "nobody", true), domain.NotFound, "")
		e.unchanged(before)
	})
	t.Run("force", func(t *testing.T) {
		seq := e.lastChange()
		files := e.tree()
		if err := e.svc.DeleteAccount(e.ctx, "bob", true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.GetAccount(e.ctx, "bob"); domain.KindOf(err) != domain.NotFound {
			t.Fatalf("GetAccount after delete: %v", err)
		}
		if u := e.users(""); len(u) != 1 || u[0].Username != "one.alice" {
			t.Fatalf("users left: %+v, want only one.alice", u)
		}
		if got := e.changesAfter(seq); strings.Join(got, ",") != "account bob" {
			t.Fatalf("changes %q, want one of account bob (ending the sessions of its users)", got)
		}
		if after := e.tree(); strings.Join(after, "\n") != strings.Join(files, "\n") {
			t.Fatalf("files changed:\nbefore %q\nafter  %q", files, after)
		}
		if _, err := e.svc.Authenticate(e.ctx, "one.bob", pw1, "192.0.2.1"); err != domain.ErrBadCredentials {
			t.Fatalf("deleted user logs in: %v", err)
		}
	})
	t.Run("without users", func(t *testing.T) {
		e.addAccount("carol", 0)
		if err := e.svc.DeleteAccount(e.ctx, "carol", false); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(e.home("carol")); err != nil {
			t.Fatalf("home removed: %v", err)
		}
	})
}

func TestAccountPanelLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: e.home("bob"), UID: domain.NoID, GID: domain.NoID, PanelPassword: pw1}); err != nil {
		t.Fatal(err)
	}
	e.addAccount("alice", 0) // no panel password yet

	tests := []struct {
		name, account, password string
		want                    error
	}{
		{"right", "bob", pw1, nil},
		{"case-insensitive account", " BOB ", pw1, nil},
		{"wrong password", "bob", pw2, domain.ErrBadCredentials},
		{"password in other case", "bob", strings.ToUpper(pw1), domain.ErrBadCredentials},
		{"unknown account", "nobody", pw1, domain.ErrBadCredentials},
		{"no panel password", "alice", "", domain.ErrBadCredentials},
		{"no panel password, some password", "alice", pw1, domain.ErrBadCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := e.svc.CheckPanelLogin(e.ctx, tc.account, tc.password)
			if err != tc.want {
				t.Fatalf("CheckPanelLogin = %v, want %v", err, tc.want)
			}
			if err == nil && a.Name != "bob" {
				t.Fatalf("logged in as %q", a.Name)
			}
		})
	}

	t.Run("set password", func(t *testing.T) {
		wantErr(t, e.svc.SetAccountPassword(e.ctx, "alice", "weak"), domain.Invalid, "password")
		wantErr(t, e.svc.SetAccountPassword(e.ctx, "nobody", pw2), domain.NotFound, "")
		if err := e.svc.SetAccountPassword(e.ctx, "alice", pw2); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CheckPanelLogin(e.ctx, "alice", pw2); err != nil {
			t.Fatalf("CheckPanelLogin after SetAccountPassword: %v", err)
		}
	})
	t.Run("disabled account", func(t *testing.T) {
		if err := e.svc.SetAccountEnabled(e.ctx, "bob", false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CheckPanelLogin(e.ctx, "bob", pw1); err != domain.ErrAccountOff {
			t.Fatalf("CheckPanelLogin = %v, want ErrAccountOff", err)
		}
		// Without the right password, a disabled account looks like any other.
		if _, err := e.svc.CheckPanelLogin(e.ctx, "bob", pw2); err != domain.ErrBadCredentials {
			t.Fatalf("CheckPanelLogin(wrong) = %v, want ErrBadCredentials", err)
		}
	})
}

// Account names are case-insensitive for every call, including the ones
// that act on the account's users.
func TestAccountCallsIgnoreCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")

	before := e.snapshot()
	wantErr(t, e.svc.DeleteAccount(e.ctx, "BOB", false), domain.Conflict, "account")
	e.unchanged(before)

	seq := e.lastChange()
	if err := e.svc.SetAccountEnabled(e.ctx, "Bob", false); err != nil {
		t.Fatal(err)
	}
	if got := e.changesAfter(seq); len(got) != 1 || got[0] != "account bob" {
		t.Fatalf("disabling via Bob recorded %q, want account bob", got)
	}
	if a, _ := e.svc.GetAccount(e.ctx, "bob"); a.Enabled {
		t.Fatal("account still enabled")
	}

	seq = e.lastChange()
	if err := e.svc.DeleteAccount(e.ctx, "BOB", true); err != nil {
		t.Fatal(err)
	}
	if got := e.changesAfter(seq); len(got) != 1 || got[0] != "account bob" {
		t.Fatalf("deleting via BOB recorded %q, want account bob", got)
	}
	if n := len(e.accounts()); n != 0 {
		t.Fatalf("%d accounts left", n)
	}
	if n := len(e.users("")); n != 0 {
		t.Fatalf("%d users left", n)
	}
}

// Two adds of the same account race: exactly one wins, the others get
// Conflict. (A loser may leave its own new, empty home directory behind:
// removing it could remove the winner's when both named the same one.)
func TestAddAccountRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.svc.AddAccount(e.ctx, domain.NewAccount{
				Name: "carol", Home: filepath.Join(e.base, "home", fmt.Sprintf("carol%d", i)), UID: domain.NoID, GID: domain.NoID,
			})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			if won >= 0 {
				t.Fatalf("carol added twice (%d and %d)", won, i)
			}
			won = i
		} else if domain.KindOf(err) != domain.Conflict {
			t.Errorf("add %d: %v, want Conflict", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no add succeeded")
	}
	a, err := e.svc.GetAccount(e.ctx, "carol")
	if err != nil || a.Home != e.home(fmt.Sprintf("carol%d", won)) {
		t.Fatalf("stored %+v, %v; winner was %d", a, err, won)
	}
}

// When racing adds name the same new home, the losers must not remove it.
func TestAddAccountRaceSameHome(t *testing.T) {
	t.Parallel()
	for range 5 {
		e := newEnv(t)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "carol", Home: e.home("carol"), UID: domain.NoID, GID: domain.NoID})
			})
		}
		wg.Wait()
		if n := len(e.accounts()); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
		if fi, err := os.Stat(e.home("carol")); err != nil || !fi.IsDir() {
			t.Fatalf("the winner's home is gone: %v", err)
		}
	}
}

func TestAddAccountReportsEveryFieldAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	in := domain.NewAccount{Name: "Bad-Name", Home: "relative", UID: -2, GID: -3, FTPLimit: -1, PanelPassword: "weak"}
	before := e.snapshot()
	_, err := e.svc.AddAccount(e.ctx, in)
	var got []string
	for _, r := range domain.Refusals(err) {
		got = append(got, r.Field)
	}
	want := []string{"account", "home", "uid", "ftp_limit", "password"} // one owner refusal for both ids
	if !slices.Equal(got, want) {
		t.Errorf("refused fields %q, want %q (error: %v)", got, want, err)
	}
	if check := e.svc.CheckNewAccount(e.ctx, in); check == nil || check.Error() != err.Error() {
		t.Errorf("CheckNewAccount says %v, AddAccount %v: want the same", check, err)
	}
	dup := domain.NewAccount{Name: "bob", Home: "relative", UID: domain.NoID, GID: domain.NoID}
	if _, err := e.svc.AddAccount(e.ctx, dup); len(domain.Refusals(err)) != 2 || domain.KindOf(err) != domain.Conflict {
		t.Errorf("a taken name with a bad home: %v, want the conflict first and the home", err)
	}
	e.unchanged(before)
}

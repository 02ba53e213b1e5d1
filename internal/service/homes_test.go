package service_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

// Homes never overlap, however the path is spelled.
func TestHomesDoNotOverlap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acme := e.addAccount("acme", 0)
	mkdir(t, filepath.Join(e.base, "home", "x"))
	mkdir(t, filepath.Join(acme.Home, "blog"))
	if err := os.Symlink(acme.Home, filepath.Join(e.base, "home", "alias")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(acme.Home, "blog"), filepath.Join(e.base, "home", "blog-link")); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"the same home":         acme.Home,
		"trailing slash":        acme.Home + "/",
		"through ..":            filepath.Join(e.base, "home", "x") + "/../acme",
		"inside":                filepath.Join(acme.Home, "blog"),
		"inside, not yet there": filepath.Join(acme.Home, "new", "deeper"),
		"containing":            filepath.Join(e.base, "home"),
		"a link to it":          filepath.Join(e.base, "home", "alias"),
		"a link into it":        filepath.Join(e.base, "home", "blog-link"),
		"below a link into it":  filepath.Join(e.base, "home", "alias", "sub"),
	}
	for name, home := range tests {
		t.Run(name, func(t *testing.T) {
			before := e.snapshot()
			_, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob2", Home: home, UID: domain.NoID, GID: domain.NoID})
			wantErr(t, err, domain.Conflict, "home")
			if !strings.Contains(err.Error(), "account acme") {
				t.Errorf("message %q does not name the other account", err)
			}
			e.unchanged(before)
		})
	}
	// A neighbour with a similar name is not inside.
	if _, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "acme2", Home: acme.Home + "2", UID: domain.NoID, GID: domain.NoID}); err != nil {
		t.Errorf("a neighbour home was refused: %v", err)
	}
}

// Accounts with overlapping homes added at the same moment: the overlap
// check and the insert are one step, so exactly one is added.
func TestOverlappingHomesAddedAtOnce(t *testing.T) {
	e := newEnv(t)
	const tries = 8
	errs := make([]error, tries)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range tries {
		home := e.home("site") + strings.Repeat("/sub", i%3) // equal or nested
		wg.Go(func() {
			<-start
			_, errs[i] = e.svc.AddAccount(e.ctx, domain.NewAccount{
				Name: fmt.Sprintf("site%d", i), Home: home, UID: domain.NoID, GID: domain.NoID})
		})
	}
	close(start)
	wg.Wait()
	added := 0
	for i, err := range errs {
		if err == nil {
			added++
			continue
		}
		if domain.KindOf(err) != domain.Conflict || !strings.Contains(err.Error(), "homes may not overlap") {
			t.Errorf("add %d: %v, want the overlap refusal", i, err)
		}
	}
	if n := len(e.accounts()); added != 1 || n != 1 {
		t.Fatalf("%d adds succeeded, %d accounts stored; want 1 and 1", added, n)
	}
}

// The stored home is the resolved one, so later checks compare real paths.
func TestHomeStoredResolved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	real := filepath.Join(e.base, "srv", "bob")
	mkdir(t, real)
	link := filepath.Join(e.base, "linked")
	if err := os.Symlink(filepath.Join(e.base, "srv"), link); err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: filepath.Join(link, "bob"), UID: domain.NoID, GID: domain.NoID})
	if err != nil {
		t.Fatal(err)
	}
	if a.Home != real {
		t.Errorf("stored home %s, want %s", a.Home, real)
	}
	if err := os.Symlink(filepath.Join(e.outside, "nowhere"), filepath.Join(e.base, "dangling")); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "carol", Home: filepath.Join(e.base, "dangling", "carol"), UID: domain.NoID, GID: domain.NoID})
	wantErr(t, err, domain.Invalid, "home")
}

// System folders, the data directory and what is outside --homes-root are
// refused with a message saying what to give instead.
func TestHomeRules(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	e := newEnv(t, withHomes(service.HomeOptions{AllowRootOwner: true, DataDir: data}))
	for _, home := range []string{"/", "/etc", "/etc/bob", "/usr/local/bob", "/root", "/var", "/var/lib/mysql", "/home", "/tmp", "/proc/self", data, filepath.Dir(data)} {
		t.Run(home, func(t *testing.T) {
			_, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: home, UID: domain.NoID, GID: domain.NoID})
			wantErr(t, err, domain.Invalid, "home")
			if !strings.Contains(err.Error(), "give") {
				t.Errorf("message %q does not say what to give", err)
			}
		})
	}
	t.Run("homes root", func(t *testing.T) {
		root := filepath.Join(e.base, "homes")
		mkdir(t, root)
		e := newEnv(t, withHomes(service.HomeOptions{AllowRootOwner: true, Root: root}))
		_, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: e.home("bob"), UID: domain.NoID, GID: domain.NoID})
		wantErr(t, err, domain.Invalid, "home")
		if !strings.Contains(err.Error(), "--homes-root") {
			t.Errorf("message %q does not name --homes-root", err)
		}
		_, err = e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: root, UID: domain.NoID, GID: domain.NoID})
		wantErr(t, err, domain.Invalid, "home")
		if _, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: filepath.Join(root, "bob"), UID: domain.NoID, GID: domain.NoID}); err != nil {
			t.Errorf("a home inside the homes root: %v", err)
		}
	})
}

// Root is not an account's owner unless the installation says so.
func TestOwnerRule(t *testing.T) {
	t.Parallel()
	strict := newEnv(t, withHomes(service.HomeOptions{}), withChown(true))
	tests := []struct {
		name     string
		uid, gid int
		hint     string
	}{
		{"uid 0", 0, 1000, "--allow-root-owner"},
		{"gid 0", 1000, 0, "is root"},
		{"server's ids as root", domain.NoID, domain.NoID, "own uid and gid"},
		{"uid only", 1000, domain.NoID, "both a uid and a gid"},
		{"gid only", domain.NoID, 1000, "both a uid and a gid"},
		{"negative", -2, 1000, "0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := strict.snapshot()
			_, err := strict.svc.AddAccount(strict.ctx, domain.NewAccount{Name: "bob", Home: strict.home("bob"), UID: tt.uid, GID: tt.gid})
			wantErr(t, err, domain.Invalid, "uid")
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("message %q does not say %q", err, tt.hint)
			}
			strict.unchanged(before)
		})
	}
	if _, err := strict.svc.AddAccount(strict.ctx, domain.NewAccount{Name: "bob", Home: strict.home("bob"), UID: 1000, GID: 1000}); err != nil {
		t.Errorf("an account with its own ids: %v", err)
	}
	notRoot := newEnv(t, withHomes(service.HomeOptions{}), withChown(false))
	if _, err := notRoot.svc.AddAccount(notRoot.ctx, domain.NewAccount{Name: "bob", Home: notRoot.home("bob"), UID: domain.NoID, GID: domain.NoID}); err != nil {
		t.Errorf("the server's ids when it is not root: %v", err)
	}
	allowed := newEnv(t, withHomes(service.HomeOptions{AllowRootOwner: true}), withChown(true))
	if _, err := allowed.svc.AddAccount(allowed.ctx, domain.NewAccount{Name: "bob", Home: allowed.home("bob"), UID: 0, GID: 0}); err != nil {
		t.Errorf("uid 0 with AllowRootOwner: %v", err)
	}
}

// New homes are 0711 and sub-user folders 0750, the account's; or the
// configured modes.
func TestHomeModes(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("giving the home to another uid needs root")
	}
	const uid, gid = 4321, 4322
	for _, tt := range []struct {
		name             string
		opts             service.HomeOptions
		home, folder, up os.FileMode
	}{
		{"defaults", service.HomeOptions{}, 0o711, 0o750, 0o755},
		{"configured", service.HomeOptions{HomeMode: 0o750, FolderMode: 0o755}, 0o750, 0o755, 0o755},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withHomes(tt.opts), withChown(true))
			home := filepath.Join(e.base, "homes", "deep", "bob")
			if _, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: home, UID: uid, GID: gid}); err != nil {
				t.Fatal(err)
			}
			e.addUser("bob", "dev.bob", "/example.com/dev")
			for p, want := range map[string]struct {
				mode     os.FileMode
				uid, gid int
			}{
				filepath.Dir(home):                 {tt.up, 0, 0},
				home:                               {tt.home, uid, gid},
				filepath.Join(home, "example.com"): {tt.folder, uid, gid},
				filepath.Join(home, "example.com", "dev"): {tt.folder, uid, gid},
			} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				u, g := owner(t, p)
				if fi.Mode().Perm() != want.mode || u != want.uid || g != want.gid {
					t.Errorf("%s: %v %d:%d, want %v %d:%d", p, fi.Mode().Perm(), u, g, want.mode, want.uid, want.gid)
				}
			}
		})
	}
}

// An account stored with a home the rules now refuse cannot log in over
// FTP, and the audit names it.
func TestHomeRefusedAtLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHomes(service.HomeOptions{}))
	now := time.Now().UTC()
	for _, a := range []domain.Account{
		{Name: "etc", Home: "/etc", UID: 0, GID: 0, Enabled: true, CreatedAt: now, UpdatedAt: now},
		{Name: "outer", Home: e.home("outer"), UID: 1000, GID: 1000, Enabled: true, CreatedAt: now, UpdatedAt: now},
		{Name: "inner", Home: filepath.Join(e.home("outer"), "site"), UID: 1001, GID: 1001, Enabled: true, CreatedAt: now, UpdatedAt: now},
	} {
		if err := e.st.CreateAccount(e.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := e.hasher.Hash(e.ctx, pw1)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateFTPUser(e.ctx, domain.FTPUser{Username: "web.etc", Account: "etc", PasswordHash: hash, Path: "/", Enabled: true, CreatedAt: now, UpdatedAt: now}, 0); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(e.ctx, "web.etc", pw1, "198.51.100.7")
	wantIs(t, err, domain.ErrHomeRefused)

	problems, err := e.svc.AuditHomes(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{"account etc: home directory /etc is a system folder", "account etc: uid 0", "account inner: home directory " + filepath.Join(e.home("outer"), "site") + " is inside the home of account outer"} {
		if !strings.Contains(all, want) {
			t.Errorf("audit does not say %q:\n%s", want, all)
		}
	}
	if len(problems) != 3 {
		t.Errorf("%d problems, want 3:\n%s", len(problems), all)
	}
}

// A disabled user or account pays for a password check even with the
// right password in the cache, so timing does not tell it apart.
func TestDisabledUserPaysTheHash(t *testing.T) {
	t.Parallel()
	cache := auth.NewVerifyCache(time.Minute, 100, nil)
	e := newEnv(t, func(o *service.Options) { o.LoginCache = cache })
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")
	if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, "198.51.100.7"); err != nil {
		t.Fatal(err) // the right password is now cached
	}
	for _, off := range []struct {
		name       string
		set, reset func() error
		want       error
	}{
		{"user", func() error { return e.svc.SetFTPUserEnabled(e.ctx, "bob", "dev.bob", false) },
			func() error { return e.svc.SetFTPUserEnabled(e.ctx, "bob", "dev.bob", true) }, domain.ErrUserDisabled},
		{"account", func() error { return e.svc.SetAccountEnabled(e.ctx, "bob", false) },
			func() error { return e.svc.SetAccountEnabled(e.ctx, "bob", true) }, domain.ErrAccountOff},
	} {
		t.Run(off.name, func(t *testing.T) {
			if err := off.set(); err != nil {
				t.Fatal(err)
			}
			for _, pw := range []string{pw1, pw2} {
				before := e.hasher.Checks()
				_, err := e.svc.Authenticate(e.ctx, "dev.bob", pw, "198.51.100.7")
				if n := e.hasher.Checks() - before; n != 1 {
					t.Errorf("disabled %s, password %q: %d hash checks, want 1", off.name, pw, n)
				}
				want := off.want
				if pw == pw2 {
					want = domain.ErrBadCredentials
				}
				wantIs(t, err, want)
			}
			if err := off.reset(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FolderUsage measures through the jail: the files under the folder, no
// link followed.
func TestFolderUsage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/site")
	writeFile(t, filepath.Join(a.Home, "site", "a.txt"), "12345")
	writeFile(t, filepath.Join(a.Home, "outside-site.txt"), "not counted")
	if err := os.Symlink(e.outside, filepath.Join(a.Home, "site", "out")); err != nil {
		t.Fatal(err)
	}
	u, err := e.svc.FolderUsage(e.ctx, a.Home, "/site")
	if err != nil || u.Bytes != 5 || u.Files != 2 || u.Partial {
		t.Errorf("FolderUsage = %+v, %v; want 5 bytes in a file and a link", u, err)
	}
	if err := os.Symlink(e.outside, filepath.Join(a.Home, "escape")); err != nil {
		t.Fatal(err)
	}
	if u, err := e.svc.FolderUsage(e.ctx, a.Home, "/escape"); err == nil {
		t.Errorf("measured a folder outside the home: %+v", u)
	}
}

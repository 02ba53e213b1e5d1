package service_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

// A PHP script or a file manager can plant a symlink in the home at any
// time: no path through it may create or accept a folder outside.
func TestFolderSymlinkOutsideHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/site")
	mkdir(t, filepath.Join(e.outside, "x"))
	mkdir(t, filepath.Join(a.Home, "real"))
	links := map[string]string{
		"evil":     filepath.Join(e.outside, "x"),             // existing dir outside
		"dangling": filepath.Join(e.outside, "missing"),       // dir that does not exist yet
		"relative": "../../outside/x",                         // relative, climbing out
		"inner":    "real",                                    // inside, then out below
		"loop":     "loop",                                    // a symlink to itself
		"deeper":   filepath.Join(a.Home, "real", "..", ".."), // absolute, to the home's parent
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(a.Home, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(e.outside, "x"), filepath.Join(a.Home, "real", "out")); err != nil {
		t.Fatal(err)
	}

	paths := []string{
		"/evil", "/evil/sub", "/evil/sub/deeper", "evil/sub",
		"/dangling", "/dangling/sub",
		"/relative/sub",
		"/inner/out/sub", "/real/out/sub",
		"/loop/sub",
		"/deeper/sub",
		filepath.Join(a.Home, "evil", "sub"),
	}
	for _, p := range paths {
		t.Run("add "+p, func(t *testing.T) {
			before := e.snapshot()
			_, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: "bob", Username: "new.bob", Password: pw1, Path: p})
			wantErr(t, err, domain.Invalid, "path")
			e.unchanged(before)
		})
		t.Run("change "+p, func(t *testing.T) {
			before := e.snapshot()
			wantErr(t, e.svc.ChangeFTPPath(e.ctx, "bob", "dev.bob", p), domain.Invalid, "path")
			e.unchanged(before)
		})
	}
	for _, p := range []string{"/evil/sub", "/dangling"} {
		if err := func() error {
			_, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: "bob", Username: "new.bob", Password: pw1, Path: p})
			return err
		}(); err != nil &&
			!strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("path %s: message %q does not name the symbolic link", p, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(e.outside, "missing")); !os.IsNotExist(err) {
		t.Fatalf("a folder was created outside the home: %v", err)
	}

	// A symlink that stays inside the home is an ordinary folder.
	u := e.addUser("bob", "ok.bob", "/inner/sub")
	if u.Path != "/inner/sub" {
		t.Fatalf("path %q", u.Path)
	}
	if fi, err := os.Stat(filepath.Join(a.Home, "real", "sub")); err != nil || !fi.IsDir() {
		t.Fatalf("folder through an inner symlink: %v", err)
	}
}

// The home itself may be reached through a symlink (e.g. /home → /srv/home);
// only links below the home are suspect.
func TestFolderHomeBehindSymlink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	real := filepath.Join(e.base, "srv", "bob")
	mkdir(t, real)
	link := filepath.Join(e.base, "linked")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: "bob", Home: link, UID: domain.NoID, GID: domain.NoID}); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", "dev.bob", "/site/dev")
	if fi, err := os.Stat(filepath.Join(real, "site", "dev")); err != nil || !fi.IsDir() {
		t.Fatalf("folder not created: %v", err)
	}
}

func TestFolderPathIsAFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")
	writeFile(t, filepath.Join(a.Home, "index.html"), "hi")
	for _, p := range []string{"/index.html", "/index.html/sub", a.Home + "/index.html"} {
		t.Run(p, func(t *testing.T) {
			before := e.snapshot()
			_, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: "bob", Username: "new.bob", Password: pw1, Path: p})
			wantErr(t, err, domain.Invalid, "path")
			if !strings.Contains(err.Error(), "is a file") {
				t.Errorf("message %q does not say the path is a file", err)
			}
			e.unchanged(before)
			wantErr(t, e.svc.ChangeFTPPath(e.ctx, "bob", "dev.bob", p), domain.Invalid, "path")
			e.unchanged(before)
		})
	}
}

// A path the file system refuses is the caller's mistake, and the folders
// made before the refusal are removed again.
func TestFolderNameTooLong(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")
	p := "/new/" + strings.Repeat("b", 256)
	before := e.snapshot()
	_, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: "bob", Username: "new.bob", Password: pw1, Path: p})
	wantErr(t, err, domain.Invalid, "path")
	e.unchanged(before)
	wantErr(t, e.svc.ChangeFTPPath(e.ctx, "bob", "dev.bob", p), domain.Invalid, "path")
	e.unchanged(before)
}

// A missing home (deleted by hand) is created again when a folder is needed.
func TestFolderRecreatesHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	if err := os.Remove(a.Home); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", "dev.bob", "/site")
	if fi, err := os.Stat(filepath.Join(a.Home, "site")); err != nil || !fi.IsDir() {
		t.Fatalf("folder not created: %v", err)
	}
}

func owner(t *testing.T, p string) (uid, gid int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

// Folders panelftp creates belong to the account, so its websites can use
// them; folders that already existed are left as they were.
func TestFolderOwnership(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	const uid, gid = 4321, 4322
	newAccount := func(e *env, name string, uid, gid int) domain.Account {
		t.Helper()
		a, err := e.svc.AddAccount(e.ctx, domain.NewAccount{Name: name, Home: e.home(name), UID: uid, GID: gid})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	t.Run("chown allowed", func(t *testing.T) {
		e := newEnv(t, withChown(true))
		a := newAccount(e, "bob", uid, gid)
		mkdir(t, filepath.Join(a.Home, "existing"))
		e.addUser("bob", "dev.bob", "/existing/new/deeper")
		for p, want := range map[string][2]int{
			a.Home:                                   {uid, gid},
			filepath.Join(a.Home, "existing"):        {0, 0},
			filepath.Join(a.Home, "existing", "new"): {uid, gid},
			filepath.Join(a.Home, "existing", "new", "deeper"): {uid, gid},
		} {
			if u, g := owner(t, p); u != want[0] || g != want[1] {
				t.Errorf("%s owned by %d:%d, want %d:%d", p, u, g, want[0], want[1])
			}
		}
		if err := e.svc.ChangeFTPPath(e.ctx, "bob", "dev.bob", "/moved"); err != nil {
			t.Fatal(err)
		}
		if u, g := owner(t, filepath.Join(a.Home, "moved")); u != uid || g != gid {
			t.Errorf("changed path folder owned by %d:%d", u, g)
		}
	})
	t.Run("account without ids", func(t *testing.T) {
		e := newEnv(t, withChown(true))
		a := newAccount(e, "bob", domain.NoID, domain.NoID)
		e.addUser("bob", "dev.bob", "/site")
		if u, g := owner(t, filepath.Join(a.Home, "site")); u != 0 || g != 0 {
			t.Errorf("folder owned by %d:%d, want the server's 0:0", u, g)
		}
	})
	t.Run("chown not allowed", func(t *testing.T) {
		e := newEnv(t, withChown(false))
		a := newAccount(e, "bob", uid, gid)
		e.addUser("bob", "dev.bob", "/site")
		for _, p := range []string{a.Home, filepath.Join(a.Home, "site")} {
			if u, g := owner(t, p); u != 0 || g != 0 {
				t.Errorf("%s owned by %d:%d, want 0:0", p, u, g)
			}
		}
	})
	t.Run("default as root", func(t *testing.T) {
		e := newEnv(t)
		a := newAccount(e, "bob", uid, gid)
		e.addUser("bob", "dev.bob", "/site")
		if u, g := owner(t, filepath.Join(a.Home, "site")); u != uid || g != gid {
			t.Errorf("folder owned by %d:%d, want %d:%d", u, g, uid, gid)
		}
	})
}

//go:build linux

package jail

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

const testID = 12345

// chownOpts make a root process chown what it creates to testID, without
// acting as testID (there is no gid to act with).
var chownOpts = Options{UID: testID, GID: -1, Umask: 0o022}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("acting as another uid, and chown to it, need root")
	}
}

// giveSite makes the site tree the account's, as a real home would be.
func (l *layout) giveSite(t testing.TB, uid, gid int) {
	t.Helper()
	err := filepath.WalkDir(l.site, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOwnerOfCreated: everything the jail creates belongs to Options.UID/GID:
// created by the account itself when the jail acts as it.
func TestOwnerOfCreated(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	tests := []struct {
		name    string
		run     func(j *Fs) error
		created []string // site-relative paths that must belong to testID
	}{
		{"Create", func(j *Fs) error { return closeIfOpen(j.Create("/c.txt")) }, []string{"c.txt"}},
		{"OpenFile CREATE", func(j *Fs) error {
			return closeIfOpen(j.OpenFile("/o.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.ModePerm))
		}, []string{"o.txt"}},
		{"OpenFile CREATE|EXCL", func(j *Fs) error {
			return closeIfOpen(j.OpenFile("/e.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.ModePerm))
		}, []string{"e.txt"}},
		{"OpenFile APPEND|CREATE", func(j *Fs) error {
			return closeIfOpen(j.OpenFile("/dir/a.txt", os.O_WRONLY|os.O_CREATE|os.O_APPEND, os.ModePerm))
		}, []string{"dir/a.txt"}},
		{"Mkdir", func(j *Fs) error { return j.Mkdir("/m", os.ModePerm) }, []string{"m"}},
		{"MkdirAll", func(j *Fs) error { return j.MkdirAll("/ma/b/c", os.ModePerm) }, []string{"ma", "ma/b", "ma/b/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			l.giveSite(t, testID, testID)
			j := l.newFs(t, Options{UID: testID, GID: testID, Umask: 0o022})
			if !j.ActsAsAccount() {
				t.Fatal("ActsAsAccount() = false as root with a uid and gid")
			}
			if err := tt.run(j); err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.created {
				if s := l.realState(t, p); s.UID != testID || s.GID != testID {
					t.Errorf("%s owned by %d:%d, want %d:%d", p, s.UID, s.GID, testID, testID)
				}
			}
		})
	}
}

// TestOwnerOfExistingUnchanged: where the jail chowns what it creates (a
// root process given only a uid), opening an existing file for writing
// (even with O_CREATE or truncation) must not give it to the session's
// uid, and MkdirAll must only chown the levels it created.
func TestOwnerOfExistingUnchanged(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	tests := []struct {
		name string
		run  func(j *Fs) error
		path string // existing site-relative path
	}{
		{"OpenFile WRONLY|CREATE|TRUNC", func(j *Fs) error {
			return closeIfOpen(j.OpenFile("/index.html", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.ModePerm))
		}, "index.html"},
		{"OpenFile APPEND|CREATE", func(j *Fs) error {
			return closeIfOpen(j.OpenFile("/index.html", os.O_WRONLY|os.O_CREATE|os.O_APPEND, os.ModePerm))
		}, "index.html"},
		{"OpenFile RDWR", func(j *Fs) error { return closeIfOpen(j.OpenFile("/index.html", os.O_RDWR, 0)) }, "index.html"},
		{"Create", func(j *Fs) error { return closeIfOpen(j.Create("/index.html")) }, "index.html"},
		{"Create through inside link", func(j *Fs) error { return closeIfOpen(j.Create("/link-good-file")) }, "index.html"},
		{"MkdirAll existing parent", func(j *Fs) error { return j.MkdirAll("/dir/new/x", os.ModePerm) }, "dir"},
		{"MkdirAll existing leaf", func(j *Fs) error { return j.MkdirAll("/dir/sub", os.ModePerm) }, "dir/sub"},
		{"Mkdir existing", func(j *Fs) error { _ = j.Mkdir("/dir", os.ModePerm); return nil }, "dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			p := filepath.Join(l.site, tt.path)
			if err := os.Lchown(p, 4242, 4343); err != nil {
				t.Fatal(err)
			}
			j := l.newFs(t, chownOpts)
			if err := tt.run(j); err != nil {
				t.Fatal(err)
			}
			if u, g := ownerOf(t, p); u != 4242 || g != 4343 {
				t.Errorf("%s owner changed to %d:%d, want 4242:4343", tt.path, u, g)
			}
		})
	}
	t.Run("MkdirAll chowns only new levels", func(t *testing.T) {
		l := newLayout(t)
		j := l.newFs(t, chownOpts)
		if err := j.MkdirAll("/dir/new/x", os.ModePerm); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"dir/new", "dir/new/x"} {
			if s := l.realState(t, p); s.UID != testID || s.GID != uint32(os.Getegid()) {
				t.Errorf("%s owned by %d:%d", p, s.UID, s.GID)
			}
		}
	})
}

// TestOwnerMinusOne: -1 leaves that id as the server process's.
func TestOwnerMinusOne(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	tests := []struct {
		uid, gid         int
		wantUID, wantGID uint32
	}{
		{-1, -1, uint32(os.Geteuid()), uint32(os.Getegid())},
		{testID, -1, testID, uint32(os.Getegid())},
		{-1, testID, uint32(os.Geteuid()), testID},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d:%d", tt.uid, tt.gid), func(t *testing.T) {
			l := newLayout(t)
			j := l.newFs(t, Options{UID: tt.uid, GID: tt.gid, Umask: 0o022})
			if err := closeIfOpen(j.Create("/f")); err != nil {
				t.Fatal(err)
			}
			if err := j.Mkdir("/d", 0); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"f", "d"} {
				if s := l.realState(t, p); s.UID != tt.wantUID || s.GID != tt.wantGID {
					t.Errorf("%d:%d: %s owned by %d:%d, want %d:%d", tt.uid, tt.gid, p, s.UID, s.GID, tt.wantUID, tt.wantGID)
				}
			}
		})
	}
}

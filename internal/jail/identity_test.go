//go:build linux

package jail

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The tests of this file act as another uid, which needs root.

const (
	otherID = 23456 // a uid and gid that owns nothing in the layout
	groupID = 34567 // a group the account may or may not belong to
)

// accountLayout is the standard layout with the site tree given to the
// account testID, as a real home would be, and a jail acting as it.
func accountLayout(t *testing.T, groups ...int) (*layout, *Fs) {
	t.Helper()
	requireRoot(t)
	l := newLayout(t)
	l.giveSite(t, testID, testID)
	j := l.newFs(t, Options{UID: testID, GID: testID, Groups: groups, Umask: 0o022})
	if !j.ActsAsAccount() {
		t.Fatal("the jail does not act as the account")
	}
	return l, j
}

// rootFile writes a root-owned file at site-relative rel with mode.
func (l *layout) rootFile(t *testing.T, rel, data string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(l.site, rel)
	mustMkdir(t, filepath.Dir(p))
	writeFile(t, p, data)
	if err := os.Chown(p, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func assertDenied(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, ErrDenied) || !errors.Is(err, os.ErrPermission) {
		t.Errorf("%s: err = %v, want the kernel's refusal (ErrDenied, matching os.ErrPermission)", what, err)
	}
}

// TestKernelRefusesRootFile: a root:root 0600 file in the account's own
// folder cannot be read, overwritten or changed by the account, though
// the server (root) could. Deleting it is the folder's owner's right.
func TestKernelRefusesRootFile(t *testing.T) {
	t.Parallel()
	l, j := accountLayout(t)
	p := l.rootFile(t, "secret.conf", "root only", 0o600)
	before := l.realState(t, "secret.conf")

	_, err := j.Open("/secret.conf")
	assertDenied(t, err, "Open")
	_, err = j.OpenFile("/secret.conf", os.O_WRONLY|os.O_TRUNC, 0)
	assertDenied(t, err, "OpenFile WRONLY|TRUNC")
	_, err = j.OpenFile("/secret.conf", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0)
	assertDenied(t, err, "OpenFile APPEND|CREATE")
	assertDenied(t, j.Chmod("/secret.conf", 0o666), "Chmod")
	assertDenied(t, j.Chtimes("/secret.conf", mtime2001, mtime2001), "Chtimes")
	if got := l.realState(t, "secret.conf"); got != before {
		t.Errorf("the root file changed:\n before %+v\n after  %+v", before, got)
	}
	// The folder is the account's: unlinking is allowed, as in its shell.
	if err := j.Remove("/secret.conf"); err != nil {
		t.Errorf("Remove from the account's own folder: %v", err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file still there after Remove: %v", err)
	}
}

// TestKernelRefusesRootFolder: a root-owned 0755 folder inside the site
// can be listed but not written into, and its files neither overwritten,
// renamed nor deleted.
func TestKernelRefusesRootFolder(t *testing.T) {
	t.Parallel()
	l, j := accountLayout(t)
	l.rootFile(t, "locked/index.php", "<?php // root", 0o644)
	if err := os.Chown(filepath.Join(l.site, "locked"), 0, 0); err != nil {
		t.Fatal(err)
	}
	before := l.realState(t, "locked/index.php")

	if _, err := j.ReadDir("/locked"); err != nil {
		t.Errorf("ReadDir of a 0755 folder: %v", err)
	}
	if err := closeIfOpen(j.Open("/locked/index.php")); err != nil {
		t.Errorf("reading a 0644 file: %v", err)
	}
	_, err := j.Create("/locked/new.php")
	assertDenied(t, err, "Create in the root folder")
	_, err = j.OpenFile("/locked/index.php", os.O_WRONLY|os.O_TRUNC, 0)
	assertDenied(t, err, "overwrite")
	assertDenied(t, j.Mkdir("/locked/sub", 0), "Mkdir")
	assertDenied(t, j.MkdirAll("/locked/a/b", 0), "MkdirAll")
	assertDenied(t, j.Remove("/locked/index.php"), "Remove")
	assertDenied(t, j.Rename("/locked/index.php", "/stolen.php"), "Rename out")
	assertDenied(t, j.Rename("/index.html", "/locked/index.html"), "Rename in")
	assertDenied(t, j.RemoveAll("/locked"), "RemoveAll")
	if got := l.realState(t, "locked/index.php"); got != before {
		t.Errorf("the root file changed:\n before %+v\n after  %+v", before, got)
	}
	if _, err := os.Lstat(filepath.Join(l.site, "locked", "new.php")); err == nil {
		t.Error("a file was created in the root folder")
	}
}

// TestKernelRefusesHardLink: a hard link planted in the site to a
// root-owned file outside every home reads and writes nothing.
func TestKernelRefusesHardLink(t *testing.T) {
	t.Parallel()
	l, j := accountLayout(t)
	target := filepath.Join(l.outside, "shadow")
	writeFile(t, target, "root:$y$secret:19000::::::\n")
	if err := os.Chmod(target, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(target, filepath.Join(l.site, "innocent.txt")); err != nil {
		t.Fatal(err)
	}
	before, err := stateOf(target)
	if err != nil {
		t.Fatal(err)
	}
	_, err = j.Open("/innocent.txt")
	assertDenied(t, err, "read through the hard link")
	_, err = j.OpenFile("/innocent.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0)
	assertDenied(t, err, "write through the hard link")
	assertDenied(t, j.Chmod("/innocent.txt", 0o644), "Chmod through the hard link")
	if after, _ := stateOf(target); after != before {
		t.Errorf("the target changed:\n before %+v\n after  %+v", before, after)
	}
}

// TestKernelGroups: the account's groups open what is shared with them,
// and nothing else.
func TestKernelGroups(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		groups []int
		ok     bool
	}{
		{"member", []int{groupID}, true},
		{"not a member", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, j := accountLayout(t, tt.groups...)
			p := l.rootFile(t, "shared/team.txt", "team", 0o640)
			if err := os.Chown(p, 0, groupID); err != nil {
				t.Fatal(err)
			}
			f, err := j.Open("/shared/team.txt")
			if tt.ok {
				if err != nil {
					t.Fatalf("group member cannot read a 0640 file of its group: %v", err)
				}
				b, _ := io.ReadAll(f)
				f.Close()
				if string(b) != "team" {
					t.Errorf("read %q", b)
				}
				return
			}
			assertDenied(t, err, "Open without the group")
		})
	}
}

// TestKernelCreatesAsAccount: what a client creates is the account's at
// creation, with the umask's modes.
func TestKernelCreatesAsAccount(t *testing.T) {
	t.Parallel()
	l, j := accountLayout(t)
	if err := closeIfOpen(j.Create("/up.txt")); err != nil {
		t.Fatal(err)
	}
	if err := j.MkdirAll("/a/b", 0); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{"up.txt": 0o644, "a": os.ModeDir | 0o755, "a/b": os.ModeDir | 0o755} {
		s := l.realState(t, p)
		if s.UID != testID || s.GID != testID || s.Mode != mode {
			t.Errorf("%s: %d:%d %v, want %d:%d %v", p, s.UID, s.GID, s.Mode, testID, testID, mode)
		}
	}
}

// TestKernelListing: a folder the account may not read cannot be listed,
// and one it may not search cannot be entered.
func TestKernelListing(t *testing.T) {
	t.Parallel()
	l, j := accountLayout(t)
	l.rootFile(t, "private/x", "x", 0o644)
	dir := filepath.Join(l.site, "private")
	if err := os.Chown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := j.ReadDir("/private")
	assertDenied(t, err, "ReadDir of a root 0700 folder")
	_, err = j.Stat("/private/x")
	assertDenied(t, err, "Stat inside a root 0700 folder")
	list, err := j.ReadDir("/")
	if err != nil || len(list) == 0 {
		t.Errorf("ReadDir of the account's own folder: %d entries, %v", len(list), err)
	}
}

// TestSubFolderOpenedAsAccount: a sub-user folder the account cannot
// reach is not opened for it by the root process either.
func TestSubFolderOpenedAsAccount(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	l := newLayout(t)
	if err := os.Chmod(l.site, 0o700); err != nil { // root:root 0700
		t.Fatal(err)
	}
	_, err := New(l.home, "site", Options{UID: testID, GID: testID})
	if !errors.Is(err, os.ErrPermission) {
		t.Errorf("New on a folder the account cannot enter: %v, want a permission error", err)
	}
}

// TestIdentityRestored: after many calls as different accounts on many
// goroutines, no thread of the process is left with an account's ids or
// groups: each thread's fsuid and fsgid in /proc is the server's again.
func TestIdentityRestored(t *testing.T) {
	t.Parallel()
	l, j := accountLayout(t)
	other := l.newFs(t, Options{UID: otherID, GID: otherID, Groups: []int{groupID}, Umask: 0o022})
	l.rootFile(t, "secret.conf", "root only", 0o600)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fs := j
			if i%2 == 1 {
				fs = other
			}
			for range 200 {
				fs.Stat("/index.html")
				fs.ReadDir("/dir")
				closeIfOpen(fs.Open("/secret.conf"))
			}
		}()
	}
	wg.Wait()
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("listing threads: %v", err)
	}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			// "Uid:\treal\teffective\tsaved\tfilesystem"; Groups: the list.
			f := strings.Fields(line)
			switch {
			case len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:") && f[4] != "0":
				t.Errorf("%s: %s", p, line)
			case len(f) > 0 && f[0] == "Groups:" && (slicesHas(f[1:], otherID) || slicesHas(f[1:], testID) || slicesHas(f[1:], groupID)):
				t.Errorf("%s: %s", p, line)
			}
		}
	}
	// And this goroutine, on whatever thread, still reads as root.
	if _, err := os.ReadFile(filepath.Join(l.site, "secret.conf")); err != nil {
		t.Errorf("the process lost root's access: %v", err)
	}
}

func slicesHas(fields []string, id int) bool {
	return slices.Contains(fields, strconv.Itoa(id))
}

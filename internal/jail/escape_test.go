//go:build linux

package jail

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jailOp is one file system operation aimed at a path.
type jailOp struct {
	name string
	// linkItself: the op works on the last path component without following
	// it (lstat, unlink, rename, mkdir), so on a path that *is* an escaping
	// symlink it legitimately acts on the link, which lives inside the root.
	// Those cases are in TestEscapingLinkItself instead.
	linkItself bool
	// destructive: if the jail were broken this would modify or delete the
	// target, so it is never aimed at existing files of the real /etc.
	destructive bool
	run         func(j *Fs, p string) error
}

var mtime2001 = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

var jailOps = []jailOp{
	{name: "Open", run: func(j *Fs, p string) error { return closeIfOpen(j.Open(p)) }},
	{name: "Readdir", run: func(j *Fs, p string) error {
		f, err := j.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Readdir(-1)
		return err
	}},
	{name: "ReadDir", run: func(j *Fs, p string) error { _, err := j.ReadDir(p); return err }},
	{name: "OpenFile/RDONLY", run: func(j *Fs, p string) error {
		return closeIfOpen(j.OpenFile(p, os.O_RDONLY, 0))
	}},
	// No O_TRUNC and nothing written: harmless even if it reached /etc/passwd.
	{name: "OpenFile/RDWR|CREATE", run: func(j *Fs, p string) error {
		return closeIfOpen(j.OpenFile(p, os.O_RDWR|os.O_CREATE, os.ModePerm))
	}},
	{name: "OpenFile/WRONLY|CREATE|TRUNC", destructive: true, run: func(j *Fs, p string) error {
		return closeIfOpen(j.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.ModePerm))
	}},
	// O_EXCL never follows the last component: on a link it says "exists".
	{name: "OpenFile/WRONLY|CREATE|EXCL", linkItself: true, destructive: true, run: func(j *Fs, p string) error {
		return closeIfOpen(j.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.ModePerm))
	}},
	{name: "OpenFile/APPEND+write", destructive: true, run: func(j *Fs, p string) error {
		f, err := j.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString("pwned\n")
		return err
	}},
	{name: "Create", destructive: true, run: func(j *Fs, p string) error { return closeIfOpen(j.Create(p)) }},
	{name: "Stat", run: func(j *Fs, p string) error { _, err := j.Stat(p); return err }},
	{name: "Lstat", linkItself: true, run: func(j *Fs, p string) error {
		_, err := j.Lstat(p)
		return err
	}},
	{name: "Mkdir", linkItself: true, run: func(j *Fs, p string) error { return j.Mkdir(p, os.ModePerm) }},
	{name: "MkdirAll", run: func(j *Fs, p string) error { return j.MkdirAll(filepath.Join(p, "x", "y"), os.ModePerm) }},
	{name: "MkdirAll/exact", run: func(j *Fs, p string) error { return j.MkdirAll(p, os.ModePerm) }},
	{name: "Remove", linkItself: true, destructive: true, run: func(j *Fs, p string) error { return j.Remove(p) }},
	{name: "RemoveAll", linkItself: true, destructive: true, run: func(j *Fs, p string) error { return j.RemoveAll(p) }},
	{name: "Rename/from", linkItself: true, destructive: true, run: func(j *Fs, p string) error {
		return j.Rename(p, "/renamed")
	}},
	{name: "Rename/to", linkItself: true, destructive: true, run: func(j *Fs, p string) error {
		return j.Rename("/scratch.txt", p)
	}},
	{name: "Chmod", destructive: true, run: func(j *Fs, p string) error { return j.Chmod(p, 0o777) }},
	{name: "Chtimes", destructive: true, run: func(j *Fs, p string) error { return j.Chtimes(p, mtime2001, mtime2001) }},
}

// escapeTargets are paths that, through some symlink, point outside the
// root. Every op on them must fail with ErrEscape and change nothing.
var escapeTargets = []struct {
	path string
	// final: the last component is itself the escaping link (skip linkItself ops)
	final bool
	// system: leads to existing files of the real /etc (skip destructive ops)
	system bool
}{
	// absolute symlinks into the real /etc
	{path: "/link-etc", final: true, system: true},
	{path: "/link-etc/passwd", system: true},
	{path: "/link-etc/" + etcProbe}, // does not exist: every op is harmless
	{path: "/link-etc/" + etcProbe + "/x"},
	{path: "/link-passwd", final: true, system: true},
	{path: "/link-dotdot-deep", final: true, system: true},
	// absolute symlinks to files and dirs outside, in the temp dir
	{path: "/link-outside", final: true},
	{path: "/link-outside-dir", final: true},
	{path: "/link-outside-dir/inner.txt"},
	{path: "/link-outside-dir/new.txt"},
	// relative symlinks climbing to alice's home above the sub-user dir
	{path: "/link-home-secret", final: true},
	{path: "/link-home", final: true},
	{path: "/link-home/home-secret.txt"},
	{path: "/link-home/new.txt"},
	{path: "/link-home/site/index.html"}, // out and back in still leaves the root
	{path: "/dir/link-up", final: true},
	{path: "/link-chain", final: true}, // inside link to a link that climbs out
	// symlinks into another account's home
	{path: "/link-bob", final: true},
	{path: "/link-bob/secret.txt"},
	{path: "/link-bob/public_html/new.txt"},
	{path: "/link-bob-secret", final: true},
	// odd spellings of the same escapes
	{path: "link-bob/secret.txt"},
	{path: "//link-bob/./secret.txt/"},
	{path: "/empty/../link-bob//secret.txt"},
	{path: "../../link-bob/secret.txt"},
}

// TestEscapeMatrix runs every operation against every escaping path, as
// the process and, when root, as the account owning the site.
func TestEscapeMatrix(t *testing.T) {
	t.Parallel()
	for _, asAccount := range []bool{false, true} {
		name := "process"
		if asAccount {
			name = "account"
		}
		t.Run(name, func(t *testing.T) {
			if asAccount {
				requireRoot(t)
			}
			escapeMatrix(t, asAccount)
		})
	}
}

func escapeMatrix(t *testing.T, asAccount bool) {
	for _, tgt := range escapeTargets {
		t.Run(tgt.path, func(t *testing.T) {
			l := newLayout(t)
			opts := defaultOpts
			if asAccount {
				l.giveSite(t, testID, testID)
				opts.UID, opts.GID = testID, testID
			}
			j := l.newFs(t, opts)
			for _, op := range jailOps {
				if (tgt.final && op.linkItself) || (tgt.system && op.destructive) {
					continue
				}
				t.Run(op.name, func(t *testing.T) {
					before := l.outsideSnapshot(t)
					siteBefore := l.realState(t, ".")
					err := op.run(j, l.expand(tgt.path))
					assertEscapeErr(t, err, op.name+" "+tgt.path)
					l.assertOutsideUnchanged(t, before, op.name+" "+tgt.path)
					if got := l.realState(t, "."); got != siteBefore {
						t.Errorf("a refused op changed the root dir: %+v -> %+v", siteBefore, got)
					}
				})
			}
		})
	}
}

// TestEscapingLinkItself covers ops that act on an escaping symlink itself:
// they may succeed, but only on the link inside the root.
func TestEscapingLinkItself(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		run   func(j *Fs) error
		check func(t *testing.T, l *layout)
	}{
		{"Lstat describes the link", func(j *Fs) error {
			fi, err := j.Lstat("/link-etc")
			if err == nil && fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("Lstat(link-etc) mode = %v, want a symlink", fi.Mode())
			}
			return err
		}, nil},
		{"Remove deletes only the link", func(j *Fs) error { return j.Remove("/link-outside") }, func(t *testing.T, l *layout) {
			if _, err := os.Lstat(filepath.Join(l.site, "link-outside")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("link still there: %v", err)
			}
		}},
		{"RemoveAll deletes only the link", func(j *Fs) error { return j.RemoveAll("/link-outside-dir") }, func(t *testing.T, l *layout) {
			if _, err := os.Lstat(filepath.Join(l.site, "link-outside-dir")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("link still there: %v", err)
			}
		}},
		{"Remove of a link to /etc/passwd", func(j *Fs) error { return j.Remove("/link-passwd") }, nil},
		{"Rename moves the link", func(j *Fs) error { return j.Rename("/link-bob", "/moved") }, func(t *testing.T, l *layout) {
			if s := l.realState(t, "moved"); s.Link != "../../bob" {
				t.Errorf("moved link = %+v", s)
			}
		}},
		{"Rename over the link replaces the link", func(j *Fs) error { return j.Rename("/scratch.txt", "/link-home-secret") }, func(t *testing.T, l *layout) {
			if s := l.realState(t, "link-home-secret"); s.Data != "scratch" {
				t.Errorf("link-home-secret = %+v, want the scratch file", s)
			}
		}},
		{"Mkdir on the link name says it exists", func(j *Fs) error {
			if err := j.Mkdir("/link-etc", 0); !errors.Is(err, os.ErrExist) {
				t.Errorf("Mkdir(link-etc) = %v, want ErrExist", err)
			}
			return nil
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			j := l.newFs(t, defaultOpts)
			before := l.outsideSnapshot(t)
			if err := tt.run(j); err != nil {
				t.Fatalf("err = %v", err)
			}
			l.assertOutsideUnchanged(t, before, tt.name)
			if tt.check != nil {
				tt.check(t, l)
			}
		})
	}
}

// dotDotPaths try to climb with "..": they clamp to the virtual root, so an
// op may succeed, but only ever on something inside.
var dotDotPaths = []string{
	"..", "/..", "../..", "../", "/../../", "../x", "/../../x", "a/../../x",
	"../home-secret.txt", "/../../home-secret.txt", "../../bob/secret.txt",
	"dir/../../../home-secret.txt", "dir/sub/../../../../bob/secret.txt",
	"//..//..//index.html", "./../dir/./nested.txt", "../site/index.html",
	"..%2f..%2fhome-secret.txt", `..\..\home-secret.txt`, "...", ".../...",
	"../../../../../../../../../../etc/passwd", "dir/../../..", "../../../tmp",
}

// TestDotDotMatrix runs every operation (destructive ones too: nothing can
// reach /etc) on every ".." form, and the same operation on the path it
// clamps to (path.Clean("/"+p), which has no "..") in a second, identical
// layout: each must end the same way (success, or the same error) and
// leave the same files inside, and nothing outside may change. A read
// that climbs out (Stat of "../home-secret.txt" finding the file above
// the root) succeeds where its clamped twin finds nothing. The ops share
// one layout per path, so later ops see what earlier ones did, in both.
func TestDotDotMatrix(t *testing.T) {
	t.Parallel()
	for _, p := range dotDotPaths {
		clamped := path.Clean("/" + p)
		t.Run(p, func(t *testing.T) {
			l, twin := newLayout(t), newLayout(t)
			j, jTwin := l.newFs(t, defaultOpts), twin.newFs(t, defaultOpts)
			for _, op := range jailOps {
				t.Run(op.name, func(t *testing.T) {
					before := l.outsideSnapshot(t)
					got, want := op.run(j, p), op.run(jTwin, clamped)
					if outcome(got) != outcome(want) {
						t.Errorf("%s %q: %v; on %q: %v", op.name, p, got, clamped, want)
					}
					l.assertOutsideUnchanged(t, before, op.name+" "+p)
					if a, b := l.siteTree(t), twin.siteTree(t); !maps.Equal(a, b) {
						t.Errorf("%s %q left the root as\n %v\nand on %q as\n %v", op.name, p, a, clamped, b)
					}
				})
			}
		})
	}
}

// outcome names how an op ended: ok, the jail's escape refusal, or the
// system error, without the paths an error's text carries.
func outcome(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrEscape):
		return "escape"
	case errors.As(err, &errno):
		return errno.Error()
	}
	return fmt.Sprintf("%T", err)
}

// siteTree describes what is inside the root, for comparing two layouts:
// every entry's path, type, size, contents or link target (times and
// inodes differ between layouts, and so do the temporary folders).
func (l *layout) siteTree(t testing.TB) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(l.site, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		s, err := stateOf(p)
		if err != nil {
			return err
		}
		name, _ := filepath.Rel(l.site, p)
		link := strings.ReplaceAll(s.Link, l.tmp, "$TMP") // links to the layout's own outside
		tree[name] = fmt.Sprintf("%v %d %q %q", s.Mode, s.Size, s.Data, link)
		return nil
	})
	if err != nil {
		t.Fatalf("listing the root: %v", err)
	}
	return tree
}

// TestDotDotClampsToRoot pins where ".." forms land.
func TestDotDotClampsToRoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want string // site-relative path it must act on, "" = must not exist
	}{
		{"..", "."},
		{"/../..", "."},
		{"dir/../../..", "."},
		{"../index.html", "index.html"},
		{"/../../index.html", "index.html"},
		{"a/../../index.html", "index.html"},
		{"//..//..//index.html", "index.html"},
		{"./../dir/./nested.txt", "dir/nested.txt"},
		{"dir/sub/../../../../dir/nested.txt", "dir/nested.txt"},
		{"../home-secret.txt", ""},
		{"../../bob/secret.txt", ""},
		{"../../../../../../../../etc/passwd", ""},
		{"..%2f..%2fhome-secret.txt", ""},
	}
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			fi, err := j.Stat(tt.path)
			if tt.want == "" {
				if !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("Stat = %v, %v; want ErrNotExist", fi, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(fi, mustStat(t, filepath.Join(l.site, tt.want))) {
				t.Errorf("Stat(%q) is not site/%s", tt.path, tt.want)
			}
		})
	}

	t.Run("Create clamps", func(t *testing.T) {
		before := l.outsideSnapshot(t)
		for _, p := range []string{"../clamped.txt", "/../../clamped2.txt", "dir/../../../clamped3.txt"} {
			if err := closeIfOpen(j.Create(p)); err != nil {
				t.Fatalf("Create(%q): %v", p, err)
			}
		}
		for _, name := range []string{"clamped.txt", "clamped2.txt", "clamped3.txt"} {
			l.realState(t, name)
		}
		l.assertOutsideUnchanged(t, before, "Create")
	})

	t.Run("Create through missing parent", func(t *testing.T) {
		// "../../bob/secret.txt" means "/bob/secret.txt"; there is no /bob.
		if err := closeIfOpen(j.Create("../../bob/secret.txt")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
}

func mustStat(t testing.TB, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// TestLiteralNames: encoded or backslashed dots are plain file names.
func TestLiteralNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"..%2f..%2fx", `..\..\x`, "...", "..x", "x.."} {
		t.Run(name, func(t *testing.T) {
			l := newLayout(t)
			j := l.newFs(t, defaultOpts)
			before := l.outsideSnapshot(t)
			if err := closeIfOpen(j.Create("/" + name)); err != nil {
				t.Fatal(err)
			}
			if s := l.realState(t, name); !s.Mode.IsRegular() {
				t.Errorf("site/%s is %v", name, s.Mode)
			}
			l.assertOutsideUnchanged(t, before, "Create "+name)
		})
	}
}

//go:build linux

package jail

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestSymlinkSwappedAfterNew: the account's own scripts replace a file or
// directory by a symlink after login (between CWD and RETR). Resolution is
// done afresh on every call, so the jail must refuse the new link.
func TestSymlinkSwappedAfterNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		swap   string // site-relative path replaced by a symlink
		target string // "@OUT@" = the outside dir
		probe  string // path used after the swap
		system bool   // target is in the real /etc: no destructive ops
	}{
		{name: "dir to outside dir", swap: "dir", target: "@OUT@/targetdir", probe: "/dir/inner.txt"},
		{name: "dir to new name outside", swap: "dir", target: "@OUT@/targetdir", probe: "/dir/new.txt"},
		{name: "dir to other account", swap: "dir", target: "../../bob", probe: "/dir/secret.txt"},
		{name: "dir to home above", swap: "dir", target: "..", probe: "/dir/home-secret.txt"},
		{name: "dir to /etc", swap: "dir", target: "/etc", probe: "/dir/passwd", system: true},
		{name: "nested dir to /etc", swap: "dir/sub", target: "/etc", probe: "/dir/sub/" + etcProbe},
		{name: "file to /etc/passwd", swap: "index.html", target: "/etc/passwd", probe: "/index.html", system: true},
		{name: "file to home secret", swap: "index.html", target: "../home-secret.txt", probe: "/index.html"},
		{name: "file to other account", swap: "index.html", target: "../../bob/secret.txt", probe: "/index.html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			j := l.newFs(t, defaultOpts)
			// The client looks first (CWD / SIZE): all fine and inside.
			if _, err := j.Stat(filepath.Dir(tt.probe)); err != nil {
				t.Fatalf("before the swap: %v", err)
			}
			real := filepath.Join(l.site, tt.swap)
			if err := os.RemoveAll(real); err != nil {
				t.Fatal(err)
			}
			target := tt.target
			if len(target) >= 5 && target[:5] == "@OUT@" {
				target = l.outside + target[5:]
			}
			if err := os.Symlink(target, real); err != nil {
				t.Fatal(err)
			}
			for _, op := range jailOps {
				if op.linkItself && tt.probe == "/"+tt.swap {
					continue
				}
				if op.destructive && tt.system {
					continue
				}
				t.Run(op.name, func(t *testing.T) {
					before := l.outsideSnapshot(t)
					assertEscapeErr(t, op.run(j, l.expand(tt.probe)), op.name+" "+tt.probe)
					l.assertOutsideUnchanged(t, before, op.name)
				})
			}
		})
	}
}

// TestSubDirReplacedAfterLogin: the sub-user directory is moved away and a
// symlink to outside is put in its place while the session runs. The
// session keeps working on the directory it opened, never on the link.
func TestSubDirReplacedAfterLogin(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	moved := filepath.Join(l.home, "site.old")
	if err := os.Rename(l.site, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(l.outside, "targetdir"), l.site); err != nil {
		t.Fatal(err)
	}
	l.site = moved // the jail root is now here; everything else is outside
	before := l.outsideSnapshot(t)

	if _, err := j.Stat("/inner.txt"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(/inner.txt) = %v, want ErrNotExist: the session followed the new link", err)
	}
	if err := closeIfOpen(j.Create("/new.txt")); err != nil {
		t.Fatal(err)
	}
	if err := j.Mkdir("/newdir", 0); err != nil {
		t.Fatal(err)
	}
	if err := j.Remove("/index.html"); err != nil {
		t.Fatal(err)
	}
	l.realState(t, "new.txt")
	l.realState(t, "newdir")
	l.assertOutsideUnchanged(t, before, "ops after the swap")
}

// TestSwapRace flips a directory between a real one and a symlink to
// outside as fast as possible while the session hammers paths below it.
// Whatever interleaving happens, nothing outside may be touched, and every
// file that did open must be the inside one.
func TestSwapRace(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	flip := filepath.Join(l.site, "flip")
	stash := filepath.Join(l.site, "flip-stash")
	mustMkdir(t, flip)
	writeFile(t, filepath.Join(flip, "inner.txt"), "inside inner")
	outsideInner := mustStat(t, filepath.Join(l.outside, "targetdir", "inner.txt"))
	before := l.outsideSnapshot(t)

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			// flip <- symlink to outside, then back to the real directory.
			// Errors are expected: the session may have created or removed
			// entries in between.
			_ = os.Rename(flip, stash)
			_ = os.Symlink(filepath.Join(l.outside, "targetdir"), flip)
			_ = os.Remove(flip)
			_ = os.Rename(stash, flip)
		}
	}()

	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	for range iterations {
		if f, err := j.Open("/flip/inner.txt"); err == nil {
			fi, _ := f.Stat()
			f.Close()
			if os.SameFile(fi, outsideInner) {
				t.Fatal("opened the outside inner.txt through the flipping link")
			}
		} else if escapes(err) || (errors.Is(err, os.ErrPermission) && !errors.Is(err, ErrEscape)) {
			t.Fatalf("unwrapped escape error: %v", err)
		}
		if fi, err := j.Stat("/flip/inner.txt"); err == nil && os.SameFile(fi, outsideInner) {
			t.Fatal("Stat reached the outside inner.txt")
		}
		_ = closeIfOpen(j.OpenFile("/flip/new.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0))
		_ = j.Chmod("/flip/inner.txt", 0o777)
		_ = j.Chtimes("/flip/inner.txt", mtime2001, mtime2001)
		_ = j.Remove("/flip/new.txt")
		_ = j.Mkdir("/flip/d", 0)
		_ = j.Remove("/flip/d")
	}
	stop.Store(true)
	wg.Wait()
	l.assertOutsideUnchanged(t, before, "racing ops")
}

// TestNew covers opening the jail, including a sub-user directory that is
// itself a symlink planted inside the home.
func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, l *layout) // may plant links in home
		sub     string
		wantErr error // nil = must succeed
		anyErr  bool  // must fail, error kind unimportant
	}{
		{name: "sub-user dir", sub: "site"},
		{name: "home itself", sub: "."},
		{name: "nested sub", sub: "site/dir"},
		{name: "missing", sub: "nope", wantErr: os.ErrNotExist},
		{name: "missing nested", sub: "site/nope/x", wantErr: os.ErrNotExist},
		{name: "dotdot", sub: "../bob", anyErr: true},
		{name: "absolute", sub: "/etc", anyErr: true},
		{name: "empty", sub: "", anyErr: true},
		{name: "a file", sub: "home-secret.txt", anyErr: true},
		{name: "link inside home", sub: "alias", prepare: link("alias", "site")},
		{name: "link to other account", sub: "evil", prepare: link("evil", "../bob"), wantErr: ErrEscape},
		{name: "absolute link to /etc", sub: "evil", prepare: link("evil", "/etc"), wantErr: ErrEscape},
		{name: "absolute link to outside", sub: "evil", prepare: link("evil", "@OUT@/targetdir"), wantErr: ErrEscape},
		{name: "link in the middle", sub: "evil/targetdir", prepare: link("evil", "@OUT@"), wantErr: ErrEscape},
		{name: "link through site", sub: "site/link-bob", wantErr: ErrEscape},
		{name: "sub-user dir replaced by link before New", sub: "site", prepare: func(t *testing.T, l *layout) {
			if err := os.Rename(l.site, filepath.Join(l.home, "site.old")); err != nil {
				t.Fatal(err)
			}
			link("site", "@OUT@/targetdir")(t, l)
		}, wantErr: ErrEscape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			if tt.prepare != nil {
				tt.prepare(t, l)
			}
			before := l.outsideSnapshot(t)
			j, err := New(l.home, tt.sub, defaultOpts)
			if j != nil {
				defer j.Close()
			}
			switch {
			case tt.anyErr:
				if err == nil {
					t.Fatal("New succeeded, want an error")
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("New = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == ErrEscape && !errors.Is(err, os.ErrPermission) {
					t.Fatalf("New = %v, want it to match os.ErrPermission", err)
				}
			case err != nil:
				t.Fatalf("New: %v", err)
			default:
				if _, err := j.Stat("/"); err != nil {
					t.Fatal(err)
				}
			}
			l.assertOutsideUnchanged(t, before, "New")
		})
	}
}

// link returns a prepare func planting home/name -> target ("@OUT@" = outside).
func link(name, target string) func(t *testing.T, l *layout) {
	return func(t *testing.T, l *layout) {
		if len(target) >= 5 && target[:5] == "@OUT@" {
			target = l.outside + target[5:]
		}
		if err := os.Symlink(target, filepath.Join(l.home, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEscapeErrorShape pins what the engine sees for an escape.
func TestEscapeErrorShape(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	_, err := j.Open("/link-etc/passwd")
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Err != ErrEscape {
		t.Fatalf("Open = %#v, want *os.PathError{Err: ErrEscape}", err)
	}
	if !errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open = %v: must match ErrPermission only", err)
	}
	err = j.Rename("/link-bob/secret.txt", "/x")
	var le *os.LinkError
	if !errors.As(err, &le) || le.Err != ErrEscape {
		t.Fatalf("Rename = %#v, want *os.LinkError{Err: ErrEscape}", err)
	}
	// A symlink loop inside is not an escape: it must stay ELOOP.
	if err := os.Symlink("loop-b", filepath.Join(l.site, "loop-a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop-a", filepath.Join(l.site, "loop-b")); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Stat("/loop-a"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Stat(loop) = %v, want ELOOP", err)
	}
}

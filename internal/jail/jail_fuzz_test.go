//go:build linux

package jail

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// fuzzOverride keeps the fuzzer away from the real /etc: a broken jail
// under fuzzing as root could otherwise delete /etc/passwd. Links of the
// same kinds (absolute, and relative climbing far up) point into the
// temp dir's outside tree instead.
var fuzzOverride = map[string]string{
	"link-etc":         "@OUT@",
	"link-passwd":      "@OUT@/target.txt",
	"link-dotdot-deep": "../../../outside/target.txt",
}

// FuzzResolve feeds arbitrary path strings to every path-taking operation
// and checks that each either fails or acts inside the root: nothing
// outside the root may change, no file opened or stat'ed may be an outside
// one, os.Root's escape error must always come back wrapped, and nothing
// may panic.
func FuzzResolve(f *testing.F) {
	l := newLayoutWith(f, fuzzOverride)
	j := l.newFs(f, defaultOpts)
	before := l.outsideSnapshot(f)
	outside := inodes(before)

	f.Fuzz(func(t *testing.T, name string) {
		defer l.repair(t)
		check := func(op string, err error) {
			if escapes(err) {
				t.Errorf("%s(%q): os.Root escape error not wrapped: %v", op, name, err)
			}
		}
		checkInfo := func(op string, fi os.FileInfo, err error) {
			check(op, err)
			if err == nil && outside[inodeOf(fi)] {
				t.Errorf("%s(%q) reached %v outside the root", op, name, fi.Name())
			}
		}
		checkFile := func(op string, fl interface {
			Stat() (os.FileInfo, error)
			Close() error
		}, err error) {
			if err != nil {
				check(op, err)
				return
			}
			fi, serr := fl.Stat()
			fl.Close()
			checkInfo(op, fi, serr)
		}

		fi, err := j.Stat(name)
		checkInfo("Stat", fi, err)
		fi, err = j.Lstat(name)
		checkInfo("Lstat", fi, err)
		fl, err := j.Open(name)
		checkFile("Open", fl, err)
		fl, err = j.OpenFile(name, os.O_RDWR|os.O_CREATE, os.ModePerm)
		checkFile("OpenFile", fl, err)
		check("Chmod", j.Chmod(name, 0o755))
		check("Chtimes", j.Chtimes(name, mtime2001, mtime2001))
		check("Mkdir", j.Mkdir(name, os.ModePerm))
		check("MkdirAll", j.MkdirAll(name+"/x", os.ModePerm))
		check("Rename/to", j.Rename("/scratch.txt", name))
		check("Rename/from", j.Rename(name, "/fuzz-renamed"))
		check("Remove", j.Remove(name))
		check("RemoveAll", j.RemoveAll(name))
		l.assertOutsideUnchanged(t, before, "ops on "+name)
		if t.Failed() {
			t.FailNow() // the snapshot is now wrong for later inputs
		}
	})
}

type devIno struct{ dev, ino uint64 }

func inodeOf(fi os.FileInfo) devIno {
	st := fi.Sys().(*syscall.Stat_t)
	return devIno{uint64(st.Dev), st.Ino}
}

// inodes collects every outside inode of a snapshot.
func inodes(snap map[string]fileState) map[devIno]bool {
	set := map[devIno]bool{}
	for p := range snap {
		if fi, err := os.Lstat(p); err == nil {
			set[inodeOf(fi)] = true
		}
		if fi, err := os.Stat(p); err == nil {
			set[inodeOf(fi)] = true
		}
	}
	return set
}

func newLayoutWith(t testing.TB, override map[string]string) *layout {
	t.Helper()
	// newLayout plants the default links; re-plant the overridden ones.
	l := newLayout(t)
	l.override = override
	for name := range override {
		if err := os.Remove(filepath.Join(l.site, name)); err != nil {
			t.Fatal(err)
		}
		l.plantLink(t, name)
	}
	return l
}

// repair puts the site back to the initial layout after an input: extra
// entries go, missing or altered ones are re-created.
func (l *layout) repair(t testing.TB) {
	t.Helper()
	known := map[string]bool{".": true}
	for _, d := range siteDirs {
		known[d] = true
	}
	for name := range siteFiles {
		known[name] = true
	}
	for name := range links {
		known[name] = true
	}
	for _, dir := range append([]string{"."}, siteDirs...) {
		real := filepath.Join(l.site, dir)
		if fi, err := os.Lstat(real); err != nil || !fi.IsDir() {
			os.RemoveAll(real)
			mustMkdir(t, real)
		}
		entries, err := os.ReadDir(real)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			rel := filepath.ToSlash(filepath.Join(dir, e.Name()))
			if !known[rel] {
				if err := os.RemoveAll(filepath.Join(real, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for name, data := range siteFiles {
		real := filepath.Join(l.site, name)
		if b, err := os.ReadFile(real); err != nil || !bytes.Equal(b, []byte(data)) || !isRegular(real) {
			os.RemoveAll(real)
			writeFile(t, real, data)
		}
	}
	names := make([]string, 0, len(links))
	for name := range links {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Count(a, "/") - strings.Count(b, "/") })
	for _, name := range names {
		real := filepath.Join(l.site, name)
		if target, err := os.Readlink(real); err != nil || target != l.linkTarget(name) {
			os.RemoveAll(real)
			l.plantLink(t, name)
		}
	}
}

func isRegular(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

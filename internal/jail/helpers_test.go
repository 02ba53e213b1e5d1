//go:build linux

package jail

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// etcProbe stands in test paths for the layout's probe: a name that must
// never appear in the real /etc. Escape tests aim creations at it through
// a symlink to /etc.
const etcProbe = "@PROBE@"

// probeName is the test's own /etc probe, so that tests running at once
// (here or in another process) never see or remove each other's.
func probeName(t testing.TB) string {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	return fmt.Sprintf("panelftp-jail-probe-%d-%x", os.Getpid(), h.Sum64())
}

// layout is the test world, all in one t.TempDir():
//
//	base/alice/home-secret.txt   alice's home, above her sub-user dir
//	base/alice/site/...          the sub-user dir: the jail root
//	base/bob/secret.txt          another account
//	outside/target.txt           stands in for "/etc-like" files
//	outside/targetdir/inner.txt
//
// plus symlinks inside site that point everywhere (see links).
type layout struct {
	tmp, base, home, site, bob, outside string
	// probe is the name in /etc this layout's tests watch (see etcProbe).
	probe string
	// override replaces link targets (site-relative name -> target).
	override map[string]string
}

// links are planted inside site. Keys are paths relative to site; "@OUT@"
// is replaced with the outside dir.
var links = map[string]string{
	"link-etc":         "/etc",
	"link-passwd":      "/etc/passwd",
	"link-dotdot-deep": "../../../../../../../../../../etc/passwd",
	"link-outside":     "@OUT@/target.txt",
	"link-outside-dir": "@OUT@/targetdir",
	"link-home-secret": "../home-secret.txt",
	"link-home":        "..",
	"link-bob":         "../../bob",
	"link-bob-secret":  "../../bob/secret.txt",
	"dir/link-up":      "../../home-secret.txt",
	"link-chain":       "dir/link-up",
	"link-good":        "dir",
	"link-good-file":   "index.html",
	"dir/link-good-up": "../index.html",
}

var siteFiles = map[string]string{
	"index.html":       "<h1>site</h1>",
	"scratch.txt":      "scratch",
	"dir/nested.txt":   "nested",
	"dir/sub/deep.txt": "deep",
}

var siteDirs = []string{"dir", "dir/sub", "empty"}

func newLayout(t testing.TB) *layout {
	t.Helper()
	tmp := t.TempDir()
	l := &layout{
		tmp:     tmp,
		base:    filepath.Join(tmp, "base"),
		home:    filepath.Join(tmp, "base", "alice"),
		site:    filepath.Join(tmp, "base", "alice", "site"),
		bob:     filepath.Join(tmp, "base", "bob"),
		outside: filepath.Join(tmp, "outside"),
		probe:   probeName(t),
	}
	for _, d := range []string{l.site, filepath.Join(l.bob, "public_html"), filepath.Join(l.outside, "targetdir")} {
		mustMkdir(t, d)
	}
	writeFile(t, filepath.Join(l.home, "home-secret.txt"), "alice home secret")
	writeFile(t, filepath.Join(l.bob, "secret.txt"), "bob secret")
	writeFile(t, filepath.Join(l.outside, "target.txt"), "outside target")
	writeFile(t, filepath.Join(l.outside, "targetdir", "inner.txt"), "outside inner")
	for _, d := range siteDirs {
		mustMkdir(t, filepath.Join(l.site, d))
	}
	for name, data := range siteFiles {
		writeFile(t, filepath.Join(l.site, name), data)
	}
	for name := range links {
		l.plantLink(t, name)
	}
	// Distinct, old times make any later touch visible.
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, p := range []string{
		filepath.Join(l.home, "home-secret.txt"), filepath.Join(l.bob, "secret.txt"),
		filepath.Join(l.outside, "target.txt"), filepath.Join(l.outside, "targetdir", "inner.txt"),
	} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// expand puts the layout's probe name in place of etcProbe in a test path.
func (l *layout) expand(path string) string {
	return strings.ReplaceAll(path, etcProbe, l.probe)
}

func (l *layout) linkTarget(name string) string {
	target, ok := l.override[name]
	if !ok {
		target = links[name]
	}
	if len(target) >= 5 && target[:5] == "@OUT@" {
		target = l.outside + target[5:]
	}
	return target
}

func (l *layout) plantLink(t testing.TB, name string) {
	t.Helper()
	if err := os.Symlink(l.linkTarget(name), filepath.Join(l.site, name)); err != nil {
		t.Fatal(err)
	}
}

func (l *layout) newFs(t testing.TB, opts Options) *Fs {
	t.Helper()
	j, err := New(l.home, "site", opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// defaultOpts leaves ownership alone so tests without root work too.
var defaultOpts = Options{UID: -1, GID: -1, Umask: 0o022}

func mustMkdir(t testing.TB, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
}

// fileState is everything about a path that an escaping write, chmod,
// chtimes, rename or delete would change. ctime catches metadata changes.
type fileState struct {
	Mode         fs.FileMode
	Size         int64
	Mtime, Ctime int64
	UID, GID     uint32
	Ino          uint64
	Link, Data   string
}

func stateOf(p string) (fileState, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return fileState{}, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	s := fileState{
		Mode: fi.Mode(), Size: fi.Size(), Mtime: fi.ModTime().UnixNano(),
		Ctime: st.Ctim.Nano(), UID: st.Uid, GID: st.Gid, Ino: st.Ino,
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		s.Link, err = os.Readlink(p)
	case fi.Mode().IsRegular():
		var b []byte
		b, err = os.ReadFile(p)
		s.Data = string(b)
	}
	return s, err
}

// outsideSnapshot records everything outside the jail root that a broken
// jail could touch: the whole temp dir except the site subtree (and the
// site entry itself, whose mtime legitimately changes), /etc/passwd, and
// whether the /etc probe exists.
func (l *layout) outsideSnapshot(t testing.TB) map[string]fileState {
	t.Helper()
	snap := map[string]fileState{}
	err := filepath.WalkDir(l.tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == l.site {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // SkipDir on a non-dir would skip its siblings
		}
		s, err := stateOf(p)
		snap[p] = s
		return err
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	s, err := stateOf("/etc/passwd")
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	snap["/etc/passwd"] = s
	if _, err := os.Lstat(filepath.Join("/etc", l.probe)); err == nil {
		snap["/etc/"+l.probe] = fileState{Data: "EXISTS"}
		// Never leave litter in the real /etc, even when failing.
		os.RemoveAll(filepath.Join("/etc", l.probe))
	}
	return snap
}

// assertOutsideUnchanged fails the test naming every path outside the root
// that appeared, vanished or changed since before.
func (l *layout) assertOutsideUnchanged(t testing.TB, before map[string]fileState, what string) {
	t.Helper()
	after := l.outsideSnapshot(t)
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			t.Errorf("%s: %s outside the root was deleted or moved", what, p)
		case !reflect.DeepEqual(a, b):
			t.Errorf("%s: %s outside the root changed:\n before %+v\n after  %+v", what, p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: %s was created outside the root", what, p)
		}
	}
}

// assertEscapeErr fails unless err is the jail's permission-style refusal.
func assertEscapeErr(t testing.TB, err error, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want an escape error", what)
		return
	}
	if !errors.Is(err, os.ErrPermission) || !errors.Is(err, ErrEscape) {
		t.Errorf("%s: err = %v, want one matching os.ErrPermission and ErrEscape", what, err)
	}
}

// realState reads a path inside the site from the real filesystem.
func (l *layout) realState(t testing.TB, rel string) fileState {
	t.Helper()
	s, err := stateOf(filepath.Join(l.site, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("state of site/%s: %v", rel, err)
	}
	return s
}

func ownerOf(t testing.TB, p string) (uid, gid uint32) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

func closeIfOpen(f interface{ Close() error }, err error) error {
	if err == nil && f != nil {
		if cerr := f.Close(); cerr != nil {
			return fmt.Errorf("close: %w", cerr)
		}
	}
	return err
}

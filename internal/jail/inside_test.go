//go:build linux

package jail

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestReadWriteInside walks a file through an upload's life.
func TestReadWriteInside(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"create and write", func(t *testing.T) {
			f, err := j.Create("/up.txt")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("hello"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"read", func(t *testing.T) {
			assertContent(t, j, "/up.txt", "hello")
		}},
		{"append (APPE)", func(t *testing.T) {
			f, err := j.OpenFile("/up.txt", os.O_WRONLY|os.O_APPEND|os.O_CREATE, os.ModePerm)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(" world"); err != nil {
				t.Fatal(err)
			}
			f.Close()
			assertContent(t, j, "/up.txt", "hello world")
		}},
		{"seek and overwrite (REST+STOR)", func(t *testing.T) {
			f, err := j.OpenFile("/up.txt", os.O_WRONLY|os.O_CREATE, os.ModePerm)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(6, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("WORLD"); err != nil {
				t.Fatal(err)
			}
			f.Close()
			assertContent(t, j, "/up.txt", "hello WORLD")
		}},
		{"seek and read (REST+RETR)", func(t *testing.T) {
			f, err := j.Open("/up.txt")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(6, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(f)
			if err != nil || string(b) != "WORLD" {
				t.Fatalf("read %q, %v", b, err)
			}
		}},
		{"create truncates", func(t *testing.T) {
			if err := closeIfOpen(j.Create("/up.txt")); err != nil {
				t.Fatal(err)
			}
			assertContent(t, j, "/up.txt", "")
		}},
		{"O_EXCL on existing fails", func(t *testing.T) {
			err := closeIfOpen(j.OpenFile("/up.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0))
			if !errors.Is(err, os.ErrExist) {
				t.Fatalf("err = %v, want ErrExist", err)
			}
		}},
		{"open missing without O_CREATE fails", func(t *testing.T) {
			err := closeIfOpen(j.OpenFile("/missing.txt", os.O_WRONLY, 0))
			if !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("err = %v, want ErrNotExist", err)
			}
		}},
		{"real path is where expected", func(t *testing.T) {
			l.realState(t, "up.txt")
		}},
		{"inside symlinks work", func(t *testing.T) {
			assertContent(t, j, "/link-good/nested.txt", "nested")
			assertContent(t, j, "/link-good-file", "<h1>site</h1>")
			assertContent(t, j, "/dir/link-good-up", "<h1>site</h1>")
		}},
	}
	for _, s := range steps {
		t.Run(s.name, s.run)
	}
}

func assertContent(t *testing.T, j *Fs, name, want string) {
	t.Helper()
	f, err := j.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s = %q, want %q", name, b, want)
	}
}

func TestOpenFileReturnsOSFile(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	opens := map[string]func() (*os.File, error){
		"Open":              func() (*os.File, error) { return j.Open("/index.html") },
		"Open dir":          func() (*os.File, error) { return j.Open("/dir") },
		"Create":            func() (*os.File, error) { return j.Create("/new.txt") },
		"OpenFile create":   func() (*os.File, error) { return j.OpenFile("/new2.txt", os.O_WRONLY|os.O_CREATE, 0) },
		"OpenFile existing": func() (*os.File, error) { return j.OpenFile("/index.html", os.O_RDWR|os.O_CREATE, 0) },
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			f, err := open()
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		})
	}
	t.Run("error gives no file", func(t *testing.T) {
		f, err := j.Open("/missing")
		if err == nil || f != nil {
			t.Errorf("Open(missing) = %#v, %v; want nil and an error", f, err)
		}
	})
}

func TestListing(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	f, err := j.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	infos, err := f.Readdir(-1)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{}
	for _, fi := range infos {
		modes[fi.Name()] = fi.Mode()
	}
	for _, name := range []string{"index.html", "dir", "empty", "link-etc", "link-bob", "link-passwd"} {
		if _, ok := modes[name]; !ok {
			t.Errorf("listing lacks %s: %v", name, modes)
		}
	}
	if modes["link-etc"]&os.ModeSymlink == 0 {
		t.Errorf("link-etc listed as %v, want a symlink (listed, not followed)", modes["link-etc"])
	}
	if !modes["dir"].IsDir() {
		t.Errorf("dir listed as %v", modes["dir"])
	}
	fi, err := j.Stat("/dir/")
	if err != nil || !fi.IsDir() {
		t.Errorf("Stat(/dir/) = %v, %v", fi, err)
	}
}

func TestRenameInside(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to string
		want     string // site-relative path that must exist afterwards
		content  string
	}{
		{"/index.html", "/home.html", "home.html", "<h1>site</h1>"},
		{"/index.html", "/dir/sub/index.html", "dir/sub/index.html", "<h1>site</h1>"},
		{"/dir/nested.txt", "/scratch.txt", "scratch.txt", "nested"}, // overwrite
		{"/dir", "/renamed-dir", "renamed-dir/nested.txt", "nested"},
		{"dir/sub/", "empty/sub", "empty/sub/deep.txt", "deep"},
		{"/../index.html", "../../moved.html", "moved.html", "<h1>site</h1>"},
	}
	for _, tt := range tests {
		t.Run(tt.from+"->"+tt.to, func(t *testing.T) {
			l := newLayout(t)
			j := l.newFs(t, defaultOpts)
			before := l.outsideSnapshot(t)
			if err := j.Rename(tt.from, tt.to); err != nil {
				t.Fatal(err)
			}
			if s := l.realState(t, tt.want); s.Data != tt.content {
				t.Errorf("%s = %q", tt.want, s.Data)
			}
			if _, err := j.Stat(tt.from); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("source still there: %v", err)
			}
			l.assertOutsideUnchanged(t, before, "rename")
		})
	}
}

func TestMkdirRemoveInside(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	steps := []struct {
		name    string
		run     func() error
		wantErr error
	}{
		{"Mkdir (MKD)", func() error { return j.Mkdir("/new", os.ModePerm) }, nil},
		{"Mkdir existing", func() error { return j.Mkdir("/new", os.ModePerm) }, os.ErrExist},
		{"Mkdir missing parent", func() error { return j.Mkdir("/no/such", os.ModePerm) }, os.ErrNotExist},
		{"MkdirAll nested", func() error { return j.MkdirAll("/a/b/c/", os.ModePerm) }, nil},
		{"MkdirAll existing", func() error { return j.MkdirAll("/a/b", os.ModePerm) }, nil},
		{"MkdirAll root", func() error { return j.MkdirAll("/", os.ModePerm) }, nil},
		{"MkdirAll through inside link", func() error { return j.MkdirAll("/link-good/x/y", os.ModePerm) }, nil},
		{"MkdirAll over a file", func() error { return j.MkdirAll("/index.html/x", os.ModePerm) }, syscall.ENOTDIR},
		{"Remove empty dir (RMD)", func() error { return j.Remove("/new") }, nil},
		{"Remove non-empty dir", func() error { return j.Remove("/a") }, syscall.ENOTEMPTY},
		{"Remove file (DELE)", func() error { return j.Remove("/index.html") }, nil},
		{"Remove missing", func() error { return j.Remove("/index.html") }, os.ErrNotExist},
		{"RemoveAll tree", func() error { return j.RemoveAll("/a") }, nil},
		{"RemoveAll missing", func() error { return j.RemoveAll("/a") }, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := s.run()
			if s.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if s.wantErr != nil && !errors.Is(err, s.wantErr) {
				t.Fatalf("err = %v, want %v", err, s.wantErr)
			}
		})
	}
	for _, gone := range []string{"new", "a", "index.html"} {
		if _, err := os.Lstat(filepath.Join(l.site, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("site/%s still exists", gone)
		}
	}
	if fi, err := os.Stat(filepath.Join(l.site, "dir", "x", "y")); err != nil || !fi.IsDir() {
		t.Errorf("MkdirAll through link-good: %v", err)
	}
}

// TestRootRefused: removing or renaming the FTP root itself is refused,
// whatever the spelling.
func TestRootRefused(t *testing.T) {
	t.Parallel()
	tests := map[string]func(j *Fs) error{
		"Remove /":           func(j *Fs) error { return j.Remove("/") },
		"Remove ..":          func(j *Fs) error { return j.Remove("..") },
		"Remove empty":       func(j *Fs) error { return j.Remove("") },
		"RemoveAll /":        func(j *Fs) error { return j.RemoveAll("/") },
		"RemoveAll /../..":   func(j *Fs) error { return j.RemoveAll("/../..") },
		"RemoveAll .":        func(j *Fs) error { return j.RemoveAll(".") },
		"Rename / away":      func(j *Fs) error { return j.Rename("/", "/x") },
		"Rename dir/.. away": func(j *Fs) error { return j.Rename("dir/..", "/x") },
		"Rename onto /":      func(j *Fs) error { return j.Rename("/empty", "/") },
	}
	for name, run := range tests {
		t.Run(name, func(t *testing.T) {
			l := newLayout(t)
			j := l.newFs(t, defaultOpts)
			before := l.outsideSnapshot(t)
			err := run(j)
			if !errors.Is(err, os.ErrPermission) || !errors.Is(err, ErrRoot) {
				t.Errorf("err = %v, want ErrRoot (a permission error)", err)
			}
			for _, p := range []string{"index.html", "dir/nested.txt", "empty"} {
				l.realState(t, p)
			}
			l.assertOutsideUnchanged(t, before, name)
		})
	}
}

func TestChtimes(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	for _, p := range []string{"/index.html", "/dir", "/link-good-file"} {
		t.Run(p, func(t *testing.T) {
			if err := j.Chtimes(p, mtime2001, mtime2001); err != nil {
				t.Fatal(err)
			}
			fi, err := j.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.ModTime().Equal(mtime2001) {
				t.Errorf("mtime = %v, want %v", fi.ModTime(), mtime2001)
			}
		})
	}
}

// TestChmodMasked: only the 0777 bits are ever applied.
func TestChmodMasked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode os.FileMode
		want os.FileMode
	}{
		{0o644, 0o644},
		{0o600, 0o600},
		{0o755, 0o755},
		{os.ModeSetuid | 0o755, 0o755},
		{os.ModeSetgid | os.ModeSticky | 0o777, 0o777},
		{os.ModeDir | 0o700, 0o700},
	}
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			if err := j.Chmod("/index.html", tt.mode); err != nil {
				t.Fatal(err)
			}
			if got := l.realState(t, "index.html").Mode; got != tt.want {
				t.Errorf("mode = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChownDenied(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	uid, gid := ownerOf(t, filepath.Join(l.site, "index.html"))
	for _, p := range []string{"/index.html", "/dir", "/", "/missing"} {
		t.Run(p, func(t *testing.T) {
			err := j.Chown(p, 12345, 12345)
			if !errors.Is(err, os.ErrPermission) || !errors.Is(err, ErrChown) {
				t.Errorf("Chown = %v, want ErrChown (a permission error)", err)
			}
		})
	}
	if u, g := ownerOf(t, filepath.Join(l.site, "index.html")); u != uid || g != gid {
		t.Errorf("owner changed to %d:%d", u, g)
	}
}

// TestUmask: created modes come from Options.Umask alone; the process umask
// is set to something else to prove the explicit chmod.
func TestUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
	tests := []struct {
		umask     os.FileMode
		file, dir os.FileMode
	}{
		{0o022, 0o644, 0o755},
		{0o077, 0o600, 0o700},
		{0o027, 0o640, 0o750},
		{0o002, 0o664, 0o775},
		{0, 0o666, 0o777},
	}
	creators := []struct {
		name  string
		isDir bool
		run   func(j *Fs) ([]string, error) // returns created site-relative paths
	}{
		{"Create", false, func(j *Fs) ([]string, error) { return []string{"c.txt"}, closeIfOpen(j.Create("/c.txt")) }},
		{"OpenFile CREATE", false, func(j *Fs) ([]string, error) {
			return []string{"o.txt"}, closeIfOpen(j.OpenFile("/o.txt", os.O_WRONLY|os.O_CREATE, os.ModePerm))
		}},
		{"OpenFile CREATE|EXCL", false, func(j *Fs) ([]string, error) {
			return []string{"e.txt"}, closeIfOpen(j.OpenFile("/e.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600))
		}},
		{"Mkdir", true, func(j *Fs) ([]string, error) { return []string{"m"}, j.Mkdir("/m", os.ModePerm) }},
		{"MkdirAll", true, func(j *Fs) ([]string, error) {
			return []string{"ma", "ma/b", "ma/b/c"}, j.MkdirAll("/ma/b/c", os.ModePerm)
		}},
	}
	for _, tt := range tests {
		for _, c := range creators {
			t.Run(tt.umask.String()+"/"+c.name, func(t *testing.T) {
				l := newLayout(t)
				j := l.newFs(t, Options{UID: -1, GID: -1, Umask: tt.umask})
				created, err := c.run(j)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.file
				if c.isDir {
					want = tt.dir | os.ModeDir
				}
				for _, p := range created {
					if got := l.realState(t, p).Mode; got != want {
						t.Errorf("%s mode = %v, want %v", p, got, want)
					}
				}
			})
		}
	}
}

// TestExistingKeepsMode: opening an existing file for writing, with
// O_CREATE, does not touch its mode.
func TestExistingKeepsMode(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, Options{UID: -1, GID: -1, Umask: 0o022})
	p := filepath.Join(l.site, "index.html")
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int{os.O_WRONLY | os.O_CREATE | os.O_TRUNC, os.O_WRONLY | os.O_CREATE | os.O_APPEND, os.O_RDWR | os.O_CREATE} {
		if err := closeIfOpen(j.OpenFile("/index.html", flag, os.ModePerm)); err != nil {
			t.Fatal(err)
		}
		if got := l.realState(t, "index.html").Mode; got != 0o600 {
			t.Errorf("flag %#x: mode = %v, want 0600", flag, got)
		}
	}
}

// TestCreateThroughDanglingLink: an inside symlink to a missing file is
// not created through; the name counts as existing-but-unopenable.
func TestCreateThroughDanglingLink(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	if err := os.Symlink("nowhere.txt", filepath.Join(l.site, "dangling")); err != nil {
		t.Fatal(err)
	}
	err := closeIfOpen(j.OpenFile("/dangling", os.O_WRONLY|os.O_CREATE, 0))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
	if _, err := os.Lstat(filepath.Join(l.site, "nowhere.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("created the link target: %v", err)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j, err := New(l.home, "site", defaultOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Stat("/index.html"); err == nil {
		t.Error("Stat after Close succeeded")
	}
}

// TestLstat: Lstat does not follow, and a folder's entries are listed
// without following their links.
func TestLstat(t *testing.T) {
	t.Parallel()
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	fi, err := j.Lstat("/link-good-file")
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Lstat = %v, %v; want a symlink", fi, err)
	}
	dir, err := j.Open("/dir")
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	names, err := dir.Readdir(-1)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, fi := range names {
		got = append(got, fi.Name())
	}
	if !slices.Contains(got, "nested.txt") || !slices.Contains(got, "link-up") {
		t.Errorf("ReadDir(/dir) = %v", got)
	}
}

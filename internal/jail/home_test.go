package jail

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestSuggestions(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	for _, d := range []string{"a.com/dev", "a.com/www", "b", ".hidden/x"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "file.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.Mkdir(filepath.Join(outside, "secret"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(home, "link")); err != nil {
		t.Fatal(err)
	}
	want := []string{"/a.com", "/a.com/dev", "/a.com/www", "/b"}
	if got := Suggestions(home, 300); !slices.Equal(got, want) {
		t.Errorf("Suggestions = %v, want %v", got, want)
	}
	if got := Suggestions(home, 2); len(got) > 2 {
		t.Errorf("Suggestions bounded to 2 = %v", got)
	}
	if got := Suggestions(filepath.Join(home, "missing"), 300); got != nil {
		t.Errorf("Suggestions of a missing home = %v", got)
	}
}

func TestCreateFolder(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(home, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(home, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(home, "in")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	created, err := CreateFolder(home, "/site/dev/x", 0o750, Owner{UID: -1, GID: -1})
	if err != nil || !slices.Equal(created, []string{"site", "site/dev", "site/dev/x"}) {
		t.Fatalf("CreateFolder = %v, %v", created, err)
	}
	if fi, err := os.Stat(filepath.Join(home, "site/dev/x")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("created folder: %v, %v; want mode 0750", fi, err)
	}
	// A link to a folder inside the home is that folder.
	if created, err := CreateFolder(home, "in/sub", 0o750, Owner{}); err != nil || !slices.Equal(created, []string{"in/sub"}) {
		t.Errorf("CreateFolder through an inside link = %v, %v", created, err)
	}
	if created, err := CreateFolder(home, "/", 0o750, Owner{}); err != nil || created != nil {
		t.Errorf("CreateFolder of the home = %v, %v", created, err)
	}

	for _, tc := range []struct {
		p    string
		want error
	}{
		{"out/x", ErrEscape},
		{"file/x", ErrNotFolder},
	} {
		created, err := CreateFolder(home, tc.p, 0o750, Owner{})
		if !errors.Is(err, tc.want) || created != nil {
			t.Errorf("CreateFolder(%s) = %v, %v; want %v and nothing created", tc.p, created, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("created outside the home: %v", entries)
	}
	var pe *fs.PathError
	if _, err := CreateFolder(home, "file/x", 0o750, Owner{}); !errors.As(err, &pe) || pe.Path != "/file" {
		t.Errorf("not-a-folder error %v, want it to name /file", err)
	}

	// On error, what was created goes again.
	if _, err := CreateFolder(home, "/site/new/"+strings.Repeat("n", 300), 0o750, Owner{}); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("a name too long: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(home, "site", "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a folder created on the way was left behind: %v", err)
	}

	if err := os.WriteFile(filepath.Join(home, "site", "index.html"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	RemoveFolders(home, []string{"site", "site/dev", "site/dev/x"})
	if _, err := os.Stat(filepath.Join(home, "site", "dev")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RemoveFolders left site/dev: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(home, "site")); err != nil {
		t.Errorf("RemoveFolders removed a folder that was not empty: %v", err)
	}
}

func TestCreateHome(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	home := filepath.Join(base, "a", "b", "bob")
	var failed []string
	o := Owner{UID: -1, GID: -1, Chown: true, ChownFailed: func(name string, _ error) { failed = append(failed, name) }}
	if err := CreateHome(home, 0o711, o); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(home); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("home: %v, %v; want mode 0711", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(home)); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("folder above the home: %v, %v; want mode 0755", fi, err)
	}
	if len(failed) != 0 {
		t.Errorf("chown to -1/-1 failed for %v", failed)
	}
	// An existing home is left as it is.
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := CreateHome(home, 0o711, o); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(home); fi.Mode().Perm() != 0o700 {
		t.Errorf("an existing home's mode changed to %v", fi.Mode().Perm())
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CreateHome(file, 0o711, o); !errors.Is(err, ErrNotFolder) {
		t.Errorf("CreateHome of a file: %v, want ErrNotFolder", err)
	}
}

package jail

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, link := range []struct{ name, target string }{
		{"link", real},
		{"dangling", filepath.Join(dir, "nowhere")},
	} {
		if err := os.Symlink(link.target, filepath.Join(dir, link.name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "real"), real},
		{filepath.Join(dir, "link"), real},
		{filepath.Join(dir, "link", "new", "deeper"), filepath.Join(real, "new", "deeper")},
		{filepath.Join(dir, "missing", "home"), filepath.Join(dir, "missing", "home")},
	} {
		if got, err := Resolve(tc.path); err != nil || got != tc.want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	if got, err := Resolve(filepath.Join(dir, "dangling", "home")); err == nil {
		t.Errorf("a dangling link in the way resolved to %q", got)
	}
}

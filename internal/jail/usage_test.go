//go:build linux

package jail

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// allocated is what the filesystem says p uses.
func allocated(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

func TestMeasureUsage(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	site := filepath.Join(home, "site")
	outside := t.TempDir()
	mustMkdir(t, filepath.Join(site, "a", "b"))
	mustMkdir(t, filepath.Join(site, "empty"))
	writeFile(t, filepath.Join(site, "one.txt"), "12345")
	writeFile(t, filepath.Join(site, "a", "b", "two.txt"), "1234567890")
	writeFile(t, filepath.Join(home, "above.txt"), "not counted")
	writeFile(t, filepath.Join(outside, "big"), string(make([]byte, 1<<20)))
	// A sparse file: 1 GiB long, nothing written.
	sparse := filepath.Join(site, "sparse.bin")
	writeFile(t, sparse, "")
	if err := os.Truncate(sparse, 1<<30); err != nil {
		t.Fatal(err)
	}
	// A second hard link to one.txt, and links out that must not be followed.
	if err := os.Link(filepath.Join(site, "one.txt"), filepath.Join(site, "a", "same.txt")); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"out-dir": outside, "out-file": filepath.Join(outside, "big"), "up": ".."} {
		if err := os.Symlink(target, filepath.Join(site, name)); err != nil {
			t.Fatal(err)
		}
	}
	var want int64
	for _, p := range []string{"a", "a/b", "empty", "one.txt", "a/b/two.txt", "sparse.bin", "out-dir", "out-file", "up"} {
		want += allocated(t, filepath.Join(site, p))
	}

	u, err := MeasureUsage(t.Context(), home, "/site", 0)
	if err != nil {
		t.Fatal(err)
	}
	wantU := Usage{Bytes: 5 + 10 + 1<<30, Allocated: want, Files: 6, Folders: 3}
	if u != wantU {
		t.Errorf("usage = %+v,\nwant    %+v", u, wantU)
	}
	if u.Allocated >= 1<<20 {
		t.Errorf("allocated %d: the sparse file or a link target was counted by its size", u.Allocated)
	}

	t.Run("bounded by entries", func(t *testing.T) {
		u, err := MeasureUsage(t.Context(), home, "site", 3)
		if err != nil || !u.Partial || u.Files+u.Folders > 3+usageBatch {
			t.Errorf("usage = %+v, %v; want a partial count", u, err)
		}
	})
	t.Run("bounded by the context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if u, err := MeasureUsage(ctx, home, "site", 0); err != nil || !u.Partial {
			t.Errorf("usage = %+v, %v; want partial", u, err)
		}
	})
	t.Run("a sub folder that is a link out is refused", func(t *testing.T) {
		if err := os.Symlink(outside, filepath.Join(home, "escape")); err != nil {
			t.Fatal(err)
		}
		if u, err := MeasureUsage(t.Context(), home, "/escape", 0); err == nil {
			t.Errorf("walked a folder outside the home: %+v", u)
		}
	})
	t.Run("the jail's own root", func(t *testing.T) {
		j, err := New(home, "site", defaultOpts)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		if got := j.Usage(t.Context(), 0); got != wantU {
			t.Errorf("Fs.Usage = %+v, want %+v", got, wantU)
		}
		got, skipped := j.UsageSkipping(t.Context(), func(name string, fi fs.FileInfo) bool {
			return name == "/a/b/two.txt" || fi.Name() == "sparse.bin"
		})
		less := wantU
		less.Files, less.Bytes = less.Files-2, less.Bytes-10-1<<30
		less.Allocated -= allocated(t, filepath.Join(site, "a/b/two.txt")) + allocated(t, sparse)
		slices.Sort(skipped)
		if got != less || !slices.Equal(skipped, []string{"/a/b/two.txt", "/sparse.bin"}) {
			t.Errorf("Fs.UsageSkipping = %+v, %q;\nwant %+v, /a/b/two.txt and /sparse.bin", got, skipped, less)
		}
	})
}

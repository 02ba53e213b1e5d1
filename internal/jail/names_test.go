//go:build linux

package jail

import (
	"errors"
	"os"
	"testing"
)

// TestNamesWithLineBreaks: CR, LF and NUL anywhere in a name are refused by
// every operation, before anything touches the disk.
func TestNamesWithLineBreaks(t *testing.T) {
	t.Parallel()
	names := []string{"/a\rb.txt", "/evil\r\n226 ok", "/x\n", "/nul\x00.txt", "/dir\r/x", "/dir/sub\n/deep.txt"}
	l := newLayout(t)
	j := l.newFs(t, defaultOpts)
	before := l.realState(t, ".")
	for _, name := range names {
		for _, op := range jailOps {
			err := op.run(j, name)
			if !errors.Is(err, ErrName) || !errors.Is(err, os.ErrPermission) {
				t.Errorf("%s(%q) = %v, want ErrName matching os.ErrPermission", op.name, name, err)
			}
		}
		if err := j.Rename("/scratch.txt", name); !errors.Is(err, ErrName) {
			t.Errorf("Rename(scratch.txt, %q) = %v, want ErrName", name, err)
		}
	}
	if got := l.realState(t, "."); got != before {
		t.Errorf("the root changed: %+v -> %+v", before, got)
	}
	if got := l.realState(t, "scratch.txt"); got.Data != "scratch" {
		t.Errorf("scratch.txt = %+v", got)
	}
}

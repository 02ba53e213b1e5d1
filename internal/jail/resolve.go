package jail

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Resolve returns the clean absolute path p with the symbolic links of its
// existing part resolved, so that neither "/home/x/../acme" nor a link to
// another home can pass for a folder of its own; the part that does not
// exist yet is kept as written. A dangling link in the way is refused.
func Resolve(p string) (string, error) {
	missing := ""
	for q := p; ; q = filepath.Dir(q) {
		r, err := filepath.EvalSymlinks(q)
		if err == nil {
			return filepath.Join(r, missing), nil
		}
		if _, lerr := os.Lstat(q); lerr == nil || !errors.Is(err, fs.ErrNotExist) || q == "/" {
			return "", err // a dangling link, a loop, or unreadable
		}
		missing = filepath.Join(filepath.Base(q), missing)
	}
}

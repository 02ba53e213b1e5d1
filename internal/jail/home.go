package jail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// What the server does in an account's home outside an FTP session —
// creating the home and the sub-user folders, suggesting folders, and
// measuring usage (usage.go) — is done here, through an os.Root of the
// home wherever a name inside it is used, so that a symbolic link planted
// by the account's scripts never leads the server outside. Every escape
// comes back as ErrEscape.

// ErrNotFolder means a name that must be a folder is something else.
var ErrNotFolder = errors.New("not a folder")

// Owner says who gets the folders CreateHome and CreateFolder make.
type Owner struct {
	// UID and GID are given to each folder created (-1 leaves that id
	// alone) when Chown is set; otherwise folders stay the process's.
	UID, GID int
	Chown    bool
	// ChownFailed, when set, hears of a folder that could not be given
	// to UID and GID; the folder stays, owned by the process.
	ChownFailed func(name string, err error)
}

func (o Owner) chown(name string, lchown func(uid, gid int) error) {
	if !o.Chown {
		return
	}
	if err := lchown(o.UID, o.GID); err != nil && o.ChownFailed != nil {
		o.ChownFailed(name, err)
	}
}

// CreateHome creates the home directory if it is missing: the folders
// above it 0755 and the process's, the home itself with mode (whatever
// the umask) and given to o. An existing directory is left as it is; an
// existing non-directory is an error wrapping ErrNotFolder.
func CreateHome(home string, mode os.FileMode, o Owner) error {
	fi, err := os.Stat(home)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return &os.PathError{Op: "mkdir", Path: home, Err: ErrNotFolder}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("checking home %s: %w", home, err)
	}
	if err := os.MkdirAll(filepath.Dir(home), 0o755); err != nil {
		return fmt.Errorf("creating the folders above home %s: %w", home, err)
	}
	if err := os.Mkdir(home, mode); err != nil {
		return fmt.Errorf("creating home %s: %w", home, err)
	}
	if err := os.Chmod(home, mode); err != nil {
		return fmt.Errorf("setting the mode of home %s: %w", home, err)
	}
	o.chown(home, func(uid, gid int) error { return os.Lchown(home, uid, gid) })
	return nil
}

// CreateFolder creates the folder p (slash-separated, inside home; "/"
// and "" are home itself) and the missing folders above it, each new one
// with mode (whatever the umask) and given to o. It returns the folders it
// created, parents first, for RemoveFolders should the change they were
// made for be refused; on error it has removed them itself. A name on
// the way that is not a folder gives a *os.PathError naming it ("/a/b")
// with ErrNotFolder; a symbolic link leading outside home, ErrEscape.
func CreateFolder(home, p string, mode os.FileMode, o Owner) (created []string, err error) {
	root, err := os.OpenRoot(home)
	if err != nil {
		return nil, fmt.Errorf("opening home %s: %w", home, err)
	}
	defer root.Close()
	defer func() {
		if err != nil {
			removeFolders(root, created)
			created = nil
		}
	}()
	rel := "."
	for _, seg := range strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/") {
		if seg == "" {
			continue
		}
		rel = path.Join(rel, seg)
		err := root.Mkdir(rel, mode)
		if err == nil {
			created = append(created, rel)
			if err := root.Chmod(rel, mode); err != nil {
				return created, fixErr(err)
			}
			o.chown("/"+rel, func(uid, gid int) error { return root.Lchown(rel, uid, gid) })
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return created, fixErr(err)
		}
		// Already there: fine if it is, or links inside home to, a folder.
		fi, err := root.Stat(rel)
		if err != nil {
			return created, fixErr(err)
		}
		if !fi.IsDir() {
			return created, &os.PathError{Op: "mkdir", Path: "/" + rel, Err: ErrNotFolder}
		}
	}
	return created, nil
}

// RemoveFolders removes the folders CreateFolder created in home, deepest
// first. Only empty folders go, so anything put there meanwhile stays.
func RemoveFolders(home string, created []string) {
	if len(created) == 0 {
		return
	}
	root, err := os.OpenRoot(home)
	if err != nil {
		return
	}
	defer root.Close()
	removeFolders(root, created)
}

func removeFolders(root *os.Root, created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		if root.Remove(created[i]) != nil {
			return
		}
	}
}

// Suggestions lists the home's top-level and second-level folders, as
// "/name" and "/name/sub", sorted, at most limit of them (at most limit
// entries are read of each folder). Entry types are those of lstat: a
// symbolic link is never taken for a folder, so nothing outside the home
// is ever listed. Hidden folders are left out; an unreadable home gives
// none.
func Suggestions(home string, limit int) []string {
	root, err := os.OpenRoot(home)
	if err != nil {
		return nil
	}
	defer root.Close()
	top := readFolders(root, ".", limit)
	out := make([]string, 0, len(top))
	for _, d := range top {
		out = append(out, "/"+d)
	}
	for _, d := range top {
		for _, sub := range readFolders(root, d, limit) {
			if len(out) >= limit {
				break
			}
			out = append(out, "/"+path.Join(d, sub))
		}
	}
	slices.Sort(out)
	return out
}

// readFolders lists the visible folders among the first limit entries of
// dir.
func readFolders(root *os.Root, dir string, limit int) []string {
	f, err := root.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, err := f.ReadDir(limit)
	if err != nil && len(entries) == 0 {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

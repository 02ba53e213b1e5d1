// Package jail owns the filesystem one FTP session sees: an afero.Fs confined
// to the sub-user's directory of a hosting account, plus the rules for who
// owns what a client creates and which operations a client may never do
// (chown, removing or renaming its own root).
//
// Why os.Root and not afero.BasePathFs: BasePathFs only prefixes strings and
// lets the kernel resolve the result, so a symlink planted by the account's
// own scripts ("ln -s /etc x", "ln -s ../../bob x") leads straight out of the
// jail. os.Root holds a descriptor of the jail directory and resolves every
// name afresh, one component at a time with openat(O_NOFOLLOW), following a
// symlink only while its target stays beneath that descriptor. Because the
// resolution is redone on every call, swapping a directory for a symlink
// between CWD and RETR, or after login, does not help either.
//
// Virtual FTP paths are mapped lexically first ("/" + name, cleaned), so ".."
// above the virtual root clamps to the root, as FTP clients expect. Only
// symlinks can still try to escape; those attempts fail with ErrEscape, which
// matches os.ErrPermission so the engine can answer 550.
//
// Limits, inherited from os.Root: every absolute symlink is refused, even
// one whose target lies inside the root; hard links and bind mounts are not
// policed (with fs.protected_hardlinks=1 an account can only hard-link files
// it owns, e.g. from another of its sub-user directories); and files
// returned by Open carry the real host path in Name(), so the engine must
// not show File.Name() to clients.
package jail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/spf13/afero"
)

// Options says who owns what a client creates.
type Options struct {
	// UID, GID own created files and directories; -1 means leave it as the
	// server process's (chown is only attempted when UID/GID >= 0).
	UID, GID int
	// Umask is applied to 0666 for files and 0777 for directories. The zero
	// value means no masking; callers normally pass 022.
	Umask os.FileMode
}

// Fs is the afero.Fs of one FTP session. It is safe for concurrent use.
type Fs struct {
	root *os.Root
	opts Options
}

var (
	_ afero.Fs      = (*Fs)(nil)
	_ afero.Lstater = (*Fs)(nil)
)

// permError is an error that matches os.ErrPermission, so the FTP engine
// can treat all of them as "550 permission denied".
type permError string

func (e permError) Error() string        { return string(e) }
func (e permError) Is(target error) bool { return target == fs.ErrPermission }

var (
	// ErrEscape means the path, through a symlink, would leave the FTP root.
	ErrEscape error = permError("path escapes the FTP root")
	// ErrRoot refuses removing or renaming the FTP root itself.
	ErrRoot error = permError("operation not permitted on the FTP root")
	// ErrChown refuses every chown from a client.
	ErrChown error = permError("changing ownership is not permitted")
)

// New opens home as an os.Root and then sub (a clean, slash-separated path
// inside home, or "." for home itself) through that root, so that even a
// sub-user directory that is a symlink planted inside home cannot point
// outside home. A missing sub gives an error wrapping os.ErrNotExist.
func New(home, sub string, opts Options) (*Fs, error) {
	local := filepath.FromSlash(sub)
	if !filepath.IsLocal(local) {
		return nil, fmt.Errorf("jail: sub-user path %q is not a relative path inside the home", sub)
	}
	homeRoot, err := os.OpenRoot(home)
	if err != nil {
		return nil, fmt.Errorf("jail: open home: %w", err)
	}
	// The sub root holds its own descriptor; the home one is only needed to
	// resolve sub safely.
	defer homeRoot.Close()
	root, err := homeRoot.OpenRoot(local)
	if err != nil {
		return nil, fmt.Errorf("jail: open sub-user directory: %w", fixErr(err))
	}
	return &Fs{root: root, opts: opts}, nil
}

// Close closes the root; the Fs is unusable afterwards.
func (j *Fs) Close() error { return j.root.Close() }

// Name implements afero.Fs.
func (j *Fs) Name() string { return "panelftp-jail" }

// rel maps a virtual FTP path to a name relative to the root. Cleaning it
// as an absolute path first makes ".." above "/" clamp to the root.
func rel(name string) string {
	p := path.Clean("/" + name)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// rootEscapeMsg is the text of os's unexported errPathEscapes. The tests
// check every escape comes back as ErrEscape, so a change of this text in
// a future Go release shows up there.
const rootEscapeMsg = "path escapes from parent"

func escapes(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == rootEscapeMsg {
			return true
		}
	}
	return false
}

// fixErr replaces os.Root's "path escapes from parent" with ErrEscape, which
// matches os.ErrPermission; every other error is returned unchanged.
func fixErr(err error) error {
	if err == nil || !escapes(err) {
		return err
	}
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return &os.PathError{Op: pe.Op, Path: pe.Path, Err: ErrEscape}
	case errors.As(err, &le):
		return &os.LinkError{Op: le.Op, Old: le.Old, New: le.New, Err: ErrEscape}
	default:
		return fmt.Errorf("%w: %v", ErrEscape, err)
	}
}

// Open opens a file or directory for reading. It returns the *os.File.
func (j *Fs) Open(name string) (afero.File, error) {
	return j.OpenFile(name, os.O_RDONLY, 0)
}

// Create creates or truncates a file, like os.Create.
func (j *Fs) Create(name string) (afero.File, error) {
	return j.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0)
}

// OpenFile opens name with flag. perm is ignored: a new file always gets
// 0666 &^ Umask and the configured owner. The file is the real *os.File, so
// the engine can use sendfile.
func (j *Fs) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	f, err := j.openFile(rel(name), flag)
	if err != nil {
		return nil, err // not f: a nil *os.File in an interface is not nil
	}
	return f, nil
}

// Stat follows symlinks, but only while they stay inside the root.
func (j *Fs) Stat(name string) (os.FileInfo, error) {
	fi, err := j.root.Stat(rel(name))
	return fi, fixErr(err)
}

// LstatIfPossible implements afero.Lstater: a symlink is described, not
// followed, so listings can show links that point outside.
func (j *Fs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := j.root.Lstat(rel(name))
	return fi, true, fixErr(err)
}

// Remove removes a file or an empty directory (DELE, RMD).
func (j *Fs) Remove(name string) error {
	p := rel(name)
	if p == "." {
		return &os.PathError{Op: "remove", Path: name, Err: ErrRoot}
	}
	return fixErr(j.root.Remove(p))
}

// RemoveAll removes a tree inside the root; a missing path is not an error.
func (j *Fs) RemoveAll(name string) error {
	p := rel(name)
	if p == "." {
		return &os.PathError{Op: "removeall", Path: name, Err: ErrRoot}
	}
	return fixErr(j.root.RemoveAll(p))
}

// Rename moves oldname to newname; both must resolve inside the root.
func (j *Fs) Rename(oldname, newname string) error {
	o, n := rel(oldname), rel(newname)
	if o == "." || n == "." {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: ErrRoot}
	}
	return fixErr(j.root.Rename(o, n))
}

// Chmod sets the permission bits only: setuid, setgid and sticky are
// dropped because a client has no business setting them on a shared host.
func (j *Fs) Chmod(name string, mode os.FileMode) error {
	return fixErr(j.root.Chmod(rel(name), mode.Perm()))
}

// Chown always fails: ownership is decided by Options, never by a client.
func (j *Fs) Chown(name string, _, _ int) error {
	return &os.PathError{Op: "chown", Path: name, Err: ErrChown}
}

// Chtimes sets access and modification times (MFMT).
func (j *Fs) Chtimes(name string, atime, mtime time.Time) error {
	return fixErr(j.root.Chtimes(rel(name), atime, mtime))
}

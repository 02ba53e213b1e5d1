// Package jail owns the filesystem one FTP session sees: a file system confined
// to the sub-user's directory of a hosting account, plus the rules for who
// owns what a client creates and which operations a client may never do
// (chown, removing or renaming its own root). It also owns everything
// else the server does in an account's home: creating the home and the
// sub-user folders, measuring usage and suggesting folders (home.go,
// usage.go); no other package works inside a home.
//
// Two layers decide what a client may do. The jail decides where: every
// name stays inside the sub-user's folder. The kernel decides what: when
// the server runs as root, every filesystem call of the session (open,
// create, stat, list, rename, delete, chmod, chtimes) is made with the
// account's uid, gid and groups (see identity), so a root-owned 0600 file,
// a root-owned folder or a hard link to a file outside the home is refused
// exactly as the account's own shell would be refused. Once a file is
// open, reading and writing it needs no identity, so transfers (and
// sendfile) run unchanged.
//
// Why os.Root and not a path prefix: prefixing strings lets the kernel
// resolve the result, so a symlink planted by the account's
// own scripts ("ln -s /etc x", "ln -s ../../bob x") leads straight out of the
// jail. os.Root holds a descriptor of the jail directory and resolves every
// name afresh, one component at a time with openat(O_NOFOLLOW), following a
// symlink only while its target stays beneath that descriptor. Because the
// resolution is redone on every call, swapping a directory for a symlink
// between CWD and RETR, or after login, does not help either.
//
// Virtual FTP paths are mapped lexically first ("/" + name, cleaned), so ".."
// above the virtual root clamps to the root, as FTP clients expect. A name
// holding CR, LF or NUL is refused (ErrName): no FTP client can show it,
// and a CR or LF could forge lines in a listing. Symlinks that try to
// escape fail with ErrEscape; what the kernel refuses comes back as
// ErrDenied. All three match os.ErrPermission so the engine can answer 550
// (553 for ErrName on uploads).
//
// Limits, inherited from os.Root: every absolute symlink is refused, even
// one whose target lies inside the root; hard links and bind mounts are not
// policed by the jail (the kernel's check of the account's permissions
// covers a hard link to a file the account may not read or write; with
// fs.protected_hardlinks=1 an account can only hard-link files it owns);
// and files returned by Open carry the real host path in Name(), so the
// engine must not show File.Name() to clients.
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
	"syscall"
	"time"
)

// Options says whose identity the session's filesystem calls carry and
// who owns what a client creates.
type Options struct {
	// UID and GID are the account's. When both are >= 0 and the process
	// runs as root, every call is made as the account (with Groups), and
	// created files belong to it without a chown. When the process is not
	// root, calls run as the process and the ids are only used to chown
	// created objects (which fails unless they are the process's own).
	// -1 means the server process's own; a root process with only one of
	// them set acts as root and chowns created objects to the other.
	UID, GID int
	// Groups are the account's supplementary groups (see Groups); GID is
	// always one of them.
	Groups []int
	// Umask is applied to 0666 for files and 0777 for directories. The zero
	// value means no masking; callers normally pass 022.
	Umask os.FileMode
}

// Fs is the file system of one FTP session. It is safe for concurrent use.
type Fs struct {
	root *os.Root
	opts Options
	// id is the account's identity; nil runs every call as the process.
	id *identity
}

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
	// ErrDenied is the kernel refusing the account (EACCES or EPERM).
	ErrDenied error = permError("permission denied")
	// ErrName refuses a name holding CR, LF or NUL.
	ErrName error = permError("file names may not contain CR, LF or NUL")
)

// New opens home as an os.Root and then sub (a clean, slash-separated path
// inside home, or "." for home itself) through that root, so that even a
// sub-user directory that is a symlink planted inside home cannot point
// outside home. The home itself is opened by the process; sub is opened
// with the account's identity, so the account must be able to reach it.
// A missing sub gives an error wrapping os.ErrNotExist.
func New(home, sub string, opts Options) (*Fs, error) {
	local := filepath.FromSlash(sub)
	if !filepath.IsLocal(local) {
		return nil, fmt.Errorf("jail: sub-user path %q is not a relative path inside the home", sub)
	}
	j := &Fs{opts: opts}
	if opts.UID >= 0 && opts.GID >= 0 {
		var err error
		if j.id, err = newIdentity(opts.UID, opts.GID, opts.Groups); err != nil {
			return nil, err
		}
	}
	homeRoot, err := os.OpenRoot(home)
	if err != nil {
		return nil, fmt.Errorf("jail: open home: %w", err)
	}
	// The sub root holds its own descriptor; the home one is only needed to
	// resolve sub safely.
	defer homeRoot.Close()
	err = j.as(func() (err error) {
		j.root, err = homeRoot.OpenRoot(local)
		return err
	})
	if err != nil {
		if j.root != nil {
			j.root.Close()
		}
		return nil, fmt.Errorf("jail: open sub-user directory: %w", fixErr(err))
	}
	return j, nil
}

// ActsAsAccount reports whether the session's calls carry the account's
// identity (the process is root and the account has its own uid and gid).
func (j *Fs) ActsAsAccount() bool { return j.id != nil }

// as runs op with the account's identity, or as the process when the
// jail does not act as the account.
func (j *Fs) as(op func() error) error {
	if j.id == nil {
		return op()
	}
	return j.id.run(op)
}

// Close closes the root; the Fs is unusable afterwards.
func (j *Fs) Close() error { return j.root.Close() }

// Same reports whether j and other are the same folder (device and
// inode of their roots) seen with the same identity and umask, so that
// one may serve the sessions of the other: an Fs is safe for concurrent
// use.
func (j *Fs) Same(other *Fs) bool {
	if j.opts.UID != other.opts.UID || j.opts.GID != other.opts.GID || j.opts.Umask != other.opts.Umask ||
		!slices.Equal(j.opts.Groups, other.opts.Groups) || (j.id == nil) != (other.id == nil) {
		return false
	}
	a, err := j.root.Stat(".")
	if err != nil {
		return false
	}
	b, err := other.root.Stat(".")
	return err == nil && os.SameFile(a, b)
}

// rel maps a virtual FTP path to a name relative to the root. Cleaning it
// as an absolute path first makes ".." above "/" clamp to the root. A name
// holding CR, LF or NUL is refused.
func rel(op, name string) (string, error) {
	if strings.ContainsAny(name, "\r\n\x00") {
		return "", &os.PathError{Op: op, Path: name, Err: ErrName}
	}
	p := path.Clean("/" + name)
	if p == "/" {
		return ".", nil
	}
	return p[1:], nil
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

// fixErr replaces os.Root's "path escapes from parent" with ErrEscape and
// the kernel's EACCES or EPERM with ErrDenied, both matching
// os.ErrPermission; every other error is returned unchanged.
func fixErr(err error) error {
	var replace error
	switch {
	case err == nil:
		return nil
	case escapes(err):
		replace = ErrEscape
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		replace = ErrDenied
	default:
		return err
	}
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return &os.PathError{Op: pe.Op, Path: pe.Path, Err: replace}
	case errors.As(err, &le):
		return &os.LinkError{Op: le.Op, Old: le.Old, New: le.New, Err: replace}
	default:
		return fmt.Errorf("%w: %v", replace, err)
	}
}

// Open opens a file or directory for reading. It returns the *os.File.
func (j *Fs) Open(name string) (*os.File, error) {
	return j.OpenFile(name, os.O_RDONLY, 0)
}

// Create creates or truncates a file, like os.Create.
func (j *Fs) Create(name string) (*os.File, error) {
	return j.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0)
}

// OpenFile opens name with flag. perm is ignored: a new file always gets
// 0666 &^ Umask and the configured owner. The file is the real *os.File, so
// the engine can use sendfile.
func (j *Fs) OpenFile(name string, flag int, _ os.FileMode) (*os.File, error) {
	p, err := rel("open", name)
	if err != nil {
		return nil, err
	}
	var f *os.File
	err = j.as(func() (err error) {
		f, err = j.openFile(p, flag)
		return err
	})
	if err != nil {
		if f != nil { // opened, then the identity could not be restored
			f.Close()
		}
		return nil, err
	}
	return f, nil
}

// ReadDir lists the folder name as the account's "ls -l" would: each
// entry described by lstat, so symbolic links are shown, not followed.
// Listing needs read permission on the folder, describing the entries
// search permission.
func (j *Fs) ReadDir(name string) ([]os.FileInfo, error) {
	p, err := rel("readdir", name)
	if err != nil {
		return nil, err
	}
	var list []os.FileInfo
	err = j.as(func() error {
		f, err := j.root.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		list, err = f.Readdir(-1)
		return err
	})
	return list, fixErr(err)
}

// Stat follows symlinks, but only while they stay inside the root.
func (j *Fs) Stat(name string) (os.FileInfo, error) {
	p, err := rel("stat", name)
	if err != nil {
		return nil, err
	}
	var fi os.FileInfo
	err = j.as(func() (err error) {
		fi, err = j.root.Stat(p)
		return err
	})
	return fi, fixErr(err)
}

// Lstat describes a symlink itself, not what it points to, so listings
// can show links that point outside.
func (j *Fs) Lstat(name string) (os.FileInfo, error) {
	p, err := rel("lstat", name)
	if err != nil {
		return nil, err
	}
	var fi os.FileInfo
	err = j.as(func() (err error) {
		fi, err = j.root.Lstat(p)
		return err
	})
	return fi, fixErr(err)
}

// Remove removes a file or an empty directory (DELE, RMD).
func (j *Fs) Remove(name string) error {
	p, err := rel("remove", name)
	if err != nil {
		return err
	}
	if p == "." {
		return &os.PathError{Op: "remove", Path: name, Err: ErrRoot}
	}
	return fixErr(j.as(func() error { return j.root.Remove(p) }))
}

// RemoveAll removes a tree inside the root; a missing path is not an error.
func (j *Fs) RemoveAll(name string) error {
	p, err := rel("removeall", name)
	if err != nil {
		return err
	}
	if p == "." {
		return &os.PathError{Op: "removeall", Path: name, Err: ErrRoot}
	}
	return fixErr(j.as(func() error { return j.root.RemoveAll(p) }))
}

// Rename moves oldname to newname; both must resolve inside the root.
func (j *Fs) Rename(oldname, newname string) error {
	o, err := rel("rename", oldname)
	if err != nil {
		return err
	}
	n, err := rel("rename", newname)
	if err != nil {
		return err
	}
	if o == "." || n == "." {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: ErrRoot}
	}
	return fixErr(j.as(func() error { return j.root.Rename(o, n) }))
}

// Chmod sets the permission bits only: setuid, setgid and sticky are
// dropped because a client has no business setting them on a shared host.
func (j *Fs) Chmod(name string, mode os.FileMode) error {
	p, err := rel("chmod", name)
	if err != nil {
		return err
	}
	return fixErr(j.as(func() error { return j.root.Chmod(p, mode.Perm()) }))
}

// Chown always fails: ownership is decided by Options, never by a client.
func (j *Fs) Chown(name string, _, _ int) error {
	return &os.PathError{Op: "chown", Path: name, Err: ErrChown}
}

// Chtimes sets access and modification times (MFMT).
func (j *Fs) Chtimes(name string, atime, mtime time.Time) error {
	p, err := rel("chtimes", name)
	if err != nil {
		return err
	}
	return fixErr(j.as(func() error { return j.root.Chtimes(p, atime, mtime) }))
}

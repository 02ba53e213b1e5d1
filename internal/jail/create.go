package jail

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// createAttempts bounds the create-or-open loop in openFile. It only repeats
// when the name keeps appearing and disappearing under us (a concurrent
// DELE) or is a dangling symlink, which we refuse to create through.
const createAttempts = 3

func (j *Fs) fileMode() os.FileMode { return 0o666 &^ j.opts.Umask }
func (j *Fs) dirMode() os.FileMode  { return 0o777 &^ j.opts.Umask }

// chowns reports whether created objects get an explicit owner: not when
// the jail acts as the account, whose files are its own at creation.
func (j *Fs) chowns() bool { return j.id == nil && (j.opts.UID >= 0 || j.opts.GID >= 0) }

// openFile opens name (already root-relative). With O_CREATE it must know
// whether this call created the file, because only a new file may be given
// the configured mode and owner: chowning an existing file would let a
// client take over files it could merely write to.
func (j *Fs) openFile(name string, flag int) (*os.File, error) {
	if flag&os.O_CREATE == 0 {
		f, err := j.root.OpenFile(name, flag, 0)
		return f, fixErr(err)
	}
	if flag&os.O_EXCL != 0 {
		return j.createFile(name, flag)
	}
	var err error
	for range createAttempts {
		var f *os.File
		// O_EXCL never follows a symlink, so this cannot create through one.
		f, err = j.createFile(name, flag|os.O_EXCL)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
		f, err = j.root.OpenFile(name, flag&^os.O_CREATE, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, fixErr(err)
		}
	}
	return nil, fixErr(err)
}

// createFile creates name exclusively (flag includes O_CREATE|O_EXCL) and
// claims it. If claiming fails the file is removed again rather than left
// behind with the server's owner.
func (j *Fs) createFile(name string, flag int) (*os.File, error) {
	f, err := j.root.OpenFile(name, flag, j.fileMode())
	if err != nil {
		return nil, fixErr(err)
	}
	if err := j.claimFile(f); err != nil {
		f.Close()
		_ = j.root.Remove(name)
		return nil, err
	}
	return f, nil
}

// claimFile sets mode and owner through the descriptor, so it acts on
// exactly the file just created even if the name is swapped meanwhile.
// The explicit chmod makes the result independent of the process umask.
func (j *Fs) claimFile(f *os.File) error {
	if err := f.Chmod(j.fileMode()); err != nil {
		return err
	}
	if j.chowns() {
		return f.Chown(j.opts.UID, j.opts.GID) // -1 leaves that id alone
	}
	return nil
}

// Mkdir creates one directory. perm is ignored in favour of 0777 &^ Umask.
func (j *Fs) Mkdir(name string, _ os.FileMode) error {
	p, err := rel("mkdir", name)
	if err != nil {
		return err
	}
	return j.as(func() error { return j.mkdir(p) })
}

// MkdirAll creates name and any missing parents, claiming each directory it
// creates (and only those). It is written out instead of using
// Root.MkdirAll because that does not say which levels it created.
func (j *Fs) MkdirAll(name string, _ os.FileMode) error {
	p, err := rel("mkdir", name)
	if err != nil || p == "." {
		return err
	}
	return j.as(func() error { return j.mkdirAll(p) })
}

func (j *Fs) mkdirAll(p string) error {
	parts := strings.Split(p, "/")
	for i := range parts {
		dir := strings.Join(parts[:i+1], "/")
		err := j.mkdir(dir)
		if err == nil {
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// Already there: fine if it is, or links inside the root to, a dir.
		fi, err := j.root.Stat(dir)
		if err != nil {
			return fixErr(err)
		}
		if !fi.IsDir() {
			return &os.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
	}
	return nil
}

// mkdir creates the root-relative dir and claims it.
func (j *Fs) mkdir(dir string) error {
	if err := j.root.Mkdir(dir, j.dirMode()); err != nil {
		return fixErr(err)
	}
	return j.claimDir(dir)
}

// claimDir sets mode and owner of a directory this Fs just created. Lchown
// does not follow a symlink, so a name swapped meanwhile cannot redirect
// the chown; Chmod follows symlinks only inside the root.
func (j *Fs) claimDir(dir string) error {
	if err := j.root.Chmod(dir, j.dirMode()); err != nil {
		return fixErr(err)
	}
	if j.chowns() {
		return fixErr(j.root.Lchown(dir, j.opts.UID, j.opts.GID))
	}
	return nil
}

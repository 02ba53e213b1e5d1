package ftpd

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftp"
	"github.com/panelftp/panelftp/internal/jail"
)

// session is the file system of one logged-in connection: the user's
// jail, plus what the session registry and the quota need to see. Paths
// arrive from the engine absolute and clean ("/site/x"); the jail maps
// them under the user's folder and refuses every escape.
type session struct {
	cl *client
	u  *userState
	fs *jail.Fs
}

var _ ftp.Session = (*session)(nil)

var errNotRegular = &ftp.Error{Code: 550, Message: "That is not a regular file."}

func (s *session) touch() { s.cl.sess.Touch() }

// Stat implements ftp.Session.
func (s *session) Stat(name string) (fs.FileInfo, error) {
	s.touch()
	if err := refuseHidden(name); err != nil {
		return nil, err
	}
	return s.fs.Stat(name)
}

// Lstat implements ftp.Session.
func (s *session) Lstat(name string) (fs.FileInfo, error) {
	s.touch()
	if err := refuseHidden(name); err != nil {
		return nil, err
	}
	return s.fs.Lstat(name)
}

// ReadDir implements ftp.Session: the jail lists the folder with the
// account's permissions. The temporary files of atomic uploads are left
// out, and one left by a crash is removed. The session shows "listing"
// until the listing ends.
func (s *session) ReadDir(name string) (ftp.Dir, error) {
	s.touch()
	if err := refuseHidden(name); err != nil {
		return nil, err
	}
	entries, err := s.fs.ReadDir(name)
	if err != nil {
		return nil, err
	}
	shown := entries[:0]
	now := time.Now()
	for _, fi := range entries {
		if !isUploadTemp(fi.Name()) {
			shown = append(shown, fi)
		} else if staleUpload(fi, now, s.cl.srv.staleUploadAge()) {
			s.removeStale(path.Join(name, fi.Name()), fi)
		}
	}
	s.cl.sess.Begin(domain.ActivityListing, name, 0)
	return &listing{entries: shown, s: s}, nil
}

// removeStale removes the temporary file of an upload cut short by a
// crash, as the account.
func (s *session) removeStale(name string, fi fs.FileInfo) {
	if err := s.fs.Remove(name); err != nil {
		s.cl.log.Warn("could not remove the temporary file of an interrupted upload", "file", name, "err", err)
		return
	}
	s.cl.log.Info("removed the temporary file of an interrupted upload", "file", name)
	s.u.freed(fi)
}

// listing is a folder being listed.
type listing struct {
	entries []fs.FileInfo
	s       *session
}

// Readdir implements ftp.Dir.
func (l *listing) Readdir(n int) ([]fs.FileInfo, error) {
	if len(l.entries) == 0 {
		return nil, io.EOF
	}
	if n <= 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	batch := l.entries[:n]
	l.entries = l.entries[n:]
	return batch, nil
}

// Close implements ftp.Dir.
func (l *listing) Close() error {
	l.s.cl.sess.End()
	return nil
}

// Mkdir implements ftp.Session; the jail gives the folder its mode and
// owner. With a quota, a folder is an entry and its blocks: reserved
// before it is made, settled once it is.
func (s *session) Mkdir(name string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	if err := refuseHidden(name); err != nil {
		return err
	}
	q := s.u.quota
	if q == nil {
		return s.fs.Mkdir(name, 0o777)
	}
	if _, err := q.take(dirEstimate, 1, false); err != nil {
		return q.refusal(err, "")
	}
	if err := s.fs.Mkdir(name, 0o777); err != nil {
		q.adjust(-dirEstimate, -1)
		return err
	}
	if fi, err := s.fs.Lstat(name); err == nil {
		q.adjust(allocated(fi)-dirEstimate, 0)
	}
	return nil
}

// Remove implements ftp.Session (DELE). What the file used goes back to
// the quota.
func (s *session) Remove(name string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	if err := refuseHidden(name); err != nil {
		return err
	}
	fi, err := s.fs.Lstat(name)
	if err != nil {
		return err
	}
	if err := s.fs.Remove(name); err != nil {
		return err
	}
	s.u.freed(fi)
	s.reportDelete(name, fi.Size())
	return nil
}

// RemoveDir implements ftp.Session (RMD).
func (s *session) RemoveDir(name string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	if err := refuseHidden(name); err != nil {
		return err
	}
	fi, err := s.fs.Lstat(name)
	if err != nil {
		return err
	}
	if err := s.fs.Remove(name); err != nil {
		return err
	}
	s.u.freed(fi)
	return nil
}

// Rename implements ftp.Session (RNFR/RNTO). What a file it replaces used
// goes back to the quota, unless it is the file renamed itself (the same
// device and inode: a rename onto itself, or onto another hard link of
// it, frees nothing).
func (s *session) Rename(from, to string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	if err := refuseHidden(from); err != nil {
		return err
	}
	if err := refuseHidden(to); err != nil {
		return err
	}
	var moved, replaced fs.FileInfo
	if s.u.quota != nil {
		moved, _ = s.fs.Lstat(from)
		replaced, _ = s.fs.Lstat(to)
	}
	if err := s.fs.Rename(from, to); err != nil {
		return err
	}
	if replaced != nil && moved != nil && !os.SameFile(moved, replaced) {
		s.u.freed(replaced)
	}
	return nil
}

// Chtimes implements ftp.Session (MFMT).
func (s *session) Chtimes(name string, mtime time.Time) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	if err := refuseHidden(name); err != nil {
		return err
	}
	return s.fs.Chtimes(name, mtime, mtime)
}

// Download implements ftp.Session (RETR).
func (s *session) Download(name string, offset int64) (ftp.Transfer, int64, error) {
	s.touch()
	if err := refuseHidden(name); err != nil {
		return nil, 0, err
	}
	f, fi, err := s.open(name, os.O_RDONLY)
	if err != nil {
		return nil, 0, err
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	size := max(0, fi.Size()-offset)
	s.cl.sess.Begin(domain.ActivityDownload, name, size)
	return s.throttle(&transfer{f: f, s: s, name: name, start: time.Now()}, false), size, nil
}

// open opens a regular file for a transfer. O_NONBLOCK: opening a FIFO
// planted in the folder must fail or return at once instead of hanging
// the session; regular files ignore the flag.
func (s *session) open(name string, flags int) (*os.File, fs.FileInfo, error) {
	f, err := s.fs.OpenFile(name, flags|syscall.O_NONBLOCK, 0o666)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.IsDir():
		err = syscall.EISDIR
	case !fi.Mode().IsRegular():
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// isDiskFull reports a full disk or an exhausted disk quota of the host.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

package ftpd

import (
	"errors"
	"io"
	"io/fs"
	"os"
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
	return s.fs.Stat(name)
}

// Lstat implements ftp.Session.
func (s *session) Lstat(name string) (fs.FileInfo, error) {
	s.touch()
	return s.fs.Lstat(name)
}

// ReadDir implements ftp.Session: the jail lists the folder with the
// account's permissions. The session shows "listing" until the listing
// ends.
func (s *session) ReadDir(name string) (ftp.Dir, error) {
	s.touch()
	entries, err := s.fs.ReadDir(name)
	if err != nil {
		return nil, err
	}
	s.cl.sess.Begin(domain.ActivityListing, name, 0)
	return &listing{entries: entries, s: s}, nil
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
// owner.
func (s *session) Mkdir(name string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	return s.fs.Mkdir(name, 0o777)
}

// Remove implements ftp.Session (DELE). The file's bytes go back to the
// quota.
func (s *session) Remove(name string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	fi, err := s.fs.Lstat(name)
	if err != nil {
		return err
	}
	if err := s.fs.Remove(name); err != nil {
		return err
	}
	s.freed(fi)
	s.reportDelete(name, fi.Size())
	return nil
}

// RemoveDir implements ftp.Session (RMD).
func (s *session) RemoveDir(name string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	return s.fs.Remove(name)
}

// Rename implements ftp.Session (RNFR/RNTO). A file it replaces no longer
// counts against the quota.
func (s *session) Rename(from, to string) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	replaced, err := s.fs.Lstat(to)
	if err != nil {
		replaced = nil
	}
	if err := s.fs.Rename(from, to); err != nil {
		return err
	}
	if replaced != nil {
		s.freed(replaced)
	}
	return nil
}

// Chtimes implements ftp.Session (MFMT).
func (s *session) Chtimes(name string, mtime time.Time) error {
	s.touch()
	if err := s.writable(); err != nil {
		return err
	}
	return s.fs.Chtimes(name, mtime, mtime)
}

// freed gives the bytes of a removed regular file back to the quota.
func (s *session) freed(fi fs.FileInfo) {
	if s.u.quota != nil && fi.Mode().IsRegular() {
		s.u.quota.add(-fi.Size())
	}
}

// Download implements ftp.Session (RETR).
func (s *session) Download(name string, offset int64) (ftp.Transfer, int64, error) {
	s.touch()
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

// Upload implements ftp.Session (STOR, APPE).
func (s *session) Upload(name string, offset int64, appendMode bool) (ftp.Transfer, error) {
	s.touch()
	if err := s.writable(); err != nil {
		return nil, err
	}
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case appendMode:
		flags |= os.O_APPEND
	case offset == 0:
		flags |= os.O_TRUNC
	}
	var before fs.FileInfo
	if flags&os.O_TRUNC != 0 && s.u.quota != nil { // only the quota needs the old size
		before, _ = s.fs.Stat(name)
	}
	f, fi, err := s.open(name, flags)
	if err != nil {
		return nil, err
	}
	t := &transfer{f: f, s: s, name: name, upload: true, size: fi.Size(), pos: offset, start: time.Now()}
	switch {
	case appendMode:
		t.pos = t.size
	case offset > 0:
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	case before != nil:
		s.freed(before) // O_TRUNC emptied it
	}
	s.cl.sess.Begin(domain.ActivityUpload, name, 0)
	return s.throttle(t, true), nil
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

package ftpd

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/jail"
)

// clientDriver is the file system of one logged-in session: the user's
// jail, plus what the session registry and the quota need to see. Paths
// arrive from the engine absolute and clean ("/site/x"); the jail maps
// them under the user's folder and refuses every escape.
type clientDriver struct {
	*jail.Fs
	c *client
	u *userState
}

var (
	_ ftpserver.ClientDriver                      = (*clientDriver)(nil)
	_ ftpserver.ClientDriverExtentionFileTransfer = (*clientDriver)(nil)
	_ ftpserver.ClientDriverExtensionRemoveDir    = (*clientDriver)(nil)
	_ ftpserver.ClientDriverExtensionFileList     = (*clientDriver)(nil)
)

var (
	errIsDir      = errors.New("is a folder; use RMD to remove a folder")
	errNotDir     = errors.New("is not a folder; use DELE to remove a file")
	errNotRegular = errors.New("is not a regular file")
	// errPathTooLong wraps ErrFileNameNotAllowed: STOR, APPE and RNTO
	// answer 553, other commands 550.
	errPathTooLong = fmt.Errorf("path is longer than %d bytes: %w", MaxPathLength, ftpserver.ErrFileNameNotAllowed)
)

// checkPath refuses a path longer than MaxPathLength. Paths arrive
// absolute, the current folder prepended, so a short argument in a deep
// folder can be long.
func checkPath(names ...string) error {
	for _, n := range names {
		if len(n) > MaxPathLength {
			return errPathTooLong
		}
	}
	return nil
}

// listingCommands open a data connection to send a directory listing.
var listingCommands = map[string]bool{"LIST": true, "NLST": true, "MLSD": true}

func (d *clientDriver) touch() { d.c.sess.Touch() }

// beforeListing refuses a listing whose data connection would go where
// the server must not connect (see checkDataTarget). The engine stats and
// opens the listed path before it opens the data connection.
func (d *clientDriver) beforeListing() error {
	if listingCommands[d.c.cc.GetLastCommand()] {
		return checkDataTarget(d.c.cc)
	}
	return nil
}

// Stat implements afero.Fs.
func (d *clientDriver) Stat(name string) (os.FileInfo, error) {
	d.touch()
	if err := checkPath(name); err != nil {
		return nil, err
	}
	if err := d.beforeListing(); err != nil {
		return nil, err
	}
	return d.Fs.Stat(name)
}

// ReadDir implements ftpserver.ClientDriverExtensionFileList: the jail
// lists the folder with the account's permissions. The session shows
// "listing" meanwhile.
func (d *clientDriver) ReadDir(name string) ([]os.FileInfo, error) {
	d.touch()
	if err := checkPath(name); err != nil {
		return nil, err
	}
	if err := d.beforeListing(); err != nil {
		return nil, err
	}
	d.c.sess.Begin(domain.ActivityListing, name, 0)
	defer d.c.sess.End()
	return d.Fs.ReadDir(name)
}

// Mkdir implements afero.Fs (MKD). The jail gives the folder its mode and
// owner.
func (d *clientDriver) Mkdir(name string, perm os.FileMode) error {
	d.touch()
	if err := checkPath(name); err != nil {
		return err
	}
	return d.Fs.Mkdir(name, perm)
}

// Chtimes implements afero.Fs (MFMT).
func (d *clientDriver) Chtimes(name string, atime, mtime time.Time) error {
	d.touch()
	if err := checkPath(name); err != nil {
		return err
	}
	return d.Fs.Chtimes(name, atime, mtime)
}

// Remove implements afero.Fs for DELE: files and links only, so that DELE
// of an empty folder does not surprise anyone.
func (d *clientDriver) Remove(name string) error {
	d.touch()
	if err := checkPath(name); err != nil {
		return err
	}
	fi, _, err := d.Fs.LstatIfPossible(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s %w", name, errIsDir)
	}
	if err := d.Fs.Remove(name); err != nil {
		return err
	}
	d.freed(fi)
	return nil
}

// RemoveDir implements ftpserver.ClientDriverExtensionRemoveDir (RMD).
func (d *clientDriver) RemoveDir(name string) error {
	d.touch()
	if err := checkPath(name); err != nil {
		return err
	}
	fi, _, err := d.Fs.LstatIfPossible(name)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s %w", name, errNotDir)
	}
	return d.Fs.Remove(name)
}

// Rename implements afero.Fs (RNFR/RNTO). A file it replaces no longer
// counts against the quota.
func (d *clientDriver) Rename(oldname, newname string) error {
	d.touch()
	if err := checkPath(oldname, newname); err != nil {
		return err
	}
	replaced, _, err := d.Fs.LstatIfPossible(newname)
	if err != nil {
		replaced = nil
	}
	if err := d.Fs.Rename(oldname, newname); err != nil {
		return err
	}
	if replaced != nil {
		d.freed(replaced)
	}
	return nil
}

// freed gives the bytes of a removed regular file back to the quota.
func (d *clientDriver) freed(fi os.FileInfo) {
	if d.u.quota != nil && fi.Mode().IsRegular() {
		d.u.quota.add(-fi.Size())
	}
}

// GetHandle implements ftpserver.ClientDriverExtentionFileTransfer: it
// opens the file of RETR, STOR or APPE and wraps it to count bytes, keep
// the quota and log the transfer. offset is the REST position; the engine
// seeks there itself.
func (d *clientDriver) GetHandle(name string, flags int, offset int64) (ftpserver.FileTransfer, error) {
	d.touch()
	if err := checkPath(name); err != nil {
		return nil, err
	}
	if err := checkDataTarget(d.c.cc); err != nil {
		return nil, err
	}
	upload := flags&(os.O_WRONLY|os.O_RDWR) != 0
	var before os.FileInfo
	if upload && flags&os.O_TRUNC != 0 && d.u.quota != nil { // only the quota needs the old size
		before, _ = d.Fs.Stat(name)
	}
	// O_NONBLOCK: opening a FIFO planted in the folder must fail or
	// return at once instead of hanging the session; regular files ignore
	// the flag.
	f, err := d.Fs.OpenFile(name, flags|syscall.O_NONBLOCK, 0o666)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.IsDir():
		err = fmt.Errorf("%s is a folder", name)
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("%s %w", name, errNotRegular)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	t := newTransfer(f, d.c, d.u, name, upload)
	if upload {
		if before != nil {
			d.freed(before) // O_TRUNC emptied it
		}
		t.size, t.pos = fi.Size(), offset
		if flags&os.O_APPEND != 0 {
			t.pos = t.size
		}
		d.c.sess.Begin(domain.ActivityUpload, name, 0)
	} else {
		d.c.sess.Begin(domain.ActivityDownload, name, max(0, fi.Size()-offset))
	}
	d.c.sess.SetTLS(d.c.cc.HasTLSForControl(), d.c.cc.HasTLSForTransfers())
	d.c.sess.SetClient(d.c.cc.GetClientVersion())
	return t, nil
}

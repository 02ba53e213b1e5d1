package ftpd

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftp"
)

// UploadMode is how STOR writes a file.
type UploadMode string

const (
	// UploadAtomic (the default) writes a STOR to a hidden temporary
	// file in the same folder and renames it over the target once every
	// byte arrived: a website never serves a half-written file, and a
	// failed or aborted upload leaves the old file as it was. REST and
	// APPE resume the file itself, in place.
	UploadAtomic UploadMode = "atomic"
	// UploadDirect writes into the target from the first byte, keeping a
	// partial file when an upload fails.
	UploadDirect UploadMode = "direct"
)

// uploadPrefix starts the names of the temporary files of atomic
// uploads. They are never listed, and no command may name them.
const uploadPrefix = ".panelftp-upload-"

// staleUploadAge is how old a temporary file must be to be taken for the
// leftover of an upload cut short by a crash (the file of a running
// upload changes as data arrives), or twice the idle timeout when that is
// longer.
const staleUploadAge = time.Hour

// errHiddenName refuses a name kept for uploads in progress: 553 for an
// upload or a rename, 550 otherwise.
var errHiddenName = fmt.Errorf("%w: names starting with %s are kept for uploads in progress", ftp.ErrNameNotAllowed, uploadPrefix)

// isUploadTemp reports whether the file name (one element) is the
// temporary file of an atomic upload.
func isUploadTemp(name string) bool { return strings.HasPrefix(name, uploadPrefix) }

// refuseHidden refuses a path (absolute, clean) with an element named
// like a temporary upload file.
func refuseHidden(name string) error {
	if strings.Contains(name, "/"+uploadPrefix) {
		return errHiddenName
	}
	return nil
}

// staleUpload reports whether fi is the temporary file of an upload that
// no one writes any more, older than age.
func staleUpload(fi fs.FileInfo, now time.Time, age time.Duration) bool {
	return isUploadTemp(fi.Name()) && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > age
}

// upload is what an upload's transfer keeps for the quota and the final
// rename.
type upload struct {
	// tmp, for an atomic upload, is the temporary file written and
	// renamed over the target at the end; "" writes the target itself.
	tmp string
	// replaces is the file an atomic upload replaces, nil for none.
	replaces   fs.FileInfo
	appendMode bool
	// from is where the upload began writing.
	from int64
	// newFile: an entry was counted in the quota for the file.
	newFile bool
	// alloc0 is the disk space the quota counts for the file already:
	// its blocks when opened in place, or the blocks of the file an
	// atomic upload replaces (so that both count once). charged is what
	// was reserved for it since.
	alloc0, charged int64
}

// Upload implements ftp.Session (STOR, APPE). A REST position past the
// end of the file is refused with 554: nothing may write a file with a
// hole. In UploadAtomic mode a STOR writes a temporary file (see
// uploadAtomic); an APPE, a resumed STOR and a name that is a symbolic
// link write the file in place.
func (s *session) Upload(name string, offset int64, appendMode bool) (ftp.Transfer, error) {
	s.touch()
	if err := s.writable(); err != nil {
		return nil, err
	}
	if err := refuseHidden(name); err != nil {
		return nil, err
	}
	target, err := s.fs.Lstat(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	exists := err == nil
	resume := offset > 0 && !appendMode
	if resume && !exists {
		return nil, restPastEnd(offset, 0)
	}
	if appendMode || resume || s.cl.srv.cfg.UploadMode == UploadDirect || (exists && target.Mode()&fs.ModeSymlink != 0) {
		return s.uploadInPlace(name, offset, appendMode, exists)
	}
	if exists {
		return s.uploadAtomic(name, target)
	}
	return s.uploadAtomic(name, nil)
}

// restPastEnd refuses a REST position past the end of the file.
func restPastEnd(offset, size int64) error {
	return &ftp.Error{Code: 554, Message: fmt.Sprintf(
		"Requested action not taken: invalid REST parameter %d, past the end of the file (%d bytes); resume from %d or less.",
		offset, size, size)}
}

// uploadInPlace opens name itself: truncated for a STOR, at offset for a
// resumed one, at its end for an APPE.
func (s *session) uploadInPlace(name string, offset int64, appendMode, exists bool) (ftp.Transfer, error) {
	q := s.u.quota
	up := &upload{appendMode: appendMode}
	if q != nil && !exists {
		if _, err := q.take(0, 1, false); err != nil {
			return nil, q.refusal(err, "")
		}
		up.newFile = true
	}
	truncate := !appendMode && offset == 0
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case appendMode:
		flags |= os.O_APPEND
	case truncate && q == nil:
		flags |= os.O_TRUNC
	}
	f, fi, err := s.open(name, flags)
	if err == nil && q != nil && truncate {
		// Truncated here, not by O_TRUNC, to count the blocks it frees.
		before := allocated(fi)
		if err = f.Truncate(0); err == nil {
			fi, err = f.Stat()
		}
		if err == nil {
			q.adjust(allocated(fi)-before, 0)
		}
	}
	if err == nil && offset > fi.Size() && !appendMode {
		err = restPastEnd(offset, fi.Size()) // it got shorter meanwhile
	}
	if err == nil && offset > 0 && !appendMode {
		_, err = f.Seek(offset, io.SeekStart)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		if up.newFile {
			q.adjust(0, -1)
		}
		return nil, err
	}
	up.alloc0, up.from = allocated(fi), offset
	s.cl.sess.Begin(domain.ActivityUpload, name, 0)
	return s.throttle(&transfer{f: f, s: s, name: name, upload: true, up: up, start: time.Now()}, true), nil
}

// uploadAtomic writes a new temporary file beside name; the transfer's
// end renames it over name, or removes it if the upload failed. A file
// it replaces must be one the account may write (as in place), and the
// new file keeps its permissions and, when the account is in it, its
// group. A file the account may write in a folder where it may not
// create one is written in place.
func (s *session) uploadAtomic(name string, target fs.FileInfo) (ftp.Transfer, error) {
	if target != nil {
		switch {
		case target.IsDir():
			return nil, syscall.EISDIR
		case !target.Mode().IsRegular():
			return nil, errNotRegular
		}
		f, err := s.fs.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	q := s.u.quota
	up := &upload{tmp: path.Join(path.Dir(name), uploadPrefix+randomName())}
	if q != nil && target == nil {
		if _, err := q.take(0, 1, false); err != nil {
			return nil, q.refusal(err, "")
		}
		up.newFile = true
	}
	f, fi, err := s.open(up.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil && target != nil && errors.Is(err, fs.ErrPermission) {
		// The account may write the file but not add one beside it.
		return s.uploadInPlace(name, 0, false, true)
	}
	if err != nil {
		if up.newFile {
			q.adjust(0, -1)
		}
		return nil, err
	}
	up.alloc0 = allocated(fi)
	if target != nil {
		s.keepMode(f, target)
		up.replaces = target
		if bytes, _ := freedBy(target); q != nil {
			up.alloc0 += bytes // the new file may use the old one's space
		}
	}
	s.cl.sess.Begin(domain.ActivityUpload, name, 0)
	return s.throttle(&transfer{f: f, s: s, name: name, upload: true, up: up, start: time.Now()}, true), nil
}

// keepMode gives the new file f the permissions of the file it replaces,
// and its group when the account is in that group: what the account's
// own chmod and chgrp could do.
func (s *session) keepMode(f *os.File, old fs.FileInfo) {
	_ = f.Chmod(old.Mode().Perm())
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok || !slices.Contains(s.u.groups, int(st.Gid)) {
		return
	}
	if fi, err := f.Stat(); err == nil && fi.Sys().(*syscall.Stat_t).Gid != st.Gid {
		_ = f.Chown(-1, int(st.Gid))
	}
}

// randomName is 16 hexadecimal digits no one can guess.
func randomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// allowUpload lets an upload write its next n bytes, once noHole found
// that what it wrote so far has no hole. With a quota, it reserves the
// disk space they may add first: whole blocks of the filesystem
// (st_blksize) past the end of the file, or every block they touch when
// the file has holes; the file's real size is settled when it closes.
func (t *transfer) allowUpload(n int64) (int64, error) {
	pos, err := t.noHole()
	if err != nil {
		return 0, err
	}
	q := t.s.u.quota
	if q == nil {
		return n, nil
	}
	fi, err := t.f.Stat()
	if err != nil {
		return 0, err
	}
	size, alloc, blk := fi.Size(), allocated(fi), int64(512)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blksize > 512 {
		blk = int64(st.Blksize)
	}
	if t.up.appendMode {
		pos = size
	}
	room := t.up.alloc0 + t.up.charged - alloc // reserved, not allocated yet
	need := growth(pos, n, size, alloc, blk)
	if need <= room {
		return n, nil
	}
	got, err := q.take(need-room, 0, true)
	t.up.charged += got
	if err == nil {
		return n, nil
	}
	t.s.cl.log.Warn("FTP quota exceeded", "user", t.s.u.login.User.Username, "file", t.name)
	m := writable(n, room+got, func(k int64) int64 { return growth(pos, k, size, alloc, blk) })
	return m, q.refusal(err, t.afterRefusal())
}

// noHole returns where the upload writes next, after checking that the
// bytes it wrote leave no hole: a file shortened meanwhile by another
// session (or the website) would get one from the next write. Such a file
// is cut back where its hole begins, and the upload stops with 554. An
// APPE always writes at the end and needs no check.
func (t *transfer) noHole() (int64, error) {
	if t.up.appendMode {
		return 0, nil
	}
	pos, err := t.f.Seek(0, io.SeekCurrent)
	if err != nil || seekHole < 0 {
		return pos, err
	}
	hole, herr := t.f.Seek(t.up.from, seekHole)
	if _, err := t.f.Seek(pos, io.SeekStart); err != nil {
		return 0, err
	}
	if herr != nil || hole >= pos { // from is at the end, or no hole
		return pos, nil
	}
	t.s.cl.log.Warn("FTP upload: the file was shortened meanwhile, cut back where its hole begins",
		"user", t.s.u.login.User.Username, "file", t.name, "at", hole)
	if err := t.f.Truncate(hole); err != nil {
		return 0, err
	}
	return 0, &ftp.Error{Code: 554, Message: fmt.Sprintf(
		"Requested action not taken: another session shortened the file during the upload; it holds %d bytes now: resume from there.", hole)}
}

// afterRefusal says what becomes of an upload the quota stops.
func (t *transfer) afterRefusal() string {
	if t.up.tmp != "" {
		return "the upload was not saved"
	}
	return "the partial file is kept"
}

// growth bounds the disk space writing n bytes at pos adds to a file of
// size bytes with alloc bytes allocated, in blocks of blk: the blocks
// past its end, or every block touched when the file has holes (alloc <
// size: sparse, or its data kept in its inode).
func growth(pos, n, size, alloc, blk int64) int64 {
	roundUp := func(x int64) int64 { return (x + blk - 1) / blk * blk }
	if alloc >= size {
		return max(0, roundUp(pos+n)-roundUp(size))
	}
	return roundUp(pos+n) - pos/blk*blk
}

// writable is the most of n bytes whose growth fits in room.
func writable(n, room int64, growth func(int64) int64) int64 {
	lo, hi := int64(0), n
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if growth(mid) <= room {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// finishUpload closes an upload's file, settles its real size with the
// quota, and ends an atomic upload: the temporary file is renamed over
// the target when every byte arrived, or removed.
func (t *transfer) finishUpload(failed error) error {
	if failed == nil {
		if _, err := t.noHole(); err != nil {
			failed = err // the last chunk met a shortened file
		}
	}
	if q := t.s.u.quota; q != nil {
		if fi, err := t.f.Stat(); err == nil {
			q.adjust(allocated(fi)-t.up.alloc0-t.up.charged, 0)
		}
	}
	err := t.f.Close()
	var reply *ftp.Error
	if errors.As(failed, &reply) && err == nil {
		err = reply // say what happened, as the engine saw none
	}
	if t.up.tmp == "" {
		return err
	}
	if failed == nil && err == nil {
		if err = t.s.replace(t.up, t.name); err == nil {
			return nil
		}
		t.s.cl.log.Error("FTP upload could not replace its target", "file", t.name, "err", err)
	}
	t.s.discard(t.up)
	if err == nil && isDiskFull(failed) {
		return &ftp.Error{Code: 552, Message: "The server's disk is full; the upload was not saved."}
	}
	return err
}

// replace renames up's temporary file over name. The quota counted the
// space of the file it replaces for the new one (alloc0); a file found
// there instead (it was replaced meanwhile) frees its own.
func (s *session) replace(up *upload, name string) error {
	q := s.u.quota
	if q == nil {
		return s.fs.Rename(up.tmp, name)
	}
	old, err := s.fs.Lstat(name)
	if err != nil {
		old = nil
	}
	if err := s.fs.Rename(up.tmp, name); err != nil {
		return err
	}
	var bytes, files int64
	if old != nil {
		bytes, files = freedBy(old)
	}
	if up.replaces != nil && old != nil && os.SameFile(old, up.replaces) {
		bytes = 0 // counted for the new file already
	} else if up.replaces != nil {
		bytes -= up.alloc0 // the space counted twice goes back
	}
	if !up.newFile {
		files-- // the new file is an entry of its own
	}
	q.adjust(-bytes, -files)
	return nil
}

// discard removes the temporary file of an upload that did not complete;
// the quota counts again what it counted before the upload.
func (s *session) discard(up *upload) {
	fi, err := s.fs.Lstat(up.tmp)
	if err == nil {
		err = s.fs.Remove(up.tmp)
	}
	if err != nil {
		s.cl.log.Error("FTP upload: could not remove the temporary file", "file", up.tmp, "err", err)
		return
	}
	if q := s.u.quota; q != nil {
		var files int64
		if up.newFile {
			files = 1
		}
		q.adjust(up.alloc0-allocated(fi), -files)
	}
}

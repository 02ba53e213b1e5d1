package ftp

import (
	"errors"
	"path"
	"strconv"
	"strings"
	"time"
)

// errPathTooLong refuses a path over MaxPathLength; the current folder
// can make a short argument long.
var errPathTooLong = &pathError{"File name not allowed: the path is longer than " + strconv.Itoa(MaxPathLength) + " bytes."}

// errBadName refuses a name with a NUL or CR byte, which no file may have.
var errBadName = &pathError{"File name not allowed: names cannot contain NUL or carriage return characters."}

// pathError is a path refused before it reaches the backend: 553 for
// uploads and renames, 550 otherwise.
type pathError struct{ msg string }

func (e *pathError) Error() string { return e.msg }

// resolve makes arg absolute against the current folder and clean; ".."
// never goes above "/".
func (c *Conn) resolve(arg string) (string, error) {
	p := arg
	if !strings.HasPrefix(p, "/") {
		p = c.cwd + "/" + p
	}
	p = path.Clean(p)
	switch {
	case len(p) > MaxPathLength:
		return "", errPathTooLong
	case strings.ContainsAny(p, "\x00\r"):
		return "", errBadName
	}
	return p, nil
}

// refusePath answers a path resolve refused.
func (c *Conn) refusePath(err error, upload bool) {
	code := 550
	if upload {
		code = 553
	}
	var pe *pathError
	if errors.As(err, &pe) {
		c.out.reply(code, pe.msg)
		return
	}
	c.fail(err, 550, upload)
}

func (c *Conn) cmdDELE(arg string) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	fi, err := c.sess.Lstat(name)
	if err != nil {
		c.fail(err, 550, false)
		return
	}
	if fi.IsDir() {
		c.out.reply(550, "That is a folder; use RMD to remove a folder.")
		return
	}
	if err := c.sess.Remove(name); err != nil {
		c.fail(err, 550, false)
		return
	}
	c.out.reply(250, "File deleted.")
}

func (c *Conn) cmdRNFR(arg string) {
	c.renameFrom = ""
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	if name == "/" {
		c.out.reply(550, "Your top folder cannot be renamed.")
		return
	}
	if _, err := c.sess.Lstat(name); err != nil {
		c.fail(err, 550, false)
		return
	}
	c.renameFrom = name
	c.out.reply(350, "Ready to rename: send RNTO with the new name.")
}

func (c *Conn) cmdRNTO(arg string) {
	from := c.renameFrom
	c.renameFrom = ""
	if from == "" {
		c.out.reply(503, "Send RNFR first.")
		return
	}
	to, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, true)
		return
	}
	if to == "/" {
		c.out.reply(553, "Your top folder cannot be replaced.")
		return
	}
	if err := c.sess.Rename(from, to); err != nil {
		c.fail(err, 550, true)
		return
	}
	c.out.reply(250, "Renamed.")
}

func (c *Conn) cmdSIZE(arg string) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	fi, err := c.sess.Stat(name)
	switch {
	case err != nil:
		c.fail(err, 550, false)
	case fi.IsDir():
		c.out.reply(550, "That is a folder; SIZE is for files.")
	case !fi.Mode().IsRegular():
		c.out.reply(550, "That is not a regular file.")
	default:
		c.out.reply(213, strconv.FormatInt(fi.Size(), 10))
	}
}

func (c *Conn) cmdMDTM(arg string) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	fi, err := c.sess.Stat(name)
	if err != nil {
		c.fail(err, 550, false)
		return
	}
	c.out.reply(213, string(appendTime(nil, fi.ModTime())))
}

// cmdMFMT sets a file's modification time (draft-somers-ftp-mfxx):
// "MFMT YYYYMMDDHHMMSS path", in UTC.
func (c *Conn) cmdMFMT(arg string) {
	stamp, file, ok := strings.Cut(arg, " ")
	mtime, err := parseTime(stamp)
	if !ok || file == "" || err != nil {
		c.out.reply(501, "Give the time and the file: MFMT YYYYMMDDHHMMSS file.")
		return
	}
	name, err := c.resolve(file)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	if err := c.sess.Chtimes(name, mtime); err != nil {
		c.fail(err, 550, false)
		return
	}
	c.out.reply(213, "Modify="+stamp+"; "+file)
}

// parseTime reads YYYYMMDDHHMMSS[.sss] in UTC (RFC 3659 section 2.3).
func parseTime(s string) (time.Time, error) {
	layout := "20060102150405"
	if len(s) > len(layout) && s[len(layout)] == '.' {
		layout += "." + strings.Repeat("0", len(s)-len(layout)-1)
	}
	return time.ParseInLocation(layout, s, time.UTC)
}

// appendTime appends t as YYYYMMDDHHMMSS in UTC (RFC 3659 section 2.3),
// without the cost of time.Format: listings write one per entry.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = appendDigits(b, int(mo), 2)
	b = appendDigits(b, d, 2)
	b = appendDigits(b, h, 2)
	b = appendDigits(b, mi, 2)
	return appendDigits(b, s, 2)
}

// appendDigits appends n with at least width digits.
func appendDigits(b []byte, n, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n >= 10 || width > 1 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	tmp[i] = byte('0' + n)
	return append(b, tmp[i:]...)
}

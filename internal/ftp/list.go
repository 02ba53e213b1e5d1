package ftp

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// factSet is a set of the MLST/MLSD facts of RFC 3659 section 7.5.
type factSet uint8

const (
	factType factSet = 1 << iota
	factSize
	factModify
	factPerm
	factUnique
	factUnixMode
	// factReadOnly is not a fact: in a read-only session's set, it keeps
	// the perm fact to what the session may do.
	factReadOnly factSet = 1 << 7
)

var factNames = []struct {
	fact factSet
	name string
}{
	{factType, "type"}, {factSize, "size"}, {factModify, "modify"},
	{factPerm, "perm"}, {factUnique, "unique"}, {factUnixMode, "unix.mode"},
}

// defaultFacts are the facts sent until OPTS MLST chooses others.
const defaultFacts = factType | factSize | factModify | factPerm | factUnixMode

// feat is the fact list of the FEAT MLST line: every fact, with a star
// after those enabled (RFC 3659 section 7.8).
func (f factSet) feat() string {
	var b strings.Builder
	for _, n := range factNames {
		b.WriteString(n.name)
		if f&n.fact != 0 {
			b.WriteByte('*')
		}
		b.WriteByte(';')
	}
	return b.String()
}

// String lists the enabled facts, as the reply to OPTS MLST does.
func (f factSet) String() string {
	var b strings.Builder
	for _, n := range factNames {
		if f&n.fact != 0 {
			b.WriteString(n.name + ";")
		}
	}
	return b.String()
}

// parseFacts reads the argument of OPTS MLST; unknown facts are ignored
// (RFC 3659 section 7.9).
func parseFacts(s string) factSet {
	var f factSet
	for _, name := range strings.Split(s, ";") {
		for _, n := range factNames {
			if strings.EqualFold(strings.TrimSpace(name), n.name) {
				f |= n.fact
			}
		}
	}
	return f
}

func (c *Conn) cmdLIST(arg string) { c.list("LIST", arg) }
func (c *Conn) cmdNLST(arg string) { c.list("NLST", arg) }
func (c *Conn) cmdMLSD(arg string) { c.list("MLSD", arg) }

// list sends a listing of a folder (or, for LIST and NLST, of one file)
// over a data connection.
func (c *Conn) list(verb, arg string) {
	if verb != "MLSD" {
		arg = stripOptions(arg)
	}
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	if !c.dataAllowed() {
		return
	}
	x := &xfer{verb: verb, name: name, size: -1}
	opening := "Opening data connection for the listing of " + name + "."
	c.transfer(x, false, func() (job, error) {
		fi, err := c.sess.Stat(name)
		if err != nil {
			return job{}, err
		}
		if !fi.IsDir() {
			if verb == "MLSD" {
				return job{}, &Error{501, "Not a folder: MLSD lists folders (MLST describes one file)."}
			}
			return job{opening: opening, finish: func(error) error { return nil },
				move: func(conn net.Conn) error {
					_, err := conn.Write(appendEntry(nil, verb, c.facts, fi, path.Base(name), "", time.Now()))
					return err
				}}, nil
		}
		d, err := c.sess.ReadDir(name)
		if err != nil {
			return job{}, err
		}
		var parent fs.FileInfo
		if verb == "MLSD" && name != "/" {
			parent, _ = c.sess.Stat(path.Dir(name))
		}
		return job{opening: opening, finish: func(error) error { return d.Close() },
			move: func(conn net.Conn) error { return c.sendListing(conn, verb, d, fi, parent, x) }}, nil
	})
}

// stripOptions drops the ls options some clients give LIST and NLST
// ("LIST -la /site").
func stripOptions(arg string) string {
	for strings.HasPrefix(arg, "-") {
		_, rest, _ := strings.Cut(arg, " ")
		arg = strings.TrimLeft(rest, " ")
	}
	return arg
}

// listBufSize is how much of a listing is gathered per write.
const listBufSize = 32 << 10

var listBuffers = sync.Pool{New: func() any { b := make([]byte, 0, listBufSize+1024); return &b }}

// readdirBatch is how many entries are read (and lstat'ed) at a time.
const readdirBatch = 1024

// sendListing formats the entries of d into a reused buffer, writing it
// to conn whenever it is full.
func (c *Conn) sendListing(conn net.Conn, verb string, d Dir, self, parent fs.FileInfo, x *xfer) error {
	bp := listBuffers.Get().(*[]byte)
	b := (*bp)[:0]
	defer func() { *bp = b[:0]; listBuffers.Put(bp) }()
	now := time.Now()
	pace := newPacer(conn, c.srv.idleTimeout(), false)
	flush := func() error {
		pace.arm(time.Now())
		_, err := conn.Write(b)
		x.moved.Add(int64(len(b)))
		b = b[:0]
		return err
	}
	if verb == "MLSD" {
		b = appendEntry(b, verb, c.facts, self, ".", "cdir", now)
		if parent != nil {
			b = appendEntry(b, verb, c.facts, parent, "..", "pdir", now)
		}
	}
	for {
		entries, err := d.Readdir(readdirBatch)
		for _, fi := range entries {
			if strings.ContainsAny(fi.Name(), "\r\n") {
				continue // would break the listing's lines
			}
			b = appendEntry(b, verb, c.facts, fi, fi.Name(), "", now)
			if len(b) >= listBufSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) || err == nil && len(entries) == 0 {
			break
		}
		if err != nil {
			return &fileError{err}
		}
	}
	if len(b) > 0 {
		return flush()
	}
	return nil
}

// appendEntry appends the line of one entry in the format of verb. typ
// overrides the MLSD type (cdir, pdir).
func appendEntry(b []byte, verb string, facts factSet, fi fs.FileInfo, name, typ string, now time.Time) []byte {
	switch verb {
	case "NLST":
		b = append(b, name...)
	case "MLSD", "MLST":
		b = appendFacts(b, facts, fi, typ)
		b = append(b, ' ')
		b = append(b, name...)
	default:
		b = appendLIST(b, fi, now)
		b = append(b, name...)
	}
	return append(b, '\r', '\n')
}

// appendFacts appends the facts of fi, each followed by ";".
func appendFacts(b []byte, facts factSet, fi fs.FileInfo, typ string) []byte {
	mode := fi.Mode()
	if facts&factType != 0 {
		if typ == "" {
			typ = typeFact(mode)
		}
		b = append(b, "type="...)
		b = append(b, typ...)
		b = append(b, ';')
	}
	if facts&factSize != 0 && !mode.IsDir() {
		b = append(b, "size="...)
		b = strconv.AppendInt(b, fi.Size(), 10)
		b = append(b, ';')
	}
	if facts&factModify != 0 {
		b = append(b, "modify="...)
		b = appendTime(b, fi.ModTime())
		b = append(b, ';')
	}
	if facts&factPerm != 0 {
		b = append(b, "perm="...)
		b = appendPerm(b, mode, facts&factReadOnly != 0)
		b = append(b, ';')
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && facts&factUnique != 0 {
		b = append(b, "unique="...)
		b = strconv.AppendUint(b, uint64(st.Dev), 16)
		b = append(b, 'U')
		b = strconv.AppendUint(b, st.Ino, 16)
		b = append(b, ';')
	}
	if facts&factUnixMode != 0 {
		b = append(b, "unix.mode=0"...)
		b = strconv.AppendUint(b, uint64(unixPerm(mode)), 8)
		b = append(b, ';')
	}
	return b
}

// typeFact is the RFC 3659 type of an entry; symbolic links and special
// files use the "OS.unix=" form of section 7.5.1.
func typeFact(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "dir"
	case mode.IsRegular():
		return "file"
	case mode&fs.ModeSymlink != 0:
		return "OS.unix=symlink"
	case mode&fs.ModeNamedPipe != 0:
		return "OS.unix=fifo"
	case mode&fs.ModeSocket != 0:
		return "OS.unix=socket"
	case mode&fs.ModeCharDevice != 0:
		return "OS.unix=chardev"
	default:
		return "OS.unix=blockdev"
	}
}

// appendPerm appends the perm fact (RFC 3659 section 7.5.5), judged from
// the owner's permission bits: the account's files are the user's own. A
// read-only session may only enter, list and read.
func appendPerm(b []byte, mode fs.FileMode, readOnly bool) []byte {
	r, w, x := mode&0o400 != 0, mode&0o200 != 0, mode&0o100 != 0
	if readOnly {
		w = false
	}
	if mode.IsDir() {
		if w {
			b = append(b, "cmp"...)
		}
		if !readOnly {
			b = append(b, "df"...)
		}
		if x {
			b = append(b, 'e')
		}
		if r {
			b = append(b, 'l')
		}
		return b
	}
	if w {
		b = append(b, 'a')
	}
	if !readOnly {
		b = append(b, "df"...)
	}
	if r {
		b = append(b, 'r')
	}
	if w {
		b = append(b, 'w')
	}
	return b
}

// unixPerm is the mode's permission bits with setuid, setgid and sticky
// in their Unix places.
func unixPerm(mode fs.FileMode) uint32 {
	p := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendLIST appends the "ls -l" columns of fi before its name: mode,
// links, owner, group, size and time (the time of day for the last six
// months, the year otherwise), in UTC.
func appendLIST(b []byte, fi fs.FileInfo, now time.Time) []byte {
	mode := fi.Mode()
	b = append(b, lsType(mode))
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if mode&(1<<uint(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	special := func(i int, set bool, exec, noexec byte) {
		if set {
			if b[len(b)-9+i] == 'x' {
				b[len(b)-9+i] = exec
			} else {
				b[len(b)-9+i] = noexec
			}
		}
	}
	special(2, mode&fs.ModeSetuid != 0, 's', 'S')
	special(5, mode&fs.ModeSetgid != 0, 's', 'S')
	special(8, mode&fs.ModeSticky != 0, 't', 'T')
	b = append(b, " 1 ftp ftp "...)
	size := strconv.AppendInt(nil, fi.Size(), 10)
	for i := len(size); i < 12; i++ {
		b = append(b, ' ')
	}
	b = append(b, size...)
	t := fi.ModTime().UTC()
	_, month, day := t.Date()
	b = append(b, ' ')
	b = append(b, monthNames[month-1]...)
	if day < 10 {
		b = append(b, ' ', ' ')
	} else {
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(day), 10)
	if age := now.Sub(t); age > -time.Hour && age < 182*24*time.Hour {
		h, m, _ := t.Clock()
		b = append(b, ' ')
		b = appendDigits(b, h, 2)
		b = append(b, ':')
		b = appendDigits(b, m, 2)
	} else {
		b = append(b, ' ', ' ')
		b = appendDigits(b, t.Year(), 4)
	}
	return append(b, ' ')
}

func lsType(mode fs.FileMode) byte {
	switch {
	case mode.IsDir():
		return 'd'
	case mode&fs.ModeSymlink != 0:
		return 'l'
	case mode&fs.ModeNamedPipe != 0:
		return 'p'
	case mode&fs.ModeSocket != 0:
		return 's'
	case mode&fs.ModeCharDevice != 0:
		return 'c'
	case mode&fs.ModeDevice != 0:
		return 'b'
	}
	return '-'
}

// cmdMLST describes one file or folder on the control connection (RFC
// 3659 section 7); symbolic links are followed, as for SIZE and MDTM.
func (c *Conn) cmdMLST(arg string) {
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
	typ := ""
	if fi.IsDir() && name == c.cwd {
		typ = "cdir"
	}
	line := appendFacts(nil, c.facts, fi, typ)
	c.out.reply(250, "Listing "+name+"\n"+string(line)+" "+name+"\nEnd.")
}

// maxStatEntries bounds a STAT listing on the control connection.
const maxStatEntries = 10000

// statPath lists a path on the control connection: 213 for a file, 212
// for a folder.
func (c *Conn) statPath(arg string) {
	name, err := c.resolve(stripOptions(arg))
	if err != nil {
		c.refusePath(err, false)
		return
	}
	fi, err := c.sess.Stat(name)
	if err != nil {
		c.fail(err, 550, false)
		return
	}
	now := time.Now()
	if !fi.IsDir() {
		line := appendLIST(nil, fi, now)
		c.out.reply(213, "Status of "+name+":\n"+string(line)+path.Base(name)+"\nEnd of status.")
		return
	}
	d, err := c.sess.ReadDir(name)
	if err != nil {
		c.fail(err, 550, false)
		return
	}
	defer d.Close()
	var b strings.Builder
	b.WriteString("Status of " + name + ":")
	count := 0
	for count < maxStatEntries {
		entries, err := d.Readdir(min(readdirBatch, maxStatEntries-count))
		for _, e := range entries {
			if strings.ContainsAny(e.Name(), "\r\n") {
				continue
			}
			b.WriteString("\n")
			b.Write(appendLIST(nil, e, now))
			b.WriteString(e.Name())
			count++
		}
		if err != nil || len(entries) == 0 {
			break
		}
	}
	if count == maxStatEntries {
		b.WriteString("\n(more entries: use LIST for the whole folder)")
	}
	b.WriteString("\nEnd of status.")
	c.out.reply(212, b.String())
}

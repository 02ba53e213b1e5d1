package ftp

import (
	"errors"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Error is an FTP reply for a refused command or log-in. A backend
// returns one to choose the code and the sentence the client reads;
// Message is one plain sentence, without CR or LF.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return strconv.Itoa(e.Code) + " " + e.Message }

// Sentences of the replies errors map to. They say what happened in the
// client's terms and never carry an error's own text, which may name
// host paths or system calls.
const (
	msgNotFound     = "No such file or folder."
	msgPermission   = "Permission denied."
	msgExists       = "A file or folder of that name already exists."
	msgNotEmpty     = "The folder is not empty."
	msgNotDir       = "Not a folder."
	msgIsDir        = "That is a folder."
	msgNameTooLong  = "File name not allowed: a name is too long."
	msgNameRefused  = "File name not allowed."
	msgQuota        = "Quota exceeded: delete files to make room; the partial file is kept."
	msgDiskFull     = "The server's disk is full; the partial file is kept."
	msgNotAvailable = "Requested action not taken: the file is not available."
	msgLocalError   = "Local error in processing; the partial file is kept."
	msgDataBroken   = "Data connection closed; transfer aborted."
	msgDataTimeout  = "Data connection timed out; transfer aborted."
)

// replyFor maps err to a reply. fallback is the code for a failure the
// error does not classify (550 for file commands, 451 for a transfer);
// upload is true for STOR, APPE and RNTO, where RFC 959 answers a refused
// name with 553 and a full disk with 552.
func replyFor(err error, fallback int, upload bool) (code int, msg string, known bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Message, true
	}
	nameCode := 550
	if upload {
		nameCode = 553
	}
	switch {
	case errors.Is(err, ErrQuotaExceeded):
		return 552, msgQuota, true
	case errors.Is(err, ErrNameNotAllowed):
		return nameCode, msgNameRefused, true
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		return 552, msgDiskFull, true
	case errors.Is(err, syscall.ENAMETOOLONG):
		return nameCode, msgNameTooLong, true
	case errors.Is(err, syscall.ENOTEMPTY):
		return 550, msgNotEmpty, true
	case errors.Is(err, syscall.ENOTDIR):
		return 550, msgNotDir, true
	case errors.Is(err, syscall.EISDIR):
		return 550, msgIsDir, true
	case errors.Is(err, fs.ErrNotExist):
		return 550, msgNotFound, true
	case errors.Is(err, fs.ErrExist):
		return 550, msgExists, true
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.ELOOP):
		return 550, msgPermission, true
	}
	if fallback == 451 {
		return 451, msgLocalError, false
	}
	return fallback, msgNotAvailable, false
}

// dataError is the reply to a transfer whose data connection failed.
func dataError(err error) (int, string) {
	if errors.Is(err, syscall.ETIMEDOUT) {
		return 426, msgDataTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 426, msgDataTimeout
	}
	return 426, msgDataBroken
}

// replyWriter is the one way replies reach the client. Replies are
// appended to a buffer and written when the connection would otherwise
// wait for the client (flush), so that the replies to pipelined commands,
// or the 150 and 226 of a small transfer, leave in one write. It is safe
// for concurrent use: the transfer watcher answers STAT while the command
// goroutine finishes a transfer.
type replyWriter struct {
	mu       sync.Mutex
	conn     net.Conn // the control connection, TLS once AUTH TLS succeeded
	buf      []byte
	err      error     // the first write error; later replies are dropped
	deadline time.Time // write deadline set on conn
	timeout  time.Duration
}

// reply appends "code text"; a text of several lines (separated by "\n")
// becomes a multi-line reply whose inner lines start with a space, as
// RFC 959 and RFC 2389 (FEAT) ask.
func (w *replyWriter) reply(code int, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = appendReply(w.buf, code, text)
}

// appendReply formats one reply.
func appendReply(b []byte, code int, text string) []byte {
	first, rest, multi := strings.Cut(text, "\n")
	b = strconv.AppendInt(b, int64(code), 10)
	if !multi {
		b = append(b, ' ')
		b = appendSafe(b, first)
		return append(b, '\r', '\n')
	}
	b = append(b, '-')
	b = appendSafe(b, first)
	b = append(b, '\r', '\n')
	for {
		line, more, ok := strings.Cut(rest, "\n")
		if !ok {
			b = strconv.AppendInt(b, int64(code), 10)
			b = append(b, ' ')
			b = appendSafe(b, line)
			return append(b, '\r', '\n')
		}
		b = append(b, ' ')
		b = appendSafe(b, line)
		b = append(b, '\r', '\n')
		rest = more
	}
}

// appendSafe appends s with carriage returns replaced, so that a name
// from the disk cannot end a reply line early.
func appendSafe(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == 0 {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// flush writes the buffered replies.
func (w *replyWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *replyWriter) flushLocked() error {
	if len(w.buf) == 0 || w.err != nil {
		w.buf = w.buf[:0]
		return w.err
	}
	// Refreshing the deadline costs a timer update: do it only once half
	// of it has gone.
	if now := time.Now(); w.deadline.Sub(now) < w.timeout/2 {
		w.deadline = now.Add(w.timeout)
		_ = w.conn.SetWriteDeadline(w.deadline)
	}
	_, w.err = w.conn.Write(w.buf)
	w.buf = w.buf[:0]
	if cap(w.buf) > 64<<10 {
		w.buf = nil // a long STAT listing: do not keep its buffer
	}
	return w.err
}

// pending reports whether replies wait in the buffer.
func (w *replyWriter) pending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buf) > 0
}

// setConn switches the writer to conn (the TLS connection after AUTH
// TLS), after what was buffered has been written to the previous one.
func (w *replyWriter) setConn(conn net.Conn) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.flushLocked()
	w.conn, w.deadline = conn, time.Time{}
	return err
}

// quote returns name in double quotes for a 257 reply, with each quote
// inside doubled (RFC 959, appendix II).
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

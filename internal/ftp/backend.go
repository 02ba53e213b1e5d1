package ftp

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// Backend decides who may connect and log in. The engine calls it from
// the connection's own goroutine.
type Backend interface {
	// Connect is called for every accepted connection, before the
	// greeting (and, on an implicit FTPS port, before the TLS handshake).
	// It may keep c to end the connection later (Conn.Close). An error
	// refuses the connection: an *Error is sent as the reply (421 is
	// usual: "Service not available, closing control connection"), any
	// other error reads "421 Service not available.", and the connection
	// is closed.
	Connect(c *Conn) (Client, error)
}

// Client is one control connection as the backend sees it, from Connect
// to Close.
type Client interface {
	// Login checks the user name and password of a PASS command and
	// returns the session the rest of the connection works in: what a
	// log-in decides (folder, owner of new files, limits) is decided here,
	// once. ctx ends when the server closes.
	//
	// A refusal is an error: an *Error is sent as it is, ErrTLSRequired
	// asks for AUTH TLS, any other error reads "530 Login incorrect.".
	// After a refused log-in the engine closes the connection, so that
	// each guess costs a new connection (and passes Connect again), except
	// after ErrTLSRequired.
	//
	// Login may call Conn.RequireTLS to require TLS of this connection's
	// transfers.
	Login(ctx context.Context, user, pass string) (Session, error)
	// Close is called once when the connection has ended, logged in or
	// not; the backend releases the Session here.
	Close()
}

// StatusWatcher is an optional interface of Client. The engine calls
// StatusChanged, from the connection's goroutine, after a command changed
// what Conn.TLS or Conn.ClientName report (AUTH TLS, PROT, CLNT), so that
// a live view of the connection never shows stale values.
type StatusWatcher interface {
	StatusChanged()
}

// Session is what a logged-in connection may do. The engine calls it
// from one goroutine at a time. Paths are absolute, clean and
// slash-separated ("/", "/site/index.html"): ".." never leaves "/", and
// every path is at most MaxPathLength bytes.
//
// Errors become replies (see Error): wrap fs.ErrNotExist,
// fs.ErrPermission, fs.ErrExist, ErrQuotaExceeded or ErrNameNotAllowed,
// return a syscall.Errno, or return an *Error to choose the reply
// yourself. Any other error is logged and answered with a generic
// sentence: its text never reaches the client.
//
// Each method is also the place to refuse an operation (a read-only
// user refuses Upload, Mkdir, Remove...).
type Session interface {
	// Stat describes name, following symbolic links (CWD, SIZE, MDTM,
	// MLST of a folder).
	Stat(name string) (fs.FileInfo, error)
	// Lstat describes name itself, a symbolic link included (MLST,
	// STAT, DELE).
	Lstat(name string) (fs.FileInfo, error)
	// ReadDir opens the folder name for a listing (LIST, NLST, MLSD,
	// STAT); the engine closes it when the listing ends.
	ReadDir(name string) (Dir, error)
	// Mkdir creates a folder (MKD).
	Mkdir(name string) error
	// Remove deletes a file or symbolic link (DELE); a folder is refused
	// by the engine before Remove is called.
	Remove(name string) error
	// RemoveDir deletes an empty folder (RMD); a file is refused by the
	// engine before RemoveDir is called.
	RemoveDir(name string) error
	// Rename moves from to to (RNFR, RNTO).
	Rename(from, to string) error
	// Chtimes sets the modification time (MFMT).
	Chtimes(name string, mtime time.Time) error
	// Download opens a regular file for RETR, positioned at offset (REST),
	// and returns the bytes from there to its end.
	Download(name string, offset int64) (t Transfer, size int64, err error)
	// Upload opens a regular file for STOR (offset 0 truncates it, a
	// positive offset, from REST, keeps it and writes from there) or APPE
	// (appendMode; offset is ignored), creating it if needed.
	Upload(name string, offset int64, appendMode bool) (Transfer, error)
}

// ReadOnlySession is an optional interface of Session. ReadOnly is asked
// once, right after the log-in: when it returns an error, every command
// that writes (STOR, APPE, STOU, DELE, MKD, RMD, RNFR, RNTO, MFMT) is
// answered with that error (see Error) before the Session is called or a
// data connection is opened, and the perm fact of MLSD and MLST offers
// reading only.
type ReadOnlySession interface {
	Session
	ReadOnly() error
}

// Dir is an open folder being listed; *os.File is one.
type Dir interface {
	// Readdir returns up to n entries, described without following
	// symbolic links, and io.EOF at the end.
	Readdir(n int) ([]fs.FileInfo, error)
	Close() error
}

// Transfer is the file of one RETR, STOR or APPE, with the hooks through
// which the backend counts, limits and records it.
type Transfer interface {
	// File is the open file, positioned where the transfer starts. The
	// engine reads (downloads) or writes (uploads) it, with sendfile(2)
	// and splice(2) between the file and a plain data connection.
	File() *os.File
	// Allow is called before each chunk with the bytes the engine is
	// ready to move and returns how many it may move now, at most n. A
	// smaller count with an error (say, ErrQuotaExceeded) ends the
	// transfer after that many bytes, unless the data ends there too.
	Allow(n int64) (int64, error)
	// Progress is called with the bytes moved as they move: after each
	// chunk, and within a chunk at least once a second while data moves
	// (a kernel copy on a slow client is cut and resumed) or after each
	// write of at most 64 KiB (TLS, TYPE A). The sum over the transfer
	// is what moved; a chunk may move less than Allow granted.
	Progress(n int64)
	// Close is called once when the transfer ends: err is nil when every
	// byte arrived, or why not (ErrAborted, the data connection broke, a
	// write to the file failed...). An error from Close (flushing the
	// file failed, say) fails a transfer that had succeeded; an *Error
	// from Close is the reply to a transfer that failed (but was not
	// aborted), so the backend can say what became of the file.
	Close(err error) error
}

// Sentinel errors a backend wraps to choose a reply.
var (
	// ErrQuotaExceeded: 552, the user's quota is full.
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrNameNotAllowed: 553 for STOR, APPE and RNTO, 550 otherwise.
	ErrNameNotAllowed = errors.New("file name not allowed")
	// ErrTLSRequired, from Client.Login: "530 TLS is required: use AUTH
	// TLS, then log in." The connection stays open for AUTH TLS and a
	// new USER and PASS.
	ErrTLSRequired = errors.New("TLS required")
)

// ErrAborted is the error Transfer.Close receives when the client sent
// ABOR, or the connection was closed, during the transfer.
var ErrAborted = errors.New("transfer aborted")

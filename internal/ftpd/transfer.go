package ftpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
	"github.com/spf13/afero"
)

// Chunk sizes of the copy loops. A chunk is one sendfile(2) or splice(2)
// run; counters move after each, so the size adapts to keep about ten
// updates a second on a slow link and few system calls on a fast one.
const (
	minChunk   = 64 << 10
	startChunk = 256 << 10
	maxChunk   = 4 << 20
	fastChunk  = 20 * time.Millisecond
	slowChunk  = 250 * time.Millisecond
)

var errKicked = errors.New("session ended by the administrator")

// transfer is the file of one RETR, STOR or APPE. The engine copies with
// io.Copy, which prefers our WriteTo (downloads) and ReadFrom (uploads):
// they copy in chunks with io.CopyN between the file and the connection,
// so the kernel moves the bytes (sendfile from the file to a TCP socket,
// splice from the socket into the file) and the session's counters move
// after each chunk. Over TLS, WriteTo reads the file in 64 KiB pieces
// and the data connection gathers the records (dataConn.startBulk);
// ReadFrom copies through os.File's own buffer. Read and Write are used
// when the engine converts line endings (TYPE A).
//
// A transfer is used by the engine's transfer goroutine only.
type transfer struct {
	f      afero.File // the *os.File the jail opened
	c      *client
	u      *userState
	name   string
	upload bool

	pos, size int64 // uploads: write position and file size, for the quota
	moved     int64
	chunk     int64
	start     time.Time
	failed    error // set by TransferError
}

var (
	_ ftpserver.FileTransfer      = (*transfer)(nil)
	_ ftpserver.FileTransferError = (*transfer)(nil)
	_ io.WriterTo                 = (*transfer)(nil)
	_ io.ReaderFrom               = (*transfer)(nil)
)

func newTransfer(f afero.File, c *client, u *userState, name string, upload bool) *transfer {
	return &transfer{f: f, c: c, u: u, name: name, upload: upload, chunk: startChunk, start: time.Now()}
}

// WriteTo sends the file to w, the data connection.
func (t *transfer) WriteTo(w io.Writer) (total int64, err error) {
	defer t.recoverPanic(&err)
	if dc, ok := w.(*dataConn); ok {
		if w, err = dc.raw(); err != nil {
			return 0, err
		}
	}
	// Registered first, so it runs last: a kick can close the data
	// connection while endBulk's final flush runs.
	t.c.setData(closerOf(w))
	defer t.c.setData(nil)
	copyChunk := func(n int64) (int64, error) {
		return io.CopyN(w, t.f, n) // → w.ReadFrom(&io.LimitedReader{R: *os.File}) → sendfile
	}
	if tc, ok := w.(*tls.Conn); ok {
		buf := tlsCopyBuffers.Get().(*[tlsReadSize]byte)
		defer tlsCopyBuffers.Put(buf)
		copyChunk = func(n int64) (int64, error) { return copyBufferN(tc, t.f, n, buf[:]) }
		if dc, ok := tc.NetConn().(*dataConn); ok {
			dc.startBulk()
			defer func() { err = errors.Join(err, dc.endBulk()) }()
		}
	}
	for {
		began := time.Now()
		n, err := copyChunk(t.chunk)
		t.count(n)
		total += n
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err == nil && t.c.sess.Kicked() {
			err = errKicked
		}
		if err != nil {
			return total, t.scrub(err)
		}
		t.adapt(time.Since(began))
	}
}

// tlsCopyBuffers hold a download's bytes on their way into TLS records:
// the file is read tlsReadSize at a time (io.Copy would read 32 KiB).
var tlsCopyBuffers = sync.Pool{New: func() any { return new([tlsReadSize]byte) }}

const tlsReadSize = 64 << 10

// copyBufferN copies n bytes from src to dst through buf, like io.CopyN.
func copyBufferN(dst io.Writer, src io.Reader, n int64, buf []byte) (int64, error) {
	written, err := io.CopyBuffer(dst, io.LimitReader(src, n), buf)
	if err == nil && written < n {
		err = io.EOF
	}
	return written, err
}

// ReadFrom receives the file from r, the data connection, within the quota.
func (t *transfer) ReadFrom(r io.Reader) (total int64, err error) {
	defer t.recoverPanic(&err)
	if dc, ok := r.(*dataConn); ok {
		if r, err = dc.raw(); err != nil {
			return 0, err
		}
	}
	t.c.setData(closerOf(r))
	defer t.c.setData(nil)
	for {
		limit := t.allowance(t.chunk)
		if limit == 0 {
			return total, t.quotaReached(r)
		}
		began := time.Now()
		n, err := io.CopyN(t.f, r, limit) // → (*os.File).ReadFrom(&io.LimitedReader{R: conn}) → splice
		t.wrote(n)
		total += n
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err == nil && t.c.sess.Kicked() {
			err = errKicked
		}
		if err != nil {
			return total, t.scrub(err)
		}
		t.adapt(time.Since(began))
	}
}

// Read implements io.Reader for the line-converting and TLS paths.
func (t *transfer) Read(p []byte) (int, error) {
	if t.c.sess.Kicked() {
		return 0, errKicked
	}
	n, err := t.f.Read(p)
	t.count(int64(n))
	return n, t.scrub(err)
}

// Write implements io.Writer for the line-converting and TLS paths.
func (t *transfer) Write(p []byte) (int, error) {
	if t.c.sess.Kicked() {
		return 0, errKicked
	}
	allowed := t.allowance(int64(len(p)))
	n, err := t.f.Write(p[:allowed])
	err = t.scrub(err)
	t.wrote(int64(n))
	if err == nil && allowed < int64(len(p)) {
		err = t.exceeded()
	}
	return n, err
}

// Seek implements io.Seeker; the engine seeks to the REST offset.
func (t *transfer) Seek(offset int64, whence int) (int64, error) {
	p, err := t.f.Seek(offset, whence)
	if err == nil {
		t.pos = p
	}
	return p, err
}

// TransferError implements ftpserver.FileTransferError: the engine calls
// it before Close when the transfer was aborted or broke.
func (t *transfer) TransferError(err error) { t.failed = err }

// Close closes the file and logs the finished transfer. The partial file
// of an interrupted upload is kept, so the client can resume it.
func (t *transfer) Close() error {
	err := t.scrub(t.f.Close())
	t.c.sess.End()
	t.logDone(err)
	return err
}

// logDone writes the transfer's log line, one per file, so it is built
// only when the logger keeps it, and without boxing each value.
func (t *transfer) logDone(err error) {
	ctx := context.Background()
	if !t.c.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	secs := time.Since(t.start).Seconds()
	dir := "download"
	if t.upload {
		dir = "upload"
	}
	var attrs [8]slog.Attr
	a := append(attrs[:0],
		slog.String("user", t.u.login.User.Username), slog.String("file", t.name),
		slog.String("direction", dir), slog.Int64("bytes", t.moved),
		slog.Float64("seconds", math.Round(secs*1000)/1000))
	switch {
	case t.failed != nil:
		a = append(a, slog.String("status", "interrupted"), slog.String("err", t.failed.Error()))
	case err != nil:
		a = append(a, slog.String("status", "failed"), slog.String("err", err.Error()))
	default:
		a = append(a, slog.String("status", "ok"))
	}
	t.c.log.LogAttrs(ctx, slog.LevelInfo, "FTP transfer", a...)
}

// count records n bytes moved.
func (t *transfer) count(n int64) {
	t.moved += n
	t.c.sess.Progress(n)
}

// wrote records n bytes written at the upload position; the bytes past
// the former end of the file count against the quota.
func (t *transfer) wrote(n int64) {
	t.count(n)
	t.pos += n
	if t.pos > t.size {
		if t.u.quota != nil {
			t.u.quota.add(t.pos - t.size)
		}
		t.size = t.pos
	}
}

// allowance returns how many of want bytes may be written at the upload
// position without exceeding the quota: overwriting costs nothing.
func (t *transfer) allowance(want int64) int64 {
	if t.u.quota == nil {
		return want
	}
	return min(want, t.u.quota.room(t.u.limit)+max(0, t.size-t.pos))
}

// quotaReached is called when the quota is full: it succeeds if the
// upload ends exactly here, and fails with the quota error otherwise.
func (t *transfer) quotaReached(r io.Reader) error {
	var b [1]byte
	if n, err := io.ReadFull(r, b[:]); n == 0 && errors.Is(err, io.EOF) {
		return nil
	}
	return t.exceeded()
}

func (t *transfer) exceeded() error {
	t.c.log.Warn("FTP quota exceeded", "user", t.u.login.User.Username, "file", t.name,
		"quota_mb", t.u.login.User.QuotaMB)
	return fmt.Errorf("quota of %d MB reached, the partial file is kept: %w", t.u.login.User.QuotaMB, ftpserver.ErrStorageExceeded)
}

// adapt grows the chunk when chunks go fast and shrinks it when slow.
func (t *transfer) adapt(took time.Duration) {
	switch {
	case took < fastChunk && t.chunk < maxChunk:
		t.chunk *= 2
	case took > slowChunk && t.chunk > minChunk:
		t.chunk /= 2
	}
}

// recoverPanic keeps a panic in the copy loop from taking the connection's
// file, session state and log line with it: it becomes a transfer error.
func (t *transfer) recoverPanic(err *error) {
	if r := recover(); r != nil {
		t.c.log.Error("panic in FTP transfer", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = errors.New("internal error")
	}
}

// scrub replaces the host path of the file in err with the path the
// client knows: the engine sends transfer errors to the client, who must
// not learn where its folder is on the server. A full disk becomes
// ErrStorageExceeded, which the engine answers with 552.
func (t *transfer) scrub(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if host := t.f.Name(); host != "" && strings.Contains(err.Error(), host) {
		err = &scrubbedError{err: err, msg: strings.ReplaceAll(err.Error(), host, t.name)}
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		t.c.log.Error("FTP upload failed: disk full", "user", t.u.login.User.Username, "file", t.name, "err", err)
		return fmt.Errorf("the server's disk is full, the partial file is kept (%w): %w", err, ftpserver.ErrStorageExceeded)
	}
	return err
}

// scrubbedError is err with another message; errors.Is and As still see err.
type scrubbedError struct {
	err error
	msg string
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// closerOf returns the data connection behind w or r, if it can be closed.
func closerOf(x any) io.Closer {
	c, _ := x.(io.Closer)
	return c
}

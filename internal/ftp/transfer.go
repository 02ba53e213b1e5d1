package ftp

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Chunk sizes of the copy loops. A chunk is one sendfile(2) or splice(2)
// run between two calls of Transfer.Allow and Progress; its size adapts
// to keep about ten updates a second on a slow link and few system calls
// on a fast one.
const (
	minChunk   = 64 << 10
	startChunk = 256 << 10
	maxChunk   = 4 << 20
	fastChunk  = 20 * time.Millisecond
	slowChunk  = 250 * time.Millisecond
	// copyBufSize is the buffer of the copies that cannot be done by the
	// kernel (TLS, TYPE A): 64 KiB file reads, four TLS records.
	copyBufSize = 64 << 10
)

// xfer is the transfer or listing running on a connection, as STAT and
// ABOR from the watcher see it.
type xfer struct {
	verb, name string
	size       int64 // bytes to send, -1 when unknown
	upload     bool
	gather     *gatherConn // under a TLS data connection
	moved      atomic.Int64
	aborted    atomic.Bool // ABOR arrived
}

// progress describes the transfer for STAT.
func (x *xfer) progress() string {
	s := "Transfer in progress: " + x.verb + " " + x.name + ", " + strconv.FormatInt(x.moved.Load(), 10)
	if x.size >= 0 {
		s += " of " + strconv.FormatInt(x.size, 10)
	}
	return s + " bytes"
}

// fileError marks an error of the file (not of the data connection) in a
// copy loop: it is answered with the reply the error maps to, not 426.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// sideOf marks err as the file's when its errno can only come from the
// file, for the copies the kernel does (sendfile, splice), whose errors
// do not say which side failed.
func sideOf(err error) error {
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EIO, syscall.EROFS} {
		if errors.Is(err, e) {
			return &fileError{err}
		}
	}
	return err
}

var copyBuffers = sync.Pool{New: func() any { return new([copyBufSize]byte) }}

func (c *Conn) cmdRETR(arg string) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	if !c.dataAllowed() {
		return
	}
	offset := c.takeRest()
	x := &xfer{verb: "RETR", name: name}
	c.transfer(x, false, func() (job, error) {
		t, size, err := c.sess.Download(name, offset)
		if err != nil {
			return job{}, err
		}
		x.size = size
		return job{
			opening: "Opening data connection for " + name + " (" + strconv.FormatInt(size, 10) + " bytes).",
			move:    func(conn net.Conn) error { return c.sendFile(conn, t, size, x) },
			finish:  t.Close,
		}, nil
	})
}

func (c *Conn) cmdSTOR(arg string) { c.store(arg, false) }
func (c *Conn) cmdAPPE(arg string) { c.store(arg, true) }

// store receives a file. Its data connection is opened first, so that an
// upload whose data connection fails neither creates nor truncates it.
func (c *Conn) store(arg string, appendMode bool) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, true)
		return
	}
	if !c.dataAllowed() {
		return
	}
	offset := c.takeRest()
	x := &xfer{verb: "STOR", name: name, size: -1, upload: true}
	if appendMode {
		x.verb = "APPE"
	}
	c.transfer(x, true, func() (job, error) {
		t, err := c.sess.Upload(name, offset, appendMode)
		if err != nil {
			return job{}, err
		}
		return job{
			opening: "Ready to receive " + name + ".",
			move:    func(conn net.Conn) error { return c.receiveFile(conn, t, x) },
			finish:  t.Close,
		}, nil
	})
}

// dataAllowed refuses a transfer in clear text where TLS is required
// (RFC 4217 section 9: 521).
func (c *Conn) dataAllowed() bool {
	if c.requireTLS && !c.protP.Load() {
		c.data.clear()
		c.out.reply(521, "Data connections must be protected: send PROT P (after PBSZ 0) first.")
		return false
	}
	return true
}

// job is the file or folder side of one transfer command.
type job struct {
	opening string                // the text of the 150 reply
	move    func(net.Conn) error  // moves the data
	finish  func(err error) error // closes the file or folder, told the outcome
}

// transfer carries out one transfer or listing: it opens the file or
// folder (open) and the data connection, in this order or, with
// dataFirst, the other way round; replies 150; moves the data; closes
// the data connection; passes the outcome to the job's finish; and
// replies. The replies of a short transfer stay buffered until it ends,
// so that its 150 and 226 leave in one write; the watcher writes them
// sooner if the transfer lasts.
func (c *Conn) transfer(x *xfer, dataFirst bool, open func() (job, error)) {
	var j job
	if !dataFirst {
		var err error
		if j, err = open(); err != nil {
			c.data.clear()
			c.fail(err, 550, x.upload)
			return
		}
	}
	if c.out.pending() {
		_ = c.out.flush() // replies to the commands before this one first
	}
	c.xfer.Store(x)
	w := c.watch()
	moveErr, openErr := c.moveData(x, w, &j, dataFirst, open)
	queued, readErr := w.stop()
	c.xfer.Store(nil)
	c.queue = append(c.queue, queued...)

	aborted := x.aborted.Load() || c.isClosed()
	result := moveErr
	switch {
	case openErr != nil:
		result = openErr
	case aborted && moveErr != nil:
		result = ErrAborted
	}
	var finishErr error
	if j.finish != nil {
		finishErr = j.finish(result)
	}
	var fe *fileError
	var chosen *Error
	switch {
	case aborted && result != nil:
		c.out.reply(426, "Transfer aborted; the data connection was closed.")
	case result != nil && errors.As(finishErr, &chosen):
		c.out.reply(chosen.Code, chosen.Message) // the backend says what became of the file
	case errors.As(openErr, &fe):
		c.fail(fe.err, 550, x.upload) // the file of an upload could not be opened
	case openErr != nil:
		c.fail(openErr, 425, x.upload)
	case errors.As(moveErr, &fe):
		c.fail(fe.err, 451, x.upload)
	case moveErr != nil:
		c.out.reply(dataError(moveErr))
	case finishErr != nil:
		c.fail(finishErr, 451, x.upload)
	case x.verb == "RETR" || x.upload:
		c.out.reply(226, "Transfer complete.")
	default:
		c.out.reply(226, "Listing sent.")
	}
	if x.aborted.Load() {
		c.out.reply(226, "ABOR successful.")
	}
	if readErr != nil {
		c.readFailed(readErr)
		c.done = true
	}
}

// moveData opens the data connection (and, with dataFirst, the job's
// file after it) and moves the data. openErr is an error before any data
// could move; a fileError when the job's file could not be opened.
func (c *Conn) moveData(x *xfer, w *watcher, j *job, dataFirst bool, open func() (job, error)) (moveErr, openErr error) {
	tcp, err := c.openData()
	if err != nil {
		return nil, err
	}
	defer c.endData()
	if dataFirst {
		if *j, err = open(); err != nil {
			tcp.Close()
			return nil, &fileError{err}
		}
	}
	c.out.reply(150, j.opening)
	var conn net.Conn = tcp
	if c.protP.Load() {
		// The client starts its TLS handshake once it has read the 150.
		_ = c.out.flush()
		x.gather = &gatherConn{Conn: tcp}
		tc, err := c.dataTLS(x.gather)
		if err != nil {
			tcp.Close()
			return nil, err
		}
		conn = tc
	} else if x.upload {
		_ = c.out.flush() // the client sends its data once it has read the 150
	} else {
		w.replied()
	}
	moveErr = j.move(conn)
	closeErr := conn.Close()
	if moveErr == nil && closeErr != nil && x.upload {
		// A download's data was all handed to the kernel; an upload
		// that cannot close cleanly may have lost its end.
		moveErr = closeErr
	}
	return moveErr, nil
}

// dataTLS runs the server side of a data connection's TLS handshake and
// enforces TLSSessionReuse.
func (c *Conn) dataTLS(tcp *gatherConn) (*tls.Conn, error) {
	tc := tls.Server(tcp, c.controlTLS())
	_ = tc.SetDeadline(time.Now().Add(c.srv.dataTimeout()))
	if err := tc.HandshakeContext(c.srv.context()); err != nil {
		c.log.Debug("FTP data connection TLS handshake failed", "err", err)
		if c.isClosed() || c.aborted() {
			return nil, ErrAborted
		}
		return nil, &Error{425, "Cannot open the data connection: the TLS handshake failed."}
	}
	_ = tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.log.Debug("FTP data connection TLS", "version", tls.VersionName(st.Version), "resumed", st.DidResume)
	if c.srv.TLSSessionReuse && !st.DidResume {
		c.log.Warn("FTP data connection refused: it did not resume the control connection's TLS session")
		tc.Close() // sends the rest of the handshake, then close_notify
		return nil, &Error{522, "The data connection must resume the TLS session of the control connection; turn on TLS session reuse in your client."}
	}
	return tc, nil
}

// aborted reports whether ABOR stopped the running transfer.
func (c *Conn) aborted() bool {
	x := c.xfer.Load()
	return x != nil && x.aborted.Load()
}

// abortTransfer breaks the running transfer: its data connection, its
// passive port or its dial. The copy loop then fails and the command
// goroutine answers.
func (c *Conn) abortTransfer() {
	if x := c.xfer.Load(); x != nil {
		x.aborted.Store(true)
	}
	c.mu.Lock()
	data, pasv, cancel := c.dataRaw, c.passive, c.cancelDial
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if data != nil {
		data.Close()
	}
	if pasv != nil {
		pasv.close()
	}
}

// adapt grows the chunk when chunks go fast and shrinks it when slow.
func adapt(chunk int64, took time.Duration) int64 {
	switch {
	case took < fastChunk && chunk < maxChunk:
		return chunk * 2
	case took > slowChunk && chunk > minChunk:
		return chunk / 2
	}
	return chunk
}

// sendFile sends size bytes of the transfer's file. Over plain TCP each
// chunk is one sendfile(2) from the file to the socket, cut once a second
// on a slow client (see pacer); over TLS the file is read 64 KiB at a
// time and the records are gathered (gatherConn), whose socket writes
// are cut the same way.
func (c *Conn) sendFile(conn net.Conn, t Transfer, size int64, x *xfer) error {
	f := t.File()
	tcp, plain := conn.(*net.TCPConn)
	var buf *[copyBufSize]byte
	if !plain || c.ascii {
		buf = copyBuffers.Get().(*[copyBufSize]byte)
		defer copyBuffers.Put(buf)
	}
	var conv asciiOut
	n := &counter{t: t, x: x}
	pace := newPacer(conn, c.srv.idleTimeout(), plain && !c.ascii)
	moved := n.add
	if g := x.gather; g != nil && !c.ascii {
		// One pacer for the socket under TLS: its writes are cut.
		pace = newPacer(g.Conn, c.srv.idleTimeout(), true)
		pace.sent = n.socketSent
		g.setPace(pace)
		defer g.setPace(nil)
		moved = n.handed
	}
	chunk := int64(startChunk)
	for remaining := size; remaining > 0; {
		allowed, limit := t.Allow(min(chunk, remaining))
		if allowed <= 0 {
			return &fileError{orNotAllowed(limit)}
		}
		pace.arm(time.Now())
		began := time.Now()
		var m int64
		var err error
		switch {
		case c.ascii:
			m, err = conv.copy(conn, f, allowed, buf[:], moved)
		case plain:
			m, err = io.CopyN(tcp, f, allowed) // → sendfile(2)
			moved(m)
			err = sideOf(pace.done(m, err))
		default:
			m, err = copyChunk(conn, f, allowed, buf[:], moved)
		}
		remaining -= m
		if errors.Is(err, io.EOF) {
			break // the file got shorter meanwhile: send what there is
		}
		if err != nil {
			n.upTo(n.given)
			return err
		}
		if limit != nil && m == allowed {
			n.upTo(n.given)
			return &fileError{limit}
		}
		chunk = adapt(chunk, time.Since(began))
	}
	n.upTo(n.given) // TLS: the rest is in the socket's buffers
	return nil
}

// receiveFile writes what arrives on the data connection to the
// transfer's file, until the client closes it. Over plain TCP each chunk
// is one splice(2) from the socket into the file, cut once a second on a
// slow client (see pacer).
func (c *Conn) receiveFile(conn net.Conn, t Transfer, x *xfer) error {
	f := t.File()
	tcp, plain := conn.(*net.TCPConn)
	var buf *[copyBufSize]byte
	if !plain || c.ascii {
		buf = copyBuffers.Get().(*[copyBufSize]byte)
		defer copyBuffers.Put(buf)
	}
	var conv asciiIn
	defer func() { conv.finish(f) }()
	n := &counter{t: t, x: x}
	pace := newPacer(conn, c.srv.idleTimeout(), plain && !c.ascii)
	chunk := int64(startChunk)
	for {
		allowed, limit := t.Allow(chunk)
		if allowed <= 0 {
			return endOfAllowance(conn, pace, limit)
		}
		pace.arm(time.Now())
		began := time.Now()
		var m int64
		var err error
		switch {
		case c.ascii:
			m, err = conv.copy(f, conn, allowed, buf[:], n.add)
		case plain:
			m, err = io.CopyN(f, tcp, allowed) // → splice(2)
			n.add(m)
			err = sideOf(pace.done(m, err))
		default:
			m, err = copyChunk(f, conn, allowed, buf[:], n.add)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if limit != nil && m == allowed {
			return endOfAllowance(conn, pace, limit)
		}
		chunk = adapt(chunk, time.Since(began))
	}
}

// endOfAllowance ends an upload that may write no more: it succeeds if
// the data ends here too, and fails with the backend's reason otherwise.
func endOfAllowance(conn net.Conn, pace *pacer, limit error) error {
	pace.tick = false // wait for the byte as long as for any data
	pace.arm(time.Now())
	var b [1]byte
	if n, err := io.ReadFull(conn, b[:]); n == 0 && errors.Is(err, io.EOF) {
		return nil
	}
	return &fileError{orNotAllowed(limit)}
}

func orNotAllowed(err error) error {
	if err == nil {
		return &Error{550, "Transfer not allowed."}
	}
	return err
}

// copyChunk copies up to n bytes from src to dst through buf, like
// io.CopyN, telling moved after each write; a read error of the file or
// a write error to it is marked as the file's.
func copyChunk(dst io.Writer, src io.Reader, n int64, buf []byte, moved func(int64)) (int64, error) {
	_, toFile := dst.(*os.File)
	var written int64
	for written < n {
		want := min(int64(len(buf)), n-written)
		r, rerr := src.Read(buf[:want])
		if r > 0 {
			w, werr := dst.Write(buf[:r])
			written += int64(w)
			moved(int64(w))
			if werr != nil {
				if toFile {
					return written, &fileError{werr}
				}
				return written, werr
			}
		}
		if rerr != nil {
			if !toFile && !errors.Is(rerr, io.EOF) {
				return written, &fileError{rerr}
			}
			return written, rerr
		}
	}
	return written, nil
}

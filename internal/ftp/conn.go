package ftp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one control connection. The backend receives it in Connect and
// may read its state and Close it from any goroutine.
type Conn struct {
	srv      *Server
	raw      net.Conn // the TCP connection
	implicit bool
	log      *slog.Logger

	// Used by the command goroutine, and by the transfer watcher while the
	// command goroutine waits for it (see watch).
	ctrl   net.Conn // raw, or TLS over raw
	in     lineReader
	out    replyWriter
	client Client
	sess   Session

	// State of the command loop; its goroutine only.
	user       string
	requireTLS bool
	readOnly   error // refuses every command that writes (ReadOnlySession)
	loginBy    time.Time
	cwd        string
	ascii      bool
	rest       int64
	renameFrom string
	epsvAll    bool
	facts      factSet
	data       dataSetup
	queue      []string    // commands read during a transfer, run after it
	done       bool        // close once the replies are written
	tlsConf    *tls.Config // see controlTLS

	// Read by other goroutines (the backend's, the watcher).
	loggedIn   atomic.Bool
	tlsControl atomic.Bool
	protP      atomic.Bool
	idle       atomic.Bool // waiting for a command in the command goroutine
	xfer       atomic.Pointer[xfer]

	mu         sync.Mutex
	closed     bool
	clientName string
	host       string
	dataRaw    net.Conn     // the running transfer's TCP data connection
	passive    *passiveConn // the passive port waiting for a data connection
	cancelDial context.CancelFunc
}

func newConn(s *Server, raw net.Conn, implicit bool) *Conn {
	c := &Conn{srv: s, raw: raw, ctrl: raw, implicit: implicit, cwd: "/", facts: defaultFacts}
	c.log = s.logger().With("remote", raw.RemoteAddr().String())
	c.in.conn = raw
	c.out.conn, c.out.timeout = raw, s.idleTimeout()
	if implicit { // TLS from the first byte, data connections included
		c.tlsControl.Store(true)
		c.protP.Store(true)
	}
	return c
}

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// LocalAddr is the server's address the client connected to.
func (c *Conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// TLS reports whether the control connection uses TLS, and whether data
// connections do (PROT P, or implicit FTPS).
func (c *Conn) TLS() (control, data bool) { return c.tlsControl.Load(), c.protP.Load() }

// ClientName is what the client said it is with CLNT, "" if nothing.
func (c *Conn) ClientName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientName
}

// Host is the name the client gave with HOST (RFC 7151), "" if none.
func (c *Conn) Host() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.host
}

// RequireTLS requires TLS of this connection's transfers from now on, as
// Server.RequireTLS does of every connection: a transfer without PROT P
// reads 521. Call it from Client.Login (the connection's goroutine).
func (c *Conn) RequireTLS() { c.requireTLS = true }

// ASCII reports whether TYPE A (ASCII, line endings converted) is in
// force. Call it from the connection's goroutine (a Session's methods,
// a Transfer's Close).
func (c *Conn) ASCII() bool { return c.ascii }

// statusChanged tells a StatusWatcher client that TLS or the client's
// name changed.
func (c *Conn) statusChanged() {
	if w, ok := c.client.(StatusWatcher); ok {
		w.StatusChanged()
	}
}

// SetLogger replaces the logger of the engine's messages about this
// connection; call it from Connect, to add the backend's attributes.
func (c *Conn) SetLogger(l *slog.Logger) { c.log = l }

// Close ends the connection at once: the control connection, the data
// connection of a running transfer (whose Transfer.Close receives
// ErrAborted) and a passive port. It is safe to call more than once and
// from any goroutine.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
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
	return c.raw.Close()
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// wake interrupts a wait for the next command, so that the command
// goroutine sees a shutdown.
func (c *Conn) wake() {
	if c.idle.Load() {
		_ = c.raw.SetReadDeadline(time.Unix(1, 0)) // under TLS too: it reads from raw
	}
}

// serve runs the connection from the greeting to the end.
func (c *Conn) serve() {
	defer c.finish()
	defer c.recoverPanic()
	client, err := c.srv.Backend.Connect(c)
	if err != nil {
		c.refuse(err)
		return
	}
	c.client = client
	c.loginBy = time.Now().Add(c.srv.loginTimeout())
	if c.implicit && !c.startImplicitTLS() {
		return
	}
	c.requireTLS = c.srv.RequireTLS != nil && c.srv.RequireTLS()
	c.out.reply(220, c.srv.greeting())
	for !c.done {
		line, err := c.next()
		if err != nil {
			c.readFailed(err)
			break
		}
		c.execute(line)
	}
	_ = c.out.flush()
}

// finish releases everything the connection holds.
func (c *Conn) finish() {
	c.data.clear()
	c.Close()
	if c.client != nil {
		c.client.Close()
	}
	c.srv.removeConn(c)
}

// recoverPanic keeps a panic in one connection from stopping the server:
// it is logged with its stack and answered 421, and the connection ends.
func (c *Conn) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	c.log.Error("panic in FTP connection", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	c.out.reply(421, "Internal error; closing the connection.")
	_ = c.out.flush()
}

// refuse answers a connection the backend refused, and lets it close.
func (c *Conn) refuse(err error) {
	code, msg := 421, "Service not available."
	var e *Error
	if errors.As(err, &e) {
		code, msg = e.Code, e.Message
	}
	_ = c.raw.SetDeadline(time.Now().Add(refuseTimeout))
	if c.implicit {
		tc := tls.Server(c.raw, c.srv.TLSConfig)
		c.out.conn = tc
	}
	c.out.timeout = refuseTimeout
	c.out.reply(code, msg)
	_ = c.out.flush()
}

// refuseTimeout bounds answering a refused connection.
const refuseTimeout = 5 * time.Second

// next returns the next command line: one the transfer watcher queued, one
// already read, or, after the buffered replies are written, a new one.
func (c *Conn) next() (string, error) {
	if len(c.queue) > 0 {
		line := c.queue[0]
		c.queue = c.queue[1:]
		return line, nil
	}
	for {
		if line, ok := c.in.line(); ok {
			return line, nil
		}
		if err := c.out.flush(); err != nil {
			return "", err
		}
		if c.srv.shutdown.Load() {
			return "", errShutdown
		}
		deadline := time.Now().Add(c.srv.idleTimeout())
		if !c.loggedIn.Load() && c.loginBy.Before(deadline) {
			deadline = c.loginBy
		}
		_ = c.ctrl.SetReadDeadline(deadline)
		c.idle.Store(true)
		err := c.in.fill()
		c.idle.Store(false)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && time.Now().Before(deadline) && !c.srv.shutdown.Load() {
				continue // woken for nothing
			}
			return "", err
		}
	}
}

var (
	errShutdown    = errors.New("server shutting down")
	errLineTooLong = errors.New("command line too long")
)

// readFailed answers why the connection ends, when the client can still
// read it.
func (c *Conn) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, errShutdown) || c.srv.shutdown.Load() && errors.As(err, &ne) && ne.Timeout():
		c.out.reply(421, "Server shutting down; try again in a moment.")
	case errors.Is(err, errLineTooLong):
		c.log.Warn("FTP command line too long", "limit", MaxCommandLine)
		c.out.reply(500, "Command line too long (limit "+strconv.Itoa(MaxCommandLine)+" bytes).")
	case errors.As(err, &ne) && ne.Timeout() && !c.loggedIn.Load() && !time.Now().Before(c.loginBy):
		secs := seconds(c.srv.loginTimeout())
		c.log.Info("FTP log-in timeout", "seconds", secs)
		c.out.reply(421, "Log-in timeout: log in within "+secs+" seconds of connecting.")
	case errors.As(err, &ne) && ne.Timeout():
		c.out.reply(421, "Idle timeout: no command for "+seconds(c.srv.idleTimeout())+" seconds; closing.")
	}
}

func seconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// execute runs one command line.
func (c *Conn) execute(line string) {
	verb, arg := parseLine(line)
	cmd, known := commands[verb]
	switch {
	case !known:
		c.out.reply(500, "Unknown command "+printable(verb, 32)+".")
	case cmd.fn == nil:
		c.out.reply(502, cmd.help+" is not available on this server.")
	case !cmd.open && !c.loggedIn.Load():
		c.out.reply(530, "Log in with USER and PASS first.")
	case cmd.needsArg && arg == "":
		c.out.reply(501, "Give an argument: "+cmd.help+".")
	case cmd.writes && c.readOnly != nil:
		if cmd.data {
			c.data.clear() // the data connection prepared for it is not used
		}
		c.fail(c.readOnly, 550, false)
	default:
		if verb != "RNTO" && verb != "RNFR" {
			c.renameFrom = ""
		}
		cmd.fn(c, arg)
	}
	if !c.loggedIn.Load() && time.Now().After(c.loginBy) && !c.done {
		c.readFailed(os.ErrDeadlineExceeded)
		c.done = true
	}
}

// parseLine splits a command line into its upper-case verb and its
// argument, dropping Telnet IAC sequences before the verb (some clients
// send "IAC IP IAC DM" before ABOR).
func parseLine(line string) (verb, arg string) {
	for len(line) >= 2 && line[0] == 0xff {
		line = line[2:]
	}
	verb, arg, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), arg
}

// fail answers err with the reply it maps to (see replyFor); fallback is
// the code for an error the mapping does not know. A 421 ends the
// connection.
func (c *Conn) fail(err error, fallback int, upload bool) {
	code, msg, known := replyFor(err, fallback, upload)
	if !known {
		c.log.Warn("FTP command failed", "err", err)
	}
	c.out.reply(code, msg)
	if code == 421 {
		c.done = true
	}
}

// lineReader reads command lines of at most MaxCommandLine bytes.
type lineReader struct {
	conn       net.Conn
	buf        [MaxCommandLine]byte
	start, end int // unread bytes: buf[start:end]
}

// line returns the next complete line if one is buffered, without its
// CR LF.
func (r *lineReader) line() (string, bool) {
	unread := r.buf[r.start:r.end]
	i := bytes.IndexByte(unread, '\n')
	if i < 0 {
		return "", false
	}
	line := unread[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	r.start += i + 1
	return string(line), true
}

// fill reads more bytes; errLineTooLong when the buffer is full and holds
// no line end.
func (r *lineReader) fill() error {
	if r.start > 0 {
		r.end = copy(r.buf[:], r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		return errLineTooLong
	}
	n, err := r.conn.Read(r.buf[r.end:])
	r.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// discard drops what was read and not used, returning how many bytes.
func (r *lineReader) discard() int {
	n := r.end - r.start
	r.start, r.end = 0, 0
	return n
}

// remoteIP is the client's address, IPv4 unmapped.
func (c *Conn) remoteIP() netip.Addr { return addrIP(c.raw.RemoteAddr()) }

// localIP is the server's address the client reached, IPv4 unmapped.
func (c *Conn) localIP() netip.Addr { return addrIP(c.raw.LocalAddr()) }

func addrIP(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(t.IP)
		return ip.Unmap()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}

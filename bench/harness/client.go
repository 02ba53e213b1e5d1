package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client is a minimal FTP client (RFC 959, EPSV from RFC 2428, AUTH TLS
// and PROT P from RFC 4217, MLSD from RFC 3659) written for measuring: it
// reads downloads straight into the caller's buffer, sends uploads with
// sendfile when it can, counts listing lines without parsing them unless
// asked, and connects from the source address the caller chooses.
//
// A Client is used by one goroutine at a time; only Abort may be called
// from another.
type Client struct {
	conn    net.Conn // the control connection, TLS after AUTH TLS
	raw     net.Conn // its TCP connection
	tp      *textproto.Conn
	host    string
	local   net.IP      // source address of the control and data connections
	tlsConf *tls.Config // nil: plain FTP
	timeout time.Duration
	until   time.Time // see SetDeadline

	mu   sync.Mutex // guards data, which Abort closes
	data net.Conn   // the raw data connection of the transfer under way
}

// Dial connects from the local address from (nil: any) to addr and reads
// the greeting. With tlsConf it also upgrades the control connection with
// AUTH TLS. Every exchange and data connection is bounded by timeout.
func Dial(ctx context.Context, addr string, from net.IP, tlsConf *tls.Config, timeout time.Duration) (*Client, error) {
	d := net.Dialer{Timeout: timeout}
	if from != nil {
		d.LocalAddr = &net.TCPAddr{IP: from}
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	c := &Client{conn: conn, raw: conn, tp: textproto.NewConn(conn), host: host, local: from, tlsConf: tlsConf, timeout: timeout}
	c.deadline()
	if _, _, err := c.tp.ReadResponse(2); err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if tlsConf != nil {
		if err := c.startTLS(ctx); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Client) startTLS(ctx context.Context) error {
	if _, err := c.Cmd(2, "AUTH TLS"); err != nil {
		return fmt.Errorf("no TLS: %w", err)
	}
	tc := tls.Client(c.conn, c.tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.conn, c.tp = tc, textproto.NewConn(tc)
	return nil
}

// TLSState is the control connection's TLS state; false on plain FTP.
func (c *Client) TLSState() (tls.ConnectionState, bool) {
	if tc, ok := c.conn.(*tls.Conn); ok {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// SetDeadline bounds every exchange and data connection from now on by t
// as well as by the timeout, so that a whole operation of several
// commands ends by t. The zero time lifts it.
func (c *Client) SetDeadline(t time.Time) { c.until = t }

func (c *Client) expiry() time.Time {
	t := time.Now().Add(c.timeout)
	if !c.until.IsZero() && c.until.Before(t) {
		return c.until
	}
	return t
}

// deadline bounds the next exchange on the control connection.
func (c *Client) deadline() { c.conn.SetDeadline(c.expiry()) }

// Cmd sends one command and reads its reply, which must be of class
// expect (1 to 5) or exactly expect (100 to 599). A reply of another
// code is a *textproto.Error in the chain.
func (c *Client) Cmd(expect int, format string, args ...any) (string, error) {
	c.deadline()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		return "", err
	}
	_, msg, err := c.tp.ReadResponse(expect)
	if err != nil {
		verb, _, _ := strings.Cut(format, " ")
		return msg, fmt.Errorf("%s: %w", verb, err)
	}
	return msg, nil
}

// Login sends USER and PASS and, over TLS, protects the data connections.
func (c *Client) Login(user, pass string) error {
	c.deadline()
	if err := c.tp.PrintfLine("USER %s", user); err != nil {
		return err
	}
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil {
		return fmt.Errorf("USER: %w", err)
	}
	switch {
	case code == 331:
		if _, err := c.Cmd(230, "PASS %s", pass); err != nil {
			return err
		}
	case code != 230:
		return fmt.Errorf("USER: %w", &textproto.Error{Code: code, Msg: msg})
	}
	if c.tlsConf != nil {
		if _, err := c.Cmd(200, "PBSZ 0"); err != nil {
			return err
		}
		if _, err := c.Cmd(200, "PROT P"); err != nil {
			return err
		}
	}
	return nil
}

// Binary switches to TYPE I for transfers.
func (c *Client) Binary() error {
	_, err := c.Cmd(200, "TYPE I")
	return err
}

// HasFeature reports whether FEAT lists name (e.g. "MLST").
func (c *Client) HasFeature(name string) bool {
	msg, err := c.Cmd(211, "FEAT")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(msg, "\n") {
		f, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.EqualFold(f, name) {
			return true
		}
	}
	return false
}

// NoOp sends NOOP.
func (c *Client) NoOp() error {
	_, err := c.Cmd(200, "NOOP")
	return err
}

// MakeDir creates a folder.
func (c *Client) MakeDir(path string) error {
	_, err := c.Cmd(257, "MKD %s", path)
	return err
}

// ChangeDir enters a folder.
func (c *Client) ChangeDir(path string) error {
	_, err := c.Cmd(250, "CWD %s", path)
	return err
}

// Rename renames a file.
func (c *Client) Rename(from, to string) error {
	if _, err := c.Cmd(350, "RNFR %s", from); err != nil {
		return err
	}
	_, err := c.Cmd(250, "RNTO %s", to)
	return err
}

// Delete deletes a file.
func (c *Client) Delete(path string) error {
	_, err := c.Cmd(250, "DELE %s", path)
	return err
}

// Quit ends the session politely and closes the connection.
func (c *Client) Quit() error {
	_, err := c.Cmd(2, "QUIT")
	c.Close()
	return err
}

// Close closes the control connection.
func (c *Client) Close() { c.conn.Close() }

// Abort closes the control connection and the data connection under way
// from any goroutine, so that an operation stuck past every deadline
// returns.
func (c *Client) Abort() {
	c.mu.Lock()
	data := c.data
	c.mu.Unlock()
	c.raw.Close()
	if data != nil {
		data.Close()
	}
}

// WaitClosed reads whatever the server still sends until it closes the
// connection, failing after timeout.
func (c *Client) WaitClosed(timeout time.Duration) error {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, c.tp.R)
	return err
}

// openData opens a passive data connection, sends command over the
// control connection and waits for its preliminary reply. Over TLS the
// handshake runs while the reply is read, since servers differ on which
// of the two comes first.
func (c *Client) openData(ctx context.Context, command string) (net.Conn, error) {
	port, err := c.passivePort()
	if err != nil {
		return nil, err
	}
	// Servers accept a data connection only from the control
	// connection's address.
	d := net.Dialer{Timeout: c.timeout}
	if c.local != nil {
		d.LocalAddr = &net.TCPAddr{IP: c.local}
	}
	raw, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("data connection: %w", err)
	}
	raw.SetDeadline(c.expiry())
	c.setData(raw)
	var data net.Conn = raw
	var handshake chan error
	if c.tlsConf != nil {
		tc := tls.Client(raw, c.tlsConf)
		handshake = make(chan error, 1)
		go func() { handshake <- tc.HandshakeContext(ctx) }()
		data = tc
	}
	_, err = c.Cmd(1, "%s", command)
	if err != nil {
		raw.Close()
	}
	if handshake != nil {
		if herr := <-handshake; err == nil && herr != nil {
			raw.Close()
			err = fmt.Errorf("data TLS handshake: %w", herr)
		}
	}
	if err != nil {
		c.setData(nil)
		return nil, err
	}
	return data, nil
}

func (c *Client) setData(conn net.Conn) {
	c.mu.Lock()
	c.data = conn
	c.mu.Unlock()
}

// closeData closes a data connection (over TLS, with close_notify).
func (c *Client) closeData(data net.Conn) error {
	err := data.Close()
	c.setData(nil)
	return err
}

// passivePort asks for a passive port with EPSV, falling back to PASV.
func (c *Client) passivePort() (int, error) {
	msg, err := c.Cmd(229, "EPSV")
	if err == nil {
		// 229 Entering Extended Passive Mode (|||6446|)
		i, j := strings.Index(msg, "(|||"), strings.LastIndex(msg, "|)")
		if i < 0 || j < i+4 {
			return 0, fmt.Errorf("EPSV: cannot parse %q", msg)
		}
		return strconv.Atoi(msg[i+4 : j])
	}
	msg, err = c.Cmd(227, "PASV")
	if err != nil {
		return 0, err
	}
	// 227 Entering Passive Mode (127,0,0,1,25,26)
	i, j := strings.Index(msg, "("), strings.LastIndex(msg, ")")
	if i < 0 || j < i {
		return 0, fmt.Errorf("PASV: cannot parse %q", msg)
	}
	f := strings.Split(msg[i+1:j], ",")
	if len(f) != 6 {
		return 0, fmt.Errorf("PASV: cannot parse %q", msg)
	}
	hi, err1 := strconv.Atoi(f[4])
	lo, err2 := strconv.Atoi(f[5])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("PASV: cannot parse %q", msg)
	}
	return hi<<8 | lo, nil
}

// finish reads the final reply of a transfer.
func (c *Client) finish() error {
	c.deadline()
	_, _, err := c.tp.ReadResponse(2)
	return err
}

// Retr downloads path through buf into w (nil: the bytes are dropped)
// and returns how many arrived.
func (c *Client) Retr(ctx context.Context, path string, buf []byte, w io.Writer) (int64, error) {
	data, err := c.openData(ctx, "RETR "+path)
	if err != nil {
		return 0, err
	}
	n, err := Drain(data, buf, w)
	c.closeData(data)
	if err != nil {
		return n, fmt.Errorf("RETR %s: %w", path, err)
	}
	if err := c.finish(); err != nil {
		return n, fmt.Errorf("RETR %s: end of transfer: %w", path, err)
	}
	return n, nil
}

// List runs a listing command (MLSD or LIST) on path ("": the current
// folder) and returns the number of lines received.
func (c *Client) List(ctx context.Context, command, path string, buf []byte) (int, error) {
	lines := 0
	err := c.list(ctx, command, path, buf, func(b []byte) { lines += bytes.Count(b, []byte{'\n'}) })
	return lines, err
}

func (c *Client) list(ctx context.Context, command, path string, buf []byte, got func([]byte)) error {
	if path != "" {
		command += " " + path
	}
	data, err := c.openData(ctx, command)
	if err != nil {
		return err
	}
	for {
		n, err := data.Read(buf)
		got(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			c.closeData(data)
			return fmt.Errorf("%s: %w", command, err)
		}
	}
	c.closeData(data)
	return c.finish()
}

// Stor uploads r to path. Over plain TCP an *os.File goes by sendfile;
// otherwise buf carries the bytes.
func (c *Client) Stor(ctx context.Context, path string, r io.Reader, buf []byte) (int64, error) {
	data, err := c.openData(ctx, "STOR "+path)
	if err != nil {
		return 0, err
	}
	var n int64
	if tcp, ok := data.(*net.TCPConn); ok {
		n, err = tcp.ReadFrom(r)
	} else {
		n, err = io.CopyBuffer(data, onlyReader{r}, buf)
	}
	cerr := c.closeData(data) // over TLS this sends close_notify
	if err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("STOR %s: %w", path, err)
	}
	if err := c.finish(); err != nil {
		return n, fmt.Errorf("STOR %s: end of transfer: %w", path, err)
	}
	return n, nil
}

// onlyReader hides WriterTo, so io.CopyBuffer uses the caller's buffer.
type onlyReader struct{ io.Reader }

// Drain reads r to its end into buf, handing each read to w unless w is
// nil, and returns how many bytes came.
func Drain(r io.Reader, buf []byte, w io.Writer) (int64, error) {
	var total int64
	for {
		n, err := r.Read(buf)
		total += int64(n)
		if w != nil && n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

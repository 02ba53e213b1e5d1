package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// ftpClient is a minimal FTP client (RFC 959, EPSV from RFC 2428, AUTH TLS
// and PROT P from RFC 4217, MLSD from RFC 3659) written for measuring: it
// reads downloads straight into a caller's large buffer, sends uploads
// with sendfile when it can, and never parses listings.
type ftpClient struct {
	conn    net.Conn
	tp      *textproto.Conn
	host    string
	local   net.IP      // source address of the control and data connections
	tlsConf *tls.Config // nil: plain FTP
	timeout time.Duration
}

// dialFTP connects from the local address from (nil: any) to addr and
// reads the greeting. With tlsConf it also upgrades the control
// connection with AUTH TLS.
func dialFTP(ctx context.Context, addr string, from net.IP, tlsConf *tls.Config, timeout time.Duration) (*ftpClient, error) {
	d := net.Dialer{Timeout: timeout}
	if from != nil {
		d.LocalAddr = &net.TCPAddr{IP: from}
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	c := &ftpClient{conn: conn, tp: textproto.NewConn(conn), host: host, local: from, tlsConf: tlsConf, timeout: timeout}
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

func (c *ftpClient) startTLS(ctx context.Context) error {
	if _, err := c.cmd(2, "AUTH TLS"); err != nil {
		return fmt.Errorf("no TLS: %w", err)
	}
	tc := tls.Client(c.conn, c.tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.conn, c.tp = tc, textproto.NewConn(tc)
	return nil
}

// deadline bounds the next exchange on the control connection.
func (c *ftpClient) deadline() { c.conn.SetDeadline(time.Now().Add(c.timeout)) }

// cmd sends one command and reads its reply, which must be of class
// expect (1 to 5) or exactly expect (100 to 599).
func (c *ftpClient) cmd(expect int, format string, args ...any) (string, error) {
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

// login sends USER and PASS and, over TLS, protects the data connections.
func (c *ftpClient) login(user, pass string) error {
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
		if _, err := c.cmd(230, "PASS %s", pass); err != nil {
			return err
		}
	case code != 230:
		return fmt.Errorf("USER: %d %s", code, msg)
	}
	if c.tlsConf != nil {
		if _, err := c.cmd(200, "PBSZ 0"); err != nil {
			return err
		}
		if _, err := c.cmd(200, "PROT P"); err != nil {
			return err
		}
	}
	return nil
}

// binary switches to TYPE I for transfers.
func (c *ftpClient) binary() error {
	_, err := c.cmd(200, "TYPE I")
	return err
}

// hasFeature reports whether FEAT lists name (e.g. "MLST").
func (c *ftpClient) hasFeature(name string) bool {
	msg, err := c.cmd(211, "FEAT")
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

// quit ends the session politely and closes the connection.
func (c *ftpClient) quit() error {
	_, err := c.cmd(2, "QUIT")
	c.close()
	return err
}

func (c *ftpClient) close() { c.conn.Close() }

// openData opens a passive data connection, sends command over the
// control connection and waits for its preliminary reply. Over TLS the
// handshake runs while the reply is read, since servers differ on which
// of the two comes first.
func (c *ftpClient) openData(ctx context.Context, command string) (net.Conn, error) {
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
	raw.SetDeadline(time.Now().Add(c.timeout))
	var data net.Conn = raw
	var handshake chan error
	if c.tlsConf != nil {
		tc := tls.Client(raw, c.tlsConf)
		handshake = make(chan error, 1)
		go func() { handshake <- tc.HandshakeContext(ctx) }()
		data = tc
	}
	_, err = c.cmd(1, "%s", command)
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
		return nil, err
	}
	return data, nil
}

// passivePort asks for a passive port with EPSV, falling back to PASV.
func (c *ftpClient) passivePort() (int, error) {
	msg, err := c.cmd(229, "EPSV")
	if err == nil {
		// 229 Entering Extended Passive Mode (|||6446|)
		i, j := strings.Index(msg, "(|||"), strings.LastIndex(msg, "|)")
		if i < 0 || j < i+4 {
			return 0, fmt.Errorf("EPSV: cannot parse %q", msg)
		}
		return strconv.Atoi(msg[i+4 : j])
	}
	msg, err = c.cmd(227, "PASV")
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
func (c *ftpClient) finish() error {
	c.deadline()
	_, _, err := c.tp.ReadResponse(2)
	return err
}

// retr downloads path into buf, discarding the bytes, and returns how
// many arrived.
func (c *ftpClient) retr(ctx context.Context, path string, buf []byte) (int64, error) {
	data, err := c.openData(ctx, "RETR "+path)
	if err != nil {
		return 0, err
	}
	n, err := drain(data, buf)
	data.Close()
	if err != nil {
		return n, fmt.Errorf("RETR %s: %w", path, err)
	}
	return n, c.finish()
}

// list runs a listing command (MLSD or LIST) on path and returns the
// number of lines received.
func (c *ftpClient) list(ctx context.Context, command, path string, buf []byte) (int, error) {
	data, err := c.openData(ctx, command+" "+path)
	if err != nil {
		return 0, err
	}
	lines := 0
	for {
		n, err := data.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if err == io.EOF {
			break
		}
		if err != nil {
			data.Close()
			return lines, fmt.Errorf("%s %s: %w", command, path, err)
		}
	}
	data.Close()
	return lines, c.finish()
}

// stor uploads r to path. Over plain TCP an *os.File goes by sendfile;
// otherwise buf carries the bytes.
func (c *ftpClient) stor(ctx context.Context, path string, r io.Reader, buf []byte) (int64, error) {
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
	cerr := data.Close() // over TLS this sends close_notify
	if err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("STOR %s: %w", path, err)
	}
	return n, c.finish()
}

// onlyReader hides WriterTo, so io.CopyBuffer uses the caller's buffer.
type onlyReader struct{ io.Reader }

// drain reads r to its end into buf.
func drain(r io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		n, err := r.Read(buf)
		total += int64(n)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// sizeOf returns the size of a local file.
func sizeOf(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

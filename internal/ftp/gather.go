package ftp

import (
	"net"
	"sync"
	"time"
)

// gatherSize is what a TLS data connection gathers before one write:
// crypto/tls writes each record of at most 16 KiB on its own, so a
// download sends eight records per system call instead of one. Twice that
// saved little more and, with 250 TLS downloads at once, cost 50 MiB more
// memory in the load test.
const gatherSize = 128 << 10

// closeFlushWait bounds the flush at Close, as crypto/tls bounds its
// close_notify, so that a client that stopped reading cannot hold it.
const closeFlushWait = 5 * time.Second

var gatherBuffers = sync.Pool{New: func() any { return new([gatherSize]byte) }}

// gatherConn is the TCP connection under a TLS data connection. It
// gathers what TLS writes and sends it before the next read (a TLS
// handshake answers what the server wrote), when the buffer is full,
// and at Close. Its buffer comes from a pool at the first write and goes
// back at Close.
type gatherConn struct {
	net.Conn
	mu  sync.Mutex // a blocked write holds it
	buf *[gatherSize]byte
	n   int
	// pace, while a download runs, cuts each socket write once a second
	// and hears of what was sent, so the download's counter moves.
	pace *pacer
}

// setPace sets (nil: removes) the download's pacer.
func (g *gatherConn) setPace(p *pacer) {
	g.mu.Lock()
	g.pace = p
	g.mu.Unlock()
}

func (g *gatherConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n+len(p) > gatherSize {
		if err := g.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= gatherSize {
			return g.write(p)
		}
	}
	if g.buf == nil {
		g.buf = gatherBuffers.Get().(*[gatherSize]byte)
	}
	g.n += copy(g.buf[g.n:], p)
	return len(p), nil
}

func (g *gatherConn) Read(p []byte) (int, error) {
	if err := g.flush(); err != nil {
		return 0, err
	}
	return g.Conn.Read(p)
}

func (g *gatherConn) flush() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flushLocked()
}

func (g *gatherConn) flushLocked() error {
	if g.n == 0 {
		return nil
	}
	_, err := g.write(g.buf[:g.n])
	g.n = 0
	return err
}

// write sends p to the socket. With a pacer, a write blocked for a
// second is cut, reported and resumed (TLS never sees the cut).
func (g *gatherConn) write(p []byte) (int, error) {
	if g.pace == nil {
		return g.Conn.Write(p)
	}
	var done int
	for {
		g.pace.arm(time.Now())
		n, err := g.Conn.Write(p[done:])
		done += n
		g.pace.sent(int64(n))
		if err = g.pace.done(int64(n), err); err != nil || done == len(p) {
			return done, err
		}
	}
}

// Close sends what was gathered and closes the connection; when a write
// is blocked (ABOR or Close from another goroutine while the client does
// not read), it closes without waiting.
func (g *gatherConn) Close() error {
	var err error
	if g.mu.TryLock() {
		if g.n > 0 {
			_ = g.Conn.SetWriteDeadline(time.Now().Add(closeFlushWait))
			err = g.flushLocked()
		}
		if g.buf != nil {
			gatherBuffers.Put(g.buf)
			g.buf = nil
		}
		g.mu.Unlock()
	}
	if cerr := g.Conn.Close(); err == nil {
		err = cerr
	}
	return err
}

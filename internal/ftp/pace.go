package ftp

import (
	"errors"
	"net"
	"os"
	"time"
)

// progressEvery bounds how long the bytes of a running transfer may go
// uncounted. A copy done by the kernel (sendfile, splice) or a TLS
// download's socket write still blocked after it is cut by a deadline,
// counted, and resumed: a client reading 10 KB/s sees its counter move
// every second, while a fast one keeps its large chunks (a chunk that
// ends sooner never meets the deadline).
const progressEvery = time.Second

// pacer keeps a data connection's deadline: IdleTimeout after data last
// moved and, when it ticks, no more than progressEvery ahead, so that a
// blocked copy returns at least once a second with what it moved. It
// moves the deadline only when it must: a timer update costs.
type pacer struct {
	conn net.Conn
	idle time.Duration
	tick bool      // cut blocked copies at progressEvery
	last time.Time // when data last moved (or the pacer started)
	set  time.Time // the deadline on conn; zero: none yet
	// sent, when set, is told of each socket write of a TLS download
	// (see gatherConn).
	sent func(n int64)
}

func newPacer(conn net.Conn, idle time.Duration, tick bool) *pacer {
	return &pacer{conn: conn, idle: idle, tick: tick, last: time.Now()}
}

// arm sets the deadline for the next copy.
func (p *pacer) arm(now time.Time) {
	if !p.tick {
		// Idle after the copy starts; moved only once half of it is gone.
		if p.set.Sub(now) < p.idle/2 {
			p.setDeadline(now.Add(p.idle))
		}
		return
	}
	want := p.last.Add(p.idle)
	if cut := now.Add(progressEvery); cut.Before(want) {
		want = cut
	}
	// Keep a deadline between half a tick and a tick ahead: sooner
	// would cut too often, later would count too late.
	if p.set.After(want) || (p.set.Sub(now) < progressEvery/2 && !p.set.Equal(want)) {
		p.setDeadline(want)
	}
}

func (p *pacer) setDeadline(t time.Time) {
	p.set = t
	_ = p.conn.SetDeadline(t)
}

// done records that a copy moved m bytes and ended with err, and
// returns err, or nil when the copy was only cut by the tick: data moved
// within the idle timeout, so the transfer goes on.
func (p *pacer) done(m int64, err error) error {
	now := time.Now()
	if m > 0 {
		p.last = now
	}
	if p.tick && errors.Is(err, os.ErrDeadlineExceeded) && now.Before(p.last.Add(p.idle)) {
		return nil
	}
	return err
}

// counter reports a transfer's bytes to the backend (Transfer.Progress)
// and to STAT as they move.
type counter struct {
	t       Transfer
	x       *xfer
	given   int64 // TLS downloads: file bytes handed to TLS
	sent    int64 // TLS downloads: bytes written to the socket
	counted int64
}

// add counts n bytes moved.
func (c *counter) add(n int64) {
	if n > 0 {
		c.t.Progress(n)
		c.x.moved.Add(n)
		c.counted += n
	}
}

// upTo counts up to total bytes moved in all.
func (c *counter) upTo(total int64) { c.add(total - c.counted) }

// handed records file bytes handed to TLS. They count once they reach
// the socket: the socket's bytes (TLS records are a little longer than
// what they carry) up to the bytes handed, so a slow client's counter
// follows what it receives, not what waits in the buffers.
func (c *counter) handed(n int64) {
	c.given += n
	c.upTo(min(c.given, c.sent))
}

// socketSent records bytes written to a TLS download's socket.
func (c *counter) socketSent(n int64) {
	c.sent += n
	c.upTo(min(c.given, c.sent))
}

package ftpd

import (
	"crypto/rand"
	"errors"
	"math"
	mrand "math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
)

// passivePorts picks passive ports for the engine. The engine's own
// PortRange asks crypto/rand for a big.Int per candidate and asks for as
// many candidates as the range has ports (up to 1000) on every PASV,
// which made port selection the most expensive part of a small transfer.
// This one draws from a ChaCha8 stream seeded once from crypto/rand, so
// ports stay unpredictable, and asks for only as many candidates as the
// ports it holds make necessary (see NumberAttempts).
type passivePorts struct {
	start, count int
	held         atomic.Int64 // passive listeners open now

	mu  sync.Mutex
	rng *mrand.ChaCha8
}

// Bounds of the candidates one PASV draws (the engine builds the whole
// list before it tries the first port, so fewer is cheaper).
const (
	// minCandidates: even with half the free ports taken by other
	// programs, 32 random draws all miss about once in 4 billion PASVs.
	minCandidates = 32
	// passiveCandidates: four draws per port of the range, at most 512.
	// With 99 of 101 ports busy, 404 random draws all miss the two free
	// ones about once in 3,000 PASVs; a range that full needs widening
	// anyway (--passive-ports).
	passiveCandidates = 512
)

var _ ftpserver.PasvPortGetter = (*passivePorts)(nil)

func newPassivePorts(r PortRange) *passivePorts {
	var seed [32]byte
	_, _ = rand.Read(seed[:]) // never fails on Linux; see crypto/rand.Read
	return &passivePorts{start: r.Start, count: r.End - r.Start + 1, rng: mrand.NewChaCha8(seed)}
}

// FetchNext implements ftpserver.PasvPortGetter.
func (p *passivePorts) FetchNext() (exposed, listened int, ok bool) {
	p.mu.Lock()
	n := int(p.rng.Uint64() % uint64(p.count)) // bias below 2⁻⁴⁸: count < 2¹⁶
	p.mu.Unlock()
	return p.start + n, p.start + n, true
}

// NumberAttempts implements ftpserver.PasvPortGetter. It asks for
// enough random draws that all of them hitting a busy port is a
// one-in-a-billion event, counting the ports this server holds and
// assuming other programs may hold half of the rest; at least
// minCandidates and at most min(4 × the range, passiveCandidates).
func (p *passivePorts) NumberAttempts() int {
	most := min(4*p.count, passiveCandidates)
	free := float64(p.count-int(p.held.Load())) / float64(p.count) / 2
	if free <= 0 {
		return most
	}
	need := math.Ceil(math.Log(1e-9) / math.Log1p(-free))
	return int(min(max(need, minCandidates), float64(most)))
}

// WrapPassiveListener implements ftpserver.MainDriverExtensionPassiveWrapper.
func (d *mainDriver) WrapPassiveListener(l net.Listener) (net.Listener, error) {
	h := &portHold{ln: l}
	if p := d.srv.passive; p != nil {
		p.held.Add(1)
		h.release = func() { p.held.Add(-1) }
	}
	pl := &passiveListener{Listener: l, hold: h}
	// ftpserverlib v0.32.3 drops a wrapped listener without closing it
	// when PASV fails afterwards (an IPv6 client and no public host): once
	// the wrapper is garbage, the port and its count are freed. A
	// finalizer rather than runtime.AddCleanup: finalizers run on the one
	// finalizer goroutine, while cleanups start goroutines of their own
	// that stay parked, which the load test's leak check would count.
	runtime.SetFinalizer(pl, func(pl *passiveListener) { _ = pl.hold.close() })
	return pl, nil
}

// portHold is the port a passive listener holds, closed once.
type portHold struct {
	ln      net.Listener
	release func() // tells passivePorts the port is free; may be nil
	once    sync.Once
	err     error
}

func (h *portHold) close() error {
	h.once.Do(func() {
		h.err = h.ln.Close()
		if h.release != nil {
			h.release()
		}
	})
	return h.err
}

// passiveListener releases a passive port whose client never connected.
// The engine answers 425 when its wait (DataConnTimeout) ends, but keeps
// the listener open until the next PASV or the end of the session; a
// client that asks for many ports and never uses them would hold them
// all. Closing it at the timeout frees the port at once; the engine's
// own Close later is a no-op. The connections it accepts are wrapped in a dataConn.
type passiveListener struct {
	net.Listener
	hold *portHold
}

func (l *passiveListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		_ = l.Close()
	}
	if err != nil {
		return conn, err
	}
	return &dataConn{Conn: conn}, nil
}

// Close closes the listener once; the engine may close it again later.
func (l *passiveListener) Close() error { return l.hold.close() }

// Small writes to a data connection are gathered up to dataBufSize bytes.
// The engine writes a listing one entry per Write, each a system call and,
// on loopback, a packet: that was most of the cost of listing a large
// folder. Writes of smallWrite bytes or more go straight through (after
// what is gathered), so plain file transfers are not copied; during a TLS
// download every record is gathered (see bulkBufSize).
const (
	dataBufSize = 32 << 10
	smallWrite  = 8 << 10 // more than one MLSD line of a MaxPathLength name
	// bulkBufSize is what a download over TLS gathers: crypto/tls writes
	// each record of at most 16 KiB on its own, so eight records go out
	// in one system call instead of eight. Twice that saved little more
	// and, with 250 TLS downloads at once, left the server's RSS 50 MiB
	// above its baseline after the load test.
	bulkBufSize = 128 << 10
	// closeFlushWait bounds the flush at Close, as crypto/tls bounds its
	// close_notify, so a client that stopped reading cannot hold Close.
	closeFlushWait = 5 * time.Second
)

// dataConn is a passive data connection that gathers small writes. What it
// gathers is sent before the next Read (a TLS handshake answers what the
// server wrote), at Flush (the engine calls it before closing a plain
// connection) and at Close (after a TLS close_notify). Plain file
// transfers reach the net.Conn itself through raw, keeping sendfile and
// splice; TLS downloads switch it to gathering records (startBulk).
type dataConn struct {
	net.Conn

	mu   sync.Mutex // guards buf and bulk; a blocked Write holds it
	buf  []byte
	bulk *[bulkBufSize]byte // during a TLS download: buf's pooled storage (see bulkBufSize)
}

// bulkBuffers keep the big buffers of TLS downloads between transfers:
// a download of a small file should not allocate a big buffer.
var bulkBuffers = sync.Pool{New: func() any { return new([bulkBufSize]byte) }}

var (
	_ net.Conn          = (*dataConn)(nil)
	_ ftpserver.Flusher = (*dataConn)(nil)
)

func (d *dataConn) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	size, direct := dataBufSize, smallWrite
	if d.bulk != nil {
		size, direct = bulkBufSize, bulkBufSize
	}
	if len(p) >= direct {
		if err := d.flushLocked(); err != nil {
			return 0, err
		}
		return d.Conn.Write(p)
	}
	if len(d.buf)+len(p) > size {
		if err := d.flushLocked(); err != nil {
			return 0, err
		}
	}
	if cap(d.buf) < size {
		d.buf = append(make([]byte, 0, size), d.buf...)
	}
	d.buf = append(d.buf, p...)
	return len(p), nil
}

// startBulk makes the connection gather every write up to bulkBufSize,
// for the TLS records of a download.
func (d *dataConn) startBulk() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bulk == nil {
		d.bulk = bulkBuffers.Get().(*[bulkBufSize]byte)
		d.buf = append(d.bulk[:0], d.buf...)
	}
}

// endBulk sends what was gathered and goes back to gathering only small
// writes; the big buffer goes back to the pool.
func (d *dataConn) endBulk() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.flushLocked()
	if d.bulk != nil {
		d.buf = nil
		bulkBuffers.Put(d.bulk)
		d.bulk = nil
	}
	return err
}

func (d *dataConn) Read(p []byte) (int, error) {
	if err := d.Flush(); err != nil {
		return 0, err
	}
	return d.Conn.Read(p)
}

// Flush implements ftpserver.Flusher: it sends what was gathered.
func (d *dataConn) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flushLocked()
}

func (d *dataConn) flushLocked() error {
	if len(d.buf) == 0 {
		return nil
	}
	_, err := d.Conn.Write(d.buf)
	d.buf = d.buf[:0]
	return err
}

// Close sends what was gathered and closes the connection. When a Write
// is blocked (the client stopped reading and the engine closes from
// another goroutine, at ABOR or a kick), it closes without waiting.
func (d *dataConn) Close() error {
	var err error
	if d.mu.TryLock() {
		if len(d.buf) > 0 {
			_ = d.Conn.SetWriteDeadline(time.Now().Add(closeFlushWait))
			err = d.flushLocked()
		}
		d.mu.Unlock()
	}
	return errors.Join(err, d.Conn.Close())
}

// raw sends what was gathered and returns the connection itself, for the
// copy loops of file transfers: *net.TCPConn is what makes io.CopyN use
// sendfile and splice.
func (d *dataConn) raw() (net.Conn, error) {
	return d.Conn, d.Flush()
}

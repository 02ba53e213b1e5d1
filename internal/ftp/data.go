package ftp

import (
	"context"
	crand "crypto/rand"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// dataSetup is how the next data connection will be made: a passive port
// the client connects to, or an address the server connects to.
type dataSetup struct {
	passive *passiveConn
	active  netip.AddrPort // valid after PORT or EPRT
}

// clear forgets the setup, closing a passive port.
func (d *dataSetup) clear() {
	if d.passive != nil {
		d.passive.close()
		d.passive = nil
	}
	d.active = netip.AddrPort{}
}

func (c *Conn) cmdPASV(string) {
	if c.epsvAll {
		c.out.reply(503, "EPSV ALL was sent: use EPSV.")
		return
	}
	local := c.localIP()
	announce := local
	if c.srv.PublicIP != nil {
		if ip := c.srv.PublicIP(); ip.Is4() {
			announce = ip
		}
	}
	if !local.Is4() {
		c.out.reply(522, "PASV cannot announce an IPv6 address: use EPSV, which works without one.")
		return
	}
	p, err := c.listenPassive(local)
	if err != nil {
		c.fail(err, 425, false)
		return
	}
	a := announce.As4()
	c.out.reply(227, "Entering Passive Mode ("+strconv.Itoa(int(a[0]))+","+strconv.Itoa(int(a[1]))+","+
		strconv.Itoa(int(a[2]))+","+strconv.Itoa(int(a[3]))+","+strconv.Itoa(p.port>>8)+","+strconv.Itoa(p.port&0xff)+").")
}

func (c *Conn) cmdEPSV(arg string) {
	local := c.localIP()
	switch proto := strings.ToUpper(strings.TrimSpace(arg)); proto {
	case "":
	case "ALL":
		c.epsvAll = true
		c.out.reply(200, "EPSV ALL accepted: only EPSV from now on.")
		return
	case "1", "2":
		if proto != protocolOf(local) {
			c.out.reply(522, "Network protocol not supported, use ("+protocolOf(local)+").")
			return
		}
	default:
		c.out.reply(522, "Network protocol not supported, use ("+protocolOf(local)+").")
		return
	}
	p, err := c.listenPassive(local)
	if err != nil {
		c.fail(err, 425, false)
		return
	}
	c.out.reply(229, "Entering Extended Passive Mode (|||"+strconv.Itoa(p.port)+"|).")
}

// protocolOf is the RFC 2428 network protocol number of ip.
func protocolOf(ip netip.Addr) string {
	if ip.Is4() {
		return "1"
	}
	return "2"
}

// listenPassive opens a passive port on the address the client reached.
func (c *Conn) listenPassive(local netip.Addr) (*passiveConn, error) {
	c.data.clear()
	ln, port, err := c.srv.portPool().listen(local)
	if err != nil {
		return nil, err
	}
	p := &passiveConn{ln: ln, port: port, pool: c.srv.portPool(), want: c.remoteIP(), log: c.log}
	c.data.passive = p
	c.mu.Lock()
	closed := c.closed
	c.passive = p
	c.mu.Unlock()
	if closed {
		p.close()
	}
	return p, nil
}

func (c *Conn) cmdPORT(arg string) {
	if c.epsvAll {
		c.out.reply(503, "EPSV ALL was sent: use EPSV.")
		return
	}
	f := strings.Split(strings.TrimSpace(arg), ",")
	var n [6]byte
	ok := len(f) == 6
	for i := 0; ok && i < 6; i++ {
		v, err := strconv.ParseUint(strings.TrimSpace(f[i]), 10, 8)
		ok = err == nil
		n[i] = byte(v)
	}
	if !ok {
		c.out.reply(501, "Give the address and port as PORT h1,h2,h3,h4,p1,p2.")
		return
	}
	ip := netip.AddrFrom4([4]byte{n[0], n[1], n[2], n[3]})
	c.setActive(netip.AddrPortFrom(ip, uint16(n[4])<<8|uint16(n[5])))
}

// cmdEPRT reads "EPRT <d>proto<d>address<d>port<d>" (RFC 2428 section 2),
// where <d> is any printable character.
func (c *Conn) cmdEPRT(arg string) {
	if c.epsvAll {
		c.out.reply(503, "EPSV ALL was sent: use EPSV.")
		return
	}
	if len(arg) < 2 {
		c.out.reply(501, "Give the address and port as EPRT |1|address|port|.")
		return
	}
	f := strings.Split(arg[1:], arg[:1])
	if len(f) != 4 || f[3] != "" {
		c.out.reply(501, "Give the address and port as EPRT |1|address|port|.")
		return
	}
	if f[0] != "1" && f[0] != "2" {
		c.out.reply(522, "Network protocol not supported, use (1,2).")
		return
	}
	ip, err := netip.ParseAddr(f[1])
	port, perr := strconv.ParseUint(f[2], 10, 16)
	if err != nil || perr != nil || ip.Zone() != "" || (f[0] == "1") != ip.Is4() {
		c.out.reply(501, "Give the address and port as EPRT |1|address|port|.")
		return
	}
	c.setActive(netip.AddrPortFrom(ip, uint16(port)))
}

// setActive checks the address of PORT or EPRT when it is given: the
// server connects only to the client's own address, at a port of 1024 or
// more, so it cannot be used to reach anyone else (the "FTP bounce").
func (c *Conn) setActive(to netip.AddrPort) {
	c.data.clear()
	switch {
	case to.Addr().Unmap() != c.remoteIP():
		c.out.reply(501, "Active mode connects only to your own address ("+c.remoteIP().String()+"); use passive mode (EPSV or PASV).")
	case to.Port() < 1024:
		c.out.reply(501, "Active mode to a port below 1024 is not allowed; use a port of 1024 or more, or passive mode.")
	default:
		c.data.active = to
		c.out.reply(200, "Active mode: the server will connect to your port "+strconv.Itoa(int(to.Port()))+".")
	}
}

// openData makes the data connection the last PASV, EPSV, PORT or EPRT
// prepared, within DataTimeout, and registers it so that ABOR and Close
// can break it. The setup is used up either way.
func (c *Conn) openData() (*net.TCPConn, error) {
	setup := c.data
	c.data = dataSetup{}
	var conn *net.TCPConn
	var err error
	switch {
	case setup.passive != nil:
		conn, err = setup.passive.accept(time.Now().Add(c.srv.dataTimeout()))
		setup.passive.close()
		c.mu.Lock()
		if c.passive == setup.passive {
			c.passive = nil
		}
		c.mu.Unlock()
	case setup.active.IsValid():
		conn, err = c.dial(setup.active)
	default:
		return nil, &Error{425, "No data connection: send EPSV or PASV (or PORT) before this command."}
	}
	if err != nil {
		if c.isClosed() || c.aborted() {
			return nil, ErrAborted
		}
		return nil, &Error{425, "Cannot open the data connection: " + dataFailure(err)}
	}
	c.mu.Lock()
	closed := c.closed
	c.dataRaw = conn
	c.mu.Unlock()
	if closed {
		conn.Close()
		return nil, ErrAborted
	}
	return conn, nil
}

// dataFailure says in a few words why a data connection could not open.
func dataFailure(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "nothing connected in time."
	case errors.Is(err, syscall.ECONNREFUSED):
		return "your port refused it."
	}
	return "the connection failed."
}

// dial connects to the client for an active-mode transfer, from the
// address the client reached.
func (c *Conn) dial(to netip.AddrPort) (*net.TCPConn, error) {
	ctx, cancel := context.WithTimeout(c.srv.context(), c.srv.dataTimeout())
	defer cancel()
	c.mu.Lock()
	c.cancelDial = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.cancelDial = nil
		c.mu.Unlock()
	}()
	d := net.Dialer{KeepAlive: -1, LocalAddr: &net.TCPAddr{IP: c.localIP().AsSlice()}}
	conn, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return nil, err
	}
	return conn.(*net.TCPConn), nil
}

// endData forgets the transfer's data connection.
func (c *Conn) endData() {
	c.mu.Lock()
	c.dataRaw = nil
	c.mu.Unlock()
}

// passiveConn is a passive port waiting for its data connection. It
// accepts only the control connection's address and goes on listening
// after a stranger's connection, which it closes: a scan of the port
// range cannot take or break a client's transfer.
type passiveConn struct {
	ln   *net.TCPListener
	port int
	pool *portPool
	want netip.Addr
	log  *slog.Logger
	once sync.Once
}

// accept waits until deadline for the client's data connection.
func (p *passiveConn) accept(deadline time.Time) (*net.TCPConn, error) {
	_ = p.ln.SetDeadline(deadline)
	strangers := 0
	var first netip.Addr
	defer func() {
		if strangers > 0 {
			p.log.Warn("FTP passive port: refused connections from another address", "port", p.port,
				"count", strangers, "from", first.String(), "client", p.want.String())
		}
	}()
	for {
		conn, err := p.ln.AcceptTCP()
		if err != nil {
			return nil, err
		}
		if ip := addrIP(conn.RemoteAddr()); ip != p.want {
			conn.SetLinger(0)
			conn.Close()
			if strangers == 0 {
				first = ip
			}
			strangers++
			continue
		}
		return conn, nil
	}
}

// close stops listening and frees the port; it may be called again.
func (p *passiveConn) close() {
	p.once.Do(func() {
		p.ln.Close()
		p.pool.release(p.port)
	})
}

// portPool hands out passive ports. Each PASV or EPSV gets a port of its
// own for one transfer, drawn at random from the free ports of the range.
type portPool struct {
	start, count int // count 0: any port the system gives

	mu    sync.Mutex
	used  []bool // ports of the range this server holds
	inUse int
	rng   *rand.ChaCha8
}

func (p *portPool) init(r PortRange) {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	p.rng = rand.NewChaCha8(seed)
	if !r.IsZero() {
		p.start, p.count = r.Start, r.End-r.Start+1
		p.used = make([]bool, p.count)
	}
}

// listenConfig opens passive listeners. Data connections need no
// keep-alive probes: each carries one transfer and has its own deadline.
var listenConfig = net.ListenConfig{KeepAlive: -1}

// listen opens a listener on ip and a port of the range.
func (p *portPool) listen(ip netip.Addr) (*net.TCPListener, int, error) {
	network := "tcp4"
	if !ip.Is4() {
		network = "tcp6"
	}
	if p.count == 0 {
		ln, err := listenConfig.Listen(context.Background(), network, netip.AddrPortFrom(ip, 0).String())
		if err != nil {
			return nil, 0, err
		}
		p.mu.Lock()
		p.inUse++
		p.mu.Unlock()
		tl := ln.(*net.TCPListener)
		return tl, tl.Addr().(*net.TCPAddr).Port, nil
	}
	p.mu.Lock()
	next := int(p.rng.Uint64() % uint64(p.count))
	p.mu.Unlock()
	for tried := 0; tried < p.count; tried++ {
		i, ok := p.reserve(next)
		if !ok {
			break
		}
		port := p.start + i
		ln, err := listenConfig.Listen(context.Background(), network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return ln.(*net.TCPListener), port, nil
		}
		p.release(port)
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, 0, err
		}
		next = i + 1 // another program holds it: try the next free one
	}
	return nil, 0, &Error{425, "No passive port is free right now; try again in a moment."}
}

// reserve marks the first port of the range not held, from index from
// on (wrapping), and returns its index.
func (p *portPool) reserve(from int) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := 0; k < p.count; k++ {
		i := (from + k) % p.count
		if !p.used[i] {
			p.used[i] = true
			p.inUse++
			return i, true
		}
	}
	return 0, false
}

func (p *portPool) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inUse--
	if p.count > 0 {
		p.used[port-p.start] = false
	}
}

// held returns the passive ports held now.
func (p *portPool) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// Paths inside every server's home (see prepareHome).
const (
	bigFile    = "big.bin"    // scenarios 1 and 8: -size bytes
	clientFile = "client.bin" // scenario 5: -client-size bytes
	listDir    = "list"       // scenario 4: -entries files
	smallDir   = "small"      // scenario 3: uploads land here
	uploadDir  = "upload"     // scenario 2: uploads land here
)

const bufSize = 1 << 20 // client read and write buffer

// target is one running server as the scenarios see it.
type target struct {
	inst    *instance
	o       *options
	src     *sources
	tlsConf *tls.Config // nil: plain FTP
	listCmd string      // MLSD, or LIST where the server lacks MLSD ("": not asked yet)
}

// session connects, logs in and switches to binary transfers.
func (t *target) session(ctx context.Context) (*harness.Client, error) {
	c, err := t.login(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.Binary(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// login connects and logs in.
func (t *target) login(ctx context.Context) (*harness.Client, error) {
	c, err := harness.Dial(ctx, t.inst.addr, t.nextSource(), t.tlsConf, t.o.opTimeout)
	if err != nil {
		return nil, err
	}
	if err := c.Login(t.inst.user, t.inst.pass); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (t *target) pid() int { return t.inst.proc.PID() }

// nextSource gives every client session its own source address in
// 127.1.0.0/16, as the clients of a shared service come from many
// addresses: panelftp caps log-ins per IP address at 30 a minute, which
// 2,000 log-ins from 127.0.0.1 would hit. A cycle of the pool is longer
// than any run's sessions.
func (t *target) nextSource() net.IP {
	i := t.inst.sources.Add(1) - 1
	return net.IPv4(127, 1, byte(i/254%256), byte(i%254+1))
}

// scenarios maps each scenario number to what runs it; each returns its
// figures keyed by metric id (see metrics).
var scenarios = map[int]func(context.Context, *target) (map[string]*cell, error){
	1: func(ctx context.Context, t *target) (map[string]*cell, error) { return download(ctx, t, "1") },
	2: upload,
	3: func(ctx context.Context, t *target) (map[string]*cell, error) { return smallFiles(ctx, t, "3") },
	4: listing,
	5: crowd,
	6: logins,
	7: idleMemory,
	8: overTLS,
	9: heldSessions,
}

// download is scenario 1 (and 8a): one client fetches the big file.
func download(ctx context.Context, t *target, id string) (map[string]*cell, error) {
	c, err := t.session(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Quit()
	buf := make([]byte, bufSize)
	var s samples
	for i := 0; i < t.o.runs; i++ {
		m := harness.StartCPU(t.pid())
		n, err := c.Retr(ctx, bigFile, buf, nil)
		u := m.Stop()
		if err != nil {
			return nil, err
		}
		if n != int64(t.o.size) {
			return nil, fmt.Errorf("downloaded %d bytes of %d", n, t.o.size)
		}
		s.add(mib(n)/u.Wall.Seconds(), u)
	}
	return map[string]*cell{id: s.cell("")}, nil
}

// upload is scenario 2: one client sends a file as big as the big file.
func upload(ctx context.Context, t *target) (map[string]*cell, error) {
	c, err := t.session(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Quit()
	buf := make([]byte, bufSize)
	name := uploadDir + "/" + bigFile
	var s samples
	for i := 0; i < t.o.runs; i++ {
		f, err := os.Open(t.src.big)
		if err != nil {
			return nil, err
		}
		m := harness.StartCPU(t.pid())
		n, err := c.Stor(ctx, name, f, buf)
		u := m.Stop()
		f.Close()
		if err != nil {
			return nil, err
		}
		if n != int64(t.o.size) {
			return nil, fmt.Errorf("uploaded %d bytes of %d", n, t.o.size)
		}
		s.add(mib(n)/u.Wall.Seconds(), u)
		// Deleting drops the dirty pages, so the next run does not wait on
		// the disk; it is not timed.
		if _, err := c.Cmd(250, "DELE %s", name); err != nil {
			return nil, err
		}
	}
	return map[string]*cell{"2": s.cell("")}, nil
}

// smallFiles is scenario 3 (and 8b): one control connection uploads
// -files small files, then downloads them all.
func smallFiles(ctx context.Context, t *target, id string) (map[string]*cell, error) {
	c, err := t.session(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Quit()
	content := t.src.small
	buf := make([]byte, bufSize)
	m := harness.StartCPU(t.pid())
	for i := 0; i < t.o.files; i++ {
		if _, err := c.Stor(ctx, smallName(i), bytes.NewReader(content), buf); err != nil {
			return nil, err
		}
	}
	up := m.Stop()
	m = harness.StartCPU(t.pid())
	for i := 0; i < t.o.files; i++ {
		n, err := c.Retr(ctx, smallName(i), buf, nil)
		if err != nil {
			return nil, err
		}
		if n != int64(len(content)) {
			return nil, fmt.Errorf("%s: downloaded %d bytes of %d", smallName(i), n, len(content))
		}
	}
	down := m.Stop()
	n := float64(t.o.files)
	total := combine(up, down)
	detail := fmt.Sprintf("up %.0f/s, down %.0f/s", n/up.Wall.Seconds(), n/down.Wall.Seconds())
	return map[string]*cell{id: {value: 2 * n / total.Wall.Seconds(), use: total, detail: detail}}, nil
}

func smallName(i int) string { return fmt.Sprintf("%s/f%05d.bin", smallDir, i) }

// listing is scenario 4: -list-repeat listings of a directory of -entries.
func listing(ctx context.Context, t *target) (map[string]*cell, error) {
	c, err := t.session(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Quit()
	buf := make([]byte, bufSize)
	m := harness.StartCPU(t.pid())
	for i := 0; i < t.o.listRepeat; i++ {
		lines, err := c.List(ctx, t.listCmd, listDir, buf)
		if err != nil {
			return nil, err
		}
		if lines < t.o.entries {
			return nil, fmt.Errorf("%s %s: %d lines for %d entries", t.listCmd, listDir, lines, t.o.entries)
		}
	}
	u := m.Stop()
	rate := float64(t.o.listRepeat) / u.Wall.Seconds()
	detail := fmt.Sprintf("%s, %.0f entries/s", t.listCmd, rate*float64(t.o.entries))
	return map[string]*cell{"4": {value: rate, use: u, detail: detail}}, nil
}

// crowd is scenario 5: -clients clients at once each connect, log in,
// list, download the client file and quit.
func crowd(ctx context.Context, t *target) (map[string]*cell, error) {
	n := t.o.clients
	took := make([]time.Duration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			errs[i] = visit(ctx, t)
			took[i] = time.Since(t0)
		}()
	}
	m := harness.StartCPU(t.pid())
	close(start)
	wg.Wait()
	u := m.Stop()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	p99 := took[(len(took)*99+99)/100-1]
	p50 := took[(len(took)-1)/2]
	return map[string]*cell{
		"5a": {value: u.Wall.Seconds(), use: u, detail: fmt.Sprintf("%d clients", n)},
		"5b": {value: float64(p99) / float64(time.Millisecond), detail: fmt.Sprintf("p50 %.0f ms", float64(p50)/float64(time.Millisecond))},
	}, nil
}

// visit is one client of scenario 5.
func visit(ctx context.Context, t *target) error {
	c, err := t.session(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	if _, err := c.List(ctx, t.listCmd, ".", buf); err != nil {
		return err
	}
	n, err := c.Retr(ctx, clientFile, buf, nil)
	if err != nil {
		return err
	}
	if n != int64(t.o.clientSize) {
		return fmt.Errorf("downloaded %d bytes of %d", n, t.o.clientSize)
	}
	return c.Quit()
}

// logins is scenario 6: -logins connect + log-in + quit, one at a time,
// then -parallel at once.
func logins(ctx context.Context, t *target) (map[string]*cell, error) {
	out := map[string]*cell{}
	for _, mode := range []struct {
		id      string
		workers int
	}{{"6a", 1}, {"6b", t.o.parallel}} {
		var next atomic.Int64
		errs := make([]error, mode.workers)
		var wg sync.WaitGroup
		m := harness.StartCPU(t.pid())
		for w := 0; w < mode.workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(t.o.logins) && errs[w] == nil {
					errs[w] = loginOnce(ctx, t)
				}
			}()
		}
		wg.Wait()
		u := m.Stop()
		if err := firstError(errs); err != nil {
			return nil, err
		}
		out[mode.id] = &cell{value: float64(t.o.logins) / u.Wall.Seconds(), use: u}
	}
	return out, nil
}

func loginOnce(ctx context.Context, t *target) error {
	c, err := t.login(ctx)
	if err != nil {
		return err
	}
	return c.Quit()
}

// idleMemory is scenario 7: the memory the server's processes need for
// idle logged-in sessions, over their memory before any log-in, per
// session. It opens the sessions in two halves and also reports the
// growth during the second half alone: a garbage-collected server reuses
// memory it already holds (start-up or log-in garbage) for new sessions,
// so its growth depends on what came before; the figure over the reading
// before any log-in is the conservative one.
func idleMemory(ctx context.Context, t *target) (map[string]*cell, error) {
	n := t.o.sessions
	half := max(n/2, 1)
	if n < 2 {
		return nil, fmt.Errorf("scenario 7 needs at least 2 sessions")
	}
	sleep(ctx, t.o.settle)
	base := harness.TreeMemory(t.pid())
	var open []*harness.Client
	defer func() { closeSessions(open) }()
	var readings [2]harness.Memory
	for i, count := range []int{half, n - half} {
		more, err := openSessions(ctx, t, count)
		open = append(open, more...)
		if err != nil {
			return nil, err
		}
		sleep(ctx, t.o.settle)
		readings[i] = harness.TreeMemory(t.pid())
	}
	mid, after := readings[0], readings[1]
	if t.inst.heapProfile != nil {
		t.inst.heapProfile()
	}
	perKiB := func(a, b int64, sessions int) float64 { return float64(a-b) / float64(sessions) / 1024 }
	detail := fmt.Sprintf("RSS %s → %s, %d → %d processes; PSS %.0f KiB/session; the last %d sessions alone: RSS %.0f KiB/session",
		formatMiB(base.RSS), formatMiB(after.RSS), base.Procs, after.Procs, perKiB(after.PSS, base.PSS, n),
		n-half, perKiB(after.RSS, mid.RSS, n-half))
	return map[string]*cell{"7": {value: perKiB(after.RSS, base.RSS, n), detail: detail}}, nil
}

// openSessions logs in n clients, -parallel at a time.
func openSessions(ctx context.Context, t *target, n int) ([]*harness.Client, error) {
	return openSessionsAt(ctx, t, n, t.o.parallel)
}

// openSessionsAt logs in n clients, parallel at a time. On an error it
// returns the sessions it opened with the error.
func openSessionsAt(ctx context.Context, t *target, n, parallel int) ([]*harness.Client, error) {
	out := make([]*harness.Client, n)
	errs := make([]error, parallel)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n && errs[w] == nil; i = int(next.Add(1)) - 1 {
				out[i], errs[w] = t.login(ctx)
			}
		}()
	}
	wg.Wait()
	var open []*harness.Client
	for _, c := range out {
		if c != nil {
			open = append(open, c)
		}
	}
	return open, firstError(errs)
}

func closeSessions(cs []*harness.Client) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.Quit()
		}()
	}
	wg.Wait()
}

// overTLS is scenario 8: scenarios 1 and 3 over explicit TLS (PROT P).
func overTLS(ctx context.Context, t *target) (map[string]*cell, error) {
	tt := *t
	tt.tlsConf = clientTLS()
	probe, err := harness.Dial(ctx, tt.inst.addr, tt.nextSource(), tt.tlsConf, tt.o.opTimeout)
	if err != nil {
		na := &cell{na: "no TLS: " + err.Error()}
		return map[string]*cell{"8a": na, "8b": na}, nil
	}
	state, _ := probe.TLSState()
	probe.Quit()
	out, err := download(ctx, &tt, "8a")
	if err != nil {
		return nil, err
	}
	out["8a"].detail = fmt.Sprintf("%s %s, key exchange %v; %s", tls.VersionName(state.Version),
		tls.CipherSuiteName(state.CipherSuite), state.CurveID, out["8a"].detail)
	small, err := smallFiles(ctx, &tt, "8b")
	if err != nil {
		return out, err
	}
	out["8b"] = small["8b"]
	return out, nil
}

// clientTLS trusts the benchmark's self-signed certificate and resumes
// TLS sessions on data connections, as FileZilla does.
func clientTLS() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // the certificate is made up for this run
		ServerName:         "127.0.0.1",
		ClientSessionCache: tls.NewLRUClientSessionCache(64),
		MinVersion:         tls.VersionTLS12,
	}
}

// loopbackLimit sends the big file over a loopback socket with sendfile
// inside this process: the ceiling for scenarios 1 and 2.
func loopbackLimit(ctx context.Context, o *options, src *sources) (*cell, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	buf := make([]byte, bufSize)
	var s samples
	for i := 0; i < o.runs; i++ {
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
			f, err := os.Open(src.big)
			if err != nil {
				return
			}
			defer f.Close()
			conn.(*net.TCPConn).ReadFrom(f) // sendfile(2)
		}()
		d := net.Dialer{Timeout: o.opTimeout}
		conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return nil, err
		}
		conn.SetDeadline(time.Now().Add(o.opTimeout))
		m := harness.StartCPU(0)
		n, err := harness.Drain(conn, buf, nil)
		u := m.Stop()
		conn.Close()
		if err != nil {
			return nil, err
		}
		if n != int64(o.size) {
			return nil, fmt.Errorf("loopback: received %d bytes of %d", n, o.size)
		}
		s.add(mib(n)/u.Wall.Seconds(), u)
	}
	return s.cell("sender and receiver in one process"), nil
}

// samples collects the repetitions of one figure.
type samples struct {
	values []float64
	uses   []harness.Usage
}

func (s *samples) add(v float64, u harness.Usage) {
	s.values = append(s.values, v)
	s.uses = append(s.uses, u)
}

// cell keeps the median value and the mean CPU use of all repetitions.
func (s *samples) cell(detail string) *cell {
	var u harness.Usage
	for _, x := range s.uses {
		u = combine(u, x)
	}
	if len(s.values) > 1 {
		if detail != "" {
			detail += "; "
		}
		lo, hi := slices.Min(s.values), slices.Max(s.values)
		detail += fmt.Sprintf("median of %d, range %.0f–%.0f", len(s.values), lo, hi)
	}
	return &cell{value: median(s.values), use: u, detail: detail}
}

// combine merges two measurements into their time-weighted average.
func combine(a, b harness.Usage) harness.Usage {
	wall := a.Wall + b.Wall
	if wall <= 0 {
		return harness.Usage{}
	}
	wa, wb := float64(a.Wall)/float64(wall), float64(b.Wall)/float64(wall)
	return harness.Usage{Wall: wall, Client: a.Client*wa + b.Client*wb, Server: a.Server*wa + b.Server*wb}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func formatMiB(n int64) string { return fmt.Sprintf("%.1f MiB", mib(n)) }

func firstError(errs []error) error {
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if first == nil {
		return nil
	}
	if failed > 1 {
		return fmt.Errorf("%d of %d failed, first: %w", failed, len(errs), first)
	}
	return first
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

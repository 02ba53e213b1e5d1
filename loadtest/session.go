package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// maxFailures is how many failed operations end a session: after each
// one it logs in again, in case the failure was its connection's alone.
const maxFailures = 3

// sessionEnv is what every session shares.
type sessionEnv struct {
	o        options
	addr     string // FTP control address
	errs     *errorLog
	prog     *progress
	deadline time.Time // no operation starts after it
}

// fileRec is what a session knows of a file it uploaded.
type fileRec struct {
	size int64
	sum  [sha256.Size]byte
}

// session is one FTP client: one control connection at a time, working
// in its own folder so that what it believes is there can be checked.
type session struct {
	id   int
	env  *sessionEnv
	user ftpUser
	ip   net.IP // loopback source address
	tls  bool   // explicit TLS with PROT P
	mlsd bool   // lists with MLSD (else LIST)
	dir  string // its folder inside the sub-user's folder
	rng  *rand.Rand
	tlsc *tls.Config

	files     map[string]fileRec
	names     []string        // the keys of files, to pick from
	uncertain map[string]bool // names a failed operation left in an unknown state
	next      int             // numbers new file names
	madeDir   bool
	failures  int
	logins    int
	t         tally
	finished  atomic.Bool

	conn *harness.Client // logged in; used by the session's goroutine only
	buf  []byte          // transfer buffer
	list string          // MLSD, or LIST where the session or the server lacks MLSD

	mu     sync.Mutex      // guards client, which kill aborts
	client *harness.Client // the connection, from its dial to its close
}

func newSession(id int, env *sessionEnv, user ftpUser, seed uint64) *session {
	s := &session{
		id: id, env: env, user: user,
		ip:    clientIP(id % env.o.clientIPs),
		tls:   id%2 == 1,
		mlsd:  (id/2)%2 == 0,
		dir:   fmt.Sprintf("s%04d", id),
		rng:   rand.New(rand.NewPCG(seed, uint64(id))),
		files: map[string]fileRec{}, uncertain: map[string]bool{},
	}
	host, _, _ := net.SplitHostPort(env.addr)
	s.tlsc = &tls.Config{
		InsecureSkipVerify: true, // the server's certificate is self-signed
		ServerName:         host, // also the key of the session cache, so data connections resume
		ClientSessionCache: tls.NewLRUClientSessionCache(4),
		MinVersion:         tls.VersionTLS12,
	}
	return s
}

// clientIP is the n-th loopback source address: 127.1.0.1, 127.1.0.2, …
// Spreading sessions over addresses keeps per-IP limits of the server
// (connections, log-in rate) from shaping a test of the whole service.
func clientIP(n int) net.IP { return net.IPv4(127, 1, byte(n/250), byte(n%250+1)) }

func (s *session) mode() string {
	m := "plain"
	if s.tls {
		m = "TLS"
	}
	if s.mlsd {
		return m + "/MLSD"
	}
	return m + "/LIST"
}

// run waits until startAt, then works until the deadline and quits.
func (s *session) run(ctx context.Context, startAt time.Time) {
	defer s.finished.Store(true)
	defer s.closeConn()
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Until(startAt)):
	}
	for time.Now().Before(s.env.deadline) && ctx.Err() == nil && s.failures < maxFailures {
		if s.conn == nil {
			if k, err := s.connect(ctx); err != nil {
				s.fail(k, err)
			}
			continue
		}
		k := s.pick()
		if err := s.do(ctx, k); err != nil {
			s.fail(k, err)
		}
	}
	if s.conn != nil {
		if err := s.timed(opQuit, s.conn.Quit); err != nil {
			s.fail(opQuit, err)
		}
	}
}

// pick chooses the next operation: mostly transfers, some listings, a
// few renames and deletes; a session with -max-files files deletes
// instead of uploading.
func (s *session) pick() opKind {
	if len(s.names) == 0 {
		return opUpload
	}
	switch r := s.rng.IntN(100); {
	case r < 20:
		return opList
	case r < 55:
		if len(s.names) >= s.env.o.maxFiles {
			return opDelete
		}
		return opUpload
	case r < 90:
		return opDownload
	case r < 95:
		return opRename
	default:
		return opDelete
	}
}

func (s *session) do(ctx context.Context, k opKind) error {
	switch k {
	case opList:
		return s.timed(k, func() error { return s.checkListing(ctx) })
	case opUpload:
		return s.timed(k, func() error { return s.upload(ctx) })
	case opDownload:
		return s.timed(k, func() error { return s.download(ctx) })
	case opRename:
		return s.timed(k, s.rename)
	case opDelete:
		return s.timed(k, s.remove)
	}
	panic(fmt.Sprintf("loadtest: no operation %d", k))
}

// timed runs one operation under the operation deadline and records its
// latency when it succeeds.
func (s *session) timed(k opKind, f func() error) error {
	t0 := time.Now()
	if s.conn != nil {
		s.conn.SetDeadline(t0.Add(s.env.o.opTimeout))
	}
	err := f()
	if err == nil {
		s.t.lat[k] = append(s.t.lat[k], time.Since(t0))
	}
	s.env.prog.ops.Add(1)
	return err
}

func (s *session) fail(k opKind, err error) {
	s.t.errs[k]++
	s.failures++
	s.env.prog.errs.Add(1)
	s.env.errs.add(k, "session %d (%s from %s, %s, folder %s): %s: %v",
		s.id, s.user.name, s.ip, s.mode(), s.dir, k, err)
	s.closeConn()
}

// connect logs in and enters the session's folder, making it the first
// time. It returns which step failed. The log-in (with its FEAT, which
// decides between MLSD and LIST) has -op-timeout from the dial on.
func (s *session) connect(ctx context.Context) (opKind, error) {
	err := s.timed(opLogin, func() error {
		for retries := 0; ; retries++ {
			start := time.Now()
			var tlsc *tls.Config
			if s.tls {
				tlsc = s.tlsc
			}
			c, err := harness.Dial(ctx, s.env.addr, s.ip, tlsc, s.env.o.opTimeout)
			if err != nil {
				return fmt.Errorf("connect: %w", err)
			}
			c.SetDeadline(start.Add(s.env.o.opTimeout))
			s.track(c)
			s.list = "LIST"
			if s.mlsd && c.HasFeature("MLST") {
				s.list = "MLSD"
			}
			err = c.Login(s.user.name, s.user.password)
			if err == nil {
				err = c.Binary()
			}
			if err == nil {
				s.conn = c
				return nil
			}
			c.Quit()
			s.closeConn()
			if !serverBusy(err) || retries == maxBusyRetries {
				return fmt.Errorf("log-in: %w", err)
			}
			// "421 Server busy": try again later, as FTP clients do.
			s.t.busy++
			time.Sleep(busyRetryDelay)
		}
	})
	if err != nil {
		return opLogin, err
	}
	s.logins++
	s.env.prog.live.Add(1)
	return opMkdir, s.timed(opMkdir, func() error {
		if !s.madeDir {
			if err := s.conn.MakeDir(s.dir); err != nil {
				return fmt.Errorf("MKD %s: %w", s.dir, err)
			}
			s.madeDir = true
		}
		if err := s.conn.ChangeDir(s.dir); err != nil {
			return fmt.Errorf("CWD %s: %w", s.dir, err)
		}
		return nil
	})
}

// A log-in answered "421 Server busy" (every password-hashing slot taken
// for too long) is tried again after busyRetryDelay, up to maxBusyRetries
// times: FileZilla and lftp reconnect after a 421 as well. The report
// counts these retries apart from errors.
const (
	maxBusyRetries = 5
	busyRetryDelay = time.Second
)

func serverBusy(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code == 421 && strings.Contains(te.Msg, "busy")
}

// track makes c the connection kill aborts.
func (s *session) track(c *harness.Client) {
	s.mu.Lock()
	s.client = c
	s.mu.Unlock()
}

// closeConn drops the connection (after QUIT, a failure or at the end).
func (s *session) closeConn() {
	s.mu.Lock()
	c := s.client
	s.client = nil
	s.mu.Unlock()
	if c != nil {
		c.Abort()
	}
	if s.conn != nil {
		s.conn = nil
		s.env.prog.live.Add(-1)
	}
}

// kill closes the session's connections from another goroutine, so an
// operation stuck past every deadline returns.
func (s *session) kill() {
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c != nil {
		c.Abort()
	}
}

// checkListing checks a listing against what the session uploaded:
// every file, each with its size, and nothing else.
func (s *session) checkListing(ctx context.Context) error {
	entries, err := s.conn.Entries(ctx, s.list, "")
	if err != nil {
		return fmt.Errorf("listing: %w", err)
	}
	got := map[string]int64{}
	for _, e := range entries {
		if e.Name != "." && e.Name != ".." && !e.Dir {
			got[e.Name] = e.Size
		}
	}
	s.t.listed += len(got)
	var bad []string
	for _, name := range s.names {
		size, ok := got[name]
		switch {
		case !ok:
			bad = append(bad, name+" missing")
		case size != s.files[name].size:
			bad = append(bad, fmt.Sprintf("%s is %d bytes, uploaded %d", name, size, s.files[name].size))
		}
		delete(got, name)
	}
	for name := range got {
		if !s.uncertain[name] {
			bad = append(bad, name+" unexpected")
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("listing disagrees with the uploads: %s", strings.Join(bad, "; "))
	}
	return nil
}

// upload stores a new file of random size and content.
func (s *session) upload(ctx context.Context) error {
	name := fmt.Sprintf("f%05d.bin", s.next)
	s.next++
	o := s.env.o
	size := o.minSize + s.rng.Int64N(o.maxSize-o.minSize+1)
	var seed [32]byte
	for i := range 4 {
		binary.LittleEndian.PutUint64(seed[i*8:], s.rng.Uint64())
	}
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8(seed), size), h)
	s.uncertain[name] = true
	if _, err := s.conn.Stor(ctx, name, src, s.buffer()); err != nil {
		return fmt.Errorf("%d bytes: %w", size, err)
	}
	delete(s.uncertain, name)
	var rec fileRec
	rec.size = size
	h.Sum(rec.sum[:0])
	s.addFile(name, rec)
	s.t.bytesUp += size
	s.env.prog.up.Add(size)
	return nil
}

// download reads back one of the session's files and checks its size
// and SHA-256.
func (s *session) download(ctx context.Context) error {
	name := s.names[s.rng.IntN(len(s.names))]
	want := s.files[name]
	h := sha256.New()
	n, err := s.conn.Retr(ctx, name, s.buffer(), h)
	s.t.bytesDown += n
	s.env.prog.down.Add(n)
	switch {
	case err != nil:
		return fmt.Errorf("after %d of %d bytes: %w", n, want.size, err)
	case n != want.size:
		return fmt.Errorf("RETR %s: got %d bytes, uploaded %d (lost data)", name, n, want.size)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	if sum != want.sum {
		return fmt.Errorf("RETR %s: SHA-256 %x, uploaded %x (corrupted)", name, sum, want.sum)
	}
	s.t.checked++
	return nil
}

// buffer is the session's transfer buffer, made on first use.
func (s *session) buffer() []byte {
	if s.buf == nil {
		s.buf = make([]byte, 32<<10)
	}
	return s.buf
}

func (s *session) rename() error {
	old := s.names[s.rng.IntN(len(s.names))]
	rec := s.files[old]
	name := fmt.Sprintf("r%05d.bin", s.next)
	s.next++
	s.removeFile(old)
	s.uncertain[old], s.uncertain[name] = true, true
	if err := s.conn.Rename(old, name); err != nil {
		return fmt.Errorf("RNFR %s RNTO %s: %w", old, name, err)
	}
	delete(s.uncertain, old)
	delete(s.uncertain, name)
	s.addFile(name, rec)
	return nil
}

func (s *session) remove() error {
	name := s.names[s.rng.IntN(len(s.names))]
	s.removeFile(name)
	s.uncertain[name] = true
	if err := s.conn.Delete(name); err != nil {
		return fmt.Errorf("DELE %s: %w", name, err)
	}
	delete(s.uncertain, name)
	return nil
}

func (s *session) addFile(name string, rec fileRec) {
	s.files[name] = rec
	s.names = append(s.names, name)
}

func (s *session) removeFile(name string) {
	delete(s.files, name)
	for i, n := range s.names {
		if n == name {
			s.names[i] = s.names[len(s.names)-1]
			s.names = s.names[:len(s.names)-1]
			return
		}
	}
}

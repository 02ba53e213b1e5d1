package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// sample is the server's resource use at one moment; -1 means unknown.
type sample struct {
	rss        int64 // VmRSS, bytes
	fds        int   // entries of /proc/PID/fd
	goroutines int   // from /debug/pprof/goroutine
	heapInuse  int64 // runtime HeapInuse, bytes (only when the heap was read)
	// A passive port listens from PASV or EPSV until its data connection
	// arrives (or the data timeout): none may be left once the sessions
	// are gone.
	passiveFDs int
	// The SQLite pool keeps up to 8 connections open between uses, each
	// with the database and its write-ahead log: how many stay depends on
	// how many queries ran at once (more cores, more of them), so they
	// are also counted apart, and bounded (dbFDMax).
	dbFDs int
}

// snapshot reads the server's RSS, open files and goroutines. With gc it
// first reads the heap profile with gc=1, which runs a garbage collection
// in the server, and records HeapInuse.
func (s *server) snapshot(gc bool) sample {
	sm := sample{rss: -1, fds: -1, goroutines: -1, heapInuse: -1, passiveFDs: -1, dbFDs: -1}
	if gc {
		if st, err := s.profiler().HeapStats(context.Background(), true); err == nil {
			sm.heapInuse = st["HeapInuse"]
		}
	}
	if v, ok := harness.StatusKiB(s.pid(), "VmRSS:"); ok {
		sm.rss = v << 10
	}
	sm.fds = harness.CountFDs(s.pid())
	sm.passiveFDs = passiveListeners(s.pid(), s.passive.Start, s.passive.End)
	sm.dbFDs = databaseFDs(s.pid(), s.data)
	if n, err := s.profiler().Goroutines(context.Background()); err == nil {
		sm.goroutines = n
	}
	return sm
}

// otherFDs leaves out the SQLite files.
func (sm sample) otherFDs() int { return minus(sm.fds, sm.dbFDs) }

func minus(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a - b
}

// dbFDMax bounds the SQLite descriptors: 8 pooled connections, each with
// the database, its write-ahead log and its shared-memory index.
const dbFDMax = 8 * 3

// databaseFDs counts the server's descriptors of the SQLite database in
// its data directory (the database, -wal and -shm files).
func databaseFDs(pid int, dataDir string) int {
	fds := harness.FDs(pid)
	if fds == nil {
		return -1
	}
	// The file name the store gives the database (sqlstore.SQLiteFile);
	// the load test drives the server from outside and imports none of it.
	db, err := filepath.Abs(filepath.Join(dataDir, "panelftp.db"))
	if err != nil {
		return -1
	}
	n := 0
	for _, l := range fds {
		if strings.HasPrefix(l, db) {
			n++
		}
	}
	return n
}

// passiveListeners counts the server's listening sockets on ports lo..hi,
// matching the socket inodes of its descriptors with the kernel's tables.
func passiveListeners(pid, lo, hi int) int {
	fds := harness.FDs(pid)
	if fds == nil {
		return -1
	}
	sockets := harness.TCPSockets(pid)
	n := 0
	for _, l := range fds {
		ino, ok := harness.SocketInode(l)
		if sk, known := sockets[ino]; ok && known && sk.State == "LISTEN" && sk.Port >= lo && sk.Port <= hi {
			n++
		}
	}
	return n
}

// peakWatch samples the server while the sessions run and keeps the
// highest figures. The RSS peak is also read from VmHWM at the end.
type peakWatch struct {
	srv  *server
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak sample
}

func watchPeak(srv *server) *peakWatch {
	w := &peakWatch{srv: srv, stop: make(chan struct{}), done: make(chan struct{}),
		peak: sample{rss: -1, fds: -1, goroutines: -1, heapInuse: -1, passiveFDs: -1}}
	go w.loop()
	return w
}

func (w *peakWatch) loop() {
	defer close(w.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		sm := sample{rss: -1, fds: harness.CountFDs(w.srv.pid()), goroutines: -1, heapInuse: -1}
		if v, ok := harness.StatusKiB(w.srv.pid(), "VmRSS:"); ok {
			sm.rss = v << 10
		}
		if i%8 == 0 { // the goroutine profile and the TCP tables are heavier: every 2 s
			if n, err := w.srv.profiler().Goroutines(context.Background()); err == nil {
				sm.goroutines = n
			}
			sm.passiveFDs = passiveListeners(w.srv.pid(), w.srv.passive.Start, w.srv.passive.End)
		}
		w.mu.Lock()
		w.peak.rss = max(w.peak.rss, sm.rss)
		w.peak.fds = max(w.peak.fds, sm.fds)
		w.peak.goroutines = max(w.peak.goroutines, sm.goroutines)
		w.peak.passiveFDs = max(w.peak.passiveFDs, sm.passiveFDs)
		w.mu.Unlock()
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
	}
}

// finish stops sampling and returns the peaks, with RSS raised to the
// kernel's high-water mark if sampling missed the top.
func (w *peakWatch) finish() sample {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := harness.StatusKiB(w.srv.pid(), "VmHWM:"); ok {
		w.peak.rss = max(w.peak.rss, v<<10)
	}
	return w.peak
}

// fdKinds sorts the server's open descriptors into kinds, to say what is
// left when they do not return to the baseline: sockets by TCP state and
// port (the FTP port, a passive port or another), files under the homes,
// pipes, and other files by name.
func (s *server) fdKinds() map[string]int {
	_, ftpPort, _ := net.SplitHostPort(s.addr)
	sockets := harness.TCPSockets(s.pid())
	kinds := map[string]int{}
	for _, l := range harness.FDs(s.pid()) {
		kind := l
		switch ino, isSocket := harness.SocketInode(l); {
		case isSocket:
			kind = "socket, not TCP"
			if sk, ok := sockets[ino]; ok {
				where := fmt.Sprintf("port %d", sk.Port)
				switch {
				case strconv.Itoa(sk.Port) == ftpPort:
					where = "the FTP port"
				case sk.Port >= s.passive.Start && sk.Port <= s.passive.End:
					where = "a passive port"
				}
				kind = "TCP " + sk.State + " on " + where
			}
		case strings.HasPrefix(l, "pipe:"):
			kind = "pipe"
		case strings.HasPrefix(l, s.homes):
			kind = "file under the homes"
		}
		kinds[kind]++
	}
	return kinds
}

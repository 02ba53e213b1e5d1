package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
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
		if st, err := s.heapStats(true); err == nil {
			sm.heapInuse = st["HeapInuse"]
		}
	}
	if v, ok := procKiB(s.pid(), "VmRSS:"); ok {
		sm.rss = v << 10
	}
	sm.fds = countFDs(s.pid())
	sm.passiveFDs = passiveListeners(s.pid(), s.passive.Start, s.passive.End)
	sm.dbFDs = databaseFDs(s.pid(), s.data)
	if n, err := s.goroutines(); err == nil {
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

// procKiB reads a "Name:   123 kB" line of /proc/PID/status.
func procKiB(pid int, name string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, name); ok {
			v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// dbFDMax bounds the SQLite descriptors: 8 pooled connections, each with
// the database, its write-ahead log and its shared-memory index.
const dbFDMax = 8 * 3

// databaseFDs counts the server's descriptors of the SQLite database in
// its data directory (the database, -wal and -shm files).
func databaseFDs(pid int, dataDir string) int {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	// The file name the store gives the database (sqlstore.SQLiteFile);
	// the load test drives the server from outside and imports none of it.
	db, err := filepath.Abs(filepath.Join(dataDir, "panelftp.db"))
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(dir + e.Name()); err == nil && strings.HasPrefix(l, db) {
			n++
		}
	}
	return n
}

func countFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// cpuTime is the CPU time (user + system) a process used so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15, in
	// clock ticks of 1/100 s on every Linux Go supports.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// debugGet fetches a profiler page of the server.
func (s *server) debugGet(path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.debug+path, nil)
	if err != nil {
		return nil, err
	}
	// No keep-alive: the probe's own connection must not count among the
	// server's descriptors.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, err
}

// goroutines reads the goroutine count from the profile's first line,
// "goroutine profile: total N".
func (s *server) goroutines() (int, error) {
	b, err := s.debugGet("/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	n, ok := strings.CutPrefix(string(first), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("goroutine profile starts with %q", first)
	}
	return strconv.Atoi(strings.TrimSpace(n))
}

// passiveListeners counts the server's listening sockets on ports lo..hi,
// matching the socket inodes of its descriptors with the kernel's tables.
func passiveListeners(pid, lo, hi int) int {
	dir := "/proc/" + strconv.Itoa(pid)
	ents, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return -1
	}
	mine := map[string]bool{}
	for _, e := range ents {
		if l, err := os.Readlink(dir + "/fd/" + e.Name()); err == nil {
			if ino, ok := strings.CutPrefix(l, "socket:["); ok {
				mine[strings.TrimSuffix(ino, "]")] = true
			}
		}
	}
	n := 0
	for _, table := range []string{"/net/tcp", "/net/tcp6"} {
		b, err := os.ReadFile(dir + table)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !mine[f[9]] { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if port, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(port) >= lo && int(port) <= hi {
				n++
			}
		}
	}
	return n
}

// heapStats reads the runtime.MemStats lines ("# HeapInuse = 123") at the
// end of the heap profile; gc runs a collection first.
func (s *server) heapStats(gc bool) (map[string]int64, error) {
	path := "/debug/pprof/heap?debug=1"
	if gc {
		path += "&gc=1"
	}
	b, err := s.debugGet(path)
	if err != nil {
		return nil, err
	}
	st := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "# "), " = ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st[k] = n
		}
	}
	if _, ok := st["HeapInuse"]; !ok {
		return nil, fmt.Errorf("heap profile without MemStats")
	}
	return st, nil
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
		sm := sample{rss: -1, fds: countFDs(w.srv.pid()), goroutines: -1, heapInuse: -1}
		if v, ok := procKiB(w.srv.pid(), "VmRSS:"); ok {
			sm.rss = v << 10
		}
		if i%8 == 0 { // the goroutine profile and the TCP tables are heavier: every 2 s
			if n, err := w.srv.goroutines(); err == nil {
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
	if v, ok := procKiB(w.srv.pid(), "VmHWM:"); ok {
		w.peak.rss = max(w.peak.rss, v<<10)
	}
	return w.peak
}

// tcpState names a state of the kernel's TCP tables (include/net/tcp_states.h).
func tcpState(hex string) string {
	names := [...]string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}
	n, err := strconv.ParseUint(hex, 16, 8)
	if err != nil || int(n) >= len(names) {
		return hex
	}
	return names[n]
}

// fdKinds sorts the server's open descriptors into kinds, to say what is
// left when they do not return to the baseline: sockets by TCP state and
// port (the FTP port, a passive port or another), files under the homes,
// pipes, and other files by name.
func (s *server) fdKinds() map[string]int {
	dir := "/proc/" + strconv.Itoa(s.pid())
	_, ftpPort, _ := net.SplitHostPort(s.addr)
	sockets := map[string]string{} // inode → kind
	for _, table := range []string{"/net/tcp", "/net/tcp6"} {
		b, _ := os.ReadFile(dir + table)
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 10 || f[0] == "sl" {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, _ := strconv.ParseInt(hexPort, 16, 32)
			where := fmt.Sprintf("port %d", port)
			switch {
			case strconv.Itoa(int(port)) == ftpPort:
				where = "the FTP port"
			case int(port) >= s.passive.Start && int(port) <= s.passive.End:
				where = "a passive port"
			}
			sockets[f[9]] = "TCP " + tcpState(f[3]) + " on " + where
		}
	}
	kinds := map[string]int{}
	ents, _ := os.ReadDir(dir + "/fd")
	for _, e := range ents {
		l, err := os.Readlink(dir + "/fd/" + e.Name())
		if err != nil {
			continue
		}
		kind := l
		switch {
		case strings.HasPrefix(l, "socket:["):
			kind = cmp.Or(sockets[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")], "socket, not TCP")
		case strings.HasPrefix(l, "pipe:"):
			kind = "pipe"
		case strings.HasPrefix(l, s.homes):
			kind = "file under the homes"
		}
		kinds[kind]++
	}
	return kinds
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// server is a `panelftp serve` process started by a test.
type server struct {
	cli       *cli
	cmd       *exec.Cmd
	ftpPort   int
	panelPort int
	logs      *syncBuffer
	exited    chan struct{} // closed once the process has ended
	home      string        // bob's home
	stopOnce  sync.Once
}

// syncBuffer collects the server's output; a test may read it while the
// process still writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Test ports come from testPortsLow..testPortsHigh, below the kernel's
// ephemeral range (32768 and up by default), so an outgoing connection
// never takes a port between a test choosing it and serve binding it.
// Each process starts at a random offset so that test binaries running
// at once rarely meet; launch retries when they do.
const (
	testPortsLow  = 20000
	testPortsHigh = 32000
	passiveSpan   = 51 // ports in each server's passive range
)

var nextTestPort atomic.Int64

func init() {
	nextTestPort.Store(rand.Int64N(testPortsHigh - testPortsLow))
}

// reservePorts returns the first of n consecutive ports that no other
// caller in this process gets until the whole range has been handed out.
func reservePorts(n int) int {
	span := int64(testPortsHigh - testPortsLow)
	for {
		end := nextTestPort.Add(int64(n))
		start := end - int64(n)
		if start%span+int64(n) <= span { // a block must not wrap
			return testPortsLow + int(start%span)
		}
	}
}

// freePort returns a loopback port for one listener of the test.
func freePort(t *testing.T) int {
	t.Helper()
	return reservePorts(1)
}

// startServer creates account bob with FTP user web.bob (path /site) and
// runs `panelftp serve` on free loopback ports until the test ends.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	c := newCLI(t)
	home := filepath.Join(t.TempDir(), "bob")
	c.ok(append([]string{"account", "add", "bob", "--home", home}, ownerFlags()...)...)
	c.ok("ftp", "add", "web.bob", goodPassword, "/site", "bob")
	s := launch(t, c, extra...)
	s.home = home
	return s
}

// launch runs `panelftp serve` on c's data directory, on free loopback
// ports, until the test ends.
func launch(t *testing.T, c *cli, extra ...string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := tryLaunch(t, c, extra)
		if err == nil {
			return s
		}
		// Another test binary may hold a port from our block; take another.
		if attempt == 5 || !strings.Contains(s.logs.String(), "address already in use") {
			t.Fatal(err)
		}
	}
}

// tryLaunch starts serve on a fresh block of ports and waits for its
// banner; on failure the server has stopped and its output is in logs.
func tryLaunch(t *testing.T, c *cli, extra []string) (*server, error) {
	t.Helper()
	s := &server{cli: c, logs: &syncBuffer{}}
	base := reservePorts(2 + passiveSpan)
	s.ftpPort, s.panelPort = base, base+1
	pasv := base + 2
	args := append([]string{"serve",
		"--ftp-listen", fmt.Sprintf("127.0.0.1:%d", s.ftpPort),
		"--panel-listen", fmt.Sprintf("127.0.0.1:%d", s.panelPort),
		"--passive-ports", fmt.Sprintf("%d-%d", pasv, pasv+passiveSpan-1),
		"--shutdown-grace", "2s",
	}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(c.env, "PANELFTP_DATA="+c.data)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := s.waitBanner(); err != nil {
		s.stop()
		return s, err
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server output:\n%s", s.logs.String())
		}
	})
	return s, nil
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s); its output
// may be read after. It is idempotent.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.ftpPort) }

func (s *server) waitBanner() error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.HasPrefix(line, "220") {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("panelftp serve ended before greeting on %s\n%s", s.addr(), s.logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("panelftp serve did not greet on %s\n%s", s.addr(), s.logs.String())
}

// site is the host folder web.bob is locked into.
func (s *server) site() string { return filepath.Join(s.home, "site") }

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

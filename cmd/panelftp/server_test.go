package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	home      string // bob's home
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

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
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
	s := &server{cli: c, logs: &syncBuffer{}}
	s.ftpPort, s.panelPort = freePort(t), freePort(t)
	pasv := 30000 + int(time.Now().UnixNano()%20000)
	args := append([]string{"serve",
		"--ftp-listen", fmt.Sprintf("127.0.0.1:%d", s.ftpPort),
		"--panel-listen", fmt.Sprintf("127.0.0.1:%d", s.panelPort),
		"--passive-ports", fmt.Sprintf("%d-%d", pasv, pasv+50),
		"--shutdown-grace", "2s",
	}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(c.env, "PANELFTP_DATA="+c.data)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server output:\n%s", s.logs.String())
		}
	})
	s.waitBanner(t)
	return s
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s); its output
// may be read after. It is idempotent.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	})
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.ftpPort) }

func (s *server) waitBanner(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.HasPrefix(line, "220") {
				return
			}
		}
		if s.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("panelftp serve did not greet on %s\n%s", s.addr(), s.logs.String())
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

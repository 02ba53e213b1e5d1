package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

type liveSession struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Account   string `json:"account"`
	Activity  string `json:"activity"`
	File      string `json:"file"`
	BytesDone int64  `json:"bytes_done"`
}

func (c *cli) sessions(t *testing.T, args ...string) []liveSession {
	t.Helper()
	var list []liveSession
	out := c.ok(append([]string{"ftp", "connections", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("ftp connections --json: %v\n%s", err, out)
	}
	return list
}

// TestConnectionsAndKickFromAnotherProcess shows a running upload in
// `ftp connections` of a separate CLI process, then ends it with `ftp kick`.
func TestConnectionsAndKickFromAnotherProcess(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	conn, err := ftp.Dial(s.addr(), ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Quit()
	if err := conn.Login("web.bob", goodPassword); err != nil {
		t.Fatal(err)
	}

	// An upload that sends 1 MiB (more than the first copy chunk), then waits
	// until the test lets it go on.
	pr, pw := io.Pipe()
	stored := make(chan error, 1)
	go func() { stored <- conn.Stor("big.bin", pr) }()
	go func() {
		pw.Write(make([]byte, 1<<20))
	}()

	var sess liveSession
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, ls := range s.cli.sessions(t, "bob") {
			if ls.Username == "web.bob" && ls.Activity == "upload" && ls.BytesDone > 0 {
				sess = ls
			}
		}
		if sess.ID != "" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if sess.ID == "" {
		t.Fatalf("no running upload of web.bob in ftp connections: %+v", s.cli.sessions(t))
	}
	if sess.Account != "bob" || !strings.HasSuffix(sess.File, "big.bin") {
		t.Errorf("session = %+v", sess)
	}
	if other := s.cli.sessions(t, "alice"); len(other) != 0 {
		t.Errorf("ftp connections alice lists bob's sessions: %+v", other)
	}

	start := time.Now()
	out := s.cli.ok("ftp", "kick", sess.ID)
	if !strings.Contains(out, "disconnected") {
		t.Errorf("ftp kick output: %q", out)
	}
	pw.CloseWithError(io.ErrClosedPipe)
	select {
	case <-stored:
	case <-time.After(5 * time.Second):
		t.Fatal("the kicked upload is still running")
	}
	if err := conn.NoOp(); err == nil {
		t.Error("the kicked control connection still answers NOOP")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("kick took %v", took)
	}
	if r := s.cli.run("ftp", "kick", "no-such-session"); r.code != 1 || !strings.Contains(r.stderr, "not connected") {
		t.Errorf("kick of unknown session: exit %d, %q", r.code, r.stderr)
	}
}

// TestLiveSettingsReachTheServer saves a lower per-IP limit with the CLI
// while the server runs and sees the server apply it, then reset it.
func TestLiveSettingsReachTheServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.cli.ok("settings", "set", "--max-per-ip", "1")
	if out := s.cli.ok("settings", "show"); !strings.Contains(out, "max per IP") || !strings.Contains(out, "1") {
		t.Errorf("settings show: %s", out)
	}
	first, err := ftp.Dial(s.addr(), ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Quit()
	// The server reads the saved settings from the change feed.
	deadline := time.Now().Add(6 * time.Second)
	refused := false
	for !refused && time.Now().Before(deadline) {
		c, err := ftp.Dial(s.addr(), ftp.DialWithTimeout(5*time.Second))
		if err != nil {
			refused = strings.Contains(err.Error(), "421")
		} else {
			c.Quit()
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !refused {
		t.Fatal("a second connection from the same IP was still accepted after max-per-ip 1 was saved")
	}
	s.cli.ok("settings", "reset")
	deadline = time.Now().Add(6 * time.Second)
	for {
		c, err := ftp.Dial(s.addr(), ftp.DialWithTimeout(5*time.Second))
		if err == nil {
			c.Quit()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after settings reset, a second connection is still refused: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := s.cli.run("settings", "set", "--public-host", "ftp.example.com"); r.code != 1 || !strings.Contains(r.stderr, "IPv4") {
		t.Errorf("settings set with a host name: exit %d, %q", r.code, r.stderr)
	}
	if r := s.cli.run("settings", "set"); r.code != 2 {
		t.Errorf("settings set with nothing: exit %d, want 2", r.code)
	}
}

// TestBannerReachesTheServer: a greeting saved with the CLI is what new
// FTP connections read, within the settings' refresh; with the server's
// name hidden and no banner, no reply names panelftp.
func TestBannerReachesTheServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	greeting := func() string {
		conn, err := net.DialTimeout("tcp", s.addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return strings.TrimSpace(line)
	}
	if g := greeting(); g != "220 panelftp ready." {
		t.Fatalf("greeting %q", g)
	}
	waitGreeting := func(want string) {
		t.Helper()
		deadline := time.Now().Add(6 * time.Second) // re-read every 2 seconds
		for g := greeting(); g != want; g = greeting() {
			if time.Now().After(deadline) {
				t.Fatalf("greeting still %q after the settings were saved, want %q", g, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	s.cli.ok("settings", "set", "--banner", "Welcome to Example Hosting")
	waitGreeting("220 Welcome to Example Hosting")

	s.cli.ok("settings", "set", "--banner", "", "--hide-server-name")
	waitGreeting("220 FTP server ready.")
	c, err := textproto.Dial("tcp", s.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var replies []string
	for _, cmd := range []string{"", "SYST", "STAT", "HELP", "FEAT", "USER web.bob", "PASS " + goodPassword, "SYST", "STAT", "HELP", "FEAT"} {
		if cmd != "" {
			if err := c.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		code, msg, err := c.ReadResponse(0)
		if err != nil && code == 0 {
			t.Fatalf("%q: %v", cmd, err)
		}
		replies = append(replies, fmt.Sprintf("%s -> %d %s", cmd, code, msg))
	}
	if all := strings.Join(replies, "\n"); strings.Contains(strings.ToLower(all), "panelftp") || !strings.Contains(all, "-> 230") {
		t.Errorf("with the server's name hidden:\n%s", all)
	}
}

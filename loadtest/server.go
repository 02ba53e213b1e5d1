package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is the panelftp process under test and its data directory.
type server struct {
	bin     string
	data    string // --data: SQLite database, TLS certificate
	homes   string // the accounts' home directories
	logPath string // the server's standard output and error
	addr    string // FTP control address, 127.0.0.1:port
	debug   string // profiler address, 127.0.0.1:port
	passive portRange

	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait, once done is closed
}

// ftpUser is one FTP sub-user the sessions log in as.
type ftpUser struct {
	name, password string
	account        string
	dir            string // its folder on disk
}

// moduleRoot finds the directory of this module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the panelftp module: run from its checkout")
	}
	return filepath.Dir(gomod), nil
}

// buildServer builds cmd/panelftp into dir.
func buildServer(ctx context.Context, dir string, race bool) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "panelftp")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/panelftp")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// cli runs one panelftp command on the data directory, with stdin as its
// standard input.
func (s *server) cli(ctx context.Context, stdin string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append(args, "--data", s.data)...)
	cmd.Env = childEnv()
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("panelftp %s: %w\n%s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// childEnv is this environment without PANELFTP_ variables, which would
// override the flags the harness gives.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PANELFTP_") {
			env = append(env, kv)
		}
	}
	return env
}

// loadUID is the uid and gid of the first account when run as root; the
// others follow.
const loadUID = 42000

// addUsers creates the accounts and their FTP sub-users with the CLI,
// a few commands at a time (each hashes a password).
func (s *server) addUsers(ctx context.Context, o options) ([]ftpUser, error) {
	if err := s.cli(ctx, "", "init"); err != nil {
		return nil, err
	}
	var users []ftpUser
	for a := range o.accounts {
		acct := fmt.Sprintf("load%02d", a+1)
		home := filepath.Join(s.homes, acct)
		add := []string{"account", "add", acct, "--home", home}
		if os.Geteuid() == 0 { // as root, accounts need ids of their own
			id := strconv.Itoa(loadUID + a)
			add = append(add, "--uid", id, "--gid", id)
		}
		if err := s.cli(ctx, "", add...); err != nil {
			return nil, err
		}
		for u := range o.usersPer {
			folder := fmt.Sprintf("/site%02d", u+1)
			users = append(users, ftpUser{
				name:     fmt.Sprintf("dev%02d.%s", u+1, acct),
				password: newPassword(),
				account:  acct,
				dir:      filepath.Join(home, folder),
			})
		}
	}
	const parallel = 4
	errs := make(chan error, len(users))
	slots := make(chan struct{}, parallel)
	for i := range users {
		slots <- struct{}{}
		go func(u ftpUser) {
			defer func() { <-slots }()
			folder := "/" + filepath.Base(u.dir)
			errs <- s.cli(ctx, u.password+"\n", "ftp", "add", u.name, "-", folder, u.account)
		}(users[i])
	}
	var all []error
	for range users {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return users, errors.Join(all...)
}

// newPassword makes a password that meets the rules: upper and lower
// case, a digit and a symbol, 8 to 64 characters.
func newPassword() string {
	return "Qq7-" + rand.Text()
}

// start runs `panelftp serve` on free loopback ports and waits until it
// greets FTP clients and its profiler answers.
func (s *server) start(ctx context.Context, o options) error {
	var err error
	if s.passive, err = parsePortRange(o.passivePorts); err != nil {
		return err
	}
	ftpPort, err := freePort()
	if err != nil {
		return err
	}
	debugPort, err := freePort()
	if err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ftpPort))
	s.debug = net.JoinHostPort("127.0.0.1", strconv.Itoa(debugPort))
	limit := strconv.Itoa(o.sessions + 50)
	args := []string{"serve", "--data", s.data,
		"--ftp-listen", s.addr, "--panel-listen", "",
		"--passive-ports", o.passivePorts,
		"--max-connections", limit, "--max-per-ip", limit, "--max-per-user", limit,
		"--ban-threshold", "0", "--log-level", o.logLevel, "--debug-listen", s.debug}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Env = childEnv()
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// The server must not outlive the harness, however it ends.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting panelftp serve: %w", err)
	}
	s.done = make(chan struct{})
	go func() {
		s.err = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	return s.waitReady(ctx)
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.exited() {
			return fmt.Errorf("panelftp serve exited at start: %v", s.err)
		}
		if err := greeting(s.addr); err == nil {
			if _, err := s.goroutines(); err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("panelftp serve not answering on %s (FTP) and %s (profiler) after 30s", s.addr, s.debug)
}

// greeting connects to addr and reads the FTP greeting.
func greeting(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("greeting %q", strings.TrimSpace(line))
	}
	fmt.Fprintf(c, "QUIT\r\n")
	return nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for a clean exit (SIGKILL after 15 s).
// It returns how the process ended: nil for exit status 0.
func (s *server) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	if !s.exited() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			return errors.New("did not stop within 15s of SIGTERM; killed")
		}
	}
	return s.err
}

// logSummary is what the server logged at warning level or above.
type logSummary struct {
	warns, errs int
	// kinds counts the lines by level and message; example keeps the
	// first line of each kind.
	kinds   map[string]int
	example map[string]string
}

// logFindings reads the server log: warnings and errors by message;
// panics and race reports count as errors.
func (s *server) logFindings() logSummary {
	sum := logSummary{kinds: map[string]int{}, example: map[string]string{}}
	f, err := os.Open(s.logPath)
	if err != nil {
		sum.errs++
		sum.kinds["server log unreadable: "+err.Error()]++
		return sum
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var kind string
		switch {
		case strings.Contains(line, "level=ERROR"):
			kind = "ERROR " + logMsg(line)
		case strings.HasPrefix(line, "panic:"), strings.HasPrefix(line, "fatal error:"), strings.Contains(line, "DATA RACE"):
			kind = "ERROR " + line
		case strings.Contains(line, "level=WARN"):
			kind = "WARN " + logMsg(line)
		default:
			continue
		}
		if strings.HasPrefix(kind, "ERROR") {
			sum.errs++
		} else {
			sum.warns++
		}
		if sum.kinds[kind]++; sum.kinds[kind] == 1 {
			sum.example[kind] = line
		}
	}
	return sum
}

// logMsg is the msg="…" of a text log line.
func logMsg(line string) string {
	_, rest, ok := strings.Cut(line, ` msg="`)
	if !ok {
		return line
	}
	msg, _, _ := strings.Cut(rest, `"`)
	return msg
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// portRange is an inclusive range of TCP ports.
type portRange struct{ Start, End int }

func parsePortRange(s string) (portRange, error) {
	lo, hi, _ := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a < 1024 || b < a || b > 65535 {
		return portRange{}, fmt.Errorf("-passive-ports %q: give a range like 24000-25999", s)
	}
	return portRange{a, b}, nil
}

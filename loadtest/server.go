package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
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

	proc *harness.Process
}

// ftpUser is one FTP sub-user the sessions log in as.
type ftpUser struct {
	name, password string
	account        string
	dir            string // its folder on disk
}

// loadUID is the uid and gid of the first account when run as root; the
// others follow.
const loadUID = 42000

// addUsers creates the accounts and their FTP sub-users with the CLI,
// a few commands at a time (each hashes a password).
func (s *server) addUsers(ctx context.Context, o options) ([]ftpUser, error) {
	panel := harness.Panel{Bin: s.bin, Data: s.data}
	if err := panel.Init(ctx); err != nil {
		return nil, err
	}
	var users []ftpUser
	for a := range o.accounts {
		acct := fmt.Sprintf("load%02d", a+1)
		home := filepath.Join(s.homes, acct)
		id := -1
		if os.Geteuid() == 0 { // as root, accounts need ids of their own
			id = loadUID + a
		}
		if err := panel.AddAccount(ctx, acct, home, id, id); err != nil {
			return nil, err
		}
		for u := range o.usersPer {
			folder := fmt.Sprintf("/site%02d", u+1)
			users = append(users, ftpUser{
				name:     fmt.Sprintf("dev%02d.%s", u+1, acct),
				password: harness.NewPassword(),
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
			errs <- panel.AddFTPUser(ctx, u.name, u.password, "/"+filepath.Base(u.dir), u.account)
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

// start runs `panelftp serve` on free loopback ports and waits until it
// greets FTP clients and its profiler answers.
func (s *server) start(ctx context.Context, o options) error {
	var err error
	if s.passive, err = parsePortRange(o.passivePorts); err != nil {
		return err
	}
	ftpPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	debugPort, err := harness.FreePort()
	if err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ftpPort))
	s.debug = net.JoinHostPort("127.0.0.1", strconv.Itoa(debugPort))
	limit := strconv.Itoa(o.sessions + 50)
	argv := []string{s.bin, "serve", "--data", s.data,
		"--ftp-listen", s.addr, "--panel-listen", "",
		"--passive-ports", o.passivePorts,
		"--max-connections", limit, "--max-per-ip", limit, "--max-per-user", limit,
		"--ban-threshold", "0", "--log-level", o.logLevel, "--debug-listen", s.debug}
	if s.proc, err = harness.Start(argv, nil, s.logPath); err != nil {
		return fmt.Errorf("starting panelftp serve: %w", err)
	}
	profilerUp := func() error { _, err := s.profiler().Goroutines(ctx); return err }
	if err := s.proc.WaitFTP(ctx, s.addr, profilerUp); err != nil {
		return fmt.Errorf("panelftp serve (FTP on %s, profiler on %s): %w", s.addr, s.debug, err)
	}
	return nil
}

func (s *server) profiler() harness.Profiler { return harness.Profiler{Addr: s.debug} }

func (s *server) pid() int { return s.proc.PID() }

// stop sends SIGTERM and waits for a clean exit (SIGKILL after 15 s).
// It returns how the process ended: nil for exit status 0.
func (s *server) stop() error {
	if s.proc == nil {
		return nil
	}
	return s.proc.Stop(15 * time.Second)
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

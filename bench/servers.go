package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// server is one FTP server under test.
type server interface {
	name() string
	// start prepares the server's home and configuration under e.work and
	// runs it on a free loopback port until instance.stop.
	start(ctx context.Context, e *env) (*instance, error)
}

// env is what every server's start needs.
type env struct {
	o      *options
	work   string
	src    *sources
	pass   string   // the test user's password on every server
	sys    *sysUser // the peers' local user; nil when it could not be had
	sysErr error    // why not
	ports  int      // next passive port range (see nextPassive)
	log    io.Writer
}

// maxClientsArg is every server's connection limit: above scenario 9's
// default 10,000 held sessions and their data connections.
const maxClientsArg = "12000"

// nextPassive gives each server its own range of 4,000 passive ports,
// below the kernel's usual ephemeral range (32768 and up) so client
// sockets never hold them. pure-ftpd caps its clients at half its range.
func (e *env) nextPassive() (lo, hi int) {
	lo = 16000 + e.ports*4000
	e.ports++
	return lo, lo + 3999
}

// owner is who owns the homes: the peers' user; as root without peers,
// an unused uid (panelftp acts as its accounts' uid, never as root);
// otherwise the harness.
func (e *env) owner() owner {
	switch {
	case e.sys != nil:
		return owner{e.sys.uid, e.sys.gid}
	case os.Geteuid() == 0:
		return owner{benchUID, benchUID}
	}
	return owner{-1, -1}
}

// benchUID owns the homes when run as root without the peers' user.
const benchUID = 42424

// instance is a running server.
type instance struct {
	name    string
	version string
	notes   string // how it was configured, for the report
	addr    string // control connection address
	user    string
	pass    string
	proc    *process
	// heapProfile, when set, saves a heap profile (panelftp with -pprof).
	heapProfile func()
	debugAddr   string
	sources     atomic.Int64 // client source addresses handed out
}

func (i *instance) stop() { i.proc.stop() }

// process is a server process the harness started, with its log file.
type process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

// startProcess runs argv with its output in logPath, in its own process
// group so its children can be found and ended with it.
func startProcess(argv, extraEnv []string, logPath string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(childEnv(), extraEnv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// childEnv is this process's environment without panelftp's own
// variables, which would override the flags given to it.
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PANELFTP_") && !strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			out = append(out, kv)
		}
	}
	return out
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 5 seconds, and
// kills whatever of its process tree is left (forking daemons' sessions).
func (p *process) stop() {
	tree := processTree(p.pid())
	if !p.exited() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
	for _, pid := range tree[1:] {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// logTail returns the last lines of the process's log.
func (p *process) logTail(lines int) string {
	return tailFile(p.logPath, lines)
}

func tailFile(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// waitReady waits until addr answers with an FTP greeting, failing early
// if the process exits.
func waitReady(ctx context.Context, p *process, addr string, logs ...string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if p.exited() {
			return fmt.Errorf("exited (%v); log:\n%s", p.err, tails(p, logs))
		}
		if c, err := dialFTP(ctx, addr, nil, nil, 2*time.Second); err == nil {
			c.quit()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return fmt.Errorf("not answering on %s after 20s; log:\n%s", addr, tails(p, logs))
}

// tails joins the tail of the process output and of extra log files.
func tails(p *process, logs []string) string {
	out := p.logTail(15)
	for _, l := range logs {
		if t := tailFile(l, 15); t != "" {
			out += "\n--- " + filepath.Base(l) + "\n" + t
		}
	}
	return indent(out)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
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

// runCmd runs a short command and returns its combined output.
func runCmd(ctx context.Context, dir string, extraEnv []string, stdin string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(childEnv(), extraEnv...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, indent(string(out)))
	}
	return string(out), nil
}

// panelServer runs panelftp's binary.
type panelServer struct{ bin, version string }

func (s *panelServer) name() string { return "panelftp" }

func (s *panelServer) start(ctx context.Context, e *env) (*instance, error) {
	dir := filepath.Join(e.work, "panelftp")
	home, data := filepath.Join(dir, "home"), filepath.Join(dir, "data")
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := prepareHome(home, e.o, e.src, e.owner()); err != nil {
		return nil, err
	}
	if _, err := runCmd(ctx, dir, nil, "", s.bin, "init", "--data", data); err != nil {
		return nil, err
	}
	add := []string{s.bin, "account", "add", "bench", "--home", home, "--data", data}
	if o := e.owner(); o.uid >= 0 {
		add = append(add, "--uid", strconv.Itoa(o.uid), "--gid", strconv.Itoa(o.gid))
	}
	if _, err := runCmd(ctx, dir, nil, "", add...); err != nil {
		return nil, err
	}
	const user = "u.bench"
	if _, err := runCmd(ctx, dir, nil, "", s.bin, "ftp", "add", user, e.pass, "/", "bench", "--data", data); err != nil {
		return nil, err
	}
	// With a panel administrator in place, serve does not start by hashing
	// a first-start password: a one-time cost of a new data directory that
	// would otherwise sit in scenario 7's baseline.
	if _, err := runCmd(ctx, dir, nil, "", s.bin, "admin", "add", "admin", "--password", e.pass, "--data", data); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	lo, hi := e.nextPassive()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	argv := []string{s.bin, "serve", "--data", data, "--ftp-listen", addr, "--panel-listen", "",
		"--passive-ports", fmt.Sprintf("%d-%d", lo, hi), "--tls-cert", e.src.cert, "--tls-key", e.src.key,
		"--max-connections", maxClientsArg, "--max-per-ip", maxClientsArg, "--max-per-user", maxClientsArg, "--log-level", "warn"}
	inst := &instance{name: s.name(), version: s.version, addr: addr, user: user, pass: e.pass,
		notes: "serve --max-connections/--max-per-ip/--max-per-user " + maxClientsArg + " --log-level warn, SQLite store"}
	if e.o.pprofDir != "" {
		dport, err := freePort()
		if err != nil {
			return nil, err
		}
		inst.debugAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(dport))
		argv = append(argv, "--debug-listen", inst.debugAddr)
		inst.heapProfile = func() { saveProfile(ctx, inst.debugAddr, "heap", 0, filepath.Join(e.o.pprofDir, "heap-7.pprof")) }
	}
	if inst.proc, err = startProcess(argv, nil, filepath.Join(dir, "serve.log")); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, inst.proc, addr); err != nil {
		return nil, err
	}
	return inst, nil
}

// buildPanelftp builds ./cmd/panelftp of the module holding the current
// directory into dir.
func buildPanelftp(ctx context.Context, dir string) (bin, version string, err error) {
	gomod, err := runCmd(ctx, "", nil, "", "go", "env", "GOMOD")
	if err != nil {
		return "", "", err
	}
	gomod = strings.TrimSpace(gomod)
	if gomod == "" || gomod == os.DevNull {
		return "", "", errors.New("run bench inside the panelftp module (go run ./bench), or give -panelftp")
	}
	root := filepath.Dir(gomod)
	bin = filepath.Join(dir, "panelftp")
	if _, err := runCmd(ctx, root, nil, "", "go", "build", "-o", bin, "./cmd/panelftp"); err != nil {
		return "", "", err
	}
	version = "built from source"
	if rev, err := runCmd(ctx, root, nil, "", "git", "rev-parse", "--short", "HEAD"); err == nil {
		version = "commit " + strings.TrimSpace(rev)
		if st, err := runCmd(ctx, root, nil, "", "git", "--no-optional-locks", "status", "--porcelain"); err == nil && strings.TrimSpace(st) != "" {
			version += " with local changes"
		}
	}
	return bin, version, nil
}

// saveProfile fetches a profile from panelftp's --debug-listen server.
func saveProfile(ctx context.Context, addr, kind string, seconds int, path string) error {
	url := "http://" + addr + "/debug/pprof/" + kind
	if seconds > 0 {
		url += "?seconds=" + strconv.Itoa(seconds)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds+30)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if _, err := io.Copy(w, resp.Body); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Package harness is what the measuring programs (bench, loadtest and
// loadtest/cluster) share to drive a built panelftp server from outside:
// building it, starting and stopping server processes, creating the
// accounts, sub-users and files they serve, sampling the processes in
// /proc, reading panelftp's profiler, and one FTP client that gives the
// caller control over every byte on the wire.
//
// It imports nothing of panelftp: the programs measure the binary as an
// administrator runs it.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a server process the harness started, with its output in a
// log file.
type Process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // from Wait, once done is closed
}

// Start runs argv with extraEnv added to ChildEnv and its output in
// logPath. The process gets its own process group, so its children can
// be found and ended with it, and is killed if the harness dies first,
// so no server outlives the program that measures it.
func Start(argv, extraEnv []string, logPath string) (*Process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(ChildEnv(), extraEnv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &Process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// LogPath is the file holding the process's output.
func (p *Process) LogPath() string { return p.logPath }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (nil for exit status 0); only meaningful
// once it has.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Stop ends the process with SIGTERM, then SIGKILL after grace, and
// kills whatever of its process tree is left (a forking daemon's
// sessions). It returns how the process ended: nil for exit status 0.
func (p *Process) Stop(grace time.Duration) error {
	tree := ProcessTree(p.PID())
	var killed error
	if !p.Exited() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			p.cmd.Process.Kill()
			<-p.done
			killed = fmt.Errorf("did not stop within %v of SIGTERM; killed", grace)
		}
	}
	for _, pid := range tree[1:] {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if killed != nil {
		return killed
	}
	return p.err
}

// LogTail returns the last lines of the process's output.
func (p *Process) LogTail(lines int) string { return TailFile(p.logPath, lines) }

// ReadyTimeout bounds how long a server may take to greet its first
// client: generous, as twenty of them may start at once on a busy machine.
const ReadyTimeout = 60 * time.Second

// WaitFTP waits until addr answers with an FTP greeting and ready (when
// not nil) succeeds, failing early if the process exits and after
// ReadyTimeout.
func (p *Process) WaitFTP(ctx context.Context, addr string, ready func() error) error {
	deadline := time.Now().Add(ReadyTimeout)
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("exited at start (%v)", p.err)
		}
		if c, err := Dial(ctx, addr, nil, nil, 2*time.Second); err == nil {
			c.Quit()
			if ready == nil || ready() == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("not ready on %s after %v", addr, ReadyTimeout)
}

// ChildEnv is this process's environment for a server or command the
// harness runs: without panelftp's own variables, which would override
// the flags given to it, without LD_LIBRARY_PATH (a peer gets its own),
// and with no environment file, so an installed package's settings do
// not apply either.
func ChildEnv() []string {
	out := []string{"PANELFTP_ENV_FILE=" + os.DevNull}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PANELFTP_") && !strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			out = append(out, kv)
		}
	}
	return out
}

// TailFile returns the last lines of a file ("" when unreadable).
func TailFile(path string, lines int) string {
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

// Indent indents every line of s by four spaces, for output nested in
// an error.
func Indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Run runs a short command in dir with extraEnv added to ChildEnv and
// stdin as its input, and returns its combined output. It is bounded by
// ten minutes (a build on a loaded machine).
func Run(ctx context.Context, dir string, extraEnv []string, stdin string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(ChildEnv(), extraEnv...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, Indent(string(out)))
	}
	return string(out), nil
}

// Build builds ./cmd/panelftp of the module holding the current
// directory into dir, with the race detector when race is set. version
// names the commit it was built from.
func Build(ctx context.Context, dir string, race bool) (bin, version string, err error) {
	gomod, err := Run(ctx, "", nil, "", "go", "env", "GOMOD")
	if err != nil {
		return "", "", err
	}
	gomod = strings.TrimSpace(gomod)
	if gomod == "" || gomod == os.DevNull {
		return "", "", errors.New("not inside the panelftp module: run from its checkout, or give a panelftp binary")
	}
	root := filepath.Dir(gomod)
	bin = filepath.Join(dir, "panelftp")
	args := []string{"go", "build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	if _, err := Run(ctx, root, nil, "", append(args, "./cmd/panelftp")...); err != nil {
		return "", "", err
	}
	version = "built from source"
	if rev, err := Run(ctx, root, nil, "", "git", "rev-parse", "--short", "HEAD"); err == nil {
		version = "commit " + strings.TrimSpace(rev)
		if st, err := Run(ctx, root, nil, "", "git", "--no-optional-locks", "status", "--porcelain"); err == nil && strings.TrimSpace(st) != "" {
			version += " with local changes"
		}
	}
	return bin, version, nil
}

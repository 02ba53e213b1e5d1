package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests drive the real binary, built once for the package: what a
// command does is tested in process by internal/cli; here, what only the
// program shows (serve, signals, its choice of store, its environment
// file).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "panelftp-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "panelftp")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("building panelftp: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary against one data directory.
type cli struct {
	t    *testing.T
	data string
	env  []string
}

// newCLI runs the binary against a new SQLite database of its own (made
// with panelftp init, as the CLI does not create one itself).
func newCLI(t *testing.T) *cli {
	c := bareCLI(t)
	c.ok("init")
	return c
}

// bareCLI runs commands against a fresh, empty data directory.
// PANELFTP_ENV_FILE keeps the tests off an installed package's
// /etc/panelftp/panelftp.env.
func bareCLI(t *testing.T) *cli {
	return &cli{t: t, data: t.TempDir(), env: []string{"PATH=" + os.Getenv("PATH"), "PANELFTP_ENV_FILE=/dev/null"}}
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) runStdin(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = slices.Clone(c.env)
	if c.data != "" {
		cmd.Env = append(cmd.Env, "PANELFTP_DATA="+c.data)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func (c *cli) run(args ...string) result { c.t.Helper(); return c.runStdin("", args...) }

// ok runs a command that must succeed.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("panelftp %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

const goodPassword = "Str0ng!Pass"

// ownerFlags give a test account its own uid and gid when the tests run
// as root, where an account may not act as root by default.
func ownerFlags() []string {
	if os.Geteuid() != 0 {
		return nil
	}
	return []string{"--uid", "4242", "--gid", "4242"}
}

func TestCLIVersion(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	want := regexp.MustCompile(`^panelftp \S+ \(commit [^,]+, ` + regexp.QuoteMeta(runtime.Version()) + ` \S+/\S+\)\n$`)
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		if out := c.ok(args...); !want.MatchString(out) {
			t.Errorf("panelftp %s printed %q, want the version, commit and Go version on one line", args[0], out)
		}
	}
	// It needs no data directory, database or environment file.
	c.env = append(c.env, "PANELFTP_ENV_FILE=/nonexistent/dir/and/file", "PANELFTP_DB=postgres://nowhere.invalid/x")
	line := strings.TrimSpace(c.ok("version"))

	// serve logs it when it starts.
	s := startServer(t)
	s.stop()
	if !strings.Contains(s.logs.String(), `msg="panelftp started" version="`+line+`"`) {
		t.Errorf("serve's start line does not name the version %q:\n%s", line, s.logs.String())
	}
}

// TestServeRefusesToStart: a bad setting or a busy port stops serve
// before it runs, with a message that names what to change, whichever
// part fails (the panel starts after the FTP service has bound its port).
func TestServeRefusesToStart(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	base := []string{"serve", "--ftp-listen", "127.0.0.1:0", "--panel-listen", "127.0.0.1:0", "--passive-ports", "30000-30010"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--passive-ports", "80-90"}, "--passive-ports"},
		{[]string{"--ban-safe-list", "10.0.0.0/33"}, "--ban-safe-list"},
		{[]string{"--upload-mode", "fast"}, `--upload-mode "fast": use atomic or direct`},
		{[]string{"--panel-trusted-proxies", "10.0.0.0/8,proxy.example"}, `--panel-trusted-proxies: "proxy.example" is not an IP address or network`},
		{[]string{"--panel-listen", busy.Addr().String()}, "web panel cannot listen on " + busy.Addr().String()},
		{[]string{"--ftp-listen", busy.Addr().String()}, "FTP service cannot listen on " + busy.Addr().String()},
	} {
		// A serve that does start would run until killed.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, binary, append(slices.Clone(base), tt.args...)...)
		cmd.Env = append(os.Environ(), "PANELFTP_DATA="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if err == nil || timedOut || !strings.Contains(stderr.String(), tt.want) || strings.Contains(stderr.String(), "panic") {
			t.Errorf("serve %v: %v, stderr %q; want a refusal naming %q", tt.args, err, stderr.String(), tt.want)
		}
		if strings.Contains(stderr.String(), "admin added") {
			t.Errorf("serve %v created the first admin before refusing to start", tt.args)
		}
	}
}

// TestCLIReadsTheEnvironmentFile: the program reads the environment file
// PANELFTP_ENV_FILE names (the CLI's own tests cover what it does with
// it): its data directory is the one the commands use.
func TestCLIReadsTheEnvironmentFile(t *testing.T) {
	t.Parallel()
	fromFile := newCLI(t).data
	envFile := filepath.Join(t.TempDir(), "panelftp.env")
	writeFile(t, envFile, []byte("PANELFTP_DATA="+fromFile+"\n"))
	c := &cli{t: t, env: []string{"PATH=" + os.Getenv("PATH"), "PANELFTP_ENV_FILE=" + envFile}}
	c.ok(append([]string{"account", "add", "acme", "--home", filepath.Join(t.TempDir(), "acme")}, ownerFlags()...)...)
	if out := bareCLI(t).ok("account", "list", "--data", fromFile); !strings.Contains(out, "acme") {
		t.Errorf("the account added with the file's data directory is not there: %q", out)
	}
}

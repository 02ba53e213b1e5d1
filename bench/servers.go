package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
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
	proc    *harness.Process
	// heapProfile, when set, saves a heap profile (panelftp with -pprof).
	heapProfile func()
	debugAddr   string
	sources     atomic.Int64 // client source addresses handed out
}

// stopGrace is how long a server has to stop after SIGTERM.
const stopGrace = 5 * time.Second

func (i *instance) stop() { i.proc.Stop(stopGrace) }

// waitReady waits until addr answers with an FTP greeting; on failure it
// stops the process and says why with the tails of its logs.
func waitReady(ctx context.Context, p *harness.Process, addr string, logs ...string) error {
	if err := p.WaitFTP(ctx, addr, nil); err != nil {
		p.Stop(stopGrace)
		return fmt.Errorf("%w; log:\n%s", err, tails(p, logs))
	}
	return nil
}

// tails joins the tail of the process output and of extra log files.
func tails(p *harness.Process, logs []string) string {
	out := p.LogTail(15)
	for _, l := range logs {
		if t := harness.TailFile(l, 15); t != "" {
			out += "\n--- " + filepath.Base(l) + "\n" + t
		}
	}
	return harness.Indent(out)
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
	panel := harness.Panel{Bin: s.bin, Data: data}
	if err := panel.Init(ctx); err != nil {
		return nil, err
	}
	o := e.owner()
	if err := panel.AddAccount(ctx, "bench", home, o.uid, o.gid); err != nil {
		return nil, err
	}
	const user = "u.bench"
	if err := panel.AddFTPUser(ctx, user, e.pass, "/", "bench"); err != nil {
		return nil, err
	}
	// With a panel administrator in place, serve does not start by hashing
	// a first-start password: a one-time cost of a new data directory that
	// would otherwise sit in scenario 7's baseline.
	if err := panel.AddAdmin(ctx, "admin", e.pass); err != nil {
		return nil, err
	}
	port, err := harness.FreePort()
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
		dport, err := harness.FreePort()
		if err != nil {
			return nil, err
		}
		inst.debugAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(dport))
		argv = append(argv, "--debug-listen", inst.debugAddr)
		inst.heapProfile = func() {
			harness.Profiler{Addr: inst.debugAddr}.Save(ctx, "heap", 0, filepath.Join(e.o.pprofDir, "heap-7.pprof"))
		}
	}
	if inst.proc, err = harness.Start(argv, nil, filepath.Join(dir, "serve.log")); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, inst.proc, addr); err != nil {
		return nil, err
	}
	return inst, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// loadTest owns one load test's work directory and server.
type loadTest struct {
	o     options
	out   io.Writer
	seed  uint64
	work  string
	srv   *server
	users []ftpUser
}

func newLoadTest(o options, out io.Writer) (*loadTest, error) {
	work, err := os.MkdirTemp("", "panelftp-loadtest-")
	if err != nil {
		return nil, err
	}
	seed := o.seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	srv := &server{
		data:    filepath.Join(work, "data"),
		homes:   filepath.Join(work, "homes"),
		logPath: filepath.Join(work, "server.log"),
	}
	return &loadTest{o: o, out: out, seed: seed, work: work, srv: srv}, nil
}

// prepare builds (or takes) the server binary, creates the accounts and
// sub-users with the CLI and starts the server.
func (h *loadTest) prepare(ctx context.Context) error {
	t0 := time.Now()
	h.srv.bin = h.o.serverBin
	if h.srv.bin == "" {
		bin, _, err := harness.Build(ctx, h.work, h.o.race)
		if err != nil {
			return err
		}
		h.srv.bin = bin
		fmt.Fprintf(h.out, "built panelftp in %.1fs\n", time.Since(t0).Seconds())
	}
	t1 := time.Now()
	users, err := h.srv.addUsers(ctx, h.o)
	if err != nil {
		return err
	}
	h.users = users
	fmt.Fprintf(h.out, "created %d accounts with %d FTP sub-users in %.1fs\n",
		h.o.accounts, len(users), time.Since(t1).Seconds())
	if err := h.srv.start(ctx, h.o); err != nil {
		return err
	}
	fmt.Fprintf(h.out, "panelftp serve: pid %d, FTP on %s, profiler on %s, passive ports %s\n",
		h.srv.pid(), h.srv.addr, h.srv.debug, h.o.passivePorts)
	return nil
}

// cleanup stops the server if it still runs and removes the work
// directory unless -keep.
func (h *loadTest) cleanup() {
	if h.srv.proc != nil && !h.srv.proc.Exited() {
		h.srv.stop()
	}
	if h.o.keep {
		fmt.Fprintf(h.out, "work directory kept: %s\n", h.work)
		return
	}
	os.RemoveAll(h.work)
}

// showServerLog prints the end of the server's log after a failure.
func (h *loadTest) showServerLog() {
	b, err := os.ReadFile(h.srv.logPath)
	if err != nil || len(b) == 0 {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	fmt.Fprintf(h.out, "\nlast %d lines of the server log:\n  %s\n", len(lines), strings.Join(lines, "\n  "))
}

// load runs the sessions and every check after them.
func (h *loadTest) load(ctx context.Context) *report {
	rep := &report{o: h.o, seed: h.seed, users: len(h.users), machine: thisMachine()}
	time.Sleep(time.Second) // let the start settle
	rep.before = h.srv.snapshot(true)
	rep.fdsBefore = h.srv.fdKinds()
	srvCPU, cliCPU := harness.TreeCPU(h.srv.pid()), harness.SelfCPU()

	env := &sessionEnv{o: h.o, addr: h.srv.addr, errs: &errorLog{start: time.Now()}, prog: &progress{}}
	sessions := make([]*session, h.o.sessions)
	for i := range sessions {
		sessions[i] = newSession(i, env, h.users[i%len(h.users)], h.seed)
	}
	fmt.Fprintf(h.out, "running %d sessions for %s (seed %d)\n", len(sessions), h.o.duration, h.seed)
	watch := watchPeak(h.srv)
	start := time.Now()
	env.deadline = start.Add(h.o.duration)
	rep.hung = h.runSessions(ctx, env, sessions, start)
	rep.elapsed = time.Since(start)
	rep.peak = watch.finish()
	rep.srvCPU = harness.TreeCPU(h.srv.pid()) - srvCPU
	rep.cliCPU = harness.SelfCPU() - cliCPU
	rep.after = h.srv.snapshot(false)

	// A session that did not return even after its connections were
	// closed is still running: leave its counts and files alone.
	var done []*session
	var skip []string
	for _, s := range sessions {
		if !s.finished.Load() {
			skip = append(skip, filepath.Join(s.user.dir, s.dir))
			continue
		}
		done = append(done, s)
		rep.total.add(&s.t)
		if s.logins == 0 {
			rep.neverIn++
		}
	}
	rep.errCount, rep.errs = env.errs.snapshot()

	h.sleep(ctx, h.o.idle)
	rep.idle = h.srv.snapshot(false)
	rep.idleGC = h.afterGC(ctx, rep.before)
	rep.fdsAfter = h.srv.fdKinds()
	rep.verify = verifyHomes(h.srv.homes, h.users, done, skip)
	rep.alive = checkAlive(ctx, h.srv.addr, h.users[0])
	rep.stopErr = h.srv.stop()
	rep.log = h.srv.logFindings()
	return rep
}

// runSessions runs every session and waits for them, printing progress
// every 10 s. Sessions still running well past the duration are killed;
// it returns how many there were.
func (h *loadTest) runSessions(ctx context.Context, env *sessionEnv, sessions []*session, start time.Time) int {
	var wg sync.WaitGroup
	for i, s := range sessions {
		at := start.Add(h.o.ramp * time.Duration(i) / time.Duration(len(sessions)))
		wg.Go(func() { s.run(ctx, at) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	hard := time.NewTimer(h.o.duration + h.o.opTimeout + 15*time.Second)
	defer hard.Stop()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return 0
		case <-tick.C:
			h.printProgress(env.prog, start)
		case <-hard.C:
			return h.killHung(sessions, done)
		}
	}
}

// killHung closes the connections of sessions that are still running
// and waits a little for them; it returns how many were still running.
func (h *loadTest) killHung(sessions []*session, done chan struct{}) int {
	hung := 0
	for _, s := range sessions {
		if !s.finished.Load() {
			hung++
			s.kill()
		}
	}
	fmt.Fprintf(h.out, "%d sessions still running past the duration and every deadline: their connections were closed\n", hung)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(h.out, "some sessions did not return even then; going on without them")
	}
	return hung
}

func (h *loadTest) printProgress(p *progress, start time.Time) {
	rss, _ := harness.StatusKiB(h.srv.pid(), "VmRSS:")
	fmt.Fprintf(h.out, "  %4.0fs  logged in %d  operations %d  errors %d  up %s  down %s  server RSS %s  fds %d\n",
		time.Since(start).Seconds(), p.live.Load(), p.ops.Load(), p.errs.Load(),
		mib(p.up.Load()), mib(p.down.Load()), mib(rss<<10), harness.CountFDs(h.srv.pid()))
}

func (h *loadTest) sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// afterGC makes the server collect garbage, gives its scavenger a moment
// to return the freed memory, and samples again: what is left is what
// the server really holds.
//
// Two collections, because sync.Pool keeps its contents through one (Go's
// cache of splice pipes, for one, is closed by finalizers once dropped).
//
// On a loaded machine the last connections and goroutines may still be
// closing: while goroutines, descriptors, passive ports or the heap are
// not back within their slack of before, it collects and samples again,
// for up to settleTime. The checks then judge the last sample, so a
// leak still fails, only later.
func (h *loadTest) afterGC(ctx context.Context, before sample) sample {
	deadline := time.Now().Add(settleTime)
	for {
		h.srv.snapshot(true)
		h.sleep(ctx, time.Second)
		sm := h.srv.snapshot(true)
		h.sleep(ctx, time.Second)
		later := h.srv.snapshot(false)
		later.heapInuse = sm.heapInuse
		if settled(later, before) || time.Now().After(deadline) || ctx.Err() != nil {
			return later
		}
	}
}

// settleTime bounds afterGC's wait for the server to come back to its
// baseline.
const settleTime = 30 * time.Second

// settled reports whether gc is back to before as the report's checks
// judge it (RSS aside, which the runtime returns at its own pace).
func settled(gc, before sample) bool {
	return within(gc.goroutines, before.goroutines, goroutineSlack) &&
		within(gc.otherFDs(), before.otherFDs(), fdSlack) &&
		gc.passiveFDs == 0 && near(gc.heapInuse, before.heapInuse, heapSlack)
}

// checkAlive logs in as u, lists its folder and quits: the server still
// answers a new client after the load. The whole check has 30 s, so a
// server that stopped answering fails it instead of hanging it.
func checkAlive(ctx context.Context, addr string, u ftpUser) error {
	c, err := harness.Dial(ctx, addr, nil, nil, 10*time.Second)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Quit()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := c.Login(u.name, u.password); err != nil {
		return fmt.Errorf("log-in as %s: %w", u.name, err)
	}
	if _, err := c.Entries(ctx, "MLSD", "/"); err != nil {
		return fmt.Errorf("MLSD /: %w", err)
	}
	return c.NoOp()
}

// machine describes where the load test ran, for the report.
type machine struct {
	harness.Machine
	loadAvg string // 1, 5 and 15 minute load averages at the start
	date    time.Time
}

func thisMachine() machine {
	return machine{Machine: harness.ThisMachine(), loadAvg: harness.LoadAverage(), date: time.Now().UTC()}
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// cell is one figure of one server.
type cell struct {
	value  float64
	detail string
	use    harness.Usage // CPU during the measurement, when sampled
	err    string        // the measurement failed
	na     string        // the scenario does not apply to this server
}

// serverInfo is what the report says about a server.
type serverInfo struct {
	name, version, notes string
	skipped              string // why it did not run
}

// results is everything a run measured.
type results struct {
	o        *options
	started  time.Time
	took     time.Duration
	machine  machine
	loopback *cell
	servers  []serverInfo
	cells    map[string]map[string]*cell // metric id → server → figure
}

func (r *results) set(metricID, server string, c *cell) {
	if r.cells[metricID] == nil {
		r.cells[metricID] = map[string]*cell{}
	}
	r.cells[metricID][server] = c
}

func (r *results) get(metricID, server string) *cell { return r.cells[metricID][server] }

// failures counts panelftp's failed measurements (a peer's failure is
// one of its figures) and whether panelftp or the loopback limit failed.
func (r *results) failures() int {
	n := 0
	for _, byServer := range r.cells {
		if c := byServer["panelftp"]; c != nil && c.err != "" {
			n++
		}
	}
	if r.loopback != nil && r.loopback.err != "" {
		n++
	}
	for _, s := range r.servers {
		if s.name == "panelftp" && s.skipped != "" {
			n++
		}
	}
	return n
}

// benchmark prepares the files, measures the loopback limit, starts every
// server, then runs each scenario on every server in turn.
func benchmark(ctx context.Context, o *options, log io.Writer) (*results, error) {
	res := &results{o: o, started: time.Now(), cells: map[string]map[string]*cell{}, machine: machine{Machine: harness.ThisMachine()}}
	res.machine.loadStart = harness.LoadAverage()
	if res.machine.busy() {
		fmt.Fprintf(log, "warning: the machine is busy (load average %s on %d cores): the figures will be noisy\n",
			res.machine.loadStart, res.machine.Cores)
	}
	e, cleanup, err := prepare(ctx, o, log)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if res.loopback, err = loopbackLimit(ctx, o, e.src); err != nil {
		res.loopback = &cell{err: err.Error()}
	}
	fmt.Fprintf(log, "loopback limit: %s\n", formatCell(metricLoopback, res.loopback))
	panel := &panelServer{bin: o.panelftp, version: "given binary"}
	if panel.bin == "" {
		fmt.Fprintln(log, "building panelftp")
		if panel.bin, panel.version, err = harness.Build(ctx, filepath.Join(e.work, "bin"), false); err != nil {
			return nil, err
		}
	}
	servers := []server{panel}
	for _, p := range o.peers {
		servers = append(servers, peers[p])
	}
	live := startServers(ctx, servers, e, res)
	defer func() {
		for _, t := range live {
			t.inst.stop()
		}
	}()
	// Scenario by scenario, every server in turn: each figure of all the
	// servers is measured within a short time, so the drift of a shared
	// machine hits them alike.
	for _, n := range scenarioOrder(o.scenarios) {
		for _, t := range live {
			if ctx.Err() != nil {
				break
			}
			if n != 7 && t.listCmd == "" {
				// After scenario 7, whose baseline is a server before any log-in.
				t.listCmd = listCommand(ctx, t)
			}
			runScenario(ctx, n, t, res, log)
		}
	}
	res.took = time.Since(res.started)
	res.machine.loadEnd = harness.LoadAverage()
	return res, ctx.Err()
}

// prepare makes the working directory, the peers' local user and the
// files every server serves; cleanup removes the directory unless -keep.
func prepare(ctx context.Context, o *options, log io.Writer) (e *env, cleanup func(), err error) {
	work, err := workDir(o)
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { os.RemoveAll(work) }
	if o.keep {
		cleanup = func() {}
		fmt.Fprintf(log, "working directory: %s\n", work)
	}
	if o.pprofDir != "" {
		if err := os.MkdirAll(o.pprofDir, 0o755); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	e = &env{o: o, work: work, pass: harness.NewPassword(), log: log}
	if len(o.peers) > 0 {
		e.sys, e.sysErr = ensureSysUser(ctx, e.pass)
	}
	fmt.Fprintf(log, "preparing files (%s big file) in %s\n", harness.FormatSize(o.size), work)
	if e.src, err = makeSources(filepath.Join(work, "src"), o); err != nil {
		cleanup()
		return nil, nil, err
	}
	return e, cleanup, nil
}

func workDir(o *options) (string, error) {
	dir := o.work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "panelftp-bench-"); err != nil {
			return "", err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// The servers drop privileges after chroot; the homes' parents must be
	// traversable by their user.
	return dir, os.Chmod(dir, 0o755)
}

// scenarioOrder runs scenario 7 first, on a freshly started server, so its
// baseline is not inflated by what earlier scenarios left in memory.
func scenarioOrder(chosen map[int]bool) []int {
	var order []int
	for n := range chosen {
		order = append(order, n)
	}
	sort.Slice(order, func(i, j int) bool {
		if (order[i] == 7) != (order[j] == 7) {
			return order[i] == 7
		}
		return order[i] < order[j]
	})
	return order
}

// startServers starts every server that can run and records each in res.
func startServers(ctx context.Context, servers []server, e *env, res *results) []*target {
	var live []*target
	for _, s := range servers {
		if _, isPeer := s.(*peer); isPeer && e.sysErr != nil {
			res.servers = append(res.servers, serverInfo{name: s.name(), skipped: e.sysErr.Error()})
			fmt.Fprintf(e.log, "%s: skipped: %v\n", s.name(), e.sysErr)
			continue
		}
		t, info := startServer(ctx, s, e)
		res.servers = append(res.servers, info)
		if t != nil {
			live = append(live, t)
		}
	}
	return live
}

// startServer starts one server, or says why it could not.
func startServer(ctx context.Context, s server, e *env) (*target, serverInfo) {
	info := serverInfo{name: s.name()}
	fmt.Fprintf(e.log, "%s: starting\n", s.name())
	inst, err := s.start(ctx, e)
	if err != nil {
		info.skipped = err.Error()
		fmt.Fprintf(e.log, "%s: skipped: %v\n", s.name(), err)
		return nil, info
	}
	info.version, info.notes = inst.version, inst.notes
	return &target{inst: inst, o: e.o, src: e.src}, info
}

// listCommand is MLSD when the server lists MLST in FEAT, else LIST.
func listCommand(ctx context.Context, t *target) string {
	c, err := t.session(ctx)
	if err != nil {
		return "LIST"
	}
	defer c.Quit()
	if c.HasFeature("MLST") {
		return "MLSD"
	}
	return "LIST"
}

// runScenario runs one scenario, records its figures and prints them.
func runScenario(ctx context.Context, n int, t *target, res *results, log io.Writer) {
	name := t.inst.name
	var cells map[string]*cell
	var err error
	if t.inst.proc.Exited() {
		err = fmt.Errorf("server exited; log:\n%s", harness.Indent(t.inst.proc.LogTail(15)))
	} else {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		stopProfile := startProfile(sctx, t, n, log)
		cells, err = scenarios[n](sctx, t)
		stopProfile()
		cancel()
	}
	for _, m := range metrics {
		if m.scenario != n {
			continue
		}
		c := cells[m.id]
		switch {
		case c != nil:
		case err != nil:
			c = &cell{err: oneLine(err.Error())}
		default:
			c = &cell{err: "no figure"}
		}
		res.set(m.id, name, c)
		fmt.Fprintf(log, "%-9s %-3s %-34s %s\n", name, m.id, m.title, formatCell(m, c))
	}
}

// startProfile takes a CPU profile of panelftp while scenario n runs,
// when -pprof is given; the returned func waits for it.
func startProfile(ctx context.Context, t *target, n int, log io.Writer) func() {
	if t.o.pprofDir == "" || t.inst.debugAddr == "" {
		return func() {}
	}
	done := make(chan struct{})
	path := filepath.Join(t.o.pprofDir, fmt.Sprintf("cpu-%d.pprof", n))
	go func() {
		defer close(done)
		prof := harness.Profiler{Addr: t.inst.debugAddr}
		if err := prof.Save(ctx, "profile", int(t.o.pprofWindow.Seconds()), path); err != nil {
			fmt.Fprintf(log, "profile of scenario %d: %v\n", n, err)
		}
	}()
	return func() { <-done }
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

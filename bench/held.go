package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// heldSessions is scenario 9: -held logged-in sessions on one server
// while -held-busy of them download the client file over and over. The
// other sessions probe the server with NOOP, one at a time on each of a
// few probing goroutines, for -held-time; the figures are the 99th
// percentile of a NOOP's round trip (9a) and the memory of the server's
// processes per held session (9b). A server that cannot hold that many
// sessions fails the scenario with the number it held.
func heldSessions(ctx context.Context, t *target) (map[string]*cell, error) {
	n, busy := t.o.held, t.o.heldBusy
	if busy >= n {
		return nil, fmt.Errorf("scenario 9 needs more sessions (-held %d) than transfers (-held-busy %d)", n, busy)
	}
	sleep(ctx, t.o.settle)
	base := harness.TreeMemory(t.pid())
	began := time.Now()
	var open []*harness.Client
	defer func() { closeSessions(open) }()
	for len(open) < n {
		if err := memoryLeft(); err != nil {
			return nil, fmt.Errorf("stopped at %d of %d sessions: %w", len(open), n, err)
		}
		more, err := openSessionsAt(ctx, t, min(heldBatch, n-len(open)), heldParallel)
		open = append(open, more...)
		if err != nil {
			return nil, fmt.Errorf("held %d of %d sessions: %w", len(open), n, err)
		}
	}
	opened := time.Since(began)

	ctx, stop := context.WithTimeout(ctx, t.o.heldTime)
	defer stop()
	var moved atomic.Int64
	transferErrs := make([]error, busy)
	var wg sync.WaitGroup
	for i, c := range open[:busy] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			transferErrs[i] = keepDownloading(ctx, t, c, &moved)
		}()
	}
	m := harness.StartCPU(t.pid())
	rtts, probeErr := probe(ctx, open[busy:])
	during := harness.TreeMemory(t.pid())
	wg.Wait()
	u := m.Stop()
	if err := errors.Join(probeErr, firstError(transferErrs)); err != nil {
		return nil, err
	}
	if len(rtts) == 0 {
		return nil, errors.New("no NOOP was answered")
	}
	slices.Sort(rtts)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p99, p50 := rtts[(len(rtts)*99+99)/100-1], rtts[(len(rtts)-1)/2]
	rate := mib(moved.Load()) / u.Wall.Seconds()
	latency := fmt.Sprintf("p50 %.1f ms over %d NOOPs; %d transfers moved %.0f MiB/s; %d sessions opened in %s",
		ms(p50), len(rtts), busy, rate, n, roundDuration(opened))
	memory := fmt.Sprintf("RSS %s → %s with %d sessions, %d → %d processes",
		formatMiB(base.RSS), formatMiB(during.RSS), n, base.Procs, during.Procs)
	return map[string]*cell{
		"9a": {value: ms(p99), use: u, detail: latency},
		"9b": {value: float64(during.RSS-base.RSS) / float64(n) / 1024, detail: memory},
	}, nil
}

// heldParallel is how many log-ins scenario 9 runs at once while it opens
// its sessions.
const heldParallel = 32

// heldBatch is how many sessions scenario 9 opens between two checks of
// the machine's free memory: a server forking a process per session may
// need gigabytes for 10,000 of them.
const heldBatch = 500

// memoryFloor is the memory scenario 9 leaves to the machine: below it,
// the scenario stops opening sessions and fails with the count it held,
// rather than letting the kernel kill processes.
const memoryFloor = 2 << 30

// memoryLeft fails when less than memoryFloor bytes are available.
func memoryLeft() error {
	avail, ok := harness.KiBField("/proc/meminfo", "MemAvailable:")
	if ok && avail<<10 < memoryFloor {
		return fmt.Errorf("only %s of memory left", formatMiB(avail<<10))
	}
	return nil
}

// probers is how many NOOPs are in flight at once during scenario 9.
const probers = 4

// keepDownloading downloads the client file on c until ctx ends, adding
// the bytes to moved. The end of ctx is not an error.
func keepDownloading(ctx context.Context, t *target, c *harness.Client, moved *atomic.Int64) error {
	if err := c.Binary(); err != nil {
		return err
	}
	buf := make([]byte, 256<<10)
	for ctx.Err() == nil {
		n, err := c.Retr(ctx, clientFile, buf, nil)
		moved.Add(n)
		if err != nil {
			if over(ctx) {
				return nil // cut off by the end of the scenario
			}
			return err
		}
		if n != int64(t.o.clientSize) {
			return fmt.Errorf("downloaded %d bytes of %d", n, t.o.clientSize)
		}
	}
	return nil
}

// over reports whether ctx has ended or reached its deadline: a dial
// bounded by the deadline can fail a moment before ctx says it is done.
func over(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && !time.Now().Before(dl))
}

// probe sends NOOPs round the idle sessions until ctx ends and returns
// each round trip. Each of the probers owns every probers-th session, so
// no session ever has two commands in flight.
func probe(ctx context.Context, idle []*harness.Client) ([]time.Duration, error) {
	var (
		mu   sync.Mutex
		rtts []time.Duration
	)
	errs := make([]error, probers)
	var wg sync.WaitGroup
	for p := range min(probers, len(idle)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := p; ctx.Err() == nil; i += probers {
				if i >= len(idle) {
					i = p
				}
				t0 := time.Now()
				if _, err := idle[i].Cmd(200, "NOOP"); err != nil {
					errs[p] = err
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			rtts = append(rtts, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return rtts, firstError(errs)
}

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// How far above the baseline the server may stay once the sessions are
// gone and still count as back to it. Goroutines and descriptors must come
// back almost exactly (the database connection pool may keep one
// connection more than at the start: a few descriptors). Memory is judged
// after a forced collection, since an idle Go program collects only every
// 2 minutes: a leak would hold heap in use in proportion to the sessions
// and operations, tens or hundreds of MiB here, so a few MiB of caches
// and runtime state are allowed, and RSS gets a margin for what the
// runtime keeps for reuse.
const (
	goroutineSlack = 5
	fdSlack        = 4
	heapSlack      = 16 << 20
	rssSlack       = 32 << 20
)

// report is everything one load test measured and checked.
type report struct {
	o        options
	machine  machine
	seed     uint64
	users    int
	elapsed  time.Duration
	total    tally
	errCount int
	errs     []string
	hung     int // sessions killed past every deadline
	neverIn  int // sessions that never logged in

	before, peak, after, idle, idleGC sample
	fdsBefore, fdsAfter               map[string]int // descriptors by kind, at the baseline and after a GC
	srvCPU, cliCPU                    time.Duration

	verify  verifyResult
	alive   error
	stopErr error
	log     logSummary
}

// check is one line of the verdict; a note is printed but does not
// decide it.
type check struct {
	ok   bool
	what string
	note bool
}

func (r *report) checks() []check {
	t, v := &r.total, &r.verify
	before, gc := r.before, r.idleGC
	return []check{{
		ok:   r.errCount == 0 && t.errors() == 0,
		what: fmt.Sprintf("no failed operation (%d)", r.errCount),
	}, {
		ok:   r.hung == 0 && r.neverIn == 0,
		what: fmt.Sprintf("every session logged in and ended on time (%d never logged in, %d hung)", r.neverIn, r.hung),
	}, {
		ok: v.ok(),
		what: fmt.Sprintf("files on disk: %d verified by SHA-256, %d lost, %d corrupted, %d unexpected",
			v.files, v.lost, v.corrupted, v.unexpected),
	}, {
		ok:   r.alive == nil,
		what: "the server still answers a new log-in and listing" + errSuffix(r.alive),
	}, {
		ok: within(gc.goroutines, before.goroutines, goroutineSlack),
		what: fmt.Sprintf("goroutines back to baseline after idle and a GC: %d vs %d (+%d allowed)",
			gc.goroutines, before.goroutines, goroutineSlack),
	}, {
		ok: within(gc.otherFDs(), before.otherFDs(), fdSlack),
		what: fmt.Sprintf("open descriptors back to baseline after idle and a GC, SQLite files aside: %d vs %d (+%d allowed)",
			gc.otherFDs(), before.otherFDs(), fdSlack),
	}, {
		ok:   gc.dbFDs >= 0 && gc.dbFDs <= dbFDMax,
		what: fmt.Sprintf("SQLite descriptors within the connection pool's bound: %d (at most %d)", gc.dbFDs, dbFDMax),
	}, {
		ok:   gc.passiveFDs == 0,
		what: fmt.Sprintf("passive ports all released once the sessions are gone: %d still listening", gc.passiveFDs),
	}, {
		ok: near(gc.heapInuse, before.heapInuse, heapSlack),
		what: fmt.Sprintf("Go heap in use back to baseline once collected: %s vs %s (+%s allowed)",
			mib(gc.heapInuse), mib(before.heapInuse), mib(heapSlack)),
	}, {
		// The race detector keeps its shadow memory: RSS says nothing then.
		ok: near(gc.rss, before.rss, rssSlack), note: r.o.race,
		what: fmt.Sprintf("RSS back to baseline once collected: %s vs %s (+%s allowed)%s",
			mib(gc.rss), mib(before.rss), mib(rssSlack), raceNote(r.o.race)),
	}, {
		ok: near(r.idle.rss, before.rss, rssSlack), note: true,
		what: fmt.Sprintf("RSS after %s idle, before any forced GC: %s vs %s (an idle Go heap is collected only every 2 minutes)",
			r.o.idle, mib(r.idle.rss), mib(before.rss)),
	}, {
		ok:   r.stopErr == nil,
		what: "the server stopped cleanly on SIGTERM" + errSuffix(r.stopErr),
	}, {
		ok:   r.log.errs == 0,
		what: fmt.Sprintf("no error, panic or race report in the server log (%d; %d warnings)", r.log.errs, r.log.warns),
	}}
}

func within(v, base, slack int) bool { return v >= 0 && base >= 0 && v <= base+slack }

func near(v, base, slack int64) bool { return v >= 0 && base >= 0 && v <= base+slack }

func raceNote(race bool) string {
	if race {
		return "; not judged: the server runs under the race detector"
	}
	return ""
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

func (r *report) passed() bool {
	for _, c := range r.checks() {
		if !c.ok && !c.note {
			return false
		}
	}
	return true
}

func (r *report) print(w io.Writer) {
	o := r.o
	secs := r.elapsed.Seconds()
	m := r.machine
	fmt.Fprintf(w, "\n== panelftp load test ==\n")
	fmt.Fprintf(w, "%s UTC on %s, %d cores, %s, %s; load average at the start %s\n",
		m.date.Format("2006-01-02 15:04"), m.CPU, m.Cores, m.Kernel, m.GoVersion, m.loadAvg)
	fmt.Fprintf(w, "sessions %d (%d over TLS; half list with MLSD, half with LIST), %d FTP sub-users in %d accounts, from %d loopback addresses\n",
		o.sessions, o.sessions/2, r.users, o.accounts, min(o.clientIPs, o.sessions))
	fmt.Fprintf(w, "duration %s (ran %.1fs), ramp %s, files %s to %s, at most %d per session, seed %d\n\n",
		o.duration, secs, o.ramp, harness.FormatSize(o.minSize), harness.FormatSize(o.maxSize), o.maxFiles, r.seed)
	r.printOps(w, secs)
	t := &r.total
	fmt.Fprintf(w, "\ntransferred: up %s (%s/s), down %s (%s/s); %d downloads matched their SHA-256, %d files seen in listings\n",
		mib(t.bytesUp), mib(int64(float64(t.bytesUp)/secs)), mib(t.bytesDown), mib(int64(float64(t.bytesDown)/secs)), t.checked, t.listed)
	if t.busy > 0 {
		fmt.Fprintf(w, "log-ins answered \"421 Server busy\" and tried again after %v: %d\n", busyRetryDelay, t.busy)
	}
	fmt.Fprintf(w, "files on disk after the run: %d verified (%s), %d lost, %d corrupted, %d unexpected, %d left uncertain by failures\n",
		r.verify.files, mib(r.verify.bytes), r.verify.lost, r.verify.corrupted, r.verify.unexpected, r.verify.uncertain)
	fmt.Fprintf(w, "CPU during the run: server %.1fs (%.0f%% of a core), load test client %.1fs (%.0f%%)\n\n",
		r.srvCPU.Seconds(), 100*r.srvCPU.Seconds()/secs, r.cliCPU.Seconds(), 100*r.cliCPU.Seconds()/secs)
	r.printResources(w)
	r.printProblems(w)
	fmt.Fprintln(w, "\nverdict:")
	for _, c := range r.checks() {
		mark := "ok  "
		switch {
		case c.note:
			mark = "note"
		case !c.ok:
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s\n", mark, c.what)
	}
	if r.passed() {
		fmt.Fprintln(w, "PASS")
	} else {
		fmt.Fprintln(w, "FAIL")
	}
}

func (r *report) printOps(w io.Writer, secs float64) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\tper second\terrors\tp50\tp99\tmax\t")
	t := &r.total
	for k := range numOps {
		lat := slices.Clone(t.lat[k])
		slices.Sort(lat)
		var top time.Duration
		if len(lat) > 0 {
			top = lat[len(lat)-1]
		}
		n := len(lat) + t.errs[k]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%d\t%s\t%s\t%s\t\n", k, n, float64(n)/secs, t.errs[k],
			ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(top))
	}
	fmt.Fprintf(tw, "all\t%d\t%.1f\t%d\t\t\t\t\n", t.ops(), float64(t.ops())/secs, t.errors())
	tw.Flush()
}

func (r *report) printResources(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tbaseline\tpeak\tsessions gone\tafter %s idle\tafter a GC\t\n", r.o.idle)
	row := func(name string, f func(sample) string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", name, f(r.before), f(r.peak), f(r.after), f(r.idle), f(r.idleGC))
	}
	row("RSS", func(s sample) string { return mib(s.rss) })
	row("goroutines", func(s sample) string { return count(s.goroutines) })
	row("open fds", func(s sample) string { return count(s.fds) })
	row("  passive listeners", func(s sample) string { return count(s.passiveFDs) })
	row("Go heap in use", func(s sample) string {
		if s.heapInuse < 0 {
			return "–"
		}
		return mib(s.heapInuse)
	})
	tw.Flush()
}

func mergeKeys(a, b map[string]int) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func count(n int) string {
	if n < 0 {
		return "–"
	}
	return fmt.Sprint(n)
}

func (r *report) printProblems(w io.Writer) {
	if r.errCount > 0 {
		fmt.Fprintf(w, "\n%d failed operations", r.errCount)
		if r.errCount > len(r.errs) {
			fmt.Fprintf(w, " (the first %d of each kind)", maxKept)
		}
		fmt.Fprintf(w, ":\n  %s\n", strings.Join(r.errs, "\n  "))
	}
	if len(r.verify.problems) > 0 || r.verify.err != nil {
		fmt.Fprintf(w, "\nfile check problems:\n")
		if r.verify.err != nil {
			fmt.Fprintf(w, "  reading the homes: %v\n", r.verify.err)
		}
		for _, p := range r.verify.problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if !within(r.idleGC.otherFDs(), r.before.otherFDs(), fdSlack) {
		fmt.Fprintf(w, "\nopen descriptors of the server by kind, baseline → after idle and a GC:\n")
		for _, k := range slices.Sorted(maps.Keys(mergeKeys(r.fdsBefore, r.fdsAfter))) {
			if r.fdsBefore[k] != r.fdsAfter[k] {
				fmt.Fprintf(w, "  %-45s %5d → %d\n", k, r.fdsBefore[k], r.fdsAfter[k])
			}
		}
	}
	if len(r.log.kinds) > 0 {
		fmt.Fprintf(w, "\nserver log: %d warnings, %d errors, by message (with the first line of each):\n", r.log.warns, r.log.errs)
		for _, k := range slices.Sorted(maps.Keys(r.log.kinds)) {
			ex := r.log.example[k]
			if len(ex) > 400 {
				ex = ex[:400] + "…"
			}
			fmt.Fprintf(w, "  %6d  %s\n          %s\n", r.log.kinds[k], k, ex)
		}
	}
}

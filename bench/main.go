// Command bench measures panelftp side by side with vsftpd, pure-ftpd and
// proftpd on loopback and prints the figures; with -write it also writes a
// markdown report (docs/BENCHMARKS.md).
//
// The peers are Debian packages fetched with apt-get download into a cache
// directory and unpacked there (they conflict as installed packages), then
// started from there with a generated configuration, so running them needs
// root and a Debian-like system. panelftp is built from this module.
//
//	go run ./bench                      # everything, default sizes
//	go run ./bench -smoke               # every scenario at tiny sizes
//	go run ./bench -peers vsftpd -scenarios 1,2 -size 256MiB
//	go run ./bench -write docs/BENCHMARKS.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

func main() {
	harness.Main("bench", parseOptions, func(ctx context.Context, o *options) int {
		raiseFileLimit()
		if err := measure(ctx, o, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		return 0
	})
}

var errUsage = errors.New("wrong usage")

// fileLimit is the open-file limit the harness and the servers run with.
// The harness holds a descriptor per client session; panelftp one per
// logged-in session (its control connection: the sessions of one folder
// share their jail's), so scenario 9's 10,000 sessions fit in the 20,000
// some machines allow by default. The limit is raised anyway, as the
// packaged systemd unit raises panelftp's, so that no server of the
// comparison is held back by it.
const fileLimit = 65536

// raiseFileLimit lifts the open-file limit of the harness, and so of the
// servers it starts, to fileLimit when it is lower and the harness may
// (as root). Failing leaves the limit as it was: scenario 9 then reports
// how many sessions a server held.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= fileLimit {
		return
	}
	want := syscall.Rlimit{Cur: fileLimit, Max: max(lim.Max, fileLimit)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		fmt.Fprintf(os.Stderr, "bench: open-file limit stays at %d: %v\n", lim.Cur, err)
	}
}

// allPeers are the servers panelftp is compared with, in report order.
var allPeers = []string{"vsftpd", "pure-ftpd", "proftpd"}

// options are the benchmark's settings; every count and size is a flag.
type options struct {
	smoke       bool
	size        int64 // scenario 1, 2, 8 and the loopback limit
	runs        int   // repetitions of the single-transfer figures (median kept)
	files       int   // scenario 3
	fileSize    int64
	entries     int // scenario 4
	listRepeat  int
	clients     int // scenario 5
	clientSize  int64
	logins      int // scenario 6
	parallel    int
	sessions    int // scenario 7
	held        int // scenario 9
	heldBusy    int
	heldTime    time.Duration
	settle      time.Duration
	peers       []string
	scenarios   map[int]bool
	cache       string
	work        string
	keep        bool
	panelftp    string
	write       string
	timeout     time.Duration
	opTimeout   time.Duration
	pprofDir    string
	pprofWindow time.Duration
	args        []string // as given, for the report
}

// run parses args, runs the benchmark and prints the table to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	return measure(ctx, o, stdout, stderr)
}

// measure runs the benchmark and prints the table to stdout.
func measure(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := benchmark(ctx, o, stderr)
	if err != nil {
		return err
	}
	printTable(stdout, res)
	if o.write != "" {
		if err := writeReport(o.write, res); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.write)
	}
	if n := res.failures(); n > 0 {
		return fmt.Errorf("%d measurement(s) failed (see the table)", n)
	}
	return nil
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{size: 1 << 30, fileSize: 4 << 10, clientSize: 1 << 20, args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.smoke, "smoke", false, "run every scenario at tiny sizes (a few seconds; sizes not given as flags shrink)")
	fs.Var(harness.SizeValue{P: &o.size}, "size", "size of the big file for scenarios 1, 2 and 8 and the loopback limit (e.g. 1GiB, 256MiB)")
	fs.IntVar(&o.runs, "runs", 5, "repetitions of each single-transfer figure; the median is kept")
	fs.IntVar(&o.files, "files", 2000, "scenario 3: files uploaded then downloaded over one control connection")
	fs.Var(harness.SizeValue{P: &o.fileSize}, "file-size", "scenario 3: size of each small file")
	fs.IntVar(&o.entries, "entries", 10000, "scenario 4: entries of the listed directory")
	fs.IntVar(&o.listRepeat, "list-repeat", 20, "scenario 4: listings of that directory")
	fs.IntVar(&o.clients, "clients", 200, "scenario 5: clients at once")
	fs.Var(harness.SizeValue{P: &o.clientSize}, "client-size", "scenario 5: file each client downloads")
	fs.IntVar(&o.logins, "logins", 2000, "scenario 6: log-ins in each of the two modes")
	fs.IntVar(&o.parallel, "parallel", 8, "scenario 6: log-ins at once in the parallel mode")
	fs.IntVar(&o.sessions, "sessions", 1000, "scenario 7: idle logged-in sessions")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "scenarios 7 and 9: wait before reading memory")
	fs.IntVar(&o.held, "held", 10000, "scenario 9: logged-in sessions held on one server")
	fs.IntVar(&o.heldBusy, "held-busy", 100, "scenario 9: how many of them download all the time")
	fs.DurationVar(&o.heldTime, "held-time", 20*time.Second, "scenario 9: how long the transfers and the NOOP probes run")
	peers := fs.String("peers", strings.Join(allPeers, ","), "peers to compare with, comma-separated (empty: panelftp only)")
	scen := fs.String("scenarios", "1,2,3,4,5,6,7,8,9", "scenarios to run, comma-separated")
	fs.StringVar(&o.cache, "cache", defaultCache(), "where the peers' packages are downloaded and unpacked")
	fs.StringVar(&o.work, "work", "", "working directory for homes, configs and logs (default: a new temporary one, removed at the end)")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory")
	fs.StringVar(&o.panelftp, "panelftp", "", "panelftp binary to run (default: build ./cmd/panelftp of this module)")
	fs.StringVar(&o.write, "write", "", "also write a markdown report to this file (e.g. docs/BENCHMARKS.md)")
	fs.DurationVar(&o.timeout, "timeout", 90*time.Minute, "bound on the whole run")
	fs.DurationVar(&o.opTimeout, "op-timeout", 5*time.Minute, "bound on one FTP command or transfer")
	fs.StringVar(&o.pprofDir, "pprof", "", "save a CPU profile of panelftp for each scenario into this directory (needs serve --debug-listen)")
	fs.DurationVar(&o.pprofWindow, "pprof-seconds", 20*time.Second, "length of each CPU profile")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err) // -h is flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	var err error
	if o.peers, err = parsePeers(*peers); err != nil {
		return nil, err
	}
	if o.scenarios, err = parseScenarios(*scen); err != nil {
		return nil, err
	}
	if o.smoke {
		applySmoke(o, fs)
	}
	if o.runs < 1 || o.files < 1 || o.entries < 1 || o.listRepeat < 1 || o.clients < 1 ||
		o.logins < 1 || o.parallel < 1 || o.sessions < 1 || o.held < 2 || o.heldBusy < 1 || o.heldTime <= 0 || o.size < 1 || o.fileSize < 1 || o.clientSize < 1 {
		return nil, fmt.Errorf("%w: counts and sizes must be at least 1", errUsage)
	}
	return o, nil
}

// applySmoke shrinks every size and count that was not given on the
// command line, so all scenarios run in a few seconds.
func applySmoke(o *options, fs *flag.FlagSet) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	small := map[string]string{
		"size": "8MiB", "runs": "1", "files": "20", "entries": "200", "list-repeat": "2",
		"clients": "10", "client-size": "64KiB", "logins": "20", "parallel": "4",
		"sessions": "20", "settle": "200ms", "held": "40", "held-busy": "4", "held-time": "1s",
	}
	for name, v := range small {
		if !given[name] {
			_ = fs.Set(name, v) // the values above are valid
		}
	}
}

func parsePeers(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !contains(allPeers, p) {
			return nil, fmt.Errorf("%w: unknown peer %q (known: %s)", errUsage, p, strings.Join(allPeers, ", "))
		}
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func parseScenarios(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 9 {
			return nil, fmt.Errorf("%w: scenario %q: use numbers 1 to 9", errUsage, f)
		}
		out[n] = true
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no scenario selected", errUsage)
	}
	return out, nil
}

func defaultCache() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return d + "/panelftp-bench"
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h + "/.cache/panelftp-bench"
	}
	return ".cache/panelftp-bench"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

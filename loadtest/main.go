// Command loadtest puts a built panelftp server under many concurrent FTP
// sessions on loopback and checks that it holds up: every operation
// succeeds, no uploaded file is lost or corrupted (each is checked by
// SHA-256, over FTP during the run and on disk after it), and the server's
// memory, goroutines and open files return to their baseline once the
// sessions are gone.
//
// It builds cmd/panelftp, makes a data directory with the CLI (accounts
// with several FTP sub-users each), starts `panelftp serve` on 127.0.0.1
// and runs N sessions until the duration is over. Half the sessions use
// explicit TLS (AUTH TLS, PROT P) and half list with LIST instead of
// MLSD. Each session works in a folder of its own inside its sub-user's
// folder, doing a random mix of listings, uploads of random files,
// downloads checked against the upload's SHA-256, renames and deletes.
//
//	go run ./loadtest                       # 500 sessions for 60 s
//	go run ./loadtest -smoke                # 20 sessions for 3 s, small files
//	go run ./loadtest -sessions 200 -duration 30s -log-level info
//
// docs/RELIABILITY.md says what each check of the verdict means and
// reports the last full run. The exit status is 0 when every check
// passed, 1 when one failed and 2 for wrong usage. Every loop is bounded in time: an operation that takes
// longer than -op-timeout fails, and sessions still running well after the
// duration are cut off and reported.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// options are the load test's settings, filled from the flags.
type options struct {
	sessions     int
	duration     time.Duration
	smoke        bool
	accounts     int
	usersPer     int           // FTP sub-users per account
	minSize      int64         // smallest upload, bytes
	maxSize      int64         // largest upload, bytes
	maxFiles     int           // files a session keeps before it deletes instead of uploading
	clientIPs    int           // loopback source addresses the sessions are spread over
	ramp         time.Duration // sessions start evenly spread over this time
	opTimeout    time.Duration // longest one FTP operation may take
	idle         time.Duration // idle time after the sessions before the last samples
	passivePorts string
	logLevel     string
	serverBin    string // use this panelftp binary instead of building one
	race         bool   // build the server with the race detector
	keep         bool   // keep the work directory
	seed         uint64 // 0: a random seed
}

func defaultOptions() options {
	return options{
		sessions:  500,
		duration:  60 * time.Second,
		accounts:  5,
		usersPer:  20,
		minSize:   1 << 10,
		maxSize:   2 << 20,
		maxFiles:  8,
		clientIPs: 100,
		ramp:      0,
		opTimeout: 60 * time.Second,
		idle:      10 * time.Second,
		// Below the usual ephemeral ports (32768 and up), so no client
		// socket holds one, and apart from the smoke pass's own range.
		passivePorts: "12000-13999",
		logLevel:     "warn",
	}
}

// smokeOptions are the -smoke settings; flags given explicitly win.
func smokeOptions(o options) options {
	o.sessions = 20
	o.duration = 3 * time.Second
	o.accounts = 2
	o.usersPer = 5
	o.maxSize = 64 << 10
	o.maxFiles = 6
	// Several sessions share each address, as clients behind NAT do: the
	// server must keep their passive ports apart (docs/RELIABILITY.md).
	o.clientIPs = 5
	o.idle = 2 * time.Second
	o.opTimeout = 10 * time.Second
	o.passivePorts = "14000-14999"
	return o
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := defaultOptions()
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./loadtest [flags]\n\nRun panelftp under concurrent FTP sessions on loopback and check every file.\n\nflags:")
		fs.PrintDefaults()
	}
	fs.IntVar(&o.sessions, "sessions", o.sessions, "concurrent FTP sessions")
	fs.DurationVar(&o.duration, "duration", o.duration, "how long the sessions work")
	fs.BoolVar(&o.smoke, "smoke", false, "short pass for CI: 20 sessions for 3s with files up to 64KiB, passive ports 14000-14999")
	fs.IntVar(&o.accounts, "accounts", o.accounts, "hosting accounts")
	fs.IntVar(&o.usersPer, "users", o.usersPer, "FTP sub-users per account")
	fs.Var(harness.SizeValue{P: &o.minSize}, "min-size", "smallest upload (e.g. 1KiB)")
	fs.Var(harness.SizeValue{P: &o.maxSize}, "max-size", "largest upload (e.g. 2MiB)")
	fs.IntVar(&o.maxFiles, "max-files", o.maxFiles, "files a session keeps at most (then it deletes instead of uploading)")
	fs.IntVar(&o.clientIPs, "client-ips", o.clientIPs, "loopback source addresses (127.1.x.y) the sessions are spread over")
	fs.DurationVar(&o.ramp, "ramp", o.ramp, "start the sessions evenly over this time (0: all at once)")
	fs.DurationVar(&o.opTimeout, "op-timeout", o.opTimeout, "longest one FTP operation may take before it counts as failed")
	fs.DurationVar(&o.idle, "idle", o.idle, "idle time after the sessions end before memory is sampled again")
	fs.StringVar(&o.passivePorts, "passive-ports", o.passivePorts, "the server's passive port range")
	fs.StringVar(&o.logLevel, "log-level", o.logLevel, "the server's log level (info shows every session)")
	fs.StringVar(&o.serverBin, "server-bin", "", "panelftp binary to run (default: build ./cmd/panelftp)")
	fs.BoolVar(&o.race, "race", false, "build the server with the race detector (a race report fails the run)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (data, homes, server log)")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed for sizes, contents and the operation mix (0: random)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.smoke {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		so := smokeOptions(o)
		o = mergeSet(o, so, set)
	}
	return o, o.validate()
}

// mergeSet takes smoke values for every flag not given explicitly.
func mergeSet(given, smoke options, set map[string]bool) options {
	out := smoke
	keep := map[string]func(){
		"sessions": func() { out.sessions = given.sessions }, "duration": func() { out.duration = given.duration },
		"accounts": func() { out.accounts = given.accounts }, "users": func() { out.usersPer = given.usersPer },
		"max-size": func() { out.maxSize = given.maxSize }, "max-files": func() { out.maxFiles = given.maxFiles },
		"client-ips": func() { out.clientIPs = given.clientIPs }, "idle": func() { out.idle = given.idle },
		"op-timeout": func() { out.opTimeout = given.opTimeout }, "passive-ports": func() { out.passivePorts = given.passivePorts },
	}
	for name, f := range keep {
		if set[name] {
			f()
		}
	}
	return out
}

func (o options) validate() error {
	var errs []error
	if o.sessions < 1 || o.sessions > 5000 {
		errs = append(errs, errors.New("-sessions must be 1 to 5000"))
	}
	if o.duration <= 0 || o.duration > time.Hour {
		errs = append(errs, errors.New("-duration must be more than 0 and at most 1h"))
	}
	if o.accounts < 1 || o.usersPer < 1 || o.accounts*o.usersPer > 1000 {
		errs = append(errs, errors.New("-accounts and -users must be at least 1, and at most 1000 sub-users in all"))
	}
	if o.minSize < 1 || o.maxSize < o.minSize || o.maxSize > 1<<30 {
		errs = append(errs, errors.New("-min-size must be at least 1 byte and at most -max-size, itself at most 1GiB"))
	}
	if o.maxFiles < 1 || o.clientIPs < 1 || o.clientIPs > 60000 {
		errs = append(errs, errors.New("-max-files must be at least 1; -client-ips 1 to 60000"))
	}
	if _, err := parsePortRange(o.passivePorts); err != nil {
		errs = append(errs, err)
	}
	if o.opTimeout <= 0 || o.idle < 0 || o.ramp < 0 || o.ramp > o.duration {
		errs = append(errs, errors.New("-op-timeout must be positive, -idle and -ramp not negative, -ramp at most -duration"))
	}
	return errors.Join(errs...)
}

func main() {
	harness.Main("loadtest", parseFlags, func(ctx context.Context, o options) int { return run(ctx, o, os.Stdout) })
}

// run does the whole load test and returns the exit status.
func run(ctx context.Context, o options, out io.Writer) int {
	h, err := newLoadTest(o, out)
	if err != nil {
		fmt.Fprintln(out, "loadtest:", err)
		return 1
	}
	defer h.cleanup()
	if err := h.prepare(ctx); err != nil {
		fmt.Fprintln(out, "loadtest: setting up:", err)
		h.showServerLog()
		return 1
	}
	rep := h.load(ctx)
	rep.print(out)
	if rep.stopErr != nil || rep.log.errs > 0 {
		h.showServerLog()
	}
	if !rep.passed() {
		return 1
	}
	return 0
}

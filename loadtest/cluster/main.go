// Command cluster measures what a cluster of panelftp nodes costs the
// PostgreSQL database they share, and how fast a kick reaches the node
// that serves the session.
//
// It builds cmd/panelftp, creates a database of its own on the PostgreSQL
// server -db names (and drops it at the end), starts -nodes `panelftp
// serve` processes on 127.0.0.1 against it, and then:
//
//   - leaves them idle for -idle and counts the database's transactions
//     (pg_stat_database's xact_commit + xact_rollback) and its connections
//     (pg_stat_activity);
//
//   - opens -kicks FTP sessions spread over the nodes and ends them one by
//     one, half by session ID (what `ftp kick` and Disconnect do), half by
//     changing their user (what a password change, a new path or a delete
//     does), timing each from the commit of the request to the moment the
//     serving node closes the control connection.
//
//     go run ./loadtest/cluster -db postgres://postgres@127.0.0.1:5432/postgres
//     go run ./loadtest/cluster -smoke        # 3 nodes, 5 s idle, 10 kicks (go test runs it)
//
// The monitoring queries run on a connection to the -db database, not the
// measured one, so they are not counted. docs/RELIABILITY.md reports the
// last run.
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

type options struct {
	db    string // PostgreSQL server to create the measured database on
	nodes int
	idle  time.Duration
	// settle is how long the nodes run before the idle window opens:
	// their start (schema check, first resync, first heartbeat) is not
	// idle, and PostgreSQL reports an idle connection's transactions up
	// to 10 s late.
	settle    time.Duration
	kicks     int
	pool      int    // --db-pool of each node
	serverBin string // use this panelftp binary instead of building one
	keep      bool
	smoke     bool
	// logStatements has PostgreSQL log every statement of the measured
	// database (in its server log), to see what the transactions are.
	logStatements bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{nodes: 20, idle: 2 * time.Minute, settle: 30 * time.Second, kicks: 100, pool: 3}
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./loadtest/cluster [flags]\n\nMeasure the database load and the kick latency of panelftp nodes sharing one PostgreSQL.\n\nflags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.db, "db", os.Getenv("PANELFTP_TEST_POSTGRES"), "PostgreSQL URL of a database to connect to; the measured database is created beside it (default $PANELFTP_TEST_POSTGRES)")
	fs.IntVar(&o.nodes, "nodes", o.nodes, "panelftp nodes to start")
	fs.DurationVar(&o.idle, "idle", o.idle, "how long the idle nodes are measured")
	fs.IntVar(&o.kicks, "kicks", o.kicks, "sessions to open and end, half by ID and half by a change of their user")
	fs.IntVar(&o.pool, "pool", o.pool, "--db-pool of each node")
	fs.StringVar(&o.serverBin, "server-bin", "", "panelftp binary to run (default: build ./cmd/panelftp)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory and the database")
	fs.BoolVar(&o.logStatements, "log-statements", false, "have PostgreSQL log every statement of the measured database (needs a superuser)")
	fs.BoolVar(&o.smoke, "smoke", false, "short pass: 3 nodes, 2s to settle, 5s idle, 10 kicks")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.smoke {
		o.nodes, o.settle, o.idle, o.kicks = 3, 2*time.Second, 5*time.Second, 10
	}
	switch {
	case o.db == "":
		return o, errors.New("-db is required (or set PANELFTP_TEST_POSTGRES), e.g. postgres://postgres@127.0.0.1:5432/postgres")
	case o.nodes < 1 || o.nodes > 100:
		return o, errors.New("-nodes must be 1 to 100")
	case o.idle < time.Second:
		return o, errors.New("-idle must be at least 1s")
	case o.kicks < 2:
		return o, errors.New("-kicks must be at least 2")
	case o.pool < 1:
		return o, errors.New("-pool must be at least 1")
	}
	return o, nil
}

func main() {
	harness.Main("cluster", parseFlags, func(ctx context.Context, o options) int {
		if err := run(ctx, o, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
			return 1
		}
		return 0
	})
}

// run does the whole measurement and prints the report.
func run(ctx context.Context, o options, out io.Writer) error {
	c, err := newCluster(ctx, o, out)
	if err != nil {
		return err
	}
	defer c.cleanup()
	if err := c.start(ctx); err != nil {
		c.showLogs(out)
		return err
	}
	idle, err := c.measureIdle(ctx)
	if err != nil {
		return err
	}
	reportIdle(out, o, idle)
	kicks, err := c.measureKicks(ctx)
	if err != nil {
		c.showLogs(out)
		return err
	}
	reportKicks(out, kicks)
	return nil
}

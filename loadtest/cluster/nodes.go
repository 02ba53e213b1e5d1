package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/panelftp/panelftp/bench/harness"
	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// cluster is the measured database, the nodes on it, and the service the
// measurement changes users through.
type cluster struct {
	o      options
	out    io.Writer
	work   string
	bin    string
	dbName string
	dsn    string    // the measured database
	mon    *pgx.Conn // monitoring, on -db
	st     *sqlstore.Store
	svc    *service.Service
	users  []user
	nodes  []*node
}

type user struct{ name, password string }

// loadUID owns the measurement's account when run as root.
const loadUID = 42100

// node is one `panelftp serve` process.
type node struct {
	addr string
	proc *harness.Process
}

func newCluster(ctx context.Context, o options, out io.Writer) (*cluster, error) {
	work, err := os.MkdirTemp("", "panelftp-cluster-")
	if err != nil {
		return nil, err
	}
	c := &cluster{o: o, out: out, work: work}
	if err := c.prepare(ctx); err != nil {
		c.cleanup()
		return nil, err
	}
	return c, nil
}

// prepare builds the binary, creates the database, its schema, an account
// and one FTP user per kick.
func (c *cluster) prepare(ctx context.Context) error {
	c.bin = c.o.serverBin
	if c.bin == "" {
		t0 := time.Now()
		bin, _, err := harness.Build(ctx, c.work, false)
		if err != nil {
			return err
		}
		c.bin = bin
		fmt.Fprintf(c.out, "built panelftp in %.1fs\n", time.Since(t0).Seconds())
	}
	var err error
	if c.mon, err = pgx.Connect(ctx, c.o.db); err != nil {
		return fmt.Errorf("connecting to -db: %w", err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	c.dbName = "panelftp_cluster_" + hex.EncodeToString(b)
	if _, err := c.mon.Exec(ctx, "CREATE DATABASE "+c.dbName); err != nil {
		c.dbName = ""
		return fmt.Errorf("creating the measured database: %w", err)
	}
	if c.o.logStatements {
		if _, err := c.mon.Exec(ctx, "ALTER DATABASE "+c.dbName+" SET log_statement = 'all'"); err != nil {
			return fmt.Errorf("-log-statements: %w", err)
		}
	}
	u, err := url.Parse(c.o.db)
	if err != nil {
		return fmt.Errorf("-db must be a postgres:// URL: %w", err)
	}
	u.Path = "/" + c.dbName
	c.dsn = u.String()
	if c.st, err = openStore(ctx, c.dsn); err != nil {
		return err
	}
	c.svc = newService(c.st)
	owner := domain.NoID
	if os.Geteuid() == 0 { // as root, an account needs ids of its own
		owner = loadUID
	}
	if _, err := c.svc.AddAccount(ctx, domain.NewAccount{Name: "load", Home: filepath.Join(c.work, "home"),
		UID: owner, GID: owner}); err != nil {
		return err
	}
	for i := range c.o.kicks {
		u := user{name: fmt.Sprintf("k%d.load", i), password: harness.NewPassword()}
		if _, err := c.svc.AddFTPUser(ctx, domain.NewFTPUser{Account: "load", Username: u.name, Password: u.password, Path: "/"}); err != nil {
			return err
		}
		c.users = append(c.users, u)
	}
	return vacuum(ctx, c.dsn)
}

// vacuum does at once what autovacuum would do to the new tables while the
// nodes are measured.
func vacuum(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE)")
	return err
}

// start runs the nodes and waits until each greets FTP clients.
func (c *cluster) start(ctx context.Context) error {
	for i := range c.o.nodes {
		port, err := harness.FreePort()
		if err != nil {
			return err
		}
		n := &node{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		pasv := 15000 + 20*i
		argv := []string{c.bin, "serve", "--db", c.dsn, "--data", filepath.Join(c.work, fmt.Sprintf("node%02d", i)),
			"--db-pool", strconv.Itoa(c.o.pool), "--ftp-listen", n.addr, "--panel-listen", "",
			"--passive-ports", fmt.Sprintf("%d-%d", pasv, pasv+19), "--log-level", "warn",
			// Every session comes from 127.0.0.1, and the limits count
			// the sessions of every node.
			"--max-per-ip", "10000", "--max-per-user", "10000"}
		if n.proc, err = harness.Start(argv, nil, filepath.Join(c.work, fmt.Sprintf("node%02d.log", i))); err != nil {
			return err
		}
		c.nodes = append(c.nodes, n)
	}
	t0 := time.Now()
	for _, n := range c.nodes {
		if err := n.proc.WaitFTP(ctx, n.addr, nil); err != nil {
			return fmt.Errorf("node %s: %w (log %s)", n.addr, err, n.proc.LogPath())
		}
	}
	fmt.Fprintf(c.out, "%d nodes greeting FTP clients after %.1fs\n", len(c.nodes), time.Since(t0).Seconds())
	return nil
}

// cleanup stops the nodes, drops the database and removes the work
// directory, unless -keep.
func (c *cluster) cleanup() {
	// All at once: each node's stop waits for its SIGTERM to take effect.
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(func() { n.proc.Stop(15 * time.Second) })
	}
	wg.Wait()
	if c.st != nil {
		c.st.Close()
	}
	if c.mon != nil {
		if c.dbName != "" && !c.o.keep {
			if _, err := c.mon.Exec(context.Background(), "DROP DATABASE "+c.dbName+" WITH (FORCE)"); err != nil {
				fmt.Fprintf(c.out, "dropping database %s: %v\n", c.dbName, err)
			}
		}
		c.mon.Close(context.Background())
	}
	if c.o.keep {
		fmt.Fprintf(c.out, "kept: work directory %s, database %s\n", c.work, c.dbName)
		return
	}
	os.RemoveAll(c.work)
}

// showLogs prints what the nodes logged, after a failure.
func (c *cluster) showLogs(out io.Writer) {
	for _, n := range c.nodes {
		b, err := os.ReadFile(n.proc.LogPath())
		if err == nil && len(b) > 0 {
			fmt.Fprintf(out, "\n%s:\n%s", n.proc.LogPath(), b)
		}
	}
}

// openStore opens the measured database as the nodes do, with a pool of
// one connection.
func openStore(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	return sqlstore.Open(ctx, "", dsn, sqlstore.Options{MaxConns: 1})
}

// newService is the service the measurement changes users through, quiet.
func newService(st *sqlstore.Store) *service.Service {
	return service.New(st, auth.NewHasher(auth.Params{}, 4), service.Options{Logger: slog.New(slog.DiscardHandler)})
}

package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// idleResult is what the idle nodes cost the database.
type idleResult struct {
	window           time.Duration
	transactions     int64
	perTen           []int64 // transactions in each 10 s of the window
	connsMax, connsN int     // most connections seen, and at the end
}

// kickResult is the latency of kicks of one kind.
type kickResult struct {
	kind      string
	latencies []time.Duration
	connsMax  int
}

func (c *cluster) transactions(ctx context.Context) (int64, error) {
	var n int64
	err := c.mon.QueryRow(ctx, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", c.dbName).Scan(&n)
	return n, err
}

func (c *cluster) connections(ctx context.Context) (int, error) {
	var n int
	err := c.mon.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1", c.dbName).Scan(&n)
	return n, err
}

// measureIdle counts the database's transactions and connections while
// the nodes, with no client, do nothing but keep in step.
func (c *cluster) measureIdle(ctx context.Context) (idleResult, error) {
	// The measurement's own store holds connections too: close them.
	c.st.Close()
	c.st = nil
	fmt.Fprintf(c.out, "settling for %v, then measuring %d idle nodes for %v\n", c.o.settle, len(c.nodes), c.o.idle)
	time.Sleep(c.o.settle)
	var r idleResult
	before, err := c.transactions(ctx)
	if err != nil {
		return r, err
	}
	start, last, lastAt := time.Now(), before, time.Now()
	for time.Since(start) < c.o.idle {
		n, err := c.connections(ctx)
		if err != nil {
			return r, err
		}
		r.connsMax, r.connsN = max(r.connsMax, n), n
		time.Sleep(time.Second)
		if time.Since(lastAt) >= 10*time.Second {
			x, err := c.transactions(ctx)
			if err != nil {
				return r, err
			}
			r.perTen, last, lastAt = append(r.perTen, x-last), x, time.Now()
		}
	}
	after, err := c.transactions(ctx)
	r.window, r.transactions = time.Since(start), after-before
	return r, err
}

// session is a logged-in FTP control connection.
type session struct {
	*harness.Client
	user string
}

func (c *cluster) login(ctx context.Context, addr string, u user) (*session, error) {
	conn, err := harness.Dial(ctx, addr, nil, nil, 30*time.Second)
	if err != nil {
		return nil, err
	}
	if err := conn.Login(u.name, u.password); err != nil {
		conn.Close()
		return nil, fmt.Errorf("log-in of %s on %s: %w", u.name, addr, err)
	}
	return &session{Client: conn, user: u.name}, nil
}

// waitClosed blocks until the server closes the session.
func (s *session) waitClosed(timeout time.Duration) error {
	if err := s.WaitClosed(timeout); err != nil {
		return fmt.Errorf("session of %s not closed within %v: %w", s.user, timeout, err)
	}
	return nil
}

// measureKicks opens one session per user, spread over the nodes, and
// ends them one at a time: the first half by session ID, the second by a
// change of the user.
func (c *cluster) measureKicks(ctx context.Context) ([]kickResult, error) {
	var err error
	if c.st == nil {
		if c.st, err = openStore(ctx, c.dsn); err != nil {
			return nil, err
		}
		c.svc = newService(c.st)
	}
	sessions := make([]*session, len(c.users))
	for i, u := range c.users {
		if sessions[i], err = c.login(ctx, c.nodes[i%len(c.nodes)].addr, u); err != nil {
			return nil, err
		}
		defer sessions[i].Close()
	}
	ids := map[string]string{}
	deadline := time.Now().Add(30 * time.Second)
	for len(ids) < len(c.users) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d sessions listed after 30s", len(ids), len(c.users))
		}
		time.Sleep(200 * time.Millisecond)
		list, err := c.svc.ListSessions(ctx, "load")
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			if x.Username != "" {
				ids[x.Username] = x.ID
			}
		}
	}
	fmt.Fprintf(c.out, "%d sessions open over %d nodes; ending them one at a time\n", len(sessions), len(c.nodes))
	half := len(sessions) / 2
	byID, err := c.kickEach(ctx, "by session ID (ftp kick, Disconnect)", sessions[:half], func(s *session) error {
		return c.st.KickSession(ctx, ids[s.user])
	})
	if err != nil {
		return nil, err
	}
	byChange, err := c.kickEach(ctx, "by a change of the user (quota here; password, path, delete alike)", sessions[half:], func(s *session) error {
		return c.svc.SetFTPQuota(ctx, "load", s.user, 100)
	})
	return []kickResult{byID, byChange}, err
}

// kickEach ends each session with kick and times it until the node closed
// it.
func (c *cluster) kickEach(ctx context.Context, kind string, sessions []*session, kick func(*session) error) (kickResult, error) {
	r := kickResult{kind: kind}
	for _, s := range sessions {
		start := time.Now()
		if err := kick(s); err != nil {
			return r, err
		}
		if err := s.waitClosed(30 * time.Second); err != nil {
			return r, err
		}
		r.latencies = append(r.latencies, time.Since(start))
		if n, err := c.connections(ctx); err == nil {
			r.connsMax = max(r.connsMax, n)
		}
	}
	return r, nil
}

// percentile returns the p-th percentile (0–100) of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func reportIdle(out io.Writer, o options, idle idleResult) {
	perNode := float64(idle.transactions) / idle.window.Seconds() / float64(o.nodes)
	fmt.Fprintf(out, "\n## %d idle nodes, %v\n\n", o.nodes, idle.window.Round(time.Second))
	fmt.Fprintf(out, "| | |\n|---|---:|\n")
	fmt.Fprintf(out, "| transactions in the database | %d |\n", idle.transactions)
	fmt.Fprintf(out, "| transactions per second, all nodes | %.2f |\n", float64(idle.transactions)/idle.window.Seconds())
	fmt.Fprintf(out, "| transactions per second per idle node | %.3f |\n", perNode)
	tens := slices.Clone(idle.perTen)
	slices.Sort(tens)
	if len(tens) > 0 {
		fmt.Fprintf(out, "| transactions in each 10 s (least / median / most) | %d / %d / %d |\n", tens[0], tens[len(tens)/2], tens[len(tens)-1])
		fmt.Fprintf(out, "| per idle node per second, median 10 s | %.3f |\n", float64(tens[len(tens)/2])/10/float64(o.nodes))
	}
	fmt.Fprintf(out, "| connections (most seen / at the end) | %d / %d (%.1f per node, --db-pool %d) |\n",
		idle.connsMax, idle.connsN, float64(idle.connsMax)/float64(o.nodes), o.pool)
	if len(tens) > 0 {
		fmt.Fprintf(out, "\ntransactions in each 10 s, in order: %v\n", idle.perTen)
		fmt.Fprintf(out, "PostgreSQL counts a connection's transactions when it next runs a command or closes, so those of the\n"+
			"nodes' start-up show up as bursts when their connections are used again, minutes later: the median 10 s\n"+
			"is the idle cost.\n")
	}
}

func reportKicks(out io.Writer, kicks []kickResult) {
	fmt.Fprintf(out, "\n## kicks, one at a time, from the request to the closed control connection\n\n")
	fmt.Fprintf(out, "| kind | kicks | p50 | p99 | max | most connections |\n|---|---:|---:|---:|---:|---:|\n")
	for _, k := range kicks {
		s := slices.Clone(k.latencies)
		slices.Sort(s)
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %d |\n", k.kind, len(s), ms(percentile(s, 50)), ms(percentile(s, 99)),
			ms(s[len(s)-1]), k.connsMax)
	}
}

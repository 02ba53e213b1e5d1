package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cluster tests run several `panelftp serve` nodes on one PostgreSQL
// schema (PANELFTP_TEST_POSTGRES), with --node-timeout 1s so that what
// takes a minute with the defaults (a node declared dead, the change feed
// pruned) takes seconds.

// pgCluster is one PostgreSQL schema and the administrator's CLI on it,
// with account bob and its FTP user web.bob.
type pgCluster struct {
	t   *testing.T
	dsn string
	cli *cli
}

func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	base := os.Getenv("PANELFTP_TEST_POSTGRES")
	if base == "" {
		t.Skip("set PANELFTP_TEST_POSTGRES to a PostgreSQL URL to run the cluster tests")
	}
	p := &pgCluster{t: t, dsn: freshSchema(t, base), cli: bareCLI(t)}
	p.cli.env = append(p.cli.env, "PANELFTP_DB="+p.dsn)
	p.cli.ok("init")
	p.cli.ok(append([]string{"account", "add", "bob", "--home", filepath.Join(t.TempDir(), "bob")}, ownerFlags()...)...)
	p.cli.ok("ftp", "add", "web.bob", goodPassword, "/site", "bob")
	return p
}

// node starts a node with a data directory of its own on the cluster's
// database, reached at dsn (the database itself, or a proxy to it).
func (p *pgCluster) node(dsn string, extra ...string) *server {
	p.t.Helper()
	c := &cli{t: p.t, data: p.t.TempDir(), env: []string{"PATH=" + os.Getenv("PATH"), "PANELFTP_ENV_FILE=/dev/null", "PANELFTP_DB=" + dsn}}
	return launch(p.t, c, append([]string{"--node-timeout", "1s"}, extra...)...)
}

// count runs a COUNT query on the cluster's schema.
func (p *pgCluster) count(query string, args ...any) int {
	p.t.Helper()
	conn, err := pgx.Connect(context.Background(), p.dsn)
	if err != nil {
		p.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		p.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitUntil polls cond until it holds, failing t after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not after %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// ftpConn is a logged-in control connection spoken to by hand, so a test
// can see the moment the server closes it.
type ftpConn struct {
	net.Conn
	r *bufio.Reader
}

// dialFTP connects to addr and returns the greeting.
func dialFTP(t *testing.T, addr string) (*ftpConn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &ftpConn{Conn: c, r: bufio.NewReader(c)}
	return f, f.reply(t)
}

// reply reads one reply line.
func (f *ftpConn) reply(t *testing.T) string {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := f.r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	return strings.TrimSpace(line)
}

// cmd sends a command and returns its reply.
func (f *ftpConn) cmd(t *testing.T, format string, args ...any) string {
	t.Helper()
	fmt.Fprintf(f, format+"\r\n", args...)
	return f.reply(t)
}

// login logs user in and returns the reply to PASS.
func (f *ftpConn) login(t *testing.T, user, password string) string {
	t.Helper()
	if r := f.cmd(t, "USER %s", user); !strings.HasPrefix(r, "331") {
		t.Fatalf("USER %s: %s", user, r)
	}
	return f.cmd(t, "PASS %s", password)
}

// rawLogin opens a session of user on addr.
func rawLogin(t *testing.T, addr, user, password string) *ftpConn {
	t.Helper()
	f, greeting := dialFTP(t, addr)
	if !strings.HasPrefix(greeting, "220") {
		t.Fatalf("greeting from %s: %s", addr, greeting)
	}
	if r := f.login(t, user, password); !strings.HasPrefix(r, "230") {
		t.Fatalf("log-in of %s on %s: %s", user, addr, r)
	}
	return f
}

// closed returns a channel closed once the server ends the connection.
func (f *ftpConn) closed() <-chan struct{} {
	done := make(chan struct{})
	f.SetReadDeadline(time.Time{})
	go func() {
		defer close(done)
		io.Copy(io.Discard, f.r)
	}()
	return done
}

// TestClusterPausedNodeEndsStaleSessionsOnResume: node B is stopped
// (SIGSTOP) while its user is deleted on the other side, for longer than
// its node timeout and the change feed's retention: B is declared dead,
// its rows removed, the deletion's notice pruned. When B resumes, the
// session ends within 2 s all the same — B sees it missed changes and
// re-checks the versions of its live users — and B publishes its sessions
// again. With PANELFTP_TEST_REALTIME set, the nodes run with the default
// --node-timeout of 20 s, and B stays stopped for over a minute.
func TestClusterPausedNodeEndsStaleSessionsOnResume(t *testing.T) {
	t.Parallel()
	p := newPGCluster(t)
	p.cli.ok("ftp", "add", "keep.bob", goodPassword, "/", "bob")
	timing, wait := []string{"--node-timeout", "1s"}, 30*time.Second
	if os.Getenv("PANELFTP_TEST_REALTIME") != "" {
		timing, wait = []string{"--node-timeout", "20s"}, 3*time.Minute
	}
	p.node(p.dsn, timing...)
	b := p.node(p.dsn, timing...)
	doomed := rawLogin(t, b.addr(), "web.bob", goodPassword)
	rawLogin(t, b.addr(), "keep.bob", goodPassword)
	waitUntil(t, 20*time.Second, "both sessions listed", func() bool { return p.count("SELECT COUNT(*) FROM sessions WHERE username <> ''") == 2 })

	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer b.cmd.Process.Signal(syscall.SIGCONT)
	p.cli.ok("ftp", "delete", "web.bob", "bob")
	stopped := time.Now()
	waitUntil(t, wait, "the stopped node removed by the other", func() bool { return p.count("SELECT COUNT(*) FROM nodes") == 1 })
	waitUntil(t, wait, "the deletion's notice pruned", func() bool {
		return p.count("SELECT COUNT(*) FROM changes WHERE kind = 'user' AND key = 'web.bob'") == 0
	})
	t.Logf("node stopped for %v", time.Since(stopped).Round(time.Second))

	ended := doomed.closed()
	resumed := time.Now()
	if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
		t.Logf("session ended %v after the node resumed", time.Since(resumed).Round(time.Millisecond))
	case <-time.After(2 * time.Second):
		t.Fatalf("the deleted user's session on the resumed node still open 2 s after it resumed\n%s", b.logs)
	}
	if !strings.Contains(b.logs.String(), "re-reading everything") {
		t.Errorf("the resumed node did not say it missed changes:\n%s", b.logs)
	}
	waitUntil(t, 20*time.Second, "the surviving session published again", func() bool {
		return p.count("SELECT COUNT(*) FROM sessions WHERE username = 'keep.bob'") == 1
	})
}

// TestClusterFailuresBanAcrossNodes: 6 failed log-ins on one node and 6 on
// the other ban the address: the 10th, wherever it lands, trips the ban,
// and both nodes refuse the address at connect.
func TestClusterFailuresBanAcrossNodes(t *testing.T) {
	t.Parallel()
	p := newPGCluster(t)
	nodes := []*server{p.node(p.dsn), p.node(p.dsn)}
	failed, refused := 0, 0
	for _, n := range nodes {
		for range 6 {
			f, greeting := dialFTP(t, n.addr())
			switch {
			case strings.HasPrefix(greeting, "421") && strings.Contains(greeting, "banned"):
				refused++
			case strings.HasPrefix(greeting, "220"):
				if r := f.login(t, "web.bob", "Wrong-Pass-1"); !strings.HasPrefix(r, "530") {
					t.Fatalf("wrong password on %s: %s", n.addr(), r)
				}
				failed++
			default:
				t.Fatalf("greeting %q", greeting)
			}
			f.Close()
		}
	}
	if failed != 10 || refused != 2 {
		t.Errorf("%d failed log-ins then %d refusals at connect; want 10 and 2", failed, refused)
	}
	for _, n := range nodes {
		waitUntil(t, 10*time.Second, "node "+n.addr()+" refusing the banned address", func() bool {
			f, greeting := dialFTP(t, n.addr())
			f.Close()
			return strings.HasPrefix(greeting, "421") && strings.Contains(greeting, "banned")
		})
	}
	if n := p.count("SELECT COUNT(*) FROM bans WHERE ip = '127.0.0.1' AND count = 1"); n != 1 {
		t.Errorf("%d first bans of 127.0.0.1 stored, want 1", n)
	}
}

// TestClusterSessionLimitsHoldAcrossNodes: --max-per-user 2 and
// --max-per-ip 3 count the sessions of both nodes.
func TestClusterSessionLimitsHoldAcrossNodes(t *testing.T) {
	t.Parallel()
	p := newPGCluster(t)
	p.cli.ok("ftp", "add", "dev.bob", goodPassword, "/", "bob")
	limits := []string{"--max-per-user", "2", "--max-per-ip", "3"}
	a, b := p.node(p.dsn, limits...), p.node(p.dsn, limits...)

	first := rawLogin(t, a.addr(), "web.bob", goodPassword)
	rawLogin(t, a.addr(), "web.bob", goodPassword)
	f, _ := dialFTP(t, b.addr())
	if r := f.login(t, "web.bob", goodPassword); !strings.HasPrefix(r, "530") || !strings.Contains(strings.ToLower(r), "too many sessions for this user") {
		t.Fatalf("a third session of web.bob, on the other node: %s; want 530 too many sessions", r)
	}
	f.Close()

	// A session that ends frees its place on the other node, within a
	// publish interval.
	first.cmd(t, "QUIT")
	waitUntil(t, 10*time.Second, "a place freed on the other node", func() bool {
		f, _ := dialFTP(t, b.addr())
		if strings.HasPrefix(f.login(t, "web.bob", goodPassword), "230") {
			return true // kept open
		}
		f.Close()
		return false
	})
	// Now 1 + 1 sessions from 127.0.0.1; the third from it is the last.
	rawLogin(t, b.addr(), "dev.bob", goodPassword)
	f, _ = dialFTP(t, b.addr())
	if r := f.login(t, "dev.bob", goodPassword); !strings.HasPrefix(r, "530") || !strings.Contains(strings.ToLower(r), "too many connections from your ip address") {
		t.Fatalf("a fourth session from 127.0.0.1 over two nodes: %s; want 530 too many connections", r)
	}
}

// TestClusterKilledNodeIsRemoved: the rows of a node killed outright, with
// its sessions, are removed by the other node once its heartbeat expired.
func TestClusterKilledNodeIsRemoved(t *testing.T) {
	t.Parallel()
	p := newPGCluster(t)
	p.node(p.dsn)
	b := p.node(p.dsn)
	rawLogin(t, b.addr(), "web.bob", goodPassword)
	waitUntil(t, 20*time.Second, "the session listed", func() bool { return len(p.cli.sessions(t)) == 1 })
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	took := waitUntil(t, 30*time.Second, "the killed node's rows removed", func() bool {
		return p.count("SELECT COUNT(*) FROM nodes") == 1 && p.count("SELECT COUNT(*) FROM sessions WHERE username <> ''") == 0
	})
	t.Logf("removed %v after the kill (node timeout 1 s)", took.Round(time.Millisecond))
	if got := p.cli.sessions(t); len(got) != 0 {
		t.Errorf("ftp connections lists the dead node's sessions: %+v", got)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// panelClient logs owner bob in to the panel at base.
func panelClient(t *testing.T, base, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the log-in page:\n%s", body)
	}
	res, err = hc.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "name": {"bob"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("panel log-in: %d", res.StatusCode)
	}
	return hc
}

// TestClusterStoreOutageLogsNoOneOut: the node's database is cut off for
// 10 s. The FTP session goes on, the owner watching View Connections is
// not logged out (503 with Retry-After meanwhile, then the same cookie
// works), and each background loop logs one line when it fails and one
// when it recovers.
func TestClusterStoreOutageLogsNoOneOut(t *testing.T) {
	t.Parallel()
	p := newPGCluster(t)
	p.cli.runStdin(goodPassword+"\n", "account", "password", "bob", "-")
	u, err := url.Parse(p.dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDBProxy(t, u.Host)
	u.Host = proxy.addr()
	n := p.node(u.String(), "--node-timeout", "20s")
	session := rawLogin(t, n.addr(), "web.bob", goodPassword)
	panel := fmt.Sprintf("http://127.0.0.1:%d", n.panelPort)
	owner := panelClient(t, panel, goodPassword)
	feed := func() (int, string) {
		res, err := owner.Get(panel + "/files/ftp/connections.json")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Set-Cookie")
	}
	if code, _ := feed(); code != http.StatusOK {
		t.Fatalf("connections feed before the outage: %d", code)
	}

	proxy.setCut(true)
	cutAt := time.Now()
	unavailable := 0
	for time.Since(cutAt) < 10*time.Second {
		code, cookie := feed()
		switch {
		case code == http.StatusServiceUnavailable:
			unavailable++
		case code != http.StatusOK:
			t.Fatalf("connections feed %v into the outage: %d (a logged-in owner must get 200 or 503)", time.Since(cutAt), code)
		}
		if cookie != "" {
			t.Fatalf("connections feed %v into the outage set a cookie: %s", time.Since(cutAt), cookie)
		}
		if r := session.cmd(t, "NOOP"); !strings.HasPrefix(r, "200") {
			t.Fatalf("FTP session %v into the outage: NOOP → %s", time.Since(cutAt), r)
		}
		time.Sleep(1500 * time.Millisecond) // the page's polling interval
	}
	if unavailable == 0 {
		t.Error("the connections feed never answered 503 during the outage")
	}
	proxy.setCut(false)
	waitUntil(t, 60*time.Second, "the connections feed back, with the same cookie", func() bool {
		code, _ := feed()
		return code == http.StatusOK
	})
	if r := session.cmd(t, "NOOP"); !strings.HasPrefix(r, "200") {
		t.Fatalf("FTP session after the outage: NOOP → %s", r)
	}
	waitUntil(t, 60*time.Second, "every loop recovered", func() bool {
		logs := n.logs.String()
		return strings.Contains(logs, "publishing this node's sessions to the store again") &&
			strings.Contains(logs, "reading the change feed again") && strings.Contains(logs, "listening for changes again")
	})
	logs := n.logs.String()
	for _, line := range []string{
		"cannot publish this node's sessions to the store", "publishing this node's sessions to the store again",
		"cannot read the change feed", "reading the change feed again",
		"cannot listen for changes", "listening for changes again",
	} {
		if got := strings.Count(logs, `msg="`+line); got != 1 {
			t.Errorf("%d log lines %q over a 10 s outage, want 1\n%s", got, line, logs)
		}
	}
}

package ftpd

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/jail"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// pgEnv names the PostgreSQL the cluster tests use; set, they must run.
const pgEnv = "PANELFTP_TEST_POSTGRES"

// openStores opens the same database twice, as two nodes do.
type openStores func(t *testing.T) (a, b *sqlstore.Store)

func sqliteStores(t *testing.T) (a, b *sqlstore.Store) {
	dir := t.TempDir()
	return mustStore(t, func() (*sqlstore.Store, error) { return sqlstore.OpenSQLite(dir) }),
		mustStore(t, func() (*sqlstore.Store, error) { return sqlstore.OpenSQLite(dir) })
}

// postgresStores opens a schema of its own in the test database, dropped
// when t ends.
func postgresStores(t *testing.T) (a, b *sqlstore.Store) {
	base := os.Getenv(pgEnv)
	if base == "" {
		t.Skipf("set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the cluster test on PostgreSQL", pgEnv)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b8 [6]byte
	_, _ = rand.Read(b8[:])
	schema := "t_ftpd_" + hex.EncodeToString(b8[:])
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("%s is set but PostgreSQL is not usable: %v", pgEnv, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	a = mustStore(t, func() (*sqlstore.Store, error) { return sqlstore.OpenPostgres(context.Background(), u.String()) })
	b = mustStore(t, func() (*sqlstore.Store, error) { return sqlstore.OpenPostgres(context.Background(), u.String()) })
	t.Cleanup(func() { // after the stores close (cleanups run last first)
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
		db.Close()
	})
	return a, b
}

func mustStore(t *testing.T, open func() (*sqlstore.Store, error)) *sqlstore.Store {
	t.Helper()
	st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clusterNode is one FTP server of a cluster test.
type clusterNode struct {
	srv  *Server
	addr string
}

// startNode serves FTP over st as node name.
func startNode(t *testing.T, st *sqlstore.Store, name string, logs *syncBuffer) *clusterNode {
	t.Helper()
	hasher := auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})).With("node", name)
	svc := service.New(st, hasher, service.Options{Logger: log})
	srv, err := New(Config{ListenAddr: "127.0.0.1:0", Quotas: st, Node: name, UploadMode: UploadDirect},
		svc, sessions.NewRegistry(sessions.Limits{}), log)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return &clusterNode{srv: srv, addr: srv.Addr().String()}
}

// TestQuotaAcrossNodes: two servers on one store, the same user uploading
// through both at once, three sessions on each: together they store no
// more than the quota plus one chunk per session, and the store counts
// what the folder holds. On SQLite (two stores on one file) and, with
// PANELFTP_TEST_POSTGRES, on PostgreSQL.
func TestQuotaAcrossNodes(t *testing.T) {
	for name, open := range map[string]openStores{"sqlite": sqliteStores, "postgres": postgresStores} {
		t.Run(name, func(t *testing.T) { testQuotaAcrossNodes(t, open) })
	}
}

func testQuotaAcrossNodes(t *testing.T, open openStores) {
	const (
		quotaMB         = 2
		perNode         = 3
		upload          = 1 << 20
		chunk           = (quotaMB << 20) / 16 // what a node reserves at a time for this quota
		sessionsInTotal = 2 * perNode
	)
	stA, stB := open(t)
	home := t.TempDir()
	uid := domain.NoID
	if os.Geteuid() == 0 {
		uid = testUID
	}
	hasher := auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	admin := service.New(stA, hasher, service.Options{})
	if _, err := admin.AddAccount(t.Context(), domain.NewAccount{Name: "bob", Home: home, UID: uid, GID: uid}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddFTPUser(t.Context(), domain.NewFTPUser{Account: "bob", Username: testUser, Password: testPass, Path: "/site", QuotaMB: quotaMB}); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	nodes := []*clusterNode{startNode(t, stA, "node-a", logs), startNode(t, stB, "node-b", logs)}

	var wg sync.WaitGroup
	start := make(chan struct{})
	refused := make(chan error, sessionsInTotal)
	for i := range sessionsInTotal {
		n := nodes[i%2]
		c := dialNode(t, n.addr)
		wg.Go(func() {
			<-start
			if err := c.Stor(fmt.Sprintf("/f%d.bin", i), bytes.NewReader(make([]byte, upload))); err != nil {
				refused <- err
			}
			c.Quit()
		})
	}
	close(start)
	wg.Wait()
	close(refused)
	n := 0
	for err := range refused {
		n++
		t.Logf("refused: %v", err)
	}
	u, err := jail.MeasureUsage(t.Context(), home, "site", 0)
	if err != nil {
		t.Fatal(err)
	}
	bound := int64(quotaMB<<20 + sessionsInTotal*chunk)
	t.Logf("%d uploads of %d KiB through 2 nodes: %d refused, %d bytes stored (quota %d, bound %d)",
		sessionsInTotal, upload>>10, n, u.Allocated, quotaMB<<20, bound)
	if u.Allocated > bound {
		t.Errorf("the nodes stored %d bytes under a %d MB quota: more than the quota plus one chunk per session (%d)", u.Allocated, quotaMB, bound)
	}
	if n == 0 {
		t.Errorf("no upload refused: %d MiB went into a %d MB quota", sessionsInTotal*upload>>20, quotaMB)
	}
	for _, node := range nodes {
		eventually(t, settle, "quotas released", func() bool { return node.srv.quotas.held() == 0 })
	}
	stored, _, _, err := stA.HoldQuota(t.Context(), testUser, "probe", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Bytes != u.Allocated || stored.Files != u.Files+u.Folders {
		t.Errorf("the store counts %d bytes and %d entries; the folder holds %d and %d", stored.Bytes, stored.Files, u.Allocated, u.Files+u.Folders)
	}
	if t.Failed() {
		t.Logf("server logs:\n%s", logs)
	}
}

func dialNode(t *testing.T, addr string) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(testUser, testPass); err != nil {
		t.Fatal(err)
	}
	return c
}

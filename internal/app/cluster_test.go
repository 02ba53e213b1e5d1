package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/feed"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// skewedNode is the part of a node that ends stale sessions — service,
// registry and change feed, wired as serve wires them — with its clock
// off by skew.
type skewedNode struct {
	svc *service.Service
	reg *sessions.Registry
}

func startSkewedNode(t *testing.T, open func() (*sqlstore.Store, error), skew time.Duration) *skewedNode {
	t.Helper()
	st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := func() time.Time { return time.Now().Add(skew) }
	log := slog.New(slog.DiscardHandler)
	n := &skewedNode{
		svc: service.New(st, auth.NewHasher(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2),
			service.Options{Now: now, Logger: log, Homes: service.HomeOptions{AllowRootOwner: true}}),
		reg: sessions.NewRegistry(sessions.Limits{}),
	}
	n.reg.Join(sessions.Cluster{Store: st, Node: sessions.NodeID(), Log: log, NodeTTL: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.reg.Run(ctx) })
	wg.Go(func() {
		feed.Run(ctx, st, feed.Config{Watcher: st, Log: log},
			feed.Follower{Name: "kicks", Apply: n.reg.Apply, Resync: n.reg.Resync})
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return n
}

// login opens a session of user with password on n, as the FTP engine does.
func (n *skewedNode) login(t *testing.T, user, password string) *sessions.Session {
	t.Helper()
	l, err := n.svc.Authenticate(t.Context(), user, password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.reg.Open(netip.MustParseAddrPort("192.0.2.1:40000"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Login(l.User.Username, l.Account.Name, l.Versions, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestPasswordChangeEndsSessionsWhateverTheClocks: a password change made
// on a node whose clock is an hour ahead of (or behind) the serving node's
// ends the session opened before it, and spares the one opened with the
// new password. A scheme comparing the changing node's clock with the
// serving node's lets sessions opened within the skew survive, or ends
// those opened after the change.
func TestPasswordChangeEndsSessionsWhateverTheClocks(t *testing.T) {
	const (
		oldPW = "Old-Passw0rd!"
		newPW = "New-Passw0rd!"
	)
	for _, skew := range []time.Duration{time.Hour, -time.Hour} {
		t.Run("changing node "+skew.String()+" off", func(t *testing.T) {
			open := postgresFresh(t)
			changer := startSkewedNode(t, open, skew)
			server := startSkewedNode(t, open, -skew)
			ctx := t.Context()
			if _, err := changer.svc.AddAccount(ctx, domain.NewAccount{Name: "bob", Home: t.TempDir(),
				UID: domain.NoID, GID: domain.NoID}); err != nil {
				t.Fatal(err)
			}
			if _, err := changer.svc.AddFTPUser(ctx, domain.NewFTPUser{Account: "bob", Username: "web.bob", Password: oldPW, Path: "/"}); err != nil {
				t.Fatal(err)
			}
			before := server.login(t, "web.bob", oldPW)
			if err := changer.svc.ChangeFTPPassword(ctx, "bob", "web.bob", newPW); err != nil {
				t.Fatal(err)
			}
			after := server.login(t, "web.bob", newPW)
			waitFor(t, "the session from before the change ended", before.Kicked)
			// The change has been applied on the serving node: the session
			// with the new password is not ended by it.
			if after.Kicked() {
				t.Error("the session opened with the new password was ended")
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// postgresFresh makes a schema of its own in PANELFTP_TEST_POSTGRES and
// returns how to open a store on it (once per node), or skips the test.
func postgresFresh(t *testing.T) func() (*sqlstore.Store, error) {
	t.Helper()
	base := os.Getenv("PANELFTP_TEST_POSTGRES")
	if base == "" {
		t.Skip("set PANELFTP_TEST_POSTGRES to a PostgreSQL URL to run the cluster tests")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_app_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PANELFTP_TEST_POSTGRES is set but PostgreSQL is not usable: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return func() (*sqlstore.Store, error) { return sqlstore.OpenPostgres(context.Background(), u.String()) }
}

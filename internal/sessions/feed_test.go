package sessions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/feed"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// downFeed fails reading the change feed until up is set.
type downFeed struct {
	store.Changes
	up atomic.Bool
}

func (d *downFeed) ChangesAfter(ctx context.Context, after int64, limit int) ([]store.Change, bool, error) {
	if !d.up.Load() {
		return nil, false, errors.New("connection refused")
	}
	return d.Changes.ChangesAfter(ctx, after, limit)
}

// TestKicksRequestedBeforeTheFeedReadsEndTheSessions: sessions log in
// before the node reads the change feed (it is starting, or the store is
// down); a password change and a kick by session ID requested after the
// log-ins still end them once the feed is read.
func TestKicksRequestedBeforeTheFeedReadsEndTheSessions(t *testing.T) {
	for _, storeDown := range []bool{false, true} {
		t.Run(fmt.Sprintf("store down at first: %v", storeDown), func(t *testing.T) {
			ctx := t.Context()
			st, err := sqlstore.OpenSQLite(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.CreateAccount(ctx, domain.Account{Name: "bob", Home: "/home/bob", Enabled: true}); err != nil {
				t.Fatal(err)
			}
			r := NewRegistry(Limits{})
			r.Join(Cluster{Store: st, Node: "n1"})
			login := func(user, remote string) *Session {
				t.Helper()
				if err := st.CreateFTPUser(ctx, domain.FTPUser{Username: user, Account: "bob", Path: "/", Enabled: true}, 0); err != nil {
					t.Fatal(err)
				}
				u, err := st.GetFTPUser(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				a, err := st.GetAccount(ctx, "bob")
				if err != nil {
					t.Fatal(err)
				}
				s := mustOpen(t, r, remote)
				if err := s.Login(user, "bob", domain.Versions{User: u.Version, Account: a.Version}, 0); err != nil {
					t.Fatal(err)
				}
				return s
			}
			changed, kicked, kept := login("dev.bob", "192.0.2.1:1"), login("web.bob", "192.0.2.1:2"), login("ops.bob", "192.0.2.1:3")
			u, err := st.GetFTPUser(ctx, "dev.bob")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.UpdateFTPUser(ctx, u, true); err != nil { // a new password
				t.Fatal(err)
			}
			if err := st.KickSession(ctx, kicked.ID()); err != nil {
				t.Fatal(err)
			}

			changes := &downFeed{Changes: st}
			changes.up.Store(!storeDown)
			ctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Go(func() {
				feed.Run(ctx, changes, feed.Config{Poll: 5 * time.Millisecond},
					feed.Follower{Name: "kicks", Apply: r.Apply, Resync: r.Resync})
			})
			defer func() { cancel(); wg.Wait() }()
			if storeDown {
				time.Sleep(50 * time.Millisecond) // several failed reads
				changes.up.Store(true)
			}
			waitFor(t, "both sessions ended", func() bool { return changed.Kicked() && kicked.Kicked() })
			if kept.Kicked() {
				t.Error("a session no change concerns was ended")
			}
		})
	}
}

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

// downFeed fails reading the change feed until up is set, counting the
// failed reads.
type downFeed struct {
	store.Changes
	up     atomic.Bool
	failed atomic.Int64
}

func (d *downFeed) ChangesAfter(ctx context.Context, after int64, limit int) ([]store.Change, bool, error) {
	if !d.up.Load() {
		d.failed.Add(1)
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
			st := openBobStore(t)
			r := NewRegistry(Limits{})
			r.Join(Cluster{Store: st, Node: "n1"})
			login := func(user, remote string) *Session { return loginAs(t, st, r, user, remote) }
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
				waitFor(t, "several failed reads", func() bool { return changes.failed.Load() >= 2 })
				changes.up.Store(true)
			}
			waitFor(t, "both sessions ended", func() bool { return changed.Kicked() && kicked.Kicked() })
			if kept.Kicked() {
				t.Error("a session no change concerns was ended")
			}
		})
	}
}

// startUpHooks runs do once, at one moment of a node's start-up: after
// the feed's first read, after the first re-read (Resync), after the
// first changes were applied, or after Run cleared the node's old
// sessions.
type startUpHooks struct {
	moment string
	do     func()
	once   sync.Once
}

func (h *startUpHooks) at(moment string) {
	if moment == h.moment {
		h.once.Do(h.do)
	}
}

// hookedChanges is the change feed with a hook after each read.
type hookedChanges struct {
	store.Changes
	h *startUpHooks
}

func (c *hookedChanges) ChangesAfter(ctx context.Context, after int64, limit int) ([]store.Change, bool, error) {
	changes, complete, err := c.Changes.ChangesAfter(ctx, after, limit)
	c.h.at("read")
	return changes, complete, err
}

// hookedStore is the session store with a hook after ClearNode.
type hookedStore struct {
	Store
	h *startUpHooks
}

func (s *hookedStore) ClearNode(ctx context.Context, node string) error {
	err := s.Store.ClearNode(ctx, node)
	s.h.at("clear")
	return err
}

// TestKicksRequestedDuringStartUpEndTheSessions: sessions logged in as
// the node starts; a password change and a kick by session ID requested
// at any moment of the start-up — between the feed's first read and the
// re-read, between the re-read and the first changes applied, after
// those, between Run's clearing of the node and its first publish — end
// them. Each moment is widened by doing the requests inside it. A node
// that took "where the feed is now" as its starting point after the
// re-read, rather than the oldest change kept, would lose the kick by ID
// requested in that gap.
func TestKicksRequestedDuringStartUpEndTheSessions(t *testing.T) {
	for _, moment := range []string{"read", "resync", "apply", "clear"} {
		t.Run("after "+moment, func(t *testing.T) {
			ctx := t.Context()
			st := openBobStore(t)
			h := &startUpHooks{moment: moment}
			r := NewRegistry(Limits{})
			r.publishEvery = 10 * time.Millisecond
			r.Join(Cluster{Store: &hookedStore{Store: st, h: h}, Node: "n1"})
			login := func(user, remote string) *Session { return loginAs(t, st, r, user, remote) }
			changed, kicked, kept := login("dev.bob", "192.0.2.1:1"), login("web.bob", "192.0.2.1:2"), login("ops.bob", "192.0.2.1:3")
			var requested atomic.Bool
			h.do = func() {
				u, err := st.GetFTPUser(ctx, "dev.bob")
				if err != nil {
					t.Error(err)
					return
				}
				if err := st.UpdateFTPUser(ctx, u, true); err != nil { // a new password
					t.Error(err)
				}
				if err := st.KickSession(ctx, kicked.ID()); err != nil {
					t.Error(err)
				}
				requested.Store(true)
			}

			ctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			wg.Go(func() { r.Run(ctx) })
			wg.Go(func() {
				feed.Run(ctx, &hookedChanges{Changes: st, h: h}, feed.Config{Poll: 5 * time.Millisecond}, feed.Follower{
					Name: "kicks",
					Apply: func(ctx context.Context, changes []store.Change) {
						r.Apply(ctx, changes)
						h.at("apply")
					},
					Resync: func(ctx context.Context) error {
						err := r.Resync(ctx)
						h.at("resync")
						return err
					},
				})
			})
			waitFor(t, "the requests made at "+moment, requested.Load)
			waitFor(t, "both sessions ended", func() bool { return changed.Kicked() && kicked.Kicked() })
			if kept.Kicked() {
				t.Error("a session no change concerns was ended")
			}
		})
	}
}

// openBobStore opens a SQLite store in a folder of its own that holds
// the account bob.
func openBobStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateAccount(t.Context(), domain.Account{Name: "bob", Home: "/home/bob", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return st
}

// loginAs adds the FTP user of bob to st and logs a session of r from
// remote in as that user, with the versions the store gave.
func loginAs(t *testing.T, st *sqlstore.Store, r *Registry, user, remote string) *Session {
	t.Helper()
	ctx := t.Context()
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

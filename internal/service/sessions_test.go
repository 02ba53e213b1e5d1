package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func session(id, user, account string) domain.Session {
	return domain.Session{
		ID: id, Username: user, Account: account, RemoteAddr: "198.51.100.7:50000", Client: "lftp",
		ConnectedAt: time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC), Activity: domain.ActivityIdle,
	}
}

func TestSessionsScopedByAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	if _, err := e.st.PublishSessions(e.ctx, "node1", time.Hour, []domain.Session{
		session("s-bob-1", "dev.bob", "bob"),
		session("s-bob-2", "web.bob", "bob"),
		session("s-alice-1", "dev.alice", "alice"),
	}, nil); err != nil {
		t.Fatal(err)
	}
	// A node whose heartbeat has expired has crashed: its sessions are not
	// shown and cannot be kicked.
	if _, err := e.st.PublishSessions(e.ctx, "node2", -time.Second, []domain.Session{
		session("s-bob-stale", "old.bob", "bob"),
	}, nil); err != nil {
		t.Fatal(err)
	}

	ids := func(list []domain.Session) string {
		var s []string
		for _, x := range list {
			s = append(s, x.ID)
		}
		return strings.Join(s, ",")
	}
	for account, want := range map[string]string{
		"bob":    "s-bob-1,s-bob-2",
		"alice":  "s-alice-1",
		"":       "s-alice-1,s-bob-1,s-bob-2",
		"nobody": "",
	} {
		t.Run("list "+account, func(t *testing.T) {
			list, err := e.svc.ListSessions(e.ctx, account)
			if err != nil || ids(list) != want {
				t.Fatalf("ListSessions(%q) = %q, %v, want %q", account, ids(list), err, want)
			}
		})
	}

	refused := []struct{ name, account, id string }{
		{"another account's session", "bob", "s-alice-1"},
		{"the other way round", "alice", "s-bob-1"},
		{"unknown session", "bob", "s-none"},
		{"unknown session as admin", "", "s-none"},
		{"stale node", "bob", "s-bob-stale"},
		{"stale node as admin", "", "s-bob-stale"},
	}
	for _, tc := range refused {
		t.Run("kick refused "+tc.name, func(t *testing.T) {
			seq := e.lastChange()
			wantErr(t, e.svc.Kick(e.ctx, tc.account, tc.id), domain.NotFound, "")
			if k := e.changesAfter(seq); len(k) != 0 {
				t.Fatalf("kick recorded: %q", k)
			}
		})
	}

	for _, tc := range []struct{ account, id string }{{"bob", "s-bob-2"}, {"", "s-alice-1"}} {
		t.Run("kick "+tc.id, func(t *testing.T) {
			seq := e.lastChange()
			if err := e.svc.Kick(e.ctx, tc.account, tc.id); err != nil {
				t.Fatal(err)
			}
			if k := e.changesAfter(seq); len(k) != 1 || k[0] != "session "+tc.id {
				t.Fatalf("changes %q, want a kick of session %s", k, tc.id)
			}
		})
	}
}

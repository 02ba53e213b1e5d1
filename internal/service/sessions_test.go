package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

func session(id, user, account string) domain.Session {
	return domain.Session{
		ID: id, Username: user, Account: account, RemoteAddr: "198.51.100.7:50000", Client: "lftp",
		ConnectedAt: time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC), Activity: domain.ActivityIdle,
	}
}

func TestSessionsScopedByAccount(t *testing.T) {
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	now := e.clock.Now()
	if err := e.st.PublishSessions(e.ctx, "node1", now, []domain.Session{
		session("s-bob-1", "dev.bob", "bob"),
		session("s-bob-2", "web.bob", "bob"),
		session("s-alice-1", "dev.alice", "alice"),
	}, nil); err != nil {
		t.Fatal(err)
	}
	// A node whose heartbeat is older than SessionTTL has crashed: its
	// sessions are not shown and cannot be kicked.
	if err := e.st.PublishSessions(e.ctx, "node2", now.Add(-2*service.SessionTTL), []domain.Session{
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
			seq := e.lastKick()
			wantErr(t, e.svc.Kick(e.ctx, tc.account, tc.id), domain.NotFound, "")
			if k := e.kicksAfter(seq); len(k) != 0 {
				t.Fatalf("kick recorded: %+v", k)
			}
		})
	}

	for _, tc := range []struct{ account, id string }{{"bob", "s-bob-2"}, {"", "s-alice-1"}} {
		t.Run("kick "+tc.id, func(t *testing.T) {
			seq := e.lastKick()
			if err := e.svc.Kick(e.ctx, tc.account, tc.id); err != nil {
				t.Fatal(err)
			}
			k := e.kicksAfter(seq)
			if len(k) != 1 || k[0].SessionID != tc.id || k[0].Username != "" || !k[0].At.Equal(e.clock.Now()) {
				t.Fatalf("kicks %+v, want one for session %s", k, tc.id)
			}
		})
	}

	t.Run("heartbeat expires", func(t *testing.T) {
		e.clock.Add(service.SessionTTL + time.Second)
		list, err := e.svc.ListSessions(e.ctx, "")
		if err != nil || len(list) != 0 {
			t.Fatalf("ListSessions after the heartbeat expired = %q, %v", ids(list), err)
		}
		wantErr(t, e.svc.Kick(e.ctx, "bob", "s-bob-1"), domain.NotFound, "")
		// A new heartbeat brings the node's sessions back.
		if err := e.st.PublishSessions(e.ctx, "node1", e.clock.Now(), nil, []string{"s-bob-2"}); err != nil {
			t.Fatal(err)
		}
		list, err = e.svc.ListSessions(e.ctx, "bob")
		if err != nil || ids(list) != "s-bob-1" {
			t.Fatalf("ListSessions after a new heartbeat = %q, %v", ids(list), err)
		}
	})
}

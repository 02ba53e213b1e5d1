package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// publish makes sessions look live on a node, as a running FTP node would.
func (e *env) publish(sessions ...domain.Session) {
	e.t.Helper()
	_, err := e.store.PublishSessions(context.Background(), "node-a", time.Hour, sessions, nil)
	if err != nil {
		e.t.Fatal(err)
	}
}

// kicks lists the changes that end sessions, as "kind key", oldest first.
func (e *env) kicks() []string {
	e.t.Helper()
	changes, _, err := e.store.ChangesAfter(context.Background(), 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	list := []string{}
	for _, c := range changes {
		if c.Kind == store.ChangeUser || c.Kind == store.ChangeAccount || c.Kind == store.ChangeSession {
			list = append(list, string(c.Kind)+" "+c.Key)
		}
	}
	return list
}

func TestListConnections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	e.publish(
		domain.Session{ID: "s1", Node: "node-a", Username: "dev.bob", Account: "bob", RemoteAddr: "203.0.113.5:50000",
			Client: "lftp 4.9", TLSControl: true, TLSData: true, ConnectedAt: at, LastActivity: at.Add(time.Minute),
			Activity: domain.ActivityUpload, File: "/site/a.zip", BytesDone: 1000, BytesTotal: 0, Speed: 500,
			BytesUp: 1000, BytesDown: 20},
		domain.Session{ID: "s2", Node: "node-a", Username: "dev.alice", Account: "alice", RemoteAddr: "198.51.100.2:40000",
			ConnectedAt: at, LastActivity: at, Activity: domain.ActivityIdle},
	)
	list := e.do(http.MethodGet, "/api/v1/connections", nil).want(t, http.StatusOK).list(t, "connections")
	if len(list) != 2 {
		t.Fatalf("connections %v, want 2", list)
	}
	want := map[string]any{
		"id": "s1", "node": "node-a", "username": "dev.bob", "account": "bob", "remote_addr": "203.0.113.5:50000",
		"client": "lftp 4.9", "tls_control": true, "tls_data": true, "connected_at": "2025-03-01T12:00:00Z",
		"last_activity": "2025-03-01T12:01:00Z", "activity": "upload", "file": "/site/a.zip", "bytes_done": 1000.0,
		"bytes_total": 0.0, "speed": 500.0, "bytes_up": 1000.0, "bytes_down": 20.0,
	}
	for k, v := range want {
		if list[0][k] != v {
			t.Errorf("%s = %v, want %v", k, list[0][k], v)
		}
	}
	if len(list[0]) != len(want) {
		t.Errorf("session has fields %v, want exactly %v", list[0], want)
	}
	list = e.do(http.MethodGet, "/api/v1/connections?account=Alice", nil).want(t, http.StatusOK).list(t, "connections")
	if len(list) != 1 || list[0]["id"] != "s2" {
		t.Errorf("alice's connections %v", list)
	}
	e.do(http.MethodGet, "/api/v1/connections?account=nobody", nil).wantError(t, 404, "not_found", "", "account nobody does not exist")
	e.do(http.MethodGet, "/api/v1/connections?user=x", nil).wantError(t, 400, "bad_request", "user", "")
}

func TestDisconnectQueuesAKick(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	now := time.Now()
	e.publish(domain.Session{ID: "s1", Node: "node-a", Username: "dev.bob", Account: "bob",
		RemoteAddr: "203.0.113.5:50000", ConnectedAt: now, LastActivity: now, Activity: domain.ActivityIdle})
	before := len(e.kicks())

	e.do(http.MethodDelete, "/api/v1/connections/nope", nil).wantError(t, 404, "not_found", "", "session nope is not connected")
	if kicks := e.kicks(); len(kicks) != before {
		t.Fatalf("kicks %q after a refused disconnect", kicks[before:])
	}

	m := e.do(http.MethodDelete, "/api/v1/connections/s1", nil).want(t, http.StatusAccepted).json(t)
	if m["id"] != "s1" || m["message"] == "" {
		t.Errorf("body %v", m)
	}
	if kicks := e.kicks()[before:]; len(kicks) != 1 || kicks[0] != "session s1" {
		t.Errorf("kicks %q: want one for session s1", kicks)
	}
}

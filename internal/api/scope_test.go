package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// accountToken returns the Authorization header of a token limited to
// account.
func (e *env) accountToken(account string) string {
	e.t.Helper()
	_, secret, err := e.svc.CreateAPIToken(context.Background(), domain.NewAPIToken{Label: "deploy", Account: account})
	if err != nil {
		e.t.Fatal(err)
	}
	return "Bearer " + secret
}

// An account's token manages its own FTP users and connections.
func TestAccountTokenOnItsAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 3)
	e.addAccount("alice", 0)
	e.addFTPUser("bob", "dev.bob", "/")
	e.addFTPUser("alice", "dev.alice", "/")
	bob := e.accountToken("bob")

	if m := e.doAuth(http.MethodGet, "/api/v1/accounts/BOB", nil, bob).want(t, 200).json(t); m["name"] != "bob" {
		t.Errorf("GET own account: %v", m)
	}
	e.doAuth(http.MethodPost, "/api/v1/accounts/bob/ftp-users", map[string]any{
		"username": "ci.bob", "password": testPassword, "path": "/site"}, bob).want(t, http.StatusCreated)
	e.doAuth(http.MethodPatch, "/api/v1/accounts/bob/ftp-users/ci.bob", map[string]any{"quota_mb": 50}, bob).want(t, 200)
	e.doAuth(http.MethodGet, "/api/v1/accounts/bob/ftp-users/ci.bob", nil, bob).want(t, 200)
	e.doAuth(http.MethodDelete, "/api/v1/accounts/bob/ftp-users/ci.bob", nil, bob).want(t, http.StatusNoContent)
	for _, path := range []string{"/api/v1/ftp-users", "/api/v1/ftp-users?account=bob", "/api/v1/accounts/bob/ftp-users"} {
		list := e.doAuth(http.MethodGet, path, nil, bob).want(t, 200).list(t, "ftp_users")
		if len(list) != 1 || list[0]["username"] != "dev.bob" {
			t.Errorf("GET %s: %v, want dev.bob only", path, list)
		}
	}
	at := time.Now().UTC()
	e.publish(
		domain.Session{ID: "sb", Node: "node-a", Username: "dev.bob", Account: "bob", ConnectedAt: at, LastActivity: at},
		domain.Session{ID: "sa", Node: "node-a", Username: "dev.alice", Account: "alice", ConnectedAt: at, LastActivity: at},
	)
	list := e.doAuth(http.MethodGet, "/api/v1/connections", nil, bob).want(t, 200).list(t, "connections")
	if len(list) != 1 || list[0]["id"] != "sb" {
		t.Errorf("connections %v, want bob's only", list)
	}
	e.doAuth(http.MethodDelete, "/api/v1/connections/sb", nil, bob).want(t, http.StatusAccepted)
}

// An account's token cannot reach another account, nor do what only an
// administrator may; nothing changes.
func TestAccountTokenRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 3)
	e.addAccount("alice", 0)
	e.addFTPUser("alice", "dev.alice", "/")
	at := time.Now().UTC()
	e.publish(domain.Session{ID: "sa", Node: "node-a", Username: "dev.alice", Account: "alice", ConnectedAt: at, LastActivity: at})
	bob := e.accountToken("bob")
	before := e.snapshot()

	others := []struct{ method, path string }{
		{http.MethodGet, "/api/v1/accounts/alice"},
		{http.MethodGet, "/api/v1/accounts/alice/ftp-users"},
		{http.MethodPost, "/api/v1/accounts/alice/ftp-users"},
		{http.MethodGet, "/api/v1/accounts/alice/ftp-users/dev.alice"},
		{http.MethodPatch, "/api/v1/accounts/alice/ftp-users/dev.alice"},
		{http.MethodDelete, "/api/v1/accounts/alice/ftp-users/dev.alice"},
		{http.MethodGet, "/api/v1/ftp-users?account=alice"},
		{http.MethodGet, "/api/v1/connections?account=alice"},
		{http.MethodDelete, "/api/v1/connections/sa?account=alice"},
		{http.MethodGet, "/api/v1/accounts/nobody"},
	}
	bodies := map[string]any{
		http.MethodPost:  map[string]any{"username": "x.alice", "password": testPassword, "path": "/"},
		http.MethodPatch: map[string]any{"path": "/other"},
	}
	for _, r := range others {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			m := e.doAuth(r.method, r.path, bodies[r.method], bob).wantError(t, http.StatusNotFound, "not_found", "", "")
			if msg, _ := m["error"].(string); !strings.Contains(msg, "does not exist") {
				t.Errorf("message %q", msg)
			}
		})
	}
	e.doAuth(http.MethodDelete, "/api/v1/connections/sa", nil, bob).wantError(t, http.StatusNotFound, "not_found", "", "session sa is not connected")

	admin := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/accounts", nil},
		{http.MethodPost, "/api/v1/accounts", map[string]any{"name": "eve", "home": e.home("eve")}},
		{http.MethodPatch, "/api/v1/accounts/bob", map[string]any{"ftp_limit": 0}},
		{http.MethodDelete, "/api/v1/accounts/bob?force=true", nil},
	}
	for _, r := range admin {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			m := e.doAuth(r.method, r.path, r.body, bob).wantError(t, http.StatusForbidden, "forbidden", "", "")
			if msg, _ := m["error"].(string); !strings.Contains(msg, "limited to account bob") || !strings.Contains(msg, "administrator") {
				t.Errorf("message %q", msg)
			}
		})
	}
	if after := e.snapshot(); after != before {
		t.Errorf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}
	if a, _ := e.svc.GetAccount(context.Background(), "bob"); a.FTPLimit != 3 {
		t.Errorf("bob's limit changed to %d", a.FTPLimit)
	}
}

// snapshot describes accounts and FTP users, to compare before and after.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	accounts, err := e.svc.ListAccounts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range accounts {
		b.WriteString(a.Name + " " + a.Home + " " + a.UpdatedAt.String() + "\n")
	}
	users, err := e.svc.ListFTPUsers(context.Background(), "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range users {
		b.WriteString(u.Username + " " + u.Path + " " + u.UpdatedAt.String() + "\n")
	}
	return b.String()
}

// An expired token is refused like a revoked one, saying it expired.
func TestExpiredTokenRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	for _, account := range []string{"", "bob"} {
		secret := "pftp_expired" + account
		sum := sha256.Sum256([]byte(secret))
		err := e.store.CreateAPIToken(context.Background(), domain.APIToken{
			ID: "old" + account, Name: "old", Hash: hex.EncodeToString(sum[:]), Account: account,
			ExpiresAt: time.Now().Add(-time.Minute), CreatedAt: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		r := e.doAuth(http.MethodGet, "/api/v1/accounts/bob", nil, "Bearer "+secret)
		m := r.wantError(t, http.StatusUnauthorized, "invalid_token", "", "")
		if msg, _ := m["error"].(string); !strings.Contains(msg, "expired") {
			t.Errorf("message %q does not say the token expired", msg)
		}
		if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
		}
	}
}

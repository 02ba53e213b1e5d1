package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// downStore is the real store, cut off while down is set: every read the
// panel makes for a logged-in page fails as a database outage does.
type downStore struct {
	*sqlstore.Store
	down atomic.Bool
}

var errOutage = domain.UnavailableErr(errors.New("dial tcp 10.0.0.5:5432: connect: connection refused"))

func (d *downStore) PanelLoggedOut(ctx context.Context, nonce string) (bool, error) {
	if d.down.Load() {
		return false, errOutage
	}
	return d.Store.PanelLoggedOut(ctx, nonce)
}

func (d *downStore) GetAccount(ctx context.Context, name string) (domain.Account, error) {
	if d.down.Load() {
		return domain.Account{}, errOutage
	}
	return d.Store.GetAccount(ctx, name)
}

func (d *downStore) ListAdmins(ctx context.Context) ([]domain.Admin, error) {
	if d.down.Load() {
		return nil, errOutage
	}
	return d.Store.ListAdmins(ctx)
}

func (d *downStore) ListSessions(ctx context.Context, account string) ([]domain.Session, error) {
	if d.down.Load() {
		return nil, errOutage
	}
	return d.Store.ListSessions(ctx, account)
}

// TestStoreOutageLogsNoOneOut: while the store does not answer, the live
// connections feed (polled every 1.5 s) and the pages answer 503 with
// Retry-After, and keep the cookie; once the store is back, the same
// browser carries on, logged in.
func TestStoreOutageLogsNoOneOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	down := &downStore{Store: e.st}
	e.svc = service.New(down, auth.NewHasher(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		service.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.srv = e.startPanel()
	owner := e.owner("bob", bobPanelPW)
	admin := e.client()
	if r := admin.login("/admin/login", "root", adminPW); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin log-in: %d", r.StatusCode)
	}

	down.down.Store(true)
	for _, tc := range []struct {
		who  string
		c    *client
		path string
	}{
		{"owner", owner, "/files/ftp/connections.json"},
		{"owner", owner, "/files/ftp/connections"},
		{"owner", owner, "/files/ftp"},
		{"admin", admin, "/admin/connections.json"},
		{"admin", admin, "/admin/accounts"},
	} {
		r := tc.c.get(tc.path)
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s during the outage: %d, Retry-After %q; want 503 with Retry-After", tc.who, tc.path, r.StatusCode, r.Header.Get("Retry-After"))
		}
		if c := r.Header.Get("Set-Cookie"); c != "" {
			t.Errorf("%s %s during the outage sets a cookie: %s", tc.who, tc.path, c)
		}
		if !strings.Contains(r.body, "briefly unavailable") || strings.Contains(r.body, "10.0.0.5") {
			t.Errorf("%s %s during the outage says %q; want the panel briefly unavailable, without the database's error", tc.who, tc.path, r.body)
		}
	}

	down.down.Store(false)
	if r := owner.get("/files/ftp/connections.json"); r.StatusCode != http.StatusOK {
		t.Errorf("owner's feed after the outage: %d, want 200 (still logged in)", r.StatusCode)
	}
	if r := admin.get("/admin/accounts"); r.StatusCode != http.StatusOK {
		t.Errorf("admin's page after the outage: %d, want 200 (still logged in)", r.StatusCode)
	}
}

package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestRequestsWithoutAValidTokenAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	revoked, revokedSecret, err := e.svc.CreateAPIToken(context.Background(), domain.NewAPIToken{Label: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteAPIToken(context.Background(), revoked.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, authz, code string }{
		{"no header", "", "missing_token"},
		{"empty bearer", "Bearer ", "missing_token"},
		{"basic scheme", "Basic Ym9iOnB3", "missing_token"},
		{"secret without scheme", e.secret, "missing_token"},
		{"wrong secret", "Bearer pftp_0123456789abcdef", "invalid_token"},
		{"secret with a character changed", "Bearer " + e.secret[:len(e.secret)-1] + "x", "invalid_token"},
		{"revoked token", "Bearer " + revokedSecret, "invalid_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requests := []struct {
				method, path string
				body         any
			}{
				{http.MethodPost, "/api/v1/accounts", map[string]any{"name": "eve", "home": e.home("eve")}},
				{http.MethodPatch, "/api/v1/accounts/bob", map[string]any{"enabled": false}},
				{http.MethodDelete, "/api/v1/accounts/bob?force=true", nil},
				{http.MethodGet, "/api/v1/accounts", nil},
			}
			for _, req := range requests {
				r := e.doAuth(req.method, req.path, req.body, c.authz)
				m := r.wantError(t, http.StatusUnauthorized, c.code, "", "")
				if m["hint"] == nil || !strings.Contains(m["hint"].(string), "panelftp admin token") {
					t.Errorf("hint %v does not say how to get a token", m["hint"])
				}
				challenge := r.header.Get("WWW-Authenticate")
				if !strings.HasPrefix(challenge, `Bearer realm="panelftp"`) {
					t.Errorf("WWW-Authenticate %q", challenge)
				}
				if (c.code == "invalid_token") != strings.Contains(challenge, `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q for %s", challenge, c.code)
				}
				if strings.Contains(string(r.body), "bob") {
					t.Errorf("refusal leaks data: %s", r.body)
				}
			}
			a, err := e.svc.GetAccount(context.Background(), "bob")
			if err != nil || !a.Enabled {
				t.Errorf("bob changed without a token: %+v, %v", a, err)
			}
			if got := e.accountNames(); len(got) != 1 {
				t.Errorf("accounts %v, want only bob", got)
			}
		})
	}
}

func TestValidTokenIsAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.doAuth(http.MethodGet, "/api/v1/accounts", nil, "bearer "+e.secret).want(t, http.StatusOK)
	e.doAuth(http.MethodGet, "/api/v1/accounts", nil, "Bearer  "+e.secret+" ").want(t, http.StatusOK)
}

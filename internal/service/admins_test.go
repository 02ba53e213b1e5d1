package service_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.svc.AddAdmin(e.ctx, "root1", pw1); err != nil {
		t.Fatal(err)
	}

	refusals := []struct {
		name, admin, password string
		kind                  domain.Kind
		field                 string
	}{
		{"duplicate", "root1", pw2, domain.Conflict, "name"},
		{"bad name", "Root-2", pw1, domain.Invalid, "name"},
		{"short name", "ro", pw1, domain.Invalid, "name"},
		{"empty name", "", pw1, domain.Invalid, "name"},
		{"weak password", "admin2", "password", domain.Invalid, "password"},
		{"password with name", "admin2", "My-Admin2-pw", domain.Invalid, "password"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := e.svc.ListAdmins(e.ctx)
			wantErr(t, e.svc.AddAdmin(e.ctx, tc.admin, tc.password), tc.kind, tc.field)
			after, _ := e.svc.ListAdmins(e.ctx)
			if len(before) != len(after) {
				t.Fatalf("admins %+v after refusal, were %+v", after, before)
			}
		})
	}

	admins, err := e.svc.ListAdmins(e.ctx)
	if err != nil || len(admins) != 1 || admins[0].Name != "root1" || !strings.HasPrefix(admins[0].PasswordHash, "$argon2id$") {
		t.Fatalf("ListAdmins = %+v, %v", admins, err)
	}

	logins := []struct {
		name, admin, password string
		want                  error
	}{
		{"right", "root1", pw1, nil},
		{"case-insensitive name", "ROOT1", pw1, nil},
		{"wrong password", "root1", pw2, domain.ErrBadCredentials},
		{"unknown", "nobody", pw1, domain.ErrBadCredentials},
		{"empty", "", "", domain.ErrBadCredentials},
	}
	for _, tc := range logins {
		t.Run("login "+tc.name, func(t *testing.T) {
			if err := e.svc.CheckAdminLogin(e.ctx, tc.admin, tc.password); err != tc.want {
				t.Fatalf("CheckAdminLogin = %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("set password", func(t *testing.T) {
		wantErr(t, e.svc.SetAdminPassword(e.ctx, "nobody", pw2), domain.NotFound, "")
		wantErr(t, e.svc.SetAdminPassword(e.ctx, "root1", "weak"), domain.Invalid, "password")
		if err := e.svc.CheckAdminLogin(e.ctx, "root1", pw1); err != nil {
			t.Fatalf("refused change altered the password: %v", err)
		}
		if err := e.svc.SetAdminPassword(e.ctx, "root1", pw2); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.CheckAdminLogin(e.ctx, "root1", pw1); err != domain.ErrBadCredentials {
			t.Fatalf("old password: %v", err)
		}
		if err := e.svc.CheckAdminLogin(e.ctx, "root1", pw2); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
	if strings.Contains(e.logs.String(), pw1) || strings.Contains(e.logs.String(), pw2) {
		t.Fatal("a password reached the log")
	}
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok, secret, err := e.svc.CreateAPIToken(e.ctx, domain.NewAPIToken{Label: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "pftp_") || len(secret) < 40 {
		t.Fatalf("secret %q is not a long pftp_ token", secret)
	}
	sum := sha256.Sum256([]byte(secret))
	if tok.Hash != hex.EncodeToString(sum[:]) || tok.Name != "billing" || tok.ID == "" || !tok.CreatedAt.Equal(e.clock.Now()) {
		t.Fatalf("token %+v", tok)
	}
	_, secret2, err := e.svc.CreateAPIToken(e.ctx, domain.NewAPIToken{Label: "backup"})
	if err != nil || secret2 == secret {
		t.Fatalf("second token: %q, %v", secret2, err)
	}

	// Only the hash is kept.
	list, err := e.svc.ListAPITokens(e.ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListAPITokens = %+v, %v", list, err)
	}
	for _, x := range list {
		for _, field := range []string{x.ID, x.Name, x.Hash} {
			if strings.Contains(field, strings.TrimPrefix(secret, "pftp_")) || strings.Contains(field, strings.TrimPrefix(secret2, "pftp_")) {
				t.Fatalf("stored token %+v holds its secret", x)
			}
		}
	}

	e.clock.Advance(time.Hour)
	got, err := e.svc.CheckAPIToken(e.ctx, secret)
	if err != nil || got.ID != tok.ID {
		t.Fatalf("CheckAPIToken(secret) = %+v, %v", got, err)
	}
	list, _ = e.svc.ListAPITokens(e.ctx)
	for _, x := range list {
		if x.ID == tok.ID && !x.LastUsed.Equal(e.clock.Now()) {
			t.Errorf("LastUsed = %v, want %v", x.LastUsed, e.clock.Now())
		}
	}

	for name, s := range map[string]string{
		"unknown":       "pftp_" + strings.Repeat("0", 64),
		"empty":         "",
		"hash itself":   tok.Hash,
		"other case":    strings.ToUpper(secret),
		"truncated":     secret[:len(secret)-1],
		"trailing junk": secret + " ",
	} {
		t.Run("refused "+name, func(t *testing.T) {
			if _, err := e.svc.CheckAPIToken(e.ctx, s); err != domain.ErrBadCredentials {
				t.Fatalf("CheckAPIToken = %v, want ErrBadCredentials", err)
			}
		})
	}

	for _, label := range []string{"", "  ", strings.Repeat("x", 65), "a\nb"} {
		_, _, err = e.svc.CreateAPIToken(e.ctx, domain.NewAPIToken{Label: label})
		wantErr(t, err, domain.Invalid, "label")
	}

	if err := e.svc.DeleteAPIToken(e.ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CheckAPIToken(e.ctx, secret); err != domain.ErrBadCredentials {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := e.svc.CheckAPIToken(e.ctx, secret2); err != nil {
		t.Fatalf("other token revoked too: %v", err)
	}
	wantErr(t, e.svc.DeleteAPIToken(e.ctx, tok.ID), domain.NotFound, "")
	if strings.Contains(e.logs.String(), strings.TrimPrefix(secret, "pftp_")) {
		t.Fatal("a token secret reached the log")
	}
}

// Account tokens name an existing account; expiries lie ahead and end
// the token when they pass.
func TestAPITokenScopeAndExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	_, _, err := e.svc.CreateAPIToken(e.ctx, domain.NewAPIToken{Label: "deploy", Account: "carol"})
	wantErr(t, err, domain.NotFound, "")
	_, _, err = e.svc.CreateAPIToken(e.ctx, domain.NewAPIToken{Label: "deploy", ExpiresAt: e.clock.Now()})
	wantErr(t, err, domain.Invalid, "expires")

	tok, secret, err := e.svc.CreateAPIToken(e.ctx, domain.NewAPIToken{Label: "deploy", Account: "BOB", ExpiresAt: e.clock.Now().Add(90 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Account != "bob" || !tok.ExpiresAt.Equal(e.clock.Now().Add(90*24*time.Hour)) {
		t.Errorf("token %+v", tok)
	}
	e.clock.Advance(90*24*time.Hour - time.Second)
	if got, err := e.svc.CheckAPIToken(e.ctx, secret); err != nil || got.Account != "bob" {
		t.Fatalf("a second before expiry: %+v, %v", got, err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.svc.CheckAPIToken(e.ctx, secret); !errors.Is(err, domain.ErrTokenExpired) {
		t.Fatalf("at expiry: %v, want ErrTokenExpired", err)
	}
	// Deleting the account deletes its tokens.
	_, secret2, err := e.svc.CreateAPIToken(e.ctx, domain.NewAPIToken{Label: "ci", Account: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteAccount(e.ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CheckAPIToken(e.ctx, secret2); err != domain.ErrBadCredentials {
		t.Errorf("token of a deleted account: %v", err)
	}
}

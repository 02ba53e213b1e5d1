package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addAccount("bob", 0)
	e.addAccount("alice", 0)
	e.addUser("bob", "dev.bob", "/example.com/dev")
	e.addUser("bob", "off.bob", "/")
	e.addUser("alice", "dev.alice", "/")
	if err := e.svc.SetFTPUserEnabled(e.ctx, "bob", "off.bob", false); err != nil {
		t.Fatal(err)
	}

	t.Run("success", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		login, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		if login.User.Username != "dev.bob" || login.Account.Name != "bob" {
			t.Fatalf("login = %+v", login)
		}
		if want := filepath.Join(a.Home, "example.com", "dev"); login.Directory != want {
			t.Fatalf("Directory = %q, want %q", login.Directory, want)
		}
		if !login.User.LastLoginAt.Equal(e.clock.Now()) || login.User.LastLoginIP != "198.51.100.7" {
			t.Fatalf("returned last login %v from %q", login.User.LastLoginAt, login.User.LastLoginIP)
		}
		u := e.storedUser("dev.bob")
		if !u.LastLoginAt.Equal(e.clock.Now()) || u.LastLoginIP != "198.51.100.7" {
			t.Fatalf("stored last login %v from %q, want %v from 198.51.100.7", u.LastLoginAt, u.LastLoginIP, e.clock.Now())
		}
		acct, err := e.svc.GetAccount(e.ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if want := (domain.Versions{User: u.Version, Account: acct.Version}); login.Versions != want || want.User == 0 || want.Account == 0 {
			t.Fatalf("log-in versions %+v, want the stored %+v", login.Versions, want)
		}
	})
	t.Run("case-insensitive username", func(t *testing.T) {
		for _, name := range []string{"DEV.BOB", "Dev.Bob", " dev.bob "} {
			if _, err := e.svc.Authenticate(e.ctx, name, pw1, "198.51.100.7"); err != nil {
				t.Errorf("Authenticate(%q) = %v", name, err)
			}
		}
	})

	refusals := []struct {
		name, user, password string
		want                 error
	}{
		{"wrong password", "dev.bob", pw2, domain.ErrBadCredentials},
		{"password in other case", "dev.bob", strings.ToLower(pw1), domain.ErrBadCredentials},
		{"empty password", "dev.bob", "", domain.ErrBadCredentials},
		{"unknown user", "nobody.bob", pw1, domain.ErrBadCredentials},
		{"empty user", "", pw1, domain.ErrBadCredentials},
		{"account name only", "bob", pw1, domain.ErrBadCredentials},
		{"disabled user", "off.bob", pw1, domain.ErrUserDisabled},
		// Without the password, a disabled user looks like any other.
		{"disabled user, wrong password", "off.bob", pw2, domain.ErrBadCredentials},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Minute)
			before := e.snapshot()
			login, err := e.svc.Authenticate(e.ctx, tc.user, tc.password, "203.0.113.9")
			if err != tc.want {
				t.Fatalf("Authenticate = %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(login, domain.Login{}) {
				t.Fatalf("refused log-in returned %+v", login)
			}
			e.unchanged(before) // in particular, no last login recorded
		})
	}

	t.Run("disabled account", func(t *testing.T) {
		if err := e.svc.SetAccountEnabled(e.ctx, "bob", false); err != nil {
			t.Fatal(err)
		}
		defer e.svc.SetAccountEnabled(e.ctx, "bob", true)
		before := e.snapshot()
		if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw1, "203.0.113.9"); err != domain.ErrAccountOff {
			t.Fatalf("Authenticate = %v, want ErrAccountOff", err)
		}
		if _, err := e.svc.Authenticate(e.ctx, "dev.bob", pw2, "203.0.113.9"); err != domain.ErrBadCredentials {
			t.Fatalf("Authenticate(wrong) = %v, want ErrBadCredentials", err)
		}
		// Other accounts are not affected.
		if _, err := e.svc.Authenticate(e.ctx, "dev.alice", pw1, "203.0.113.9"); err != nil {
			t.Fatalf("alice: %v", err)
		}
		e.unchanged(state{accounts: before.accounts, users: e.users(""), changeSeq: before.changeSeq, files: before.files})
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		// Whichever step notices the cancelled context first, a wrong
		// password never gets in.
		if _, err := e.svc.Authenticate(ctx, "dev.bob", pw2, "203.0.113.9"); err == nil {
			t.Fatal("Authenticate with a cancelled context and a wrong password succeeded")
		}
	})

	if strings.Contains(e.logs.String(), pw1) || strings.Contains(e.logs.String(), pw2) {
		t.Fatal("a password reached the log")
	}
}

func TestAuthenticateWithLoginCache(t *testing.T) {
	t.Parallel()
	cache := auth.NewVerifyCache(time.Minute, 100, nil)
	e := newEnv(t, func(o *service.Options) { o.LoginCache = cache })
	e.addAccount("bob", 0)
	e.addUser("bob", "dev.bob", "/")
	h := e.hasher

	login := func(password string) error {
		_, err := e.svc.Authenticate(e.ctx, "dev.bob", password, "198.51.100.7")
		return err
	}
	if err := login(pw1); err != nil {
		t.Fatal(err)
	}
	before := h.Checks()
	for i := 0; i < 5; i++ {
		if err := login(pw1); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.Checks() - before; n != 0 {
		t.Errorf("5 repeat log-ins ran %d argon2id checks, want 0 (cached)", n)
	}
	if err := login(pw2); !errors.Is(err, domain.ErrBadCredentials) {
		t.Errorf("wrong password with a warm cache: %v", err)
	}
	if err := e.svc.ChangeFTPPassword(e.ctx, "bob", "dev.bob", pw2); err != nil {
		t.Fatal(err)
	}
	if err := login(pw1); !errors.Is(err, domain.ErrBadCredentials) {
		t.Errorf("old password after a change: %v, want refused", err)
	}
	if err := login(pw2); err != nil {
		t.Errorf("new password: %v", err)
	}
}

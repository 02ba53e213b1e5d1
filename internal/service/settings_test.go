package service_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, saved, _, err := e.svc.Settings(e.ctx); err != nil || saved {
		t.Fatalf("fresh store: saved=%v err=%v, want none saved", saved, err)
	}
	refused := []struct {
		name  string
		set   domain.Settings
		field string
	}{
		{"hostname", domain.Settings{PublicHost: "ftp.example.com"}, "public_host"},
		{"IPv6", domain.Settings{PublicHost: "2001:db8::1"}, "public_host"},
		{"negative", domain.Settings{MaxPerUser: -1}, "max_per_user"},
		{"per IP above total", domain.Settings{MaxConnections: 10, MaxPerIP: 20}, "max_per_ip"},
		{"two-line banner", domain.Settings{Banner: "Welcome\r\n230 Logged in"}, "banner"},
		{"banner with a tab", domain.Settings{Banner: "Welcome\tfriends"}, "banner"},
		{"long banner", domain.Settings{Banner: strings.Repeat("é", domain.BannerMax+1)}, "banner"},
		{"banner not UTF-8", domain.Settings{Banner: "caf\xe9"}, "banner"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.SaveSettings(e.ctx, tc.set)
			if !errors.Is(err, domain.ErrInvalid) || domain.FieldOf(err) != tc.field {
				t.Fatalf("SaveSettings(%+v) = %v (field %q), want Invalid on %s", tc.set, err, domain.FieldOf(err), tc.field)
			}
			if _, saved, _, _ := e.svc.Settings(e.ctx); saved {
				t.Fatal("a refused SaveSettings saved something")
			}
		})
	}
	want := domain.Settings{PublicHost: "203.0.113.10", TLSRequired: true, MaxConnections: 100, MaxPerIP: 5, MaxPerUser: 3,
		Banner: strings.Repeat("é", domain.BannerMax), HideServerName: true}
	typed := want
	typed.Banner = "  " + want.Banner + " "
	if err := e.svc.SaveSettings(e.ctx, typed); err != nil {
		t.Fatal(err)
	}
	if got, saved, at, err := e.svc.Settings(e.ctx); err != nil || !saved || got != want || !at.Equal(e.clock.Now()) {
		t.Fatalf("Settings = %+v saved=%v at %v err=%v", got, saved, at, err)
	}
	if err := e.svc.ResetSettings(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, saved, _, _ := e.svc.Settings(e.ctx); saved {
		t.Fatal("settings still saved after ResetSettings")
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

var settingsCases = []testCase{
	{"none saved is NotFound", func(t *testing.T, s store.Store) {
		if _, _, err := s.GetSettings(context.Background()); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("GetSettings on an empty store = %v, want ErrNotFound", err)
		}
		if err := s.DeleteSettings(context.Background()); err != nil {
			t.Fatalf("DeleteSettings with none saved = %v, want nil", err)
		}
	}},
	{"put, replace, get, delete", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
		first := domain.Settings{PublicHost: "203.0.113.10", TLSRequired: true, MaxConnections: 900, MaxPerIP: 30, MaxPerUser: 5,
			Banner: "Welcome to Example Hosting — FTP für alle", HideServerName: true}
		if err := s.PutSettings(ctx, first, at); err != nil {
			t.Fatal(err)
		}
		if got, _, err := s.GetSettings(ctx); err != nil || got != first {
			t.Fatalf("GetSettings = %+v, %v; want every field back: %+v", got, err, first)
		}
		if err := s.PutSettings(ctx, first, at); err != nil {
			t.Fatal(err)
		}
		second := domain.Settings{MaxPerUser: 2}
		if err := s.PutSettings(ctx, second, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, gotAt, err := s.GetSettings(ctx)
		if err != nil || got != second || !gotAt.Equal(at.Add(time.Minute)) {
			t.Fatalf("GetSettings = %+v at %v, %v; want %+v at %v", got, gotAt, err, second, at.Add(time.Minute))
		}
		if err := s.DeleteSettings(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.GetSettings(ctx); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("after DeleteSettings: %v, want ErrNotFound", err)
		}
	}},
}

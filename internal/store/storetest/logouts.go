package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/store"
)

var logoutCases = []testCase{
	{"a log-out is remembered until its session expires", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC)
		loggedOut := func(nonce string) bool {
			t.Helper()
			out, err := s.PanelLoggedOut(ctx, nonce)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if loggedOut("a") {
			t.Fatal("a nonce never logged out is reported logged out")
		}
		if err := s.AddPanelLogout(ctx, "a", now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if err := s.AddPanelLogout(ctx, "a", now.Add(time.Hour), now); err != nil {
			t.Fatalf("logging out twice: %v", err)
		}
		if err := s.AddPanelLogout(ctx, "b", now.Add(3*time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if !loggedOut("a") || !loggedOut("b") || loggedOut("c") {
			t.Fatal("want a and b logged out, c not")
		}
		// Two hours later a has expired and is forgotten; b is kept.
		if err := s.AddPanelLogout(ctx, "c", now.Add(4*time.Hour), now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if loggedOut("a") || !loggedOut("b") || !loggedOut("c") {
			t.Fatal("want a forgotten after its expiry, b and c logged out")
		}
	}},
}

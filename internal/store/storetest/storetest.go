// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite, PostgreSQL, any future one) runs the same Run and
// so behaves the same for the rest of panelftp — errors, ordering, time
// precision, atomicity of the FTP sub-user limit.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// testCase is one subtest run on a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run runs the whole suite and returns when it is done. Every subtest
// calls open, which must return a new, empty store that no other test
// sees (a fresh file, a fresh schema) and close it when t ends
// (t.Cleanup); open is called from parallel subtests. The subtests of a
// group run in parallel, the groups one after the other.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Empty", emptyCases},
		{"Accounts", accountCases},
		{"FTPUsers", ftpUserCases},
		{"Limit", limitCases},
		{"Sessions", sessionCases},
		{"Admins", adminCases},
		{"APITokens", tokenCases},
		{"Bans", banCases},
		{"LoginFailures", failureCases},
		{"Changes", changeCases},
		{"Claims", claimCases},
		{"Settings", settingsCases},
		{"PanelLogouts", logoutCases},
		{"Quotas", quotaCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, open(t))
				})
			}
		})
	}
	t.Run("Isolated", func(t *testing.T) { testIsolated(t, open) })
}

// t0 has nanoseconds and a non-UTC zone on purpose: stores keep
// microseconds and return UTC (see at).
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+1", 3600))

// at is t0 plus d, a time as callers pass it in.
func at(d time.Duration) time.Time { return t0.Add(d) }

// stored is how a store returns tm: microsecond precision, UTC, and the
// zero time unchanged.
func stored(tm time.Time) time.Time {
	if tm.IsZero() {
		return time.Time{}
	}
	return tm.Truncate(time.Microsecond).UTC()
}

// check fails t at once when err is not nil.
func check(t *testing.T, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// wantErr fails t unless errors.Is(err, target) and err is a *domain.Error
// with a message for people.
func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, kindName(target))
	}
	if err.Error() == "" {
		t.Fatalf("%s: %s error has no message", what, kindName(target))
	}
}

func kindName(target error) string {
	switch domain.KindOf(target) {
	case domain.NotFound:
		return "ErrNotFound"
	case domain.Conflict:
		return "ErrConflict"
	case domain.LimitReached:
		return "ErrLimitReached"
	}
	return fmt.Sprint(target)
}

// same fails t unless got and want are deeply equal. Times compare with
// reflect too, so a non-UTC location or a lost microsecond shows up.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// keys maps list to the key of each element, to compare contents and order.
func keys[T any](list []T, key func(T) string) []string {
	out := []string{}
	for _, v := range list {
		out = append(out, key(v))
	}
	return out
}

var emptyCases = []testCase{
	{"every list is empty", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		accounts, err := s.ListAccounts(ctx)
		check(t, err, "ListAccounts")
		users, err := s.ListFTPUsers(ctx, "")
		check(t, err, "ListFTPUsers")
		sessions, err := s.ListSessions(ctx, "")
		check(t, err, "ListSessions")
		changes, complete, err := s.ChangesAfter(ctx, 0, 10)
		check(t, err, "ChangesAfter")
		admins, err := s.ListAdmins(ctx)
		check(t, err, "ListAdmins")
		tokens, err := s.ListAPITokens(ctx)
		check(t, err, "ListAPITokens")
		bans, err := s.ListBans(ctx, time.Time{})
		check(t, err, "ListBans")
		n := len(accounts) + len(users) + len(sessions) + len(changes) + len(admins) + len(tokens) + len(bans)
		if n != 0 || !complete {
			t.Fatalf("new store holds %d rows, change feed complete %v; want an empty store and a complete feed", n, complete)
		}
	}},
}

// testIsolated checks the Opener contract the rest of the suite relies on.
func testIsolated(t *testing.T, open func(t *testing.T) store.Store) {
	a, b := open(t), open(t)
	check(t, a.CreateAccount(t.Context(), account("bob")), "CreateAccount")
	list, err := b.ListAccounts(t.Context())
	check(t, err, "ListAccounts")
	if len(list) != 0 {
		t.Fatalf("a second store sees the first one's accounts %v: each open must give an isolated store", keys(list, accountName))
	}
}

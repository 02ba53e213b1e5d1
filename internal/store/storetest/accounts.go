package storetest

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

func account(name string) domain.Account {
	return domain.Account{
		Name: name, Home: "/home/" + name, UID: 1001, GID: 1002, FTPLimit: 3,
		PanelPasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", Enabled: true,
		CreatedAt: at(0), UpdatedAt: at(time.Hour + 123*time.Nanosecond),
	}
}

func storedAccount(a domain.Account) domain.Account {
	a.CreatedAt, a.UpdatedAt = stored(a.CreatedAt), stored(a.UpdatedAt)
	return a
}

func accountName(a domain.Account) string { return a.Name }

// accountUnversioned and userUnversioned drop the Version the store sets,
// for comparing with what was written (versions are tested apart).
func accountUnversioned(a domain.Account) domain.Account { a.Version = 0; return a }

func userUnversioned(u domain.FTPUser) domain.FTPUser { u.Version = 0; return u }

func ftpUser(username string) domain.FTPUser {
	_, acct := domain.SplitUsername(username)
	return domain.FTPUser{
		Username: username, Account: acct, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + username,
		Path: "/example.com/dev", QuotaMB: 512, Enabled: true, CreatedAt: at(time.Minute), UpdatedAt: at(2 * time.Minute),
	}
}

// controls sets every control to a value other than its zero, IPv4 and
// IPv6 networks and single addresses in both lists.
func controls() domain.Controls {
	return domain.Controls{
		MaxFiles: 25000, UploadKBps: 200, DownloadKBps: 1 << 20,
		AllowIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("198.51.100.7/32")},
		DenyIPs:  []netip.Prefix{netip.MustParsePrefix("192.0.2.66/32"), netip.MustParsePrefix("2001:db8::bad/128")},
		ReadOnly: true, TLSRequired: true,
		Expires:     time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC),
		MaxSessions: 3,
	}
}

func storedUser(u domain.FTPUser) domain.FTPUser {
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = stored(u.CreatedAt), stored(u.UpdatedAt), stored(u.LastLoginAt)
	return u
}

func username(u domain.FTPUser) string { return u.Username }

// withAccounts creates the accounts and the sub-users (all in the store
// s; sub-users go to the account after their dot; no limit).
func withAccounts(t *testing.T, s store.Store, accounts []string, users ...string) {
	t.Helper()
	for _, a := range accounts {
		check(t, s.CreateAccount(t.Context(), account(a)), "CreateAccount %s", a)
	}
	for _, u := range users {
		check(t, s.CreateFTPUser(t.Context(), ftpUser(u), 0), "CreateFTPUser %s", u)
	}
}

var accountCases = []testCase{
	{"create and get round-trip every field", func(t *testing.T, s store.Store) {
		a := account("bob")
		a.UID, a.GID, a.FTPLimit, a.Enabled = domain.NoID, domain.NoID, 0, false
		check(t, s.CreateAccount(t.Context(), a), "CreateAccount")
		got, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		same(t, "GetAccount", accountUnversioned(got), storedAccount(a))
		if got.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreatedAt is in %v, want UTC", got.CreatedAt.Location())
		}
	}},
	{"zero times stay zero", func(t *testing.T, s store.Store) {
		a := account("bob")
		a.CreatedAt, a.UpdatedAt = time.Time{}, time.Time{}
		check(t, s.CreateAccount(t.Context(), a), "CreateAccount")
		got, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		if !got.CreatedAt.IsZero() || !got.UpdatedAt.IsZero() {
			t.Fatalf("zero times came back as %v, %v", got.CreatedAt, got.UpdatedAt)
		}
	}},
	{"duplicate name is a conflict", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		err := s.CreateAccount(t.Context(), account("bob"))
		wantErr(t, err, domain.ErrConflict, "second CreateAccount bob")
		if !strings.Contains(err.Error(), "bob") {
			t.Fatalf("conflict message %q does not name the account", err)
		}
	}},
	{"get missing is not found", func(t *testing.T, s store.Store) {
		_, err := s.GetAccount(t.Context(), "nobody")
		wantErr(t, err, domain.ErrNotFound, "GetAccount nobody")
	}},
	{"list is ordered by name", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"carol", "alice", "bob10", "bob"})
		list, err := s.ListAccounts(t.Context())
		check(t, err, "ListAccounts")
		same(t, "ListAccounts", keys(list, accountName), []string{"alice", "bob", "bob10", "carol"})
		same(t, "ListAccounts[0]", accountUnversioned(list[0]), storedAccount(account("alice")))
	}},
	{"update replaces every field", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		a := domain.Account{Name: "bob", Home: "/srv/bob", UID: 2000, GID: 2001, FTPLimit: 7,
			PanelPasswordHash: "", Enabled: false, CreatedAt: at(-time.Hour), UpdatedAt: at(3 * time.Hour)}
		check(t, s.UpdateAccount(t.Context(), a), "UpdateAccount")
		got, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		same(t, "after UpdateAccount", accountUnversioned(got), storedAccount(a))
	}},
	{"concurrent checked adds see each other", testCheckedAddRace},
	{"modify applies the change to the account as stored", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		before, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		// A panel password keeps the version; disabling gives a new one.
		saved, err := s.ModifyAccount(t.Context(), "bob", func(a domain.Account) (domain.Account, error) {
			a.PanelPasswordHash = "other"
			return a, nil
		})
		check(t, err, "ModifyAccount")
		same(t, "version after a panel password change", saved.Version, before.Version)
		saved, err = s.ModifyAccount(t.Context(), "bob", func(a domain.Account) (domain.Account, error) {
			a.Enabled = false
			return a, nil
		})
		check(t, err, "ModifyAccount")
		got, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		same(t, "returned by ModifyAccount", saved, got)
		if got.PanelPasswordHash != "other" || got.Enabled {
			t.Fatalf("after two modifications: %+v, want the password of the first and disabled", got)
		}
		if got.Version <= before.Version {
			t.Fatalf("version %d after disabling, %d before", got.Version, before.Version)
		}
		refused := errors.New("refused")
		_, err = s.ModifyAccount(t.Context(), "bob", func(a domain.Account) (domain.Account, error) {
			a.FTPLimit, a.Enabled = 1, true
			return a, refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("ModifyAccount refused by its change: %v, want the change's error", err)
		}
		after, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		same(t, "after a refused modification", after, got)
		_, err = s.ModifyAccount(t.Context(), "nobody", func(a domain.Account) (domain.Account, error) { return a, nil })
		wantErr(t, err, domain.ErrNotFound, "ModifyAccount nobody")
	}},
	{"concurrent account modifications are all kept", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		const n = 10
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := s.ModifyAccount(t.Context(), "bob", func(a domain.Account) (domain.Account, error) {
					a.FTPLimit++
					a.Enabled = i%2 == 0 // half of them record a change
					return a, nil
				})
				if err != nil {
					t.Errorf("ModifyAccount %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		got, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		if want := account("bob").FTPLimit + n; got.FTPLimit != want {
			t.Fatalf("FTP limit %d after %d concurrent increments, want %d", got.FTPLimit, n, want)
		}
	}},
	{"update missing is not found", func(t *testing.T, s store.Store) {
		wantErr(t, s.UpdateAccount(t.Context(), account("nobody")), domain.ErrNotFound, "UpdateAccount nobody")
	}},
	{"delete", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob", "carol"})
		check(t, s.DeleteAccount(t.Context(), "bob"), "DeleteAccount")
		_, err := s.GetAccount(t.Context(), "bob")
		wantErr(t, err, domain.ErrNotFound, "GetAccount after delete")
		wantErr(t, s.DeleteAccount(t.Context(), "bob"), domain.ErrNotFound, "second DeleteAccount")
		list, err := s.ListAccounts(t.Context())
		check(t, err, "ListAccounts")
		same(t, "accounts left", keys(list, accountName), []string{"carol"})
	}},
	{"delete takes the sub-users along", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob", "carol"}, "dev.bob", "web.bob", "dev.carol")
		check(t, s.DeleteAccount(t.Context(), "bob"), "DeleteAccount")
		_, err := s.GetFTPUser(t.Context(), "dev.bob")
		wantErr(t, err, domain.ErrNotFound, "GetFTPUser of a deleted account")
		n, err := s.CountFTPUsers(t.Context(), "bob")
		check(t, err, "CountFTPUsers")
		list, err := s.ListFTPUsers(t.Context(), "")
		check(t, err, "ListFTPUsers")
		if n != 0 || len(list) != 1 || list[0].Username != "dev.carol" {
			t.Fatalf("after deleting bob: %d sub-users of bob, all sub-users %v; want 0 and [dev.carol]", n, keys(list, username))
		}
		// The name is free again, without ghosts of the old sub-users.
		withAccounts(t, s, []string{"bob"})
		n, err = s.CountFTPUsers(t.Context(), "bob")
		check(t, err, "CountFTPUsers")
		if n != 0 {
			t.Fatalf("re-created account bob has %d sub-users", n)
		}
	}},
}

var ftpUserCases = []testCase{
	{"create and get round-trip every field", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		u := ftpUser("dev.bob")
		u.Enabled, u.QuotaMB, u.Path = false, 0, "/"
		check(t, s.CreateFTPUser(t.Context(), u, 0), "CreateFTPUser")
		got, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		same(t, "GetFTPUser", userUnversioned(got), storedUser(u))
		if !got.LastLoginAt.IsZero() || got.LastLoginIP != "" {
			t.Fatalf("new user has a last log-in: %v from %q", got.LastLoginAt, got.LastLoginIP)
		}
	}},
	{"duplicate username is a conflict", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		err := s.CreateFTPUser(t.Context(), ftpUser("dev.bob"), 0)
		wantErr(t, err, domain.ErrConflict, "second CreateFTPUser dev.bob")
		if domain.FieldOf(err) != "username" || !strings.Contains(err.Error(), "dev.bob") {
			t.Fatalf("conflict %q (field %q): want field username and the username in the message", err, domain.FieldOf(err))
		}
	}},
	{"duplicate username with a limit is a conflict", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		wantErr(t, s.CreateFTPUser(t.Context(), ftpUser("dev.bob"), 5), domain.ErrConflict, "second CreateFTPUser dev.bob")
	}},
	{"create in a missing account is not found", func(t *testing.T, s store.Store) {
		err := s.CreateFTPUser(t.Context(), ftpUser("dev.nobody"), 0)
		wantErr(t, err, domain.ErrNotFound, "CreateFTPUser dev.nobody")
		if !strings.Contains(err.Error(), "account nobody") {
			t.Fatalf("message %q does not name the missing account", err)
		}
		wantErr(t, s.CreateFTPUser(t.Context(), ftpUser("web.nobody"), 3), domain.ErrNotFound, "CreateFTPUser with limit")
	}},
	{"get missing is not found", func(t *testing.T, s store.Store) {
		_, err := s.GetFTPUser(t.Context(), "dev.bob")
		wantErr(t, err, domain.ErrNotFound, "GetFTPUser dev.bob")
	}},
	{"list and count by account, ordered by username", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob", "carol"}, "web.bob", "a.carol", "dev.bob", "admin.bob")
		tests := []struct {
			account string
			want    []string
		}{
			{"bob", []string{"admin.bob", "dev.bob", "web.bob"}},
			{"carol", []string{"a.carol"}},
			{"nobody", []string{}},
			{"", []string{"a.carol", "admin.bob", "dev.bob", "web.bob"}},
		}
		for _, tt := range tests {
			list, err := s.ListFTPUsers(t.Context(), tt.account)
			check(t, err, "ListFTPUsers %q", tt.account)
			same(t, fmt.Sprintf("ListFTPUsers(%q)", tt.account), keys(list, username), tt.want)
			if tt.account == "" {
				continue
			}
			n, err := s.CountFTPUsers(t.Context(), tt.account)
			check(t, err, "CountFTPUsers")
			same(t, fmt.Sprintf("CountFTPUsers(%q)", tt.account), n, len(tt.want))
		}
	}},
	{"create and get round-trip every control", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		u := ftpUser("dev.bob")
		u.Controls = controls()
		check(t, s.CreateFTPUser(t.Context(), u, 0), "CreateFTPUser")
		got, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		same(t, "GetFTPUser", userUnversioned(got), storedUser(u))
		list, err := s.ListFTPUsers(t.Context(), "bob")
		check(t, err, "ListFTPUsers")
		same(t, "ListFTPUsers", keys(list, func(u domain.FTPUser) string { return fmt.Sprintf("%+v", userUnversioned(u)) }),
			[]string{fmt.Sprintf("%+v", storedUser(u))})
	}},
	{"update replaces hash, path, quota, controls, enabled and updated time", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		check(t, s.RecordLogin(t.Context(), "dev.bob", at(time.Hour), "192.0.2.7"), "RecordLogin")
		u := ftpUser("dev.bob")
		u.PasswordHash, u.Path, u.QuotaMB, u.Enabled, u.UpdatedAt = "new-hash", "/other", 0, false, at(2*time.Hour)
		u.Controls = controls()
		check(t, s.UpdateFTPUser(t.Context(), u, true), "UpdateFTPUser with controls")
		got, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		same(t, "controls after UpdateFTPUser", got.Controls, u.Controls)
		u.Controls = domain.Controls{} // and back to no limits
		check(t, s.UpdateFTPUser(t.Context(), u, true), "UpdateFTPUser")
		got, err = s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		u.LastLoginAt, u.LastLoginIP = at(time.Hour), "192.0.2.7" // kept
		same(t, "after UpdateFTPUser", userUnversioned(got), storedUser(u))
	}},
	{"update missing is not found", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		wantErr(t, s.UpdateFTPUser(t.Context(), ftpUser("dev.bob"), true), domain.ErrNotFound, "UpdateFTPUser dev.bob")
	}},
	{"modify applies the change to the user as stored", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		before, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		saved, err := s.ModifyFTPUser(t.Context(), "dev.bob", func(u domain.FTPUser) (domain.FTPUser, bool, error) {
			u.Controls = controls()
			return u, true, nil
		})
		check(t, err, "ModifyFTPUser")
		got, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		same(t, "returned by ModifyFTPUser", saved, got)
		same(t, "controls after ModifyFTPUser", got.Controls, controls())
		if got.Version <= before.Version {
			t.Fatalf("version %d after a modification that ends the sessions, %d before", got.Version, before.Version)
		}
		refused := errors.New("refused")
		_, err = s.ModifyFTPUser(t.Context(), "dev.bob", func(u domain.FTPUser) (domain.FTPUser, bool, error) {
			u.QuotaMB = 1
			return u, true, refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("ModifyFTPUser refused by its change: %v, want the change's error", err)
		}
		after, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		same(t, "after a refused modification", after, got)
		_, err = s.ModifyFTPUser(t.Context(), "web.bob", func(u domain.FTPUser) (domain.FTPUser, bool, error) { return u, false, nil })
		wantErr(t, err, domain.ErrNotFound, "ModifyFTPUser web.bob")
	}},
	{"concurrent modifications are all kept", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		const n = 10
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := s.ModifyFTPUser(t.Context(), "dev.bob", func(u domain.FTPUser) (domain.FTPUser, bool, error) {
					u.QuotaMB++
					return u, i%2 == 0, nil
				})
				if err != nil {
					t.Errorf("ModifyFTPUser %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		got, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		if want := ftpUser("dev.bob").QuotaMB + n; got.QuotaMB != want {
			t.Fatalf("quota %d after %d concurrent increments, want %d", got.QuotaMB, n, want)
		}
	}},
	{"delete", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob", "web.bob")
		check(t, s.DeleteFTPUser(t.Context(), "dev.bob"), "DeleteFTPUser")
		_, err := s.GetFTPUser(t.Context(), "dev.bob")
		wantErr(t, err, domain.ErrNotFound, "GetFTPUser after delete")
		wantErr(t, s.DeleteFTPUser(t.Context(), "dev.bob"), domain.ErrNotFound, "second DeleteFTPUser")
		list, err := s.ListFTPUsers(t.Context(), "bob")
		check(t, err, "ListFTPUsers")
		same(t, "users left", keys(list, username), []string{"web.bob"})
		_, err = s.GetAccount(t.Context(), "bob")
		check(t, err, "the account survives its sub-user")
	}},
	{"record login", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		check(t, s.RecordLogin(t.Context(), "dev.bob", at(time.Hour), "192.0.2.7"), "RecordLogin")
		check(t, s.RecordLogin(t.Context(), "dev.bob", at(2*time.Hour), "2001:db8::1"), "RecordLogin")
		got, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		same(t, "LastLoginAt", got.LastLoginAt, stored(at(2*time.Hour)))
		same(t, "LastLoginIP", got.LastLoginIP, "2001:db8::1")
		wantErr(t, s.RecordLogin(t.Context(), "web.bob", at(0), "192.0.2.7"), domain.ErrNotFound, "RecordLogin web.bob")
	}},
}

var limitCases = []testCase{
	{"the limit refuses one more", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob", "carol"}, "dev.carol", "web.carol", "ops.carol")
		for _, u := range []string{"a.bob", "b.bob"} {
			check(t, s.CreateFTPUser(t.Context(), ftpUser(u), 2), "CreateFTPUser %s under limit 2", u)
		}
		err := s.CreateFTPUser(t.Context(), ftpUser("c.bob"), 2)
		wantErr(t, err, domain.ErrLimitReached, "third CreateFTPUser with limit 2")
		same(t, "limit error field", domain.FieldOf(err), "username")
		if !strings.Contains(err.Error(), "bob") || !strings.Contains(err.Error(), "2") {
			t.Fatalf("limit message %q should name the account and the limit", err)
		}
		_, err = s.GetFTPUser(t.Context(), "c.bob")
		wantErr(t, err, domain.ErrNotFound, "refused user must not exist")
		// A freed slot can be used again; other accounts do not count.
		check(t, s.DeleteFTPUser(t.Context(), "a.bob"), "DeleteFTPUser")
		check(t, s.CreateFTPUser(t.Context(), ftpUser("c.bob"), 2), "CreateFTPUser after a delete")
	}},
	{"zero means unlimited", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		for i := range 12 {
			check(t, s.CreateFTPUser(t.Context(), ftpUser(fmt.Sprintf("u%d.bob", i)), 0), "CreateFTPUser %d", i)
		}
		n, err := s.CountFTPUsers(t.Context(), "bob")
		check(t, err, "CountFTPUsers")
		same(t, "CountFTPUsers", n, 12)
	}},
	{"a lowered limit refuses new users", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "a.bob", "b.bob", "c.bob")
		wantErr(t, s.CreateFTPUser(t.Context(), ftpUser("d.bob"), 2), domain.ErrLimitReached, "CreateFTPUser over a lowered limit")
	}},
	{"20 concurrent adds fill a limit of 5 exactly", testLimitRace},
}

// testLimitRace: the last free slots must not be taken twice however the
// adds interleave.
func testLimitRace(t *testing.T, s store.Store) {
	const limit, tries = 5, 20
	withAccounts(t, s, []string{"bob"})
	errs := make([]error, tries)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range tries {
		wg.Go(func() {
			<-start
			errs[i] = s.CreateFTPUser(t.Context(), ftpUser(fmt.Sprintf("u%d.bob", i)), limit)
		})
	}
	close(start)
	wg.Wait()
	ok, full := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, domain.ErrLimitReached):
			full++
		default:
			t.Errorf("add %d: unexpected error %v", i, err)
		}
	}
	n, err := s.CountFTPUsers(t.Context(), "bob")
	check(t, err, "CountFTPUsers")
	if ok != limit || full != tries-limit || n != limit {
		t.Fatalf("%d adds succeeded, %d hit the limit, %d stored; want %d, %d, %d", ok, full, n, limit, tries-limit, limit)
	}
}

// testCheckedAddRace: accounts whose homes overlap, added at once, each
// checked against the accounts stored: exactly one may pass the check.
func testCheckedAddRace(t *testing.T, s store.Store) {
	const tries = 8
	refused := errors.New("home overlaps")
	errs := make([]error, tries)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range tries {
		a := account(fmt.Sprintf("a%d", i))
		a.Home = "/home/site" + strings.Repeat("/sub", i%3) // equal or nested
		wg.Go(func() {
			<-start
			errs[i] = s.CreateAccountIf(t.Context(), a, func(stored []domain.Account) error {
				for _, o := range stored {
					if domain.Overlaps(a.Home, o.Home) {
						return refused
					}
				}
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, refused):
			t.Errorf("add %d: got %v, want the check's own error", i, err)
		}
	}
	list, err := s.ListAccounts(t.Context())
	check(t, err, "ListAccounts")
	if ok != 1 || len(list) != 1 {
		t.Fatalf("%d adds passed the check, %d accounts stored; want 1 and 1", ok, len(list))
	}
}

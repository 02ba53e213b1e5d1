package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

func admin(name string) domain.Admin {
	return domain.Admin{Name: name, PasswordHash: "hash-of-" + name, CreatedAt: at(time.Minute)}
}

func storedAdmin(a domain.Admin) domain.Admin {
	a.CreatedAt = stored(a.CreatedAt)
	return a
}

func adminName(a domain.Admin) string { return a.Name }

var adminCases = []testCase{
	{"create, get and list ordered by name", func(t *testing.T, s store.Store) {
		for _, n := range []string{"root", "alice", "zed"} {
			check(t, s.CreateAdmin(t.Context(), admin(n)), "CreateAdmin %s", n)
		}
		got, err := s.GetAdmin(t.Context(), "alice")
		check(t, err, "GetAdmin")
		same(t, "GetAdmin", got, storedAdmin(admin("alice")))
		list, err := s.ListAdmins(t.Context())
		check(t, err, "ListAdmins")
		same(t, "ListAdmins", keys(list, adminName), []string{"alice", "root", "zed"})
	}},
	{"duplicate is a conflict, missing is not found", func(t *testing.T, s store.Store) {
		check(t, s.CreateAdmin(t.Context(), admin("root")), "CreateAdmin")
		wantErr(t, s.CreateAdmin(t.Context(), admin("root")), domain.ErrConflict, "second CreateAdmin")
		_, err := s.GetAdmin(t.Context(), "nobody")
		wantErr(t, err, domain.ErrNotFound, "GetAdmin nobody")
		wantErr(t, s.UpdateAdminPassword(t.Context(), "nobody", "h"), domain.ErrNotFound, "UpdateAdminPassword nobody")
		wantErr(t, s.DeleteAdmin(t.Context(), "nobody"), domain.ErrNotFound, "DeleteAdmin nobody")
	}},
	{"update password", func(t *testing.T, s store.Store) {
		check(t, s.CreateAdmin(t.Context(), admin("root")), "CreateAdmin")
		check(t, s.UpdateAdminPassword(t.Context(), "root", "new-hash"), "UpdateAdminPassword")
		got, err := s.GetAdmin(t.Context(), "root")
		check(t, err, "GetAdmin")
		want := storedAdmin(admin("root"))
		want.PasswordHash = "new-hash"
		same(t, "after UpdateAdminPassword", got, want)
	}},
	{"delete", func(t *testing.T, s store.Store) {
		check(t, s.CreateAdmin(t.Context(), admin("root")), "CreateAdmin")
		check(t, s.CreateAdmin(t.Context(), admin("alice")), "CreateAdmin")
		check(t, s.DeleteAdmin(t.Context(), "root"), "DeleteAdmin")
		_, err := s.GetAdmin(t.Context(), "root")
		wantErr(t, err, domain.ErrNotFound, "GetAdmin after delete")
		list, err := s.ListAdmins(t.Context())
		check(t, err, "ListAdmins")
		same(t, "admins left", keys(list, adminName), []string{"alice"})
	}},
}

func token(id, name string) domain.APIToken {
	return domain.APIToken{ID: id, Name: name, Hash: "sha256-of-" + id, CreatedAt: at(time.Hour)}
}

func storedToken(k domain.APIToken) domain.APIToken {
	k.ExpiresAt, k.CreatedAt, k.LastUsed = stored(k.ExpiresAt), stored(k.CreatedAt), stored(k.LastUsed)
	return k
}

// accountToken is a token limited to account, expiring after d.
func accountToken(id, account string, d time.Duration) domain.APIToken {
	k := token(id, "deploy")
	k.Account, k.ExpiresAt = account, at(d)
	return k
}

func tokenID(k domain.APIToken) string { return k.ID }

var tokenCases = []testCase{
	{"create, get by hash, list ordered by name then ID", func(t *testing.T, s store.Store) {
		for _, k := range []domain.APIToken{token("c3", "billing"), token("a1", "monitoring"), token("b2", "billing")} {
			check(t, s.CreateAPIToken(t.Context(), k), "CreateAPIToken %s", k.ID)
		}
		got, err := s.GetAPITokenByHash(t.Context(), "sha256-of-a1")
		check(t, err, "GetAPITokenByHash")
		same(t, "GetAPITokenByHash", got, storedToken(token("a1", "monitoring")))
		if !got.LastUsed.IsZero() {
			t.Fatalf("unused token has LastUsed %v", got.LastUsed)
		}
		list, err := s.ListAPITokens(t.Context())
		check(t, err, "ListAPITokens")
		same(t, "ListAPITokens", keys(list, tokenID), []string{"b2", "c3", "a1"})
	}},
	{"unknown hash is not found", func(t *testing.T, s store.Store) {
		check(t, s.CreateAPIToken(t.Context(), token("a1", "x")), "CreateAPIToken")
		_, err := s.GetAPITokenByHash(t.Context(), "sha256-of-zz")
		wantErr(t, err, domain.ErrNotFound, "GetAPITokenByHash unknown")
	}},
	{"duplicate ID or hash is a conflict", func(t *testing.T, s store.Store) {
		check(t, s.CreateAPIToken(t.Context(), token("a1", "x")), "CreateAPIToken")
		wantErr(t, s.CreateAPIToken(t.Context(), token("a1", "y")), domain.ErrConflict, "same ID")
		k := token("b2", "y")
		k.Hash = "sha256-of-a1"
		wantErr(t, s.CreateAPIToken(t.Context(), k), domain.ErrConflict, "same hash")
	}},
	{"touch records the last use", func(t *testing.T, s store.Store) {
		check(t, s.CreateAPIToken(t.Context(), token("a1", "x")), "CreateAPIToken")
		check(t, s.TouchAPIToken(t.Context(), "a1", at(2*time.Hour)), "TouchAPIToken")
		got, err := s.GetAPITokenByHash(t.Context(), "sha256-of-a1")
		check(t, err, "GetAPITokenByHash")
		same(t, "LastUsed", got.LastUsed, stored(at(2*time.Hour)))
		wantErr(t, s.TouchAPIToken(t.Context(), "zz", at(0)), domain.ErrNotFound, "TouchAPIToken unknown")
	}},
	{"scope and expiry are kept", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"})
		k := accountToken("a1", "bob", 90*24*time.Hour)
		check(t, s.CreateAPIToken(t.Context(), k), "CreateAPIToken")
		got, err := s.GetAPITokenByHash(t.Context(), k.Hash)
		check(t, err, "GetAPITokenByHash")
		same(t, "GetAPITokenByHash", got, storedToken(k))
		list, err := s.ListAPITokens(t.Context())
		check(t, err, "ListAPITokens")
		same(t, "ListAPITokens", list, []domain.APIToken{storedToken(k)})
	}},
	{"deleting an account deletes its tokens only", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob", "alice"})
		for _, k := range []domain.APIToken{token("admin", "x"), accountToken("bob1", "bob", time.Hour), accountToken("bob2", "bob", 0), accountToken("ali", "alice", time.Hour)} {
			check(t, s.CreateAPIToken(t.Context(), k), "CreateAPIToken %s", k.ID)
		}
		check(t, s.DeleteAccount(t.Context(), "bob"), "DeleteAccount")
		list, err := s.ListAPITokens(t.Context())
		check(t, err, "ListAPITokens")
		same(t, "tokens left", keys(list, tokenID), []string{"ali", "admin"})
		wantErr(t, s.DeleteAccount(t.Context(), "bob"), domain.ErrNotFound, "second DeleteAccount")
	}},
	{"delete", func(t *testing.T, s store.Store) {
		check(t, s.CreateAPIToken(t.Context(), token("a1", "x")), "CreateAPIToken")
		check(t, s.DeleteAPIToken(t.Context(), "a1"), "DeleteAPIToken")
		_, err := s.GetAPITokenByHash(t.Context(), "sha256-of-a1")
		wantErr(t, err, domain.ErrNotFound, "deleted token")
		wantErr(t, s.DeleteAPIToken(t.Context(), "a1"), domain.ErrNotFound, "second DeleteAPIToken")
	}},
}

func ban(ip string) domain.Ban {
	return domain.Ban{IP: ip, Until: at(15 * time.Minute), Count: 1, Reason: "10 failed log-ins", At: at(0)}
}

func storedBan(b domain.Ban) domain.Ban {
	b.Until, b.At = stored(b.Until), stored(b.At)
	return b
}

func banIP(b domain.Ban) string { return b.IP }

var banCases = []testCase{
	{"put, get and list ordered by IP", func(t *testing.T, s store.Store) {
		for _, ip := range []string{"198.51.100.9", "2001:db8::1", "192.0.2.1"} {
			check(t, s.PutBan(t.Context(), ban(ip)), "PutBan %s", ip)
		}
		got, err := s.GetBan(t.Context(), "2001:db8::1")
		check(t, err, "GetBan")
		same(t, "GetBan", got, storedBan(ban("2001:db8::1")))
		list, err := s.ListBans(t.Context(), at(0))
		check(t, err, "ListBans")
		same(t, "ListBans", keys(list, banIP), []string{"192.0.2.1", "198.51.100.9", "2001:db8::1"})
	}},
	{"put replaces", func(t *testing.T, s store.Store) {
		check(t, s.PutBan(t.Context(), ban("192.0.2.1")), "PutBan")
		b := domain.Ban{IP: "192.0.2.1", Until: at(2 * time.Hour), Count: 2, Reason: "again", At: at(time.Hour)}
		check(t, s.PutBan(t.Context(), b), "second PutBan")
		got, err := s.GetBan(t.Context(), "192.0.2.1")
		check(t, err, "GetBan")
		same(t, "after second PutBan", got, storedBan(b))
		list, err := s.ListBans(t.Context(), at(0))
		check(t, err, "ListBans")
		same(t, "bans", len(list), 1)
	}},
	{"missing is not found; delete", func(t *testing.T, s store.Store) {
		_, err := s.GetBan(t.Context(), "192.0.2.1")
		wantErr(t, err, domain.ErrNotFound, "GetBan unbanned")
		check(t, s.PutBan(t.Context(), ban("192.0.2.1")), "PutBan")
		check(t, s.DeleteBan(t.Context(), "192.0.2.1"), "DeleteBan")
		_, err = s.GetBan(t.Context(), "192.0.2.1")
		wantErr(t, err, domain.ErrNotFound, "GetBan after delete")
		wantErr(t, s.DeleteBan(t.Context(), "192.0.2.1"), domain.ErrNotFound, "second DeleteBan")
	}},
	{"list holds the bans in force; prune forgets the ended ones", func(t *testing.T, s store.Store) {
		for i, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
			b := ban(ip)
			b.Until = at(time.Duration(i+1) * time.Hour)
			check(t, s.PutBan(t.Context(), b), "PutBan %s", ip)
		}
		list, err := s.ListBans(t.Context(), at(time.Hour))
		check(t, err, "ListBans")
		same(t, "in force after the first ended", keys(list, banIP), []string{"192.0.2.2", "192.0.2.3"})
		// An ended ban keeps its row, and so its repeat count, until pruned.
		_, err = s.GetBan(t.Context(), "192.0.2.1")
		check(t, err, "GetBan of an ended ban")
		check(t, s.PruneBans(t.Context(), at(2*time.Hour+time.Second)), "PruneBans")
		_, err = s.GetBan(t.Context(), "192.0.2.1")
		wantErr(t, err, domain.ErrNotFound, "GetBan of a pruned ban")
		_, err = s.GetBan(t.Context(), "192.0.2.2")
		wantErr(t, err, domain.ErrNotFound, "GetBan of a pruned ban")
		list, err = s.ListBans(t.Context(), at(0))
		check(t, err, "ListBans")
		same(t, "left after pruning", keys(list, banIP), []string{"192.0.2.3"})
		check(t, s.PruneBans(t.Context(), at(0)), "PruneBans with nothing to prune")
	}},
}

var failureCases = []testCase{
	{"failures count within the window, per key", func(t *testing.T, s store.Store) {
		add := func(key string, when, since time.Duration) int {
			t.Helper()
			n, err := s.AddLoginFailure(t.Context(), key, at(when), at(since))
			check(t, err, "AddLoginFailure %s", key)
			return n
		}
		same(t, "first", add("192.0.2.1", 0, -time.Hour), 1)
		same(t, "second", add("192.0.2.1", time.Minute, -time.Hour), 2)
		same(t, "another key", add("2001:db8:1:2::/64", time.Minute, -time.Hour), 1)
		// Failures before since are forgotten.
		same(t, "after the first left the window", add("192.0.2.1", 2*time.Minute, 30*time.Second), 2)
		check(t, s.PruneLoginFailures(t.Context(), at(90*time.Second)), "PruneLoginFailures")
		same(t, "after pruning", add("192.0.2.1", 3*time.Minute, 0), 2)
		same(t, "the other key after pruning", add("2001:db8:1:2::/64", 3*time.Minute, 0), 1)
	}},
	{"a ban and its lifting settle the failures", func(t *testing.T, s store.Store) {
		for range 3 {
			_, err := s.AddLoginFailure(t.Context(), "192.0.2.1", at(0), at(-time.Hour))
			check(t, err, "AddLoginFailure")
		}
		check(t, s.PutBan(t.Context(), ban("192.0.2.1")), "PutBan")
		n, err := s.AddLoginFailure(t.Context(), "192.0.2.1", at(time.Second), at(-time.Hour))
		check(t, err, "AddLoginFailure")
		same(t, "failures after a ban", n, 1)
		check(t, s.DeleteBan(t.Context(), "192.0.2.1"), "DeleteBan")
		n, err = s.AddLoginFailure(t.Context(), "192.0.2.1", at(2*time.Second), at(-time.Hour))
		check(t, err, "AddLoginFailure")
		same(t, "failures after the ban was lifted", n, 1)
	}},
	{"concurrent failures of one key are counted one by one", func(t *testing.T, s store.Store) {
		const n = 20
		counts := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				c, err := s.AddLoginFailure(t.Context(), "192.0.2.1", at(0), at(-time.Hour))
				if err != nil {
					t.Error(err)
				}
				counts <- c
			})
		}
		wg.Wait()
		close(counts)
		seen := map[int]bool{}
		for c := range counts {
			seen[c] = true
		}
		if len(seen) != n {
			t.Fatalf("%d concurrent failures saw %d distinct counts %v: each must see the ones before it", n, len(seen), seen)
		}
	}},
}

package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// changesAfter returns every change after seq, failing t on an error.
func changesAfter(t *testing.T, s store.Store, seq int64) ([]store.Change, bool) {
	t.Helper()
	list, complete, err := s.ChangesAfter(t.Context(), seq, 1000)
	check(t, err, "ChangesAfter %d", seq)
	return list, complete
}

// lastSeq is the Seq of the newest change, 0 when there is none.
func lastSeq(t *testing.T, s store.Store) int64 {
	t.Helper()
	list, _ := changesAfter(t, s, 0)
	if len(list) == 0 {
		return 0
	}
	return list[len(list)-1].Seq
}

func changeText(c store.Change) string { return string(c.Kind) + " " + c.Key }

var changeCases = []testCase{
	{"every write nodes act on records a change, in order", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		steps := []struct {
			do   func() error
			want []string // changes recorded, "" = none
		}{
			{func() error { return s.CreateAccount(ctx, account("bob")) }, []string{"account bob"}},
			{func() error { return s.CreateFTPUser(ctx, ftpUser("dev.bob"), 0) }, []string{"user dev.bob"}},
			{func() error { return s.UpdateFTPUser(ctx, ftpUser("dev.bob"), true) }, []string{"user dev.bob"}},
			{func() error { return s.UpdateFTPUser(ctx, ftpUser("dev.bob"), false) }, nil},
			{func() error { return s.RecordLogin(ctx, "dev.bob", at(0), "192.0.2.1") }, nil},
			{func() error {
				a := account("bob")
				a.PanelPasswordHash, a.FTPLimit = "other", 9
				return s.UpdateAccount(ctx, a)
			}, nil},
			{func() error {
				a := account("bob")
				a.Enabled = false
				return s.UpdateAccount(ctx, a)
			}, []string{"account bob"}},
			{func() error {
				a := account("bob")
				a.Enabled, a.Home = false, "/srv/bob"
				return s.UpdateAccount(ctx, a)
			}, []string{"account bob"}},
			{func() error {
				_, err := s.ModifyAccount(ctx, "bob", func(a domain.Account) (domain.Account, error) {
					a.Enabled = true
					return a, nil
				})
				return err
			}, []string{"account bob"}},
			{func() error {
				_, err := s.ModifyAccount(ctx, "bob", func(a domain.Account) (domain.Account, error) {
					a.FTPLimit = 4
					return a, nil
				})
				return err
			}, nil},
			{func() error {
				refused := errors.New("refused")
				_, err := s.ModifyAccount(ctx, "bob", func(a domain.Account) (domain.Account, error) {
					a.Enabled = false // would record a change
					return a, refused
				})
				if !errors.Is(err, refused) {
					return fmt.Errorf("ModifyAccount refused by its change: %v", err)
				}
				return nil
			}, nil},
			{func() error { return s.KickSession(ctx, "s1") }, []string{"session s1"}},
			{func() error { return s.PutBan(ctx, ban("192.0.2.1")) }, []string{"ban 192.0.2.1"}},
			{func() error { return s.DeleteBan(ctx, "192.0.2.1") }, []string{"ban 192.0.2.1"}},
			{func() error { return s.PutSettings(ctx, domain.Settings{MaxPerIP: 3}, at(0)) }, []string{"settings "}},
			{func() error { return s.DeleteSettings(ctx) }, []string{"settings "}},
			{func() error { return s.DeleteFTPUser(ctx, "dev.bob") }, []string{"user dev.bob"}},
			{func() error { return s.DeleteAccount(ctx, "bob") }, []string{"account bob"}},
			// Refused writes record nothing.
			{func() error {
				if err := s.UpdateFTPUser(ctx, ftpUser("web.bob"), true); domain.KindOf(err) != domain.NotFound {
					return fmt.Errorf("UpdateFTPUser of a missing user: %v", err)
				}
				return nil
			}, nil},
		}
		seq := int64(0)
		for i, st := range steps {
			check(t, st.do(), "step %d", i)
			got, complete := changesAfter(t, s, seq)
			same(t, fmt.Sprintf("changes of step %d", i), keys(got, changeText), append([]string{}, st.want...))
			same(t, "complete", complete, true)
			for _, c := range got {
				if c.Seq <= seq {
					t.Fatalf("step %d: seq %d after %d: seqs must increase", i, c.Seq, seq)
				}
				seq = c.Seq
			}
		}
	}},
	{"versions are the seqs of the changes that set them", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		u, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		a, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		if a.Version <= 0 || u.Version <= a.Version || u.Version != lastSeq(t, s) {
			t.Fatalf("account version %d, user version %d, last change %d: want 0 < account < user = last change",
				a.Version, u.Version, lastSeq(t, s))
		}
		check(t, s.UpdateFTPUser(t.Context(), u, true), "UpdateFTPUser")
		u2, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		same(t, "user version after an update", u2.Version, lastSeq(t, s))
		// An update that needs not end the sessions keeps the version.
		u2.QuotaMB = u2.QuotaMB + 1
		check(t, s.UpdateFTPUser(t.Context(), u2, false), "UpdateFTPUser keeping the sessions")
		kept, err := s.GetFTPUser(t.Context(), "dev.bob")
		check(t, err, "GetFTPUser")
		if kept.Version != u2.Version || kept.QuotaMB != u2.QuotaMB {
			t.Fatalf("after an update keeping the sessions: version %d (want %d), quota %d (want %d)", kept.Version, u2.Version, kept.QuotaMB, u2.QuotaMB)
		}
		// A panel password leaves the account's version alone.
		a.PanelPasswordHash = "new"
		check(t, s.UpdateAccount(t.Context(), a), "UpdateAccount")
		a2, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		same(t, "account version after a panel password change", a2.Version, a.Version)
		a2.UID = 4242
		check(t, s.UpdateAccount(t.Context(), a2), "UpdateAccount")
		a3, err := s.GetAccount(t.Context(), "bob")
		check(t, err, "GetAccount")
		same(t, "account version after a uid change", a3.Version, lastSeq(t, s))
		states, err := s.LoginStates(t.Context(), []string{"dev.bob", "gone.bob"})
		check(t, err, "LoginStates")
		same(t, "LoginStates", states, map[string]store.LoginState{
			"dev.bob": {Versions: domain.Versions{User: u2.Version, Account: a3.Version}, Enabled: true},
		})
	}},
	{"log-in states say enabled only when user and account are", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob", "carol"}, "dev.bob", "off.bob", "dev.carol")
		u := ftpUser("off.bob")
		u.Enabled = false
		check(t, s.UpdateFTPUser(t.Context(), u, true), "UpdateFTPUser")
		a := account("carol")
		a.Enabled = false
		check(t, s.UpdateAccount(t.Context(), a), "UpdateAccount")
		many := []string{"dev.bob", "off.bob", "dev.carol"}
		for i := range 1200 { // more names than one query takes
			many = append(many, fmt.Sprintf("x%d.bob", i))
		}
		states, err := s.LoginStates(t.Context(), many)
		check(t, err, "LoginStates")
		enabled := map[string]bool{}
		for name, st := range states {
			enabled[name] = st.Enabled
		}
		same(t, "enabled", enabled, map[string]bool{"dev.bob": true, "off.bob": false, "dev.carol": false})
		none, err := s.LoginStates(t.Context(), nil)
		check(t, err, "LoginStates of nobody")
		same(t, "LoginStates of nobody", len(none), 0)
	}},
	{"read in pages of limit", func(t *testing.T, s store.Store) {
		for i := range 5 {
			check(t, s.KickSession(t.Context(), fmt.Sprint("s", i)), "KickSession")
		}
		first, _, err := s.ChangesAfter(t.Context(), 0, 2)
		check(t, err, "ChangesAfter")
		same(t, "first page", keys(first, changeText), []string{"session s0", "session s1"})
		rest, _, err := s.ChangesAfter(t.Context(), first[1].Seq, 10)
		check(t, err, "ChangesAfter")
		same(t, "the rest", keys(rest, changeText), []string{"session s2", "session s3", "session s4"})
		none, complete, err := s.ChangesAfter(t.Context(), rest[2].Seq, 10)
		check(t, err, "ChangesAfter")
		if len(none) != 0 || !complete {
			t.Fatalf("after the last change: %v, complete %v; want none, complete", none, complete)
		}
	}},
	{"pruning forgets old changes and tells readers they missed some", func(t *testing.T, s store.Store) {
		check(t, s.KickSession(t.Context(), "s1"), "KickSession")
		seen := lastSeq(t, s)
		check(t, s.KickSession(t.Context(), "s2"), "KickSession")
		check(t, s.PruneChanges(t.Context(), time.Hour), "PruneChanges of nothing old")
		got, complete := changesAfter(t, s, 0)
		if len(got) != 2 || !complete {
			t.Fatalf("after pruning nothing: %v, complete %v", got, complete)
		}
		check(t, s.PruneChanges(t.Context(), -time.Hour), "PruneChanges of everything")
		got, complete = changesAfter(t, s, seen)
		if len(got) != 0 || complete {
			t.Fatalf("a reader at seq %d after everything was pruned: %v, complete %v; want none, incomplete", seen, got, complete)
		}
		check(t, s.KickSession(t.Context(), "s3"), "KickSession")
		got, complete = changesAfter(t, s, seen)
		if len(got) != 1 || got[0].Key != "s3" || complete {
			t.Fatalf("a reader at seq %d after s2 was pruned: %v, complete %v; want [s3], incomplete", seen, got, complete)
		}
		got, complete = changesAfter(t, s, got[0].Seq-1)
		if len(got) != 1 || !complete {
			t.Fatalf("a reader that saw everything pruned: %v, complete %v; want [s3], complete", got, complete)
		}
	}},
}

var claimCases = []testCase{
	{"limits count the sessions of other live nodes", func(t *testing.T, s store.Store) {
		x := func(id, user, remote string) domain.Session {
			v := session(id, "", user)
			v.RemoteAddr = remote
			return v
		}
		publish(t, s, "n1", hour, []domain.Session{
			x("a1", "dev.bob", "192.0.2.1:1000"), x("a2", "dev.bob", "[2001:db8:1:2::1]:1000"),
			x("a3", "", "[2001:db8:1:2::2]:1000"),
		})
		publish(t, s, "gone", dead, []domain.Session{x("d1", "dev.bob", "192.0.2.1:1001")})
		claim := func(id, user, remote string, userRoom, ipRoom int) error {
			return s.ClaimSession(t.Context(), store.SessionClaim{Node: "n2", TTL: hour, Session: x(id, user, remote),
				UserRoom: userRoom, IPRoom: ipRoom})
		}
		err := claim("b1", "dev.bob", "198.51.100.1:1", 2, -1)
		wantErr(t, err, domain.ErrLimitReached, "a third session of dev.bob with room for 2")
		same(t, "field", domain.FieldOf(err), "user")
		err = claim("b1", "web.bob", "[2001:db8:1:2:ffff::9]:1", -1, 2)
		wantErr(t, err, domain.ErrLimitReached, "a third session from one IPv6 /64 with room for 2")
		same(t, "field", domain.FieldOf(err), "ip")
		same(t, "refused claims store nothing", listed(t, s, ""), []string{"a1", "a2", "a3"})
		// The dead node's session does not count, nor does the claiming node's own.
		check(t, claim("b1", "dev.bob", "192.0.2.1:1", 3, 2), "claim with room for one more")
		check(t, claim("b2", "dev.bob", "192.0.2.1:2", 3, 2), "claim not counting the node's own")
		check(t, claim("b3", "dev.bob", "192.0.2.1:3", -1, -1), "claim without limits")
		same(t, "claimed sessions are listed at once", listed(t, s, ""), []string{"a1", "a2", "a3", "b1", "b2", "b3"})
	}},
	{"a claim before the node's first publish leaves that publish unknown", func(t *testing.T, s store.Store) {
		check(t, s.ClaimSession(t.Context(), store.SessionClaim{Node: "n1", TTL: hour, Session: session("s1", "", "dev.bob"),
			UserRoom: -1, IPRoom: -1}), "ClaimSession")
		same(t, "first publish after a claim knows the node", publish(t, s, "n1", hour, nil), false)
		same(t, "the claimed session", listed(t, s, ""), []string{"s1"})
	}},
}

package defender

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// TestFollowsChanges: bans put and lifted elsewhere apply here when the
// change feed hands them to Apply, and all of them with Resync.
func TestFollowsChanges(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	a := newDefender(t, st, c, Config{})
	b := newDefender(t, st, c, Config{})
	ip, other := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("198.51.100.1")
	seq := int64(0)
	feed := func() []store.Change {
		t.Helper()
		changes, _, err := st.ChangesAfter(t.Context(), seq, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) > 0 {
			seq = changes[len(changes)-1].Seq
		}
		return changes
	}
	if _, err := a.Ban(t.Context(), ip, time.Hour, "by hand"); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, b, ip.String(), false)
	b.Apply(t.Context(), feed())
	wantBanned(t, b, ip.String(), true)
	if err := a.Unban(t.Context(), hostKey(ip)); err != nil {
		t.Fatal(err)
	}
	b.Apply(t.Context(), feed())
	wantBanned(t, b, ip.String(), false)
	// Missed changes: Resync reads every ban in force.
	if _, err := a.Ban(t.Context(), other, time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	feed()
	if err := b.Resync(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, b, other.String(), true)
	// Many changes at once are read in one Load.
	var many []store.Change
	for i := range 100 {
		ipi := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		if _, err := a.Ban(t.Context(), ipi, time.Hour, ""); err != nil {
			t.Fatal(err)
		}
	}
	many = feed()
	b.Apply(t.Context(), many)
	wantBanned(t, b, "203.0.113.99", true)
}

// TestPardonOnEveryNode: a ban lifted on one node also forgets the
// failures the other nodes counted, once the change feed tells them, so
// a pardoned address starts from zero wherever it fails next.
func TestPardonOnEveryNode(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	a := newDefender(t, st, c, Config{Threshold: 3})
	b := newDefender(t, st, c, Config{Threshold: 3})
	ip := netip.MustParseAddr("2001:db8:1:2::7")
	seq := int64(0)
	feed := func() []store.Change {
		t.Helper()
		changes, _, err := st.ChangesAfter(t.Context(), seq, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) > 0 {
			seq = changes[len(changes)-1].Seq
		}
		return changes
	}
	fail(t, b, "2001:db8:1:2::8", 2) // the same /64
	if _, err := a.Ban(t.Context(), ip, time.Hour, "by hand"); err != nil {
		t.Fatal(err)
	}
	b.Apply(t.Context(), feed())
	wantBanned(t, b, ip.String(), true)
	if err := a.Unban(t.Context(), hostKey(ip)); err != nil {
		t.Fatal(err)
	}
	b.Apply(t.Context(), feed())
	wantBanned(t, b, ip.String(), false)
	if fail(t, b, "2001:db8:1:2::9", 1) {
		t.Error("b still counted the failures from before the pardon")
	}
}

// TestUnbanNetwork: a /64 ban is lifted by naming the network as List
// shows it, and with it the score of the /64; garbage is refused.
func TestUnbanNetwork(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	d := newDefender(t, st, c, Config{Threshold: 2})
	fail(t, d, "2001:db8:1:2::7", 2)
	wantBanned(t, d, "2001:db8:1:2::8", true)
	if err := d.Unban(t.Context(), netip.MustParsePrefix("2001:db8:1:2::/64")); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, d, "2001:db8:1:2::8", false)
	if _, err := st.GetBan(t.Context(), "2001:db8:1:2::/64"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("row of the lifted /64: %v, want gone", err)
	}
	if fail(t, d, "2001:db8:1:2::7", 1) {
		t.Error("banned by one failure after the /64 was lifted")
	}
	if err := d.Unban(t.Context(), netip.Prefix{}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Unban of no address: %v, want domain.ErrInvalid", err)
	}
}

// TestSharedCountsAcrossNodes: with Shared, failures seen by two nodes add
// up to one threshold: 6 on one and 4 on the other ban the address on
// both, with one ban in the store.
func TestSharedCountsAcrossNodes(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	a := newDefender(t, st, c, Config{Shared: st})
	b := newDefender(t, st, c, Config{Shared: st})
	if fail(t, a, "192.0.2.7", 6) {
		t.Fatal("banned after 6 failures")
	}
	if fail(t, b, "192.0.2.7", 3) {
		t.Fatal("banned after 6 + 3 failures")
	}
	if !fail(t, b, "192.0.2.7", 1) {
		t.Fatal("not banned after 6 + 4 failures on two nodes")
	}
	row, err := st.GetBan(t.Context(), "192.0.2.7")
	if err != nil || row.Count != 1 || !strings.Contains(row.Reason, "10 failed log-ins") {
		t.Fatalf("stored ban %+v, %v; want the first ban after 10 failures", row, err)
	}
	if err := a.refresh(t.Context(), "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, a, "192.0.2.7", true)
	// The ban settled the score: after it, counting starts again.
	c.Advance(DefaultBanTime)
	if fail(t, a, "192.0.2.7", 9) {
		t.Error("banned again below the threshold after the ban ended")
	}
	// Failures older than the window do not count.
	c.Advance(DefaultWindow + time.Second)
	if fail(t, b, "192.0.2.7", 1) {
		t.Error("banned with failures older than the window")
	}
}

// sharedDown is a failure store that does not answer.
type sharedDown struct{ store.LoginFailures }

func (sharedDown) AddLoginFailure(context.Context, string, time.Time, time.Time) (int, error) {
	return 0, errDown
}

// TestSharedStoreDownCountsHere: while the shared count fails, the node
// still counts and bans on its own, and says why.
func TestSharedStoreDownCountsHere(t *testing.T) {
	t.Parallel()
	c := newClock()
	d := newDefender(t, newStore(t), c, Config{Threshold: 3, Shared: sharedDown{}})
	for range 2 {
		banned, err := d.Failure(t.Context(), netip.MustParseAddr("192.0.2.7"), "x")
		if banned || !errors.Is(err, errDown) {
			t.Fatalf("Failure = %v, %v; want not banned and the store's error", banned, err)
		}
	}
	banned, _ := d.Failure(t.Context(), netip.MustParseAddr("192.0.2.7"), "x")
	if !banned {
		t.Fatal("not banned after 3 failures counted here")
	}
}

// TestPruneStore: ended bans are forgotten after Forget, shared failures
// after the window.
func TestPruneStore(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	d := newDefender(t, st, c, Config{Threshold: 3, Shared: st, Forget: 48 * time.Hour})
	fail(t, d, "192.0.2.7", 3)
	fail(t, d, "192.0.2.8", 2)
	c.Advance(24 * time.Hour)
	if err := d.pruneStore(t.Context(), c.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetBan(t.Context(), "192.0.2.7"); err != nil {
		t.Fatalf("ban ended 24h ago forgotten with Forget 48h: %v", err)
	}
	if n, err := st.AddLoginFailure(t.Context(), "192.0.2.8", c.Now(), time.Time{}); err != nil || n != 1 {
		t.Fatalf("failures of a day ago left in the store: %d, %v", n, err)
	}
	c.Advance(25 * time.Hour)
	if err := d.pruneStore(t.Context(), c.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetBan(t.Context(), "192.0.2.7"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("ban ended 49h ago kept with Forget 48h: %v", err)
	}
}

// TestPardonForgetsSharedFailures: lifting an administrator's ban of one
// address forgets the failures counted in the store for it, IPv6 ones
// too, which are counted for the address's /64: the next wrong password
// after the pardon starts a new count instead of banning again.
func TestPardonForgetsSharedFailures(t *testing.T) {
	t.Parallel()
	for _, ip := range []string{"192.0.2.7", "2001:db8:1:2::7"} {
		t.Run(ip, func(t *testing.T) {
			t.Parallel()
			c, st := newClock(), newStore(t)
			d := newDefender(t, st, c, Config{Threshold: 3, Shared: st})
			if fail(t, d, ip, 2) {
				t.Fatal("banned after 2 failures")
			}
			addr := netip.MustParseAddr(ip)
			if _, err := d.Ban(t.Context(), addr, time.Hour, "by hand"); err != nil {
				t.Fatal(err)
			}
			if err := d.Unban(t.Context(), netip.PrefixFrom(addr, addr.BitLen())); err != nil {
				t.Fatal(err)
			}
			if fail(t, d, ip, 1) {
				t.Error("banned by the first failure after the pardon")
			}
		})
	}
}

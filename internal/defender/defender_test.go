package defender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/clocktest"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

func newClock() *clocktest.Clock { return clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

func openStore(t *testing.T, dir string) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newStore(t *testing.T) *sqlstore.Store { return openStore(t, t.TempDir()) }

func newDefender(t *testing.T, st store.Bans, c *clocktest.Clock, cfg Config) *Defender {
	t.Helper()
	cfg.Now = c.Now
	d := New(cfg, st, nil)
	if err := d.Load(t.Context()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return d
}

// fail records n failures of ip and returns what the last one said.
func fail(t *testing.T, d *Defender, ip string, n int) bool {
	t.Helper()
	banned := false
	for range n {
		var err error
		banned, err = d.Failure(t.Context(), netip.MustParseAddr(ip), "wrong password")
		if err != nil {
			t.Fatalf("Failure(%s): %v", ip, err)
		}
	}
	return banned
}

func isBanned(d *Defender, ip string) bool {
	_, banned := d.Banned(netip.MustParseAddr(ip))
	return banned
}

func wantBanned(t *testing.T, d *Defender, ip string, want bool) {
	t.Helper()
	if got := isBanned(d, ip); got != want {
		t.Errorf("Banned(%s) = %v, want %v", ip, got, want)
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		threshold int
		failing   []string // one failure from each, in turn
		check     string   // the IP whose ban is checked
		banned    bool
		row       string // the store row written when banned
	}{
		{"one below the default", 0, repeat("192.0.2.7", DefaultThreshold-1), "192.0.2.7", false, ""},
		{"default reached", 0, repeat("192.0.2.7", DefaultThreshold), "192.0.2.7", true, "192.0.2.7"},
		{"one below", 3, repeat("192.0.2.7", 2), "192.0.2.7", false, ""},
		{"reached", 3, repeat("192.0.2.7", 3), "192.0.2.7", true, "192.0.2.7"},
		{"IPv4 addresses score apart", 3, []string{"192.0.2.7", "192.0.2.8", "192.0.2.7", "192.0.2.8"}, "192.0.2.7", false, ""},
		{"one IPv6 /64 scores as one", 3, []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"}, "2001:db8:1:2:abcd::9", true, "2001:db8:1:2::/64"},
		{"IPv6 /64s score apart", 3, []string{"2001:db8:1:2::1", "2001:db8:1:3::1", "2001:db8:1:2::1"}, "2001:db8:1:2::1", false, ""},
		{"ban of a /64 stays in it", 3, repeat("2001:db8:1:2::1", 3), "2001:db8:1:3::1", false, "2001:db8:1:2::/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, st := newClock(), newStore(t)
			d := newDefender(t, st, c, Config{Threshold: tc.threshold})
			var last bool
			for _, ip := range tc.failing {
				last = fail(t, d, ip, 1)
			}
			wantBanned(t, d, tc.check, tc.banned)
			if tc.check == tc.failing[len(tc.failing)-1] && last != tc.banned {
				t.Errorf("last Failure reported banned=%v, want %v", last, tc.banned)
			}
			rows, err := st.ListBans(t.Context(), c.Now())
			if err != nil {
				t.Fatal(err)
			}
			if tc.row == "" {
				if len(rows) != 0 {
					t.Errorf("store has bans %v, want none", rows)
				}
				return
			}
			if len(rows) != 1 || rows[0].IP != tc.row || rows[0].Count != 1 ||
				!rows[0].Until.Equal(c.Now().Add(DefaultBanTime)) || !rows[0].At.Equal(c.Now()) {
				t.Errorf("store has bans %+v, want one of %s until %v, count 1", rows, tc.row, c.Now().Add(DefaultBanTime))
			}
		})
	}
}

func repeat(ip string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = ip
	}
	return s
}

func TestBannedUntil(t *testing.T) {
	t.Parallel()
	c := newClock()
	d := newDefender(t, newStore(t), c, Config{Threshold: 2})
	fail(t, d, "192.0.2.7", 2)
	until, banned := d.Banned(netip.MustParseAddr("192.0.2.7"))
	if want := c.Now().Add(DefaultBanTime); !banned || !until.Equal(want) {
		t.Fatalf("Banned = %v, %v; want %v, true", until, banned, want)
	}
	if banned, err := d.Failure(t.Context(), netip.MustParseAddr("192.0.2.7"), "again"); !banned || err != nil {
		t.Errorf("Failure of a banned IP = %v, %v; want true, nil", banned, err)
	}
	c.Advance(DefaultBanTime - time.Second)
	wantBanned(t, d, "192.0.2.7", true)
	c.Advance(time.Second)
	wantBanned(t, d, "192.0.2.7", false)
}

func TestWindowSlides(t *testing.T) {
	t.Parallel()
	c := newClock()
	d := newDefender(t, newStore(t), c, Config{Threshold: 5, Window: 10 * time.Minute})
	ip := "192.0.2.7"
	fail(t, d, ip, 2) // at 0
	c.Advance(6 * time.Minute)
	fail(t, d, ip, 2) // at 6m: 4 in the window
	c.Advance(4 * time.Minute)
	// At 10m the two failures of 0 have left the window: 3, not 5.
	if fail(t, d, ip, 1) {
		t.Fatal("banned with failures older than the window")
	}
	if fail(t, d, ip, 1) {
		t.Fatal("banned with 4 failures in the window")
	}
	if !fail(t, d, ip, 1) {
		t.Fatal("not banned with 5 failures in the window")
	}
}

func TestRepeatBanDoubles(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	d := newDefender(t, st, c, Config{Threshold: 3, BanTime: 15 * time.Minute, MaxBan: 100 * time.Minute})
	ip := netip.MustParseAddr("192.0.2.7")
	for i, want := range []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 100 * time.Minute, 100 * time.Minute} {
		if !fail(t, d, ip.String(), 3) {
			t.Fatalf("ban %d: not banned", i+1)
		}
		until, _ := d.Banned(ip)
		if got := until.Sub(c.Now()); got != want {
			t.Errorf("ban %d lasts %v, want %v", i+1, got, want)
		}
		row, err := st.GetBan(t.Context(), ip.String())
		if err != nil || row.Count != i+1 || !row.Until.Equal(until) {
			t.Errorf("ban %d in the store: %+v, %v; want count %d until %v", i+1, row, err, i+1, until)
		}
		c.Advance(want)
		wantBanned(t, d, ip.String(), false)
		if err := d.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBanTimeCap(t *testing.T) {
	t.Parallel()
	d := New(Config{BanTime: 15 * time.Minute, MaxBan: 24 * time.Hour}, nil, nil)
	for count, want := range map[int]time.Duration{
		0: 15 * time.Minute, 1: 30 * time.Minute, 6: 16 * time.Hour, 7: 24 * time.Hour,
		64: 24 * time.Hour, 1 << 40: 24 * time.Hour,
	} {
		if got := d.banTime(count); got != want {
			t.Errorf("banTime(%d) = %v, want %v", count, got, want)
		}
	}
}

func TestBanSurvivesRestart(t *testing.T) {
	t.Parallel()
	c, dir := newClock(), t.TempDir()
	st := openStore(t, dir)
	d := newDefender(t, st, c, Config{Threshold: 3})
	fail(t, d, "192.0.2.7", 3)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	d2 := newDefender(t, openStore(t, dir), c, Config{Threshold: 3})
	wantBanned(t, d2, "192.0.2.7", true)
	wantBanned(t, d2, "192.0.2.8", false)
}

func TestOtherNode(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	a := newDefender(t, st, c, Config{Threshold: 3})
	b := newDefender(t, st, c, Config{Threshold: 3})

	fail(t, a, "192.0.2.7", 3)
	wantBanned(t, b, "192.0.2.7", false) // not yet refreshed
	if _, err := b.Ban(t.Context(), netip.MustParseAddr("2001:db8::7"), time.Hour, "by hand"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Defender{a, b} {
		if err := d.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantBanned(t, d, "192.0.2.7", true)
		wantBanned(t, d, "2001:db8::7", true)
		wantBanned(t, d, "2001:db8::8", false) // a manual ban is of one address
	}

	// b reaches the threshold for an IP a banned after b's last Load: b
	// adopts a's ban rather than count a repeat offence.
	fail(t, a, "192.0.2.9", 3)
	if !fail(t, b, "192.0.2.9", 3) {
		t.Fatal("not banned on b")
	}
	row, err := st.GetBan(t.Context(), "192.0.2.9")
	if err != nil || row.Count != 1 {
		t.Errorf("ban banned by both nodes: %+v, %v; want count 1", row, err)
	}

	list, err := a.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, b := range list {
		ips = append(ips, b.IP)
	}
	if fmt.Sprint(ips) != "[192.0.2.7 192.0.2.9 2001:db8::7]" {
		t.Errorf("List = %v, want the three bans, soonest to expire first", ips)
	}
	c.Advance(DefaultBanTime)
	if list, err := a.List(t.Context()); err != nil || len(list) != 1 || list[0].IP != "2001:db8::7" {
		t.Errorf("List after the automatic bans expired = %+v, %v; want only 2001:db8::7", list, err)
	}
}

func TestUnban(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	a := newDefender(t, st, c, Config{Threshold: 3})
	b := newDefender(t, st, c, Config{Threshold: 3})
	fail(t, a, "192.0.2.7", 3)
	fail(t, a, "2001:db8:1:2::1", 3)
	if err := b.Load(t.Context()); err != nil {
		t.Fatal(err)
	}

	for _, ip := range []string{"192.0.2.7", "2001:db8:1:2::99"} {
		if err := a.Unban(t.Context(), hostKey(netip.MustParseAddr(ip))); err != nil {
			t.Fatalf("Unban(%s): %v", ip, err)
		}
		wantBanned(t, a, ip, false)
	}
	if rows, err := st.ListBans(t.Context(), c.Now()); err != nil || len(rows) != 0 {
		t.Errorf("store after Unban: %+v, %v; want no bans", rows, err)
	}
	for _, d := range []*Defender{a, b} {
		if err := d.Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantBanned(t, d, "192.0.2.7", false)
		wantBanned(t, d, "2001:db8:1:2::1", false)
	}
	// The score went too: it takes the full threshold again, and the
	// pardon reset the repeat count.
	if fail(t, a, "192.0.2.7", 2) {
		t.Error("banned again below the threshold after Unban")
	}
	fail(t, a, "192.0.2.7", 1)
	if until, _ := a.Banned(netip.MustParseAddr("192.0.2.7")); until.Sub(c.Now()) != DefaultBanTime {
		t.Errorf("ban after a pardon lasts %v, want the first ban's %v", until.Sub(c.Now()), DefaultBanTime)
	}

	// A score gathered before a ban from elsewhere goes too.
	fail(t, a, "192.0.2.50", 2)
	if _, err := b.Ban(t.Context(), netip.MustParseAddr("192.0.2.50"), time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	if err := a.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.Unban(t.Context(), hostKey(netip.MustParseAddr("192.0.2.50"))); err != nil {
		t.Fatal(err)
	}
	if fail(t, a, "192.0.2.50", 1) {
		t.Error("failures from before Unban still counted")
	}

	err := a.Unban(t.Context(), hostKey(netip.MustParseAddr("198.51.100.1")))
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Unban of an IP not banned: %v, want domain.ErrNotFound", err)
	}
}

func TestSafeList(t *testing.T) {
	t.Parallel()
	safe, err := ParseSafeList("192.0.2.0/24, 2001:db8:1:2::5")
	if err != nil {
		t.Fatal(err)
	}
	c, st := newClock(), newStore(t)
	d := newDefender(t, st, c, Config{Threshold: 3, SafeList: safe})

	for _, ip := range []string{"192.0.2.7", "::ffff:192.0.2.8", "2001:db8:1:2::5"} {
		if fail(t, d, ip, 10) {
			t.Errorf("safe %s banned by failures", ip)
		}
	}
	if rows, _ := st.ListBans(t.Context(), c.Now()); len(rows) != 0 {
		t.Errorf("store has bans %+v of safe IPs", rows)
	}
	_, err = d.Ban(t.Context(), netip.MustParseAddr("192.0.2.7"), time.Hour, "")
	if !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Ban of a safe IP: %v, want domain.ErrInvalid", err)
	}

	// Rows from elsewhere (another node's older safe list, the CLI) do not
	// keep a safe IP out, not even through the ban of its /64.
	for _, ip := range []string{"192.0.2.7", "2001:db8:1:2::/64"} {
		b := domain.Ban{IP: ip, Until: c.Now().Add(time.Hour), Count: 1, At: c.Now()}
		if err := st.PutBan(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, d, "192.0.2.7", false)
	wantBanned(t, d, "2001:db8:1:2::5", false)
	wantBanned(t, d, "2001:db8:1:2::6", true)
}

func TestMappedIPv6(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	d := newDefender(t, st, c, Config{Threshold: 4})
	fail(t, d, "::ffff:192.0.2.7", 2)
	if !fail(t, d, "192.0.2.7", 2) {
		t.Fatal("::ffff:192.0.2.7 and 192.0.2.7 scored apart")
	}
	wantBanned(t, d, "::ffff:192.0.2.7", true)
	wantBanned(t, d, "192.0.2.7", true)
	if _, err := st.GetBan(t.Context(), "192.0.2.7"); err != nil {
		t.Errorf("ban not stored under the IPv4 address: %v", err)
	}
	if err := d.Unban(t.Context(), hostKey(netip.MustParseAddr("::ffff:192.0.2.7"))); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, d, "192.0.2.7", false)

	// A row a tool wrote in the mapped form still applies.
	if err := st.PutBan(t.Context(), domain.Ban{IP: "::ffff:198.51.100.1", Until: c.Now().Add(time.Hour), Count: 1}); err != nil {
		t.Fatal(err)
	}
	if err := d.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, d, "198.51.100.1", true)
}

func TestManualBan(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	d := newDefender(t, st, c, Config{Threshold: 3})
	ip := netip.MustParseAddr("192.0.2.7")
	if _, err := d.Ban(t.Context(), ip, 0, ""); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Ban for 0: %v, want domain.ErrInvalid", err)
	}
	if _, err := d.Ban(t.Context(), ip, 3*time.Hour, "seen scanning"); err != nil {
		t.Fatal(err)
	}
	until, banned := d.Banned(ip)
	if !banned || until.Sub(c.Now()) != 3*time.Hour {
		t.Errorf("Banned after a 3h ban = %v, %v", until, banned)
	}
	row, err := st.GetBan(t.Context(), "192.0.2.7")
	if err != nil || row.Count != 1 || row.Reason != "seen scanning" {
		t.Errorf("stored ban %+v, %v", row, err)
	}
	// It counts as a first offence: the next automatic ban is a repeat.
	c.Advance(3 * time.Hour)
	fail(t, d, "192.0.2.7", 3)
	if until, _ := d.Banned(ip); until.Sub(c.Now()) != 2*DefaultBanTime {
		t.Errorf("automatic ban after a manual one lasts %v, want %v", until.Sub(c.Now()), 2*DefaultBanTime)
	}
}

// failingStore refuses every call while down is set.
type failingStore struct {
	store.Bans
	mu     sync.Mutex
	down   bool
	noPuts bool // PutBan fails even when up
}

var errDown = errors.New("database is down")

func (f *failingStore) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *failingStore) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	return nil
}

func (f *failingStore) PutBan(ctx context.Context, b domain.Ban) error {
	if err := f.err(); err != nil {
		return err
	}
	f.mu.Lock()
	noPuts := f.noPuts
	f.mu.Unlock()
	if noPuts {
		return errDown
	}
	return f.Bans.PutBan(ctx, b)
}

func (f *failingStore) GetBan(ctx context.Context, ip string) (domain.Ban, error) {
	if err := f.err(); err != nil {
		return domain.Ban{}, err
	}
	return f.Bans.GetBan(ctx, ip)
}

func (f *failingStore) ListBans(ctx context.Context, now time.Time) ([]domain.Ban, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Bans.ListBans(ctx, now)
}

func (f *failingStore) DeleteBan(ctx context.Context, ip string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Bans.DeleteBan(ctx, ip)
}

func TestStoreDown(t *testing.T) {
	t.Parallel()
	c, sql := newClock(), newStore(t)
	st := &failingStore{Bans: sql}
	d := newDefender(t, st, c, Config{Threshold: 3})
	st.setDown(true)

	fail(t, d, "192.0.2.7", 2)
	banned, err := d.Failure(t.Context(), netip.MustParseAddr("192.0.2.7"), "wrong password")
	if !banned || !errors.Is(err, errDown) {
		t.Fatalf("Failure with the store down = %v, %v; want true and the store's error", banned, err)
	}
	wantBanned(t, d, "192.0.2.7", true)
	if err := d.Load(t.Context()); !errors.Is(err, errDown) {
		t.Errorf("Load with the store down: %v", err)
	}
	wantBanned(t, d, "192.0.2.7", true)
	if err := d.Unban(t.Context(), hostKey(netip.MustParseAddr("192.0.2.7"))); !errors.Is(err, errDown) {
		t.Errorf("Unban with the store down: %v", err)
	}
	wantBanned(t, d, "192.0.2.7", true)

	// Back up: the next Load saves the ban, so other nodes see it too.
	st.setDown(false)
	if err := d.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantBanned(t, d, "192.0.2.7", true)
	row, err := sql.GetBan(t.Context(), "192.0.2.7")
	if err != nil || !row.Until.Equal(c.Now().Add(DefaultBanTime)) || row.Count != 1 {
		t.Errorf("ban saved after the store came back: %+v, %v", row, err)
	}
	if n := len(d.pending); n != 0 {
		t.Errorf("%d bans still pending", n)
	}
}

// When only writes fail, the ban stays in force here across reloads.
func TestStoreRefusesWrites(t *testing.T) {
	t.Parallel()
	c := newClock()
	st := &failingStore{Bans: newStore(t), noPuts: true}
	d := newDefender(t, st, c, Config{Threshold: 3})
	fail(t, d, "192.0.2.7", 2)
	if banned, err := d.Failure(t.Context(), netip.MustParseAddr("192.0.2.7"), "x"); !banned || !errors.Is(err, errDown) {
		t.Fatalf("Failure = %v, %v; want true and the store's error", banned, err)
	}
	if err := d.Load(t.Context()); !errors.Is(err, errDown) {
		t.Errorf("Load = %v, want the failed retry's error", err)
	}
	wantBanned(t, d, "192.0.2.7", true)
	c.Advance(DefaultBanTime)
	if err := d.Load(t.Context()); err != nil {
		t.Errorf("Load once the unsaved ban expired = %v", err)
	}
	wantBanned(t, d, "192.0.2.7", false)
	if n := len(d.pending); n != 0 {
		t.Errorf("%d expired bans still pending", n)
	}
}

func TestBoundedMemory(t *testing.T) {
	t.Parallel()
	const limit, flood = 10_000, 200_000
	c := newClock()
	d := newDefender(t, newStore(t), c, Config{Threshold: 3, MaxTracked: limit})
	ctx := context.Background()
	ip := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	for i := range flood {
		if banned, err := d.Failure(ctx, ip(i), "x"); banned || err != nil {
			t.Fatalf("Failure %d = %v, %v", i, banned, err)
		}
		if i%(flood/10) == 0 {
			if n := d.fails.len(); n > limit {
				t.Fatalf("after %d distinct IPs the table holds %d, over the cap %d", i+1, n, limit)
			}
		}
	}
	if n := d.fails.len(); n != limit {
		t.Errorf("table holds %d after the flood, want the cap %d", n, limit)
	}
	// The most recent IPs are still scored; the oldest were forgotten.
	if banned, _ := d.Failure(ctx, ip(flood-1), "x"); banned {
		t.Error("banned after 2 failures")
	}
	if banned, _ := d.Failure(ctx, ip(flood-1), "x"); !banned {
		t.Error("most recent IP forgotten")
	}
	if banned, _ := d.Failure(ctx, ip(0), "x"); banned {
		t.Error("oldest IP still scored")
	}
	// Once the flood is over, its scores go.
	c.Advance(DefaultWindow + time.Second)
	d.fails.prune(int64(c.Now().Sub(d.epoch)))
	if n := d.fails.len(); n != 0 {
		t.Errorf("table holds %d after the window passed, want 0", n)
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	const workers, ips, rounds, threshold = 8, 16, 200, 5
	c, st := newClock(), newStore(t)
	d := newDefender(t, st, c, Config{Threshold: threshold})
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }
	ctx, cancel := context.WithCancel(t.Context())
	var run, wg sync.WaitGroup
	run.Go(func() { d.Run(ctx) })
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				ip := addr((w + r) % ips)
				if _, err := d.Failure(t.Context(), ip, "x"); err != nil {
					t.Error(err)
					return
				}
				d.Banned(addr(r % ips))
			}
		})
	}
	for range rounds {
		d.Banned(addr(1))
	}
	wg.Wait()
	cancel()
	run.Wait()
	for i := range ips {
		wantBanned(t, d, addr(i).String(), true)
		if row, err := st.GetBan(t.Context(), addr(i).String()); err != nil || row.Count != 1 {
			t.Errorf("ban of %s: %+v, %v; want one ban (count 1)", addr(i), row, err)
		}
	}
}

func waitBanned(t *testing.T, d *Defender, ip netip.Addr, want bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, banned := d.Banned(ip); banned == want {
			return
		}
	}
	t.Fatalf("Banned(%s) still %v after 5s", ip, !want)
}

func TestBanLogLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	c := newClock()
	d := New(Config{Threshold: 2, Now: c.Now}, newStore(t), log)
	fail(t, d, "2001:db8:1:2::7", 2)
	want := `level=INFO msg="IP banned" ip=2001:db8:1:2::/64 until=2030-01-02T03:19:05.000Z failures=2 count=1` + "\n"
	if buf.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func BenchmarkBanned(b *testing.B) {
	c := newClock()
	d := New(Config{Now: c.Now}, nil, nil)
	for i := range 10_000 {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		d.apply(hostKey(ip), ban{until: c.Now().Add(time.Hour).UnixNano()})
	}
	v4, v6 := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::7")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Banned(v4)
			d.Banned(v6)
		}
	})
}

func BenchmarkFailureFlood(b *testing.B) {
	d := New(Config{MaxTracked: 10_000}, nil, nil)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		d.Failure(ctx, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), "x")
	}
}

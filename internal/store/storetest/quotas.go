package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

const holdTTL = 30 * time.Second

// measuredUsage stores a first measure of dev.bob's folder: 100 bytes, 2
// entries.
func measuredUsage(t *testing.T, s store.Store) domain.QuotaUsage {
	t.Helper()
	withAccounts(t, s, []string{"bob"}, "dev.bob")
	m := domain.QuotaUsage{Directory: "/home/bob/site", Bytes: 100, Files: 2, MeasuredAt: at(0)}
	check(t, s.SetQuotaUsage(t.Context(), "dev.bob", m, domain.QuotaUsage{}), "SetQuotaUsage")
	return m
}

// usageOf reads dev.bob's usage through a hold of a node of its own.
func usageOf(t *testing.T, s store.Store) domain.QuotaUsage {
	t.Helper()
	u, found, _, err := s.HoldQuota(t.Context(), "dev.bob", "reader", holdTTL)
	check(t, err, "HoldQuota")
	check(t, s.ReleaseQuotaHold(t.Context(), "dev.bob", "reader", 0, 0), "ReleaseQuotaHold")
	if !found {
		t.Fatal("HoldQuota found no usage")
	}
	return u
}

var quotaCases = []testCase{
	{"measure round-trips", func(t *testing.T, s store.Store) {
		m := measuredUsage(t, s)
		m.MeasuredAt = stored(m.MeasuredAt)
		same(t, "usage", usageOf(t, s), m)
	}},
	{"reserve up to the limits, give back always", func(t *testing.T, s store.Store) {
		measuredUsage(t, s)
		ctx := t.Context()
		for _, c := range []struct {
			bytes, files, maxBytes, maxFiles int64
			wantBytes, wantFiles             int64
		}{
			{50, 1, 120, 3, 20, 1},         // what is left of each limit
			{10, 1, 120, 3, 0, 0},          // both full
			{-30, -1, 120, 3, -30, -1},     // giving back is never refused
			{1000, 1000, 0, 0, 1000, 1000}, // no limits
			{5, 1, 2000, 1, 5, 0},          // over one limit already: nothing more of it
		} {
			b, f, err := s.ReserveQuota(ctx, "dev.bob", c.bytes, c.files, c.maxBytes, c.maxFiles)
			check(t, err, "ReserveQuota(%d, %d)", c.bytes, c.files)
			if b != c.wantBytes || f != c.wantFiles {
				t.Fatalf("ReserveQuota(%d, %d) of (%d, %d) added %d, %d; want %d, %d",
					c.bytes, c.files, c.maxBytes, c.maxFiles, b, f, c.wantBytes, c.wantFiles)
			}
		}
		if u := usageOf(t, s); u.Bytes != 100+20-30+1000+5 || u.Files != 2+1-1+1000 {
			t.Fatalf("usage %d bytes, %d files after the reservations", u.Bytes, u.Files)
		}
	}},
	{"reserve without a usage is NotFound", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		_, _, err := s.ReserveQuota(t.Context(), "dev.bob", 1, 0, 10, 0)
		wantErr(t, err, domain.ErrNotFound, "ReserveQuota before any measure")
	}},
	{"concurrent reservations never pass the limit", func(t *testing.T, s store.Store) {
		measuredUsage(t, s)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var total int64
		for range 20 {
			wg.Go(func() {
				b, _, err := s.ReserveQuota(t.Context(), "dev.bob", 10, 0, 200, 0)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += b
				mu.Unlock()
			})
		}
		wg.Wait()
		if u := usageOf(t, s); total != 100 || u.Bytes != 200 {
			t.Fatalf("20 reservations of 10 bytes with 100 left added %d, usage %d; want 100 and 200", total, u.Bytes)
		}
	}},
	{"holds: shared, released, expired, renewed", func(t *testing.T, s store.Store) {
		withAccounts(t, s, []string{"bob"}, "dev.bob")
		ctx := t.Context()
		hold := func(node string, ttl time.Duration) (found, shared bool) {
			t.Helper()
			_, found, shared, err := s.HoldQuota(ctx, "dev.bob", node, ttl)
			check(t, err, "HoldQuota %s", node)
			return found, shared
		}
		if found, shared := hold("a", holdTTL); found || shared {
			t.Fatalf("first hold: found %v, shared %v; want neither", found, shared)
		}
		check(t, s.SetQuotaUsage(ctx, "dev.bob", domain.QuotaUsage{Directory: "/d", Bytes: 100}, domain.QuotaUsage{}), "SetQuotaUsage")
		if found, shared := hold("b", holdTTL); !found || !shared {
			t.Fatalf("second node's hold: found %v, shared %v; want both", found, shared)
		}
		check(t, s.ReleaseQuotaHold(ctx, "dev.bob", "a", 40, 0), "ReleaseQuotaHold")
		if _, shared := hold("b", holdTTL); shared {
			t.Fatal("a released hold still counts")
		}
		if u := usageOf(t, s); u.Bytes != 60 {
			t.Fatalf("usage %d after a node gave back 40 of 100, want 60", u.Bytes)
		}
		check(t, s.ReleaseQuotaHold(ctx, "dev.bob", "b", 0, 0), "ReleaseQuotaHold")
		hold("gone", -time.Second) // a node that stopped renewing
		if _, shared := hold("c", holdTTL); shared {
			t.Fatal("an expired hold still counts")
		}
		check(t, s.ReleaseQuotaHold(ctx, "dev.bob", "c", 0, 0), "ReleaseQuotaHold")
		hold("slow", -time.Second)
		check(t, s.RenewQuotaHolds(ctx, "slow", holdTTL), "RenewQuotaHolds")
		if _, shared := hold("d", holdTTL); !shared {
			t.Fatal("a renewed hold does not count")
		}
	}},
	{"a measure keeps the changes made meanwhile", func(t *testing.T, s store.Store) {
		measuredUsage(t, s)
		ctx := t.Context()
		base, _, _, err := s.HoldQuota(ctx, "dev.bob", "a", holdTTL)
		check(t, err, "HoldQuota")
		_, _, err = s.ReserveQuota(ctx, "dev.bob", 500, 1, 0, 0) // another node writes
		check(t, err, "ReserveQuota")
		m := domain.QuotaUsage{Directory: "/home/bob/other", Bytes: 1000, Files: 7, MeasuredAt: at(time.Hour)}
		check(t, s.SetQuotaUsage(ctx, "dev.bob", m, base), "SetQuotaUsage")
		if u := usageOf(t, s); u.Bytes != 1500 || u.Files != 8 || u.Directory != m.Directory || !u.MeasuredAt.Equal(stored(m.MeasuredAt)) {
			t.Fatalf("usage %+v; want the measure plus the 500 bytes and 1 file reserved meanwhile", u)
		}
	}},
	{"a first measure keeps one stored meanwhile", func(t *testing.T, s store.Store) {
		m := measuredUsage(t, s) // another node measured first
		late := domain.QuotaUsage{Directory: m.Directory, Bytes: 100, Files: 2, MeasuredAt: at(time.Second)}
		check(t, s.SetQuotaUsage(t.Context(), "dev.bob", late, domain.QuotaUsage{}), "SetQuotaUsage")
		if u := usageOf(t, s); u.Bytes != 100 || u.Files != 2 {
			t.Fatalf("usage %+v after two first measures of 100 bytes; want it counted once", u)
		}
	}},
	{"deleting the user forgets its usage and holds", func(t *testing.T, s store.Store) {
		measuredUsage(t, s)
		ctx := t.Context()
		_, _, _, err := s.HoldQuota(ctx, "dev.bob", "a", holdTTL)
		check(t, err, "HoldQuota")
		check(t, s.DeleteFTPUser(ctx, "dev.bob"), "DeleteFTPUser")
		_, _, _, err = s.HoldQuota(ctx, "dev.bob", "b", holdTTL)
		wantErr(t, err, domain.ErrNotFound, "HoldQuota of a deleted user")
		check(t, s.CreateFTPUser(ctx, ftpUser("dev.bob"), 0), "CreateFTPUser")
		if _, found, shared, err := s.HoldQuota(ctx, "dev.bob", "b", holdTTL); err != nil || found || shared {
			t.Fatalf("HoldQuota of the user made again: found %v, shared %v, %v; want a fresh start", found, shared, err)
		}
	}},
}

package web

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiterBlocksAndGrows(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	l := newLimiter(func() time.Time { return now })
	bob := newLoginKeys(roleOwner, "bob", "192.0.2.1")
	for range maxPairFails - 1 {
		l.fail(bob)
	}
	if w := l.wait(bob); w != 0 {
		t.Fatalf("blocked after %d failures: %v", maxPairFails-1, w)
	}
	l.fail(bob)
	if w := l.wait(bob); w != time.Minute {
		t.Fatalf("first block %v, want 1m", w)
	}
	if w := l.wait(newLoginKeys(roleOwner, "bob", "198.51.100.1")); w != 0 {
		t.Fatalf("the name is blocked from another IP: %v", w)
	}
	now = now.Add(time.Minute)
	if w := l.wait(bob); w != 0 {
		t.Fatalf("still blocked after the block: %v", w)
	}
	want := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for i, d := range want {
		for range maxPairFails {
			l.fail(bob)
		}
		if w := l.wait(bob); w != d {
			t.Fatalf("block %d: %v, want %v", i+2, w, d)
		}
		now = now.Add(d)
	}
	// Failures spread out wider than the window never block.
	l2 := newLimiter(func() time.Time { return now })
	alice := newLoginKeys(roleOwner, "alice", "192.0.2.1")
	for range 20 {
		l2.fail(alice)
		now = now.Add(15 * time.Second)
	}
	if w := l2.wait(alice); w != 0 {
		t.Errorf("4 failures a minute blocked: %v", w)
	}
	// Success forgets the name's failures from that IP.
	carol := newLoginKeys(roleOwner, "carol", "192.0.2.1")
	l2.fail(carol)
	l2.success(carol)
	if _, ok := l2.m[carol.pair]; ok {
		t.Error("success kept the failures")
	}
}

// A name guessed at from many addresses is under attack: each address then
// gets one wrong guess per block, and no address is blocked that did not
// guess.
func TestLimiterNameUnderAttack(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	l := newLimiter(func() time.Time { return now })
	ip := func(i int) string { return "198.51.100." + strconv.Itoa(i) }
	for i := range maxNameFails {
		k := newLoginKeys(roleAdmin, "admin", ip(i))
		if w := l.wait(k); w != 0 {
			t.Fatalf("address %d blocked before its first guess: %v", i, w)
		}
		l.fail(k)
	}
	// The last guess put the name under attack and blocked its address.
	if w := l.wait(newLoginKeys(roleAdmin, "admin", ip(maxNameFails-1))); w != time.Minute {
		t.Errorf("the guess that reached the limit: blocked %v, want 1m", w)
	}
	next := newLoginKeys(roleAdmin, "admin", ip(200))
	if w := l.wait(next); w != 0 {
		t.Errorf("a new address is blocked before guessing: %v", w)
	}
	l.fail(next)
	if w := l.wait(next); w != time.Minute {
		t.Errorf("one wrong guess under attack: blocked %v, want 1m", w)
	}
	if w := l.wait(newLoginKeys(roleAdmin, "admin", "203.0.113.9")); w != 0 {
		t.Errorf("the owner's address is blocked: %v", w)
	}
}

func TestIPKeyGroupsIPv6By64(t *testing.T) {
	t.Parallel()
	if a, b := ipKey("2001:db8:1:2::1"), ipKey("2001:db8:1:2:ffff::9"); a != b {
		t.Errorf("%s != %s", a, b)
	}
	if a, b := ipKey("2001:db8:1:2::1"), ipKey("2001:db8:1:3::1"); a == b {
		t.Error("different /64s share a key")
	}
	if k := ipKey("192.0.2.7"); k != "192.0.2.7" {
		t.Errorf("IPv4 key %q", k)
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/files/ftp/connections": "/files/ftp/connections",
		"//evil.example/files/":  "/files/ftp",
		"https://evil.example/":  "/files/ftp",
		"/files/\\evil":          "/files/ftp",
		"/admin/accounts":        "/files/ftp",
		"":                       "/files/ftp",
	} {
		if got := safeNext(next, "/files/", "/files/ftp"); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestUsageCacheExpires(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	measured := 0
	c := newUsageCache(func() time.Time { return now }, 10*time.Second, func(home, p string) usage {
		measured++
		return usage{Bytes: int64(measured)}
	})
	if u := c.get("/home/bob", "/"); u.Bytes != 1 {
		t.Fatal(u)
	}
	if u := c.get("/home/bob", "/"); u.Bytes != 1 {
		t.Errorf("not cached: %+v", u)
	}
	if u := c.get("/home/bob", "/site"); u.Bytes != 2 {
		t.Errorf("another folder shares the entry: %+v", u)
	}
	now = now.Add(10 * time.Second)
	if u := c.get("/home/bob", "/"); u.Bytes != 3 {
		t.Errorf("cache did not expire: %+v", u)
	}
}

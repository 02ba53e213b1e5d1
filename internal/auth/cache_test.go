package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestVerifyCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewVerifyCache(time.Minute, 100, func() time.Time { return now })
	c.Add("dev.bob", "hash1", "Secret1!")

	cases := []struct {
		name               string
		user, hash, passwd string
		advance            time.Duration
		want               bool
	}{
		{"same credentials", "dev.bob", "hash1", "Secret1!", 0, true},
		{"wrong password", "dev.bob", "hash1", "Secret1?", 0, false},
		{"password changed (new hash)", "dev.bob", "hash2", "Secret1!", 0, false},
		{"other user", "web.bob", "hash1", "Secret1!", 0, false},
		{"expired", "dev.bob", "hash1", "Secret1!", time.Minute, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			saved := now
			now = now.Add(tc.advance)
			defer func() { now = saved }()
			if got := c.Hit(tc.user, tc.hash, tc.passwd); got != tc.want {
				t.Errorf("Hit = %v, want %v", got, tc.want)
			}
		})
	}
	c.Forget("dev.bob")
	if c.Hit("dev.bob", "hash1", "Secret1!") {
		t.Error("Hit after Forget")
	}
}

func TestVerifyCacheStaysBounded(t *testing.T) {
	c := NewVerifyCache(time.Minute, 50, nil)
	for i := 0; i < 1000; i++ {
		c.Add(fmt.Sprintf("u%d.bob", i), "h", "p")
	}
	if n := len(c.entries); n > 50 {
		t.Errorf("cache holds %d entries, cap 50", n)
	}
}

func TestVerifyCacheKeepsNoPassword(t *testing.T) {
	c := NewVerifyCache(time.Minute, 10, nil)
	c.Add("dev.bob", "h", "Secret1!")
	for _, e := range c.entries {
		if string(e.mac[:]) == "Secret1!" || e.hash != "h" {
			t.Errorf("entry = %+v", e)
		}
	}
	var nilCache *VerifyCache
	if nilCache.Hit("a", "b", "c") {
		t.Error("a nil cache hits")
	}
}

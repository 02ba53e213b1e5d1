package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/clocktest"
)

func TestStandsStillUntilAdvanced(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := clocktest.New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Advance(90 * time.Minute)
	c.Advance(-30 * time.Minute)
	if got := c.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("after advancing an hour: %v", got)
	}
}

func TestRealFollowsTheRealTime(t *testing.T) {
	c := clocktest.Real()
	before := time.Now()
	if got := c.Now(); got.Before(before) || got.After(time.Now()) {
		t.Fatalf("Now = %v, want the real time", got)
	}
	c.Advance(24 * time.Hour)
	if got := c.Now().Sub(time.Now()); got < 23*time.Hour || got > 24*time.Hour {
		t.Fatalf("a day ahead, the clock is %v ahead of the real time", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := clocktest.New(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(time.Unix(800, 0)) {
		t.Fatalf("Now = %v after 800 advances of a second", got)
	}
}

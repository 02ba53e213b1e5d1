package defender

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/panelftp/panelftp/internal/store"
)

// pruneRecorder is a ban store and shared failure store that records the
// prunes Run asks for, and fails them while down is set. Run calls
// nothing else.
type pruneRecorder struct {
	store.Bans
	store.LoginFailures
	mu       sync.Mutex
	bans     []time.Time // the before of each PruneBans
	failures []time.Time // the before of each PruneLoginFailures
	down     bool
}

func (p *pruneRecorder) PruneBans(_ context.Context, before time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return errors.New("connection refused")
	}
	p.bans = append(p.bans, before)
	return nil
}

func (p *pruneRecorder) PruneLoginFailures(_ context.Context, before time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, before)
	return nil
}

func (p *pruneRecorder) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

func (p *pruneRecorder) prunes() (bans, failures []time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.bans...), append([]time.Time(nil), p.failures...)
}

// TestRunPrunesEveryMinute runs Run in a synctest bubble, whose clock
// moves only when every goroutine waits: once a minute it forgets the
// failure scores that left the window and asks the store to forget old
// bans and failures; a failing store is logged once, and its recovery
// once.
func TestRunPrunesEveryMinute(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &pruneRecorder{}
		var log syncLog
		// Without Shared, scores are kept in memory, where the test reads them.
		d := New(Config{Window: 5 * time.Minute, Forget: 24 * time.Hour}, st, slog.New(slog.NewTextHandler(&log, nil)))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		defer func() { cancel(); <-done }()

		if _, err := d.Failure(ctx, netip.MustParseAddr("192.0.2.7"), "x"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		time.Sleep(pruneEvery - time.Millisecond)
		synctest.Wait()
		if bans, _ := st.prunes(); len(bans) != 0 {
			t.Fatalf("pruned %d times before a minute passed", len(bans))
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if bans, _ := st.prunes(); len(bans) != 1 || !bans[0].Equal(start.Add(pruneEvery-24*time.Hour)) {
			t.Fatalf("bans pruned %v after a minute, want once, those ended before a day ago", bans)
		}
		if n := d.fails.len(); n != 1 {
			t.Fatalf("%d scores kept within the window, want 1", n)
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if n := d.fails.len(); n != 0 {
			t.Errorf("%d scores kept after the window passed, want 0", n)
		}

		st.setDown(true)
		time.Sleep(5 * pruneEvery)
		synctest.Wait()
		st.setDown(false)
		time.Sleep(pruneEvery)
		synctest.Wait()
		text := log.String()
		if strings.Count(text, "cannot forget old bans") != 1 || strings.Count(text, "forgetting old bans and failures in the store again") != 1 {
			t.Errorf("want one line when pruning fails and one when it works again:\n%s", text)
		}
		if bans, _ := st.prunes(); len(bans) != 7 {
			t.Errorf("%d prunes done in 12 minutes, 5 of them failed; want 7", len(bans))
		}
	})
}

// TestRunPrunesSharedFailures: with failures shared between nodes, Run
// forgets in the store the ones that left the window.
func TestRunPrunesSharedFailures(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &pruneRecorder{}
		d := New(Config{Window: 5 * time.Minute, Shared: st}, st, nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		defer func() { cancel(); <-done }()
		start := time.Now()
		time.Sleep(2 * pruneEvery)
		synctest.Wait()
		_, failures := st.prunes()
		if len(failures) != 2 || !failures[1].Equal(start.Add(2*pruneEvery-5*time.Minute)) {
			t.Errorf("failures pruned %v in two minutes, want twice, the last those before %v", failures, start.Add(2*pruneEvery-5*time.Minute))
		}
	})
}

// syncLog is a log destination safe for concurrent writes.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package feed

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/panelftp/panelftp/internal/store"
)

// The tests of this file run the feed's loop in a synctest bubble, on a
// store kept in memory: its timers run on the bubble's clock, so polls,
// pruning and reconnection pauses of minutes take no time, and
// synctest.Wait says when the loop has done all it can.

// memChanges is a change feed in memory. While down is set every call
// fails.
type memChanges struct {
	mu      sync.Mutex
	changes []store.Change
	seq     int64
	pruned  int64 // the last Seq pruned
	reads   int
	prunes  []time.Duration
	down    bool
}

var errDown = errors.New("connection refused")

func (m *memChanges) ChangesAfter(_ context.Context, after int64, limit int) ([]store.Change, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.down {
		return nil, false, errDown
	}
	var out []store.Change
	for _, c := range m.changes {
		if c.Seq > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, after >= m.pruned, nil
}

func (m *memChanges) PruneChanges(_ context.Context, olderThan time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	m.prunes = append(m.prunes, olderThan)
	return nil
}

func (m *memChanges) KickSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	m.changes = append(m.changes, store.Change{Seq: m.seq, Kind: store.ChangeSession, Key: id})
	return nil
}

func (m *memChanges) setDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

func (m *memChanges) stats() (reads int, prunes []time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads, append([]time.Duration(nil), m.prunes...)
}

// runInBubble runs the feed until the returned stop is called, and waits
// until it has done what it can.
func runInBubble(st store.Changes, cfg Config, fl ...Follower) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); Run(ctx, st, cfg, fl...) }()
	synctest.Wait()
	return func() { cancel(); <-done }
}

// TestPollsAtItsInterval: without a Watcher the feed reads every Poll, so
// a change is handed on one interval after it was recorded, not before.
func TestPollsAtItsInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, r := &memChanges{}, &recorder{}
		stop := runInBubble(st, Config{}, r.follower())
		defer stop()
		if reads, _ := st.stats(); reads != 1 {
			t.Fatalf("%d reads at start, want 1", reads)
		}
		st.KickSession(t.Context(), "a")
		time.Sleep(DefaultPoll - time.Millisecond)
		synctest.Wait()
		if keys, _ := r.state(); len(keys) != 0 {
			t.Fatalf("handed on %v before the poll", keys)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if keys, _ := r.state(); !has(keys, "a") {
			t.Fatalf("not handed on at the poll: %v", keys)
		}
		time.Sleep(10 * DefaultPoll)
		synctest.Wait()
		if reads, _ := st.stats(); reads != 12 {
			t.Errorf("%d reads after 11 intervals, want 12", reads)
		}
	})
}

// TestPrunesEveryThirdOfTheRetention: the feed forgets changes older
// than Retention, three times per Retention.
func TestPrunesEveryThirdOfTheRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &memChanges{}
		stop := runInBubble(st, Config{Poll: time.Hour, Retention: 3 * time.Minute})
		defer stop()
		time.Sleep(3*time.Minute + time.Second)
		synctest.Wait()
		if _, prunes := st.stats(); len(prunes) != 3 || prunes[0] != 3*time.Minute {
			t.Errorf("prunes %v in 3 minutes, want 3 of changes older than 3m", prunes)
		}
	})
}

// TestOutageLoggedOnceAndResynced: a store that fails for a while is
// logged once when it fails and once when it is back, and the followers
// re-read everything after it, having possibly missed pushes.
func TestOutageLoggedOnceAndResynced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, r, log := &memChanges{}, &recorder{}, &syncBuffer{}
		stop := runInBubble(st, Config{Poll: 5 * time.Millisecond, Log: slog.New(slog.NewTextHandler(log, nil))}, r.follower())
		defer stop()
		if _, n := r.state(); n != 1 {
			t.Fatalf("%d resyncs at start, want 1", n)
		}
		st.setDown(true)
		time.Sleep(100 * time.Millisecond) // 20 failed reads
		synctest.Wait()
		st.setDown(false)
		st.KickSession(t.Context(), "after")
		time.Sleep(5 * time.Millisecond)
		synctest.Wait()
		if keys, n := r.state(); !has(keys, "after") || n != 2 {
			t.Errorf("keys %v, %d resyncs; want the change after the outage and 2 resyncs (start and recovery)", keys, n)
		}
		text := log.String()
		if strings.Count(text, "cannot read the change feed") != 1 || strings.Count(text, "reading the change feed again") != 1 {
			t.Errorf("want one line at the failure and one at the recovery:\n%s", text)
		}
	})
}

// watcher is a ChangeWatcher that fails its first fails connections, then
// listens until its context ends.
type watcher struct {
	mu      sync.Mutex
	fails   int
	starts  []time.Time
	changed func()
}

func (w *watcher) WatchChanges(ctx context.Context, ready, changed func()) error {
	w.mu.Lock()
	w.starts = append(w.starts, time.Now())
	fail := len(w.starts) <= w.fails
	if !fail {
		w.changed = changed
	}
	w.mu.Unlock()
	if fail {
		return errDown
	}
	ready()
	<-ctx.Done()
	return ctx.Err()
}

func (w *watcher) announce() {
	w.mu.Lock()
	changed := w.changed
	w.mu.Unlock()
	changed()
}

// TestWatcherReconnectsWithGrowingPauses: a Watcher that cannot listen is
// retried after 1, 2, 4, ... seconds (at most 30), logged once, while the
// feed polls at its fallback interval; once listening, the feed reads on
// each announcement and polls only every DefaultWatchedPoll.
func TestWatcherReconnectsWithGrowingPauses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, r, log := &memChanges{}, &recorder{}, &syncBuffer{}
		w := &watcher{fails: 7}
		stop := runInBubble(st, Config{Watcher: w, Log: slog.New(slog.NewTextHandler(log, nil))}, r.follower())
		defer stop()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		w.mu.Lock()
		var pauses []time.Duration
		for i := 1; i < len(w.starts); i++ {
			pauses = append(pauses, w.starts[i].Sub(w.starts[i-1]))
		}
		w.mu.Unlock()
		want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
		for i := range want {
			want[i] *= time.Second
		}
		if !slices.Equal(pauses, want) {
			t.Fatalf("pauses between connections %v, want %v", pauses, want)
		}
		text := log.String()
		if strings.Count(text, "cannot listen for changes") != 1 || strings.Count(text, "listening for changes again") != 1 {
			t.Errorf("want one line at the failure and one when listening:\n%s", text)
		}

		// Listening: polls are rare, an announcement reads at once.
		readsBefore, _ := st.stats()
		time.Sleep(10 * DefaultWatchedPoll)
		synctest.Wait()
		if reads, _ := st.stats(); reads-readsBefore != 10 {
			t.Errorf("%d reads in 10 watched poll intervals, want 10", reads-readsBefore)
		}
		st.KickSession(t.Context(), "announced")
		w.announce()
		synctest.Wait()
		if keys, _ := r.state(); !has(keys, "announced") {
			t.Errorf("an announced change was not read at once: %v", keys)
		}
	})
}

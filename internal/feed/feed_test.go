package feed

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// recorder is a follower that records what it is handed.
type recorder struct {
	mu      sync.Mutex
	keys    []string
	resyncs int
	// hold, when set, blocks Apply until it is closed: a node that
	// stopped reading the feed.
	hold chan struct{}
}

func (r *recorder) follower() Follower {
	return Follower{Name: "recorder", Apply: r.apply, Resync: r.resync}
}

func (r *recorder) apply(_ context.Context, changes []store.Change) {
	r.mu.Lock()
	hold := r.hold
	r.hold = nil
	for _, c := range changes {
		r.keys = append(r.keys, c.Key)
	}
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
}

func (r *recorder) resync(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resyncs++
	return nil
}

func (r *recorder) state() (keys []string, resyncs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...), r.resyncs
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sqliteStore(t *testing.T) *sqlstore.Store {
	st, err := sqlstore.OpenSQLite(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// start runs the feed on st until the test ends.
func start(t *testing.T, st store.Changes, cfg Config, fl ...Follower) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); Run(ctx, st, cfg, fl...) }()
	t.Cleanup(func() { cancel(); <-done })
}

func has(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// TestStartResyncsAndReadsKeptChanges: a change recorded before the feed
// started is handed on (a kick requested while the node was starting),
// and every follower re-reads everything once at start.
func TestStartResyncsAndReadsKeptChanges(t *testing.T) {
	st := sqliteStore(t)
	if err := st.KickSession(t.Context(), "before"); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	start(t, st, Config{}, r.follower())
	if err := st.KickSession(t.Context(), "after"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both kicks handed on", func() bool {
		keys, _ := r.state()
		return has(keys, "before") && has(keys, "after")
	})
	if keys, resyncs := r.state(); resyncs != 1 || len(keys) != 2 {
		t.Fatalf("keys %v, %d resyncs; want each kick once and one resync", keys, resyncs)
	}
}

// TestGapMakesFollowersResync: changes pruned before the node read them
// (it was stopped longer than the retention) make every follower re-read
// everything; the node then goes on with the changes after the gap.
func TestGapMakesFollowersResync(t *testing.T) {
	st := sqliteStore(t)
	r := &recorder{hold: make(chan struct{})}
	hold := r.hold
	log := &syncBuffer{}
	start(t, st, Config{Log: slog.New(slog.NewTextHandler(log, nil))}, r.follower())
	ctx := t.Context()
	if err := st.KickSession(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first change handed on (and held)", func() bool { keys, _ := r.state(); return has(keys, "first") })
	// While the node is held, changes come and are pruned.
	for _, id := range []string{"missed1", "missed2"} {
		if err := st.KickSession(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PruneChanges(ctx, -time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.KickSession(ctx, "later"); err != nil {
		t.Fatal(err)
	}
	close(hold)
	waitFor(t, "the change after the gap", func() bool { keys, _ := r.state(); return has(keys, "later") })
	keys, resyncs := r.state()
	if resyncs != 2 || has(keys, "missed1") {
		t.Fatalf("keys %v, %d resyncs; want a second resync for the gap", keys, resyncs)
	}
	if !strings.Contains(log.String(), "re-reading everything") {
		t.Errorf("the gap was not logged:\n%s", log)
	}
}

// TestPostgresAnnouncesChanges: with a Watcher and polling turned down to
// once an hour, a change reaches the follower only by announcement.
func TestPostgresAnnouncesChanges(t *testing.T) {
	st := postgresStore(t)
	r := &recorder{}
	start(t, st, Config{Watcher: st, Poll: time.Hour}, r.follower())
	waitFor(t, "the start's resync", func() bool { _, n := r.state(); return n == 1 })
	// The first read may come before the watcher listens; the watcher's
	// own first read closes that window. Give it a moment to listen.
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		key := "k" + string(rune('a'+i%26))
		if err := st.KickSession(t.Context(), key); err != nil {
			t.Fatal(err)
		}
		ok := false
		for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if keys, _ := r.state(); has(keys, key) {
				ok = true
				break
			}
		}
		if ok {
			return
		}
	}
	t.Fatal("no change reached the follower by announcement")
}

// postgresStore opens a PostgreSQL store in a schema of its own, or skips
// the test when PANELFTP_TEST_POSTGRES is not set.
func postgresStore(t *testing.T) *sqlstore.Store {
	base := os.Getenv("PANELFTP_TEST_POSTGRES")
	if base == "" {
		t.Skip("set PANELFTP_TEST_POSTGRES to a PostgreSQL URL to run this test")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_feed_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PANELFTP_TEST_POSTGRES is set but PostgreSQL is not usable: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := sqlstore.OpenPostgres(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

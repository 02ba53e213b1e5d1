package sessions

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// fakeStore records what Run does to the session store.
type fakeStore struct {
	mu        sync.Mutex
	published []publishCall
	sessions  map[string]domain.Session
	cleared   int
	kicks     []store.Kick
	fail      bool
}

type publishCall struct {
	changed []string
	gone    []string
}

var _ store.Sessions = (*fakeStore)(nil)

var errDown = errors.New("database is down")

func (f *fakeStore) PublishSessions(_ context.Context, node string, _ time.Time, changed []domain.Session, gone []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errDown
	}
	var ids []string
	for _, x := range changed {
		if x.Node != node {
			return errors.New("session published with the wrong node")
		}
		ids = append(ids, x.ID)
		f.sessions[x.ID] = x
	}
	for _, id := range gone {
		delete(f.sessions, id)
	}
	f.published = append(f.published, publishCall{ids, gone})
	return nil
}

func (f *fakeStore) ClearNode(context.Context, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleared++
	clear(f.sessions)
	return nil
}

func (f *fakeStore) ListSessions(context.Context, string, time.Time) ([]domain.Session, error) {
	return nil, errors.New("not used")
}

func (f *fakeStore) GetSession(context.Context, string, time.Time) (domain.Session, error) {
	return domain.Session{}, errors.New("not used")
}

func (f *fakeStore) RequestKick(_ context.Context, k store.Kick) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k.Seq = int64(len(f.kicks) + 1)
	f.kicks = append(f.kicks, k)
	return nil
}

func (f *fakeStore) KicksAfter(_ context.Context, seq int64, _ time.Time) ([]store.Kick, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errDown
	}
	var out []store.Kick
	for _, k := range f.kicks {
		if k.Seq > seq {
			out = append(out, k)
		}
	}
	return out, nil
}

func (f *fakeStore) LastKickSeq(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.kicks)), nil
}

func (f *fakeStore) calls() []publishCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.published)
}

func (f *fakeStore) setFail(v bool) {
	f.mu.Lock()
	f.fail = v
	f.mu.Unlock()
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestPublishOnlyChanges(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	st := &fakeStore{sessions: map[string]domain.Session{}}
	p := &publisher{reg: r, st: st, node: "n1", log: discard(), sent: map[string]domain.Session{}}
	idle := mustOpen(t, r, "192.0.2.1:1")
	busy := mustOpen(t, r, "192.0.2.2:1")
	p.publish(t.Context())
	busy.Begin(domain.ActivityUpload, "/f", 0)
	c.add(time.Second)
	p.publish(t.Context()) // busy changed
	c.add(time.Second)
	p.publish(t.Context()) // nothing changed: heartbeat only
	busy.Progress(10)
	c.add(time.Second)
	p.publish(t.Context()) // busy moved bytes
	idle.Close()
	c.add(time.Second)
	p.publish(t.Context()) // idle gone; busy's speed is still settling

	got := st.calls()
	want := []publishCall{
		{changed: []string{idle.ID(), busy.ID()}},
		{changed: []string{busy.ID()}},
		{},
		{changed: []string{busy.ID()}},
		{changed: []string{busy.ID()}, gone: []string{idle.ID()}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d publishes, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		slices.Sort(got[i].changed)
		slices.Sort(want[i].changed)
		if !slices.Equal(got[i].changed, want[i].changed) || !slices.Equal(got[i].gone, want[i].gone) {
			t.Errorf("publish %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPublishRetriesAfterFailure(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	st := &fakeStore{sessions: map[string]domain.Session{}}
	p := &publisher{reg: r, st: st, node: "n1", log: discard(), sent: map[string]domain.Session{}}
	s := mustOpen(t, r, "192.0.2.1:1")
	st.setFail(true)
	p.publish(t.Context())
	st.setFail(false)
	p.publish(t.Context())
	if _, ok := st.sessions[s.ID()]; !ok {
		t.Fatal("session not published after the store came back")
	}
	s.Close()
	st.setFail(true)
	p.publish(t.Context())
	st.setFail(false)
	p.publish(t.Context())
	if _, ok := st.sessions[s.ID()]; ok {
		t.Fatal("ended session still in the store after the store came back")
	}
}

func TestRunAppliesKicksAndClears(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	r.now = time.Now
	r.publishEvery, r.kickEvery = 20*time.Millisecond, 10*time.Millisecond
	st := &fakeStore{sessions: map[string]domain.Session{}}
	// A kick from before this process started must not be replayed.
	_ = st.RequestKick(t.Context(), store.Kick{Username: "old.bob"})

	kicked := make(chan string, 10)
	open := func(remote, user string) *Session {
		var s *Session
		s, err := r.Open(addr(remote), func() { kicked <- s.ID() })
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Login(user, "bob", time.Now(), 0); err != nil {
			t.Fatal(err)
		}
		return s
	}
	byID := open("192.0.2.1:1", "dev.bob")
	byUser := open("192.0.2.1:2", "web.bob")
	open("192.0.2.1:3", "old.bob")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, st, "n1", discard()) }()

	waitFor(t, "sessions published", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.sessions) == 3
	})
	_ = st.RequestKick(t.Context(), store.Kick{SessionID: byID.ID()})
	_ = st.RequestKick(t.Context(), store.Kick{Username: "WEB.bob"})
	var got []string
	for range 2 {
		select {
		case id := <-kicked:
			got = append(got, id)
		case <-time.After(time.Second):
			t.Fatalf("kicks applied: %v, want 2 within a second", got)
		}
	}
	slices.Sort(got)
	want := []string{byID.ID(), byUser.ID()}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("kicked %v, want %v", got, want)
	}
	select {
	case id := <-kicked:
		t.Errorf("session %s kicked by a kick from before the start", id)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cleared != 2 || len(st.sessions) != 0 {
		t.Errorf("ClearNode called %d times (want 2: start and stop), %d sessions left", st.cleared, len(st.sessions))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

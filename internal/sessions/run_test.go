package sessions

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// fakeStore records what the registry does to the session store.
type fakeStore struct {
	mu        sync.Mutex
	published []publishCall
	sessions  map[string]domain.Session
	known     bool // whether the node has a row
	cleared   int
	claims    []store.SessionClaim
	refuse    error // ClaimSession's answer
	fail      bool
}

type publishCall struct {
	changed []string
	gone    []string
}

var _ Store = (*fakeStore)(nil)

var errDown = errors.New("database is down")

func newFakeStore() *fakeStore { return &fakeStore{sessions: map[string]domain.Session{}} }

func (f *fakeStore) PublishSessions(_ context.Context, node string, _ time.Duration, changed []domain.Session, gone []string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return false, errDown
	}
	var ids []string
	for _, x := range changed {
		if x.Node != node {
			return false, errors.New("session published with the wrong node")
		}
		ids = append(ids, x.ID)
		f.sessions[x.ID] = x
	}
	for _, id := range gone {
		delete(f.sessions, id)
	}
	f.published = append(f.published, publishCall{ids, gone})
	known := f.known
	f.known = true
	return known, nil
}

func (f *fakeStore) ClearNode(context.Context, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleared++
	f.known = false
	clear(f.sessions)
	return nil
}

// forget drops the node's row and sessions, as another node does with a
// node whose heartbeat expired.
func (f *fakeStore) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known = false
	clear(f.sessions)
}

func (f *fakeStore) ListSessions(context.Context, string) ([]domain.Session, error) {
	return nil, errors.New("not used")
}

func (f *fakeStore) GetSession(context.Context, string) (domain.Session, error) {
	return domain.Session{}, errors.New("not used")
}

func (f *fakeStore) ClaimSession(_ context.Context, c store.SessionClaim) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims = append(f.claims, c)
	if f.refuse == nil {
		f.sessions[c.Session.ID] = c.Session
	}
	return f.refuse
}

func (f *fakeStore) LoginStates(context.Context, []string) (map[string]store.LoginState, error) {
	return nil, errors.New("not used")
}

func (f *fakeStore) calls() []publishCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.published)
}

func (f *fakeStore) stored() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (f *fakeStore) setFail(v bool) {
	f.mu.Lock()
	f.fail = v
	f.mu.Unlock()
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newPublisher is Run's publisher of r on st, as node n1 whose heartbeat is
// due every second.
func newPublisher(r *Registry, st *fakeStore) *publisher {
	r.Join(Cluster{Store: st, Node: "n1", Log: discard(), NodeTTL: 4 * time.Second})
	return &publisher{reg: r, c: r.clusterConfig(), sent: map[string]domain.Session{}}
}

func TestPublishOnlyChanges(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	st := newFakeStore()
	p := newPublisher(r, st)
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

// TestIdleNodeHeartbeatsSparingly: with nothing changing, the store hears
// from the node once per quarter of its TTL, not once per publish tick.
func TestIdleNodeHeartbeatsSparingly(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	st := newFakeStore()
	p := newPublisher(r, st) // heartbeat every 1 s
	mustOpen(t, r, "192.0.2.1:1")
	for range 40 {
		p.publish(t.Context())
		c.add(100 * time.Millisecond)
	}
	if n := len(st.calls()); n != 4 {
		t.Fatalf("%d store calls in 4 s of an idle node, want 4 (the first publish and 3 heartbeats)", n)
	}
}

func TestPublishRetriesAfterFailure(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	st := newFakeStore()
	p := newPublisher(r, st)
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

// TestRepublishAfterBeingForgotten: a node paused longer than its TTL was
// removed with its sessions by the others; its next publish sends every
// session again, though none changed.
func TestRepublishAfterBeingForgotten(t *testing.T) {
	r, c := newTestRegistry(Limits{})
	st := newFakeStore()
	p := newPublisher(r, st)
	a, b := mustOpen(t, r, "192.0.2.1:1"), mustOpen(t, r, "192.0.2.1:2")
	p.publish(t.Context())
	p.publish(t.Context())
	st.forget()
	c.add(time.Minute)
	p.publish(t.Context())
	want := []string{a.ID(), b.ID()}
	slices.Sort(want)
	if got := st.stored(); !slices.Equal(got, want) {
		t.Fatalf("stored after the node was forgotten and published again: %v, want %v", got, want)
	}
}

func TestRunClearsAtStartAndStop(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	r.now = time.Now
	r.publishEvery = 10 * time.Millisecond
	st := newFakeStore()
	r.Join(Cluster{Store: st, Node: "n1", Log: discard()})
	s := mustOpen(t, r, "192.0.2.1:1")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	waitFor(t, "the session published", func() bool { return slices.Contains(st.stored(), s.ID()) })
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cleared != 2 || len(st.sessions) != 0 {
		t.Errorf("ClearNode called %d times (want 2: start and stop), %d sessions left", st.cleared, len(st.sessions))
	}
}

// TestClaimCountsEverywhere: with CountEverywhere, a log-in asks the store
// for its place with the room this node leaves, and a refusal undoes it.
func TestClaimCountsEverywhere(t *testing.T) {
	r, _ := newTestRegistry(Limits{MaxPerUser: 3, MaxPerIP: 5})
	st := newFakeStore()
	r.Join(Cluster{Store: st, Node: "n1", Log: discard(), CountEverywhere: true})
	first := mustOpen(t, r, "[2001:db8:1:2::1]:1")
	if err := first.Login("dev.bob", "bob", v1, 0); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, r, "[2001:db8:1:2::2]:1") // same /64, not logged in
	mustOpen(t, r, "192.0.2.1:1")         // another client
	s := mustOpen(t, r, "[2001:db8:1:2::3]:1")
	if err := s.Login("dev.bob", "bob", v1, 0); err != nil {
		t.Fatal(err)
	}
	last := st.claims[len(st.claims)-1]
	if last.Node != "n1" || last.Session.ID != s.ID() || last.Session.Username != "dev.bob" || last.Session.Node != "n1" {
		t.Fatalf("claim %+v: want session %s of dev.bob on n1", last, s.ID())
	}
	// Limits 3 and 5 less this node's own 2 sessions of dev.bob and 3
	// connections from the /64, each counting the claiming one.
	if last.UserRoom != 2 || last.IPRoom != 3 {
		t.Errorf("rooms: user %d, IP %d; want 2 and 3", last.UserRoom, last.IPRoom)
	}

	for _, tc := range []struct {
		refuse error
		want   error
	}{
		{&domain.Error{Kind: domain.LimitReached, Field: "user", Msg: "full"}, ErrTooManyForUser},
		{&domain.Error{Kind: domain.LimitReached, Field: "ip", Msg: "full"}, ErrTooManyFromIP},
		{domain.UnavailableErr(errDown), ErrCannotCount},
	} {
		st.refuse = tc.refuse
		x := mustOpen(t, r, "198.51.100.1:1")
		if err := x.Login("dev.bob", "bob", v1, 0); !errors.Is(err, tc.want) {
			t.Fatalf("claim refused with %v: Login = %v, want %v", tc.refuse, err, tc.want)
		}
		if x.Username() != "" {
			t.Fatalf("a refused claim left the session logged in as %q", x.Username())
		}
		x.Close()
	}
	st.refuse = nil
	// The refused log-ins gave their places back.
	third := mustOpen(t, r, "198.51.100.2:1")
	if err := third.Login("dev.bob", "bob", v1, 0); err != nil {
		t.Fatalf("third session of dev.bob with a limit of 3: %v", err)
	}
	// A user's own limit is what the other nodes' sessions count against.
	own := mustOpen(t, r, "198.51.100.3:1")
	if err := own.Login("one.bob", "bob", v1, 1); err != nil {
		t.Fatal(err)
	}
	if last := st.claims[len(st.claims)-1]; last.UserRoom != 1 {
		t.Errorf("room for a user of own limit 1 on other nodes: %d, want 1", last.UserRoom)
	}
}

// TestClaimedSessionEndedBeforePublishIsDeleted: a session stored by its
// claim and closed before Run ever published it does not stay behind.
func TestClaimedSessionEndedBeforePublishIsDeleted(t *testing.T) {
	r, _ := newTestRegistry(Limits{})
	st := newFakeStore()
	p := newPublisher(r, st)
	r.Join(Cluster{Store: st, Node: "n1", Log: discard(), NodeTTL: 4 * time.Second, CountEverywhere: true})
	s := mustOpen(t, r, "192.0.2.1:1")
	if err := s.Login("dev.bob", "bob", v1, 0); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.stored(), s.ID()) {
		t.Fatal("the claim did not store the session")
	}
	s.Close()
	p.publish(t.Context())
	if got := st.stored(); len(got) != 0 {
		t.Fatalf("stored after the claimed session ended: %v", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

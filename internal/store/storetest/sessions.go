package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// session is a live session of username on node, with every field set.
func session(id, node, username string) domain.Session {
	_, acct := domain.SplitUsername(username)
	return domain.Session{
		ID: id, Node: node, Username: username, Account: acct,
		RemoteAddr: "198.51.100.4:50123", Client: "FileZilla 3.66", TLSControl: true, TLSData: true,
		ConnectedAt: at(time.Second), LastActivity: at(5 * time.Second),
		Activity: domain.ActivityUpload, File: "/site/index.php",
		BytesDone: 1 << 20, BytesTotal: 5 << 20, Speed: 250000, BytesUp: 3 << 20, BytesDown: 4096,
	}
}

func storedSession(x domain.Session) domain.Session {
	x.ConnectedAt, x.LastActivity = stored(x.ConnectedAt), stored(x.LastActivity)
	return x
}

func sessionID(x domain.Session) string { return x.ID }

// publish records node's heartbeat at t0+hb with changed and gone.
func publish(t *testing.T, s store.Store, node string, hb time.Duration, changed []domain.Session, gone ...string) {
	t.Helper()
	check(t, s.PublishSessions(t.Context(), node, at(hb), changed, gone), "PublishSessions %s", node)
}

// listed returns the IDs ListSessions gives for account and aliveAfter t0+alive.
func listed(t *testing.T, s store.Store, account string, alive time.Duration) []string {
	t.Helper()
	list, err := s.ListSessions(t.Context(), account, at(alive))
	check(t, err, "ListSessions")
	return keys(list, sessionID)
}

var sessionCases = []testCase{
	{"publish and get round-trip every field", func(t *testing.T, s store.Store) {
		x := session("s1", "n1", "dev.bob")
		publish(t, s, "n1", 0, []domain.Session{x})
		got, err := s.GetSession(t.Context(), "s1", at(0))
		check(t, err, "GetSession")
		same(t, "GetSession", got, storedSession(x))
		list, err := s.ListSessions(t.Context(), "", at(0))
		check(t, err, "ListSessions")
		same(t, "ListSessions", list, []domain.Session{storedSession(x)})
	}},
	{"a session not yet logged in", func(t *testing.T, s store.Store) {
		x := domain.Session{ID: "s1", Node: "n1", RemoteAddr: "[2001:db8::5]:40000", ConnectedAt: at(0), Activity: domain.ActivityIdle}
		publish(t, s, "n1", 0, []domain.Session{x})
		got, err := s.GetSession(t.Context(), "s1", at(0))
		check(t, err, "GetSession")
		same(t, "GetSession", got, storedSession(x))
	}},
	{"sessions are stored under the publishing node", func(t *testing.T, s store.Store) {
		publish(t, s, "n2", 0, []domain.Session{session("s1", "", "dev.bob")})
		got, err := s.GetSession(t.Context(), "s1", at(0))
		check(t, err, "GetSession")
		same(t, "Node", got.Node, "n2")
	}},
	{"changed sessions are replaced", func(t *testing.T, s store.Store) {
		x := session("s1", "n1", "dev.bob")
		publish(t, s, "n1", 0, []domain.Session{x})
		x.Activity, x.File, x.BytesDone, x.Speed, x.LastActivity = domain.ActivityIdle, "", 0, 0, at(9*time.Second)
		publish(t, s, "n1", time.Second, []domain.Session{x})
		got, err := s.GetSession(t.Context(), "s1", at(0))
		check(t, err, "GetSession")
		same(t, "after second publish", got, storedSession(x))
	}},
	{"list filters by account and is ordered by ID", func(t *testing.T, s store.Store) {
		publish(t, s, "n1", 0, []domain.Session{session("s3", "n1", "dev.bob"), session("s1", "n1", "a.carol")})
		publish(t, s, "n2", 0, []domain.Session{session("s2", "n2", "web.bob"), session("s10", "n2", "")})
		same(t, "all", listed(t, s, "", 0), []string{"s1", "s10", "s2", "s3"})
		same(t, "bob", listed(t, s, "bob", 0), []string{"s2", "s3"})
		same(t, "carol", listed(t, s, "carol", 0), []string{"s1"})
		same(t, "nobody", listed(t, s, "nobody", 0), []string{})
	}},
	{"gone sessions are deleted, only the node's own", func(t *testing.T, s store.Store) {
		publish(t, s, "n1", 0, []domain.Session{session("s1", "n1", "dev.bob"), session("s2", "n1", "dev.bob")})
		publish(t, s, "n2", 0, []domain.Session{session("s3", "n2", "dev.bob")})
		publish(t, s, "n2", time.Second, nil, "s1", "s3", "unknown")
		same(t, "after n2's gone", listed(t, s, "", 0), []string{"s1", "s2"})
		publish(t, s, "n1", time.Second, []domain.Session{session("s4", "n1", "dev.bob")}, "s1")
		same(t, "after n1's gone", listed(t, s, "", 0), []string{"s2", "s4"})
	}},
	{"a node without a recent heartbeat is gone", func(t *testing.T, s store.Store) {
		publish(t, s, "old", 0, []domain.Session{session("s1", "old", "dev.bob")})
		publish(t, s, "new", 10*time.Second, []domain.Session{session("s2", "new", "dev.bob")})
		same(t, "alive after t0", listed(t, s, "", 0), []string{"s1", "s2"})
		same(t, "alive after t0+5s", listed(t, s, "", 5*time.Second), []string{"s2"})
		same(t, "alive after t0+10s (inclusive)", listed(t, s, "bob", 10*time.Second), []string{"s2"})
		same(t, "alive after t0+11s", listed(t, s, "", 11*time.Second), []string{})
		_, err := s.GetSession(t.Context(), "s1", at(5*time.Second))
		wantErr(t, err, domain.ErrNotFound, "GetSession on a dead node")
		// A heartbeat without changes revives the node's sessions.
		publish(t, s, "old", 20*time.Second, nil)
		same(t, "after old's heartbeat", listed(t, s, "", 15*time.Second), []string{"s1"})
	}},
	{"clear node", func(t *testing.T, s store.Store) {
		publish(t, s, "n1", 0, []domain.Session{session("s1", "n1", "dev.bob"), session("s2", "n1", "dev.bob")})
		publish(t, s, "n2", 0, []domain.Session{session("s3", "n2", "dev.bob")})
		check(t, s.ClearNode(t.Context(), "n1"), "ClearNode")
		check(t, s.ClearNode(t.Context(), "n1"), "second ClearNode")
		check(t, s.ClearNode(t.Context(), "never-seen"), "ClearNode of an unknown node")
		same(t, "after ClearNode", listed(t, s, "", 0), []string{"s3"})
		publish(t, s, "n1", time.Second, []domain.Session{session("s5", "n1", "dev.bob")})
		same(t, "after republish", listed(t, s, "", 0), []string{"s3", "s5"})
	}},
	{"get missing is not found", func(t *testing.T, s store.Store) {
		_, err := s.GetSession(t.Context(), "nope", time.Time{})
		wantErr(t, err, domain.ErrNotFound, "GetSession nope")
	}},
	{"a thousand sessions in one publish", func(t *testing.T, s store.Store) {
		const n = 1000
		all := make([]domain.Session, n)
		ids := make([]string, n)
		for i := range all {
			ids[i] = fmt.Sprintf("s%04d", i)
			all[i] = session(ids[i], "n1", fmt.Sprintf("u%d.bob", i%7))
		}
		publish(t, s, "n1", 0, all)
		same(t, "after publishing 1000", listed(t, s, "", 0), ids)
		publish(t, s, "n1", time.Second, all[:n/2], ids[n/2:]...)
		same(t, "after 500 gone", listed(t, s, "", 0), ids[:n/2])
	}},
}

var kickCases = []testCase{
	{"kicks are numbered in order and read after a seq", func(t *testing.T, s store.Store) {
		seq0, err := s.LastKickSeq(t.Context())
		check(t, err, "LastKickSeq")
		same(t, "LastKickSeq of an empty store", seq0, int64(0))
		sent := []store.Kick{
			{SessionID: "s1", At: at(time.Second)},
			{Username: "dev.bob", At: at(2 * time.Second)},
			{SessionID: "s2", Username: "web.bob", At: at(3 * time.Second)},
		}
		for _, k := range sent {
			check(t, s.RequestKick(t.Context(), k), "RequestKick")
		}
		got, err := s.KicksAfter(t.Context(), 0, time.Time{})
		check(t, err, "KicksAfter")
		if len(got) != len(sent) {
			t.Fatalf("KicksAfter(0) = %+v, want %d kicks", got, len(sent))
		}
		for i, k := range got {
			if k.Seq <= 0 || (i > 0 && k.Seq <= got[i-1].Seq) {
				t.Fatalf("kick seqs are not increasing: %+v", got)
			}
			want := sent[i]
			want.Seq, want.At = k.Seq, stored(want.At)
			same(t, fmt.Sprintf("kick %d", i), k, want)
		}
		last, err := s.LastKickSeq(t.Context())
		check(t, err, "LastKickSeq")
		same(t, "LastKickSeq", last, got[2].Seq)
		after, err := s.KicksAfter(t.Context(), got[1].Seq, time.Time{})
		check(t, err, "KicksAfter")
		same(t, "KicksAfter(second)", after, got[2:])
		none, err := s.KicksAfter(t.Context(), last, time.Time{})
		check(t, err, "KicksAfter")
		same(t, "KicksAfter(last)", len(none), 0)
	}},
	{"old kicks are deleted", func(t *testing.T, s store.Store) {
		for i := range 4 {
			check(t, s.RequestKick(t.Context(), store.Kick{SessionID: fmt.Sprint("s", i), At: at(time.Duration(i) * time.Minute)}), "RequestKick")
		}
		got, err := s.KicksAfter(t.Context(), 0, at(2*time.Minute))
		check(t, err, "KicksAfter with olderThan")
		same(t, "kicks not older than t0+2m", keys(got, kickSession), []string{"s2", "s3"})
		got, err = s.KicksAfter(t.Context(), 0, time.Time{})
		check(t, err, "KicksAfter")
		same(t, "kicks kept", keys(got, kickSession), []string{"s2", "s3"})
	}},
	{"seqs are never reused after deletion", func(t *testing.T, s store.Store) {
		for range 3 {
			check(t, s.RequestKick(t.Context(), store.Kick{Username: "dev.bob", At: at(0)}), "RequestKick")
		}
		last, err := s.LastKickSeq(t.Context())
		check(t, err, "LastKickSeq")
		gone, err := s.KicksAfter(t.Context(), 0, at(time.Hour))
		check(t, err, "KicksAfter deleting all")
		same(t, "kicks older than the cut", len(gone), 0)
		check(t, s.RequestKick(t.Context(), store.Kick{Username: "web.bob", At: at(2 * time.Hour)}), "RequestKick")
		got, err := s.KicksAfter(t.Context(), last, at(time.Hour))
		check(t, err, "KicksAfter")
		if len(got) != 1 || got[0].Seq <= last || got[0].Username != "web.bob" {
			t.Fatalf("after deleting kicks up to seq %d, a new kick came back as %+v; want one kick with a higher seq", last, got)
		}
	}},
}

func kickSession(k store.Kick) string { return k.SessionID }

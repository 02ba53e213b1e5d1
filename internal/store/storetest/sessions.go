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

// hour is a node lifetime that outlasts any test; dead is one that has
// already ended.
const (
	hour = time.Hour
	dead = -time.Second
)

// publish records node's heartbeat, alive for ttl, with changed and gone,
// and returns whether the node was known.
func publish(t *testing.T, s store.Store, node string, ttl time.Duration, changed []domain.Session, gone ...string) bool {
	t.Helper()
	known, err := s.PublishSessions(t.Context(), node, ttl, changed, gone)
	check(t, err, "PublishSessions %s", node)
	return known
}

// listed returns the IDs ListSessions gives for account.
func listed(t *testing.T, s store.Store, account string) []string {
	t.Helper()
	list, err := s.ListSessions(t.Context(), account)
	check(t, err, "ListSessions")
	return keys(list, sessionID)
}

var sessionCases = []testCase{
	{"publish and get round-trip every field", func(t *testing.T, s store.Store) {
		x := session("s1", "n1", "dev.bob")
		publish(t, s, "n1", hour, []domain.Session{x})
		got, err := s.GetSession(t.Context(), "s1")
		check(t, err, "GetSession")
		same(t, "GetSession", got, storedSession(x))
		list, err := s.ListSessions(t.Context(), "")
		check(t, err, "ListSessions")
		same(t, "ListSessions", list, []domain.Session{storedSession(x)})
	}},
	{"a session not yet logged in", func(t *testing.T, s store.Store) {
		x := domain.Session{ID: "s1", Node: "n1", RemoteAddr: "[2001:db8::5]:40000", ConnectedAt: at(0), Activity: domain.ActivityIdle}
		publish(t, s, "n1", hour, []domain.Session{x})
		got, err := s.GetSession(t.Context(), "s1")
		check(t, err, "GetSession")
		same(t, "GetSession", got, storedSession(x))
	}},
	{"sessions are stored under the publishing node", func(t *testing.T, s store.Store) {
		publish(t, s, "n2", hour, []domain.Session{session("s1", "", "dev.bob")})
		got, err := s.GetSession(t.Context(), "s1")
		check(t, err, "GetSession")
		same(t, "Node", got.Node, "n2")
	}},
	{"changed sessions are replaced", func(t *testing.T, s store.Store) {
		x := session("s1", "n1", "dev.bob")
		publish(t, s, "n1", hour, []domain.Session{x})
		x.Activity, x.File, x.BytesDone, x.Speed, x.LastActivity = domain.ActivityIdle, "", 0, 0, at(9*time.Second)
		publish(t, s, "n1", hour, []domain.Session{x})
		got, err := s.GetSession(t.Context(), "s1")
		check(t, err, "GetSession")
		same(t, "after second publish", got, storedSession(x))
	}},
	{"list filters by account and is ordered by ID", func(t *testing.T, s store.Store) {
		publish(t, s, "n1", hour, []domain.Session{session("s3", "n1", "dev.bob"), session("s1", "n1", "a.carol")})
		publish(t, s, "n2", hour, []domain.Session{session("s2", "n2", "web.bob"), session("s10", "n2", "")})
		same(t, "all", listed(t, s, ""), []string{"s1", "s10", "s2", "s3"})
		same(t, "bob", listed(t, s, "bob"), []string{"s2", "s3"})
		same(t, "carol", listed(t, s, "carol"), []string{"s1"})
		same(t, "nobody", listed(t, s, "nobody"), []string{})
	}},
	{"gone sessions are deleted, only the node's own", func(t *testing.T, s store.Store) {
		publish(t, s, "n1", hour, []domain.Session{session("s1", "n1", "dev.bob"), session("s2", "n1", "dev.bob")})
		publish(t, s, "n2", hour, []domain.Session{session("s3", "n2", "dev.bob")})
		publish(t, s, "n2", hour, nil, "s1", "s3", "unknown")
		same(t, "after n2's gone", listed(t, s, ""), []string{"s1", "s2"})
		publish(t, s, "n1", hour, []domain.Session{session("s4", "n1", "dev.bob")}, "s1")
		same(t, "after n1's gone", listed(t, s, ""), []string{"s2", "s4"})
	}},
	{"a publish says whether the node was known", func(t *testing.T, s store.Store) {
		same(t, "first publish knows the node", publish(t, s, "n1", hour, nil), false)
		same(t, "second publish knows the node", publish(t, s, "n1", hour, nil), true)
		check(t, s.ClearNode(t.Context(), "n1"), "ClearNode")
		same(t, "publish after ClearNode knows the node", publish(t, s, "n1", hour, nil), false)
	}},
	{"a node whose time is up is gone, and removed by the next publish", func(t *testing.T, s store.Store) {
		publish(t, s, "old", dead, []domain.Session{session("s1", "old", "dev.bob")})
		same(t, "sessions of a dead node", listed(t, s, ""), []string{})
		_, err := s.GetSession(t.Context(), "s1")
		wantErr(t, err, domain.ErrNotFound, "GetSession on a dead node")
		publish(t, s, "new", hour, []domain.Session{session("s2", "new", "dev.bob")})
		same(t, "after new's publish", listed(t, s, ""), []string{"s2"})
		// new's publish removed old: old's next publish starts afresh, and
		// its session must be sent again to be listed.
		same(t, "old's publish after its removal knows the node", publish(t, s, "old", hour, nil), false)
		same(t, "old's session after its removal", listed(t, s, ""), []string{"s2"})
		publish(t, s, "old", hour, []domain.Session{session("s1", "old", "dev.bob")})
		same(t, "after old publishes again", listed(t, s, ""), []string{"s1", "s2"})
	}},
	{"clear node", func(t *testing.T, s store.Store) {
		publish(t, s, "n1", hour, []domain.Session{session("s1", "n1", "dev.bob"), session("s2", "n1", "dev.bob")})
		publish(t, s, "n2", hour, []domain.Session{session("s3", "n2", "dev.bob")})
		check(t, s.ClearNode(t.Context(), "n1"), "ClearNode")
		check(t, s.ClearNode(t.Context(), "n1"), "second ClearNode")
		check(t, s.ClearNode(t.Context(), "never-seen"), "ClearNode of an unknown node")
		same(t, "after ClearNode", listed(t, s, ""), []string{"s3"})
		publish(t, s, "n1", hour, []domain.Session{session("s5", "n1", "dev.bob")})
		same(t, "after republish", listed(t, s, ""), []string{"s3", "s5"})
	}},
	{"get missing is not found", func(t *testing.T, s store.Store) {
		_, err := s.GetSession(t.Context(), "nope")
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
		publish(t, s, "n1", hour, all)
		same(t, "after publishing 1000", listed(t, s, ""), ids)
		publish(t, s, "n1", hour, all[:n/2], ids[n/2:]...)
		same(t, "after 500 gone", listed(t, s, ""), ids[:n/2])
	}},
}

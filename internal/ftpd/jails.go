package ftpd

import (
	"strconv"
	"sync"

	"github.com/panelftp/panelftp/internal/jail"
)

// jailBook shares one open jail (an os.Root: one descriptor) between the
// sessions of the same folder and identity, so that the sessions of a
// user hold their control connections and one folder, not a folder each.
// Each log-in still opens the folder as the account, so the kernel says
// whether it may, then keeps the shared jail when both are the same
// folder (device and inode) with the same uid, gid, groups and umask,
// and closes its own. A folder replaced meanwhile (deleted and made
// again, or another path for the user) gets a new shared jail; the old
// one closes with its last session. A jail is never shared across uids
// or folders.
type jailBook struct {
	mu sync.Mutex
	m  map[string]*sharedJail
}

// sharedJail is one open jail and the sessions using it.
type sharedJail struct {
	fs   *jail.Fs
	key  string
	refs int // guarded by jailBook.mu
}

func newJailBook() *jailBook { return &jailBook{m: map[string]*sharedJail{}} }

// jailKey names a folder seen by an identity.
func jailKey(home, sub string, uid, gid int) string {
	return home + "\x00" + sub + "\x00" + strconv.Itoa(uid) + ":" + strconv.Itoa(gid)
}

// share returns the shared jail of key, fresh itself when none is open
// or the open one is not the same folder and identity (then fresh
// replaces it for the sessions to come). Release it when the session
// ends.
func (b *jailBook) share(key string, fresh *jail.Fs) *sharedJail {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.m[key]; s != nil && s.fs.Same(fresh) {
		s.refs++
		fresh.Close()
		return s
	}
	s := &sharedJail{fs: fresh, key: key, refs: 1}
	b.m[key] = s
	return s
}

// release ends one session's use of s, closing it with the last one.
func (b *jailBook) release(s *sharedJail) {
	b.mu.Lock()
	s.refs--
	last := s.refs == 0
	if last && b.m[s.key] == s {
		delete(b.m, s.key)
	}
	b.mu.Unlock()
	if last {
		_ = s.fs.Close()
	}
}

// open counts the shared jails open.
func (b *jailBook) open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

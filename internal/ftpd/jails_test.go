package ftpd

import (
	"os"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/sessions"
)

// TestJailShared: the sessions of one user share one open folder, so
// each holds only its control connection; another user's folder is its
// own; the folder closes with the last session.
func TestJailShared(t *testing.T) {
	e := newEnv(t, envOptions{limits: sessions.Limits{MaxPerUser: 50, MaxPerIP: 50}})
	addOtherUser(t, e)
	_, fds := warmUp(t, e)
	const n = 20
	var conns []*raw
	for range n {
		r := e.raw()
		r.login(testUser, testPass)
		conns = append(conns, r)
	}
	// Each session: the two ends of its control connection, in this
	// process; the folder once for all.
	if got := openFDs(t, e); got > fds+2*n+1 {
		t.Errorf("%d sessions of one user hold %d descriptors, want at most %d: each opened its own folder", n, got-fds, 2*n+1)
	}
	if got := e.Srv.jails.open(); got != 1 {
		t.Errorf("%d open jails for one user, want 1", got)
	}
	ann := e.dialAs("web.ann", annPass)
	if got := e.Srv.jails.open(); got != 2 {
		t.Errorf("%d open jails for two users of two accounts, want 2", got)
	}
	e.write("/mine.txt", "bob's")
	if names := nlst(t, ann); strings.Contains(names, "mine.txt") {
		t.Errorf("ann's session lists bob's folder: %s", names)
	}
	ann.Quit()
	for _, r := range conns {
		r.must(221, "QUIT")
	}
	eventually(t, settle, "every jail closed", func() bool { return e.Srv.jails.open() == 0 })
}

// TestJailReplacedFolder: a folder deleted and made again while a session
// holds it is opened afresh for the next log-in, which sees the new one.
func TestJailReplacedFolder(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/old.txt", "old")
	first := e.dial("")
	if err := os.Rename(e.Root, e.Root+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(e.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(e.Root, testUID, testUID); err != nil { // the account's, as before
			t.Fatal(err)
		}
	}
	e.write("/new.txt", "new")
	second := e.dial("")
	if names := nlst(t, second); !strings.Contains(names, "new.txt") || strings.Contains(names, "old.txt") {
		t.Errorf("a log-in after the folder was replaced lists %q, want the new folder", names)
	}
	if names := nlst(t, first); !strings.Contains(names, "old.txt") {
		t.Errorf("the first session lists %q, want the folder it logged into", names)
	}
	if got := e.Srv.jails.open(); got != 1 {
		t.Errorf("%d jails in the book, want the new one only", got)
	}
}

// nlst lists the session's top folder, one name per line.
func nlst(t *testing.T, c interface {
	NameList(string) ([]string, error)
}) string {
	t.Helper()
	names, err := c.NameList("/")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(names, "\n")
}

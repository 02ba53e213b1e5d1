package ftpd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/feed"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// runRegistry runs the registry's store loop and the change feed's
// kicks for the test's duration.
func (e *env) runRegistry() {
	ctx, cancel := context.WithCancel(context.Background())
	e.Reg.Join(sessions.Cluster{Store: e.Store, Node: sessions.NodeID(), Log: e.Srv.log})
	var wg sync.WaitGroup
	wg.Go(func() { e.Reg.Run(ctx) })
	wg.Go(func() {
		feed.Run(ctx, e.Store, feed.Config{}, feed.Follower{Name: "kicks", Apply: e.Reg.Apply, Resync: e.Reg.Resync})
	})
	e.t.Cleanup(func() { cancel(); wg.Wait() })
}

// slowRetr starts downloading name on r, reading 64 KiB every 10 ms.
func slowRetr(t *testing.T, r *raw, name string) net.Conn {
	t.Helper()
	data := r.epsv()
	r.must(150, "RETR %s", name)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			_ = data.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := data.Read(buf); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return data
}

// slowStor starts uploading name on r, writing 64 KiB every 10 ms.
func slowStor(t *testing.T, r *raw, name string) net.Conn {
	t.Helper()
	data := r.epsv()
	r.must(150, "STOR %s", name)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := data.Write(buf); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return data
}

// liveSession waits until the registry shows a session doing activity
// with bytes moving, and returns it.
func liveSession(t *testing.T, reg *sessions.Registry, activity domain.Activity) domain.Session {
	t.Helper()
	var first domain.Session
	eventually(t, settle, string(activity)+" in progress", func() bool {
		list := reg.List()
		if len(list) == 1 && list[0].Activity == activity && list[0].BytesDone > 0 {
			first = list[0]
			return true
		}
		return false
	})
	var now domain.Session
	eventually(t, settle, "bytes moving", func() bool {
		now, _ = reg.Get(first.ID)
		return now.BytesDone > first.BytesDone
	})
	return now
}

// closedWithin checks that conn is closed by the server within d.
func closedWithin(t *testing.T, what string, conn net.Conn, d time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 64<<10)
	for {
		_, err := conn.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s still open after %v", what, d)
		}
		if err != nil {
			return
		}
	}
}

// TestLiveSessionAndKick lists a session with a running transfer, then
// kicks it: its control connection and the data connection of the
// download or upload close, and the session is gone. How soon is the
// load test's measure (go run ./loadtest), not this test's.
func TestLiveSessionAndKick(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sparse("/big.bin", 256<<20)
	for _, dir := range []domain.Activity{domain.ActivityDownload, domain.ActivityUpload} {
		t.Run(string(dir), func(t *testing.T) {
			r := e.raw()
			r.must(200, "CLNT TestClient 1.0")
			r.login(testUser, testPass)
			var data net.Conn
			if dir == domain.ActivityDownload {
				data = slowRetr(t, r, "big.bin")
			} else {
				data = slowStor(t, r, "up.bin")
			}
			s := liveSession(t, e.Reg, dir)
			want := domain.Session{
				ID: s.ID, Username: testUser, Account: "bob", RemoteAddr: r.conn.LocalAddr().String(),
				Client: "TestClient 1.0", Activity: dir,
			}
			got := domain.Session{ID: s.ID, Username: s.Username, Account: s.Account, RemoteAddr: s.RemoteAddr, Client: s.Client, Activity: s.Activity}
			if got != want {
				t.Errorf("session = %+v, want %+v", got, want)
			}
			if dir == domain.ActivityDownload && (s.File != "/big.bin" || s.BytesTotal != 256<<20) {
				t.Errorf("file %q total %d", s.File, s.BytesTotal)
			}
			if !e.Reg.Kick(s.ID) {
				t.Fatal("Kick: session not found")
			}
			closedWithin(t, "control connection", r.conn, settle)
			closedWithin(t, "data connection", data, settle)
			eventually(t, settle, "session gone", func() bool { return e.Reg.Len() == 0 })
		})
	}
}

// TestServiceChangesEndSessions: changing a user's password or path, or
// deleting it, through the service ends its live sessions through the
// store's kicks.
func TestServiceChangesEndSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.runRegistry()
	ctx := t.Context()
	pass := testPass
	changes := []struct {
		name string
		do   func() error
	}{
		{"password", func() error { pass = "Newer-Pass3"; return e.Svc.ChangeFTPPassword(ctx, "bob", testUser, pass) }},
		{"path", func() error { return e.Svc.ChangeFTPPath(ctx, "bob", testUser, "/other") }},
		{"delete", func() error { return e.Svc.DeleteFTPUser(ctx, "bob", testUser) }},
	}
	for _, ch := range changes {
		r := e.raw()
		r.login(testUser, pass)
		if err := ch.do(); err != nil {
			t.Fatalf("%s: %v", ch.name, err)
		}
		closedWithin(t, ch.name+": session", r.conn, settle)
	}
	r := e.raw()
	r.must(331, "USER %s", testUser)
	r.must(530, "PASS %s", pass)
}

// TestSessionsAcrossProcesses: what Run publishes, another process (the
// CLI, with its own store and service on the same database) lists and
// kicks.
func TestSessionsAcrossProcesses(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sparse("/big.bin", 256<<20)
	e.runRegistry()
	st2, err := sqlstore.OpenSQLite(e.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	cli := service.New(st2, auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1),
		service.Options{Logger: e.Srv.log})

	t0 := time.Now()
	r := e.raw()
	r.must(200, "CLNT lftp 4.9")
	r.login(testUser, testPass)
	slowRetr(t, r, "big.bin")
	var seen domain.Session
	eventually(t, settle, "the download listed by the other process", func() bool {
		list, err := cli.ListSessions(t.Context(), "bob")
		if err != nil || len(list) != 1 {
			return false
		}
		seen = list[0]
		return seen.Activity == domain.ActivityDownload && seen.BytesDone > 0 && seen.Speed > 0
	})
	if seen.Username != testUser || seen.Client != "lftp 4.9" || seen.File != "/big.bin" || seen.Node == "" {
		t.Errorf("listed session = %+v", seen)
	}
	if err := cli.Kick(t.Context(), "ann", seen.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("kick from another account: %v, want not found", err)
	}
	t.Logf("listed after %v", time.Since(t0))
	if err := cli.Kick(t.Context(), "bob", seen.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("kicked after %v", time.Since(t0))
	closedWithin(t, "kicked session", r.conn, settle)
	t.Logf("closed after %v", time.Since(t0))
	eventually(t, settle, "the session gone from the store", func() bool {
		list, err := cli.ListSessions(t.Context(), "")
		return err == nil && len(list) == 0
	})
	t.Logf("gone after %v", time.Since(t0))
}

// TestShutdownLetsTransferFinish: Shutdown refuses new connections, ends
// idle sessions, and lets a running download complete.
func TestShutdownLetsTransferFinish(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{ShutdownGrace: 10 * time.Second}})
	data := randomBytes(t, 4<<20)
	e.write("/f.bin", string(data))
	idle := e.raw()
	idle.login(testUser, testPass)
	r := e.raw()
	r.login(testUser, testPass)
	dc := r.epsv()
	r.must(150, "RETR f.bin")
	// Read slowly: 4 MiB at about 8 MiB/s.
	got := make(chan []byte, 1)
	go func() {
		var buf bytes.Buffer
		chunk := make([]byte, 64<<10)
		for {
			n, err := dc.Read(chunk)
			buf.Write(chunk[:n])
			if err != nil {
				got <- buf.Bytes()
				return
			}
			time.Sleep(8 * time.Millisecond)
		}
	}()
	eventually(t, settle, "download running", func() bool { return len(e.Reg.Busy()) == 1 })

	shut := make(chan error, 1)
	go func() { shut <- e.Srv.Shutdown(context.Background()) }()
	eventually(t, settle, "new connections refused", func() bool {
		c, err := net.DialTimeout("tcp", e.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	closedWithin(t, "idle session", idle.conn, settle)
	body := <-got
	if sha256.Sum256(body) != sha256.Sum256(data) {
		t.Fatalf("download cut by Shutdown: %d of %d bytes", len(body), len(data))
	}
	r.expect(226)
	select {
	case err := <-shut:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Shutdown did not return after the transfer finished")
	}
}

// TestSlowUploadCounted: the live session of a client sending 10 KB/s
// shows its bytes within two seconds and every few seconds after (a
// first copy chunk of 256 KiB would show nothing for 26 s), in both
// upload modes.
func TestSlowUploadCounted(t *testing.T) {
	for _, mode := range []UploadMode{UploadAtomic, UploadDirect} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{cfg: Config{UploadMode: mode}})
			r := e.raw()
			r.login(testUser, testPass)
			data := r.epsv()
			r.must(150, "STOR slow.bin")
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := data.Write(make([]byte, 1<<10)); err != nil {
							return
						}
					}
				}
			}()
			start := time.Now()
			var last int64
			lastChange := start
			for time.Since(start) < 5*time.Second {
				time.Sleep(100 * time.Millisecond)
				list := e.Reg.List()
				if len(list) != 1 {
					t.Fatalf("%d sessions", len(list))
				}
				now := time.Now()
				switch n := list[0].BytesDone; {
				case n != last:
					last, lastChange = n, now
				case n == 0 && now.Sub(start) > 2*time.Second:
					t.Fatalf("no bytes shown %v after the upload began", now.Sub(start).Round(time.Millisecond))
				case now.Sub(lastChange) > 3*time.Second:
					t.Fatalf("the live bytes stayed at %d for %v", n, now.Sub(lastChange).Round(time.Millisecond))
				}
			}
			t.Logf("%d bytes shown after 5 s", last)
		})
	}
}

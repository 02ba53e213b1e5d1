package main

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// FTP helpers of the end-to-end browser test: it checks each step of the
// panel over a real FTP connection.

// ftpLogin connects to s and logs in; the connection is closed when the
// test ends.
func ftpLogin(t *testing.T, s *server, user, password string) (*ftp.ServerConn, error) {
	t.Helper()
	conn, err := ftp.Dial(s.addr(), ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatalf("connecting to the FTP service: %v", err)
	}
	if err := conn.Login(user, password); err != nil {
		conn.Quit()
		return nil, err
	}
	t.Cleanup(func() { conn.Quit() })
	return conn, nil
}

// mustLogin logs in, failing the test when the server refuses.
func mustLogin(t *testing.T, s *server, user, password, why string) *ftp.ServerConn {
	t.Helper()
	conn, err := ftpLogin(t, s, user, password)
	if err != nil {
		t.Fatalf("FTP log-in of %s %s: %v", user, why, err)
	}
	return conn
}

// waitCut waits until the server has ended conn, which NOOP then shows.
func waitCut(t *testing.T, conn *ftp.ServerConn, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for conn.NoOp() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the open FTP session still answers NOOP 5 s later", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mustRefuse checks the server refuses a log-in.
func mustRefuse(t *testing.T, s *server, user, password, why string) {
	t.Helper()
	if conn, err := ftpLogin(t, s, user, password); err == nil {
		conn.Quit()
		t.Errorf("FTP log-in of %s %s succeeded, want it refused", user, why)
	} else if !strings.Contains(err.Error(), "530") {
		t.Errorf("FTP log-in of %s %s: %v, want a 530 reply", user, why, err)
	}
}

// listNames lists the current directory of conn.
func listNames(t *testing.T, conn *ftp.ServerConn) []string {
	t.Helper()
	entries, err := conn.List("")
	if err != nil {
		t.Fatalf("FTP LIST: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	return names
}

// upload is a STOR that stays in flight: the test feeds it a first chunk,
// then a trickle, until the server cuts it off or the test ends.
type upload struct {
	finished chan struct{} // closed when Stor has returned, err then set
	err      error
	pw       *io.PipeWriter
	stop     chan struct{}
	once     sync.Once
}

// startUpload begins storing name on conn: first bytes at once, then
// chunk every tick so the panel sees a running, growing transfer. conn
// must not be used until the upload has finished.
func startUpload(t *testing.T, conn *ftp.ServerConn, name string, first, chunk int, tick time.Duration) *upload {
	pr, pw := io.Pipe()
	u := &upload{finished: make(chan struct{}), pw: pw, stop: make(chan struct{})}
	go func() {
		u.err = conn.Stor(name, pr)
		pr.CloseWithError(errors.New("upload ended")) // unblocks the feeder
		close(u.finished)
	}()
	go func() {
		if _, err := pw.Write(make([]byte, first)); err != nil {
			return
		}
		tk := time.NewTicker(tick)
		defer tk.Stop()
		for {
			select {
			case <-u.stop:
				return
			case <-tk.C:
				if _, err := pw.Write(make([]byte, chunk)); err != nil {
					return
				}
			}
		}
	}()
	// Registered after the log-in's Quit, so it runs before it: the
	// connection is idle again by then.
	t.Cleanup(func() {
		u.abort()
		select {
		case <-u.finished:
		case <-time.After(10 * time.Second):
			t.Error("the upload did not end 10 s after the test closed its input")
		}
	})
	return u
}

// wait reports whether Stor returned within timeout, and its result.
func (u *upload) wait(timeout time.Duration) (done bool, err error) {
	select {
	case <-u.finished:
		return true, u.err
	case <-time.After(timeout):
		return false, nil
	}
}

// abort ends the upload from the client's side.
func (u *upload) abort() {
	u.once.Do(func() {
		close(u.stop)
		u.pw.CloseWithError(errors.New("test ended"))
	})
}

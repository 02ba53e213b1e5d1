package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/panelftp/panelftp/internal/browsertest"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jlaffaye/ftp"
)

// The end-to-end browser test drives Debian's chromium against the real
// binary (see package browsertest for when it runs).

// browser is the one tab of a test, with short helpers that fail it.
type browser struct {
	t   *testing.T
	ctx context.Context
	url string // the panel, http://127.0.0.1:PORT
}

// newBrowser starts headless chromium, or skips the test when it is not
// installed and PANELFTP_TEST_BROWSER is unset. The whole session is
// bounded by timeout.
func newBrowser(t *testing.T, baseURL string, timeout time.Duration) *browser {
	t.Helper()
	return &browser{t: t, ctx: browsertest.Start(t, timeout), url: baseURL}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser on %s: %v", b.where(), err)
	}
}

// where is the current page's path, for messages; it never fails.
func (b *browser) where() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		return "(unknown page)"
	}
	return v
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("browser: evaluating %s: %v", js, err)
	}
	return v
}

// mainText is what the page shows, for failure messages.
func (b *browser) mainText() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`document.querySelector('main') ? document.querySelector('main').innerText : document.body.innerText`))
	if err != nil {
		return fmt.Sprintf("(page text unavailable: %v)", err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true. It evaluates
// afresh each time rather than using a page-side poll, because a click may
// be navigating to a new page meanwhile.
func (b *browser) waitFor(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("browser: waiting %v for %s on %s: timed out (last error %v)\npage:\n%s",
		timeout, what, b.where(), lastErr, b.mainText())
}

func (b *browser) text(css string) string {
	b.t.Helper()
	return b.eval(`(document.querySelector(` + browsertest.JSString(css) + `) || {}).textContent || ''`)
}

// flash waits for the one-time message of the page a form led to.
func (b *browser) flash(contains string) {
	b.t.Helper()
	b.waitFor("the message "+contains, `(document.querySelector('.flash') || {textContent: ''}).textContent.includes(`+browsertest.JSString(contains)+`)`, 10*time.Second)
	b.noErrors()
}

// noErrors fails the test if the page had script errors or CSP violations.
func (b *browser) noErrors() {
	b.t.Helper()
	if errs := b.eval(`(window.__errors || []).join('\n')`); errs != "" {
		b.t.Errorf("browser: errors on %s:\n%s", b.where(), errs)
	}
}

// screenshot saves the whole page as name (see browsertest.Screenshot).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	browsertest.Screenshot(b.t, b.ctx, name)
}

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

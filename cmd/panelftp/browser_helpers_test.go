package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jlaffaye/ftp"
)

// The end-to-end browser test drives Debian's chromium against the real
// binary. Like the panel's own browser test it runs when chromium is
// installed, and must run (failing if chromium is missing) when
// PANELFTP_TEST_BROWSER is set, as CI does.

const chromiumPath = "/usr/bin/chromium"

// errorTrap runs before every page's own scripts and records script errors
// and Content-Security-Policy violations, which would otherwise only show
// in the browser console.
const errorTrap = `window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push('error: ' + e.message); });
document.addEventListener('securitypolicyviolation', function (e) {
  window.__errors.push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI);
});`

// needChromium skips the test when chromium is missing, unless
// PANELFTP_TEST_BROWSER demands it.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("PANELFTP_TEST_BROWSER") == "" {
			t.Skipf("headless-browser test skipped: %s is not installed and PANELFTP_TEST_BROWSER is unset "+
				"(install the chromium package, or set PANELFTP_TEST_BROWSER=1 to require this test)", chromiumPath)
		}
		t.Fatalf("PANELFTP_TEST_BROWSER is set but %s is missing: install the chromium package", chromiumPath)
	}
}

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
	needChromium(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, url: baseURL}
	b.do(chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: errorTrap}); err != nil {
		t.Fatal(err)
	}
	return b
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
	return b.eval(`(document.querySelector(` + jsString(css) + `) || {}).textContent || ''`)
}

// flash waits for the one-time message of the page a form led to.
func (b *browser) flash(contains string) {
	b.t.Helper()
	b.waitFor("the message "+contains, `(document.querySelector('.flash') || {textContent: ''}).textContent.includes(`+jsString(contains)+`)`, 10*time.Second)
	b.noErrors()
}

// noErrors fails the test if the page had script errors or CSP violations.
func (b *browser) noErrors() {
	b.t.Helper()
	if errs := b.eval(`(window.__errors || []).join('\n')`); errs != "" {
		b.t.Errorf("browser: errors on %s:\n%s", b.where(), errs)
	}
}

// screenshot saves the whole page as name into screenshotDir.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(screenshotDir(b.t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// screenshotDir is where screenshots go: the directory named by
// PANELFTP_SCREENSHOTS (a relative one is taken from the module root, as
// `PANELFTP_SCREENSHOTS=docs/screenshots go test ./cmd/panelftp` means),
// or a temporary directory so that ordinary test runs leave the committed
// screenshots alone.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PANELFTP_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // go test runs in cmd/panelftp
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("PANELFTP_SCREENSHOTS: %v", err)
	}
	return dir
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
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

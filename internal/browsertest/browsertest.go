// Package browsertest starts the headless Chromium the panel's browser tests
// drive, and saves their screenshots. Only tests import it.
//
// A test runs when Debian's chromium is installed, and must run (failing if
// chromium is missing) when PANELFTP_TEST_BROWSER is set, as CI does.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// errorTrap runs before every page's own scripts and records script errors
// and Content-Security-Policy violations in window.__errors, which would
// otherwise only show in the browser console.
const errorTrap = `window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push('error: ' + e.message); });
document.addEventListener('securitypolicyviolation', function (e) {
  window.__errors.push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI);
});`

// Need skips t when chromium is not installed and PANELFTP_TEST_BROWSER
// is unset, and fails it when the variable is set but chromium is missing.
func Need(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("PANELFTP_TEST_BROWSER") == "" {
			t.Skipf("headless-browser test skipped: %s is not installed and PANELFTP_TEST_BROWSER is unset "+
				"(install the chromium package, or set PANELFTP_TEST_BROWSER=1 to require this test)", ChromiumPath)
		}
		t.Fatalf("PANELFTP_TEST_BROWSER is set but %s is missing: install the chromium package", ChromiumPath)
	}
}

// Start launches headless chromium for t, bounded by timeout, with an empty
// profile and no background networking; it skips t when chromium is not
// installed and PANELFTP_TEST_BROWSER is unset.
func Start(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	Need(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
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
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: errorTrap}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// Screenshot saves the whole page as name into the directory named by
// PANELFTP_SCREENSHOTS (a relative one is taken from the module root, as in
// `PANELFTP_SCREENSHOTS=docs/screenshots go test ./cmd/panelftp`), or into a
// temporary directory, so that ordinary test runs leave the committed
// screenshots alone.
func Screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	dir := os.Getenv("PANELFTP_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(t), dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("PANELFTP_SCREENSHOTS: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// moduleRoot is the directory holding go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// JSString quotes s as a JavaScript string literal.
func JSString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

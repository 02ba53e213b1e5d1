package browsertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Tab is the one browser tab of a test, with short helpers that fail it.
type Tab struct {
	T   *testing.T
	Ctx context.Context
	URL string // the panel, http://127.0.0.1:PORT
}

// NewTab starts chromium (see Start) for a test of the panel at baseURL.
func NewTab(t *testing.T, baseURL string, timeout time.Duration) *Tab {
	t.Helper()
	return &Tab{T: t, Ctx: Start(t, timeout), URL: baseURL}
}

// Do runs chromedp steps, failing the test on an error.
func (b *Tab) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.T.Fatalf("browser on %s: %v", b.Where(), err)
	}
}

// Where is the current page's path, for messages; it never fails.
func (b *Tab) Where() string {
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		return "(unknown page)"
	}
	return v
}

// Eval evaluates a JavaScript expression to a string.
func (b *Tab) Eval(js string) string {
	b.T.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.T.Fatalf("browser: evaluating %s: %v", js, err)
	}
	return v
}

// MainText is what the page shows, for failure messages.
func (b *Tab) MainText() string {
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](
		`document.querySelector('main') ? document.querySelector('main').innerText : document.body.innerText`))
	if err != nil {
		return fmt.Sprintf("(page text unavailable: %v)", err)
	}
	return v
}

// WaitFor polls a JavaScript condition until it is true. It evaluates
// afresh each time rather than using a page-side poll, because a click may
// be navigating to a new page meanwhile.
func (b *Tab) WaitFor(what, cond string, timeout time.Duration) {
	b.T.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	b.T.Fatalf("browser: waiting %v for %s on %s: timed out (last error %v)\npage:\n%s",
		timeout, what, b.Where(), lastErr, b.MainText())
}

// Text is the text content of the first element matching css, or "".
func (b *Tab) Text(css string) string {
	b.T.Helper()
	return b.Eval(`(document.querySelector(` + JSString(css) + `) || {}).textContent || ''`)
}

// Flash waits for the one-time message of the page a form led to.
func (b *Tab) Flash(contains string) {
	b.T.Helper()
	b.WaitFor("the message "+contains, `(document.querySelector('.flash') || {textContent: ''}).textContent.includes(`+JSString(contains)+`)`, 10*time.Second)
	b.NoErrors()
}

// NoErrors fails the test if the page had script errors or CSP violations.
func (b *Tab) NoErrors() {
	b.T.Helper()
	if errs := b.Eval(`(window.__errors || []).join('\n')`); errs != "" {
		b.T.Errorf("browser: errors on %s:\n%s", b.Where(), errs)
	}
}

// Screenshot saves the whole page as name (see the package function).
func (b *Tab) Screenshot(name string) {
	b.T.Helper()
	Screenshot(b.T, b.Ctx, name)
}

// Viewport is a size the panel's browser tests run at, in CSS pixels.
type Viewport struct {
	Name          string
	Width, Height int64
}

// Viewports are a laptop's screen and a phone's.
var Viewports = []Viewport{{"desktop", 1366, 768}, {"phone", 390, 844}}

// Resize sets the tab's viewport.
func (b *Tab) Resize(v Viewport) {
	b.T.Helper()
	b.Do(chromedp.EmulateViewport(v.Width, v.Height))
}

// AllowClipboard lets the page write the clipboard, and the test read it.
func (b *Tab) AllowClipboard() {
	b.T.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(b.Ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: b.URL,
		}); err != nil {
			b.T.Fatalf("browser: allowing %s: %v", name, err)
		}
	}
}

// Clipboard is the text on the clipboard.
func (b *Tab) Clipboard() string {
	b.T.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.T.Fatalf("browser: reading the clipboard: %v", err)
	}
	return v
}

// TimeZone sets the browser's time zone, e.g. "America/New_York".
func (b *Tab) TimeZone(id string) {
	b.T.Helper()
	if _, err := chromedp.Call(b.Ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: id}); err != nil {
		b.T.Fatalf("browser: time zone %s: %v", id, err)
	}
}

// Focused describes the element that has the keyboard focus: its id, or
// its tag and text.
func (b *Tab) Focused() string {
	b.T.Helper()
	return b.Eval(`(function(){var e=document.activeElement;if(!e)return '';return e.id?'#'+e.id:e.tagName.toLowerCase()+' '+e.textContent.trim();})()`)
}

// Fill replaces the value of the input with id as a person editing it
// would: the page's script sees input and change events.
func (b *Tab) Fill(id, value string) {
	b.T.Helper()
	b.Eval(`(function(){var e=document.getElementById(` + JSString(id) + `);e.value=` + JSString(value) +
		`;e.dispatchEvent(new Event('input',{bubbles:true}));e.dispatchEvent(new Event('change',{bubbles:true}));return '';})()`)
}

// Width is the viewport's width in CSS pixels.
func (b *Tab) Width() int {
	b.T.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`innerWidth`))
	if err != nil {
		b.T.Fatalf("browser: %v", err)
	}
	return v
}

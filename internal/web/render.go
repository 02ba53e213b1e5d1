package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/panelftp/panelftp/internal/domain"
)

//go:embed templates/*.html static/*
var embedded embed.FS

// view is what every page template receives.
type view struct {
	Title  string
	Crumbs []crumb // breadcrumb after the home entry; the last is the page
	Flash  string
	// Summary lists a refused form's errors at the top of the page, each
	// a link to its field; the script moves the focus there.
	Summary []summaryItem
	CSRF    string
	User    string // who is logged in, "" on log-in pages
	Admin   bool
	Nav     string // active admin tab
	Version string // shown to administrators in the footer
	Page    any    // the page's own data
}

type crumb struct{ Label, URL string }

// assetSet serves the embedded static files with a content hash in their
// URL, so browsers may cache them for long and still see a new version.
type assetSet struct {
	files map[string][]byte
	hash  map[string]string
}

func loadAssets() (assetSet, error) {
	a := assetSet{files: map[string][]byte{}, hash: map[string]string{}}
	entries, err := fs.ReadDir(embedded, "static")
	if err != nil {
		return a, fmt.Errorf("web: embedded assets: %w", err)
	}
	for _, e := range entries {
		b, err := embedded.ReadFile("static/" + e.Name())
		if err != nil {
			return a, fmt.Errorf("web: embedded assets: %w", err)
		}
		sum := sha256.Sum256(b)
		a.files[e.Name()], a.hash[e.Name()] = b, hex.EncodeToString(sum[:6])
	}
	return a, nil
}

// url is the cache-busting address of an asset, for templates.
func (a assetSet) url(name string) (string, error) {
	h, ok := a.hash[name]
	if !ok {
		return "", fmt.Errorf("web: no asset %q", name)
	}
	return "/static/" + name + "?v=" + h, nil
}

func (a assetSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, r.PathValue("file"))
}

// favicon answers the /favicon.ico every browser asks for on a first
// visit, before it has read the page's <link rel="icon">.
func (a assetSet) favicon(w http.ResponseWriter, r *http.Request) { a.serve(w, r, "favicon.ico") }

func (a assetSet) serve(w http.ResponseWriter, r *http.Request, name string) {
	b, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".ico" { // not in every system's MIME table
		ctype = "image/x-icon"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// parsePages parses each page template together with the layout.
func parsePages(a assetSet) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": a.url,
		"dict":  dict,
		"inc":   func(i int) int { return i + 1 },
		"when":  newTimeView,
	}
	names, err := fs.Glob(embedded, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(embedded,
			"templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes page name with status. It renders into a buffer first so
// a template error becomes a clean 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, name string, v view) {
	t, ok := s.pages[name]
	if !ok {
		panic("web: no page template " + name)
	}
	v.Flash = s.takeFlash(w, r)
	if n := len(v.Crumbs); n > 0 {
		// The last crumb is this page: text, not a link to itself.
		v.Crumbs = append([]crumb(nil), v.Crumbs...)
		v.Crumbs[n-1].URL = ""
	}
	if rc != nil {
		v.CSRF, v.Admin = rc.csrf, rc.admin
		v.User = rc.sess.Name
	}
	if v.Admin {
		v.Version = s.cfg.Version
	}
	if len(v.Summary) > 0 {
		v.Title = "Error: " + v.Title
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.log.Error("web: rendering page", "page", name, "err", err)
		http.Error(w, "Internal error: the panel could not show this page.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorPage shows msg alone on a page, with a way back.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, msg string) {
	if rc == nil {
		rc = &reqCtx{}
	}
	s.render(w, r, rc, status, "error", view{Title: http.StatusText(status), Page: sentence(msg)})
}

// fail answers an error from the service that is not about a form field:
// a missing object is 404, a refusal 403, a database that does not answer
// 503, anything else a logged 500 whose details stay in the log.
func (s *server) fail(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	switch domain.KindOf(err) {
	case domain.Unavailable:
		s.storeDown(w, r, rc, err)
	case domain.NotFound:
		s.errorPage(w, r, rc, http.StatusNotFound, err.Error())
	case domain.Forbidden:
		s.errorPage(w, r, rc, http.StatusForbidden, err.Error())
	case domain.Invalid, domain.Conflict, domain.LimitReached:
		s.errorPage(w, r, rc, http.StatusUnprocessableEntity, err.Error())
	default:
		s.log.Error("web: request failed", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, rc, http.StatusInternalServerError,
			"Something went wrong on the server; nothing more is known here. Try again, and ask the administrator to check the log if it persists.")
	}
}

// unavailableText is what a page says while the database does not answer.
const unavailableText = "The panel is briefly unavailable: its database is not answering. Nothing is wrong with your account; " +
	"try again in a few seconds."

// storeDown answers 503 with Retry-After when the store could not answer:
// a page saying the panel is briefly unavailable, or JSON for the live
// connections feed, whose script then keeps polling. Cookies stay as they
// are, since nothing is known about the session.
func (s *server) storeDown(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	s.log.Warn("web: the store is not answering", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	if strings.HasSuffix(r.URL.Path, ".json") {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": unavailableText})
		return
	}
	s.errorPage(w, r, rc, http.StatusServiceUnavailable, unavailableText)
}

// formErrors maps a form field to the message shown next to it; "" is
// for messages about the whole form. Messages are sentences: see add.
type formErrors map[string]string

// add records msg for field, as a sentence.
func (e formErrors) add(field, msg string) { e[field] = sentence(msg) }

// isFormError reports whether err is a refusal to show beside the form's
// fields, and records each of its refusals (a joined error has one per
// field) under its field when the form has one of that name and no error
// yet, or under "" otherwise.
func isFormError(err error, errs formErrors, fields ...string) bool {
	switch domain.KindOf(err) {
	case domain.Invalid, domain.Conflict, domain.LimitReached:
	default:
		return false
	}
	for _, r := range domain.Refusals(err) {
		switch {
		case slices.Contains(fields, r.Field):
			if errs[r.Field] == "" { // the panel's own check of the field comes first
				errs.add(r.Field, r.Msg)
			}
		case errs[""] != "":
			errs[""] += " " + sentence(r.Msg)
		default:
			errs.add("", r.Msg)
		}
	}
	return true
}

// summaryItem is one line of the error summary: a message and the id of
// the input it is about ("" for the form as a whole).
type summaryItem struct{ ID, Msg string }

// summary orders errs for the error summary. fieldIDs pairs each form
// field with the id of its input, in the order the form shows them.
func (e formErrors) summary(fieldIDs ...string) []summaryItem {
	var out []summaryItem
	if msg := e[""]; msg != "" {
		out = append(out, summaryItem{Msg: msg})
	}
	for i := 0; i+1 < len(fieldIDs); i += 2 {
		if msg := e[fieldIDs[i]]; msg != "" {
			out = append(out, summaryItem{ID: fieldIDs[i+1], Msg: msg})
		}
	}
	return out
}

// sentence makes a service message read as a sentence on a page: a
// capital first letter and a full stop. The service's messages are
// lower-case clauses, as Go errors are, for the CLI's "error: ...".
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.ContainsAny(msg[len(msg)-1:], ".!?") {
		msg += "."
	}
	return msg
}

// dict builds the parameters of a partial template: dict "ID" "x" "Err" y.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

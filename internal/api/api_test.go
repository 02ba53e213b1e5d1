package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// testPassword satisfies the password rule for any username used here.
const testPassword = "Secr3t!pass"

// env is the API served over real HTTP by a real SQLite-backed service.
type env struct {
	t   *testing.T
	svc *service.Service
	// store is the one under svc, for what the API cannot do (publish
	// live sessions, read the change feed, break the database).
	store  *sqlstore.Store
	srv    *httptest.Server
	secret string // bearer secret of an admin token
	token  string // its ID
	homes  string // parent of the accounts' homes
	logs   *syncBuffer
	// seen collects the status each route answered, checked against the
	// OpenAPI document when the test ends.
	seen  map[string]map[string]bool
	probe *http.ServeMux
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	chown := false
	svc := service.New(st, auth.NewHasher(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		service.Options{Logger: log, ChownAllowed: &chown})
	tok, secret, err := svc.CreateAPIToken(context.Background(), domain.NewAPIToken{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, store: st, secret: secret, token: tok.ID, homes: t.TempDir(), logs: logs,
		seen: map[string]map[string]bool{}, probe: http.NewServeMux()}
	for _, rt := range (&server{}).routes() {
		e.probe.Handle(rt.method+" "+Prefix+rt.path, http.NotFoundHandler())
	}
	e.srv = httptest.NewServer(New(svc, log))
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.checkDocumentedStatuses)
	return e
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends body (a string is sent as is, anything else as JSON) with the
// admin token.
func (e *env) do(method, path string, body any) response {
	return e.doAuth(method, path, body, "Bearer "+e.secret)
}

// doAuth is do with the Authorization header authz ("" for none).
func (e *env) doAuth(method, path string, body any, authz string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	e.record(req, res.StatusCode)
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

func (e *env) record(req *http.Request, status int) {
	_, pattern := e.probe.Handler(req)
	if pattern == "" {
		return // an unknown route or a wrong method: not an operation
	}
	if e.seen[pattern] == nil {
		e.seen[pattern] = map[string]bool{}
	}
	e.seen[pattern][strconv.Itoa(status)] = true
}

// checkDocumentedStatuses fails the test if a route answered with a status
// its OpenAPI operation does not list.
func (e *env) checkDocumentedStatuses() {
	doc := loadDoc(e.t)
	for pattern, statuses := range e.seen {
		method, full, _ := strings.Cut(pattern, " ")
		op, ok := doc.operation(strings.TrimPrefix(full, Prefix), method)
		if !ok {
			e.t.Errorf("%s is not in the OpenAPI document", pattern)
			continue
		}
		for code := range statuses {
			// Server failures (500, 503) can befall any route; the
			// document describes them once, in info.description.
			if strings.HasPrefix(code, "5") {
				continue
			}
			if _, ok := op.Responses[code]; !ok {
				e.t.Errorf("%s answered %s, which its OpenAPI operation does not list", pattern, code)
			}
		}
	}
}

// json decodes the body into an object.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// list decodes the body's array under key.
func (r response) list(t *testing.T, key string) []map[string]any {
	t.Helper()
	var m map[string][]map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	l, ok := m[key]
	if !ok || l == nil {
		t.Fatalf("body %q has no array %q", r.body, key)
	}
	return l
}

// want fails unless r has status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// wantError checks a refusal's status, code, field and exact message.
func (r response) wantError(t *testing.T, status int, code, field, msg string) map[string]any {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	m := r.json(t)
	if m["code"] != code {
		t.Errorf("code %v, want %s; body %s", m["code"], code, r.body)
	}
	if got, _ := m["field"].(string); got != field {
		t.Errorf("field %q, want %q; body %s", got, field, r.body)
	}
	if msg != "" && m["error"] != msg {
		t.Errorf("error %q,\nwant  %q", m["error"], msg)
	}
	if m["error"] == "" {
		t.Errorf("empty error message")
	}
	return m
}

// addAccount creates account name with its home under e.homes.
func (e *env) addAccount(name string, limit int) domain.Account {
	e.t.Helper()
	a, err := e.svc.AddAccount(context.Background(), domain.NewAccount{
		Name: name, Home: e.home(name), UID: domain.NoID, GID: domain.NoID, FTPLimit: limit})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) addFTPUser(account, username, path string) domain.FTPUser {
	e.t.Helper()
	u, err := e.svc.AddFTPUser(context.Background(), domain.NewFTPUser{
		Account: account, Username: username, Password: testPassword, Path: path})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) home(name string) string { return filepath.Join(e.homes, name) }

func (e *env) accountNames() []string {
	e.t.Helper()
	list, err := e.svc.ListAccounts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, a := range list {
		names = append(names, a.Name)
	}
	return names
}

func (e *env) ftpUsernames(account string) []string {
	e.t.Helper()
	list, err := e.svc.ListFTPUsers(context.Background(), account)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.Username)
	}
	return names
}

// message is the refusal text err carries.
func message(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestUnknownRouteAndWrongMethodAnswerJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodGet, "/api/v1/nope", nil)
	r.wantError(t, http.StatusNotFound, "not_found", "", "no API route GET /api/v1/nope")

	r = e.do(http.MethodPut, "/api/v1/accounts", `{}`)
	r.wantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "", "")
	if got := r.header.Get("Allow"); got != "GET, POST, HEAD" {
		t.Errorf("Allow %q, want GET, POST, HEAD", got)
	}
	r = e.do(http.MethodPost, "/api/v1/connections/abc", `{}`)
	r.wantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "", "")
	if got := r.header.Get("Allow"); got != "DELETE" {
		t.Errorf("Allow %q, want DELETE", got)
	}
}

func TestMutatingCallsAreLoggedWithoutPasswords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addAccount("bob", 0)
	e.do(http.MethodPost, "/api/v1/accounts/bob/ftp-users",
		map[string]any{"username": "dev.bob", "password": testPassword, "path": "/site"}).want(t, http.StatusCreated)
	e.do(http.MethodPatch, "/api/v1/accounts/bob", map[string]any{"panel_password": "weak"}).want(t, http.StatusUnprocessableEntity)
	e.do(http.MethodGet, "/api/v1/accounts", nil).want(t, http.StatusOK)

	logs := e.logs.String()
	for _, want := range []string{
		`msg="API call" token=` + e.token + ` method=POST route=/api/v1/accounts/{account}/ftp-users path=/api/v1/accounts/bob/ftp-users status=201`,
		`msg="API call" token=` + e.token + ` method=PATCH route=/api/v1/accounts/{account} path=/api/v1/accounts/bob status=422`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s\nlog:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "method=GET") {
		t.Errorf("a read was logged as a call:\n%s", logs)
	}
	for _, secret := range []string{testPassword, "weak", e.secret} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains the secret %q:\n%s", secret, logs)
		}
	}
}

func TestResponsesAreNotCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodGet, "/api/v1/accounts", nil).want(t, http.StatusOK)
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
	if got := r.list(t, "accounts"); len(got) != 0 || !slices.Equal(r.body, []byte("{\"accounts\":[]}\n")) {
		t.Errorf("empty list body %q, want an empty array", r.body)
	}
}

func TestStoreFailureIs503WithTheDetailOnlyInTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do(http.MethodPost, "/api/v1/accounts", map[string]any{"name": "bob", "home": e.home("bob")})
	r.wantError(t, http.StatusServiceUnavailable, "unavailable", "", unavailableMsg)
	if got := r.header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	if strings.Contains(string(r.body), "sql") {
		t.Errorf("refusal leaks the cause: %s", r.body)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `msg="API call failed"`) || !strings.Contains(logs, "closed") {
		t.Errorf("log lacks the failure and its cause:\n%s", logs)
	}
}

func TestPanicInAHandlerAnswers500(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	s := &server{log: slog.New(slog.NewTextHandler(logs, nil))}
	h := s.wrap(route{method: http.MethodPost, path: "/boom", public: true,
		handle: func(http.ResponseWriter, *http.Request) error { panic("boom") }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Prefix+"/boom", nil))
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	r.wantError(t, http.StatusInternalServerError, "internal", "", "internal error: the server log has the details")
	for _, want := range []string{`msg="API handler panicked"`, "panic=boom", "status=500"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

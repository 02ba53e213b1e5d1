package service_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/clocktest"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// Passwords used throughout; each satisfies the password rule for the
// usernames of these tests.
const (
	pw1 = "Secret-pw-1"
	pw2 = "Other#Pass2"
)

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one service on a fresh SQLite store, with homes under base/home
// and a directory outside every home for symlink tests.
type env struct {
	t       *testing.T
	ctx     context.Context
	svc     *service.Service
	st      store.Store
	clock   *clocktest.Clock
	base    string
	outside string
	logs    *syncBuffer
	hasher  *auth.Hasher
	bans    *defender.Defender // the service's Bans, unless an option replaced it
}

type envOption func(*service.Options)

func withChown(allowed bool) envOption {
	return func(o *service.Options) { o.ChownAllowed = &allowed }
}

// withHomes sets the home rules, AllowRootOwner included.
func withHomes(h service.HomeOptions) envOption {
	return func(o *service.Options) { o.Homes = h }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	base := t.TempDir()
	st, err := sqlstore.OpenSQLite(filepath.Join(base, "db"))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{
		t:       t,
		ctx:     context.Background(),
		st:      st,
		clock:   clocktest.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)),
		base:    base,
		outside: filepath.Join(base, "outside"),
		logs:    &syncBuffer{},
	}
	if err := os.Mkdir(e.outside, 0o755); err != nil {
		t.Fatal(err)
	}
	// Most tests are not about owners: accounts keep the server's ids,
	// which as root is only allowed with AllowRootOwner (see strictOwners).
	o := service.Options{Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
		Homes: service.HomeOptions{AllowRootOwner: true}}
	e.bans = defender.New(defender.Config{Threshold: 3, Now: e.clock.Now}, st, nil)
	o.Bans = e.bans
	for _, opt := range opts {
		opt(&o)
	}
	h := auth.NewHasher(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	e.svc, e.hasher = service.New(st, h, o), h
	return e
}

// home is where account name's home directory lives in this test.
func (e *env) home(name string) string { return filepath.Join(e.base, "home", name) }

func (e *env) addAccount(name string, limit int) domain.Account {
	e.t.Helper()
	a, err := e.svc.AddAccount(e.ctx, domain.NewAccount{
		Name: name, Home: e.home(name), UID: domain.NoID, GID: domain.NoID, FTPLimit: limit,
	})
	if err != nil {
		e.t.Fatalf("AddAccount(%s): %v", name, err)
	}
	return a
}

func (e *env) addUser(account, username, path string) domain.FTPUser {
	e.t.Helper()
	u, err := e.svc.AddFTPUser(e.ctx, domain.NewFTPUser{Account: account, Username: username, Password: pw1, Path: path})
	if err != nil {
		e.t.Fatalf("AddFTPUser(%s, %s): %v", account, username, err)
	}
	return u
}

func (e *env) users(account string) []domain.FTPUser {
	e.t.Helper()
	list, err := e.st.ListFTPUsers(e.ctx, account)
	if err != nil {
		e.t.Fatalf("ListFTPUsers: %v", err)
	}
	return list
}

func (e *env) accounts() []domain.Account {
	e.t.Helper()
	list, err := e.st.ListAccounts(e.ctx)
	if err != nil {
		e.t.Fatalf("ListAccounts: %v", err)
	}
	return list
}

func (e *env) storedUser(username string) domain.FTPUser {
	e.t.Helper()
	u, err := e.st.GetFTPUser(e.ctx, username)
	if err != nil {
		e.t.Fatalf("GetFTPUser(%s): %v", username, err)
	}
	return u
}

// lastChange is the Seq of the newest entry of the change feed.
func (e *env) lastChange() int64 {
	e.t.Helper()
	seq := int64(0)
	for _, c := range e.feedAfter(0) {
		seq = c.Seq
	}
	return seq
}

func (e *env) feedAfter(seq int64) []store.Change {
	e.t.Helper()
	changes, _, err := e.st.ChangesAfter(e.ctx, seq, 10000)
	if err != nil {
		e.t.Fatalf("ChangesAfter: %v", err)
	}
	return changes
}

// kickedUsers lists the users whose sessions changes since seq end.
func (e *env) kickedUsers(seq int64) []string {
	e.t.Helper()
	names := []string{}
	for _, c := range e.feedAfter(seq) {
		if c.Kind == store.ChangeUser {
			names = append(names, c.Key)
		}
	}
	return names
}

// changesAfter lists the changes recorded since seq as "kind key".
func (e *env) changesAfter(seq int64) []string {
	e.t.Helper()
	list := []string{}
	for _, c := range e.feedAfter(seq) {
		list = append(list, string(c.Kind)+" "+c.Key)
	}
	return list
}

// state is everything a refused call must leave as it was: the store's
// accounts and users, the change feed (so no session was ended), and
// every file under the test's base directory (homes and outside).
type state struct {
	accounts  []domain.Account
	users     []domain.FTPUser
	changeSeq int64
	files     []string
}

func (e *env) snapshot() state {
	e.t.Helper()
	return state{accounts: e.accounts(), users: e.users(""), changeSeq: e.lastChange(), files: e.tree()}
}

func (e *env) tree() []string {
	e.t.Helper()
	var files []string
	err := filepath.WalkDir(e.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "db" {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(e.base, p)
		files = append(files, rel)
		return nil
	})
	if err != nil {
		e.t.Fatalf("walking %s: %v", e.base, err)
	}
	return files
}

// unchanged fails the test if anything differs from before.
func (e *env) unchanged(before state) {
	e.t.Helper()
	after := e.snapshot()
	if !reflect.DeepEqual(before.accounts, after.accounts) {
		e.t.Errorf("accounts changed:\nbefore %+v\nafter  %+v", before.accounts, after.accounts)
	}
	if !reflect.DeepEqual(before.users, after.users) {
		e.t.Errorf("FTP users changed:\nbefore %+v\nafter  %+v", before.users, after.users)
	}
	if before.changeSeq != after.changeSeq {
		e.t.Errorf("changes recorded: %q", e.changesAfter(before.changeSeq))
	}
	if !slices.Equal(before.files, after.files) {
		e.t.Errorf("files changed:\nbefore %q\nafter  %q", before.files, after.files)
	}
}

// wantErr fails unless err is a domain error of kind on field.
func wantErr(t *testing.T, err error, kind domain.Kind, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want kind %d on %q", kind, field)
	}
	if domain.KindOf(err) != kind || domain.FieldOf(err) != field {
		t.Fatalf("error %q: kind %d field %q, want kind %d field %q", err, domain.KindOf(err), domain.FieldOf(err), kind, field)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

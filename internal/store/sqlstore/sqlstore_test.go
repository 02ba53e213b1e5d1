package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/storetest"
)

// pgEnv names the PostgreSQL the tests use. Unset: the PostgreSQL tests are
// skipped. Set: they run, and fail if the server cannot be reached.
const pgEnv = "PANELFTP_TEST_POSTGRES"

// backend makes empty databases of one kind. fresh returns a function that
// opens the new database; calling it twice opens the same database twice,
// as two processes would.
type backend struct {
	name string
	// require skips the test when this kind of database is not
	// configured, and fails it when it is configured but unusable.
	require func(testing.TB)
	fresh   func(testing.TB) func() (*Store, error)
}

var backends = []backend{
	{"sqlite", func(testing.TB) {}, sqliteFresh},
	{"postgres", pgRequire, pgFresh},
}

func sqliteFresh(t testing.TB) func() (*Store, error) {
	dir := t.TempDir()
	return func() (*Store, error) { return OpenSQLite(dir) }
}

// pgFresh creates a schema of its own in the shared test database (other
// test packages may use it at the same time) and drops it when t ends.
func pgFresh(t testing.TB) func() (*Store, error) {
	dsn := pgFreshDSN(t)
	return func() (*Store, error) { return OpenPostgres(context.Background(), dsn) }
}

// pgFreshDSN makes the schema and returns a DSN whose search_path is it.
func pgFreshDSN(t testing.TB) string {
	base := pgBase(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s=%q: %v", pgEnv, base, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := "t_" + randomHex(t, 8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("PostgreSQL from %s is not usable: %v", pgEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping test schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return withSearchPath(t, base, schema)
}

// pgBase returns the test PostgreSQL DSN, or skips t when none is set.
func pgBase(t testing.TB) string {
	base := os.Getenv(pgEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to run them, e.g. %s='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'", pgEnv, pgEnv)
	}
	return base
}

// pgReachable connects once per test binary, so an unreachable server
// fails each test with one clear message instead of one per subtest.
var pgReachable = sync.OnceValue(func() error {
	db, err := sql.Open("pgx", os.Getenv(pgEnv))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
})

func pgRequire(t testing.TB) {
	pgBase(t)
	if err := pgReachable(); err != nil {
		t.Fatalf("%s is set but PostgreSQL is not reachable: %v", pgEnv, err)
	}
}

// withSearchPath adds search_path to a URL or key=value DSN; pgx sends it
// to the server as a run-time parameter of every connection.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", pgEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// mustOpen opens with open and closes the store when t ends.
func mustOpen(t *testing.T, open func() (*Store, error)) *Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// forEachBackend runs test once per database kind, the kinds in parallel.
func forEachBackend(t *testing.T, test func(t *testing.T, fresh func(testing.TB) func() (*Store, error))) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			b.require(t)
			test(t, b.fresh)
		})
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, fresh func(testing.TB) func() (*Store, error)) {
		storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, fresh(t)) })
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, fresh func(testing.TB) func() (*Store, error)) {
		open := fresh(t)
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccount(t.Context(), domain.Account{Name: "bob", Home: "/home/bob", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		for range 2 {
			s = mustOpen(t, open)
			if _, err := s.GetAccount(t.Context(), "bob"); err != nil {
				t.Fatalf("account lost on reopen: %v", err)
			}
			wantVersions(t, s)
		}
	})
}

// wantVersions checks that every migration is recorded exactly once.
func wantVersions(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	got, err := scanAll(rows, err, func(r rowScanner) (v int, err error) { return v, r.Scan(&v) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(migrations) || got[len(got)-1] != latestVersion() {
		t.Fatalf("schema_migrations holds %v, want versions 1..%d once each", got, latestVersion())
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, fresh func(testing.TB) func() (*Store, error)) {
		open := fresh(t)
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.db.ExecContext(t.Context(), "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)", latestVersion()+1)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		s, err = open()
		if err == nil {
			s.Close()
			t.Fatal("opened a database with a newer schema")
		}
		want := fmt.Sprintf("schema version %d", latestVersion()+1)
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q: want ErrSchemaTooNew mentioning %q", err, want)
		}
	})
}

func TestConcurrentFirstOpen(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, fresh func(testing.TB) func() (*Store, error)) {
		open := fresh(t)
		stores := make([]*Store, 4)
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = open() })
		}
		wg.Wait()
		for i, s := range stores {
			if errs[i] != nil {
				t.Fatalf("open %d: %v", i, errs[i])
			}
			defer s.Close()
		}
		wantVersions(t, stores[0])
	})
}

// TestTwoStoresWriteConcurrently: two Stores on one database, as the
// server and a CLI call would have, interleave read-then-write
// transactions without SQLITE_BUSY or lost writes.
func TestTwoStoresWriteConcurrently(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, fresh func(testing.TB) func() (*Store, error)) {
		open := fresh(t)
		a, b := mustOpen(t, open), mustOpen(t, open)
		if err := a.CreateAccount(t.Context(), domain.Account{Name: "bob", Home: "/home/bob"}); err != nil {
			t.Fatal(err)
		}
		const n = 200
		var wg sync.WaitGroup
		for _, w := range []struct {
			s    *Store
			name string
		}{{a, "a"}, {b, "b"}} {
			wg.Go(func() {
				if err := writeMany(t.Context(), w.s, w.name, n); err != nil {
					t.Errorf("store %s: %v", w.name, err)
				}
			})
		}
		wg.Wait()
		if got, err := b.CountFTPUsers(t.Context(), "bob"); err != nil || got != 2*n {
			t.Fatalf("CountFTPUsers = %d, %v; want %d", got, err, 2*n)
		}
	})
}

// writeMany adds n sub-users (a count-then-insert transaction, with a
// limit) and n kicks.
func writeMany(ctx context.Context, s *Store, prefix string, n int) error {
	for i := range n {
		u := domain.FTPUser{Username: fmt.Sprintf("%s%d.bob", prefix, i), Account: "bob", Path: "/", Enabled: true}
		if err := s.CreateFTPUser(ctx, u, 10000); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		if err := s.KickSession(ctx, u.Username); err != nil {
			return fmt.Errorf("kick %d: %w", i, err)
		}
	}
	return nil
}

const childEnv = "PANELFTP_SQLSTORE_CHILD_DIR"

// TestTwoProcessesWriteSQLite runs a second process (this test binary) that
// writes to the same SQLite file while this one does.
func TestTwoProcessesWriteSQLite(t *testing.T) {
	t.Parallel()
	if dir := os.Getenv(childEnv); dir != "" {
		childWriter(t, dir)
		return
	}
	dir := t.TempDir()
	s := mustOpen(t, func() (*Store, error) { return OpenSQLite(dir) })
	if err := s.CreateAccount(t.Context(), domain.Account{Name: "bob", Home: "/home/bob"}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestTwoProcessesWriteSQLite$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	werr := writeMany(t.Context(), s, "parent", 200)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child process: %v\n%s", err, out.String())
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if n, err := s.CountFTPUsers(t.Context(), "bob"); err != nil || n != 400 {
		t.Fatalf("CountFTPUsers = %d, %v; want 400", n, err)
	}
}

func childWriter(t *testing.T, dir string) {
	s := mustOpen(t, func() (*Store, error) { return OpenSQLite(dir) })
	if err := writeMany(t.Context(), s, "child", 200); err != nil {
		t.Fatal(err)
	}
}

// TestOpenExistingPostgresCreatesNothing: a PostgreSQL database without
// panelftp's tables is refused with Options.Existing, and no table is
// made; once created, it opens.
func TestOpenExistingPostgresCreatesNothing(t *testing.T) {
	t.Parallel()
	pgRequire(t)
	dsn := pgFreshDSN(t)
	if _, err := Open(t.Context(), "", dsn, Options{Existing: true}); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("Open of an empty schema: %v, want ErrNoDatabase", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("a refused Open left %d tables, %v", tables, err)
	}
	mustOpen(t, func() (*Store, error) { return OpenPostgres(t.Context(), dsn) })
	mustOpen(t, func() (*Store, error) { return Open(t.Context(), "", dsn, Options{Existing: true, MaxConns: 1}) })
}

package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// TestSQLiteDollarPlaceholders pins what the queries rely on: modernc binds
// $N to the N-th argument, in any order and repeated.
func TestSQLiteDollarPlaceholders(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, sqliteFresh(t))
	var a, b, c string
	err := s.db.QueryRowContext(t.Context(), "SELECT $2, $1, $2 || $1", "x", "y").Scan(&a, &b, &c)
	if err != nil || a != "y" || b != "x" || c != "yx" {
		t.Fatalf("SELECT $2, $1, $2 || $1 with (x, y) = %q, %q, %q, %v; want y, x, yx", a, b, c, err)
	}
}

// TestSQLiteSettings checks that every pooled connection, not only the
// first, gets the pragmas, and that the files are private.
func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, func() (*Store, error) { return OpenSQLite(dir) })
	for i := range 3 {
		conn, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"}, {"busy_timeout", "10000"}, {"foreign_keys", "1"}, {"synchronous", "1"},
		} {
			var got string
			if err := conn.QueryRowContext(t.Context(), "PRAGMA "+p.pragma).Scan(&got); err != nil || got != p.want {
				t.Errorf("connection %d: PRAGMA %s = %q, %v; want %q", i, p.pragma, got, err, p.want)
			}
		}
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, SQLiteFile): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

// TestSQLiteOddDirName: "?" and "#" in the directory are part of the path,
// not the start of DSN parameters.
func TestSQLiteOddDirName(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "we?ird #dir %20")
	s := mustOpen(t, func() (*Store, error) { return OpenSQLite(dir) })
	if err := s.CreateAccount(t.Context(), domain.Account{Name: "bob", Home: "/home/bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, SQLiteFile)); err != nil {
		t.Fatalf("database not where asked: %v", err)
	}
}

func TestMigrationsNumbered(t *testing.T) {
	t.Parallel()
	for i, m := range migrations {
		if m.version != i+1 {
			t.Fatalf("migrations[%d] has version %d, want %d: versions run from 1 without gaps", i, m.version, i+1)
		}
	}
}

func BenchmarkPublishSessions(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			be.require(b)
			benchPublish(b, be.fresh(b))
		})
	}
}

// benchPublish publishes 1,000 changed sessions per iteration.
func benchPublish(b *testing.B, open func() (*Store, error)) {
	s, err := open()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	all := make([]domain.Session, 1000)
	for i := range all {
		all[i] = domain.Session{ID: fmt.Sprintf("s%04d", i), Username: "dev.bob", Account: "bob",
			RemoteAddr: "198.51.100.4:5000", ConnectedAt: time.Now(), Activity: domain.ActivityUpload}
	}
	for b.Loop() {
		for i := range all {
			all[i].BytesDone += 4096
		}
		if _, err := s.PublishSessions(b.Context(), "n1", time.Minute, all, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUpgradeLeavesUsersUnrestricted: sub-users and settings saved before
// the per-user controls and the banner existed come back with no limit, no
// restriction and the default greeting.
func TestUpgradeLeavesUsersUnrestricted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(dir, SQLiteFile)))
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{db: db, d: sqliteDialect}
	for range 3 { // the schema before per-user controls
		if _, err := old.migrateOne(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"INSERT INTO accounts (name, home, uid, gid, enabled, created_at, updated_at) VALUES ('bob', '/home/bob', -1, -1, TRUE, 1, 1)",
		`INSERT INTO ftp_users (username, account, password_hash, path, quota_mb, enabled, created_at, updated_at)
			VALUES ('dev.bob', 'bob', 'h', '/site', 7, TRUE, 1, 1)`,
		`INSERT INTO settings (id, public_host, tls_required, max_connections, max_per_ip, max_per_user, updated_at)
			VALUES (1, '', TRUE, 0, 0, 3, 1)`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := mustOpen(t, func() (*Store, error) { return OpenSQLite(dir) })
	wantVersions(t, s)
	u, err := s.GetFTPUser(t.Context(), "dev.bob")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(u.Controls, domain.Controls{}) || u.QuotaMB != 7 || u.Path != "/site" {
		t.Fatalf("upgraded user = %+v; want its fields kept and no controls", u)
	}
	set, _, err := s.GetSettings(t.Context())
	if err != nil || set != (domain.Settings{TLSRequired: true, MaxPerUser: 3}) {
		t.Fatalf("upgraded settings = %+v, %v; want kept, no banner", set, err)
	}
}

// TestOpenExistingCreatesNothing: with Options.Existing a missing database
// is refused with ErrNoDatabase, and neither the directory nor the file is
// made; an existing one opens.
func TestOpenExistingCreatesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := Open(t.Context(), dir, "", Options{Existing: true}); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("Open of a missing SQLite database: %v, want ErrNoDatabase", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused Open made %s: %v", dir, err)
	}
	mustOpen(t, func() (*Store, error) { return OpenSQLite(dir) })
	mustOpen(t, func() (*Store, error) { return Open(t.Context(), dir, "", Options{Existing: true}) })
}

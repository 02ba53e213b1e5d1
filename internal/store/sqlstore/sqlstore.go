// Package sqlstore implements store.Store on database/sql, once, for two
// databases: SQLite (the embedded default, one file beside the server, pure
// Go via modernc.org/sqlite) and PostgreSQL (several panelftp nodes sharing
// one database, via pgx). A small dialect value carries what differs
// between them: column types in the schema, how to lock, and how to
// recognise a duplicate key.
//
// It owns the schema and its migrations, which are applied when a database
// is opened. Every write other nodes must act on records a change in the
// same transaction (changes.go); on PostgreSQL the commit announces it with
// NOTIFY on a channel named after the schema, which WatchChanges listens
// on. Which node is alive is judged by the database's clock (dialect.now). Times are stored as Unix microseconds (UTC, zero time = 0) so
// both databases round-trip them identically.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers driver "pgx"
	_ "modernc.org/sqlite"           // registers driver "sqlite"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// SQLiteFile is the database file OpenSQLite uses inside its directory.
const SQLiteFile = "panelftp.db"

// Store is store.Store on a SQL database. It is safe for concurrent use, and
// several Stores (in several processes) may share one database.
type Store struct {
	db *sql.DB
	d  *dialect
	// dsn and channel are PostgreSQL's: WatchChanges opens a connection
	// of its own to dsn and listens on channel, which names the schema so
	// that stores in other schemas of the database do not wake it.
	dsn, channel string
	// wmu queues this process's SQLite writers in Go: SQLite admits one
	// writer at a time, and waiting on a mutex is fairer and cheaper than
	// every connection spinning in SQLite's busy handler. Other processes
	// still wait through BEGIN IMMEDIATE and busy_timeout.
	wmu sync.Mutex
}

var _ store.Store = (*Store)(nil)

// ErrNoDatabase is returned (wrapped) by Open with Options.Existing when
// there is no panelftp database to open; nothing was created.
var ErrNoDatabase = errors.New("no panelftp database")

// Options tune Open. The zero value creates a missing database with the
// default pool.
type Options struct {
	// Existing refuses to create a database: Open fails with ErrNoDatabase
	// instead, leaving no file, directory or table behind.
	Existing bool
	// MaxConns caps the PostgreSQL connections of the pool (default
	// DefaultMaxConns); WatchChanges holds one more.
	MaxConns int
}

// DefaultMaxConns is the default PostgreSQL pool of a Store: 20 nodes, each
// with its listening connection, hold 80 connections, leaving room for
// the CLI and the administrator in PostgreSQL's default max_connections of
// 100 (3 of which are reserved for superusers).
const DefaultMaxConns = 3

// Open opens the PostgreSQL database dsn or, when dsn is "", the SQLite
// database in dir, and brings its schema up to date.
func Open(ctx context.Context, dir, dsn string, o Options) (*Store, error) {
	if dsn != "" {
		return openPostgres(ctx, dsn, o)
	}
	return openSQLite(dir, o)
}

// OpenSQLite opens (creating if needed) dir/panelftp.db and brings its
// schema up to date. dir is created with mode 0700 if missing.
func OpenSQLite(dir string) (*Store, error) { return openSQLite(dir, Options{}) }

func openSQLite(dir string, o Options) (*Store, error) {
	if o.Existing {
		p := filepath.Join(dir, SQLiteFile)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s (no %s there)", ErrNoDatabase, dir, SQLiteFile)
		} else if err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: creating database directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, SQLiteFile))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	// The file holds password hashes: create it private before SQLite does
	// (SQLite gives its -wal and -shm files the same mode).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: creating database file: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: opening %s: %w", path, err)
	}
	// Writers queue on one lock anyway; a few readers are plenty, and an
	// unbounded pool keeps a file descriptor per connection a burst opened.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return open(context.Background(), &Store{db: db, d: sqliteDialect}, path)
}

// sqliteDSN puts every setting in the DSN so that each connection the pool
// opens gets it, not only the first one.
func sqliteDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)", // wait up to 10 s for another writer (process)
		"journal_mode(WAL)",   // readers never block the writer
		"synchronous(NORMAL)", // safe with WAL; a power cut loses at most the last commits
		"foreign_keys(1)",     // ON DELETE CASCADE of sub-users
	} {
		q.Add("_pragma", p)
	}
	// Write transactions take the write lock at BEGIN: a deferred
	// transaction that reads first and writes later fails with SQLITE_BUSY
	// at once (no waiting) when another process wrote in between.
	q.Set("_txlock", "immediate")
	// A file: URI with an escaped path keeps a "?" or "#" in dir from being
	// read as the start of the parameters.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// OpenPostgres connects to the PostgreSQL database dsn (a postgres:// URL or
// key=value string as pgx accepts) and brings its schema up to date.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	return openPostgres(ctx, dsn, Options{})
}

func openPostgres(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: opening PostgreSQL: %w", err)
	}
	// The driver pings a pooled connection idle for over a second before
	// reusing it: for a node that touches the database every few seconds,
	// that doubles the transactions PostgreSQL counts. A connection that
	// died meanwhile fails its next query before sending it, which
	// database/sql retries on another connection; a ping after a minute
	// still catches those a firewall dropped silently.
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(func(_ context.Context, p stdlib.ShouldPingParams) bool {
		return p.IdleDuration > time.Minute
	}))
	// Several nodes and CLI calls share one server: a small pool each
	// keeps them inside PostgreSQL's max_connections.
	n := o.MaxConns
	if n <= 0 {
		n = DefaultMaxConns
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, d: postgresDialect, dsn: dsn}
	if o.Existing {
		var found bool
		err := db.QueryRowContext(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&found)
		if err == nil && !found {
			db.Close()
			return nil, fmt.Errorf("%w in this PostgreSQL database (it has no panelftp tables)", ErrNoDatabase)
		}
	}
	return open(ctx, s, "PostgreSQL")
}

func open(ctx context.Context, s *Store, what string) (*Store, error) {
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sqlstore: connecting to %s: %w", what, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	if s.d == postgresDialect {
		var schema string
		if err := s.db.QueryRowContext(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
			s.db.Close()
			return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		s.channel = "panelftp_changes_" + schema
	}
	return s, nil
}

// Close closes the database connections.
func (s *Store) Close() error { return s.db.Close() }

// write runs fn in one transaction, so a failure or a crash never leaves
// half a change. In SQLite the transaction starts with BEGIN IMMEDIATE
// (see sqliteDSN), which already holds the write lock.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.d.oneWriter {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// exec runs one statement in its own transaction and reports
// domain.ErrNotFound (built by missing) when it changed no row.
func (s *Store) exec(ctx context.Context, missing func() error, query string, args ...any) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		return mustChange(res, missing)
	})
}

// insert runs one INSERT in its own transaction, turning a duplicate key
// into conflict().
func (s *Store) insert(ctx context.Context, conflict func() error, query string, args ...any) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		if s.d.isDuplicate(err) {
			return conflict()
		}
		return err
	})
}

func mustChange(res sql.Result, missing func() error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return missing()
	}
	return nil
}

// wrap turns a database error into domain.ErrUnavailable naming the
// operation: the schema is ours and checked by the conformance suite, so
// what fails at run time is the database not answering (gone, restarting,
// out of connections, timed out). Domain errors, meant for people, pass
// through unchanged.
func wrap(op string, err error) error {
	if err == nil || domain.KindOf(err) != 0 {
		return err
	}
	return domain.UnavailableErr(fmt.Errorf("sqlstore: %s: %w", op, err))
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// scanAll reads every row of rows with scan, returning a non-nil slice so
// that an empty list encodes as [] rather than null.
func scanAll[T any](rows *sql.Rows, err error, scan func(rowScanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// micros is how a time is stored: Unix microseconds, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// timeOf reverses micros, in UTC.
func timeOf(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

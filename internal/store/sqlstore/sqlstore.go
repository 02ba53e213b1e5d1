// Package sqlstore implements store.Store on database/sql, once, for two
// databases: SQLite (the embedded default, one file beside the server, pure
// Go via modernc.org/sqlite) and PostgreSQL (several panelftp nodes sharing
// one database, via pgx). A small dialect value carries what differs
// between them: column types in the schema, how to lock, and how to
// recognise a duplicate key.
//
// It owns the schema and its migrations, which are applied when a database
// is opened. Times are stored as Unix microseconds (UTC, zero time = 0) so
// both databases round-trip them identically.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	_ "modernc.org/sqlite"             // registers driver "sqlite"

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
	// wmu queues this process's SQLite writers in Go: SQLite admits one
	// writer at a time, and waiting on a mutex is fairer and cheaper than
	// every connection spinning in SQLite's busy handler. Other processes
	// still wait through BEGIN IMMEDIATE and busy_timeout.
	wmu sync.Mutex
}

var _ store.Store = (*Store)(nil)

// OpenSQLite opens (creating if needed) dir/panelftp.db and brings its
// schema up to date. dir is created with mode 0700 if missing.
func OpenSQLite(dir string) (*Store, error) {
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
	return open(context.Background(), db, sqliteDialect, path)
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
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: opening PostgreSQL: %w", err)
	}
	// Several nodes and CLI calls share one server: cap each pool so that
	// together they stay inside PostgreSQL's max_connections (default 100).
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	return open(ctx, db, postgresDialect, "PostgreSQL")
}

func open(ctx context.Context, db *sql.DB, d *dialect, what string) (*Store, error) {
	s := &Store{db: db, d: d}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connecting to %s: %w", what, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
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

// wrap adds the operation to unexpected database errors; domain errors,
// meant for people, pass through unchanged.
func wrap(op string, err error) error {
	if err == nil || domain.KindOf(err) != 0 {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
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

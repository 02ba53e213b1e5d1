package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between SQLite and PostgreSQL. Queries are
// written once with $1..$n placeholders, which both drivers accept (modernc
// binds "$N" to the N-th argument; TestSQLiteDollarPlaceholders pins it).
type dialect struct {
	name string
	// types turns the schema's portable words into this database's types.
	types *strings.Replacer
	// forUpdate ends a SELECT that must lock the rows it reads until the
	// transaction ends. SQLite needs none: BEGIN IMMEDIATE already holds
	// the only write lock.
	forUpdate string
	// oneWriter: the database admits one writer at a time (SQLite).
	oneWriter bool
	// now is an SQL expression for the database's clock in Unix
	// microseconds: nodes judge heartbeats and prune the change feed by
	// it, so their own clocks need not agree.
	now string
	// lock takes a transaction-scoped lock named key and name (name may
	// be ""), serialising the transactions that take it; a no-op where
	// transactions are already serial.
	lock func(ctx context.Context, tx *sql.Tx, key lockKey, name string) error
	// isDuplicate and isMissingRef recognise a unique-key violation and a
	// foreign-key violation.
	isDuplicate  func(error) bool
	isMissingRef func(error) bool
}

// lockKey names a kind of advisory lock (first half of PostgreSQL's
// two-int key; the second half hashes the schema and the lock's name, so
// tests in separate schemas of one database do not wait on each other).
type lockKey int

const (
	lockMigrate  lockKey = 0x70667401 // applying migrations
	lockChanges  lockKey = 0x70667402 // numbering changes in commit order
	lockUser     lockKey = 0x70667403 // counting one user's sessions
	lockClient   lockKey = 0x70667404 // counting one client's sessions
	lockFailures lockKey = 0x70667405 // counting one client's failed log-ins
	lockAccounts lockKey = 0x70667406 // checking new accounts against the others
)

// Portable schema words, replaced per dialect.
const (
	// {key} is text compared byte by byte, so that ORDER BY gives the same
	// order in both databases whatever PostgreSQL's locale is.
	wordKey = "{key}"
	// {serial} is an auto-incremented integer primary key whose values are
	// never reused, even after the highest row is deleted.
	wordSerial = "{serial}"
	// {now} is the database's clock (dialect.now), in queries.
	wordNow = "{now}"
)

var sqliteDialect = &dialect{
	name: "sqlite",
	types: strings.NewReplacer(
		wordKey, "TEXT",
		wordSerial, "INTEGER PRIMARY KEY AUTOINCREMENT",
	),
	oneWriter: true,
	now:       "CAST(unixepoch('subsec') * 1000000 AS INTEGER)",
	lock:      func(context.Context, *sql.Tx, lockKey, string) error { return nil },
	isDuplicate: func(err error) bool {
		c := sqliteCode(err)
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	isMissingRef: func(err error) bool {
		return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	},
}

var postgresDialect = &dialect{
	name: "postgres",
	types: strings.NewReplacer(
		wordKey, `TEXT COLLATE "C"`,
		wordSerial, "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
	),
	forUpdate: " FOR UPDATE",
	now:       "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
	lock: func(ctx context.Context, tx *sql.Tx, key lockKey, name string) error {
		if name != "" {
			name = "/" + name // "" keeps the migration lock of older versions
		}
		_, err := tx.ExecContext(ctx,
			"SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '') || $2))", int32(key), name)
		return err
	},
	isDuplicate:  func(err error) bool { return pgCode(err) == "23505" },
	isMissingRef: func(err error) bool { return pgCode(err) == "23503" },
}

// sql puts the database's clock into query.
func (d *dialect) sql(query string) string { return strings.ReplaceAll(query, wordNow, d.now) }

// sqliteCode is the extended SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// pgCode is the SQLSTATE of err, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

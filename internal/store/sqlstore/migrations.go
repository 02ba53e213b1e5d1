package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrSchemaTooNew is returned (wrapped) when the database was migrated by a
// newer panelftp than this one: running on would misread its data.
var ErrSchemaTooNew = errors.New("database schema is newer than this panelftp binary")

// migration is one numbered schema change. sql runs in both databases after
// the dialect's types are substituted ({key}, {serial}); sqlite or postgres,
// when set, replace sql for that database. A migration, once released, is
// never edited: a change is a new migration with the next version.
type migration struct {
	version  int
	about    string
	sql      string
	sqlite   string
	postgres string
}

// migrations is the schema history, in version order from 1 without gaps.
var migrations = []migration{
	{version: 1, about: "initial schema", sql: schemaV1},
	{version: 2, about: "live FTP service settings", sql: schemaV2},
	{version: 3, about: "web panel log-outs", sql: schemaV3},
	{version: 4, about: "API tokens limited to an account, with an expiry", sql: schemaV4},
	{version: 5, about: "per-user controls of FTP sub-users", sql: schemaV5},
	{version: 6, about: "welcome banner", sql: schemaV6},
	{version: 7, about: "change feed, versions, node lifetimes, failed log-ins", sql: schemaV7},
	{version: 8, about: "quota usage shared by the nodes", sql: schemaV8},
}

// schemaV8 keeps each FTP user's quota usage (bytes allocated and
// entries, measured, plus what nodes reserved since) and which nodes
// hold it; a hold's expires_at is the database's clock, so nodes never
// compare their own clocks.
const schemaV8 = `
CREATE TABLE quota_usage (
	username    {key} PRIMARY KEY REFERENCES ftp_users (username) ON DELETE CASCADE,
	directory   TEXT NOT NULL,
	bytes       BIGINT NOT NULL,
	files       BIGINT NOT NULL,
	measured_at BIGINT NOT NULL
);
CREATE TABLE quota_holds (
	username   {key} NOT NULL REFERENCES ftp_users (username) ON DELETE CASCADE,
	node       {key} NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (username, node)
);
CREATE INDEX quota_holds_node ON quota_holds (node);
CREATE INDEX quota_holds_expires ON quota_holds (expires_at);
`

// schemaV7 makes the cluster keep its promises. The change feed replaces
// the kicks table: versions of users and accounts are Seqs of the feed,
// so a node compares versions, never clocks. change_floor remembers the
// highest Seq pruned, so a reader can tell it missed changes. A node's
// lifetime (expires_at) is set by the database's clock at each heartbeat.
// ip_key is what per-IP limits count (domain.ClientKey). Failed log-ins
// are shared so that every node counts them together.
const schemaV7 = `
DROP TABLE kicks;
CREATE TABLE changes (
	seq  {serial},
	kind TEXT NOT NULL,
	key  {key} NOT NULL DEFAULT '',
	at   BIGINT NOT NULL
);
CREATE INDEX changes_at ON changes (at);
CREATE TABLE change_floor (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	pruned_through BIGINT NOT NULL
);
INSERT INTO change_floor (id, pruned_through) VALUES (1, 0);

ALTER TABLE accounts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ftp_users ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

ALTER TABLE nodes ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX nodes_expires ON nodes (expires_at);
ALTER TABLE sessions ADD COLUMN ip_key {key} NOT NULL DEFAULT '';
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_ip_key ON sessions (ip_key);

CREATE INDEX bans_until ON bans (until_at);
CREATE TABLE login_failures (
	key {key} NOT NULL,
	at  BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);
`

// schemaV6 adds the greeting to the live settings.
const schemaV6 = `
ALTER TABLE settings ADD COLUMN banner TEXT NOT NULL DEFAULT '';
ALTER TABLE settings ADD COLUMN hide_server_name BOOLEAN NOT NULL DEFAULT FALSE;
`

// schemaV5 adds the per-user controls; their defaults mean "no limit, no
// restriction", so existing sub-users keep working as before. IP lists are
// comma-separated CIDR networks; expires is the last day of access as
// YYYY-MM-DD, empty for never.
const schemaV5 = `
ALTER TABLE ftp_users ADD COLUMN max_files BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ftp_users ADD COLUMN upload_kbps BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ftp_users ADD COLUMN download_kbps BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ftp_users ADD COLUMN allow_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE ftp_users ADD COLUMN deny_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE ftp_users ADD COLUMN read_only BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE ftp_users ADD COLUMN tls_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE ftp_users ADD COLUMN expires TEXT NOT NULL DEFAULT '';
ALTER TABLE ftp_users ADD COLUMN max_sessions INTEGER NOT NULL DEFAULT 0;
`

// schemaV4 gives API tokens a scope (empty: an administrator's) and an expiry
// (0 = never). Tokens of an account are deleted with it (DeleteAccount).
const schemaV4 = `
ALTER TABLE api_tokens ADD COLUMN account {key} NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX api_tokens_account ON api_tokens (account);
`

// schemaV3 keeps the nonces of logged-out panel sessions until they expire.
const schemaV3 = `
CREATE TABLE panel_logouts (
	nonce      TEXT PRIMARY KEY,
	expires_at BIGINT NOT NULL
);
CREATE INDEX panel_logouts_expires ON panel_logouts (expires_at);
`

// schemaV2 keeps at most one row of settings saved by an administrator.
const schemaV2 = `
CREATE TABLE settings (
	id              INTEGER PRIMARY KEY CHECK (id = 1),
	public_host     TEXT NOT NULL,
	tls_required    BOOLEAN NOT NULL,
	max_connections INTEGER NOT NULL,
	max_per_ip      INTEGER NOT NULL,
	max_per_user    INTEGER NOT NULL,
	updated_at      BIGINT NOT NULL
);
`

// schemaV1: times are BIGINT Unix microseconds UTC (0 = none), so both
// databases store and compare them identically.
const schemaV1 = `
CREATE TABLE accounts (
	name                {key} PRIMARY KEY,
	home                TEXT NOT NULL,
	uid                 INTEGER NOT NULL,
	gid                 INTEGER NOT NULL,
	ftp_limit           INTEGER NOT NULL DEFAULT 0,
	panel_password_hash TEXT NOT NULL DEFAULT '',
	enabled             BOOLEAN NOT NULL,
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL
);

CREATE TABLE ftp_users (
	username      {key} PRIMARY KEY,
	account       {key} NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
	password_hash TEXT NOT NULL,
	path          TEXT NOT NULL,
	quota_mb      BIGINT NOT NULL DEFAULT 0,
	enabled       BOOLEAN NOT NULL,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	last_login_at BIGINT NOT NULL DEFAULT 0,
	last_login_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ftp_users_account ON ftp_users (account, username);

CREATE TABLE nodes (
	id           {key} PRIMARY KEY,
	heartbeat_at BIGINT NOT NULL
);

CREATE TABLE sessions (
	id            {key} PRIMARY KEY,
	node          {key} NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
	username      {key} NOT NULL DEFAULT '',
	account       {key} NOT NULL DEFAULT '',
	remote_addr   TEXT NOT NULL DEFAULT '',
	client        TEXT NOT NULL DEFAULT '',
	tls_control   BOOLEAN NOT NULL DEFAULT FALSE,
	tls_data      BOOLEAN NOT NULL DEFAULT FALSE,
	connected_at  BIGINT NOT NULL DEFAULT 0,
	last_activity BIGINT NOT NULL DEFAULT 0,
	activity      TEXT NOT NULL DEFAULT '',
	file          TEXT NOT NULL DEFAULT '',
	bytes_done    BIGINT NOT NULL DEFAULT 0,
	bytes_total   BIGINT NOT NULL DEFAULT 0,
	speed         BIGINT NOT NULL DEFAULT 0,
	bytes_up      BIGINT NOT NULL DEFAULT 0,
	bytes_down    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_node ON sessions (node);
CREATE INDEX sessions_account ON sessions (account);

CREATE TABLE kicks (
	seq        {serial},
	session_id {key} NOT NULL DEFAULT '',
	username   {key} NOT NULL DEFAULT '',
	at         BIGINT NOT NULL
);
CREATE INDEX kicks_at ON kicks (at);

CREATE TABLE admins (
	name          {key} PRIMARY KEY,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL
);

CREATE TABLE api_tokens (
	id         {key} PRIMARY KEY,
	name       {key} NOT NULL,
	hash       {key} NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	last_used  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE bans (
	ip        {key} PRIMARY KEY,
	until_at  BIGINT NOT NULL,
	count     INTEGER NOT NULL,
	reason    TEXT NOT NULL DEFAULT '',
	banned_at BIGINT NOT NULL
);
`

// latestVersion is the schema version this binary writes.
func latestVersion() int { return migrations[len(migrations)-1].version }

// sqlFor is m's SQL for dialect d.
func (m migration) sqlFor(d *dialect) string {
	q := m.sql
	switch {
	case d == sqliteDialect && m.sqlite != "":
		q = m.sqlite
	case d == postgresDialect && m.postgres != "":
		q = m.postgres
	}
	return d.types.Replace(q)
}

// migrate applies the missing migrations, each in its own transaction.
// Two processes opening one database at once are serialised by the
// migration lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite), so each
// migration runs once; the loser sees it applied and moves on.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next missing migration and reports whether the
// schema is now up to date.
func (s *Store) migrateOne(ctx context.Context) (done bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := s.d.lock(ctx, tx, lockMigrate, ""); err != nil {
			return err
		}
		cur, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if cur > latestVersion() {
			return fmt.Errorf("%w: the database is at schema version %d, this binary knows versions up to %d; upgrade panelftp (or point it at another database)",
				ErrSchemaTooNew, cur, latestVersion())
		}
		if cur == latestVersion() {
			done = true
			return nil
		}
		m := migrations[cur] // versions run from 1 without gaps
		if _, err := tx.ExecContext(ctx, m.sqlFor(s.d)); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.about, err)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
			m.version, micros(time.Now()))
		return err
	})
	return done, err
}

// schemaVersion creates schema_migrations if needed and returns the highest
// version applied (0 for a new database). It runs under the migration lock,
// as concurrent CREATE TABLE IF NOT EXISTS can fail in PostgreSQL.
func schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	if _, err := tx.ExecContext(ctx,
		"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"); err != nil {
		return 0, err
	}
	var v int
	err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

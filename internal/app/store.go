package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// storeFile, in the data directory, names the store that directory's
// server uses. `serve` writes it; every other command reads it, so that
// the CLI never works on a database the server does not read.
const storeFile = "store"

// openStore opens PostgreSQL when s.DB is set, else SQLite in s.DataDir.
// With create false, a missing database is refused with a message that
// says which flag or variable to set, and nothing is created.
func openStore(ctx context.Context, s config.Store, create bool) (store.Store, error) {
	st, err := sqlstore.Open(ctx, s.DataDir, s.DB, sqlstore.Options{Existing: !create, MaxConns: s.Pool})
	switch {
	case err == nil:
		return st, nil
	case errors.Is(err, sqlstore.ErrNoDatabase) && s.DB != "":
		return nil, fmt.Errorf("the PostgreSQL database of --db (PANELFTP_DB) has no panelftp tables: check the URL; "+
			"'panelftp init' or 'panelftp serve' with it creates them: %w", err)
	case errors.Is(err, sqlstore.ErrNoDatabase):
		return nil, fmt.Errorf("no panelftp database in %s: give the server's data directory with --data (or PANELFTP_DATA), "+
			"or its PostgreSQL URL with --db (or PANELFTP_DB); 'panelftp init' creates a new database", s.DataDir)
	case s.DB != "":
		return nil, fmt.Errorf("opening PostgreSQL database (--db): %w", err)
	}
	return nil, fmt.Errorf("opening the database in %s (--data): %w", s.DataDir, err)
}

// recordStore writes storeFile into the data directory, naming the store
// s (a PostgreSQL URL without its password).
func recordStore(s config.Store) error {
	text := "# Written by panelftp serve: the store this data directory's server uses.\n" + describeStore(s) + "\n"
	p := filepath.Join(s.DataDir, storeFile)
	if old, err := os.ReadFile(p); err == nil && string(old) == text {
		return nil
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("recording the store in %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recording the store in %s: %w", p, err)
	}
	return nil
}

// checkStore refuses to run a command with a store other than the one the
// data directory's server uses, as storeFile names it. Without storeFile
// (no server ran there yet, or an older one did) there is nothing to
// check.
func checkStore(s config.Store) error {
	kind, where, err := recordedStore(s.DataDir)
	if err != nil || kind == "" {
		return err
	}
	switch {
	case kind == "postgres" && s.DB == "":
		return fmt.Errorf("the server of data directory %s keeps its data in PostgreSQL (%s): give its URL with --db or set PANELFTP_DB",
			s.DataDir, where)
	case kind == "sqlite" && s.DB != "":
		return fmt.Errorf("the server of data directory %s keeps its data in SQLite (%s), not in PostgreSQL: drop --db and PANELFTP_DB, "+
			"or give --data (PANELFTP_DATA) the data directory of a node that uses PostgreSQL",
			s.DataDir, filepath.Join(s.DataDir, sqlstore.SQLiteFile))
	}
	return nil
}

// recordedStore reads storeFile: kind is "sqlite", "postgres" or "" (no
// file), where the PostgreSQL URL it names.
func recordedStore(dataDir string) (kind, where string, err error) {
	p := filepath.Join(dataDir, storeFile)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", p, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, where, _ = strings.Cut(line, " ")
		if kind != "sqlite" && kind != "postgres" {
			return "", "", fmt.Errorf("%s names an unknown store %q: remove the file, and the next 'panelftp serve' writes it again", p, kind)
		}
		return kind, strings.TrimSpace(where), nil
	}
	return "", "", sc.Err()
}

// describeStore is how storeFile and the log name s: "sqlite", or
// "postgres" and the URL without its password.
func describeStore(s config.Store) string {
	if s.DB == "" {
		return "sqlite"
	}
	return "postgres " + withoutPassword(s.DB)
}

var dsnPassword = regexp.MustCompile(`(?i)password\s*=\s*('[^']*'|\S+)`)

// withoutPassword removes the password from a postgres:// URL or a
// key=value connection string.
func withoutPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return strings.TrimSpace(dsnPassword.ReplaceAllString(dsn, ""))
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

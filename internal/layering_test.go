// Package internal_test checks the layering of panelftp's packages: data
// flows one way (cli / web / api → service → store, the edges knowing the
// service only by the interfaces they declare; ftpd → ftp, jail, sessions),
// and only the composition root (internal/app, and main, which only runs
// it) knows every package.
//
// The tables below are the layering, exactly: a package missing from them,
// an import they do not allow, and an allowance that nothing uses all fail
// the test. When a change moves an import, change its row here.
package internal_test

import (
	"path/filepath"
	"testing"
)

// importTable lists, for each package of the module, exactly the module's
// packages its non-test code imports.
var importTable = map[string][]string{
	// main parses nothing and decides nothing: it runs the app.
	"cmd/panelftp": {"internal/app"},
	// The composition root builds every layer and wires the edges to them.
	"internal/app": {
		"internal/api", "internal/auth", "internal/cli", "internal/config", "internal/defender",
		"internal/domain", "internal/feed", "internal/ftpd", "internal/metrics", "internal/service",
		"internal/sessions", "internal/store", "internal/store/measured", "internal/store/sqlstore",
		"internal/version", "internal/web", "internal/xferlog",
	},

	// The edges: each serves one audience through the part of the service
	// it declares as interfaces, which the composition root fills.
	"internal/web":     {"internal/domain"},
	"internal/api":     {"internal/domain", "internal/view"},
	"internal/cli":     {"internal/config", "internal/domain", "internal/version", "internal/view"},
	"internal/ftpd":    {"internal/domain", "internal/ftp", "internal/jail", "internal/sessions", "internal/xferlog"},
	"internal/metrics": {"internal/domain"}, // the others report to it through interfaces of their own

	// The rules, and what they keep.
	"internal/service":         {"internal/auth", "internal/domain", "internal/jail", "internal/store"},
	"internal/sessions":        {"internal/domain", "internal/store"},
	"internal/defender":        {"internal/domain", "internal/store"},
	"internal/feed":            {"internal/store"},
	"internal/view":            {"internal/domain"},
	"internal/store":           {"internal/domain"},
	"internal/store/measured":  {"internal/domain", "internal/store"},
	"internal/store/sqlstore":  {"internal/domain", "internal/store"},
	"internal/store/storetest": {"internal/domain", "internal/store"},

	// Tools: they know at most the vocabulary every layer shares.
	"internal/domain":  {},
	"internal/ftp":     {},                  // the protocol alone
	"internal/auth":    {"internal/domain"}, // the log-in errors the edges share
	"internal/jail":    {},
	"internal/config":  {},
	"internal/version": {},
	"internal/xferlog": {},

	// Helpers of other packages' tests.
	"internal/browsertest":         {},
	"internal/clocktest":           {},
	"internal/xferlog/xferlogtest": {},

	// The measuring programs drive a built server from outside through one
	// harness, which imports nothing of panelftp; the cluster measurement
	// also sets its users up as the CLI would.
	"bench/harness":    {},
	"bench":            {"bench/harness"},
	"loadtest":         {"bench/harness"},
	"loadtest/cluster": {"bench/harness", "internal/auth", "internal/domain", "internal/service", "internal/store/sqlstore"},
}

// compositionRoot may know everything: the rules below do not bind it (the
// import table still lists exactly what it imports).
var compositionRoot = []string{"cmd/panelftp", "internal/app"}

// rules forbid dependencies, each with its reason. Unless a rule says
// direct, it holds for every transitive dependency too, so a package cannot
// reach a forbidden layer through another.
var rules = []rule{
	{
		why: "only main runs the composition root",
		to:  []string{"internal/app"},
	},
	{
		why: "the edges are siblings, each serving one audience: only the composition root wires them together",
		to:  []string{"internal/web", "internal/api", "internal/cli", "internal/ftpd", "internal/metrics"},
	},
	{
		why:  "the FTP protocol knows no accounts, store or service: what a log-in decides is a backend plugged into it",
		from: []string{"internal/ftp"},
		to:   []string{"project", "third-party"},
	},
	{
		why:  "the vocabulary every layer shares depends on nothing, so any layer can use it",
		from: []string{"internal/domain"},
		to:   []string{"project", "third-party"},
	},
	{
		why:  "the store keeps data; the rules that use it live above it",
		from: []string{"internal/store/..."},
		to:   []string{"internal/service", "internal/sessions", "internal/defender", "internal/feed", "internal/auth", "internal/jail", "internal/view"},
	},
	{
		why:  "hashing and the jail are tools called with plain values: they know passwords and paths, not stored accounts",
		from: []string{"internal/auth", "internal/jail"},
		to:   []string{"internal/store/...", "internal/service", "internal/sessions", "internal/defender"},
	},
	{
		why:  "presentation and protocols belong to the edges: the layers below return domain values",
		from: []string{"internal/service", "internal/sessions", "internal/defender", "internal/feed", "internal/store/..."},
		to:   []string{"internal/view", "internal/ftp", "internal/xferlog"},
	},
	{
		why:  "the panel, the API and the command line declare the part of the service they use: they reach neither its implementation nor the store",
		from: []string{"internal/web", "internal/api", "internal/cli"},
		to:   []string{"internal/service", "internal/store/..."},
	},
	{
		why:    "the FTP service gets the log-in and the data as interfaces it declares (its sessions publish to the store)",
		direct: true,
		from:   []string{"internal/ftpd"},
		to:     []string{"internal/service", "internal/store/..."},
	},
	{
		why:  "HTTP is an edge: below the panel, the API and the metrics endpoint the layers are Go calls any edge can make",
		from: []string{"internal/..."}, // the server; the measuring programs are its clients
		to:   []string{"net/http"},
		except: map[string]string{
			"internal/web":     "serves the panel",
			"internal/api":     "serves the JSON API",
			"internal/metrics": "serves /metrics to Prometheus",
			"internal/app":     "the composition root: starts the HTTP listeners and the debug endpoint",
		},
	},
	{
		why:    "the server never starts another program (the measuring programs start the servers they measure)",
		from:   []string{"cmd/...", "internal/..."},
		direct: true,
		to:     []string{"os/exec"},
	},
	{
		why:    "only the SQL store speaks SQL: the rest works with any store",
		from:   []string{"project"}, // the composition root included
		direct: true,
		to:     []string{"database/sql"},
		except: map[string]string{"internal/store/sqlstore": "the SQL store"},
	},
	{
		why: "the database is reached only through the store's interfaces",
		to:  []string{"github.com/jackc/pgx/v5/...", "modernc.org/sqlite/..."},
		except: map[string]string{
			"internal/store/sqlstore": "the drivers behind the store",
			"loadtest/cluster":        "opens its nodes' store and reads PostgreSQL's statistics",
		},
	},
	{
		why:    "the layers report to the metrics through interfaces of their own, not through a metrics library",
		to:     []string{"github.com/prometheus/..."},
		except: map[string]string{"internal/metrics": "exports the figures to Prometheus"},
	},
	{
		why:  "test helpers and the testing package are for tests: the programs carry no test code",
		from: []string{"project"}, // the composition root included
		to:   []string{"testing", "internal/browsertest", "internal/clocktest", "internal/store/storetest", "internal/xferlog/xferlogtest"},
		except: map[string]string{
			"internal/browsertest":     "a helper of tests",
			"internal/store/storetest": "a helper of tests: the conformance suite of the stores",
		},
	},
}

// modules lists each third-party module with the packages that may import
// it, in their code and in their tests.
var modules = map[string]module{
	"golang.org/x/crypto": {why: "argon2id, to hash passwords", code: []string{"internal/auth"}},
	"golang.org/x/sys":    {why: "the openat2 and fd calls that keep a session in its folder", code: []string{"internal/jail"}},
	"golang.org/x/time":   {why: "the bandwidth limits", code: []string{"internal/ftpd"}},
	"modernc.org/sqlite":  {why: "the SQLite driver", code: []string{"internal/store/sqlstore"}},
	"github.com/jackc/pgx/v5": {
		why:   "the PostgreSQL driver",
		code:  []string{"internal/store/sqlstore", "loadtest/cluster"},
		tests: []string{"cmd/panelftp", "internal/cli", "internal/feed"},
	},
	"github.com/prometheus/client_golang": {why: "the /metrics endpoint", code: []string{"internal/metrics"}},
	"github.com/prometheus/client_model":  {why: "tests read the figures exported", tests: []string{"cmd/panelftp", "internal/metrics"}},
	"github.com/prometheus/common":        {why: "tests parse the /metrics page", tests: []string{"cmd/panelftp", "internal/metrics"}},
	"github.com/chromedp/chromedp": {
		why:   "tests drive the panel in chromium",
		code:  []string{"internal/browsertest"},
		tests: []string{"cmd/panelftp", "internal/web"},
	},
	"github.com/chromedp/cdproto": {why: "browsertest sets chromium's window and downloads", code: []string{"internal/browsertest"}},
	"github.com/jlaffaye/ftp": {
		why:   "an FTP client other than ours, to test the server with",
		tests: []string{"cmd/panelftp", "internal/ftpd"},
	},
}

// fileAccess lists the packages, or single files (package/file.go), that
// may touch the filesystem by name (fsCalls). Account files are reached
// through jail, which opens homes so that nothing escapes them; the other
// packages get open files and roots from it.
var fileAccess = map[string]string{
	"internal/jail":               "owns the homes: opens them through os.Root so that nothing escapes",
	"internal/store/sqlstore":     "creates and opens the SQLite database",
	"internal/app":                "the composition root: the data directory, the state files and the first-run welcome file",
	"internal/config/envfile.go":  "reads the environment file the admin names, the server's own file",
	"internal/xferlog/xferlog.go": "appends to the transfer log and reopens it after a rotation",
	"internal/ftpd/tls.go":        "reads the server's TLS certificate and keeps the self-signed one it makes",
	"internal/ftpd/certdir.go":    "lists the server's per-domain certificates",
	"internal/browsertest":        "a helper of tests: finds chromium and saves screenshots",
	"bench/harness":               "builds and starts the servers it measures, reads /proc, writes fixtures and profiles",
	"bench":                       "lays out the accounts and files the servers serve",
	"loadtest":                    "a temporary folder for the server, and the files it checks",
	"loadtest/cluster":            "a temporary folder for the nodes, and their logs",
}

// fsCalls are the functions that reach a file by its name. Calls on an
// *os.File or *os.Root someone opened are not listed: having one is the
// permission.
var fsCalls = map[string][]string{
	"os": {
		"Chdir", "Chmod", "Chown", "Chtimes", "CopyFS", "Create", "CreateTemp", "DirFS", "Lchown",
		"Link", "Lstat", "Mkdir", "MkdirAll", "MkdirTemp", "Open", "OpenFile", "OpenInRoot", "OpenRoot",
		"ReadDir", "ReadFile", "Readlink", "Remove", "RemoveAll", "Rename", "Stat", "Symlink",
		"Truncate", "WriteFile",
	},
	"path/filepath": {"EvalSymlinks", "Glob", "Walk", "WalkDir"},
	"io/ioutil":     {"ReadDir", "ReadFile", "TempDir", "TempFile", "WriteFile"},
	"syscall": {
		"Access", "Chdir", "Chmod", "Chown", "Creat", "Faccessat", "Fchmodat", "Fchownat", "Lchown",
		"Link", "Lstat", "Mkdir", "Mkdirat", "Mknod", "Open", "Openat", "Readlink", "Rename",
		"Renameat", "Rmdir", "Stat", "Statfs", "Symlink", "Truncate", "Unlink", "Unlinkat", "Utimes",
	},
	"golang.org/x/sys/unix": {
		"Access", "Chdir", "Chmod", "Chown", "Creat", "Faccessat", "Fchmodat", "Fchownat", "Fstatat",
		"Lchown", "Link", "Linkat", "Lstat", "Mkdir", "Mkdirat", "Mknod", "Mknodat", "Open", "Openat",
		"Openat2", "Readlink", "Readlinkat", "Rename", "Renameat", "Renameat2", "Rmdir", "Stat",
		"Statfs", "Statx", "Symlink", "Symlinkat", "Truncate", "Unlink", "Unlinkat", "Utimes", "UtimesNanoAt",
	},
}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	g, err := loadGraph(root, fsCalls)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) < 20 {
		t.Fatalf("found only %d packages under %s", len(g), root)
	}
	for _, p := range check(g, tables{
		imports: importTable, rules: rules, modules: modules,
		fileAccess: fileAccess, root: compositionRoot,
	}) {
		t.Error(p)
	}
}

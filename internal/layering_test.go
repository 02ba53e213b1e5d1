// Package internal_test checks the layering of panelftp's packages: data
// flows one way (cli / web / api → service → store; ftpd → ftp, auth, jail,
// sessions), and only the composition root knows every package.
package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/panelftp/panelftp/"

// allowed lists, for each package, the project packages its non-test code
// may import. Third-party imports are checked separately below.
var allowed = map[string][]string{
	"internal/domain":          {},
	"internal/config":          {},
	"internal/auth":            {"internal/domain"},
	"internal/jail":            {},
	"internal/ftp":             {}, // the protocol alone: it knows no accounts, store or service
	"internal/browsertest":     {},
	"internal/version":         {},
	"internal/defender":        {"internal/domain", "internal/store"},
	"internal/store":           {"internal/domain"},
	"internal/store/sqlstore":  {"internal/domain", "internal/store"},
	"internal/store/storetest": {"internal/domain", "internal/store"},
	"internal/service":         {"internal/domain", "internal/store", "internal/auth", "internal/jail"},
	"internal/sessions":        {"internal/domain", "internal/store"},
	"internal/feed":            {"internal/store"},
	"internal/ftpd":            {"internal/ftp", "internal/domain", "internal/jail", "internal/sessions", "internal/xferlog"}, // the metrics through an interface of its own
	"internal/web":             {"internal/domain"},
	"internal/api":             {"internal/domain", "internal/view"},
	"internal/cli":             {"internal/domain", "internal/config", "internal/view", "internal/version"},
	"internal/view":            {"internal/domain"},
	"internal/xferlog":         {},
	"internal/metrics":         {"internal/domain"},
	"internal/store/measured":  {"internal/domain", "internal/store"},
	// The measuring programs drive a built server from outside through one
	// harness, which imports nothing of panelftp; the cluster measurement
	// also sets its users up as the CLI would.
	"bench/harness":    {},
	"bench":            {"bench/harness"},
	"loadtest":         {"bench/harness"},
	"loadtest/cluster": {"bench/harness", "internal/auth", "internal/domain", "internal/service", "internal/store/sqlstore"},

	// Helpers of other packages' tests.
	"internal/xferlog/xferlogtest": {},
	"internal/clocktest":           {},
}

// only names third-party modules that a single package may import, and
// the measuring programs that may use them too.
var only = map[string][]string{
	// loadtest/cluster reads PostgreSQL's statistics of the database it
	// measures.
	"github.com/jackc/pgx":  {"internal/store/sqlstore", "loadtest/cluster"},
	"modernc.org/sqlite":    {"internal/store/sqlstore"},
	"github.com/prometheus": {"internal/metrics"},
}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	imports := packageImports(t, root)
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	for pkg, imps := range imports {
		rules, known := allowed[pkg]
		for _, imp := range imps {
			if owners, ok := ownersOf(imp); ok && !contains(owners, pkg) && pkg != "internal/app" {
				t.Errorf("%s imports %s, which only %v may import", pkg, imp, owners)
			}
			if !strings.HasPrefix(imp, module) || pkg == "internal/app" || strings.HasPrefix(pkg, "cmd/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if !known {
				t.Errorf("package %s is not in the layering table: add it with the packages it may import", pkg)
				break
			}
			if !contains(rules, dep) {
				t.Errorf("%s imports %s: not allowed by the layering (allowed: %v)", pkg, dep, rules)
			}
		}
	}
}

func ownersOf(imp string) ([]string, bool) {
	for prefix, owners := range only {
		if strings.HasPrefix(imp, prefix) {
			return owners, true
		}
	}
	return nil, false
}

// packageImports parses the non-test Go files of every package under root.
func packageImports(t *testing.T, root string) map[string][]string {
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			out[rel] = append(out[rel], strings.Trim(imp.Path.Value, `"`))
		}
		if _, ok := out[rel]; !ok {
			out[rel] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

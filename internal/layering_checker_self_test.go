package internal_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A made-up module: edge → core → store, where store also uses HTTP and
// reads a file, and the edge imports a third-party module.
func syntheticGraph() graph {
	return graph{
		"cmd/x":          {imports: []string{"internal/edge"}, deps: []string{"internal/edge", "internal/core", "internal/store", "net/http", "example.com/lib"}},
		"internal/edge":  {imports: []string{"internal/core", "example.com/lib/sub"}, deps: []string{"internal/core", "internal/store", "net/http", "example.com/lib/sub"}},
		"internal/core":  {imports: []string{"internal/store"}, deps: []string{"internal/store", "net/http"}, testImports: []string{"example.com/lib"}},
		"internal/store": {imports: []string{"net/http"}, deps: []string{"net/http"}, fileAccess: map[string][]string{"store.go": {"os.Open"}}},
	}
}

// syntheticTables state the synthetic graph exactly.
func syntheticTables() tables {
	return tables{
		imports: map[string][]string{
			"cmd/x":          {"internal/edge"},
			"internal/edge":  {"internal/core"},
			"internal/core":  {"internal/store"},
			"internal/store": {},
		},
		rules: []rule{
			{why: "only the edge speaks HTTP", to: []string{"net/http"}, except: map[string]string{"internal/edge": "serves", "internal/core": "calls", "internal/store": "fetches"}},
			{why: "the store knows no rules", from: []string{"internal/store"}, to: []string{"internal/core", "internal/edge"}},
		},
		modules:    map[string]module{"example.com/lib": {why: "a library", code: []string{"internal/edge"}, tests: []string{"internal/core"}}},
		fileAccess: map[string]string{"internal/store/store.go": "its database"},
		root:       []string{"cmd/x"},
	}
}

func TestCheckerAcceptsAnExactTable(t *testing.T) {
	if problems := check(syntheticGraph(), syntheticTables()); len(problems) > 0 {
		t.Errorf("an exact table got problems:\n%s", strings.Join(problems, "\n"))
	}
}

func TestCheckerReportsEachDifference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(graph, *tables)
		want   string
	}{
		{"unused allowance", func(g graph, tb *tables) { tb.imports["internal/edge"] = []string{"internal/core", "internal/store"} },
			"the import table lets internal/edge import internal/store, which it does not: remove the allowance"},
		{"import not allowed", func(g graph, tb *tables) { tb.imports["internal/core"] = []string{} },
			"internal/core imports internal/store, which its row of the import table does not allow"},
		{"package not in the table", func(g graph, tb *tables) { delete(tb.imports, "internal/core") },
			"internal/core is not in the import table"},
		{"table row for no package", func(g graph, tb *tables) { tb.imports["internal/gone"] = nil },
			"the import table lists internal/gone, which is no package of the module"},
		{"forbidden import", func(g graph, tb *tables) { delete(tb.rules[0].except, "internal/store") },
			"internal/store imports net/http: only the edge speaks HTTP"},
		{"forbidden dependency through another package", func(g graph, tb *tables) { delete(tb.rules[0].except, "internal/core") },
			"internal/core depends on net/http through internal/store: only the edge speaks HTTP"},
		{"a rule binds the composition root when from says so", func(g graph, tb *tables) { tb.rules[0].from = []string{"project"} },
			"cmd/x depends on net/http through internal/edge: only the edge speaks HTTP"},
		{"forbidden reversed layer", func(g graph, tb *tables) {
			g["internal/store"].imports = append(g["internal/store"].imports, "internal/core")
			g["internal/store"].deps = append(g["internal/store"].deps, "internal/core")
			tb.imports["internal/store"] = []string{"internal/core"}
		}, "internal/store imports internal/core: the store knows no rules"},
		{"unneeded exception", func(g graph, tb *tables) { tb.rules[1].except = map[string]string{"internal/store": "why not"} },
			`internal/store needs no exception to "the store knows no rules"`},
		{"rule without a reason", func(g graph, tb *tables) { tb.rules[1].why = "" },
			"rule 1 (to [internal/core internal/edge]) gives no reason"},
		{"exception without a reason", func(g graph, tb *tables) { tb.rules[0].except["internal/core"] = "" },
			`the exception of internal/core to "only the edge speaks HTTP" gives no reason`},
		{"module not in the table", func(g graph, tb *tables) { delete(tb.modules, "example.com/lib") },
			"internal/edge (code) imports example.com/lib/sub, whose module is not in the module table"},
		{"module imported by a package not listed", func(g graph, tb *tables) {
			tb.modules["example.com/lib"] = module{why: "a library", code: []string{"internal/edge"}}
		},
			"internal/core (tests) imports example.com/lib, which the module table allows only to []"},
		{"unused module allowance", func(g graph, tb *tables) {
			tb.modules["example.com/lib"] = module{why: "a library", code: []string{"internal/edge", "internal/store"}, tests: []string{"internal/core"}}
		}, "the module table lets internal/store (code) import example.com/lib, which it does not"},
		{"file access not listed", func(g graph, tb *tables) { tb.fileAccess = map[string]string{} },
			"internal/store/store.go calls os.Open"},
		{"file access listed but unused", func(g graph, tb *tables) { tb.fileAccess["internal/core"] = "none" },
			"fileAccess lists internal/core, which touches no file: remove it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, tb := syntheticGraph(), syntheticTables()
			tc.change(g, &tb)
			problems := check(g, tb)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, tc.want) }) {
				t.Errorf("want a problem starting %q, got:\n%s", tc.want, strings.Join(problems, "\n"))
			}
		})
	}
}

func TestCheckerDirectRuleIgnoresTransitiveDependencies(t *testing.T) {
	g, tb := syntheticGraph(), syntheticTables()
	tb.rules[0].direct = true
	tb.rules[0].except = map[string]string{"internal/store": "fetches"}
	if problems := check(g, tb); len(problems) > 0 {
		t.Errorf("a direct rule reported dependencies that are not imports:\n%s", strings.Join(problems, "\n"))
	}
}

func TestScanFileAccessFindsRenamedImports(t *testing.T) {
	dir := t.TempDir()
	src := `package p

import (
	stdos "os"
	"path/filepath"
)

func f(r *stdos.Root) {
	stdos.ReadFile("x")
	filepath.WalkDir(".", nil)
	r.Open("y")       // a root someone opened: allowed
	filepath.Join("a") // no file touched
}
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := scanFileAccess(dir, []string{"p.go"}, fsCalls)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"filepath.WalkDir", "stdos.ReadFile"}; !slices.Equal(got["p.go"], want) {
		t.Errorf("got %v, want %v", got["p.go"], want)
	}
}

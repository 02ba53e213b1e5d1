package internal_test

// The checker behind TestLayering: it loads the package graph with
// `go list` and compares it with the tables of layering_test.go. It is
// kept apart from the tables so that the tables read as the rule they
// state, and so that it can be tested on a graph made up for the purpose.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const modulePath = "github.com/panelftp/panelftp"

// graph is what the checker knows of the module: its packages by path
// relative to the module ("internal/web", "cmd/panelftp").
type graph map[string]*pkg

type pkg struct {
	imports     []string            // direct imports of the non-test code
	deps        []string            // every package the non-test code depends on, as `go list -deps` lists it
	testImports []string            // direct imports of the tests (in-package and external)
	fileAccess  map[string][]string // file name → the filesystem calls it makes ("os.Open")
}

// rule forbids some packages to depend on others. A package of from
// (every package but the composition root when from is empty) must not
// depend on a package matched by to, unless except names it with its
// reason. Patterns: a path relative to the module or an import path;
// "x/..." matches x and the packages below it; "project" matches every
// package of the module and "third-party" every package outside the
// module and the standard library.
type rule struct {
	why    string
	from   []string
	to     []string
	except map[string]string // an exception that nothing needs is reported
	direct bool              // direct imports only; otherwise every transitive dependency
}

// module lists the packages that may import a third-party module, in
// their code and in their tests.
type module struct {
	why   string
	code  []string
	tests []string
}

// tables are the layering as layering_test.go states it.
type tables struct {
	imports    map[string][]string // for each package, exactly the module's packages its code imports
	rules      []rule
	modules    map[string]module // by module path
	fileAccess map[string]string // package or package/file.go → why it may touch the filesystem
	root       []string          // the composition root: it may know everything, rules do not bind it
}

// check returns every difference between the graph and the tables.
func check(g graph, t tables) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkImports(g, t, report)
	for _, r := range t.rules {
		checkRule(g, t, r, report)
	}
	checkModules(g, t, report)
	checkFileAccess(g, t, report)
	checkReasons(t, report)
	slices.Sort(problems)
	return problems
}

func checkImports(g graph, t tables, report func(string, ...any)) {
	for _, name := range sortedKeys(g) {
		allowed, ok := t.imports[name]
		if !ok {
			report("%s is not in the import table: add it with the packages it imports", name)
			continue
		}
		var used []string
		for _, imp := range g[name].imports {
			if _, own := g[imp]; !own {
				continue
			}
			used = append(used, imp)
			if !slices.Contains(allowed, imp) {
				report("%s imports %s, which its row of the import table does not allow", name, imp)
			}
		}
		for _, a := range allowed {
			if !slices.Contains(used, a) {
				report("the import table lets %s import %s, which it does not: remove the allowance", name, a)
			}
		}
	}
	for name := range t.imports {
		if _, ok := g[name]; !ok {
			report("the import table lists %s, which is no package of the module", name)
		}
	}
}

func checkRule(g graph, t tables, r rule, report func(string, ...any)) {
	needed := map[string]bool{}
	for _, name := range sortedKeys(g) {
		if len(r.from) == 0 && slices.Contains(t.root, name) || len(r.from) > 0 && !matchesAny(g, r.from, name) {
			continue
		}
		p := g[name]
		deps := p.deps
		if r.direct {
			deps = p.imports
		}
		for _, dep := range deps {
			if !matchesAny(g, r.to, dep) {
				continue
			}
			if _, ok := r.except[name]; ok {
				needed[name] = true
				continue
			}
			if r.direct || slices.Contains(p.imports, dep) {
				report("%s imports %s: %s", name, dep, r.why)
			} else {
				report("%s depends on %s%s: %s", name, dep, through(g, p, dep), r.why)
			}
		}
	}
	for name := range r.except {
		if !needed[name] {
			report("%s needs no exception to %q (it does not depend on %v): remove it", name, r.why, r.to)
		}
	}
}

// through names the direct import of p by which it reaches dep.
func through(g graph, p *pkg, dep string) string {
	for _, imp := range p.imports {
		if q, ok := g[imp]; ok && slices.Contains(q.deps, dep) {
			return " through " + imp
		}
	}
	return " through the packages it imports"
}

func checkModules(g graph, t tables, report func(string, ...any)) {
	used := map[string]bool{}
	for _, name := range sortedKeys(g) {
		p := g[name]
		for _, kind := range []struct {
			imports []string
			what    string
			allowed func(module) []string
		}{
			{p.imports, "code", func(m module) []string { return m.code }},
			{p.testImports, "tests", func(m module) []string { return m.tests }},
		} {
			for _, imp := range kind.imports {
				if !isThirdParty(g, imp) {
					continue
				}
				path, m, ok := moduleOf(t.modules, imp)
				switch {
				case !ok:
					report("%s (%s) imports %s, whose module is not in the module table", name, kind.what, imp)
				case !slices.Contains(kind.allowed(m), name):
					report("%s (%s) imports %s, which the module table allows only to %v", name, kind.what, imp, kind.allowed(m))
				default:
					used[path+" "+kind.what+" "+name] = true
				}
			}
		}
	}
	for path, m := range t.modules {
		for _, kind := range []struct {
			names []string
			what  string
		}{{m.code, "code"}, {m.tests, "tests"}} {
			for _, name := range kind.names {
				if !used[path+" "+kind.what+" "+name] {
					report("the module table lets %s (%s) import %s, which it does not: remove the allowance", name, kind.what, path)
				}
			}
		}
	}
}

func moduleOf(modules map[string]module, imp string) (string, module, bool) {
	best := ""
	for path := range modules {
		if matches(path+"/...", imp) && len(path) > len(best) {
			best = path
		}
	}
	return best, modules[best], best != ""
}

func checkFileAccess(g graph, t tables, report func(string, ...any)) {
	used := map[string]bool{}
	for _, name := range sortedKeys(g) {
		files := g[name].fileAccess
		for _, file := range sortedKeys(files) {
			switch key := name + "/" + file; {
			case t.fileAccess[name] != "":
				used[name] = true
			case t.fileAccess[key] != "":
				used[key] = true
			default:
				report("%s calls %s: files are reached through jail (homes), the store (its database) or the composition root; "+
					"if this file must, list it with its reason in fileAccess", key, strings.Join(files[file], ", "))
			}
		}
	}
	for key := range t.fileAccess {
		if !used[key] {
			report("fileAccess lists %s, which touches no file: remove it", key)
		}
	}
}

// checkReasons: every rule, exception and allowance says why.
func checkReasons(t tables, report func(string, ...any)) {
	for i, r := range t.rules {
		if r.why == "" {
			report("rule %d (to %v) gives no reason", i, r.to)
		}
		for name, why := range r.except {
			if why == "" {
				report("the exception of %s to %q gives no reason", name, r.why)
			}
		}
	}
	for path, m := range t.modules {
		if m.why == "" {
			report("the module table gives no reason for %s", path)
		}
	}
	for key, why := range t.fileAccess {
		if why == "" {
			report("fileAccess gives no reason for %s", key)
		}
	}
}

func matchesAny(g graph, patterns []string, name string) bool {
	for _, p := range patterns {
		switch p {
		case "project":
			if _, ok := g[name]; ok {
				return true
			}
		case "third-party":
			if isThirdParty(g, name) {
				return true
			}
		default:
			if matches(p, name) {
				return true
			}
		}
	}
	return false
}

func matches(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return name == prefix || strings.HasPrefix(name, prefix+"/")
	}
	return name == pattern
}

// isThirdParty: the standard library's paths have no dot in their first
// element, and the module's own packages are in the graph.
func isThirdParty(g graph, name string) bool {
	if _, own := g[name]; own {
		return false
	}
	first, _, _ := strings.Cut(name, "/")
	return strings.Contains(first, ".")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// loadGraph lists the module's packages with `go list` run in dir, the
// module's root, and scans their non-test files for filesystem calls.
func loadGraph(dir string, fsCalls map[string][]string) (graph, error) {
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Dir,GoFiles,Imports,Deps,TestImports,XTestImports,Error", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.Bytes())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Dir                                   string
			GoFiles, Imports, Deps, TestImports, XTestImports []string
			Error                                             *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		if len(p.GoFiles) == 0 {
			continue // tests only, like this package
		}
		access, err := scanFileAccess(p.Dir, p.GoFiles, fsCalls)
		if err != nil {
			return nil, err
		}
		g[relative(p.ImportPath)] = &pkg{
			imports:     relativeAll(p.Imports),
			deps:        relativeAll(p.Deps),
			testImports: relativeAll(append(p.TestImports, p.XTestImports...)),
			fileAccess:  access,
		}
	}
	return g, nil
}

// relativeAll names the module's packages relative to it, and drops the
// standard library's internal packages, which no code can import.
func relativeAll(paths []string) []string {
	var out []string
	for _, p := range paths {
		if strings.HasPrefix(p, "internal/") || strings.HasPrefix(p, "vendor/") {
			continue
		}
		out = append(out, relative(p))
	}
	return out
}

func relative(path string) string {
	if rel, ok := strings.CutPrefix(path, modulePath+"/"); ok {
		return rel
	}
	return path
}

// scanFileAccess finds, in each file, the calls of fsCalls's functions:
// the selector expressions pkg.Func where pkg names one of its imports.
func scanFileAccess(dir string, files []string, fsCalls map[string][]string) (map[string][]string, error) {
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, file), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		names := map[string]string{} // local name → import path, for the paths of fsCalls
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			if _, ok := fsCalls[path]; !ok {
				continue
			}
			local := filepath.Base(path)
			if spec.Name != nil {
				local = spec.Name.Name
			}
			names[local] = path
		}
		if len(names) == 0 {
			continue
		}
		seen := map[string]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			path, ok := names[id.Name]
			if ok && slices.Contains(fsCalls[path], sel.Sel.Name) && !seen[id.Name+"."+sel.Sel.Name] {
				seen[id.Name+"."+sel.Sel.Name] = true
				out[file] = append(out[file], id.Name+"."+sel.Sel.Name)
			}
			return true
		})
		slices.Sort(out[file])
	}
	return out, nil
}

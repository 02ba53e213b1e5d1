package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPIDoc is the part of an OpenAPI 3.1 document the tests check.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Servers    []struct{ URL string }                `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]docParam  `json:"parameters"`
		Schemas    map[string]docSchema `json:"schemas"`
	} `json:"components"`
}

type docParam struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type docSchema struct {
	Ref                  string                     `json:"$ref"`
	Properties           map[string]json.RawMessage `json:"properties"`
	Required             []string                   `json:"required"`
	AdditionalProperties *bool                      `json:"additionalProperties"`
}

type docOperation struct {
	Parameters  []docParam `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct{ Schema docSchema } `json:"content"`
	} `json:"requestBody"`
	Responses map[string]json.RawMessage `json:"responses"`
	Security  *[]map[string][]string     `json:"security"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadDoc(t *testing.T) openAPIDoc {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(openAPI))
	var d openAPIDoc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return d
}

// operation returns the operation of path (below Prefix) and method.
func (d openAPIDoc) operation(path, method string) (docOperation, bool) {
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return docOperation{}, false
	}
	var op docOperation
	if err := json.Unmarshal(raw, &op); err != nil {
		panic("openapi.json: operation " + method + " " + path + ": " + err.Error())
	}
	return op, true
}

// params returns the names of the path's and operation's parameters in
// where ("path" or "query"), $refs resolved, sorted.
func (d openAPIDoc) params(t *testing.T, path string, op docOperation, where string) []string {
	t.Helper()
	var shared []docParam
	if raw, ok := d.Paths[path]["parameters"]; ok {
		if err := json.Unmarshal(raw, &shared); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, p := range append(shared, op.Parameters...) {
		if p.Ref != "" {
			var ok bool
			if p, ok = d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]; !ok {
				t.Fatalf("%s: unresolved parameter %s", path, p.Ref)
			}
		}
		if p.In == where {
			names = append(names, p.Name)
			if where == "path" && !p.Required {
				t.Errorf("%s: path parameter %s must be required", path, p.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	d := loadDoc(t)
	if d.OpenAPI != "3.1.0" || len(d.Servers) != 1 || d.Servers[0].URL != Prefix {
		t.Fatalf("openapi %q, servers %v: want 3.1.0 on %s", d.OpenAPI, d.Servers, Prefix)
	}
	for _, rt := range (&server{}).routes() {
		name := rt.method + " " + rt.path
		op, ok := d.operation(rt.path, rt.method)
		if !ok {
			t.Errorf("route %s is not in openapi.json", name)
			continue
		}
		var want []string
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			want = append(want, m[1])
		}
		slices.Sort(want)
		if got := d.params(t, rt.path, op, "path"); !slices.Equal(got, want) {
			t.Errorf("%s: documented path parameters %v, route has %v", name, got, want)
		}
		wantQuery := slices.Sorted(slices.Values(rt.query))
		if got := d.params(t, rt.path, op, "query"); !slices.Equal(got, wantQuery) {
			t.Errorf("%s: documented query parameters %v, route takes %v", name, got, wantQuery)
		}
		public := op.Security != nil && len(*op.Security) == 0
		if public != rt.public {
			t.Errorf("%s: documented as public=%v, route public=%v", name, public, rt.public)
		}
		if _, ok := op.Responses["401"]; !rt.public && !ok {
			t.Errorf("%s needs a token but documents no 401", name)
		}
		hasBody := rt.method == http.MethodPost || rt.method == http.MethodPatch
		if (op.RequestBody != nil) != hasBody {
			t.Errorf("%s: documented request body %v, route reads one %v", name, op.RequestBody != nil, hasBody)
		}
	}
}

func TestOpenAPIHasNoOperationWithoutRoute(t *testing.T) {
	t.Parallel()
	d := loadDoc(t)
	routes := map[string]bool{}
	for _, rt := range (&server{}).routes() {
		routes[strings.ToLower(rt.method)+" "+rt.path] = true
	}
	for path, item := range d.Paths {
		for key := range item {
			if key == "parameters" || key == "summary" || key == "description" {
				continue
			}
			if !slices.Contains(httpMethods, key) {
				t.Errorf("%s: unexpected key %q", path, key)
				continue
			}
			if !routes[key+" "+path] {
				t.Errorf("openapi.json documents %s %s, which the route table does not serve", strings.ToUpper(key), path)
			}
		}
	}
}

// TestOpenAPISchemasMatchGoTypes keeps each schema's properties equal to
// the JSON fields of the Go type the handlers read or write.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	t.Parallel()
	d := loadDoc(t)
	types := map[string]any{
		"Account": accountJSON{}, "FTPUser": ftpUserJSON{}, "Connection": sessionJSON{},
		"Kick": kickJSON{}, "Error": errorBody{},
		"AccountCreate": accountCreate{}, "AccountPatch": accountPatch{},
		"FTPUserCreate": ftpUserCreate{}, "FTPUserPatch": ftpUserPatch{},
	}
	lists := map[string]string{"AccountList": "accounts", "FTPUserList": "ftp_users", "ConnectionList": "connections"}
	for name, schema := range d.Components.Schemas {
		if key, ok := lists[name]; ok {
			if got := slices.Sorted(maps.Keys(schema.Properties)); !slices.Equal(got, []string{key}) {
				t.Errorf("schema %s has properties %v, want [%s]", name, got, key)
			}
			continue
		}
		v, ok := types[name]
		if !ok {
			t.Errorf("schema %s matches no Go type of the handlers", name)
			continue
		}
		typ := reflect.TypeOf(v)
		fields := slices.Sorted(slices.Values(jsonFields(typ)))
		if got := slices.Sorted(maps.Keys(schema.Properties)); !slices.Equal(got, fields) {
			t.Errorf("schema %s has properties\n%v\nGo type %s has\n%v", name, got, typ.Name(), fields)
		}
		input := strings.HasSuffix(name, "Create") || strings.HasSuffix(name, "Patch")
		if input && (schema.AdditionalProperties == nil || *schema.AdditionalProperties) {
			t.Errorf("schema %s must say additionalProperties: false: the handlers refuse unknown fields", name)
		}
		if !input {
			if want := alwaysSent(typ); !slices.Equal(slices.Sorted(slices.Values(schema.Required)), want) {
				t.Errorf("schema %s requires %v; the handlers always send %v", name, schema.Required, want)
			}
		}
	}
	for name := range types {
		if _, ok := d.Components.Schemas[name]; !ok {
			t.Errorf("openapi.json lacks schema %s", name)
		}
	}
}

// alwaysSent lists the JSON fields without omitempty, sorted.
func alwaysSent(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && !strings.Contains(opts, "omitempty") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestRouteTableIsWhatIsServed sends every route of the table without a
// token: a registered route answers 401 (or, if public, 200), where an
// unregistered one would get the JSON 404 or 405. Every other method on
// the same path gets 405 with an Allow header listing the table's methods.
func TestRouteTableIsWhatIsServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	allowed := map[string][]string{}
	for _, rt := range (&server{}).routes() {
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		path := Prefix + pathParam.ReplaceAllString(rt.path, "x")
		r := e.doAuth(rt.method, path, nil, "")
		switch {
		case rt.public:
			r.want(t, http.StatusOK)
		default:
			r.wantError(t, http.StatusUnauthorized, "missing_token", "", "")
		}
	}
	for path, methods := range allowed {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if slices.Contains(methods, m) {
				continue
			}
			r := e.do(m, Prefix+pathParam.ReplaceAllString(path, "x"), nil)
			r.wantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "", "")
			allow := strings.Split(r.header.Get("Allow"), ", ")
			want := slices.Clone(methods)
			if slices.Contains(want, http.MethodGet) {
				want = append(want, http.MethodHead)
			}
			slices.Sort(allow)
			slices.Sort(want)
			if !slices.Equal(allow, want) {
				t.Errorf("%s %s: Allow %v, want %v", m, path, allow, want)
			}
		}
	}
}

func TestOpenAPIDocumentIsServedWithoutToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.doAuth(http.MethodGet, Prefix+"/openapi.json", nil, "").want(t, http.StatusOK)
	if !bytes.Equal(r.body, openAPI) {
		t.Error("served document differs from the embedded one")
	}
	if r.json(t)["openapi"] != "3.1.0" {
		t.Errorf("not an OpenAPI 3.1 document")
	}
}

package api

import (
	"net/http"
	"slices"
	"strings"
)

// route is one entry of the API's single route table: New registers it,
// and the tests check the OpenAPI document against it in both directions.
type route struct {
	method string
	// path is a ServeMux pattern path below Prefix, as in the document.
	path   string
	handle func(http.ResponseWriter, *http.Request) error
	// query lists the accepted query parameters; any other is refused, so
	// a typo such as ?acount=bob cannot silently widen a listing.
	query []string
	// public routes need no token.
	public bool
	// account routes may be called with a token limited to an account,
	// for that account only (see route.scope).
	account bool
	// fields renames the service's field names in refusals to the JSON
	// names this route's body uses.
	fields map[string]string
}

var (
	// accountFields: the service names an account's name "account" and
	// checks the panel password under "password".
	accountFields = map[string]string{"account": "name", "password": "panel_password", "quota": "quota_mb"}
	ftpUserFields = map[string]string{"quota": "quota_mb"}
)

func (s *server) routes() []route {
	const (
		get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
		account               = "/accounts/{account}"
		ftpUser               = account + "/ftp-users/{username}"
	)
	return []route{
		{method: get, path: "/accounts", handle: s.listAccounts},
		{method: post, path: "/accounts", handle: s.createAccount, fields: accountFields},
		{method: get, path: account, handle: s.getAccount, account: true},
		{method: patch, path: account, handle: s.patchAccount, fields: accountFields},
		{method: del, path: account, handle: s.deleteAccount, query: []string{"force"}},

		{method: get, path: account + "/ftp-users", handle: s.listAccountFTPUsers, account: true},
		{method: post, path: account + "/ftp-users", handle: s.createFTPUser, fields: ftpUserFields, account: true},
		{method: get, path: ftpUser, handle: s.getFTPUser, account: true},
		{method: patch, path: ftpUser, handle: s.patchFTPUser, fields: ftpUserFields, account: true},
		{method: del, path: ftpUser, handle: s.deleteFTPUser, account: true},
		{method: get, path: "/ftp-users", handle: s.listAllFTPUsers, query: []string{"account"}, account: true},

		{method: get, path: "/connections", handle: s.listConnections, query: []string{"account"}, account: true},
		{method: del, path: "/connections/{id}", handle: s.kickConnection, query: []string{"account"}, account: true},

		{method: get, path: "/openapi.json", handle: serveOpenAPI, public: true},
	}
}

// checkQuery refuses query parameters the route does not take.
func (rt route) checkQuery(r *http.Request) error {
	for name := range r.URL.Query() {
		if !slices.Contains(rt.query, name) {
			if len(rt.query) == 0 {
				return badRequest(name, "unknown query parameter %q: this request takes none", name)
			}
			return badRequest(name, "unknown query parameter %q: this request takes %s", name, strings.Join(rt.query, ", "))
		}
	}
	return nil
}

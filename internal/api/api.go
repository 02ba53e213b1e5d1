// Package api owns panelftp's JSON REST API for administrators and their
// automation: accounts, FTP sub-users and live connections under /api/v1/.
// It calls the service layer only; every rule and every refusal message
// comes from there, and this package translates them to HTTP.
//
// Authentication is a bearer token (RFC 6750) created with "panelftp admin
// token": an administrator's token reaches every route; an account's
// token (--account) only its own account's FTP users and connections, and
// gets 403 elsewhere and 404 for another account. A missing, unknown,
// revoked or expired token gets 401 with a WWW-Authenticate challenge.
// Only the OpenAPI 3.1 document (GET /api/v1/openapi.json) is public: it
// describes routes, not data.
//
// Refusals are JSON {"error", "code", "field", "hint"}. Status codes follow
// RFC 9110: 400 for a body that is not the JSON the route takes (with what to
// fix), 401 without a valid token, 404 for an unknown account, FTP user,
// session or route, 405 (with Allow) for a wrong method, 409 for a duplicate
// or a full FTP sub-user limit, 413 for a body over 1 MiB, 422 for input that
// breaks a product rule, 403 for a route an account token may not use. Passwords are never echoed or logged; every
// mutating call is logged with its token ID, route and status.
package api

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
)

// Prefix is where the API lives. New's handler expects full request paths,
// so mount it at Prefix + "/" without http.StripPrefix.
const Prefix = "/api/v1"

type server struct {
	svc Service
	log *slog.Logger
}

// New returns the API handler for every path under /api/v1/. A nil log
// means slog.Default().
func New(svc Service, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	s := &server{svc: svc, log: log}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+Prefix+rt.path, s.wrap(rt))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// A pattern without a method loses to the ones with a method, so these
	// catch exactly the wrong methods of known paths, and answer in JSON
	// where ServeMux would answer in plain text.
	for path, methods := range allowed {
		mux.Handle(Prefix+path, methodNotAllowed(methods))
	}
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Code: "not_found",
			Error: "no API route " + r.Method + " " + r.URL.Path,
			Hint:  "the routes are listed in " + Prefix + "/openapi.json"})
	})
	return mux
}

func methodNotAllowed(methods []string) http.Handler {
	if slices.Contains(methods, http.MethodGet) {
		methods = append(slices.Clone(methods), http.MethodHead)
	}
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Code: "method_not_allowed",
			Error: "method " + r.Method + " is not allowed on " + r.URL.Path + ": use " + allow})
	})
}

// wrap gives a route its authentication, body limit, error translation,
// panic recovery and audit log line.
func (s *server) wrap(rt route) http.Handler {
	mutating := rt.method != http.MethodGet
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		tokenID := ""
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p) // net/http's way to drop the connection on purpose
				}
				s.log.Error("API handler panicked", "route", rt.method+" "+rt.path, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.fail(rec, r, rt, &apiError{status: http.StatusInternalServerError, code: "internal", msg: internalMsg})
				}
			}
			if mutating {
				s.log.Info("API call", "token", tokenID, "method", r.Method, "route", Prefix+rt.path,
					"path", r.URL.Path, "status", rec.status, "remote", r.RemoteAddr)
			}
		}()
		if err := s.serve(rt, rec, r, &tokenID); err != nil {
			s.fail(rec, r, rt, err)
		}
	})
}

// serve authenticates r, checks its query and runs the route's handler.
func (s *server) serve(rt route, w http.ResponseWriter, r *http.Request, tokenID *string) error {
	var account string // the token's scope; "" for an administrator's
	if !rt.public {
		tok, err := s.authenticate(r)
		if err != nil {
			return err
		}
		*tokenID, account = tok.ID, tok.Account
	}
	if err := rt.checkQuery(r); err != nil {
		return err
	}
	if account != "" {
		var err error
		if r, err = rt.scope(r, account); err != nil {
			return err
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	return rt.handle(w, r)
}

// fail writes err as a JSON refusal.
func (s *server) fail(w http.ResponseWriter, r *http.Request, rt route, err error) {
	status, body, ok := errorResponse(err, rt.fields)
	if !ok {
		s.log.Error("API call failed", "route", rt.method+" "+rt.path, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", challenge(body.Code))
	}
	switch body.Code {
	case "busy":
		w.Header().Set("Retry-After", "1")
	case "unavailable":
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, body)
}

// recorder remembers the status for the audit log.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

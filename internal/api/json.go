package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
)

// maxBody bounds every request body; the largest legitimate one (a new FTP
// user with a 1 KiB path) is far below it.
const maxBody = 1 << 20

// internalMsg answers every unexpected failure; the detail goes to the log.
const internalMsg = "internal error: the server log has the details"

// unavailableMsg answers while the database does not answer.
const unavailableMsg = "the database is not answering right now: the server log has the details"

// apiError is a refusal decided at the HTTP edge (bad JSON, no token, wrong
// method) rather than by the service.
type apiError struct {
	status int
	code   string
	msg    string
	field  string
	hint   string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "bad_request", field: field, msg: fmt.Sprintf(format, args...)}
}

// hinted adds advice for an API client to a service refusal whose message
// speaks the CLI's language (e.g. "--force").
type hinted struct {
	error
	hint string
}

func (h hinted) Unwrap() error { return h.error }

// errorBody is the JSON shape of every refusal.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	Hint  string `json:"hint,omitempty"`
	// Errors lists each field at fault when there are several; Error and
	// Field then describe them all and the first.
	Errors []fieldError `json:"errors,omitempty"`
}

// fieldError is one of several refusals of a request.
type fieldError struct {
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// statusOf translates a domain refusal into an HTTP status and code.
// LimitReached is 409, not 403: the request conflicts with the account's
// current state (its limit is full), and the admin calling may change it.
func statusOf(kind domain.Kind) (int, string) {
	switch kind {
	case domain.Invalid:
		return http.StatusUnprocessableEntity, "invalid"
	case domain.NotFound:
		return http.StatusNotFound, "not_found"
	case domain.Conflict:
		return http.StatusConflict, "conflict"
	case domain.LimitReached:
		return http.StatusConflict, "limit_reached"
	case domain.Forbidden:
		return http.StatusForbidden, "forbidden"
	}
	return http.StatusInternalServerError, "internal"
}

// errorResponse builds the status and body for err. fields renames the
// service's field names to the JSON names of the route's input. ok is false
// for an unexpected error, whose detail must go to the log, not the client.
func errorResponse(err error, fields map[string]string) (status int, body errorBody, ok bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, errorBody{Error: ae.msg, Code: ae.code, Field: ae.field, Hint: ae.hint}, true
	}
	if errors.Is(err, domain.ErrBusy) {
		return http.StatusServiceUnavailable, errorBody{Error: err.Error(), Code: "busy",
			Hint: "the server is checking many passwords at once: retry in a second"}, true
	}
	if errors.Is(err, domain.ErrUnavailable) {
		// ok is false: the database's own error goes to the log only.
		return http.StatusServiceUnavailable, errorBody{Error: unavailableMsg, Code: "unavailable",
			Hint: "retry after the seconds Retry-After gives; a change may or may not have been saved, so read before you repeat it"}, false
	}
	kind := domain.KindOf(err)
	if kind == 0 {
		return http.StatusInternalServerError, errorBody{Error: internalMsg, Code: "internal"}, false
	}
	status, code := statusOf(kind)
	field := domain.FieldOf(err)
	if f, ok := fields[field]; ok {
		field = f
	}
	var h hinted
	errors.As(err, &h)
	body = errorBody{Error: err.Error(), Code: code, Field: field, Hint: h.hint}
	if all := domain.Refusals(err); len(all) > 1 {
		msgs := make([]string, len(all))
		for i, r := range all {
			f := r.Field
			if renamed, ok := fields[f]; ok {
				f = renamed
			}
			body.Errors = append(body.Errors, fieldError{Field: f, Error: r.Msg})
			msgs[i] = r.Msg
		}
		body.Error = strings.Join(msgs, "; ")
	}
	return status, body, true
}

// writeJSON sends v with status. Responses are never cached: they describe
// live, admin-only state.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads exactly one JSON object into dst, refusing unknown fields,
// wrong types, trailing data and bodies over maxBody (the caller has
// wrapped r.Body in http.MaxBytesReader).
func decode(r *http.Request, dst any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, dst)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err, dst)
		}
		return badRequest("", "request body has more after the JSON object: send exactly one object")
	}
	return nil
}

func decodeError(err error, dst any) error {
	var (
		tooBig    *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	fields := strings.Join(jsonFields(reflect.TypeOf(dst)), ", ")
	switch {
	case errors.As(err, &tooBig):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: fmt.Sprintf("request body is larger than %d bytes: send only the fields to set", maxBody)}
	case errors.Is(err, io.EOF):
		return badRequest("", "request body is empty: send a JSON object with the fields %s", fields)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "request body ends in the middle of the JSON: send a complete object")
	case errors.As(err, &syntax):
		return badRequest("", "request body is not valid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &wrongType) && wrongType.Field == "":
		return badRequest("", "request body must be a JSON object, not %s", article(wrongType.Value))
	case errors.As(err, &wrongType):
		return badRequest(wrongType.Field, "field %s must be %s, not %s", wrongType.Field, jsonKind(wrongType.Type), article(wrongType.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return badRequest(name, "unknown field %q: this request accepts %s", name, fields)
	}
	return badRequest("", "request body could not be read: %v", err)
}

// jsonKind names the JSON value a Go field type expects.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	}
	return "a " + t.Kind().String()
}

// article turns json's value description ("string", "number 1.5") into
// prose.
func article(v string) string {
	switch {
	case strings.HasPrefix(v, "number"):
		return "a " + v
	case v == "object" || v == "array":
		return "an " + v
	case v == "bool":
		return "true or false"
	}
	return "a " + v
}

// jsonFields lists the JSON names of a struct's fields, in order.
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

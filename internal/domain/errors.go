// Package domain holds panelftp's data model — accounts, FTP sub-users,
// live sessions, administrators, API tokens, bans and what an FTP log-in
// decides — and every rule of the product brief, with the errors that
// explain a broken rule or a refused log-in. The service and every edge
// share these types. It imports only the standard library.
package domain

import (
	"errors"
	"fmt"
)

// Kind says what sort of refusal an Error is, so that each edge (CLI exit
// code, HTTP status, FTP reply) can translate it without parsing messages.
type Kind int

const (
	// Invalid: the input breaks a rule; the message says what to change.
	Invalid Kind = iota + 1
	// NotFound: the named account, sub-user or session does not exist.
	NotFound
	// Conflict: the thing already exists (a duplicate name).
	Conflict
	// LimitReached: the account's FTP sub-user limit is full.
	LimitReached
	// Forbidden: the caller may not touch this object.
	Forbidden
	// Unavailable: the database cannot answer right now; nothing is known
	// about the request's object, and the same request may work in a
	// moment.
	Unavailable
)

// Error is a refusal with a message meant for the person who asked.
// Field names the input at fault ("username", "password", "path", ...) so
// forms can show the message next to it; it may be empty.
type Error struct {
	Kind  Kind
	Field string
	Msg   string
	// Err is the cause, for the log (Unavailable wraps the database's
	// error); it is not part of the message.
	Err error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, domain.ErrNotFound) match on kind alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Field == "" && t.Err == nil && t.Kind == e.Kind
}

// Sentinels to compare against with errors.Is.
var (
	ErrInvalid      = &Error{Kind: Invalid}
	ErrNotFound     = &Error{Kind: NotFound}
	ErrConflict     = &Error{Kind: Conflict}
	ErrLimitReached = &Error{Kind: LimitReached}
	ErrForbidden    = &Error{Kind: Forbidden}
	ErrUnavailable  = &Error{Kind: Unavailable}
)

func invalid(field, format string, args ...any) error {
	return &Error{Kind: Invalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf builds a NotFound error.
func NotFoundf(format string, args ...any) error {
	return &Error{Kind: NotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflictf builds a Conflict error for field.
func Conflictf(field, format string, args ...any) error {
	return &Error{Kind: Conflict, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// UnavailableErr says that the database could not answer, keeping its
// error as the cause.
func UnavailableErr(cause error) error {
	return &Error{Kind: Unavailable, Msg: "the database is unavailable: " + cause.Error(), Err: cause}
}

// KindOf returns the Kind of err, or 0 when err is not a domain refusal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// FieldOf returns the input field err is about, or "".
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Refusals lists every *Error in err, in order, looking inside errors
// joined with errors.Join: a form shows each beside its own field. A
// refusal's Kind and Field are those of the first (KindOf, FieldOf).
func Refusals(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *Error:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

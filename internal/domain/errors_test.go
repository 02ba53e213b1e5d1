package domain_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestErrorsIsByKind(t *testing.T) {
	sentinels := map[domain.Kind]error{
		domain.Invalid:      domain.ErrInvalid,
		domain.NotFound:     domain.ErrNotFound,
		domain.Conflict:     domain.ErrConflict,
		domain.LimitReached: domain.ErrLimitReached,
		domain.Forbidden:    domain.ErrForbidden,
	}
	_, invalidName := domain.NormalizeUsername("x", "bob")
	made := []struct {
		name  string
		err   error
		kind  domain.Kind
		field string
	}{
		{"rule refusal", invalidName, domain.Invalid, "username"},
		{"NotFoundf", domain.NotFoundf("account %s does not exist", "bob"), domain.NotFound, ""},
		{"Conflictf", domain.Conflictf("username", "FTP username %s already exists", "dev.bob"), domain.Conflict, "username"},
		{"literal limit", &domain.Error{Kind: domain.LimitReached, Field: "username", Msg: "full"}, domain.LimitReached, "username"},
		{"literal forbidden", &domain.Error{Kind: domain.Forbidden, Msg: "not yours"}, domain.Forbidden, ""},
	}
	for _, tc := range made {
		wrapped := map[string]error{
			"bare":          tc.err,
			"wrapped":       fmt.Errorf("adding user: %w", tc.err),
			"twice":         fmt.Errorf("cli: %w", fmt.Errorf("service: %w", tc.err)),
			"joined":        errors.Join(errors.New("other"), tc.err),
			"multi-wrap %w": fmt.Errorf("%w and %w", fs.ErrClosed, tc.err),
		}
		for how, err := range wrapped {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				for kind, sentinel := range sentinels {
					if got, want := errors.Is(err, sentinel), kind == tc.kind; got != want {
						t.Errorf("errors.Is(err, sentinel of kind %d) = %v, want %v", kind, got, want)
					}
				}
				if got := domain.KindOf(err); got != tc.kind {
					t.Errorf("KindOf = %d, want %d", got, tc.kind)
				}
				if got := domain.FieldOf(err); got != tc.field {
					t.Errorf("FieldOf = %q, want %q", got, tc.field)
				}
			})
		}
	}
}

func TestErrorMessageIsTheMsg(t *testing.T) {
	err := domain.NotFoundf("FTP user %s does not exist in account %s", "dev.bob", "bob")
	if got, want := err.Error(), "FTP user dev.bob does not exist in account bob"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("web: %w", err)
	if got, want := wrapped.Error(), "web: FTP user dev.bob does not exist in account bob"; got != want {
		t.Fatalf("wrapped Error() = %q, want %q", got, want)
	}
}

func TestNotADomainError(t *testing.T) {
	for name, err := range map[string]error{
		"nil":     nil,
		"plain":   errors.New("disk on fire"),
		"wrapped": fmt.Errorf("x: %w", fs.ErrNotExist),
	} {
		t.Run(name, func(t *testing.T) {
			if got := domain.KindOf(err); got != 0 {
				t.Errorf("KindOf = %d, want 0", got)
			}
			if got := domain.FieldOf(err); got != "" {
				t.Errorf("FieldOf = %q, want \"\"", got)
			}
			for _, s := range []error{domain.ErrInvalid, domain.ErrNotFound, domain.ErrConflict, domain.ErrLimitReached, domain.ErrForbidden} {
				if errors.Is(err, s) {
					t.Errorf("errors.Is(%v, %v) = true", err, s)
				}
			}
		})
	}
}

// A specific refusal is not a sentinel: errors.Is must not match a kind
// sentinel against a particular message, nor two different messages.
func TestSpecificErrorsAreNotSentinels(t *testing.T) {
	a := domain.NotFoundf("account a does not exist")
	b := domain.NotFoundf("account b does not exist")
	if errors.Is(domain.ErrNotFound, a) {
		t.Error("errors.Is(ErrNotFound, specific) = true, want false")
	}
	if errors.Is(a, b) {
		t.Error("errors.Is(a, b) = true for two different messages")
	}
	if !errors.Is(a, a) {
		t.Error("errors.Is(a, a) = false")
	}
	fieldOnly := &domain.Error{Kind: domain.Invalid, Field: "path"}
	if errors.Is(&domain.Error{Kind: domain.Invalid, Field: "username"}, fieldOnly) {
		t.Error("a target with a Field matched another field")
	}
}

func TestRefusalsListsJoinedErrorsInOrder(t *testing.T) {
	user := &domain.Error{Kind: domain.Invalid, Field: "username", Msg: "bad name"}
	pass := &domain.Error{Kind: domain.Invalid, Field: "password", Msg: "bad password"}
	path := &domain.Error{Kind: domain.Conflict, Field: "path", Msg: "taken"}
	err := fmt.Errorf("adding: %w", errors.Join(user, nil, errors.Join(pass, path)))

	got := domain.Refusals(err)
	if len(got) != 3 || got[0] != user || got[1] != pass || got[2] != path {
		t.Fatalf("Refusals = %v, want username, password, path in that order", got)
	}
	if domain.KindOf(err) != domain.Invalid || domain.FieldOf(err) != "username" {
		t.Errorf("KindOf/FieldOf of a joined error = %v/%q, want those of the first", domain.KindOf(err), domain.FieldOf(err))
	}
	if n := len(domain.Refusals(errors.New("disk full"))); n != 0 {
		t.Errorf("a plain error has %d refusals, want none", n)
	}
	if n := len(domain.Refusals(nil)); n != 0 {
		t.Errorf("nil has %d refusals", n)
	}
}

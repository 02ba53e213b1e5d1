package domain_test

import (
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestGeneratePassword(t *testing.T) {
	// Characters a person could misread (I l 1 O 0) are never used.
	const allowed = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%*+-=?@^_"
	seen := map[string]bool{}
	for range 500 {
		p := domain.GeneratePassword()
		if len(p) != 20 {
			t.Fatalf("%q is %d characters, want 20", p, len(p))
		}
		// No username here: a random password may by chance contain a
		// short name, which the caller's own check then refuses.
		if err := domain.ValidatePassword(p, ""); err != nil {
			t.Fatalf("generated %q breaks the rule: %v", p, err)
		}
		if i := strings.IndexFunc(p, func(r rune) bool { return !strings.ContainsRune(allowed, r) }); i >= 0 {
			t.Fatalf("generated %q uses %q", p, p[i])
		}
		if seen[p] {
			t.Fatalf("generated %q twice", p)
		}
		seen[p] = true
	}
}

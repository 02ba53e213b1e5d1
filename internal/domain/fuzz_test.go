package domain_test

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/panelftp/panelftp/internal/domain"
)

// FuzzNormalizePath checks the jail's first line of defence: whatever the
// input, the result is either a refusal or a clean folder that, joined to
// the home, stays inside the home.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "example.com/dev", "//a///b/", "a/../b", `a\..\b`, "/home/bob/site", "/home/bobby/x", "/a\x00b"} {
		f.Add(s, "/home/bob")
	}
	f.Fuzz(func(t *testing.T, p, home string) {
		got, err := domain.NormalizePath(p, home)
		if err != nil {
			if got != "" {
				t.Fatalf("NormalizePath(%q, %q) = %q with error %v", p, home, got, err)
			}
			if domain.KindOf(err) != domain.Invalid || domain.FieldOf(err) != "path" {
				t.Fatalf("error %v: kind %d field %q, want Invalid on path", err, domain.KindOf(err), domain.FieldOf(err))
			}
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("NormalizePath(%q, %q) = %q: does not start with /", p, home, got)
		}
		if got != "/" && strings.HasSuffix(got, "/") || strings.Contains(got, "//") {
			t.Fatalf("NormalizePath(%q, %q) = %q: not clean", p, home, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("NormalizePath(%q, %q) = %q: has a %q segment", p, home, got, seg)
			}
		}
		if strings.ContainsFunc(got, unicode.IsControl) {
			t.Fatalf("NormalizePath(%q, %q) = %q: has a control character", p, home, got)
		}
		// The check that matters: the host directory is inside the home.
		const jail = "/home/bob"
		dir := domain.FTPUser{Path: got}.Directory(jail)
		rel, err := filepath.Rel(jail, dir)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("NormalizePath(%q, %q) = %q leaves the home: %s (rel %q, %v)", p, home, got, dir, rel, err)
		}
		// Without a home to strip, normalising is idempotent.
		if home == "" {
			again, err := domain.NormalizePath(got, "")
			if err != nil || again != got {
				t.Fatalf("NormalizePath(%q) = %q, but again gives %q, %v", p, got, again, err)
			}
		}
	})
}

// FuzzNormalizeUsername checks that an accepted username is exactly what
// the rule allows and that normalising it again changes nothing.
func FuzzNormalizeUsername(f *testing.F) {
	for _, s := range []string{"dev.bob", "Dev.BOB", " dev.bob ", ".bob", "a.b.bob", "dév.bob", "dev.alice", strings.Repeat("a", 28) + ".bob"} {
		f.Add(s, "bob")
	}
	f.Add("x.", "")
	f.Fuzz(func(t *testing.T, username, account string) {
		got, err := domain.NormalizeUsername(username, account)
		if err != nil {
			if got != "" {
				t.Fatalf("NormalizeUsername(%q, %q) = %q with error %v", username, account, got, err)
			}
			if domain.KindOf(err) != domain.Invalid {
				t.Fatalf("error %v: kind %d, want Invalid", err, domain.KindOf(err))
			}
			return
		}
		if domain.ValidateAccountName(account) != nil {
			t.Fatalf("NormalizeUsername(%q, %q) = %q for an invalid account", username, account, got)
		}
		name, ok := strings.CutSuffix(got, "."+account)
		if !ok || name == "" {
			t.Fatalf("NormalizeUsername(%q, %q) = %q: not <name>.%s", username, account, got, account)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				t.Fatalf("NormalizeUsername(%q, %q) = %q: name part has %q", username, account, got, r)
			}
		}
		if n := len(got); n < domain.UsernameMin || n > domain.UsernameMax {
			t.Fatalf("NormalizeUsername(%q, %q) = %q: %d characters", username, account, got, n)
		}
		if !strings.EqualFold(strings.TrimSpace(username), got) {
			t.Fatalf("NormalizeUsername(%q, %q) = %q: not the input up to case and spaces", username, account, got)
		}
		if again, err := domain.NormalizeUsername(got, account); err != nil || again != got {
			t.Fatalf("NormalizeUsername(%q) = %q, but again gives %q, %v", username, got, again, err)
		}
	})
}

// FuzzValidatePassword checks that an accepted password meets every class
// and length rule and does not contain the username.
func FuzzValidatePassword(f *testing.F) {
	for _, s := range []string{"Abcdef1!", "abcdef1!", "Abcde1!", "Aa1!" + strings.Repeat("x", 61), "Abcdéf1!", "Xdev.bob1!", "Abcd\tef1!"} {
		f.Add(s, "dev.bob")
	}
	f.Fuzz(func(t *testing.T, password, username string) {
		err := domain.ValidatePassword(password, username)
		if err != nil {
			if domain.KindOf(err) != domain.Invalid || domain.FieldOf(err) != "password" {
				t.Fatalf("error %v: kind %d field %q, want Invalid on password", err, domain.KindOf(err), domain.FieldOf(err))
			}
			return
		}
		if n := len(password); n < domain.PasswordMin || n > domain.PasswordMax {
			t.Fatalf("accepted %q: %d characters", password, n)
		}
		var upper, lower, digit, special bool
		for i := 0; i < len(password); i++ {
			c := password[i]
			switch {
			case c < 0x20 || c > 0x7e:
				t.Fatalf("accepted %q: byte %#x is not printable ASCII", password, c)
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= 'a' && c <= 'z':
				lower = true
			case c >= '0' && c <= '9':
				digit = true
			case c != ' ':
				special = true
			}
		}
		if !upper || !lower || !digit || !special {
			t.Fatalf("accepted %q: upper %v lower %v digit %v special %v", password, upper, lower, digit, special)
		}
		if username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
			t.Fatalf("accepted %q containing username %q", password, username)
		}
	})
}

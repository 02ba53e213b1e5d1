package domain

import (
	"path"
	"strings"
	"unicode"
)

// Limits of the rules, exported so forms and help texts quote the same numbers.
const (
	AccountNameMin = 3
	AccountNameMax = 16
	UsernameMin    = 3
	UsernameMax    = 32
	PasswordMin    = 8
	PasswordMax    = 64
	PathMax        = 1024
)

// ValidateAccountName checks the account name rule: 3–16 characters,
// lowercase letters a–z and digits 0–9.
func ValidateAccountName(name string) error {
	const field = "account"
	if name == "" {
		return invalid(field, "account name is missing: use 3 to 16 lowercase letters and digits, e.g. bob")
	}
	for _, r := range name {
		if r >= 'A' && r <= 'Z' {
			return invalid(field, "account name %q has uppercase letters: use lowercase only (%s)", name, strings.ToLower(name))
		}
		if !isLowerAlnum(r) {
			return invalid(field, "account name %q may only contain lowercase letters a-z and digits 0-9", name)
		}
	}
	if n := len(name); n < AccountNameMin || n > AccountNameMax {
		return invalid(field, "account name %q is %d characters long: use %d to %d", name, n, AccountNameMin, AccountNameMax)
	}
	return nil
}

// NormalizeUsername applies the FTP username rule for an account and
// returns the username as stored: lowercase "<name>.<account>".
// Usernames are case-insensitive, so "Dev.Bob" is accepted as "dev.bob".
// An invalid account name is refused (field "account"): the suffix must be
// a real account's name.
func NormalizeUsername(username, account string) (string, error) {
	const field = "username"
	if err := ValidateAccountName(account); err != nil {
		return "", err
	}
	u := lowerASCII(strings.TrimSpace(username))
	suffix := "." + account
	if u == "" {
		return "", invalid(field, "FTP username is missing: use <name>%s, e.g. ftpuser%s", suffix, suffix)
	}
	if !strings.HasSuffix(u, suffix) {
		if i := strings.LastIndexByte(u, '.'); i >= 0 {
			return "", invalid(field, "FTP username must end with %s (it ends with %s)", suffix, u[i:])
		}
		return "", invalid(field, "FTP username must end with %s, e.g. %s%s", suffix, u, suffix)
	}
	name := strings.TrimSuffix(u, suffix)
	if name == "" {
		return "", invalid(field, "FTP username needs a name before %s, e.g. ftpuser%s", suffix, suffix)
	}
	for _, r := range name {
		if !isLowerAlnum(r) {
			return "", invalid(field, "FTP username %q: the part before %s may only contain letters and digits", username, suffix)
		}
	}
	if n := len(u); n < UsernameMin || n > UsernameMax {
		return "", invalid(field, "FTP username %q is %d characters long: use %d to %d including %s", u, n, UsernameMin, UsernameMax, suffix)
	}
	return u, nil
}

// SplitUsername returns the account part of a full FTP username
// ("dev.bob" → "bob"), lowercased, or "" when there is no dot.
func SplitUsername(username string) (name, account string) {
	u := strings.ToLower(username)
	i := strings.LastIndexByte(u, '.')
	if i < 0 {
		return u, ""
	}
	return u[:i], u[i+1:]
}

// ValidatePassword checks the FTP password rule: 8–64 printable ASCII
// characters with at least one uppercase letter, one lowercase letter, one
// digit and one special symbol, not containing the username.
func ValidatePassword(password, username string) error {
	const field = "password"
	var upper, lower, digit, special bool
	for _, r := range password {
		switch {
		case r < 0x20 || r > 0x7e:
			return invalid(field, "password may only contain printable ASCII characters: no accents, emoji, tabs or control characters")
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r != ' ':
			special = true
		}
	}
	// Only now is len a count of characters: every byte is printable ASCII.
	if n := len(password); n < PasswordMin {
		return invalid(field, "password is too short (%d characters): use %d to %d", n, PasswordMin, PasswordMax)
	} else if n > PasswordMax {
		return invalid(field, "password is too long (%d characters): use %d to %d", n, PasswordMin, PasswordMax)
	}
	switch {
	case !upper:
		return invalid(field, "password needs at least one uppercase letter (A-Z)")
	case !lower:
		return invalid(field, "password needs at least one lowercase letter (a-z)")
	case !digit:
		return invalid(field, "password needs at least one digit (0-9)")
	case !special:
		return invalid(field, "password needs at least one special symbol, such as ! # %% * - _ or @")
	}
	if username != "" {
		lp := strings.ToLower(password)
		name, _ := SplitUsername(username)
		if strings.Contains(lp, strings.ToLower(username)) || (len(name) >= 3 && strings.Contains(lp, name)) {
			return invalid(field, "password must not contain the username")
		}
	}
	return nil
}

// NormalizePath applies the FTP path rule. p is a folder inside the account's
// home: "/" is the home itself, and "/example.com/dev" and "example.com/dev"
// are the same folder. An absolute host path that starts with the home is
// accepted too ("/home/bob/site" for home "/home/bob"); one that starts
// with the home's top folder but leaves the home ("/home/alice/blog") is
// refused rather than taken as a folder of that name inside the home. The
// result is clean and starts with "/": "/", "/example.com/dev".
func NormalizePath(p, home string) (string, error) {
	const field = "path"
	if strings.TrimSpace(p) == "" {
		return "", invalid(field, "path is missing: use / for the whole home directory, or a folder such as /example.com")
	}
	if len(p) > PathMax {
		return "", invalid(field, "path is %d characters long: use at most %d", len(p), PathMax)
	}
	for _, r := range p {
		if unicode.IsControl(r) { // C0, DEL and C1
			return "", invalid(field, "path contains a control character (NUL, tab, newline, ...): remove it")
		}
	}
	for _, seg := range strings.Split(strings.ReplaceAll(p, `\`, "/"), "/") {
		if seg == ".." {
			return "", invalid(field, "path %q contains \"..\": give a folder inside the home directory without \"..\"", p)
		}
	}
	if home != "" && home != "/" {
		h := strings.TrimRight(home, "/")
		switch clean := path.Clean(p); {
		case clean == h:
			p = "/"
		case strings.HasPrefix(clean, h+"/"):
			p = strings.TrimPrefix(clean, h)
		case strings.HasPrefix(p, "/") && topFolder(clean) == topFolder(h):
			return "", invalid(field, "path %s is a host folder outside the home directory %s: give a folder inside it, such as /example.com (or %s/example.com)", clean, h, h)
		}
	}
	return path.Clean("/" + p), nil
}

// topFolder is the first name of an absolute path: "home" for /home/bob.
func topFolder(p string) string {
	top, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return top
}

// lowerASCII lowercases A-Z only: strings.ToLower would also fold
// look-alikes such as the Kelvin sign (U+212A) into ASCII letters.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

func isLowerAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
}

// Lower lowercases a name for lookup; usernames are case-insensitive.
func Lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

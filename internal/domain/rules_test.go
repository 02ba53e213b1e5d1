package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

// refusal describes the error a rule must give: its kind, the input field it
// is about, and words of the message that tell the person what to change.
type refusal struct {
	field string
	hints []string
}

// checkRefusal fails t unless err is a domain Invalid error for want.field
// whose message contains every hint.
func checkRefusal(t *testing.T, err error, want refusal) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want a refusal on %q", want.field)
	}
	if !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("error %q is not domain.ErrInvalid (kind %d)", err, domain.KindOf(err))
	}
	if got := domain.KindOf(err); got != domain.Invalid {
		t.Errorf("KindOf = %d, want Invalid", got)
	}
	if got := domain.FieldOf(err); got != want.field {
		t.Errorf("FieldOf = %q, want %q (error %q)", got, want.field, err)
	}
	for _, h := range want.hints {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("message %q does not say %q", err, h)
		}
	}
}

func TestValidateAccountName(t *testing.T) {
	accepted := []string{"abc", "bob", "b0b", "123", strings.Repeat("a", 16), "web2024"}
	for _, name := range accepted {
		t.Run("ok/"+name, func(t *testing.T) {
			if err := domain.ValidateAccountName(name); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}

	length := []string{"use 3 to 16"}
	refused := []struct {
		name, in string
		hints    []string
	}{
		{"empty", "", []string{"missing", "3 to 16 lowercase letters and digits"}},
		{"two chars", "ab", append([]string{"2 characters"}, length...)},
		{"seventeen chars", strings.Repeat("a", 17), append([]string{"17 characters"}, length...)},
		{"uppercase", "Bob", []string{"uppercase", "lowercase only", "(bob)"}},
		{"all uppercase", "BOB", []string{"(bob)"}},
		{"dash", "bo-b", []string{"only contain lowercase letters a-z and digits 0-9"}},
		{"dot", "bo.b", []string{"only contain lowercase letters a-z and digits 0-9"}},
		{"underscore", "bo_b", []string{"only contain lowercase letters a-z and digits 0-9"}},
		{"space", "bo b", []string{"only contain lowercase letters a-z and digits 0-9"}},
		{"slash", "../bob", []string{"only contain lowercase letters a-z and digits 0-9"}},
		{"unicode", "bób", []string{"only contain lowercase letters a-z and digits 0-9"}},
		{"unicode digit", "bob٣", []string{"only contain lowercase letters a-z and digits 0-9"}},
		{"NUL", "bob\x00", []string{"only contain lowercase letters a-z and digits 0-9"}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			checkRefusal(t, domain.ValidateAccountName(tc.in), refusal{"account", tc.hints})
		})
	}
}

func TestNormalizeUsername(t *testing.T) {
	accepted := []struct {
		name, in, account, want string
	}{
		{"plain", "dev.bob", "bob", "dev.bob"},
		{"mixed case is lowercased", "Dev.BOB", "bob", "dev.bob"},
		{"upper name", "FTPUSER.bob", "bob", "ftpuser.bob"},
		{"digits", "dev2.bob", "bob", "dev2.bob"},
		{"digits only name", "42.bob", "bob", "42.bob"},
		{"whitespace trimmed", "  dev.bob\t\n", "bob", "dev.bob"},
		{"shortest", "a.bob", "bob", "a.bob"},
		{"32 exactly", strings.Repeat("a", 28) + ".bob", "bob", strings.Repeat("a", 28) + ".bob"},
		{"account looks like suffix", "bob.bob", "bob", "bob.bob"},
		{"long account", "x." + strings.Repeat("c", 16), strings.Repeat("c", 16), "x." + strings.Repeat("c", 16)},
	}
	for _, tc := range accepted {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			got, err := domain.NormalizeUsername(tc.in, tc.account)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	onlyLettersDigits := []string{"before .bob may only contain letters and digits"}
	refused := []struct {
		name, in, account string
		hints             []string
	}{
		{"empty", "", "bob", []string{"missing", "<name>.bob", "ftpuser.bob"}},
		{"blank", "   ", "bob", []string{"missing"}},
		{"wrong suffix", "dev.alice", "bob", []string{"must end with .bob", "ends with .alice"}},
		{"longer account suffix", "dev.bobby", "bob", []string{"must end with .bob", "ends with .bobby"}},
		{"account glued to name", "devbob", "bob", []string{"must end with .bob", "devbob.bob"}},
		{"missing suffix", "dev", "bob", []string{"must end with .bob", "e.g. dev.bob"}},
		{"trailing dot", "dev.", "bob", []string{"must end with .bob"}},
		{"suffix only", ".bob", "bob", []string{"needs a name before .bob", "ftpuser.bob"}},
		{"33 chars", strings.Repeat("a", 29) + ".bob", "bob", []string{"33 characters", "use 3 to 32 including .bob"}},
		{"far too long", strings.Repeat("a", 200) + ".bob", "bob", []string{"204 characters", "use 3 to 32"}},
		{"dash", "dev-x.bob", "bob", onlyLettersDigits},
		{"underscore", "dev_x.bob", "bob", onlyLettersDigits},
		{"accent", "dév.bob", "bob", onlyLettersDigits},
		{"another dot", "a.b.bob", "bob", onlyLettersDigits},
		{"two dots", "a..bob", "bob", onlyLettersDigits},
		{"inner space", "de v.bob", "bob", onlyLettersDigits},
		{"slash", "../x.bob", "bob", onlyLettersDigits},
		{"NUL", "de\x00v.bob", "bob", onlyLettersDigits},
		// Unicode case folding must not smuggle in a look-alike: KELVIN SIGN
		// lowercases to an ASCII k.
		{"kelvin sign", "\u212Aev.bob", "bob", onlyLettersDigits},
		{"fullwidth", "ｄev.bob", "bob", onlyLettersDigits},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			got, err := domain.NormalizeUsername(tc.in, tc.account)
			if got != "" {
				t.Errorf("returned %q with the refusal, want \"\"", got)
			}
			checkRefusal(t, err, refusal{"username", tc.hints})
		})
	}

	// The suffix is the owning account's name, which must itself be valid:
	// with no account, "dev." would otherwise pass as "<name>.<account>".
	for _, account := range []string{"", "x", "Bob", "b.b"} {
		t.Run("bad account/"+account, func(t *testing.T) {
			got, err := domain.NormalizeUsername("dev."+account, account)
			if err == nil {
				t.Fatalf("accepted %q for account %q", got, account)
			}
			if domain.KindOf(err) != domain.Invalid || domain.FieldOf(err) != "account" {
				t.Fatalf("got kind %d field %q, want Invalid on account", domain.KindOf(err), domain.FieldOf(err))
			}
		})
	}
}

func TestSplitUsername(t *testing.T) {
	tests := []struct{ in, name, account string }{
		{"dev.bob", "dev", "bob"},
		{"Dev.BOB", "dev", "bob"},
		{"a.b.bob", "a.b", "bob"},
		{"nodot", "nodot", ""},
		{".bob", "", "bob"},
		{"", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			name, account := domain.SplitUsername(tc.in)
			if name != tc.name || account != tc.account {
				t.Fatalf("got (%q, %q), want (%q, %q)", name, account, tc.name, tc.account)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	const user = "dev.bob"
	accepted := []struct{ name, pw, user string }{
		{"8 chars", "Abcdef1!", user},
		{"64 chars", "Aa1!" + strings.Repeat("x", 60), user},
		{"every symbol class", "Zz9~`[]{}", user},
		{"space besides a symbol", "Correct horse 1!", user},
		{"short name part may appear", "Jo.Bob-2024x", "jo.alice"},
		{"no username given", "Dev.bob-2024", ""},
		{"name part split up", "De-v.Bo-b2024", user},
	}
	for _, tc := range accepted {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			if err := domain.ValidatePassword(tc.pw, tc.user); err != nil {
				t.Fatalf("refused %q: %v", tc.pw, err)
			}
		})
	}

	refused := []struct {
		name, pw, user string
		hints          []string
	}{
		{"7 chars", "Abcde1!", user, []string{"too short (7 characters)", "use 8 to 64"}},
		{"empty", "", user, []string{"too short (0 characters)", "use 8 to 64"}},
		{"65 chars", "Aa1!" + strings.Repeat("x", 61), user, []string{"too long (65 characters)", "use 8 to 64"}},
		{"no uppercase", "abcdef1!", user, []string{"uppercase letter (A-Z)"}},
		{"no lowercase", "ABCDEF1!", user, []string{"lowercase letter (a-z)"}},
		{"no digit", "Abcdefg!", user, []string{"digit (0-9)"}},
		{"no special", "Abcdefg1", user, []string{"special symbol", "! # % * - _ or @"}},
		{"space is not a symbol", "Abcd efg1", user, []string{"special symbol"}},
		{"non-ASCII letter", "Abcdéf1!", user, []string{"printable ASCII", "accents"}},
		{"emoji", "Abcdef1!😀", user, []string{"printable ASCII"}},
		// 33 two-byte letters are 66 bytes but 33 characters: the refusal
		// must be about the characters, not a wrong length.
		{"non-ASCII long", "A1!" + strings.Repeat("é", 33), user, []string{"printable ASCII"}},
		{"tab", "Abcd\tef1!", user, []string{"tabs"}},
		{"newline", "Abcdef1!\n", user, []string{"control characters"}},
		{"NUL", "Abc\x00def1!", user, []string{"control characters"}},
		{"DEL", "Abcdef1!\x7f", user, []string{"printable ASCII"}},
		{"full username", "Xdev.bob1!", user, []string{"must not contain the username"}},
		{"full username other case", "x1!DEV.BOB", user, []string{"must not contain the username"}},
		{"name part", "Dev12345!", user, []string{"must not contain the username"}},
		{"name part other case", "x1!DeV#zz", user, []string{"must not contain the username"}},
		{"account name for panel", "My-Bob-2024", "bob", []string{"must not contain the username"}},
		{"short full username", "Xjo.bob1!", "jo.bob", []string{"must not contain the username"}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			checkRefusal(t, domain.ValidatePassword(tc.pw, tc.user), refusal{"password", tc.hints})
		})
	}
}

func TestNormalizePath(t *testing.T) {
	const home = "/home/bob"
	accepted := []struct{ name, in, home, want string }{
		{"root", "/", home, "/"},
		{"absolute", "/example.com/dev", home, "/example.com/dev"},
		{"relative is the same folder", "example.com/dev", home, "/example.com/dev"},
		{"duplicate slashes", "//a///b/", home, "/a/b"},
		{"dot prefix", "./a", home, "/a"},
		{"lone dot", ".", home, "/"},
		{"dot segments", "/a/./b/.", home, "/a/b"},
		{"dots in names", "/a..b/...", home, "/a..b/..."},
		{"host path in home", "/home/bob/site", home, "/site"},
		{"host path in home, trailing slash", "/home/bob/site/", home, "/site"},
		{"host path of home", "/home/bob", home, "/"},
		{"host path of home, trailing slash", "/home/bob/", home, "/"},
		{"home with trailing slash", "/home/bob/site", "/home/bob/", "/site"},
		{"relative path named like the home's top folder", "home/zenith/blog", home, "/home/zenith/blog"},
		{"system path stays inside the home", "/etc", home, "/etc"},
		{"no home", "/home/bob/site", "", "/home/bob/site"},
		{"home is /", "/etc", "/", "/etc"},
		{"spaces in names", "/my site/a b", home, "/my site/a b"},
		{"unicode names", "/café/日本", home, "/café/日本"},
		{"1024 chars", "/" + strings.Repeat("a", 1023), home, "/" + strings.Repeat("a", 1023)},
	}
	for _, tc := range accepted {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			got, err := domain.NormalizePath(tc.in, tc.home)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	dotdot := []string{`contains ".."`, "without \"..\""}
	control := []string{"control character", "remove it"}
	refused := []struct {
		name, in string
		hints    []string
	}{
		{"empty", "", []string{"missing", "use / for the whole home"}},
		{"blank", "  ", []string{"missing"}},
		{"dotdot", "..", dotdot},
		{"leading dotdot", "../x", dotdot},
		{"inner dotdot", "a/../b", dotdot},
		{"trailing dotdot", "/a/..", dotdot},
		{"backslash dotdot", `a\..\b`, dotdot},
		{"mixed separators", `/a/..\b`, dotdot},
		{"host path with dotdot", "/home/bob/../alice", dotdot},
		{"another home", "/home/zenith/blog", []string{"/home/zenith/blog is a host folder outside the home directory /home/bob", "such as /example.com"}},
		{"similar host path", "/home/bobby/x", []string{"outside the home directory"}},
		{"the homes' parent", "/home", []string{"outside the home directory"}},
		{"unclean host path", "//home//zenith/", []string{"/home/zenith is a host folder"}},
		{"NUL", "/a\x00b", control},
		{"newline", "/a\nb", control},
		{"carriage return", "/a\rb", control},
		{"tab", "/a\tb", control},
		{"DEL", "/a\x7fb", control},
		{"C1 next line", "/a\u0085b", control},
		{"C1 CSI", "/a\u009bb", control},
		{"1025 chars", "/" + strings.Repeat("a", 1024), []string{"1025 characters", "at most 1024"}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			got, err := domain.NormalizePath(tc.in, home)
			if got != "" {
				t.Errorf("returned %q with the refusal, want \"\"", got)
			}
			checkRefusal(t, err, refusal{"path", tc.hints})
		})
	}
}

func TestFTPUserDirectory(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/", "/home/bob"},
		{"/example.com/dev", "/home/bob/example.com/dev"},
		{"/etc", "/home/bob/etc"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			u := domain.FTPUser{Path: tc.path}
			if got := u.Directory("/home/bob"); got != tc.want {
				t.Fatalf("Directory = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLower(t *testing.T) {
	if got := domain.Lower("  Dev.BOB "); got != "dev.bob" {
		t.Fatalf("Lower = %q, want dev.bob", got)
	}
}

func TestGreeting(t *testing.T) {
	tests := []struct {
		set  domain.Settings
		want string
	}{
		{domain.Settings{}, "panelftp ready."},
		{domain.Settings{HideServerName: true}, "FTP server ready."},
		{domain.Settings{Banner: "Welcome to Example Hosting"}, "Welcome to Example Hosting"},
		{domain.Settings{Banner: "Welcome", HideServerName: true}, "Welcome"},
	}
	for _, tc := range tests {
		if got := tc.set.Greeting(); got != tc.want {
			t.Errorf("%+v.Greeting() = %q, want %q", tc.set, got, tc.want)
		}
	}
	if got, err := domain.NormalizeBanner("  Willkommen bei Example — FTP  "); err != nil || got != "Willkommen bei Example — FTP" {
		t.Errorf("NormalizeBanner = %q, %v", got, err)
	}
	for in, hint := range map[string]string{
		"a\nb": "one line", "a\x00b": "control", "a\u200bb": "invisible", strings.Repeat("x", domain.BannerMax+1): "at most 200",
	} {
		_, err := domain.NormalizeBanner(in)
		checkRefusal(t, err, refusal{"banner", []string{hint}})
	}
	if err := (domain.Settings{Banner: " padded"}).Validate(); domain.FieldOf(err) != "banner" {
		t.Errorf("Validate accepted a banner that was not normalized: %v", err)
	}
}

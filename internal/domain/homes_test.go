package domain_test

import (
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestCheckHome(t *testing.T) {
	rules := domain.HomeRules{DataDir: "/var/lib/panelftp"}
	confined := domain.HomeRules{Root: "/srv/homes", DataDir: "/data/panelftp"}
	accepted := []struct {
		home  string
		rules domain.HomeRules
	}{
		{"/home/bob", rules},
		{"/home/bob/sites", rules},
		{"/var/www/bob", rules},
		{"/srv/customers/bob", rules},
		{"/tmp/test-home", rules},
		{"/data/panelftp/demo-home", domain.HomeRules{DataDir: "/data/panelftp"}}, // inside the data directory is fine
		{"/srv/homes/bob", confined},
		{"/etcetera/bob", rules},
	}
	for _, tc := range accepted {
		t.Run("ok"+tc.home, func(t *testing.T) {
			if err := domain.CheckHome(tc.home, tc.rules); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
	system := []string{"system folder"}
	refused := []struct {
		home  string
		rules domain.HomeRules
		hints []string
	}{
		{"/", rules, system},
		{"/etc", rules, append(system, "/etc", "/home/<account>")},
		{"/etc/nginx", rules, system},
		{"/usr/local/www", rules, system},
		{"/root", rules, system},
		{"/proc/1", rules, system},
		{"/var", rules, system},
		{"/var/lib/mysql", rules, system},
		{"/var/log", rules, system},
		{"/boot", rules, system},
		{"/home", rules, []string{"would hold /home", "/home/<account>"}},
		{"/var/www", rules, []string{"would hold /var/www"}},
		{"/tmp", rules, []string{"would hold /tmp"}},
		{"/srv", rules, []string{"would hold /srv"}},
		{"/var/lib/panelftp", rules, system},
		{"/data", confined, []string{"holds panelftp's data directory /data/panelftp"}},
		{"/data/panelftp", confined, []string{"data directory"}},
		{"/home/bob", confined, []string{"outside /srv/homes", "--homes-root", "/srv/homes/<account>"}},
		{"/srv/homes", confined, []string{"would hold /srv/homes"}},
	}
	for _, tc := range refused {
		t.Run("refused"+tc.home, func(t *testing.T) {
			checkRefusal(t, domain.CheckHome(tc.home, tc.rules), refusal{"home", tc.hints})
		})
	}
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"/home/bob", "/home/bob", true},
		{"/home/bob", "/home/bob/site", true},
		{"/home/bob/site", "/home/bob", true},
		{"/home/bob", "/home/bobby", false},
		{"/home/bob", "/home/alice", false},
		{"/", "/home", true},
	}
	for _, tc := range tests {
		if got := domain.Overlaps(tc.a, tc.b); got != tc.want {
			t.Errorf("Overlaps(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	for home, want := range map[string]string{
		"/home/acme":      "already the home of account acme",
		"/home/acme/blog": "is inside the home of account acme (/home/acme)",
		"/home":           "contains the home of account acme (/home/acme)",
	} {
		err := domain.OverlapError(home, "acme", "/home/acme")
		if domain.KindOf(err) != domain.Conflict || domain.FieldOf(err) != "home" || !strings.Contains(err.Error(), want) {
			t.Errorf("OverlapError(%s) = %v, want a conflict on home saying %q", home, err, want)
		}
	}
}

package defender

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func TestParseSafeList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    string // fmt of the list
		wantErr string // part of the error message
	}{
		{in: "", want: "[]"},
		{in: " , ", want: "[]"},
		{in: "10.0.0.0/8, 192.0.2.7", want: "[10.0.0.0/8 192.0.2.7/32]"},
		{in: "10.0.0.0/8 192.0.2.7\n2001:db8::/32", want: "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32]"},
		{in: "192.0.2.1/24", want: "[192.0.2.0/24]"},
		{in: "::ffff:192.0.2.7", want: "[192.0.2.7/32]"},
		{in: "::ffff:192.0.2.0/120", want: "[192.0.2.0/24]"},
		{in: "fe80::1%eth0", want: "[fe80::1/128]"},
		{in: "10.0.0.0/8, 192.0.2.300", wantErr: `entry 2, "192.0.2.300": not an IP address`},
		{in: "10.0.0.0/33", wantErr: `entry 1, "10.0.0.0/33": not a network`},
		{in: "office", wantErr: `"office": not an IP address or network`},
		{in: "0.0.0.0/0", wantErr: "every address"},
		{in: "::/0", wantErr: "every address"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSafeList(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, domain.ErrInvalid) {
					t.Fatalf("ParseSafeList(%q) = %v, %v; want an invalid error with %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Fatalf("ParseSafeList(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7/32",
		"::ffff:192.0.2.7":     "192.0.2.7/32",
		"2001:db8::7":          "2001:db8::7/128",
		"2001:db8:1:2::/64":    "2001:db8:1:2::/64",
		"2001:db8:1:2::5/64":   "2001:db8:1:2::/64",
		"192.0.2.7/32":         "192.0.2.7/32",
		"192.0.2.0/24":         "",
		"2001:db8::/48":        "",
		"not an address":       "",
		"":                     "",
		"2001:db8::7%eth0":     "2001:db8::7/128",
		"::ffff:192.0.2.7/128": "192.0.2.7/32",
	} {
		k, ok := parseKey(in)
		got := ""
		if ok {
			got = k.String()
		}
		if got != want {
			t.Errorf("parseKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// Unreadable rows are skipped, and do not hide the readable ones.
func TestLoadSkipsBadRows(t *testing.T) {
	t.Parallel()
	c, st := newClock(), newStore(t)
	for _, ip := range []string{"garbage", "192.0.2.0/24", "192.0.2.7"} {
		if err := st.PutBan(t.Context(), domain.Ban{IP: ip, Until: c.Now().Add(time.Hour), Count: 1}); err != nil {
			t.Fatal(err)
		}
	}
	d := newDefender(t, st, c, Config{})
	wantBanned(t, d, "192.0.2.7", true)
	wantBanned(t, d, "192.0.2.8", false)
	if d.badRows != 2 {
		t.Errorf("badRows = %d, want 2", d.badRows)
	}
	if _, banned := d.Banned(netip.Addr{}); banned {
		t.Error("the zero Addr is banned")
	}
}

package domain_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func prefixes(t *testing.T, list ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range list {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestParseIPList(t *testing.T) {
	accepted := []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, nil},
		{"blank entries dropped", []string{" ", ""}, nil},
		{"bare IPv4 is /32", []string{"192.0.2.7"}, []string{"192.0.2.7/32"}},
		{"bare IPv6 is /128", []string{"2001:db8::7"}, []string{"2001:db8::7/128"}},
		{"networks", []string{" 192.0.2.0/24", "2001:db8::/32 "}, []string{"192.0.2.0/24", "2001:db8::/32"}},
		{"everything", []string{"0.0.0.0/0", "::/0"}, []string{"0.0.0.0/0", "::/0"}},
		{"duplicates dropped, order kept", []string{"198.51.100.1", "192.0.2.0/24", "198.51.100.1/32"}, []string{"198.51.100.1/32", "192.0.2.0/24"}},
	}
	for _, tc := range accepted {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			got, err := domain.ParseIPList("allow_ips", tc.in)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if want := prefixes(t, tc.want...); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}

	refused := []struct {
		name  string
		field string
		in    []string
		hints []string
	}{
		{"word", "allow_ips", []string{"192.0.2.1", "office"}, []string{"IP allow list", `"office"`, "192.0.2.7", "192.0.2.0/24"}},
		{"bad prefix length", "deny_ips", []string{"192.0.2.0/33"}, []string{"IP deny list", `"192.0.2.0/33"`, "0 to 32"}},
		{"host bits set", "allow_ips", []string{"192.0.2.7/24"}, []string{`"192.0.2.7/24"`, "did you mean 192.0.2.0/24?"}},
		{"IPv6 host bits set", "allow_ips", []string{"2001:db8::1/32"}, []string{"did you mean 2001:db8::/32?"}},
		{"zone", "allow_ips", []string{"fe80::1%eth0"}, []string{"zone", "remove it"}},
		{"mapped address", "allow_ips", []string{"::ffff:192.0.2.7"}, []string{"write it as 192.0.2.7"}},
		{"mapped network", "allow_ips", []string{"::ffff:192.0.2.0/120"}, []string{"write it in IPv4"}},
		{"hostname", "deny_ips", []string{"example.com"}, []string{`"example.com"`}},
		{"too many", "allow_ips", manyIPs(domain.IPListMax + 1), []string{"101 entries", "at most 100"}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			_, err := domain.ParseIPList(tc.field, tc.in)
			checkRefusal(t, err, refusal{tc.field, tc.hints})
		})
	}
}

func manyIPs(n int) []string {
	var out []string
	for i := range n {
		out = append(out, netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i % 256)}).String())
	}
	return out
}

func TestIPListText(t *testing.T) {
	list := prefixes(t, "192.0.2.7/32", "198.51.100.0/24", "2001:db8::1/128", "2001:db8:1::/48")
	if got, want := domain.IPListText(list), "192.0.2.7,198.51.100.0/24,2001:db8::1,2001:db8:1::/48"; got != want {
		t.Fatalf("IPListText = %q, want %q", got, want)
	}
	back, err := domain.ParseIPList("allow_ips", domain.SplitList(domain.IPListText(list)))
	if err != nil || !reflect.DeepEqual(back, list) {
		t.Fatalf("round trip = %v, %v; want %v", back, err, list)
	}
	if got := domain.SplitList(" a, ,b ,, "); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("SplitList = %q", got)
	}
}

func TestAllowsIP(t *testing.T) {
	tests := []struct {
		name        string
		allow, deny []string
		ip          string
		want        bool
	}{
		{"no lists", nil, nil, "203.0.113.9", true},
		{"in allow list", []string{"192.0.2.0/24"}, nil, "192.0.2.200", true},
		{"outside allow list", []string{"192.0.2.0/24"}, nil, "192.0.3.1", false},
		{"mapped client matches IPv4 list", []string{"192.0.2.0/24"}, nil, "::ffff:192.0.2.9", true},
		{"IPv6 in allow list", []string{"2001:db8::/32"}, nil, "2001:db8:5::1", true},
		{"IPv6 outside allow list", []string{"2001:db8::/32"}, nil, "2001:db9::1", false},
		{"IPv6 client, IPv4-only allow list", []string{"0.0.0.0/0"}, nil, "2001:db8::1", false},
		{"zone ignored", []string{"fe80::/10"}, nil, "fe80::1%eth0", true},
		{"denied", nil, []string{"203.0.113.0/24"}, "203.0.113.9", false},
		{"not denied", nil, []string{"203.0.113.0/24"}, "198.51.100.1", true},
		{"deny wins over allow", []string{"192.0.2.0/24"}, []string{"192.0.2.66"}, "192.0.2.66", false},
		{"allowed beside a denied address", []string{"192.0.2.0/24"}, []string{"192.0.2.66"}, "192.0.2.67", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allow, err1 := domain.ParseIPList("allow_ips", tc.allow)
			deny, err2 := domain.ParseIPList("deny_ips", tc.deny)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			c := domain.Controls{AllowIPs: allow, DenyIPs: deny}
			if got := c.AllowsIP(netip.MustParseAddr(tc.ip)); got != tc.want {
				t.Fatalf("AllowsIP(%s) = %v, want %v", tc.ip, got, tc.want)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	for _, never := range []string{"", " ", "never", "Never"} {
		if day, err := domain.ParseExpiry(never); err != nil || !day.IsZero() {
			t.Errorf("ParseExpiry(%q) = %v, %v; want never", never, day, err)
		}
	}
	day, err := domain.ParseExpiry("2026-12-31")
	if err != nil || !day.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseExpiry(2026-12-31) = %v, %v", day, err)
	}
	if got := domain.ExpiryText(day); got != "2026-12-31" {
		t.Errorf("ExpiryText = %q", got)
	}
	if got := domain.ExpiryText(time.Time{}); got != "never" {
		t.Errorf("ExpiryText(zero) = %q", got)
	}
	if _, err := domain.ParseExpiry("2001-01-01"); err != nil {
		t.Errorf("a day in the past is refused: %v", err)
	}
	for _, bad := range []string{"31/12/2026", "2026-12-32", "2026-2-3", "tomorrow", "2026-12-31T00:00:00Z"} {
		t.Run("refused/"+bad, func(t *testing.T) {
			_, err := domain.ParseExpiry(bad)
			checkRefusal(t, err, refusal{"expires", []string{bad, "YYYY-MM-DD", "in UTC", "never"}})
		})
	}
	_, err = domain.ParseExpiry("1999-12-31")
	checkRefusal(t, err, refusal{"expires", []string{"2000 to 9999"}})
}

func TestExpiredAtTheEndOfTheDayInUTC(t *testing.T) {
	c := domain.Controls{Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if !c.ExpiresAt().Equal(end) {
		t.Fatalf("ExpiresAt = %v, want %v", c.ExpiresAt(), end)
	}
	if c.Expired(end.Add(-time.Nanosecond)) {
		t.Error("expired during its last day")
	}
	if !c.Expired(end) {
		t.Error("not expired at the end of its last day")
	}
	// 23:30 on the 31st in New York is already 1 January in UTC.
	ny := time.FixedZone("EST", -5*3600)
	if !c.Expired(time.Date(2026, 12, 31, 23, 30, 0, 0, ny)) {
		t.Error("the day is not counted in UTC")
	}
	if (domain.Controls{}).Expired(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) || !(domain.Controls{}).ExpiresAt().IsZero() {
		t.Error("no expiry date expired")
	}
}

func ptr[T any](v T) *T { return &v }

func TestControlsChangeApply(t *testing.T) {
	u := domain.FTPUser{Username: "dev.bob", QuotaMB: 100, Controls: domain.Controls{UploadKBps: 50, ReadOnly: true}}
	got, err := domain.ControlsChange{
		MaxFiles: ptr(int64(1000)), DownloadKBps: ptr(int64(200)), AllowIPs: ptr([]string{"192.0.2.0/24", "2001:db8::1"}),
		TLSRequired: ptr(true), Expires: ptr("2030-01-31"), MaxSessions: ptr(3), ReadOnly: ptr(false),
	}.Apply(u)
	if err != nil {
		t.Fatal(err)
	}
	want := u
	want.MaxFiles, want.DownloadKBps, want.TLSRequired, want.MaxSessions, want.ReadOnly = 1000, 200, true, 3, false
	want.AllowIPs = prefixes(t, "192.0.2.0/24", "2001:db8::1/128")
	want.Expires = time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Apply:\n got  %+v\n want %+v", got, want)
	}

	// Zeroes and empties clear.
	cleared, err := domain.ControlsChange{QuotaMB: ptr(int64(0)), AllowIPs: ptr([]string{}), Expires: ptr("never"), MaxSessions: ptr(0)}.Apply(got)
	if err != nil || cleared.QuotaMB != 0 || cleared.AllowIPs != nil || !cleared.Expires.IsZero() || cleared.MaxSessions != 0 {
		t.Fatalf("clearing = %+v, %v", cleared, err)
	}
	if !(domain.ControlsChange{}).Empty() || (domain.ControlsChange{ReadOnly: ptr(false)}).Empty() {
		t.Error("Empty is wrong")
	}
}

func TestControlsChangeRefusesEveryBadFieldAtOnce(t *testing.T) {
	u := domain.FTPUser{Username: "dev.bob", QuotaMB: 100}
	_, err := domain.ControlsChange{
		QuotaMB: ptr(int64(-1)), MaxFiles: ptr(int64(domain.MaxFilesMax + 1)), UploadKBps: ptr(int64(-5)),
		DenyIPs: ptr([]string{"10.0.0.1/8"}), Expires: ptr("soon"), MaxSessions: ptr(-1), ReadOnly: ptr(true),
	}.Apply(u)
	checkRefusal(t, err, refusal{"quota", []string{"negative", "0 for unlimited"}})
	wantFields := []string{"quota", "max_files", "upload_kbps", "max_sessions", "deny_ips", "expires"}
	var got []string
	for _, e := range joined(err) {
		got = append(got, domain.FieldOf(e))
	}
	if !reflect.DeepEqual(got, wantFields) {
		t.Fatalf("refused fields %v, want %v (error %q)", got, wantFields, err)
	}
	for _, h := range []string{"at most 1000000000", "upload bandwidth (KiB/s) -5", "did you mean 10.0.0.0/8?", `"soon"`} {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("message %q does not say %q", err, h)
		}
	}
	_, err = domain.ControlsChange{QuotaMB: ptr(int64(domain.QuotaMBMax + 1))}.Apply(u)
	checkRefusal(t, err, refusal{"quota", []string{"too large", "8 PiB"}})
}

func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestSessionsMustEnd(t *testing.T) {
	day := func(s string) time.Time { d, _ := domain.ParseExpiry(s); return d }
	base := domain.FTPUser{QuotaMB: 100, Controls: domain.Controls{
		MaxFiles: 1000, UploadKBps: 100, DownloadKBps: 100, MaxSessions: 4,
		AllowIPs: prefixes(t, "192.0.2.0/24"), Expires: day("2030-06-30"),
	}}
	tests := []struct {
		name   string
		change func(u *domain.FTPUser)
		want   bool
	}{
		{"nothing", func(u *domain.FTPUser) {}, false},
		{"read-only on", func(u *domain.FTPUser) { u.ReadOnly = true }, true},
		{"TLS required on", func(u *domain.FTPUser) { u.TLSRequired = true }, true},
		{"allow list widened", func(u *domain.FTPUser) { u.AllowIPs = prefixes(t, "192.0.2.0/23") }, true},
		{"allow list cleared", func(u *domain.FTPUser) { u.AllowIPs = nil }, true},
		{"deny list set", func(u *domain.FTPUser) { u.DenyIPs = prefixes(t, "192.0.2.9/32") }, true},
		{"earlier expiry", func(u *domain.FTPUser) { u.Expires = day("2030-06-29") }, true},
		{"later expiry", func(u *domain.FTPUser) { u.Expires = day("2031-01-01") }, false},
		{"expiry removed", func(u *domain.FTPUser) { u.Expires = time.Time{} }, false},
		{"quota lowered", func(u *domain.FTPUser) { u.QuotaMB = 50 }, true},
		{"quota raised", func(u *domain.FTPUser) { u.QuotaMB = 500 }, false},
		{"quota removed", func(u *domain.FTPUser) { u.QuotaMB = 0 }, false},
		{"file limit lowered", func(u *domain.FTPUser) { u.MaxFiles = 10 }, true},
		{"upload slower", func(u *domain.FTPUser) { u.UploadKBps = 10 }, true},
		{"download faster", func(u *domain.FTPUser) { u.DownloadKBps = 1000 }, false},
		{"fewer sessions", func(u *domain.FTPUser) { u.MaxSessions = 1 }, true},
		{"more sessions", func(u *domain.FTPUser) { u.MaxSessions = 8 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after := base
			after.AllowIPs = append([]netip.Prefix(nil), base.AllowIPs...)
			tc.change(&after)
			if got := domain.SessionsMustEnd(base, after); got != tc.want {
				t.Fatalf("SessionsMustEnd = %v, want %v", got, tc.want)
			}
		})
	}
	// From no limit at all, setting one is stricter.
	var none domain.FTPUser
	for name, set := range map[string]func(u *domain.FTPUser){
		"quota": func(u *domain.FTPUser) { u.QuotaMB = 1 }, "expiry": func(u *domain.FTPUser) { u.Expires = day("2099-01-01") },
		"upload": func(u *domain.FTPUser) { u.UploadKBps = 1 }, "sessions": func(u *domain.FTPUser) { u.MaxSessions = 9 },
	} {
		after := none
		set(&after)
		if !domain.SessionsMustEnd(none, after) {
			t.Errorf("setting a %s limit where there was none does not end sessions", name)
		}
	}
}

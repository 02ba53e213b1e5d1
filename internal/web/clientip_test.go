package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies: the header is ignored", nil, "127.0.0.1:5000", []string{"198.51.100.7"}, "127.0.0.1"},
		{"untrusted peer: the header is ignored", proxies, "192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1"},
		{"trusted peer without the header", proxies, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"trusted peer", proxies, "127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"what the client sent is not believed", proxies, "127.0.0.1:5000", []string{"203.0.113.66, 198.51.100.7"}, "198.51.100.7"},
		{"a chain of trusted proxies", proxies, "127.0.0.1:5000", []string{"198.51.100.7, 10.1.2.3"}, "198.51.100.7"},
		{"several header lines", proxies, "127.0.0.1:5000", []string{"203.0.113.66", "198.51.100.7, 10.1.2.3"}, "198.51.100.7"},
		{"every hop a proxy", proxies, "127.0.0.1:5000", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"malformed last entry", proxies, "127.0.0.1:5000", []string{"198.51.100.7, proxy"}, "127.0.0.1"},
		{"malformed entry behind the client", proxies, "127.0.0.1:5000", []string{"junk, 198.51.100.7"}, "198.51.100.7"},
		{"IPv6 proxy and client", proxies, "[::1]:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped client", proxies, "127.0.0.1:5000", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"entries with ports", proxies, "127.0.0.1:5000", []string{"198.51.100.7:5678, 10.0.0.9:80"}, "198.51.100.7"},
		{"IPv6 entry with a port", proxies, "127.0.0.1:5000", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &server{cfg: Config{TrustedProxies: tt.trusted}}
			r := httptest.NewRequest("GET", "/login", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := ParseTrustedProxies("127.0.0.1, 10.1.2.3/8 ::1\t::ffff:192.0.2.0/120")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "10.0.0.0/8", "::1/128", "192.0.2.0/24"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if list, err := ParseTrustedProxies(""); err != nil || len(list) != 0 {
		t.Errorf(`ParseTrustedProxies("") = %v, %v; want an empty list`, list, err)
	}
	for _, bad := range []string{"proxy.example", "10.0.0.0/33", "127.0.0.1:80"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q): no error", bad)
		}
	}
}

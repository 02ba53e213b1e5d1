package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode"
)

// ParseTrustedProxies reads reverse proxies written as addresses and CIDR
// networks separated by commas or spaces, e.g. "127.0.0.1, 10.0.0.0/8".
// An empty string is an empty list.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	list := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		if p, err := netip.ParsePrefix(e); err == nil {
			if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			list = append(list, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or network: write e.g. 127.0.0.1, ::1 or 10.0.0.0/8", e)
		}
		a = a.Unmap()
		list = append(list, netip.PrefixFrom(a, a.BitLen()))
	}
	return list, nil
}

// clientIP is the address a request comes from. It is the TCP peer, unless
// the peer is one of cfg.TrustedProxies: then it is the last address in
// X-Forwarded-For that is not a trusted proxy itself. A proxy appends the
// address it saw to the header, so the entries to the left of that are
// whatever the client sent, and are not believed; a client that is itself
// inside a trusted network could name any address, which is why the
// proxies should be listed by their own addresses. A malformed entry
// where the search stops means a proxy that is not set up as expected;
// the peer is used then, which only makes the log-in limits stricter.
func (s *server) clientIP(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	trusted := s.cfg.TrustedProxies
	if a, err := netip.ParseAddr(peer); err != nil || !anyContains(trusted, a.Unmap()) {
		return peer
	}
	lines := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(lines) - 1; i >= 0; i-- {
		hops := strings.Split(lines[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, ok := hopAddr(hops[j])
			if !ok {
				return peer
			}
			client = a.String()
			if !anyContains(trusted, a) {
				return client
			}
		}
	}
	return client
}

// hopAddr reads one X-Forwarded-For entry: an address, or an address and
// a port as some proxies write it ("192.0.2.7:5678", "[2001:db8::7]:443").
func hopAddr(hop string) (netip.Addr, bool) {
	hop = strings.TrimSpace(hop)
	a, err := netip.ParseAddr(hop)
	if err != nil {
		ap, err := netip.ParseAddrPort(hop)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func anyContains(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

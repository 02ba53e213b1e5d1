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
// whatever the client sent, and are never believed. A malformed entry
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
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		client = a.Unmap().String()
		if !anyContains(trusted, a.Unmap()) {
			break
		}
	}
	return client
}

func anyContains(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

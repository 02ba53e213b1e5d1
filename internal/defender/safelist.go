package defender

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"github.com/panelftp/panelftp/internal/domain"
)

// ParseSafeList reads a safe list written as addresses and CIDR networks
// separated by commas or spaces, e.g. "10.0.0.0/8, 192.0.2.7 2001:db8::/32".
// An empty string is an empty list. IPv4-mapped IPv6 entries become IPv4
// ones and host bits of a network are cleared (192.0.2.1/24 is
// 192.0.2.0/24). A bad entry is a domain.ErrInvalid error naming it.
func ParseSafeList(s string) ([]netip.Prefix, error) {
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	list := make([]netip.Prefix, 0, len(entries))
	for i, e := range entries {
		p, why := parseSafeEntry(e)
		if why != "" {
			return nil, &domain.Error{Kind: domain.Invalid, Field: "safe_list",
				Msg: fmt.Sprintf("safe list entry %d, %q: %s", i+1, e, why)}
		}
		list = append(list, p)
	}
	return list, nil
}

func parseSafeEntry(e string) (p netip.Prefix, why string) {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return p, "not a network: write an address, a slash and a prefix length, e.g. 10.0.0.0/8 or 2001:db8::/32"
		}
		p = normalizePrefix(p)
		if p.Bits() == 0 {
			return p, "a /0 network would make every address safe and turn the defence off"
		}
		return p, ""
	}
	a, err := netip.ParseAddr(e)
	if err != nil {
		return p, "not an IP address or network, e.g. 192.0.2.7, 10.0.0.0/8 or 2001:db8::/32"
	}
	a, _ = normalize(a)
	return hostKey(a), ""
}

// normalizePrefix turns an IPv4-mapped IPv6 network into the IPv4 one and
// clears host bits, so that Contains matches normalized addresses.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// normalizeSafeList copies list with each network normalized and the
// invalid ones (the zero Prefix) left out.
func normalizeSafeList(list []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(list))
	for _, p := range list {
		if p.IsValid() {
			out = append(out, normalizePrefix(p))
		}
	}
	return out
}

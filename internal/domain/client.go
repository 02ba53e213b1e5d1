package domain

import "net/netip"

// ClientKey is what counts as one client for limits and bans: an IPv4
// address, or the /64 of an IPv6 address, the block one subscriber
// usually gets, so rotating addresses inside it buys nothing.
// IPv4-mapped IPv6 addresses are the IPv4 address, and zones are ignored.
func ClientKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// KeyText is how a client key or a single address is written in ban rows,
// logs and messages: a plain address for one host ("192.0.2.7"), CIDR
// for a network ("2001:db8:1:2::/64").
func KeyText(k netip.Prefix) string {
	if k.IsSingleIP() {
		return k.Addr().String()
	}
	return k.String()
}

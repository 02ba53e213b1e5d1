package domain

import "net/netip"

// ClientKey is what counts as one client for limits and bans: an IPv4
// address, or the /64 of an IPv6 address, the block one subscriber
// usually gets, so rotating addresses inside it buys nothing.
func ClientKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

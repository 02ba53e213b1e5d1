package domain

import (
	"fmt"
	"net/netip"
)

// Settings are the FTP service settings an administrator may change while
// the service runs; every node applies them within seconds. The rest (ports,
// certificate files, passive range) need a restart.
type Settings struct {
	// PublicHost is the IPv4 address PASV announces; "" = the address the
	// client connected to.
	PublicHost string
	// TLSRequired refuses log-in and data transfers without TLS.
	TLSRequired bool
	// Connection limits; 0 = the built-in default.
	MaxConnections, MaxPerIP, MaxPerUser int
}

// Validate checks settings before they are saved.
func (s Settings) Validate() error {
	if s.PublicHost != "" {
		ip, err := netip.ParseAddr(s.PublicHost)
		if err != nil || !ip.Unmap().Is4() {
			return invalid("public_host", "passive address %q must be an IPv4 address such as 203.0.113.10 (PASV can only announce IPv4), or empty", s.PublicHost)
		}
	}
	for _, l := range []struct {
		field string
		n     int
	}{{"max_connections", s.MaxConnections}, {"max_per_ip", s.MaxPerIP}, {"max_per_user", s.MaxPerUser}} {
		if l.n < 0 || l.n > 1_000_000 {
			return invalid(l.field, "%s %d must be between 0 (default) and 1000000", l.field, l.n)
		}
	}
	if s.MaxPerIP > 0 && s.MaxConnections > 0 && s.MaxPerIP > s.MaxConnections {
		return invalid("max_per_ip", "%s", fmt.Sprintf("connections per IP (%d) cannot exceed the total limit (%d)", s.MaxPerIP, s.MaxConnections))
	}
	return nil
}

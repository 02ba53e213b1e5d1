package domain

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Settings are the FTP service settings an administrator may change while
// the service runs; every node applies them at once. The rest (ports,
// certificate files, passive range) need a restart.
type Settings struct {
	// PublicHost is the IPv4 address PASV announces; "" = the address the
	// client connected to.
	PublicHost string
	// TLSRequired refuses log-in and data transfers without TLS.
	TLSRequired bool
	// Connection limits; 0 = the built-in default.
	MaxConnections, MaxPerIP, MaxPerUser int
	// Banner replaces the text of the greeting (220) every FTP client
	// sees on connecting; "" = the default greeting.
	Banner string
	// HideServerName keeps the name "panelftp" out of the default greeting
	// and of every other reply.
	HideServerName bool
}

// BannerMax is the longest greeting, in characters: one line that FTP
// clients show in full (FileZilla's message log, lftp's debug output,
// curl -v) without wrapping it twice on an 80-column terminal.
const BannerMax = 200

// Greeting is the text of the 220 reply to a new connection.
func (s Settings) Greeting() string {
	switch {
	case s.Banner != "":
		return s.Banner
	case s.HideServerName:
		return "FTP server ready."
	}
	return "panelftp ready."
}

// NormalizeBanner checks a greeting text (field "banner") and returns it
// without surrounding blanks: one line of printable characters (UTF-8, as
// RFC 2640 allows), at most BannerMax of them.
func NormalizeBanner(text string) (string, error) {
	const field = "banner"
	text = strings.TrimSpace(text)
	if !utf8.ValidString(text) {
		return "", invalid(field, "greeting is not valid UTF-8 text: type it again")
	}
	for _, r := range text {
		if r == '\r' || r == '\n' {
			return "", invalid(field, "greeting has a line break: write it on one line")
		}
		if !unicode.IsPrint(r) {
			return "", invalid(field, "greeting has a control or invisible character (%U): remove it", r)
		}
	}
	if n := utf8.RuneCountInString(text); n > BannerMax {
		return "", invalid(field, "greeting is %d characters long: use at most %d", n, BannerMax)
	}
	return text, nil
}

// Validate checks settings before they are saved; the banner must be
// normalized already (NormalizeBanner).
func (s Settings) Validate() error {
	if b, err := NormalizeBanner(s.Banner); err != nil {
		return err
	} else if b != s.Banner {
		return invalid("banner", "greeting starts or ends with blanks: remove them")
	}
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

package domain

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Controls are the limits and access rules of one FTP sub-user, set by an
// administrator. The zero value means no limit and no restriction; each
// field says what its zero means.
type Controls struct {
	// MaxFiles caps the number of files under the user's folder; 0 = no limit.
	MaxFiles int64
	// UploadKBps and DownloadKBps cap the bandwidth in KiB/s (1024 bytes
	// per second), shared by all of the user's transfers on a node;
	// 0 = no limit.
	UploadKBps, DownloadKBps int64
	// AllowIPs, when not empty, admits log-ins only from these networks.
	// DenyIPs refuses log-ins from these networks, even when AllowIPs
	// lists them too. A single address is a /32 or /128 network.
	AllowIPs, DenyIPs []netip.Prefix
	// ReadOnly refuses every command that writes.
	ReadOnly bool
	// TLSRequired refuses log-in and data transfers without TLS, even when
	// the server does not require it of everyone.
	TLSRequired bool
	// Expires is the last day the user may log in, as 00:00 UTC of that
	// day: access ends at the end of that day in UTC. Zero = never.
	Expires time.Time
	// MaxSessions caps the user's sessions at once, replacing the server's
	// --max-per-user for this user; 0 = the server's value.
	MaxSessions int
}

// Bounds of the controls, exported so forms and help texts quote them.
const (
	MaxFilesMax    = 1_000_000_000
	KBpsMax        = 10_000_000 // about 10 GB/s
	MaxSessionsMax = 1_000_000
	IPListMax      = 100
	// DateLayout is how an expiry day is written: YYYY-MM-DD.
	DateLayout = "2006-01-02"
	// Never is how "no expiry" is written.
	Never = "never"
)

// ExpiresAt is the instant access ends (the end of the Expires day in
// UTC), or the zero time for never.
func (c Controls) ExpiresAt() time.Time {
	if c.Expires.IsZero() {
		return time.Time{}
	}
	return c.Expires.AddDate(0, 0, 1)
}

// Expired reports whether access has ended at now.
func (c Controls) Expired(now time.Time) bool {
	end := c.ExpiresAt()
	return !end.IsZero() && !now.Before(end)
}

// AllowsIP reports whether a log-in from ip passes the allow and deny
// lists. An IPv4 client reaching an IPv6 socket (::ffff:192.0.2.7) is
// matched as its IPv4 address; a zone is ignored.
func (c Controls) AllowsIP(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	in := func(list []netip.Prefix) bool {
		return slices.ContainsFunc(list, func(p netip.Prefix) bool { return p.Contains(ip) })
	}
	if in(c.DenyIPs) {
		return false
	}
	return len(c.AllowIPs) == 0 || in(c.AllowIPs)
}

// ExpiryText writes an expiry day as YYYY-MM-DD, or "never".
func ExpiryText(day time.Time) string {
	if day.IsZero() {
		return Never
	}
	return day.UTC().Format(DateLayout)
}

// ParseExpiry reads an expiry day: YYYY-MM-DD (access ends at the end of
// that day in UTC), or "never" or "" for no expiry. A day in the past is
// accepted: it ends access at once.
func ParseExpiry(s string) (time.Time, error) {
	const field = "expires"
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, Never) {
		return time.Time{}, nil
	}
	day, err := time.Parse(DateLayout, s)
	if err != nil || len(s) != len(DateLayout) {
		return time.Time{}, invalid(field, "expiry date %q is not a date: write it as YYYY-MM-DD, e.g. 2026-12-31 (the last day of access, in UTC), or never", s)
	}
	if y := day.Year(); y < 2000 || y > 9999 {
		return time.Time{}, invalid(field, "expiry date %s is out of range: give a year from 2000 to 9999, or never", s)
	}
	return day, nil
}

// IPListText writes an IP list as its entries separated by commas.
func IPListText(list []netip.Prefix) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = PrefixText(p)
	}
	return strings.Join(parts, ",")
}

// PrefixText writes a network, or a single address without its /32 or /128.
func PrefixText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// SplitList splits a comma-separated list as typed (CLI flag, form field)
// into its entries; blanks around entries and empty entries are dropped.
func SplitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// ParseIPList reads an allow or deny list (field "allow_ips" or
// "deny_ips"): IPv4 or IPv6 addresses and CIDR networks; a bare address
// means that one address. Duplicates are dropped; the order is kept. The
// error names the first bad entry and says how to write it.
func ParseIPList(field string, entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, raw := range entries {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		p, err := parsePrefix(e)
		if err != nil {
			return nil, invalid(field, "%s entry %q %s", listName(field), e, err.Error())
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) > IPListMax {
		return nil, invalid(field, "%s has %d entries: use at most %d (write whole networks, e.g. 192.0.2.0/24, instead of single addresses)", listName(field), len(out), IPListMax)
	}
	return out, nil
}

func listName(field string) string {
	if field == "deny_ips" {
		return "IP deny list"
	}
	return "IP allow list"
}

// parsePrefix reads one entry of an IP list; its error completes the
// sentence "entry X ...".
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "%") {
		return netip.Prefix{}, errors.New("has an IPv6 zone (%...): remove it")
	}
	if !strings.Contains(s, "/") {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, errors.New("is not an IP address or network: write an address such as 192.0.2.7 or 2001:db8::7, or a network such as 192.0.2.0/24 or 2001:db8::/32")
		}
		if ip.Is4In6() {
			return netip.Prefix{}, fmt.Errorf("is an IPv4 address written as IPv6: write it as %s", ip.Unmap())
		}
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("is not a valid network: write an address, then / and the prefix length, e.g. 192.0.2.0/24 (0 to 32) or 2001:db8::/32 (0 to 128)")
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, errors.New("is an IPv4 network written as IPv6: write it in IPv4, e.g. 192.0.2.0/24")
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("has bits set after the prefix length: did you mean %s?", m)
	}
	return p, nil
}

// ControlsChange is a change to some of a sub-user's controls (and its
// quota); a nil field stays as it is. Values are as people type them: IP
// lists as entries, the expiry as YYYY-MM-DD or "never".
type ControlsChange struct {
	QuotaMB                  *int64
	MaxFiles                 *int64
	UploadKBps, DownloadKBps *int64
	AllowIPs, DenyIPs        *[]string
	ReadOnly, TLSRequired    *bool
	Expires                  *string
	MaxSessions              *int
}

// Empty reports whether the change changes nothing.
func (ch ControlsChange) Empty() bool { return ch == ControlsChange{} }

// Apply returns u with the change made. Every field is checked first and
// every refusal is returned at once (joined; KindOf and FieldOf give the
// first), so nothing is half-applied.
func (ch ControlsChange) Apply(u FTPUser) (FTPUser, error) {
	var errs []error
	num := func(field, what string, v *int64, max int64, dst *int64) {
		if v == nil {
			return
		}
		if *v < 0 || *v > max {
			errs = append(errs, invalid(field, "%s %d is out of range: use 0 for no limit, or at most %d", what, *v, max))
			return
		}
		*dst = *v
	}
	if ch.QuotaMB != nil {
		if err := ValidateQuotaMB(*ch.QuotaMB); err != nil {
			errs = append(errs, err)
		} else {
			u.QuotaMB = *ch.QuotaMB
		}
	}
	num("max_files", "maximum number of files", ch.MaxFiles, MaxFilesMax, &u.MaxFiles)
	num("upload_kbps", "upload bandwidth (KiB/s)", ch.UploadKBps, KBpsMax, &u.UploadKBps)
	num("download_kbps", "download bandwidth (KiB/s)", ch.DownloadKBps, KBpsMax, &u.DownloadKBps)
	if ch.MaxSessions != nil {
		want, sessions := int64(*ch.MaxSessions), int64(u.MaxSessions)
		num("max_sessions", "sessions at once", &want, MaxSessionsMax, &sessions)
		u.MaxSessions = int(sessions)
	}
	list := func(field string, entries *[]string, dst *[]netip.Prefix) {
		if entries == nil {
			return
		}
		l, err := ParseIPList(field, *entries)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*dst = l
	}
	list("allow_ips", ch.AllowIPs, &u.AllowIPs)
	list("deny_ips", ch.DenyIPs, &u.DenyIPs)
	if ch.Expires != nil {
		day, err := ParseExpiry(*ch.Expires)
		if err != nil {
			errs = append(errs, err)
		}
		u.Expires = day
	}
	if ch.ReadOnly != nil {
		u.ReadOnly = *ch.ReadOnly
	}
	if ch.TLSRequired != nil {
		u.TLSRequired = *ch.TLSRequired
	}
	if err := errors.Join(errs...); err != nil {
		return FTPUser{}, err
	}
	return u, nil
}

// QuotaMBMax bounds a quota so that it counts in bytes without overflow,
// with room to spare: 2^33 MB is 8 PiB.
const QuotaMBMax = 1 << 33

// ValidateQuotaMB checks a quota in MB (field "quota"): 0 for unlimited,
// or a size up to QuotaMBMax.
func ValidateQuotaMB(mb int64) error {
	if mb < 0 {
		return invalid("quota", "quota %d MB is negative: use 0 for unlimited or a size in MB", mb)
	}
	if mb > QuotaMBMax {
		return invalid("quota", "quota %d MB is too large: use at most %d MB (8 PiB), or 0 for unlimited", mb, int64(QuotaMBMax))
	}
	return nil
}

// SessionsMustEnd reports whether a change from before to after makes the
// rules stricter, so that the user's live sessions, which decided their
// rules at log-in, must end for it to apply at once: read-only or TLS
// turned on, an allow or deny list changed, an earlier expiry, or a quota,
// file limit, bandwidth or session limit set or lowered. A change that only
// relaxes the rules applies from the next log-in, without cutting a running
// transfer.
func SessionsMustEnd(before, after FTPUser) bool {
	b, a := before.Controls, after.Controls
	switch {
	case a.ReadOnly && !b.ReadOnly, a.TLSRequired && !b.TLSRequired:
		return true
	case !slices.Equal(a.AllowIPs, b.AllowIPs), !slices.Equal(a.DenyIPs, b.DenyIPs):
		return true
	case !a.Expires.IsZero() && (b.Expires.IsZero() || a.Expires.Before(b.Expires)):
		return true
	}
	return tighter(before.QuotaMB, after.QuotaMB) || tighter(b.MaxFiles, a.MaxFiles) ||
		tighter(b.UploadKBps, a.UploadKBps) || tighter(b.DownloadKBps, a.DownloadKBps) ||
		tighter(int64(b.MaxSessions), int64(a.MaxSessions))
}

// tighter reports whether a limit where 0 means none went from before to
// a stricter after.
func tighter(before, after int64) bool {
	return after != 0 && (before == 0 || after < before)
}

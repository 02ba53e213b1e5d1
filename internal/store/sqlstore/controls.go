package sqlstore

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// controlCols are the columns of domain.Controls, in the order of
// controlValues and controlRow.dest.
const controlCols = `max_files, upload_kbps, download_kbps, allow_ips, deny_ips,
	read_only, tls_required, expires, max_sessions`

// controlValues are c's column values. IP lists are stored as
// comma-separated networks (a single address as /32 or /128), the expiry
// as YYYY-MM-DD or "" for never.
func controlValues(c domain.Controls) []any {
	expires := ""
	if !c.Expires.IsZero() {
		expires = c.Expires.UTC().Format(domain.DateLayout)
	}
	return []any{c.MaxFiles, c.UploadKBps, c.DownloadKBps, prefixList(c.AllowIPs), prefixList(c.DenyIPs),
		c.ReadOnly, c.TLSRequired, expires, c.MaxSessions}
}

// controlRow receives the control columns of a row.
type controlRow struct {
	c           domain.Controls
	allow, deny string
	expires     string
}

func (r *controlRow) dest() []any {
	return []any{&r.c.MaxFiles, &r.c.UploadKBps, &r.c.DownloadKBps, &r.allow, &r.deny,
		&r.c.ReadOnly, &r.c.TLSRequired, &r.expires, &r.c.MaxSessions}
}

// controls decodes the row; an unreadable value (written by hand, say)
// is an error rather than a silently dropped restriction.
func (r *controlRow) controls() (domain.Controls, error) {
	c := r.c
	var err error
	if c.AllowIPs, err = parsePrefixList(r.allow); err != nil {
		return c, fmt.Errorf("allow_ips: %w", err)
	}
	if c.DenyIPs, err = parsePrefixList(r.deny); err != nil {
		return c, fmt.Errorf("deny_ips: %w", err)
	}
	if r.expires != "" {
		if c.Expires, err = time.Parse(domain.DateLayout, r.expires); err != nil {
			return c, fmt.Errorf("expires: %w", err)
		}
	}
	return c, nil
}

func prefixList(list []netip.Prefix) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// parsePrefixList reverses prefixList; "" is nil.
func parsePrefixList(s string) ([]netip.Prefix, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]netip.Prefix, len(parts))
	for i, p := range parts {
		var err error
		if out[i], err = netip.ParsePrefix(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

package web

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Formatting shared by the pages and the JSON feed, so the live table
// reads the same as the first server-rendered one.

// formatBytes writes n in binary units with one decimal: "0 B", "1.5 MiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatDuration is a short, coarse duration: "42 s", "5 min", "3 h 12 min".
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0 s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

// formatTime shows a moment in UTC, which is what the server's logs use;
// the script rewrites it into the browser's time zone (see timeView).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// timeView is a moment as the pages show it: in UTC from the server, and
// in the browser's own time zone, with the zone's name, once the script
// has read the <time datetime> attribute.
type timeView struct {
	ISO  string // RFC 3339 in UTC; "" for never
	Text string // "2026-01-02 15:04 UTC", or "Never"
}

func newTimeView(t time.Time) timeView {
	if t.IsZero() {
		return timeView{Text: "Never"}
	}
	return timeView{ISO: isoTime(t), Text: formatTime(t)}
}

// isoTime is t in UTC as RFC 3339, what the script reads.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ftpHost is the host name shown to connect to: the configured one, or
// the one the browser used to reach the panel.
func (s *server) ftpHost(r *http.Request) string {
	if s.cfg.FTPHost != "" {
		return s.cfg.FTPHost
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" || strings.ContainsAny(host, " /\\<>\"'") {
		return "localhost"
	}
	return host
}

// connectInfo is the box telling how to reach the FTP service.
type connectInfo struct {
	Host        string
	Port        int
	FTPSPort    int
	TLSRequired bool
}

func (s *server) connectInfo(r *http.Request) connectInfo {
	tls := s.cfg.TLSRequired
	// An administrator may have changed the TLS requirement since start.
	if set, saved, _, err := s.svc.Settings(r.Context()); err == nil && saved {
		tls = set.TLSRequired
	}
	return connectInfo{Host: s.ftpHost(r), Port: s.cfg.FTPPort, FTPSPort: s.cfg.FTPSPort, TLSRequired: tls}
}

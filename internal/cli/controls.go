package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// controlFlags are `ftp set`'s flags as typed; only those given change.
type controlFlags struct {
	quota, maxFiles, upload, download, maxSessions string
	allow, deny, expires                           string
	readOnly, tlsRequired                          bool
}

func (f *controlFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.quota, "quota", "", "upload quota in MB (0 or empty: no limit)")
	fs.StringVar(&f.maxFiles, "max-files", "", "most files, links and folders the folder may hold (0 or empty: no limit)")
	fs.StringVar(&f.upload, "upload-kbps", "", "upload bandwidth in KiB/s, shared by the user's sessions on a node (0 or empty: no limit)")
	fs.StringVar(&f.download, "download-kbps", "", "download bandwidth in KiB/s, shared by the user's sessions on a node (0 or empty: no limit)")
	fs.StringVar(&f.allow, "allow-ip", "", "log in only from these IPs or CIDR networks, comma-separated (empty: from anywhere)")
	fs.StringVar(&f.deny, "deny-ip", "", "never log in from these IPs or CIDR networks, comma-separated; wins over --allow-ip (empty: none)")
	fs.BoolVar(&f.readOnly, "read-only", false, "refuse every command that writes (upload, delete, rename, mkdir)")
	fs.BoolVar(&f.tlsRequired, "tls-required", false, "refuse log-in and transfers without TLS, even if the server allows them")
	fs.StringVar(&f.expires, "expires", "", "last day of access, YYYY-MM-DD (access ends at the end of that day, UTC), or never")
	fs.StringVar(&f.maxSessions, "max-sessions", "", "sessions at once, replacing the server's --max-per-user for this user (0 or empty: the server's)")
}

// change turns the flags given on the command line into a change; a
// number that is not one is refused with the field it is for.
func (f *controlFlags) change(fs *flag.FlagSet) (domain.ControlsChange, error) {
	var ch domain.ControlsChange
	var err error
	count := func(name, field, value string) *int64 {
		if err != nil {
			return nil
		}
		var n int64
		if value = strings.TrimSpace(value); value != "" {
			if n, err = strconv.ParseInt(value, 10, 64); err != nil {
				err = &domain.Error{Kind: domain.Invalid, Field: field,
					Msg: fmt.Sprintf("--%s must be a whole number (0 or empty for no limit), not %q", name, value)}
				return nil
			}
		}
		return &n
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "quota":
			ch.QuotaMB = count(fl.Name, "quota", f.quota)
		case "max-files":
			ch.MaxFiles = count(fl.Name, "max_files", f.maxFiles)
		case "upload-kbps":
			ch.UploadKBps = count(fl.Name, "upload_kbps", f.upload)
		case "download-kbps":
			ch.DownloadKBps = count(fl.Name, "download_kbps", f.download)
		case "max-sessions":
			if n := count(fl.Name, "max_sessions", f.maxSessions); n != nil {
				// Clamped first so that no value wraps into range on a
				// 32-bit int; the rule refuses both ends with its message.
				sessions := int(min(max(*n, -1), domain.MaxSessionsMax+1))
				ch.MaxSessions = &sessions
			}
		case "allow-ip":
			ch.AllowIPs = new(domain.SplitList(f.allow))
		case "deny-ip":
			ch.DenyIPs = new(domain.SplitList(f.deny))
		case "read-only":
			ch.ReadOnly = new(f.readOnly)
		case "tls-required":
			ch.TLSRequired = new(f.tlsRequired)
		case "expires":
			ch.Expires = new(f.expires)
		}
	})
	return ch, err
}

func ftpSet(ctx context.Context, in *input) error {
	ch, err := in.controls.change(in.fs)
	if err != nil {
		return err
	}
	if ch.Empty() {
		return usageErr("nothing to change: give at least one of --quota, --max-files, --upload-kbps, --download-kbps, --allow-ip, --deny-ip, --read-only, --tls-required, --expires, --max-sessions")
	}
	u, ended, err := in.svc.SetFTPControls(ctx, in.args[1], in.args[0], ch)
	if err != nil {
		return err
	}
	quota := "quota no limit"
	if u.QuotaMB > 0 {
		quota = fmt.Sprintf("quota %d MB", u.QuotaMB)
	}
	fmt.Fprintf(in.env.Stdout, "FTP user %s: %s\n", u.Username, strings.Join(append([]string{quota}, controlsText(u, in.svc.Now(), false)...), "; "))
	if ended {
		fmt.Fprintln(in.env.Stdout, "its live sessions are disconnected so the stricter rules apply at once")
	}
	return nil
}

// controlsText describes u's controls (not the quota); brief leaves out
// the ones at their default (no limit, no restriction).
func controlsText(u domain.FTPUser, now time.Time, brief bool) []string {
	var out []string
	add := func(isDefault bool, text string) {
		if !brief || !isDefault {
			out = append(out, text)
		}
	}
	limit := func(n int64, unit string) string {
		if n == 0 {
			return "no limit"
		}
		return fmt.Sprintf("%d%s", n, unit)
	}
	add(u.MaxFiles == 0, "files "+limit(u.MaxFiles, ""))
	add(u.UploadKBps == 0, "upload "+limit(u.UploadKBps, " KiB/s"))
	add(u.DownloadKBps == 0, "download "+limit(u.DownloadKBps, " KiB/s"))
	add(len(u.AllowIPs) == 0, "allow "+orText(domain.IPListText(u.AllowIPs), "any IP"))
	add(len(u.DenyIPs) == 0, "deny "+orText(domain.IPListText(u.DenyIPs), "none"))
	add(!u.ReadOnly, "read-only "+yesNo(u.ReadOnly))
	add(!u.TLSRequired, "TLS required "+yesNo(u.TLSRequired))
	switch {
	case u.Expires.IsZero():
		add(true, "expires never")
	case u.Expired(now):
		add(false, "expired on "+domain.ExpiryText(u.Expires))
	default:
		add(false, "expires at the end of "+domain.ExpiryText(u.Expires)+" UTC")
	}
	sessions := "the server's limit"
	if u.MaxSessions > 0 {
		sessions = strconv.Itoa(u.MaxSessions)
	}
	add(u.MaxSessions == 0, "sessions "+sessions)
	return out
}

func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

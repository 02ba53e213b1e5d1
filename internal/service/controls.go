package service

import (
	"context"

	"github.com/panelftp/panelftp/internal/domain"
)

// SetFTPControls changes the controls of a sub-user that ch gives (nil
// fields stay as they are) and returns the user as saved. Every field is
// checked before anything is saved. A change that makes the rules
// stricter (see domain.SessionsMustEnd) ends the user's live sessions so
// that it applies at once, and ended says so; one that only relaxes them
// applies from the next log-in, without cutting a running transfer.
func (s *Service) SetFTPControls(ctx context.Context, account, username string, ch domain.ControlsChange) (u domain.FTPUser, ended bool, err error) {
	if ch.Empty() {
		return domain.FTPUser{}, false, &domain.Error{Kind: domain.Invalid,
			Msg: "nothing to change: give at least one control (quota, file limit, bandwidth, IP lists, read-only, TLS, expiry, sessions)"}
	}
	found, err := s.GetFTPUser(ctx, account, username)
	if err != nil {
		return domain.FTPUser{}, false, err
	}
	// The change is applied to the user as the store holds it, under its
	// lock, so that another change saved meanwhile is kept.
	u, err = s.store.ModifyFTPUser(ctx, found.Username, func(before domain.FTPUser) (domain.FTPUser, bool, error) {
		u, err := ch.Apply(before)
		if err != nil {
			return u, false, err
		}
		u.UpdatedAt = s.now().UTC()
		ended = domain.SessionsMustEnd(before, u)
		return u, ended, nil
	})
	if err != nil {
		return domain.FTPUser{}, false, err
	}
	s.log.Info("FTP user controls changed", "account", u.Account, "user", u.Username, "quota_mb", u.QuotaMB,
		"max_files", u.MaxFiles, "upload_kbps", u.UploadKBps, "download_kbps", u.DownloadKBps,
		"allow_ips", domain.IPListText(u.AllowIPs), "deny_ips", domain.IPListText(u.DenyIPs),
		"read_only", u.ReadOnly, "tls_required", u.TLSRequired, "expires", domain.ExpiryText(u.Expires),
		"max_sessions", u.MaxSessions, "sessions_ended", ended)
	return u, ended, nil
}

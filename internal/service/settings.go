package service

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Settings returns the live FTP service settings an administrator saved,
// and saved=false when none are (the command-line values apply).
func (s *Service) Settings(ctx context.Context) (set domain.Settings, saved bool, at time.Time, err error) {
	set, at, err = s.store.GetSettings(ctx)
	if isNotFound(err) {
		return domain.Settings{}, false, time.Time{}, nil
	}
	return set, err == nil, at, err
}

// SaveSettings stores settings that every node applies at once (see feed),
// overriding the command-line values until ResetSettings.
// The banner is saved without surrounding blanks.
func (s *Service) SaveSettings(ctx context.Context, set domain.Settings) error {
	var err error
	if set.Banner, err = domain.NormalizeBanner(set.Banner); err != nil {
		return err
	}
	if err := set.Validate(); err != nil {
		return err
	}
	if err := s.store.PutSettings(ctx, set, s.now().UTC()); err != nil {
		return err
	}
	s.log.Info("FTP service settings saved", "public_host", set.PublicHost, "tls_required", set.TLSRequired,
		"max_connections", set.MaxConnections, "max_per_ip", set.MaxPerIP, "max_per_user", set.MaxPerUser,
		"banner", set.Banner, "hide_server_name", set.HideServerName)
	return nil
}

// ResetSettings returns to the command-line values.
func (s *Service) ResetSettings(ctx context.Context) error {
	if err := s.store.DeleteSettings(ctx); err != nil {
		return err
	}
	s.log.Info("FTP service settings reset to the command-line values")
	return nil
}

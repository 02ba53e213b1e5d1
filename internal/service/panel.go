package service

import (
	"context"
	"time"
)

// LogOutPanelSession records that the web panel session with this nonce
// was logged out; every node refuses its cookie from then on, until it
// expires.
func (s *Service) LogOutPanelSession(ctx context.Context, nonce string, expires time.Time) error {
	return s.store.AddPanelLogout(ctx, nonce, expires.UTC(), s.now().Add(-logoutClockSkew).UTC())
}

// logoutClockSkew is how long a log-out is kept past its session's
// expiry, for the nodes whose clocks run behind the one that prunes.
const logoutClockSkew = time.Hour

// PanelSessionLoggedOut reports whether the web panel session with this
// nonce was logged out, on any node.
func (s *Service) PanelSessionLoggedOut(ctx context.Context, nonce string) (bool, error) {
	return s.store.PanelLoggedOut(ctx, nonce)
}

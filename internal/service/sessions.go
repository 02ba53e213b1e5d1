package service

import (
	"context"

	"github.com/panelftp/panelftp/internal/domain"
)

// ListSessions returns the live FTP sessions of every node, of one account
// or all when account is "".
func (s *Service) ListSessions(ctx context.Context, account string) ([]domain.Session, error) {
	return s.store.ListSessions(ctx, domain.Lower(account))
}

// Kick asks the node serving session id to end it (control and data
// connection). With account set, a session of another account is reported
// as not found.
func (s *Service) Kick(ctx context.Context, account, id string) error {
	sess, err := s.store.GetSession(ctx, id)
	if isNotFound(err) || (err == nil && account != "" && sess.Account != domain.Lower(account)) {
		return domain.NotFoundf("session %s is not connected", id)
	}
	if err != nil {
		return err
	}
	if err := s.store.KickSession(ctx, id); err != nil {
		return err
	}
	s.log.Info("session disconnect requested", "session", id, "user", sess.Username, "remote", sess.RemoteAddr)
	return nil
}

package app

import (
	"fmt"
	"log/slog"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/store"
)

// The defender is the service's one keeper of bans.
var _ service.Bans = (*defender.Defender)(nil)

// newDefender builds the keeper of IP bans and failure scores from the
// --ban-* flags. It is built even with bans off (--ban-threshold 0),
// since the CLI and the panel still list, put and lift bans through it;
// only then it guards nothing. With PostgreSQL (shared), failed log-ins
// are counted in the store, together with the other nodes.
func newDefender(b config.Bans, st store.Store, shared bool, log *slog.Logger) (*defender.Defender, error) {
	safe, err := defender.ParseSafeList(b.SafeList)
	if err != nil {
		return nil, fmt.Errorf("--ban-safe-list: %w", err)
	}
	cfg := defender.Config{Threshold: b.Threshold, Window: b.Window, BanTime: b.BanTime, MaxBan: b.MaxBan, SafeList: safe}
	if shared {
		cfg.Shared = st
	}
	return defender.New(cfg, st, log), nil
}

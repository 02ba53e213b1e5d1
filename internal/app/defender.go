package app

import (
	"fmt"
	"log/slog"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/store"
)

// newDefender builds the IP ban keeper from the --ban-* flags; nil when
// --ban-threshold is 0. With PostgreSQL, failed log-ins are counted in the
// store, together with the other nodes.
func newDefender(c config.Serve, st store.Store, log *slog.Logger) (*defender.Defender, error) {
	b := c.Bans
	if b.Threshold <= 0 {
		return nil, nil
	}
	safe, err := defender.ParseSafeList(b.SafeList)
	if err != nil {
		return nil, fmt.Errorf("--ban-safe-list: %w", err)
	}
	cfg := defender.Config{Threshold: b.Threshold, Window: b.Window, BanTime: b.BanTime, MaxBan: b.MaxBan, SafeList: safe}
	if c.DB != "" {
		cfg.Shared = st
	}
	return defender.New(cfg, st, log), nil
}

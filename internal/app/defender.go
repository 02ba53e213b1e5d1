package app

import (
	"fmt"
	"log/slog"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/store"
)

// newDefender builds the IP ban keeper from the --ban-* flags; nil when
// --ban-threshold is 0.
func newDefender(b config.Bans, st store.Bans, log *slog.Logger) (*defender.Defender, error) {
	if b.Threshold <= 0 {
		return nil, nil
	}
	safe, err := defender.ParseSafeList(b.SafeList)
	if err != nil {
		return nil, fmt.Errorf("--ban-safe-list: %w", err)
	}
	return defender.New(defender.Config{
		Threshold: b.Threshold, Window: b.Window, BanTime: b.BanTime, MaxBan: b.MaxBan, SafeList: safe,
	}, st, log), nil
}

package app

import (
	"context"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftpd"
	"github.com/panelftp/panelftp/internal/sessions"
)

// settingsEvery is how often a node re-reads the live settings.
const settingsEvery = 2 * time.Second

// background starts the loops that keep this node in step with the
// others through the store: session publishing and kicks, bans, and the
// live settings. They stop when ctx ends; Wait for them.
func (n *node) background(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	loop := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	loop(func(ctx context.Context) { n.reg.Run(ctx, n.st, sessions.NodeID(), n.log) })
	if n.guard != nil {
		loop(n.guard.Run)
	}
	loop(n.followSettings)
	return &wg
}

// followSettings applies the live settings an administrator saved (or the
// flags, when none are saved) whenever they change.
func (n *node) followSettings(ctx context.Context) {
	var applied domain.Settings
	first := true
	for {
		set, saved, _, err := n.svc.Settings(ctx)
		if err != nil {
			if ctx.Err() == nil {
				n.log.Warn("could not read the FTP service settings; keeping the current ones", "err", err)
			}
		} else {
			if !saved {
				set = liveDefaults(n.cfg)
			}
			if first || set != applied {
				n.apply(set, saved)
				applied, first = set, false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(settingsEvery):
		}
	}
}

func (n *node) apply(set domain.Settings, saved bool) {
	if err := n.ftp.SetLive(ftpd.Live{PublicHost: set.PublicHost, TLSRequired: set.TLSRequired, Greeting: set.Greeting()}); err != nil {
		n.log.Error("live settings refused", "err", err)
		return
	}
	n.reg.SetLimits(sessions.Limits{MaxConnections: set.MaxConnections, MaxPerIP: set.MaxPerIP, MaxPerUser: set.MaxPerUser})
	if saved {
		n.log.Info("FTP service settings applied", "public_host", set.PublicHost, "tls_required", set.TLSRequired,
			"max_connections", set.MaxConnections, "max_per_ip", set.MaxPerIP, "max_per_user", set.MaxPerUser)
	}
}

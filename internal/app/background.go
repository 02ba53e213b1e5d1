package app

import (
	"context"
	"sync"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/feed"
	"github.com/panelftp/panelftp/internal/ftpd"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/store"
)

// background starts the loops that keep this node in step with the
// others through the store: publishing the sessions, following the change
// feed (kicks, bans, live settings) and forgetting old bans. They stop
// when ctx ends; Wait for them.
func (n *node) background(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	loop := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	loop(n.reg.Run)
	followers := []feed.Follower{
		{Name: "kicks", Apply: n.reg.Apply, Resync: n.reg.Resync},
		{Name: "settings", Apply: n.settingsChanged, Resync: n.loadSettings},
	}
	if n.guard != nil {
		loop(n.guard.Run)
		followers = append(followers, feed.Follower{Name: "bans", Apply: n.guard.Apply, Resync: n.guard.Resync})
	}
	cfg := feed.Config{Retention: 3 * n.cfg.NodeTimeout, Log: n.log, Watcher: n.watcher}
	loop(func(ctx context.Context) { feed.Run(ctx, n.st, cfg, followers...) })
	return &wg
}

// settingsChanged re-reads the live settings when changes say they
// changed.
func (n *node) settingsChanged(ctx context.Context, changes []store.Change) {
	for _, c := range changes {
		if c.Kind == store.ChangeSettings {
			if err := n.loadSettings(ctx); err != nil {
				// The feed re-reads everything once the store answers again.
				n.log.Warn("could not read the changed FTP service settings; keeping the current ones", "err", err)
			}
			return
		}
	}
}

// loadSettings applies the live settings an administrator saved, or the
// flags when none are saved.
func (n *node) loadSettings(ctx context.Context) error {
	set, saved, _, err := n.svc.Settings(ctx)
	if err != nil {
		return err
	}
	if !saved {
		set = liveDefaults(n.cfg)
	}
	n.apply(set, saved)
	return nil
}

// apply puts set in force. This node's own --public-host, when given,
// wins over the saved one: nodes behind their own public addresses each
// announce theirs.
func (n *node) apply(set domain.Settings, saved bool) {
	if n.cfg.PublicHost != "" {
		set.PublicHost = n.cfg.PublicHost
	}
	if err := n.ftp.SetLive(ftpd.Live{PublicHost: set.PublicHost, TLSRequired: set.TLSRequired, Greeting: set.Greeting()}); err != nil {
		n.log.Error("live settings refused", "err", err)
		return
	}
	n.reg.SetLimits(sessions.Limits{MaxConnections: set.MaxConnections, MaxPerIP: set.MaxPerIP, MaxPerUser: set.MaxPerUser})
	n.mu.Lock()
	changed := n.applied == nil || *n.applied != set
	n.applied = &set
	n.mu.Unlock()
	if saved && changed {
		n.log.Info("FTP service settings applied", "public_host", set.PublicHost, "tls_required", set.TLSRequired,
			"max_connections", set.MaxConnections, "max_per_ip", set.MaxPerIP, "max_per_user", set.MaxPerUser)
	}
}

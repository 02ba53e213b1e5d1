package defender

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// Run keeps this node's bans in step with the store until ctx ends: it
// loads them at once, then every Refresh, and drops the failure scores
// that left the window. A failing store is logged once when it starts
// failing and once when it recovers; meanwhile the bans last loaded stay
// in force.
func (d *Defender) Run(ctx context.Context) {
	tick := time.NewTicker(d.cfg.Refresh)
	defer tick.Stop()
	failing := false
	for {
		err := d.Load(ctx)
		d.fails.prune(int64(d.cfg.Now().Sub(d.epoch)))
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			d.log.Warn("cannot refresh IP bans from the store; keeping the bans loaded before", "err", err)
		case err == nil && failing:
			d.log.Info("IP bans refreshed from the store again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Load replaces this node's bans with those in force in the store, plus
// the ones this node applied but could not save yet (which it first tries
// to save again). On error the bans loaded before stay in force.
func (d *Defender) Load(ctx context.Context) error {
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	retryErr := d.retryPending(ctx)

	d.mu.Lock()
	d.journal = map[netip.Prefix]ban{}
	d.mu.Unlock()
	rows, err := d.st.ListBans(ctx)
	now := d.cfg.Now()
	var table map[netip.Prefix]ban
	bad := 0
	if err == nil {
		table, bad = activeBans(rows, now)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	journal := d.journal
	d.journal = nil
	if err != nil {
		return fmt.Errorf("defender: loading bans: %w", errors.Join(err, retryErr))
	}
	for k, b := range d.pending {
		if !b.Until.After(now) {
			delete(d.pending, k)
		} else if t := b.Until.UnixNano(); t > table[k].until {
			table[k] = ban{until: t, count: b.Count}
		}
	}
	for k, b := range journal {
		table[k] = b
	}
	d.bans = table
	if bad != d.badRows {
		d.badRows = bad
		if bad > 0 {
			d.log.Warn("ignoring IP bans whose address is unreadable or a network other than an IPv6 /64", "rows", bad)
		}
	}
	return retryErr
}

// activeBans builds a ban table from the store rows still in force.
func activeBans(rows []store.Ban, now time.Time) (table map[netip.Prefix]ban, bad int) {
	table = make(map[netip.Prefix]ban, len(rows))
	for _, r := range rows {
		if !r.Until.After(now) {
			continue // expired: the row only keeps the repeat count
		}
		k, ok := parseKey(r.IP)
		if !ok {
			bad++
			continue
		}
		if t := r.Until.UnixNano(); t > table[k].until {
			table[k] = ban{until: t, count: r.Count}
		}
	}
	return table, bad
}

// retryPending writes the bans the store refused before, unless the store
// meanwhile holds one lasting at least as long. The caller holds loadMu.
func (d *Defender) retryPending(ctx context.Context) error {
	d.mu.RLock()
	todo := make([]store.Ban, 0, len(d.pending))
	for _, b := range d.pending {
		todo = append(todo, b)
	}
	d.mu.RUnlock()
	now := d.cfg.Now()
	for _, b := range todo {
		if !b.Until.After(now) {
			continue // Load drops it
		}
		cur, err := d.st.GetBan(ctx, b.IP)
		switch {
		case err == nil && !cur.Until.Before(b.Until):
		case err == nil || errors.Is(err, domain.ErrNotFound):
			err = d.st.PutBan(ctx, b)
		}
		if err != nil {
			// The store is most likely down: try the rest next time
			// rather than wait for each of them to fail.
			return fmt.Errorf("defender: saving the ban of %s (in force on this node only until saved): %w", b.IP, err)
		}
		k, _ := parseKey(b.IP)
		d.mu.Lock()
		if p, ok := d.pending[k]; ok && p.Until.Equal(b.Until) {
			delete(d.pending, k)
		}
		d.mu.Unlock()
	}
	return nil
}

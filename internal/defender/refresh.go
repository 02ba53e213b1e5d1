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

// Run forgets, every minute until ctx ends, the failure scores that left
// the window and, in the store, the failures older than the window and the
// bans that ended more than Forget ago. A failing store is logged once
// when it starts failing and once when it recovers.
func (d *Defender) Run(ctx context.Context) {
	tick := time.NewTicker(pruneEvery)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := d.cfg.Now()
		d.fails.prune(int64(now.Sub(d.epoch)))
		err := d.pruneStore(ctx, now)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			d.log.Warn("cannot forget old bans and failures in the store; retrying", "err", err)
		case err == nil && failing:
			d.log.Info("forgetting old bans and failures in the store again")
		}
		failing = err != nil
	}
}

func (d *Defender) pruneStore(ctx context.Context, now time.Time) error {
	err := d.st.PruneBans(ctx, now.Add(-d.cfg.Forget).UTC())
	if d.cfg.Shared != nil {
		err = errors.Join(err, d.cfg.Shared.PruneLoginFailures(ctx, now.Add(-d.cfg.Window).UTC()))
	}
	return err
}

// Apply refreshes the bans that changes name (store.ChangeBan), as the
// change feed brings them: a ban put or lifted by another node, the CLI or
// the panel applies here at once. Many at once are read in one Load.
func (d *Defender) Apply(ctx context.Context, changes []store.Change) {
	var keys []string
	for _, c := range changes {
		if c.Kind == store.ChangeBan {
			keys = append(keys, c.Key)
		}
	}
	var err error
	switch {
	case len(keys) == 0:
		return
	case len(keys) > 64:
		err = d.Load(ctx)
	default:
		err = d.refresh(ctx, keys...)
	}
	if err != nil {
		// The feed re-reads everything once the store answers again.
		d.log.Warn("cannot refresh changed IP bans from the store", "err", err)
	}
}

// Resync re-reads every ban in force (Load), when the change feed may have
// missed some.
func (d *Defender) Resync(ctx context.Context) error { return d.Load(ctx) }

// refresh re-reads the store rows of keys and puts them in force here, or
// lifts them when they are gone or ended; a row gone also takes the
// failure score of its client with it.
func (d *Defender) refresh(ctx context.Context, keys ...string) error {
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	now := d.cfg.Now()
	for _, name := range keys {
		k, ok := parseKey(name)
		if !ok {
			continue
		}
		row, err := d.st.GetBan(ctx, name)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return fmt.Errorf("defender: reading the ban of %s: %w", name, err)
		}
		d.mu.Lock()
		if _, pending := d.pending[k]; !pending {
			if err == nil && row.Until.After(now) {
				d.bans[k] = ban{until: row.Until.UnixNano(), count: row.Count}
			} else {
				delete(d.bans, k)
			}
		}
		d.mu.Unlock()
		if err != nil {
			// Only a lift deletes a row with a change (pruning records
			// none): an administrator's pardon, which forgets the score
			// on every node, as Unban does on its own.
			d.fails.forget(domain.ClientKey(k.Addr()))
		}
	}
	return nil
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
	now := d.cfg.Now()
	rows, err := d.st.ListBans(ctx, now)
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
func activeBans(rows []domain.Ban, now time.Time) (table map[netip.Prefix]ban, bad int) {
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
	todo := make([]domain.Ban, 0, len(d.pending))
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

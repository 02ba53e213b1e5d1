package sessions

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// storeTimeout bounds one store call, so a stuck database cannot hold up
// the loop once it answers again.
const storeTimeout = 5 * time.Second

// Run shares the registry's sessions with every process using the
// cluster's store until ctx ends. Every second it publishes the sessions
// that changed since the previous publish and the IDs of those that ended;
// at least every quarter of NodeTTL it sends a heartbeat, so an idle node
// costs one small transaction every few seconds. When the store did not
// know the node — it removed it as dead while this node could not publish,
// say because the process was stopped — every session is published again.
// It clears the node's sessions when it starts and when ctx ends. Store
// errors are logged once when they start and once when they end, and
// retried; Run returns only when ctx ends.
//
// Ending stale sessions is Apply's and Resync's job, which the change
// feed's follower calls.
func (r *Registry) Run(ctx context.Context) {
	c := r.clusterConfig()
	p := &publisher{reg: r, c: c, sent: map[string]domain.Session{}}
	if err := p.call(ctx, func(ctx context.Context) error { return c.Store.ClearNode(ctx, c.Node) }); err != nil {
		c.Log.Warn("could not clear this node's old sessions", "err", err)
	}
	tick := time.NewTicker(r.publishEvery)
	defer tick.Stop()
	p.publish(ctx)
	for {
		select {
		case <-ctx.Done():
			// The parent context is gone; clearing still deserves a chance.
			clearCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
			if err := c.Store.ClearNode(clearCtx, c.Node); err != nil {
				c.Log.Warn("could not clear this node's sessions at stop", "err", err)
			}
			cancel()
			return
		case <-tick.C:
			p.publish(ctx)
		}
	}
}

// publisher is Run's state. It is used by Run's goroutine only.
type publisher struct {
	reg *Registry
	c   Cluster

	sent     map[string]domain.Session // as last published
	lastBeat time.Time                 // of the last successful publish
	failing  bool
}

func (p *publisher) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return fn(ctx)
}

// publish sends what changed since the last successful publish, or only a
// heartbeat when it is due. On failure nothing is marked as sent, so the
// next tick sends it again.
func (p *publisher) publish(ctx context.Context) {
	for _, id := range p.reg.takeClaimed() {
		if _, ok := p.sent[id]; !ok {
			p.sent[id] = domain.Session{} // stored by its claim: update or delete it
		}
	}
	now := p.reg.now()
	changed, gone := p.diff()
	if len(changed) == 0 && len(gone) == 0 && now.Sub(p.lastBeat) < p.c.NodeTTL/4 {
		return
	}
	var known bool
	err := p.call(ctx, func(ctx context.Context) (err error) {
		known, err = p.c.Store.PublishSessions(ctx, p.c.Node, p.c.NodeTTL, changed, gone)
		return err
	})
	p.report(err)
	if err != nil {
		return
	}
	published := !p.lastBeat.IsZero()
	p.lastBeat = now
	for _, x := range changed {
		p.sent[x.ID] = x
	}
	for _, id := range gone {
		delete(p.sent, id)
	}
	if !known && published && len(p.sent) > 0 {
		// The store had forgotten this node: what it held is gone.
		p.c.Log.Info("the store had removed this node while it could not publish; publishing its sessions again", "sessions", len(p.sent))
		clear(p.sent)
		p.publish(ctx)
	}
}

// diff returns the sessions that changed since they were last published
// and the IDs of those that ended.
func (p *publisher) diff() (changed []domain.Session, gone []string) {
	current := p.reg.List()
	seen := make(map[string]bool, len(current))
	for _, x := range current {
		x.Node = p.c.Node
		seen[x.ID] = true
		if old, ok := p.sent[x.ID]; !ok || old != x {
			changed = append(changed, x)
		}
	}
	for id := range p.sent {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	return changed, gone
}

// report logs the first failure and the recovery, not every retry.
func (p *publisher) report(err error) {
	switch {
	case err != nil && !p.failing:
		p.c.Log.Warn("cannot publish this node's sessions to the store; retrying", "err", err)
	case err == nil && p.failing:
		p.c.Log.Info("publishing this node's sessions to the store again")
	}
	p.failing = err != nil
}

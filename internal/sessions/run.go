package sessions

import (
	"context"
	"log/slog"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

const (
	// storeTimeout bounds one store call, so a stuck database cannot stop
	// kicks from being applied once it answers again.
	storeTimeout = 5 * time.Second
	// kickRetention is how long kicks stay in the store; every node polls
	// far more often than that.
	kickRetention = time.Minute
)

// Run shares the registry with every process using st until ctx ends.
// Every second it publishes the sessions that changed since the previous
// publish, the IDs of those that ended, and the node's heartbeat (idle
// sessions cost nothing); four times a second it reads the kicks requested
// since the last one it saw and applies those aimed at its sessions, by
// session ID or by username. It clears the node's sessions from the store
// when it starts and when ctx ends. Store errors are logged and retried;
// Run returns only when ctx ends.
//
// node must be unique to this process (see NodeID).
func (r *Registry) Run(ctx context.Context, st store.Sessions, node string, log *slog.Logger) {
	p := &publisher{reg: r, st: st, node: node, log: log.With("node", node), sent: map[string]domain.Session{}}
	if err := p.call(ctx, func(ctx context.Context) error { return st.ClearNode(ctx, node) }); err != nil {
		p.log.Warn("could not clear this node's old sessions", "err", err)
	}
	p.loadKickSeq(ctx)
	publish := time.NewTicker(r.publishEvery)
	defer publish.Stop()
	kicks := time.NewTicker(r.kickEvery)
	defer kicks.Stop()
	p.publish(ctx)
	for {
		select {
		case <-ctx.Done():
			// The parent context is gone; clearing still deserves a chance.
			clearCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
			if err := st.ClearNode(clearCtx, node); err != nil {
				p.log.Warn("could not clear this node's sessions at stop", "err", err)
			}
			cancel()
			return
		case <-publish.C:
			p.publish(ctx)
		case <-kicks.C:
			p.pollKicks(ctx)
		}
	}
}

// publisher is Run's state. It is used by Run's goroutine only.
type publisher struct {
	reg  *Registry
	st   store.Sessions
	node string
	log  *slog.Logger

	sent    map[string]domain.Session // as last published
	seq     int64                     // last kick applied
	seqOK   bool                      // seq was read from the store
	failing map[string]bool           // operations whose last call failed
}

func (p *publisher) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return fn(ctx)
}

// report logs the first failure of op and the recovery, not every retry.
func (p *publisher) report(op string, err error) {
	if p.failing == nil {
		p.failing = map[string]bool{}
	}
	switch {
	case err != nil && !p.failing[op]:
		p.failing[op] = true
		p.log.Warn("session store unavailable, retrying", "op", op, "err", err)
	case err == nil && p.failing[op]:
		p.failing[op] = false
		p.log.Info("session store available again", "op", op)
	}
}

func (p *publisher) loadKickSeq(ctx context.Context) {
	err := p.call(ctx, func(ctx context.Context) (err error) {
		p.seq, err = p.st.LastKickSeq(ctx)
		return err
	})
	p.seqOK = err == nil
	p.report("read last kick", err)
}

// publish sends what changed since the last successful publish. On failure
// nothing is marked as sent, so the next tick sends it again.
func (p *publisher) publish(ctx context.Context) {
	now := p.reg.now()
	current := p.reg.List()
	var changed []domain.Session
	seen := make(map[string]bool, len(current))
	for _, x := range current {
		x.Node = p.node
		seen[x.ID] = true
		if old, ok := p.sent[x.ID]; !ok || old != x {
			changed = append(changed, x)
		}
	}
	var gone []string
	for id := range p.sent {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	err := p.call(ctx, func(ctx context.Context) error {
		return p.st.PublishSessions(ctx, p.node, now, changed, gone)
	})
	p.report("publish sessions", err)
	if err != nil {
		return
	}
	for _, x := range changed {
		p.sent[x.ID] = x
	}
	for _, id := range gone {
		delete(p.sent, id)
	}
}

// pollKicks applies the kicks requested since the last one seen.
func (p *publisher) pollKicks(ctx context.Context) {
	if !p.seqOK {
		// Without a starting point, old kicks would be replayed.
		p.loadKickSeq(ctx)
		return
	}
	var kicks []store.Kick
	err := p.call(ctx, func(ctx context.Context) (err error) {
		kicks, err = p.st.KicksAfter(ctx, p.seq, p.reg.now().Add(-kickRetention))
		return err
	})
	p.report("read kicks", err)
	for _, k := range kicks {
		p.seq = max(p.seq, k.Seq)
		if k.SessionID != "" && p.reg.Kick(k.SessionID) {
			p.log.Info("session kicked on request", "session", k.SessionID)
		}
		if k.Username != "" {
			if n := p.reg.KickUser(k.Username, k.At); n > 0 {
				p.log.Info("user's sessions kicked on request", "user", k.Username, "sessions", n)
			}
		}
	}
}

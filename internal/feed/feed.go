// Package feed follows the store's change feed (store.Changes) for one
// node and hands each change to the parts of the node that act on it: the
// session registry ends stale sessions, the defender refreshes a ban, the
// live settings are re-read.
//
// On PostgreSQL the store announces each commit that records changes
// (LISTEN/NOTIFY, store.ChangeWatcher): the feed reads them at once and
// otherwise polls only slowly, as a fallback, so an idle node costs the
// database almost nothing. Without announcements (SQLite) it polls often;
// on one machine that is a read of a local file.
//
// Nothing is lost: changes are recorded in the same transaction as the
// write they describe and read in order from where the node left off.
// When the node may have missed some — at start, when the store had
// already pruned changes it had not read (it was paused or cut off for
// longer than Retention), and when the store comes back after failing —
// every follower re-reads what it follows (Follower.Resync).
package feed

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/store"
)

// Follower is one part of the node that acts on changes.
type Follower struct {
	// Name is the follower's name in the log.
	Name string
	// Apply acts on changes, in feed order, ignoring the kinds it does not
	// follow. It is called from the feed's goroutine.
	Apply func(ctx context.Context, changes []store.Change)
	// Resync re-reads everything the follower follows from the store.
	Resync func(ctx context.Context) error
}

// Config tunes Run. The zero value of each field is its default.
type Config struct {
	// Watcher announces changes as they commit (PostgreSQL); nil polls.
	Watcher store.ChangeWatcher
	// Poll is how often the feed is read when nothing was announced:
	// default 250ms without a Watcher, 10s while the Watcher listens.
	Poll time.Duration
	// Retention is how long changes stay in the store (default 1m): a
	// node that did not read the feed for longer re-reads everything.
	// Run prunes older changes every third of it.
	Retention time.Duration
	// Log receives one line when reading or re-reading starts failing and
	// one when it works again (default: none).
	Log *slog.Logger
}

// Defaults of Config.
const (
	DefaultPoll        = 250 * time.Millisecond
	DefaultWatchedPoll = 10 * time.Second
	DefaultRetention   = time.Minute
)

// page is how many changes one read returns at most.
const page = 1000

// storeTimeout bounds one store call, and a follower's Apply or Resync,
// so that a database that stops answering cannot hold the feed up.
const storeTimeout = 5 * time.Second

// Run follows st's change feed until ctx ends, handing every change to
// each follower in turn. It starts from the oldest change the store still
// keeps and with a Resync of every follower, so a change recorded before
// Run started is not lost either.
func Run(ctx context.Context, st store.Changes, cfg Config, followers ...Follower) {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	f := &follower{st: st, cfg: cfg, followers: followers, wake: make(chan struct{}, 1),
		failing: map[string]bool{}, resync: true}
	if cfg.Watcher != nil {
		go f.watch(ctx)
	}
	prune := time.NewTicker(cfg.Retention / 3)
	defer prune.Stop()
	for {
		f.catchUp(ctx)
		timer := time.NewTimer(f.pollEvery())
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-f.wake:
				waiting = false
			case <-timer.C:
				waiting = false
			case <-prune.C:
				f.prune(ctx)
			}
		}
		timer.Stop()
	}
}

// follower is Run's state.
type follower struct {
	st        store.Changes
	cfg       Config
	followers []Follower
	wake      chan struct{}

	seq     int64           // last change handed on
	resync  bool            // the followers must re-read everything
	failing map[string]bool // what failed last time: "read" or a follower's name

	mu        sync.Mutex
	listening bool               // the Watcher listens
	rewatch   context.CancelFunc // restarts the Watcher's connection
}

// catchUp hands on every change after seq, and has the followers re-read
// everything first when they may have missed some.
func (f *follower) catchUp(ctx context.Context) {
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, storeTimeout)
		changes, complete, err := f.st.ChangesAfter(cctx, f.seq, page)
		cancel()
		if f.report("read", "cannot read the change feed; retrying", "reading the change feed again", err) {
			return
		}
		if !complete && f.seq > 0 {
			f.cfg.Log.Warn("changes were pruned before this node read them (it was paused or cut off); re-reading everything",
				"after", f.seq)
			f.resync = true
		}
		if f.resync {
			f.resyncAll(ctx)
		}
		if len(changes) > 0 {
			for _, fl := range f.followers {
				actx, cancel := context.WithTimeout(ctx, storeTimeout)
				fl.Apply(actx, changes)
				cancel()
			}
			f.seq = changes[len(changes)-1].Seq
		}
		if len(changes) < page {
			return
		}
	}
}

// resyncAll calls every follower's Resync; the ones that fail are retried
// at the next catchUp.
func (f *follower) resyncAll(ctx context.Context) {
	ok := true
	for _, fl := range f.followers {
		rctx, cancel := context.WithTimeout(ctx, storeTimeout)
		err := fl.Resync(rctx)
		cancel()
		if f.report(fl.Name, "cannot re-read from the store; retrying", "re-read from the store again", err) {
			ok = false
		}
	}
	f.resync = !ok
}

// report logs the first failure of what and its recovery, not every
// retry, and reports whether err is a failure. When reading the feed
// recovers, the followers re-read everything and the Watcher reconnects:
// both may have missed what happened meanwhile.
func (f *follower) report(what, failMsg, okMsg string, err error) bool {
	switch {
	case err != nil && !f.failing[what]:
		f.cfg.Log.Warn(failMsg, "part", what, "err", err)
	case err == nil && f.failing[what]:
		f.cfg.Log.Info(okMsg, "part", what)
		if what == "read" {
			f.resync = true
			f.restartWatch()
		}
	}
	f.failing[what] = err != nil
	return err != nil
}

// prune forgets the changes older than Retention.
func (f *follower) prune(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	f.report("prune", "cannot prune the change feed; retrying", "pruning the change feed again",
		f.st.PruneChanges(ctx, f.cfg.Retention))
}

func (f *follower) pollEvery() time.Duration {
	if f.cfg.Poll > 0 {
		return f.cfg.Poll
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listening {
		return DefaultWatchedPoll
	}
	return DefaultPoll
}

// signal wakes Run without blocking; one pending wake-up is enough.
func (f *follower) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// watch keeps the Watcher listening until ctx ends, reconnecting with a
// growing pause (1 s to 30 s) after each failure, logged once.
func (f *follower) watch(ctx context.Context) {
	pause := time.Second
	failing := false
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		f.mu.Lock()
		f.rewatch = cancel
		f.mu.Unlock()
		err := f.cfg.Watcher.WatchChanges(wctx, func() {
			f.setListening(true)
			pause = time.Second
			if failing {
				f.cfg.Log.Info("listening for changes again")
				failing = false
			}
			f.signal() // read what was committed while not listening
		}, f.signal)
		f.setListening(false)
		restarted := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		if ctx.Err() != nil {
			return
		}
		if restarted {
			continue
		}
		if !failing {
			f.cfg.Log.Warn("cannot listen for changes; polling meanwhile", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (f *follower) setListening(v bool) {
	f.mu.Lock()
	f.listening = v
	f.mu.Unlock()
}

// restartWatch makes the Watcher open a fresh connection: the one it held
// may be dead without knowing it.
func (f *follower) restartWatch() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rewatch != nil {
		f.rewatch()
	}
}

package sessions

import (
	"context"
	"fmt"
	"time"

	"github.com/panelftp/panelftp/internal/store"
)

// Apply ends the sessions that changes make stale, as they arrive from the
// change feed: those of a changed user or account that logged in with an
// older version, and those kicked by ID. It also refuses, for a while, the
// log-ins in flight that read the data before the change. Changes of other
// kinds are ignored.
func (r *Registry) Apply(ctx context.Context, changes []store.Change) {
	now := r.now()
	var victims []*Session
	why := map[*Session]string{}
	r.mu.Lock()
	r.forgetFloorsLocked(now)
	for _, c := range changes {
		switch c.Kind {
		case store.ChangeUser:
			raise(r.staleUser, c.Key, c.Seq, now)
		case store.ChangeAccount:
			raise(r.staleAccount, c.Key, c.Seq, now)
		case store.ChangeSession:
			if s := r.byID[c.Key]; s != nil {
				victims = append(victims, s)
				why[s] = "kicked on request"
			}
			continue
		default:
			continue
		}
		for _, s := range r.byID {
			user, account, v := s.login()
			if user == "" {
				continue
			}
			if (c.Kind == store.ChangeUser && user == c.Key && v.User < c.Seq) ||
				(c.Kind == store.ChangeAccount && account == c.Key && v.Account < c.Seq) {
				victims = append(victims, s)
				why[s] = fmt.Sprintf("its %s changed", c.Kind)
			}
		}
	}
	r.mu.Unlock()
	r.end(victims, why)
}

// Resync ends every live session whose user is gone or disabled, or whose
// user or account has a newer version than the one it logged in with, as
// the store says now. The change feed's follower calls it when it may have
// missed changes: at start, after the store came back, after a gap.
func (r *Registry) Resync(ctx context.Context) error {
	c := r.clusterConfig()
	live := r.all()
	var names []string
	seen := map[string]bool{}
	for _, s := range live {
		if u, _, _ := s.login(); u != "" && !seen[u] {
			seen[u] = true
			names = append(names, u)
		}
	}
	if len(names) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	states, err := c.Store.LoginStates(ctx, names)
	if err != nil {
		return err
	}
	now := r.now()
	var victims []*Session
	why := map[*Session]string{}
	r.mu.Lock()
	r.forgetFloorsLocked(now)
	for name := range seen {
		if st, ok := states[name]; ok {
			raise(r.staleUser, name, st.Versions.User, now)
		}
	}
	for _, s := range live {
		user, _, v := s.login()
		st, ok := states[user]
		switch {
		case user == "":
		case !ok:
			victims, why[s] = append(victims, s), "its user is gone"
		case !st.Enabled:
			victims, why[s] = append(victims, s), "its user or account is disabled"
		case v.Older(st.Versions):
			victims, why[s] = append(victims, s), "its user or account changed"
		}
	}
	r.mu.Unlock()
	r.end(victims, why)
	return nil
}

// end kicks victims and logs why.
func (r *Registry) end(victims []*Session, why map[*Session]string) {
	log := r.clusterConfig().Log
	for _, s := range victims {
		if s.Kicked() {
			continue
		}
		user, _, _ := s.login()
		log.Info("session ended", "session", s.id, "user", user, "reason", why[s])
		s.Kick()
	}
}

// raise records in floors that key's sessions below version are stale.
func raise(floors map[string]floor, key string, version int64, now time.Time) {
	if f := floors[key]; version > f.version {
		floors[key] = floor{version: version, at: now}
	}
}

// forgetFloorsLocked drops the floors older than floorKept: no log-in is
// in flight that long. The caller holds r.mu.
func (r *Registry) forgetFloorsLocked(now time.Time) {
	for _, floors := range []map[string]floor{r.staleUser, r.staleAccount} {
		for k, f := range floors {
			if now.Sub(f.at) > floorKept {
				delete(floors, k)
			}
		}
	}
}

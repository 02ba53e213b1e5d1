// Package defender keeps password-guessing clients out of panelftp. It owns
// the per-IP failure scores of this process and the in-memory copy of the IP
// bans that every node shares through the store (store.Bans), and it is the
// only writer of ban rows: an administrator's bans from the CLI or the panel
// reach it through the service (Ban, Unban, List).
//
// The FTP engine asks Banned at every connection, before anything else; the
// answer comes from memory (one or two map look-ups), so a flood of
// connections never reaches the database. After every failed log-in the
// engine and the web panel call Failure: once an IP (an IPv6 /64, see below)
// has failed Threshold times within Window, it is banned for BanTime,
// doubled on every repeat ban up to MaxBan, and the ban is written to the
// store. With Config.Shared (several nodes), the failures are counted in the
// store, so the Threshold holds for the whole cluster whichever nodes saw
// them. Every write of a ban records a change in the store's feed; Apply
// refreshes the bans it names and Resync (Load) re-reads them all, so bans
// made by other nodes, the CLI or the panel apply here as soon as the feed
// brings them, and survive a restart. Run forgets old failures and bans.
//
// What a ban or a score applies to:
//   - IPv4-mapped IPv6 addresses (::ffff:192.0.2.7) are the IPv4 address
//     itself, and IPv6 zones are ignored.
//   - IPv4 is scored and banned per address.
//   - IPv6 is scored and banned per /64: one subscriber, one server or one
//     mobile phone usually gets a whole /64 and can pick any of its 2^64
//     addresses, so counting per address would never catch anyone. The store
//     row of such a ban names the network, e.g. "2001:db8:1:2::/64". Manual
//     bans (Ban) apply to exactly the address given.
//
// Memory stays bounded under a flood of distinct addresses: at most
// Config.MaxTracked scores are kept (150 to 270 bytes each with the
// default Threshold, so under 30 MB at the default 100,000), the least
// recently failing is forgotten first, and scores whose last failure left
// the window are dropped. The ban table holds only the bans in force.
package defender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// Defaults of Config.
const (
	DefaultThreshold  = 10
	DefaultWindow     = 10 * time.Minute
	DefaultBanTime    = 15 * time.Minute
	DefaultMaxBan     = 24 * time.Hour
	DefaultMaxTracked = 100_000
	DefaultForget     = 30 * 24 * time.Hour
)

// pruneEvery is how often Run forgets old failures and bans.
const pruneEvery = time.Minute

// maxPending caps the bans kept for a later write while the store fails.
const maxPending = 10_000

// Config tunes a Defender. The zero value of each field (or a negative
// one) means its default.
type Config struct {
	// Threshold is how many failed log-ins within Window ban an IP
	// (default 10).
	Threshold int
	// Window is how far back failures count (default 10m).
	Window time.Duration
	// BanTime is the length of an IP's first ban (default 15m); each repeat
	// ban doubles it.
	BanTime time.Duration
	// MaxBan caps the length of a ban (default 24h).
	MaxBan time.Duration
	// SafeList names the addresses and networks that are never banned,
	// such as the administrator's office or monitoring. Nothing is safe by
	// default, not even loopback. See ParseSafeList.
	SafeList []netip.Prefix
	// Forget is how long after a ban ended its row, and so its repeat
	// count, is kept (default 30 days): an IP banned again within it gets
	// a longer ban.
	Forget time.Duration
	// Shared, when set, counts the failures in the store, together with
	// every other node using it; nil counts this node's failures only (one
	// node). Either way, the failures are also counted in memory, which
	// takes over while the store fails.
	Shared store.LoginFailures
	// MaxTracked caps how many IPs (IPv6 /64s) have a failure score at once
	// (default 100,000); the least recently failing one is forgotten first.
	MaxTracked int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.MaxTracked <= 0 {
		c.MaxTracked = DefaultMaxTracked
	}
	def(&c.Window, DefaultWindow)
	def(&c.BanTime, DefaultBanTime)
	def(&c.MaxBan, DefaultMaxBan)
	def(&c.Forget, DefaultForget)
	if c.Now == nil {
		c.Now = time.Now
	}
	c.SafeList = normalizeSafeList(c.SafeList)
	return c
}

// Defender scores failed log-ins and keeps banned IPs out. It is safe for
// concurrent use.
type Defender struct {
	cfg   Config
	st    store.Bans
	log   *slog.Logger
	epoch time.Time // failure times are kept as durations since epoch
	fails *failures

	// loadMu serialises Load and Unban, so that a reload cannot bring back a
	// ban that Unban is lifting.
	loadMu sync.Mutex

	mu   sync.RWMutex
	bans map[netip.Prefix]ban // bans in force (lazily expired)
	// pending holds bans applied here whose write to the store failed;
	// Load retries them and keeps them in force meanwhile.
	pending map[netip.Prefix]domain.Ban
	// journal, non-nil while Load reads the store, records the bans
	// applied meanwhile, so the table Load swaps in does not lose them.
	journal map[netip.Prefix]ban
	badRows int // unreadable store rows seen by the last Load
}

// ban is one ban in force, kept small: the table may hold many.
type ban struct {
	until int64 // Unix nanoseconds
	count int
}

// New returns a Defender over st, with cfg's zero fields set to their
// defaults; cfg itself is not modified. A nil log discards. Call Run (or
// Load) so that the bans already in the store apply.
func New(cfg Config, st store.Bans, log *slog.Logger) *Defender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	return &Defender{
		cfg:     cfg,
		st:      st,
		log:     log,
		epoch:   cfg.Now(),
		fails:   newFailures(cfg.MaxTracked, cfg.Threshold, cfg.Window),
		bans:    map[netip.Prefix]ban{},
		pending: map[netip.Prefix]domain.Ban{},
	}
}

// Banned reports whether ip is banned now, and until when. It reads memory
// only and is cheap enough to run for every connection. Safe-listed IPs are
// never banned, whatever the store says.
func (d *Defender) Banned(ip netip.Addr) (until time.Time, banned bool) {
	ip, ok := normalize(ip)
	if !ok {
		return time.Time{}, false
	}
	now := d.cfg.Now().UnixNano()
	d.mu.RLock()
	b := d.bans[hostKey(ip)]
	if ip.Is6() {
		if n := d.bans[domain.ClientKey(ip)]; n.until > b.until {
			b = n
		}
	}
	d.mu.RUnlock()
	// The safe list is only consulted for a hit, keeping the common path
	// to the map look-ups.
	if b.until <= now || d.safe(ip) {
		return time.Time{}, false
	}
	return time.Unix(0, b.until), true
}

// Failure records a failed log-in from ip. When it brings the IP's score
// (its /64's for IPv6) to Threshold failures within Window, the IP is
// banned here at once and in the store, and Failure reports true; it also
// reports true for an IP that is already banned. A safe-listed IP is never
// scored nor banned. reason (e.g. "wrong password for bob.site") goes into
// the ban's reason.
//
// A store error does not weaken the defence: the failure counts, the ban
// applies on this node and is retried by the next Load; the error is
// returned for the caller to log.
func (d *Defender) Failure(ctx context.Context, ip netip.Addr, reason string) (banned bool, err error) {
	ip, ok := normalize(ip)
	if !ok {
		return false, errors.New("defender: failure from an invalid IP address")
	}
	if d.safe(ip) {
		return false, nil
	}
	if _, banned := d.Banned(ip); banned {
		// Already out (a connection opened before the ban, or a ban from
		// another node): don't count again, which would lengthen the ban.
		return true, nil
	}
	now := d.cfg.Now()
	key := domain.ClientKey(ip)
	shared, sharedErr := d.countShared(ctx, key, now)
	// Checking the ban, counting and closing the door happen under the
	// table's lock, so that once key reaches Threshold no other failure
	// of it counts before it is banned here (which would ban it twice).
	d.fails.mu.Lock()
	if _, banned := d.Banned(ip); banned {
		d.fails.mu.Unlock()
		return true, nil
	}
	n, reached := d.fails.addLocked(key, int64(now.Sub(d.epoch)))
	if shared > n {
		// The store counted failures seen by other nodes too.
		n, reached = shared, shared >= d.cfg.Threshold
		if reached {
			d.fails.forgetLocked(key)
		}
	}
	known := 0
	if reached {
		// Ban at once with what this node knows; banForFailures corrects
		// the length once the store has told the repeat count.
		known = d.knownCount(key)
		d.apply(key, ban{until: now.Add(d.banTime(known)).UnixNano(), count: known + 1})
	}
	d.fails.mu.Unlock()
	if !reached {
		return false, sharedErr
	}
	return true, errors.Join(sharedErr, d.banForFailures(ctx, key, n, known, reason, now))
}

// countShared records a failure of key in the shared store and returns
// how many key has there within the window; 0 without a shared store.
func (d *Defender) countShared(ctx context.Context, key netip.Prefix, now time.Time) (int, error) {
	if d.cfg.Shared == nil {
		return 0, nil
	}
	n, err := d.cfg.Shared.AddLoginFailure(ctx, domain.KeyText(key), now.UTC(), now.Add(-d.cfg.Window).UTC())
	if err != nil {
		return 0, fmt.Errorf("defender: counting the failure of %s with the other nodes (counted here only): %w", domain.KeyText(key), err)
	}
	return n, nil
}

// banForFailures bans key after n failures, known being the repeat count
// this node knew of. The ban is already in force here; it gets its final
// length from the store's repeat count and is then written to the store.
func (d *Defender) banForFailures(ctx context.Context, key netip.Prefix, n, known int, reason string, now time.Time) error {
	name := domain.KeyText(key)
	var readErr error
	count := known
	prev, err := d.st.GetBan(ctx, name)
	switch {
	case err == nil && prev.Until.After(now):
		// Another node banned it since our last Load: adopt that ban
		// rather than count the same offence twice.
		d.apply(key, ban{until: prev.Until.UnixNano(), count: prev.Count})
		return nil
	case err == nil:
		count = prev.Count
	case errors.Is(err, domain.ErrNotFound):
		count = 0
	default:
		readErr = fmt.Errorf("defender: reading the ban history of %s: %w", name, err)
	}
	why := fmt.Sprintf("%d failed log-ins within %v", n, d.cfg.Window)
	if reason != "" {
		why += " (last: " + reason + ")"
	}
	b := domain.Ban{IP: name, Until: now.Add(d.banTime(count)).UTC(), Count: count + 1, Reason: why, At: now.UTC()}
	d.apply(key, ban{until: b.Until.UnixNano(), count: b.Count})
	d.log.Info("IP banned", "ip", name, "until", b.Until, "failures", n, "count", b.Count)
	if err := d.st.PutBan(ctx, b); err != nil {
		d.keepPending(key, b)
		return errors.Join(readErr, fmt.Errorf("defender: saving the ban of %s (in force on this node only until saved): %w", name, err))
	}
	return readErr
}

// banTime is BanTime doubled count times, capped at MaxBan.
func (d *Defender) banTime(count int) time.Duration {
	t := d.cfg.BanTime
	for i := 0; i < count && t < d.cfg.MaxBan; i++ {
		t *= 2
	}
	return min(t, d.cfg.MaxBan)
}

// Ban bans exactly ip (not its /64) for dur, here at once and on every node
// through the store, for an administrator (the CLI, the panel). The ban
// counts as a repeat ban for later automatic ones. It returns the row
// written. It refuses a non-positive dur and a safe-listed IP (whose ban
// would have no effect) with a domain.ErrInvalid error; nothing changes
// when the store fails.
func (d *Defender) Ban(ctx context.Context, ip netip.Addr, dur time.Duration, reason string) (domain.Ban, error) {
	ip, ok := normalize(ip)
	if !ok {
		return domain.Ban{}, &domain.Error{Kind: domain.Invalid, Field: "ip", Msg: "an IP address to ban is required"}
	}
	if dur <= 0 {
		return domain.Ban{}, &domain.Error{Kind: domain.Invalid, Field: "for", Msg: fmt.Sprintf("ban duration %v must be positive, e.g. 1h or 30m", dur)}
	}
	if d.safe(ip) {
		return domain.Ban{}, &domain.Error{Kind: domain.Invalid, Field: "ip", Msg: fmt.Sprintf("%s is on the safe list (--ban-safe-list), so a ban would not keep it out: take it off the safe list first", ip)}
	}
	key := hostKey(ip)
	name := domain.KeyText(key)
	count := 0
	if prev, err := d.st.GetBan(ctx, name); err == nil {
		count = prev.Count
	} else if !errors.Is(err, domain.ErrNotFound) {
		return domain.Ban{}, fmt.Errorf("defender: reading the ban of %s: %w", name, err)
	}
	now := d.cfg.Now()
	b := domain.Ban{IP: name, Until: now.Add(dur).UTC(), Count: count + 1, Reason: reason, At: now.UTC()}
	if err := d.st.PutBan(ctx, b); err != nil {
		return domain.Ban{}, fmt.Errorf("defender: saving the ban of %s: %w", name, err)
	}
	d.apply(key, ban{until: b.Until.UnixNano(), count: b.Count})
	d.log.Info("IP banned", "ip", name, "until", b.Until, "failures", 0, "count", b.Count, "reason", reason)
	return b, nil
}

// Unban lifts a ban here at once and deletes it from the store, so other
// nodes lift it as soon as the change feed tells them. ip is one address
// (a single-IP prefix) or a network as List shows it ("2001:db8:1:2::/64").
// For one IPv6 address it lifts both the address's own ban and its /64's,
// since either keeps it out. It also forgets the failure score, and the
// store row goes with its repeat count: an administrator's unban is a
// pardon. It returns a domain.ErrNotFound error when nothing was banned;
// when the store fails, nothing changes here and the error is returned.
func (d *Defender) Unban(ctx context.Context, ip netip.Prefix) error {
	if !ip.IsValid() {
		return &domain.Error{Kind: domain.Invalid, Field: "ip", Msg: "an IP address to unban is required"}
	}
	ip = normalizePrefix(ip)
	keys := []netip.Prefix{ip}
	if ip.IsSingleIP() && ip.Addr().Is6() {
		keys = append(keys, domain.ClientKey(ip.Addr()))
	}
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	found := false
	for _, k := range keys {
		err := d.st.DeleteBan(ctx, domain.KeyText(k))
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, domain.ErrNotFound):
			return fmt.Errorf("defender: lifting the ban of %s: %w", domain.KeyText(k), err)
		}
	}
	now := d.cfg.Now().UnixNano()
	d.mu.Lock()
	for _, k := range keys {
		if b, ok := d.bans[k]; ok && b.until > now {
			found = true
		}
		if _, ok := d.pending[k]; ok {
			found = true
		}
		delete(d.bans, k)
		delete(d.pending, k)
	}
	d.mu.Unlock()
	d.fails.forget(domain.ClientKey(ip.Addr()))
	if !found {
		return domain.NotFoundf("IP %s is not banned", domain.KeyText(ip))
	}
	d.log.Info("IP ban lifted", "ip", domain.KeyText(ip))
	return nil
}

// List returns the bans in force according to the store, soonest to
// expire first. Bans kept on this node only because the store failed are
// not listed.
func (d *Defender) List(ctx context.Context) ([]domain.Ban, error) {
	active, err := d.st.ListBans(ctx, d.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("defender: listing bans: %w", err)
	}
	slices.SortStableFunc(active, func(a, b domain.Ban) int { return a.Until.Compare(b.Until) })
	return active, nil
}

// apply puts b in force for key on this node.
func (d *Defender) apply(key netip.Prefix, b ban) {
	d.mu.Lock()
	d.bans[key] = b
	if d.journal != nil {
		d.journal[key] = b
	}
	d.mu.Unlock()
}

// knownCount is key's repeat count as this node knows it, for when the
// store cannot tell.
func (d *Defender) knownCount(key netip.Prefix) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.bans[key].count
}

// keepPending remembers a ban the store refused, for Load to retry.
func (d *Defender) keepPending(key netip.Prefix, b domain.Ban) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pending[key]; ok || len(d.pending) < maxPending {
		d.pending[key] = b
	}
}

func (d *Defender) safe(ip netip.Addr) bool {
	for _, p := range d.cfg.SafeList {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// normalize makes one IP of its spellings: ::ffff:192.0.2.7 is 192.0.2.7,
// and a zone (fe80::1%eth0) does not make another address.
func normalize(ip netip.Addr) (netip.Addr, bool) {
	if !ip.IsValid() {
		return ip, false
	}
	return ip.Unmap().WithZone(""), true
}

// hostKey is the ban key of exactly ip.
func hostKey(ip netip.Addr) netip.Prefix {
	return netip.PrefixFrom(ip, ip.BitLen())
}

// parseKey reads a store row's IP; ok is false for what no look-up could
// match (garbage, or a network other than an IPv6 /64).
func parseKey(s string) (k netip.Prefix, ok bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		a, _ = normalize(a)
		return hostKey(a), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	p = normalizePrefix(p)
	switch {
	case p.IsSingleIP():
		return p, true
	case p.Addr().Is6() && p.Bits() == 64:
		return p, true
	}
	return netip.Prefix{}, false
}

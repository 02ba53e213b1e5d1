package service

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Bans is the one owner of IP bans and failure scores: it writes the ban
// rows every node shares and keeps them in force on this one;
// *defender.Defender implements it. The service calls it for the bans an
// administrator puts or lifts from the CLI or the panel, after reading
// what was typed.
type Bans interface {
	// Ban bans exactly ip for dur and returns the row written. It refuses
	// a non-positive dur (field "for") and a safe-listed ip (field "ip")
	// with a domain.ErrInvalid error.
	Ban(ctx context.Context, ip netip.Addr, dur time.Duration, reason string) (domain.Ban, error)
	// Unban lifts the ban of ip, one address (a single-IP prefix, which
	// for IPv6 also lifts its /64) or a network as List shows it, and
	// forgets its failure score. It returns a domain.ErrNotFound error
	// when nothing was banned.
	Unban(ctx context.Context, ip netip.Prefix) error
	// List returns the bans in force, soonest to expire first.
	List(ctx context.Context) ([]domain.Ban, error)
}

// errNoBans is returned by the ban use cases of a Service built without
// Options.Bans.
var errNoBans = errors.New("service: no ban keeper configured")

// ListBans returns the IP bans in force now, soonest to expire first.
func (s *Service) ListBans(ctx context.Context) ([]domain.Ban, error) {
	if s.bans == nil {
		return nil, errNoBans
	}
	return s.bans.List(ctx)
}

// AddBan keeps ip out of the FTP service and the panel for dur; this node
// applies it at once, every other node as soon as it reads the change
// feed. A safe-listed ip is refused: its ban would have no effect.
func (s *Service) AddBan(ctx context.Context, ip string, dur time.Duration, reason string) (domain.Ban, error) {
	addr, err := parseIP(ip)
	if err != nil {
		return domain.Ban{}, err
	}
	if s.bans == nil {
		return domain.Ban{}, errNoBans
	}
	return s.bans.Ban(ctx, addr, dur, reason)
}

// RemoveBan lifts the ban of ip and forgets its failed log-ins (a pardon).
// Automatic bans of IPv6 clients cover their whole /64, so an IPv6
// address also lifts the ban of its /64, and a /64 prefix
// ("2001:db8:1:2::/64") may be given as it appears in the ban list.
func (s *Service) RemoveBan(ctx context.Context, ip string) error {
	target, err := netip.ParsePrefix(ip)
	if err != nil {
		addr, err := parseIP(ip)
		if err != nil {
			return err
		}
		target = netip.PrefixFrom(addr, addr.BitLen())
	}
	if s.bans == nil {
		return errNoBans
	}
	return s.bans.Unban(ctx, target)
}

func parseIP(ip string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}, &domain.Error{Kind: domain.Invalid, Field: "ip", Msg: fmt.Sprintf("%q is not an IP address: give one such as 203.0.113.7 or 2001:db8::7", ip)}
	}
	return addr.Unmap().WithZone(""), nil
}

package service

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// ListBans returns the IP bans in force now, soonest to expire first.
func (s *Service) ListBans(ctx context.Context) ([]store.Ban, error) {
	active, err := s.store.ListBans(ctx, s.now())
	if err != nil {
		return nil, err
	}
	sort.Slice(active, func(i, j int) bool { return active[i].Until.Before(active[j].Until) })
	return active, nil
}

// AddBan keeps ip out of the FTP service and the panel for dur; every node
// applies it as soon as it reads the change feed.
func (s *Service) AddBan(ctx context.Context, ip string, dur time.Duration, reason string) (store.Ban, error) {
	addr, err := parseIP(ip)
	if err != nil {
		return store.Ban{}, err
	}
	if dur <= 0 {
		return store.Ban{}, &domain.Error{Kind: domain.Invalid, Field: "for", Msg: fmt.Sprintf("ban duration %v must be positive, e.g. 1h or 30m", dur)}
	}
	now := s.now().UTC()
	b := store.Ban{IP: addr.String(), Until: now.Add(dur), Count: 1, Reason: reason, At: now}
	if old, err := s.store.GetBan(ctx, b.IP); err == nil {
		b.Count = old.Count + 1
	} else if !isNotFound(err) {
		return store.Ban{}, err
	}
	if err := s.store.PutBan(ctx, b); err != nil {
		return store.Ban{}, err
	}
	s.log.Info("IP banned", "ip", b.IP, "until", b.Until, "reason", reason)
	return b, nil
}

// RemoveBan lifts the ban of ip. Automatic bans of IPv6 clients cover their
// whole /64, so an IPv6 address also lifts the ban of its /64, and a /64
// prefix ("2001:db8:1:2::/64") may be given as it appears in ban list.
func (s *Service) RemoveBan(ctx context.Context, ip string) error {
	keys, err := banKeys(ip)
	if err != nil {
		return err
	}
	lifted := false
	for _, key := range keys {
		err := s.store.DeleteBan(ctx, key)
		if err == nil {
			lifted = true
			s.log.Info("IP ban lifted", "ip", key)
		} else if !isNotFound(err) {
			return err
		}
	}
	if !lifted {
		return domain.NotFoundf("IP %s is not banned", ip)
	}
	return nil
}

// banKeys lists the ban rows that can keep ip out.
func banKeys(ip string) ([]string, error) {
	if p, err := netip.ParsePrefix(ip); err == nil {
		return []string{p.Masked().String()}, nil
	}
	addr, err := parseIP(ip)
	if err != nil {
		return nil, err
	}
	keys := []string{addr.String()}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		keys = append(keys, p.String())
	}
	return keys, nil
}

func parseIP(ip string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}, &domain.Error{Kind: domain.Invalid, Field: "ip", Msg: fmt.Sprintf("%q is not an IP address: give one such as 203.0.113.7 or 2001:db8::7", ip)}
	}
	return addr.Unmap(), nil
}

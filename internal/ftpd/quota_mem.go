package ftpd

import (
	"context"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// memQuotas is the QuotaStore of a server given none: the usage lives in
// this process only, as for a single node that keeps nothing.
type memQuotas struct {
	mu sync.Mutex
	m  map[string]domain.QuotaUsage
}

var _ QuotaStore = (*memQuotas)(nil)

func newMemQuotas() *memQuotas { return &memQuotas{m: map[string]domain.QuotaUsage{}} }

// HoldQuota implements QuotaStore: no other node can hold a user.
func (s *memQuotas) HoldQuota(_ context.Context, username, _ string, _ time.Duration) (domain.QuotaUsage, bool, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, found := s.m[username]
	return u, found, false, nil
}

func (s *memQuotas) RenewQuotaHolds(context.Context, string, time.Duration) error { return nil }

func (s *memQuotas) ReleaseQuotaHold(_ context.Context, username, _ string, unusedBytes, unusedFiles int64) error {
	_, _, err := s.ReserveQuota(context.Background(), username, -unusedBytes, -unusedFiles, 0, 0)
	return err
}

func (s *memQuotas) SetQuotaUsage(_ context.Context, username string, measured, base domain.QuotaUsage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, found := s.m[username]; found {
		measured.Bytes += cur.Bytes - base.Bytes
		measured.Files += cur.Files - base.Files
	}
	s.m[username] = measured
	return nil
}

func (s *memQuotas) ReserveQuota(_ context.Context, username string, bytes, files, maxBytes, maxFiles int64) (int64, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, found := s.m[username]
	if !found {
		return 0, 0, domain.NotFoundf("no quota usage of %s", username)
	}
	addBytes, addFiles := fits(bytes, u.Bytes, maxBytes), fits(files, u.Files, maxFiles)
	u.Bytes += addBytes
	u.Files += addFiles
	s.m[username] = u
	return addBytes, addFiles, nil
}

// fits is how much of want fits when used of limit (0 = none) is in
// use; a negative want always fits.
func fits(want, used, limit int64) int64 {
	if want <= 0 || limit <= 0 {
		return want
	}
	return max(0, min(want, limit-used))
}

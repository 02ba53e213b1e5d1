// Package measured wraps a store.Store and reports the duration and the
// error of every call to an Observer, for the metrics. It adds no
// behaviour of its own. Every method of store.Store is written out here:
// a method added to the interface breaks the build until it is measured
// too.
package measured

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// Observer receives one report per store call: the operation (the
// method's name, e.g. "GetFTPUser"), how long it took and the error it
// returned, refusals such as domain.ErrNotFound included.
type Observer interface {
	StoreCall(op string, d time.Duration, err error)
}

// Store is a store.Store that reports its calls.
type Store struct {
	next store.Store
	obs  Observer
}

var _ store.Store = (*Store)(nil)

// New wraps next; every call is reported to obs.
func New(next store.Store, obs Observer) *Store { return &Store{next: next, obs: obs} }

func (s *Store) observe(op string, start time.Time, err *error) {
	s.obs.StoreCall(op, time.Since(start), *err)
}

// Close closes the wrapped store; it is not measured.
func (s *Store) Close() error { return s.next.Close() }

func (s *Store) CreateAccount(ctx context.Context, a domain.Account) (err error) {
	defer s.observe("CreateAccount", time.Now(), &err)
	return s.next.CreateAccount(ctx, a)
}

func (s *Store) CreateAccountIf(ctx context.Context, a domain.Account, check func([]domain.Account) error) (err error) {
	defer s.observe("CreateAccountIf", time.Now(), &err)
	return s.next.CreateAccountIf(ctx, a, check)
}

func (s *Store) GetAccount(ctx context.Context, name string) (_ domain.Account, err error) {
	defer s.observe("GetAccount", time.Now(), &err)
	return s.next.GetAccount(ctx, name)
}

func (s *Store) ListAccounts(ctx context.Context) (_ []domain.Account, err error) {
	defer s.observe("ListAccounts", time.Now(), &err)
	return s.next.ListAccounts(ctx)
}

func (s *Store) ModifyAccount(ctx context.Context, name string, change func(domain.Account) (domain.Account, error)) (_ domain.Account, err error) {
	defer s.observe("ModifyAccount", time.Now(), &err)
	return s.next.ModifyAccount(ctx, name, change)
}

func (s *Store) UpdateAccount(ctx context.Context, a domain.Account) (err error) {
	defer s.observe("UpdateAccount", time.Now(), &err)
	return s.next.UpdateAccount(ctx, a)
}

func (s *Store) DeleteAccount(ctx context.Context, name string) (err error) {
	defer s.observe("DeleteAccount", time.Now(), &err)
	return s.next.DeleteAccount(ctx, name)
}

func (s *Store) CreateFTPUser(ctx context.Context, u domain.FTPUser, limit int) (err error) {
	defer s.observe("CreateFTPUser", time.Now(), &err)
	return s.next.CreateFTPUser(ctx, u, limit)
}

func (s *Store) GetFTPUser(ctx context.Context, username string) (_ domain.FTPUser, err error) {
	defer s.observe("GetFTPUser", time.Now(), &err)
	return s.next.GetFTPUser(ctx, username)
}

func (s *Store) ListFTPUsers(ctx context.Context, account string) (_ []domain.FTPUser, err error) {
	defer s.observe("ListFTPUsers", time.Now(), &err)
	return s.next.ListFTPUsers(ctx, account)
}

func (s *Store) CountFTPUsers(ctx context.Context, account string) (_ int, err error) {
	defer s.observe("CountFTPUsers", time.Now(), &err)
	return s.next.CountFTPUsers(ctx, account)
}

func (s *Store) ModifyFTPUser(ctx context.Context, username string, change func(domain.FTPUser) (domain.FTPUser, bool, error)) (_ domain.FTPUser, err error) {
	defer s.observe("ModifyFTPUser", time.Now(), &err)
	return s.next.ModifyFTPUser(ctx, username, change)
}

func (s *Store) UpdateFTPUser(ctx context.Context, u domain.FTPUser, endSessions bool) (err error) {
	defer s.observe("UpdateFTPUser", time.Now(), &err)
	return s.next.UpdateFTPUser(ctx, u, endSessions)
}

func (s *Store) DeleteFTPUser(ctx context.Context, username string) (err error) {
	defer s.observe("DeleteFTPUser", time.Now(), &err)
	return s.next.DeleteFTPUser(ctx, username)
}

func (s *Store) RecordLogin(ctx context.Context, username string, at time.Time, ip string) (err error) {
	defer s.observe("RecordLogin", time.Now(), &err)
	return s.next.RecordLogin(ctx, username, at, ip)
}

func (s *Store) LoginStates(ctx context.Context, usernames []string) (_ map[string]store.LoginState, err error) {
	defer s.observe("LoginStates", time.Now(), &err)
	return s.next.LoginStates(ctx, usernames)
}

func (s *Store) PublishSessions(ctx context.Context, node string, ttl time.Duration, changed []domain.Session, gone []string) (_ bool, err error) {
	defer s.observe("PublishSessions", time.Now(), &err)
	return s.next.PublishSessions(ctx, node, ttl, changed, gone)
}

func (s *Store) ClearNode(ctx context.Context, node string) (err error) {
	defer s.observe("ClearNode", time.Now(), &err)
	return s.next.ClearNode(ctx, node)
}

func (s *Store) ListSessions(ctx context.Context, account string) (_ []domain.Session, err error) {
	defer s.observe("ListSessions", time.Now(), &err)
	return s.next.ListSessions(ctx, account)
}

func (s *Store) GetSession(ctx context.Context, id string) (_ domain.Session, err error) {
	defer s.observe("GetSession", time.Now(), &err)
	return s.next.GetSession(ctx, id)
}

func (s *Store) ClaimSession(ctx context.Context, c store.SessionClaim) (err error) {
	defer s.observe("ClaimSession", time.Now(), &err)
	return s.next.ClaimSession(ctx, c)
}

func (s *Store) ChangesAfter(ctx context.Context, after int64, limit int) (_ []store.Change, _ bool, err error) {
	defer s.observe("ChangesAfter", time.Now(), &err)
	return s.next.ChangesAfter(ctx, after, limit)
}

func (s *Store) PruneChanges(ctx context.Context, olderThan time.Duration) (err error) {
	defer s.observe("PruneChanges", time.Now(), &err)
	return s.next.PruneChanges(ctx, olderThan)
}

func (s *Store) KickSession(ctx context.Context, id string) (err error) {
	defer s.observe("KickSession", time.Now(), &err)
	return s.next.KickSession(ctx, id)
}

func (s *Store) CreateAdmin(ctx context.Context, a domain.Admin) (err error) {
	defer s.observe("CreateAdmin", time.Now(), &err)
	return s.next.CreateAdmin(ctx, a)
}

func (s *Store) GetAdmin(ctx context.Context, name string) (_ domain.Admin, err error) {
	defer s.observe("GetAdmin", time.Now(), &err)
	return s.next.GetAdmin(ctx, name)
}

func (s *Store) ListAdmins(ctx context.Context) (_ []domain.Admin, err error) {
	defer s.observe("ListAdmins", time.Now(), &err)
	return s.next.ListAdmins(ctx)
}

func (s *Store) UpdateAdminPassword(ctx context.Context, name, hash string) (err error) {
	defer s.observe("UpdateAdminPassword", time.Now(), &err)
	return s.next.UpdateAdminPassword(ctx, name, hash)
}

func (s *Store) DeleteAdmin(ctx context.Context, name string) (err error) {
	defer s.observe("DeleteAdmin", time.Now(), &err)
	return s.next.DeleteAdmin(ctx, name)
}

func (s *Store) CreateAPIToken(ctx context.Context, t domain.APIToken) (err error) {
	defer s.observe("CreateAPIToken", time.Now(), &err)
	return s.next.CreateAPIToken(ctx, t)
}

func (s *Store) GetAPITokenByHash(ctx context.Context, hash string) (_ domain.APIToken, err error) {
	defer s.observe("GetAPITokenByHash", time.Now(), &err)
	return s.next.GetAPITokenByHash(ctx, hash)
}

func (s *Store) ListAPITokens(ctx context.Context) (_ []domain.APIToken, err error) {
	defer s.observe("ListAPITokens", time.Now(), &err)
	return s.next.ListAPITokens(ctx)
}

func (s *Store) DeleteAPIToken(ctx context.Context, id string) (err error) {
	defer s.observe("DeleteAPIToken", time.Now(), &err)
	return s.next.DeleteAPIToken(ctx, id)
}

func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) (err error) {
	defer s.observe("TouchAPIToken", time.Now(), &err)
	return s.next.TouchAPIToken(ctx, id, at)
}

func (s *Store) PutBan(ctx context.Context, b domain.Ban) (err error) {
	defer s.observe("PutBan", time.Now(), &err)
	return s.next.PutBan(ctx, b)
}

func (s *Store) GetBan(ctx context.Context, ip string) (_ domain.Ban, err error) {
	defer s.observe("GetBan", time.Now(), &err)
	return s.next.GetBan(ctx, ip)
}

func (s *Store) ListBans(ctx context.Context, now time.Time) (_ []domain.Ban, err error) {
	defer s.observe("ListBans", time.Now(), &err)
	return s.next.ListBans(ctx, now)
}

func (s *Store) DeleteBan(ctx context.Context, ip string) (err error) {
	defer s.observe("DeleteBan", time.Now(), &err)
	return s.next.DeleteBan(ctx, ip)
}

func (s *Store) PruneBans(ctx context.Context, before time.Time) (err error) {
	defer s.observe("PruneBans", time.Now(), &err)
	return s.next.PruneBans(ctx, before)
}

func (s *Store) AddLoginFailure(ctx context.Context, key string, at, since time.Time) (_ int, err error) {
	defer s.observe("AddLoginFailure", time.Now(), &err)
	return s.next.AddLoginFailure(ctx, key, at, since)
}

func (s *Store) PruneLoginFailures(ctx context.Context, before time.Time) (err error) {
	defer s.observe("PruneLoginFailures", time.Now(), &err)
	return s.next.PruneLoginFailures(ctx, before)
}

func (s *Store) GetSettings(ctx context.Context) (_ domain.Settings, _ time.Time, err error) {
	defer s.observe("GetSettings", time.Now(), &err)
	return s.next.GetSettings(ctx)
}

func (s *Store) PutSettings(ctx context.Context, set domain.Settings, at time.Time) (err error) {
	defer s.observe("PutSettings", time.Now(), &err)
	return s.next.PutSettings(ctx, set, at)
}

func (s *Store) DeleteSettings(ctx context.Context) (err error) {
	defer s.observe("DeleteSettings", time.Now(), &err)
	return s.next.DeleteSettings(ctx)
}

func (s *Store) AddPanelLogout(ctx context.Context, nonce string, expires, now time.Time) (err error) {
	defer s.observe("AddPanelLogout", time.Now(), &err)
	return s.next.AddPanelLogout(ctx, nonce, expires, now)
}

func (s *Store) PanelLoggedOut(ctx context.Context, nonce string) (_ bool, err error) {
	defer s.observe("PanelLoggedOut", time.Now(), &err)
	return s.next.PanelLoggedOut(ctx, nonce)
}

func (s *Store) HoldQuota(ctx context.Context, username, node string, ttl time.Duration) (_ domain.QuotaUsage, _, _ bool, err error) {
	defer s.observe("HoldQuota", time.Now(), &err)
	return s.next.HoldQuota(ctx, username, node, ttl)
}

func (s *Store) RenewQuotaHolds(ctx context.Context, node string, ttl time.Duration) (err error) {
	defer s.observe("RenewQuotaHolds", time.Now(), &err)
	return s.next.RenewQuotaHolds(ctx, node, ttl)
}

func (s *Store) ReleaseQuotaHold(ctx context.Context, username, node string, unusedBytes, unusedFiles int64) (err error) {
	defer s.observe("ReleaseQuotaHold", time.Now(), &err)
	return s.next.ReleaseQuotaHold(ctx, username, node, unusedBytes, unusedFiles)
}

func (s *Store) SetQuotaUsage(ctx context.Context, username string, measured, base domain.QuotaUsage) (err error) {
	defer s.observe("SetQuotaUsage", time.Now(), &err)
	return s.next.SetQuotaUsage(ctx, username, measured, base)
}

func (s *Store) ReserveQuota(ctx context.Context, username string, bytes, files, maxBytes, maxFiles int64) (_, _ int64, err error) {
	defer s.observe("ReserveQuota", time.Now(), &err)
	return s.next.ReserveQuota(ctx, username, bytes, files, maxBytes, maxFiles)
}

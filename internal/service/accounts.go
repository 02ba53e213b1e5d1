package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
)

// AddAccount creates a hosting account, creating its home directory if it
// does not exist yet. A refusal names every field at fault at once (see
// CheckNewAccount).
func (s *Service) AddAccount(ctx context.Context, in domain.NewAccount) (domain.Account, error) {
	home, err := s.checkNewAccount(ctx, in)
	if err != nil {
		return domain.Account{}, err
	}
	now := s.now().UTC()
	a := domain.Account{
		Name: in.Name, Home: home, UID: in.UID, GID: in.GID, FTPLimit: in.FTPLimit,
		Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
	if in.PanelPassword != "" {
		if a.PanelPasswordHash, err = s.hasher.Hash(ctx, in.PanelPassword); err != nil {
			return domain.Account{}, err
		}
	}
	// The overlap rule is checked again against the accounts stored, in
	// the store's transaction: another add of an overlapping home may
	// have committed since checkNewAccount. Only the stored homes (kept
	// resolved) are compared there, since the transaction holds the
	// store's write lock; checkNewAccount resolved them all already. The
	// home is created only once the rule passed.
	err = s.store.CreateAccountIf(ctx, a, func(stored []domain.Account) error {
		if err := checkStoredOverlap(a.Home, a.Name, stored); err != nil {
			return err
		}
		return s.ensureHome(a)
	})
	if err != nil {
		return domain.Account{}, err
	}
	s.log.Info("account added", "account", a.Name, "home", a.Home)
	return a, nil
}

// CheckNewAccount reports what AddAccount would refuse in in, without
// changing anything: one refusal per field at fault, joined (see
// domain.Refusals), so a form can show them all at once.
func (s *Service) CheckNewAccount(ctx context.Context, in domain.NewAccount) error {
	_, err := s.checkNewAccount(ctx, in)
	return err
}

// checkNewAccount applies every rule to in and returns the clean home.
func (s *Service) checkNewAccount(ctx context.Context, in domain.NewAccount) (home string, err error) {
	nameErr := domain.ValidateAccountName(in.Name)
	if nameErr == nil {
		if _, err := s.store.GetAccount(ctx, in.Name); err == nil {
			nameErr = domain.Conflictf("account", "account %s already exists", in.Name)
		} else if !isNotFound(err) {
			return "", err
		}
	}
	home, homeErr := validateHome(in.Home)
	if homeErr == nil {
		home, homeErr = s.checkHome(ctx, home, in.Name)
		if homeErr != nil && domain.KindOf(homeErr) == 0 {
			return "", homeErr // the store failed, not a rule
		}
	}
	var pwErr error
	if in.PanelPassword != "" {
		pwErr = domain.ValidatePassword(in.PanelPassword, in.Name)
	}
	return home, errors.Join(nameErr, homeErr, s.checkOwner(in.UID, in.GID), validateLimit(in.FTPLimit), pwErr)
}

// GetAccount returns one account.
func (s *Service) GetAccount(ctx context.Context, name string) (domain.Account, error) {
	return s.getAccount(ctx, name)
}

// ListAccounts returns every account, by name.
func (s *Service) ListAccounts(ctx context.Context) ([]domain.Account, error) {
	return s.store.ListAccounts(ctx)
}

// SetAccountPassword sets the web panel password of an account.
func (s *Service) SetAccountPassword(ctx context.Context, name, password string) error {
	a, err := s.getAccount(ctx, name)
	if err != nil {
		return err
	}
	hash, err := s.hashPanelPassword(ctx, password, name)
	if err != nil {
		return err
	}
	if err := s.modifyAccount(ctx, a.Name, func(a *domain.Account) { a.PanelPasswordHash = hash }); err != nil {
		return err
	}
	s.log.Info("account panel password changed", "account", name)
	return nil
}

// SetFTPLimit changes how many FTP sub-users the account may have (0 =
// unlimited). Lowering it below the current count keeps existing users but
// refuses new ones.
func (s *Service) SetFTPLimit(ctx context.Context, name string, limit int) error {
	if err := validateLimit(limit); err != nil {
		return err
	}
	a, err := s.getAccount(ctx, name)
	if err != nil {
		return err
	}
	if err := s.modifyAccount(ctx, a.Name, func(a *domain.Account) { a.FTPLimit = limit }); err != nil {
		return err
	}
	s.log.Info("account FTP limit changed", "account", name, "limit", limit)
	return nil
}

// SetAccountEnabled enables or disables an account; disabling ends the live
// FTP sessions of all its sub-users on every node (the store gives the
// account a new version) and refuses their log-ins.
func (s *Service) SetAccountEnabled(ctx context.Context, name string, enabled bool) error {
	a, err := s.getAccount(ctx, name)
	if err != nil {
		return err
	}
	if err := s.modifyAccount(ctx, a.Name, func(a *domain.Account) { a.Enabled = enabled }); err != nil {
		return err
	}
	s.log.Info("account enabled changed", "account", name, "enabled", enabled)
	return nil
}

// modifyAccount applies set to the account as stored and saves it. The
// store applies set under the account's lock, so a concurrent change of
// another field is kept.
func (s *Service) modifyAccount(ctx context.Context, name string, set func(*domain.Account)) error {
	_, err := s.store.ModifyAccount(ctx, name, func(a domain.Account) (domain.Account, error) {
		set(&a)
		a.UpdatedAt = s.now().UTC()
		return a, nil
	})
	return err
}

// DeleteAccount removes an account from panelftp. It refuses while the
// account has FTP sub-users unless force is set, then removes them too.
// Files are never deleted.
func (s *Service) DeleteAccount(ctx context.Context, name string, force bool) error {
	a, err := s.getAccount(ctx, name)
	if err != nil {
		return err
	}
	name = a.Name // as stored: the caller's may differ in case
	n, err := s.store.CountFTPUsers(ctx, name)
	if err != nil {
		return err
	}
	if n > 0 && !force {
		return &domain.Error{Kind: domain.Conflict, Field: "account",
			Msg: fmt.Sprintf("account %s still has %d FTP sub-user(s): delete them first, or use --force to delete them with the account (files are kept)", name, n)}
	}
	if err := s.store.DeleteAccount(ctx, name); err != nil {
		return err
	}
	s.log.Info("account deleted", "account", name, "ftp_users_deleted", n)
	return nil
}

func (s *Service) getAccount(ctx context.Context, name string) (domain.Account, error) {
	a, err := s.store.GetAccount(ctx, strings.ToLower(name))
	if isNotFound(err) {
		return a, domain.NotFoundf("account %s does not exist", name)
	}
	return a, err
}

func (s *Service) hashPanelPassword(ctx context.Context, password, account string) (string, error) {
	if err := domain.ValidatePassword(password, account); err != nil {
		return "", err
	}
	return s.hasher.Hash(ctx, password)
}

func validateHome(home string) (string, error) {
	if home == "" {
		return "", &domain.Error{Kind: domain.Invalid, Field: "home", Msg: "home directory is missing: give an absolute path such as /home/bob"}
	}
	if !filepath.IsAbs(home) {
		return "", &domain.Error{Kind: domain.Invalid, Field: "home", Msg: fmt.Sprintf("home directory %q is not absolute: give a path starting with /, such as /home/bob", home)}
	}
	for _, r := range home {
		if r < 0x20 || r == 0x7f {
			return "", &domain.Error{Kind: domain.Invalid, Field: "home", Msg: "home directory contains a control character: remove it"}
		}
	}
	clean := filepath.Clean(home)
	if clean == "/" {
		return "", &domain.Error{Kind: domain.Invalid, Field: "home", Msg: "home directory cannot be / : give the account's own directory, such as /home/bob"}
	}
	return clean, nil
}

func validateLimit(limit int) error {
	if limit < 0 {
		return &domain.Error{Kind: domain.Invalid, Field: "ftp_limit", Msg: fmt.Sprintf("FTP sub-user limit %d is negative: use 0 for unlimited or a positive number", limit)}
	}
	return nil
}

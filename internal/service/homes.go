package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/jail"
)

// Default modes of what the service creates for an account. The home is
// 0711: other accounts may pass through it to a folder they are given,
// but cannot list it. Sub-user folders are 0750: only the account (and
// its group, e.g. a web server added to it) may enter them, so a file
// uploaded with the usual 0644 cannot be read by another account. This is
// cPanel's layout (home 0711, public_html 0750).
const (
	DefaultHomeMode   os.FileMode = 0o711
	DefaultFolderMode os.FileMode = 0o750
)

// HomeOptions are the installation's rules for homes. The zero value of
// each field is its default.
type HomeOptions struct {
	// Root, when set, is the folder every home must be inside
	// (--homes-root).
	Root string
	// DataDir is panelftp's data directory: no home may be it or hold it.
	DataDir string
	// AllowRootOwner allows accounts owned by uid or gid 0, and, when the
	// server runs as root, accounts without their own uid and gid (their
	// FTP users would act as root).
	AllowRootOwner bool
	// HomeMode and FolderMode are the modes of created homes and sub-user
	// folders (default DefaultHomeMode and DefaultFolderMode).
	HomeMode, FolderMode os.FileMode
}

func (o HomeOptions) withDefaults() HomeOptions {
	if o.HomeMode == 0 {
		o.HomeMode = DefaultHomeMode
	}
	if o.FolderMode == 0 {
		o.FolderMode = DefaultFolderMode
	}
	if o.Root != "" {
		o.Root, _ = jail.Resolve(filepath.Clean(o.Root))
	}
	if o.DataDir != "" {
		if abs, err := filepath.Abs(o.DataDir); err == nil {
			o.DataDir, _ = jail.Resolve(abs)
		}
	}
	return o
}

func (o HomeOptions) rules() domain.HomeRules {
	return domain.HomeRules{Root: o.Root, DataDir: o.DataDir}
}

// checkHome resolves home (clean and absolute) and applies the home rules
// and the overlap rule against every other account. It returns the
// resolved home, which is what is stored.
func (s *Service) checkHome(ctx context.Context, home, account string) (string, error) {
	real, err := jail.Resolve(home)
	if err != nil {
		return "", &domain.Error{Kind: domain.Invalid, Field: "home", Msg: fmt.Sprintf("home directory %s cannot be resolved (%v): give an existing folder or one that can be created", home, errors.Unwrap(err))}
	}
	if err := domain.CheckHome(real, s.homes.rules()); err != nil {
		return "", err
	}
	accounts, err := s.store.ListAccounts(ctx)
	if err != nil {
		return "", err
	}
	return real, checkOverlap(real, account, accounts)
}

// checkOverlap refuses the resolved home of account when it overlaps the
// home of another of accounts, as stored or resolved.
func checkOverlap(home, account string, accounts []domain.Account) error {
	for _, a := range accounts {
		if a.Name == account {
			continue
		}
		for _, other := range []string{a.Home, resolvedOr(a.Home)} {
			if domain.Overlaps(home, other) {
				return domain.OverlapError(home, a.Name, other)
			}
		}
	}
	return nil
}

// checkStoredOverlap is checkOverlap against the stored homes alone,
// touching no file.
func checkStoredOverlap(home, account string, accounts []domain.Account) error {
	for _, a := range accounts {
		if a.Name != account && domain.Overlaps(home, a.Home) {
			return domain.OverlapError(home, a.Name, a.Home)
		}
	}
	return nil
}

// resolvedOr is p resolved, or p when it cannot be.
func resolvedOr(p string) string {
	if r, err := jail.Resolve(p); err == nil {
		return r
	}
	return p
}

// checkOwner applies the owner rule: both ids or neither, and never root
// unless the installation allows it.
func (s *Service) checkOwner(uid, gid int) error {
	switch {
	case uid < domain.NoID || gid < domain.NoID:
		return &domain.Error{Kind: domain.Invalid, Field: "uid", Msg: "uid and gid must be 0 or more (or left out to keep the server's own)"}
	case (uid == domain.NoID) != (gid == domain.NoID):
		return &domain.Error{Kind: domain.Invalid, Field: "uid", Msg: "give both a uid and a gid, or neither"}
	case s.homes.AllowRootOwner:
		return nil
	case uid == 0 || gid == 0:
		return &domain.Error{Kind: domain.Invalid, Field: "uid", Msg: fmt.Sprintf("uid %d / gid %d is root: the account's FTP users would act as root; give the account its own uid and gid (--allow-root-owner if root is really meant)", uid, gid)}
	case uid == domain.NoID && s.chown:
		return &domain.Error{Kind: domain.Invalid, Field: "uid", Msg: "give the account its own uid and gid: without them its FTP users would act as the server, which runs as root (--allow-root-owner if that is really meant)"}
	}
	return nil
}

// checkLoginHome refuses an FTP log-in into a home that breaks the home
// rules (an account stored by an earlier version, or before --homes-root
// was set). It is lexical, so it costs no system call.
func (s *Service) checkLoginHome(a domain.Account) error {
	if err := domain.CheckHome(filepath.Clean(a.Home), s.homes.rules()); err != nil {
		return fmt.Errorf("%w: %v", domain.ErrHomeRefused, err)
	}
	return nil
}

// ensureHome creates the account's home if it is missing: the folders
// above it 0755 and root's, the home itself HomeMode and the account's.
// An existing home is left as it is.
func (s *Service) ensureHome(a domain.Account) error {
	err := jail.CreateHome(a.Home, s.homes.HomeMode, s.folderOwner(a))
	if errors.Is(err, jail.ErrNotFolder) {
		return &domain.Error{Kind: domain.Invalid, Field: "home", Msg: fmt.Sprintf("home %s exists but is not a directory: choose another path", a.Home)}
	}
	return err
}

// AuditHomes checks the stored accounts against the rules new accounts
// must follow, and describes each breach: accounts stored by an earlier
// version, or before a rule was set. Homes in system folders are also
// refused at FTP log-in; the rest is for the administrator to fix.
func (s *Service) AuditHomes(ctx context.Context) ([]string, error) {
	accounts, err := s.store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	type home struct{ account, path string }
	homes := make([]home, 0, len(accounts))
	var problems []string
	for _, a := range accounts {
		h := home{a.Name, resolvedOr(filepath.Clean(a.Home))}
		homes = append(homes, h)
		if err := domain.CheckHome(h.path, s.homes.rules()); err != nil {
			problems = append(problems, fmt.Sprintf("account %s: %v; its FTP log-ins are refused", a.Name, err))
		}
		if err := s.checkOwner(a.UID, a.GID); err != nil {
			problems = append(problems, fmt.Sprintf("account %s: %v", a.Name, err))
		}
	}
	// Sorted with "/" first, a home comes right after the homes holding
	// it, so one pass with a stack of enclosing homes finds every nesting.
	key := func(p string) string { return strings.ReplaceAll(p, "/", "\x00") }
	slices.SortFunc(homes, func(a, b home) int { return strings.Compare(key(a.path), key(b.path)) })
	var enclosing []home
	for _, h := range homes {
		for len(enclosing) > 0 && !domain.Contains(enclosing[len(enclosing)-1].path, h.path) {
			enclosing = enclosing[:len(enclosing)-1]
		}
		if len(enclosing) > 0 {
			outer := enclosing[len(enclosing)-1]
			problems = append(problems, fmt.Sprintf("account %s: %v", h.account, domain.OverlapError(h.path, outer.account, outer.path)))
		}
		enclosing = append(enclosing, h)
	}
	return problems, nil
}

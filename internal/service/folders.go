package service

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/jail"
)

// maxSuggestions bounds the folders offered for a sub-user's path.
const maxSuggestions = 300

// ensureFolder creates the sub-user folder p (clean, starting with "/")
// inside the account's home, owned by the account, each new level with
// FolderMode, through the jail, so that a symlink planted in the home
// cannot make it create or accept a folder outside. It returns the
// folders it created, parents first, for undoFolders when the change
// cannot be saved; on error it has removed them itself.
func (s *Service) ensureFolder(a domain.Account, p string) (created []string, err error) {
	if err := s.ensureHome(a); err != nil {
		return nil, err
	}
	created, err = jail.CreateFolder(a.Home, p, s.homes.FolderMode, s.folderOwner(a))
	if err != nil {
		return nil, folderError(p, err)
	}
	return created, nil
}

// undoFolders removes the folders ensureFolder created for a change that
// was then refused (e.g. another add took the last free slot meanwhile).
func (s *Service) undoFolders(a domain.Account, created []string) {
	jail.RemoveFolders(a.Home, created)
}

// FolderSuggestions lists the folders of home worth offering as a
// sub-user's path: its top two levels, never through a symbolic link.
func (s *Service) FolderSuggestions(home string) []string {
	return jail.Suggestions(home, maxSuggestions)
}

func folderError(p string, err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, jail.ErrEscape):
		return &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s leads outside the home directory through a symbolic link: choose a real folder", p)}
	case errors.Is(err, jail.ErrNotFolder) && errors.As(err, &pe):
		return &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s: %s is a file, not a folder: choose another path", p, pe.Path)}
	case errors.Is(err, syscall.ELOOP):
		return &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s runs into a loop of symbolic links: choose a real folder", p)}
	case errors.Is(err, syscall.ENAMETOOLONG):
		return &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s has a folder name that is too long: use at most 255 bytes per name", p)}
	}
	return fmt.Errorf("creating folder %s: %w", p, err)
}

// folderOwner says who gets the folders created for account a: the
// account, when it has its own uid/gid and the server may chown.
func (s *Service) folderOwner(a domain.Account) jail.Owner {
	return jail.Owner{UID: a.UID, GID: a.GID, Chown: s.chown && (a.UID != domain.NoID || a.GID != domain.NoID),
		ChownFailed: func(_ string, err error) {
			s.log.Warn("could not give folder to account", "account", a.Name, "err", err)
		}}
}

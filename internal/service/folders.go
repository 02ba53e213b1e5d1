package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/panelftp/panelftp/internal/domain"
)

// ensureFolder creates the sub-user folder p (clean, starting with "/")
// inside the account's home, owned by the account, each new level with
// FolderMode. It works through an
// os.Root so that a symlink planted in the home cannot make it create or
// accept a folder outside. It returns the folders it created, parents
// first, for undoFolders when the change cannot be saved; on error it has
// removed them itself.
func (s *Service) ensureFolder(a domain.Account, p string) (created []string, err error) {
	if err := s.ensureHome(a); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(a.Home)
	if err != nil {
		return nil, fmt.Errorf("opening home %s: %w", a.Home, err)
	}
	defer root.Close()
	defer func() {
		if err != nil {
			removeFolders(root, created)
			created = nil
		}
	}()

	rel := "."
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg == "" {
			continue
		}
		rel = path.Join(rel, seg)
		err := root.Mkdir(rel, s.homes.FolderMode)
		if err == nil {
			created = append(created, rel)
			if err := root.Chmod(rel, s.homes.FolderMode); err != nil { // whatever the umask
				return created, folderError(p, err)
			}
			s.chownNew(a, func(uid, gid int) error { return root.Lchown(rel, uid, gid) })
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return created, folderError(p, err)
		}
		fi, err := root.Stat(rel)
		if err != nil {
			return created, folderError(p, err)
		}
		if !fi.IsDir() {
			return created, &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s: %s is a file, not a folder: choose another path", p, "/"+rel)}
		}
	}
	return created, nil
}

// undoFolders removes the folders ensureFolder created for a change that
// was then refused (e.g. another add took the last free slot meanwhile).
func (s *Service) undoFolders(a domain.Account, created []string) {
	if len(created) == 0 {
		return
	}
	root, err := os.OpenRoot(a.Home)
	if err != nil {
		return
	}
	defer root.Close()
	removeFolders(root, created)
}

// removeFolders removes created, deepest first. Remove only takes empty
// folders, so anything put there meanwhile stays.
func removeFolders(root *os.Root, created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		if root.Remove(created[i]) != nil {
			return
		}
	}
}

func folderError(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s leads outside the home directory through a symbolic link: choose a real folder", p)}
	}
	if errors.Is(err, syscall.ELOOP) {
		return &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s runs into a loop of symbolic links: choose a real folder", p)}
	}
	if errors.Is(err, syscall.ENAMETOOLONG) {
		return &domain.Error{Kind: domain.Invalid, Field: "path", Msg: fmt.Sprintf("path %s has a folder name that is too long: use at most 255 bytes per name", p)}
	}
	return fmt.Errorf("creating folder %s: %w", p, err)
}

// chownNew gives a freshly created directory to the account, when the
// account has its own uid/gid and the server may chown.
func (s *Service) chownNew(a domain.Account, chown func(uid, gid int) error) {
	if !s.chown || (a.UID == domain.NoID && a.GID == domain.NoID) {
		return
	}
	if err := chown(a.UID, a.GID); err != nil {
		s.log.Warn("could not give folder to account", "account", a.Name, "err", err)
	}
}

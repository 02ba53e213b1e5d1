package service

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/jail"
)

// Bounds of measuring a folder, so that a home with millions of files
// does not stall a page.
const (
	usageMaxEntries = 200_000
	usageMaxTime    = 2 * time.Second
)

// FolderUsage measures what the folder p (clean, starting with "/") of
// home holds, through the jail: symbolic links are never followed, and a
// sub-user folder that leads outside the home is an error. Past its
// bounds the count stops with Partial set.
func (s *Service) FolderUsage(ctx context.Context, home, p string) (domain.FolderUsage, error) {
	ctx, cancel := context.WithTimeout(ctx, usageMaxTime)
	defer cancel()
	u, err := jail.MeasureUsage(ctx, home, p, usageMaxEntries)
	return domain.FolderUsage{Bytes: u.Bytes, Allocated: u.Allocated, Files: u.Files, Folders: u.Folders, Partial: u.Partial}, err
}

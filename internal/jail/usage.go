package jail

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

// Usage is what a folder holds, everything beneath it counted and the
// folder itself not.
type Usage struct {
	// Bytes adds up the sizes of the regular files: what clients uploaded.
	Bytes int64
	// Allocated is the disk space used by every file, folder and link
	// (st_blocks × 512), so a sparse file counts the blocks it really
	// uses and empty files and folders count their inodes' blocks. A file
	// with several hard links under the folder counts once.
	Allocated int64
	// Files counts everything that is not a folder (files, links, ...);
	// Folders the folders.
	Files, Folders int64
	// Partial means a bound was reached: every figure is a lower limit.
	Partial bool
}

// usageBatch is how many entries of one folder are read at a time, so a
// folder with millions of entries does not fill memory.
const usageBatch = 1024

// MeasureUsage walks the folder sub (slash-separated, relative to home;
// "." or "" for home itself) as the process, through an os.Root of home,
// so that no symbolic link is followed and nothing outside is counted. It
// stops with Partial set after maxEntries entries (0: no bound) or when
// ctx ends, or when a folder cannot be read.
func MeasureUsage(ctx context.Context, home, sub string, maxEntries int) (Usage, error) {
	homeRoot, err := os.OpenRoot(home)
	if err != nil {
		return Usage{}, err
	}
	defer homeRoot.Close()
	local := filepath.FromSlash(path.Clean("/" + sub))[1:]
	if local == "" {
		local = "."
	}
	root, err := homeRoot.OpenRoot(local)
	if err != nil {
		return Usage{}, fixErr(err)
	}
	defer root.Close()
	u, _ := walkUsage(ctx, root, maxEntries, nil)
	return u, nil
}

// Usage measures the jail's root like MeasureUsage. It runs as the
// process, not the account: a quota counts everything stored, readable
// by the account or not.
func (j *Fs) Usage(ctx context.Context, maxEntries int) Usage {
	u, _ := walkUsage(ctx, j.root, maxEntries, nil)
	return u
}

// UsageSkipping measures the jail's root like Usage, without bound,
// leaving out of the figures every file (not folder) that skip matches;
// skip sees the file's path from the root ("/a/b.txt") and its lstat.
// It returns the paths of the files left out.
func (j *Fs) UsageSkipping(ctx context.Context, skip func(name string, fi fs.FileInfo) bool) (Usage, []string) {
	return walkUsage(ctx, j.root, 0, skip)
}

type fileID struct{ dev, ino uint64 }

// walkUsage counts the tree under root, depth first, leaving out the
// files skip (when not nil) matches, whose paths it returns. It descends
// only into the very folder it listed (same device and inode), so a
// folder swapped for a symbolic link meanwhile is skipped, never
// followed.
func walkUsage(ctx context.Context, root *os.Root, maxEntries int, skip func(string, fs.FileInfo) bool) (Usage, []string) {
	var u Usage
	var skipped []string
	seen := map[fileID]bool{} // files with more than one link
	entries := 0
	type dir struct {
		name string
		id   fileID
	}
	var stack []dir
	if fi, err := root.Stat("."); err == nil {
		stack = append(stack, dir{".", idOf(fi)})
	}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f, err := root.Open(d.name)
		if err != nil {
			u.Partial = true // a folder that cannot be read
			continue
		}
		if fi, err := f.Stat(); err != nil || idOf(fi) != d.id {
			f.Close() // swapped since it was listed: not ours to count
			continue
		}
		for {
			if ctx.Err() != nil || (maxEntries > 0 && entries >= maxEntries) {
				f.Close()
				u.Partial = true
				return u, skipped
			}
			list, err := f.Readdir(usageBatch)
			for _, fi := range list {
				entries++
				if skip != nil && !fi.IsDir() {
					if name := "/" + path.Join(d.name, fi.Name()); skip(name, fi) {
						skipped = append(skipped, name)
						continue
					}
				}
				st, _ := fi.Sys().(*syscall.Stat_t)
				if st != nil && !fi.IsDir() && st.Nlink > 1 {
					id := idOf(fi)
					if seen[id] {
						continue
					}
					seen[id] = true
				}
				if st != nil {
					u.Allocated += st.Blocks * 512
				}
				switch {
				case fi.IsDir():
					u.Folders++
					stack = append(stack, dir{path.Join(d.name, fi.Name()), idOf(fi)})
				case fi.Mode().IsRegular():
					u.Files++
					u.Bytes += fi.Size()
				default:
					u.Files++
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					u.Partial = true // part of a folder could not be read
				}
				break
			}
		}
		f.Close()
	}
	return u, skipped
}

func idOf(fi fs.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), st.Ino}
	}
	return fileID{}
}

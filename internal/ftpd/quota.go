package ftpd

import (
	"errors"
	"io"
	"os"
	"path"
	"sync"
	"sync/atomic"

	"github.com/panelftp/panelftp/internal/jail"
)

// quotaBook shares one usage counter between the concurrent sessions of a
// user, so that two sessions cannot each fill the whole quota. The usage
// is measured when the first session logs in and then kept up to date by
// the sessions' uploads and deletions; changes made outside FTP are seen
// at the next first log-in.
type quotaBook struct {
	mu sync.Mutex
	m  map[string]*quota
}

// quota is the bytes stored under one user's folder.
type quota struct {
	key  string
	refs int // guarded by quotaBook.mu

	once sync.Once
	err  error
	used atomic.Int64
}

func newQuotaBook() *quotaBook { return &quotaBook{m: map[string]*quota{}} }

// acquire returns the shared counter for key, measuring it with measure
// if no session holds it. Release it when the session ends.
func (b *quotaBook) acquire(key string, measure func() (int64, error)) (*quota, error) {
	b.mu.Lock()
	q := b.m[key]
	if q == nil {
		q = &quota{key: key}
		b.m[key] = q
	}
	q.refs++
	b.mu.Unlock()
	q.once.Do(func() {
		var used int64
		used, q.err = measure()
		q.used.Store(used)
	})
	if q.err != nil {
		b.release(q)
		return nil, q.err
	}
	return q, nil
}

func (b *quotaBook) release(q *quota) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if q.refs--; q.refs <= 0 && b.m[q.key] == q {
		delete(b.m, q.key)
	}
}

// room returns how many more bytes fit under limit.
func (q *quota) room(limit int64) int64 { return max(0, limit-q.used.Load()) }

// add records n more (or, negative, fewer) bytes stored.
func (q *quota) add(n int64) { q.used.Add(n) }

// diskUsage adds up the sizes of the regular files under the jail's root.
// Symbolic links are not followed: what they point to is not stored here.
func diskUsage(fs *jail.Fs) (int64, error) {
	var total int64
	dirs := []string{"/"}
	for len(dirs) > 0 {
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		entries, err := readDir(fs, dir)
		if err != nil {
			if dir != "/" && (errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission)) {
				continue // removed meanwhile, or not readable: not ours to count
			}
			return 0, err
		}
		for _, fi := range entries {
			switch {
			case fi.IsDir():
				dirs = append(dirs, path.Join(dir, fi.Name()))
			case fi.Mode().IsRegular():
				total += fi.Size()
			}
		}
	}
	return total, nil
}

// readDir lists dir with lstat semantics (os.File.Readdir does not
// follow symbolic links).
func readDir(fs *jail.Fs, dir string) ([]os.FileInfo, error) {
	f, err := fs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []os.FileInfo
	for {
		batch, err := f.Readdir(1024)
		all = append(all, batch...)
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}

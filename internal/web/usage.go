package web

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Bounds of the walk that measures a sub-user's folder for the quota
// column: a home with millions of files must not stall the page.
const (
	walkMaxEntries = 200_000
	walkMaxTime    = 2 * time.Second
	maxSuggestions = 300
)

// usage is the size of a folder. Partial means a bound was hit, so Bytes
// is a lower limit.
type usage struct {
	Bytes   int64
	Partial bool
	Err     error
}

type usageEntry struct {
	u  usage
	at time.Time
}

// usageCache remembers folder sizes for a few seconds, so reloading the
// page or many people looking at once does not walk the disk each time.
type usageCache struct {
	mu  sync.Mutex
	now func() time.Time
	ttl time.Duration
	m   map[string]usageEntry
}

func newUsageCache(now func() time.Time, ttl time.Duration) *usageCache {
	return &usageCache{now: now, ttl: ttl, m: make(map[string]usageEntry)}
}

// get returns the size of folder p (clean, starting with "/") inside home.
func (c *usageCache) get(home, p string) usage {
	key := home + "\x00" + p
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.u
	}
	u := dirSize(home, p)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, old := range c.m {
		if now.Sub(old.at) >= c.ttl {
			delete(c.m, k)
		}
	}
	c.m[key] = usageEntry{u: u, at: now}
	return u
}

var errWalkBound = errors.New("walk bound reached")

// dirSize adds up the regular files under p. It walks through an os.Root
// of the home and never follows a symbolic link, so a link planted in the
// home can neither lead the walk outside nor count a file twice.
func dirSize(home, p string) usage {
	root, err := os.OpenRoot(home)
	if err != nil {
		return usage{Err: err}
	}
	defer root.Close()
	rel := strings.Trim(p, "/")
	if rel == "" {
		rel = "."
	}
	sub, err := root.OpenRoot(rel)
	if err != nil {
		return usage{Err: err}
	}
	defer sub.Close()

	var u usage
	n, deadline := 0, time.Now().Add(walkMaxTime)
	err = fs.WalkDir(sub.FS(), ".", func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder is skipped, not fatal
		}
		if n++; n > walkMaxEntries || (n%1024 == 0 && time.Now().After(deadline)) {
			return errWalkBound
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				u.Bytes += fi.Size()
			}
		}
		return nil
	})
	if errors.Is(err, errWalkBound) {
		u.Partial = true
	}
	return u
}

// dirSuggestions lists the home's top-level and second-level folders, as
// "/name" and "/name/sub", for the path field's <datalist>. Directory
// entries come from os.ReadDir through an os.Root, whose entry types are
// those of lstat: a symbolic link is never taken for a folder, so nothing
// outside the home is ever listed. Hidden folders are left out.
func dirSuggestions(home string) []string {
	root, err := os.OpenRoot(home)
	if err != nil {
		return nil
	}
	defer root.Close()
	top := readDirs(root, ".")
	out := make([]string, 0, len(top))
	for _, d := range top {
		out = append(out, "/"+d)
	}
	for _, d := range top {
		for _, sub := range readDirs(root, d) {
			if len(out) >= maxSuggestions {
				break
			}
			out = append(out, "/"+path.Join(d, sub))
		}
	}
	sort.Strings(out)
	return out
}

func readDirs(root *os.Root, dir string) []string {
	f, err := root.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, err := f.ReadDir(maxSuggestions)
	if err != nil && len(entries) == 0 {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

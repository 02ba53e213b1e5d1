package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// verifyResult is what the check of the homes on disk found.
type verifyResult struct {
	files      int   // files present with the right size and SHA-256
	bytes      int64 // their total size
	lost       int   // files a session uploaded that are not on disk
	corrupted  int   // files on disk whose size or SHA-256 differs
	unexpected int   // files or folders no session made
	uncertain  int   // files a failed operation left in an unknown state
	problems   []string
	err        error // the homes could not be read
}

func (v *verifyResult) problem(format string, args ...any) {
	if len(v.problems) < 50 {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

func (v *verifyResult) ok() bool {
	return v.err == nil && v.lost == 0 && v.corrupted == 0 && v.unexpected == 0
}

// verifyHomes reads the accounts' homes directly from disk: every file a
// session believes it has is there with its size and SHA-256, and there
// is nothing else but the sub-users' and sessions' folders. The folders
// in skip (of sessions that never returned) are not looked into.
func verifyHomes(homes string, users []ftpUser, sessions []*session, skip []string) verifyResult {
	var v verifyResult
	skipped := map[string]bool{}
	for _, d := range skip {
		skipped[d] = true
	}
	dirs := map[string]bool{homes: true}
	for _, u := range users {
		dirs[filepath.Dir(u.dir)] = true
		dirs[u.dir] = true
	}
	want := map[string]fileRec{}
	unsure := map[string]bool{}
	for _, s := range sessions {
		dir := filepath.Join(s.user.dir, s.dir)
		if s.madeDir {
			dirs[dir] = true
		}
		for name, rec := range s.files {
			want[filepath.Join(dir, name)] = rec
		}
		for name := range s.uncertain {
			unsure[filepath.Join(dir, name)] = true
		}
	}
	var check []string
	v.err = filepath.WalkDir(homes, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && skipped[path]:
			return fs.SkipDir
		case d.IsDir() && dirs[path]:
		case d.Type().IsRegular() && unsure[path]:
			v.uncertain++
		case d.Type().IsRegular() && hasKey(want, path):
			check = append(check, path)
		default:
			v.unexpected++
			v.problem("unexpected %s (%s)", path, d.Type())
			if d.IsDir() {
				return fs.SkipDir
			}
		}
		return nil
	})
	seen := map[string]bool{}
	for _, p := range check {
		seen[p] = true
	}
	var lost []string
	for p := range want {
		if !seen[p] {
			lost = append(lost, p)
		}
	}
	sort.Strings(lost)
	for _, p := range lost {
		v.lost++
		v.problem("lost %s (%d bytes)", p, want[p].size)
	}
	v.hashAll(check, want)
	return v
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// hashAll checks the size and SHA-256 of every file in paths, two at a
// time.
func (v *verifyResult) hashAll(paths []string, want map[string]fileRec) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	for range 2 {
		wg.Go(func() {
			for p := range next {
				size, sum, err := hashFile(p)
				mu.Lock()
				switch w := want[p]; {
				case err != nil:
					v.corrupted++
					v.problem("cannot read %s: %v", p, err)
				case size != w.size || sum != w.sum:
					v.corrupted++
					v.problem("corrupted %s: %d bytes SHA-256 %x, uploaded %d bytes %x", p, size, sum, w.size, w.sum)
				default:
					v.files++
					v.bytes += size
				}
				mu.Unlock()
			}
		})
	}
	for _, p := range paths {
		next <- p
	}
	close(next)
	wg.Wait()
}

func hashFile(path string) (int64, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return 0, sum, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	h.Sum(sum[:0])
	return n, sum, err
}

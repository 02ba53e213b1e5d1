package domain

import (
	"fmt"
	"path"
	"strings"
)

// systemTrees are folders of the operating system: a home may be neither
// one of them, nor inside one, nor contain one.
var systemTrees = []string{
	"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
	"/proc", "/root", "/run", "/sbin", "/snap", "/sys", "/usr",
	"/var/backups", "/var/cache", "/var/lib", "/var/lock", "/var/log",
	"/var/mail", "/var/run", "/var/spool",
}

// sharedParents hold many homes, or much else: a home may be inside one
// but not be one (nor contain one).
var sharedParents = []string{"/home", "/media", "/mnt", "/opt", "/srv", "/tmp", "/var", "/var/tmp", "/var/www"}

// HomeRules are the installation's limits on where homes may be. Paths are
// clean and absolute, with symbolic links resolved.
type HomeRules struct {
	// Root, when set, is the folder every home must be inside.
	Root string
	// DataDir is panelftp's own data directory (database, keys): no home
	// may be it or contain it.
	DataDir string
}

// CheckHome applies the home rules to a clean, absolute home whose
// symbolic links are resolved.
func CheckHome(home string, r HomeRules) error {
	const field = "home"
	for _, sys := range systemTrees {
		if Overlaps(home, sys) {
			return invalid(field, "home directory %s is a system folder or overlaps %s: give the account a folder of its own, such as /home/<account>", home, sys)
		}
	}
	for _, p := range append(sharedParents, r.Root) {
		if p != "" && Contains(home, p) {
			return invalid(field, "home directory %s would hold %s and everything in it: give the account a folder of its own inside it, such as %s", home, p, path.Join(p, "<account>"))
		}
	}
	if r.DataDir != "" && Contains(home, r.DataDir) {
		return invalid(field, "home directory %s holds panelftp's data directory %s (database and keys): give the account a folder of its own, such as /home/<account>", home, r.DataDir)
	}
	if r.Root != "" && !Inside(home, r.Root) {
		return invalid(field, "home directory %s is outside %s, where this server keeps every home (--homes-root): give a folder inside it, such as %s", home, r.Root, path.Join(r.Root, "<account>"))
	}
	return nil
}

// Inside reports whether p is strictly inside dir (both clean and absolute).
func Inside(p, dir string) bool {
	return dir == "/" && p != "/" || strings.HasPrefix(p, dir+"/")
}

// Contains reports whether dir is p or inside p.
func Contains(p, dir string) bool { return p == dir || Inside(dir, p) }

// Overlaps reports whether one of a and b is the other or inside it.
func Overlaps(a, b string) bool { return Contains(a, b) || Contains(b, a) }

// OverlapError refuses a home that overlaps another account's.
func OverlapError(home, account, other string) error {
	const field = "home"
	switch {
	case home == other:
		return &Error{Kind: Conflict, Field: field, Msg: fmt.Sprintf("home directory %s is already the home of account %s: homes may not overlap, give the account a folder of its own", home, account)}
	case Inside(home, other):
		return &Error{Kind: Conflict, Field: field, Msg: fmt.Sprintf("home directory %s is inside the home of account %s (%s): homes may not overlap, give the account a folder of its own", home, account, other)}
	}
	return &Error{Kind: Conflict, Field: field, Msg: fmt.Sprintf("home directory %s contains the home of account %s (%s): homes may not overlap, give the account a folder of its own", home, account, other)}
}
